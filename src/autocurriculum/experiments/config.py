"""Experiment settings for the embedded testbed: one nested config, every field with help text.

    ExperimentConfig
      strategies, strategy_options, seeds
      testbed     TestbedConfig     tasks, pools, held-out evaluation, device, threads, workers, caches
      warm_start  WarmStartConfig   which demonstrations the SFT warm start sees, and for how many steps
      model       TinyGPTConfig     the student (the trainer's own config)
      sft         SFTConfig         the warm start's optimizer (the trainer's own config)
      grpo        GRPOConfig        the RL update (the trainer's own config)
      rl          RLConfig          only what no trainer owns: budget, batch shape, evaluation schedule

The trainer sections are the trainers' own dataclasses, so a default lives in one place. Fields the testbed
derives from its tasks (``model.vocab_size``, ``model.max_seq_len``, ``grpo.max_new_tokens``) are None in those
dataclasses ("derived by the harness") and an experiment config that sets them is refused, naming the field.
Every config validates when it is built, so a config that exists is valid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autocurriculum.core import (
    ConfigError,
    UnknownNameError,
    build_config,
    config_section,
    make_config,
    option,
    require,
)
from autocurriculum.trainers import GRPOConfig, SFTConfig, TinyGPTConfig

DEVICES = ("cpu", "cuda", "auto")

# Where the testbed's calibrated recipe differs from the trainers' own defaults (docs/testbed.md, calibration
# study): a 0.1M-parameter student learns the warm-up levels in a few hundred SFT steps at 3e-3 and GRPO moves it
# at 3e-4; 1e-3 collapses it. The trainers keep their own defaults for other users (AutoTune, TRL examples).
TESTBED_TRAINER_DEFAULTS: dict[str, dict[str, Any]] = {
    "model": {"d_model": 64, "n_layers": 2, "n_heads": 4},
    "sft": {"learning_rate": 3e-3},
    "grpo": {"learning_rate": 3e-4},
}


_TRAINER_CONFIG_CLASSES: dict[str, type] = {"model": TinyGPTConfig, "sft": SFTConfig, "grpo": GRPOConfig}


def testbed_trainer_section(name: str, help: str) -> Any:  # noqa: A002 - same name as option()
    """A nested trainer config (``model``, ``sft`` or ``grpo``) whose default carries the testbed's calibrated
    values (``TESTBED_TRAINER_DEFAULTS``); every experiment that trains the testbed student declares it this way."""
    config_class, calibrated = _TRAINER_CONFIG_CLASSES[name], TESTBED_TRAINER_DEFAULTS[name]
    return field(default_factory=lambda: config_class(**calibrated), metadata={"help": help})


@dataclass
class TestbedConfig:
    """What the student practises and is evaluated on, and where and how the runs execute."""

    __test__ = False  # not a pytest test class despite the name

    tasks: list[str] = option(["op_chain"], "Task families in the training mix (see `autocurriculum tasks`).")
    task_options: dict[str, Any] = option(
        {"op_chain": {"max_length": 10, "operators": "+-", "filler": "mixed", "mixed_operator_one_in": 4}},
        "Per-family config overrides, e.g. {addition: {width: 5}}. The default op_chain (chains of 1-10 '+'/'-' "
        "steps mod 10, each spare slot after the chain padded with an operator pair one time in four and a "
        "'.'+digit pair otherwise) is the calibrated testbed: see docs/testbed.md.",
    )
    pool: str = option(
        "fixed",
        "'fixed': train_tasks_per_level prompts per level and family, revisited during training; "
        "'streaming': streaming_size prompts generated on demand, each seen about once (history is useless).",
    )
    streaming_size: int = option(1_000_000, "Prompts in the streaming pool (pool='streaming').")
    train_tasks_per_level: int = option(
        256, "Training prompts generated per difficulty level and family (pool='fixed')."
    )
    eval_tasks_per_level: int = option(
        128,
        "Held-out prompts per level and family (greedy accuracy). Held-out means the student never trained on "
        "the prompt's text: prompts among the warm-start demonstrations or in the RL training pool are skipped.",
    )
    min_eval_prompts_per_level: int = option(
        16,
        "A level with fewer unseen held-out prompts than this (a tiny prompt space the training pool or the "
        "demonstrations already cover) is reported apart and left out of 'overall' and of the per-level curves.",
    )
    overall_levels: str = option(
        "beyond_warm_start",
        "Levels 'overall' averages: 'beyond_warm_start' (levels the SFT warm start never demonstrated: what RL "
        "has to add; the demonstrated levels are still evaluated and reported apart) or 'all'.",
    )
    pass_rate_samples: int = option(
        8, "Samples per training prompt for the warm start's pass-rate histogram (0 skips the histogram)."
    )
    pass_rate_prompts: int = option(
        2048, "Most training prompts in the pass-rate histogram (a seeded uniform subsample of bigger pools)."
    )
    device: str = option(
        "cpu",
        "Where the student trains and samples: 'cpu', 'cuda' (or 'cuda:N'; an error without a GPU) or 'auto' "
        "(cuda when available, else cpu).",
    )
    torch_threads: int = option(
        1,
        "CPU threads for torch in each run. Independent runs use cores better as workers than as threads (a second "
        "thread makes the 0.1M-parameter student's SFT steps about 1.4x faster, not 2x), and workers x "
        "torch_threads above the core count slows every run several times over.",
    )
    warm_start_threads: int = option(
        0,
        "CPU threads for torch shared by the SFT warm starts (and pass-rate histograms) computed at once, "
        "min(workers, seeds) of them, each getting an equal share of at least 1 (0: torch_threads each). The warm "
        "starts come before the runs, so with fewer seeds than workers some cores are idle unless given here "
        "(2 threads make the default warm start's SFT steps about 1.4x faster). The thread count changes the "
        "summation order of the matrix products, hence the student: it is part of the warm-start cache key, and "
        "on seed 0 a 2-thread warm start needs 1,400 SFT steps where the 1-thread one needs 1,100, so the demo "
        "gains nothing from it and keeps 1.",
    )
    workers: int = option(
        1,
        "Runs (seed x strategy) executed in parallel, each in its own process with torch_threads threads; "
        "results are identical to workers=1.",
    )
    warm_start_cache: str = option(
        "runs/.cache/warm-start",
        "Directory where SFT warm starts are cached and reused, keyed by everything that shapes their weights "
        "(empty string: always retrain).",
    )
    base_students: bool = option(
        True,
        "Start from the base students shipped with the package (experiments/base_students: the default testbed's "
        "SFT warm starts of seeds 0-9, one thread, CPU) wherever their key matches, so that every machine starts RL "
        "from the same weights. SFT amplifies last-bit differences of floating-point summation, and CPUs with other "
        "vector units trained other students from the same code (docs/testbed.md). False: train (or take from "
        "warm_start_cache) on this machine.",
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        require(len(self.tasks) > 0, "tasks", "name at least one task family")
        require(len(set(self.tasks)) == len(self.tasks), "tasks", f"repeated task family in {self.tasks}")
        require(self.pool in ("fixed", "streaming"), "pool", f"must be 'fixed' or 'streaming', got {self.pool!r}")
        require(self.streaming_size > 0, "streaming_size", f"must be > 0, got {self.streaming_size}")
        require(
            self.train_tasks_per_level > 0,
            "train_tasks_per_level",
            f"must be > 0 (a level with no training prompts), got {self.train_tasks_per_level}",
        )
        require(self.eval_tasks_per_level > 0, "eval_tasks_per_level", f"must be > 0, got {self.eval_tasks_per_level}")
        require(
            1 <= self.min_eval_prompts_per_level <= self.eval_tasks_per_level,
            "min_eval_prompts_per_level",
            f"must lie in [1, eval_tasks_per_level={self.eval_tasks_per_level}], got {self.min_eval_prompts_per_level}",
        )
        require(
            self.overall_levels in ("beyond_warm_start", "all"),
            "overall_levels",
            f"must be 'beyond_warm_start' or 'all', got {self.overall_levels!r}",
        )
        require(self.pass_rate_samples >= 0, "pass_rate_samples", f"must be >= 0, got {self.pass_rate_samples}")
        require(self.pass_rate_prompts >= 1, "pass_rate_prompts", f"must be >= 1, got {self.pass_rate_prompts}")
        resolve_device(self.device)
        require(self.torch_threads >= 1, "torch_threads", f"must be >= 1, got {self.torch_threads}")
        require(self.workers >= 1, "workers", f"must be >= 1, got {self.workers}")
        require(
            self.warm_start_threads >= 0,
            "warm_start_threads",
            f"must be >= 0 (0: torch_threads), got {self.warm_start_threads}",
        )

    def warm_start_threads_each(self, seeds: int) -> int:
        """Threads for each of the warm starts of ``seeds`` seeds, computed min(workers, seeds) at a time."""
        if self.warm_start_threads == 0:
            return self.torch_threads
        return max(1, self.warm_start_threads // min(self.workers, seeds))


@dataclass
class WarmStartConfig:
    """The SFT warm start: the generators' demonstrations of the easiest levels (optimizer settings: ``sft``)."""

    max_level: int = option(4, "Demonstrations of levels up to this one only (each family's own levels).")
    demonstrations_per_level: int = option(
        2000,
        "Demonstrations at level 1 per family; level L gets round(demonstrations_per_level * level_decay**(L-1)). "
        "They come from generator indices apart from the RL and held-out pools.",
    )
    level_decay: float = option(
        1.0, "Geometric decay of demonstrations per level, in (0, 1]; 1 gives every level the same number."
    )
    steps: int = option(
        1500,
        "Most SFT optimizer steps per attempt (batch size and learning rate: the sft section); 0 skips SFT. "
        "Training stops earlier once the demonstrated levels reach target_accuracy.",
    )
    attempts: int = option(
        6,
        "Fresh initialisations tried, one after another, until one reaches target_accuracy within `steps`; if "
        "none does, the most accurate is kept with a warning. Some initialisations of a tiny student stay on a "
        "plateau for thousands of steps where most jump within a thousand; with 3 attempts, 2 seeds of 10 ended "
        "unconverged on two machines (docs/testbed.md, 'Base students'). Attempts after the first cost time only "
        "on the seeds that need them.",
    )
    target_accuracy: float = option(
        0.97,
        "Stop SFT once greedy accuracy on unseen prompts of the demonstrated levels reaches this (checked every "
        "check_every steps; 1.0 never stops early). Tiny students learn these tasks in a sudden jump whose step "
        "varies by seed, so a fixed step count leaves some seeds unconverged; a run that ends below the target warns.",
    )
    check_every: int = option(100, "SFT steps between two convergence checks.")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        require(self.max_level >= 1, "max_level", f"must be >= 1, got {self.max_level}")
        require(
            self.demonstrations_per_level >= 1,
            "demonstrations_per_level",
            f"must be >= 1, got {self.demonstrations_per_level}",
        )
        require(0.0 < self.level_decay <= 1.0, "level_decay", f"must lie in (0, 1], got {self.level_decay}")
        require(self.steps >= 0, "steps", f"must be >= 0, got {self.steps}")
        require(self.attempts >= 1, "attempts", f"must be >= 1, got {self.attempts}")
        require(0.0 < self.target_accuracy <= 1.0, "target_accuracy", f"must lie in (0, 1], got {self.target_accuracy}")
        require(self.check_every >= 1, "check_every", f"must be >= 1, got {self.check_every}")

    def demonstrations_at(self, level: int) -> int:
        """How many demonstrations level ``level`` gets (0 above ``max_level``)."""
        if level > self.max_level:
            return 0
        return round(self.demonstrations_per_level * self.level_decay ** (level - 1))


