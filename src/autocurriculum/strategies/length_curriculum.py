"""A stage-wise length curriculum: train on short tasks first, admit longer ones stage by stage.

In the spirit of FastCuRL (Song et al., "FastCuRL: Curriculum Reinforcement Learning with Stage-wise Context
Scaling for Efficient Training R1-like Reasoning Models", arXiv 2503.17287), which splits the training data by
prompt length and trains short to long. Here a task's length is the character length of

* its reference solution (``length_of = "demonstration"``, the default): the task's demonstration, or its answer
  when it has none (answers are usually much shorter, so such tasks count as short); or
* its prompt (``length_of = "prompt"``, FastCuRL's choice). Our testbed families have equal prompt lengths
  within a family, so there prompt length only orders families; the default measures solutions instead.

Lengths are computed once, at construction, which needs an in-memory ``TaskPool`` (a streaming source is
refused: it would have to generate every task). Stage ``s`` (of ``stages``) allows the tasks no longer than the
length at quantile ``q_s = start_quantile + (1 - start_quantile) * s / (stages - 1)`` (ties included, so tasks
of equal length enter together; the last stage is the whole pool), and each batch is drawn uniformly among
the allowed tasks. A stage lasts ``steps_per_stage`` updates, or ends early when a batch's mean reward exceeds
``advance_reward`` (off by default: FastCuRL advances on a fixed schedule). Three stages (the shortest third,
two thirds, everything) follow FastCuRL v1's split of the data into three prompt-length levels; the stage length
and the nested (cumulative) stages are our choices: set ``steps_per_stage`` to about the run's total steps
divided by ``stages``. FastCuRL also widens the context window from stage to stage; that is a trainer setting.

Not implemented here: the token-budget curriculum of "Train Long, Think Short" (arXiv 2508.08940), which shrinks
the *rollout length budget* over training rather than choosing prompts; it belongs to the trainer's generation
settings, not to prompt selection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import (
    ConfigError,
    Curriculum,
    CurriculumConfig,
    GroupOutcome,
    TaskPool,
    option,
    register_strategy,
    require,
)

LENGTH_SOURCES = ("demonstration", "prompt")


@dataclass
class LengthCurriculumConfig(CurriculumConfig):
    length_of: str = option(
        "demonstration",
        "What a task's length measures: 'demonstration' (its reference solution, else its answer) or 'prompt' "
        "(FastCuRL).",
    )
    stages: int = option(3, "Stages from the shortest tasks to the whole pool (ours).")
    steps_per_stage: int = option(50, "Updates per stage before the next one (ours; about total steps / stages).")
    start_quantile: float = option(
        1 / 3, "Share of the pool, shortest first, allowed in the first stage (ours: the shortest third)."
    )
    advance_reward: float | None = option(
        None, "Advance early when a batch's mean reward exceeds this; None keeps the fixed schedule (FastCuRL)."
    )

    def validate(self) -> None:
        super().validate()
        require(
            self.length_of in LENGTH_SOURCES,
            "length_of",
            f"must be one of {', '.join(LENGTH_SOURCES)}, got {self.length_of!r}",
        )
        require(self.stages >= 1, "stages", f"must be >= 1, got {self.stages}")
        require(self.steps_per_stage >= 1, "steps_per_stage", f"must be >= 1, got {self.steps_per_stage}")
        require(0.0 < self.start_quantile <= 1.0, "start_quantile", f"must lie in (0, 1], got {self.start_quantile}")
        require(
            self.advance_reward is None or 0.0 <= self.advance_reward <= 1.0,
            "advance_reward",
            f"must be None or lie in [0, 1], got {self.advance_reward}",
        )


def task_lengths(pool, length_of: str, strategy: str) -> np.ndarray:
    """Character length of every task's demonstration (else answer) or prompt."""
    if not isinstance(pool, TaskPool):  # a stream would have to generate every task to measure it
        raise ConfigError(
            f"strategy {strategy!r}: length_of={length_of!r} measures every task at construction and needs an "
            f"in-memory TaskPool, got a {type(pool).__name__} of {len(pool)} tasks; materialize the tasks to "
            "train on into a TaskPool first"
        )
    if length_of == "prompt":
        texts = (pool.prompt(row) for row in range(len(pool)))
    else:
        texts = ((task.demonstration or task.answer) for task in (pool[row] for row in range(len(pool))))
    lengths = np.fromiter((len(text or "") for text in texts), dtype=np.int64, count=len(pool))
    if not lengths.any():
        other = "prompt" if length_of == "demonstration" else "demonstration"
        measured = "demonstrations or answers" if length_of == "demonstration" else "prompts"
        raise ConfigError(
            f"strategy {strategy!r}: length_of={length_of!r} found no text to measure (the pool's tasks have no "
            f"{measured}); set length_of={other!r} or give the tasks {measured}"
        )
    return lengths


class StageSchedule:
    """The current stage and how many updates it has lasted."""

    def __init__(self, config: LengthCurriculumConfig):
        self.config = config
        self.stage = 0
        self.updates_in_stage = 0

    def update(self, mean_reward: float) -> None:
        cfg = self.config
        self.updates_in_stage += 1
        early = cfg.advance_reward is not None and mean_reward > cfg.advance_reward
        if self.stage < cfg.stages - 1 and (self.updates_in_stage >= cfg.steps_per_stage or early):
            self.stage += 1
            self.updates_in_stage = 0

    def state_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "updates_in_stage": self.updates_in_stage}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stage = int(state["stage"])
        self.updates_in_stage = int(state["updates_in_stage"])


@register_strategy("length")
class LengthCurriculum(Curriculum):
    config_class = LengthCurriculumConfig
    config: LengthCurriculumConfig

    def __init__(self, pool, config: LengthCurriculumConfig | None = None):
        super().__init__(pool, config)
        cfg = self.config
        self.lengths = task_lengths(pool, cfg.length_of, self.name)
        ordered = np.sort(self.lengths)
        steps = np.arange(cfg.stages) / max(cfg.stages - 1, 1)
        quantiles = np.where(cfg.stages > 1, cfg.start_quantile + (1 - cfg.start_quantile) * steps, 1.0)
        counts = [max(1, math.ceil(q * ordered.size - 1e-9)) for q in quantiles]  # -1e-9: 1/3 of 60 is 20
        self.max_length = ordered[np.array(counts) - 1]  # the longest length allowed in each stage
        self.schedule = StageSchedule(cfg)
        self._allowed: tuple[int, np.ndarray] | None = None  # (stage, rows), derived, not state

    @property
    def stage(self) -> int:
        return self.schedule.stage

    def allowed_rows(self) -> np.ndarray:
        """The tasks the current stage allows."""
        if self._allowed is None or self._allowed[0] != self.stage:
            self._allowed = (self.stage, np.flatnonzero(self.lengths <= self.max_length[self.stage]))
        return self._allowed[1]

    def _select_rows(self, n: int) -> np.ndarray:
        return self.uniform_rows(n, self.allowed_rows())

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        self.schedule.update(float(np.concatenate([o.rewards for o in outcomes]).mean()))

    def _stateful_parts(self) -> dict[str, Any]:
        return {"schedule": self.schedule}
