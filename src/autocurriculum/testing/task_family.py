"""``check_task_family``: the contract of a registered task family.

Deterministic in ``(seed, level, index)`` only; the family's verifier accepts the family's own answer and
demonstration and never raises on junk (it returns a reward in [0, 1]); a task id parses back to its task
through the streaming source, the one place ids are read without a lookup table.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autocurriculum.tasks import StreamingTaskSource, TaskFamily, make_task_family, task_family_class
from autocurriculum.testing.curriculum import ContractViolation, _ensure

JUNK = ["", " ", "\n\n", "answer:", "#### ", "=" * 500, "0" * 10_000, "ÿ\x00\ufffd😀", "None", "-", "1e309", "[]"]


def _family(name: str) -> TaskFamily:
    return make_task_family(name, {"seed": 0})


def check_deterministic_per_index(name: str) -> None:
    first, second = _family(name), _family(name)
    for level in first.levels:
        for index in (0, 1, 17):
            _ensure(first.generate(level, index) == second.generate(level, index), f"L{level} #{index} differs")
    prompts = {first.generate(first.levels[-1], i).prompt for i in range(20)}
    _ensure(len(prompts) > 1, "20 indices of one level gave one prompt: the index is ignored")
    other_seed = make_task_family(name, {"seed": 1})
    level = first.levels[-1]
    _ensure(
        any(first.generate(level, i).prompt != other_seed.generate(level, i).prompt for i in range(20)),
        "seeds 0 and 1 give the same tasks",
    )


def check_verifier_accepts_own_answers(name: str) -> None:
    family = _family(name)
    for level in family.levels:
        for index in range(5):
            task = family.generate(level, index)
            solution = task.demonstration if task.demonstration is not None else task.answer
            _ensure(family.score(task, solution) == 1.0, f"L{level} #{index}: own solution {solution!r} scored < 1")


def check_verifier_never_raises_on_junk(name: str) -> None:
    family = _family(name)
    rng = np.random.default_rng(0)
    alphabet = list(family.alphabet or "0123456789+-=# ")
    junk = JUNK + ["".join(rng.choice(alphabet, size=int(rng.integers(1, 60)))) for _ in range(50)]
    for level in family.levels[:: max(1, len(family.levels) // 3)]:
        task = family.generate(level, 0)
        for completion in junk:
            try:
                reward = family.score(task, completion)
            except Exception as exc:
                raise ContractViolation(f"the verifier raised {type(exc).__name__} on {completion[:40]!r}") from exc
            _ensure(0.0 <= float(reward) <= 1.0, f"reward {reward!r} for {completion[:40]!r} is outside [0, 1]")


def check_ids_parse_back(name: str) -> None:
    family = _family(name)
    stream = StreamingTaskSource([family], tasks_per_level=1_000)
    rows = np.random.default_rng(0).integers(0, len(stream), size=20)
    ids = stream.ids_of(rows)
    _ensure(stream.rows_of(ids).tolist() == rows.tolist(), "task ids do not parse back to their rows")
    for row, task_id in zip(rows, ids, strict=True):
        _ensure(stream[int(row)].task_id == task_id, f"row {row}: id {task_id!r} is not its task's id")
        fam, level, index = stream.locate(int(row))
        _ensure(task_id == fam.task_id(level, index), f"{task_id!r} is not family.task_id({level}, {index})")


TASK_FAMILY_CHECKS: list[Callable[[str], None]] = [
    check_deterministic_per_index,
    check_verifier_accepts_own_answers,
    check_verifier_never_raises_on_junk,
    check_ids_parse_back,
]


def check_task_family(name: str) -> None:
    """Run every task-family check; raises ``ContractViolation`` naming the first failure."""
    task_family_class(name)  # an unknown name lists the registered ones
    for check in TASK_FAMILY_CHECKS:
        try:
            check(name)
        except ContractViolation as exc:
            raise ContractViolation(f"task family {name!r}, {check.__name__}: {exc}") from exc
