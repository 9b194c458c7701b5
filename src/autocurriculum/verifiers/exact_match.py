"""Exact match after stripping surrounding whitespace."""

from __future__ import annotations

from typing import ClassVar

from autocurriculum.verifiers.base import Verifier


class ExactMatchVerifier(Verifier):
    """The whole completion, stripped, must equal the gold answer."""

    name: ClassVar[str] = "exact_match"

    def parse(self, completion: str) -> str | None:
        answer = completion.strip()
        return answer or None  # an empty completion is malformed, not an empty answer
