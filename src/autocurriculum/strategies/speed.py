"""SPEED: screen each prompt with a few rollouts, spend the full group only on prompts that are neither solved
nor failed by all of them.

Reference: Zhang et al., "SPEED-RL: Faster Training of Reasoning Models via Online Curriculum Learning"
(arXiv 2506.09016), project page ``Zanette-Labs/speed-rl``. Phase 1 samples ``N_init`` rollouts per candidate
prompt and drops those whose screening pass rate is 0 or 1; phase 2 samples ``N_cont`` more for the survivors,
and the two passes together form the training group. Candidates are drawn uniformly. The rationale: for pass
rates below 1/4 or above 3/4 the gradient's signal-to-noise ratio is at most 4N p(1-p), so a near-0 or near-1
prompt is worth about p per unit of compute; a cheap screen finds the ones worth more.

Scaled to the trainer's group size G: the paper uses N_init = 4 and N_cont = 20 (G = 24); here the screen is
``screen_rollouts`` (default 4) and the continuation ``G - screen_rollouts``. Screening rollouts are charged to
the budget like any other. The paper overlaps the next batch's screen with this batch's continuation in one
inference call, a throughput trick with no effect on the rollouts counted here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from autocurriculum.core import (
    Ability,
    Curriculum,
    CurriculumConfig,
    GroupOutcome,
    option,
    register_strategy,
    require,
)


@dataclass
class SPEEDConfig(CurriculumConfig):
    screen_rollouts: int = option(4, "N_init: rollouts per candidate in the screening pass (paper: 4).")
    max_generation_rounds: int = option(
        10, "Screening rounds allowed to fill one batch before training on a partial one."
    )
    oversample: float = option(
        1.0,
        "Candidates screened per missing group, divided by the running pass-the-screen rate (1: just enough "
        "in expectation).",
    )

    def validate(self) -> None:
        super().validate()
        require(self.screen_rollouts >= 1, "screen_rollouts", f"must be >= 1, got {self.screen_rollouts}")
        require(
            self.max_generation_rounds >= 1, "max_generation_rounds", f"must be >= 1, got {self.max_generation_rounds}"
        )
        require(self.oversample > 0, "oversample", f"must be > 0, got {self.oversample}")


@register_strategy("speed")
class SPEEDCurriculum(Curriculum):
    config_class = SPEEDConfig
    config: SPEEDConfig
    abilities = frozenset({Ability.SCREENS})

    def __init__(self, pool, config: SPEEDConfig | None = None):
        super().__init__(pool, config)
        self.pass_rate_of_screen = 0.5  # running share of screened prompts that pass (sizes the next screen)
        self.screened = 0
        self.passed = 0

    @property
    def max_generation_rounds(self) -> int:  # type: ignore[override]
        return self.config.max_generation_rounds

    def screen_size(self, group_size: int) -> int:
        return min(self.config.screen_rollouts, group_size - 1)

    def passes_screen(self, group: GroupOutcome) -> bool:
        passed = not group.is_zero_variance
        self.screened += 1
        self.passed += int(passed)
        self.pass_rate_of_screen = 0.9 * self.pass_rate_of_screen + 0.1 * float(passed)
        return passed

    def generation_size(self, needed: int) -> int:
        return max(needed, math.ceil(needed * self.config.oversample / max(self.pass_rate_of_screen, 0.05)))

    def _select_rows(self, n: int):
        return self.uniform_rows(n)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["screen"] = {"rate": self.pass_rate_of_screen, "screened": self.screened, "passed": self.passed}
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.pass_rate_of_screen = float(state["screen"]["rate"])
        self.screened, self.passed = int(state["screen"]["screened"]), int(state["screen"]["passed"])
