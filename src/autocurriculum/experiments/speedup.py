"""How much faster a strategy gets where uniform gets, paired by seed, and the headline that says it in words.

All runs of one seed start from the same warm-started model, so a strategy and uniform at that seed differ only in
which prompts they practised. For a grid of target accuracies between the shared start and uniform's final accuracy
we read off the rollouts each curve needed to reach the target; the ratio of the two, averaged geometrically over the
grid, is the paired speedup. Only NumPy here: the numbers come from ``RunResult.evals`` lists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autocurriculum.core.errors import InvalidArgumentError

SMOOTHING_WINDOW = 3
TARGET_POINTS = 10
MIN_IMPROVEMENT = 0.01
# A run that ends this far below its own best (both smoothed) has forgotten part of what it learnt: the rollout
# ratio, read on the way up, cannot show it, so the headline says it (ten times the noise between evaluations).
FORGETTING_DROP = 0.10
NO_IMPROVEMENT = "no improvement to speed up"
UPPER_BOUND_LABEL = "upper bound, not a method: its pass-rate measurements are not charged"


def accuracy_curve(evals: Sequence[dict[str, Any]], key: str = "overall") -> tuple[np.ndarray, np.ndarray]:
    """(rollouts, accuracy) arrays of one run's evaluations, in rollout order."""
    ordered = sorted(evals, key=lambda record: record["rollouts"])
    rollouts = np.array([float(record["rollouts"]) for record in ordered])
    accuracy = np.array([float(record[key]) for record in ordered])
    return rollouts, accuracy


def smooth_accuracy(accuracy: Sequence[float] | np.ndarray, window: int = SMOOTHING_WINDOW) -> np.ndarray:
    """Centred moving average over ``window`` evaluations; the ends average over the neighbours that exist.

    Held-out accuracy moves by about ±0.01 between evaluations from noise alone, so on the raw curve a single lucky
    evaluation could define a crossing. The first point is kept as measured: it is the warm-started model every
    strategy of the seed shares, and averaging it with the strategy's own next evaluation would let one curve start
    above a target at 0 rollouts (an infinite speedup). The last point is the mean of the last two evaluations.
    """
    if window < 1 or window % 2 == 0:
        raise InvalidArgumentError(f"window must be a positive odd number, got {window}")
    values = np.asarray(accuracy, dtype=np.float64)
    half = window // 2
    smoothed = np.array([values[max(0, i - half) : i + half + 1].mean() for i in range(values.size)])
    if values.size:
        smoothed[0] = values[0]
    return smoothed


def drop_from_peak(evals: Sequence[dict[str, Any]], key: str = "overall") -> float:
    """How far the smoothed curve ends below its own highest point (0 for a curve that ends at its best)."""
    _, accuracy = accuracy_curve(evals, key)
    if accuracy.size == 0:
        return 0.0
    smoothed = smooth_accuracy(accuracy)
    return float(smoothed.max() - smoothed[-1])


def first_reach(rollouts: np.ndarray, accuracy: np.ndarray, target: float) -> float | None:
    """Rollouts at which ``accuracy`` first reaches ``target``, linearly interpolated; None if it never does."""
    for i, value in enumerate(accuracy):
        if value >= target:
            if i == 0:
                return float(rollouts[0])
            x0, y0, x1 = rollouts[i - 1], accuracy[i - 1], rollouts[i]
            return float(x0 + (target - y0) / (value - y0) * (x1 - x0))
    return None


def target_grid(start: float, uniform_final: float, points: int = TARGET_POINTS) -> np.ndarray:
    """``points`` accuracies evenly spaced in (start, uniform_final]; the start itself is excluded (0 rollouts)."""
    if points < 1:
        raise InvalidArgumentError(f"points must be >= 1, got {points}")
    return np.linspace(start, uniform_final, points + 1)[1:]  # linspace ends exactly on uniform_final


def normalized_auc(evals: Sequence[dict[str, Any]], budget: float | None = None, key: str = "overall") -> float:
    """Area under the raw accuracy–rollouts curve over [0, budget] divided by the budget: mean accuracy in training.

    Before the first and after the last evaluation the curve is held at the nearest measured value.
    """
    rollouts, accuracy = accuracy_curve(evals, key)
    if rollouts.size == 0:
        return float("nan")
    budget = float(rollouts[-1] if budget is None else budget)
    if budget <= 0:
        return float(accuracy[0])
    inside = (rollouts > 0) & (rollouts < budget)
    xs = np.concatenate([[0.0], rollouts[inside], [budget]])
    ys = np.interp(xs, rollouts, accuracy)
    return float(np.sum((ys[1:] + ys[:-1]) / 2 * np.diff(xs)) / budget)


