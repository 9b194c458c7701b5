"""Ranks and the plurality vote of an ensemble of models (AutoTune's improper, outcome-level output)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np

from autocurriculum.core.errors import InvalidArgumentError


def ranks(correct: np.ndarray) -> np.ndarray:
    """rank(x) = how many members answer x correctly; ``correct`` is ``[members, prompts]`` booleans."""
    correct = np.asarray(correct)
    if correct.ndim != 2:
        raise InvalidArgumentError(f"ranks: expected a [members, prompts] array, got shape {correct.shape}")
    return correct.astype(np.int64).sum(axis=0)


def plurality_vote(answers: Sequence[Sequence[Hashable]] | np.ndarray) -> list[Hashable]:
    """The most frequent answer per prompt over members (``answers[member][prompt]``).

    Tie rule (deterministic): among the answers with the highest count, the one given by the
    lowest-indexed member wins, i.e. the oldest member of the ensemble breaks ties. ``None``
    (a malformed answer) never wins unless every member gave ``None``.
    """
    members = len(answers)
    if members == 0:
        raise InvalidArgumentError("plurality_vote: the ensemble is empty")
    n = len(answers[0])
    winners: list[Hashable] = []
    for i in range(n):
        counts: dict[Hashable, int] = {}
        first: dict[Hashable, int] = {}
        for m in range(members):
            a = answers[m][i]
            if a is None:
                continue
            counts[a] = counts.get(a, 0) + 1
            first.setdefault(a, m)
        if not counts:
            winners.append(None)
            continue
        winners.append(min(counts, key=lambda a: (-counts[a], first[a])))
    return winners


def plurality_vote_int(answers: np.ndarray, num_values: int) -> np.ndarray:
    """Vectorised ``plurality_vote`` for integer answers in ``0..num_values-1`` (same tie rule; -1 = malformed)."""
    answers = np.asarray(answers, dtype=np.int64)
    members, n = answers.shape
    if members == 0:
        raise InvalidArgumentError("plurality_vote_int: the ensemble is empty")
    counts = np.zeros((n, num_values + 1), dtype=np.int64)
    first = np.full((n, num_values + 1), members, dtype=np.int64)
    cols = np.arange(n)
    for m in range(members - 1, -1, -1):  # backwards so the earliest member's index is written last
        values = np.where(answers[m] < 0, num_values, answers[m])
        counts[cols, values] += 1
        first[cols, values] = m
    counts[:, num_values] = -1  # malformed never wins against a real answer
    key = counts * (members + 1) + (members - first)  # highest count, then earliest member
    winner = key.argmax(axis=1)
    no_answer = counts[:, :num_values].max(axis=1) == 0
    return np.where(no_answer | (winner == num_values), -1, winner)
