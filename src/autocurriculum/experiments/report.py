"""Plots and a Markdown report for a comparison of strategies."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the testbed machines have no display
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.experiments.runner import RunResult
from autocurriculum.experiments.speedup import (
    FORGETTING_DROP,
    MIN_IMPROVEMENT,
    SMOOTHING_WINDOW,
    TARGET_POINTS,
    headline_lines,
)

COLORS = {"uniform": "#555555", "oracle": "#000000"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def _color(strategy: str, order: Sequence[str]) -> str:
    if strategy in COLORS:
        return COLORS[strategy]
    others = [s for s in order if s not in COLORS]
    return PALETTE[others.index(strategy) % len(PALETTE)]


def _grouped(results: Sequence[RunResult]) -> dict[str, list[RunResult]]:
    grouped: dict[str, list[RunResult]] = {}
    for r in results:
        grouped.setdefault(r.strategy, []).append(r)
    return grouped


def _median_band(curves: list[tuple[np.ndarray, np.ndarray]], grid: np.ndarray) -> tuple[np.ndarray, ...]:
    ys = np.array([np.interp(grid, x, y) for x, y in curves])
    return np.median(ys, axis=0), ys.min(axis=0), ys.max(axis=0)


def _seed_count_text(results: Sequence[RunResult]) -> str:
    seeds = len({r.seed for r in results})
    return "one seed" if seeds == 1 else f"median over {seeds} seeds, band: min–max"


def plot_accuracy_by_level(results: Sequence[RunResult], path: Path) -> Figure:
    """Held-out accuracy vs rollouts: the overall mean plus one panel per (family, level); returns the figure.

    Every strategy is drawn on one rollout grid (median line, min–max band over seeds), up to the last evaluation
    all its runs have. The overall panel starts at 0 so that a gain of a few points is not drawn as a cliff.
    """
    grouped = _grouped(results)
    order = list(grouped)
    keys = ["overall"] + [k for k in results[0].evals[0] if k not in ("step", "rollouts", "overall")]
    cols = min(4, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False, sharex=True)
    common_grid = np.linspace(0, max(e["rollouts"] for r in results for e in r.evals), 80)
    for ax, key in zip(axes.flat, keys, strict=False):
        highest = 0.0
        for name, runs in grouped.items():
            grid = common_grid[common_grid <= min(r.evals[-1]["rollouts"] for r in runs)]  # no extrapolation
            curves = [(np.array([e["rollouts"] for e in r.evals]), np.array([e[key] for e in r.evals])) for r in runs]
            mid, lo, hi = _median_band(curves, grid)
            color = _color(name, order)
            style = "--" if name == "oracle" else "-"
            ax.plot(grid, mid, style, color=color, label=name, lw=1.6)
            if len(runs) > 1:
                ax.fill_between(grid, lo, hi, color=color, alpha=0.15, lw=0)
            highest = max(highest, float(np.nanmax(hi)) if hi.size else 0.0)
        if key == "overall":
            ax.set_title("overall (mean over levels)", fontsize=10)
            ax.set_ylim(0.0, min(1.0, highest + 0.05))
        else:
            ax.set_title(key, fontsize=10)
            ax.set_ylim(0.0, 1.0)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(keys) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("rollouts")
    axes[0][0].set_ylabel("held-out accuracy (greedy)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"Held-out accuracy vs rollouts ({_seed_count_text(results)})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


def _histogram_counts(histogram: dict[str, Any]) -> tuple[int, np.ndarray, dict[str, np.ndarray]]:
    samples = int(histogram["samples"])
    counts = np.asarray(histogram["counts"], dtype=np.int64)
    by_level = {level: np.asarray(c, dtype=np.int64) for level, c in (histogram.get("by_level") or {}).items()}
    for label, c in [("counts", counts), *by_level.items()]:
        if c.size != samples + 1:
            raise InvalidArgumentError(
                f"pass-rate histogram {label!r} has {c.size} bins, expected samples + 1 = {samples + 1}"
            )
    return samples, counts, by_level


def _zero_variance_share(counts: np.ndarray) -> float:
    total = int(counts.sum())
    return float(counts[0] + counts[-1]) / total if total else 0.0


def plot_pass_rate_histogram(histogram: dict[str, Any], path: Path) -> Figure:
    """How many training prompts the warm-started student solves k of ``samples`` times; returns the figure.

    ``histogram`` is ``{"samples": n, "counts": [c0..cn], "by_level": {"family/Lx": [c0..cn], ...}}``. Prompts at
    k = 0 or k = n give GRPO groups with zero reward variance, the rollouts a curriculum tries not to spend.
    """
    samples, counts, by_level = _histogram_counts(histogram)
    ks = np.arange(samples + 1)
    total = int(counts.sum())
    fig, (ax_all, ax_level) = plt.subplots(1, 2, figsize=(11, 3.8))
    wasted = [k in (0, samples) for k in ks]
    shares = counts / max(total, 1)
    ax_all.bar(ks, shares, color=["#d62728" if w else "#1f77b4" for w in wasted])
    ax_all.set_ylim(0.0, max(float(shares.max()), 0.01) * 1.2)  # headroom for the zero-variance note
    ax_all.text(
        0.5,
        0.96,
        f"zero-variance (k=0 or k={samples}): {_zero_variance_share(counts):.0%} of {total} prompts",
        transform=ax_all.transAxes,
        ha="center",
        va="top",
        fontsize=9,
        bbox={"facecolor": "white", "alpha": 0.8, "lw": 0},
    )
    ax_all.set(
        xlabel=f"k = correct answers out of {samples} samples",
        ylabel="share of training prompts",
        title="All training prompts (red: no learning signal)",
        xticks=ks,
    )
    if by_level:
        colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.95, len(by_level)))
        bottom = np.zeros(samples + 1)
        for color, (level, level_counts) in zip(colors, by_level.items(), strict=True):
            ax_level.bar(ks, level_counts, bottom=bottom, color=color, label=level)
            bottom += level_counts
        ax_level.legend(fontsize=7, ncol=2 if len(by_level) > 6 else 1)
    else:
        ax_level.text(0.5, 0.5, "no per-level counts", transform=ax_level.transAxes, ha="center")
    ax_level.set(
        xlabel=f"k = correct answers out of {samples} samples",
        ylabel="training prompts",
        title="By difficulty level (stacked)",
        xticks=ks,
    )
    for ax in (ax_all, ax_level):
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Pass counts of the warm-started student on the training prompts, before RL")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return fig


def pass_rate_histogram_table(histogram: dict[str, Any]) -> str:
    """Markdown table of the pass-count histogram: one row overall, one per level, with the zero-variance share."""
    samples, counts, by_level = _histogram_counts(histogram)
    header = ["prompts", *[f"k={k}" for k in range(samples + 1)], f"zero-variance (k=0 or {samples})"]
    rows = [[f"all ({int(counts.sum())})", *map(str, counts.tolist()), f"{_zero_variance_share(counts):.0%}"]]
    for level, level_counts in by_level.items():
        rows.append([level, *map(str, level_counts.tolist()), f"{_zero_variance_share(level_counts):.0%}"])
    return "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *["| " + " | ".join(r) + " |" for r in rows]]
    )


def plot_leaderboard(summary: dict[str, Any], path: Path, baseline: str = "uniform") -> bool:
    """Rollouts needed relative to the baseline per strategy (median, 95% CI, seeds as dots), fastest at the top.

    False (and no file) when no strategy has a defined ratio, e.g. because the baseline did not improve.
    """
    names = [n for n in ranked(summary, baseline) if n != baseline]
    ratios = [((summary[n].get("speedup_vs_uniform") or {}).get("rollout_ratio") or {}) for n in names]
    shown = [(n, r) for n, r in zip(names, ratios, strict=True) if r.get("median") is not None]
    if not shown:
        return False
    fig, ax = plt.subplots(figsize=(7, 0.42 * len(shown) + 1.4))
    for y, (name, ratio) in enumerate(reversed(shown)):
        low, high = ratio.get("ci_low"), ratio.get("ci_high")
        if low is not None and high is not None:
            ax.plot([low, high], [y, y], color="0.4", lw=2)
        seeds = [v for v in ratio.get("per_seed", []) if v is not None]
        ax.scatter(seeds, [y] * len(seeds), s=10, color="0.6", zorder=2)
        upper = summary[name].get("upper_bound")
        ax.scatter([ratio["median"]], [y], s=40, color="tab:red" if upper else "tab:blue", zorder=3)
    ax.axvline(1.0, color="k", lw=1, ls="--")
    ax.axvline(0.5, color="tab:green", lw=1, ls=":")
    ax.set_yticks(range(len(shown)), [n for n, _ in reversed(shown)])
    ax.set_xscale("log")
    # plain ticks: matplotlib's minor log labels (2x10^-1, 3x10^-1, ...) overlap at this width
    ticks = [t for t in (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0) if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}x"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"rollouts needed to reach {baseline}'s accuracies, x {baseline} (log; < 1 is faster)")
    ax.set_title(f"Leaderboard: median, 95% CI over seeds, seeds as dots\n({baseline} = 1; oracle in red)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True


def plot_training_dynamics(results: Sequence[RunResult], path: Path) -> None:
    """Zero-variance fraction vs step, and the mean level of the prompts each strategy chose."""
    grouped = _grouped(results)
    order = list(grouped)
    fig, (ax_zv, ax_level) = plt.subplots(1, 2, figsize=(11, 3.6))
    for name, runs in grouped.items():
        color = _color(name, order)
        steps = min(len(r.steps) for r in runs)
        if steps == 0:
            continue
        window = max(1, steps // 25)
        kernel = np.ones(window) / window
        zv = np.median([[s["zero_variance_fraction"] for s in r.steps[:steps]] for r in runs], axis=0)
        ax_zv.plot(np.convolve(zv, kernel, mode="valid"), color=color, label=name)
        level = np.median([[s["mean_level"] for s in r.steps[:steps]] for r in runs], axis=0)
        ax_level.plot(np.convolve(level, kernel, mode="valid"), color=color, label=name)
    ax_zv.set(xlabel="GRPO step", ylabel="zero-variance groups (fraction)", title="Wasted groups (all-0 or all-1)")
    ax_level.set(xlabel="GRPO step", ylabel="mean level of generated prompts", title="Where each strategy practises")
    for ax in (ax_zv, ax_level):
        ax.grid(alpha=0.3)
    ax_zv.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_teacher_error(results: Sequence[RunResult], path: Path) -> bool:
    """Online teacher MAE on prompts not yet trained on, against GRPO step; False when no run has a teacher."""
    grouped = {name: runs for name, runs in _grouped(results).items() if all(r.teacher for r in runs)}
    if not grouped:
        return False
    order = list(_grouped(results))
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    for name, runs in grouped.items():
        for i, run in enumerate(runs):
            history = [h for h in run.teacher["mae_history"] if h.get("mae") is not None]  # type: ignore[index]
            if history:
                ax.plot(
                    [h["step"] for h in history],
                    [h["mae"] for h in history],
                    color=_color(name, order),
                    alpha=0.8,
                    lw=1.2,
                    label=name if i == 0 else None,
                )
    ax.set(xlabel="curriculum update", ylabel="teacher MAE (unseen prompts)", title="Learned teacher error over time")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _fmt(entry: dict[str, Any] | None, pattern: str = "{:.3f}") -> str:
    if entry is None or entry["median"] is None:
        return "never" if entry is not None else "n/a"
    text = pattern.format(entry["median"])
    if entry["min"] is not None and entry["max"] is not None and len(entry["per_seed"]) > 1:
        text += f" [{pattern.format(entry['min'])}, {pattern.format(entry['max'])}]"
    elif len(entry["per_seed"]) > 1:
        reached = sum(v is not None for v in entry["per_seed"])
        text += f" ({reached}/{len(entry['per_seed'])} seeds)"
    return text


def _fmt_interval(entry: dict[str, Any] | None, pattern: str = "{:.3f}") -> str:
    """Median with its 95% CI in brackets (CI only with more than one defined seed)."""
    if entry is None or entry.get("median") is None:
        return "n/a"
    text = pattern.format(entry["median"])
    defined = [v for v in entry.get("per_seed", []) if v is not None]
    if len(defined) > 1 and entry.get("ci_low") is not None:
        text += f" [{pattern.format(entry['ci_low'])}, {pattern.format(entry['ci_high'])}]"
    return text


def _fmt_rollout_ratio(name: str, entry: dict[str, Any], baseline: str) -> str:
    speed = entry.get("speedup_vs_uniform")
    if speed is None:
        return "n/a"
    ratio = speed["rollout_ratio"]
    if ratio.get("median") is None:
        return f"n/a ({speed.get('reason') or 'undefined'})"
    if name == baseline:
        return "1.00× (baseline)"
    text = _fmt_interval(ratio, "{:.2f}×")
    censored = [c for c in speed.get("censored_fraction", []) if c is not None]
    if censored and float(np.median(censored)) > 0:
        text += f", {float(np.median(censored)):.0%} of targets never reached"
    return text


def ranked(summary: dict[str, Any], baseline: str = "uniform") -> list[str]:
    """Strategy names, fastest first by median rollout ratio; the baseline leads, undefined ratios come last."""

    def key(name: str) -> tuple[int, float]:
        if name == baseline:
            return (0, 0.0)
        ratio = (summary[name].get("speedup_vs_uniform") or {}).get("rollout_ratio") or {}
        median = ratio.get("median")
        return (1, float(median)) if median is not None else (2, 0.0)

    return sorted(summary, key=key)


def summary_table(summary: dict[str, Any], baseline: str = "uniform") -> list[list[str]]:
    """Rows of the ranked comparison table (header first), shared by the Markdown report and the terminal."""
    rows = [
        [
            "strategy",
            "initial acc.",
            "final acc.",
            f"rollouts needed (× {baseline}) [95% CI]",
            "AUC (mean acc. in training)",
            f"AUC − {baseline} [95% CI]",
            "zero-var. fraction",
            "effective-group ratio",
            "rollouts per trained group",
            "screening share of rollouts",
            "selection overhead",
        ]
    ]
    for name in ranked(summary, baseline):
        s = summary[name]
        rows.append(
            [
                name,
                _fmt(s.get("initial_accuracy")),
                _fmt(s["final_accuracy"]),
                _fmt_rollout_ratio(name, s, baseline),
                _fmt(s.get("auc")),
                _fmt_interval(s.get("auc_minus_uniform"), "{:+.3f}") if name != baseline else "0 (baseline)",
                _fmt(s["zero_variance_fraction"]),
                _fmt(s.get("effective_group_ratio")),
                _fmt(s.get("rollouts_per_trained_group"), "{:.1f}"),
                _fmt(s.get("screening_rollout_fraction"), "{:.0%}"),
                _fmt(s["selection_overhead_fraction"], "{:.1%}"),
            ]
        )
    return rows


def _setup_sentence(meta: dict[str, Any]) -> str:
    parts = []
    if "seeds" in meta:
        parts.append(f"Seeds: {meta['seeds']}.")
    if "rollouts" in meta:
        budget = f"Budget: {meta['rollouts']:,} rollouts per run"
        if "prompts_per_step" in meta and "group_size" in meta:
            budget += f" ({meta['prompts_per_step']} prompts x {meta['group_size']} rollouts per GRPO step)"
        parts.append(budget + ".")
    if "tasks" in meta:
        parts.append(f"Tasks: {', '.join(meta['tasks'])} ({meta.get('pool', 'fixed')} pool).")
    if "warmup_max_level" in meta:
        parts.append(f"Warm start on levels 1..{meta['warmup_max_level']}.")
    if meta.get("resumed"):
        parts.append(
            f"Resumed from checkpoints: wall time of the last invocation {meta['wall_seconds']:.0f} s; "
            f"the runs took {meta['run_seconds_total']:,.0f} s in all ({meta['workers']} workers)."
        )
    elif "wall_seconds" in meta:
        parts.append(f"Wall time: {meta['wall_seconds']:.0f} s.")
    return " ".join(parts)


def write_report(out_dir: Path, summary: dict[str, Any], meta: dict[str, Any]) -> Path:
    """``report.md``: headline sentences, the comparison table, the pass-rate histogram (if in ``meta``), plots.

    With ``meta["pass_rate_histogram"]`` it also draws ``pass_rate_histogram.png`` next to the report.
    """
    out_dir = Path(out_dir)
    rows = summary_table(summary)
    lines = [
        "# Autocurriculum comparison",
        "",
        *[f"- {line}" for line in headline_lines(summary)],
        "",
        _setup_sentence(meta),
        "",
        "Every generated rollout is charged to the budget, including those of groups a filter discards. All "
        "strategies of a seed start from the same warm-started model, so comparisons with uniform are paired by seed.",
        "",
        f"*Rollouts needed (× uniform)*: for {TARGET_POINTS} target accuracies evenly spaced from the shared start to "
        f"uniform's final accuracy, the rollouts the strategy needed to first reach each target, divided by the "
        f"rollouts uniform needed (same seed), geometric mean over the targets: 0.5× means twice as fast. Curves are "
        f"smoothed over {SMOOTHING_WINDOW} evaluations first (accuracy moves about ±0.01 between evaluations by "
        f"chance; the final accuracy is the mean of the last two), crossings are interpolated between evaluations, "
        f"and a target a strategy never reaches counts at its full budget. When uniform improves by less than "
        f"{MIN_IMPROVEMENT} there is nothing to speed up and no ratio is given. *AUC* is the area under the "
        f"accuracy–rollouts curve divided by the budget, the mean held-out accuracy over training. A run whose "
        f"smoothed curve ends {FORGETTING_DROP} or more below its own peak is named in the lines above (forgetting, "
        f"which the ratio, read on the way up, does not show; `drop_from_peak` in summary.json). Accuracies are "
        f"medians over seeds with [min, max]; ratios and AUC differences are medians with a 95% percentile bootstrap "
        f"CI over seeds.",
        "",
        "| " + " | ".join(rows[0]) + " |",
        "|" + "---|" * len(rows[0]),
        *["| " + " | ".join(r) + " |" for r in rows[1:]],
        "",
    ]
    teachers = {name: s for name, s in summary.items() if "teacher_mae_unseen" in s}
    if teachers:
        lines += [
            "**Learned teachers** (held-out prompts they never trained on, against Monte Carlo pass rates of the "
            "final student; teacher time is charged to the strategy's wall time):",
            "",
            "| strategy | teacher MAE (unseen) | Spearman (predicted vs empirical) | teacher compute / wall time |",
            "|---|---|---|---|",
            *[
                f"| {name} | {_fmt(t['teacher_mae_unseen'])} | {_fmt(t['teacher_spearman'])} | "
                f"{_fmt(t['teacher_time_fraction'], '{:.1%}')} |"
                for name, t in teachers.items()
            ],
            "",
            "![teacher error](teacher_mae.png)",
            "",
        ]
    if any(name == "oracle" or entry.get("upper_bound") for name, entry in summary.items()):
        lines += [
            "**Oracle caveat.** The oracle measures each candidate's current pass rate by Monte Carlo with the "
            "current model before choosing. Those estimation rollouts are *not* charged to its budget; it is the "
            "upper bound the practical strategies are measured against, not a deployable method.",
            "",
        ]
    histogram = meta.get("pass_rate_histogram")
    if histogram:
        plot_pass_rate_histogram(histogram, out_dir / "pass_rate_histogram.png")
        samples = histogram["samples"]
        lines += [
            "## Pass rates at the start of RL",
            "",
            f"Each training prompt was sampled {samples} times from the warm-started student; k is the number of "
            f"correct answers. A GRPO group at k = 0 or k = {samples} has equal rewards, zero advantage and teaches "
            "nothing: this is the waste a curriculum can avoid.",
            "",
            pass_rate_histogram_table(histogram),
            "",
            "![pass-rate histogram](pass_rate_histogram.png)",
            "",
        ]
    if plot_leaderboard(summary, out_dir / "leaderboard.png"):
        lines += ["## Leaderboard", "", "![leaderboard](leaderboard.png)", ""]
    lines += [
        "## Held-out accuracy per level",
        "",
        "![accuracy by level](accuracy_by_level.png)",
        "",
        "## Training dynamics",
        "",
        "![training dynamics](training_dynamics.png)",
        "",
        "Files: `summary.json` (every number above, per seed), `metrics.jsonl` (one record per GRPO step), "
        "`evals.jsonl` (held-out accuracy checkpoints).",
        "",
    ]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path
