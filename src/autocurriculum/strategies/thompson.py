"""MoPPS: Thompson sampling of per-prompt Beta posteriors toward a target pass rate.

Reference: Qu et al., "Can Prompt Difficulty be Online Predicted..." (MoPPS,
arXiv 2507.04632). Each step: draw a candidate pool of ``candidate_factor * n``
prompts uniformly, sample a pass rate from each candidate's Beta posterior, and
keep the ``n`` whose samples are closest to ``target``. No extra rollouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import (
    Curriculum,
    CurriculumConfig,
    GroupOutcome,
    PromptStatistics,
    nearest_to_target,
    option,
    register_strategy,
    require,
)
from autocurriculum.core.outcome import successes_and_trials


@dataclass
class ThompsonConfig(CurriculumConfig):
    target: float = option(0.5, "Pass rate the selection aims for (GRPO's signal peaks at 0.5).")
    candidate_factor: int = option(8, "Candidate pool size as a multiple of the batch (MoPPS ts_ratio: 8-16).")
    discount: float = option(
        0.9, "Posterior discount lambda in [0, 1]; 1 keeps all history, smaller forgets as the model changes."
    )
    stale_discount: float = option(
        1.0,
        "Weight gamma^age of a group generated `age` policy versions before the newest one seen (asynchronous "
        "trainers report late groups); 1 (the default, MoPPS) counts all evidence fully.",
    )
    prior_alpha: float = option(1.0, "Beta prior alpha (pseudo-successes).")
    prior_beta: float = option(1.0, "Beta prior beta (pseudo-failures).")

    def validate(self) -> None:
        super().validate()
        require(0.0 <= self.target <= 1.0, "target", f"must lie in [0, 1], got {self.target}")
        require(self.candidate_factor >= 1, "candidate_factor", f"must be >= 1, got {self.candidate_factor}")
        require(0.0 <= self.discount <= 1.0, "discount", f"must lie in [0, 1], got {self.discount}")
        require(0.0 < self.stale_discount <= 1.0, "stale_discount", f"must lie in (0, 1], got {self.stale_discount}")
        require(self.prior_alpha > 0 and self.prior_beta > 0, "prior_alpha/prior_beta", "must be positive")


@register_strategy("thompson")
class ThompsonCurriculum(Curriculum):
    config_class = ThompsonConfig
    config: ThompsonConfig

    def __init__(self, pool, config: ThompsonConfig | None = None):
        super().__init__(pool, config)
        self.stats = PromptStatistics(
            len(pool), self.config.prior_alpha, self.config.prior_beta, discount=self.config.discount
        )

    def _select_rows(self, n: int) -> np.ndarray:
        candidates = self.uniform_rows(min(len(self.pool), n * self.config.candidate_factor))
        if candidates.size < n:  # tiny pool: allow repeats
            candidates = self.uniform_rows(n * self.config.candidate_factor)
        sampled = self.stats.sample(self.rng, candidates)
        return candidates[nearest_to_target(sampled, self.config.target, n)]

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        successes, trials = successes_and_trials(outcomes)
        if self.config.stale_discount < 1.0:  # late groups from an older policy count for less
            weight = self.config.stale_discount ** self.staleness(outcomes)
            successes, trials = successes * weight, trials * weight
        self.stats.observe(rows, successes, trials, step=self.updates_seen)

    def _stateful_parts(self) -> dict[str, Any]:
        return {"stats": self.stats}
