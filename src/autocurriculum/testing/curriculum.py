"""``check_curriculum``: the contract of the ``Curriculum`` interface, checked on a simulated student.

Every strategy gets the general checks (exact selections, determinism under a seed, a state that round-trips
through ``state_dict`` and through JSON and then continues identically, learning from filtered groups, bad
feedback refused with nothing lost, a streaming pool served or clearly refused, ``close()`` twice). Checks for
declared abilities are added by declaration: an allocating strategy's group sizes sum to the budget, a
screening strategy's screening rollouts are charged, a filtering strategy keeps only groups it generated.
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from autocurriculum.core import (
    Ability,
    ConfigError,
    Curriculum,
    GenerationRoundsExhausted,
    GroupOutcome,
    InvalidOutcomeError,
    Need,
    Task,
    TaskPool,
    UnknownTaskError,
    collect_batch,
    make_curriculum,
    strategy_class,
)
from autocurriculum.core.codec import state_from_json, state_to_json
from autocurriculum.core.task import TaskSource

GROUP_SIZE = 8
PASS_RATE_BY_LEVEL = (1.0, 0.9, 0.6, 0.3, 0.05, 0.0)


class ContractViolation(AssertionError):
    """A strategy or task family breaks its contract; the message names the check and what went wrong."""


def _ensure(condition: bool, message: str) -> None:
    if not condition:
        raise ContractViolation(message)


def _expect_error(error: type[BaseException], match: str, action: Callable[[], Any], what: str) -> None:
    try:
        action()
    except error as exc:
        _ensure(
            re.search(match, str(exc)) is not None, f"{what}: {error.__name__} {str(exc)!r} does not name {match!r}"
        )
        return
    except Exception as exc:  # the wrong error type is a violation too
        raise ContractViolation(f"{what}: raised {type(exc).__name__} ({exc}), expected {error.__name__}") from exc
    raise ContractViolation(f"{what}: no {error.__name__} was raised")


# ----- the simulated student -----
def contract_pool(size: int = 60) -> TaskPool:
    """Tasks of 6 levels and 3 categories, with a ``level`` knob and a demonstration each."""
    return TaskPool(
        Task(
            f"task-{i}",
            f"prompt {i}",
            str(i),
            category=f"cat{i % 3}",
            knobs={"level": float(i % 6)},
            demonstration="step " * (1 + i % 6) + str(i),
        )
        for i in range(size)
    )


def true_pass_rate(task_id: str) -> float:
    """A fixed synthetic student: the pass rate falls with the task's level (``task-<i>``: level i mod 6)."""
    return PASS_RATE_BY_LEVEL[int(task_id.rsplit("-", 1)[1]) % 6]


def simulated_rollouts(
    ids: list[str], step: int, rng: np.random.Generator, group_sizes: np.ndarray | None = None
) -> list[GroupOutcome]:
    sizes = np.full(len(ids), GROUP_SIZE) if group_sizes is None else np.asarray(group_sizes)
    return [
        GroupOutcome(t, (rng.random(int(n)) < true_pass_rate(t)).astype(float), step=step, completion_tokens=40)
        for t, n in zip(ids, sizes, strict=True)
    ]


def build(
    name: str | type[Curriculum],
    pool: TaskSource,
    seed: int = 0,
    pass_rate: Callable[[str], float] = true_pass_rate,
) -> Curriculum:
    """The strategy on ``pool``, with the testbed-style providers of the needs it declares."""
    cls = strategy_class(name) if isinstance(name, str) else name
    curriculum = make_curriculum(cls.name, pool, {"seed": seed})
    for need in curriculum.needs_for(curriculum.config):
        if need is Need.PASS_RATE_ORACLE:
            curriculum.provide(need, lambda ids: np.array([pass_rate(t) for t in ids]))
        elif need is Need.STUDENT_FEATURES:
            curriculum.provide(need, lambda prompts: np.array([[len(p), p.count("1")] for p in prompts], float))
    return curriculum


def drive(curriculum: Curriculum, steps: int, batch: int, rng_seed: int = 123) -> list[list[str]]:
    """``steps`` batches through ``collect_batch`` on the simulated student; returns what was selected."""
    rng = np.random.default_rng(rng_seed)
    selections = []
    for step in range(steps):
        with warnings.catch_warnings():  # a filter may end a round short on this synthetic pool: expected
            warnings.simplefilter("ignore", GenerationRoundsExhausted)
            collected = collect_batch(
                curriculum,
                lambda ids, sizes, step=step: simulated_rollouts(ids, step, rng, sizes),
                batch,
                GROUP_SIZE,
                max_rollouts=4 * batch * GROUP_SIZE,  # bounds a filter's refill rounds
            )
        selections.append(collected.selected_ids)
    return selections


