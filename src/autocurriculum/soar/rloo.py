"""REINFORCE leave-one-out advantages, used for the teacher: each set is compared with the others of its step."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autocurriculum.core.errors import InvalidArgumentError


def rloo_advantages(rewards: Sequence[float] | np.ndarray) -> np.ndarray:
    """A_k = R_k - mean_{j != k} R_j. They sum to zero, which is why the format filter's resampling leaves the
    gradient unbiased: the filter's normaliser contributes the same term to every sample, and it cancels."""
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1 or r.size < 2:
        raise InvalidArgumentError(f"rloo_advantages: need a 1-D group of at least 2 rewards, got shape {r.shape}")
    if not np.all(np.isfinite(r)):
        raise InvalidArgumentError(f"rloo_advantages: rewards contain NaN or inf: {r}")
    others = (r.sum() - r) / (r.size - 1)
    return r - others
