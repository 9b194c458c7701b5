"""Outcome verifier: only the text after the last separator counts; the scratchpad before it is ignored."""

from __future__ import annotations

from typing import ClassVar

from autocurriculum.core.errors import ConfigError
from autocurriculum.verifiers.base import Verifier


class FinalAnswerVerifier(Verifier):
    """Answer = text after the last ``separator``, stripped; None if the separator is missing or the answer empty."""

    name: ClassVar[str] = "final_answer"

    def __init__(self, separator: str = "|"):
        if not isinstance(separator, str) or not separator:
            raise ConfigError(f"separator must be a non-empty string, got {separator!r}")
        self.separator = separator

    def parse(self, completion: str) -> str | None:
        _, sep, tail = completion.rpartition(self.separator)
        if not sep:
            return None
        answer = tail.strip()
        return answer or None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(separator={self.separator!r})"
