"""DUMP: a UCB bandit over data distributions (Wang et al., "DUMP: Automated Distribution-Level Curriculum
Learning for RL-based LLM Post-training", arXiv 2504.09710).

Each distribution j (here a category: (family, level) by default, or the family alone) is an arm whose
learnability is the expected absolute advantage of its samples. Per arm a sliding window holds the last
``window`` observed |advantage| values; the arm's score is

    score_j = mean(window_j) + c * sqrt(2 ln(sum_k n_k + 1) / (n_j + 1)),

with n_j the number of samples ever drawn from j (not only those still in the window), and distributions
are drawn from softmax(score / T); a prompt is then drawn uniformly inside the chosen distribution. An arm
never observed has window mean 0, so only the exploration bonus, largest for unvisited arms, brings it in.

Defaults follow the authors' code (``ZhentingWang/DUMP``, ``verl/utils/curriculum_learning.py``): window
300, exploration weight c = 1.0, temperature 0.1. One deliberate difference: that code appends every
response's |advantage| to the window and counts n_j in responses; here a sample is a prompt, so the window
holds one value per group (``GroupOutcome.mean_abs_advantage()``, the mean |advantage| over its G rollouts)
and n_j counts groups. The bonus then shrinks with the prompts a distribution has been given, as the paper's
"number of samples drawn from d_j" reads, and does not depend on the group size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import GroupOutcome, option, register_strategy, require
from autocurriculum.core.categories import CategoryConfig, CategoryCurriculum, boltzmann
from autocurriculum.core.windows import ArmWindows


@dataclass
class DUMPConfig(CategoryConfig):
    window: int = option(300, "Sliding window of |advantage| values kept per distribution (DUMP code: 300).")
    exploration_weight: float = option(
        1.0, "Weight c of the UCB bonus c * sqrt(2 ln(sum n + 1) / (n_j + 1)) (DUMP code: 1.0)."
    )
    temperature: float = option(0.1, "Softmax temperature over UCB scores (DUMP code: 0.1).")

    def validate(self) -> None:
        super().validate()
        require(self.window >= 1, "window", f"must be >= 1, got {self.window}")
        require(self.exploration_weight >= 0, "exploration_weight", f"must be >= 0, got {self.exploration_weight}")
        require(self.temperature > 0, "temperature", f"must be > 0, got {self.temperature}")


@register_strategy("dump")
class DUMPCurriculum(CategoryCurriculum):
    config_class = DUMPConfig
    config: DUMPConfig

    def __init__(self, pool, config: DUMPConfig | None = None):
        super().__init__(pool, config)
        self.windows = ArmWindows(len(self.category_names), self.config.window)

    def ucb_scores(self) -> np.ndarray:
        counts = self.windows.totals
        bonus = np.sqrt(2.0 * np.log(counts.sum() + 1.0) / (counts + 1.0))
        return self.windows.means(empty=0.0) + self.config.exploration_weight * bonus

    def category_probabilities(self) -> np.ndarray:
        return boltzmann(self.ucb_scores(), self.config.temperature)

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        self.windows.push(
            self.category_codes[rows], np.array([o.mean_abs_advantage() for o in outcomes]), self.updates_seen
        )

    def _stateful_parts(self) -> dict[str, Any]:
        return {"windows": self.windows}
