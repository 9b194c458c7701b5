"""RL with verifier guidance: RLFineTune (Alg. 4) and AutoTune-RL (Alg. 5 = AutoTune with Alg = RLFineTune).

Every rollout is charged: reference rollouts (m per supervised prompt) and the learner's own rollouts
(ranking, routing and validation inside the boosting loop). Every sampled reference chain is verified.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.autotune.boosting import AutoTuneConfig, PhaseRecord, boosting_result, run_boosting
from autocurriculum.autotune.learners.base import AutoTuneLearner
from autocurriculum.autotune.learners.tabular import chain_codes
from autocurriculum.autotune.problem import ArrayProblem, Problem, Prompts
from autocurriculum.autotune.reference import ReferenceModel, TextReferenceModel, rollouts_per_prompt
from autocurriculum.autotune.result import AutoTuneResult
from autocurriculum.core.config import option, require


def reference_supervision(
    problem: Problem, reference: ReferenceModel | TextReferenceModel, prompts: Prompts, m: int
) -> tuple[np.ndarray, Any]:
    """RLFineTune's D~_i: distinct sampled chains that verify and have pi_ref(y|x) >= 1/C.

    Clustered op-chain: every row, with D~_i as chain codes (an empty set is a loss of 1 for every row of
    the table). Text families: the rows whose D~_i is non-empty, each with one chain as its SFT target
    (the text reference model's D~_i holds at most the family's own chain).
    """
    if len(prompts) == 0:
        return np.zeros(0, dtype=np.int64), []
    threshold = -math.log(reference.coverage) - 1e-9
    if isinstance(problem, ArrayProblem):
        chains = reference.sample(prompts, m)
        problem.costs.verifier_calls += chains.shape[0] * chains.shape[1]
        correct = chains[:, :, -1] == problem.truth(prompts)[:, -1][:, None]
        keep = correct & (reference.log_prob(prompts, chains) >= threshold)
        codes = chain_codes(chains, problem.modulus)
        return np.arange(len(prompts), dtype=np.int64), [np.unique(codes[i][keep[i]]) for i in range(len(prompts))]
    samples = reference.sample(prompts, m)
    flat = [text for row in samples for text in row]
    correct = problem.verify(prompts.take(np.repeat(np.arange(len(prompts)), m)), flat).reshape(len(prompts), m)
    logp = reference.log_prob(prompts, samples)
    rows, targets = [], []
    for i in range(len(prompts)):
        accepted = sorted({samples[i][j] for j in range(m) if correct[i, j] and logp[i][j] >= threshold})
        if accepted:
            rows.append(i)
            targets.append(accepted[0])
    return np.array(rows, dtype=np.int64), targets


@dataclass
class RLFineTuneConfig:
    """RLFineTune baseline: m = ceil(C ln(1/miss)) reference rollouts per uniformly drawn prompt, then ERM."""

    miss_probability: float = option(0.01, "Chance that a covered correct chain is never sampled (sets m).")
    max_prompts: int = option(4096, "Largest number of prompts (each with m reference rollouts).")
    start: int = option(8, "First grid point (prompts).")
    growth: float = option(1.15, "Grid ratio between consecutive evaluation points.")
    target_accuracy: float | None = option(None, "Stop as soon as the held-out accuracy reaches this.")

    def validate(self) -> None:
        require(0 < self.miss_probability < 1, "miss_probability", f"must be in (0, 1), got {self.miss_probability}")
        require(self.max_prompts >= 1, "max_prompts", f"must be >= 1, got {self.max_prompts}")
        require(1 <= self.start <= self.max_prompts, "start", f"must be in 1..max_prompts, got {self.start}")
        require(self.growth > 1, "growth", f"must be > 1, got {self.growth}")


def rl_finetune(
    problem: Problem,
    reference: ReferenceModel | TextReferenceModel,
    learner: AutoTuneLearner,
    config: RLFineTuneConfig,
    test: Prompts,
    seed: int = 0,
) -> AutoTuneResult:
    """The baseline along a geometric grid of prompt counts (curve read with an oracle stopping rule)."""
    config.validate()
    m = rollouts_per_prompt(reference.coverage, config.miss_probability)
    hypothesis = learner.new(problem, seed)
    curve: list[dict] = []
    points, x = [], float(config.start)
    while x < config.max_prompts:
        points.append(math.ceil(x))
        x *= config.growth
    accuracy = 0.0
    for target in [*sorted(set(points)), config.max_prompts]:
        missing = target - problem.costs.prompts_drawn
        if missing > 0:
            batch = problem.draw(missing)
            rows, supervision = reference_supervision(problem, reference, batch, m)
            problem.costs.learner_training_steps += hypothesis.fit(batch.take(rows), supervision)
        accuracy = float(problem.correct(test, hypothesis.predict(test)).mean())
        curve.append({"accuracy": accuracy, **problem.costs.as_dict()})
        if config.target_accuracy is not None and accuracy >= config.target_accuracy:
            break
    return AutoTuneResult(
        "rl_finetune",
        problem.costs.as_dict(),
        accuracy,
        curve=curve,
        extra={"coverage": reference.coverage, "rollouts_per_prompt": m, "eta": reference.eta},
    )


def autotune_rl(
    problem: Problem,
    reference: ReferenceModel | TextReferenceModel,
    learner: AutoTuneLearner,
    config: AutoTuneConfig,
    test: Prompts,
    miss_probability: float = 0.01,
    on_phase: Callable[[PhaseRecord], None] | None = None,
) -> AutoTuneResult:
    """AutoTune-RL: reference rollouts only on accepted prompts; the ensemble's own rollouts do the routing."""
    m = rollouts_per_prompt(reference.coverage, miss_probability)
    outcome = run_boosting(
        problem, learner, lambda prompts: reference_supervision(problem, reference, prompts, m), config, on_phase
    )
    costs = problem.costs
    return boosting_result(
        "autotune_rl",
        problem,
        outcome,
        test,
        config.eps,
        coverage=reference.coverage,
        rollouts_per_prompt=m,
        burn_in_share=costs.reference_rollouts / max(1, costs.rollouts),
    )
