"""Uniform sampling: the baseline every other strategy is measured against."""

from __future__ import annotations

import numpy as np

from autocurriculum.core import Curriculum, register_strategy


@register_strategy("uniform")
class UniformCurriculum(Curriculum):
    """Draw prompts uniformly at random from the pool (without replacement within a batch)."""

    def _select_rows(self, n: int) -> np.ndarray:
        return self.uniform_rows(n)