@dataclass(frozen=True)
class PairedSpeedup:
    """One strategy against uniform at one seed. ``speedup`` is None (with ``reason``) when it is not defined."""

    speedup: float | None  # geometric mean over the targets of R_uniform(a) / R_strategy(a)
    rollout_ratio: float | None  # exactly 1 / speedup: "needed 0.41x the rollouts"
    censored_fraction: float | None  # share of targets the strategy never reached within its budget
    reason: str | None
    start: float  # shared initial accuracy
    uniform_final: float  # uniform's smoothed final accuracy
    targets: tuple[float, ...] = ()
    uniform_rollouts: tuple[float, ...] = ()  # R_uniform(a)
    strategy_rollouts: tuple[float, ...] = ()  # R_strategy(a); the strategy's budget where censored
    censored: tuple[bool, ...] = ()
    rollouts_to_uniform_final: float | None = None  # R_strategy(uniform_final), None if never reached


def paired_speedup(
    strategy_evals: Sequence[dict[str, Any]],
    uniform_evals: Sequence[dict[str, Any]],
    strategy_budget: float | None = None,
    *,
    key: str = "overall",
    points: int = TARGET_POINTS,
    min_improvement: float = MIN_IMPROVEMENT,
    window: int = SMOOTHING_WINDOW,
) -> PairedSpeedup:
    """Paired speedup of a strategy over uniform at one seed (both curves smoothed, see ``smooth_accuracy``).

    Targets a are ``points`` accuracies in (start, uniform's smoothed final]. R_X(a) is the first rollouts at which
    X's smoothed curve reaches a. A target the strategy never reaches counts at its full budget (default: its last
    evaluation), so the speedup there is an upper bound, already "not faster"; ``censored_fraction`` says how often.
    When uniform improved by less than ``min_improvement`` there is nothing to speed up: ``speedup`` is None.
    """
    if not strategy_evals or not uniform_evals:
        return PairedSpeedup(None, None, None, "no evaluations", float("nan"), float("nan"))
    u_rollouts, u_raw = accuracy_curve(uniform_evals, key)
    s_rollouts, s_raw = accuracy_curve(strategy_evals, key)
    u_smooth, s_smooth = smooth_accuracy(u_raw, window), smooth_accuracy(s_raw, window)
    start, uniform_final = float(u_smooth[0]), float(u_smooth[-1])
    if not uniform_final - start >= min_improvement:  # also catches NaN
        return PairedSpeedup(None, None, None, NO_IMPROVEMENT, start, uniform_final)
    budget = float(s_rollouts[-1] if strategy_budget is None else max(strategy_budget, s_rollouts[-1]))
    targets, r_uniform, r_strategy, censored = [], [], [], []
    for target in target_grid(start, uniform_final, points):
        reached_u = first_reach(u_rollouts, u_smooth, target)
        reached_s = first_reach(s_rollouts, s_smooth, target)
        # a target above the shared start is never reached at 0 rollouts when both runs share the warm start;
        # if they do not, the ratio at that target is undefined and the target is left out
        if reached_u is None or reached_u <= 0 or (reached_s is not None and reached_s <= 0):
            continue
        targets.append(float(target))
        r_uniform.append(reached_u)
        r_strategy.append(budget if reached_s is None else reached_s)
        censored.append(reached_s is None)
    to_final = first_reach(s_rollouts, s_smooth, uniform_final)
    if not targets:
        reason = "no target resolvable: the runs do not share their initial accuracy"
        return PairedSpeedup(None, None, None, reason, start, uniform_final, rollouts_to_uniform_final=to_final)
    speedup = float(np.exp(np.mean(np.log(r_uniform) - np.log(r_strategy))))
    return PairedSpeedup(
        speedup=speedup,
        rollout_ratio=1.0 / speedup,
        censored_fraction=float(np.mean(censored)),
        reason=None,
        start=start,
        uniform_final=uniform_final,
        targets=tuple(targets),
        uniform_rollouts=tuple(r_uniform),
        strategy_rollouts=tuple(r_strategy),
        censored=tuple(censored),
        rollouts_to_uniform_final=to_final,
    )


def _median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.median(present)) if present else None


