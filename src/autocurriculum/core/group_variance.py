"""Normalized group reward variance: how close a group of G rollouts is to the most informative split.

VCRL (Jiang et al., arXiv 2509.19803) scores a prompt by the unbiased variance of its G binary rewards,
``sigma^2 = k(G - k) / (G(G - 1))`` with ``k`` successes, divided by the largest value it can take,

    sigma^2_max = G / (4(G - 1))   for even G   (k = G/2)
    sigma^2_max = (G + 1) / (4G)   for odd G    (k = (G +- 1)/2)

so ``p_var = sigma^2 / sigma^2_max`` lies in [0, 1]: 0 for all-fail or all-pass groups, 1 at the even split.
For rewards in [0, 1] that are not binary the same normalization still bounds the unbiased sample variance
(it is largest for a half/half split of 0s and 1s), so ``normalized_reward_variance`` accepts any reward vector.
A group of one rollout has no variance to measure: its ``p_var`` is 0.
"""

from __future__ import annotations

import numpy as np

from autocurriculum.core.errors import InvalidArgumentError


def max_group_variance(group_size: np.ndarray | int) -> np.ndarray:
    """Largest unbiased variance of ``group_size`` rewards in [0, 1]; NaN where ``group_size < 2``."""
    g = np.asarray(group_size, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        even = g / (4.0 * (g - 1.0))
        odd = (g + 1.0) / (4.0 * g)
    return np.where(g < 2, np.nan, np.where(np.mod(g, 2) == 0, even, odd))


def normalized_group_variance(successes: np.ndarray | float, group_size: np.ndarray | int) -> np.ndarray:
    """``p_var = sigma^2 / sigma^2_max`` for ``successes`` out of ``group_size`` binary rewards (0 if G < 2)."""
    k = np.asarray(successes, dtype=np.float64)
    g = np.asarray(group_size, dtype=np.float64)
    if np.any(k < 0) or np.any(k > g):
        raise InvalidArgumentError(f"successes must lie in [0, group_size], got {k.tolist()} of {g.tolist()}")
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = k * (g - k) / (g * (g - 1.0))
        ratio = variance / max_group_variance(g)
    return np.where(g < 2, 0.0, np.clip(ratio, 0.0, 1.0))  # clip: rounding may overshoot 1 at the even split


def normalized_reward_variance(rewards: np.ndarray) -> float:
    """``p_var`` of one group's rewards in [0, 1]: unbiased variance over its maximum (0 for one rollout)."""
    values = np.asarray(rewards, dtype=np.float64).reshape(-1)
    if values.size < 2:
        return 0.0
    return float(min(1.0, np.var(values, ddof=1) / max_group_variance(values.size)))
