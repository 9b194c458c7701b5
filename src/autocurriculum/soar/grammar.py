"""What the teacher writes, the noisy grammar it learns to write questions from, and the format filter.

The teacher starts from the base model, as in SOAR (teacher and student are copies of one model): here the
warm-started testbed student. A teacher rollout has two parts, both written by the teacher:
  - a question, continuing the prompt ``C``: an op_chain prompt of the student's family (``C3+4-2......=``: a start
    digit, 1 to ``max_length`` operations, ``..`` padding to the fixed length, ``=``);
  - an answer: the teacher's own solution of its question (scratchpad, ``|``, answer digit), so the answers are as
    good as the base model's solving and are never checked against the true result (SOAR's unverified answers).
The format filter rejects a question not of that shape or a solution without a parseable answer digit; the loop
resamples them (``docs/soar.md`` says why this keeps the RLOO gradient unbiased).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from autocurriculum.core import Task
from autocurriculum.core.config import require
from autocurriculum.soar.config import GrammarConfig, TeacherConfig
from autocurriculum.tasks.op_chain import (
    FILLER,
    OPERATORS,
    PREFIX,
    SEPARATOR,
    STATE_SEPARATOR,
    OpChainConfig,
    op_chain_demonstration,
    op_chain_prompt,
    op_chain_states,
)
from autocurriculum.verifiers import FinalAnswerVerifier

# The teacher's whole instruction is the first character of every question ("write a problem"): no seed questions,
# since with seeds the paper's teacher copies them.
TEACHER_PROMPT = PREFIX
QUESTION_END = "="  # a question ends at its first '='; what the teacher writes after it is its answer
ANSWER_VERIFIER = FinalAnswerVerifier(SEPARATOR)


@dataclass(frozen=True)
class ParsedQuestion:
    """A well-formed teacher rollout: the question and the teacher's (unverified) answer digit."""

    question: str  # the op_chain prompt, exactly as the student sees it
    answer: str
    level: int  # number of operations
    operators: str  # the operators used, in order
    solution: str | None = None  # the teacher's whole written solution (scratchpad, '|', answer), if it wrote one

    def task(self, category: str = "op_chain") -> Task:
        """The question as a task of the student's family whose reference answer is the teacher's.

        The category is the family's, so any verifier lookup by category (the TRL adapter's) scores it; the id
        prefix and the ``synthetic`` knob say where it came from.
        """
        key = f"{self.question}|{self.answer}" + ("" if self.solution is None else f"|{self.solution}")
        digest = hashlib.sha1(key.encode()).hexdigest()[:12]
        return Task(
            task_id=f"soar/{digest}",
            prompt=self.question,
            answer=self.answer,
            category=category,
            demonstration=self.solution,
            knobs={"level": float(self.level), "synthetic": 1.0},
        )

    @property
    def cell(self) -> tuple[int, str]:
        """(level, sorted operator set): the cell of the diversity entropy."""
        return self.level, "".join(sorted(set(self.operators)))


class QuestionFormat:
    """The format filter for one student family: which questions are well-formed, which answers parse.

    With ``written_solution`` (``teacher.answer_scoring: trace``, where the student is scored against the teacher's
    whole solution) the answer must also be a solution of the student's shape: one state per operation, ``|``, the
    answer digit. A bare digit or a scratchpad of another length could never be matched, so it counts as malformed
    and is resampled, like an answer Math-Verify cannot parse. Its states are not checked: answers stay unverified.
    """

    def __init__(self, family: OpChainConfig, written_solution: bool = False) -> None:
        require(
            family.filler == "dots", "filler", f"SOAR's question grammar parses '..' filler only, got {family.filler!r}"
        )
        self.max_length = family.max_length
        self.modulus = family.modulus
        self.written_solution = written_solution
        digit = f"[0-{family.modulus - 1}]"
        self._digit = digit
        self._pattern = re.compile(
            rf"^{PREFIX}({digit})((?:[{re.escape(OPERATORS)}]{digit})+)((?:{re.escape(FILLER)})*)=$"
        )

    @classmethod
    def for_teacher(cls, family: OpChainConfig, teacher: TeacherConfig) -> QuestionFormat:
        """The filter a teacher's rollouts pass: solution-shaped answers where questions are scored on them."""
        return cls(family, written_solution=teacher.answer_scoring == "trace")

    def _operations(self, question: str) -> str | None:
        """The operator-operand pairs of a well-formed question (``+4-2``), or None."""
        match = self._pattern.match(question)
        if match is None:
            return None
        body, padding = match.group(2), match.group(3)
        # the student's prompts are padded to a fixed length
        return body if len(body) // 2 + len(padding) // 2 == self.max_length else None

    def level_of(self, question: str) -> int | None:
        """The number of operations of a well-formed question, or None (the question alone, no answer)."""
        body = self._operations(question)
        return None if body is None else len(body) // 2

    def parse(self, question: str, answer_text: str | None) -> ParsedQuestion | None:
        """The question with the answer of ``answer_text`` (a solution ``...|d`` or a bare digit), or None."""
        body = self._operations(question)
        if body is None or answer_text is None:
            return None
        level = len(body) // 2
        written_solution = SEPARATOR in answer_text
        answer = ANSWER_VERIFIER.parse(answer_text) if written_solution else answer_text.strip()
        if answer is None or len(answer) != 1 or not answer.isdigit() or int(answer) >= self.modulus:
            return None
        solution = answer_text.strip() if written_solution else None
        if self.written_solution and not self._solution_shaped(solution, level):
            return None
        return ParsedQuestion(question=question, answer=answer, level=level, operators=body[0::2], solution=solution)

    def solution_shaped(self, question: str, completion: str) -> bool:
        """Whether ``completion`` has the shape of a solution of ``question`` (one state per operation, ``|``, a
        digit), right or wrong: the testbed's counterpart of the paper's "boxed" answer."""
        level = self.level_of(question)
        return level is not None and self._solution_shaped(completion.strip(), level)

    def _solution_shaped(self, solution: str | None, level: int) -> bool:
        states = rf"{self._digit}(?:{re.escape(STATE_SEPARATOR)}{self._digit}){{{level - 1}}}"
        return (
            solution is not None and re.fullmatch(rf"{states}{re.escape(SEPARATOR)}{self._digit}", solution) is not None
        )

    def true_answer(self, question: ParsedQuestion) -> str:
        """The correct answer of a well-formed question (for the correctness studies; the loop never uses it)."""
        return str(true_states(question, self.modulus)[-1])

    def true_solution(self, question: ParsedQuestion) -> str:
        """The correct written solution of a well-formed question (states, ``|``, answer), as the student writes it."""
        return op_chain_demonstration(true_states(question, self.modulus))