def _seeds_note(count: int) -> str:
    return "1 seed" if count == 1 else f"median of {count} seeds"


def _label(name: str, entry: dict[str, Any]) -> str:
    return f"{name} ({UPPER_BOUND_LABEL})" if entry.get("upper_bound") else name


def _baseline_line(name: str, entry: dict[str, Any]) -> str:
    speed = entry.get("speedup_vs_uniform") or {}
    seeds = len(entry.get("seeds", [])) or 1
    if speed.get("seeds", 0) == 0 and speed.get("reason") == NO_IMPROVEMENT:
        start = _median(speed.get("start_accuracy", []))
        final = _median(speed.get("uniform_final_accuracy", []))
        numbers = f"{start:.3f} → {final:.3f}" if start is not None and final is not None else "no change"
        note = "" if seeds == 1 else f", {_seeds_note(seeds)}"
        return f"{name} did not improve ({numbers}{note}): {NO_IMPROVEMENT}"
    initial, final = entry["initial_accuracy"]["median"], entry["final_accuracy"]["median"]
    rollouts = entry["rollouts"]["median"]
    line = f"{name}: held-out accuracy {initial:.3f} → {final:.3f} in {rollouts:,.0f} rollouts ({_seeds_note(seeds)})"
    if speed.get("reason"):
        line += f"; no speedup defined at some seeds ({speed['reason']})"
    return line + _forgetting_note(entry)


def _forgetting_note(entry: dict[str, Any]) -> str:
    """'' unless some seed ended at least FORGETTING_DROP below its own peak; then which seeds and by how much."""
    drops = (entry.get("drop_from_peak") or {}).get("per_seed")
    if not drops:  # a summary written before drop_from_peak existed
        return ""
    forgot = [(seed, drop) for seed, drop in zip(entry["seeds"], drops, strict=True) if drop >= FORGETTING_DROP]
    if not forgot:
        return ""
    where = ", ".join(f"seed {seed}: -{drop:.2f}" for seed, drop in forgot)
    return f"; it ended below its own peak ({where}): it forgot part of what it learnt (see the per-level plot)"


def _strategy_line(name: str, entry: dict[str, Any], baseline: str) -> str:
    label = _label(name, entry)
    speed = entry.get("speedup_vs_uniform") or {}
    ratio = speed.get("rollout_ratio") or {}
    if ratio.get("median") is None:
        reason = speed.get("reason") or f"no {baseline} run to compare against"
        line = f"{label}: no speedup to report ({reason})"
        auc = entry.get("auc_minus_uniform") or {}
        if auc.get("median") is not None:
            line += f"; mean held-out accuracy over training {auc['median']:+.3f} vs {baseline}"
            if auc.get("ci_low") is not None and len([v for v in auc["per_seed"] if v is not None]) > 1:
                line += f" (95% CI {auc['ci_low']:+.3f} to {auc['ci_high']:+.3f})"
        return line
    median, low, high, count = ratio["median"], ratio["ci_low"], ratio["ci_high"], speed["seeds"]
    interval = f"95% CI {low:.2f}–{high:.2f}, {count} seeds" if count > 1 else "1 seed, no interval"
    line = f"{label} reached {baseline}'s accuracies (up to its final) with {median:.2f}× the rollouts ({interval})"
    if count > 1 and low <= 1.0 <= high:
        line += f"; the interval includes 1×: not resolved from {baseline}"
    elif median > 1.0:
        line += f": slower than {baseline}"
    censored = _median(speed.get("censored_fraction", []))
    if censored:
        line += (
            f"; it never reached {censored:.0%} of the accuracy targets within its budget "
            "(counted at the full budget, so the ratio is a lower bound there)"
        )
    missing = len(entry.get("seeds", [])) - count
    if missing > 0 and speed.get("reason"):
        line += f"; {missing} seed(s) left out: {speed['reason']}"
    return line + _forgetting_note(entry)


def headline_lines(summary: dict[str, Any], baseline: str = "uniform") -> list[str]:
    """One sentence per strategy a newcomer can read: the baseline's progress first, then each strategy's speedup.

    The rollout ratio is the geometric mean, over accuracy targets from the shared start up to uniform's final
    accuracy, of the rollouts the strategy needed divided by those uniform needed (same seed).
    """
    lines = []
    if baseline in summary:
        lines.append(_baseline_line(baseline, summary[baseline]))
    for name, entry in summary.items():
        if name != baseline:
            lines.append(_strategy_line(name, entry, baseline))
    return lines
