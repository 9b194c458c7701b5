"""Family ``clustered_op_chain``: the realizable op-chain of the AutoTune experiments (research note, T1).

A prompt is ``x = (c, a_1..a_L)``: a cluster ``c ~ Zipf(s)`` over ``clusters`` clusters and operands
``a_t ~ U(Z_q)``. A hidden table ``(c, t) -> op`` with ``op in {+, -, x, a-s}`` (fixed by ``table_seed``)
drives the states ``s_t = op_{c,t}(s_{t-1}, a_t)`` from ``s_0 = 0``. The chain of thought is the states,
the unique answer is the last state.

Text format (one character per state; ``A`` stands for 10 when ``modulus = 11``):
prompt ``K042:3A71......=`` (cluster, operands, ``.`` filler up to ``steps``), demonstration ``4029|9``.

Everything is counter-based (a hash of ``(seed, level, index)``), so ``instances`` draws millions of
prompts as NumPy arrays and ``generate(level, index)`` returns exactly the same task as text.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from autocurriculum.core.config import option, require
from autocurriculum.core.errors import ConfigError
from autocurriculum.core.task import Task
from autocurriculum.tasks.base import TaskFamily, TaskFamilyConfig, register_task_family
from autocurriculum.verifiers import FinalAnswerVerifier, Verifier

SYMBOLS = "0123456789ABCDEF"  # state/operand digits, one character each
PREFIX, COLON, FILLER, EQUALS, SEPARATOR = "K", ":", ".", "=", "|"
OP_NAMES = ("+", "-", "x", "a-s")  # op codes 0..3, also the ERM tie-break order


@dataclass
class ClusteredOpChainConfig(TaskFamilyConfig):
    """Level L = number of steps of the chain (the research note uses L = steps = 6)."""

    clusters: int = option(128, "Number of clusters m; each has its own hidden row of ops.")
    zipf_exponent: float = option(1.1, "Exponent s of the Zipf law P(c) ~ (c+1)^-s over the clusters.")
    modulus: int = option(11, "States and operands live in Z_modulus (2..16, one character each).")
    steps: int = option(6, "Most steps T of a chain; prompts are padded with '.' to this length.")
    table_seed: int = option(0, "Seed of the hidden op table (c, t) -> op; the 'world' the learner must find.")

    def level_limit(self) -> int | None:
        return self.steps

    def validate(self) -> None:
        require(self.clusters >= 1, "clusters", f"must be >= 1, got {self.clusters}")
        require(self.zipf_exponent >= 0, "zipf_exponent", f"must be >= 0, got {self.zipf_exponent}")
        require(2 <= self.modulus <= len(SYMBOLS), "modulus", f"must be in 2..{len(SYMBOLS)}, got {self.modulus}")
        require(1 <= self.steps <= 12, "steps", f"must be in 1..12, got {self.steps}")
        require(self.table_seed >= 0, "table_seed", f"must be >= 0, got {self.table_seed}")
        super().validate()


@dataclass
class ClusteredInstances:
    """A batch of prompts as arrays: ``clusters[n]`` and ``operands[n, level]``."""

    clusters: np.ndarray
    operands: np.ndarray

    def __len__(self) -> int:
        return len(self.clusters)

    def take(self, rows: np.ndarray) -> ClusteredInstances:
        return ClusteredInstances(self.clusters[rows], self.operands[rows])


def apply_ops(ops: np.ndarray, state: np.ndarray, operand: np.ndarray, modulus: int) -> np.ndarray:
    """Vectorised ``op(state, operand) mod modulus`` for op codes 0..3 (``+``, ``-``, ``x``, ``a-s``)."""
    out = np.where(ops == 0, state + operand, state - operand)
    out = np.where(ops == 2, state * operand, out)
    out = np.where(ops == 3, operand - state, out)
    return np.mod(out, modulus)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fixed bijection of uint64 with good avalanche (counter-based RNG)."""
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _uniforms(key: tuple[int, ...], indices: np.ndarray, columns: int) -> np.ndarray:
    """Uniforms in [0, 1) of shape ``[len(indices), columns]``, a pure function of ``(key, index, column)``."""
    h = np.full(1, 0x1234567, dtype=np.uint64)
    for part in key:
        h = _mix(h ^ np.uint64(part))
    base = _mix(np.asarray(indices, dtype=np.uint64)[:, None] ^ h)
    cols = np.arange(columns, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        bits = _mix(base + cols * np.uint64(0xD1B54A32D192ED03))
    return (bits >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def zipf_probabilities(clusters: int, exponent: float) -> np.ndarray:
    weights = np.arange(1, clusters + 1, dtype=np.float64) ** -exponent
    return weights / weights.sum()


def op_table(config: ClusteredOpChainConfig) -> np.ndarray:
    """The hidden table ``[clusters, steps]`` of op codes, fixed by ``table_seed``."""
    u = _uniforms((0xC0FFEE, config.table_seed), np.arange(config.clusters), config.steps)
    return np.minimum((u * len(OP_NAMES)).astype(np.int64), len(OP_NAMES) - 1)


def chain_states(table: np.ndarray, instances: ClusteredInstances, modulus: int) -> np.ndarray:
    """States ``[n, level]`` of every chain under ``table`` (``[clusters, >= level]`` op codes)."""
    n, level = instances.operands.shape
    states = np.empty((n, level), dtype=np.int64)
    state = np.zeros(n, dtype=np.int64)
    for t in range(level):
        state = apply_ops(table[instances.clusters, t], state, instances.operands[:, t], modulus)
        states[:, t] = state
    return states


def encode_states(states: np.ndarray) -> str:
    """``[4, 0, 2, 9]`` -> ``4029|9``."""
    return "".join(SYMBOLS[int(s)] for s in states) + SEPARATOR + SYMBOLS[int(states[-1])]


def parse_states(text: str, level: int, modulus: int) -> np.ndarray | None:
    """States from a demonstration ``4029|9``; None when malformed (wrong length, bad symbol, inconsistent answer)."""
    if not isinstance(text, str):
        return None
    body, sep, answer = text.strip().rpartition(SEPARATOR)
    if not sep or len(body) != level or answer != body[-1:]:
        return None
    values = [SYMBOLS.find(ch) for ch in body]
    if any(v < 0 or v >= modulus for v in values):
        return None
    return np.array(values, dtype=np.int64)


@register_task_family("clustered_op_chain")
class ClusteredOpChainFamily(TaskFamily):
    config_class: ClassVar[type[TaskFamilyConfig]] = ClusteredOpChainConfig
    verifier: ClassVar[Verifier] = FinalAnswerVerifier(SEPARATOR)
    alphabet: ClassVar[str] = PREFIX + COLON + SYMBOLS + FILLER + EQUALS + SEPARATOR
    config: ClusteredOpChainConfig

    def __init__(self, config: TaskFamilyConfig | None = None):
        super().__init__(config)
        self.table = op_table(self.config)
        self.cluster_probabilities = zipf_probabilities(self.config.clusters, self.config.zipf_exponent)
        self._cdf = np.cumsum(self.cluster_probabilities)
        self.cluster_width = len(str(self.config.clusters - 1))

    @property
    def modulus(self) -> int:
        return self.config.modulus

    @property
    def prompt_length(self) -> int:
        return len(PREFIX) + self.cluster_width + 1 + self.config.steps + 1

    @property
    def max_demonstration_length(self) -> int:
        return self.config.resolved_max_level() + 2

    @property
    def complexity_bits(self) -> float:
        """log2 |Pi| for the tabular hypothesis class: clusters * steps * log2(4)."""
        return float(self.config.clusters * self.config.steps * 2)

    def instances(self, level: int, indices: np.ndarray) -> ClusteredInstances:
        """The prompts at ``(level, index)`` for every index, as arrays (same values as ``generate``)."""
        level = self._check_level(level)
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and indices.min() < 0:
            raise ConfigError("index: must be >= 0")
        u = _uniforms((self._salt, self.config.seed, level), indices, level + 1)
        clusters = np.minimum(np.searchsorted(self._cdf, u[:, 0], side="right"), self.config.clusters - 1)
        operands = np.minimum((u[:, 1:] * self.config.modulus).astype(np.int64), self.config.modulus - 1)
        return ClusteredInstances(clusters.astype(np.int64), operands)

    def states(self, instances: ClusteredInstances) -> np.ndarray:
        """The true chain of thought ``[n, level]``."""
        return chain_states(self.table, instances, self.config.modulus)

    def prompt_text(self, cluster: int, operands: np.ndarray) -> str:
        body = "".join(SYMBOLS[int(a)] for a in operands)
        filler = FILLER * (self.config.steps - len(operands))
        return f"{PREFIX}{int(cluster):0{self.cluster_width}d}{COLON}{body}{filler}{EQUALS}"

    def generate(self, level: int, index: int) -> Task:
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or index < 0:
            raise ConfigError(f"index: must be an integer >= 0, got {index!r}")
        inst = self.instances(level, np.array([int(index)]))
        states = self.states(inst)[0]
        return Task(
            task_id=self.task_id(level, int(index)),
            prompt=self.prompt_text(int(inst.clusters[0]), inst.operands[0]),
            answer=SYMBOLS[int(states[-1])],
            category=self.name,
            knobs={"level": float(level), "chain_length": float(level), "cluster": float(inst.clusters[0])},
            demonstration=encode_states(states),
        )

    def _build(self, level: int, rng: np.random.Generator) -> tuple[str, str, str, Mapping[str, float]]:
        raise NotImplementedError("clustered_op_chain overrides generate() with a counter-based generator")
