"""A sliding window of (prompt features, observed target) pairs for training a teacher online."""

from __future__ import annotations

from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError, InvalidArgumentError, StateFormatError


class ReplayBuffer:
    """The most recent ``capacity`` examples, in a ring.

    The student keeps changing, so old targets go stale: a bounded window keeps
    the teacher tracking the current student (Goldilocks uses a sliding window).
    Feature storage is allocated on the first ``add``, when the feature width is known.
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ConfigError(f"replay buffer capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.features: np.ndarray | None = None
        self.targets = np.zeros(self.capacity, dtype=np.float32)
        self.rows = np.full(self.capacity, -1, dtype=np.int64)  # pool row of each example, for bookkeeping
        self.size = 0
        self.position = 0  # next slot to overwrite
        self.added = 0  # examples ever added

    def __len__(self) -> int:
        return self.size

    @property
    def dim(self) -> int | None:
        return None if self.features is None else int(self.features.shape[1])

    def add(self, features: np.ndarray, targets: np.ndarray, rows: np.ndarray | None = None) -> None:
        features = np.asarray(features, dtype=np.float32)
        targets = np.asarray(targets, dtype=np.float32).reshape(-1)
        if features.ndim != 2 or features.shape[0] != targets.size:
            raise InvalidArgumentError(f"{features.shape} features for {targets.size} targets")
        if self.features is None:
            self.features = np.zeros((self.capacity, features.shape[1]), dtype=np.float32)
        elif features.shape[1] != self.features.shape[1]:
            raise InvalidArgumentError(f"feature width changed from {self.features.shape[1]} to {features.shape[1]}")
        rows = np.full(targets.size, -1, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        self.added += targets.size
        if targets.size > self.capacity:  # only the newest examples fit
            features, targets, rows = features[-self.capacity :], targets[-self.capacity :], rows[-self.capacity :]
        slots = (self.position + np.arange(targets.size)) % self.capacity
        self.features[slots] = features
        self.targets[slots] = targets
        self.rows[slots] = rows
        self.position = int((self.position + targets.size) % self.capacity)
        self.size = min(self.capacity, self.size + targets.size)

    def sample_indices(self, rng: np.random.Generator, batch_size: int) -> np.ndarray:
        """Indices of a minibatch (without replacement while the buffer lasts)."""
        if self.size == 0:
            raise InvalidArgumentError("cannot sample from an empty replay buffer")
        return rng.choice(self.size, size=batch_size, replace=batch_size > self.size)

    def batch(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the features and targets at ``indices`` (safe to hand to another thread)."""
        assert self.features is not None
        return self.features[indices].copy(), self.targets[indices].copy()

    def state_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "features": None if self.features is None else self.features[: self.size].copy(),
            "targets": self.targets[: self.size].copy(),
            "rows": self.rows[: self.size].copy(),
            "size": self.size,
            "position": self.position,
            "added": self.added,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if int(state["capacity"]) != self.capacity:
            raise StateFormatError(
                f"state holds a replay buffer of capacity {state['capacity']}, this one has {self.capacity}"
            )
        size = int(state["size"])
        self.size, self.position, self.added = size, int(state["position"]), int(state["added"])
        self.targets[:] = 0
        self.rows[:] = -1
        self.targets[:size] = state["targets"]
        self.rows[:size] = state["rows"]
        if state["features"] is None:
            self.features = None
        else:
            saved = np.asarray(state["features"], dtype=np.float32)
            self.features = np.zeros((self.capacity, saved.shape[1]), dtype=np.float32)
            self.features[:size] = saved
