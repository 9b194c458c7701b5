"""``report.md`` of a SOAR comparison: the headline first, then the tables a reader checks it against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.core import bootstrap_ci

ARM_LABELS = {
    "base": "base student (warm start, no RL)",
    "hard-only": "Hard-Only (RL on the hard training set alone)",
    "hard-only-4x": "Hard-Only, 4x group (4x compute)",
    "oracle-curriculum": "oracle curriculum (real intermediate problems, true answers)",
    "base-t": "Base-T (questions from the untrained teacher)",
    "intrinsic-t": "Intrinsic-T (teacher trained on learnability)",
    "grounded-t": "Grounded-T (questions sampled from the SOAR teacher)",
    "pq": "PQ (promoted questions, fresh student)",
    "ps": "PS (promoted student, tested directly)",
    "pq-corrupt-30": "PQ, 30% of answers corrupted",
    "pq-corrupt-60": "PQ, 60% of answers corrupted",
    "pq-correct-only": "PQ, only the questions with correct answers",
    "pq-wrong-only": "PQ, only the questions with wrong answers",
}


def headline(summary: dict[str, Any]) -> list[str]:
    """The issue's claim, seed by seed: promotions, and PQ against Hard-Only at the widest pass@k of the same
    teacher seed (a seed without a promotion has no PQ and counts as a miss); then whether the grounded training
    adds to the untrained teacher (Grounded-T against Base-T), as paired differences with a bootstrap interval."""
    top = f"pass@{summary['config']['evaluation']['pass_at'][-1]}"
    lines = []
    grounded = summary["teachers"].get("grounded")
    if grounded:
        promoted = sum(1 for p in grounded["promotions_per_seed"] if p > 0)
        lines.append(
            f"The grounded teacher was promoted in {promoted} of {len(grounded['promotions_per_seed'])} "
            f"seeds (promotions per seed: {grounded['promotions_per_seed']})."
        )
    hard, pq = per_seed_scores(summary, "hard-only", top), per_seed_scores(summary, "pq", top)
    if hard and pq:
        wins = sum(1 for seed, h in hard.items() if seed in pq and pq[seed] > 0 and pq[seed] >= 2 * h)  # 0 vs 0: no
        pairs = ", ".join(
            f"seed {seed} {pq[seed]:.3f} vs {h:.3f}" if seed in pq else f"seed {seed} no PQ vs {h:.3f}"
            for seed, h in hard.items()
        )
        lines.append(
            f"PQ {top} on the hard test set against Hard-Only, per teacher seed: {pairs}. PQ reached at least 2x "
            f"Hard-Only in {wins} of {len(hard)} seeds{_paired_difference(pq, hard)}."
        )
    elif hard:
        lines.append(f"Hard-Only {top}: median {np.median(list(hard.values())):.3f}; no PQ to compare (no promotion).")
    grounded_t, base_t = per_seed_scores(summary, "grounded-t", top), per_seed_scores(summary, "base-t", top)
    if grounded_t and base_t:
        better = sum(1 for seed, b in base_t.items() if seed in grounded_t and grounded_t[seed] > b)
        lines.append(
            f"Grounded-T {top} beat Base-T (the untrained teacher's questions) in {better} of {len(base_t)} seeds"
            f"{_paired_difference(grounded_t, base_t)}."
        )
    return lines


def per_seed_scores(summary: dict[str, Any], arm: str, metric: str) -> dict[int, float]:
    """``{teacher seed: score}`` of one arm, from the per-seed results (an arm skipped on a seed is absent)."""
    return {s["seed"]: float(s["arms"][arm][metric]) for s in summary["per_seed"] if metric in s["arms"].get(arm, {})}


def _paired_difference(first: dict[int, float], second: dict[int, float]) -> str:
    """'; difference per seed, median D [95% bootstrap CI lo, hi] over n seeds' on the seeds both arms have
    (empty if none)."""
    differences = [first[seed] - second[seed] for seed in second if seed in first]
    if not differences:
        return ""
    low, high = bootstrap_ci(differences)
    return (
        f"; difference per seed, median {np.median(differences):+.3f} [95% bootstrap CI {low:+.3f}, {high:+.3f}] "
        f"over {len(differences)} seeds"
    )


def write_report(summary: dict[str, Any], out: Path) -> None:
    arms, ks = summary["arms"], [f"pass@{k}" for k in summary["config"]["evaluation"]["pass_at"]]
    budget = summary["evaluation_budget"]
    lines = ["# SOAR on the testbed", "", *headline(summary), ""]
    lines += [
        f"Teacher seeds: {summary['seeds']}. Every evaluated arm trains {budget['student_seeds']} fresh "
        f"warm-started student(s) per teacher seed (scores averaged) for {budget['grpo_steps']} GRPO steps of "
        f"{budget['prompts_per_step']} prompts x {budget['group_size']} rollouts "
        "(Hard-Only 4x: 4x the group), first on its questions, then on the hard training set; scores are on the hard "
        "test set, which the teacher never influences. Wall time "
        f"{summary['wall_seconds']:.0f} s.",
        "",
        *_merged_from(summary),
        "| arm | "
        + " | ".join(f"{k} median [min-max]" for k in ks)
        + " | hard-train greedy | diversity (bits) | Vendi score |",
        "|---|" + "---|" * (len(ks) + 3),
    ]
    for arm, entry in arms.items():
        cells = [_cell(entry.get(k)) for k in ks] + [
            _cell(entry.get("hard_train_greedy")),
            _cell(entry.get("diversity_bits"), digits=2),
            _cell(entry.get("vendi_score"), digits=1),
        ]
        lines.append(f"| {ARM_LABELS.get(arm, arm)} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| teacher | promotions per seed | collapse rate | final diversity per seed | final Vendi score per seed | "
        "student rollouts |",
        "|---|---|---|---|---|---|",
    ]
    for reward, entry in summary["teachers"].items():
        diversity = ", ".join("-" if d is None else f"{d:.2f}" for d in entry["final_diversity_bits_per_seed"])
        vendi = ", ".join("-" if v is None else f"{v:.1f}" for v in entry.get("final_vendi_score_per_seed", []))
        lines.append(
            f"| {reward} | {entry['promotions_per_seed']} | {entry['collapse_rate']:.2f} | {diversity} | {vendi} | "
            f"{entry['student_rollouts_per_seed']} |"
        )
    lines += [
        "",
        "Plots: `teacher_reward.png`, `pass_at_k.png`, `diversity.png`. Question sets: "
        "`seed-*/questions-<arm>.jsonl`, `seed-*/promoted.jsonl`"
        + (" in the seed directories above." if "seed_dirs" in summary else "."),
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))


def _merged_from(summary: dict[str, Any]) -> list[str]:
    """For a summary merged from several runs (``soar report``): where each seed was run, and each run's own wall
    time (the total above adds them up, also where runs shared the machine)."""
    if "merged_from" not in summary:
        return []
    runs = ", ".join(f"`{run}` ({seconds:.0f} s)" for run, seconds in summary["merged_from"].items())
    seeds = ", ".join(f"{seed}: `{path}`" for seed, path in summary["seed_dirs"].items())
    return [f"Merged from the runs {runs}. Seed directories: {seeds}.", ""]


def _cell(stats: dict[str, Any] | None, digits: int = 3) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.{digits}f} [{stats['min']:.{digits}f}-{stats['max']:.{digits}f}]"
