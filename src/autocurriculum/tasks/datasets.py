"""Load static prompt sets (GSM8K / MATH layouts) from local files into a ``TaskPool``.

Sources: JSON Lines (``.jsonl``), Parquet (``.parquet``, needs ``pyarrow``) or a
folder written by Hugging Face ``datasets`` ``save_to_disk`` (needs ``datasets``).
Nothing is downloaded.

Layouts:

* ``gsm8k``: ``question`` and ``answer``, the final answer after ``####``
  (thousands separators removed).
* ``math``: ``problem`` and ``solution``, the final answer in the last
  ``\\boxed{...}`` (an ``answer`` field, as in MATH-500, takes precedence);
  ``level`` ("Level 3") becomes the ``level`` knob and ``type``/``subject``
  the category.

Task ids come from the data: an id field (``id_field``, else the first of
``task_id``, ``id``, ``unique_id``, ``idx``, ``index`` present), otherwise
``<file stem>:<hash of the question>``. Never a row position, so ids survive
shuffling and filtering. A malformed row is reported with its file and line
(row number for Parquet and ``datasets``) and either rejects the whole load
(``on_error="raise"``, the default) or is skipped with a warning listing it
(``on_error="skip"``); it is never dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from autocurriculum.core.errors import AutocurriculumError, InvalidArgumentError, MissingFileError
from autocurriculum.core.task import Task, TaskPool

__all__ = [
    "DatasetFormatError",
    "MalformedRowsWarning",
    "RowProblem",
    "extract_boxed",
    "gsm8k_final_answer",
    "load_task_pool",
    "read_tasks",
]

Layout = Literal["auto", "gsm8k", "math"]
ID_FIELDS = ("task_id", "id", "unique_id", "idx", "index")


class DatasetFormatError(AutocurriculumError, ValueError):
    """A data file or row does not match the expected layout."""


class MalformedRowsWarning(UserWarning):
    """Rows were skipped because they were malformed (``on_error="skip"``)."""


@dataclass(frozen=True)
class RowProblem:
    file: str
    line: int  # 1-based line (JSONL) or row number (Parquet, datasets)
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def gsm8k_final_answer(answer: str) -> str | None:
    """The text after the last ``####`` with commas removed, or None if absent/empty."""
    _, sep, tail = answer.rpartition("####")
    if not sep:
        return None
    final = tail.replace(",", "").strip()  # strip last: "#### , ," has no answer, not the answer " "
    return final or None


def extract_boxed(text: str) -> str | None:
    """Contents of the last ``\\boxed{...}`` (or ``\\fbox{...}``), braces matched; None if absent or unbalanced."""
    start = max(text.rfind("\\boxed{"), text.rfind("\\fbox{"))
    if start < 0:
        return None
    i = text.index("{", start) + 1
    depth = 1
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                content = text[i:j].strip()
                return content or None
    return None


def _rows(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line or row number, record)``; a record that cannot be decoded is yielded as an Exception."""
    if path.is_dir():
        try:
            from datasets import load_from_disk
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise DatasetFormatError(f"{path}: reading a saved `datasets` folder needs the `datasets` package") from exc
        data = load_from_disk(str(path))
        if hasattr(data, "keys") and not hasattr(data, "column_names"):  # a DatasetDict
            raise DatasetFormatError(f"{path}: holds splits {sorted(data.keys())}; point at one split's folder")
        for i, row in enumerate(data, start=1):
            yield i, row
    elif path.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover
            raise DatasetFormatError(f"{path}: reading Parquet needs the `pyarrow` package") from exc
        try:
            records = pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as exc:  # truncated or not Parquet at all
            raise DatasetFormatError(f"{path}: not a readable Parquet file ({exc})") from None
        for i, row in enumerate(records, start=1):
            yield i, row
    elif path.suffix in (".jsonl", ".json"):
        # surrogateescape: an undecodable byte spoils its line only, reported below, not the whole file
        with path.open(encoding="utf-8", errors="surrogateescape") as f:
            for i, line in enumerate(f, start=1):
                if not line.strip():
                    continue  # blank lines are layout, not data
                try:
                    line.encode("utf-8")
                except UnicodeEncodeError as exc:
                    yield i, DatasetFormatError(f"invalid UTF-8 at column {exc.start + 1}")
                    continue
                try:
                    yield i, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield i, DatasetFormatError(f"invalid JSON ({exc.msg} at column {exc.colno})")
                except ValueError as exc:  # numbers Python refuses to parse (more than 4300 digits)
                    yield i, DatasetFormatError(f"invalid JSON ({exc})")
    else:
        raise DatasetFormatError(f"{path}: unsupported file type; use .jsonl, .parquet or a `datasets` folder")


def _detect_layout(row: Mapping[str, Any]) -> Layout | None:
    if "question" in row and "answer" in row:
        return "gsm8k"
    if "problem" in row and ("solution" in row or "answer" in row):
        return "math"
    return None


def _level(value: Any) -> float | None:
    level = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            level = float(value)
        except OverflowError:  # an int beyond float range, e.g. 10**400
            level = math.inf
    elif isinstance(value, str):
        match = re.search(r"\d+(\.\d+)?", value)
        if match:
            level = float(match.group())
    if level is not None and not math.isfinite(level):  # a NaN knob would read as "no level" downstream
        raise DatasetFormatError(f"field 'level' is not a finite number, got {value!r:.40}")
    return level


def _unicode(name: str, value: str) -> str:
    """``value`` if it is valid Unicode; JSON escapes can smuggle in lone surrogates that no encoder accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise DatasetFormatError(f"field {name!r} holds a lone surrogate at position {exc.start}") from None
    return value


