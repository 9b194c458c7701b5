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


class InvalidArgumentError(AutocurriculumError, ValueError):
    """A call got a value it cannot use: empty input, mismatched lengths, a size out of range."""


class InvalidTypeError(AutocurriculumError, TypeError):
    """A call got an object of the wrong kind (names what was expected)."""


class StateFormatError(AutocurriculumError, ValueError):
    """A state file or value that cannot be read, or that belongs to another strategy, pool or shape.

    Names the file or the path inside the state.
    """


class MissingFieldError(AutocurriculumError, KeyError):
    """A row, column or mapping lacks a field the library needs (names the field and where)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class OutOfRangeError(AutocurriculumError, IndexError):
    """A row or arm index lies outside the object it indexes."""


class MissingFileError(AutocurriculumError, FileNotFoundError):
    """A file or folder the caller named does not exist."""


class MissingDependencyError(AutocurriculumError, ImportError):
    """An optional dependency is not installed; the message gives the pip command (an extra of this package)."""


class NotReadyError(AutocurriculumError, RuntimeError):
    """A component was used before something it needs was attached (names what to attach)."""


class StrategyContractError(AutocurriculumError, RuntimeError):
    """A strategy returned something that breaks the ``Curriculum`` contract (wrong count, no rollouts)."""


class ServiceUnavailableError(AutocurriculumError, RuntimeError):
    """A served curriculum cannot be reached: its actor died or is restarting (names the actor and the call).

    ``restarting`` is True when the actor may come back (Ray is restarting it), False when it is gone for good.
    """

    def __init__(self, message: str, *, actor: str | None = None, method: str | None = None, restarting: bool = False):
        super().__init__(message)
        self.actor = actor
        self.method = method
        self.restarting = restarting
