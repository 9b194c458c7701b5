"""Learners for AutoTune: the exact tabular ERM (clustered op-chain) and the testbed transformer (lazy torch)."""

from __future__ import annotations

from typing import Any

from autocurriculum.autotune.learners.base import AutoTuneLearner, Hypothesis
from autocurriculum.autotune.learners.tabular import (
    TabularRLHypothesis,
    TabularRLLearner,
    TabularSFTHypothesis,
    TabularSFTLearner,
)


def __getattr__(name: str) -> Any:  # import the torch-backed learner only when asked for
    if name in ("TransformerLearner", "TransformerLearnerConfig", "TransformerHypothesis"):
        from autocurriculum.autotune.learners import transformer

        return getattr(transformer, name)
    raise AttributeError(name)


__all__ = [
    "AutoTuneLearner",
    "Hypothesis",
    "TabularRLHypothesis",
    "TabularRLLearner",
    "TabularSFTHypothesis",
    "TabularSFTLearner",
    "TransformerHypothesis",
    "TransformerLearner",
    "TransformerLearnerConfig",
]
