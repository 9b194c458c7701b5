"""Single rollouts reported one at a time, assembled into the groups a curriculum learns from.

Some trainers score each rollout in a separate worker (verl's reward functions see one completion at a time);
they report ``(task_id, reward)`` pairs, and a group is complete once ``group_size`` rewards of one task have
arrived. Any adapter can use this; the service keeps the pending rollouts in its persisted state, so a restart
does not lose half-finished groups.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from autocurriculum.core import GroupOutcome, InvalidOutcomeError, success_values
from autocurriculum.core.errors import ConfigError
from autocurriculum.core.task import TaskSource


@dataclass(frozen=True)
class RolloutGrouping:
    """How single rollouts form groups: ``group_size`` rewards of one task make a group (verl's ``rollout.n``);
    with ``success_threshold`` a shaped reward counts as a success iff it is at least the threshold (without
    one, rewards must lie in [0, 1])."""

    group_size: int
    success_threshold: float | None = None

    def __post_init__(self) -> None:
        if isinstance(self.group_size, bool) or not isinstance(self.group_size, int) or self.group_size < 1:
            raise ConfigError(f"group_size: must be a positive number of rollouts per group, got {self.group_size!r}")
        if self.success_threshold is not None and not math.isfinite(float(self.success_threshold)):
            raise ConfigError(f"success_threshold: must be a finite number or None, got {self.success_threshold!r}")


class RolloutGroups:
    """Pending rewards per task; ``add`` returns the groups the new rewards complete.

    All or nothing: a reward that is not a finite value in [0, 1] after ``success_threshold`` (None and NaN
    included) is an ``InvalidOutcomeError``, an id outside ``pool`` an ``UnknownTaskError``, both naming the task,
    and then nothing of the call is recorded.
    """

    def __init__(self, pool: TaskSource, grouping: RolloutGrouping):
        self.pool = pool
        self.group_size = grouping.group_size
        self.success_threshold = grouping.success_threshold
        self.pending: dict[str, list[float]] = {}

    def _checked(self, task_id: str, reward: Any) -> float:
        try:
            value = float(success_values([reward], self.success_threshold)[0])
        except InvalidOutcomeError as exc:
            raise InvalidOutcomeError(f"task {task_id!r}: {exc}") from None
        if not 0.0 <= value <= 1.0:  # NaN fails this too
            shaped = self.success_threshold is None and math.isfinite(value)  # not for None/NaN
            hint = "; set success_threshold to binarise shaped rewards" if shaped else ""
            raise InvalidOutcomeError(f"task {task_id!r}: reward {reward!r} is not a finite value in [0, 1]{hint}")
        return value

    def add(self, items: Iterable[tuple[str, Any]], step: int = 0) -> list[GroupOutcome]:
        checked = [(str(task_id), self._checked(str(task_id), reward)) for task_id, reward in items]
        self.pool.rows_of([task_id for task_id, _ in checked])  # an unknown id raises, naming it
        pending = {task_id: list(bucket) for task_id, bucket in self.pending.items()}
        done: list[GroupOutcome] = []
        for task_id, value in checked:
            bucket = pending.setdefault(task_id, [])
            bucket.append(value)
            if len(bucket) == self.group_size:
                done.append(GroupOutcome(task_id, bucket, step=step))
                del pending[task_id]
        self.pending = pending
        return done

    def restore(self, pending: dict[str, list[float]]) -> None:
        """Put back what ``add`` took when the curriculum refused the completed groups (all or nothing)."""
        self.pending = pending

    def state_dict(self) -> dict[str, Any]:
        return {"group_size": self.group_size, "pending": {k: list(v) for k, v in self.pending.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if int(state["group_size"]) != self.group_size:
            raise ConfigError(
                f"group_size: the saved pending rollouts were grouped by {state['group_size']}, this service "
                f"groups by {self.group_size}; keep the rollout count per prompt (verl's rollout.n) unchanged"
            )
        self.pending = {str(k): [float(x) for x in v] for k, v in state["pending"].items()}
