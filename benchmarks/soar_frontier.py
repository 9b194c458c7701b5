"""SOAR round-6 diagnostic (docs/soar.md): how far real stepping stones move a base student's frontier.

GRPO on 128 real op_chain problems of levels 5-7 (true answers, the oracle curriculum's levels), batch 8, the
student's GRPO settings, each question scored by its final answer or by its whole written solution
(``--scoring``, the two values of ``teacher.answer_scoring``). At every checkpoint it prints the sampled success
of the whole trace (temperature 1) on fresh problems of levels 5-10, the levels the hard set is drawn from, and the
share of zero-variance groups since the last checkpoint. No teacher is involved: this is the ceiling of what a
perfect teacher's questions could do within the evaluation's synthetic phase.

Run: python benchmarks/soar_frontier.py --student-seed 0 --scoring trace --checkpoints 0,64,192,320
About 1 minute per 64 steps and per checkpoint on one core (the base student is the shipped one, no warm start).
"""

from __future__ import annotations

import argparse
import json

import torch

from autocurriculum.core import build_config
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.experiments.warm_start import warm_start
from autocurriculum.soar import SOARConfig
from autocurriculum.soar.student import grpo_run, question_reward, success_counts, trace_reward

STONE_LEVELS, TEST_LEVELS = (5, 6, 7), (5, 6, 7, 8, 9, 10)
STONES, TEST_PER_LEVEL, SAMPLES, BATCH = 128, 64, 16, 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--student-seed", type=int, default=0, help="the shipped base student (student.seed)")
    parser.add_argument("--scoring", choices=["final", "trace"], default="trace")
    parser.add_argument("--checkpoints", default="0,64,192,320", help="GRPO steps at which to measure, ascending")
    parser.add_argument("--seed", type=int, default=0, help="seed of the GRPO run and of the sampling")
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
        row = {"student_seed": args.student_seed, "scoring": args.scoring, "steps": step, "trace_success": success}
        if stats.steps:
            row["zero_variance_fraction"] = round(stats.zero_variance_fraction, 3)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
