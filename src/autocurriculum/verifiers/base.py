"""The verifier interface: ``parse`` a completion, ``verify`` it against gold, ``reward`` both safely.

Splitting parsing from checking (as math-verify does) lets a trainer log what
the model actually answered, and lets outcome verifiers ignore a scratchpad.
"""

from __future__ import annotations

from typing import ClassVar


class Verifier:
    """Base class. Subclasses implement ``parse``; ``verify`` defaults to exact string equality."""

    name: ClassVar[str] = "verifier"

    def parse(self, completion: str) -> str | None:
        """The answer extracted from ``completion``, or None when the output is malformed."""
        raise NotImplementedError

    def verify(self, gold: str, parsed: str | None) -> bool:
        """Whether ``parsed`` (from ``parse``) matches the gold answer."""
        return parsed is not None and parsed == gold.strip()

    def reward(self, completion: str, gold: str) -> float:
        """1.0 when ``completion`` is correct, else 0.0. Never raises on bad model output.

        Model samples are arbitrary text, so one odd string must not crash a
        training run: every ``Exception`` from ``parse``/``verify`` counts as wrong.
        (``KeyboardInterrupt`` and friends still propagate.)
        """
        if not isinstance(completion, str) or not isinstance(gold, str):
            return 0.0
        try:
            return 1.0 if bool(self.verify(gold, self.parse(completion))) else 0.0
        except Exception:
            return 0.0

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
