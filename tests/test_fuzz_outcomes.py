"""Fuzzing outcomes (issue 13, item 5): NaN, infinite, None, out-of-range and non-numeric rewards, nothing lost.

Through the core (``GroupOutcome``, ``Curriculum.update`` of every registered strategy), the TRL reward wrapper
(``CurriculumFeedback`` / ``rewards_to_outcomes``, built without a trainer) and the verl wrappers that need no
verl (``CurriculumService.report``, ``curriculum_reward``, the sampler's ``report`` on a stand-in batch).
Properties: a bad reward is refused with an error naming the task id (or, where documented, counts as "not
applicable" / leaves the reward returned to the trainer unchanged), and the rejected input changes nothing: the
curriculum's ``state_dict()``, the counters and the pending groups are exactly as before.

Hypothesis runs derandomized and without an example database, so a CI run is reproducible.
"""

from __future__ import annotations

import logging
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import autocurriculum.strategies  # noqa: F401 - registers the strategies
from autocurriculum.core import (
    GroupOutcome,
    InvalidOutcomeError,
    UnknownTaskError,
    strategy_names,
    success_values,
)
from autocurriculum.core.codec import state_to_json
from autocurriculum.testing.curriculum import build, contract_pool
from fuzzing import fuzz

POOL = contract_pool(24)
IDS = list(POOL.ids)
GOOD = st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0, 0, 1, True, False, np.float32(0.5), np.int64(1)]))
NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf, np.float32("nan")])
OUT_OF_RANGE = st.one_of(st.floats(max_value=-1e-300), st.floats(min_value=1.0, exclude_min=True), st.just(10**400))
NOT_NUMBER = st.sampled_from([None, "abc", "0.5", "", b"1", [0.5, [1.0]], {"r": 1}, 1j, object()])
BAD = st.one_of(NON_FINITE, OUT_OF_RANGE, NOT_NUMBER)
TASK_IDS = st.one_of(st.sampled_from(IDS), st.text(max_size=8))


@st.composite
def bad_rewards(draw: Any) -> list[Any]:
    """A group's rewards with at least one bad value among good ones (or no rewards at all)."""
    good = draw(st.lists(GOOD, max_size=6))
    if draw(st.integers(0, 9)) == 0:
        return []
    bad = draw(st.lists(BAD, min_size=1, max_size=2))
    at = draw(st.integers(0, len(good)))
    return [*good[:at], *bad, *good[at:]]


def snapshot(curriculum: Any) -> str:
    return state_to_json(curriculum.state_dict())


def valid_groups(draw: Any, n_max: int = 4) -> list[GroupOutcome]:
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=n_max))
    return [GroupOutcome(t, draw(st.lists(GOOD, min_size=1, max_size=6))) for t in ids]


# ----------------------------------------------------------------- GroupOutcome
@given(task_id=TASK_IDS, rewards=st.one_of(bad_rewards(), st.lists(GOOD, min_size=1, max_size=8)))
@example(task_id="t", rewards=[None])
@example(task_id="t", rewards=["abc"])
@example(task_id="t", rewards=["0.5"])
@example(task_id="t", rewards=[0.5, [1.0]])
@example(task_id="t", rewards=[10**400])
@example(task_id="t", rewards=[[0.5], [1.0]])
@fuzz(400)
def test_group_outcome_accepts_only_finite_rewards_in_unit_interval(task_id: str, rewards: list[Any]) -> None:
    """400 examples (+ 6 pinned): random mixes of good and bad rewards; a bad one (or none) is an
    InvalidOutcomeError naming the task id, never TypeError or ValueError from NumPy."""
    flat = rewards
    if rewards and all(isinstance(r, list) for r in rewards):  # rows of equal length: a matrix, read row by row
        flat = [x for r in rewards for x in r] if len({len(r) for r in rewards}) == 1 else [None]
    valid = bool(flat) and all(_is_good(r) for r in flat)
    if valid:
        group = GroupOutcome(task_id, rewards)
        assert group.rewards.dtype == np.float64 and group.rewards.tolist() == [float(r) for r in flat]
        return
    with pytest.raises(InvalidOutcomeError) as info:
        GroupOutcome(task_id, rewards)
    assert repr(task_id) in str(info.value), str(info.value)


