"""SOAR round-4 calibration (docs/soar.md): the grounded reward of a question set with and without a probe of
GRPO steps on the reward questions Q_R, for real stepping stones (levels 5-7, true answers) and for sets the
untrained teacher writes. Reward = sampled success on Q_R after (inner steps on the set [+ probe]) minus the
baseline's after the same probe; 2 runs per set, as the loop measures it. Questions are scored by the config's
``teacher.answer_scoring``.

Run: python benchmarks/soar_probe_calibration.py --sets real --probe-steps 0,20   (and --sets teacher)
About 3 minutes per kind on one core, after the setup (warm start cached, hard set, teacher pretraining).
Round 6: --config benchmarks/soar_shipped_student.yaml --sets real --probe-steps 20 --inner-steps 10,40
Round 7: --sets self-solved: the real sets' questions with solutions sampled from the base student (temperature 1,
resampled until solution-shaped), i.e. what the teacher, a copy of the student, would write if it chose the oracle
curriculum's questions: the best sets a teacher that does not verify its answers can be expected to write.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import yaml

from autocurriculum.core import Task, build_config, derive_seed
from autocurriculum.soar import SOARConfig, SOARSetup, build_setup
from autocurriculum.soar.grammar import ParsedQuestion
from autocurriculum.soar.loop import write_well_formed
from autocurriculum.soar.student import hard_problem_reward, success_counts, trained_copy
from autocurriculum.trainers import TinyGPT, generate

CONFIG = Path(__file__).with_name("soar_sampled_reward.yaml")
SETS, QUESTIONS_PER_SET, REWARD_QUESTIONS, RUNS, SAMPLES = 6, 32, 64, 2, 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", choices=["real", "self-solved", "teacher"], default="real")
    parser.add_argument("--probe-steps", default="0,20", help="comma-separated probe lengths to compare")
    parser.add_argument("--inner-steps", default="10", help="comma-separated inner-run lengths to compare")
    parser.add_argument("--config", type=Path, default=CONFIG, help="SOAR config (YAML) of the loop measured")
    args = parser.parse_args()
    probes = [int(v) for v in args.probe_steps.split(",")]
    inner_lengths = [int(v) for v in args.inner_steps.split(",")]
    torch.set_num_threads(1)

    config = build_config(SOARConfig, yaml.safe_load(args.config.read_text()))
    setup = build_setup(config)
    testbed, grpo, family = setup.testbed, config.student.grpo, setup.testbed.families[0]
    # measured by success, trained with the student's training rewards (student.format_credit), as the loop does
    hard_reward = hard_problem_reward(testbed, config.hard_set.scoring)
    hard_training_reward, question_training_reward = setup.hard_training_reward(), setup.question_training_reward()
    rng = np.random.default_rng(7)
    train = setup.hard_set.train
    reward_questions = [train[int(r)] for r in rng.choice(len(train), size=REWARD_QUESTIONS, replace=False)]
    batch = config.inner.prompts_per_step

    def sampled_success(model, run: int) -> float:
        generator = torch.Generator().manual_seed(derive_seed(99, run))
        counts = success_counts(model, testbed, reward_questions, SAMPLES, 1.0, hard_reward, generator)
        return float(counts.mean() / SAMPLES)

    def probed(model, steps: int, run: int):
        return trained_copy(
            model, testbed, grpo, reward_questions, steps, batch, hard_training_reward, derive_seed(5, steps, run)
        )[0]

    base = setup.fresh_student()
    controls = {h: [sampled_success(probed(base, h, j), j) for j in range(RUNS)] for h in probes}
    print(json.dumps({"sets": "baseline (probe only)", "success_by_probe": controls}), flush=True)
    teacher = setup.pretrained_teacher() if args.sets == "teacher" else None
    for k in range(SETS):
        if teacher is None:
            tasks = [family.generate(5 + i % 3, 9_000_000 + 100 * k + i) for i in range(QUESTIONS_PER_SET)]
            if args.sets == "self-solved":
                tasks, right = self_solved(base, setup, tasks, torch.Generator().manual_seed(derive_seed(11, k)))
                print(json.dumps({"sets": args.sets, "set": k, "solutions_right": right}), flush=True)
        else:
            _, questions, _, _ = write_well_formed(
                teacher, setup.question_format, QUESTIONS_PER_SET, (0, 1000 + k, 1), config.teacher.max_resample_rounds
            )
            tasks = [q.task(family.name) for q in questions[:QUESTIONS_PER_SET]]
        rewards = {}
        for steps in inner_lengths:
            gains: dict[int, list[float]] = {h: [] for h in probes}
            for j in range(RUNS):  # one inner run, measured after every probe length
                inner, _ = trained_copy(
                    base, testbed, grpo, tasks, steps, batch, question_training_reward, derive_seed(3, k, j)
                )
                for h in probes:
                    gains[h].append(sampled_success(probed(inner, h, j), j) - controls[h][j])
            for h in probes:
                rewards[f"inner {steps}, probe {h}"] = round(float(np.mean(gains[h])), 4)
        print(json.dumps({"sets": args.sets, "set": k, "reward": rewards}), flush=True)


def self_solved(
    model: TinyGPT, setup: SOARSetup, tasks: list[Task], generator: torch.Generator, tries: int = 8
) -> tuple[list[Task], float]:
    """The tasks with the student's own sampled solutions (temperature 1) as reference, each resampled up to
    ``tries`` times until it parses as a solution of the question's length; returns them and the share that is right."""
    testbed, question_format = setup.testbed, setup.question_format
    solved: dict[int, ParsedQuestion] = {}
    for _ in range(tries):
        pending = [i for i in range(len(tasks)) if i not in solved]
        if not pending:
            break
        with torch.no_grad():
            texts = generate(
                model,
                testbed.tokenizer,
                [tasks[i].prompt for i in pending],
                testbed.max_new_tokens,
                1.0,
                generator=generator,
            ).texts
        for i, text in zip(pending, texts, strict=True):
            parsed = question_format.parse(tasks[i].prompt, text.strip())
            if parsed is not None and parsed.solution is not None:
                solved[i] = parsed
    kept = [solved[i] for i in sorted(solved)]
    right = sum(q.solution == tasks[i].demonstration for i, q in sorted(solved.items()))
    return [q.task(testbed.families[0].name) for q in kept], round(right / max(len(kept), 1), 3)


if __name__ == "__main__":
    main()