@dataclass
class RLConfig:
    """The GRPO phase's budget and schedule (the update itself is configured in the grpo section)."""

    rollouts: int = option(25_600, "Rollout budget per run: every generated completion counts, kept or filtered.")
    prompts_per_step: int = option(
        4,
        "Groups per GRPO update (the training batch, in prompts). With 4, uniform sampling trains on about one "
        "informative group per step, so the informative share limits learning, as it does for real models whose "
        "batches thin out (DAPO's motivation for dynamic sampling); with 16, AdamW's normalised steps are already "
        "saturated and a better choice of prompts buys less (docs/testbed.md, 'Batch shape and evaluation').",
    )
    eval_every: int = option(
        800,
        "Evaluate held-out accuracy at 0, whenever rollouts cross a multiple of this, and at the budget's end. "
        "Speedups are read off these curves: at 6,400 with a 25,600 budget (5 points, smoothed over 3) a strategy "
        "that learns fast early was measured as slower than it is.",
    )
    oracle_samples: int = option(8, "Oracle only: Monte Carlo samples per candidate prompt (not charged).")
    checkpoint_every: int = option(
        100,
        "GRPO steps between two crash-safe checkpoints of a run (student, optimizer, curriculum, every RNG, "
        "counters, metrics offset), which `--resume` continues bit-identically; 0 writes none. A checkpoint of the "
        "default run takes about 0.05 s (1.5 MB) against about 0.08 s per step of 4 x 8 rollouts on a CPU "
        "(evaluations included), so 100 costs under 1% of the run time and a crash loses at most 100 steps "
        "(3,200 rollouts).",
    )

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        require(self.rollouts > 0, "rollouts", f"must be > 0, got {self.rollouts}")
        require(self.prompts_per_step > 0, "prompts_per_step", f"must be > 0, got {self.prompts_per_step}")
        require(self.eval_every > 0, "eval_every", f"must be > 0, got {self.eval_every}")
        require(self.oracle_samples >= 1, "oracle_samples", f"must be >= 1, got {self.oracle_samples}")
        require(self.checkpoint_every >= 0, "checkpoint_every", f"must be >= 0, got {self.checkpoint_every}")


