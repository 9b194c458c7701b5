"""GRESO: skip prompts before rollout when their recent groups all had zero variance.

Reference: Zheng et al., "Act Only When It Pays: Efficient Reinforcement Learning for LLM Reasoning via
Selective Rollouts" (GRESO, arXiv 2506.02177), code ``Infini-AI-Lab/GRESO``
(``verl/trainer/ttis/presampling_selector.py``). A prompt whose last ``k`` groups were all correct (or all
wrong) is skipped with probability ``1 - max(p_easy^k, floor)`` (``p_hard`` for all-wrong streaks), before any
rollout is spent on it. After each step ``p_easy`` and ``p_hard`` move by ``step`` toward targets: the share of
zero-variance groups that are easy should be ``target_zero_variance / 3`` and hard ``2 * target / 3``; a share
above its target lowers the probability (skip more). The rest is DAPO dynamic sampling: zero-variance groups
that still get through are dropped and the batch refilled.

Defaults are the code's: p_easy = p_hard = 0.5 at the start, floor 0.01, step 0.01, bounds [0.05, 0.95],
target 0.25, easy = mean reward >= 0.98 and hard <= 0.11 (with 0/1 rewards: all correct, all wrong).
GRESO also sizes the next generation batch as ``ceil(need / (1 - zero-variance rate) * 1.25)``; that buys
fewer generation rounds at the price of surplus groups, so it is an option (``oversample: adaptive``) and the
default refills exactly what is missing, as our dynamic-sampling does, so the two are compared on equal terms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import GroupOutcome, option, register_strategy, require
from autocurriculum.core.outcome import successes_and_trials, zero_variance_mask
from autocurriculum.core.streaks import ZeroVarianceStreaks
from autocurriculum.strategies.dynamic_sampling import DynamicSamplingConfig, DynamicSamplingCurriculum


@dataclass
class GRESOConfig(DynamicSamplingConfig):
    initial_p_easy: float = option(0.5, "Start value of p_easy, the keep base for all-correct streaks (code: 0.5).")
    initial_p_hard: float = option(0.5, "Start value of p_hard, the keep base for all-wrong streaks (code: 0.5).")
    keep_floor: float = option(0.01, "Smallest keep probability, so no prompt is skipped forever (code: 0.01).")
    target_zero_variance: float = option(
        0.25, "Target share of zero-variance groups among those generated (code: 0.25; 1/3 easy, 2/3 hard)."
    )
    adjust_step: float = option(0.01, "Change of p_easy/p_hard per step toward the target (code: 0.01).")
    p_min: float = option(0.05, "Lower bound of p_easy and p_hard (code: 0.05).")
    p_max: float = option(0.95, "Upper bound of p_easy and p_hard (code: 0.95).")
    easy_at: float = option(0.98, "A group with mean reward >= this counts as all-correct (code: 0.98).")
    hard_at: float = option(0.11, "A group with mean reward <= this counts as all-wrong (code: 0.11).")
    oversample_mode: str = option(
        "refill",
        "'refill': generate what is missing each round, like dynamic-sampling (fewest rollouts); 'adaptive': "
        "GRESO's ceil(need / (1 - zero-variance rate) * 1.25), fewer rounds but surplus groups.",
    )

    def validate(self) -> None:
        super().validate()
        for name in ("initial_p_easy", "initial_p_hard", "keep_floor", "target_zero_variance", "adjust_step"):
            value = getattr(self, name)
            require(0.0 < value < 1.0, name, f"must lie in (0, 1), got {value}")
        require(
            0.0 < self.p_min <= self.p_max < 1.0,
            "p_min/p_max",
            f"need 0 < p_min <= p_max < 1, got {self.p_min}, {self.p_max}",
        )
        require(0.0 <= self.hard_at < self.easy_at <= 1.0, "hard_at/easy_at", "need 0 <= hard_at < easy_at <= 1")
        require(self.oversample_mode in ("refill", "adaptive"), "oversample_mode", "must be 'refill' or 'adaptive'")


@register_strategy("greso")
class GRESOCurriculum(DynamicSamplingCurriculum):
    """Uniform candidates, each skipped with its streak's probability; dynamic sampling on what is rolled out."""

    config_class = GRESOConfig
    config: GRESOConfig

    def __init__(self, pool, config: GRESOConfig | None = None):
        super().__init__(pool, config)
        self.streaks = ZeroVarianceStreaks(len(pool), easy_at=self.config.easy_at, hard_at=self.config.hard_at)
        self.p_easy = self.config.initial_p_easy
        self.p_hard = self.config.initial_p_hard
        self.zero_variance_rate = 0.0  # of the last update's groups, for the adaptive batch size
        self.skipped = 0  # candidates skipped before rollout, for reporting

    def keep_probability(self, rows: np.ndarray) -> np.ndarray:
        """Probability that each row is rolled out when drawn: 1 unless it is on a zero-variance streak."""
        easy = self.streaks.easy[rows].astype(np.float64)
        hard = self.streaks.hard[rows].astype(np.float64)
        keep = np.ones(rows.size)
        floor = self.config.keep_floor
        keep = np.where(easy > 0, np.maximum(self.p_easy**easy, floor), keep)
        return np.where(hard > 0, np.maximum(self.p_hard**hard, floor), keep)

    def _select_rows(self, n: int) -> np.ndarray:
        chosen: list[np.ndarray] = []
        have = 0
        for _ in range(64):  # each pass keeps at least floor of the candidates, so this ends quickly
            candidates = self.uniform_rows(min(len(self.pool), 4 * n))
            kept = candidates[self.rng.random(candidates.size) < self.keep_probability(candidates)]
            self.skipped += candidates.size - kept.size
            chosen.append(kept[: n - have])
            have += chosen[-1].size
            if have == n:
                return np.concatenate(chosen)
        return np.concatenate([*chosen, self.uniform_rows(n - have)])  # a pool skipped almost entirely

    def generation_size(self, needed: int) -> int:
        if self.config.oversample_mode == "refill":
            return super().generation_size(needed)
        return max(needed, math.ceil(needed / max(1.0 - self.zero_variance_rate, 0.05) * 1.25))

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        successes, trials = successes_and_trials(outcomes)
        rates = successes / trials
        self.streaks.observe(rows, rates)
        easy_share = float(np.mean(rates >= self.config.easy_at))
        hard_share = float(np.mean(rates <= self.config.hard_at))
        self.zero_variance_rate = float(zero_variance_mask(outcomes).mean())
        target = self.config.target_zero_variance
        self.p_easy = self._adjust(self.p_easy, easy_share, target / 3)
        self.p_hard = self._adjust(self.p_hard, hard_share, 2 * target / 3)

    def _adjust(self, p: float, share: float, target: float) -> float:
        step = -self.config.adjust_step if share > target else self.config.adjust_step  # too many: skip more
        return float(np.clip(p + step, self.config.p_min, self.config.p_max))

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["greso"] = {
            "p_easy": self.p_easy,
            "p_hard": self.p_hard,
            "zero_variance_rate": self.zero_variance_rate,
            "skipped": self.skipped,
        }
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        own = state["greso"]
        self.p_easy, self.p_hard = float(own["p_easy"]), float(own["p_hard"])
        self.zero_variance_rate, self.skipped = float(own["zero_variance_rate"]), int(own["skipped"])

    def _stateful_parts(self) -> dict[str, Any]:
        return {"streaks": self.streaks}
