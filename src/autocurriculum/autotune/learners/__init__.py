"""Learners for AutoTune: the exact tabular ERM (clustered op-chain), the testbed transformer and a Hugging Face
causal LM trained by TRL's SFTTrainer (both lazy: torch is imported only when they are asked for)."""

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
    if name in ("HuggingFaceLearner", "HuggingFaceLearnerConfig", "HuggingFaceHypothesis"):
        from autocurriculum.autotune.learners import huggingface

        return getattr(huggingface, name)
    raise AttributeError(name)


__all__ = [
    "AutoTuneLearner",
    "HuggingFaceHypothesis",
    "HuggingFaceLearner",
    "HuggingFaceLearnerConfig",
    "Hypothesis",
    "TabularRLHypothesis",
    "TabularRLLearner",
    "TabularSFTHypothesis",
    "TabularSFTLearner",
    "TransformerHypothesis",
    "TransformerLearner",
    "TransformerLearnerConfig",
]
