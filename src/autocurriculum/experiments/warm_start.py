"""The SFT warm start: demonstrations of the easiest levels, SFT until they are learnt, and an on-disk cache.

Every strategy of a seed starts from the same warm-started student, so it is trained once per seed and cached,
keyed by everything that shapes its weights: the task families and their options, the seed, the warm-start and
SFT settings, the model (with its derived sizes), the device type and torch's thread count at training time (it
changes the summation order of the matrix products, so the weights differ in their last bits, and the difference
grows over a thousand SFT steps). Pool sizes and the RL settings do not change the weights and are not part of
the key.

The same key names the *base students* shipped with the package (``base_students/``): the default testbed's warm
starts of seeds 0-9, trained once on one machine. SFT amplifies the last bits of floating-point summation, which
differ between CPUs with other vector units, so every machine that trains its own warm start gets other students
(docs/testbed.md, "Base students"); like a real RL run that starts from a published checkpoint, the testbed starts
from the shipped ones wherever the key matches, and trains (and caches) only for other settings.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import torch

from autocurriculum.experiments.config import WarmStartConfig
from autocurriculum.tasks import TaskFamily
from autocurriculum.trainers import SFTConfig, SFTTrainer, TinyGPT, load_model, save_model

if TYPE_CHECKING:
    from autocurriculum.experiments.testbed import Testbed

# Demonstrations come from generator indices far from the RL and held-out pools.
DEMONSTRATION_INDEX_OFFSET = 1_000_000
BASE_STUDENTS = Path(__file__).with_name("base_students")  # read-only: regenerate with benchmarks/base_students.yaml
_CACHE_FORMAT = 3  # bump when the procedure changes in a way the key does not see
WarmStartSource = Literal["base student", "cache", "trained"]


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
            "threads": torch.get_num_threads(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def warm_start_filename(testbed: Testbed, sft: SFTConfig) -> str:
    """The file a warm start is stored under, in the cache and among the base students."""
    return f"warmstart-seed{testbed.seed}-{warm_start_key(testbed, sft)}.pt"


def warm_start(
    testbed: Testbed, sft: SFTConfig, progress: bool = False, base_students: Path = BASE_STUDENTS
) -> tuple[TinyGPT, WarmStartSource]:
    """The SFT warm-started student on the testbed's device, and where it came from.

    Looked up first among the shipped ``base_students`` (the same weights on every machine) when
    ``testbed.config.base_students`` is on, then in ``testbed.config.warm_start_cache`` when that is set; trained
    only when neither holds it, and then saved to the cache. The source is ``"base student"``, ``"cache"`` or
    ``"trained"``.
    """
    name = warm_start_filename(testbed, sft)
    cache_dir = Path(testbed.config.warm_start_cache) if testbed.config.warm_start_cache else None
    if testbed.config.base_students and (base_students / name).exists():
        return load_model(base_students / name).model.to(testbed.device), "base student"
    if cache_dir is not None and (cache_dir / name).exists():
        return load_model(cache_dir / name).model.to(testbed.device), "cache"
    run = train_until_converged(testbed, sft, progress=progress)
    if cache_dir is not None:
        metadata = {
            "warm_start": asdict(testbed.warm_start_config),
            "sft": asdict(sft),
            "seed": testbed.seed,
            "attempt": run.attempt,
            "steps": run.steps,
            "warm_up_accuracy": run.accuracy,
        }
        save_model(cache_dir / name, run.model, testbed.tokenizer, metadata=metadata)
    return run.model, "trained"


@dataclass(frozen=True)
class WarmStartRun:
    """The student an SFT warm start kept, and how it got there."""

    model: TinyGPT
    attempt: int  # 0-based index of the initialisation kept
    steps: int  # SFT steps of that attempt
    accuracy: float | None  # last greedy accuracy on the demonstrated levels (None when SFT is skipped)


def train_until_converged(testbed: Testbed, sft: SFTConfig, progress: bool = False) -> WarmStartRun:
    """SFT from fresh initialisations until the demonstrated levels reach ``target_accuracy``.

    Each attempt trains in chunks of ``check_every`` steps, for at most ``steps``, and stops at the target. The
    tiny student learns a task's step rule in a sudden jump after a plateau whose length depends on its
    initialisation: most initialisations jump within a thousand steps, a few stay on the plateau for thousands.
    A fixed step count would leave those seeds' students unconverged and their RL runs incomparable, so an
    attempt that ends below the target is replaced by a fresh initialisation, up to ``attempts``; if none
    converges the most accurate one is kept, with a warning.
    """
    config = testbed.warm_start_config
    if config.steps == 0:
        return WarmStartRun(testbed.new_model(), attempt=0, steps=0, accuracy=None)
    best: WarmStartRun | None = None
    for attempt in range(config.attempts):
        model = testbed.new_model(attempt)
        trainer = SFTTrainer(model, testbed.tokenizer, sft, seed=testbed.seed + attempt)
        steps, accuracy = 0, 0.0
        while steps < config.steps:
            chunk = min(config.check_every, config.steps - steps)
            trainer.train(testbed.demonstrations, steps=chunk, progress=progress)
            steps += chunk
            accuracy = testbed.warm_up_accuracy(model)
            if accuracy >= config.target_accuracy:
                return WarmStartRun(model, attempt, steps, accuracy)
        if best is None or accuracy > (best.accuracy or 0.0):
            best = WarmStartRun(model, attempt, steps, accuracy)
    assert best is not None  # attempts >= 1 is validated
    warnings.warn(
        f"warm start (seed {testbed.seed}): no initialisation of {config.attempts} reached "
        f"warm_start.target_accuracy={config.target_accuracy} within {config.steps} SFT steps; keeping attempt "
        f"{best.attempt}, whose greedy accuracy on unseen prompts of the demonstrated levels is {best.accuracy:.3f}. "
        "Raise warm_start.steps or warm_start.attempts, or RL starts from an unconverged student",
        WarmStartNotConverged,
        stacklevel=2,
    )
    return best


class WarmStartNotConverged(UserWarning):
    """The SFT warm start ended below its target accuracy on the demonstrated levels."""
