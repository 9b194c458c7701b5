"""What a curriculum learns from: the verified rewards of one group of rollouts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autocurriculum.core.errors import InvalidOutcomeError


@dataclass
class GroupOutcome:
    """The G rollouts of one prompt, as scored by the verifier.

    Rewards must be finite floats in [0, 1]. A NaN or out-of-range reward is
    rejected here, at the boundary, so it can never corrupt statistics.
    """

    task_id: str
    rewards: np.ndarray
    advantages: np.ndarray | None = None
    step: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Trainer-side data (e.g. rollout tensors) carried through selection and filtering untouched.
    payload: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        rewards = np.asarray(self.rewards, dtype=np.float64).reshape(-1)
        if rewards.size == 0:
            raise InvalidOutcomeError(f"group for task {self.task_id!r} has no rewards")
        bad = ~np.isfinite(rewards) | (rewards < 0.0) | (rewards > 1.0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidOutcomeError(
                f"task {self.task_id!r}: rewards[{i}] = {float(rewards[i])!r} is not a finite value in [0, 1]"
            )
        self.rewards = rewards
        if self.advantages is not None:
            adv = np.asarray(self.advantages, dtype=np.float64).reshape(-1)
            if adv.shape != rewards.shape:
                raise InvalidOutcomeError(f"task {self.task_id!r}: {adv.size} advantages for {rewards.size} rewards")
            if not np.isfinite(adv).all():
                raise InvalidOutcomeError(f"task {self.task_id!r}: advantages contain NaN or inf")
            self.advantages = adv

    @property
    def group_size(self) -> int:
        return int(self.rewards.size)

    @property
    def pass_rate(self) -> float:
        return float(self.rewards.mean())

    @property
    def successes(self) -> float:
        return float(self.rewards.sum())

    @property
    def reward_std(self) -> float:
        return float(self.rewards.std())

    @property
    def is_zero_variance(self) -> bool:
        """All rewards equal: GRPO's advantage, and so its gradient, is zero."""
        return bool(np.ptp(self.rewards) == 0.0)

    def mean_abs_advantage(self) -> float:
        if self.advantages is not None:
            return float(np.abs(self.advantages).mean())
        std = self.rewards.std()
        return 0.0 if std == 0 else float(np.abs((self.rewards - self.rewards.mean()) / std).mean())


def zero_variance_fraction(groups: Sequence[GroupOutcome]) -> float:
    return float(np.mean([g.is_zero_variance for g in groups])) if groups else 0.0


def success_values(rewards: Sequence[float | None], success_threshold: float | None = None) -> np.ndarray:
    """Rewards as the curriculum's success signal; ``None`` becomes NaN ("not applicable").

    With ``success_threshold`` a shaped reward counts as a success (1.0) iff it is
    ``>= success_threshold``; without one, rewards pass through unchanged and
    ``GroupOutcome`` later insists they lie in [0, 1].
    """
    values = np.asarray([np.nan if r is None else float(r) for r in rewards], dtype=np.float64)
    if success_threshold is not None:
        valid = ~np.isnan(values)
        values[valid] = (values[valid] >= success_threshold).astype(np.float64)
    return values


def concatenate_groups(first: GroupOutcome, second: GroupOutcome, payload: Any = None) -> GroupOutcome:
    """One group from two rollout passes of the same prompt (a screen and its continuation), in that order.

    Advantages are dropped: they are normalised within a group, so the trainer recomputes them for the whole.
    ``payload`` is the trainer's merged rollout data (the caller merges, since only it knows the payload type).
    """
    if first.task_id != second.task_id:
        raise InvalidOutcomeError(f"cannot concatenate groups of different tasks {first.task_id!r}, {second.task_id!r}")
    return GroupOutcome(
        first.task_id,
        np.concatenate([first.rewards, second.rewards]),
        step=second.step,
        prompt_tokens=first.prompt_tokens + second.prompt_tokens,
        completion_tokens=first.completion_tokens + second.completion_tokens,
        payload=payload,
    )


def successes_and_trials(outcomes: Sequence[GroupOutcome]) -> tuple[np.ndarray, np.ndarray]:
    """Each group's summed reward and its size, in one vectorised pass (the Beta-Binomial evidence)."""
    if not outcomes:
        return np.zeros(0), np.zeros(0)
    sizes = np.fromiter((o.rewards.size for o in outcomes), dtype=np.int64, count=len(outcomes))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sums = np.add.reduceat(np.concatenate([o.rewards for o in outcomes]), starts)
    return sums, sizes.astype(np.float64)
