"""What a strategy declares it needs from its harness (``Need``) and does around selection (``Ability``).

Trainers declare what they serve and support; ``require_supported`` compares the two before any training, so a
strategy a trainer cannot run is refused with an error naming the strategy, the need or ability and the trainer,
instead of silently running a different method. Nothing is probed by attribute name.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TYPE_CHECKING

from autocurriculum.core.errors import ConfigError, UnsupportedStrategyError

if TYPE_CHECKING:
    from autocurriculum.core.curriculum import Curriculum, CurriculumConfig


class Need(enum.Enum):
    """Something a strategy needs from the harness it runs in (served through ``Curriculum.provide``)."""

    PASS_RATE_ORACLE = "pass_rate_oracle"
    """``f(task_ids) -> np.ndarray`` of current true pass rates, measured with the current student (testbed only)."""
    STUDENT_FEATURES = "student_features"
    """``f(prompts) -> np.ndarray`` of shape ``(len(prompts), dim)``: the current student's prompt features."""


class Ability(enum.Enum):
    """Something a strategy does that the trainer running it must support (declared in ``Curriculum.abilities``).

    A strategy without abilities only chooses prompts, and every trainer can run it. Each ability below changes
    what the trainer must do around selection; a trainer that cannot do it refuses the strategy up front
    (``require_supported``) instead of silently running a different method.
    """

    FILTERS_GROUPS = "filters_groups"
    """``filter`` drops generated groups: the trainer regenerates (``generation_size``, ``max_generation_rounds``)
    until the training batch is full (DAPO dynamic sampling, band filters, VCRL, GRESO)."""
    SCREENS = "screens"
    """Prompts are first rolled out ``screen_size`` times; only those ``passes_screen`` keeps are continued to a
    full group, screening rollouts included in it and charged to the budget (SPEED)."""
    ALLOCATES = "allocates"
    """``plan`` gives each prompt its own group size, summing to the batch's rollout budget: the trainer must
    accept ragged groups (Knapsack RL, CurES)."""


def require_supported(
    strategy_class: type[Curriculum],
    config: CurriculumConfig,
    trainer: str,
    serves: Iterable[Need] = (),
    supports: Iterable[Ability] = (),
    label: str | None = None,
) -> None:
    """Refuse, before training, a strategy whose declared needs or abilities ``trainer`` cannot serve."""
    label = label or strategy_class.name
    served, supported = frozenset(serves), frozenset(supports)
    for need in sorted(strategy_class.needs_for(config) - served, key=lambda n: n.value):
        offered = ", ".join(sorted(n.value for n in served)) or "nothing"
        raise UnsupportedStrategyError(
            f"strategy {label!r} needs {need.value!r}, which the {trainer} trainer cannot serve (it serves: "
            f"{offered}); choose a strategy without this need or run it where it is served (the testbed serves "
            "every need)"
        )
    for ability in sorted(strategy_class.abilities - supported, key=lambda a: a.value):
        offered = ", ".join(sorted(a.value for a in supported)) or "none"
        raise UnsupportedStrategyError(
            f"strategy {label!r} {ability.value.replace('_', ' ')} ({ability.name}), which the {trainer} trainer "
            f"does not support (it supports: {offered}); choose a strategy without this ability or run it on "
            "the testbed trainer, which supports all of them"
        )


def _members_by_name(kind: type[enum.Enum], names: Iterable[str], field: str, plural: str) -> frozenset:
    valid = {member.value: member for member in kind}
    unknown = [name for name in names if name not in valid]
    if unknown:
        noun = kind.__name__.lower()
        raise ConfigError(f"{field}: unknown {noun} {unknown[0]!r}; known {plural}: {', '.join(sorted(valid))}")
    return frozenset(valid[name] for name in names)


def abilities_from_names(names: Iterable[str], field: str = "abilities") -> frozenset[Ability]:
    """Abilities by their names (as a trainer's config or a remote service lists them); unknown names are refused."""
    return _members_by_name(Ability, list(names), field, "abilities")


def needs_from_names(names: Iterable[str], field: str = "needs") -> frozenset[Need]:
    """Needs by their names; unknown names are refused with the known ones."""
    return _members_by_name(Need, list(names), field, "needs")
