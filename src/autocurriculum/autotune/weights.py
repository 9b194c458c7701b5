"""Boost-by-majority weights of AutoTune (Alg. 1 and 3 of Rajaraman et al., COLT 2026).

``beta[j, r]`` is the probability that the final vote fails given rank ``r`` after ``j`` members, when
every future member is an independent coin that is right with probability ``p``:
``beta[k, r] = 1[r <= threshold(k)]`` and ``beta[j, r] = (1-p) beta[j+1, r] + p beta[j+1, r+1]``.
The pivotal weight of phase ``j`` is ``alpha[j, r] = beta[j+1, r] - beta[j+1, r+1]``, which equals
``P[Bin(k-j-1, p) = threshold(k) - r]``: the chance that member ``j`` decides the vote.
Deterministic learners: ``p = 3/4``, ``threshold = floor(k/2)``; stochastic: ``p = 9/10``, ``threshold = floor(4k/5)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from autocurriculum.core.config import require
from autocurriculum.core.errors import InvalidArgumentError


@dataclass(frozen=True)
class VoteRule:
    """The coin bias ``p`` of a weak learner and the vote ``threshold(k)`` at or below which the ensemble fails."""

    name: str
    p: float
    numerator: int  # threshold(k) = floor(numerator * k / denominator)
    denominator: int

    def threshold(self, k: int) -> int:
        return (self.numerator * k) // self.denominator


DETERMINISTIC = VoteRule("deterministic", 0.75, 1, 2)
STOCHASTIC = VoteRule("stochastic", 0.9, 4, 5)
VOTE_RULES = {rule.name: rule for rule in (DETERMINISTIC, STOCHASTIC)}


def vote_rule(name: str) -> VoteRule:
    require(name in VOTE_RULES, "variant", f"must be one of {sorted(VOTE_RULES)}, got {name!r}")
    return VOTE_RULES[name]


def binomial_pmf(n: int, p: float, x: int) -> float:
    """P[Bin(n, p) = x], exact (0 outside 0..n)."""
    if x < 0 or x > n or n < 0:
        return 0.0
    return comb(n, x) * p**x * (1 - p) ** (n - x)


def beta_table(k: int, rule: VoteRule = DETERMINISTIC) -> np.ndarray:
    """``beta[j, r]`` for ``j = 0..k`` and ``r = 0..k+1`` by the backward recursion (rows past j are unused)."""
    require(k >= 1, "k", f"must be >= 1, got {k}")
    beta = np.zeros((k + 1, k + 2))
    beta[k] = (np.arange(k + 2) <= rule.threshold(k)).astype(float)
    for j in range(k - 1, -1, -1):
        beta[j, :-1] = (1 - rule.p) * beta[j + 1, :-1] + rule.p * beta[j + 1, 1:]
        beta[j, -1] = beta[j + 1, -1]  # rank k+1 is unreachable; keep the row well defined
    return beta


def pivotal_weights(j: int, k: int, rule: VoteRule = DETERMINISTIC) -> np.ndarray:
    """``alpha[j, r]`` for ``r = 0..j`` (the ranks possible before phase ``j``), via the beta recursion."""
    require(0 <= j < k, "j", f"must be in 0..{k - 1}, got {j}")
    beta = beta_table(k, rule)
    return beta[j + 1, : j + 1] - beta[j + 1, 1 : j + 2]


def pivotal_weights_direct(j: int, k: int, rule: VoteRule = DETERMINISTIC) -> np.ndarray:
    """The closed form ``P[Bin(k-j-1, p) = threshold(k) - r]`` (used to check the recursion)."""
    return np.array([binomial_pmf(k - j - 1, rule.p, rule.threshold(k) - r) for r in range(j + 1)])


def vote_failure_probability(k: int, rule: VoteRule = DETERMINISTIC) -> float:
    """P[Bin(k, p) <= threshold(k)]: the error of a k-vote of independent p-coins (= beta[0, 0])."""
    return sum(binomial_pmf(k, rule.p, x) for x in range(rule.threshold(k) + 1))


def choose_k(eps: float, rule: VoteRule = DETERMINISTIC, k_max: int = 10_000) -> int:
    """Smallest k with ``P[Bin(k, p) <= threshold(k)] <= eps / 2`` (the note's practical k: 9/13/19/23 at 0.1..0.01)."""
    require(0 < eps < 1, "eps", f"must be in (0, 1), got {eps}")
    for k in range(1, k_max + 1):
        if vote_failure_probability(k, rule) <= eps / 2:
            return k
    raise InvalidArgumentError(f"choose_k: no k <= {k_max} reaches eps={eps}")


def acceptance_probabilities(ranks: np.ndarray, j: int, k: int, rule: VoteRule = DETERMINISTIC) -> np.ndarray:
    """Rejection-sampling acceptance ``w_j(x) / max_r w_j(r)`` for each prompt's rank (0 when every weight is 0)."""
    alpha = pivotal_weights(j, k, rule)
    top = alpha.max()
    if top <= 0:
        return np.zeros(len(ranks))
    return alpha[np.asarray(ranks, dtype=np.int64)] / top
