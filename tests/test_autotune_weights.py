"""Pivotal weights, the beta recursion, the choice of k, ranks and the plurality vote."""

from __future__ import annotations

from math import comb

import numpy as np
import pytest

from autocurriculum.autotune import (
    DETERMINISTIC,
    STOCHASTIC,
    acceptance_probabilities,
    beta_table,
    choose_k,
    pivotal_weights,
    pivotal_weights_direct,
    plurality_vote,
    plurality_vote_int,
    ranks,
    vote_failure_probability,
)
from autocurriculum.core import ConfigError


@pytest.mark.parametrize("rule", [DETERMINISTIC, STOCHASTIC])
@pytest.mark.parametrize("k", [1, 7, 9, 23, 40])
def test_recursion_matches_binomial_closed_form(rule, k):
    for j in range(k):
        rec = pivotal_weights(j, k, rule)
        assert rec.shape == (j + 1,)
        np.testing.assert_allclose(rec, pivotal_weights_direct(j, k, rule), atol=1e-12)
        assert np.all(rec >= -1e-15) and rec.sum() <= 1 + 1e-12  # pmf values of one binomial


def test_direct_binomial_by_hand():
    k, j = 9, 3  # P[Bin(5, 3/4) = 4 - r]
    expected = [comb(5, 4 - r) * 0.75 ** (4 - r) * 0.25 ** (1 + r) for r in range(4)]
    np.testing.assert_allclose(pivotal_weights(j, k), expected)


def test_weights_shape_unimodal_and_zero_outside_pivot():
    k = 23
    w = pivotal_weights(15, k)  # Bin(7, 3/4) = 11 - r: nonzero only for r in 4..11
    assert np.all(w[:4] == 0) and np.all(w[4:12] > 0) and np.all(w[12:] == 0)
    peak = int(np.argmax(w))
    assert np.all(np.diff(w[4 : peak + 1]) >= 0) and np.all(np.diff(w[peak:12]) <= 0)
    # a robustly-right prompt (rank past the majority) has weight 0
    assert pivotal_weights(k - 1, k)[-1] == 0


def test_beta_is_vote_failure_and_telescopes():
    k = 13
    beta = beta_table(k)
    assert beta[0, 0] == pytest.approx(vote_failure_probability(k))
    # alpha sums over r telescope: sum_r alpha_r = beta[j+1, 0] - beta[j+1, j+1]
    for j in range(k):
        assert pivotal_weights(j, k).sum() == pytest.approx(beta[j + 1, 0] - beta[j + 1, j + 1])


def test_choose_k_matches_research_note():
    assert [choose_k(e) for e in (0.1, 0.05, 0.02, 0.01, 0.001)] == [9, 13, 19, 23, 39]
    k = choose_k(0.01, STOCHASTIC)
    assert vote_failure_probability(k, STOCHASTIC) <= 0.005 < vote_failure_probability(k - 1, STOCHASTIC)
    with pytest.raises(ConfigError, match="eps"):
        choose_k(1.5)


def test_acceptance_probabilities_are_normalised():
    acc = acceptance_probabilities(np.array([0, 1, 2, 3]), 3, 9)
    assert acc.max() == pytest.approx(1.0) and np.all((acc >= 0) & (acc <= 1))


def test_ranks():
    correct = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1]], dtype=bool)
    assert ranks(correct).tolist() == [2, 1, 2]
    with pytest.raises(ValueError):
        ranks(np.ones(3))


def test_plurality_vote_tie_goes_to_earliest_member():
    answers = [["a", "x", None], ["b", "y", None], ["b", "x", None], ["a", "y", None]]
    # prompt 0: a=2, b=2 -> a (member 0 said it first); prompt 1: x=2, y=2 -> x; prompt 2: all malformed
    assert plurality_vote(answers) == ["a", "x", None]
    assert plurality_vote([["a"], [None], [None]]) == ["a"]  # malformed never outvotes a real answer
    ints = np.array([[3, 5, -1, 2], [4, 6, -1, 2], [4, 5, -1, -1], [3, 6, -1, -1]])
    assert plurality_vote_int(ints, 11).tolist() == [3, 5, -1, 2]


def test_plurality_vote_int_agrees_with_generic():
    rng = np.random.default_rng(0)
    answers = rng.integers(-1, 4, size=(7, 200))
    generic = plurality_vote([[None if a < 0 else int(a) for a in row] for row in answers])
    fast = plurality_vote_int(answers, 4)
    assert [(-1 if g is None else g) for g in generic] == fast.tolist()


def test_weak_error_follows_the_variant_unless_set():
    from autocurriculum.autotune import AutoTuneConfig

    assert AutoTuneConfig().resolved_weak_error() == 0.25
    assert AutoTuneConfig(variant="stochastic").resolved_weak_error() == 0.1
    assert AutoTuneConfig(variant="stochastic", weak_error=0.2).resolved_weak_error() == 0.2
