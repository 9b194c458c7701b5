"""Turn per-run records into the numbers a comparison reports (``summary.json``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autocurriculum.core.stats import bootstrap_ci
from autocurriculum.experiments.runner import RunResult
from autocurriculum.experiments.speedup import (
    MIN_IMPROVEMENT,
    PairedSpeedup,
    accuracy_curve,
    drop_from_peak,
    first_reach,
    normalized_auc,
    paired_speedup,
)


def first_crossing(evals: Sequence[dict[str, Any]], threshold: float, key: str = "overall") -> float | None:
    """Rollouts at which ``key`` first reaches ``threshold`` (raw curve), linearly interpolated between evaluations."""
    rollouts, accuracy = accuracy_curve(evals, key)
    return first_reach(rollouts, accuracy, threshold)


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


def interval(values: Sequence[float | None], resamples: int = 10_000) -> dict[str, Any]:
    """Median of the defined per-seed values and a 95% percentile bootstrap CI over seeds; None entries left out."""
    present = [float(v) for v in values if v is not None and np.isfinite(v)]
    low, high = bootstrap_ci(present, resamples=resamples) if present else (None, None)
    return {
        "median": float(np.median(present)) if present else None,
        "ci_low": low,
        "ci_high": high,
        "per_seed": [None if v is None else float(v) for v in values],
    }


def _why_undefined(seeds: Sequence[int], reasons: Sequence[str | None]) -> str | None:
    """None when every seed is defined; the shared reason when all agree; else which seed failed why."""
    missing = [(seed, reason) for seed, reason in zip(seeds, reasons, strict=True) if reason is not None]
    if not missing:
        return None
    if len(missing) == len(seeds) and len({reason for _, reason in missing}) == 1:
        return missing[0][1]
    return "; ".join(f"seed {seed}: {reason}" for seed, reason in missing)


def _speedup_entry(
    seeds: Sequence[int], pairs: Sequence[PairedSpeedup | None], no_pair: str, resamples: int
) -> dict[str, Any]:
    reasons = [no_pair if p is None else p.reason for p in pairs]
    speedups = [None if p is None else p.speedup for p in pairs]
    return {
        **interval(speedups, resamples),
        "rollout_ratio": interval([None if p is None else p.rollout_ratio for p in pairs], resamples),
        "censored_fraction": [None if p is None else p.censored_fraction for p in pairs],
        "reason": _why_undefined(seeds, reasons),
        "seeds": sum(v is not None for v in speedups),
        # uniform's smoothed start and final accuracy at each seed: the range the accuracy targets span
        "start_accuracy": [None if p is None else p.start for p in pairs],
        "uniform_final_accuracy": [None if p is None else p.uniform_final for p in pairs],
    }


def _spread_where_defined(
    values: Sequence[float | None], defined: Sequence[bool], reason: str | None
) -> dict[str, Any]:
    """``spread`` over the seeds where the quantity is defined; None there means never reached, elsewhere undefined."""
    kept = [v for v, ok in zip(values, defined, strict=True) if ok]
    entry = spread(kept) if kept else {"median": None, "min": None, "max": None}
    entry["per_seed"] = [None if v is None or not ok else float(v) for v, ok in zip(values, defined, strict=True)]
    entry["reason"] = reason
    return entry


def summarize(
    results: Sequence[RunResult],
    baseline: str = "uniform",
    min_improvement: float = MIN_IMPROVEMENT,
    resamples: int = 10_000,
) -> dict[str, Any]:
    """Per-strategy summary with every field ``summary.json`` promises.

    Comparisons with the baseline are paired by seed (all strategies of a seed share its warm start); intervals are
    95% percentile bootstraps over seeds of the median. The baseline's own speedup is exactly 1 by definition (None,
    with the reason, when it did not improve).
    """
    by_strategy: dict[str, list[RunResult]] = {}
    for r in results:
        by_strategy.setdefault(r.strategy, []).append(r)
    baseline_runs = {r.seed: r for r in by_strategy.get(baseline, [])}
    summary: dict[str, Any] = {}
    for name, runs in by_strategy.items():
        runs = sorted(runs, key=lambda r: r.seed)
        seeds = [r.seed for r in runs]
        pairs = [
            paired_speedup(r.evals, baseline_runs[r.seed].evals, r.rollouts, min_improvement=min_improvement)
            if r.seed in baseline_runs
            else None
            for r in runs
        ]
        no_pair = f"no {baseline} run at this seed"
        auc = [normalized_auc(r.evals, r.rollouts) for r in runs]
        auc_gap = [
            a - normalized_auc(baseline_runs[r.seed].evals, baseline_runs[r.seed].rollouts)
            if r.seed in baseline_runs
            else None
            for r, a in zip(runs, auc, strict=True)
        ]
        # "rollouts to uniform's final" reads the same smoothed curves and target as the speedup's top target
        target_defined = [p is not None and p.reason is None for p in pairs]
        target_reason = _why_undefined(seeds, [no_pair if p is None else p.reason for p in pairs])
        to_target = [None if p is None else p.rollouts_to_uniform_final for p in pairs]
        to_target_ratio = [
            None if crossing is None else crossing / max(baseline_runs[r.seed].rollouts, 1)
            for r, crossing in zip(runs, to_target, strict=True)
        ]
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
        screening = [sum(s.get("screening_rollouts", 0) for s in r.steps) / max(r.rollouts, 1) for r in runs]
        informative = [sum(s.get("informative_rollouts", 0) for s in r.steps) / max(r.rollouts, 1) for r in runs]
        per_trained = [r.rollouts / max(t, 1) for r, t in zip(runs, trained, strict=True)]
        summary[name] = {
            "initial_accuracy": spread([r.evals[0]["overall"] for r in runs]),
            "final_accuracy": spread([r.final_accuracy for r in runs]),
            "drop_from_peak": spread([drop_from_peak(r.evals) for r in runs]),
            "rollouts": spread([r.rollouts for r in runs]),
            "completion_tokens": spread([r.completion_tokens for r in runs]),
            "speedup_vs_uniform": _speedup_entry(seeds, pairs, no_pair, resamples),
            "rollouts_to_uniform_final": (
                _spread_where_defined(to_target, target_defined, target_reason) if baseline_runs else None
            ),
            "rollouts_to_uniform_final_ratio": (
                _spread_where_defined(to_target_ratio, target_defined, target_reason) if baseline_runs else None
            ),
            "auc": spread(auc),
            "auc_minus_uniform": interval(auc_gap, resamples),
            "zero_variance_fraction": spread(zero_var),
            "effective_group_ratio": spread(effective),
            "screening_rollout_fraction": spread(screening),
            "informative_rollout_fraction": spread(informative),
            "rollouts_per_trained_group": spread(per_trained),
            "selection_overhead_fraction": spread(overhead),
            "train_steps": spread([len(r.steps) for r in runs]),
            "wall_seconds": spread([r.wall_seconds for r in runs]),
            "oracle_estimation_seconds": spread([r.oracle_seconds for r in runs]) if name == "oracle" else None,
            # its Monte Carlo pass-rate measurements are not charged to the budget: an upper bound, not a method
            "upper_bound": name == "oracle" or any(r.oracle_seconds > 0 for r in runs),
            "final_accuracy_by_level": {
                key: spread([r.evals[-1][key] for r in runs])["median"]
                for key in runs[0].evals[-1]
                if key not in ("step", "rollouts")
            },
            "seeds": seeds,
        }
        if all(r.teacher is not None for r in runs):
            for key in ("teacher_mae_unseen", "teacher_spearman", "teacher_time_fraction"):
                summary[name][key] = spread([r.teacher[key] for r in runs])  # type: ignore[index]
    return summary
