"""AdaRFT: a target difficulty that follows the batch reward; the batch is the tasks nearest the target.

Reference: Shi, Wu, Song, Zhou, Zhao, "Efficient Reinforcement Finetuning via Adaptive Curriculum Learning"
(AdaRFT, arXiv 2504.05520); code ``uscnlp-lime/verl`` (also ``volcengine/verl`` ``recipe/adarft``).

Each task has an offline difficulty score ``d_i`` (here a task knob, ``level`` by default, rescaled to
[0, 100] from the pool's min/max so the paper's defaults apply; the paper derives ``d_i`` from a reference
model's pass rate). A scalar target ``T`` moves after each batch with its mean reward ``R``:

    T <- clip(T + eta * tanh(alpha * (R - beta)), d_min, d_max)

so a batch that is too easy (``R > beta``) raises ``T`` toward harder tasks and one too hard lowers it. The next
batch is the B tasks with the smallest ``|d_i - T|``. A knob with few distinct values (a level) ties many tasks
at the same distance; ties are broken at random so that a level's tasks are spread over batches (the code's
sampler takes them in a fixed ``argsort`` order, which replays the same B tasks while ``T`` stays put). Tasks
without the knob are chosen last.

Defaults (README and ``recipe/adarft/run_adarft.sh``): beta = 0.5, alpha = 2, eta = 50, d in [0, 100]. The
initial target ``T = 0`` (the easiest tasks) is the one the authors' poster states; ``initial_target`` changes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import (
    ConfigError,
    Curriculum,
    CurriculumConfig,
    GroupOutcome,
    option,
    register_strategy,
    require,
)


@dataclass
class AdaRFTConfig(CurriculumConfig):
    difficulty_knob: str = option("level", "Task knob holding each task's offline difficulty score d_i.")
    rescale: bool = option(True, "Rescale the knob linearly to [0, 100] from the pool's min/max (paper's scale).")
    higher_is_harder: bool = option(
        True, "The knob grows with difficulty; false for knobs that grow with ease (a reference pass rate)."
    )
    target_reward: float = option(0.5, "beta: the batch reward the target difficulty steers toward (AdaRFT: 0.5).")
    sensitivity: float = option(2.0, "alpha: slope of tanh in the target update (AdaRFT: 2).")
    step_size: float = option(50.0, "eta: largest move of the target per batch, in difficulty units (AdaRFT: 50).")
    d_min: float = option(0.0, "Lowest target difficulty (AdaRFT: 0).")
    d_max: float = option(100.0, "Highest target difficulty (AdaRFT: 100).")
    initial_target: float = option(0.0, "Target difficulty T before the first batch (AdaRFT poster: 0, the easiest).")

    def validate(self) -> None:
        super().validate()
        require(0.0 <= self.target_reward <= 1.0, "target_reward", f"must lie in [0, 1], got {self.target_reward}")
        require(self.sensitivity > 0, "sensitivity", f"must be > 0, got {self.sensitivity}")
        require(self.step_size >= 0, "step_size", f"must be >= 0, got {self.step_size}")
        require(self.d_min < self.d_max, "d_min/d_max", f"need d_min < d_max, got [{self.d_min}, {self.d_max}]")
        require(
            self.d_min <= self.initial_target <= self.d_max,
            "initial_target",
            f"must lie in [d_min, d_max] = [{self.d_min}, {self.d_max}], got {self.initial_target}",
        )


class TargetDifficulty:
    """AdaRFT's target: T <- clip(T + eta * tanh(alpha * (R - beta)), d_min, d_max)."""

    def __init__(self, config: AdaRFTConfig):
        self.config = config
        self.value = float(config.initial_target)

    def update(self, mean_reward: float) -> None:
        cfg = self.config
        step = cfg.step_size * np.tanh(cfg.sensitivity * (mean_reward - cfg.target_reward))
        self.value = float(np.clip(self.value + step, cfg.d_min, cfg.d_max))

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = float(state["value"])


def difficulty_scores(pool, knob: str, strategy: str, rescale: bool, higher_is_harder: bool) -> np.ndarray:
    """The knob for every row, oriented so larger is harder and optionally rescaled to [0, 100]."""
    knob_names = getattr(pool, "knob_names", None)
    if knob_names is not None and knob in knob_names:
        values = np.array(pool.knob(knob), dtype=np.float64)
    elif knob_names is None and knob == "level" and hasattr(pool, "levels"):  # streaming sources have levels only
        values = np.array(pool.levels(), dtype=np.float64)
    else:
        available = ", ".join(knob_names) if knob_names else "none"
        raise ConfigError(
            f"strategy {strategy!r}: difficulty_knob {knob!r} is not a knob of this pool (available knobs: "
            f"{available}); set difficulty_knob to a knob that scores each task's difficulty"
        )
    finite = ~np.isnan(values)
    if not finite.any():
        raise ConfigError(f"strategy {strategy!r}: difficulty_knob {knob!r} is missing from every task")
    low, high = values[finite].min(), values[finite].max()
    if not higher_is_harder:  # mirror within the knob's own range, so the hardest task gets the largest score
        values = low + high - values
    if rescale:
        values = (values - low) / (high - low) * 100.0 if high > low else np.where(finite, 0.0, np.nan)
    return values


@register_strategy("adarft")
class AdaRFTCurriculum(Curriculum):
    config_class = AdaRFTConfig
    config: AdaRFTConfig

    def __init__(self, pool, config: AdaRFTConfig | None = None):
        super().__init__(pool, config)
        cfg = self.config
        self.difficulty = difficulty_scores(pool, cfg.difficulty_knob, self.name, cfg.rescale, cfg.higher_is_harder)
        self.target = TargetDifficulty(cfg)

    def _select_rows(self, n: int) -> np.ndarray:
        distance = np.nan_to_num(np.abs(self.difficulty - self.target.value), nan=np.inf)
        copies, rest = divmod(n, distance.size)  # more than the pool: every task `copies` times, then the nearest
        rows = [np.tile(np.arange(distance.size), copies)]
        if rest:
            cutoff = np.partition(distance, rest - 1)[rest - 1]
            nearer = np.flatnonzero(distance < cutoff)
            tied = np.flatnonzero(distance == cutoff)
            rows += [nearer, self.rng.choice(tied, size=rest - nearer.size, replace=False)]
        return np.concatenate(rows)

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        rewards = np.concatenate([o.rewards for o in outcomes])
        self.target.update(float(rewards.mean()))

    def _stateful_parts(self) -> dict[str, Any]:
        return {"target": self.target}