def _is_good(value: Any) -> bool:
    if isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.number)):
        return False
    try:
        number = float(value)
    except OverflowError:
        return False
    return math.isfinite(number) and 0.0 <= number <= 1.0


@given(
    task_id=TASK_IDS,
    rewards=st.lists(GOOD, min_size=1, max_size=6),
    advantages=st.lists(st.one_of(st.floats(-5, 5), NON_FINITE, NOT_NUMBER), max_size=7),
)
@fuzz(150)
def test_group_outcome_advantages_match_and_are_finite(task_id: str, rewards: list[Any], advantages: list[Any]) -> None:
    """150 examples: advantages of the wrong length, NaN, infinite or non-numeric are refused naming the task."""
    good = len(advantages) == len(rewards) and all(
        isinstance(a, float) and math.isfinite(a) and not isinstance(a, bool) for a in advantages
    )
    if good:
        group = GroupOutcome(task_id, rewards, advantages=advantages)
        assert group.advantages.tolist() == advantages
        with pytest.raises(InvalidOutcomeError):  # rewards and advantages stay the same length
            group.rewards = [*rewards, 1.0]
        return
    with pytest.raises(InvalidOutcomeError) as info:
        GroupOutcome(task_id, rewards, advantages=advantages)
    assert repr(task_id) in str(info.value), str(info.value)


@given(task_id=TASK_IDS, rewards=st.lists(GOOD, min_size=1, max_size=6), bad=BAD, at=st.integers(0, 5))
@example(task_id="t", rewards=[1.0], bad=math.nan, at=0)
@fuzz(150)
def test_group_outcome_keeps_its_rewards_valid_after_construction(
    task_id: str, rewards: list[Any], bad: Any, at: int
) -> None:
    """150 examples (+ 1 pinned): neither the caller's buffer, nor an in-place write, nor a reassignment can put a
    bad reward into a GroupOutcome after its check (a curriculum trusts the check, and reads rewards later)."""
    buffer = np.asarray(rewards, dtype=np.float64)
    group = GroupOutcome(task_id, buffer)
    expected = buffer.tolist()
    at %= buffer.size
    if _is_good(bad) is False and isinstance(bad, float):
        buffer[at] = bad  # a trainer reusing its reward buffer for the next batch
    assert group.rewards.tolist() == expected
    with pytest.raises(ValueError):  # read-only: a write in place is refused by NumPy
        group.rewards[at] = 0.5
    with pytest.raises(InvalidOutcomeError) as info:
        group.rewards = [*expected, bad]
    assert repr(task_id) in str(info.value)
    assert group.rewards.tolist() == expected


@given(rewards=st.lists(st.one_of(GOOD, BAD, st.floats()), max_size=8), threshold=st.one_of(st.none(), st.floats(0, 1)))
@example(rewards=[math.inf], threshold=0.5)
@example(rewards=["abc"], threshold=None)
@fuzz(200)
def test_success_values_refuses_what_is_not_a_reward(rewards: list[Any], threshold: float | None) -> None:
    """200 examples (+ 2 pinned): None and NaN mean "not applicable" (NaN out); a string, an object or an infinite
    reward is an InvalidOutcomeError naming its position, even with a success threshold (inf is no success)."""

    def acceptable(r: Any) -> bool:
        if r is None:
            return True
        if isinstance(r, (str, bytes)) or not isinstance(r, (int, float, np.number)):
            return False
        try:
            return not math.isinf(float(r))
        except OverflowError:
            return False

    if all(acceptable(r) for r in rewards):
        values = success_values(rewards, threshold)
        assert values.shape == (len(rewards),)
        if threshold is not None:
            assert set(values[~np.isnan(values)].tolist()) <= {0.0, 1.0}
        return
    with pytest.raises(InvalidOutcomeError) as info:
        success_values(rewards, threshold)
    first = next(i for i, r in enumerate(rewards) if not acceptable(r))
    assert f"rewards[{first}]" in str(info.value), str(info.value)


