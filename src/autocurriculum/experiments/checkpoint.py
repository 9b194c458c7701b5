"""Crash-safe checkpoints of one testbed run, so that ``--resume`` continues it bit-identically.

A run keeps two files in its own directory:

    checkpoint.pt   between two steps, every ``rl.checkpoint_every`` steps: the student and its AdamW state (and
                    the frozen KL reference, if any), the trainer's sampling generator and step count, the
                    curriculum state (``core.codec``), the oracle's sampling generator, the RunResult so far, the
                    next evaluation point, the time spent and the byte length of the run's metrics file
    result.json     once the run is done: its RunResult, so a finished run is never redone

``checkpoint.pt`` is a one-line JSON header (format, library version, the run's fingerprint, length and SHA-256 of
the body) followed by a ``torch.save`` body of tensors and plain data that loads with ``weights_only=True``. Both
files are written to a temporary file in the same directory, fsynced and renamed over the old one, so a crash at any
moment leaves either the old file or the new one, never a mix. On resume the header is checked before anything
is restored: a truncated or corrupt file, another version of the library or a different run (config, strategy,
seed, pool, warm start) is refused with a ``CheckpointError`` naming the file and the mismatch, and the file is left
as it was. The metrics file is then cut back to the recorded length, so no row is duplicated or missing.

The fingerprint leaves out what does not change results: ``testbed.workers``, ``testbed.warm_start_cache`` and
``rl.checkpoint_every``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import torch

from autocurriculum import __version__
from autocurriculum.core import ConfigError, Curriculum, make_config
from autocurriculum.core.codec import StateFormatError, decode_state, encode_state, state_from_json, state_to_json
from autocurriculum.experiments.config import RLConfig, resolve_strategy
from autocurriculum.trainers import GRPOConfig, GRPOTrainer, TinyGPT

if TYPE_CHECKING:
    from autocurriculum.experiments.runner import RunResult
    from autocurriculum.experiments.testbed import Testbed

CHECKPOINT_FORMAT = "autocurriculum.run-checkpoint/1"
RESULT_FORMAT = "autocurriculum.run-result/1"
CHECKPOINT_FILE = "checkpoint.pt"
RESULT_FILE = "result.json"
LOCK_FILE = ".lock"
# Settings that change how a run executes, not what it computes: they may differ between a run and its resume.
EXECUTION_ONLY_FIELDS = frozenset({"testbed.workers", "testbed.warm_start_cache", "rl.checkpoint_every"})
_POOL_IDS_HASHED = 65_536  # a bigger (streaming) pool is fingerprinted by this many evenly spaced ids


class CheckpointError(ConfigError):
    """A run checkpoint that cannot be resumed: truncated, corrupt, from another version or for another run."""


@dataclass
class RunProgress:
    """Where the loop of ``run_strategy`` stands between two steps, beside the trainer, curriculum and result."""

    step: int  # GRPO steps done
    next_eval: int  # rollouts at which the next held-out evaluation is due
    elapsed_seconds: float  # run time before this point (wall_seconds continues from it)
    metrics_offset: int  # bytes of the metrics file written by the steps done


# ----- what identifies a run -----
def run_fingerprint(
    testbed: Testbed,
    warm_model: TinyGPT,
    strategy: str,
    seed: int,
    grpo: GRPOConfig,
    rl: RLConfig,
    strategy_options: Mapping[str, Any],
) -> dict[str, Any]:
    """Everything that shapes a run's results, as plain JSON data; a checkpoint resumes only the same run."""
    name, options = resolve_strategy(strategy, dict(strategy_options))
    pool = testbed.train_pool
    fingerprint = {
        "strategy": strategy,
        "seed": seed,
        "strategy_config": {"strategy": name, **dataclasses.asdict(make_config(name, {"seed": seed, **options}))},
        "testbed": dataclasses.asdict(testbed.config),
        "warm_start": dataclasses.asdict(testbed.warm_start_config),
        "model": dataclasses.asdict(testbed.model_config),
        "grpo": dataclasses.asdict(testbed.grpo_config(grpo)),
        "rl": dataclasses.asdict(rl),
        "pool": {"size": len(pool), "ids_sha256": _pool_ids_digest(pool)},
        "warm_start_sha256": weights_digest(warm_model),
    }
    for path in EXECUTION_ONLY_FIELDS:
        section, key = path.split(".")
        del fingerprint[section][key]
    return json.loads(json.dumps(fingerprint))  # tuples become lists, as they will be when read back


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of a model's tensors (names, dtypes, shapes and bytes): equal digests mean bit-identical weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{flat.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _pool_ids_digest(pool: Any) -> str:
    size = len(pool)
    rows = np.arange(size) if size <= _POOL_IDS_HASHED else np.linspace(0, size - 1, _POOL_IDS_HASHED).astype(np.int64)
    return hashlib.sha256("\n".join(pool.ids_of(rows)).encode()).hexdigest()


