"""core.allocation and core.streaks: the statistics behind the rollout-allocating and skipping strategies."""

import itertools

import numpy as np
import pytest

from autocurriculum.core import ZeroVarianceStreaks, greedy_allocation, proportional_allocation
from autocurriculum.strategies.knapsack import knapsack_value


def _best_by_enumeration(p: np.ndarray, budget: int, low: int, high: int) -> float:
    best = -1.0
    for sizes in itertools.product(range(low, high + 1), repeat=p.size):
        if sum(sizes) == budget:
            best = max(best, float(knapsack_value(np.array(sizes), p).sum()))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_greedy_allocation_solves_the_knapsack_exactly(seed: int) -> None:
    """Knapsack RL's value is concave in N, so greedy equals the exhaustive optimum."""
    rng = np.random.default_rng(seed)
    p = rng.choice([0.0, 0.05, 0.2, 0.5, 0.8, 1.0], size=4)
    budget, low, high = 24, 2, 12
    sizes = greedy_allocation(
        lambda s: knapsack_value(s + 1, p) - knapsack_value(s, p), 4, budget, low, high, fallback=p <= 0
    )
    assert sizes.sum() == budget and sizes.min() >= low and sizes.max() <= high
    assert knapsack_value(sizes, p).sum() == pytest.approx(_best_by_enumeration(p, budget, low, high))


def test_greedy_allocation_spends_what_nobody_gains_from_on_the_fallback() -> None:
    p = np.array([1.0, 0.0, 1.0, 0.0])  # every value is zero
    sizes = greedy_allocation(lambda s: knapsack_value(s + 1, p) - knapsack_value(s, p), 4, 20, 2, 8, fallback=p <= 0)
    assert sizes.tolist() == [2, 8, 2, 8]


@pytest.mark.parametrize("seed", range(20))
def test_proportional_allocation_is_exact_and_bounded(seed: int) -> None:
    rng = np.random.default_rng(seed)
    count = int(rng.integers(1, 30))
    low, high = int(rng.integers(1, 4)), int(rng.integers(4, 20))
    budget = int(rng.integers(count * low, count * high + 1))
    weights = rng.random(count) * (rng.random(count) > 0.3)
    sizes = proportional_allocation(weights, budget, low, high)
    assert sizes.sum() == budget and sizes.min() >= low and sizes.max() <= high
    free = (sizes > low) & (sizes < high)
    if free.sum() >= 2:  # unclamped prompts follow their weights
        order = np.argsort(weights[free])
        assert (np.diff(sizes[free][order]) >= -1).all()


def test_allocation_refuses_an_impossible_budget() -> None:
    with pytest.raises(ValueError, match=r"cannot be split over 4 prompts with 2\.\.8"):
        proportional_allocation(np.ones(4), 40, 2, 8)


def test_zero_variance_streaks_count_and_reset() -> None:
    streaks = ZeroVarianceStreaks(3, easy_at=0.98, hard_at=0.11)
    for rate in (1.0, 1.0, 1.0):
        streaks.observe(np.array([0, 1]), np.array([rate, 0.0]))
    streaks.observe(np.array([0, 2]), np.array([0.5, 0.0]))
    assert streaks.easy.tolist() == [0, 0, 0]  # row 0's streak of 3 was broken by a 0.5
    assert streaks.hard.tolist() == [0, 3, 1]