# ----------------------------------------------------------------- Curriculum.update, every strategy
@pytest.fixture(scope="module")
def curricula() -> Any:
    made: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in made:
            made[name] = build(name, POOL, seed=3)
        return made[name]

    yield get
    for curriculum in made.values():
        curriculum.close()


@pytest.mark.parametrize("name", strategy_names())
@given(data=st.data())
@fuzz(12)
def test_update_refuses_bad_feedback_and_keeps_the_state(curricula: Any, name: str, data: st.DataObject) -> None:
    """12 examples per registered strategy (19 strategies: 228 in all): valid history, then batches holding one
    bad group (bad rewards, an unknown id, a non-outcome, a tampered outcome): each refused naming the task id,
    the state unchanged; the valid part then goes through."""
    curriculum = curricula(name)
    curriculum.update(valid_groups(data.draw))
    good = valid_groups(data.draw)
    before, seen = snapshot(curriculum), curriculum.groups_seen
    position = data.draw(st.integers(0, len(good)))
    task_id = data.draw(st.sampled_from(IDS))
    rewards = data.draw(bad_rewards())
    with pytest.raises(InvalidOutcomeError) as info:
        curriculum.update([*good[:position], GroupOutcome(task_id, rewards), *good[position:]])
    assert repr(task_id) in str(info.value)
    unknown = data.draw(st.text(min_size=1, max_size=6).map(lambda s: f"no-such-{s}"))
    with pytest.raises(UnknownTaskError) as unknown_info:
        curriculum.update([*good[:position], GroupOutcome(unknown, [1.0]), *good[position:]])
    assert repr(unknown) in str(unknown_info.value)
    with pytest.raises(TypeError, match=rf"outcomes\[{position}\]"):
        curriculum.update([*good[:position], {"task_id": task_id, "rewards": rewards}, *good[position:]])
    tampered = GroupOutcome(task_id, np.ones(3))
    with pytest.raises(InvalidOutcomeError):
        tampered.rewards = np.array([math.nan, 1.0, 1.0])
    with pytest.raises(ValueError):
        tampered.rewards[0] = math.nan
    assert snapshot(curriculum) == before and curriculum.groups_seen == seen  # nothing recorded, nothing lost
    curriculum.update([*good, tampered])  # still intact, so accepted
    assert curriculum.groups_seen == seen + len(good) + 1


# ----------------------------------------------------------------- TRL reward wrapper
try:
    import autocurriculum.integrations.trl as trl
except ImportError:  # trl, accelerate or torch missing: the TRL tests skip, the rest runs
    trl = None  # type: ignore[assignment]
requires_trl = pytest.mark.skipif(trl is None, reason="needs trl, accelerate and torch")

MINI = 3


def _feedback(curriculum: Any, rewards: list[Any]) -> tuple[Any, Any]:
    sampler = trl.CurriculumRepeatSampler(curriculum, IDS, mini_repeat_count=MINI, batch_size=2)
    feedback = trl.CurriculumFeedback(lambda prompts, completions, **kw: list(rewards), sampler, gather=lambda x: x)
    return sampler, feedback


def _sampler_state(sampler: Any) -> tuple[Any, ...]:
    return (
        snapshot(sampler.curriculum),
        sampler.chunks_scored,
        sampler.next_unscored,
        repr(sampler.selected),
        len(sampler.feedback_log),
    )


