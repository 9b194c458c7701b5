"""Strategies are created by name: ``make_curriculum("thompson", pool, {"target": 0.5})``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from autocurriculum.core.config import build_config
from autocurriculum.core.curriculum import Curriculum, CurriculumConfig
from autocurriculum.core.errors import InvalidArgumentError, UnknownNameError
from autocurriculum.core.task import TaskSource

T = TypeVar("T", bound=type)


class Registry(Generic[T]):
    """Classes registered by name with a decorator; unknown names list the valid ones.

    Shared by strategies, task families and anything else created by name.
    """

    def __init__(self, kind: str, plural: str | None = None):
        self.kind = kind
        self.plural = plural or f"{kind}s"
        self._classes: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorate(cls: T) -> T:
            if name in self._classes and self._classes[name] is not cls:
                raise InvalidArgumentError(
                    f"{self.kind} name {name!r} is already registered by {self._classes[name].__name__}"
                )
            cls.name = name  # type: ignore[attr-defined]
            self._classes[name] = cls
            return cls

        return decorate

    def names(self) -> list[str]:
        return sorted(self._classes)

    def get(self, name: str) -> T:
        try:
            return self._classes[name]
        except KeyError:
            valid = ", ".join(self.names()) or "(none registered)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid {self.plural}: {valid}") from None


STRATEGIES: Registry[type[Curriculum]] = Registry("strategy", "strategies")


def register_strategy(name: str) -> Callable[[type[Curriculum]], type[Curriculum]]:
    """Class decorator: make a ``Curriculum`` subclass available under ``name``."""
    return STRATEGIES.register(name)


def strategy_names() -> list[str]:
    return STRATEGIES.names()


def strategy_class(name: str) -> type[Curriculum]:
    return STRATEGIES.get(name)


def make_config(name: str, values: Mapping[str, Any] | None = None, source: str | None = None) -> CurriculumConfig:
    """The named strategy's config, built and validated from ``values``."""
    cls = strategy_class(name)
    return build_config(cls.config_class, values, source=source or f"strategy {name!r}")


def make_curriculum(
    name: str, pool: TaskSource, config: CurriculumConfig | Mapping[str, Any] | None = None
) -> Curriculum:
    cls = strategy_class(name)
    if config is None or isinstance(config, Mapping):
        config = make_config(name, config)
    return cls(pool, config)
