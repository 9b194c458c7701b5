"""The length curriculum: the contract, short tasks first, longer ones stage by stage, what length measures."""

from __future__ import annotations

import numpy as np
import pytest

import autocurriculum.strategies.length_curriculum  # noqa: F401 - registers "length"
from autocurriculum.core import ConfigError, GroupOutcome, Task, TaskPool, make_curriculum
from autocurriculum.tasks import StreamingTaskSource
from autocurriculum.testing import check_curriculum


def test_length_satisfies_the_strategy_contract() -> None:
    check_curriculum("length")


def demo_pool(size: int = 90) -> TaskPool:
    """Task i has a demonstration of 10 * (i + 1) characters and a same-length prompt for every task."""
    return TaskPool(Task(f"t{i}", "same prompt", "0", demonstration="x" * (10 * (i + 1))) for i in range(size))


def index(task_id: str) -> int:
    return int(task_id[1:])


def run_stage(curriculum, steps: int, reward: float = 0.5) -> set[int]:
    seen: set[int] = set()
    for _ in range(steps):
        ids = curriculum.select(10)
        seen |= {index(t) for t in ids}
        curriculum.update([GroupOutcome(t, np.full(8, reward)) for t in ids])
    return seen


def test_starts_on_the_shortest_tasks_and_reaches_the_longest_after_the_stages() -> None:
    curriculum = make_curriculum("length", demo_pool(), {"seed": 0, "stages": 3, "steps_per_stage": 6})
    first = run_stage(curriculum, 6)
    assert max(first) <= 29 and len(first) > 20  # the shortest third, sampled broadly
    assert curriculum.stage == 1
    second = run_stage(curriculum, 6)
    assert max(second) <= 59 and max(second) >= 30
    assert curriculum.stage == 2
    final = run_stage(curriculum, 10)
    assert max(final) >= 85 and min(final) <= 5  # the whole pool
    assert curriculum.stage == 2  # the last stage lasts


def test_a_high_batch_reward_advances_early() -> None:
    settings = {"seed": 0, "stages": 3, "steps_per_stage": 100, "advance_reward": 0.8}
    curriculum = make_curriculum("length", demo_pool(), settings)
    run_stage(curriculum, 3, reward=0.5)
    assert curriculum.stage == 0
    run_stage(curriculum, 1, reward=0.9)
    assert curriculum.stage == 1 and curriculum.schedule.updates_in_stage == 0


def test_what_length_measures() -> None:
    tasks = [
        Task("short-prompt-long-demo", "ab", "0", demonstration="x" * 100),
        Task("long-prompt-short-demo", "a" * 50, "0", demonstration="x"),
        Task("no-demo-long-answer", "abc", "y" * 30),
    ]
    pool = TaskPool(tasks)
    by_demo = make_curriculum("length", pool)
    np.testing.assert_array_equal(by_demo.lengths, [100, 1, 30])  # the answer stands in for a missing demo
    by_prompt = make_curriculum("length", pool, {"length_of": "prompt"})
    np.testing.assert_array_equal(by_prompt.lengths, [2, 50, 3])
    # one task per stage boundary: stage 0 allows only the shortest task
    first = make_curriculum("length", pool, {"seed": 0, "stages": 3})
    assert set(first.select(6)) == {"long-prompt-short-demo"}


def test_tasks_of_equal_length_enter_together() -> None:
    pool = TaskPool(Task(f"t{i}", "p" * (1 + i // 10), "0") for i in range(30))  # three lengths, ten each
    curriculum = make_curriculum("length", pool, {"length_of": "prompt", "stages": 2, "start_quantile": 0.05})
    assert curriculum.allowed_rows().size == 10


def test_a_pool_without_text_to_measure_is_refused() -> None:
    empty = TaskPool(Task(f"t{i}", "", "") for i in range(3))
    with pytest.raises(ConfigError, match=r"length.*length_of='demonstration'.*set length_of='prompt'"):
        make_curriculum("length", empty)
    with pytest.raises(ConfigError, match=r"length.*length_of='prompt'"):
        make_curriculum("length", empty, {"length_of": "prompt"})
    stream = StreamingTaskSource.from_names(["addition"], min_size=1000)
    with pytest.raises(ConfigError, match=r"length.*TaskPool"):
        make_curriculum("length", stream)
    with pytest.raises(ConfigError, match="start_quantile"):
        make_curriculum("length", demo_pool(), {"start_quantile": 0.0})
