"""AutoTune on a finite prompt set: a reasoning-gym task or a JSONL/Parquet prompt file, with its verifier.

``PoolProblem`` is the ``Problem`` the procedures need (fresh-prompt stream, charged verifier, vote) over a
fixed list of training prompts and a disjoint list of held-out prompts. The stream walks a seeded
permutation of the training prompts and reshuffles after each pass: a finite file is the empirical
distribution, so a prompt can come back in a later pass (``passes`` says how often that happened).

Answers: the text inside the last ``<answer>...</answer>``, else (``last_number_fallback``) the last number
of the completion, so an untrained chat model that writes "4 - 1 = 3" is still scored. The programmatic
teacher's demonstrations always end with the tag.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.autotune.costs import CostCounters
from autocurriculum.autotune.problem import TEST_INDEX_OFFSET, Prompts, TextProblem
from autocurriculum.core.config import require
from autocurriculum.core.errors import AutocurriculumError, ConfigError
from autocurriculum.core.task import Task
from autocurriculum.tasks.datasets import ID_FIELDS, DatasetFormatError, _rows

ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
MAX_DEMONSTRATION_CHARS = 4000

Verify = Callable[[Task, str], bool]


class VerifierError(AutocurriculumError, RuntimeError):
    """The verifier raised on a completion; the message names the task id and where the prompt came from."""


def extract_answer(completion: str, last_number_fallback: bool = True) -> str | None:
    """The last ``<answer>`` tag's text, else the last number (commas dropped), else None."""
    if not isinstance(completion, str):
        return None
    tags = ANSWER_TAG.findall(completion)
    if tags:
        return tags[-1].strip() or None
    if last_number_fallback:
        numbers = NUMBER.findall(completion.replace(",", ""))
        return numbers[-1] if numbers else None
    return None


def same_answer(gold: str, answer: str | None) -> bool:
    """Exact match after stripping, or equal as numbers when both parse ("3.0" == "3")."""
    if answer is None:
        return False
    gold, answer = gold.strip(), answer.strip()
    if gold == answer:
        return True
    try:
        return float(gold.replace(",", "")) == float(answer.replace(",", ""))
    except ValueError:
        return False


def solver_demonstration(answer: str, expression: str | None = None) -> str:
    """A short chain of thought ending in ``<answer>answer</answer>``.

    A chain of ``+``/``-`` terms (reasoning-gym ``chain_sum``) is worked left to right, one partial sum per
    step; any other expression is restated; without one only the tagged answer is given.
    """
    final = f"<answer>{answer}</answer>"
    if not expression:
        return final
    steps = _running_sums(expression)
    if steps is not None and steps[1] == answer.strip():
        return f"{steps[0]}\n{final}"
    return f"{expression} = {answer}\n{final}"


def _running_sums(expression: str) -> tuple[str, str] | None:
    tokens = expression.split()
    if len(tokens) < 3 or len(tokens) % 2 == 0 or any(op not in "+-" for op in tokens[1::2]):
        return None
    try:
        total = int(tokens[0])
        parts = []
        for op, term in zip(tokens[1::2], tokens[2::2], strict=True):
            value = int(term)
            new = total + value if op == "+" else total - value
            parts.append(f"{total} {op} {value} = {new}")
            total = new
    except ValueError:
        return None
    return ", ".join(parts), str(total)


@dataclass
class PromptSet:
    """Training and held-out prompts with the task source's verifier; ``where[task_id]`` locates a prompt."""

    name: str
    train: list[Task]
    test: list[Task]
    verify: Verify
    verifier_name: str
    where: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "train": len(self.train), "test": len(self.test), "verifier": self.verifier_name}


def _disjoint(train: list[Task], test: list[Task]) -> list[Task]:
    """Training prompts whose text is not a held-out prompt (small tasks repeat questions across seeds)."""
    held = {t.prompt.strip() for t in test}
    return [t for t in train if t.prompt.strip() not in held]


