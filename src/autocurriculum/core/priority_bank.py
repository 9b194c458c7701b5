"""A bounded memory bank of pool rows with a priority each, for strategies that replay valuable prompts.

VCRL (arXiv 2509.19803) keeps high-variance prompts in such a bank and replays them; other replay schemes
(DEPO, DOTS) fit the same structure. The bank holds at most ``capacity`` distinct rows; pushing a row already in
it replaces its priority, and when the bank overflows the lowest priorities are evicted (the oldest first among
equal priorities). ``take`` removes what it returns: a replayed prompt has to earn its way back in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError, InvalidArgumentError


class PriorityBank:
    """At most ``capacity`` distinct rows, each with a priority; arrays kept in insertion order."""

    def __init__(self, capacity: int):
        if capacity < 0:
            raise ConfigError(f"capacity must be >= 0, got {capacity}")
        self.capacity = int(capacity)
        self.rows = np.empty(0, dtype=np.int64)
        self.priorities = np.empty(0, dtype=np.float64)

    def __len__(self) -> int:
        return self.rows.size

    def contains(self, rows: np.ndarray) -> np.ndarray:
        """Whether each of ``rows`` is in the bank."""
        return np.isin(np.asarray(rows, dtype=np.int64), self.rows)

    def push(self, rows: np.ndarray, priorities: np.ndarray) -> None:
        """Insert ``rows`` (or refresh their priority), then evict the lowest priorities beyond ``capacity``."""
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        priorities = np.asarray(priorities, dtype=np.float64).reshape(-1)
        if rows.size != priorities.size:
            raise InvalidArgumentError(f"push: {rows.size} rows but {priorities.size} priorities")
        if rows.size == 0:
            return
        # a row pushed twice in one call keeps its last priority
        last = rows.size - 1 - np.unique(rows[::-1], return_index=True)[1]
        rows, priorities = rows[last], priorities[last]
        self.discard(rows)
        self.rows = np.concatenate([self.rows, rows])
        self.priorities = np.concatenate([self.priorities, priorities])
        if self.rows.size > self.capacity:
            # highest priority first; among equals the newest (last inserted) first, so the oldest are evicted
            newest_first = np.arange(self.rows.size)[::-1]
            order = newest_first[np.argsort(-self.priorities[newest_first], kind="stable")]
            keep = np.sort(order[: self.capacity])  # back to insertion order
            self.rows, self.priorities = self.rows[keep], self.priorities[keep]

    def discard(self, rows: np.ndarray) -> None:
        """Remove ``rows`` from the bank (rows not in it are ignored)."""
        keep = ~np.isin(self.rows, np.asarray(rows, dtype=np.int64))
        self.rows, self.priorities = self.rows[keep], self.priorities[keep]

    def take(self, k: int, rng: np.random.Generator | None = None) -> np.ndarray:
        """Remove and return up to ``k`` rows: the highest priorities first (newest first among equals), or,
        with ``rng``, a draw without replacement with probability proportional to priority."""
        k = min(int(k), self.rows.size)
        if k <= 0:
            return np.empty(0, dtype=np.int64)
        newest_first = np.arange(self.rows.size)[::-1]
        if rng is None:
            keys = self.priorities[newest_first]
        else:  # Gumbel top-k: the same law as drawing one at a time without replacement
            with np.errstate(divide="ignore"):
                keys = np.log(np.maximum(self.priorities[newest_first], 0.0)) + rng.gumbel(size=self.rows.size)
        chosen = newest_first[np.argsort(-keys, kind="stable")[:k]]
        taken = self.rows[chosen]
        keep = np.ones(self.rows.size, dtype=bool)
        keep[chosen] = False
        self.rows, self.priorities = self.rows[keep], self.priorities[keep]
        return taken

    def state_dict(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "rows": self.rows.copy(), "priorities": self.priorities.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.capacity = int(state["capacity"])
        self.rows = np.array(state["rows"], dtype=np.int64)
        self.priorities = np.array(state["priorities"], dtype=np.float64)
