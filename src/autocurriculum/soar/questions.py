"""Question sets: the promoted questions as a ``TaskSource``, their JSONL files, and their diversity.

A promoted set is what SOAR hands a user with a real model: ``promoted_pool(path)`` is a ``TaskPool`` any strategy,
the TRL adapter or ``GRPOTrainer`` can train on (each task's answer is the teacher's, unverified).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.core import Task, TaskPool, vendi_score
from autocurriculum.soar.grammar import ParsedQuestion, QuestionFormat
from autocurriculum.tasks.datasets import DatasetFormatError
from autocurriculum.tasks.op_chain import SEPARATOR

QUESTION_FIELDS = ("question", "answer", "level", "operators")  # and "solution", where the teacher wrote one


def question_record(question: ParsedQuestion, **extra: Any) -> dict[str, Any]:
    record = {
        "question": question.question,
        "answer": question.answer,
        "level": question.level,
        "operators": question.operators,
    }
    if question.solution is not None:
        record["solution"] = question.solution
    return {**record, **extra}


def write_questions(path: Path, questions: Iterable[ParsedQuestion], **extra: Any) -> None:
    with open(path, "w") as handle:
        for question in questions:
            handle.write(json.dumps(question_record(question, **extra)) + "\n")


def read_questions(path: Path, question_format: QuestionFormat | None = None) -> list[ParsedQuestion]:
    """Questions from a JSONL file; a malformed row is an error naming the file, the line and the field."""
    questions = []
    with open(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetFormatError(f"{path}:{number}: not valid JSON ({exc.msg})") from None
            missing = [f for f in QUESTION_FIELDS if f not in row] if isinstance(row, dict) else list(QUESTION_FIELDS)
            if missing:
                raise DatasetFormatError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
            solution = row.get("solution")
            parsed = ParsedQuestion(
                str(row["question"]),
                str(row["answer"]),
                int(row["level"]),
                str(row["operators"]),
                None if solution is None else str(solution),
            )
            if parsed.solution is not None and parsed.solution.rpartition(SEPARATOR)[2].strip() != parsed.answer:
                raise DatasetFormatError(
                    f"{path}:{number}: field 'solution' does not end in '{SEPARATOR}' and the answer "
                    f"{parsed.answer!r}: {parsed.solution!r}"
                )
            if question_format is not None:
                _check_format(question_format, parsed, f"{path}:{number}")
            questions.append(parsed)
    return questions


def _check_format(question_format: QuestionFormat, question: ParsedQuestion, where: str) -> None:
    level = question_format.level_of(question.question)
    if level is None:
        raise DatasetFormatError(f"{where}: field 'question' is not a well-formed question: {question.question!r}")
    if question_format.parse(question.question, question.solution or question.answer) is None:
        if question_format.written_solution:  # teacher.answer_scoring 'trace' scores the student against it
            raise DatasetFormatError(
                f"{where}: field 'solution' must be a solution of the question's {level} operation(s) "
                f"('state,...,state|answer') where questions are scored on it, got {question.solution!r}"
            )
        raise DatasetFormatError(f"{where}: field 'answer' is not an answer digit: {question.answer!r}")


def question_pool(questions: Sequence[ParsedQuestion], category: str = "op_chain") -> TaskPool:
    """The questions as a ``TaskPool`` (a ``TaskSource``); repeated question-answer pairs appear once."""
    tasks: dict[str, Task] = {}
    for question in questions:
        task = question.task(category)
        tasks.setdefault(task.task_id, task)
    return TaskPool(tasks.values())


def promoted_pool(path: Path, category: str = "op_chain") -> TaskPool:
    """``promoted.jsonl`` of a SOAR run as a ``TaskPool``."""
    return question_pool(read_questions(Path(path)), category)


def diversity_bits(questions: Sequence[ParsedQuestion]) -> float:
    """Shannon entropy (bits) of the questions over (level, operator set) cells; 0 for a collapsed teacher."""
    counts = Counter(q.cell for q in questions)
    total = float(sum(counts.values()))
    if total == 0:
        return 0.0
    return float(-sum((c / total) * math.log2(c / total) for c in counts.values()))


def question_vendi(questions: Sequence[ParsedQuestion]) -> float:
    """Vendi score of the question strings on one-hot features per character position: the effective number of
    distinct questions, where two questions are as similar as the share of positions they agree on. Unlike
    ``diversity_bits`` it sees near-copies inside one (level, operator set) cell; 0 for no questions."""
    if not questions:
        return 0.0
    width = max(len(q.question) for q in questions)
    alphabet = {char: i for i, char in enumerate(sorted({c for q in questions for c in q.question}))}
    features = np.zeros((len(questions), width * len(alphabet)))
    for row, question in enumerate(questions):
        for position, char in enumerate(question.question):
            features[row, position * len(alphabet) + alphabet[char]] = 1.0
    return vendi_score(features)
