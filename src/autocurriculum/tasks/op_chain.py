"""Family ``op_chain``: apply L modular operations to a start digit, showing every intermediate state.

Prompt ``C3+4*2-5....=`` (3 operations, ``max_length`` 5, filler pairs ``..``),
demonstration ``7,4,9|9``: the states after each operation, ``|``, the final state.
Prompts are padded to a fixed length and the states are written two characters
apart, so state ``i`` sits at a constant distance from operation ``i`` whatever
``i`` and the level are: a model with relative positions can reuse one step for
every step. Only the final answer (after the last ``|``) is verified.

``filler`` chooses what pads the prompt after the chain (``..`` by default). The other fillers put a chain's
symbols where the warm start's short chains leave only dots, which changes how far the SFT student extrapolates
(docs/testbed.md, "What pads the prompt"); they are drawn after the chain, so the chain of an index is the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from autocurriculum.core.config import option, require
from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.tasks.base import TaskFamily, TaskFamilyConfig, register_task_family
from autocurriculum.verifiers import FinalAnswerVerifier, Verifier

PREFIX = "C"
FILLER = ".."
SEPARATOR = "|"
STATE_SEPARATOR = ","
OPERATORS = "+-*"
FILLERS = ("dots", "digits", "mixed", "noise")


@dataclass
class OpChainConfig(TaskFamilyConfig):
    """Level L = number of operations in the chain."""

    max_length: int = option(8, "Most operations in a chain; prompts are padded (see filler) to this many pairs.")
    modulus: int = option(10, "Arithmetic is modulo this (2-10, so every state is a single digit).")
    operators: str = option(OPERATORS, "Operators to draw from (a subset of '+-*').")
    filler: str = option(
        "dots",
        "What pads the prompt after the chain. 'dots': '..' pairs. 'digits': '.' and a random digit, so the operand "
        "slots past the chain hold digits as they do inside it. 'mixed': each spare pair is '.' and a random digit or "
        "a random operator and '.', so both slots of every pair see a chain's symbols. 'noise': one '..' pair ends "
        "the chain and random operations fill the rest (one pair longer). SOAR's grammar parses 'dots' only.",
    )
    mixed_operator_one_in: int = option(
        2,
        "For filler 'mixed': a spare pair is a random operator and '.' with chance 1/this, else '.' and a random "
        "digit. 2 (half and half) is 'mixed' as first screened; larger values lie between 'mixed' and 'digits'.",
    )

    def level_limit(self) -> int | None:
        return self.max_length

    def validate(self) -> None:
        require(self.max_length >= 1, "max_length", f"must be >= 1, got {self.max_length}")
        require(2 <= self.modulus <= 10, "modulus", f"must be between 2 and 10, got {self.modulus}")
        require(
            len(self.operators) > 0 and set(self.operators) <= set(OPERATORS),
            "operators",
            f"must be a non-empty subset of {OPERATORS!r}, got {self.operators!r}",
        )
        require(self.filler in FILLERS, "filler", f"must be one of {FILLERS}, got {self.filler!r}")
        require(
            self.mixed_operator_one_in >= 1,
            "mixed_operator_one_in",
            f"must be >= 1 (an operator pair with chance 1/this), got {self.mixed_operator_one_in}",
        )
        super().validate()


def apply_operation(state: int, operator: str, operand: int, modulus: int) -> int:
    if operator == "+":
        return (state + operand) % modulus
    if operator == "-":
        return (state - operand) % modulus  # Python's % is already non-negative for a positive modulus
    if operator == "*":
        return (state * operand) % modulus
    raise InvalidArgumentError(f"unknown operator {operator!r}; expected one of {OPERATORS!r}")


def op_chain_states(start: int, steps: Sequence[tuple[str, int]], modulus: int) -> list[int]:
    """The state after each ``(operator, operand)`` step."""
    states, state = [], start
    for operator, operand in steps:
        state = apply_operation(state, operator, operand, modulus)
        states.append(state)
    return states


def op_chain_prompt(
    start: int, steps: Sequence[tuple[str, int]], max_length: int, padding: Sequence[str] | None = None
) -> str:
    """``C`` + start + operation pairs + ``padding`` (default: ``..`` pairs up to ``max_length``) + ``=``."""
    body = "".join(f"{operator}{operand}" for operator, operand in steps)
    pad = FILLER * (max_length - len(steps)) if padding is None else "".join(padding)
    return f"{PREFIX}{start}{body}{pad}="


def op_chain_demonstration(states: Sequence[int]) -> str:
    """The scratchpad of states, ``|``, then the final state: ``[7, 4, 9]`` -> ``7,4,9|9``."""
    return STATE_SEPARATOR.join(str(s) for s in states) + SEPARATOR + str(states[-1])


@register_task_family("op_chain")
class OpChainFamily(TaskFamily):
    config_class: ClassVar[type[TaskFamilyConfig]] = OpChainConfig
    verifier: ClassVar[Verifier] = FinalAnswerVerifier(SEPARATOR)
    alphabet: ClassVar[str] = PREFIX + "0123456789" + OPERATORS + FILLER[0] + "=" + SEPARATOR + STATE_SEPARATOR
    config: OpChainConfig

    @property
    def prompt_length(self) -> int:
        end_pair = 1 if self.config.filler == "noise" else 0  # 'noise' always ends the chain with one '..'
        return 2 * (self.config.max_length + end_pair) + 3

    @property
    def max_demonstration_length(self) -> int:
        return 2 * self.config.resolved_max_level() + 1  # "s,s,...,s" + "|" + answer

    def _build(self, level: int, rng: np.random.Generator) -> tuple[str, str, str, Mapping[str, float]]:
        modulus, operators = self.config.modulus, self.config.operators
        start = int(rng.integers(0, modulus))
        op_codes = rng.integers(0, len(operators), size=level)
        operands = rng.integers(0, modulus, size=level)
        steps = [(operators[int(o)], int(d)) for o, d in zip(op_codes, operands, strict=True)]
        states = op_chain_states(start, steps, modulus)
        # the padding is drawn after the chain, so a chain does not depend on the filler ('dots' draws nothing)
        padding = None if self.config.filler == "dots" else self._padding(level, rng)
        prompt = op_chain_prompt(start, steps, self.config.max_length, padding)
        return prompt, str(states[-1]), op_chain_demonstration(states), {"chain_length": level}

    def _padding(self, level: int, rng: np.random.Generator) -> list[str]:
        """The pairs of a 'digits', 'mixed' or 'noise' filler after ``level`` operations."""
        spare, modulus, operators = self.config.max_length - level, self.config.modulus, self.config.operators
        dot = FILLER[0]
        if self.config.filler == "digits":
            pairs = [f"{dot}{d}" for d in rng.integers(0, modulus, size=spare)]
        elif self.config.filler == "mixed":
            one_in = self.config.mixed_operator_one_in
            digits, ops, draws = (rng.integers(0, n, size=spare) for n in (modulus, len(operators), one_in))
            pairs = [
                f"{operators[o]}{dot}" if draw == 0 else f"{dot}{d}"
                for d, o, draw in zip(digits, ops, draws, strict=True)
            ]
        else:  # noise: one '..' ends the chain, random operations follow
            ops, digits = rng.integers(0, len(operators), size=spare), rng.integers(0, modulus, size=spare)
            pairs = [FILLER] + [f"{operators[o]}{d}" for o, d in zip(ops, digits, strict=True)]
        return pairs
