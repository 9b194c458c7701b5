"""AutoTune scaling sweep (research note T1 and T2): cost to reach outcome error eps, per method, over seeds.

SFT: uniform SFT vs faithful AutoTune-SFT (fresh weak learners, as in the paper), AutoTune-SFT whose weak
learners reuse earlier demonstrations, and the practical counterexample variant, demonstrations vs 1/eps.
RL: RLFineTune vs AutoTune-RL (fresh and reusing), total and reference rollouts vs 1/eps, per coverage C.
Growing runs (uniform SFT, RLFineTune, and the counterexample variant's ``_oracle`` reading) are read with an
oracle stopping rule: the first evaluation whose held-out accuracy reaches 1 - eps. AutoTune runs once per eps
with that eps as its target, and ``counterexample_sft`` stops by its own verifier-certified rule.
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
from autocurriculum.autotune.plots import plot_scaling
from autocurriculum.core.config import option, require
from autocurriculum.tasks import make_task_family

SFT_METHODS = ("uniform_sft", "autotune_sft", "autotune_sft_reuse", "counterexample_sft", "counterexample_sft_oracle")
RL_METHODS = ("rl_finetune", "autotune_rl", "autotune_rl_reuse")
SFT_LABELS = {
    "uniform_sft": "uniform SFT (oracle stop)",
    "autotune_sft": "AutoTune faithful",
    "autotune_sft_reuse": "AutoTune, learners reuse demos",
    "counterexample_sft": "counterexample (self-stopping)",
    "counterexample_sft_oracle": "counterexample (oracle stop)",
}
METRICS = ("demonstrations", "rollouts", "reference_rollouts", "verifier_calls", "prompts_drawn")


@dataclass
class ScalingConfig:
    sft_eps: list[float] = option([0.2, 0.1, 0.05, 0.02, 0.01, 0.005], "Target errors of the SFT sweep.")
    rl_eps: list[float] = option([0.2, 0.1, 0.05, 0.02, 0.01, 0.005], "Target errors of the RL sweep.")
    coverages: list[float] = option([4, 16, 64, 256], "Coverages C of the RL reference model.")
    seeds: int = option(5, "Seeds 0..seeds-1 (each also redraws the hidden op table).")
    clusters: int = option(128, "Clusters m of the clustered op-chain.")
    steps: int = option(6, "Chain length T.")
    zipf_exponent: float = option(1.1, "Zipf exponent of the cluster distribution (research note: 1.1).")
    rl: bool = option(True, "Run the RL part of the sweep.")
    test_prompts: int = option(20_000, "Held-out prompts for measuring accuracy (not charged).")
    miss_probability: float = option(0.01, "RL: chance a covered correct chain is never sampled (sets m).")
    uniform_growth: float = option(1.02, "Grid ratio of the uniform SFT curve (fine, so its oracle stop is tight).")

    def validate(self) -> None:
        for name in ("sft_eps", "rl_eps"):
            values = getattr(self, name)
            require(bool(values) and all(0 < e < 1 for e in values), name, f"values must be in (0, 1), got {values}")
        require(all(c >= 1 for c in self.coverages), "coverages", f"must be >= 1, got {self.coverages}")
        require(self.seeds >= 1, "seeds", f"must be >= 1, got {self.seeds}")
        require(self.test_prompts >= 100, "test_prompts", f"must be >= 100, got {self.test_prompts}")
        require(self.clusters >= 1, "clusters", f"must be >= 1, got {self.clusters}")
        require(self.uniform_growth > 1, "uniform_growth", f"must be > 1, got {self.uniform_growth}")


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


def faithful_floor(eps: float, clusters: int, zipf_exponent: float, modulus: int = 11) -> int:
    """Fewest demonstrations faithful AutoTune-SFT with fresh tabular learners can need to reach error eps.

    A fresh member that has no demonstration of cluster c predicts the default row (all '+') there, so every
    such member casts the same wrong chain and the right answer wins the vote only if about half the members
    (ceil(k/2)) were shown c. Unshown clusters are still right by chance (about 1/modulus), so the shown
    clusters must carry mass >= 1 - eps * modulus / (modulus - 1); the floor is ceil(k/2) times the fewest
    (most frequent) clusters that carry it. It ignores ambiguous demonstrations and repeats, so it is optimistic.
    """
    from autocurriculum.autotune.weights import choose_k
    from autocurriculum.tasks.clustered_op_chain import zipf_probabilities

    k = choose_k(eps)
    needed_mass = 1 - eps * modulus / (modulus - 1)
    cumulative = np.cumsum(np.sort(zipf_probabilities(clusters, zipf_exponent))[::-1])
    shown = int(np.searchsorted(cumulative, needed_mass - 1e-12) + 1) if needed_mass > 0 else 0
    return math.ceil(k / 2) * min(shown, clusters)


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
    rl_jobs = len(config.coverages) * (1 + 2 * len(config.rl_eps)) if config.rl else 0
    jobs = config.seeds * (2 + 3 * len(config.sft_eps) + rl_jobs)
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
            hardest = 1 - min(config.sft_eps)
            uni = uniform_sft(
                problem(),
                TabularSFTLearner(),
                teacher,
                UniformSFTConfig(max_demos=50_000, growth=config.uniform_growth, target_accuracy=hardest),
                test,
                seed,
            )
            bar.advance(task)
            bar.update(task, description=f"seed {seed}: counterexample SFT, accuracy curve")
            curve = counterexample_sft(
                problem(),
                TabularSFTLearner(),
                teacher,
                CounterexampleConfig(eps=min(config.sft_eps), eval_every=1),
                test,
                seed,
            )
            bar.advance(task)
            for eps in config.sft_eps:
                for method, run in (("uniform_sft", uni), ("counterexample_sft_oracle", curve)):
                    hit = run.first_reaching(1 - eps)
                    sft_points[method][eps].append(_point(hit, hit["accuracy"], True) if hit else None)
            for eps in config.sft_eps:
                for method, reuse in (("autotune_sft", False), ("autotune_sft_reuse", True)):
                    bar.update(task, description=f"seed {seed}: {method} eps={eps}")
                    r = autotune_sft(
                        problem(),
                        TabularSFTLearner(),
                        teacher,
                        AutoTuneConfig(eps=eps, seed=seed, reuse_supervision=reuse),
                        test,
                    )
                    sft_points[method][eps].append({**_point(r.costs, r.accuracy, bool(r.reached_target)), **r.extra})
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
                    for method, reuse in (("autotune_rl", False), ("autotune_rl_reuse", True)):
                        bar.update(task, description=f"seed {seed}: {method} C={coverage:g} eps={eps}")
                        p = problem()
                        r = autotune_rl(
                            p,
                            ReferenceModel(p, coverage, seed),
                            TabularRLLearner(),
                            AutoTuneConfig(eps=eps, seed=seed, reuse_supervision=reuse),
                            test,
                            miss_probability=config.miss_probability,
                        )
                        rl_points[method][coverage][eps].append(_point(r.costs, r.accuracy, bool(r.reached_target)))
                        bar.advance(task)

    sft = {m: {str(e): _summarise(v) for e, v in by_eps.items()} for m, by_eps in sft_points.items()}
    rl = {
        m: {_ckey(c): {str(e): _summarise(v) for e, v in by_eps.items()} for c, by_eps in by_c.items()}
        for m, by_c in rl_points.items()
    }

    def slope_of(table: dict[str, Any], eps_list: list[float], metric: str) -> float | None:
        return fit_slope(eps_list, [_median(table[str(e)], metric) for e in eps_list])

    slopes = {
        f"sft_{metric}": {m: slope_of(sft[m], config.sft_eps, metric) for m in SFT_METHODS}
        for metric in ("demonstrations", "verifier_calls")
    }
    for metric in ("rollouts", "reference_rollouts"):
        slopes[f"rl_{metric}"] = {
            m: {_ckey(c): slope_of(rl[m][_ckey(c)], config.rl_eps, metric) for c in config.coverages}
            for m in RL_METHODS
        }
    result = {
        "config": asdict(config),
        "sft": sft,
        "sft_ratio_to_uniform": {
            m: {str(e): _ratios(sft_points["uniform_sft"][e], sft_points[m][e]) for e in config.sft_eps}
            for m in SFT_METHODS[1:]
        },
        "faithful_floor": {str(e): faithful_floor(e, config.clusters, config.zipf_exponent) for e in config.sft_eps},
        "rl": rl,
        "slopes": slopes,
        "seconds": time.perf_counter() - started,
        "notes": [
            "demonstrations/rollouts/verifier calls: median, min, max over the seeds that reached accuracy 1 - eps",
            "uniform_sft, rl_finetune and counterexample_sft_oracle are read off growing runs with an oracle "
            "stopping rule on the held-out set; evaluation is never charged",
            "sft_ratio_to_uniform: per seed, uniform's demonstrations / the method's, over seeds where both reached",
        ],
    }
    (out / "scaling.json").write_text(json.dumps(result, indent=2))
    plot_scaling(result, out, SFT_LABELS)
    (out / "report.md").write_text(_report(result))
    return result


def _ratios(uniform: list[dict | None], other: list[dict | None]) -> dict[str, Any] | None:
    """Per-seed ratio uniform demonstrations / method demonstrations (seeds where both reached the target)."""
    values = [
        u["demonstrations"] / o["demonstrations"]
        for u, o in zip(uniform, other, strict=True)
        if u is not None and o is not None and u["reached"] and o["reached"] and o["demonstrations"] > 0
    ]
    if not values:
        return None
    return {"median": float(np.median(values)), "min": float(np.min(values)), "max": float(np.max(values))}


def _fmt(stats: dict[str, Any] | None, unit: str = "") -> str:
    if stats is None:
        return "not reached"
    if unit == "x":
        return f"{stats['median']:.1f}x [{stats['min']:.1f}-{stats['max']:.1f}]"
    return f"{stats['median']:,.0f} [{stats['min']:,.0f}-{stats['max']:,.0f}]"


def _cell(summary: dict[str, Any], metric: str) -> str:
    cell = _fmt(summary[metric])
    if summary["seeds_reached"] < summary["seeds"]:
        cell += f" ({summary['seeds_reached']}/{summary['seeds']})"
    return cell


def _slope(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """Markdown table lines."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows),
    ]


