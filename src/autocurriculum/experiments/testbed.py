"""The embedded testbed: procedural task pools, the tokenizer, the student factory and evaluation.

Built for one seed from the config sections (``testbed``, ``model``, ``warm_start``); it knows nothing of
strategies. Held-out prompts are prompts the student never trained on: any prompt whose text is among the
warm-start demonstrations or in the RL training pool is skipped and further generator indices refill the
level. A level whose prompt space is too small to give ``min_eval_prompts_per_level`` unseen prompts is
evaluated apart and left out of ``overall`` (``metadata`` lists it with its count).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch

from autocurriculum.core import ConfigError, Task, TaskPool, TaskSource, config_section, require
from autocurriculum.experiments.config import TestbedConfig, WarmStartConfig, resolve_device
from autocurriculum.experiments.warm_start import DEMONSTRATION_INDEX_OFFSET, demonstrations
from autocurriculum.tasks import StreamingTaskSource, TaskFamily, build_pool, make_task_family
from autocurriculum.trainers import CharTokenizer, GRPOConfig, TinyGPT, TinyGPTConfig, generate, greedy_complete

if TYPE_CHECKING:
    from autocurriculum.experiments.config import ExperimentConfig

C = TypeVar("C")
# Initialisation seeds of successive warm-start attempts lie this far apart, so no two (seed, attempt) pairs meet.
INIT_SEED_STRIDE = 1_000_003

# Candidate generator indices tried per level when refilling held-out prompts the student has seen.
_HELD_OUT_ATTEMPTS_FACTOR = 8
_HELD_OUT_ATTEMPTS_EXTRA = 256


class Testbed:
    """Pools, tokenizer, student factory, scoring and evaluation for one seed."""

    __test__ = False

    def __init__(
        self,
        config: TestbedConfig,
        seed: int,
        model: TinyGPTConfig | None = None,
        warm_start: WarmStartConfig | None = None,
    ):
        config.validate()
        self.config = config
        self.seed = seed
        with config_section("testbed"):
            self.device = torch.device(resolve_device(config.device))
        self.warm_start_config = warm_start or WarmStartConfig()
        # the tasks and the pools the student trains on
        self.families: list[TaskFamily] = [
            make_task_family(name, {"seed": seed, **config.task_options.get(name, {})}) for name in config.tasks
        ]
        self.family_by_name = {f.name: f for f in self.families}
        self.train_pool: TaskSource
        if config.pool == "streaming":
            slots = sum(len(f.levels) for f in self.families)
            self.train_tasks_per_level = math.ceil(config.streaming_size / slots)
            self.train_pool = StreamingTaskSource(self.families, tasks_per_level=self.train_tasks_per_level)
        else:
            self.train_tasks_per_level = config.train_tasks_per_level
            self.train_pool = build_pool(self.families, self.train_tasks_per_level)
        # the student's vocabulary and sizes, derived from the tasks
        self.tokenizer = CharTokenizer.from_texts("".join(f.alphabet for f in self.families))
        self.max_new_tokens = max(f.max_demonstration_length for f in self.families) + 1  # + eos
        self.max_seq_len = max(f.prompt_length for f in self.families) + self.max_new_tokens
        self.model_config = derive(
            model or TinyGPTConfig(), "model", vocab_size=self.tokenizer.vocab_size, max_seq_len=self.max_seq_len
        )
        # the warm start's demonstrations, then held-out prompts that are neither demonstrations nor training prompts
        self.demonstrations = demonstrations(self.families, self.warm_start_config)
        self.eval_pool, self.held_out_prompts = self._held_out_pool()
        rows = _rows_by_level(self.eval_pool)
        self._level_of = {
            level_key(c, lv): int(lv)
            for c, lv in zip(
                (self.eval_pool.category_names[c] for c in self.eval_pool.category_codes),
                self.eval_pool.levels(),
                strict=True,
            )
        }
        enough = config.min_eval_prompts_per_level
        # Levels the warm start demonstrated are reported apart when `overall` is to measure what RL adds.
        beyond_only = config.overall_levels == "beyond_warm_start"
        counted = {
            k
            for k in rows
            if self.held_out_prompts[k] >= enough
            and not (beyond_only and self._level_of[k] <= self.warm_start_config.max_level)
        }
        self._eval_rows = {k: r for k, r in rows.items() if k in counted}
        self._apart_rows = {k: r for k, r in rows.items() if k not in counted}
        require(
            len(self._eval_rows) > 0,
            "testbed.min_eval_prompts_per_level",
            f"no level has {enough} held-out prompts the student never trained on (counts: {self.held_out_prompts})",
        )

    @classmethod
    def from_config(cls, config: ExperimentConfig, seed: int) -> Testbed:
        return cls(config.testbed, seed, model=config.model, warm_start=config.warm_start)

    # ----- derived trainer settings -----
    def grpo_config(self, grpo: GRPOConfig) -> GRPOConfig:
        """``grpo`` with the completion length the tasks need filled in."""
        return derive(grpo, "grpo", max_new_tokens=self.max_new_tokens)

    def generator(self, offset: int) -> torch.Generator:
        """A sampling generator on the student's device, seeded with ``offset + seed``."""
        return torch.Generator(device=self.device).manual_seed(offset + self.seed)

    # ----- verification -----
    def score(self, tasks: Sequence[Task], completions: Sequence[str]) -> np.ndarray:
        return np.array(
            [self.family_by_name[t.category].score(t, c) for t, c in zip(tasks, completions, strict=True)],
            dtype=np.float64,
        )

    # ----- the student -----
    def new_model(self, attempt: int = 0) -> TinyGPT:
        """A freshly initialised student on the testbed's device, seeded by the seed and the warm-start attempt."""
        return TinyGPT(self.model_config, seed=self.seed + INIT_SEED_STRIDE * attempt).to(self.device)

    def monte_carlo_pass_rates(
        self,
        model: TinyGPT,
        tasks: Sequence[Task],
        samples: int,
        temperature: float,
        generator: torch.Generator,
        chunk: int = 256,
        score: Callable[[Sequence[Task], Sequence[str]], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Fraction of ``samples`` completions at ``temperature`` that solve each task (``chunk`` tasks per call),
        scored by ``score`` (default: each task's family verifier, ``Testbed.score``)."""
        score = score or self.score
        rates = []
        for start in range(0, len(tasks), chunk):
            part = list(tasks[start : start + chunk])
            prompts = [t.prompt for t in part for _ in range(samples)]
            with torch.no_grad():
                out = generate(model, self.tokenizer, prompts, self.max_new_tokens, temperature, generator=generator)
            rewards = score([t for t in part for _ in range(samples)], out.texts)
            rates.append(rewards.reshape(len(part), samples).mean(axis=1))
        return np.concatenate(rates) if rates else np.zeros(0)

    def pass_rate_histogram(
        self, model: TinyGPT, samples: int = 8, max_prompts: int = 2048, temperature: float = 1.0
    ) -> dict[str, Any]:
        """How many training prompts ``model`` solves k of ``samples`` times, overall and per level.

        Returns ``{"samples", "counts": [c0..c_samples], "by_level": {"family/Lx": [...]},
        "zero_variance_fraction"}``; a pool bigger than ``max_prompts`` is subsampled uniformly (seeded).
        """
        require(samples >= 1, "samples", f"must be >= 1, got {samples}")
        require(max_prompts >= 1, "max_prompts", f"must be >= 1, got {max_prompts}")
        size = len(self.train_pool)
        if size <= max_prompts:
            rows = np.arange(size)
        else:
            rows = np.sort(np.random.default_rng([self.seed, 314159]).choice(size, size=max_prompts, replace=False))
        tasks = [self.train_pool[int(r)] for r in rows]
        rates = self.monte_carlo_pass_rates(model, tasks, samples, temperature, self.generator(30_000))
        solved = np.rint(rates * samples).astype(np.int64)
        keys = [level_key(t.category, t.level) for t in tasks]
        by_level = {}
        for family in self.families:
            for level in family.levels:
                key = level_key(family.name, level)
                mask = np.array([k == key for k in keys], dtype=bool)
                if mask.any():
                    by_level[key] = np.bincount(solved[mask], minlength=samples + 1).tolist()
        counts = np.bincount(solved, minlength=samples + 1)
        return {
            "samples": samples,
            "counts": counts.tolist(),
            "by_level": by_level,
            "zero_variance_fraction": float(counts[0] + counts[samples]) / max(int(counts.sum()), 1),
        }

    # ----- evaluation -----
    def warm_up_accuracy(self, model: TinyGPT, per_level: int = 64) -> float:
        """Greedy accuracy on unseen prompts of the demonstrated levels (the warm start's convergence check)."""
        rows = [
            r[:per_level]
            for name, r in {**self._eval_rows, **self._apart_rows}.items()
            if self._level_of[name] <= self.warm_start_config.max_level
        ]
        if not rows:
            return 1.0  # no family has a demonstrated level: nothing to converge on
        return float(self._greedy_correct(model, np.concatenate(rows)).mean())

    def evaluate(self, model: TinyGPT) -> dict[str, float]:
        """Greedy held-out accuracy per evaluated ``family/Llevel`` plus ``overall`` (unweighted mean over them)."""
        return self.evaluate_levels(model)[0]

    def evaluate_levels(self, model: TinyGPT) -> tuple[dict[str, float], dict[str, float]]:
        """``evaluate``'s record, and the accuracy of the levels reported apart (too few unseen prompts)."""
        correct = self._greedy_correct(model, np.arange(len(self.eval_pool)))
        accuracy = {name: float(correct[rows].mean()) for name, rows in self._eval_rows.items()}
        accuracy["overall"] = float(np.mean(list(accuracy.values())))
        apart = {name: float(correct[rows].mean()) for name, rows in self._apart_rows.items()}
        return accuracy, apart

    def _greedy_correct(self, model: TinyGPT, rows: np.ndarray) -> np.ndarray:
        """1.0/0.0 per held-out row: does the student's greedy completion solve it?"""
        prompts = [self.eval_pool.prompt(int(r)) for r in rows]
        completions = greedy_complete(model, self.tokenizer, prompts, self.max_new_tokens)
        return self.score([self.eval_pool[int(r)] for r in rows], completions)

    def evaluate_only(self, levels: Iterable[str]) -> None:
        """Report every evaluated level not in ``levels`` apart (so that several seeds share one set of levels)."""
        keep = set(levels)
        for name in [k for k in self._eval_rows if k not in keep]:
            self._apart_rows[name] = self._eval_rows.pop(name)
        require(len(self._eval_rows) > 0, "levels", f"none of {sorted(keep)} is evaluated on this testbed")

    @property
    def level_names(self) -> list[str]:
        """The levels in ``evaluate``'s record (and in ``overall``)."""
        return list(self._eval_rows)

    @property
    def metadata(self) -> dict[str, Any]:
        """Pool sizes and held-out coverage, for the comparison's ``summary.json``."""
        return {
            "device": str(self.device),
            "train_prompts": len(self.train_pool),
            "demonstrations": len(self.demonstrations),
            "held_out_prompts": dict(self.held_out_prompts),
            "evaluated_levels": self.level_names,
            # levels left out of `overall`: demonstrated by the warm start (overall_levels='beyond_warm_start')
            # or with too few prompts the student never trained on
            "excluded_levels": {k: n for k, n in self.held_out_prompts.items() if k not in self._eval_rows},
            "overall_levels": self.config.overall_levels,
            "min_held_out_prompts": self.config.min_eval_prompts_per_level,
        }

    # ----- construction of the held-out pool -----
    def _seen_prompt_hashes(self) -> np.ndarray:
        """Sorted hashes of every prompt the student may train on: demonstrations and the RL training pool."""
        if isinstance(self.train_pool, TaskPool):
            training: Iterable[str] = (self.train_pool.prompt(r) for r in range(len(self.train_pool)))
        else:  # a streaming pool: generate its prompts once (no table of them is kept)
            training = (
                family.generate(level, index).prompt
                for family in self.families
                for level in family.levels
                for index in range(self.train_tasks_per_level)
            )
        prompts = itertools.chain((prompt for prompt, _ in self.demonstrations), training)
        return np.unique(np.fromiter((hash(prompt) for prompt in prompts), dtype=np.int64))

    def _held_out_pool(self) -> tuple[TaskPool, dict[str, int]]:
        target = self.config.eval_tasks_per_level
        attempts = _HELD_OUT_ATTEMPTS_FACTOR * target + _HELD_OUT_ATTEMPTS_EXTRA
        start = self.train_tasks_per_level  # indices past the training range, refilled when a prompt was seen
        if start + attempts > DEMONSTRATION_INDEX_OFFSET:
            raise ConfigError(
                f"testbed: {start} training prompts per level + up to {attempts} held-out candidates would reach the "
                f"warm-start index range ({DEMONSTRATION_INDEX_OFFSET}); use a smaller pool"
            )
        seen = self._seen_prompt_hashes()
        tasks: list[Task] = []
        counts: dict[str, int] = {}
        for family in self.families:
            for level in family.levels:
                taken: set[str] = set()
                for index in range(start, start + attempts):
                    task = family.generate(level, index)
                    h = hash(task.prompt)
                    at = int(np.searchsorted(seen, h))
                    if (at < seen.size and seen[at] == h) or task.prompt in taken:
                        continue
                    taken.add(task.prompt)
                    tasks.append(task)
                    if len(taken) == target:
                        break
                counts[level_key(family.name, level)] = len(taken)
        return TaskPool(tasks), counts


def derive(config: C, section: str, **values: Any) -> C:
    """``config`` with the testbed-derived ``values`` filled in; a ConfigError if one was set to something else."""
    for name, value in values.items():
        current = getattr(config, name)
        require(
            current is None or current == value,
            f"{section}.{name}",
            f"is derived by the testbed ({value}); leave it unset, got {current!r}",
        )
    return dataclasses.replace(config, **values)  # type: ignore[type-var]


def level_key(category: str, level: float) -> str:
    return f"{category}/L{int(level)}"


def _rows_by_level(pool: TaskPool) -> dict[str, np.ndarray]:
    keys = [level_key(pool.category_names[c], lv) for c, lv in zip(pool.category_codes, pool.levels(), strict=True)]
    order: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        order.setdefault(key, []).append(row)
    return {k: np.array(v) for k, v in order.items()}
