"""The AutoTune boosting loop (Alg. 1 / 3 of the paper), shared by AutoTune-SFT and AutoTune-RL.

Phase j draws fresh prompts, ranks each one by how many current members the verifier marks correct,
accepts it with probability w_j(rank) / max w_j (rejection sampling from rho*_j ~ rho * w_j), buys
supervision (teacher demonstrations or reference rollouts) for accepted prompts only, and fits a fresh
weak learner until a held-back validation sample of accepted prompts (verifier only, no supervision)
puts its error at or below ``weak_error``. A phase whose acceptance rate falls below eps / (4 sqrt k)
ABORTS: as in the paper's Sample(), the learner is still fit on the short D_out it collected, added to
the ensemble, and the phase is reported as aborted (the analysis bounds those phases' total effect by eps/2).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from autocurriculum.autotune.learners.base import AutoTuneLearner, Hypothesis
from autocurriculum.autotune.problem import Problem, Prompts
from autocurriculum.autotune.result import AutoTuneResult
from autocurriculum.autotune.weights import acceptance_probabilities, beta_table, choose_k, vote_rule
from autocurriculum.core.config import option, require

Acquire = Callable[[Prompts], tuple[np.ndarray, Any]]


@dataclass
class AutoTuneConfig:
    """Settings of the boosting loop (faithful AutoTune-SFT and AutoTune-RL)."""

    eps: float = option(0.01, "Target outcome error; sets k (number of phases) and the abort rate eps/(4 sqrt k).")
    variant: str = option("deterministic", "'deterministic' (3/4-coins, majority) or 'stochastic' (9/10, 4k/5).")
    k: int | None = option(None, "Number of phases; None = smallest k with P[Bin(k,p) <= threshold] <= eps/2.")
    weak_error: float | None = option(
        None,
        "A weak learner is done when its validation error is <= this; None = 1 - p of the variant's coins "
        "(the paper's err*: 1/4 deterministic, 1/10 stochastic, where 'error' means Monte Carlo accuracy < 9/10).",
    )
    validation_size: int = option(48, "Accepted prompts per phase held back to estimate the weak error (no demos).")
    chunk: int = option(8, "Accepted prompts supervised per training round of a phase.")
    max_phase_train: int = option(2048, "Most supervised prompts per phase before moving on (reported).")
    draw_batch: int = option(512, "Fresh prompts drawn and ranked at a time.")
    max_phase_prompts: int | None = option(None, "Prompts a phase may draw before aborting; None = 64*4*sqrt(k)/eps.")
    mc_samples: int = option(8, "Stochastic variant: samples per member to estimate its accuracy on a prompt.")
    reuse_supervision: bool = option(
        False,
        "Warm-start each phase's weak learner with all supervision bought in earlier phases (not in the paper's "
        "pseudo-code; valid under realizability, where any hypothesis consistent with the phase's sample meets "
        "the weak-error bound). A warm-started learner that already meets the weak error buys nothing.",
    )
    seed: int = option(0, "Seed of the acceptance coin flips and the learners.")

    def validate(self) -> None:
        require(0 < self.eps < 1, "eps", f"must be in (0, 1), got {self.eps}")
        vote_rule(self.variant)
        require(self.k is None or self.k >= 1, "k", f"must be >= 1, got {self.k}")
        require(
            self.weak_error is None or 0 < self.weak_error < 0.5,
            "weak_error",
            f"must be in (0, 0.5), got {self.weak_error}",
        )
        require(self.validation_size >= 1, "validation_size", f"must be >= 1, got {self.validation_size}")
        require(self.chunk >= 1, "chunk", f"must be >= 1, got {self.chunk}")
        require(self.max_phase_train >= 1, "max_phase_train", f"must be >= 1, got {self.max_phase_train}")
        require(self.draw_batch >= 1, "draw_batch", f"must be >= 1, got {self.draw_batch}")
        require(
            self.max_phase_prompts is None or self.max_phase_prompts >= 1,
            "max_phase_prompts",
            f"must be >= 1, got {self.max_phase_prompts}",
        )
        require(self.mc_samples >= 1, "mc_samples", f"must be >= 1, got {self.mc_samples}")
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")

    def resolved_weak_error(self) -> float:
        return self.weak_error if self.weak_error is not None else round(1 - vote_rule(self.variant).p, 12)

    def resolved_k(self) -> int:
        return self.k if self.k is not None else choose_k(self.eps, vote_rule(self.variant))


@dataclass
class PhaseRecord:
    phase: int
    prompts_drawn: int = 0
    accepted: int = 0
    supervised: int = 0
    validation_error: float = float("nan")
    aborted: bool = False
    weak_target_met: bool = False
    demonstrations: int = 0
    reference_rollouts: int = 0

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.prompts_drawn if self.prompts_drawn else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "acceptance_rate": self.acceptance_rate}


@dataclass
class BoostingOutcome:
    members: list[Hypothesis]
    phases: list[PhaseRecord]
    k: int
    variant: str
    extra: dict[str, Any] = field(default_factory=dict)


def member_correct(
    problem: Problem, members: Sequence[Hypothesis], prompts: Prompts, variant: str, mc_samples: int
) -> np.ndarray:
    """``[members, prompts]``: does each member (verifier-checked, charged) answer each prompt correctly?

    Deterministic variant: one greedy rollout per member. Stochastic variant: a member counts as correct
    when its Monte Carlo accuracy over ``mc_samples`` samples is >= 9/10 (one rollout if it is deterministic).
    """
    n = len(prompts)
    if n == 0:
        return np.zeros((len(members), 0), dtype=bool)
    rows = []
    for member in members:
        if variant == "stochastic" and not member.deterministic:
            hits = np.zeros(n)
            for _ in range(mc_samples):
                problem.costs.learner_rollouts += n
                hits += problem.verify(prompts, member.sample(prompts))
            rows.append(hits / mc_samples >= 0.9)
        else:
            problem.costs.learner_rollouts += n
            rows.append(problem.verify(prompts, member.predict(prompts)))
    return np.array(rows, dtype=bool).reshape(len(members), n)


def _merge(supervision: list[Any]) -> Any:
    """Concatenate supervision batches: arrays (tabular SFT states) or lists (texts, accepted chain sets)."""
    if all(isinstance(part, np.ndarray) for part in supervision):
        return np.concatenate(supervision)
    return [item for part in supervision for item in part]


class _PhaseSampler:
    """Verifier-guided rejection sampling of one phase (the paper's Sample), with a buffer of extra accepts."""

    def __init__(
        self,
        problem: Problem,
        members: list[Hypothesis],
        record: PhaseRecord,
        config: AutoTuneConfig,
        rng: np.random.Generator,
        k: int,
        abort_rate: float,
        min_draws: int,
        max_prompts: int,
    ):
        self.problem, self.members, self.record, self.config, self.rng = problem, members, record, config, rng
        self.k, self.abort_rate, self.min_draws, self.max_prompts = k, abort_rate, min_draws, max_prompts
        self.buffer = Prompts(np.zeros(0, dtype=np.int64))
        self.rule = vote_rule(config.variant)

    def pull(self, need: int) -> Prompts:
        """``need`` accepted prompts (fewer if the phase aborts)."""
        record, config, j = self.record, self.config, len(self.members)
        parts = [self.buffer]
        have = len(self.buffer)
        while have < need and not record.aborted:
            if record.prompts_drawn >= self.min_draws and record.accepted < self.abort_rate * record.prompts_drawn:
                record.aborted = True
                break
            if record.prompts_drawn >= self.max_prompts:
                record.aborted = True
                break
            batch = self.problem.draw(config.draw_batch)
            record.prompts_drawn += len(batch)
            if j == 0:
                accept = np.ones(len(batch))  # empty ensemble: every rank is 0, every weight equal
            else:
                correct = member_correct(self.problem, self.members, batch, config.variant, config.mc_samples)
                accept = acceptance_probabilities(correct.sum(axis=0), j, self.k, self.rule)
            keep = np.flatnonzero(self.rng.random(len(batch)) < accept)
            record.accepted += len(keep)
            parts.append(batch.take(keep))
            have += len(keep)
        pool = Prompts.concat(parts)
        take = min(need, len(pool))
        self.buffer = pool.take(np.arange(take, len(pool)))
        return pool.take(np.arange(take))


def run_boosting(
    problem: Problem,
    learner: AutoTuneLearner,
    acquire: Acquire,
    config: AutoTuneConfig,
    on_phase: Callable[[PhaseRecord], None] | None = None,
) -> BoostingOutcome:
    config.validate()
    k = config.resolved_k()
    weak_error = config.resolved_weak_error()
    rng = np.random.default_rng([config.seed, 0xB00])
    abort_rate = config.eps / (4 * math.sqrt(k))
    min_draws = math.ceil(4 / abort_rate)  # enough draws to expect 4 acceptances at the abort rate
    max_prompts = config.max_phase_prompts or math.ceil(64 / abort_rate)
    members: list[Hypothesis] = []
    phases: list[PhaseRecord] = []
    bought: list[tuple[Prompts, Any]] = []  # every supervised batch so far, for reuse_supervision

    for j in range(k):
        record = PhaseRecord(phase=j)
        before = problem.costs.copy()
        sampler = _PhaseSampler(problem, members, record, config, rng, k, abort_rate, min_draws, max_prompts)
        pull = sampler.pull
        seed = config.seed * 10_007 + j
        if config.reuse_supervision and bought and hasattr(members[-1], "warm_copy"):
            # SGD learners continue from the last member (it was trained on everything bought so far)
            hypothesis = members[-1].warm_copy(seed)
        else:
            hypothesis = learner.new(problem, seed=seed)
            if config.reuse_supervision and bought:
                # exact ERM: refit on the union in one call
                old_prompts = Prompts.concat([prompts for prompts, _ in bought])
                supervision = _merge([sup for _, sup in bought])
                problem.costs.learner_training_steps += hypothesis.fit(old_prompts, supervision)

        def train(prompts: Prompts, hypothesis: Hypothesis = hypothesis, record: PhaseRecord = record) -> None:
            if len(prompts) == 0:
                return
            rows, supervision = acquire(prompts)
            record.supervised += len(prompts)
            if len(rows):
                kept = prompts.take(rows)
                problem.costs.learner_training_steps += hypothesis.fit(kept, supervision)
                if config.reuse_supervision:
                    bought.append((kept, supervision))

        validation = pull(config.validation_size)

        def check(hypothesis: Hypothesis = hypothesis, record: PhaseRecord = record, held: Prompts = validation):
            correct = member_correct(problem, [hypothesis], held, config.variant, config.mc_samples)[0]
            record.validation_error = float(1 - correct.mean()) if len(held) else float("nan")
            record.weak_target_met = record.validation_error <= weak_error
            return record.weak_target_met

        if config.reuse_supervision and bought and not record.aborted:
            check()  # the warm start may already be a weak learner for this phase's distribution
        while not record.weak_target_met and not record.aborted and record.supervised < config.max_phase_train:
            batch = pull(config.chunk)
            if len(batch) == 0:
                break
            train(batch)
            if check():
                break
        if record.aborted:
            # Alg(D_out^j) on the short sample: the held-back prompts are part of D_out too
            train(validation)
        spent = problem.costs - before
        record.demonstrations = spent.teacher_demonstrations
        record.reference_rollouts = spent.reference_rollouts
        members.append(hypothesis)
        phases.append(record)
        if on_phase is not None:
            on_phase(record)
    return BoostingOutcome(members=members, phases=phases, k=k, variant=config.variant)


def boosting_result(
    method: str, problem: Problem, outcome: BoostingOutcome, test: Prompts, eps: float, **extra: Any
) -> AutoTuneResult:
    """The ``AutoTuneResult`` of a boosting run: held-out vote accuracy, per-phase records, ensemble diagnostics."""
    accuracy, potential, member_accuracy, vote_error = ensemble_report(problem, outcome.members, test, outcome.variant)
    return AutoTuneResult(
        method,
        problem.costs.as_dict(),
        accuracy,
        target_error=eps,
        phases=[p.to_dict() for p in outcome.phases],
        extra={
            "k": outcome.k,
            "variant": outcome.variant,
            "aborted_phases": sum(p.aborted for p in outcome.phases),
            "weak_target_missed": sum(not p.weak_target_met and not p.aborted for p in outcome.phases),
            "potential": potential,
            "member_accuracy": member_accuracy,
            "vote_error": vote_error,
            **extra,
        },
    )


def ensemble_report(problem: Problem, members: Sequence[Hypothesis], test: Prompts, variant: str = "deterministic"):
    """Held-out accuracy of the plurality vote, the potential Phi_j = E[beta_{j,k}(rank_j)] for j = 0..k, each
    member's accuracy, and the realized error of the vote of the first j members for j = 1..k (not charged)."""
    completions = [m.predict(test) for m in members]
    correct = np.array([problem.correct(test, c) for c in completions], dtype=bool)
    prefix_accuracy = [
        float(problem.correct(test, problem.vote(completions[: j + 1])).mean()) for j in range(len(members))
    ]
    k = len(members)
    beta = beta_table(k, vote_rule(variant))
    rank = np.zeros(len(test), dtype=np.int64)
    potential = [float(beta[0, 0])]
    for j in range(k):
        rank += correct[j]
        potential.append(float(beta[j + 1, rank].mean()))
    member_accuracy = [float(c.mean()) for c in correct]
    return prefix_accuracy[-1], potential, member_accuracy, [1 - a for a in prefix_accuracy]
