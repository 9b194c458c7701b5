"""SOAR round-6 diagnostic (docs/soar.md): how far real stepping stones move a base student's frontier.

GRPO on 128 real op_chain problems of levels 5-7 (true answers, the oracle curriculum's levels), batch 8, the
student's GRPO settings, each question scored by its final answer or by its whole written solution
(``--scoring``, the two values of ``teacher.answer_scoring``). At every checkpoint it prints the sampled success
of the whole trace (temperature 1) on fresh problems of levels 5-10, the levels the hard set is drawn from, and the
share of zero-variance groups since the last checkpoint. No teacher is involved: this is the ceiling of what a
perfect teacher's questions could do within the evaluation's synthetic phase.

It also prints, per level, the share of samples that are solution-shaped (one state per operation, ``|``, a digit;
right or wrong): what ``student.format_credit`` rewards (round 8).

With ``--plurality K`` it also prints, per level, how often the most frequent of K sampled solutions is the true
one: what a teacher that answers its own questions by a plurality vote over K of its samples would get right (the
teacher is a copy of this student; ties go to the solution sampled first).

Run: python benchmarks/soar_frontier.py --student-seed 0 --scoring trace --checkpoints 0,64,192,320
     python benchmarks/soar_frontier.py --student-seed 4 --checkpoints 0 --plurality 8
About 1 minute per 64 steps and per checkpoint on one core (the base student is the shipped one, no warm start).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence

import torch

from autocurriculum.core import Task, build_config
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.experiments.warm_start import warm_start
from autocurriculum.soar import SOARConfig
from autocurriculum.soar.grammar import QuestionFormat
from autocurriculum.soar.student import (
    grpo_run,
    question_reward,
    solution_shape_reward,
    success_counts,
    trace_reward,
)
from autocurriculum.trainers import TinyGPT, generate

STONE_LEVELS, TEST_LEVELS = (5, 6, 7), (5, 6, 7, 8, 9, 10)
STONES, TEST_PER_LEVEL, SAMPLES, BATCH = 128, 64, 16, 8


def plurality_votes(
    model: TinyGPT, testbed: Testbed, tasks: Sequence[Task], votes: int, generator: torch.Generator
) -> list[tuple[bool, int]]:
    """Per task: is the most frequent of ``votes`` sampled completions (temperature 1) the true trace, and how many
    of the samples agree with it."""
    prompts = [t.prompt for t in tasks for _ in range(votes)]
    with torch.no_grad():
        texts = generate(model, testbed.tokenizer, prompts, testbed.max_new_tokens, 1.0, generator=generator).texts
    out = []
    for i, task in enumerate(tasks):
        winner, count = Counter(c.strip() for c in texts[i * votes : (i + 1) * votes]).most_common(1)[0]
        out.append((winner == task.demonstration, count))
    return out


def plurality_summary(results: list[tuple[bool, int]], votes: int) -> dict[str, float]:
    """How often the plurality is right; and among the problems where a majority (> votes / 2) agrees, their share
    and how often that majority is right (a self-consistency filter a teacher could apply to its own questions)."""
    agreed = [right for right, count in results if count > votes / 2]
    return {
        "right": round(sum(r for r, _ in results) / len(results), 3),
        "majority_share": round(len(agreed) / len(results), 3),
        "majority_right": round(sum(agreed) / len(agreed), 3) if agreed else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student-seed", type=int, default=0, help="the shipped base student (student.seed)")
    parser.add_argument("--scoring", choices=["final", "trace"], default="trace")
    parser.add_argument("--checkpoints", default="0,64,192,320", help="GRPO steps at which to measure, ascending")
    parser.add_argument("--seed", type=int, default=0, help="seed of the GRPO run and of the sampling")
    parser.add_argument("--plurality", type=int, default=0, help="also measure a plurality vote over K samples")
    args = parser.parse_args()
    checkpoints = [int(v) for v in args.checkpoints.split(",")]
    if checkpoints != sorted(checkpoints) or checkpoints[0] < 0:
        parser.error(f"--checkpoints must be ascending and >= 0, got {args.checkpoints}")
    torch.set_num_threads(1)

    student = build_config(SOARConfig, {"student": {"seed": args.student_seed}}).student
    testbed = Testbed(student.testbed, student.seed, model=student.model, warm_start=student.warm_start)
    model, _ = warm_start(testbed, student.sft)
    family = testbed.families[0]
    # indices far from the pools' and the hard set's, so the test problems are fresh
    stones = [family.generate(STONE_LEVELS[i % 3], 7_000_000 + i) for i in range(STONES)]
    tests = {lv: [family.generate(lv, 8_000_000 + 1_000 * lv + i) for i in range(TEST_PER_LEVEL)] for lv in TEST_LEVELS}
    reward, trace = question_reward(testbed, args.scoring), trace_reward(testbed)
    shaped = solution_shape_reward(QuestionFormat(family.config))

    done = 0
    for step in checkpoints:
        stats = grpo_run(model, testbed, student.grpo, stones, step - done, BATCH, reward, seed=args.seed * 997 + step)
        done = step
        generator = torch.Generator().manual_seed(args.seed)
        success = {
            f"L{lv}": round(
                float(success_counts(model, testbed, tasks, SAMPLES, 1.0, trace, generator).mean()) / SAMPLES, 3
            )
            for lv, tasks in tests.items()
        }
        shape = {
            f"L{lv}": round(
                float(success_counts(model, testbed, tasks, SAMPLES, 1.0, shaped, generator).mean()) / SAMPLES, 3
            )
            for lv, tasks in tests.items()
        }
        row = {
            "student_seed": args.student_seed,
            "scoring": args.scoring,
            "steps": step,
            "trace_success": success,
            "solution_shaped": shape,
        }
        if stats.steps:
            row["zero_variance_fraction"] = round(stats.zero_variance_fraction, 3)
        if args.plurality:
            row[f"plurality_of_{args.plurality}"] = {
                f"L{lv}": plurality_summary(
                    plurality_votes(model, testbed, tasks, args.plurality, generator), args.plurality
                )
                for lv, tasks in tests.items()
            }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
