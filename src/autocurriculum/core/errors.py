"""Exceptions raised across the library. Each message names the offending field or value."""

from __future__ import annotations


class AutocurriculumError(Exception):
    """Base class for every error this library raises on purpose."""


class ConfigError(AutocurriculumError, ValueError):
    """A configuration value is missing, unknown or out of range."""


class UnknownNameError(AutocurriculumError, KeyError):
    """A strategy, task family or other registered name does not exist."""

    def __str__(self) -> str:  # KeyError would otherwise quote the whole message
        return str(self.args[0]) if self.args else ""


class InvalidOutcomeError(AutocurriculumError, ValueError):
    """A rollout outcome carries NaN, out-of-range or malformed rewards."""


class EmptyPoolError(AutocurriculumError, ValueError):
    """A task pool has no tasks to select from."""


class UnknownTaskError(AutocurriculumError, KeyError):
    """A task id is not in the pool the curriculum was built on."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class AllocationError(AutocurriculumError, ValueError):
    """An allocating strategy's group sizes do not sum to the rollout budget (or one is below 1)."""


class UnsupportedStrategyError(ConfigError):
    """A trainer cannot serve what a strategy declares it needs or does (names strategy, need and trainer)."""
