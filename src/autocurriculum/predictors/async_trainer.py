"""Teacher training beside the trainer: a background worker that publishes versioned weights.

Modes (``TEACHER_MODES``):

* ``sync``: train inside ``update()``; the selector always sees the newest weights.
  Simplest, but the trainer waits for the teacher.
* ``lagged`` (default): training jobs run on a background thread in submission
  order; the selector uses the weights after job ``submitted - lag`` (waiting only
  if that job is not done yet). With ``lag = 1`` the job submitted by one
  ``update()`` overlaps the trainer's next rollout and optimiser step, and the
  selection is still a deterministic function of the seed and the feedback, so
  runs reproduce and ``state_dict`` round-trips exactly.
* ``latest``: fully asynchronous, as in Goldilocks' client-server design: the
  selector never waits and takes whatever weights were published last. Fastest,
  not reproducible.

Job content (the minibatches) is fixed when it is submitted, so only the
learner's own state evolves on the worker.
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from autocurriculum.core.errors import AutocurriculumError, ConfigError

TEACHER_MODES = ("sync", "lagged", "latest")

Weights = dict[str, np.ndarray]
Minibatch = tuple[np.ndarray, np.ndarray]  # (features, targets)


class HeadLearner(Protocol):
    """What ``AsyncTeacherTrainer`` trains: the difficulty head's learner (``TorchHeadLearner``)."""

    def train_step(self, features: np.ndarray, targets: np.ndarray) -> float: ...

    def get_weights(self) -> Weights: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


# Trainers with a live worker thread. At interpreter exit a daemon thread still inside a torch op aborts the
# process ("terminate called without an active exception"), so every live worker is stopped before that.
_LIVE_TRAINERS: weakref.WeakSet[AsyncTeacherTrainer] = weakref.WeakSet()


@atexit.register
def _stop_live_workers() -> None:
    for trainer in list(_LIVE_TRAINERS):
        trainer.close()


class TeacherTrainingError(AutocurriculumError, RuntimeError):
    """The background teacher job failed; raised in the caller's thread at its next call."""


def _worker(jobs: queue.Queue, trainer_ref: weakref.ref) -> None:
    # Holds only a weak reference while idle, so an abandoned trainer can be collected
    # (its finalizer then posts the stop sentinel).
    while True:
        item = jobs.get()
        if item is None:
            return
        trainer = trainer_ref()
        if trainer is None:
            return
        trainer._run(*item)
        del trainer


