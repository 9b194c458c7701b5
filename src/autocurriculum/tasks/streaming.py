"""A streaming task source: millions of procedural prompts, generated on demand, each seen about once.

Rows interleave every ``(family, level)`` slot, so consecutive rows and any
uniform sample mix difficulties:

    row = index_offset_rel * n_slots + slot,   slot -> (family, level)

and a task id (``family:L<level>:s<seed>:<index>``, as ``TaskFamily.task_id``
writes it) parses back to its row without any lookup table. Only a small LRU
cache of generated tasks is held, so the source costs almost no memory
whatever its size; strategies that keep per-row arrays still pay for theirs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from autocurriculum.core.config import require
from autocurriculum.core.errors import ConfigError, EmptyPoolError, OutOfRangeError, UnknownTaskError
from autocurriculum.core.task import Task, TaskPool
from autocurriculum.tasks.base import TaskFamily, make_task_family


class StreamingTaskSource:
    """``len(families' levels) * tasks_per_level`` virtual tasks implementing ``core.TaskSource``.

    ``index_offset`` shifts the generator indices, so a held-out source built with
    a disjoint offset range never shares a task with the training stream.
    """

    def __init__(
        self,
        families: Sequence[TaskFamily],
        tasks_per_level: int = 100_000,
        index_offset: int = 0,
        cache_size: int = 4096,
    ):
        families = list(families)
        require(len(families) > 0, "families", "need at least one task family")
        names = [f.name for f in families]
        require(len(set(names)) == len(names), "families", f"family names must be distinct, got {names}")
        require(tasks_per_level >= 1, "tasks_per_level", f"must be >= 1, got {tasks_per_level}")
        require(index_offset >= 0, "index_offset", f"must be >= 0, got {index_offset}")
        require(cache_size >= 0, "cache_size", f"must be >= 0, got {cache_size}")
        self.families = families
        self.tasks_per_level = int(tasks_per_level)
        self.index_offset = int(index_offset)
        self.cache_size = int(cache_size)
        self._slots: list[tuple[int, int]] = [(fi, level) for fi, f in enumerate(families) for level in f.levels]
        self._slot_of = {(families[fi].name, level): s for s, (fi, level) in enumerate(self._slots)}
        self._family_index = {name: i for i, name in enumerate(names)}
        self.slot_levels = np.array([level for _, level in self._slots], dtype=np.float64)
        self.slot_families = np.array([fi for fi, _ in self._slots], dtype=np.int64)
        self.category_names: list[str] = sorted(names)  # like TaskPool: category = family name
        code = {name: i for i, name in enumerate(self.category_names)}
        self._slot_category = np.array([code[families[fi].name] for fi, _ in self._slots], dtype=np.int64)
        self._prefixes = self._id_prefixes()
        self._slot_of_prefix = None if self._prefixes is None else {p: i for i, p in enumerate(self._prefixes)}
        self._init_cache()

    @classmethod
    def from_names(
        cls,
        names: Sequence[str],
        configs: dict[str, dict[str, Any]] | None = None,
        min_size: int = 1_000_000,
        index_offset: int = 0,
    ) -> StreamingTaskSource:
        """A source over registered families by name, with at least ``min_size`` rows."""
        configs = configs or {}
        families = [make_task_family(name, configs.get(name)) for name in names]
        n_slots = sum(len(f.levels) for f in families)
        return cls(families, tasks_per_level=-(-min_size // n_slots), index_offset=index_offset)

    def _init_cache(self) -> None:
        self._cache: OrderedDict[int, Task] = OrderedDict()
        self._lock = threading.Lock()  # the cache is shared by curriculum-service threads

    # Locks do not pickle (Ray ships the source to its actor): drop the cache, rebuild it there.
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_cache"], state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_cache()

    # ----- the TaskSource protocol -----
    @property
    def n_slots(self) -> int:
        return len(self._slots)

    def __len__(self) -> int:
        return self.n_slots * self.tasks_per_level

    def require_nonempty(self) -> None:
        if len(self) == 0:
            raise EmptyPoolError("the streaming task source is empty: there is nothing to select")

    def locate(self, row: int) -> tuple[TaskFamily, int, int]:
        """``(family, level, generator index)`` of a row."""
        row = int(row)
        if not 0 <= row < len(self):
            raise OutOfRangeError(f"row {row} is outside this streaming source of {len(self)} tasks")
        slot, rel = row % self.n_slots, row // self.n_slots
        family_index, level = self._slots[slot]
        return self.families[family_index], level, self.index_offset + rel

    def __getitem__(self, row: int) -> Task:
        row = int(row)
        with self._lock:
            task = self._cache.get(row)
            if task is not None:
                self._cache.move_to_end(row)
                return task
        family, level, index = self.locate(row)
        task = family.generate(level, index)
        if self.cache_size:
            with self._lock:
                self._cache[row] = task
                if len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return task

    def _id_prefixes(self) -> list[str] | None:
        """``family:L<level>:s<seed>:`` of every slot (an id is this prefix plus the generator index), or None
        when a family writes ids its own way (then ids are built and parsed one by one)."""
        prefixes = [self.families[fi].task_id(level, 0).removesuffix("0") for fi, level in self._slots]
        standard = all(
            p.endswith(":") and self.families[fi].task_id(level, 123) == f"{p}123"
            for p, (fi, level) in zip(prefixes, self._slots, strict=True)
        )
        return prefixes if standard else None

    def ids_of(self, rows: np.ndarray) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            bad = int(rows[(rows < 0) | (rows >= len(self))][0])
            raise OutOfRangeError(f"row {bad} is outside this streaming source of {len(self)} tasks")
        prefixes = self._prefixes
        if prefixes is None:
            return [family.task_id(level, index) for family, level, index in map(self.locate, rows.tolist())]
        slots = (rows % self.n_slots).tolist()
        indices = (rows // self.n_slots + self.index_offset).tolist()
        return [prefixes[slot] + str(index) for slot, index in zip(slots, indices, strict=True)]

    def row_of(self, task_id: str) -> int:
        """The row of one id; ``UnknownTaskError`` naming it when it is not in this source."""
        try:
            name, level_part, seed_part, index_part = str(task_id).split(":")
            level, seed, index = int(level_part.removeprefix("L")), int(seed_part.removeprefix("s")), int(index_part)
            if not (level_part.startswith("L") and seed_part.startswith("s")):
                raise ValueError
            family = self.families[self._family_index[name]]
            slot = self._slot_of[(name, level)]
        except (ValueError, KeyError):
            raise UnknownTaskError(f"task id {task_id!r} is not in this streaming source") from None
        rel = index - self.index_offset
        if seed != family.config.seed or not 0 <= rel < self.tasks_per_level:
            raise UnknownTaskError(
                f"task id {task_id!r} is not in this streaming source (seed {family.config.seed}, indices "
                f"{self.index_offset}..{self.index_offset + self.tasks_per_level - 1})"
            )
        return rel * self.n_slots + slot

    def rows_of(self, task_ids: Sequence[str]) -> np.ndarray:
        """Rows of many ids: one dictionary lookup of the id's prefix and one integer parse each."""
        slot_of_prefix = self._slot_of_prefix
        if slot_of_prefix is None:
            return np.fromiter((self.row_of(t) for t in task_ids), dtype=np.int64, count=len(task_ids))
        rows = np.empty(len(task_ids), dtype=np.int64)
        for i, task_id in enumerate(task_ids):
            prefix, _, index = str(task_id).rpartition(":")
            slot = slot_of_prefix.get(prefix + ":")
            if slot is None or not index.isdigit():
                rows[i] = self.row_of(task_id)  # raises the error naming the id
                continue
            rel = int(index) - self.index_offset
            if not 0 <= rel < self.tasks_per_level:
                rows[i] = self.row_of(task_id)
                continue
            rows[i] = rel * self.n_slots + slot
        return rows

    # ----- TaskPool-like conveniences the harness uses (vectorised, no generation) -----
    def levels(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The ``level`` of every row (or of ``rows``), by arithmetic alone."""
        rows = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        return self.slot_levels[rows % self.n_slots]

    @property
    def category_codes(self) -> np.ndarray:
        """Index into ``category_names`` of every row (like ``TaskPool.category_codes``)."""
        return self._slot_category[np.arange(len(self)) % self.n_slots]

    def prompt(self, row: int) -> str:
        return self[row].prompt

    def answer(self, row: int) -> str:
        return self[row].answer

    def get(self, task_id: str) -> Task:
        return self[self.row_of(task_id)]

    def materialize(self, rows: np.ndarray) -> TaskPool:
        """A small in-memory ``TaskPool`` of the given rows (for example a held-out evaluation set)."""
        return TaskPool(self[int(r)] for r in np.asarray(rows, dtype=np.int64).reshape(-1))

    def __repr__(self) -> str:
        names = ", ".join(f.name for f in self.families)
        return (
            f"StreamingTaskSource([{names}], {self.n_slots} (family, level) slots x {self.tasks_per_level} "
            f"= {len(self)} tasks, index_offset={self.index_offset})"
        )


def disjoint_streams(
    families: Sequence[TaskFamily], tasks_per_level: int, held_out_per_level: int
) -> tuple[StreamingTaskSource, StreamingTaskSource]:
    """A training stream and a held-out stream over disjoint generator indices."""
    if held_out_per_level < 1:
        raise ConfigError(f"held_out_per_level: must be >= 1, got {held_out_per_level}")
    train = StreamingTaskSource(families, tasks_per_level)
    held_out = StreamingTaskSource(families, held_out_per_level, index_offset=tasks_per_level)
    return train, held_out
