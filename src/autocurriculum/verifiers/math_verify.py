"""Math answers checked with Hugging Face ``math-verify`` (optional extra ``math``).

``verify(gold, pred)`` is not symmetric: gold goes first. math-verify's
timeouts use ``signal.alarm``, which only works on the main thread, so they are
disabled elsewhere (Ray workers, reward threads) instead of raising there.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from autocurriculum.verifiers.base import Verifier

__all__ = ["MathVerifier"]


def _timeout(seconds: int | None) -> int | None:
    # signal.alarm takes whole seconds and exists on the main thread only
    return seconds if threading.current_thread() is threading.main_thread() else None


class MathVerifier(Verifier):
    """Parse LaTeX / plain expressions (``\\boxed{}`` preferred) and compare them symbolically.

    ``parse`` returns math-verify's parsed list (empty -> None), so ``reward``
    compares parsed answers; ``verify`` also accepts a raw string.
    """

    name: ClassVar[str] = "math_verify"

    def __init__(self, timeout_seconds: int | None = 5, float_rounding: int = 6):
        import math_verify  # noqa: F401 - fail at construction, not on the first reward

        self.timeout_seconds = None if timeout_seconds is None else max(1, int(timeout_seconds))
        self.float_rounding = float_rounding

    def _parse(self, text: str) -> list[Any]:
        from math_verify import parse

        return parse(text, parsing_timeout=_timeout(self.timeout_seconds), raise_on_error=False)

    def parse(self, completion: str) -> Any:  # type: ignore[override]
        parsed = self._parse(completion)
        return parsed or None

    def verify(self, gold: str, parsed: Any) -> bool:
        from math_verify import verify

        if parsed is None:
            return False
        if isinstance(parsed, str):
            parsed = self._parse(parsed)
        gold_parsed = self._parse(gold)
        if not gold_parsed:
            # gold written without $...$ or \boxed{}: let math-verify see it as inline math
            gold_parsed = self._parse(f"${gold}$")
        if not gold_parsed or not parsed:
            return False
        return bool(
            verify(
                gold_parsed,
                parsed,
                float_rounding=self.float_rounding,
                timeout_seconds=_timeout(self.timeout_seconds),
                raise_on_error=False,
            )
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(timeout_seconds={self.timeout_seconds!r})"
