"""PCL (Prompt Curriculum Learning): a value model predicts p from the prompt; keep those nearest tau.

Reference: "Prompt Curriculum Learning" (arXiv 2510.01135). Each iteration draws
``k * m`` prompts, predicts each pass rate V(x) with one forward pass, keeps the
``m`` closest to tau = 0.5 and trains V on the observed group means with
L = sum_i (V(x_i) - mean_j r_ij)^2, concurrently with the policy. Here V is the
shared teacher (features + head, sigmoid output in [0, 1]).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autocurriculum.core import option, register_strategy, require
from autocurriculum.predictors.strategy import PredictorConfig, PredictorCurriculum


@dataclass
class PCLConfig(PredictorConfig):
    target: float = option(0.5, "tau: the pass rate the selection aims for.")
    selection: str = option("top", "'top': the B candidates nearest tau out of K*B (PCL); 'per_slot': best of K.")
    epsilon: float = option(0.0, "Probability that a slot takes a random candidate (PCL itself does not explore).")

    def validate(self) -> None:
        super().validate()
        require(0.0 <= self.target <= 1.0, "target", f"must lie in [0, 1], got {self.target}")


@register_strategy("pcl")
class PCLCurriculum(PredictorCurriculum):
    config_class = PCLConfig
    config: PCLConfig
    target_range = (0.0, 1.0)

    def target(self, pass_rates: np.ndarray) -> np.ndarray:
        return pass_rates

    def utility(self, predictions: np.ndarray) -> np.ndarray:
        return -np.abs(predictions - self.config.target)
