"""What a procedure run returns: costs, test accuracy, per-phase records and (for baselines) a cost curve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AutoTuneResult:
    """One run of an AutoTune procedure or baseline (``autotune_sft``, ``uniform_sft``, ``rl_finetune``, ...)."""

    method: str
    costs: dict[str, int]
    accuracy: float  # held-out outcome accuracy of the final model (evaluation is not charged)
    target_error: float | None = None
    phases: list[dict[str, Any]] = field(default_factory=list)
    curve: list[dict[str, Any]] = field(default_factory=list)  # baselines: costs and accuracy as data grows
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def reached_target(self) -> bool | None:
        return None if self.target_error is None else self.accuracy >= 1 - self.target_error

    def first_reaching(self, accuracy: float) -> dict[str, Any] | None:
        """The first curve point whose accuracy is >= ``accuracy`` (None if never)."""
        return next((p for p in self.curve if p["accuracy"] >= accuracy), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "costs": self.costs,
            "accuracy": self.accuracy,
            "target_error": self.target_error,
            "reached_target": self.reached_target,
            "phases": self.phases,
            "curve": self.curve,
            "extra": self.extra,
        }
