"""AdaRFT: the contract, the target's direction and clipping, batches that follow the target, knob handling."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum.strategies.adarft  # noqa: F401 - registers "adarft"
from autocurriculum.core import ConfigError, GroupOutcome, Task, TaskPool, make_curriculum
from autocurriculum.testing import check_curriculum

PASS_RATE_BY_LEVEL = [1.0, 0.9, 0.6, 0.3, 0.05, 0.0]


def test_adarft_satisfies_the_strategy_contract() -> None:
    check_curriculum("adarft")


def level_pool(per_level: int = 20, levels: int = 6) -> TaskPool:
    return TaskPool(
        Task(f"L{level}-{j}", f"prompt {level} {j}", "0", category="fam", knobs={"level": float(level + 1)})
        for level in range(levels)
        for j in range(per_level)
    )


def level_of(task_id: str) -> int:
    return int(task_id[1 : task_id.index("-")])


def groups(ids: list[str], reward: float) -> list[GroupOutcome]:
    return [GroupOutcome(t, np.full(8, reward)) for t in ids]


def test_target_rises_on_easy_batches_falls_on_hard_ones_and_stays_clipped() -> None:
    curriculum = make_curriculum("adarft", level_pool(), {"seed": 0})
    assert curriculum.target.value == 0.0
    curriculum.update(groups(curriculum.select(8), 1.0))  # too easy: harder tasks next
    raised = 50 * np.tanh(2 * 0.5)
    assert curriculum.target.value == pytest.approx(raised)
    curriculum.update(groups(curriculum.select(8), 0.75))
    assert curriculum.target.value == pytest.approx(raised + 50 * np.tanh(2 * 0.25))
    before = curriculum.target.value
    curriculum.update(groups(curriculum.select(8), 0.0))  # too hard: easier tasks next
    assert curriculum.target.value == pytest.approx(before - raised)
    for _ in range(10):
        curriculum.update(groups(curriculum.select(8), 1.0))
    assert curriculum.target.value == 100.0
    for _ in range(10):
        curriculum.update(groups(curriculum.select(8), 0.0))
    assert curriculum.target.value == 0.0


def test_batches_are_the_tasks_nearest_the_target_with_ties_spread() -> None:
    curriculum = make_curriculum("adarft", level_pool(), {"seed": 0})
    assert {level_of(t) for t in curriculum.select(8)} == {0}  # T = 0: the easiest level (d = 0)
    curriculum.target.value = 41.0  # levels sit at d = 0, 20, ..., 100: nearest is d = 40
    chosen = [curriculum.select(8) for _ in range(5)]
    assert {level_of(t) for ids in chosen for t in ids} == {2}
    assert len({t for ids in chosen for t in ids}) > 8  # random tie-breaks spread over the level's 20 tasks
    curriculum.target.value = 49.0  # 8 from d = 40 is not enough for 30: the rest come from d = 60
    levels = [level_of(t) for t in curriculum.select(30)]
    assert levels.count(2) == 20 and levels.count(3) == 10


def test_closed_loop_target_settles_where_the_student_succeeds_about_half_the_time() -> None:
    pool = level_pool()
    curriculum = make_curriculum("adarft", pool, {"seed": 0})
    rng = np.random.default_rng(0)
    late_levels = []
    for step in range(60):
        ids = curriculum.select(16)
        if step >= 30:
            late_levels += [level_of(t) for t in ids]
        curriculum.update(
            [GroupOutcome(t, (rng.random(8) < PASS_RATE_BY_LEVEL[level_of(t)]).astype(float)) for t in ids]
        )
    assert set(late_levels) <= {1, 2, 3, 4}
    assert 0.35 < np.mean([PASS_RATE_BY_LEVEL[lv] for lv in late_levels]) < 0.65


def test_a_knob_that_grows_with_ease_is_flipped() -> None:
    pool = TaskPool(Task(f"t{i}", f"p{i}", "0", knobs={"ref_pass": i / 9}) for i in range(10))
    curriculum = make_curriculum("adarft", pool, {"seed": 0, "difficulty_knob": "ref_pass", "higher_is_harder": False})
    np.testing.assert_allclose(curriculum.difficulty, 100 * (1 - np.arange(10) / 9))
    assert curriculum.select(1) == ["t9"]  # T = 0: the task the reference solves most often
    curriculum.update(groups(["t9"], 1.0))
    curriculum.update(groups(["t9"], 1.0))
    curriculum.update(groups(["t9"], 1.0))
    assert curriculum.select(1) == ["t0"]  # T clipped at 100: the hardest
    raw = TaskPool(Task(f"t{i}", f"p{i}", "0", knobs={"ease": 10.0 * i}) for i in range(11))
    unscaled = make_curriculum("adarft", raw, {"difficulty_knob": "ease", "higher_is_harder": False, "rescale": False})
    np.testing.assert_allclose(unscaled.difficulty, 100 - 10.0 * np.arange(11))  # mirrored in its own range


def test_missing_difficulty_knob_names_the_field() -> None:
    pool = TaskPool(Task(f"t{i}", f"p{i}", "0", knobs={"digits": float(i)}) for i in range(4))
    with pytest.raises(ConfigError, match=r"adarft.*difficulty_knob 'level'.*available knobs: digits"):
        make_curriculum("adarft", pool)
    with pytest.raises(ConfigError, match="initial_target"):
        make_curriculum("adarft", pool, {"difficulty_knob": "digits", "initial_target": 150.0})