def true_states(question: ParsedQuestion, modulus: int) -> list[int]:
    """The correct states of a parsed question, one per operation (its solution is ``op_chain_demonstration``)."""
    return op_chain_states(int(question.question[1]), _steps(question), modulus)


def _steps(question: ParsedQuestion) -> list[tuple[str, int]]:
    """The (operator, operand) pairs of a parsed question."""
    body = question.question[2 : 2 + 2 * question.level]
    return [(body[i], int(body[i + 1])) for i in range(0, len(body), 2)]


def grammar_question(rng: np.random.Generator, grammar: GrammarConfig, family: OpChainConfig) -> str:
    """One pretraining question: any level, any operator of the grammar, some malformed on purpose."""
    level = int(rng.integers(1, min(grammar.max_level, family.max_length) + 1))
    start = int(rng.integers(0, family.modulus))
    steps = [
        (grammar.operators[int(rng.integers(0, len(grammar.operators)))], int(rng.integers(0, family.modulus)))
        for _ in range(level)
    ]
    text = op_chain_prompt(start, steps, family.max_length)
    if rng.random() < grammar.malformed_fraction:
        text = _break(text, rng)
    return text


def _break(text: str, rng: np.random.Generator) -> str:
    """A malformed variant of a well-formed question, never longer than it (it must fit the student's context)."""
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return text.replace("=", "", 1)  # no '='
    if kind == 1:  # wrong padding
        return text.replace(FILLER, "", 1) if FILLER in text else text[:-3] + "="
    return text[:2] + text[3:]  # an operator without its operand


def pretraining_corpus(count: int, grammar: GrammarConfig, family: OpChainConfig, seed: int) -> list[tuple[str, str]]:
    """``count`` (teacher prompt, rest of a grammar question) pairs: the teacher learns to write questions only,
    so its solving stays the base model's."""
    rng = np.random.default_rng([seed, 1717])
    pairs = []
    for _ in range(count):
        question = grammar_question(rng, grammar, family)
        pairs.append((TEACHER_PROMPT, question[len(TEACHER_PROMPT) :]))
    return pairs


def grammar_solutions(
    questions: list[str], grammar: GrammarConfig, family: OpChainConfig, seed: int
) -> list[str | None]:
    """The grammar's own solution of each pretraining question (None for a malformed one): the true scratchpad, but
    ``grammar.wrong_solution_fraction`` of them with a slip, one state off and the later steps computed from it, the
    way a corpus holds worked solutions with mistakes in them."""
    rng = np.random.default_rng([seed, 1718])
    parser = QuestionFormat(family)
    solutions: list[str | None] = []
    for question in questions:
        parsed = parser.parse(question, "0")  # the digit only makes it parse; the states come from the question
        if parsed is None:
            solutions.append(None)
            continue
        states = true_states(parsed, family.modulus)
        if rng.random() < grammar.wrong_solution_fraction:
            slip = int(rng.integers(0, parsed.level))
            wrong = (states[slip] + int(rng.integers(1, family.modulus))) % family.modulus
            states = [*states[:slip], wrong, *op_chain_states(wrong, _steps(parsed)[slip + 1 :], family.modulus)]
        solutions.append(op_chain_demonstration(states))
    return solutions


def question_length(family: OpChainConfig) -> int:
    """Characters of a well-formed question after the teacher prompt."""
    return (2 * family.max_length + 3) - len(TEACHER_PROMPT)
