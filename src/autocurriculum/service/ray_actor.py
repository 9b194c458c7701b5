"""The curriculum as a named Ray actor, shared by trainer processes on one or several nodes.

Ray is the distributed engine (no home-made protocol): the actor owns the
curriculum, runs one call at a time (``max_concurrency=1``), and clients in any
process reach it by name. Ray is optional and imported only when used.

    ray.init()
    client = serve_curriculum("goldilocks", pool, {"seed": 0}, name="curriculum")
    # in another process of the same Ray cluster:
    client = connect_curriculum("curriculum")
    ids = client.select(16); client.update(groups)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from autocurriculum.core import Ability, CurriculumConfig, GroupOutcome, RolloutPlan, abilities_from_names
from autocurriculum.core.task import TaskSource
from autocurriculum.service.in_process import CurriculumService

DEFAULT_ACTOR_NAME = "autocurriculum"


def _require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError(
            "serving a curriculum to several processes needs Ray: pip install 'autocurriculum[ray]' "
            "(or use autocurriculum.service.CurriculumService within one process)"
        ) from None
    return ray


class CurriculumActor:
    """The actor's body: a ``CurriculumService`` built inside the actor process.

    ``pool`` may be a task source or a zero-argument factory (cheaper to ship
    than a large in-memory pool: the actor builds it itself).
    """

    def __init__(
        self,
        strategy: str,
        pool: TaskSource | Callable[[], TaskSource],
        config: CurriculumConfig | Mapping[str, Any] | None = None,
    ):
        if not isinstance(pool, TaskSource) and callable(pool):
            pool = pool()
        self.service = CurriculumService.create(strategy, pool, config)

    def select(self, n: int) -> list[str]:
        return self.service.select(n)

    def update(self, outcomes: Sequence[GroupOutcome]) -> None:
        self.service.update(outcomes)

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

    def teacher_metrics(self) -> dict[str, Any]:
        return self.service.teacher_metrics()

    def describe(self) -> dict[str, Any]:
        return self.service.describe()


class RayCurriculumClient:
    """The ``Curriculum`` API over a Ray actor handle; picklable, so it can be passed to Ray tasks.

    ``filter`` returns the groups the actor kept: they travel back by value, so
    compare them by content, not identity.
    """

    def __init__(self, handle: Any):
        self._handle = handle
        self._info: dict[str, Any] = _require_ray().get(handle.describe.remote())

    def _call(self, method: str, *args: Any) -> Any:
        ray = _require_ray()
        return ray.get(getattr(self._handle, method).remote(*args))

    @property
    def handle(self) -> Any:
        return self._handle

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
        self._call("update", list(outcomes))  # ray.get: errors (bad rewards, unknown ids) reach the caller

    def filter(self, groups: Sequence[GroupOutcome]) -> list[GroupOutcome]:
        return self._call("filter", list(groups))

    def state_dict(self) -> dict[str, Any]:
        return self._call("state_dict")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._call("load_state_dict", state)

    def counters(self) -> dict[str, int]:
        return self._call("counters")

    def teacher_metrics(self) -> dict[str, Any]:
        return self._call("teacher_metrics")

    def kill(self) -> None:
        """Terminate the actor (its name becomes free again)."""
        _require_ray().kill(self._handle)


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
) -> RayCurriculumClient:
    """Start the named actor holding ``strategy`` over ``pool`` and return a client for it.

    ``num_cpus=0`` by default: the actor mostly waits for calls and should not take
    a CPU slot from rollout workers. ``detached`` keeps it alive after the driver exits.
    """
    ray = _require_ray()
    options: dict[str, Any] = {
        "name": name,
        "get_if_exists": get_if_exists,
        "num_cpus": num_cpus,
        "max_concurrency": 1,  # one call at a time: updates are applied in arrival order, none lost
    }
    if namespace is not None:
        options["namespace"] = namespace
    if detached:
        options["lifetime"] = "detached"
    handle = ray.remote(CurriculumActor).options(**options).remote(strategy, pool, config)
    return RayCurriculumClient(handle)


def connect_curriculum(name: str = DEFAULT_ACTOR_NAME, namespace: str | None = None) -> RayCurriculumClient:
    """A client for a curriculum actor started elsewhere with ``serve_curriculum(name=...)``."""
    ray = _require_ray()
    try:
        handle = ray.get_actor(name, namespace=namespace)
    except ValueError:
        raise LookupError(
            f"no curriculum actor named {name!r} in this Ray cluster; start one with serve_curriculum(name={name!r})"
        ) from None
    return RayCurriculumClient(handle)
