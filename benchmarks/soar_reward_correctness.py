"""Can the grounded reward tell right answers from wrong ones? (docs/soar.md, "Does the reward see wrong answers")

Round 5's promoted sets had 63-78% right answers, no more than the teacher writes on average, and PQ's correct-only
subset trained students twice as well as the whole sets. This measures the reward the loop itself computes
(`SOARLoop._grounded_rewards`, round 5's config: sampled success on Q_R after a 20-step probe) on sets of real
stepping stones (levels 5-7, true answers) with a fraction of their answers replaced by a random wrong digit. The
same questions and the same inner-run seeds are used at every corruption level, so the differences are paired.

Printed per corruption level: the mean reward, and for r = 2 and r = 4 runs per set the standard deviation of a
set's reward over sets and the share of paired comparisons that rank the clean set above its corrupted copy.

Run: python benchmarks/soar_reward_correctness.py [--sets 6 --runs 4 --corruption 0,0.33,0.67]
About 8 minutes on one core once the warm start is cached (the first run adds the warm start and the fail@128 hard set).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import yaml

from autocurriculum.core import build_config
from autocurriculum.soar import SOARConfig, build_setup
from autocurriculum.soar.evaluation import corrupt_answers
from autocurriculum.soar.loop import SOARLoop
from autocurriculum.soar.teacher import CallableQuestionTeacher

CONFIG = Path(__file__).with_name("soar_student_operators.yaml")
QUESTIONS_PER_SET, REWARD_QUESTIONS = 32, 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", type=int, default=6, help="question sets per corruption level")
    parser.add_argument("--runs", type=int, default=4, help="inner runs r per set (subsampled to 2 as well)")
    parser.add_argument("--corruption", default="0,0.33,0.67", help="comma-separated fractions of wrong answers")
    parser.add_argument("--out", type=Path, default=Path("runs/soar-reward-correctness.jsonl"))
    args = parser.parse_args()
    fractions = [float(v) for v in args.corruption.split(",")]
    torch.set_num_threads(1)

    raw = yaml.safe_load(CONFIG.read_text())
    raw.setdefault("inner", {})["runs"] = args.runs
    config = build_config(SOARConfig, raw)
    setup = build_setup(config)
    family, modulus = setup.testbed.families[0], setup.family_config.modulus
    # The loop never calls the teacher in _grounded_rewards; a callable that writes nothing stands in for it.
    loop = SOARLoop(setup, CallableQuestionTeacher(lambda prompt: "", prompt="C"))
    rng = np.random.default_rng(7)
    train = setup.hard_set.train
    reward_questions = [train[int(r)] for r in rng.choice(len(train), size=REWARD_QUESTIONS, replace=False)]

    clean_sets = []
    for k in range(args.sets):
        tasks = [family.generate(5 + i % 3, 9_000_000 + 100 * k + i) for i in range(QUESTIONS_PER_SET)]
        parsed = [setup.question_format.parse(task.prompt, task.answer) for task in tasks]
        if any(q is None for q in parsed):
            raise RuntimeError("a real level 5-7 question failed the format filter")
        clean_sets.append(parsed)

    gains: dict[float, np.ndarray] = {}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as out:
        for fraction in fractions:
            # The project's own corruption (the PQ corruption arms), set k seeded with k at every level.
            sets = [corrupt_answers(questions, fraction, modulus, seed=k) for k, questions in enumerate(clean_sets)]
            # t = 0 for every level: the same probe seeds, inner-run seeds and sampling stream (paired).
            rewards, runs, before = loop._grounded_rewards(sets, reward_questions, t=0)
            gains[fraction] = np.array([run_gains for _, run_gains in runs])  # [sets, runs]
            record = {
                "wrong_fraction": fraction,
                "baseline_success": round(before, 4),
                "set_rewards": [round(float(r), 4) for r in rewards],
                "run_gains": gains[fraction].round(4).tolist(),
            }
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(json.dumps(record), flush=True)

    clean = gains[fractions[0]]
    for fraction in fractions:
        row: dict[str, float | str] = {
            "wrong_fraction": fraction,
            "mean_reward": round(float(gains[fraction].mean()), 4),
            "runs_with_zero_gain": round(float((gains[fraction] == 0).mean()), 2),
        }
        for r in sorted({2, args.runs}):
            per_set = gains[fraction][:, :r].mean(axis=1)
            row[f"sd_over_sets_r{r}"] = round(float(per_set.std(ddof=1)), 4)
            if fraction != fractions[0]:
                difference = clean[:, :r].mean(axis=1) - per_set
                row[f"clean_ranked_higher_r{r}"] = f"{int((difference > 0).sum())}/{len(difference)}"
                row[f"paired_difference_r{r}"] = round(float(difference.mean()), 4)
        print(json.dumps({"summary": row}), flush=True)


if __name__ == "__main__":
    main()
