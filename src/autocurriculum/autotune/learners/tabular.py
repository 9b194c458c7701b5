"""Exact ERM over the tabular class Pi = {all tables (cluster, step) -> op} of the clustered op-chain.

SFT (``TabularSFTHypothesis``): demonstrations show every state, so each (c, t) is an independent
4-way choice; ERM keeps per-(c, t, op) violation counts and picks the op with the fewest, ties in the
fixed order ``+ - x a-s``. Realizable data has a zero-violation op, so this is exact ERM.

RL (``TabularRLHypothesis``): the supervision is the set D~ of accepted chains per prompt, and the loss
is 1[pi(x) not in D~]. The steps no longer decouple, so ERM enumerates all 4^T rows of a cluster
(4096 for T = 6) and keeps per-(cluster, row) losses; ties go to the lowest row index.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autocurriculum.autotune.problem import ArrayProblem, Problem, Prompts
from autocurriculum.core.errors import InvalidTypeError
from autocurriculum.tasks.clustered_op_chain import OP_NAMES, ClusteredOpChainFamily, apply_ops, chain_states

NUM_OPS = len(OP_NAMES)


def _require_array(problem: Problem) -> ArrayProblem:
    if not isinstance(problem, ArrayProblem):
        raise InvalidTypeError("the exact tabular learner needs the clustered_op_chain task (an ArrayProblem)")
    return problem


class TabularSFTHypothesis:
    deterministic = True

    def __init__(self, family: ClusteredOpChainFamily, level: int):
        self.modulus = family.modulus
        self.violations = np.zeros((family.config.clusters, level, NUM_OPS), dtype=np.int64)
        self.table = np.zeros((family.config.clusters, level), dtype=np.int64)  # all '+' before any data

    def fit(self, prompts: Prompts, supervision: np.ndarray) -> int:
        inst = prompts.instances
        assert inst is not None
        if len(prompts) == 0:
            return 0
        states = np.asarray(supervision, dtype=np.int64)
        prev = np.zeros(len(prompts), dtype=np.int64)
        for t in range(states.shape[1]):
            for op in range(NUM_OPS):
                wrong = apply_ops(np.full_like(prev, op), prev, inst.operands[:, t], self.modulus) != states[:, t]
                np.add.at(self.violations[:, t, op], inst.clusters, wrong.astype(np.int64))
            prev = states[:, t]
        self.table = self.violations.argmin(axis=2)  # argmin returns the first minimum: the fixed tie order
        return len(prompts)

    def predict(self, prompts: Prompts) -> np.ndarray:
        return chain_states(self.table, prompts.instances, self.modulus)  # type: ignore[arg-type]

    sample = predict


class TabularSFTLearner:
    name = "tabular"

    def new(self, problem: Problem, seed: int) -> TabularSFTHypothesis:
        p = _require_array(problem)
        return TabularSFTHypothesis(p.family, p.level)


def all_rows(level: int) -> np.ndarray:
    """Every op row ``[4^level, level]``, lexicographic (row 0 = all '+')."""
    grids = np.indices((NUM_OPS,) * level).reshape(level, -1).T
    return grids.astype(np.int64)


def chain_codes(states: np.ndarray, modulus: int) -> np.ndarray:
    """One integer per chain of states (last axis), for set membership."""
    weights = modulus ** np.arange(states.shape[-1], dtype=np.int64)
    return (states * weights).sum(axis=-1)


class TabularRLHypothesis:
    deterministic = True

    def __init__(self, family: ClusteredOpChainFamily, level: int, chunk: int = 256):
        self.modulus = family.modulus
        self.rows = all_rows(level)
        self.loss = np.zeros((family.config.clusters, len(self.rows)), dtype=np.int64)
        self.table = np.zeros((family.config.clusters, level), dtype=np.int64)
        self.chunk = chunk

    def fit(self, prompts: Prompts, supervision: list[np.ndarray]) -> int:
        """``supervision[i]``: codes of the accepted chains D~_i of prompt i (empty = no signal, loss 1 for all)."""
        inst = prompts.instances
        assert inst is not None
        for start in range(0, len(prompts), self.chunk):
            sl = slice(start, start + self.chunk)
            operands = inst.operands[sl]
            accepted = supervision[sl]
            width = max(1, max((len(a) for a in accepted), default=1))
            padded = np.full((len(accepted), width), -1, dtype=np.int64)
            for i, a in enumerate(accepted):
                padded[i, : len(a)] = a
            state = np.zeros((len(operands), len(self.rows)), dtype=np.int64)
            codes = np.zeros_like(state)
            for t in range(operands.shape[1]):
                state = apply_ops(self.rows[None, :, t], state, operands[:, t][:, None], self.modulus)
                codes += state * self.modulus**t
            hit = (codes[:, :, None] == padded[:, None, :]).any(axis=2)
            np.add.at(self.loss, inst.clusters[sl], (~hit).astype(np.int64))
        self.table = self.rows[self.loss.argmin(axis=1)]
        return len(prompts)

    def predict(self, prompts: Prompts) -> np.ndarray:
        return chain_states(self.table, prompts.instances, self.modulus)  # type: ignore[arg-type]

    sample = predict


class TabularRLLearner:
    name = "tabular"

    def new(self, problem: Problem, seed: int) -> TabularRLHypothesis:
        p = _require_array(problem)
        return TabularRLHypothesis(p.family, p.level)


def supervision_size(supervision: Any) -> int:
    return len(supervision)
