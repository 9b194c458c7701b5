"""What a curriculum learns from: the verified rewards of one group of rollouts."""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autocurriculum.core.errors import InvalidOutcomeError


@dataclass
class GroupOutcome:
    """The G rollouts of one prompt, as scored by the verifier.

    Rewards must be finite floats in [0, 1]. A NaN or out-of-range reward is
    rejected here, at the boundary, so it can never corrupt statistics. The check
    runs whenever ``rewards`` or ``advantages`` is set, and both are stored as
    read-only copies, so no later write can slip a bad value past it.
    """

    task_id: str
    rewards: np.ndarray
    advantages: np.ndarray | None = None
    step: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # Trainer-side data (e.g. rollout tensors) carried through selection and filtering untouched.
    payload: Any = field(default=None, repr=False, compare=False)

    def __setattr__(self, name: str, value: Any) -> None:
        # the dataclass __init__ sets fields through here too: task_id first, then rewards, then advantages
        if name == "rewards":
            value = self._checked_rewards(value)
        elif name == "advantages" and value is not None:
            value = self._checked_advantages(value)
        super().__setattr__(name, value)

    def _checked_rewards(self, values: Any) -> np.ndarray:
        rewards = _number_vector(values, self.task_id, "rewards")
        if rewards.size == 0:
            raise InvalidOutcomeError(f"group for task {self.task_id!r} has no rewards")
        bad = ~np.isfinite(rewards) | (rewards < 0.0) | (rewards > 1.0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InvalidOutcomeError(
                f"task {self.task_id!r}: rewards[{i}] = {float(rewards[i])!r} is not a finite value in [0, 1]"
            )
        advantages = self.__dict__.get("advantages")  # absent while __init__ is still setting the fields
        if advantages is not None and advantages.shape != rewards.shape:
            raise InvalidOutcomeError(f"task {self.task_id!r}: {rewards.size} rewards for {advantages.size} advantages")
        return rewards

    def _checked_advantages(self, values: Any) -> np.ndarray:
        adv = _number_vector(values, self.task_id, "advantages")
        if adv.shape != self.rewards.shape:
            raise InvalidOutcomeError(f"task {self.task_id!r}: {adv.size} advantages for {self.rewards.size} rewards")
        if not np.isfinite(adv).all():
            raise InvalidOutcomeError(f"task {self.task_id!r}: advantages contain NaN or inf")
        return adv

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


def _number_vector(values: Any, task_id: str, what: str) -> np.ndarray:
    """``values`` as a new read-only float64 vector (a copy: the caller may reuse its buffer); numbers only."""
    try:
        array = np.asarray(values)
        if array.dtype.kind == "O":  # None, a string or another object among the numbers
            if not all(isinstance(v, numbers.Real) for v in array.reshape(-1)):
                raise TypeError  # caught below: reported as InvalidOutcomeError
        elif array.dtype.kind not in "biuf":  # strings, bytes, complex numbers
            raise TypeError  # caught below: reported as InvalidOutcomeError
        vector = array.astype(np.float64).reshape(-1)
    except (TypeError, ValueError, OverflowError):  # ragged lists, ints beyond float range
        raise InvalidOutcomeError(f"task {task_id!r}: {what} must be numbers, got {reprlib.repr(values)}") from None
    vector.flags.writeable = False
    return vector


def zero_variance_fraction(groups: Sequence[GroupOutcome]) -> float:
    return float(np.mean([g.is_zero_variance for g in groups])) if groups else 0.0


def success_values(rewards: Sequence[float | None], success_threshold: float | None = None) -> np.ndarray:
    """Rewards as the curriculum's success signal; ``None`` becomes NaN ("not applicable").

    With ``success_threshold`` a shaped reward counts as a success (1.0) iff it is
    ``>= success_threshold``; without one, rewards pass through unchanged and
    ``GroupOutcome`` later insists they lie in [0, 1]. A reward that is not a number
    (a string, an object) or is infinite is an ``InvalidOutcomeError`` naming its position,
    with or without a threshold: an infinite reward is a broken reward function, not a success.
    """
    rewards = list(rewards)
    values = np.empty(len(rewards), dtype=np.float64)
    for i, reward in enumerate(rewards):
        try:
            if isinstance(reward, (str, bytes)):  # float() would parse "0.5"; a reward is a number
                raise TypeError
            values[i] = np.nan if reward is None else float(reward)
        except (TypeError, ValueError, OverflowError):
            raise InvalidOutcomeError(f"rewards[{i}] = {reprlib.repr(reward)} is not a number") from None
        if math.isinf(values[i]):
            raise InvalidOutcomeError(f"rewards[{i}] = {reward!r} is infinite")
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


def zero_variance_mask(outcomes: Sequence[GroupOutcome]) -> np.ndarray:
    """Which groups have all-equal rewards, in one vectorised pass (``GroupOutcome.is_zero_variance`` for many)."""
    if not outcomes:
        return np.zeros(0, dtype=bool)
    sizes = np.fromiter((o.rewards.size for o in outcomes), dtype=np.int64, count=len(outcomes))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rewards = np.concatenate([o.rewards for o in outcomes])
    return np.maximum.reduceat(rewards, starts) == np.minimum.reduceat(rewards, starts)
