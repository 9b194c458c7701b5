"""Per-prompt streaks of zero-variance groups: how many of a prompt's most recent groups were all-correct or
all-wrong in a row. GRESO skips a prompt before rollout with a probability that grows with its streak, because
a prompt that gave no gradient in recent epochs tends to keep giving none (its temporal consistency).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError, StateFormatError


class ZeroVarianceStreaks:
    """``easy[row]``/``hard[row]``: consecutive most recent groups with pass rate >= ``easy_at`` / <= ``hard_at``.

    A group that is neither resets both streaks of its prompt. Counters are int16 (a streak longer than 32,767
    groups saturates), so a 10M-row pool costs 40 MB.
    """

    def __init__(self, size: int, easy_at: float = 1.0, hard_at: float = 0.0):
        if not 0.0 <= hard_at < easy_at <= 1.0:
            raise ConfigError(f"need 0 <= hard_at < easy_at <= 1, got hard_at={hard_at}, easy_at={easy_at}")
        self.easy_at = float(easy_at)
        self.hard_at = float(hard_at)
        self.easy = np.zeros(size, dtype=np.int16)
        self.hard = np.zeros(size, dtype=np.int16)

    def __len__(self) -> int:
        return self.easy.size

    def observe(self, rows: np.ndarray, pass_rates: np.ndarray) -> None:
        """Fold in groups in order (a row repeated in one batch is applied once per group)."""
        rows = np.asarray(rows, dtype=np.int64)
        pass_rates = np.asarray(pass_rates, dtype=np.float64)
        limit = np.iinfo(np.int16).max
        if np.unique(rows).size == rows.size:  # the usual batch: every row once, so one vectorised step
            easy, hard = pass_rates >= self.easy_at, pass_rates <= self.hard_at
            self.easy[rows] = np.where(easy, np.minimum(self.easy[rows].astype(np.int32) + 1, limit), 0)
            self.hard[rows] = np.where(hard, np.minimum(self.hard[rows].astype(np.int32) + 1, limit), 0)
            return
        for row, rate in zip(rows, pass_rates, strict=True):
            easy, hard = rate >= self.easy_at, rate <= self.hard_at
            self.easy[row] = min(int(self.easy[row]) + 1, limit) if easy else 0
            self.hard[row] = min(int(self.hard[row]) + 1, limit) if hard else 0

    def state_dict(self) -> dict[str, Any]:
        return {"easy_at": self.easy_at, "hard_at": self.hard_at, "easy": self.easy.copy(), "hard": self.hard.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if np.asarray(state["easy"]).size != self.easy.size:
            raise StateFormatError(
                f"state holds streaks for {np.asarray(state['easy']).size} prompts, not {self.easy.size}"
            )
        self.easy_at, self.hard_at = float(state["easy_at"]), float(state["hard_at"])
        self.easy = np.array(state["easy"], dtype=np.int16)
        self.hard = np.array(state["hard"], dtype=np.int16)
