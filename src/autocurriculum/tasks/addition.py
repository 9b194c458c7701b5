"""Family ``addition``: add two zero-padded L-digit numbers, answer written least-significant digit first.

Prompt ``A000357+000482=`` (width 6), answer ``9380000``: the sum reversed and
zero-padded to ``width + 1`` digits. Every prompt and answer has the same length
at every level, so answer digit ``i`` always depends on the operand digits at the
same prompt positions plus one carry from digit ``i - 1``: a local rule at a
level-independent position, which makes level ``L + 1`` learnable but not free.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from autocurriculum.core.config import option, require
from autocurriculum.tasks.base import TaskFamily, TaskFamilyConfig, register_task_family
from autocurriculum.verifiers import ExactMatchVerifier, Verifier

PREFIX = "A"


@dataclass
class AdditionConfig(TaskFamilyConfig):
    """Level L = digits of each operand (L = 1 allows 0-9; longer operands have a nonzero first digit)."""

    width: int = option(6, "Maximum operand digits; operands are zero-padded to this width so prompts share a length.")
    reverse_operands: bool = option(
        True,
        "Also write the operands least-significant digit first, so answer digit i sits at a fixed offset "
        "from both operand digits i.",
    )

    def level_limit(self) -> int | None:
        return self.width

    def validate(self) -> None:
        require(self.width >= 1, "width", f"must be >= 1, got {self.width}")
        super().validate()


def addition_prompt(a: int, b: int, width: int, reverse_operands: bool = False) -> str:
    """``A`` + both operands zero-padded to ``width`` + ``=``, e.g. ``A000357+000482=``."""
    left, right = f"{a:0{width}d}", f"{b:0{width}d}"
    if reverse_operands:
        left, right = left[::-1], right[::-1]
    return f"{PREFIX}{left}+{right}="


def addition_answer(a: int, b: int, width: int) -> str:
    """The sum's digits least-significant first, zero-padded to ``width + 1``: 357 + 482 -> ``9380000``."""
    return f"{a + b:0{width + 1}d}"[::-1]


def _operand(rng: np.random.Generator, digits: int) -> int:
    if digits == 1:
        return int(rng.integers(0, 10))
    # Draw digit by digit so widths beyond int64 still work.
    rest = "".join(str(d) for d in rng.integers(0, 10, size=digits - 1))
    return int(f"{int(rng.integers(1, 10))}{rest}")


@register_task_family("addition")
class AdditionFamily(TaskFamily):
    config_class: ClassVar[type[TaskFamilyConfig]] = AdditionConfig
    verifier: ClassVar[Verifier] = ExactMatchVerifier()
    alphabet: ClassVar[str] = PREFIX + "0123456789+="
    config: AdditionConfig

    @property
    def prompt_length(self) -> int:
        return 2 * self.config.width + 3

    @property
    def max_demonstration_length(self) -> int:
        return self.config.width + 1

    def _build(self, level: int, rng: np.random.Generator) -> tuple[str, str, str, Mapping[str, float]]:
        a, b = _operand(rng, level), _operand(rng, level)
        width = self.config.width
        answer = addition_answer(a, b, width)
        # The demonstration is the answer itself: there is no separate chain of thought.
        return addition_prompt(a, b, width, self.config.reverse_operands), answer, answer, {"digits": level}
