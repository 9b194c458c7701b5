"""SOAR's plots: teacher reward with promotions marked, pass@k per arm with the seed spread, diversity over steps."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def plot_all(summary: dict[str, Any], out: Path, seed_dirs: Mapping[int, Path] | None = None) -> None:
    """The three plots in ``out``; each seed's histories are read from ``seed_dirs[seed]`` (default
    ``out/seed-<seed>``, where ``compare`` writes them)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_seed = summary["per_seed"]
    histories = {
        (s["seed"], reward): _read_history(
            (seed_dirs or {}).get(s["seed"], out / f"seed-{s['seed']}") / f"history-{reward}.jsonl"
        )
        for s in per_seed
        for reward in ("grounded", "intrinsic")
    }

    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharex=True)
    for ax, reward in zip(axes, ("grounded", "intrinsic"), strict=True):
        for (seed, kind), history in histories.items():
            if kind != reward or not history:
                continue
            steps = [r["step"] for r in history if not r.get("skipped")]
            line = ax.plot(steps, [r["mean_reward"] for r in history if not r.get("skipped")], label=f"seed {seed}")
            if reward == "grounded":
                ax.plot(
                    steps,
                    [r["moving_average"] for r in history if not r.get("skipped")],
                    ls=":",
                    color=line[0].get_color(),
                )
                promoted = [r["step"] for r in history if r.get("promoted_set") is not None]
                ax.scatter(promoted, [0.0] * len(promoted), marker="^", color=line[0].get_color(), zorder=3)
        if reward == "grounded":
            tau = summary["config"]["outer"]["promotion_threshold"]
            ax.axhline(tau, color="grey", lw=0.8, ls="--", label=f"tau = {tau}")
        ax.set_title(
            f"{reward} teacher: mean set reward (triangles: promotions)"
            if reward == "grounded"
            else "intrinsic teacher: mean learnability reward"
        )
        ax.set_xlabel("outer step")
        if ax.get_legend_handles_labels()[0]:  # an arm that was not run leaves its panel empty
            ax.legend(fontsize=7)
        else:
            ax.text(0.5, 0.5, "not run", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(out / "teacher_reward.png", dpi=120)
    plt.close(fig)

    arms = summary["arms"]
    ks = [f"pass@{k}" for k in summary["config"]["evaluation"]["pass_at"]]
    names = [a for a in arms if ks[-1] in arms[a]]
    fig, axes = plt.subplots(1, len(ks), figsize=(4 * len(ks), 4), squeeze=False)
    for ax, metric in zip(axes[0], ks, strict=True):
        for x, arm in enumerate(names):
            values = arms[arm][metric]["per_seed"]
            ax.scatter([x] * len(values), values, s=12, color="grey", zorder=2)
            ax.bar(x, arms[arm][metric]["median"], color="tab:blue" if not arm.startswith("pq-") else "tab:orange")
        ax.set_xticks(range(len(names)), names, rotation=60, ha="right", fontsize=7)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{metric} on the hard test set (bars: median, dots: seeds)", fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "pass_at_k.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 4))
    for (seed, reward), history in histories.items():
        steps = [r["step"] for r in history if not r.get("skipped")]
        ax.plot(
            steps,
            [r["diversity_bits"] for r in history if not r.get("skipped")],
            ls="-" if reward == "grounded" else "--",
            label=f"{reward}, seed {seed}",
        )
    ax.set_ylim(bottom=0)
    ax.set_xlabel("outer step")
    ax.set_ylabel("entropy over (level, operators) cells, bits")
    ax.set_title("question diversity per step")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "diversity.png", dpi=120)
    plt.close(fig)


def _read_history(path: Path) -> list[dict[str, Any]]:
    import json

    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