@st.composite
def trl_batches(draw: Any, bad: bool) -> tuple[list[str], list[Any], str | None]:
    """Groups of MINI completions in stream order; ``bad``: one reward is infinite, out of range or not a number."""
    ids = [t for t in draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3)) for _ in range(MINI)]
    rewards = draw(st.lists(st.one_of(GOOD, st.none(), st.just(math.nan)), min_size=len(ids), max_size=len(ids)))
    if not bad:
        return ids, rewards, None
    at = draw(st.integers(0, len(ids) - 1))
    rewards[at] = draw(st.one_of(st.sampled_from([math.inf, -math.inf, "abc", object()]), OUT_OF_RANGE))
    return ids, rewards, ids[at]


@requires_trl
@given(name=st.sampled_from(["thompson", "uniform", "dynamic-sampling", "goldilocks"]), batch=trl_batches(False))
@fuzz(60)
def test_trl_wrapper_passes_rewards_through_and_skips_not_applicable(
    curricula: Any, name: str, batch: tuple[list[str], list[Any], None]
) -> None:
    """60 examples: rewards in [0, 1], None and NaN reach TRL unchanged; None/NaN are left out of the groups
    (TRL's "not applicable"), every group with an applicable reward reaches the curriculum."""
    ids, rewards, _ = batch
    sampler, feedback = _feedback(curricula(name), rewards)
    seen = sampler.curriculum.groups_seen
    returned = feedback(prompts=ids, completions=ids, task_id=ids)
    assert len(returned) == len(rewards) and all(a is b for a, b in zip(returned, rewards, strict=True))
    applicable = [i for i in range(0, len(ids), MINI) if any(r is not None and r == r for r in rewards[i : i + MINI])]
    assert sampler.curriculum.groups_seen == seen + len(applicable)
    assert sampler.chunks_scored == 1


@requires_trl
@given(name=st.sampled_from(["thompson", "uniform", "band", "pcl"]), batch=trl_batches(True))
@fuzz(60)
def test_trl_wrapper_refuses_bad_rewards_and_keeps_the_state(
    curricula: Any, name: str, batch: tuple[list[str], list[Any], str]
) -> None:
    """60 examples: an infinite, out-of-range or non-numeric reward in the batch raises; the curriculum's state,
    the sampler's counters and its pending selections are unchanged. (The error's type and message are the
    property below: an InvalidOutcomeError naming the id.)"""
    ids, rewards, _ = batch
    sampler, feedback = _feedback(curricula(name), rewards)
    before = _sampler_state(sampler)
    with pytest.raises(Exception):  # noqa: B017 - which type: the strict test below (trl.py is not ours)
        feedback(prompts=ids, completions=ids, task_id=ids)
    assert _sampler_state(sampler) == before


@requires_trl
@given(batch=trl_batches(True))
@fuzz(30, report_multiple_bugs=False)
def test_trl_wrapper_names_the_task_of_a_bad_reward(curricula: Any, batch: tuple[list[str], list[Any], str]) -> None:
    """30 examples: the error for a bad reward is an InvalidOutcomeError naming the task id."""
    ids, rewards, bad_id = batch
    _, feedback = _feedback(curricula("uniform"), rewards)
    try:
        feedback(prompts=ids, completions=ids, task_id=ids)
    except Exception as exc:
        assert isinstance(exc, InvalidOutcomeError) and repr(bad_id) in str(exc), f"{type(exc).__name__}: {exc}"
    else:
        raise AssertionError("no error for a bad reward")


