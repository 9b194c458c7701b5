"""Windowed statistics of bandit arms and of points in a task space, for learning-progress curricula.

``ArmWindows`` keeps, per arm, the last ``size`` observations and the step each came at (DUMP's sliding
window of |advantage|). ``WindowedLearningProgress`` scores an arm by the least-squares slope of its last
``K`` scores against the step (TSCL's "Window" teacher). ``RecentRows`` is a ring buffer of vectors (the
recent task/ALP pairs ALP-GMM fits on), and ``NearestPreviousProgress`` measures ALP-GMM's absolute learning
progress |r - r_nn| against the nearest previously observed point of a task space. All are NumPy only and
have ``state_dict``/``load_state_dict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError, InvalidArgumentError, OutOfRangeError, StateFormatError

# Distance blocks of at most this many entries, so nearest-point searches stay small in memory on big pools.
_BLOCK_ENTRIES = 1 << 22


def _check_size(state_array: Any, expected: tuple[int, ...], what: str) -> None:
    shape = np.asarray(state_array).shape
    if shape != expected:
        raise StateFormatError(f"state holds {what} of shape {shape}, expected {expected}")


class ArmWindows:
    """Per-arm ring buffers of the last ``size`` scalar observations, each with the step it came at.

    Arrays are ``(arms, size)``; unfilled slots hold NaN. Window order does not matter for the means and
    regressions computed here, so the buffers are never rotated.
    """

    def __init__(self, arms: int, size: int):
        if arms < 1:
            raise ConfigError(f"arms must be >= 1, got {arms}")
        if size < 1:
            raise ConfigError(f"size must be >= 1, got {size}")
        self.size = int(size)
        self.values = np.full((arms, self.size), np.nan)
        self.steps = np.full((arms, self.size), -1, dtype=np.int64)
        self.heads = np.zeros(arms, dtype=np.int64)  # next slot to write
        self.lengths = np.zeros(arms, dtype=np.int64)  # filled slots
        self.totals = np.zeros(arms, dtype=np.int64)  # every observation ever pushed, not only the window's

    @property
    def arms(self) -> int:
        return self.values.shape[0]

    def push(self, arms: np.ndarray, values: np.ndarray, steps: np.ndarray | int = 0) -> None:
        """Append ``values[i]`` (at ``steps[i]``) to arm ``arms[i]``'s window, in order."""
        arms = np.asarray(arms, dtype=np.int64).reshape(-1)
        if arms.size == 0:
            return
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        steps = np.broadcast_to(np.asarray(steps, dtype=np.int64), arms.shape)
        if values.shape != arms.shape:
            raise InvalidArgumentError(f"push(): {values.size} values for {arms.size} arms")
        if arms.min() < 0 or arms.max() >= self.arms:
            raise OutOfRangeError(f"push(): arm indices must lie in [0, {self.arms}), got {arms.min()}..{arms.max()}")
        order = np.argsort(arms, kind="stable")  # keeps each arm's observations in arrival order
        sorted_arms = arms[order]
        counts = np.bincount(arms, minlength=self.arms)
        starts = np.cumsum(counts) - counts
        rank = np.arange(arms.size) - starts[sorted_arms]
        survives = rank >= counts[sorted_arms] - self.size  # more than `size` in one push: only the last survive
        slots = (self.heads[sorted_arms] + rank) % self.size
        target_arms, target_slots = sorted_arms[survives], slots[survives]
        self.values[target_arms, target_slots] = values[order][survives]
        self.steps[target_arms, target_slots] = steps[order][survives]
        self.heads = (self.heads + counts) % self.size
        self.lengths = np.minimum(self.lengths + counts, self.size)
        self.totals += counts

    def means(self, empty: float = 0.0) -> np.ndarray:
        """Each arm's window mean; ``empty`` for arms never observed."""
        sums = np.nansum(self.values, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.lengths > 0, sums / np.maximum(self.lengths, 1), empty)

    def slopes(self) -> np.ndarray:
        """Least-squares slope of each arm's values on their steps; NaN with fewer than two distinct steps."""
        filled = ~np.isnan(self.values)
        count = filled.sum(axis=1)
        x = np.where(filled, self.steps, 0).astype(np.float64)
        y = np.where(filled, self.values, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            x_mean = x.sum(axis=1) / count
            y_mean = y.sum(axis=1) / count
            dx = np.where(filled, x - x_mean[:, None], 0.0)
            dy = np.where(filled, y - y_mean[:, None], 0.0)
            sxx = (dx * dx).sum(axis=1)
            sxy = (dx * dy).sum(axis=1)
            slope = sxy / sxx
        return np.where((count >= 2) & (sxx > 0), slope, np.nan)

    def state_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "values": self.values.copy(),
            "steps": self.steps.copy(),
            "heads": self.heads.copy(),
            "lengths": self.lengths.copy(),
            "totals": self.totals.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _check_size(state["values"], (self.arms, int(state["size"])), "arm windows")
        self.size = int(state["size"])
        self.values = np.array(state["values"], dtype=np.float64)
        self.steps = np.array(state["steps"], dtype=np.int64)
        self.heads = np.array(state["heads"], dtype=np.int64)
        self.lengths = np.array(state["lengths"], dtype=np.int64)
        self.totals = np.array(state["totals"], dtype=np.int64)


class WindowedLearningProgress:
    """Learning progress per arm as the slope of its last ``window`` scores against the step (TSCL "Window").

    One score per arm and step: the batch's pooled success rate over the arm's groups (successes / trials),
    so an arm sampled many times in one batch still adds one point to its learning curve.
    """

    def __init__(self, arms: int, window: int):
        if window < 2:
            raise ConfigError(f"window must be >= 2 to fit a slope, got {window}")
        self.windows = ArmWindows(arms, window)

    @property
    def arms(self) -> int:
        return self.windows.arms

    def observe(self, arms: np.ndarray, successes: np.ndarray, trials: np.ndarray, step: int) -> None:
        """Add one score per arm present in the batch, at ``step``."""
        arms = np.asarray(arms, dtype=np.int64)
        if arms.size == 0:
            return
        s = np.bincount(arms, weights=np.asarray(successes, dtype=np.float64), minlength=self.arms)
        n = np.bincount(arms, weights=np.asarray(trials, dtype=np.float64), minlength=self.arms)
        present = np.flatnonzero(n > 0)
        self.windows.push(present, s[present] / n[present], step)

    def slopes(self) -> np.ndarray:
        """Signed slope per arm (score change per step); NaN for arms scored at fewer than two steps."""
        return self.windows.slopes()

    def progress(self, unscored: float) -> np.ndarray:
        """|slope| per arm (forgetting counts as progress), ``unscored`` where no slope exists yet."""
        slopes = self.slopes()
        return np.where(np.isnan(slopes), unscored, np.abs(slopes))

    def state_dict(self) -> dict[str, Any]:
        return self.windows.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.windows.load_state_dict(state)


class RecentRows:
    """The last ``size`` vectors of width ``width`` appended, returned oldest first."""

    def __init__(self, size: int, width: int):
        if size < 1 or width < 1:
            raise ConfigError(f"size and width must be >= 1, got {size} and {width}")
        self.buffer = np.zeros((int(size), int(width)))
        self.appended = 0  # all-time count

    def __len__(self) -> int:
        return min(self.appended, self.buffer.shape[0])

    def append(self, rows: np.ndarray) -> None:
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, self.buffer.shape[1])
        size, count = self.buffer.shape[0], rows.shape[0]
        kept = rows[-size:]  # more than `size` at once: only the last survive
        slots = (self.appended + (count - kept.shape[0]) + np.arange(kept.shape[0])) % size
        self.buffer[slots] = kept
        self.appended += count

    def values(self) -> np.ndarray:
        size = self.buffer.shape[0]
        if self.appended <= size:
            return self.buffer[: self.appended].copy()
        start = self.appended % size
        return np.concatenate([self.buffer[start:], self.buffer[:start]])

    def state_dict(self) -> dict[str, Any]:
        return {"buffer": self.buffer.copy(), "appended": self.appended}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _check_size(state["buffer"], self.buffer.shape, "recent rows")
        self.buffer = np.array(state["buffer"], dtype=np.float64)
        self.appended = int(state["appended"])


