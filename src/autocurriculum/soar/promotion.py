"""SOAR's promotion rule: promote when the moving average of the step's mean set reward exceeds tau.

After a promotion the baseline student moves, so rewards measured against the old baseline are not comparable
with the new ones: the window starts afresh.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from autocurriculum.core.errors import ConfigError


class PromotionRule:
    def __init__(self, threshold: float, window: int) -> None:
        if window < 1:
            raise ConfigError(f"PromotionRule: window must be >= 1, got {window}")
        self.threshold = threshold
        self.window = window
        self._recent: deque[float] = deque(maxlen=window)

    def observe(self, step_reward: float) -> tuple[float, bool]:
        """Record one step's mean set reward; (moving average, whether to promote now)."""
        self._recent.append(float(step_reward))
        average = float(np.mean(self._recent))
        return average, average > self.threshold

    def reset(self) -> None:
        self._recent.clear()

    def state_dict(self) -> dict[str, Any]:
        return {"recent": list(self._recent)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._recent = deque((float(v) for v in state["recent"]), maxlen=self.window)
