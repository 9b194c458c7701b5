"""The hard set: problems the warm-started student fails every one of K times at temperature 1 (fail@K).

Candidates come from generator indices apart from every testbed pool and from the warm-start demonstrations. The
survivors are split, seeded, into a training part (the reward questions Q_R and Hard-Only's data) and a test part
the teacher never influences: only the training part is ever handed to the outer loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from autocurriculum.core import ConfigError, Task
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.soar.config import HardSetConfig
from autocurriculum.soar.student import hard_problem_reward, success_counts
from autocurriculum.trainers import TinyGPT

# Far from the testbed's training and held-out indices and from the demonstrations (1,000,000 onwards).
HARD_INDEX_OFFSET = 5_000_000
_SAMPLES_PER_ROUND = 32  # a candidate solved once is out, so sampling stops early for most of the easy ones


@dataclass
class HardSet:
    train: list[Task]
    test: list[Task]
    candidates: int  # problems tried
    fail_at_k: int
    levels: list[int]
    survivors_by_level: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "train": len(self.train),
            "test": len(self.test),
            "candidates": self.candidates,
            "fail_at_k": self.fail_at_k,
            "levels": self.levels,
            "survivors_by_level": self.survivors_by_level,
        }


def hard_candidates(testbed: Testbed, config: HardSetConfig) -> list[Task]:
    family = testbed.families[0]
    missing = [level for level in config.levels if level not in family.levels]
    if missing:
        raise ConfigError(f"hard_set.levels: {missing} are not levels of {family.name!r} (levels {family.levels})")
    return [
        family.generate(level, HARD_INDEX_OFFSET + index)
        for level in config.levels
        for index in range(config.candidates_per_level)
    ]


def fail_at_k(
    model: TinyGPT,
    testbed: Testbed,
    tasks: list[Task],
    k: int,
    temperature: float,
    scoring: str,
    seed: int,
    on_round: Callable[[int], None] | None = None,
) -> np.ndarray:
    """A boolean mask: which ``tasks`` ``model`` fails in all ``k`` samples (sampled in rounds, solved ones dropped)."""
    reward = hard_problem_reward(testbed, scoring)
    generator = torch.Generator(device=testbed.device).manual_seed(seed * 7919 + 40_000)
    alive = np.ones(len(tasks), dtype=bool)
    drawn = 0
    while drawn < k and alive.any():
        samples = min(_SAMPLES_PER_ROUND, k - drawn)
        rows = np.flatnonzero(alive)
        solved = success_counts(model, testbed, [tasks[r] for r in rows], samples, temperature, reward, generator)
        alive[rows[solved > 0]] = False
        drawn += samples
        if on_round is not None:
            on_round(samples)
    return alive


def build_hard_set(
    model: TinyGPT, testbed: Testbed, config: HardSetConfig, seed: int, on_round: Callable[[int], None] | None = None
) -> HardSet:
    """Filter the candidates by fail@K and split the survivors into train and test (seeded)."""
    candidates = hard_candidates(testbed, config)
    hard = fail_at_k(model, testbed, candidates, config.fail_at_k, config.temperature, config.scoring, seed, on_round)
    survivors = [t for t, keep in zip(candidates, hard, strict=True) if keep]
    if len(survivors) < 2:
        raise ConfigError(
            f"hard_set: {len(survivors)} of {len(candidates)} candidates at levels {config.levels} fail all "
            f"{config.fail_at_k} samples (fail@{config.fail_at_k}); the student already solves what it was given. "
            "Choose harder hard_set.levels or more candidates_per_level"
        )
    order = np.random.default_rng([seed, 8080]).permutation(len(survivors))
    n_test = min(len(survivors) - 1, max(1, round(config.test_fraction * len(survivors))))
    test = [survivors[int(i)] for i in order[:n_test]]
    train = [survivors[int(i)] for i in order[n_test:]]
    by_level: dict[str, int] = {}
    for task in survivors:
        by_level[f"L{int(task.level)}"] = by_level.get(f"L{int(task.level)}", 0) + 1
    return HardSet(train, test, len(candidates), config.fail_at_k, list(config.levels), by_level)
