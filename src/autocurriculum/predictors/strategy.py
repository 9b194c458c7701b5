"""Shared machinery of strategies that select with a learned teacher (Goldilocks, PCL).

Each step draws random candidates, scores them with the teacher, and picks
with epsilon-greedy: either the best of ``K`` fresh candidates per batch slot
(Goldilocks) or the top ``B`` of ``K * B`` (PCL). After rollout the observed
target of every generated group goes into the teacher's replay buffer and a
training job is submitted. Nothing is kept per prompt except a "trained on"
bit for the unseen-prompt metrics, so this works on streaming pools where each
prompt is seen about once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from autocurriculum.core import ConfigError, Curriculum, CurriculumConfig, GroupOutcome, Need, option, require
from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.core.task import TaskSource, prompts_of
from autocurriculum.predictors.async_trainer import TEACHER_MODES
from autocurriculum.predictors.features import FEATURE_KINDS, FeatureProvider, StudentHiddenStateFeatures, make_features
from autocurriculum.predictors.metrics import mean_absolute_error, spearman
from autocurriculum.predictors.teacher import DifficultyTeacher

SELECTION_RULES = ("per_slot", "top")


@dataclass
class PredictorConfig(CurriculumConfig):
    candidates: int = option(8, "K: random candidates scored per selected prompt (the research notes suggest 8-32).")
    selection: str = option(
        "per_slot", "'per_slot': best of K fresh candidates for each batch slot; 'top': the best B of K*B candidates."
    )
    epsilon: float = option(0.1, "Probability that a slot takes a random candidate instead of the teacher's pick.")
    warmup: int = option(32, "Examples the teacher must have seen before its scores are used (uniform until then).")
    features: str = option(
        "ngram",
        "Prompt features: 'ngram' (hashed character n-grams, no model), 'embedding' (all-MiniLM-L6-v2, "
        "needs the 'embeddings' extra) or 'student' (mean-pooled student hidden states; the strategy then "
        "declares Need.STUDENT_FEATURES, which the harness serves, or attach one with attach_feature_provider).",
    )
    ngram_dim: int = option(1024, "Hash buckets of the n-gram features.")
    ngram_max: int = option(4, "Longest character n-gram (n-grams of length 1..ngram_max are counted).")
    hidden: int = option(
        64,
        "Hidden width of the teacher's MLP head; 0 is a linear head (Goldilocks' choice on LM embeddings, "
        "too weak for raw n-gram counts, where utility is not monotone in any one feature).",
    )
    lr: float = option(1e-2, "Adam learning rate of the teacher head.")
    weight_decay: float = option(0.0, "Adam weight decay of the teacher head.")
    buffer_size: int = option(2048, "Sliding window of (prompt, observed target) examples the teacher trains on.")
    train_batch: int = option(64, "Minibatch size of teacher training.")
    train_steps: int = option(4, "Teacher optimiser steps per update() call.")
    teacher_mode: str = option(
        "lagged",
        "'lagged': train in a background thread, select with the weights one update old (deterministic); "
        "'latest': never wait, use the newest weights (not reproducible); 'sync': train inside update().",
    )
    teacher_lag: int = option(1, "In 'lagged' mode, how many updates the selector's weights may trail.")
    teacher_threads: int = option(
        1, "Torch intra-op threads for teacher training (set per thread: the student's setting is untouched)."
    )

    def validate(self) -> None:
        super().validate()
        require(self.candidates >= 1, "candidates", f"must be >= 1, got {self.candidates}")
        require(
            self.selection in SELECTION_RULES, "selection", f"must be one of {SELECTION_RULES}, got {self.selection!r}"
        )
        require(0.0 <= self.epsilon <= 1.0, "epsilon", f"must lie in [0, 1], got {self.epsilon}")
        require(self.warmup >= 0, "warmup", f"must be >= 0, got {self.warmup}")
        require(self.features in FEATURE_KINDS, "features", f"must be one of {FEATURE_KINDS}, got {self.features!r}")
        require(self.ngram_dim >= 2, "ngram_dim", f"must be >= 2, got {self.ngram_dim}")
        require(self.ngram_max >= 1, "ngram_max", f"must be >= 1, got {self.ngram_max}")
        require(self.hidden >= 0, "hidden", f"must be >= 0, got {self.hidden}")
        require(self.lr > 0, "lr", f"must be > 0, got {self.lr}")
        require(self.weight_decay >= 0, "weight_decay", f"must be >= 0, got {self.weight_decay}")
        require(self.buffer_size >= 1, "buffer_size", f"must be >= 1, got {self.buffer_size}")
        require(self.train_batch >= 1, "train_batch", f"must be >= 1, got {self.train_batch}")
        require(self.train_steps >= 0, "train_steps", f"must be >= 0, got {self.train_steps}")
        require(
            self.teacher_mode in TEACHER_MODES,
            "teacher_mode",
            f"must be one of {TEACHER_MODES}, got {self.teacher_mode!r}",
        )
        require(self.teacher_lag >= 0, "teacher_lag", f"must be >= 0, got {self.teacher_lag}")
        require(self.teacher_threads >= 1, "teacher_threads", f"must be >= 1, got {self.teacher_threads}")


class PredictorCurriculum(Curriculum):
    """Base of teacher-driven strategies; subclasses define the target and the utility of a prediction."""

    config_class: ClassVar[type[CurriculumConfig]] = PredictorConfig
    config: PredictorConfig
    target_range: ClassVar[tuple[float, float]] = (0.0, 1.0)  # the head's output range
    feature_cache_size: ClassVar[int] = 4096  # features of recently selected rows, reused by update()

    def __init__(self, pool: TaskSource, config: PredictorConfig | None = None):
        super().__init__(pool, config)
        _require_prompt_text(pool, type(self).__name__)
        c = self.config
        low, high = self.target_range
        self.teacher = DifficultyTeacher(
            make_features(c.features, ngram_dim=c.ngram_dim, ngram_max=c.ngram_max),
            low=low,
            high=high,
            hidden=c.hidden,
            lr=c.lr,
            weight_decay=c.weight_decay,
            seed=c.seed,
            buffer_size=c.buffer_size,
            mode=c.teacher_mode,
            lag=c.teacher_lag,
            threads=c.teacher_threads,
        )
        self.trained_on = np.zeros(len(pool), dtype=bool)  # rows whose outcome the teacher has trained on
        self._feature_cache: OrderedDict[int, np.ndarray] = OrderedDict()

    # ----- what subclasses define -----
    def target(self, pass_rates: np.ndarray) -> np.ndarray:
        """The teacher's regression target for observed group pass rates."""
        raise NotImplementedError

    def utility(self, predictions: np.ndarray) -> np.ndarray:
        """How much a prompt with this prediction is worth practising (higher is better)."""
        raise NotImplementedError

    # ----- the student-feature hook (like the oracle's estimator) -----
    @classmethod
    def needs_for(cls, config: CurriculumConfig) -> frozenset[Need]:
        """``Need.STUDENT_FEATURES`` with ``features='student'``; nothing otherwise."""
        assert isinstance(config, PredictorConfig)
        return frozenset({Need.STUDENT_FEATURES}) if config.features == "student" else frozenset()

    def provide(self, need: Need, provider: Callable[..., Any]) -> None:
        if need is Need.STUDENT_FEATURES:
            self.attach_feature_provider(provider)
        else:
            super().provide(need, provider)

    def attach_feature_provider(self, provider: FeatureProvider) -> None:
        """Give the teacher a function prompts -> (n, dim) mean-pooled student hidden states."""
        features = self.teacher.features
        if not isinstance(features, StudentHiddenStateFeatures):
            raise InvalidArgumentError(
                f"attach_feature_provider needs features='student', this strategy uses {features.kind!r}"
            )
        features.attach(provider)

    # ----- selection -----
    @property
    def teacher_ready(self) -> bool:
        return self.teacher.buffer.added >= self.config.warmup

    def _features_of(self, rows: np.ndarray) -> np.ndarray:
        missing = [int(r) for r in rows if int(r) not in self._feature_cache]
        if missing:
            computed = self.teacher.embed(prompts_of(self.pool, missing))
            fresh = dict(zip(missing, computed, strict=True))
        else:
            fresh = {}
        return np.stack([fresh[int(r)] if int(r) in fresh else self._feature_cache[int(r)] for r in rows])

    def _remember(self, rows: np.ndarray, features: np.ndarray) -> None:
        for row, vector in zip(rows.tolist(), features, strict=True):
            self._feature_cache[row] = vector
            self._feature_cache.move_to_end(row)
        while len(self._feature_cache) > self.feature_cache_size:
            self._feature_cache.popitem(last=False)

    def _select_rows(self, n: int) -> np.ndarray:
        c = self.config
        size = len(self.pool)
        if c.selection == "per_slot":
            k = max(1, min(c.candidates, size // n))  # a small pool shares its rows out between the slots
            candidates = self.uniform_rows(n * k)
        else:
            k = c.candidates
            candidates = self.uniform_rows(min(size, n * k))
            if candidates.size < n:  # tiny pool: allow repeats
                candidates = self.uniform_rows(n * k)
        if not self.teacher_ready:
            return candidates[:n]  # a uniform sample: untrained scores would only add an arbitrary bias
        features = self._features_of(candidates)
        scores = self.utility(self.teacher.predict(features))
        if c.selection == "per_slot":
            best = np.argmax(scores.reshape(n, k), axis=1)
            if c.epsilon > 0:
                explore = self.rng.random(n) < c.epsilon
                best = np.where(explore, self.rng.integers(0, k, size=n), best)
            picked = np.arange(n) * k + best
        else:
            order = np.argsort(-scores, kind="stable")
            picked, rest = order[:n].copy(), order[n:]
            if c.epsilon > 0:
                explore = np.flatnonzero(self.rng.random(n) < c.epsilon)
                if explore.size and rest.size:
                    picked[explore] = self.rng.choice(rest, size=explore.size, replace=explore.size > rest.size)
        self._remember(candidates[picked], features[picked])
        return candidates[picked]

    # ----- learning -----
    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        c = self.config
        targets = self.target(np.array([o.pass_rate for o in outcomes], dtype=np.float64))
        features = self._features_of(rows)
        unseen = ~self.trained_on[rows]
        if unseen.any():  # scored before training on them: the honest test of generalisation
            predictions = self.teacher.predict(features[unseen])
            self.teacher.metrics.record(self.updates_seen, predictions, targets[unseen])
        self.trained_on[rows] = True
        self.teacher.observe(features, targets, rows, self.rng, c.train_batch, c.train_steps)

    # ----- reporting and lifetime -----
    def teacher_metrics(self) -> dict[str, Any] | None:
        """Teacher quality and compute for the run summary (waits for queued teacher jobs first).

        ``teacher_mae_unseen`` / ``teacher_spearman``: over the last 512 prompts scored before the
        teacher trained on them (in target space: sqrt(p(1-p)) for Goldilocks, p for PCL);
        ``teacher_mae_history``: one record per update; ``teacher_seconds``: compute to charge
        (features + inference + update bookkeeping + training, wherever it ran), divide by the
        run's wall time for ``teacher_time_fraction``; ``teacher_wait_seconds``: selection stalls.
        """
        self.teacher.flush()
        trainer = self.teacher.trainer
        return {
            **self.teacher.metrics.summary(),
            **self.teacher.timings(),
            "teacher_train_steps": trainer.train_steps if trainer else 0,
            "teacher_loss": trainer.last_loss if trainer else float("nan"),
            "teacher_buffer_size": len(self.teacher.buffer),
            "teacher_mae_history": [dict(h) for h in self.teacher.metrics.history],
        }

    def evaluate_teacher(self, prompts: Sequence[str], pass_rates: np.ndarray) -> dict[str, float] | None:
        """Teacher error on any prompts with measured pass rates (for example the held-out evaluation set).

        Unlike the online ``teacher_mae_unseen`` (scored on the prompts the strategy chose, a
        range-restricted sample), this measures generalisation over the whole difficulty range.
        Neither the buffer nor the timings change.
        """
        pass_rates = np.asarray(pass_rates, dtype=np.float64).reshape(-1)
        if pass_rates.size != len(prompts):
            raise InvalidArgumentError(f"evaluate_teacher: {len(prompts)} prompts but {pass_rates.size} pass rates")
        if not len(prompts):
            return {"mae": float("nan"), "spearman": float("nan"), "examples": 0}
        features = self.teacher.features(list(prompts))
        predictions = self.teacher.predict(features)
        targets = self.target(pass_rates)
        return {
            "mae": mean_absolute_error(predictions, targets),
            "spearman": spearman(predictions, targets),
            "examples": len(prompts),
        }

    @property
    def teacher_seconds(self) -> float:
        return self.teacher.timings()["teacher_seconds"]

    def close(self) -> None:
        """Stop the background teacher worker (it also stops when the curriculum is garbage collected)."""
        self.teacher.close()

    # ----- persistence -----
    def _stateful_parts(self) -> dict[str, Any]:
        return {"teacher": self.teacher}

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["trained_on"] = np.packbits(self.trained_on)
        if self.config.features == "student":
            # features of the student as it was when each row was picked, reused later: state, not a mere cache
            # (text features are recomputed identically, so they need not be saved)
            rows = list(self._feature_cache)
            state["feature_cache"] = {
                "rows": np.asarray(rows, dtype=np.int64),
                "features": np.stack([self._feature_cache[r] for r in rows]) if rows else np.zeros((0, 0), np.float32),
            }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.trained_on = np.unpackbits(np.asarray(state["trained_on"], dtype=np.uint8), count=len(self.pool)).astype(
            bool
        )
        self._feature_cache.clear()
        cache = state.get("feature_cache")  # absent for text features, and in states saved before it was kept
        if cache is not None:
            for row, vector in zip(np.asarray(cache["rows"]).tolist(), np.asarray(cache["features"]), strict=True):
                self._feature_cache[int(row)] = vector


def _require_prompt_text(pool: TaskSource, strategy: str, probes: int = 64) -> None:
    """A learned teacher predicts from prompt text: a pool without any (ids only) would make every prompt look the
    same and the selection random, silently. Refuse it by name."""
    if len(pool) == 0:
        return
    rows = np.unique(np.linspace(0, len(pool) - 1, num=min(probes, len(pool))).astype(np.int64))
    if all(not pool[int(r)].prompt for r in rows):
        raise ConfigError(
            f"{strategy}: the pool's prompts are empty (checked {len(rows)} rows, e.g. task "
            f"{pool[int(rows[0])].task_id!r}); a learned teacher predicts from prompt text, so build the pool with "
            "its prompts"
        )
