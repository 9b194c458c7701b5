"""Separate cost counters: the paper's claims are about which resource scales how, so never add them up blindly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass
class CostCounters:
    """Every resource a procedure spends. Evaluation on the held-out test set is *not* charged.

    ``prompts_drawn``: fresh prompts taken from the prompt distribution (cheap, unlabelled).
    ``verifier_calls``: outcome checks V(x, y_T) of any completion (learner, reference or teacher).
    ``teacher_calls``: every request to the teacher, successful or not (the expensive resource).
    ``teacher_demonstrations``: requests that returned a well-formed demonstration (n_CoT in the paper).
    ``teacher_failures``: requests that raised or returned a malformed demonstration (prompt skipped).
    ``learner_training_steps``: optimiser steps (transformer) or examples processed by an ERM fit (tabular).
    ``reference_rollouts``: completions sampled from the RL reference model pi_ref.
    ``learner_rollouts``: completions produced by the learner's own models (ranking, routing, checking).
    """

    prompts_drawn: int = 0
    verifier_calls: int = 0
    teacher_calls: int = 0
    teacher_demonstrations: int = 0
    teacher_failures: int = 0
    learner_training_steps: int = 0
    reference_rollouts: int = 0
    learner_rollouts: int = 0

    @property
    def rollouts(self) -> int:
        """n_comp of the RL setting: every length-T rollout, from pi_ref or from the learner's models."""
        return self.reference_rollouts + self.learner_rollouts

    def as_dict(self) -> dict[str, int]:
        return {**dataclasses.asdict(self), "rollouts": self.rollouts}

    def copy(self) -> CostCounters:
        return dataclasses.replace(self)

    def __sub__(self, other: CostCounters) -> CostCounters:
        return CostCounters(
            **{f.name: getattr(self, f.name) - getattr(other, f.name) for f in dataclasses.fields(self)}
        )
