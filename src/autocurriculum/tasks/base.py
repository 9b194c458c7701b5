"""Procedural task families: deterministic, verifiable generators with a ``level`` difficulty knob.

A family is created by name (``make_task_family("addition", {"width": 4})``) and
generates ``Task`` records that depend only on ``(seed, level, index)``, so the
same pool can be rebuilt on any machine and a curriculum's statistics (keyed by
task id) stay valid across runs.
"""

from __future__ import annotations

import numbers
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from autocurriculum.core.config import build_config, option, require
from autocurriculum.core.errors import ConfigError
from autocurriculum.core.registry import Registry
from autocurriculum.core.task import Task, TaskPool
from autocurriculum.verifiers import ExactMatchVerifier, Verifier


@dataclass
class TaskFamilyConfig:
    """Settings shared by every task family."""

    seed: int = option(0, "Seed of the generator; a task depends only on (seed, level, index).")
    min_level: int = option(1, "Easiest level this family generates (1 = trivially easy).")
    max_level: int | None = option(None, "Hardest level this family generates; None means the family's largest.")

    def level_limit(self) -> int | None:
        """The largest level the family's other settings allow (None: no limit)."""
        return None

    def resolved_max_level(self) -> int:
        return self.max_level if self.max_level is not None else int(self.level_limit() or self.min_level)

    def validate(self) -> None:
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        require(self.min_level >= 1, "min_level", f"must be >= 1, got {self.min_level}")
        limit = self.level_limit()
        if self.max_level is not None:
            require(
                self.max_level >= self.min_level,
                "max_level",
                f"must be >= min_level ({self.min_level}), got {self.max_level}",
            )
            require(limit is None or self.max_level <= limit, "max_level", f"must be <= {limit}, got {self.max_level}")
        else:
            require(limit is None or self.min_level <= limit, "min_level", f"must be <= {limit}, got {self.min_level}")


class TaskFamily:
    """Base class of procedural task families.

    Subclasses set ``config_class``, ``verifier`` and ``alphabet`` and implement
    ``_build(level, rng)``; registration (``@register_task_family``) sets ``name``.
    """

    name: ClassVar[str] = "task_family"
    config_class: ClassVar[type[TaskFamilyConfig]] = TaskFamilyConfig
    verifier: ClassVar[Verifier] = ExactMatchVerifier()
    alphabet: ClassVar[str] = ""  # every character a prompt, answer or demonstration may contain

    def __init__(self, config: TaskFamilyConfig | None = None):
        if config is None:
            config = self.config_class()
        if not isinstance(config, self.config_class):
            raise ConfigError(
                f"task family {self.name!r} expects a {self.config_class.__name__}, got {type(config).__name__}"
            )
        config.validate()
        self.config = config
        # Salt the generator with the family name so two families with the same seed are not correlated.
        self._salt = zlib.crc32(self.name.encode("utf-8"))

    @property
    def levels(self) -> list[int]:
        return list(range(self.config.min_level, self.config.resolved_max_level() + 1))

    @property
    def prompt_length(self) -> int:
        """Characters in every prompt (the same at every level, by design)."""
        raise NotImplementedError

    @property
    def max_demonstration_length(self) -> int:
        """Characters in the longest demonstration (at the family's largest level)."""
        raise NotImplementedError

    def task_id(self, level: int, index: int) -> str:
        return f"{self.name}:L{level}:s{self.config.seed}:{index}"

    def generate(self, level: int, index: int) -> Task:
        """The task at ``(level, index)``; deterministic in ``(config.seed, level, index)`` only."""
        level = self._check_level(level)
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
            raise ConfigError(f"index: must be an integer >= 0, got {index!r}")
        index = int(index)
        rng = np.random.default_rng([self._salt, self.config.seed, level, index])
        prompt, answer, demonstration, knobs = self._build(level, rng)
        return Task(
            task_id=self.task_id(level, index),
            prompt=prompt,
            answer=answer,
            category=self.name,
            knobs={"level": float(level), **{k: float(v) for k, v in knobs.items()}},
            demonstration=demonstration,
        )

    def _build(self, level: int, rng: np.random.Generator) -> tuple[str, str, str, Mapping[str, float]]:
        """Return ``(prompt, answer, demonstration, extra_knobs)`` for one task."""
        raise NotImplementedError

    def _check_level(self, level: int) -> int:
        if isinstance(level, bool) or not isinstance(level, numbers.Integral):
            raise ConfigError(f"level: must be an integer, got {level!r}")
        lo, hi = self.config.min_level, self.config.resolved_max_level()
        if not lo <= level <= hi:
            raise ConfigError(f"level: {level} is outside task family {self.name!r}'s levels {lo}..{hi}")
        return int(level)

    def score(self, task: Task, completion: str) -> float:
        """1.0 if ``completion`` solves ``task``, else 0.0 (never raises on model output)."""
        return self.verifier.reward(completion, task.answer)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


TASK_FAMILIES: Registry[type[TaskFamily]] = Registry("task family", "task families")


def register_task_family(name: str) -> Callable[[type[TaskFamily]], type[TaskFamily]]:
    """Class decorator: make a ``TaskFamily`` subclass available under ``name``."""
    return TASK_FAMILIES.register(name)


def task_family_names() -> list[str]:
    return TASK_FAMILIES.names()


def task_family_class(name: str) -> type[TaskFamily]:
    return TASK_FAMILIES.get(name)


def make_task_family_config(
    name: str, values: Mapping[str, Any] | None = None, source: str | None = None
) -> TaskFamilyConfig:
    """The named family's config, built and validated from ``values``."""
    cls = task_family_class(name)
    return build_config(cls.config_class, values, source=source or f"task family {name!r}")


def make_task_family(name: str, config: TaskFamilyConfig | Mapping[str, Any] | None = None) -> TaskFamily:
    cls = task_family_class(name)
    if config is None or isinstance(config, Mapping):
        config = make_task_family_config(name, config)
    return cls(config)


def build_pool(families: Sequence[TaskFamily], tasks_per_level: int, index_offset: int = 0) -> TaskPool:
    """A pool with indices ``index_offset .. index_offset + tasks_per_level - 1`` at every level of every family.

    Use disjoint ``index_offset`` ranges for train and held-out pools.
    """
    require(tasks_per_level >= 1, "tasks_per_level", f"must be >= 1, got {tasks_per_level}")
    require(index_offset >= 0, "index_offset", f"must be >= 0, got {index_offset}")
    tasks = [
        family.generate(level, index)
        for family in families
        for level in family.levels
        for index in range(index_offset, index_offset + tasks_per_level)
    ]
    return TaskPool(tasks)


def verifier_for(task: Task) -> Verifier:
    """The verifier of the registered family that generated ``task`` (found by ``task.category``)."""
    return task_family_class(task.category).verifier


def score_completion(task: Task, completion: str) -> float:
    """1.0 if ``completion`` solves ``task`` (any registered family), else 0.0."""
    return verifier_for(task).reward(completion, task.answer)
