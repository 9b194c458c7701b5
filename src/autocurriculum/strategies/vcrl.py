"""VCRL: keep high-variance groups, and replay high-variance prompts from a priority memory bank.

Reference: Jiang et al., "VCRL: Variance-based Curriculum Reinforcement Learning for Large Language Models"
(arXiv 2509.19803). A group of G rollouts with k successes has unbiased reward variance
``sigma^2 = k(G - k) / (G(G - 1))``; normalized by its maximum (``G / (4(G - 1))`` for even G, ``(G + 1) / (4G)``
for odd G) it gives ``p_var`` in [0, 1] (``core.group_variance``): 1 at the even split, 0 for all-0/all-1 groups.

* Filter (variance-based dynamic sampling): a group is trained on only if ``p_var >= kappa``; the trainer
  regenerates like DAPO dynamic sampling (``oversample``, ``max_generation_rounds``) until the batch is full.
* Replay (``core.priority_bank.PriorityBank``): every observed prompt with ``p_var >= kappa`` enters a bank of
  at most ``bank_capacity`` prompts with priority ``p_var`` (the lowest priorities are evicted); a prompt in the
  bank whose new ``p_var`` falls below ``kappa`` leaves it. Each ``select(n)`` takes ``round(replay_fraction *
  n)`` prompts from the bank (highest priority first, or drawn in proportion to priority), which leave it until
  their new rollouts earn them a place again, and fills the rest uniformly.

``kappa``, the bank size and the replay share are in the paper but not in the sources we could read; these
defaults are our choices. ``kappa = 0.5`` keeps groups with ``p(1 - p) >= 1/8`` for large G, i.e. pass rates in
about [0.15, 0.85] (for G = 8, ``p_var = k(8 - k)/16``: it drops k in {0, 1, 7, 8} and keeps 2..6; for G = 16
it keeps 3..13), close to the [0.1, 0.9] band of online difficulty filtering while also dropping the
near-degenerate one-success groups; lower it (0.3 keeps k = 1 at G = 8) to regenerate less. ``bank_capacity =
256`` holds several batches of high-variance prompts, and ``replay_fraction = 0.25`` replays a quarter of each
batch, so the bank's admissions outpace its replays whenever more than a quarter of the groups pass the filter,
while three quarters stay uniform for exploration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core import GroupOutcome, option, register_strategy, require
from autocurriculum.core.group_variance import normalized_reward_variance
from autocurriculum.core.priority_bank import PriorityBank
from autocurriculum.strategies.dynamic_sampling import DynamicSamplingConfig, DynamicSamplingCurriculum

REPLAY_ORDERS = ("priority", "sample")


@dataclass
class VCRLConfig(DynamicSamplingConfig):
    kappa: float = option(
        0.5, "Lowest normalized group variance p_var kept for training and admitted to the bank (ours; see docs)."
    )
    bank_capacity: int = option(256, "Most prompts the replay bank holds; the lowest p_var are evicted (ours).")
    replay_fraction: float = option(0.25, "Share of each selected batch taken from the bank (ours).")
    replay_order: str = option(
        "priority", "'priority': highest p_var first; 'sample': drawn in proportion to p_var without replacement."
    )

    def validate(self) -> None:
        super().validate()
        require(0.0 <= self.kappa <= 1.0, "kappa", f"must lie in [0, 1], got {self.kappa}")
        require(self.bank_capacity >= 0, "bank_capacity", f"must be >= 0, got {self.bank_capacity}")
        require(
            0.0 <= self.replay_fraction <= 1.0, "replay_fraction", f"must lie in [0, 1], got {self.replay_fraction}"
        )
        require(
            self.replay_order in REPLAY_ORDERS,
            "replay_order",
            f"must be one of {', '.join(REPLAY_ORDERS)}, got {self.replay_order!r}",
        )


@register_strategy("vcrl")
class VCRLCurriculum(DynamicSamplingCurriculum):
    """Uniform selection plus replay of high-variance prompts; groups with p_var < kappa are filtered out."""

    config_class = VCRLConfig
    config: VCRLConfig

    def __init__(self, pool, config: VCRLConfig | None = None):
        super().__init__(pool, config)
        self.bank = PriorityBank(self.config.bank_capacity)
        self.threshold = self.config.kappa - 1e-12  # so kappa = 0.75 keeps k = 2 of 8 despite rounding

    def _select_rows(self, n: int) -> np.ndarray:
        wanted = round(self.config.replay_fraction * n)
        replayed = self.bank.take(wanted, self.rng if self.config.replay_order == "sample" else None)
        fresh_needed = n - replayed.size
        if fresh_needed == 0:
            return replayed
        # uniform rows, skipping those replayed in this batch while the pool allows it
        candidates = self.uniform_rows(min(len(self.pool), fresh_needed + replayed.size))
        fresh = candidates[~np.isin(candidates, replayed)][:fresh_needed]
        if fresh.size < fresh_needed:  # a pool smaller than the batch: repeats are unavoidable
            fresh = np.concatenate([fresh, self.uniform_rows(fresh_needed - fresh.size)])
        return np.concatenate([replayed, fresh])

    def _observe(self, rows: np.ndarray, outcomes: list[GroupOutcome]) -> None:
        variances = np.array([normalized_reward_variance(o.rewards) for o in outcomes])
        unique_rows, inverse = np.unique(rows, return_inverse=True)
        mean_variance = np.bincount(inverse, weights=variances) / np.bincount(inverse)  # a row seen twice: mean
        high = mean_variance >= self.threshold
        self.bank.discard(unique_rows[~high])
        self.bank.push(unique_rows[high], mean_variance[high])

    def keep(self, group: GroupOutcome) -> bool:
        return normalized_reward_variance(group.rewards) >= self.threshold

    def _stateful_parts(self) -> dict[str, Any]:
        return {"bank": self.bank}
