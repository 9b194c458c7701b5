"""A learned difficulty teacher: prompt features -> head, trained online from a replay buffer."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from autocurriculum.core.errors import StateFormatError
from autocurriculum.predictors.async_trainer import AsyncTeacherTrainer
from autocurriculum.predictors.features import FeatureExtractor
from autocurriculum.predictors.head import HeadSpec, predict, require_torch_installed
from autocurriculum.predictors.metrics import TeacherMetrics
from autocurriculum.predictors.replay_buffer import ReplayBuffer


class DifficultyTeacher:
    """Predicts a per-prompt target (sqrt(p(1-p)) or p) for prompts it may never have seen.

    The torch learner is built on the first features, when their width is known,
    so constructing a strategy imports no torch and loads no model.
    Compute is timed per phase so the harness can charge it to the strategy.
    """

    def __init__(
        self,
        features: FeatureExtractor,
        *,
        low: float,
        high: float,
        hidden: int = 0,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        seed: int = 0,
        buffer_size: int = 2048,
        mode: str = "lagged",
        lag: int = 1,
        metrics_window: int = 512,
        threads: int = 1,
    ):
        require_torch_installed()  # fail when the strategy is built, not at its first update
        self.features = features
        self.low, self.high, self.hidden = float(low), float(high), int(hidden)
        self.lr, self.weight_decay, self.seed = float(lr), float(weight_decay), int(seed)
        self.mode, self.lag, self.threads = mode, int(lag), int(threads)
        self.buffer = ReplayBuffer(buffer_size)
        self.metrics = TeacherMetrics(metrics_window)
        self.spec: HeadSpec | None = None
        self.trainer: AsyncTeacherTrainer | None = None
        self.feature_seconds = 0.0  # computing prompt features (select and update)
        self.inference_seconds = 0.0  # scoring candidates with the head
        self.update_seconds = 0.0  # buffer insertion and job submission in update()

    @property
    def built(self) -> bool:
        return self.trainer is not None

    def _build(self, dim: int) -> AsyncTeacherTrainer:
        if self.trainer is None:
            from autocurriculum.predictors.head import TorchHeadLearner  # torch is imported here, lazily

            self.spec = HeadSpec(dim=dim, hidden=self.hidden, low=self.low, high=self.high)
            learner = TorchHeadLearner(
                self.spec, seed=self.seed, lr=self.lr, weight_decay=self.weight_decay, threads=self.threads
            )
            self.trainer = AsyncTeacherTrainer(learner, mode=self.mode, lag=self.lag)
        return self.trainer

    def embed(self, prompts: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        matrix = self.features(prompts)
        self._build(matrix.shape[1])
        self.feature_seconds += time.perf_counter() - start
        return matrix

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predictions with the weights the selector may use now (see ``AsyncTeacherTrainer``)."""
        trainer = self._build(features.shape[1])
        start = time.perf_counter()
        _, weights = trainer.weights_for_selection()
        assert self.spec is not None
        out = predict(self.spec, weights, features, threads=self.threads)
        self.inference_seconds += time.perf_counter() - start
        return out

    def observe(
        self,
        features: np.ndarray,
        targets: np.ndarray,
        rows: np.ndarray,
        rng: np.random.Generator,
        train_batch: int,
        train_steps: int,
    ) -> None:
        """Add examples to the window and submit one training job of ``train_steps`` minibatches."""
        trainer = self._build(features.shape[1])
        start, trained_before = time.perf_counter(), trainer.train_seconds
        self.buffer.add(features, targets, rows)
        size = min(train_batch, len(self.buffer))
        minibatches = [self.buffer.batch(self.buffer.sample_indices(rng, size)) for _ in range(train_steps)]
        trainer.submit(minibatches)
        elapsed = time.perf_counter() - start
        if trainer.mode == "sync":  # the job ran inside submit() and is already in train_seconds
            elapsed -= trainer.train_seconds - trained_before
        self.update_seconds += elapsed

    def flush(self) -> None:
        if self.trainer is not None:
            self.trainer.flush()

    def close(self) -> None:
        if self.trainer is not None:
            self.trainer.close()

    def timings(self) -> dict[str, float]:
        train = self.trainer.train_seconds if self.trainer else 0.0
        return {
            "teacher_feature_seconds": self.feature_seconds,
            "teacher_inference_seconds": self.inference_seconds,
            "teacher_update_seconds": self.update_seconds,
            "teacher_train_seconds": train,
            "teacher_wait_seconds": self.trainer.wait_seconds if self.trainer else 0.0,
            # compute to charge: everything the teacher ran, wherever it ran (waiting is not compute)
            "teacher_seconds": self.feature_seconds + self.inference_seconds + self.update_seconds + train,
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "buffer": self.buffer.state_dict(),
            "trainer": None if self.trainer is None else self.trainer.state_dict(),
            "metrics": self.metrics.state_dict(),
            "seconds": [self.feature_seconds, self.inference_seconds, self.update_seconds],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.buffer.load_state_dict(state["buffer"])
        self.metrics.load_state_dict(state["metrics"])
        self.feature_seconds, self.inference_seconds, self.update_seconds = (float(s) for s in state["seconds"])
        if state["trainer"] is None:
            if self.trainer is not None:
                self.trainer.close()
            self.trainer, self.spec = None, None
            return
        dim = int(np.asarray(state["trainer"]["learner"]["weights"]["w0"]).shape[1])
        if self.spec is not None and self.spec.dim != dim:
            raise StateFormatError(f"state holds a teacher for {dim}-d features, this one uses {self.spec.dim}-d")
        self._build(dim).load_state_dict(state["trainer"])