@requires_trl
@given(rewards=st.lists(st.one_of(GOOD, st.none(), st.just(math.nan), BAD), min_size=1, max_size=9))
@fuzz(100)
def test_rewards_to_outcomes_never_builds_a_bad_group(rewards: list[Any]) -> None:
    """100 examples: with or without a threshold, every group returned holds finite rewards in [0, 1] only, or the
    call raises a ValueError; never TypeError/OverflowError."""
    ids = [IDS[i // MINI] for i in range(len(rewards))]
    for threshold in (None, 0.5):
        try:
            outcomes = trl.rewards_to_outcomes(ids, rewards, MINI, success_threshold=threshold)
        except ValueError:
            continue
        for outcome in outcomes:
            assert np.isfinite(outcome.rewards).all() and ((outcome.rewards >= 0) & (outcome.rewards <= 1)).all()


# ----------------------------------------------------------------- verl (the parts that need no verl)
from autocurriculum.integrations.verl import (  # noqa: E402 - after the TRL skip on purpose: verl's parts always run
    _SamplerLogic,
    curriculum_reward,
)
from autocurriculum.service import CurriculumService, RolloutGrouping  # noqa: E402

VERL_GROUP = 2


def _service_state(service: CurriculumService) -> str:
    return state_to_json(service.state_dict())


@st.composite
def service_items(draw: Any) -> list[tuple[Any, Any]]:
    """Single rollouts ``(task_id, reward)``; sometimes one bad reward or an id outside the pool."""
    items = [(t, draw(GOOD)) for t in draw(st.lists(st.sampled_from(IDS[:6]), min_size=1, max_size=7))]
    kind = draw(st.sampled_from(["good", "good", "reward", "reward", "id"]))
    at = draw(st.integers(0, len(items) - 1))
    if kind == "id":
        items[at] = (f"no-such-{at}", items[at][1])
    elif kind == "reward":
        items[at] = (items[at][0], draw(st.one_of(NON_FINITE, OUT_OF_RANGE, NOT_NUMBER)))
    return items


def _first_bad(items: list[tuple[Any, Any]], threshold: float | None) -> str | None:
    """The id the service must name: the first unusable reward, else the first id outside the pool."""
    for task_id, reward in items:
        usable = _is_good(reward) or (threshold is not None and _finite_number(reward))
        if not usable:
            return str(task_id)
    return next((str(t) for t, _ in items if t not in IDS), None)


def _finite_number(value: Any) -> bool:
    if isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.number)):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


@pytest.fixture(scope="module")
def services() -> Any:
    made: dict[Any, CurriculumService] = {}

    def get(name: str, threshold: float | None) -> CurriculumService:
        if (name, threshold) not in made:
            grouping = RolloutGrouping(VERL_GROUP, success_threshold=threshold)
            made[name, threshold] = CurriculumService.create(name, POOL, {"seed": 1}, rollouts=grouping)
        return made[name, threshold]

    yield get
    for service in made.values():
        service.curriculum.close()


@given(
    name=st.sampled_from(["thompson", "uniform", "learning-progress", "goldilocks"]),
    threshold=st.sampled_from([None, 0.5]),
    batches=st.lists(service_items(), min_size=1, max_size=4),
)
@example(name="thompson", threshold=None, batches=[[("task-0", 1.0), ("task-0", math.inf)]])
@example(name="thompson", threshold=None, batches=[[("task-0", 1.0), ("task-1", 1.0), ("task-1", None)]])
@example(name="thompson", threshold=None, batches=[[("task-0", 1.0), ("task-0", 0.0), ("no-such", 1.0)]])
@example(name="thompson", threshold=0.5, batches=[[("task-0", math.inf)]])
@fuzz(100)
def test_verl_service_report_is_all_or_nothing(
    services: Any, name: str, threshold: float | None, batches: list[list[tuple[Any, Any]]]
) -> None:
    """100 examples (+ 4 pinned): batches of single rollouts; a batch with a NaN/inf/None/out-of-range/non-numeric
    reward or an unknown id raises naming that id and records nothing (state, pending groups); a good batch
    completes exactly the groups a model of the buckets predicts."""
    service = services(name, threshold)
    for items in batches:
        bad_id = _first_bad(items, threshold)
        before, seen = _service_state(service), service.curriculum.groups_seen
        pending = {t: list(v) for t, v in service.rollout_groups.pending.items()}
        if bad_id is not None:
            with pytest.raises((InvalidOutcomeError, UnknownTaskError)) as info:
                service.report_rollouts(items)
            assert repr(bad_id) in str(info.value), str(info.value)
            assert _service_state(service) == before and service.curriculum.groups_seen == seen
            assert service.rollout_groups.pending == pending  # the pending rollouts are untouched too
            continue
        expected = 0
        for task_id, _ in items:
            pending.setdefault(task_id, []).append(0.0)
            if len(pending[task_id]) == VERL_GROUP:
                expected += 1
                del pending[task_id]
        assert service.report_rollouts(items) == expected
        assert service.curriculum.groups_seen == seen + expected
        assert {t: len(v) for t, v in service.rollout_groups.pending.items()} == {t: len(v) for t, v in pending.items()}


