"""A prompt distribution with its outcome verifier, a fresh-prompt stream and the run's cost counters.

Two kinds: ``ArrayProblem`` (the clustered op-chain as NumPy arrays, fast enough for sweeps of millions
of prompts; completions are state arrays) and ``TextProblem`` (any registered task family; completions
are strings). Held-out test prompts come from a disjoint index range and are never charged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autocurriculum.autotune.costs import CostCounters
from autocurriculum.core.config import require
from autocurriculum.core.errors import InvalidTypeError
from autocurriculum.core.task import Task
from autocurriculum.tasks.base import TaskFamily
from autocurriculum.tasks.clustered_op_chain import ClusteredInstances, ClusteredOpChainFamily, parse_states

TEST_INDEX_OFFSET = 1 << 40  # test prompts live far past any training stream


@dataclass
class Prompts:
    """A batch of prompts: generator indices plus family-specific arrays (``ArrayProblem``) or tasks (text)."""

    indices: np.ndarray
    instances: ClusteredInstances | None = None
    _tasks: list[Task] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.indices)

    def take(self, rows: np.ndarray | Sequence[int]) -> Prompts:
        rows = np.asarray(rows, dtype=np.int64)
        return Prompts(
            self.indices[rows],
            None if self.instances is None else self.instances.take(rows),
            None if self._tasks is None else [self._tasks[int(r)] for r in rows],
        )

    @staticmethod
    def concat(parts: Sequence[Prompts]) -> Prompts:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Prompts(np.zeros(0, dtype=np.int64))
        instances = None
        if parts[0].instances is not None:
            instances = ClusteredInstances(
                np.concatenate([p.instances.clusters for p in parts]),  # type: ignore[union-attr]
                np.concatenate([p.instances.operands for p in parts]),  # type: ignore[union-attr]
            )
        tasks = None if parts[0]._tasks is None else [t for p in parts for t in p._tasks]  # type: ignore[union-attr]
        return Prompts(np.concatenate([p.indices for p in parts]), instances, tasks)


class Problem:
    """Base class. ``draw`` charges ``prompts_drawn``; ``verify`` charges one verifier call per completion."""

    family: TaskFamily
    level: int

    def __init__(self, family: TaskFamily, level: int | None = None, stream_offset: int = 0):
        self.family = family
        self.level = family.levels[-1] if level is None else family._check_level(level)
        require(stream_offset >= 0, "stream_offset", f"must be >= 0, got {stream_offset}")
        self._next_index = stream_offset
        self.costs = CostCounters()

    # ----- prompts -----
    def draw(self, n: int) -> Prompts:
        """``n`` fresh prompts from the stream (never repeated within a run)."""
        indices = np.arange(self._next_index, self._next_index + n, dtype=np.int64)
        self._next_index += n
        self.costs.prompts_drawn += n
        return self._make(indices)

    def test_prompts(self, n: int) -> Prompts:
        """Held-out evaluation prompts (not charged)."""
        return self._make(np.arange(TEST_INDEX_OFFSET, TEST_INDEX_OFFSET + n, dtype=np.int64))

    def tasks(self, prompts: Prompts) -> list[Task]:
        if prompts._tasks is None:
            prompts._tasks = [self.family.generate(self.level, int(i)) for i in prompts.indices]
        return prompts._tasks

    def _make(self, indices: np.ndarray) -> Prompts:
        return Prompts(indices)

    # ----- outcomes -----
    def correct(self, prompts: Prompts, completions: Any) -> np.ndarray:
        """Whether each completion is right (free: for evaluation only)."""
        raise NotImplementedError

    def verify(self, prompts: Prompts, completions: Any) -> np.ndarray:
        """The outcome verifier V(x, y_T), charged one call per completion."""
        self.costs.verifier_calls += len(prompts)
        return self.correct(prompts, completions)

    def answers(self, completions: Any) -> Any:
        """The final answers (hashable, ``None``/-1 when malformed) that the plurality vote counts."""
        raise NotImplementedError

    def vote(self, member_completions: Sequence[Any]) -> Any:
        """Plurality vote over members; returns completions whose answers are the winners."""
        raise NotImplementedError

    def parse_demonstration(self, prompts: Prompts, row: int, text: Any) -> Any | None:
        """A teacher's text as training supervision, or None when malformed."""
        raise NotImplementedError

    def stack(self, demonstrations: list[Any]) -> Any:
        """Collect parsed demonstrations into the learner's supervision format."""
        return demonstrations


