"""Category-level statistics for strategies that choose a category first, then a prompt in it.

A category is a (task family, difficulty level) pair by default: the natural arms
of SEC/DUMP-style bandits, which learn quickly even when single prompts are rarely
revisited.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError
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
            raise ValueError(f"rate must lie in (0, 1], got {rate}")
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
            raise ValueError(f"state holds {np.asarray(state['values']).size} categories, expected {self.values.size}")
        self.rate = float(state["rate"])
        self.values = np.array(state["values"], dtype=np.float64)
        self.counts = np.array(state["counts"], dtype=np.int64)


def boltzmann(values: np.ndarray, temperature: float, uniform_mix: float = 0.0) -> np.ndarray:
    """softmax(values / temperature), mixed with the uniform distribution by ``uniform_mix``."""
    logits = np.asarray(values, dtype=np.float64) / temperature
    weights = np.exp(logits - logits.max())
    probs = weights / weights.sum()
    return (1 - uniform_mix) * probs + uniform_mix / probs.size
