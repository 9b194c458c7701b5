"""TSCL: Teacher-Student Curriculum Learning, "Window" teacher (Matiisen et al., arXiv 1707.00183).

Each category ((family, level) by default) is a bandit arm rewarded by learning progress, the slope of the
student's learning curve on it. Per category the teacher keeps the scores of the last K steps it was trained
on, where a score is the category's pooled pass rate in that step's batch (successes / rollouts), with the
step; learning progress is the least-squares slope of those K scores on their steps. Since forgetting also
calls for practice, arms are compared by |slope|:

    boltzmann:  p = (1 - eps) * softmax(|slope| / T) + eps / n_arms
    epsilon:    p = (1 - eps) * onehot(argmax |slope|) + eps / n_arms

and a prompt is then drawn uniformly inside each drawn category.

Defaults: K = 10 and eps = 0.1 are the defaults of the authors' code (``tambetm/TSCL``,
``addition/addition_rnn_teacher.py``: ``--window_size 10``, ``--epsilon 0.1``). So is scoring an arm with
fewer than two scores as |slope| = 1, the largest a pass rate can change per step, so every arm is tried
before the others are compared. Our choices: Boltzmann as the default (the paper runs both and reports
neither as uniformly better); T = 0.01, because the code's 0.0004 is tuned to its own scale (validation
accuracy per teacher step) while pass-rate slopes per update of an LLM run are of order 0.001-0.02; mixing
eps of uniform into Boltzmann too (the paper's Boltzmann teacher has none), because an arm's window only
changes when the arm is sampled, so a category written off early would otherwise never be re-scored; and,
in epsilon mode, splitting the greedy mass evenly over tied arms instead of picking one at random, so a
batch drawn at once spreads over them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import GroupOutcome, option, register_strategy, require
from autocurriculum.core.categories import CategoryConfig, CategoryCurriculum, boltzmann
from autocurriculum.core.outcome import successes_and_trials
from autocurriculum.core.windows import WindowedLearningProgress

EXPLORATION_MODES = ("boltzmann", "epsilon")
UNSCORED_PROGRESS = 1.0  # TSCL code: an arm without a slope yet counts as the fastest possible learner


@dataclass
class LearningProgressConfig(CategoryConfig):
    window: int = option(10, "Scores per category in the slope regression, K (TSCL code: --window_size 10).")
    exploration: str = option(
        "boltzmann", "Category choice from |slope|: 'boltzmann' (softmax) or 'epsilon' (greedy); TSCL uses both."
    )
    temperature: float = option(
        0.01, "Boltzmann temperature over |slope| in pass rate per step (our choice; TSCL code 0.0004 on its scale)."
    )
    epsilon: float = option(
        0.1, "Share of the category distribution spread uniformly, in both modes (TSCL code: --epsilon 0.1)."
    )

    def validate(self) -> None:
        super().validate()
        require(self.window >= 2, "window", f"must be >= 2 to fit a slope, got {self.window}")
        require(
            self.exploration in EXPLORATION_MODES,
            "exploration",
            f"must be one of {', '.join(EXPLORATION_MODES)}, got {self.exploration!r}",
        )
        require(self.temperature > 0, "temperature", f"must be > 0, got {self.temperature}")
        require(0 <= self.epsilon <= 1, "epsilon", f"must lie in [0, 1], got {self.epsilon}")


@register_strategy("learning-progress")
class LearningProgressCurriculum(CategoryCurriculum):
    config_class = LearningProgressConfig
    config: LearningProgressConfig

    def __init__(self, pool, config: LearningProgressConfig | None = None):
        super().__init__(pool, config)
        self.progress = WindowedLearningProgress(len(self.category_names), self.config.window)

    def category_probabilities(self) -> np.ndarray:
        progress = self.progress.progress(unscored=UNSCORED_PROGRESS)
        if self.config.exploration == "boltzmann":
            return boltzmann(progress, self.config.temperature, self.config.epsilon)
        greedy = (progress == progress.max()).astype(np.float64)
        greedy /= greedy.sum()
        return (1 - self.config.epsilon) * greedy + self.config.epsilon / greedy.size

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        self.progress.observe(
            self.category_codes[rows],
            *successes_and_trials(outcomes),
            step=self.updates_seen,
        )

    def _stateful_parts(self) -> dict[str, Any]:
        return {"progress": self.progress}
