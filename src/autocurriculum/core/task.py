"""Task records and the compact pool that maps stable task ids to rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from autocurriculum.core.errors import EmptyPoolError, InvalidArgumentError, UnknownNameError, UnknownTaskError


@dataclass(frozen=True)
class Task:
    """One verifiable prompt.

    ``task_id`` comes from the data itself (never a loader position) so that a
    curriculum's statistics survive shuffling, filtering and resumption.
    ``knobs`` are the numeric difficulty settings the generator used.
    """

    task_id: str
    prompt: str
    answer: str
    category: str = "default"
    knobs: Mapping[str, float] = field(default_factory=dict)
    demonstration: str | None = None  # teacher chain of thought + answer, when known

    @property
    def level(self) -> float:
        """The task's primary difficulty (knob ``level``), 0 when unknown."""
        return float(self.knobs.get("level", 0.0))


@runtime_checkable
class TaskSource(Protocol):
    """What a curriculum needs from a pool: rows <-> ids and the task behind a row.

    ``TaskPool`` holds every task in memory; a streaming source (millions of
    prompts generated on demand) implements the same five members.
    """

    def __len__(self) -> int: ...

    def __getitem__(self, row: int) -> Task: ...

    def ids_of(self, rows: np.ndarray) -> list[str]: ...

    def rows_of(self, task_ids: Sequence[str]) -> np.ndarray: ...

    def require_nonempty(self) -> None: ...


class TaskPool:
    """Many tasks stored column-wise; rows are the internal index strategies use.

    Strategies keep their statistics in arrays aligned with the rows, while the
    public API speaks in task ids.
    """

    def __init__(self, tasks: Iterable[Task]):
        tasks = list(tasks)
        self._ids = np.array([t.task_id for t in tasks], dtype=object)
        self._prompts = [t.prompt for t in tasks]
        self._answers = [t.answer for t in tasks]
        self._demonstrations = [t.demonstration for t in tasks]
        self.category_names: list[str] = sorted({t.category for t in tasks})
        code = {name: i for i, name in enumerate(self.category_names)}
        self.category_codes = np.array([code[t.category] for t in tasks], dtype=np.int64)
        self.knob_names: list[str] = sorted({k for t in tasks for k in t.knobs})
        self.knobs = np.full((len(tasks), len(self.knob_names)), np.nan, dtype=np.float64)
        for row, task in enumerate(tasks):
            for col, name in enumerate(self.knob_names):
                if name in task.knobs:
                    self.knobs[row, col] = float(task.knobs[name])
        self._row_of: dict[str, int] = {}
        for row, task_id in enumerate(self._ids):
            if task_id in self._row_of:
                raise InvalidArgumentError(f"duplicate task id {task_id!r} at rows {self._row_of[task_id]} and {row}")
            self._row_of[task_id] = row

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[Task]:
        return (self[row] for row in range(len(self)))

    def __getitem__(self, row: int) -> Task:
        knobs = {name: float(v) for name, v in zip(self.knob_names, self.knobs[row], strict=True) if not np.isnan(v)}
        return Task(
            task_id=str(self._ids[row]),
            prompt=self._prompts[row],
            answer=self._answers[row],
            category=self.category_names[self.category_codes[row]],
            knobs=knobs,
            demonstration=self._demonstrations[row],
        )

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    def require_nonempty(self) -> None:
        if len(self) == 0:
            raise EmptyPoolError("the task pool is empty: there is nothing to select")

    def rows_of(self, task_ids: Sequence[str]) -> np.ndarray:
        """Rows for ``task_ids``; an unknown id raises an error naming it."""
        try:
            return np.fromiter((self._row_of[t] for t in task_ids), dtype=np.int64, count=len(task_ids))
        except KeyError as exc:
            raise UnknownTaskError(f"task id {exc.args[0]!r} is not in this pool of {len(self)} tasks") from None

    def ids_of(self, rows: np.ndarray) -> list[str]:
        return [str(t) for t in self._ids[np.asarray(rows, dtype=np.int64)]]

    def get(self, task_id: str) -> Task:
        return self[int(self.rows_of([task_id])[0])]

    def prompt(self, row: int) -> str:
        return self._prompts[row]

    def prompts_of(self, rows: Iterable[int]) -> list[str]:
        """The prompt texts of ``rows``, read from the column (no ``Task`` built per row)."""
        return [self._prompts[int(r)] for r in rows]

    def answer(self, row: int) -> str:
        return self._answers[row]

    def knob(self, name: str) -> np.ndarray:
        """One difficulty knob for every row (NaN where a task lacks it)."""
        if name not in self.knob_names:
            raise UnknownNameError(f"no difficulty knob {name!r}; known knobs: {', '.join(self.knob_names) or 'none'}")
        return self.knobs[:, self.knob_names.index(name)]

    def levels(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The primary difficulty ``level`` of every row, or of ``rows`` (0 where absent)."""
        if "level" not in self.knob_names:
            levels = np.zeros(len(self))
        else:
            levels = np.nan_to_num(self.knob("level"), nan=0.0)
        return levels if rows is None else levels[np.asarray(rows, dtype=np.int64)]


def prompts_of(source: TaskSource, rows: Iterable[int]) -> list[str]:
    """The prompt texts of ``rows`` of any task source: from the column of an in-memory ``TaskPool``, else from
    the tasks the source builds (a streaming source generates them on demand)."""
    if isinstance(source, TaskPool):
        return source.prompts_of(rows)
    return [source[int(r)].prompt for r in rows]
