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

from autocurriculum.core import Curriculum, CurriculumConfig, GroupOutcome, option, register_strategy, require
from autocurriculum.core.categories import CategoryValues, boltzmann, category_of_rows


@dataclass
class SECConfig(CurriculumConfig):
    rate: float = option(0.3, "TD(0) step size alpha for each category's value.")
    temperature: float = option(0.2, "Boltzmann temperature over category values (mean |advantage| lies in [0, 1]).")
    uniform_mix: float = option(
        0.05, "Share of the sampling distribution spread uniformly, so written-off categories are re-checked."
    )
    by_level: bool = option(True, "Categories are (family, level) pairs; false uses the family alone.")

    def validate(self) -> None:
        super().validate()
        require(0 < self.rate <= 1, "rate", f"must lie in (0, 1], got {self.rate}")
        require(self.temperature > 0, "temperature", f"must be > 0, got {self.temperature}")
        require(0 <= self.uniform_mix <= 1, "uniform_mix", f"must lie in [0, 1], got {self.uniform_mix}")


@register_strategy("sec")
class SECCurriculum(Curriculum):
    config_class = SECConfig
    config: SECConfig

    def __init__(self, pool, config: SECConfig | None = None):
        super().__init__(pool, config)
        self.category_codes, self.category_names = category_of_rows(pool, self.config.by_level)
        self.rows_by_category = [np.flatnonzero(self.category_codes == c) for c in range(len(self.category_names))]
        self.values = CategoryValues(len(self.category_names), self.config.rate)

    def category_probabilities(self) -> np.ndarray:
        return boltzmann(self.values.values, self.config.temperature, self.config.uniform_mix)

    def _select_rows(self, n: int) -> np.ndarray:
        categories = self.rng.choice(len(self.category_names), size=n, p=self.category_probabilities())
        rows = np.empty(n, dtype=np.int64)
        for category in np.unique(categories):
            slots = np.flatnonzero(categories == category)
            rows[slots] = self.uniform_rows(slots.size, self.rows_by_category[category])
        return rows

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        self.values.update(self.category_codes[rows], np.array([o.mean_abs_advantage() for o in outcomes]))

    def _stateful_parts(self) -> dict[str, Any]:
        return {"values": self.values}