# ----- general checks -----
def check_select_returns_exactly_n_valid_ids(name: str) -> None:
    pool = contract_pool()
    curriculum = build(name, pool)
    valid = set(pool.ids)
    for n in (1, 7, 16, len(pool), len(pool) + 5):
        ids = curriculum.select(n)
        _ensure(len(ids) == n, f"select({n}) returned {len(ids)} ids")
        _ensure(all(isinstance(t, str) and t in valid for t in ids), f"select({n}) returned ids outside the pool")
    for bad in (0, -1, 2.5, True):
        _expect_error(ValueError, "n must be", lambda bad=bad: curriculum.select(bad), f"select({bad!r})")


def check_deterministic_under_seed(name: str) -> None:
    pool = contract_pool()
    first = drive(build(name, pool, seed=7), steps=6, batch=8)
    second = drive(build(name, pool, seed=7), steps=6, batch=8)
    _ensure(first == second, "two runs with the same seed selected different prompts")


def check_state_dict_round_trip_continues_identically(name: str) -> None:
    pool = contract_pool()
    original = build(name, pool, seed=3)
    drive(original, steps=4, batch=8)
    restored = build(name, pool, seed=999)  # a different seed: the state must override it
    restored.load_state_dict(copy.deepcopy(original.state_dict()))
    _ensure(
        drive(original, steps=4, batch=8, rng_seed=5) == drive(restored, steps=4, batch=8, rng_seed=5),
        "a curriculum restored from state_dict() selected differently from the original",
    )


def check_state_survives_json_and_continues_identically(name: str) -> None:
    """The state goes through ``core.codec`` to JSON text and back (how every adapter checkpoints it)."""
    pool = contract_pool()
    original = build(name, pool, seed=3)
    drive(original, steps=4, batch=8)
    text = state_to_json(original.state_dict())
    restored = build(name, pool, seed=999)
    restored.load_state_dict(state_from_json(text, source=f"{name} state"))
    _ensure(
        drive(original, steps=4, batch=8, rng_seed=5) == drive(restored, steps=4, batch=8, rng_seed=5),
        "a curriculum restored from its JSON state selected differently from the original",
    )


def check_accepts_feedback_from_filtered_groups(name: str) -> None:
    pool = contract_pool()
    curriculum = build(name, pool)
    ids = curriculum.select(12)
    groups = simulated_rollouts(ids, 0, np.random.default_rng(0))
    # all-0 and all-1 groups are exactly what filters drop; the curriculum must still learn from them
    groups += [GroupOutcome(ids[0], np.zeros(GROUP_SIZE)), GroupOutcome(ids[1], np.ones(GROUP_SIZE))]
    curriculum.update(groups)
    kept = curriculum.filter(groups)
    _ensure(all(isinstance(g, GroupOutcome) for g in kept), "filter() returned something other than GroupOutcomes")
    _ensure({id(g) for g in kept} <= {id(g) for g in groups}, "filter() returned groups it was not given")
    _ensure(curriculum.groups_seen == len(groups), "update() did not count every group")


def check_rejects_bad_feedback(name: str) -> None:
    pool = contract_pool()
    curriculum = build(name, pool)
    drive(curriculum, steps=1, batch=4)
    before = repr(curriculum.state_dict())
    for bad in ([0.0, float("nan")], [0.0, 1.5], [-0.1, 1.0], []):
        _expect_error(
            InvalidOutcomeError,
            "task-0",
            lambda bad=bad: curriculum.update([GroupOutcome("task-0", np.array(bad, dtype=float))]),
            f"update() with rewards {bad}",
        )
    _expect_error(
        UnknownTaskError,
        "no-such-task",
        lambda: curriculum.update([GroupOutcome("no-such-task", np.ones(4))]),
        "update() with an unknown task id",
    )
    _expect_error(
        TypeError,
        r"outcomes\[0\]",
        lambda: curriculum.update([{"task_id": "task-0", "rewards": [1.0]}]),  # type: ignore[list-item]
        "update() with a dict instead of a GroupOutcome",
    )
    _ensure(repr(curriculum.state_dict()) == before, "rejected feedback changed the curriculum's state")


def check_serves_or_refuses_a_streaming_pool(name: str) -> None:
    """On a 100k-task stream a strategy selects valid ids and learns, or refuses at construction with a
    ``ConfigError`` that names it (for example ALP-GMM, which needs knob columns a stream does not hold)."""
    from autocurriculum.tasks import StreamingTaskSource  # the tasks layer: only this check needs it

    stream = StreamingTaskSource.from_names(["addition"], min_size=100_000)

    def level_pass_rate(task_id: str) -> float:  # ids read family:L<level>:s<seed>:<index>
        return max(0.0, 1.0 - int(task_id.split(":")[1][1:]) / 6.0)

    try:
        curriculum = build(name, stream, pass_rate=level_pass_rate)
    except ConfigError as exc:
        _ensure(name in str(exc), f"refusing a streaming pool, the error does not name the strategy: {exc}")
        return
    rng = np.random.default_rng(0)
    for step in range(3):
        ids = curriculum.select(16)
        _ensure(len(ids) == 16 and len(set(stream.rows_of(ids).tolist())) >= 1, "bad selection on a stream")
        rates = [level_pass_rate(t) for t in ids]
        curriculum.update(
            [
                GroupOutcome(t, (rng.random(GROUP_SIZE) < r).astype(float), step=step)
                for t, r in zip(ids, rates, strict=True)
            ]
        )
    _ensure(curriculum.groups_seen == 48, "update() on a streaming pool did not count every group")


