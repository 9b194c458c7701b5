"""A thread-safe front of one curriculum, shared by trainer threads in one process."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from autocurriculum.core import Ability, Curriculum, CurriculumConfig, GroupOutcome, RolloutPlan, make_curriculum
from autocurriculum.core.task import TaskSource


class CurriculumService:
    """Every call holds one lock, so concurrent clients never interleave half-applied updates.

    Strategies mutate several arrays per ``update`` (and draw from one RNG per
    ``select``); without the lock two threads could read-modify-write the same
    row and lose a group. The lock is re-entrant so a subclass may compose calls.
    """

    def __init__(self, curriculum: Curriculum):
        self.curriculum = curriculum
        self._lock = threading.RLock()

    @classmethod
    def create(
        cls, strategy: str, pool: TaskSource, config: CurriculumConfig | Mapping[str, Any] | None = None
    ) -> CurriculumService:
        return cls(make_curriculum(strategy, pool, config))

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
            return self.curriculum.select(n)

    def update(self, outcomes: Sequence[GroupOutcome]) -> None:
        # oldest policy version first, so a strategy that forgets (discounted posteriors) forgets the older groups
        outcomes = list(outcomes)
        valid = all(isinstance(o, GroupOutcome) for o in outcomes)  # else the curriculum names the bad item
        ordered = sorted(outcomes, key=lambda o: o.step) if valid else outcomes
        with self._lock:
            self.curriculum.update(ordered)

    def filter(self, groups: Sequence[GroupOutcome]) -> list[GroupOutcome]:
        with self._lock:
            return self.curriculum.filter(groups)

    def state_dict(self) -> dict[str, Any]:
        with self._lock:
            return self.curriculum.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.curriculum.load_state_dict(state)

    # ----- reporting -----
    def counters(self) -> dict[str, int]:
        with self._lock:
            return {"updates_seen": self.curriculum.updates_seen, "groups_seen": self.curriculum.groups_seen}

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
            }
