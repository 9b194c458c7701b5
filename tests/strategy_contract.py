"""The contract every registered strategy must satisfy (in the spirit of scikit-learn's check_estimator).

``check_strategy(name)`` runs every check; ``tests/test_strategy_contract.py``
parametrizes it over the registry, so a new strategy is covered the moment it
is registered.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from autocurriculum.core import (
    Curriculum,
    GroupOutcome,
    InvalidOutcomeError,
    Need,
    Task,
    TaskPool,
    UnknownTaskError,
    make_curriculum,
)

GROUP_SIZE = 8


def contract_pool(size: int = 60) -> TaskPool:
    return TaskPool(
        Task(f"task-{i}", f"prompt {i}", str(i), category=f"cat{i % 3}", knobs={"level": float(i % 6)})
        for i in range(size)
    )


def true_pass_rate(task_id: str) -> float:
    """A fixed synthetic student: pass rate falls with the task's level."""
    level = int(task_id.split("-")[1]) % 6
    return [1.0, 0.9, 0.6, 0.3, 0.05, 0.0][level]


def simulated_rollouts(ids: list[str], step: int, rng: np.random.Generator) -> list[GroupOutcome]:
    return [
        GroupOutcome(t, (rng.random(GROUP_SIZE) < true_pass_rate(t)).astype(float), step=step, completion_tokens=40)
        for t in ids
    ]


def build(name: str, pool: TaskPool, seed: int = 0) -> Curriculum:
    curriculum = make_curriculum(name, pool, {"seed": seed})
    if Need.PASS_RATE_ORACLE in curriculum.needs_for(curriculum.config):
        curriculum.provide(Need.PASS_RATE_ORACLE, lambda ids: np.array([true_pass_rate(t) for t in ids]))
    return curriculum


def drive(curriculum: Curriculum, steps: int, batch: int, rng_seed: int = 123) -> list[list[str]]:
    """Run select -> simulated rollout -> update -> filter; returns the selections."""
    rng = np.random.default_rng(rng_seed)
    selections = []
    for step in range(steps):
        ids = curriculum.select(batch)
        selections.append(ids)
        groups = simulated_rollouts(ids, step, rng)
        curriculum.update(groups)
        curriculum.filter(groups)
    return selections


def check_select_returns_exactly_n_valid_ids(name: str) -> None:
    pool = contract_pool()
    curriculum = build(name, pool)
    valid = set(pool.ids)
    for n in (1, 7, 16, len(pool), len(pool) + 5):
        ids = curriculum.select(n)
        assert len(ids) == n
        assert all(isinstance(t, str) and t in valid for t in ids)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError):
            curriculum.select(bad)


def check_deterministic_under_seed(name: str) -> None:
    pool = contract_pool()
    first = drive(build(name, pool, seed=7), steps=6, batch=8)
    second = drive(build(name, pool, seed=7), steps=6, batch=8)
    assert first == second


def check_state_dict_round_trip_continues_identically(name: str) -> None:
    pool = contract_pool()
    original = build(name, pool, seed=3)
    drive(original, steps=4, batch=8)
    state = copy.deepcopy(original.state_dict())
    restored = build(name, pool, seed=999)  # a different seed: the state must override it
    restored.load_state_dict(state)
    assert drive(original, steps=4, batch=8, rng_seed=5) == drive(restored, steps=4, batch=8, rng_seed=5)


def check_accepts_feedback_from_filtered_groups(name: str) -> None:
    pool = contract_pool()
    curriculum = build(name, pool)
    ids = curriculum.select(12)
    groups = simulated_rollouts(ids, 0, np.random.default_rng(0))
    # all-0 and all-1 groups are exactly what filters drop; the curriculum must still learn from them
    groups += [GroupOutcome(ids[0], np.zeros(GROUP_SIZE)), GroupOutcome(ids[1], np.ones(GROUP_SIZE))]
    curriculum.update(groups)
    kept = curriculum.filter(groups)
    assert all(isinstance(g, GroupOutcome) for g in kept)
    assert {id(g) for g in kept} <= {id(g) for g in groups}
    assert curriculum.groups_seen == len(groups)


def check_rejects_bad_feedback(name: str) -> None:
    pool = contract_pool()
    curriculum = build(name, pool)
    before = copy.deepcopy(curriculum.state_dict())
    for bad in ([0.0, float("nan")], [0.0, 1.5], [-0.1, 1.0], []):
        with pytest.raises(InvalidOutcomeError, match="task-0"):
            curriculum.update([GroupOutcome("task-0", np.array(bad, dtype=float))])
    with pytest.raises(UnknownTaskError, match="no-such-task"):
        curriculum.update([GroupOutcome("no-such-task", np.ones(4))])
    with pytest.raises(TypeError, match="outcomes\\[0\\]"):
        curriculum.update([{"task_id": "task-0", "rewards": [1.0]}])  # type: ignore[list-item]
    # nothing already recorded is lost or corrupted by rejected input
    after = curriculum.state_dict()
    assert repr(after) == repr(before)


ALL_CHECKS = [
    check_select_returns_exactly_n_valid_ids,
    check_deterministic_under_seed,
    check_state_dict_round_trip_continues_identically,
    check_accepts_feedback_from_filtered_groups,
    check_rejects_bad_feedback,
]


def check_strategy(name: str) -> None:
    for check in ALL_CHECKS:
        check(name)
