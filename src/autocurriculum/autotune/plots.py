"""AutoTune plots (matplotlib imported lazily, inside each function).

``plot_phases``: one boosting run, per phase: acceptance rate, supervision bought, and Phi_j against the realized
error. ``plot_scaling``: the scaling sweep's ``sft_demonstrations.png`` and ``rl_rollouts.png``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any


def plot_phases(result: dict[str, Any], path: Path) -> None:
    """``result``: ``AutoTuneResult.to_dict()`` of ``autotune_sft`` or ``autotune_rl`` (with ``phases``, ``extra``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = result["phases"]
    extra = result["extra"]
    index = [p["phase"] for p in phases]
    aborted = [p["phase"] for p in phases if p["aborted"]]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))

    ax = axes[0]
    ax.plot(index, [p["acceptance_rate"] for p in phases], marker="o")
    rates = {p["phase"]: p["acceptance_rate"] for p in phases}
    if aborted:
        ax.scatter(aborted, [rates[j] for j in aborted], color="red", zorder=3, label="aborted")
        ax.legend(fontsize=8)
    ax.set_yscale("symlog", linthresh=1e-4)  # aborted phases can accept nothing
    ax.set_ylim(bottom=0)
    ax.set_xlabel("phase j")
    ax.set_ylabel("acceptance rate p_j")
    ax.set_title("Verifier-guided rejection sampling")

    ax = axes[1]
    key = "demonstrations" if any(p["demonstrations"] for p in phases) else "reference_rollouts"
    ax.bar(index, [p[key] for p in phases])
    ax.set_xlabel("phase j")
    ax.set_ylabel(key.replace("_", " "))
    ax.set_title(f"Supervision bought per phase (total {sum(p[key] for p in phases):,})")

    ax = axes[2]
    potential = extra["potential"]
    ax.plot(range(len(potential)), potential, marker="o", label="potential Phi_j (bound on final error)")
    ax.plot(range(1, len(extra["vote_error"]) + 1), extra["vote_error"], marker="s", label="error of vote of first j")
    ax.axhline(result["target_error"], color="gray", linestyle="--", label="target eps")
    ax.set_yscale("symlog", linthresh=1e-4)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("members j")
    ax.set_ylabel("held-out error")
    ax.set_title("Phi_j vs realized error")
    ax.legend(fontsize=8)
    fig.suptitle(f"{result['method']}: k={extra['k']}, held-out accuracy {result['accuracy']:.4f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _series(table: dict[str, Any], eps_list: list[float], metric: str):
    xs, med, lo, hi = [], [], [], []
    for e in eps_list:
        stats = table[str(e)].get(metric)
        if stats is None:
            continue
        xs.append(1 / e)
        med.append(stats["median"])
        lo.append(stats["min"])
        hi.append(stats["max"])
    return xs, med, lo, hi


def _loglog(ax, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)


def plot_scaling(result: dict[str, Any], out: Path, sft_labels: Mapping[str, str]) -> None:
    """``sft_demonstrations.png`` and (with RL) ``rl_rollouts.png`` of a ``run_scaling`` result, in ``out``.

    Methods are drawn in the result's order: ``result["sft"]`` and ``result["rl"]`` (RLFineTune, AutoTune-RL,
    AutoTune-RL reusing rollouts); ``sft_labels`` names the SFT methods in the legend.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = result["config"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for metric, ax in zip(("demonstrations", "verifier_calls"), axes, strict=True):
        for method, table in result["sft"].items():
            xs, med, lo, hi = _series(table, cfg["sft_eps"], metric)
            if not xs:
                continue
            slope = result["slopes"][f"sft_{metric}"][method]
            label = sft_labels[method] + (f" (slope {slope:.2f})" if slope is not None else "")
            ax.plot(xs, med, marker="o", label=label)
            ax.fill_between(xs, lo, hi, alpha=0.2)
        _loglog(ax, "1 / eps", f"{metric} to reach accuracy 1 - eps", f"SFT: {metric.replace('_', ' ')}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "sft_demonstrations.png", dpi=120)
    plt.close(fig)

    if not cfg["rl"]:
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rl_methods = list(result["rl"])
    styles = dict(zip(rl_methods, (":", "--", "-"), strict=True))
    for metric, ax in zip(("rollouts", "reference_rollouts"), axes, strict=True):
        for i, coverage in enumerate(cfg["coverages"]):
            for method in rl_methods:
                xs, med, lo, hi = _series(result["rl"][method][f"{float(coverage):g}"], cfg["rl_eps"], metric)
                if not xs:
                    continue
                color = colors[i % len(colors)]
                ax.plot(xs, med, styles[method], marker="o", color=color, label=f"{method} C={coverage:g}")
                ax.fill_between(xs, lo, hi, alpha=0.12, color=color)
        _loglog(ax, "1 / eps", f"{metric} to reach 1 - eps", f"RL: {metric.replace('_', ' ')}")
    axes[0].legend(fontsize=6, ncol=3)
    fig.suptitle("RLFineTune (dotted), AutoTune-RL (dashed), AutoTune-RL reusing rollouts (solid)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out / "rl_rollouts.png", dpi=120)
    plt.close(fig)
