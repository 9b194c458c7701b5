"""Goldilocks: a teacher predicts each unseen prompt's GRPO signal sqrt(p(1-p)); pick the best of K.

Reference: Mahrooghi, Lotfi, Abbe, "Goldilocks RL: Tuning Task Difficulty to Escape
Sparse Rewards for Reasoning" (arXiv 2602.14868). For a Bernoulli reward the GRPO
gradient norm scales with sqrt(p(1-p)), which peaks at p = 0.5 and vanishes at 0 and 1.
The teacher is ``0.5 * sigmoid(w . features(prompt))`` trained with MSE on a sliding
window of observed sqrt(p_hat(1-p_hat)), asynchronously beside the trainer; each
batch slot takes the best of K random candidates, epsilon-greedy. K, epsilon and the
window size are not given in the sources we could read; the defaults follow the
research notes' small-scale plan (K = 8, epsilon = 0.1, a 2k window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autocurriculum.core import register_strategy
from autocurriculum.predictors.strategy import PredictorConfig, PredictorCurriculum


@dataclass
class GoldilocksConfig(PredictorConfig):
    """All teacher and selection settings; see ``PredictorConfig`` for the shared fields."""


@register_strategy("goldilocks")
class GoldilocksCurriculum(PredictorCurriculum):
    config_class = GoldilocksConfig
    config: GoldilocksConfig
    target_range = (0.0, 0.5)  # the range of sqrt(p(1-p))

    def target(self, pass_rates: np.ndarray) -> np.ndarray:
        return np.sqrt(pass_rates * (1.0 - pass_rates))

    def utility(self, predictions: np.ndarray) -> np.ndarray:
        return predictions