class ArrayProblem(Problem):
    """The clustered op-chain, vectorised: completions are ``[n, level]`` state arrays (-1 rows = malformed)."""

    family: ClusteredOpChainFamily

    def __init__(self, family: TaskFamily, level: int | None = None, stream_offset: int = 0):
        if not isinstance(family, ClusteredOpChainFamily):
            raise InvalidTypeError(f"ArrayProblem needs the clustered_op_chain family, got {family.name!r}")
        super().__init__(family, level, stream_offset)
        self.modulus = family.modulus

    def _make(self, indices: np.ndarray) -> Prompts:
        return Prompts(indices, self.family.instances(self.level, indices))

    def truth(self, prompts: Prompts) -> np.ndarray:
        return self.family.states(prompts.instances)  # type: ignore[arg-type]

    def correct(self, prompts: Prompts, completions: np.ndarray) -> np.ndarray:
        if len(prompts) == 0:
            return np.zeros(0, dtype=bool)
        return np.asarray(completions)[:, -1] == self.truth(prompts)[:, -1]

    def answers(self, completions: np.ndarray) -> np.ndarray:
        return np.asarray(completions)[:, -1]

    def vote(self, member_completions: Sequence[np.ndarray]) -> np.ndarray:
        from autocurriculum.autotune.ensemble import plurality_vote_int

        winners = plurality_vote_int(np.stack([self.answers(c) for c in member_completions]), self.modulus)
        out = np.full((len(winners), self.level), -1, dtype=np.int64)
        out[:, -1] = winners
        return out

    def parse_demonstration(self, prompts: Prompts, row: int, text: Any) -> np.ndarray | None:
        return parse_states(text, self.level, self.modulus)

    def stack(self, demonstrations: list[Any]) -> np.ndarray:
        if not demonstrations:
            return np.zeros((0, self.level), dtype=np.int64)
        return np.stack(demonstrations).astype(np.int64)


class TextProblem(Problem):
    """Any registered task family at one level; completions are strings checked by the family's verifier."""

    def correct(self, prompts: Prompts, completions: Sequence[str]) -> np.ndarray:
        tasks = self.tasks(prompts)
        return np.array([self.family.score(t, c) > 0 for t, c in zip(tasks, completions, strict=True)], dtype=bool)

    def answers(self, completions: Sequence[str]) -> list[str | None]:
        out = []
        for c in completions:
            try:
                out.append(self.family.verifier.parse(c))
            except Exception:  # model text is arbitrary; a parse failure is just a malformed answer
                out.append(None)
        return out

    def vote(self, member_completions: Sequence[Sequence[str]]) -> list[str]:
        from autocurriculum.autotune.ensemble import plurality_vote

        answers = [self.answers(c) for c in member_completions]
        winners = plurality_vote(answers)
        # hand back a completion of a member that gave the winning answer, so the verifier sees a full text
        out = []
        for i, w in enumerate(winners):
            chosen = next((member_completions[m][i] for m in range(len(answers)) if answers[m][i] == w), "")
            out.append(chosen if w is not None else "")
        return out

    def parse_demonstration(self, prompts: Prompts, row: int, text: Any) -> str | None:
        if not isinstance(text, str) or not text:
            return None
        alphabet = set(self.family.alphabet)
        if alphabet and not set(text) <= alphabet:
            return None
        if len(text) > self.family.max_demonstration_length:
            return None
        return text


def make_problem(family: TaskFamily, level: int | None = None, stream_offset: int = 0, text: bool = False) -> Problem:
    """``ArrayProblem`` for the clustered op-chain (unless ``text``), else ``TextProblem``."""
    if isinstance(family, ClusteredOpChainFamily) and not text:
        return ArrayProblem(family, level, stream_offset)
    return TextProblem(family, level, stream_offset)
