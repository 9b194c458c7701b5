"""What the AutoTune procedures need from a learner: fresh hypotheses that fit and predict."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from autocurriculum.autotune.problem import Problem, Prompts


@runtime_checkable
class Hypothesis(Protocol):
    """One model. ``fit`` adds examples to its training set and refits/continues training."""

    deterministic: bool

    def fit(self, prompts: Prompts, supervision: Any) -> int:
        """Train on the new examples (plus the earlier ones); return the training steps spent."""
        ...

    def predict(self, prompts: Prompts) -> Any:
        """Completions (greedy / exact). The caller charges the rollouts."""
        ...

    def sample(self, prompts: Prompts) -> Any:
        """One sampled completion per prompt (equal to ``predict`` for deterministic models)."""
        ...

    # Optional: ``warm_copy(seed) -> Hypothesis``, a new member that continues from this one's parameters and
    # training set. AutoTune's ``reuse_supervision`` prefers it to refitting a fresh member on the union.


@runtime_checkable
class AutoTuneLearner(Protocol):
    """A factory of hypotheses for one problem (the paper's Alg)."""

    name: str

    def new(self, problem: Problem, seed: int) -> Hypothesis: ...