def check_close_is_idempotent(name: str) -> None:
    curriculum = build(name, contract_pool())
    drive(curriculum, steps=1, batch=4)
    curriculum.close()
    curriculum.close()


# ----- checks chosen by declared abilities -----
def check_allocation_sums_to_budget(name: str) -> None:
    curriculum = build(name, contract_pool())
    rng = np.random.default_rng(0)
    for step in range(5):
        plan = curriculum.plan(8, GROUP_SIZE)
        _ensure(len(plan.task_ids) == 8, f"plan(8, {GROUP_SIZE}) chose {len(plan.task_ids)} prompts")
        _ensure(plan.rollouts == 8 * GROUP_SIZE, f"group sizes {plan.group_sizes.tolist()} do not sum to 64")
        _ensure(bool((plan.group_sizes >= 1).all()), f"a group size below 1: {plan.group_sizes.tolist()}")
        curriculum.update(simulated_rollouts(plan.task_ids, step, rng, plan.group_sizes))


def check_screening_rollouts_are_charged(name: str) -> None:
    curriculum = build(name, contract_pool())
    requested: list[int] = []
    rng = np.random.default_rng(0)

    def generate(ids: list[str], sizes: np.ndarray) -> list[GroupOutcome]:
        requested.extend(int(n) for n in sizes)
        return simulated_rollouts(ids, 0, rng, sizes)

    batch = collect_batch(curriculum, generate, 8, GROUP_SIZE, max_rollouts=2_000)
    screen = curriculum.screen_size(GROUP_SIZE)
    _ensure(batch.rollouts == sum(requested), f"charged {batch.rollouts} rollouts, generated {sum(requested)}")
    _ensure(batch.screening_rollouts > 0, "a screening strategy reported no screening rollouts")
    _ensure(batch.screening_rollouts == screen * len(batch.selected_ids), "screening rollouts miscounted")
    _ensure(all(g.group_size == GROUP_SIZE for g in batch.kept), "a trained group is not screen + continuation")


def check_filter_keeps_only_generated_groups(name: str) -> None:
    curriculum = build(name, contract_pool())
    rng = np.random.default_rng(0)
    batch = collect_batch(
        curriculum, lambda ids, sizes: simulated_rollouts(ids, 0, rng, sizes), 8, GROUP_SIZE, max_rollouts=2_000
    )
    _ensure(len(batch.kept) <= 8, f"{len(batch.kept)} groups kept for a batch of 8")
    _ensure({id(g) for g in batch.kept} <= {id(g) for g in batch.generated}, "kept a group that was not generated")
    _ensure(curriculum.max_generation_rounds >= 1, "max_generation_rounds must be >= 1")


CURRICULUM_CHECKS: list[Callable[[str], None]] = [
    check_select_returns_exactly_n_valid_ids,
    check_deterministic_under_seed,
    check_state_dict_round_trip_continues_identically,
    check_state_survives_json_and_continues_identically,
    check_accepts_feedback_from_filtered_groups,
    check_rejects_bad_feedback,
    check_serves_or_refuses_a_streaming_pool,
    check_close_is_idempotent,
]
ABILITY_CHECKS: dict[Ability, Callable[[str], None]] = {
    Ability.ALLOCATES: check_allocation_sums_to_budget,
    Ability.SCREENS: check_screening_rollouts_are_charged,
    Ability.FILTERS_GROUPS: check_filter_keeps_only_generated_groups,
}


def checks_for(name: str | type[Curriculum]) -> list[Callable[[str], None]]:
    """The general checks plus one per ability the strategy declares."""
    cls = strategy_class(name) if isinstance(name, str) else name
    return CURRICULUM_CHECKS + [ABILITY_CHECKS[a] for a in sorted(cls.abilities, key=lambda a: a.value)]


def check_curriculum(name: str | type[Curriculum]) -> None:
    """Run every check that applies to the strategy; raises ``ContractViolation`` naming the first failure."""
    cls = strategy_class(name) if isinstance(name, str) else name
    for check in checks_for(cls):
        try:
            check(cls.name)
        except ContractViolation as exc:
            raise ContractViolation(f"strategy {cls.name!r}, {check.__name__}: {exc}") from exc
