"""VCRL: the contract, the normalized group variance, the p_var filter and the replay bank."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum.strategies.vcrl  # noqa: F401 - registers "vcrl"
from autocurriculum.core import Ability, ConfigError, GroupOutcome, Task, TaskPool, make_curriculum
from autocurriculum.core.group_variance import (
    max_group_variance,
    normalized_group_variance,
    normalized_reward_variance,
)
from autocurriculum.core.priority_bank import PriorityBank
from autocurriculum.testing import check_curriculum, contract_pool, simulated_rollouts


def test_vcrl_satisfies_the_strategy_contract() -> None:
    check_curriculum("vcrl")


def binary(successes: int, size: int) -> np.ndarray:
    return np.array([1.0] * successes + [0.0] * (size - successes))


@pytest.mark.parametrize("size", [2, 3, 7, 8, 16])
def test_normalized_variance_matches_the_formula_for_even_and_odd_groups(size: int) -> None:
    k = np.arange(size + 1)
    variance = k * (size - k) / (size * (size - 1))
    expected_max = size / (4 * (size - 1)) if size % 2 == 0 else (size + 1) / (4 * size)
    assert max_group_variance(size) == pytest.approx(expected_max)
    assert max_group_variance(size) == pytest.approx(variance.max())  # the maximum over k really is attained
    p_var = normalized_group_variance(k, size)
    np.testing.assert_allclose(p_var, variance / expected_max)
    assert p_var.max() == pytest.approx(1.0) and p_var[0] == 0.0 and p_var[-1] == 0.0
    if size % 2 == 0:
        assert p_var[size // 2] == pytest.approx(1.0)
    else:
        assert p_var[(size - 1) // 2] == pytest.approx(1.0) == p_var[(size + 1) // 2]
    np.testing.assert_allclose([normalized_reward_variance(binary(j, size)) for j in k], p_var)


def test_group_of_eight_values_and_single_rollouts() -> None:
    np.testing.assert_allclose(normalized_group_variance(np.arange(9), 8), np.arange(9) * (8 - np.arange(9)) / 16)
    assert normalized_reward_variance(np.array([1.0])) == 0.0
    assert normalized_group_variance(1, 1) == 0.0


def test_filter_drops_groups_below_kappa_and_declares_it() -> None:
    assert Ability.FILTERS_GROUPS in make_curriculum("vcrl", contract_pool()).abilities
    pool = contract_pool()
    curriculum = make_curriculum("vcrl", pool, {"seed": 0})  # kappa = 0.5
    groups = [GroupOutcome(f"task-{k}", binary(k, 8)) for k in range(9)]
    kept = curriculum.filter(groups)
    assert [g.task_id for g in kept] == [f"task-{k}" for k in range(2, 7)]  # p_var = 0.75, 0.94, 1, 0.94, 0.75
    strict = make_curriculum("vcrl", pool, {"seed": 0, "kappa": 0.75})
    assert [g.task_id for g in strict.filter(groups)] == [f"task-{k}" for k in range(2, 7)]  # 0.75 is kept
    assert make_curriculum("vcrl", pool, {"kappa": 0.3, "max_generation_rounds": 4}).max_generation_rounds == 4


def test_bank_replays_high_variance_prompts_once_and_drops_those_gone_flat() -> None:
    pool = TaskPool(Task(f"t{i}", f"p{i}", "0") for i in range(1000))
    curriculum = make_curriculum("vcrl", pool, {"seed": 0, "replay_fraction": 0.25})
    curriculum.update(
        [GroupOutcome("t1", binary(4, 8)), GroupOutcome("t2", binary(3, 8)), GroupOutcome("t3", binary(0, 8))]
    )
    curriculum.update([GroupOutcome("t4", binary(2, 8)), GroupOutcome("t5", binary(4, 8))])
    assert sorted(pool.ids_of(curriculum.bank.rows)) == ["t1", "t2", "t4", "t5"]  # t3 (p_var 0) stays out
    first = curriculum.select(8)  # 2 replay slots: the highest p_var, newest first among equals
    assert first[:2] == ["t5", "t1"]
    assert sorted(pool.ids_of(curriculum.bank.rows)) == ["t2", "t4"]  # replayed prompts left the bank
    curriculum.update([GroupOutcome("t2", binary(8, 8))])  # t2 went flat: it leaves the bank too
    assert pool.ids_of(curriculum.bank.rows) == ["t4"]
    second = curriculum.select(8)
    assert second[0] == "t4" and len(curriculum.bank) == 0
    assert len(set(second)) == 8


def test_bank_capacity_evicts_the_lowest_priorities_oldest_first() -> None:
    bank = PriorityBank(3)
    bank.push(np.array([1, 2, 3]), np.array([0.9, 0.5, 0.9]))
    bank.push(np.array([4]), np.array([0.5]))  # full: the lowest is 0.5, and row 2 is older than row 4
    assert sorted(bank.rows.tolist()) == [1, 3, 4]
    bank.push(np.array([4, 4]), np.array([0.2, 1.0]))  # a repeat keeps its last priority
    assert bank.priorities[bank.rows.tolist().index(4)] == 1.0
    assert bank.take(2).tolist() == [4, 3]
    sampled = PriorityBank(10)
    sampled.push(np.arange(10), np.array([1e-9] * 9 + [1.0]))
    assert sampled.take(1, np.random.default_rng(0)).tolist() == [9]


def test_replay_raises_the_share_of_groups_that_pass_the_filter() -> None:
    pool = contract_pool(300)
    rng_seed = 11
    kept_share = {}
    for name, options in (("dynamic-sampling", {}), ("vcrl", {"replay_fraction": 0.5})):
        curriculum = make_curriculum(name, pool, {"seed": 0, **options})
        rng = np.random.default_rng(rng_seed)
        kept = total = 0
        for step in range(40):
            groups = simulated_rollouts(curriculum.select(16), step, rng)
            curriculum.update(groups)
            kept += sum(normalized_reward_variance(g.rewards) >= 0.5 for g in groups)
            total += len(groups)
        kept_share[name] = kept / total
    assert kept_share["vcrl"] > kept_share["dynamic-sampling"] + 0.1


def test_bad_settings_name_their_field() -> None:
    with pytest.raises(ConfigError, match="kappa"):
        make_curriculum("vcrl", contract_pool(), {"kappa": 1.5})
    with pytest.raises(ConfigError, match="replay_order"):
        make_curriculum("vcrl", contract_pool(), {"replay_order": "fifo"})
