"""Oracle: picks prompts whose *true* current pass rate is nearest the target.

Testbed only. The oracle declares ``Need.PASS_RATE_ORACLE``; the harness serves it
with an estimator that measures each candidate's pass rate by Monte Carlo with the
current model. Those estimation rollouts are not charged to the rollout budget (the
report says so): the oracle is the upper bound the practical strategies are measured
against, not a method to deploy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import (
    Curriculum,
    CurriculumConfig,
    Need,
    nearest_to_target,
    option,
    register_strategy,
    require,
)
from autocurriculum.core.errors import InvalidArgumentError, NotReadyError

PassRateEstimator = Callable[[Sequence[str]], np.ndarray]


@dataclass
class OracleConfig(CurriculumConfig):
    target: float = option(0.5, "Pass rate the oracle aims for.")
    candidate_factor: int = option(4, "Candidates measured per selected prompt.")

    def validate(self) -> None:
        super().validate()
        require(0.0 <= self.target <= 1.0, "target", f"must lie in [0, 1], got {self.target}")
        require(self.candidate_factor >= 1, "candidate_factor", f"must be >= 1, got {self.candidate_factor}")


@register_strategy("oracle")
class OracleCurriculum(Curriculum):
    config_class = OracleConfig
    config: OracleConfig
    needs = frozenset({Need.PASS_RATE_ORACLE})

    def __init__(self, pool, config: OracleConfig | None = None):
        super().__init__(pool, config)
        self._estimator: PassRateEstimator | None = None

    def attach_pass_rate_estimator(self, estimator: PassRateEstimator) -> None:
        """Give the oracle a function mapping task ids to their current true pass rates."""
        self._estimator = estimator

    def provide(self, need: Need, provider: Callable[..., Any]) -> None:
        if need is Need.PASS_RATE_ORACLE:
            self.attach_pass_rate_estimator(provider)
        else:
            super().provide(need, provider)

    def _select_rows(self, n: int) -> np.ndarray:
        if self._estimator is None:
            raise NotReadyError(
                "strategy 'oracle' needs a pass-rate estimator (attach_pass_rate_estimator); "
                "it exists only on the embedded testbed, where the true pass rate can be measured"
            )
        candidates = self.uniform_rows(n * self.config.candidate_factor)
        rates = np.asarray(self._estimator(self.pool.ids_of(candidates)), dtype=np.float64)
        if rates.shape != candidates.shape or not np.isfinite(rates).all():
            raise InvalidArgumentError(
                f"pass-rate estimator returned {rates.shape} values (need {candidates.shape}, all finite)"
            )
        return candidates[nearest_to_target(rates, self.config.target, n)]
