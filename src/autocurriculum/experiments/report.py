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

from autocurriculum.experiments.runner import RunResult

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


def plot_accuracy_by_level(results: Sequence[RunResult], path: Path) -> None:
    """Held-out accuracy vs rollouts, one panel per (family, level) plus the overall mean."""
    grouped = _grouped(results)
    order = list(grouped)
    keys = ["overall"] + [k for k in results[0].evals[0] if k not in ("step", "rollouts", "overall")]
    cols = min(4, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.8 * rows), squeeze=False, sharex=True)  # y per panel
    for ax, key in zip(axes.flat, keys, strict=False):
        for name, runs in grouped.items():
            grid = np.linspace(0, max(r.rollouts for r in runs), 50)
            curves = [(np.array([e["rollouts"] for e in r.evals]), np.array([e[key] for e in r.evals])) for r in runs]
            mid, lo, hi = _median_band(curves, grid)
            color = _color(name, order)
            style = "--" if name == "oracle" else "-"
            ax.plot(grid, mid, style, color=color, label=name, lw=1.6)
            if len(runs) > 1:
                ax.fill_between(grid, lo, hi, color=color, alpha=0.15, lw=0)
        ax.set_title(key, fontsize=10)
        if key != "overall":  # the overall mean moves by a few points: let its axis zoom in
            ax.set_ylim(-0.02, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(keys) :]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("rollouts")
    axes[0][0].set_ylabel("held-out accuracy (greedy)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Held-out accuracy per difficulty level vs rollouts (median over seeds, band = min..max)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


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


def summary_table(summary: dict[str, Any]) -> list[list[str]]:
    """Rows of the comparison table (header first), shared by the Markdown report and the terminal."""
    rows = [
        [
            "strategy",
            "final acc.",
            "rollouts",
            "rollouts to uniform's final (x uniform)",
            "zero-var. fraction",
            "selection overhead",
        ]
    ]
    for name, s in summary.items():
        rows.append(
            [
                name,
                _fmt(s["final_accuracy"]),
                _fmt(s["rollouts"], "{:.0f}"),
                _fmt(s["rollouts_to_uniform_final_ratio"], "{:.2f}"),
                _fmt(s["zero_variance_fraction"]),
                _fmt(s["selection_overhead_fraction"], "{:.1%}"),
            ]
        )
    return rows


def write_report(out_dir: Path, summary: dict[str, Any], meta: dict[str, Any]) -> Path:
    rows = summary_table(summary)
    lines = [
        "# Autocurriculum comparison",
        "",
        f"Seeds: {meta['seeds']}. Budget: {meta['rollouts']} rollouts per run "
        f"({meta['prompts_per_step']} prompts x {meta['group_size']} rollouts per GRPO step). "
        f"Tasks: {', '.join(meta['tasks'])} ({meta.get('pool', 'fixed')} pool); "
        f"warm start on levels 1..{meta['warmup_max_level']}. "
        f"Wall time: {meta['wall_seconds']:.0f} s.",
        "",
        "Values are medians over seeds, with [min, max] in brackets. Every generated rollout is charged to the budget, "
        "including those of groups a filter discards. *Rollouts to uniform's final* is the budget at which held-out "
        "accuracy first reaches uniform's final accuracy (same seed), linearly interpolated between evaluations, as "
        "a fraction of uniform's budget; *never* means the majority of seeds did not get there.",
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
            "| strategy | teacher MAE (unseen) | Spearman (predicted vs empirical) | teacher share of wall time |",
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
    if "oracle" in summary:
        lines += [
            "**Oracle caveat.** The oracle measures each candidate's current pass rate by Monte Carlo with the "
            "current model before choosing. Those estimation rollouts are *not* charged to its budget; it is the "
            "upper bound the practical strategies are measured against, not a deployable method.",
            "",
        ]
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
