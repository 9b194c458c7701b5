"""SOAR round-9 diagnostic (docs/soar.md): how often the pretrained teacher's own answers are right, per level.

Builds the config's setup (base student, hard set) and pretrained teacher, samples well-formed questions from it
(temperature 1, the format filter resampling malformed ones, as the loop does) and prints, per level, how many it
wrote and the share whose answer digit and whose whole written solution are right. The loop never checks answers;
this is what it cannot see. ``teacher.pretrain_answers`` decides what the teacher learned to answer from: its own
samples (``self``, the paper) or the grammar's solutions (``grammar``).

Run: python benchmarks/soar_teacher_answers.py --config benchmarks/soar_grammar_teacher.yaml
     python benchmarks/soar_teacher_answers.py --config benchmarks/soar_grammar_teacher.yaml --answers self
About 2 minutes on one core (the warm start is cached; the teacher's SFT takes most of it).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import torch
import yaml

from autocurriculum.core import build_config, merge_values
from autocurriculum.soar import SOARConfig, build_setup
from autocurriculum.soar.loop import write_well_formed

QUESTIONS, SAMPLE_SEED = 512, (11, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="SOAR config (YAML)")
    parser.add_argument("--answers", choices=["self", "grammar"], help="override teacher.pretrain_answers")
    parser.add_argument("--wrong-solution-fraction", type=float, help="override grammar.wrong_solution_fraction")
    args = parser.parse_args()
    torch.set_num_threads(1)

    overrides: dict = {"teacher": {}}
    if args.answers is not None:
        overrides["teacher"]["pretrain_answers"] = args.answers
    if args.wrong_solution_fraction is not None:
        overrides["teacher"]["grammar"] = {"wrong_solution_fraction": args.wrong_solution_fraction}
    config = build_config(SOARConfig, merge_values(yaml.safe_load(args.config.read_text()), overrides))
    setup = build_setup(config)
    teacher = setup.pretrained_teacher()
    question_format = setup.question_format
    _, questions, written, well_formed = write_well_formed(
        teacher, question_format, QUESTIONS, SAMPLE_SEED, config.teacher.max_resample_rounds
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # level -> questions, answer right, trace right
    for question in questions:
        row = counts[question.level]
        row[0] += 1
        row[1] += question.answer == question_format.true_answer(question)
        row[2] += question.solution == question_format.true_solution(question)
    total = [sum(row[i] for row in counts.values()) for i in range(3)]
    print(
        json.dumps(
            {
                "pretrain_answers": config.teacher.pretrain_answers,
                "wrong_solution_fraction": config.teacher.grammar.wrong_solution_fraction,
                "well_formed": round(well_formed / written, 3),
                "answer_right": round(total[1] / total[0], 3),
                "trace_right": round(total[2] / total[0], 3),
            }
        )
    )
    print("level  questions  answer right  trace right")
    for level in sorted(counts):
        n, answer, trace = counts[level]
        print(f"L{level:<5} {n:>9}  {answer / n:>12.2f}  {trace / n:>11.2f}")


if __name__ == "__main__":
    main()
