"""Any reasoning-gym task as a task source (optional: ``pip install reasoning-gym``; works offline).

Difficulty: reasoning-gym declares each task's difficulty attributes in its
curriculum (for ``chain_sum``: ``num_terms`` 2..12, ``num_digits`` 1..10).
``ReasoningGymSource`` builds one generator config per *global level* ``g``
(every attribute set to its ``g``-th level, clipped to the attribute's last
level) or takes explicit ``configs``. Each task carries the attribute values as
knobs (``num_terms``, ``num_digits``, ...), ``level = g + 1``, and the numeric
per-item metadata reasoning-gym reports; the category is ``<task>:L<level>``.

Reward: reasoning-gym scores in [0, 1] with partial credit (a wrong number can
score 0.2, a near miss in countdown 0.05). ``reward`` returns 1.0 iff
``score_answer >= success_threshold`` (default 1.0: exact), which is what the
curriculum's pass rates assume. ``score`` returns the raw partial credit.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

from autocurriculum.core.errors import ConfigError, InvalidArgumentError, UnknownNameError
from autocurriculum.core.task import Task, TaskPool

__all__ = ["ReasoningGymSource"]


class ReasoningGymSource:
    """Generate, hold and score tasks of one reasoning-gym dataset.

    ``pool`` is a ``TaskPool`` (ids ``rg:<task>:L<level>:s<seed>:<index>``),
    deterministic in ``(name, seed, levels, size_per_level)``.
    """

    def __init__(
        self,
        name: str,
        levels: Sequence[int] | None = None,
        size_per_level: int = 50,
        seed: int = 0,
        success_threshold: float = 1.0,
        configs: Sequence[Mapping[str, Any]] | None = None,
        answer_tag: str | None = "answer",
    ):
        import reasoning_gym
        from reasoning_gym.factory import DATASETS

        if name not in DATASETS:
            raise UnknownNameError(f"unknown reasoning-gym task {name!r}; {len(DATASETS)} are registered")
        if not 0.0 < success_threshold <= 1.0:
            raise ConfigError(f"success_threshold must lie in (0, 1], got {success_threshold}")
        if size_per_level < 1:
            raise ConfigError(f"size_per_level must be >= 1, got {size_per_level}")
        self.name = name
        self.seed = seed
        self.success_threshold = success_threshold
        self.answer_tag = answer_tag
        self._entries: dict[str, dict[str, Any]] = {}
        self._datasets: dict[str, Any] = {}
        tasks: list[Task] = []
        for level, kwargs, knobs in self._configurations(levels, configs):
            dataset = reasoning_gym.create_dataset(name, **{**kwargs, "seed": seed + level, "size": size_per_level})
            for index in range(size_per_level):
                entry = dataset[index]
                if entry.get("answer") is None:
                    continue  # tasks answered by search (rubiks_cube, ...) have no gold string to learn from
                task_id = f"rg:{name}:L{level}:s{seed}:{index}"
                metadata = {
                    k: float(v)
                    for k, v in entry.get("metadata", {}).items()
                    if isinstance(v, numbers.Real) and not isinstance(v, bool) and k != "source_index"
                }
                tasks.append(
                    Task(
                        task_id=task_id,
                        prompt=entry["question"],
                        answer=str(entry["answer"]),
                        category=f"{name}:L{level}",
                        knobs={**metadata, **knobs, "level": float(level)},
                    )
                )
                self._entries[task_id] = entry
                self._datasets[task_id] = dataset
        if not tasks:
            raise ConfigError(f"reasoning-gym task {name!r} produced no task with a gold answer")
        self.pool = TaskPool(tasks)

    def _configurations(
        self, levels: Sequence[int] | None, configs: Sequence[Mapping[str, Any]] | None
    ) -> list[tuple[int, dict[str, Any], dict[str, float]]]:
        """``(level, generator kwargs, attribute knobs)`` per difficulty setting."""
        if configs is not None:
            out = []
            for i, cfg in enumerate(configs, start=1):
                knobs = {k: float(v) for k, v in cfg.items() if isinstance(v, numbers.Real) and not isinstance(v, bool)}
                out.append((i, dict(cfg), knobs))
            return out
        from reasoning_gym.factory import create_curriculum

        try:
            curriculum = create_curriculum(self.name)
        except Exception:  # no curriculum registered: one level, the default config
            return [(1, {}, {})]
        attributes = curriculum.attributes
        max_level = max((len(a.levels) for a in attributes.values()), default=1)
        chosen = list(levels) if levels is not None else list(range(1, max_level + 1))
        out = []
        for level in chosen:
            if not 1 <= level <= max_level:
                raise InvalidArgumentError(f"level {level} outside 1..{max_level} for reasoning-gym task {self.name!r}")
            knobs: dict[str, float] = {}
            for attr_name, attr in attributes.items():
                index = min(level, len(attr.levels)) - 1
                curriculum.set_attr_level(attr_name, index)
                value = attr.levels[index]
                if isinstance(value, numbers.Real) and not isinstance(value, bool):
                    knobs[attr_name] = float(value)
            config = curriculum.generate_configuration({"seed": 0, "size": 1})
            kwargs = {k: v for k, v in vars(config).items() if k not in ("seed", "size")}
            out.append((level, kwargs, knobs))
        return out

    def extract(self, completion: str) -> str | None:
        """The answer inside ``<answer>...</answer>`` (or the whole completion when ``answer_tag`` is None)."""
        if self.answer_tag is None:
            return completion.strip() or None
        from reasoning_gym.utils import extract_answer

        return extract_answer(completion, tag_name=self.answer_tag)

    def score(self, task_id: str, completion: str) -> float:
        """reasoning-gym's partial credit in [0, 1]; 0.0 for malformed output, never raises on model text."""
        entry = self._entries[task_id]
        try:
            answer = self.extract(completion) if isinstance(completion, str) else None
            value = float(self._datasets[task_id].score_answer(answer=answer, entry=entry))
        except Exception:
            return 0.0
        return min(1.0, max(0.0, value)) if value == value else 0.0

    def reward(self, task_id: str, completion: str) -> float:
        """1.0 iff the partial-credit score reaches ``success_threshold``."""
        return 1.0 if self.score(task_id, completion) >= self.success_threshold else 0.0

    def entry(self, task_id: str) -> dict[str, Any]:
        return self._entries[task_id]

    def __len__(self) -> int:
        return len(self.pool)
