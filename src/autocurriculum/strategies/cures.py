"""CurES: sample prompts by their estimated gradient signal and give each rollouts in proportion to it.

Reference: Sun et al., "CurES: From Gradient Analysis to Efficient Curriculum Learning for Reasoning LLMs"
(arXiv 2510.01037), code ``ZexuSun/CurES`` (``epic/epic_sampler.py``, ``epic/stage_0_init_difficulty_sample_size.py``).
The pass rate of each prompt is the mean of Beta(successes + 1, failures + 1), counters updated every step.

* **Sampling.** P(x) proportional to exp(sqrt(p(1-p)) / T), so prompts near p = 0.5 are drawn more often.
  The paper states this with a temperature T; the code divides by a per-prompt T_x = (successes_x + 1) / 0.01,
  which is at least 100 and makes P almost uniform. We follow the paper (``temperature``, default 0.1, our
  choice: the score lies in [0, 0.5], so 0.1 gives a 150x ratio between p = 0.5 and p = 0) and offer the code's
  rule as ``temperature_mode: code``.
* **Allocation.** n_x proportional to sigma_x with sigma_x^2 = p(1-p)^2 E|g_c|^2 + p^2(1-p) E|g_w|^2
  - p^2(1-p)^2 (E|g_c| - E|g_w|)^2, where g_c and g_w are per-response gradient norms of correct and wrong
  answers, measured in an offline stage (4 rollouts and backward passes per prompt). A curriculum sees only
  rewards, not gradients, so we take E|g_c| = E|g_w|, which reduces sigma_x to a constant times
  sqrt(p(1-p)); the offline gradient stage is not implemented. Our notes give the code's bounds as 4..16 with a
  budget of B * 16, under which no prompt could get more than the mean; we keep the budget at B * G (the
  trainer's group size on average, so CurES spends what uniform spends) and allow G/4..2G
  (``min_fraction``, ``max_multiple``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import (
    Ability,
    Curriculum,
    CurriculumConfig,
    GroupOutcome,
    PromptStatistics,
    option,
    register_strategy,
    require,
)
from autocurriculum.core.allocation import proportional_allocation
from autocurriculum.core.outcome import successes_and_trials


@dataclass
class CurESConfig(CurriculumConfig):
    temperature: float = option(0.1, "T in P(x) ~ exp(sqrt(p(1-p)) / T) (paper's form; the value is ours).")
    temperature_mode: str = option(
        "paper", "'paper': one temperature T; 'code': the reference code's per-prompt T_x = (successes_x + 1) / 0.01."
    )
    min_fraction: float = option(0.25, "Fewest rollouts per prompt as a share of the group size (paper: 4 of 16).")
    max_multiple: float = option(
        2.0, "Most rollouts per prompt as a multiple of the group size (code: 16; here 2G, so sizes can rise)."
    )
    candidate_factor: int = option(
        8, "Candidates scored per selected prompt (the paper samples the whole dataset; 8x bounds the cost)."
    )

    def validate(self) -> None:
        super().validate()
        require(self.temperature > 0, "temperature", f"must be > 0, got {self.temperature}")
        require(self.temperature_mode in ("paper", "code"), "temperature_mode", "must be 'paper' or 'code'")
        require(0 < self.min_fraction <= 1, "min_fraction", f"must lie in (0, 1], got {self.min_fraction}")
        require(self.max_multiple >= 1, "max_multiple", f"must be >= 1, got {self.max_multiple}")
        require(self.candidate_factor >= 1, "candidate_factor", f"must be >= 1, got {self.candidate_factor}")


@register_strategy("cures")
class CurESCurriculum(Curriculum):
    config_class = CurESConfig
    config: CurESConfig
    abilities = frozenset({Ability.ALLOCATES})

    def __init__(self, pool, config: CurESConfig | None = None):
        super().__init__(pool, config)
        self.stats = PromptStatistics(len(pool))

    def signal(self, rows: np.ndarray) -> np.ndarray:
        """sqrt(p(1-p)) at each row's Beta(s+1, f+1) mean."""
        p = self.stats.posterior_mean(rows)
        return np.sqrt(p * (1.0 - p))

    def _select_rows(self, n: int) -> np.ndarray:
        candidates = self.uniform_rows(min(len(self.pool), n * self.config.candidate_factor))
        if candidates.size < n:  # tiny pool: allow repeats
            candidates = self.uniform_rows(n * self.config.candidate_factor)
        if self.config.temperature_mode == "paper":
            temperature = np.full(candidates.size, self.config.temperature)
        else:
            temperature = (self.stats.successes[candidates] + 1.0) / 0.01
        logits = self.signal(candidates) / temperature
        weights = np.exp(logits - logits.max())
        # sampling without replacement in proportion to the weights (Gumbel top-n)
        keys = np.log(weights) + self.rng.gumbel(size=candidates.size)
        return candidates[np.argsort(-keys, kind="stable")[:n]]

    def _allocate(self, rows: np.ndarray, budget: int) -> np.ndarray:
        mean_size = budget / rows.size
        low = max(1, min(round(self.config.min_fraction * mean_size), budget // rows.size))
        high = max(round(self.config.max_multiple * mean_size), -(-budget // rows.size))
        return proportional_allocation(self.signal(rows), budget, low, high)

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        self.stats.observe(
            rows,
            *successes_and_trials(outcomes),
            step=self.updates_seen,
        )

    def _stateful_parts(self) -> dict[str, Any]:
        return {"stats": self.stats}
