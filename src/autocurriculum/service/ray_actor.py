"""The curriculum as a named Ray actor, shared by trainer processes on one or several nodes.

Ray is the distributed engine (no home-made protocol): the actor owns the
curriculum, runs one call at a time (``max_concurrency=1``), and clients in any
process reach it by name. Ray is optional and imported only when used.

    ray.init()
    client = serve_curriculum("goldilocks", pool, {"seed": 0}, name="curriculum")
    # in another process of the same Ray cluster:
    client = connect_curriculum("curriculum")
    ids = client.select(16); client.update(groups)

Faults. A client process that dies mid-call cannot corrupt the actor: calls run one at a time and each is
applied whole or not at all. An actor that dies fails its clients' calls with ``ServiceUnavailableError``
(naming the actor and the call), never silently: calls are not retried (``max_task_retries=0``), because a
retried ``update`` whose first attempt had already been applied would count its groups twice. With
``max_restarts > 0`` and ``persist_path`` Ray restarts the actor, which continues from its last persisted
state; it loses the updates since that persist (at most ``persist_every - 1``), and ``persistence()``
reports the update it restored (``restored_from_update``), so the loss is known exactly.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from autocurriculum.core import Ability, CurriculumConfig, GroupOutcome, RolloutPlan, abilities_from_names
from autocurriculum.core.errors import MissingDependencyError, ServiceUnavailableError, UnknownNameError
from autocurriculum.core.task import TaskSource
from autocurriculum.service.in_process import DEFAULT_PERSIST_EVERY, CurriculumService
from autocurriculum.service.rollout_groups import RolloutGrouping

DEFAULT_ACTOR_NAME = "autocurriculum"


def _require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingDependencyError(
            "serving a curriculum to several processes needs Ray: pip install 'autocurriculum[ray]' "
            "(or use autocurriculum.service.CurriculumService within one process)"
        ) from None
    return ray


class UpdateReceipt(NamedTuple):
    """What the actor answers to an update: which life of the actor applied it, and its sequence number.

    After a restart ``persistence()['restored_from_update']`` is R: an update acknowledged by the previous
    incarnation survived if its ``update_sequence`` is at most R, and was lost otherwise.
    """

    incarnation: str
    update_sequence: int


class CurriculumActor:
    """The actor's body: a ``CurriculumService`` built inside the actor process.

    ``pool`` may be a task source or a zero-argument factory (cheaper to ship
    than a large in-memory pool: the actor builds it itself). Ray reruns this
    constructor with the same arguments when it restarts the actor, so with
    ``persist_path`` a restarted actor finds its file and continues from it.
    """

    def __init__(
        self,
        strategy: str,
        pool: TaskSource | Callable[[], TaskSource],
        config: CurriculumConfig | Mapping[str, Any] | None = None,
        persist_path: str | Path | None = None,
        persist_every: int = DEFAULT_PERSIST_EVERY,
        rollouts: RolloutGrouping | None = None,
    ):
        if not isinstance(pool, TaskSource) and callable(pool):
            pool = pool()
        self.service = CurriculumService.create(
            strategy, pool, config, persist_path=persist_path, persist_every=persist_every, rollouts=rollouts
        )
        self.incarnation = uuid.uuid4().hex[:12]  # new on every (re)start: tells receipts of two lives apart

    def select(self, n: int) -> list[str]:
        return self.service.select(n)

    def update(self, outcomes: Sequence[GroupOutcome]) -> UpdateReceipt:
        self.service.update(outcomes)
        # exact: with max_concurrency=1 no other call runs between the update and this read
        return UpdateReceipt(self.incarnation, self.service.curriculum.updates_seen)

    def report_rollouts(self, items: Sequence[tuple[str, Any]], step: int = 0) -> int:
        return self.service.report_rollouts(items, step)

    def log_metrics(self) -> dict[str, float]:
        return self.service.log_metrics()

    def filter(self, groups: Sequence[GroupOutcome]) -> list[GroupOutcome]:
        return self.service.filter(groups)

    def generation_size(self, needed: int) -> int:
        return self.service.generation_size(needed)

    def plan(self, n: int, group_size: int) -> RolloutPlan:
        return self.service.plan(n, group_size)

    def screen_size(self, group_size: int) -> int:
        return self.service.screen_size(group_size)

    def passes_screen(self, group: GroupOutcome) -> bool:
        return self.service.passes_screen(group)

    def state_dict(self) -> dict[str, Any]:
        return self.service.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.service.load_state_dict(state)

    def counters(self) -> dict[str, int]:
        return self.service.counters()

    def persist(self) -> None:
        self.service.persist()

    def persistence(self) -> dict[str, Any]:
        return self.service.persistence()

    def teacher_metrics(self) -> dict[str, Any]:
        return self.service.teacher_metrics()

    def describe(self) -> dict[str, Any]:
        # pid: which process to look at (or kill) on its node
        return {**self.service.describe(), "pid": os.getpid(), "incarnation": self.incarnation}


class RayCurriculumClient:
    """The ``Curriculum`` API over a Ray actor handle; picklable, so it can be passed to Ray tasks.

    ``filter`` returns the groups the actor kept: they travel back by value, so
    compare them by content, not identity. A call to an actor that died raises
    ``ServiceUnavailableError`` (see the module docstring).
    """

    def __init__(self, handle: Any, actor_name: str | None = None):
        self._handle = handle
        self._actor_name = actor_name
        self._info: dict[str, Any] = self._call("describe")
        self.last_receipt: UpdateReceipt | None = None

    def _call(self, method: str, *args: Any) -> Any:
        ray = _require_ray()
        try:
            return ray.get(getattr(self._handle, method).remote(*args))
        except ray.exceptions.RayActorError as exc:  # ActorDiedError (gone) or ActorUnavailableError (restarting)
            restarting = isinstance(exc, ray.exceptions.ActorUnavailableError)
            raise ServiceUnavailableError(
                self._unavailable_message(method, exc, restarting),
                actor=self._actor_name,
                method=method,
                restarting=restarting,
            ) from None  # the Ray traceback says nothing the message does not

    def _unavailable_message(self, method: str, exc: Exception, restarting: bool) -> str:
        actor = repr(self._actor_name) if self._actor_name else "(unnamed)"
        lines = [line for line in str(exc).strip().splitlines() if line.strip()] or [""]
        if getattr(exc, "actor_init_failed", False):  # the constructor raised: its own error is the last line
            return f"curriculum actor {actor} could not start, so {method}() failed: {lines[-1].strip()}"
        reason = lines[0][:240]
        info = getattr(self, "_info", {})  # absent when the first call (describe) fails
        persist_path, persist_every = info.get("persist_path"), info.get("persist_every")
        what = "is restarting" if restarting else "died and will not come back"
        lost = " Calls are not retried, so this update may or may not have been applied." if method == "update" else ""
        if restarting:
            kept = (
                f" It continues from its last persisted state ({persist_path}, written every {persist_every} "
                f"updates): the updates since that persist are lost, and after client.wait_until_available() "
                f"client.persistence()['restored_from_update'] says how many it kept."
                if persist_path
                else " It had no persist_path: it restarts from scratch and every earlier update is lost."
            )
        else:
            kept = (
                f" Its last persisted state is in {persist_path}: serve_curriculum(..., persist_path="
                f"{persist_path!r}) continues from it (losing the updates since that persist)."
                if persist_path
                else " It had no persist_path, so its state is lost: serve it with persist_path= and "
                "max_restarts= to survive the next failure."
            )
        return f"curriculum actor {actor} {what}: {method}() failed ({type(exc).__name__}: {reason}).{lost}{kept}"

    def wait_until_available(self, timeout_s: float = 60.0) -> None:
        """Return once the actor answers again (after Ray restarted it); raise if it is gone for good.

        Ray fails the calls that reach a crashed actor before it learns of the crash, so after a
        ``ServiceUnavailableError`` with ``restarting=True`` call this before continuing. It polls
        ``describe``, which changes nothing, so repeating it is safe (unlike an update).
        """
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._info = self._call("describe")
                return
            except ServiceUnavailableError as error:
                if not error.restarting or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # a call during the restart fails fast; do not spin

    @property
    def handle(self) -> Any:
        return self._handle

    def describe(self) -> dict[str, Any]:
        """What the actor serves (strategy name, pool size, persistence) and the ``pid`` of its process now."""
        return self._call("describe")

    @property
    def name(self) -> str:
        return self._info["name"]

    @property
    def abilities(self) -> frozenset[Ability]:
        return abilities_from_names(self._info["abilities"], field=f"curriculum actor {self.name!r}: abilities")

    @property
    def max_generation_rounds(self) -> int:
        return int(self._info["max_generation_rounds"])

    def generation_size(self, needed: int) -> int:
        return int(self._call("generation_size", needed))

    def plan(self, n: int, group_size: int) -> RolloutPlan:
        return self._call("plan", n, group_size)

    def screen_size(self, group_size: int) -> int:
        return int(self._call("screen_size", group_size))

    def passes_screen(self, group: GroupOutcome) -> bool:
        return bool(self._call("passes_screen", group))

    def select(self, n: int) -> list[str]:
        return self._call("select", n)

    def update(self, outcomes: Sequence[GroupOutcome]) -> None:
        """Apply ``outcomes``; ``last_receipt`` then says which incarnation applied it, as update number what."""
        # ray.get: errors (bad rewards, unknown ids) reach the caller
        self.last_receipt = UpdateReceipt(*self._call("update", list(outcomes)))

    def filter(self, groups: Sequence[GroupOutcome]) -> list[GroupOutcome]:
        return self._call("filter", list(groups))

    def state_dict(self) -> dict[str, Any]:
        return self._call("state_dict")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._call("load_state_dict", state)

    def counters(self) -> dict[str, int]:
        return self._call("counters")

    def report_rollouts(self, items: Sequence[tuple[str, Any]], step: int = 0) -> int:
        """Single rollouts ``(task_id, reward)``; returns the groups they completed (see ``CurriculumService``)."""
        return int(self._call("report_rollouts", list(items), step))

    def log_metrics(self) -> dict[str, float]:
        """The curriculum's ``curriculum/...`` signals for a trainer's logger."""
        return self._call("log_metrics")

    def persist(self) -> None:
        """Persist the actor's state now (it also persists every ``persist_every`` updates)."""
        self._call("persist")

    def persistence(self) -> dict[str, Any]:
        """The actor's persistence report: ``updates_persisted``, ``restored_from_update`` and so on."""
        return self._call("persistence")

    def teacher_metrics(self) -> dict[str, Any]:
        return self._call("teacher_metrics")

    def kill(self, restart: bool = False) -> None:
        """Terminate the actor: for good (its name becomes free again), or with ``restart=True`` as a crash
        would, letting Ray restart it if it was served with ``max_restarts > 0``."""
        _require_ray().kill(self._handle, no_restart=not restart)


