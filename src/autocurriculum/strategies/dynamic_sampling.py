"""DAPO dynamic sampling: over-generate, keep groups with non-identical rewards, refill.

Reference: Yu et al., "DAPO" (arXiv 2503.14476); verl ``recipe/dapo`` keeps a
group iff the std of its rewards is > 0 and regenerates until the training batch
is full, giving up after ``max_num_gen_batches`` rounds. We warn and train on the
partial batch instead of raising, so a run on data that is too hard degrades
instead of dying.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from autocurriculum.core import Ability, Curriculum, CurriculumConfig, GroupOutcome, option, register_strategy, require


@dataclass
class DynamicSamplingConfig(CurriculumConfig):
    oversample: float = option(
        1.0,
        "Prompts generated per missing group in each round (DAPO uses 3 with one round; "
        "1 with refill rounds wastes fewest rollouts).",
    )
    max_generation_rounds: int = option(
        10, "Generation rounds allowed to fill one batch before training on a partial batch (DAPO default 10)."
    )

    def validate(self) -> None:
        super().validate()
        require(self.oversample >= 1.0, "oversample", f"must be >= 1, got {self.oversample}")
        require(
            self.max_generation_rounds >= 1, "max_generation_rounds", f"must be >= 1, got {self.max_generation_rounds}"
        )


@register_strategy("dynamic-sampling")
class DynamicSamplingCurriculum(Curriculum):
    """Uniform selection with a post-rollout filter on zero-variance groups."""

    config_class = DynamicSamplingConfig
    config: DynamicSamplingConfig
    abilities = frozenset({Ability.FILTERS_GROUPS})

    @property
    def max_generation_rounds(self) -> int:  # type: ignore[override]
        return self.config.max_generation_rounds

    def generation_size(self, needed: int) -> int:
        return max(1, math.ceil(needed * self.config.oversample))

    def _select_rows(self, n: int) -> np.ndarray:
        return self.uniform_rows(n)

    def keep(self, group: GroupOutcome) -> bool:
        return not group.is_zero_variance

    def filter(self, groups: Sequence[GroupOutcome]) -> list[GroupOutcome]:
        return [g for g in groups if self.keep(g)]
