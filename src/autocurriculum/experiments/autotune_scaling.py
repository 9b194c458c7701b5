"""AutoTune scaling sweep (research note T1 and T2): cost to reach outcome error eps, per method, over seeds.

SFT: uniform SFT vs faithful AutoTune-SFT vs the practical counterexample variant, demonstrations vs 1/eps.
RL: RLFineTune vs AutoTune-RL, total rollouts vs 1/eps, per coverage C of the reference model.
Baselines are read off one growing run per seed (oracle stopping at the first grid point whose held-out
accuracy reaches 1 - eps, which favours them); AutoTune runs once per eps with that eps as its target.
Writes ``scaling.json``, ``report.md``, ``sft_demonstrations.png`` and ``rl_rollouts.png`` to the out dir.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.autotune import (
    AutoTuneConfig,
    CounterexampleConfig,
    ProgrammaticTeacher,
    ReferenceModel,
    RLFineTuneConfig,
    TabularRLLearner,
    TabularSFTLearner,
    UniformSFTConfig,
    autotune_rl,
    autotune_sft,
    counterexample_sft,
    make_problem,
    rl_finetune,
    uniform_sft,
)
from autocurriculum.core.config import option, require
from autocurriculum.tasks import make_task_family

SFT_METHODS = ("uniform_sft", "autotune_sft", "counterexample_sft")
RL_METHODS = ("rl_finetune", "autotune_rl")
METRICS = ("demonstrations", "rollouts", "reference_rollouts", "verifier_calls", "prompts_drawn")


@dataclass
class ScalingConfig:
    sft_eps: list[float] = option([0.2, 0.1, 0.05, 0.02, 0.01, 0.005], "Target errors of the SFT sweep.")
    rl_eps: list[float] = option([0.2, 0.1, 0.05, 0.02, 0.01, 0.005], "Target errors of the RL sweep.")
    coverages: list[float] = option([4, 16, 64, 256], "Coverages C of the RL reference model.")
    seeds: int = option(3, "Seeds 0..seeds-1 (each also redraws the hidden op table).")
    clusters: int = option(128, "Clusters m of the clustered op-chain.")
    steps: int = option(6, "Chain length T.")
    zipf_exponent: float = option(1.1, "Zipf exponent of the cluster distribution (research note: 1.1).")
    rl: bool = option(True, "Run the RL part of the sweep.")
    test_prompts: int = option(20_000, "Held-out prompts for measuring accuracy (not charged).")
    miss_probability: float = option(0.01, "RL: chance a covered correct chain is never sampled (sets m).")

    def validate(self) -> None:
        for name in ("sft_eps", "rl_eps"):
            values = getattr(self, name)
            require(bool(values) and all(0 < e < 1 for e in values), name, f"values must be in (0, 1), got {values}")
        require(all(c >= 1 for c in self.coverages), "coverages", f"must be >= 1, got {self.coverages}")
        require(self.seeds >= 1, "seeds", f"must be >= 1, got {self.seeds}")
        require(self.test_prompts >= 100, "test_prompts", f"must be >= 100, got {self.test_prompts}")


QUICK = {
    "sft_eps": [0.2, 0.1, 0.05, 0.02],
    "rl_eps": [0.2, 0.1, 0.05],
    "coverages": [4, 64],
    "seeds": 3,
    "test_prompts": 5000,
}


def _ckey(coverage: float) -> str:
    return f"{float(coverage):g}"


def _point(costs: dict[str, Any], accuracy: float, reached: bool) -> dict[str, Any]:
    return {
        "demonstrations": costs["teacher_demonstrations"],
        "rollouts": costs["rollouts"],
        "reference_rollouts": costs["reference_rollouts"],
        "verifier_calls": costs["verifier_calls"],
        "prompts_drawn": costs["prompts_drawn"],
        "accuracy": accuracy,
        "reached": reached,
    }


def _summarise(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Median/min/max over seeds of each metric (only seeds that reached the target count)."""
    reached = [p for p in points if p is not None and p["reached"]]
    out: dict[str, Any] = {"seeds": len(points), "seeds_reached": len(reached)}
    for metric in (*METRICS, "accuracy"):
        values = [p[metric] for p in reached]
        out[metric] = (
            {"median": float(np.median(values)), "min": float(np.min(values)), "max": float(np.max(values))}
            if values
            else None
        )
    return out


