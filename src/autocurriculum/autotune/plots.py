"""Per-phase plot of one AutoTune run: acceptance rate, supervision bought, and Phi_j against the realized error."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_phases(result: dict[str, Any], path: Path) -> None:
    """``result``: ``RunResult.to_dict()`` of ``autotune_sft`` or ``autotune_rl`` (needs ``phases`` and ``extra``)."""
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
