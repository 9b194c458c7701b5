"""SFT with a teacher: uniform baseline, faithful AutoTune-SFT, and the practical counterexample variant."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autocurriculum.autotune.boosting import AutoTuneConfig, PhaseRecord, boosting_result, run_boosting
from autocurriculum.autotune.learners.base import AutoTuneLearner
from autocurriculum.autotune.problem import Problem, Prompts
from autocurriculum.autotune.result import AutoTuneResult
from autocurriculum.autotune.teacher import DemonstrationTeacher
from autocurriculum.core.config import option, require


@dataclass
class UniformSFTConfig:
    """Plain SFT: demonstrations on uniformly drawn prompts, evaluated along a geometric grid."""

    max_demos: int = option(4096, "Largest number of demonstrations bought.")
    start: int = option(8, "First grid point (demonstrations).")
    growth: float = option(1.15, "Grid ratio between consecutive evaluation points.")
    target_accuracy: float | None = option(None, "Stop as soon as the held-out accuracy reaches this.")

    def validate(self) -> None:
        require(self.max_demos >= 1, "max_demos", f"must be >= 1, got {self.max_demos}")
        require(1 <= self.start <= self.max_demos, "start", f"must be in 1..max_demos, got {self.start}")
        require(self.growth > 1, "growth", f"must be > 1, got {self.growth}")
        require(
            self.target_accuracy is None or 0 < self.target_accuracy <= 1,
            "target_accuracy",
            f"must be in (0, 1], got {self.target_accuracy}",
        )

    def grid(self) -> list[int]:
        points, x = [], float(self.start)
        while x < self.max_demos:
            points.append(math.ceil(x))
            x *= self.growth
        points.append(self.max_demos)
        return sorted(set(points))


def uniform_sft(
    problem: Problem,
    learner: AutoTuneLearner,
    teacher: DemonstrationTeacher,
    config: UniformSFTConfig,
    test: Prompts,
    seed: int = 0,
) -> AutoTuneResult:
    """The baseline: buy a demonstration for every drawn prompt, fit, evaluate at each grid point.

    The curve says how many demonstrations uniform SFT needs for a given accuracy; reading it with the
    test set is an oracle stopping rule, which favours the baseline (no validation cost is charged).
    """
    config.validate()
    hypothesis = learner.new(problem, seed)
    curve: list[dict] = []
    accuracy = 0.0
    for target in config.grid():
        while problem.costs.teacher_demonstrations < target:
            batch = problem.draw(target - problem.costs.teacher_demonstrations)
            rows, supervision = teacher.demonstrate(problem, batch)
            if len(rows):
                problem.costs.learner_training_steps += hypothesis.fit(batch.take(rows), supervision)
            if len(rows) == 0 and problem.costs.teacher_failures > 10 * target:
                break  # a teacher that never answers: stop rather than loop forever
        accuracy = float(problem.correct(test, hypothesis.predict(test)).mean())
        curve.append({"accuracy": accuracy, **problem.costs.as_dict()})
        if config.target_accuracy is not None and accuracy >= config.target_accuracy:
            break
    return AutoTuneResult("uniform_sft", problem.costs.as_dict(), accuracy, curve=curve)


def autotune_sft(
    problem: Problem,
    learner: AutoTuneLearner,
    teacher: DemonstrationTeacher,
    config: AutoTuneConfig,
    test: Prompts,
    on_phase: Callable[[PhaseRecord], None] | None = None,
) -> AutoTuneResult:
    """Faithful AutoTune-SFT: k boosting phases, demonstrations bought only for accepted prompts, plurality vote."""
    outcome = run_boosting(problem, learner, lambda prompts: teacher.demonstrate(problem, prompts), config, on_phase)
    return boosting_result("autotune_sft", problem, outcome, test, config.eps)


@dataclass
class CounterexampleConfig:
    """Practical AutoTune-SFT ("learning from counterexamples"): one model, demonstrations only where it fails."""

    eps: float = option(0.01, "Target outcome error; the run stops once the model passes a run of fresh prompts.")
    delta: float = option(0.05, "Confidence of the stopping rule: P[stop with error > eps] <= delta, whole run.")
    batch: int = option(
        8,
        "Fresh prompts checked by the verifier before each update. Small batches buy fewer demonstrations "
        "(a failure the previous update would have fixed is not bought twice); large ones update less often.",
    )
    max_prompts: int = option(2_000_000, "Most prompts drawn before giving up (reported).")
    eval_every: int = option(
        0,
        "Measure held-out accuracy after every this many updates (0 = only at the end). Not charged; it lets "
        "a sweep read the curve with the same oracle stopping rule as the uniform baseline.",
    )

    def validate(self) -> None:
        require(0 < self.eps < 1, "eps", f"must be in (0, 1), got {self.eps}")
        require(0 < self.delta < 1, "delta", f"must be in (0, 1), got {self.delta}")
        require(self.batch >= 1, "batch", f"must be >= 1, got {self.batch}")
        require(self.max_prompts >= 1, "max_prompts", f"must be >= 1, got {self.max_prompts}")
        require(self.eval_every >= 0, "eval_every", f"must be >= 0, got {self.eval_every}")

    def passes_needed(self, updates: int) -> int:
        """Consecutive passes that certify the model after ``updates`` updates.

        Model u is tested at confidence delta / ((u+1)(u+2)); these sum to delta over the run, so the rule
        holds for the whole run rather than for one model (testing every version at delta would not).
        """
        return math.ceil(math.log((updates + 1) * (updates + 2) / self.delta) / self.eps)


def counterexample_sft(
    problem: Problem,
    learner: AutoTuneLearner,
    teacher: DemonstrationTeacher,
    config: CounterexampleConfig,
    test: Prompts,
    seed: int = 0,
) -> AutoTuneResult:
    """Check fresh prompts with the verifier; buy demonstrations for the failures; continue training; repeat.

    Stops once the current model (after u updates) passes ``ceil(ln((u+1)(u+2)/delta)/eps)`` consecutive
    fresh prompts: the chance that any model with error above eps is certified is <= delta (the
    random-counterexample stopping rule with a union bound over the model versions).
    """
    config.validate()
    hypothesis = learner.new(problem, seed)
    streak = updates = 0
    curve: list[dict] = []

    def evaluate() -> float:
        accuracy = float(problem.correct(test, hypothesis.predict(test)).mean())
        curve.append({"updates": updates, "accuracy": accuracy, **problem.costs.as_dict()})
        return accuracy

    if config.eval_every:
        evaluate()
    while streak < config.passes_needed(updates) and problem.costs.prompts_drawn < config.max_prompts:
        batch = problem.draw(config.batch)
        problem.costs.learner_rollouts += len(batch)
        ok = problem.verify(batch, hypothesis.predict(batch))
        failures = np.flatnonzero(~ok)
        if len(failures) == 0:
            streak += len(batch)
            continue
        streak = 0  # the model is about to change: earlier passes say nothing about the new one
        counterexamples = batch.take(failures)
        rows, supervision = teacher.demonstrate(problem, counterexamples)
        if len(rows):
            problem.costs.learner_training_steps += hypothesis.fit(counterexamples.take(rows), supervision)
            updates += 1
            if config.eval_every and updates % config.eval_every == 0:
                evaluate()
    accuracy = evaluate()  # the final point also records what the stopping rule itself cost
    return AutoTuneResult(
        "counterexample_sft",
        problem.costs.as_dict(),
        accuracy,
        target_error=config.eps,
        curve=curve,
        extra={"updates": updates, "stopped_by_rule": streak >= config.passes_needed(updates)},
    )
