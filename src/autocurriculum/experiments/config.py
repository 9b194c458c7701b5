"""Experiment settings for the embedded testbed, as config dataclasses with help text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autocurriculum.core import option, require


@dataclass
class TestbedConfig:
    """What the student is, what it practises, and how it is warm-started and evaluated."""

    __test__ = False  # not a pytest test class despite the name

    tasks: list[str] = option(
        ["addition", "op_chain"], "Task families in the training mix (see `autocurriculum tasks`)."
    )
    task_options: dict[str, Any] = option({}, "Per-family config overrides, e.g. {addition: {width: 5}}.")
    pool: str = option(
        "fixed",
        "'fixed': train_tasks_per_level prompts per level and family, revisited during training; "
        "'streaming': streaming_size prompts generated on demand, each seen about once (history is useless).",
    )
    streaming_size: int = option(1_000_000, "Prompts in the streaming pool (pool='streaming').")
    train_tasks_per_level: int = option(
        64, "Training prompts generated per difficulty level and family (pool='fixed')."
    )
    eval_tasks_per_level: int = option(128, "Held-out prompts per level and family (greedy accuracy).")
    warmup_max_level: int = option(2, "SFT warm start uses demonstrations of levels 1..this only.")
    warmup_tasks_per_level: int = option(
        300, "Demonstrations per warm-start level and family (generated apart from the RL and held-out pools)."
    )
    warmup_steps: int = option(600, "SFT warm-start optimizer steps (batch `warmup_batch_size`).")
    warmup_batch_size: int = option(128, "SFT warm-start batch size.")
    warmup_learning_rate: float = option(1e-3, "SFT warm-start learning rate (AdamW).")
    warm_start_cache: str = option(
        "runs/.cache/warm-start",
        "Directory where SFT warm starts are cached and reused, keyed by the settings that shape them and the seed "
        "(empty string: always retrain).",
    )
    d_model: int = option(128, "Transformer width.")
    n_layers: int = option(4, "Transformer layers.")
    n_heads: int = option(4, "Attention heads.")
    position_encoding: str = option(
        "rope", "'rope' (relative: skills transfer to longer problems) or 'learned' (absolute position table)."
    )
    torch_threads: int = option(2, "CPU threads for torch (the testbed machine has 2 cores).")

    def validate(self) -> None:
        require(len(self.tasks) > 0, "tasks", "name at least one task family")
        require(self.pool in ("fixed", "streaming"), "pool", f"must be 'fixed' or 'streaming', got {self.pool!r}")
        require(self.streaming_size > 0, "streaming_size", "must be > 0")
        require(self.train_tasks_per_level > 0, "train_tasks_per_level", "must be > 0")
        require(self.eval_tasks_per_level > 0, "eval_tasks_per_level", "must be > 0")
        require(self.warmup_max_level >= 1, "warmup_max_level", "must be >= 1")
        require(self.warmup_steps >= 0, "warmup_steps", "must be >= 0")
        require(self.warmup_tasks_per_level > 0, "warmup_tasks_per_level", "must be > 0")
        require(
            self.d_model % self.n_heads == 0, "d_model", f"{self.d_model} is not divisible by n_heads={self.n_heads}"
        )
        require(self.torch_threads >= 1, "torch_threads", "must be >= 1")
        require(
            self.position_encoding in ("rope", "learned"),
            "position_encoding",
            f"must be 'rope' or 'learned', got {self.position_encoding!r}",
        )


@dataclass
class RLConfig:
    """The GRPO phase: budget, batch shape and optimizer."""

    rollouts: int = option(16_000, "Rollout budget per run: every generated completion counts, kept or filtered.")
    prompts_per_step: int = option(16, "Groups per GRPO update (the training batch, in prompts).")
    group_size: int = option(8, "Rollouts per prompt (G).")
    learning_rate: float = option(5e-5, "GRPO learning rate; above ~1e-4 the tiny student collapses.")
    temperature: float = option(1.0, "Sampling temperature of rollouts.")
    kl_coef: float = option(0.0, "KL penalty to the warm-start model (0 disables it, as in DAPO).")
    eval_every: int = option(2_000, "Evaluate held-out accuracy every this many rollouts.")
    oracle_samples: int = option(8, "Oracle only: Monte Carlo samples per candidate prompt (not charged).")

    def validate(self) -> None:
        require(self.rollouts > 0, "rollouts", "must be > 0")
        require(self.prompts_per_step > 0, "prompts_per_step", "must be > 0")
        require(self.group_size >= 2, "group_size", "GRPO needs at least 2 rollouts per prompt")
        require(0 < self.learning_rate < 1, "learning_rate", f"must lie in (0, 1), got {self.learning_rate}")
        require(self.temperature > 0, "temperature", "must be > 0")
        require(self.kl_coef >= 0, "kl_coef", "must be >= 0")
        require(self.eval_every > 0, "eval_every", "must be > 0")
        require(self.oracle_samples >= 1, "oracle_samples", "must be >= 1")


@dataclass
class ExperimentConfig:
    """A whole comparison: strategies x seeds on one testbed at one rollout budget."""

    strategies: list[str] = option(["uniform", "dynamic-sampling", "thompson", "oracle"], "Strategies to compare.")
    strategy_options: dict[str, Any] = option(
        {},
        "Per-strategy config overrides, e.g. {thompson: {target: 0.4}}. A label that is not a strategy name "
        "names a variant: {goldilocks-embedding: {strategy: goldilocks, features: embedding}}.",
    )
    seeds: list[int] = option([0], "Seeds; each seed has its own warm start, shared by all strategies.")
    testbed: TestbedConfig = option(TestbedConfig, "Student, tasks and warm start.")
    rl: RLConfig = option(RLConfig, "GRPO phase.")

    def validate(self) -> None:
        require(len(self.strategies) > 0, "strategies", "name at least one strategy")
        require(len(self.seeds) > 0, "seeds", "give at least one seed")
        require(len(set(self.seeds)) == len(self.seeds), "seeds", f"repeated seed in {self.seeds}")
        self.testbed.validate()
        self.rl.validate()


def resolve_strategy(label: str, strategy_options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The registered strategy behind ``label`` and its options (a variant names its base with ``strategy``)."""
    options = dict(strategy_options.get(label, {}))
    return str(options.pop("strategy", label)), options