def fit_slope(eps: list[float], values: list[float | None]) -> float | None:
    """Least-squares slope of log(value) against log(1/eps) (None with fewer than two points)."""
    pairs = [(math.log(1 / e), math.log(v)) for e, v in zip(eps, values, strict=True) if v is not None and v > 0]
    if len(pairs) < 2:
        return None
    x, y = np.array(pairs).T
    return float(np.polyfit(x, y, 1)[0])


def _median(summary: dict[str, Any], metric: str) -> float | None:
    stats = summary.get(metric)
    return None if stats is None else stats["median"]


def run_scaling(config: ScalingConfig, out: Path, progress: bool = True) -> dict[str, Any]:
    config.validate()
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    sft_points: dict[str, dict[float, list]] = {m: {e: [] for e in config.sft_eps} for m in SFT_METHODS}
    rl_points: dict[str, dict[float, dict[float, list]]] = {
        m: {c: {e: [] for e in config.rl_eps} for c in config.coverages} for m in RL_METHODS
    }
    rl_jobs = len(config.coverages) * (1 + len(config.rl_eps)) if config.rl else 0
    jobs = config.seeds * (1 + 2 * len(config.sft_eps) + rl_jobs)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), disable=not progress
    ) as bar:
        task = bar.add_task("autotune scaling", total=jobs)
        for seed in range(config.seeds):
            family = make_task_family(
                "clustered_op_chain",
                {
                    "seed": seed,
                    "table_seed": seed,
                    "clusters": config.clusters,
                    "steps": config.steps,
                    "zipf_exponent": config.zipf_exponent,
                },
            )

            def problem(family=family):
                return make_problem(family, config.steps)

            test = problem().test_prompts(config.test_prompts)
            teacher = ProgrammaticTeacher()
            bar.update(task, description=f"seed {seed}: uniform SFT")
            uni = uniform_sft(
                problem(),
                TabularSFTLearner(),
                teacher,
                UniformSFTConfig(max_demos=50_000, target_accuracy=1 - min(config.sft_eps)),
                test,
                seed,
            )
            for eps in config.sft_eps:
                hit = uni.first_reaching(1 - eps)
                sft_points["uniform_sft"][eps].append(_point(hit, hit["accuracy"], True) if hit else None)
            bar.advance(task)
            for eps in config.sft_eps:
                bar.update(task, description=f"seed {seed}: AutoTune-SFT eps={eps}")
                r = autotune_sft(problem(), TabularSFTLearner(), teacher, AutoTuneConfig(eps=eps, seed=seed), test)
                sft_points["autotune_sft"][eps].append(
                    {**_point(r.costs, r.accuracy, bool(r.reached_target)), **r.extra}
                )
                bar.advance(task)
                bar.update(task, description=f"seed {seed}: counterexample SFT eps={eps}")
                r = counterexample_sft(
                    problem(), TabularSFTLearner(), teacher, CounterexampleConfig(eps=eps), test, seed
                )
                sft_points["counterexample_sft"][eps].append(_point(r.costs, r.accuracy, bool(r.reached_target)))
                bar.advance(task)
            for coverage in config.coverages if config.rl else []:
                bar.update(task, description=f"seed {seed}: RLFineTune C={coverage:g}")
                p = problem()
                base = rl_finetune(
                    p,
                    ReferenceModel(p, coverage, seed),
                    TabularRLLearner(),
                    RLFineTuneConfig(
                        miss_probability=config.miss_probability,
                        max_prompts=20_000,
                        target_accuracy=1 - min(config.rl_eps),
                    ),
                    test,
                    seed,
                )
                for eps in config.rl_eps:
                    hit = base.first_reaching(1 - eps)
                    rl_points["rl_finetune"][coverage][eps].append(_point(hit, hit["accuracy"], True) if hit else None)
                bar.advance(task)
                for eps in config.rl_eps:
                    bar.update(task, description=f"seed {seed}: AutoTune-RL C={coverage:g} eps={eps}")
                    p = problem()
                    r = autotune_rl(
                        p,
                        ReferenceModel(p, coverage, seed),
                        TabularRLLearner(),
                        AutoTuneConfig(eps=eps, seed=seed),
                        test,
                        miss_probability=config.miss_probability,
                    )
                    rl_points["autotune_rl"][coverage][eps].append(_point(r.costs, r.accuracy, bool(r.reached_target)))
                    bar.advance(task)

    sft = {m: {str(e): _summarise(v) for e, v in by_eps.items()} for m, by_eps in sft_points.items()}
    rl = {
        m: {_ckey(c): {str(e): _summarise(v) for e, v in by_eps.items()} for c, by_eps in by_c.items()}
        for m, by_c in rl_points.items()
    }
    slopes = {
        "sft_demonstrations": {
            m: fit_slope(config.sft_eps, [_median(sft[m][str(e)], "demonstrations") for e in config.sft_eps])
            for m in SFT_METHODS
        },
        "sft_verifier_calls": {
            m: fit_slope(config.sft_eps, [_median(sft[m][str(e)], "verifier_calls") for e in config.sft_eps])
            for m in SFT_METHODS
        },
        "rl_rollouts": {
            m: {
                _ckey(c): fit_slope(
                    config.rl_eps, [_median(rl[m][_ckey(c)][str(e)], "rollouts") for e in config.rl_eps]
                )
                for c in config.coverages
            }
            for m in RL_METHODS
        },
    }
    result = {
        "config": asdict(config),
        "sft": sft,
        "rl": rl,
        "slopes": slopes,
        "seconds": time.perf_counter() - started,
        "notes": [
            "demonstrations/rollouts/verifier calls: median, min, max over the seeds that reached accuracy 1 - eps",
            "baselines use an oracle stopping rule on the held-out set (favours them); evaluation is never charged",
        ],
    }
    (out / "scaling.json").write_text(json.dumps(result, indent=2))
    _plots(result, out)
    (out / "report.md").write_text(_report(result))
    return result


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


