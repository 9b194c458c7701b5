"""Turn per-run records into the numbers a comparison reports (``summary.json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autocurriculum.experiments.runner import RunResult


def first_crossing(evals: Sequence[dict[str, Any]], threshold: float, key: str = "overall") -> float | None:
    """Rollouts at which ``key`` first reaches ``threshold``, linearly interpolated between evaluations."""
    previous = None
    for record in evals:
        value = record[key]
        if value >= threshold:
            if previous is None or previous[key] >= threshold:
                return float(record["rollouts"])
            x0, y0, x1 = previous["rollouts"], previous[key], record["rollouts"]
            return float(x0 + (threshold - y0) / (value - y0) * (x1 - x0))
        previous = record
    return None


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Median, min and max over seeds; None entries (never reached) make the median None if they are the majority."""
    present = [float(v) for v in values if v is not None]
    if len(present) * 2 <= len(values) - 1 or not present:  # most seeds never got there
        median = None
    else:
        # seeds that never reached the target count as +inf so they push the median up, not down
        padded = sorted(present + [float("inf")] * (len(values) - len(present)))
        median = float(np.median(padded))
        median = None if not np.isfinite(median) else median
    return {
        "median": median,
        "min": min(present) if present else None,
        "max": max(present) if len(present) == len(values) and present else None,
        "per_seed": [None if v is None else float(v) for v in values],
    }


def summarize(results: Sequence[RunResult], baseline: str = "uniform") -> dict[str, Any]:
    """Per-strategy summary with every field ``summary.json`` promises."""
    by_strategy: dict[str, list[RunResult]] = {}
    for r in results:
        by_strategy.setdefault(r.strategy, []).append(r)
    baseline_final = {r.seed: r.final_accuracy for r in by_strategy.get(baseline, [])}
    baseline_rollouts = {r.seed: r.rollouts for r in by_strategy.get(baseline, [])}
    summary: dict[str, Any] = {}
    for name, runs in by_strategy.items():
        runs = sorted(runs, key=lambda r: r.seed)
        to_target: list[float | None] = []
        ratios: list[float | None] = []
        for r in runs:
            if r.seed in baseline_final:
                crossing = first_crossing(r.evals, baseline_final[r.seed])
                to_target.append(crossing)
                ratios.append(None if crossing is None else crossing / baseline_rollouts[r.seed])
            else:
                to_target.append(None)
                ratios.append(None)
        generated = [sum(s["groups_generated"] for s in r.steps) for r in runs]
        zero_var = [
            sum(s["zero_variance_fraction"] * s["groups_generated"] for s in r.steps) / max(g, 1)
            for r, g in zip(runs, generated, strict=True)
        ]
        trained = [sum(s["groups_trained"] for s in r.steps) for r in runs]
        effective = [
            sum(s["effective_group_ratio"] * s["groups_trained"] for s in r.steps) / max(t, 1)
            for r, t in zip(runs, trained, strict=True)
        ]
        overhead = [
            sum(s["curriculum_seconds"] for s in r.steps) / max(sum(s["step_seconds"] for s in r.steps), 1e-9)
            for r in runs
        ]
        summary[name] = {
            "final_accuracy": spread([r.final_accuracy for r in runs]),
            "rollouts": spread([r.rollouts for r in runs]),
            "completion_tokens": spread([r.completion_tokens for r in runs]),
            "rollouts_to_uniform_final": spread(to_target) if baseline_final else None,
            "rollouts_to_uniform_final_ratio": spread(ratios) if baseline_final else None,
            "zero_variance_fraction": spread(zero_var),
            "effective_group_ratio": spread(effective),
            "selection_overhead_fraction": spread(overhead),
            "train_steps": spread([len(r.steps) for r in runs]),
            "wall_seconds": spread([r.wall_seconds for r in runs]),
            "oracle_estimation_seconds": spread([r.oracle_seconds for r in runs]) if name == "oracle" else None,
            "final_accuracy_by_level": {
                key: spread([r.evals[-1][key] for r in runs])["median"]
                for key in runs[0].evals[-1]
                if key not in ("step", "rollouts")
            },
            "seeds": [r.seed for r in runs],
        }
        if all(r.teacher is not None for r in runs):
            for key in ("teacher_mae_unseen", "teacher_spearman", "teacher_time_fraction"):
                summary[name][key] = spread([r.teacher[key] for r in runs])  # type: ignore[index]
    return summary
