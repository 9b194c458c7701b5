"""The ``Curriculum`` interface every strategy implements.

A curriculum answers one question, "which prompts next?", and learns from the
verified outcomes of the prompts it chose. The loop it lives in is:

    ids = curriculum.select(n)             # before rollout (or plan(n, G): ids and a group size each)
    groups = rollout_and_verify(ids)       # the trainer's job
    curriculum.update(groups)              # every generated group, filtered or not
    kept = curriculum.filter(groups)       # optional post-rollout filter (DAPO, band)

Everything is keyed by task id. Randomness comes only from ``self.rng``, seeded
from the config, so a run is reproducible and ``state_dict`` round-trips exactly.

A strategy that needs something only a harness can give (the testbed oracle's
true pass rates, the student's hidden states) *declares* it in ``needs`` (or,
when it depends on the config, in ``needs_for``); the harness serves every
declared need through ``provide`` before the first ``select`` and refuses to
run a strategy whose needs it cannot serve. Nothing is probed by attribute name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from autocurriculum.core.capabilities import Ability, Need
from autocurriculum.core.config import option, require
from autocurriculum.core.errors import (
    AllocationError,
    ConfigError,
    InvalidArgumentError,
    InvalidTypeError,
    StateFormatError,
    StrategyContractError,
)
from autocurriculum.core.outcome import GroupOutcome
from autocurriculum.core.task import TaskSource


@dataclass(frozen=True)
class RolloutPlan:
    """The prompts of one generation round and how many rollouts each gets."""

    task_ids: list[str]
    group_sizes: np.ndarray  # int64, one per task id

    @property
    def rollouts(self) -> int:
        return int(self.group_sizes.sum())


@dataclass
class CurriculumConfig:
    """Settings shared by every strategy."""

    seed: int = option(0, "Seed of the strategy's own random choices (selection ties, Thompson draws).")

    def validate(self) -> None:
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")


class Curriculum:
    """Base class: uniform-free no-op hooks that strategies override.

    Subclasses implement ``_select_rows`` and, if they learn from feedback,
    ``_observe``. Components with their own state (for example
    ``PromptStatistics``) are listed by ``_stateful_parts`` so that
    ``state_dict`` picks them up without per-strategy code.
    """

    name: ClassVar[str] = "curriculum"
    config_class: ClassVar[type[CurriculumConfig]] = CurriculumConfig
    needs: ClassVar[frozenset[Need]] = frozenset()  # what every instance needs from its harness
    abilities: ClassVar[frozenset[Ability]] = frozenset()  # what the trainer must support around selection

    def __init__(self, pool: TaskSource, config: CurriculumConfig | None = None):
        pool.require_nonempty()
        if config is None:
            config = self.config_class()
        if not isinstance(config, self.config_class):
            raise ConfigError(
                f"strategy {self.name!r} expects a {self.config_class.__name__}, got {type(config).__name__}"
            )
        config.validate()
        self.pool = pool
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        self.updates_seen = 0
        self.groups_seen = 0
        self.latest_step = 0  # the newest policy version (GroupOutcome.step) seen in feedback

    # ----- what the harness must serve -----
    @classmethod
    def needs_for(cls, config: CurriculumConfig) -> frozenset[Need]:
        """The needs of this strategy built with ``config``: ``needs`` unless they depend on the config.

        A classmethod, so a harness can check a strategy before building it (and before any training).
        """
        return cls.needs

    def provide(self, need: Need, provider: Callable[..., Any]) -> None:
        """Receive the harness's ``provider`` for one declared need (see ``Need`` for its signature)."""
        raise ConfigError(
            f"strategy {self.name!r} does not declare need {need.value!r} "
            f"(it needs: {', '.join(sorted(n.value for n in self.needs_for(self.config))) or 'nothing'})"
        )

    # ----- selection (before rollout) -----
    def select(self, n: int) -> list[str]:
        """Exactly ``n`` task ids to roll out next (repeats allowed only if ``n`` exceeds the pool)."""
        return self.pool.ids_of(self._checked_rows(n))

    def _checked_rows(self, n: int) -> np.ndarray:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise InvalidArgumentError(f"select(n): n must be a positive integer, got {n!r}")
        rows = np.asarray(self._select_rows(int(n)), dtype=np.int64)
        if rows.shape != (n,):
            raise StrategyContractError(f"strategy {self.name!r} returned {rows.size} rows for select({n})")
        return rows

    def _select_rows(self, n: int) -> np.ndarray:
        raise NotImplementedError

    def plan(self, n: int, group_size: int) -> RolloutPlan:
        """``n`` prompts and their group sizes, ``n * group_size`` rollouts in all.

        Every strategy answers with ``group_size`` each, except those that declare ``Ability.ALLOCATES``: they
        spread the same budget over the chosen prompts (``_allocate``), and the sizes are checked here.
        """
        if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)) or group_size < 1:
            raise InvalidArgumentError(
                f"plan(n, group_size): group_size must be a positive integer, got {group_size!r}"
            )
        rows = self._checked_rows(n)
        ids = self.pool.ids_of(rows)
        if Ability.ALLOCATES not in self.abilities:
            return RolloutPlan(ids, np.full(len(ids), int(group_size), dtype=np.int64))
        budget = len(ids) * int(group_size)
        sizes = np.asarray(self._allocate(rows, budget), dtype=np.int64)
        if sizes.shape != (len(ids),) or (sizes < 1).any() or int(sizes.sum()) != budget:
            raise AllocationError(
                f"strategy {self.name!r} allocated group sizes {sizes.tolist()} to {len(ids)} prompts: they must "
                f"be >= 1 each and sum to the budget {budget} (= {len(ids)} prompts x group size {group_size})"
            )
        return RolloutPlan(ids, sizes)

    def _allocate(self, rows: np.ndarray, budget: int) -> np.ndarray:
        """Group sizes for ``rows`` summing to ``budget`` (strategies with ``Ability.ALLOCATES`` only)."""
        raise NotImplementedError(f"strategy {self.name!r} declares Ability.ALLOCATES but does not implement it")

    # ----- screening (strategies with Ability.SCREENS only) -----
    def screen_size(self, group_size: int) -> int:
        """Rollouts per prompt in the screening pass; the rest of ``group_size`` follows for prompts kept."""
        return group_size

    def passes_screen(self, group: GroupOutcome) -> bool:
        """Whether a screened prompt is continued to a full group."""
        return True

    def uniform_rows(self, n: int, candidates: np.ndarray | None = None) -> np.ndarray:
        """``n`` rows drawn uniformly, without replacement while the candidates last."""
        if candidates is None:  # an int population avoids materializing arange(len(pool)) for huge streams
            return self.rng.choice(len(self.pool), size=n, replace=n > len(self.pool))
        population = np.asarray(candidates)
        return self.rng.choice(population, size=n, replace=n > population.size)

    # ----- how many prompts to generate to fill a training batch -----
    max_generation_rounds: int = 1

    def generation_size(self, needed: int) -> int:
        """Prompts to roll out in a generation round when ``needed`` groups are still missing."""
        return needed

    # ----- feedback (after rollout) -----
    def update(self, outcomes: Sequence[GroupOutcome]) -> None:
        """Learn from every generated group, including those ``filter`` will drop."""
        outcomes = list(outcomes)
        for i, outcome in enumerate(outcomes):
            if not isinstance(outcome, GroupOutcome):
                raise InvalidTypeError(f"update(): outcomes[{i}] is a {type(outcome).__name__}, expected GroupOutcome")
        if not outcomes:
            return
        rows = self.pool.rows_of([o.task_id for o in outcomes])
        self.latest_step = max(self.latest_step, max(o.step for o in outcomes))
        self._observe(rows, outcomes)
        self.updates_seen += 1
        self.groups_seen += len(outcomes)

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        """Strategy-specific learning; the default ignores feedback."""

    def staleness(self, outcomes: Sequence[GroupOutcome]) -> np.ndarray:
        """Each group's age in policy versions: the newest step seen minus the step that generated it.

        Asynchronous trainers report groups late; strategies may weight old evidence down by it.
        """
        return np.array([self.latest_step - o.step for o in outcomes], dtype=np.float64)

    def filter(self, groups: Sequence[GroupOutcome]) -> list[GroupOutcome]:
        """Groups worth training on; the default keeps all of them."""
        return list(groups)

    # ----- reporting and lifetime (no-ops unless a strategy has a learned teacher or a worker) -----
    def teacher_metrics(self) -> dict[str, Any] | None:
        """Quality and compute of a learned teacher, for the run summary; None for strategies without one."""
        return None

    def evaluate_teacher(self, prompts: Sequence[str], pass_rates: np.ndarray) -> dict[str, float] | None:
        """Teacher error on prompts with measured pass rates; None for strategies without a teacher."""
        return None

    def close(self) -> None:
        """Release background resources (a teacher's training thread); safe to call more than once."""

    def __enter__(self) -> Curriculum:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----- persistence -----
    def _stateful_parts(self) -> dict[str, Any]:
        """Named components with ``state_dict``/``load_state_dict`` of their own."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "strategy": self.name,
            "config": dataclasses.asdict(self.config),
            "rng": self.rng.bit_generator.state,
            "updates_seen": self.updates_seen,
            "groups_seen": self.groups_seen,
            "latest_step": self.latest_step,
            "pool_size": len(self.pool),
        }
        for part_name, part in self._stateful_parts().items():
            state[part_name] = part.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("strategy") != self.name:
            raise StateFormatError(f"state was saved by strategy {state.get('strategy')!r}, not {self.name!r}")
        if state.get("pool_size") != len(self.pool):
            raise StateFormatError(
                f"state was saved for a pool of {state.get('pool_size')} tasks, this one has {len(self.pool)}"
            )
        self.rng.bit_generator.state = state["rng"]
        self.updates_seen = int(state["updates_seen"])
        self.groups_seen = int(state["groups_seen"])
        self.latest_step = int(state.get("latest_step", 0))
        for part_name, part in self._stateful_parts().items():
            part.load_state_dict(state[part_name])