def _plots(result: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cfg = result["config"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for metric, ax in zip(("demonstrations", "verifier_calls"), axes, strict=True):
        for method in SFT_METHODS:
            xs, med, lo, hi = _series(result["sft"][method], cfg["sft_eps"], metric)
            if not xs:
                continue
            slope = result["slopes"][f"sft_{metric}"][method]
            label = f"{method} (slope {slope:.2f})" if slope is not None else method
            ax.plot(xs, med, marker="o", label=label)
            ax.fill_between(xs, lo, hi, alpha=0.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("1 / eps")
        ax.set_ylabel(f"{metric} to reach accuracy 1 - eps")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("SFT: teacher demonstrations")
    axes[1].set_title("SFT: verifier calls")
    fig.tight_layout()
    fig.savefig(out / "sft_demonstrations.png", dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, coverage in enumerate(cfg["coverages"]):
        for method, style in zip(RL_METHODS, ("--", "-"), strict=True):
            xs, med, lo, hi = _series(result["rl"][method][_ckey(coverage)], cfg["rl_eps"], "rollouts")
            if not xs:
                continue
            color = colors[i % len(colors)]
            ax.plot(xs, med, style, marker="o", color=color, label=f"{method} C={coverage:g}")
            ax.fill_between(xs, lo, hi, alpha=0.15, color=color)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("1 / eps")
    ax.set_ylabel("rollouts (reference + learner) to reach 1 - eps")
    ax.set_title("RL: RLFineTune (dashed) vs AutoTune-RL (solid)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out / "rl_rollouts.png", dpi=120)
    plt.close(fig)


def _fmt(stats: dict[str, Any] | None) -> str:
    if stats is None:
        return "not reached"
    return f"{stats['median']:,.0f} [{stats['min']:,.0f}-{stats['max']:,.0f}]"


def _report(result: dict[str, Any]) -> str:
    cfg = result["config"]
    lines = [
        "# AutoTune scaling sweep",
        "",
        f"Clustered op-chain, m={cfg['clusters']} clusters, Zipf({cfg['zipf_exponent']}), T={cfg['steps']}, "
        f"{cfg['seeds']} seeds, "
        f"{cfg['test_prompts']} held-out prompts; {result['seconds']:.0f} s. Cells: median [min-max] over seeds "
        "that reached accuracy 1 - eps (the count is given when some did not).",
        "",
        "## SFT: teacher demonstrations to reach accuracy 1 - eps",
        "",
        "| eps | " + " | ".join(SFT_METHODS) + " | uniform / autotune | uniform / counterexample |",
        "|---|" + "---|" * (len(SFT_METHODS) + 2),
    ]
    for e in cfg["sft_eps"]:
        cells = []
        for m in SFT_METHODS:
            s = result["sft"][m][str(e)]
            cell = _fmt(s["demonstrations"])
            if s["seeds_reached"] < s["seeds"]:
                cell += f" ({s['seeds_reached']}/{s['seeds']})"
            cells.append(cell)
        uni = _median(result["sft"]["uniform_sft"][str(e)], "demonstrations")
        ratios = []
        for m in ("autotune_sft", "counterexample_sft"):
            other = _median(result["sft"][m][str(e)], "demonstrations")
            ratios.append(f"{uni / other:.1f}x" if uni and other else "-")
        lines.append(f"| {e} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    lines += ["", "## SFT: verifier calls", "", "| eps | " + " | ".join(SFT_METHODS) + " |"]
    lines.append("|---|" + "---|" * len(SFT_METHODS))
    for e in cfg["sft_eps"]:
        lines.append(
            f"| {e} | " + " | ".join(_fmt(result["sft"][m][str(e)]["verifier_calls"]) for m in SFT_METHODS) + " |"
        )
    lines += ["", "## Fitted log-log slopes (vs 1/eps, medians)", "", "| quantity | method | slope |", "|---|---|---|"]
    for quantity in ("sft_demonstrations", "sft_verifier_calls"):
        for m, slope in result["slopes"][quantity].items():
            lines.append(f"| {quantity} | {m} | {'-' if slope is None else f'{slope:.2f}'} |")
    for m, by_c in result["slopes"]["rl_rollouts"].items():
        for c, slope in by_c.items():
            lines.append(f"| rl_rollouts C={float(c):g} | {m} | {'-' if slope is None else f'{slope:.2f}'} |")
    lines += ["", "## RL: total rollouts to reach accuracy 1 - eps", ""]
    lines.append("| C | eps | rl_finetune | autotune_rl | autotune_rl reference share |")
    lines.append("|---|---|---|---|---|")
    for c in cfg["coverages"]:
        for e in cfg["rl_eps"]:
            base = result["rl"]["rl_finetune"][_ckey(c)][str(e)]
            auto = result["rl"]["autotune_rl"][_ckey(c)][str(e)]
            ref, total = _median(auto, "reference_rollouts"), _median(auto, "rollouts")
            share = f"{ref / total:.0%}" if ref is not None and total else "-"
            lines.append(f"| {c:g} | {e} | {_fmt(base['rollouts'])} | {_fmt(auto['rollouts'])} | {share} |")
    lines += ["", "Plots: `sft_demonstrations.png`, `rl_rollouts.png`. Raw numbers: `scaling.json`.", ""]
    return "\n".join(lines)