class AsyncTeacherTrainer:
    """Runs ``learner.train_step`` over submitted minibatches and publishes a weight snapshot per job."""

    def __init__(self, learner: HeadLearner, mode: str = "lagged", lag: int = 1):
        if mode not in TEACHER_MODES:
            raise ConfigError(f"teacher_mode: unknown mode {mode!r}; valid modes: {', '.join(TEACHER_MODES)}")
        if lag < 0:
            raise ConfigError(f"teacher_lag: must be >= 0, got {lag}")
        self.learner = learner
        self.mode = mode
        self.lag = int(lag) if mode == "lagged" else 0
        self.submitted = 0  # jobs submitted; job v produces weight version v
        self.completed = 0  # newest published version
        self._versions: dict[int, Weights] = {0: learner.get_weights()}
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._jobs: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        # Accounting: the harness charges teacher compute separately from the student's.
        self.train_seconds = 0.0  # spent inside training jobs (on the worker in async modes)
        self.wait_seconds = 0.0  # selection blocked waiting for weights (stalls the trainer)
        self.train_steps = 0
        self.last_loss = float("nan")
        self.worker_thread_names: set[str] = set()

    # ----- submission and the worker -----
    def submit(self, minibatches: Sequence[Minibatch]) -> int:
        """Queue one training job; returns the weight version it will publish."""
        self._raise_pending_error()
        with self._cond:
            self.submitted += 1
            version = self.submitted
        batches = [(np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)) for x, y in minibatches]
        if self.mode == "sync":
            self._run(version, batches)
            self._raise_pending_error()
        else:
            self._ensure_worker()
            assert self._jobs is not None
            self._jobs.put((version, batches))
        return version

    def _ensure_worker(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._jobs = queue.Queue()
        self._thread = threading.Thread(
            target=_worker, args=(self._jobs, weakref.ref(self)), name="autocurriculum-teacher", daemon=True
        )
        self._thread.start()
        _LIVE_TRAINERS.add(self)
        weakref.finalize(self, self._jobs.put, None)

    def _run(self, version: int, batches: list[Minibatch]) -> None:
        start = time.perf_counter()
        try:
            loss = float("nan")
            for x, y in batches:
                loss = self.learner.train_step(x, y)
            weights = self.learner.get_weights()
        except BaseException as exc:  # surfaced in the caller's thread, never swallowed
            with self._cond:
                self._error = exc
                self.completed = version
                self._cond.notify_all()
            return
        elapsed = time.perf_counter() - start
        with self._cond:
            self._versions[version] = weights
            self.completed = version
            self.train_seconds += elapsed
            self.train_steps += len(batches)
            self.last_loss = loss
            self.worker_thread_names.add(threading.current_thread().name)
            self._cond.notify_all()

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise TeacherTrainingError(f"teacher training failed: {error!r}") from error

    def _wait_for(self, version: int, stall: bool = True) -> None:
        """Block until ``version`` is published; ``stall`` waits (selection) are charged to ``wait_seconds``."""
        if self.completed >= version:
            self._raise_pending_error()
            return
        start = time.perf_counter()
        with self._cond:
            while self.completed < version and self._error is None:
                self._cond.wait()
        if stall:
            self.wait_seconds += time.perf_counter() - start
        self._raise_pending_error()

    # ----- what the selector uses -----
    def weights_for_selection(self) -> tuple[int, Weights]:
        """``(version, weights)`` the selector should score with now (see the module docstring)."""
        self._raise_pending_error()
        if self.mode == "latest":
            with self._cond:
                version = self.completed
        else:
            version = max(0, self.submitted - self.lag)
            if self.completed < version:
                self._wait_for(version)
        with self._cond:
            if version not in self._versions:  # restored from a state saved with a smaller lag
                version = min(v for v in self._versions if v >= version)
            weights = self._versions[version]
            for old in [v for v in self._versions if v < version]:  # never needed again
                del self._versions[old]
        return version, weights

    def flush(self) -> None:
        """Wait until every submitted job has finished (for reports and checkpoints: not a selection stall)."""
        self._wait_for(self.submitted, stall=False)

    def close(self) -> None:
        """Stop the worker after the queued jobs (the trainer stays usable in sync fashion afterwards)."""
        if self._jobs is not None and self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None
        _LIVE_TRAINERS.discard(self)

    # ----- persistence -----
    def state_dict(self) -> dict[str, Any]:
        self.flush()  # a consistent snapshot: no job half-applied
        keep_from = max(0, self.submitted - self.lag)
        with self._cond:
            versions = {v: {k: w.copy() for k, w in ws.items()} for v, ws in self._versions.items() if v >= keep_from}
            return {
                "learner": self.learner.state_dict(),
                "submitted": self.submitted,
                "versions": versions,
                "train_seconds": self.train_seconds,
                "wait_seconds": self.wait_seconds,
                "train_steps": self.train_steps,
                "last_loss": self.last_loss,
            }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.flush()
        with self._cond:
            self.learner.load_state_dict(state["learner"])
            self.submitted = self.completed = int(state["submitted"])
            self._versions = {int(v): {k: np.array(w) for k, w in ws.items()} for v, ws in state["versions"].items()}
            self._versions[self.submitted] = self.learner.get_weights()
            self.train_seconds = float(state["train_seconds"])
            self.wait_seconds = float(state["wait_seconds"])
            self.train_steps = int(state["train_steps"])
            self.last_loss = float(state["last_loss"])