def serve_curriculum(
    strategy: str,
    pool: TaskSource | Callable[[], TaskSource],
    config: CurriculumConfig | Mapping[str, Any] | None = None,
    *,
    name: str = DEFAULT_ACTOR_NAME,
    namespace: str | None = None,
    get_if_exists: bool = False,
    detached: bool = False,
    num_cpus: float = 0,
    max_restarts: int = 0,
    persist_path: str | Path | None = None,
    persist_every: int = DEFAULT_PERSIST_EVERY,
    rollouts: RolloutGrouping | None = None,
) -> RayCurriculumClient:
    """Start the named actor holding ``strategy`` over ``pool`` and return a client for it.

    ``num_cpus=0`` by default: the actor mostly waits for calls and should not take
    a CPU slot from rollout workers. ``detached`` keeps it alive after the driver exits.
    ``persist_path`` (a path every node that may host the actor can reach) makes the
    actor write its state every ``persist_every`` updates and continue from that file
    when it starts (give each actor its own file: two writing one would overwrite each
    other); ``max_restarts`` lets Ray restart a crashed actor (-1: without limit), which
    is only useful with ``persist_path`` (else it restarts from scratch). ``rollouts`` lets
    reward workers report single rollouts (``report_rollouts``) that the actor assembles into groups.
    """
    ray = _require_ray()
    options: dict[str, Any] = {
        "name": name,
        "get_if_exists": get_if_exists,
        "num_cpus": num_cpus,
        "max_concurrency": 1,  # one call at a time: updates are applied in arrival order, none lost
        "max_restarts": max_restarts,
        # Never re-send a call that failed with the actor: Ray cannot tell whether an update had already been
        # applied when the actor died, and a retried one would count its groups twice. Failures surface as
        # ServiceUnavailableError instead, and the persisted state bounds what was lost.
        "max_task_retries": 0,
    }
    if namespace is not None:
        options["namespace"] = namespace
    if detached:
        options["lifetime"] = "detached"
    handle = (
        ray.remote(CurriculumActor)
        .options(**options)
        .remote(strategy, pool, config, persist_path, persist_every, rollouts)
    )
    return RayCurriculumClient(handle, actor_name=name)


def connect_curriculum(name: str = DEFAULT_ACTOR_NAME, namespace: str | None = None) -> RayCurriculumClient:
    """A client for a curriculum actor started elsewhere with ``serve_curriculum(name=...)``."""
    ray = _require_ray()
    try:
        handle = ray.get_actor(name, namespace=namespace)
    except ValueError:
        raise UnknownNameError(
            f"no curriculum actor named {name!r} in this Ray cluster; start one with serve_curriculum(name={name!r})"
        ) from None
    return RayCurriculumClient(handle, actor_name=name)
