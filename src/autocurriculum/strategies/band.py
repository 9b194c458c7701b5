"""Pass-rate band filtering (Bae et al., "Online Difficulty Filtering", arXiv 2504.03380).

Keeps a group only if its observed pass rate lies in [low, high], refilling like
DAPO dynamic sampling; with low > 0 and high < 1 it also drops zero-variance groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from autocurriculum.core import GroupOutcome, option, register_strategy, require
from autocurriculum.strategies.dynamic_sampling import DynamicSamplingConfig, DynamicSamplingCurriculum


@dataclass
class BandConfig(DynamicSamplingConfig):
    low: float = option(0.1, "Lowest group pass rate kept (inclusive).")
    high: float = option(0.9, "Highest group pass rate kept (inclusive).")

    def validate(self) -> None:
        super().validate()
        require(
            0.0 <= self.low <= self.high <= 1.0,
            "low/high",
            f"need 0 <= low <= high <= 1, got [{self.low}, {self.high}]",
        )


@register_strategy("band")
class BandCurriculum(DynamicSamplingCurriculum):
    config_class = BandConfig
    config: BandConfig

    def keep(self, group: GroupOutcome) -> bool:
        return self.config.low <= group.pass_rate <= self.config.high