# Fields of the trainer configs the testbed fills in itself (from its tokenizer and task families).
DERIVED_FIELDS = {
    "model.vocab_size": "the tokenizer's vocabulary",
    "model.max_seq_len": "the longest prompt plus the longest completion",
    "grpo.max_new_tokens": "the longest demonstration plus eos",
}


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
    testbed: TestbedConfig = option(TestbedConfig, "Tasks, pools, held-out evaluation, device and parallelism.")
    warm_start: WarmStartConfig = option(WarmStartConfig, "Demonstrations and steps of the SFT warm start.")
    model: TinyGPTConfig = testbed_trainer_section(
        "model",
        "The student (TinyGPTConfig); vocab_size and max_seq_len are derived by the testbed. Fields not given "
        "take the testbed's calibrated values (TESTBED_TRAINER_DEFAULTS), then the trainer's own defaults.",
    )
    sft: SFTConfig = testbed_trainer_section(
        "sft",
        "Optimizer of the SFT warm start (SFTConfig; see model for defaults).",
    )
    grpo: GRPOConfig = testbed_trainer_section(
        "grpo",
        "The GRPO update (GRPOConfig: learning_rate, group_size, temperature, clip_epsilon, kl_coef, "
        "updates_per_batch, grad_clip, ...); max_new_tokens is derived by the testbed.",
    )
    rl: RLConfig = option(RLConfig, "Rollout budget, batch shape and evaluation schedule of the GRPO phase.")

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | None = None, source: str | None = None) -> ExperimentConfig:
        """Build from a mapping (YAML/JSON), trainer sections starting from ``TESTBED_TRAINER_DEFAULTS``."""
        merged = dict(values or {})
        for section, defaults in TESTBED_TRAINER_DEFAULTS.items():
            given = merged.get(section, {})
            if isinstance(given, Mapping):
                merged[section] = {**defaults, **given}
        return build_config(cls, merged, source=source)

    def validate(self) -> None:
        require(len(self.strategies) > 0, "strategies", "name at least one strategy")
        require(len(set(self.strategies)) == len(self.strategies), "strategies", f"repeated label in {self.strategies}")
        require(len(self.seeds) > 0, "seeds", "give at least one seed")
        require(len(set(self.seeds)) == len(self.seeds), "seeds", f"repeated seed in {self.seeds}")
        require(all(s >= 0 for s in self.seeds), "seeds", f"must be >= 0, got {self.seeds}")
        for name, section in (
            ("testbed", self.testbed),
            ("warm_start", self.warm_start),
            ("model", self.model),
            ("sft", self.sft),
            ("grpo", self.grpo),
            ("rl", self.rl),
        ):
            with config_section(name):
                section.validate()
        for path, value in (
            ("model.vocab_size", self.model.vocab_size),
            ("model.max_seq_len", self.model.max_seq_len),
            ("grpo.max_new_tokens", self.grpo.max_new_tokens),
        ):
            require(
                value is None,
                path,
                f"is derived by the testbed ({DERIVED_FIELDS[path]}); leave it unset, got {value!r}",
            )
        step = self.rl.prompts_per_step * self.grpo.group_size
        require(
            self.rl.rollouts >= step,
            "rl.rollouts",
            f"{self.rl.rollouts} is less than one GRPO step (rl.prompts_per_step x grpo.group_size = "
            f"{self.rl.prompts_per_step} x {self.grpo.group_size} = {step})",
        )
        self._validate_tasks()
        for label in self.strategies:  # an unknown strategy or option fails here, before any training
            name, options = resolve_strategy(label, self.strategy_options)
            try:
                make_config(name, options, source=f"strategy_options.{label}")
            except UnknownNameError as exc:  # a ConfigError, naming the field the unknown name came from
                where = "strategies" if name == label else f"strategy_options.{label}.strategy"
                raise ConfigError(f"{where}: {exc}") from None

    def _validate_tasks(self) -> None:
        from autocurriculum.tasks import make_task_family_config

        lowest = {}
        for name in self.testbed.tasks:
            options = self.testbed.task_options.get(name, {})
            require(
                isinstance(options, dict),
                f"testbed.task_options.{name}",
                f"expected a mapping of options, got {options!r}",
            )
            try:
                config = make_task_family_config(name, options, source=f"testbed.task_options.{name}")
            except UnknownNameError as exc:
                raise ConfigError(f"testbed.tasks: {exc}") from None
            lowest[name] = config.min_level
        reached = [name for name, level in lowest.items() if level <= self.warm_start.max_level]
        require(
            len(reached) > 0,
            "warm_start.max_level",
            f"{self.warm_start.max_level} is below every task family's lowest level "
            f"({', '.join(f'{n}: {lv}' for n, lv in lowest.items())}): the warm start would have no demonstrations",
        )
        require(
            self.warm_start.steps == 0
            or any(
                self.warm_start.demonstrations_at(level) > 0
                for level in range(min(lowest.values()), 1 + self.warm_start.max_level)
            ),
            "warm_start.level_decay",
            f"{self.warm_start.level_decay} with demonstrations_per_level={self.warm_start.demonstrations_per_level} "
            "rounds every warm-start level to 0 demonstrations",
        )


def resolve_strategy(label: str, strategy_options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The registered strategy behind ``label`` and its options (a variant names its base with ``strategy``)."""
    options = strategy_options.get(label, {})
    require(
        isinstance(options, Mapping), f"strategy_options.{label}", f"expected a mapping of options, got {options!r}"
    )
    options = dict(options)
    return str(options.pop("strategy", label)), options


def resolve_device(device: str) -> str:
    """'cpu', 'cuda' or 'cuda:N' for a ``testbed.device`` setting; a ConfigError naming the field otherwise."""
    base, _, index = device.partition(":")
    require(
        device in DEVICES or (base == "cuda" and index.isdigit()),
        "device",
        f"must be one of {', '.join(map(repr, DEVICES))} (or 'cuda:N'), got {device!r}",
    )
    if device == "cpu":
        return "cpu"
    import torch

    available = torch.cuda.is_available()
    if device == "auto":
        return "cuda" if available else "cpu"
    require(
        available,
        "device",
        f"{device!r} but torch finds no CUDA device (torch.cuda.is_available() is False); use 'cpu' or 'auto'",
    )
    count = torch.cuda.device_count()
    require(not index or int(index) < count, "device", f"{device!r} but only {count} CUDA device(s) are visible")
    return device