def _report(result: dict[str, Any]) -> str:
    cfg = result["config"]
    others = SFT_METHODS[1:]

    def sft_table(metric: str) -> list[str]:
        rows = [[e, *(_cell(result["sft"][m][str(e)], metric) for m in SFT_METHODS)] for e in cfg["sft_eps"]]
        return _table(["eps", *(SFT_LABELS[m] for m in SFT_METHODS)], rows)

    ratios = result["sft_ratio_to_uniform"]
    ratio_rows = [[e, *(_fmt(ratios[m][str(e)], "x") for m in others)] for e in cfg["sft_eps"]]
    slope_rows = [
        [quantity, m, _slope(slope)]
        for quantity in ("sft_demonstrations", "sft_verifier_calls")
        for m, slope in result["slopes"][quantity].items()
    ]
    if cfg["rl"]:
        slope_rows += [
            [f"{quantity} C={float(c):g}", m, _slope(slope)]
            for quantity in ("rl_rollouts", "rl_reference_rollouts")
            for m, by_c in result["slopes"][quantity].items()
            for c, slope in by_c.items()
        ]
    floor = ", ".join(f"{int(v):,} at eps={e}" for e, v in result["faithful_floor"].items())
    lines = [
        "# AutoTune scaling sweep",
        "",
        f"Clustered op-chain, m={cfg['clusters']} clusters, Zipf({cfg['zipf_exponent']}), T={cfg['steps']}, "
        f"{cfg['seeds']} seeds, {cfg['test_prompts']} held-out prompts; {result['seconds']:.0f} s. "
        "Cells: median [min-max] over the seeds that reached accuracy 1 - eps (the count is given when some "
        "did not). Oracle stop = the first evaluation whose held-out accuracy reaches 1 - eps (favours the run).",
        "",
        "## SFT: teacher demonstrations to reach accuracy 1 - eps",
        "",
        *sft_table("demonstrations"),
        "",
        f"Floor for faithful AutoTune with fresh tabular learners, ceil(k/2) x the clusters it must show "
        f"(`faithful_floor`): {floor}.",
        "",
        "## SFT: uniform's demonstrations / the method's (per seed, median [min-max])",
        "",
        *_table(["eps", *(SFT_LABELS[m] for m in others)], ratio_rows),
        "",
        "## SFT: verifier calls",
        "",
        *sft_table("verifier_calls"),
        "",
        "## Fitted log-log slopes (vs 1/eps, medians)",
        "",
        *_table(["quantity", "method", "slope"], slope_rows),
    ]
    if cfg["rl"]:
        lines += [
            "",
            "## RL: rollouts to reach accuracy 1 - eps (total; reference-model rollouts in the second table)",
            "",
        ]
        for metric in ("rollouts", "reference_rollouts"):
            rows = [
                [f"{c:g}", e, *(_cell(result["rl"][m][_ckey(c)][str(e)], metric) for m in RL_METHODS)]
                for c in cfg["coverages"]
                for e in cfg["rl_eps"]
            ]
            lines += [*_table(["C", "eps", *RL_METHODS], rows), ""]
    lines += ["Plots: `sft_demonstrations.png`, `rl_rollouts.png`. Raw numbers: `scaling.json`.", ""]
    return "\n".join(lines)
