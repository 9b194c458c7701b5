"""BOTS: the contract, implicit evidence for unobserved tasks, forgetting for all tasks, selection near p*."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum.strategies.bots  # noqa: F401 - registers "bots"
from autocurriculum.core import ConfigError, GroupOutcome, Task, TaskPool, make_curriculum
from autocurriculum.core.beta_evidence import DiscountedPassRates, ImplicitEvidenceBeta
from autocurriculum.core.codec import state_from_json, state_to_json
from autocurriculum.testing import check_curriculum


def test_bots_satisfies_the_strategy_contract() -> None:
    check_curriculum("bots")


def rate_pool(rates: list[float], per_rate: int, knobs=None) -> TaskPool:
    """``per_rate`` tasks per true pass rate, each rate its own category (family f<i>, level 1)."""
    return TaskPool(
        Task(
            f"t{i}-{j}",
            f"prompt {i} {j}",
            "0",
            category=f"f{i}",
            knobs={"level": 1.0, **(knobs(i, j) if knobs else {})},
        )
        for i in range(len(rates))
        for j in range(per_rate)
    )


def group(task_id: str, successes: int, size: int = 8) -> GroupOutcome:
    return GroupOutcome(task_id, np.array([1.0] * successes + [0.0] * (size - successes)))


def test_category_evidence_moves_unobserved_posteriors_toward_the_category_rate() -> None:
    pool = rate_pool([1.0, 0.0], per_rate=10)
    bots = make_curriculum("bots", pool, {"seed": 0})
    none = make_curriculum("bots", pool, {"seed": 0, "fallback_evidence": "none"})
    observed = [group("t0-0", 8), group("t0-1", 8), group("t1-0", 0), group("t1-1", 0)]
    for _ in range(5):
        bots.update(observed)
        none.update(observed)
    unseen_easy = pool.rows_of([f"t0-{j}" for j in range(2, 10)])
    unseen_hard = pool.rows_of([f"t1-{j}" for j in range(2, 10)])
    easy_mean = bots.posterior.posterior_mean(unseen_easy)
    hard_mean = bots.posterior.posterior_mean(unseen_hard)
    assert easy_mean.min() > 0.8 and hard_mean.max() < 0.2
    # without implicit evidence the unobserved tasks keep the uninformed prior
    np.testing.assert_allclose(none.posterior.posterior_mean(np.concatenate([unseen_easy, unseen_hard])), 0.5)


def test_reference_interpolation_learns_the_capability_and_predicts_unobserved_tasks() -> None:
    rng = np.random.default_rng(0)
    weak, strong = rng.uniform(0.0, 0.4, 200), rng.uniform(0.5, 1.0, 200)
    pool = TaskPool(Task(f"t{i}", f"p{i}", "0", knobs={"weak": weak[i], "strong": strong[i]}) for i in range(200))
    true_rate = weak + 0.5 * (strong - weak)  # a student halfway between the references: c = 0.5
    bots = make_curriculum("bots", pool, {"seed": 0, "reference_knobs": ["weak", "strong"]})
    sampled_rows = np.arange(20)  # only the first 20 tasks are ever rolled out
    for _ in range(40):
        bots.update([GroupOutcome(f"t{r}", (rng.random(16) < true_rate[r]).astype(float)) for r in sampled_rows])
    assert bots.reference.capability == pytest.approx(0.5, abs=0.1)
    unseen = np.arange(20, 200)
    predicted = bots.posterior.posterior_mean(unseen)
    assert np.abs(predicted - true_rate[unseen]).mean() < 0.08
    assert np.corrcoef(predicted, true_rate[unseen])[0, 1] > 0.95


def test_every_task_forgets_toward_the_prior_each_step() -> None:
    pool = rate_pool([0.5], per_rate=4)
    bots = make_curriculum("bots", pool, {"seed": 0, "fallback_evidence": "none"})
    bots.update([group("t0-0", 8)])
    row = pool.rows_of(["t0-0"])[0]
    after_observation = bots.posterior.alpha[row]
    for _ in range(10):
        bots.update([group("t0-1", 4)])  # another task: t0-0 sees no data but is still updated
    assert bots.posterior.alpha[row] < 1.0 + 0.4 * (after_observation - 1.0)
    assert bots.posterior.alpha[row] == pytest.approx(1.0 + 0.9**10 * (after_observation - 1.0))


def test_greedy_selection_picks_tasks_nearest_the_target() -> None:
    pool = rate_pool([0.0, 0.5, 1.0], per_rate=20)
    ids = list(pool.ids)
    rng = np.random.default_rng(1)
    picked_mid = {}
    for temperature in (0.0, 5.0):
        bots = make_curriculum("bots", pool, {"seed": 0, "temperature": temperature})
        for _ in range(3):
            bots.update([GroupOutcome(t, (rng.random(16) < [0.0, 0.5, 1.0][int(t[1])]).astype(float)) for t in ids])
        chosen = [t for _ in range(10) for t in bots.select(20)]
        picked_mid[temperature] = np.mean([t.startswith("t1-") for t in chosen])
    assert picked_mid[0.0] > 0.9
    assert picked_mid[5.0] < 0.6  # a high temperature spreads the choice toward uniform (1/3)


def test_missing_reference_knobs_name_the_strategy_field_and_available_knobs() -> None:
    pool = rate_pool([0.5], per_rate=3)
    with pytest.raises(ConfigError, match=r"bots.*reference_knobs.*'f0_pass'.*available knobs: level"):
        make_curriculum("bots", pool, {"reference_knobs": ["f0_pass", "f1_pass"]})
    with pytest.raises(ConfigError, match="reference_knobs"):
        make_curriculum("bots", pool, {"reference_knobs": ["level"]})


def test_sampled_selection_state_survives_the_json_codec() -> None:
    pool = rate_pool([0.2, 0.8], per_rate=10)
    original = make_curriculum("bots", pool, {"seed": 3, "temperature": 0.1})
    original.update([group("t0-0", 2), group("t1-3", 7)])
    state = state_from_json(state_to_json(original.state_dict()))
    restored = make_curriculum("bots", pool, {"seed": 99, "temperature": 0.1})
    restored.load_state_dict(state)
    assert original.select(6) == restored.select(6)


def test_statistics_reject_mismatched_states() -> None:
    with pytest.raises(ValueError, match="3 prompts"):
        ImplicitEvidenceBeta(5).load_state_dict(ImplicitEvidenceBeta(3).state_dict())
    rates = DiscountedPassRates(2, discount=0.5)
    rates.update(np.array([0]), np.array([4.0]), np.array([8.0]))
    rates.update(np.array([0]), np.array([8.0]), np.array([8.0]))
    assert rates.rates()[0] == pytest.approx((0.5 * 4 + 8) / (0.5 * 8 + 8))
    assert np.isnan(rates.rates()[1])