def _task_from_row(
    row: Mapping[str, Any], layout: Layout, stem: str, id_field: str | None, category: str | None
) -> Task:
    def text(name: str) -> str:
        value = row.get(name)
        if not isinstance(value, str) or not value.strip():
            raise DatasetFormatError(f"field {name!r} is missing or not a non-empty string")
        return _unicode(name, value)

    knobs: dict[str, float] = {}
    if layout == "gsm8k":
        prompt = text("question")
        answer = gsm8k_final_answer(text("answer"))
        if answer is None:
            raise DatasetFormatError("field 'answer' has no '#### <final answer>'")
        demonstration = row["answer"]
        default_category = "gsm8k"
    else:
        prompt = text("problem")
        given = row.get("answer")
        solution = row.get("solution")
        answer = _unicode("answer", given.strip()) if isinstance(given, str) and given.strip() else None
        if answer is None:
            answer = extract_boxed(text("solution"))
        if answer is None:
            raise DatasetFormatError("field 'solution' has no balanced \\boxed{...} final answer")
        demonstration = _unicode("solution", solution) if isinstance(solution, str) else None
        level = _level(row.get("level"))
        if level is not None:
            knobs["level"] = level
        subject = row.get("type") or row.get("subject")
        default_category = _unicode("type", str(subject)) if subject else "math"
    fields = [id_field] if id_field else [f for f in ID_FIELDS if f in row]
    if id_field and row.get(id_field) in (None, ""):
        raise DatasetFormatError(f"id field {id_field!r} is missing or empty")
    if fields and row.get(fields[0]) not in (None, ""):
        task_id = _unicode(fields[0], str(row[fields[0]]))
    else:
        task_id = f"{stem}:{hashlib.sha1(prompt.encode('utf-8')).hexdigest()[:12]}"
    return Task(
        task_id=task_id,
        prompt=prompt,
        answer=answer,
        category=category or default_category,
        knobs=knobs,
        demonstration=demonstration,
    )


def read_tasks(
    path: str | Path,
    layout: Layout = "auto",
    id_field: str | None = None,
    on_error: Literal["raise", "skip"] = "raise",
    category: str | None = None,
) -> tuple[list[Task], list[RowProblem]]:
    """Tasks of one file (or saved ``datasets`` folder) and the problems found, in file order."""
    return _read_tasks(path, layout, id_field, on_error, category, seen={})


def _read_tasks(
    path: str | Path,
    layout: Layout,
    id_field: str | None,
    on_error: Literal["raise", "skip"],
    category: str | None,
    seen: dict[str, tuple[str, int]],
) -> tuple[list[Task], list[RowProblem]]:
    """``read_tasks`` with ``seen`` (task id -> file and line of its row) shared across the files of one pool."""
    if on_error not in ("raise", "skip"):
        raise InvalidArgumentError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"{path}: no such file or folder")
    tasks: list[Task] = []
    problems: list[RowProblem] = []
    resolved: Layout | None = None if layout == "auto" else layout
    for line, row in _rows(path):
        try:
            if isinstance(row, Exception):
                raise row
            if not isinstance(row, Mapping):
                raise DatasetFormatError(f"expected an object, got {type(row).__name__}")
            row_layout = resolved or _detect_layout(row)
            if row_layout is None:
                raise DatasetFormatError(
                    f"cannot tell the layout from fields {sorted(row)}; expected question/answer (gsm8k) "
                    "or problem/solution (math)"
                )
            task = _task_from_row(row, row_layout, path.stem, id_field, category)
            if task.task_id in seen:
                file, first = seen[task.task_id]
                where = f"line {first}" if file == str(path) else f"{file}:{first}"
                raise DatasetFormatError(f"duplicate task id {task.task_id!r} (first at {where})")
        except DatasetFormatError as exc:
            problem = RowProblem(str(path), line, str(exc))
            if on_error == "raise":
                raise DatasetFormatError(f"{problem} (pass on_error='skip' to skip malformed rows)") from None
            problems.append(problem)
            continue
        # the first good row fixes the layout of the file (a malformed row of another layout must not)
        resolved = resolved or row_layout
        seen[task.task_id] = (str(path), line)
        tasks.append(task)
    return tasks, problems


def load_task_pool(
    *paths: str | Path,
    layout: Layout = "auto",
    id_field: str | None = None,
    on_error: Literal["raise", "skip"] = "raise",
    category: str | None = None,
) -> TaskPool:
    """A ``TaskPool`` from one or more files; skipped rows are listed in a ``MalformedRowsWarning``.

    A task id already read from an earlier file is a malformed row like a duplicate within one file.
    """
    if not paths:
        raise InvalidArgumentError("load_task_pool() needs at least one path")
    tasks: list[Task] = []
    problems: list[RowProblem] = []
    seen: dict[str, tuple[str, int]] = {}
    for path in paths:
        file_tasks, file_problems = _read_tasks(path, layout, id_field, on_error, category, seen)
        tasks.extend(file_tasks)
        problems.extend(file_problems)
    if problems:
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        warnings.warn(f"skipped {len(problems)} malformed row(s):\n  {shown}{more}", MalformedRowsWarning, stacklevel=2)
    return TaskPool(tasks)


def pool_records(pool: TaskPool) -> list[dict[str, Any]]:
    """Rows for a trainer's dataset (``prompt``, ``answer``, ``task_id``, ``category``, ``level``)."""
    return [
        {"prompt": t.prompt, "answer": t.answer, "task_id": t.task_id, "category": t.category, "level": t.level}
        for t in pool
    ]