def reasoning_gym_prompts(
    name: str,
    train_size: int,
    test_size: int,
    level: int | None = None,
    config: Mapping[str, Any] | None = None,
    seed: int = 0,
    success_threshold: float = 1.0,
) -> PromptSet:
    """Prompts of one reasoning-gym task at one difficulty (a curriculum ``level`` or an explicit generator
    ``config``); held-out prompts from a different seed, with every training prompt of the same text removed.
    The verifier is reasoning-gym's ``score_answer`` on the extracted answer (success: score >= threshold)."""
    from autocurriculum.tasks.reasoning_gym_source import ReasoningGymSource

    require(train_size >= 1, "train_size", f"must be >= 1, got {train_size}")
    require(test_size >= 1, "test_size", f"must be >= 1, got {test_size}")
    kwargs: dict[str, Any] = {"answer_tag": None, "success_threshold": success_threshold}
    if config:
        kwargs["configs"] = [dict(config)]
    else:
        kwargs["levels"] = [level or 1]
    try:
        train_source = ReasoningGymSource(name, size_per_level=train_size, seed=seed, **kwargs)
        test_source = ReasoningGymSource(name, size_per_level=test_size, seed=seed + 1_000_003, **kwargs)
    except KeyError as exc:
        raise ConfigError(f"--task: {exc.args[0]}") from None
    except (TypeError, ValueError) as exc:  # a bad generator config or level
        raise ConfigError(f"--task-config/--level for reasoning_gym:{name}: {exc}") from None
    sources: dict[str, Any] = {}
    where: dict[str, str] = {}

    def with_solver(source: Any, split: str) -> list[Task]:
        tasks = []
        for i, task in enumerate(source.pool):
            expression = source.entry(task.task_id).get("metadata", {}).get("expression")
            tasks.append(dataclasses.replace(task, demonstration=solver_demonstration(task.answer, expression)))
            sources[task.task_id] = source
            where[task.task_id] = f"reasoning_gym:{name} {split} item {i}"
        return tasks

    train = with_solver(train_source, "train")
    test = with_solver(test_source, "test")
    train = _disjoint(train, test)
    require(bool(train), "--task", f"every training prompt of reasoning_gym:{name} is also a held-out prompt")

    def verify(task: Task, completion: str) -> bool:
        answer = extract_answer(completion)
        return answer is not None and sources[task.task_id].reward(task.task_id, answer) > 0

    return PromptSet(f"reasoning_gym:{name}", train, test, verify, "reasoning_gym.score_answer", where)


def _file_verifier(kind: str) -> tuple[Verify, str]:
    if kind == "exact":
        return (lambda task, completion: same_answer(task.answer, extract_answer(completion))), "exact"
    if kind == "math":
        from autocurriculum.verifiers import MathVerifier

        verifier = MathVerifier()
        return (lambda task, completion: verifier.reward(completion, task.answer) > 0), "math_verify"
    raise ConfigError(f"--verifier: must be 'exact' or 'math', got {kind!r}")