def fingerprint_mismatch(saved: Any, current: Any, path: str = "") -> list[str]:
    """``field: saved there, current now`` for every dotted field where two fingerprints (or configs) differ."""
    if isinstance(saved, dict) and isinstance(current, dict):
        differences = []
        for key in sorted(set(saved) | set(current), key=str):
            where = f"{path}.{key}" if path else str(key)
            if where in EXECUTION_ONLY_FIELDS:
                continue
            if key not in saved or key not in current:
                side = "the checkpoint" if key not in saved else "this run"
                differences.append(f"{where}: missing in {side}")
            else:
                differences.extend(fingerprint_mismatch(saved[key], current[key], where))
        return differences
    return [] if saved == current else [f"{path or 'value'}: {saved!r} in the checkpoint, {current!r} now"]


# ----- the checkpoint of one run -----
class RunCheckpoint:
    """The crash-safe checkpoint and the final result of one run, in ``directory``; ``fingerprint`` names the run."""

    def __init__(self, directory: str | os.PathLike[str], fingerprint: dict[str, Any]):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        self.state_path = self.directory / CHECKPOINT_FILE
        self.result_path = self.directory / RESULT_FILE
        self._lock: IO[str] | None = None

    @property
    def finished(self) -> bool:
        return self.result_path.exists()

    @property
    def has_state(self) -> bool:
        return self.state_path.exists()

    def open(self, resume: bool) -> SavedRun | None:
        """Hold the run's directory for this process, and return the checkpoint to resume from (None: start afresh).

        Held by an exclusive lock until ``release`` or the process's end, kill -9 included: a worker of a killed
        comparison can finish its current run on its own, and a resume must not write beside it.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        self._hold()
        try:
            if not resume:  # a fresh run: what an earlier one left here must not be resumed later
                self.state_path.unlink(missing_ok=True)
                self.result_path.unlink(missing_ok=True)
                return None
            return self.load() if self.has_state else None
        except BaseException:
            self.release()
            raise

    def _hold(self) -> None:
        try:
            import fcntl
        except ImportError:  # no advisory locks (Windows): one process per run is then the caller's to ensure
            return
        handle = open(self.directory / LOCK_FILE, "a+")  # kept open: the lock lasts as long as this handle
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise CheckpointError(
                f"{self.directory}: another process (pid {holder}) is running this run, e.g. a worker of a killed "
                "comparison finishing the run it was on; wait until it ends or stop it, then resume"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock = handle

    def release(self) -> None:
        """Let another process hold the run's directory."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # ----- between two steps -----
    def save(
        self,
        progress: RunProgress,
        trainer: GRPOTrainer,
        curriculum: Curriculum,
        result: RunResult,
        oracle_generator: torch.Generator,
    ) -> None:
        """Write the run's whole state at a step boundary (atomically: the previous checkpoint stays until then)."""
        body = {
            "progress": dataclasses.asdict(progress),
            "model": _cpu_state(trainer.model),
            "optimizer": trainer.optimizer.state_dict(),
            "ref_model": None if trainer.ref_model is None else _cpu_state(trainer.ref_model),
            "trainer_generator": trainer.generator.get_state(),
            "trainer_step_count": trainer.step_count,
            "oracle_generator": oracle_generator.get_state(),
            # the curriculum flushes a background teacher first, so its snapshot has no job half-applied
            "curriculum": state_to_json(curriculum.state_dict()),
            "result": state_to_json(dataclasses.asdict(result)),
        }
        buffer = io.BytesIO()
        torch.save(body, buffer)
        data = buffer.getvalue()
        header = {
            "format": CHECKPOINT_FORMAT,
            "library_version": __version__,
            "step": progress.step,
            "rollouts": result.rollouts,
            "body_bytes": len(data),
            "body_sha256": hashlib.sha256(data).hexdigest(),
            "fingerprint": self.fingerprint,
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomically(self.state_path, json.dumps(header).encode() + b"\n" + data)

    def load(self) -> SavedRun:
        """The checkpoint, checked whole before anything is restored; a CheckpointError naming the file otherwise."""
        path = self.state_path
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CheckpointError(f"{path}: cannot read the run checkpoint ({exc})") from None
        line, newline, data = raw.partition(b"\n")
        try:
            header = json.loads(line) if newline else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            header = None
        if not isinstance(header, dict) or header.get("format") != CHECKPOINT_FORMAT:
            found = header.get("format") if isinstance(header, dict) else None
            raise CheckpointError(
                f"{path}: not a run checkpoint (format {found!r}, expected {CHECKPOINT_FORMAT!r}): the file is "
                "truncated or is something else"
            )
        _check_version(path, header.get("library_version"))
        if len(data) != header.get("body_bytes"):
            raise CheckpointError(
                f"{path}: truncated run checkpoint: {len(data)} bytes after the header, "
                f"{header.get('body_bytes')} expected"
            )
        if hashlib.sha256(data).hexdigest() != header.get("body_sha256"):
            raise CheckpointError(f"{path}: corrupt run checkpoint: its SHA-256 does not match the header")
        self._check_fingerprint(path, header.get("fingerprint"))
        try:
            body = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
            curriculum = state_from_json(body["curriculum"], f"{path}:curriculum")
            result = state_from_json(body["result"], f"{path}:result")
            progress = RunProgress(**body["progress"])
        except (RuntimeError, KeyError, TypeError, ValueError, StateFormatError) as exc:
            raise CheckpointError(f"{path}: unreadable run checkpoint ({exc})") from None
        return SavedRun(path, body, curriculum, result, progress)

    # ----- once the run is done -----
    def save_result(self, result: RunResult, metrics_offset: int) -> None:
        """Record the finished run (atomically), then drop its step checkpoint: a resume returns this result."""
        document = {
            "format": RESULT_FORMAT,
            "library_version": __version__,
            "fingerprint": self.fingerprint,
            "metrics_offset": metrics_offset,
            "result": encode_state(dataclasses.asdict(result)),
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        write_atomically(self.result_path, json.dumps(document, allow_nan=True).encode())
        self.state_path.unlink(missing_ok=True)

    def restore_result(self, result: RunResult) -> int:
        """Fill ``result`` with the finished run's; returns the byte length of its metrics file."""
        path = self.result_path
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{path}: unreadable run result ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != RESULT_FORMAT:
            found = document.get("format") if isinstance(document, dict) else None
            raise CheckpointError(f"{path}: not a run result (format {found!r}, expected {RESULT_FORMAT!r})")
        _check_version(path, document.get("library_version"))
        self._check_fingerprint(path, document.get("fingerprint"))
        _fill(result, decode_state(document["result"]), path)
        return int(document["metrics_offset"])

    def _check_fingerprint(self, path: Path, saved: Any) -> None:
        differences = fingerprint_mismatch(saved, self.fingerprint)
        if differences:
            raise CheckpointError(
                f"{path}: cannot resume: it was written for another run ({'; '.join(differences)}). Resume with the "
                "settings it was written with, or start afresh (--overwrite)"
            )


@dataclass
class SavedRun:
    """A checkpoint read and checked by ``RunCheckpoint.load``, ready to restore into a freshly built run."""

    path: Path
    body: dict[str, Any]
    curriculum_state: dict[str, Any]
    result_fields: dict[str, Any]
    progress: RunProgress

    def restore(
        self, trainer: GRPOTrainer, curriculum: Curriculum, result: RunResult, oracle_generator: torch.Generator
    ) -> RunProgress:
        """Put the saved state into the run's trainer, curriculum, result and oracle generator."""
        body = self.body
        trainer.model.load_state_dict(body["model"])
        trainer.optimizer.load_state_dict(body["optimizer"])
        if trainer.ref_model is not None:
            trainer.ref_model.load_state_dict(body["ref_model"])
        trainer.generator.set_state(body["trainer_generator"])
        trainer.step_count = int(body["trainer_step_count"])
        oracle_generator.set_state(body["oracle_generator"])
        try:
            curriculum.load_state_dict(self.curriculum_state)
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{self.path}: its curriculum state does not fit this run ({exc})") from None
        _fill(result, self.result_fields, self.path)
        return self.progress


def inexact_resume_reason(curriculum: Curriculum) -> str | None:
    """Why a resumed run of ``curriculum`` cannot match an uninterrupted one bit for bit; None when it does.

    Every strategy is exact except a learned teacher in ``teacher_mode='latest'``: it selects with whatever weights
    its background thread has published by then, so it is not reproducible even without a crash.
    """
    from autocurriculum.predictors.strategy import PredictorConfig

    config = curriculum.config
    if isinstance(config, PredictorConfig) and config.teacher_mode == "latest":
        return (
            f"strategy {curriculum.name!r} with teacher_mode='latest' selects with whatever teacher weights its "
            "background thread has published, so no two runs of it match bit for bit, resumed or not; use "
            "teacher_mode='lagged' (the default) for a reproducible run"
        )
    return None


# ----- helpers -----
def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old file or the new one: temp file, fsync, rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_directory(path.parent)  # the rename itself survives a power cut


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # a platform without directory handles (Windows): the rename is as durable as it gets
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def _check_version(path: Path, version: Any) -> None:
    if version != __version__:
        raise CheckpointError(
            f"{path}: written by autocurriculum {version}, this is {__version__}: another version may compute "
            "differently, so the run cannot resume bit-identically; start it afresh (--overwrite)"
        )


def _fill(result: RunResult, fields: dict[str, Any], path: Path) -> None:
    names = {f.name for f in dataclasses.fields(result)}
    if set(fields) != names:
        raise CheckpointError(f"{path}: its run result has fields {sorted(fields)}, expected {sorted(names)}")
    for name, value in fields.items():
        setattr(result, name, value)
