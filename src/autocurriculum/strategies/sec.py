"""SEC: Self-Evolving Curriculum, a bandit over categories (Chen et al., arXiv 2505.14970).

Each (family, level) category is an arm. Its reward is the mean absolute advantage
of the category's rollouts in the batch (a proxy for immediate learning gain: for
binary rewards it equals 2*sqrt(p(1-p)), zero for all-0/all-1 groups), tracked by
TD(0): Q <- rate * r + (1 - rate) * Q. Categories are drawn from softmax(Q / T),
then a prompt uniformly inside the category.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import GroupOutcome, option, register_strategy, require
from autocurriculum.core.categories import (
    CategoryConfig,
    CategoryCurriculum,
    CategoryValues,
    boltzmann,
)


@dataclass
class SECConfig(CategoryConfig):
    rate: float = option(0.3, "TD(0) step size alpha for each category's value.")
    temperature: float = option(0.2, "Boltzmann temperature over category values (mean |advantage| lies in [0, 1]).")
    uniform_mix: float = option(
        0.05, "Share of the sampling distribution spread uniformly, so written-off categories are re-checked."
    )

    def validate(self) -> None:
        super().validate()
        require(0 < self.rate <= 1, "rate", f"must lie in (0, 1], got {self.rate}")
        require(self.temperature > 0, "temperature", f"must be > 0, got {self.temperature}")
        require(0 <= self.uniform_mix <= 1, "uniform_mix", f"must lie in [0, 1], got {self.uniform_mix}")


@register_strategy("sec")
class SECCurriculum(CategoryCurriculum):
    config_class = SECConfig
    config: SECConfig

    def __init__(self, pool, config: SECConfig | None = None):
        super().__init__(pool, config)
        self.values = CategoryValues(len(self.category_names), self.config.rate)

    def category_probabilities(self) -> np.ndarray:
        return boltzmann(self.values.values, self.config.temperature, self.config.uniform_mix)

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        self.values.update(self.category_codes[rows], np.array([o.mean_abs_advantage() for o in outcomes]))

    def _stateful_parts(self) -> dict[str, Any]:
        return {"values": self.values}
