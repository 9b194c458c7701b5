"""The SFT warm start: demonstrations of the easiest levels, a few hundred SFT steps, and an on-disk cache.

Every strategy of a seed starts from the same warm-started student, so it is trained once per seed and cached,
keyed by everything that shapes its weights: the task families and their options, the seed, the warm-start and
SFT settings, the model (with its derived sizes) and the device type. Pool sizes, thread counts and the RL
settings do not change the weights and are not part of the key.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from autocurriculum.experiments.config import WarmStartConfig
from autocurriculum.tasks import TaskFamily
from autocurriculum.trainers import SFTConfig, SFTTrainer, TinyGPT, load_model, save_model

if TYPE_CHECKING:
    from autocurriculum.experiments.testbed import Testbed

# Demonstrations come from generator indices far from the RL and held-out pools.
DEMONSTRATION_INDEX_OFFSET = 1_000_000
_CACHE_FORMAT = 2  # bump when the procedure changes in a way the key does not see


def demonstrations(families: Sequence[TaskFamily], config: WarmStartConfig) -> list[tuple[str, str]]:
    """``(prompt, demonstration)`` pairs: ``config.demonstrations_at(level)`` per family and level."""
    offset = DEMONSTRATION_INDEX_OFFSET
    return [
        (task.prompt, task.demonstration or task.answer)
        for family in families
        for level in family.levels
        for task in (family.generate(level, i) for i in range(offset, offset + config.demonstrations_at(level)))
    ]


def warm_start_key(testbed: Testbed, sft: SFTConfig) -> str:
    """A short hash of everything that shapes the warm-started weights."""
    blob = json.dumps(
        {
            "format": _CACHE_FORMAT,
            "tasks": testbed.config.tasks,
            "task_options": {name: testbed.config.task_options.get(name, {}) for name in testbed.config.tasks},
            "seed": testbed.seed,
            "warm_start": asdict(testbed.warm_start_config),
            "model": asdict(testbed.model_config),
            "sft": asdict(sft),
            "device": testbed.device.type,
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def warm_start(
    testbed: Testbed, sft: SFTConfig, cache_dir: Path | None = None, progress: bool = False
) -> tuple[TinyGPT, bool]:
    """The SFT warm-started student on the testbed's device and whether it came from ``cache_dir``."""
    path = (
        None
        if cache_dir is None
        else Path(cache_dir) / f"warmstart-seed{testbed.seed}-{warm_start_key(testbed, sft)}.pt"
    )
    if path is not None and path.exists():
        return load_model(path).model.to(testbed.device), True
    model = testbed.new_model()
    steps, accuracy = train_until_converged(testbed, model, sft, progress=progress)
    if path is not None:
        metadata = {
            "warm_start": asdict(testbed.warm_start_config),
            "sft": asdict(sft),
            "seed": testbed.seed,
            "steps": steps,
            "warm_up_accuracy": accuracy,
        }
        save_model(path, model, testbed.tokenizer, metadata=metadata)
    return model, False


def train_until_converged(
    testbed: Testbed, model: TinyGPT, sft: SFTConfig, progress: bool = False
) -> tuple[int, float | None]:
    """SFT in chunks of ``check_every`` steps until the demonstrated levels reach ``target_accuracy``.

    Returns the steps taken and the last measured accuracy (None when SFT is skipped). The tiny student
    learns a task's step rule in a sudden jump after a plateau whose length varies by seed, so a fixed step
    count would leave some seeds' warm starts unconverged and their RL runs incomparable.
    """
    config = testbed.warm_start_config
    if config.steps == 0:
        return 0, None
    trainer = SFTTrainer(model, testbed.tokenizer, sft, seed=testbed.seed)
    steps, accuracy = 0, 0.0
    while steps < config.steps:
        chunk = min(config.check_every, config.steps - steps)
        trainer.train(testbed.demonstrations, steps=chunk, progress=progress)
        steps += chunk
        accuracy = testbed.warm_up_accuracy(model)
        if accuracy >= config.target_accuracy:
            break
    if accuracy < config.target_accuracy:
        warnings.warn(
            f"warm start (seed {testbed.seed}): greedy accuracy on unseen prompts of the demonstrated levels is "
            f"{accuracy:.3f} after {steps} SFT steps, below warm_start.target_accuracy={config.target_accuracy}; "
            "raise warm_start.steps or sft.learning_rate, or RL starts from an unconverged student",
            WarmStartNotConverged,
            stacklevel=2,
        )
    return steps, accuracy


class WarmStartNotConverged(UserWarning):
    """The SFT warm start ended below its target accuracy on the demonstrated levels."""
