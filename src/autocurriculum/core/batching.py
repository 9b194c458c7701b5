"""The generate-until-full loop shared by our trainer and the framework adapters.

One call fills one training batch of ``batch_size`` groups. Each generation round asks the curriculum for a
``plan`` (prompts and a group size each: ``group_size`` for most strategies, a ragged allocation for those
with ``Ability.ALLOCATES``), rolls it out, reports every generated group to ``update`` and keeps what ``filter``
keeps. A strategy with ``Ability.SCREENS`` first gets ``screen_size`` rollouts per prompt; the prompts it
``passes_screen`` are continued to ``group_size`` and trained on as one group (screen + continuation). Every
generated rollout, screening included, is counted, so comparisons at equal rollout budget stay honest.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autocurriculum.core.capabilities import Ability
from autocurriculum.core.config import require
from autocurriculum.core.curriculum import Curriculum
from autocurriculum.core.errors import ConfigError
from autocurriculum.core.outcome import GroupOutcome, concatenate_groups

# generate(task_ids, group_sizes) rolls out and verifies group_sizes[i] completions of task_ids[i]
Generate = Callable[[list[str], np.ndarray], Sequence[GroupOutcome]]
MergePayloads = Callable[[Any, Any], Any]


class GenerationRoundsExhausted(UserWarning):
    """The filter kept too few groups within the allowed generation rounds."""


@dataclass
class CollectedBatch:
    kept: list[GroupOutcome]
    generated: list[GroupOutcome]  # every group generated, screens and continuations as separate groups
    rounds: int
    exhausted: bool
    curriculum_seconds: float = 0.0  # time in plan/update/filter
    generation_seconds: float = 0.0  # time inside the rollout callback
    selected_ids: list[str] = field(default_factory=list)
    screening_rollouts: int = 0  # rollouts spent in screening passes (charged, part of `rollouts`)

    @property
    def rollouts(self) -> int:
        return sum(g.group_size for g in self.generated)


def collect_batch(
    curriculum: Curriculum,
    generate: Generate,
    batch_size: int,
    group_size: int,
    max_rollouts: int | None = None,
    merge_payloads: MergePayloads | None = None,
) -> CollectedBatch:
    """Plan, generate, update and filter until ``batch_size`` groups are kept.

    ``max_rollouts`` caps the rollouts generated in this call (the remaining budget); when the cap or the
    curriculum's ``max_generation_rounds`` is reached with too few groups kept, the partial batch is returned
    (with a warning in the second case) instead of failing. ``merge_payloads(screen, continuation)`` joins the
    trainer's rollout data of a screened prompt; it is needed only for strategies that screen.
    """
    require(batch_size >= 1, "batch_size", f"must be >= 1, got {batch_size}")
    require(group_size >= 1, "group_size", f"must be >= 1, got {group_size}")
    screening = Ability.SCREENS in curriculum.abilities
    screen = curriculum.screen_size(group_size) if screening else group_size
    if screening and not 1 <= screen < group_size:
        raise ConfigError(
            f"strategy {curriculum.name!r}: screen_size {screen} must lie in [1, group size {group_size}) so that "
            "a screened prompt can be continued"
        )
    kept: list[GroupOutcome] = []
    generated: list[GroupOutcome] = []
    selected: list[str] = []
    timer = {"generation": 0.0}
    rounds = screening_rollouts = 0
    exhausted = False
    start = time.perf_counter()

    def timed_generate(ids: list[str], sizes: np.ndarray) -> list[GroupOutcome]:
        t0 = time.perf_counter()
        groups = list(generate(ids, sizes))
        timer["generation"] += time.perf_counter() - t0
        generated.extend(groups)
        return groups

    def remaining() -> int | None:
        return None if max_rollouts is None else max_rollouts - sum(g.group_size for g in generated)

    while len(kept) < batch_size:
        n = curriculum.generation_size(batch_size - len(kept))
        budget = remaining()
        if budget is not None:
            n = min(n, budget // screen)
            if n <= 0:
                exhausted = True  # out of budget: expected at the end of a run, no warning
                break
        if rounds >= curriculum.max_generation_rounds:
            exhausted = True
            warnings.warn(
                f"strategy {curriculum.name!r}: only {len(kept)} of {batch_size} groups passed the filter after "
                f"{rounds} generation rounds (max_generation_rounds={curriculum.max_generation_rounds}); "
                "training on the partial batch. The data may be too hard or too easy for the model.",
                GenerationRoundsExhausted,
                stacklevel=2,
            )
            break
        plan = curriculum.plan(n, group_size)
        sizes = np.full(len(plan.task_ids), screen, dtype=np.int64) if screening else plan.group_sizes
        groups = timed_generate(plan.task_ids, sizes)
        curriculum.update(groups)
        selected.extend(plan.task_ids)
        if screening:
            screening_rollouts += int(sizes.sum())
            # continue no more survivors than the batch still misses: a surplus would be generated and dropped
            survivors = [g for g in groups if curriculum.passes_screen(g)][: batch_size - len(kept)]
            budget = remaining()
            if budget is not None:
                survivors = survivors[: budget // (group_size - screen)]
            groups = _continue(curriculum, timed_generate, survivors, group_size - screen, merge_payloads)
        kept.extend(curriculum.filter(groups))
        rounds += 1
    generation_seconds = timer["generation"]
    return CollectedBatch(
        kept=kept[:batch_size],
        generated=generated,
        rounds=rounds,
        exhausted=exhausted,
        curriculum_seconds=time.perf_counter() - start - generation_seconds,
        generation_seconds=generation_seconds,
        selected_ids=selected,
        screening_rollouts=screening_rollouts,
    )


def _continue(
    curriculum: Curriculum,
    generate: Generate,
    survivors: list[GroupOutcome],
    extra: int,
    merge_payloads: MergePayloads | None,
) -> list[GroupOutcome]:
    """Roll ``extra`` more completions of each screened survivor and join them to its screen."""
    if not survivors:
        return []
    continuations = list(generate([g.task_id for g in survivors], np.full(len(survivors), extra, dtype=np.int64)))
    curriculum.update(continuations)
    merged = []
    for first, second in zip(survivors, continuations, strict=True):
        if merge_payloads is None and (first.payload is not None or second.payload is not None):
            raise ConfigError(
                f"strategy {curriculum.name!r} screens prompts, so collect_batch needs merge_payloads to join a "
                "screen's rollout data with its continuation's"
            )
        payload = merge_payloads(first.payload, second.payload) if merge_payloads is not None else None
        merged.append(concatenate_groups(first, second, payload))
    return merged
