"""``report.md`` of a SOAR comparison: the headline first, then the tables a reader checks it against."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    arms, ks = summary["arms"], [f"pass@{k}" for k in summary["config"]["evaluation"]["pass_at"]]
    top = ks[-1]
    lines = []
    hard = arms.get("hard-only", {}).get(top)
    pq = arms.get("pq", {}).get(top)
    grounded = summary["teachers"].get("grounded")
    if grounded:
        promoted = sum(1 for p in grounded["promotions_per_seed"] if p > 0)
        lines.append(
            f"The grounded teacher was promoted in {promoted} of {len(grounded['promotions_per_seed'])} "
            f"seeds (promotions per seed: {grounded['promotions_per_seed']})."
        )
    if hard and pq:
        pairs = list(zip(pq["per_seed"], hard["per_seed"], strict=False))
        wins = sum(1 for p, h in pairs if p > 0 and p >= 2 * h)  # 0 against 0 is no win
        lines.append(
            f"PQ {top} on the hard test set: median {pq['median']:.3f} vs Hard-Only {hard['median']:.3f}; "
            f"PQ reached at least 2x Hard-Only in {wins} of {len(pairs)} seeds."
        )
    elif hard:
        lines.append(f"Hard-Only {top}: median {hard['median']:.3f}; no PQ to compare (no promotion).")
    return lines


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
        "`seed-*/questions-<arm>.jsonl`, `seed-*/promoted.jsonl`.",
        "",
    ]
    (out / "report.md").write_text("\n".join(lines))


def _cell(stats: dict[str, Any] | None, digits: int = 3) -> str:
    if not stats:
        return "-"
    return f"{stats['median']:.{digits}f} [{stats['min']:.{digits}f}-{stats['max']:.{digits}f}]"