def file_prompts(
    path: str | Path,
    test_size: int,
    prompt_field: str = "prompt",
    answer_field: str = "answer",
    id_field: str | None = None,
    verifier: str = "exact",
    seed: int = 0,
) -> PromptSet:
    """Prompts of a ``.jsonl`` / ``.parquet`` file (or saved ``datasets`` folder): ``test_size`` random rows are
    held out, and training rows whose prompt text is a held-out prompt are dropped.

    Every row needs a non-empty ``prompt_field`` and ``answer_field`` (the gold answer, given to the verifier
    and to the programmatic teacher); a bad row raises ``DatasetFormatError`` naming file, line and field.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"--prompts: {path}: no such file or folder")
    require(test_size >= 1, "--test-prompts", f"must be >= 1, got {test_size}")
    check, verifier_name = _file_verifier(verifier)
    tasks: list[Task] = []
    where: dict[str, str] = {}
    seen: dict[str, int] = {}
    for line, row in _rows(path):
        at = f"{path}:{line}"
        if isinstance(row, Exception):
            raise DatasetFormatError(f"{at}: {row}")
        if not isinstance(row, Mapping):
            raise DatasetFormatError(f"{at}: expected an object, got {type(row).__name__}")
        ids = [id_field] if id_field else [f for f in ID_FIELDS if f in row]
        row_id = str(row[ids[0]]) if ids and row.get(ids[0]) not in (None, "") else None
        label = f" (id {row_id!r})" if row_id else ""
        values = {}
        for option, name in (("--prompt-field", prompt_field), ("--answer-field", answer_field)):
            if name not in row:
                raise DatasetFormatError(
                    f"{at}: field {name!r} ({option}) is missing{label}; the row has fields {sorted(map(str, row))}"
                )
            value = row[name]
            if isinstance(value, (int, float)) and not isinstance(value, bool) and name == answer_field:
                value = str(value)  # numeric gold answers are common in JSONL
            if not isinstance(value, str) or not value.strip():
                raise DatasetFormatError(f"{at}: field {name!r} ({option}) is empty or not a string{label}")
            values[name] = value
        if id_field and row_id is None:
            raise DatasetFormatError(f"{at}: id field {id_field!r} is missing or empty")
        prompt, answer = values[prompt_field], values[answer_field].strip()
        task_id = row_id or f"{path.stem}:{hashlib.sha1(prompt.encode('utf-8', 'replace')).hexdigest()[:12]}"
        if task_id in seen:
            raise DatasetFormatError(f"{at}: duplicate task id {task_id!r} (first at line {seen[task_id]})")
        seen[task_id] = line
        where[task_id] = at
        tasks.append(Task(task_id, prompt, answer, category=path.stem, demonstration=solver_demonstration(answer)))
    if not tasks:
        raise DatasetFormatError(f"{path}: no rows (field {prompt_field!r} has no prompt to train on)")
    require(test_size < len(tasks), "--test-prompts", f"must be < the {len(tasks)} rows of {path}, got {test_size}")
    order = np.random.default_rng([seed, 0x7E57]).permutation(len(tasks))
    test = [tasks[i] for i in order[:test_size]]
    train = _disjoint([tasks[i] for i in order[test_size:]], test)
    require(bool(train), "--prompts", f"{path}: every training prompt is also a held-out prompt")

    def verify(task: Task, completion: str) -> bool:
        return bool(check(task, completion))

    return PromptSet(str(path), train, test, verify, verifier_name, where)


class PoolProblem(TextProblem):
    """A ``Problem`` over a ``PromptSet``: prompts are row numbers (held-out rows from ``TEST_INDEX_OFFSET``)."""

    def __init__(self, prompt_set: PromptSet, seed: int = 0):
        # no TaskFamily behind a file or a reasoning-gym dataset: set what Problem.__init__ would
        self.family = None  # type: ignore[assignment]
        self.level = 0
        self.costs = CostCounters()
        self.prompt_set = prompt_set
        self._rng = np.random.default_rng([seed, 0x9001])
        self._order = np.zeros(0, dtype=np.int64)
        self._position = 0
        self.passes = 0  # completed passes over the training prompts (a prompt may repeat after the first)

    def draw(self, n: int) -> Prompts:
        rows: list[np.ndarray] = []
        need = n
        while need > 0:
            if self._position >= len(self._order):
                if len(self._order):
                    self.passes += 1
                self._order = self._rng.permutation(len(self.prompt_set.train)).astype(np.int64)
                self._position = 0
            take = self._order[self._position : self._position + need]
            self._position += len(take)
            need -= len(take)
            rows.append(take)
        self.costs.prompts_drawn += n
        return Prompts(np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64))

    def test_prompts(self, n: int) -> Prompts:
        available = len(self.prompt_set.test)
        require(1 <= n <= available, "test_prompts", f"must be in 1..{available} (held-out prompts), got {n}")
        return Prompts(np.arange(TEST_INDEX_OFFSET, TEST_INDEX_OFFSET + n, dtype=np.int64))

    def tasks(self, prompts: Prompts) -> list[Task]:
        if prompts._tasks is None:
            train, test = self.prompt_set.train, self.prompt_set.test
            prompts._tasks = [
                test[int(i) - TEST_INDEX_OFFSET] if i >= TEST_INDEX_OFFSET else train[int(i)] for i in prompts.indices
            ]
        return prompts._tasks

    def correct(self, prompts: Prompts, completions: Sequence[str]) -> np.ndarray:
        out = np.zeros(len(prompts), dtype=bool)
        for i, (task, completion) in enumerate(zip(self.tasks(prompts), completions, strict=True)):
            try:
                out[i] = bool(self.prompt_set.verify(task, completion))
            except Exception as exc:  # a verifier bug must stop the run with the prompt that triggered it
                where = self.prompt_set.where.get(task.task_id, self.prompt_set.name)
                raise VerifierError(
                    f"verifier {self.prompt_set.verifier_name!r} raised {type(exc).__name__}: {exc} "
                    f"on task id {task.task_id!r} ({where}); completion {completion[:80]!r}"
                ) from exc
        return out

    def answers(self, completions: Sequence[str]) -> list[str | None]:
        return [extract_answer(c) for c in completions]

    def parse_demonstration(self, prompts: Prompts, row: int, text: Any) -> str | None:
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_DEMONSTRATION_CHARS:
            return None
        return text
