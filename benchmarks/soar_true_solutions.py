"""SOAR round 6 (docs/soar.md): a question set with every answer and written solution replaced by the true ones.

Evaluating the result (`autocurriculum soar evaluate OUT --config ... --seed S`) separates what the teacher's
questions are worth as questions (levels, operators: the structure) from what its wrong solutions cost.

Run: python benchmarks/soar_true_solutions.py runs/.../seed-0/questions-base-t.jsonl runs/truth/base-t-seed0-true.jsonl
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from autocurriculum.soar.grammar import ParsedQuestion, true_states
from autocurriculum.soar.questions import read_questions, write_questions
from autocurriculum.tasks.op_chain import OpChainConfig, op_chain_demonstration


def with_true_solution(question: ParsedQuestion, modulus: int) -> ParsedQuestion:
    states = true_states(question, modulus)
    return dataclasses.replace(question, answer=str(states[-1]), solution=op_chain_demonstration(states))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", type=Path, help="a question JSONL (questions-<arm>.jsonl, promoted.jsonl)")
    parser.add_argument("out", type=Path, help="where to write the set with true solutions")
    args = parser.parse_args()
    questions = read_questions(args.questions)
    corrected = [with_true_solution(q, OpChainConfig().modulus) for q in questions]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_questions(args.out, corrected)
    changed = sum(a != b for a, b in zip(questions, corrected, strict=True))
    print(f"{args.out}: {len(corrected)} questions, {changed} solutions corrected")


if __name__ == "__main__":
    main()
