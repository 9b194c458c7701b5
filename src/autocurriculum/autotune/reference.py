"""The RL reference model pi_ref with tunable sequence coverage C (research note, T2).

``ReferenceModel`` (clustered op-chain): at each step pi_ref applies the correct op with probability 1 - eta
and a uniformly random op (of the 4) otherwise, so the correct chain has probability at least
(1 - 3 eta / 4)^T = 1 / C. ``eta`` is solved from C; pi_ref(y | x) is exact (ops that collide add up).

``TextReferenceModel`` (any family with demonstrations): the family's chain of thought with probability
1 / C, otherwise that chain with one character replaced, uniformly over positions and other symbols.
"""

from __future__ import annotations

import math

import numpy as np

from autocurriculum.autotune.problem import ArrayProblem, Prompts, TextProblem
from autocurriculum.core.config import require
from autocurriculum.core.errors import ConfigError
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


class TextReferenceModel:
    """pi_ref for a ``TextProblem``: coverage exactly C on every prompt; every rollout is charged.

    A corrupted chain may still end in the right answer (the verifier sees only the outcome), but its
    probability, (1 - 1/C) / (len(chain) * (symbols - 1)), is below 1/C for C >= 2, so RLFineTune's filter
    pi_ref(y | x) >= 1/C keeps only the real chain of thought.
    """

    def __init__(self, problem: TextProblem, coverage: float, seed: int = 0):
        require(coverage >= 1, "coverage", f"must be >= 1, got {coverage}")
        self.symbols = sorted(set(problem.family.alphabet))
        if len(self.symbols) < 2:
            raise ConfigError(f"task family {problem.family.name!r}: the text reference model needs an alphabet")
        self.problem = problem
        self.coverage = float(coverage)
        self.eta = 1.0 - 1.0 / self.coverage  # probability of a corrupted chain
        self.rng = np.random.default_rng([seed, 0x7E7])

    def _chain(self, prompts: Prompts, row: int) -> str:
        task = self.problem.tasks(prompts)[row]
        if not task.demonstration:
            raise ConfigError(f"task {task.task_id!r}: the text reference model needs the family's demonstration")
        unknown = set(task.demonstration) - set(self.symbols)
        if unknown:
            raise ConfigError(f"task {task.task_id!r}: demonstration characters {sorted(unknown)} not in the alphabet")
        return task.demonstration

    def sample(self, prompts: Prompts, m: int) -> list[list[str]]:
        """``m`` sampled completions per prompt."""
        self.problem.costs.reference_rollouts += len(prompts) * m
        out = []
        symbol_index = {c: i for i, c in enumerate(self.symbols)}
        count = len(self.symbols)
        for row in range(len(prompts)):
            chain = self._chain(prompts, row)
            corrupt = self.rng.random(m) < self.eta
            positions = self.rng.integers(len(chain), size=m)
            shifts = self.rng.integers(1, count, size=m)  # a shift of 1..count-1 never lands on the same symbol
            samples = []
            for bad, position, shift in zip(corrupt, positions, shifts, strict=True):
                if not bad:
                    samples.append(chain)
                    continue
                symbol = self.symbols[(symbol_index[chain[position]] + shift) % count]
                samples.append(chain[:position] + symbol + chain[position + 1 :])
            out.append(samples)
        return out

    def log_prob(self, prompts: Prompts, samples: list[list[str]]) -> list[list[float]]:
        """Exact log pi_ref(y | x) of each sample."""
        out = []
        for row, row_samples in enumerate(samples):
            chain = self._chain(prompts, row)
            corruptions = len(chain) * (len(self.symbols) - 1)
            values = []
            for text in row_samples:
                if text == chain:
                    values.append(math.log(1 - self.eta))
                elif len(text) == len(chain) and sum(a != b for a, b in zip(text, chain, strict=True)) == 1:
                    values.append(math.log(self.eta / corruptions) if self.eta > 0 else -math.inf)
                else:
                    values.append(-math.inf)
            out.append(values)
        return out


def rollouts_per_prompt(coverage: float, miss_probability: float) -> int:
    """m = ceil(C ln(1/miss)) so a covered chain is sampled with probability >= 1 - miss."""
    require(0 < miss_probability < 1, "miss_probability", f"must be in (0, 1), got {miss_probability}")
    return max(1, math.ceil(coverage * math.log(1.0 / miss_probability)))