def nearest_points(queries: np.ndarray, points: np.ndarray, preference: np.ndarray | None = None) -> np.ndarray:
    """Index into ``points`` of the point nearest (Euclidean) to each query.

    Among equally near points the one with the largest ``preference`` wins (then the lowest index), so a
    caller can, for example, prefer the most recently observed one.
    """
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    points = np.atleast_2d(np.asarray(points, dtype=np.float64))
    if points.shape[0] == 0:
        raise InvalidArgumentError("nearest_points needs at least one point")
    result = np.empty(queries.shape[0], dtype=np.int64)
    block = max(1, _BLOCK_ENTRIES // points.shape[0])
    for start in range(0, queries.shape[0], block):
        chunk = queries[start : start + block]
        distances = ((chunk[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
        if preference is None:
            result[start : start + block] = distances.argmin(axis=1)
            continue
        nearest = distances.min(axis=1, keepdims=True)
        tied = distances <= nearest * (1 + 1e-12) + 1e-15
        ranked = np.where(tied, np.asarray(preference, dtype=np.float64)[None, :], -np.inf)
        result[start : start + block] = ranked.argmax(axis=1)
    return result


class NearestPreviousProgress:
    """ALP-GMM's absolute learning progress over a fixed set of points in a task space.

    ALP of an outcome ``r`` at point ``q`` is ``|r - r_nn|``, where ``r_nn`` is the latest value recorded at
    the nearest point observed in an *earlier* update (nearest in Euclidean distance; among equally near ones,
    the most recently observed). A point observed before is its own nearest, so with few distinct points (a
    handful of difficulty levels) ALP measures how the outcome at that point changed since it was last seen;
    comparing against earlier updates only keeps two groups of one batch (same policy) from passing their
    sampling noise off as progress. An outcome with no earlier observation anywhere has ALP 0. After each
    update a point's value is the mean of its outcomes in that update.
    """

    def __init__(self, points: np.ndarray):
        self.points = np.atleast_2d(np.asarray(points, dtype=np.float64))
        size = self.points.shape[0]
        self.last_value = np.full(size, np.nan)
        self.last_step = np.full(size, -1, dtype=np.int64)

    def observe(self, point_index: np.ndarray, values: np.ndarray, step: int) -> np.ndarray:
        """ALP of each outcome against earlier updates, then record this update's outcomes."""
        point_index = np.asarray(point_index, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        alp = np.zeros(point_index.size)
        seen = np.flatnonzero(self.last_step >= 0)
        if seen.size and point_index.size:
            nearest = seen[nearest_points(self.points[point_index], self.points[seen], self.last_step[seen])]
            alp = np.abs(values - self.last_value[nearest])
        unique, inverse = np.unique(point_index, return_inverse=True)
        sums = np.bincount(inverse, weights=values, minlength=unique.size)
        counts = np.bincount(inverse, minlength=unique.size)
        self.last_value[unique] = sums / counts
        self.last_step[unique] = step
        return alp

    def state_dict(self) -> dict[str, Any]:
        return {"last_value": self.last_value.copy(), "last_step": self.last_step.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        _check_size(state["last_value"], self.last_value.shape, "per-point values")
        self.last_value = np.array(state["last_value"], dtype=np.float64)
        self.last_step = np.array(state["last_step"], dtype=np.int64)
