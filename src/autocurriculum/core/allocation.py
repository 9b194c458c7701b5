"""Splitting a rollout budget over prompts: integer group sizes within bounds that sum exactly to the budget.

Shared by the allocating strategies (Knapsack RL: greedy on a concave value; CurES: proportional to a weight).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autocurriculum.core.errors import InvalidArgumentError


def _check_bounds(count: int, budget: int, low: int, high: int) -> None:
    if not 1 <= low <= high:
        raise InvalidArgumentError(f"need 1 <= low <= high, got low={low}, high={high}")
    if not count * low <= budget <= count * high:
        raise InvalidArgumentError(
            f"a budget of {budget} rollouts cannot be split over {count} prompts with {low}..{high} rollouts each"
        )


def greedy_allocation(
    marginal_gain: Callable[[np.ndarray], np.ndarray],
    count: int,
    budget: int,
    low: int,
    high: int,
    fallback: np.ndarray | None = None,
) -> np.ndarray:
    """Start every prompt at ``low`` and give each further rollout to the prompt whose value rises most.

    ``marginal_gain(sizes)`` is the value of one more rollout for every prompt at its current size. When each
    prompt's value is concave in its size (diminishing returns), this greedy order is optimal, the same answer
    as the knapsack dynamic programme. Rollouts that no prompt gains from go first to the ``fallback`` prompts
    (a boolean mask), then round-robin, so the budget is always spent exactly.
    """
    _check_bounds(count, budget, low, high)
    sizes = np.full(count, low, dtype=np.int64)
    for _ in range(budget - count * low):
        gains = np.where(sizes < high, np.asarray(marginal_gain(sizes), dtype=np.float64), -np.inf)
        best = int(np.argmax(gains))
        if gains[best] <= 0.0:
            open_slots = sizes < high
            preferred = open_slots & fallback if fallback is not None and (open_slots & fallback).any() else open_slots
            candidates = np.flatnonzero(preferred)
            best = int(candidates[np.argmin(sizes[candidates])])
        sizes[best] += 1
    return sizes


def proportional_allocation(weights: np.ndarray, budget: int, low: int, high: int) -> np.ndarray:
    """Group sizes proportional to ``weights`` (largest remainders), clamped to ``[low, high]``, summing to budget.

    Zero or negative weights get ``low``; all-zero weights split the budget evenly.
    """
    weights = np.clip(np.asarray(weights, dtype=np.float64), 0.0, None)
    count = weights.size
    _check_bounds(count, budget, low, high)
    if weights.sum() <= 0:
        weights = np.ones(count)
    sizes = np.full(count, low, dtype=np.int64)
    free = np.ones(count, dtype=bool)
    # water-filling: clamp prompts whose share exceeds high, re-split the rest over the others
    while True:
        spare = budget - sizes[~free].sum() - low * free.sum()
        active = np.where(free, weights, 0.0)
        if active.sum() <= 0:  # only zero-weight prompts are left to absorb the budget: spread it evenly
            active = free.astype(np.float64)
        share = spare * active / active.sum()
        over = free & (low + share > high)
        if not over.any():
            break
        sizes[over] = high
        free &= ~over
    extra = np.floor(share).astype(np.int64)
    sizes[free] = low + extra[free]
    remainder = budget - int(sizes.sum())
    order = np.argsort(-np.where(free, share - extra, -1.0), kind="stable")
    sizes[order[:remainder]] += 1
    return sizes
