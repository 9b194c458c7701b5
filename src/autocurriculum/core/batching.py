"""The generate-until-full loop shared by our trainer and the framework adapters.

Post-rollout filters (DAPO dynamic sampling, pass-rate bands) drop groups, so
filling a training batch may take several generation rounds. Every generated
group is reported to the curriculum before filtering, and every generated
rollout is counted, so comparisons at equal rollout budget stay honest.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from autocurriculum.core.curriculum import Curriculum
from autocurriculum.core.outcome import GroupOutcome


class GenerationRoundsExhausted(UserWarning):
    """The filter kept too few groups within the allowed generation rounds."""


@dataclass
class CollectedBatch:
    kept: list[GroupOutcome]
    generated: list[GroupOutcome]
    rounds: int
    exhausted: bool
    curriculum_seconds: float = 0.0  # time in select/update/filter
    generation_seconds: float = 0.0  # time inside the rollout callback
    selected_ids: list[str] = field(default_factory=list)

    @property
    def rollouts(self) -> int:
        return sum(g.group_size for g in self.generated)


def collect_batch(
    curriculum: Curriculum,
    generate: Callable[[list[str]], Sequence[GroupOutcome]],
    batch_size: int,
    max_prompts: int | None = None,
) -> CollectedBatch:
    """Select, generate, update and filter until ``batch_size`` groups are kept.

    ``generate`` rolls out and verifies the given ids. ``max_prompts`` caps the
    prompts generated in this call (the remaining budget); when the cap or the
    curriculum's ``max_generation_rounds`` is reached with too few groups kept,
    a warning is issued and the partial batch is returned instead of failing.
    """
    kept: list[GroupOutcome] = []
    generated: list[GroupOutcome] = []
    selected: list[str] = []
    curriculum_seconds = generation_seconds = 0.0
    rounds = 0
    exhausted = False
    while len(kept) < batch_size:
        remaining_cap = None if max_prompts is None else max_prompts - len(selected)
        if remaining_cap is not None and remaining_cap <= 0:
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
        t0 = time.perf_counter()
        size = curriculum.generation_size(batch_size - len(kept))
        if remaining_cap is not None:
            size = min(size, remaining_cap)
        ids = curriculum.select(size)
        t1 = time.perf_counter()
        groups = list(generate(ids))
        t2 = time.perf_counter()
        curriculum.update(groups)
        kept.extend(curriculum.filter(groups))
        t3 = time.perf_counter()
        curriculum_seconds += (t1 - t0) + (t3 - t2)
        generation_seconds += t2 - t1
        generated.extend(groups)
        selected.extend(ids)
        rounds += 1
    return CollectedBatch(
        kept=kept[:batch_size],
        generated=generated,
        rounds=rounds,
        exhausted=exhausted,
        curriculum_seconds=curriculum_seconds,
        generation_seconds=generation_seconds,
        selected_ids=selected,
    )
