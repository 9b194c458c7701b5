"""Teacher building blocks: features, replay buffer, head, asynchronous trainer, metrics."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from autocurriculum.predictors import (
    AsyncTeacherTrainer,
    DifficultyTeacher,
    HashedNgramFeatures,
    HeadSpec,
    ReplayBuffer,
    TeacherMetrics,
    TeacherTrainingError,
    TorchHeadLearner,
    hidden_state_provider,
    init_weights,
    mean_absolute_error,
    predict,
    rankdata,
    spearman,
    teacher_time_fraction,
)
from autocurriculum.tasks import make_task_family

# ----- features -----


def test_ngram_features_are_normalised_deterministic_and_discriminative() -> None:
    features = HashedNgramFeatures(dim=256)
    prompts = ["A000357+000482=", "A000357+000482=", "C3+4*2-5....="]
    x = features(prompts)
    assert x.shape == (3, 256) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(x[0], x[1])
    np.testing.assert_array_equal(x, HashedNgramFeatures(dim=256)(prompts))  # stable across instances/processes
    assert float(x[0] @ x[2]) < 0.5
    assert features([]).shape == (0, 256)


# ----- replay buffer -----


def test_replay_buffer_keeps_only_the_newest_examples() -> None:
    buffer = ReplayBuffer(capacity=5)
    for start in range(0, 12, 3):  # 12 examples, 3 at a time
        values = np.arange(start, start + 3, dtype=np.float32)
        buffer.add(values[:, None], values, rows=values.astype(int))
    assert len(buffer) == 5 and buffer.added == 12
    assert sorted(buffer.targets.tolist()) == [7.0, 8.0, 9.0, 10.0, 11.0]
    np.testing.assert_array_equal(buffer.features[:, 0], buffer.targets)
    buffer.add(np.arange(20, dtype=np.float32)[:, None], np.arange(20, dtype=np.float32))  # more than fits at once
    assert len(buffer) == 5 and sorted(buffer.targets.tolist()) == [15.0, 16.0, 17.0, 18.0, 19.0]
    idx = buffer.sample_indices(np.random.default_rng(0), 3)
    assert len(set(idx.tolist())) == 3 and idx.max() < 5


def test_replay_buffer_state_round_trip_and_checks() -> None:
    buffer = ReplayBuffer(capacity=4)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample_indices(np.random.default_rng(0), 2)
    buffer.add(np.ones((3, 2)), np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="width"):
        buffer.add(np.ones((1, 3)), np.array([0.5]))
    restored = ReplayBuffer(capacity=4)
    restored.load_state_dict(buffer.state_dict())
    assert restored.state_dict().keys() == buffer.state_dict().keys()
    np.testing.assert_array_equal(restored.targets, buffer.targets)
    np.testing.assert_array_equal(restored.features, buffer.features)
    assert (restored.size, restored.position, restored.added) == (3, 3, 3)
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(capacity=8).load_state_dict(buffer.state_dict())


# ----- head -----


@pytest.mark.parametrize("hidden", [0, 16])
def test_snapshot_predict_matches_the_training_forward_and_respects_the_range(hidden: int) -> None:
    import torch

    spec = HeadSpec(dim=12, hidden=hidden, low=0.0, high=0.5)
    learner = TorchHeadLearner(spec, seed=3, lr=0.05)
    x = np.random.default_rng(0).normal(size=(20, 12)).astype(np.float32)
    y = np.full(20, 0.4, dtype=np.float32)
    for _ in range(30):
        learner.train_step(x, y)
    with torch.no_grad():
        expected = learner.forward(torch.from_numpy(x)).numpy()
    got = predict(spec, learner.get_weights(), x)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert ((got >= 0.0) & (got <= 0.5)).all()
    assert abs(got.mean() - 0.4) < 0.05  # it fitted the constant
    np.testing.assert_array_equal(init_weights(spec, 3)["w0"], init_weights(spec, 3)["w0"])


def _synthetic_difficulty() -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """Prompts of two families whose pass rate is a known function of level (unknown to the teacher)."""
    addition, op_chain = make_task_family("addition"), make_task_family("op_chain")

    def sample(indices: range) -> tuple[list[str], np.ndarray]:
        prompts, rates = [], []
        for i in indices:
            for level in addition.levels:
                prompts.append(addition.generate(level, i).prompt)
                rates.append(max(0.0, 1.0 - 0.2 * (level - 1)))  # 1.0 .. 0.0
            for level in op_chain.levels:
                prompts.append(op_chain.generate(level, i).prompt)
                rates.append(0.95 ** (2 * level))
        return prompts, np.array(rates)

    train_prompts, train_p = sample(range(0, 30))
    test_prompts, test_p = sample(range(1000, 1010))
    return train_prompts, train_p, test_prompts, test_p


@pytest.mark.parametrize("target", ["utility", "pass_rate"])
def test_teacher_learns_a_known_difficulty_function_on_unseen_prompts(target: str) -> None:
    train_prompts, train_p, test_prompts, test_p = _synthetic_difficulty()
    transform = (lambda p: np.sqrt(p * (1 - p))) if target == "utility" else (lambda p: p)
    high = 0.5 if target == "utility" else 1.0
    teacher = DifficultyTeacher(
        HashedNgramFeatures(), low=0.0, high=high, hidden=64, lr=0.01, buffer_size=4096, mode="sync"
    )
    rng = np.random.default_rng(0)
    order = rng.permutation(len(train_prompts))
    for chunk in np.array_split(order, 30):  # 30 "updates", as the trainer would send them
        x = teacher.embed([train_prompts[i] for i in chunk])
        teacher.observe(x, transform(train_p[chunk]), chunk, rng, train_batch=64, train_steps=10)
    predictions = teacher.predict(teacher.embed(test_prompts))
    truth = transform(test_p)
    baseline = mean_absolute_error(np.full_like(truth, transform(train_p).mean()), truth)
    assert mean_absolute_error(predictions, truth) < 0.6 * baseline  # measured: 0.43 (utility), 0.25 (pass rate)
    assert spearman(predictions, truth) > 0.75  # measured: 0.85, 0.97
    assert teacher.timings()["teacher_train_seconds"] > 0


# ----- asynchronous trainer -----


class SlowLearner:
    """A learner whose weights count the steps taken; each step takes ``delay`` seconds."""

    def __init__(self, delay: float = 0.0, fail: bool = False):
        self.delay, self.fail, self.steps = delay, fail, 0
        self.threads: set[str] = set()

    def train_step(self, features: np.ndarray, targets: np.ndarray) -> float:
        time.sleep(self.delay)
        if self.fail:
            raise FloatingPointError("boom")
        self.threads.add(threading.current_thread().name)
        self.steps += 1
        return 0.0

    def get_weights(self) -> dict[str, np.ndarray]:
        return {"w0": np.array([float(self.steps)])}

    def state_dict(self) -> dict:
        return {"steps": self.steps}

    def load_state_dict(self, state: dict) -> None:
        self.steps = state["steps"]


BATCH = [(np.zeros((2, 1)), np.zeros(2))]


def test_async_trainer_trains_in_the_background_and_the_selector_sees_new_weights() -> None:
    learner = SlowLearner(delay=0.2)
    trainer = AsyncTeacherTrainer(learner, mode="latest")
    start = time.perf_counter()
    trainer.submit(BATCH)
    assert time.perf_counter() - start < 0.1  # submit does not wait for training
    version, weights = trainer.weights_for_selection()
    assert version == 0 and weights["w0"][0] == 0.0  # 'latest' never waits
    deadline = time.time() + 5
    while trainer.weights_for_selection()[0] < 1 and time.time() < deadline:
        time.sleep(0.01)
    version, weights = trainer.weights_for_selection()
    assert version == 1 and weights["w0"][0] == 1.0
    assert learner.threads == {"autocurriculum-teacher"}  # not the caller's thread
    assert trainer.train_seconds >= 0.2 and trainer.train_steps == 1
    trainer.close()


def test_lagged_trainer_overlaps_one_job_and_serves_the_previous_version() -> None:
    trainer = AsyncTeacherTrainer(SlowLearner(delay=0.05), mode="lagged", lag=1)
    trainer.submit(BATCH)
    trainer.submit(BATCH)
    version, weights = trainer.weights_for_selection()  # waits for job 1 only
    assert version == 1 and weights["w0"][0] == 1.0
    trainer.flush()
    assert trainer.weights_for_selection()[0] == 1  # still one behind, even though job 2 is done
    state = trainer.state_dict()
    restored = AsyncTeacherTrainer(SlowLearner(), mode="lagged", lag=1)
    restored.load_state_dict(state)
    assert restored.weights_for_selection() == (1, {"w0": np.array([1.0])})
    sync = AsyncTeacherTrainer(SlowLearner(), mode="sync")
    sync.submit(BATCH)
    assert sync.weights_for_selection()[0] == 1 and sync.worker_thread_names == {threading.current_thread().name}


def test_async_trainer_reports_worker_errors_in_the_callers_thread() -> None:
    trainer = AsyncTeacherTrainer(SlowLearner(fail=True), mode="lagged", lag=0)
    trainer.submit(BATCH)
    with pytest.raises(TeacherTrainingError, match="boom"):
        trainer.weights_for_selection()
    with pytest.raises(ValueError, match="teacher_mode"):
        AsyncTeacherTrainer(SlowLearner(), mode="eventually")


# ----- metrics -----


def test_rankdata_and_spearman() -> None:
    np.testing.assert_array_equal(rankdata(np.array([10.0, 30.0, 20.0, 20.0])), [1.0, 4.0, 2.5, 2.5])
    x = np.array([0.1, 0.4, 0.2, 0.9, 0.5])
    assert spearman(x, x**3) == pytest.approx(1.0)
    assert spearman(x, -x) == pytest.approx(-1.0)
    assert spearman(np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 4.0])) == pytest.approx(0.8)
    assert np.isnan(spearman(np.ones(4), x[:4]))
    assert np.isnan(spearman(x[:1], x[:1]))
    assert mean_absolute_error(np.array([0.0, 1.0]), np.array([0.5, 0.5])) == 0.5
    assert teacher_time_fraction(2.0, 8.0) == 0.25 and teacher_time_fraction(1.0, 0.0) == 0.0


def test_teacher_metrics_window_history_and_state() -> None:
    metrics = TeacherMetrics(window=4)
    assert np.isnan(metrics.summary()["teacher_mae_unseen"])
    metrics.record(0, np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    metrics.record(1, np.array([0.1, 0.2, 0.3]), np.array([0.1, 0.2, 0.3]))
    summary = metrics.summary()
    assert summary["teacher_mae_unseen"] == pytest.approx(0.25)  # window: one old miss, three exact
    assert summary["teacher_examples_unseen"] == 6
    assert [h["mae"] for h in metrics.history] == pytest.approx([1.0, 0.0])
    restored = TeacherMetrics(window=4)
    restored.load_state_dict(metrics.state_dict())
    assert restored.summary() == summary


def test_hidden_state_provider_mean_pools_the_students_final_layer() -> None:
    from autocurriculum.trainers.tiny_gpt import TinyGPT, TinyGPTConfig, position_ids_from_mask
    from autocurriculum.trainers.tokenizer import CharTokenizer

    tokenizer = CharTokenizer("AC0123456789+-*.=")
    model = TinyGPT(
        TinyGPTConfig(vocab_size=tokenizer.vocab_size, d_model=16, n_layers=1, n_heads=2, max_seq_len=48), seed=0
    )
    provider = hidden_state_provider(
        model.ln_f, lambda ids, mask: model(ids, position_ids_from_mask(mask), mask), tokenizer.encode
    )
    prompts = ["A000357+000482=", "C3+4*2-5=", "A1+2="]
    x = provider(prompts)
    assert x.shape == (3, 16) and x.dtype == np.float32 and np.isfinite(x).all()
    np.testing.assert_allclose(provider(prompts[2:]), x[2:], atol=1e-5)  # padding does not leak into the mean
