"""reasoning-gym as a task source: generation offline, difficulty knobs, binary reward from partial credit."""

from __future__ import annotations

import pytest

pytest.importorskip("reasoning_gym")

from autocurriculum import make_curriculum
from autocurriculum.core import GroupOutcome
from autocurriculum.tasks.reasoning_gym_source import ReasoningGymSource


def test_levels_become_knobs_and_categories():
    source = ReasoningGymSource("chain_sum", levels=[1, 4], size_per_level=5, seed=3)
    pool = source.pool
    assert len(pool) == 10
    assert pool.category_names == ["chain_sum:L1", "chain_sum:L4"]
    assert {"level", "num_terms", "num_digits"} <= set(pool.knob_names)
    assert sorted(set(pool.knob("level"))) == [1.0, 4.0]
    assert pool.knob("num_terms").max() > pool.knob("num_terms").min()  # the knob follows the level
    again = ReasoningGymSource("chain_sum", levels=[1, 4], size_per_level=5, seed=3)
    assert [t.prompt for t in again.pool] == [t.prompt for t in pool]  # deterministic


def test_partial_credit_is_thresholded():
    source = ReasoningGymSource("chain_sum", levels=[2], size_per_level=3)
    task = source.pool[0]
    assert source.reward(task.task_id, f"<answer>{task.answer}</answer>") == 1.0
    wrong = "<answer>123456</answer>"
    assert 0.0 <= source.score(task.task_id, wrong) < 1.0
    assert source.reward(task.task_id, wrong) == 0.0
    assert source.reward(task.task_id, "no tags at all") == 0.0
    lenient = ReasoningGymSource("chain_sum", levels=[2], size_per_level=3, success_threshold=0.01)
    assert lenient.reward(task.task_id, wrong) == float(lenient.score(task.task_id, wrong) >= 0.01)


def test_explicit_configs_and_a_curriculum_on_top():
    source = ReasoningGymSource(
        "basic_arithmetic",
        configs=[{"min_terms": 2, "max_terms": 2}, {"min_terms": 5, "max_terms": 6}],
        size_per_level=4,
    )
    assert sorted(set(source.pool.knob("max_terms"))) == [2.0, 6.0]
    curriculum = make_curriculum("thompson", source.pool, {"seed": 0})
    ids = curriculum.select(4)
    curriculum.update(
        [GroupOutcome(t, [source.reward(t, f"<answer>{source.pool.get(t).answer}</answer>"), 0.0]) for t in ids]
    )
    assert curriculum.groups_seen == 4
    with pytest.raises(KeyError, match="unknown reasoning-gym task"):
        ReasoningGymSource("no_such_task")
