"""The embedded testbed: procedural task pools, a tiny transformer student and its warm start.

Everything a run needs apart from the curriculum: train and held-out pools,
the tokenizer, an SFT warm-started model (cached per seed and shared by every
strategy so they start from the same point), verification and evaluation.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from autocurriculum.core import ConfigError, Task, TaskPool, TaskSource
from autocurriculum.experiments.config import TestbedConfig
from autocurriculum.tasks import StreamingTaskSource, TaskFamily, build_pool, make_task_family
from autocurriculum.trainers import (
    CharTokenizer,
    SFTConfig,
    SFTTrainer,
    TinyGPT,
    TinyGPTConfig,
    greedy_complete,
    load_model,
    save_model,
)

# Warm-start demonstrations come from generator indices far from the RL and held-out pools.
WARMUP_INDEX_OFFSET = 1_000_000


class Testbed:
    """Pools, tokenizer, student factory and evaluation for one seed."""

    __test__ = False

    def __init__(self, config: TestbedConfig, seed: int):
        config.validate()
        self.config = config
        self.seed = seed
        self.families: list[TaskFamily] = [
            make_task_family(name, {"seed": seed, **config.task_options.get(name, {})}) for name in config.tasks
        ]
        self.family_by_name = {f.name: f for f in self.families}
        self.train_pool: TaskSource
        if config.pool == "streaming":
            slots = sum(len(f.levels) for f in self.families)
            train_per_level = math.ceil(config.streaming_size / slots)
            self.train_pool = StreamingTaskSource(self.families, tasks_per_level=train_per_level)
        else:
            train_per_level = config.train_tasks_per_level
            self.train_pool = build_pool(self.families, train_per_level)
        if train_per_level + config.eval_tasks_per_level > WARMUP_INDEX_OFFSET:
            raise ConfigError(
                f"testbed: {train_per_level} training + {config.eval_tasks_per_level} held-out prompts per level "
                f"would reach the warm-start index range ({WARMUP_INDEX_OFFSET}); use a smaller pool"
            )
        # held-out tasks use indices past the training range (low levels can still repeat a prompt by chance)
        self.eval_pool = build_pool(self.families, config.eval_tasks_per_level, index_offset=train_per_level)
        self.tokenizer = CharTokenizer.from_texts("".join(f.alphabet for f in self.families))
        self.max_new_tokens = max(f.max_demonstration_length for f in self.families) + 1  # + eos
        self.max_seq_len = max(f.prompt_length for f in self.families) + self.max_new_tokens
        self._eval_rows_by_level = _rows_by_level(self.eval_pool)

    # ----- verification -----
    def score(self, tasks: Sequence[Task], completions: Sequence[str]) -> np.ndarray:
        return np.array(
            [self.family_by_name[t.category].score(t, c) for t, c in zip(tasks, completions, strict=True)],
            dtype=np.float64,
        )

    # ----- the student -----
    def new_model(self) -> TinyGPT:
        cfg = TinyGPTConfig(
            vocab_size=self.tokenizer.vocab_size,
            d_model=self.config.d_model,
            n_layers=self.config.n_layers,
            n_heads=self.config.n_heads,
            max_seq_len=self.max_seq_len,
            position_encoding=self.config.position_encoding,
        )
        return TinyGPT(cfg, seed=self.seed)

    def warmup_examples(self) -> list[tuple[str, str]]:
        """Teacher demonstrations (the generators' programmatic solutions) of the easiest levels."""
        offset = WARMUP_INDEX_OFFSET
        return [
            (task.prompt, task.demonstration or task.answer)
            for family in self.families
            for level in family.levels
            if level <= self.config.warmup_max_level
            for task in (family.generate(level, i) for i in range(offset, offset + self.config.warmup_tasks_per_level))
        ]

    def warm_start(self, cache_dir: Path | None = None, progress: bool = False) -> TinyGPT:
        """The SFT warm-started student, loaded from ``cache_dir`` when an identical one was trained before."""
        key = self._warm_start_key()
        path = None if cache_dir is None else Path(cache_dir) / f"warmstart-seed{self.seed}-{key}.pt"
        if path is not None and path.exists():
            return load_model(path).model
        model = self.new_model()
        if self.config.warmup_steps > 0:
            trainer = SFTTrainer(
                model,
                self.tokenizer,
                SFTConfig(learning_rate=self.config.warmup_learning_rate, batch_size=self.config.warmup_batch_size),
                seed=self.seed,
            )
            trainer.train(self.warmup_examples(), steps=self.config.warmup_steps, progress=progress)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_model(path, model, self.tokenizer, metadata={"testbed": asdict(self.config), "seed": self.seed})
        return model

    def _warm_start_key(self) -> str:
        # only what changes the warm-started weights: pools and thread counts do not
        ignored = (
            "pool",
            "streaming_size",
            "train_tasks_per_level",
            "eval_tasks_per_level",
            "torch_threads",
            "warm_start_cache",
        )
        relevant = {k: v for k, v in asdict(self.config).items() if k not in ignored}
        blob = json.dumps({"config": relevant, "seed": self.seed}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    # ----- evaluation -----
    def evaluate(self, model: TinyGPT) -> dict[str, float]:
        """Greedy held-out accuracy per ``family/Llevel`` plus ``overall`` (mean over levels)."""
        prompts = [self.eval_pool.prompt(r) for r in range(len(self.eval_pool))]
        completions = greedy_complete(model, self.tokenizer, prompts, self.max_new_tokens)
        correct = self.score(list(self.eval_pool), completions)
        accuracy = {name: float(correct[rows].mean()) for name, rows in self._eval_rows_by_level.items()}
        accuracy["overall"] = float(np.mean(list(accuracy.values())))
        return accuracy

    @property
    def level_names(self) -> list[str]:
        return list(self._eval_rows_by_level)


def level_key(category: str, level: float) -> str:
    return f"{category}/L{int(level)}"


def _rows_by_level(pool: TaskPool) -> dict[str, np.ndarray]:
    keys = [level_key(pool.category_names[c], lv) for c, lv in zip(pool.category_codes, pool.levels(), strict=True)]
    order: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        order.setdefault(key, []).append(row)
    return {k: np.array(v) for k, v in order.items()}
