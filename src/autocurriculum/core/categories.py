"""Category-level statistics for strategies that choose a category first, then a prompt in it.

A category is a (task family, difficulty level) pair by default: the natural arms
of SEC/DUMP-style bandits, which learn quickly even when single prompts are rarely
revisited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core.config import option
from autocurriculum.core.curriculum import Curriculum, CurriculumConfig
from autocurriculum.core.errors import ConfigError, StateFormatError
from autocurriculum.core.task import TaskSource


def category_of_rows(pool: TaskSource, by_level: bool = True) -> tuple[np.ndarray, list[str]]:
    """A category code per row and the category names, from the pool's family and (optionally) level."""
    codes = getattr(pool, "category_codes", None)
    names = getattr(pool, "category_names", None)
    if codes is None or names is None:
        raise ConfigError(
            f"category strategies need a pool with category columns (TaskPool); got {type(pool).__name__}"
        )
    if not by_level:
        return np.asarray(codes), list(names)
    keys = [f"{names[c]}/L{int(level)}" for c, level in zip(codes, pool.levels(), strict=True)]  # type: ignore[attr-defined]
    unique = sorted(set(keys))
    index = {k: i for i, k in enumerate(unique)}
    return np.array([index[k] for k in keys], dtype=np.int64), unique


class CategoryValues:
    """An exponential moving average of a per-category signal (TD(0) with step size ``rate``)."""

    def __init__(self, size: int, rate: float, initial: float = 0.0):
        if not 0.0 < rate <= 1.0:
            raise ConfigError(f"rate must lie in (0, 1], got {rate}")
        self.rate = float(rate)
        self.values = np.full(size, float(initial))
        self.counts = np.zeros(size, dtype=np.int64)

    def update(self, categories: np.ndarray, signals: np.ndarray) -> None:
        """Fold in the batch mean of ``signals`` for every category present in the batch."""
        categories = np.asarray(categories, dtype=np.int64)
        if categories.size == 0:
            return
        sums = np.bincount(categories, weights=np.asarray(signals, dtype=np.float64), minlength=self.values.size)
        counts = np.bincount(categories, minlength=self.values.size)
        seen = counts > 0
        batch_mean = sums[seen] / counts[seen]
        self.values[seen] = self.rate * batch_mean + (1 - self.rate) * self.values[seen]
        self.counts += counts

    def state_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "values": self.values.copy(), "counts": self.counts.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if np.asarray(state["values"]).size != self.values.size:
            raise StateFormatError(
                f"state holds {np.asarray(state['values']).size} categories, expected {self.values.size}"
            )
        self.rate = float(state["rate"])
        self.values = np.array(state["values"], dtype=np.float64)
        self.counts = np.array(state["counts"], dtype=np.int64)


def boltzmann(values: np.ndarray, temperature: float, uniform_mix: float = 0.0) -> np.ndarray:
    """softmax(values / temperature), mixed with the uniform distribution by ``uniform_mix``."""
    logits = np.asarray(values, dtype=np.float64) / temperature
    weights = np.exp(logits - logits.max())
    probs = weights / weights.sum()
    return (1 - uniform_mix) * probs + uniform_mix / probs.size


@dataclass
class CategoryConfig(CurriculumConfig):
    by_level: bool = option(
        True, "Arms (SEC's categories, DUMP's distributions, TSCL's tasks) are (family, level) pairs; false: family."
    )


class CategoryCurriculum(Curriculum):
    """Draw each slot's category from ``category_probabilities()``, then a prompt uniformly inside it.

    The shared half of the category bandits (SEC, DUMP, learning progress); each supplies the probabilities.
    """

    config_class = CategoryConfig
    config: CategoryConfig

    def __init__(self, pool: TaskSource, config: CategoryConfig | None = None):
        super().__init__(pool, config)
        self.category_codes, self.category_names = category_of_rows(pool, self.config.by_level)
        self.rows_by_category = [np.flatnonzero(self.category_codes == c) for c in range(len(self.category_names))]

    def category_probabilities(self) -> np.ndarray:
        raise NotImplementedError

    def _select_rows(self, n: int) -> np.ndarray:
        categories = self.rng.choice(len(self.category_names), size=n, p=self.category_probabilities())
        rows = np.empty(n, dtype=np.int64)
        for category in np.unique(categories):
            slots = np.flatnonzero(categories == category)
            rows[slots] = self.uniform_rows(slots.size, self.rows_by_category[category])
        return rows