@given(score=st.one_of(GOOD, BAD, st.dictionaries(st.sampled_from(["acc", "score"]), st.one_of(GOOD, BAD))))
@example(score=None)
@example(score=math.nan)
@example(score={"acc": "abc"})
@fuzz(100)
def test_verl_reward_wrapper_returns_the_score_and_names_the_task_when_feedback_fails(
    services: Any, score: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """100 examples (+ 3 pinned): whatever compute_score returns goes back to verl unchanged; a score the
    curriculum cannot use is logged naming the task id and records nothing."""
    service = services("thompson", None)
    wrapped = curriculum_reward(lambda *a, **k: score, service=service)
    before = _service_state(service)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="autocurriculum.integrations.verl"):
        assert wrapped("src", "text", "gold", extra_info={"index": "task-5"}) is score
    value = score.get("acc", score.get("score", 0.0)) if isinstance(score, dict) else score
    if _is_good(value):
        assert not caplog.records
        return
    assert _service_state(service) == before
    assert any("task-5" in record.getMessage() for record in caplog.records), [r.getMessage() for r in caplog.records]


class _Frame:
    """The columns of verl's RLHF parquet layout, as ``pool_from_dataframe`` reads them."""

    column_names = ("extra_info", "prompt")

    def __getitem__(self, column: str) -> list[Any]:
        if column == "extra_info":
            return [{"index": t, "level": float(i % 6)} for i, t in enumerate(IDS)]
        return [f"prompt {t}" for t in IDS]


@pytest.fixture(scope="module")
def verl_sampler() -> Any:
    sampler = _SamplerLogic()
    sampler._setup(SimpleNamespace(dataframe=_Frame()), {"train_batch_size": 4, "curriculum": {"strategy": "thompson"}})
    return sampler


@given(
    groups=st.lists(st.tuples(st.sampled_from(IDS), st.lists(GOOD, min_size=1, max_size=4)), min_size=1, max_size=4),
    bad=st.one_of(st.none(), NON_FINITE, OUT_OF_RANGE, NOT_NUMBER),
    data=st.data(),
)
@example(groups=[("task-1", [1.0, 0.0])], bad=None, data=None)
@fuzz(80)
def test_verl_sampler_report_refuses_a_bad_batch_and_keeps_the_state(
    verl_sampler: Any, groups: list[tuple[str, list[Any]]], bad: Any, data: Any
) -> None:
    """80 examples (+ 1 pinned): a trajectory batch (uid, extra_info, acc) with one bad ``acc`` (None included)
    raises an InvalidOutcomeError naming the task and leaves the sampler's state and update count unchanged."""
    uid, extra, acc = [], [], []
    for g, (task_id, rewards) in enumerate(groups):
        for r in rewards:
            uid.append(f"u{g}")
            extra.append({"index": task_id})
            acc.append(r)
    at = data.draw(st.integers(0, len(acc) - 1)) if data is not None else 0
    acc[at] = bad
    batch = SimpleNamespace(
        non_tensor_batch={
            "uid": np.array(uid, dtype=object),
            "extra_info": np.array(extra, dtype=object),
            "acc": np.array(acc, dtype=object),
        },
        batch=None,
        meta_info={"global_steps": 1},
    )
    before, updates = state_to_json(verl_sampler.state_dict()), verl_sampler.updates
    with pytest.raises(InvalidOutcomeError) as info:
        verl_sampler.report(batch)
    assert repr(extra[at]["index"]) in str(info.value), str(info.value)
    assert state_to_json(verl_sampler.state_dict()) == before and verl_sampler.updates == updates
