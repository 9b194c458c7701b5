"""Strategies are created by name: ``make_curriculum("thompson", pool, {"target": 0.5})``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from autocurriculum.core.config import build_config
from autocurriculum.core.curriculum import Curriculum, CurriculumConfig
from autocurriculum.core.errors import UnknownNameError
from autocurriculum.core.task import TaskSource

_STRATEGIES: dict[str, type[Curriculum]] = {}

CurriculumT = TypeVar("CurriculumT", bound=type[Curriculum])


def register_strategy(name: str) -> Callable[[CurriculumT], CurriculumT]:
    """Class decorator: make a ``Curriculum`` subclass available under ``name``."""

    def decorate(cls: CurriculumT) -> CurriculumT:
        if name in _STRATEGIES and _STRATEGIES[name] is not cls:
            raise ValueError(f"strategy name {name!r} is already registered by {_STRATEGIES[name].__name__}")
        cls.name = name
        _STRATEGIES[name] = cls
        return cls

    return decorate


def strategy_names() -> list[str]:
    return sorted(_STRATEGIES)


def strategy_class(name: str) -> type[Curriculum]:
    try:
        return _STRATEGIES[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown strategy {name!r}; valid strategies: {', '.join(strategy_names()) or '(none registered)'}"
        ) from None


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
