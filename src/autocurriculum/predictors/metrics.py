"""How good is a teacher? Error on prompts it never trained on, and rank agreement (NumPy only)."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from autocurriculum.core.errors import InvalidArgumentError


def rankdata(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their average rank (like ``scipy.stats.rankdata``'s default)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    order = np.argsort(values, kind="stable")
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = np.arange(1, values.size + 1)
    # Average over runs of equal values.
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation; NaN with fewer than 2 points or when either side is constant."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    if a.shape != b.shape:
        raise InvalidArgumentError(f"spearman: {a.size} values against {b.size}")
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if a.size < 2:
        return float("nan")
    ra, rb = rankdata(a), rankdata(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator > 0 else float("nan")


def mean_absolute_error(predictions: np.ndarray, targets: np.ndarray) -> float:
    predictions, targets = np.asarray(predictions, dtype=np.float64), np.asarray(targets, dtype=np.float64)
    return float(np.abs(predictions - targets).mean()) if predictions.size else float("nan")


def teacher_time_fraction(teacher_seconds: float, total_seconds: float) -> float:
    """The teacher's compute per second of wall time (0 when nothing ran).

    ``teacher_seconds`` adds the time spent in the training loop's thread (features, inference, updates) and in
    the asynchronous trainer's background thread; the two run concurrently, so the ratio lies in [0, 2] and
    exceeds 1 when the background teacher trains for more than the loop's idle share.
    """
    return float(teacher_seconds / total_seconds) if total_seconds > 0 else 0.0


class TeacherMetrics:
    """Predictions made on prompts *before* the teacher trained on them, against what was then observed.

    Both are in the teacher's target space: the pass rate for PCL, sqrt(p(1-p))
    for Goldilocks (whose teacher never predicts p itself).

    ``history`` holds one record per update (for "teacher MAE over time");
    ``summary`` scores the most recent ``window`` unseen examples, since the
    teacher and the student both drift.
    """

    def __init__(self, window: int = 512):
        self.window = int(window)
        self._recent: deque[tuple[float, float]] = deque(maxlen=self.window)  # (prediction, target)
        self.history: list[dict[str, float]] = []
        self.examples = 0

    def record(self, step: int, predictions: np.ndarray, targets: np.ndarray) -> None:
        predictions = np.asarray(predictions, dtype=np.float64).reshape(-1)
        targets = np.asarray(targets, dtype=np.float64).reshape(-1)
        if predictions.size == 0:
            return
        self._recent.extend(zip(predictions.tolist(), targets.tolist(), strict=True))
        self.examples += predictions.size
        self.history.append(
            {
                "step": int(step),
                "examples": int(predictions.size),
                "mae": mean_absolute_error(predictions, targets),
                "spearman": spearman(predictions, targets),
            }
        )

    def summary(self) -> dict[str, float]:
        if not self._recent:
            return {"teacher_mae_unseen": float("nan"), "teacher_spearman": float("nan"), "teacher_examples_unseen": 0}
        predictions, targets = (np.array(column) for column in zip(*self._recent, strict=True))
        return {
            "teacher_mae_unseen": mean_absolute_error(predictions, targets),
            "teacher_spearman": spearman(predictions, targets),
            "teacher_examples_unseen": self.examples,
        }

    def state_dict(self) -> dict[str, Any]:
        return {"recent": list(self._recent), "history": [dict(h) for h in self.history], "examples": self.examples}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._recent = deque((tuple(r) for r in state["recent"]), maxlen=self.window)
        self.history = [dict(h) for h in state["history"]]
        self.examples = int(state["examples"])
