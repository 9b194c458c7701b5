"""A thread-safe front of one curriculum, shared by trainer threads in one process.

With ``persist_path`` the service also survives its own death: every ``persist_every`` applied updates it
writes the curriculum state atomically (temporary file, then ``os.replace``: a crash mid-write leaves the
previous file intact), and a service built over an existing file continues from it. A restart therefore loses
exactly the updates applied since the last persist, at most ``persist_every - 1``; ``persistence()`` says how
many were kept (``restored_from_update``), so a client that counted what it sent knows what was lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autocurriculum.core import Ability, Curriculum, CurriculumConfig, GroupOutcome, RolloutPlan, make_curriculum
from autocurriculum.core.codec import curriculum_state, load_state, save_state
from autocurriculum.core.errors import ConfigError
from autocurriculum.core.step_metrics import curriculum_step_metrics
from autocurriculum.core.task import TaskSource
from autocurriculum.service.rollout_groups import RolloutGrouping, RolloutGroups

# Updates between two persists. A persist of a 10^4-prompt Thompson state takes about 3 ms (an update through
# the Ray actor about 1 ms), so 100 adds ~0.03 ms per update while bounding a crash's loss to 99 updates.
# Trainers that send one update per step (seconds apart) can afford persist_every=1; a persist grows with the
# pool (about 0.3 s at 10^6 prompts), so raise it for huge pools updated often.
DEFAULT_PERSIST_EVERY = 100
PERSIST_FORMAT = "autocurriculum.service/1"


class CurriculumService:
    """Every call holds one lock, so concurrent clients never interleave half-applied updates.

    Strategies mutate several arrays per ``update`` (and draw from one RNG per
    ``select``); without the lock two threads could read-modify-write the same
    row and lose a group. The lock is re-entrant so a subclass may compose calls.
    """

    def __init__(
        self,
        curriculum: Curriculum,
        *,
        persist_path: str | Path | None = None,
        persist_every: int = DEFAULT_PERSIST_EVERY,
        rollouts: RolloutGrouping | None = None,
    ):
        if isinstance(persist_every, bool) or not isinstance(persist_every, int) or persist_every < 1:
            raise ConfigError(f"persist_every: must be a positive number of updates, got {persist_every!r}")
        self.curriculum = curriculum
        self._lock = threading.RLock()
        self.persist_path = None if persist_path is None else Path(persist_path)
        self.persist_every = persist_every
        self._updates_persisted = 0  # the update sequence number (updates_seen) in the file on disk
        self._restored_from_update: int | None = None
        # single rollouts reported one at a time (reward workers) are assembled into groups here
        self.rollout_groups = None if rollouts is None else RolloutGroups(curriculum.pool, rollouts)
        self._last_scored: list[GroupOutcome] = []
        self._last_selected: list[str] = []
        self._seconds = 0.0
        if self.persist_path is not None and self.persist_path.exists():
            self._restore(self.persist_path)

    @classmethod
    def create(
        cls,
        strategy: str,
        pool: TaskSource,
        config: CurriculumConfig | Mapping[str, Any] | None = None,
        *,
        persist_path: str | Path | None = None,
        persist_every: int = DEFAULT_PERSIST_EVERY,
        rollouts: RolloutGrouping | None = None,
    ) -> CurriculumService:
        return cls(
            make_curriculum(strategy, pool, config),
            persist_path=persist_path,
            persist_every=persist_every,
            rollouts=rollouts,
        )

    # ----- what collect_batch reads -----
    @property
    def name(self) -> str:
        return self.curriculum.name

    @property
    def abilities(self) -> frozenset[Ability]:
        return self.curriculum.abilities

    @property
    def max_generation_rounds(self) -> int:
        return self.curriculum.max_generation_rounds

    def generation_size(self, needed: int) -> int:
        with self._lock:
            return self.curriculum.generation_size(needed)

    def plan(self, n: int, group_size: int) -> RolloutPlan:
        with self._lock:
            return self.curriculum.plan(n, group_size)

    def screen_size(self, group_size: int) -> int:
        return self.curriculum.screen_size(group_size)

    def passes_screen(self, group: GroupOutcome) -> bool:
        with self._lock:
            return self.curriculum.passes_screen(group)

    # ----- the Curriculum API -----
    def select(self, n: int) -> list[str]:
        with self._lock:
            start = time.perf_counter()
            ids = self.curriculum.select(n)
            self._seconds += time.perf_counter() - start
            self._last_selected = ids
            return ids

    def update(self, outcomes: Sequence[GroupOutcome]) -> None:
        # oldest policy version first, so a strategy that forgets (discounted posteriors) forgets the older groups
        outcomes = list(outcomes)
        valid = all(isinstance(o, GroupOutcome) for o in outcomes)  # else the curriculum names the bad item
        ordered = sorted(outcomes, key=lambda o: o.step) if valid else outcomes
        with self._lock:
            start = time.perf_counter()
            self.curriculum.update(ordered)
            self._seconds += time.perf_counter() - start
            self._last_scored = ordered
            # persist inside the lock and before returning: an acknowledged update is on disk within
            # persist_every updates, and no other call sees a state newer than the one being written
            if self.persist_path is not None and self.updates_since_persist >= self.persist_every:
                self.persist()

    def report_rollouts(self, items: Sequence[tuple[str, Any]], step: int = 0) -> int:
        """Single rollouts ``(task_id, reward)``; the groups they complete update the curriculum. Returns how many.

        Needs ``rollouts=RolloutGrouping(group_size)``. All or nothing: a bad reward or unknown id raises naming
        the task, and then neither the pending rollouts nor the curriculum change.
        """
        if self.rollout_groups is None:
            raise ConfigError("report_rollouts(): this service was built without rollouts=RolloutGrouping(...)")
        with self._lock:
            before = {task_id: list(bucket) for task_id, bucket in self.rollout_groups.pending.items()}
            done = self.rollout_groups.add(items, step)
            if done:
                try:
                    self.update(done)
                except Exception:
                    self.rollout_groups.restore(before)  # the curriculum refused them: keep the call unrecorded
                    raise
            return len(done)

    def filter(self, groups: Sequence[GroupOutcome]) -> list[GroupOutcome]:
        with self._lock:
            return self.curriculum.filter(groups)

    def state_dict(self) -> dict[str, Any]:
        with self._lock:
            return self.curriculum.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.curriculum.load_state_dict(state)
            if self.persist_path is not None:  # else a restart would go back to the state before this load
                self.persist()

    # ----- persistence -----
    @property
    def updates_since_persist(self) -> int:
        """Updates a crash now would lose (``updates_seen`` is the update sequence number)."""
        return self.curriculum.updates_seen - self._updates_persisted

    def persist(self) -> None:
        """Write the state to ``persist_path`` now (e.g. at a trainer checkpoint), atomically."""
        if self.persist_path is None:
            raise ConfigError("persist(): this service was built without persist_path")
        with self._lock:
            document = {
                "format": PERSIST_FORMAT,
                "update_sequence": self.curriculum.updates_seen,
                "persisted_unix_time": time.time(),
                "curriculum": self.curriculum.state_dict(),  # under "curriculum": codec.load_curriculum reads it
            }
            if self.rollout_groups is not None:  # half-finished groups survive a restart too
                document["pending_rollouts"] = self.rollout_groups.state_dict()
            save_state(document, self.persist_path)
            self._updates_persisted = self.curriculum.updates_seen

    def _restore(self, path: Path) -> None:
        document = load_state(path)
        try:
            self.curriculum.load_state_dict(curriculum_state(document, str(path)))
            if self.rollout_groups is not None and "pending_rollouts" in document:
                self.rollout_groups.load_state_dict(document["pending_rollouts"])
        except ValueError as exc:  # another strategy or pool: say which file, do not silently start over
            raise ConfigError(f"persist_path {str(path)!r} holds a state this curriculum cannot load: {exc}") from exc
        self._updates_persisted = self._restored_from_update = self.curriculum.updates_seen

    def persistence(self) -> dict[str, Any]:
        """Where the state is persisted and what a restart would keep or lose.

        ``restored_from_update`` is the update sequence number this service continued from (None: it started
        fresh); a client that sent N updates before a restart lost ``N - restored_from_update`` of them.
        """
        with self._lock:
            return {
                "persist_path": None if self.persist_path is None else str(self.persist_path),
                "persist_every": self.persist_every,
                "updates_seen": self.curriculum.updates_seen,
                "updates_persisted": self._updates_persisted,
                "updates_since_persist": self.updates_since_persist,
                "restored_from_update": self._restored_from_update,
            }

    # ----- reporting -----
    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"updates_seen": self.curriculum.updates_seen, "groups_seen": self.curriculum.groups_seen}

    def log_metrics(self) -> dict[str, float]:
        """The curriculum's signals for a trainer's logger (``curriculum/...``): the last groups scored, the last
        prompts selected, time spent in the curriculum, and what a crash now would lose."""
        with self._lock:
            metrics = curriculum_step_metrics(
                self.curriculum, scored=self._last_scored, selected_ids=self._last_selected, seconds=self._seconds
            )
            if self.persist_path is not None:
                metrics["curriculum/updates_since_persist"] = float(self.updates_since_persist)
            if self.rollout_groups is not None:
                metrics["curriculum/pending_rollouts"] = float(sum(map(len, self.rollout_groups.pending.values())))
            return metrics

    def teacher_metrics(self) -> dict[str, Any]:
        """The strategy's teacher metrics, or ``{}`` for strategies without a teacher."""
        with self._lock:
            return self.curriculum.teacher_metrics() or {}

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "name": self.curriculum.name,
                "max_generation_rounds": self.curriculum.max_generation_rounds,
                "abilities": sorted(a.value for a in self.curriculum.abilities),
                "pool_size": len(self.curriculum.pool),
                "persist_path": None if self.persist_path is None else str(self.persist_path),
                "persist_every": self.persist_every,
            }
