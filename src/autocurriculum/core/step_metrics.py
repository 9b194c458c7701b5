"""The curriculum's own signals for a trainer's logger, namespaced ``curriculum/``: one definition for every adapter.

TRL puts them into its metrics (so they reach ``log_history`` and wherever ``report_to`` points); verl's adapters
expose them as ``metrics()`` for the trainer's metrics dict.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autocurriculum.core.curriculum import Curriculum
from autocurriculum.core.outcome import GroupOutcome
from autocurriculum.core.task import TaskPool

PREFIX = "curriculum/"


def curriculum_step_metrics(
    curriculum: Curriculum,
    scored: Sequence[GroupOutcome] = (),
    selected_ids: Sequence[str] = (),
    seconds: float = 0.0,
) -> dict[str, float]:
    """``curriculum/``-prefixed floats: groups seen, time spent in the curriculum, the zero-std fraction and mean
    pass rate of the groups just ``scored``, the mean level of the prompts just ``selected`` (pools with levels)
    and every numeric teacher metric of a learned-teacher strategy (``curriculum/teacher_...``)."""
    metrics = {f"{PREFIX}seconds": float(seconds), f"{PREFIX}groups_seen": float(curriculum.groups_seen)}
    if scored:
        metrics[f"{PREFIX}zero_std_fraction"] = float(np.mean([o.is_zero_variance for o in scored]))
        metrics[f"{PREFIX}pass_rate_mean"] = float(np.mean([o.pass_rate for o in scored]))
    if selected_ids and isinstance(curriculum.pool, TaskPool):
        rows = curriculum.pool.rows_of(list(selected_ids))
        metrics[f"{PREFIX}selected_level_mean"] = float(curriculum.pool.levels(rows).mean())
    for key, value in (curriculum.teacher_metrics() or {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[f"{PREFIX}{key}"] = float(value)
    return metrics
