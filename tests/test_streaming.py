"""StreamingTaskSource: a million-row TaskSource generated on demand."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from autocurriculum.core import ConfigError, GroupOutcome, TaskSource, UnknownTaskError, make_curriculum
from autocurriculum.tasks import StreamingTaskSource, disjoint_streams, make_task_family


@pytest.fixture(scope="module")
def source() -> StreamingTaskSource:
    return StreamingTaskSource.from_names(["addition", "op_chain"], min_size=1_000_000)


def test_a_million_rows_with_ids_that_round_trip(source: StreamingTaskSource) -> None:
    assert isinstance(source, TaskSource)
    assert len(source) >= 1_000_000 and source.n_slots == 6 + 8
    rows = np.concatenate([[0, 1, len(source) - 1], np.random.default_rng(0).choice(len(source), 500, replace=False)])
    ids = source.ids_of(rows)
    np.testing.assert_array_equal(source.rows_of(ids), rows)
    assert len(set(ids)) == len(ids)
    for row, task_id in zip(rows[:20], ids[:20], strict=True):
        family, level, index = source.locate(row)
        task = source[int(row)]
        assert task.task_id == task_id and task == family.generate(level, index)  # deterministic generation
        assert source.get(task_id) == task


def test_unknown_ids_are_named(source: StreamingTaskSource) -> None:
    tpl = source.tasks_per_level
    for bad in [
        "nonsense",
        "sudoku:L1:s0:0",  # family not in the source
        "addition:L9:s0:0",  # level outside the family
        "addition:L1:s7:0",  # another seed
        f"addition:L1:s0:{tpl}",  # index past the stream
        "addition:1:s0:0",
    ]:
        with pytest.raises(UnknownTaskError, match=bad):
            source.rows_of([bad])
    with pytest.raises(IndexError):
        source[len(source)]


def test_mixed_difficulty_and_levels_by_arithmetic(source: StreamingTaskSource) -> None:
    rows = np.random.default_rng(1).choice(len(source), 2000, replace=False)
    levels = source.levels(rows)
    assert set(levels.tolist()) == set(range(1, 9))
    np.testing.assert_array_equal(levels[:50], [source[int(r)].level for r in rows[:50]])
    families = {source[int(r)].category for r in rows[:100]}
    assert families == {"addition", "op_chain"}
    assert source.levels().shape == (len(source),)
    assert source.category_names == ["addition", "op_chain"] and source.category_codes.shape == (len(source),)


def test_cache_is_bounded_and_the_source_pickles() -> None:
    source = StreamingTaskSource([make_task_family("op_chain")], tasks_per_level=1000, cache_size=16)
    for row in range(100):
        source[row]
    assert len(source._cache) == 16
    clone = pickle.loads(pickle.dumps(source))
    assert len(clone) == len(source) and clone[5] == source[5] and len(clone._cache) == 1


def test_held_out_stream_is_disjoint_and_materialises() -> None:
    families = [make_task_family("addition"), make_task_family("op_chain")]
    train, held_out = disjoint_streams(families, tasks_per_level=1000, held_out_per_level=10)
    assert len(held_out) == 140
    eval_pool = held_out.materialize(np.arange(len(held_out)))
    assert not set(eval_pool.ids) & set(train.ids_of(np.arange(len(train))))
    with pytest.raises(UnknownTaskError):
        train.rows_of([eval_pool.ids[0]])
    with pytest.raises(ConfigError, match="families"):
        StreamingTaskSource([make_task_family("addition"), make_task_family("addition")])


def test_thompson_and_uniform_run_on_a_million_rows(source: StreamingTaskSource) -> None:
    rng = np.random.default_rng(0)
    for name in ("thompson", "uniform"):
        curriculum = make_curriculum(name, source, {"seed": 0})
        seen = []
        for _ in range(5):
            ids = curriculum.select(32)
            seen += ids
            curriculum.update([GroupOutcome(t, (rng.random(8) < 0.5).astype(float)) for t in ids])
        assert len(set(seen)) == len(seen)  # each prompt seen about once: history cannot help
        state = curriculum.state_dict()
        assert state["pool_size"] == len(source)
