"""The RL reference model pi_ref with tunable sequence coverage C (research note, T2).

At each step pi_ref applies the correct op with probability 1 - eta and a uniformly random op
(of the 4) otherwise, so the correct chain has probability at least (1 - 3 eta / 4)^T = 1 / C.
``eta`` is solved from C; pi_ref(y | x) is exact (ops that collide on the same state add up).
"""

from __future__ import annotations

import math

import numpy as np

from autocurriculum.autotune.problem import ArrayProblem, Prompts
from autocurriculum.core.config import require
from autocurriculum.tasks.clustered_op_chain import OP_NAMES, apply_ops


class ReferenceModel:
    """pi_ref for an ``ArrayProblem``; every sampled rollout is charged to ``reference_rollouts``."""

    def __init__(self, problem: ArrayProblem, coverage: float, seed: int = 0):
        level = problem.level
        require(1 <= coverage <= len(OP_NAMES) ** level, "coverage", f"must be in 1..4^T={4**level}, got {coverage}")
        self.problem = problem
        self.coverage = float(coverage)
        self.eta = (4.0 / 3.0) * (1.0 - coverage ** (-1.0 / level))
        self.rng = np.random.default_rng([seed, 0xEEF])

    @property
    def correct_chain_probability(self) -> float:
        return (1 - 0.75 * self.eta) ** self.problem.level

    def sample(self, prompts: Prompts, m: int) -> np.ndarray:
        """``[n, m, level]`` sampled chains of states."""
        inst = prompts.instances
        assert inst is not None
        n, level = inst.operands.shape
        self.problem.costs.reference_rollouts += n * m
        table = self.problem.family.table
        state = np.zeros((n, m), dtype=np.int64)
        out = np.empty((n, m, level), dtype=np.int64)
        for t in range(level):
            correct_op = np.broadcast_to(table[inst.clusters, t][:, None], (n, m))
            random_op = self.rng.integers(0, len(OP_NAMES), size=(n, m))
            ops = np.where(self.rng.random((n, m)) < self.eta, random_op, correct_op)
            state = apply_ops(ops, state, inst.operands[:, t][:, None], self.problem.modulus)
            out[:, :, t] = state
        return out

    def log_prob(self, prompts: Prompts, chains: np.ndarray) -> np.ndarray:
        """Exact log pi_ref(y | x) for ``chains`` of shape ``[n, m, level]``."""
        inst = prompts.instances
        assert inst is not None
        n, m, level = chains.shape
        table = self.problem.family.table
        logp = np.zeros((n, m))
        prev = np.zeros((n, m), dtype=np.int64)
        for t in range(level):
            a = inst.operands[:, t][:, None]
            target = chains[:, :, t]
            hits = np.zeros((n, m))
            for op in range(len(OP_NAMES)):
                hits += apply_ops(np.full((n, m), op), prev, a, self.problem.modulus) == target
            right = apply_ops(np.broadcast_to(table[inst.clusters, t][:, None], (n, m)), prev, a, self.problem.modulus)
            p = (1 - self.eta) * (right == target) + self.eta / len(OP_NAMES) * hits
            with np.errstate(divide="ignore"):
                logp += np.log(p)
            prev = target
        return logp


def rollouts_per_prompt(coverage: float, miss_probability: float) -> int:
    """m = ceil(C ln(1/miss)) so a covered chain is sampled with probability >= 1 - miss."""
    require(0 < miss_probability < 1, "miss_probability", f"must be in (0, 1), got {miss_probability}")
    return max(1, math.ceil(coverage * math.log(1.0 / miss_probability)))
