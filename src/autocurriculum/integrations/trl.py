"""Drive ``trl.GRPOTrainer`` (TRL 1.x) with any registered curriculum strategy.

TRL has no curriculum hook, so the adapter uses three documented seams:

* **Sampler.** ``GRPOTrainer._get_train_sampler`` is overridden to return a
  ``CurriculumRepeatSampler``. It emits exactly the index stream of TRL's
  ``RepeatSampler`` (each prompt ``num_generations`` times in a row, each chunk
  of ``generation_batch_size // num_generations`` prompts repeated
  ``num_iterations * steps_per_generation`` times, same ``__len__``), but the
  prompts of each chunk are chosen lazily by ``curriculum.select`` when the
  dataloader reaches the chunk. Rows are looked up from a dataset id column
  (``task_id`` by default), never from positions.
* **Feedback.** TRL callbacks only see aggregated rewards, so the reward
  function that defines success is wrapped (``CurriculumFeedback``). The
  wrapper passes the rewards through unchanged, gathers ``(task_id, reward)``
  from all processes with ``accelerate.utils.gather_object`` and reports the
  groups to the sampler, which updates the curriculum. Every rank applies the
  same gathered update in the same order, so every rank's sampler replica
  emits the same stream (accelerate shards one global stream across ranks).
* **Checkpoints.** A callback writes ``autocurriculum_state.json`` into each
  ``checkpoint-N`` folder (``on_save``); ``train(resume_from_checkpoint=...)``
  reads it back before TRL rebuilds the dataloader, so a resumed run continues
  the selection sequence of an uninterrupted one.

Feedback lag: accelerate's dataloader fetches one batch ahead and the Trainer
fetches ``gradient_accumulation_steps`` batches per optimizer step, so chunk
``k + 1`` can be selected before the rewards of chunk ``k`` exist. The sampler
never waits: a selection uses whatever feedback has arrived, and records the
number of chunks still awaiting feedback as ``feedback_lag`` in
``selection_log`` (typically 1 when ``steps_per_generation * num_iterations``
equals the batches fetched per optimizer step, 0 when it is larger).
"""

from __future__ import annotations

import inspect
import logging
import math
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from torch.utils.data import Sampler

from autocurriculum.core import (
    Ability,
    Curriculum,
    GenerationRoundsExhausted,
    GroupOutcome,
    InvalidOutcomeError,
    UnsupportedStrategyError,
    require_supported,
    success_values,
)
from autocurriculum.core.codec import load_state, save_state
from autocurriculum.core.errors import (
    ConfigError,
    InvalidArgumentError,
    InvalidTypeError,
    MissingFieldError,
    StateFormatError,
    StrategyContractError,
    UnknownTaskError,
)
from autocurriculum.core.step_metrics import curriculum_step_metrics

logger = logging.getLogger(__name__)

STATE_FILE = "autocurriculum_state.json"
STATE_FORMAT = 1

__all__ = [
    "STATE_FILE",
    "CurriculumCheckpointCallback",
    "CurriculumFeedback",
    "CurriculumGRPOTrainer",
    "CurriculumRepeatSampler",
    "rewards_to_outcomes",
]


def _reward_value(task_id: str, reward: Any, success_threshold: float | None) -> float | None:
    """One reward as the curriculum reads it (None = not applicable); a bad value is an error naming the task."""
    if reward is None:
        return None
    try:
        value = float(reward)
    except (TypeError, ValueError, OverflowError):
        raise InvalidOutcomeError(f"task {task_id!r}: reward {reward!r} is not a number") from None
    if math.isnan(value):
        return None  # TRL's "not applicable"
    if not math.isfinite(value) or (success_threshold is None and not 0.0 <= value <= 1.0):
        raise InvalidOutcomeError(
            f"task {task_id!r}: reward {reward!r} is outside [0, 1]; pass success_threshold=... to turn shaped "
            "rewards into a binary success signal for the curriculum"
        )
    return value


def _to_success(task_ids: Sequence[str], values: Sequence[Any], success_threshold: float | None) -> np.ndarray:
    """Rewards for the curriculum: finite values in [0, 1] (binary when a threshold is given); NaN = not applicable."""
    checked = [_reward_value(t, v, success_threshold) for t, v in zip(task_ids, values, strict=True)]
    return success_values(checked, success_threshold)


def rewards_to_outcomes(
    task_ids: Sequence[str],
    rewards: Sequence[float | None],
    group_size: int,
    success_threshold: float | None = None,
    step: int = 0,
) -> list[GroupOutcome]:
    """Per-completion ``(task_id, reward)`` in stream order -> one ``GroupOutcome`` per prompt group.

    Consecutive blocks of ``group_size`` completions form a group (the sampler
    emits each prompt ``num_generations`` times in a row, and the gathered order
    is the stream order), so a prompt selected twice in one chunk stays two
    groups. When the blocks are not uniform the completions are grouped by id.
    ``None``/NaN rewards ("not applicable" in TRL) are left out of the group.
    """
    task_ids = [str(t) for t in task_ids]
    if len(task_ids) != len(rewards):
        raise InvalidArgumentError(f"{len(task_ids)} task ids for {len(rewards)} rewards")
    values = _to_success(task_ids, rewards, success_threshold)
    blocks: list[tuple[str, np.ndarray]] = []
    uniform = group_size > 0 and len(task_ids) % group_size == 0
    if uniform:
        for start in range(0, len(task_ids), group_size):
            ids = set(task_ids[start : start + group_size])
            if len(ids) != 1:
                uniform = False
                break
            blocks.append((task_ids[start], values[start : start + group_size]))
    if not uniform:
        order: dict[str, list[int]] = {}
        for i, t in enumerate(task_ids):
            order.setdefault(t, []).append(i)
        blocks = [(t, values[idx]) for t, idx in order.items()]
    outcomes = []
    for task_id, group in blocks:
        group = group[~np.isnan(group)]
        if group.size:
            outcomes.append(GroupOutcome(task_id, group, step=step))
    return outcomes


class CurriculumRepeatSampler(Sampler[int]):
    """TRL's ``RepeatSampler`` index stream, with each chunk's prompts chosen by a curriculum.

    ``dataset_ids[row]`` is the task id of dataset row ``row``. One chunk is
    ``batch_size`` prompts; an epoch is ``len(dataset_ids) // batch_size``
    chunks, as in TRL, so the Trainer's step count is unchanged.

    Bookkeeping for exact resume: ids of chunks selected but not yet scored
    (``pending``) are kept, so a resumed run replays them instead of drawing
    again; the Trainer's own skipping of already-trained batches then lines up.
    """

    def __init__(
        self,
        curriculum: Curriculum,
        dataset_ids: Sequence[str],
        mini_repeat_count: int,
        batch_size: int = 1,
        repeat_count: int = 1,
        success_threshold: float | None = None,
    ):
        if mini_repeat_count < 1 or batch_size < 1 or repeat_count < 1:
            raise ConfigError(
                f"mini_repeat_count, batch_size and repeat_count must be >= 1, got "
                f"{mini_repeat_count}, {batch_size}, {repeat_count}"
            )
        self.curriculum = curriculum
        self.dataset_ids = [str(t) for t in dataset_ids]
        self.row_of: dict[str, int] = {}
        for row, task_id in enumerate(self.dataset_ids):
            if task_id in self.row_of:
                raise InvalidArgumentError(
                    f"duplicate task id {task_id!r} in dataset rows {self.row_of[task_id]} and {row}"
                )
            self.row_of[task_id] = row
        self.mini_repeat_count = mini_repeat_count
        self.batch_size = batch_size
        self.repeat_count = repeat_count
        self.success_threshold = success_threshold
        self.num_samples = len(self.dataset_ids)
        self.chunks_per_epoch = self.num_samples // batch_size
        if self.chunks_per_epoch == 0:
            raise ConfigError(
                f"the dataset has {self.num_samples} rows, fewer than one generation batch of {batch_size} prompts"
            )
        self._check_pool_ids()
        self.epoch = 0  # set by the Trainer through set_epoch, else advanced after each full pass
        self._active_epoch = -1
        self.selected: dict[int, list[str]] = {}  # chunk index in the active epoch -> ids (pending + last scored)
        self.next_unscored = 0  # first chunk of the active epoch whose feedback has not arrived
        self._replay_guard = False  # after a resume, a re-scored chunk must not be counted twice
        self.selection_log: list[dict[str, Any]] = []  # one record per select() call, for logging and tests
        self.feedback_log: list[list[str]] = []  # group ids of each scored generation batch
        self.curriculum_seconds = 0.0
        self.chunks_scored = 0
        self.last_outcomes: list[GroupOutcome] = []

    def _check_pool_ids(self) -> None:
        pool_ids = getattr(self.curriculum.pool, "ids", None)
        if pool_ids is None:
            return  # a streaming source: unknown ids surface at selection time
        missing = [str(t) for t in pool_ids if str(t) not in self.row_of]
        if missing:
            raise InvalidArgumentError(
                f"{len(missing)} task id(s) of the curriculum's pool are not in the dataset's id column "
                f"(first: {missing[0]!r}); the curriculum can only choose prompts the dataset holds"
            )

    # ----- the index stream -----
    def __len__(self) -> int:
        return self.chunks_per_epoch * self.batch_size * self.mini_repeat_count * self.repeat_count

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def _start_epoch(self) -> None:
        if self._active_epoch != self.epoch:
            self._active_epoch = self.epoch
            self.selected = {}
            self.next_unscored = 0

    def _chunk_ids(self, chunk: int) -> list[str]:
        ids = self.selected.get(chunk)
        if ids is not None:
            return ids
        if chunk < self.next_unscored:
            # Already trained before a resume and skipped by the Trainer: any valid rows do.
            return [self.dataset_ids[0]] * self.batch_size
        t0 = time.perf_counter()
        ids = self.curriculum.select(self.batch_size)
        self.curriculum_seconds += time.perf_counter() - t0
        unknown = [t for t in ids if t not in self.row_of]
        if unknown:
            raise UnknownTaskError(f"the curriculum selected task id {unknown[0]!r}, which is not in the dataset")
        self.selected[chunk] = ids
        self.selection_log.append(
            {"epoch": self._active_epoch, "chunk": chunk, "ids": list(ids), "feedback_lag": chunk - self.next_unscored}
        )
        return ids

    def __iter__(self) -> Iterator[int]:
        self._start_epoch()
        for chunk in range(self.chunks_per_epoch):
            rows = [self.row_of[t] for t in self._chunk_ids(chunk)]  # selected lazily: as late as the loader allows
            for _ in range(self.repeat_count):
                for row in rows:
                    for _ in range(self.mini_repeat_count):
                        yield row
        self.epoch = self._active_epoch + 1

    # ----- feedback -----
    def report(self, task_ids: Sequence[str], rewards: Sequence[float | None], step: int = 0) -> list[GroupOutcome]:
        """Feed back one scored generation batch (all ranks' completions, in stream order).

        Returns the groups passed to ``curriculum.update`` (empty when the batch
        was a re-scoring of an already counted chunk after a mid-chunk resume).
        """
        outcomes = rewards_to_outcomes(task_ids, rewards, self.mini_repeat_count, self.success_threshold, step)
        self.last_outcomes = outcomes  # the groups of the batch just scored, for generate-until-full
        group_ids = [str(t) for t in task_ids[:: self.mini_repeat_count]]
        head = self.selected.get(self.next_unscored)
        previous = self.selected.get(self.next_unscored - 1)
        if head is not None and group_ids == head:
            self.next_unscored += 1
            # keep the chunk just scored: a resume in its middle makes the Trainer iterate it again
            self.selected = {j: ids for j, ids in self.selected.items() if j >= self.next_unscored - 1}
            self._replay_guard = False
        elif self._replay_guard and previous is not None and group_ids == previous:
            # TRL regenerates a chunk when resumed in its middle; the uninterrupted run counted it once.
            self._replay_guard = False
            return []
        else:
            logger.debug("curriculum feedback for a batch the sampler did not emit; updating anyway")
        t0 = time.perf_counter()
        self.curriculum.update(outcomes)
        self.curriculum_seconds += time.perf_counter() - t0
        self.chunks_scored += 1
        self.feedback_log.append(group_ids)
        return outcomes

    def log_metrics(self) -> dict[str, float]:
        """The curriculum's own signals, namespaced ``curriculum/``, for the trainer's logger."""
        metrics = curriculum_step_metrics(
            self.curriculum,
            scored=self.last_outcomes,
            selected_ids=self.selection_log[-1]["ids"] if self.selection_log else (),
            seconds=self.curriculum_seconds,
        )
        metrics["curriculum/feedback_lag"] = (
            float(self.selection_log[-1]["feedback_lag"]) if self.selection_log else 0.0
        )
        return metrics

    # ----- persistence -----
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "curriculum": self.curriculum.state_dict(),
            "epoch": self._active_epoch if self._active_epoch >= 0 else self.epoch,
            "next_unscored": self.next_unscored,
            "selected": {str(j): ids for j, ids in self.selected.items()},
            "geometry": self._geometry(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise StateFormatError(f"unsupported autocurriculum state format {state.get('format')!r}")
        if state["geometry"] != self._geometry():
            raise StateFormatError(
                f"checkpoint was written with sampler geometry {state['geometry']}, this run has {self._geometry()}; "
                "keep num_generations, generation_batch_size, steps_per_generation and the dataset unchanged to resume"
            )
        self.curriculum.load_state_dict(state["curriculum"])
        self.epoch = self._active_epoch = int(state["epoch"])
        self.next_unscored = int(state["next_unscored"])
        self.selected = {int(j): [str(t) for t in ids] for j, ids in state["selected"].items()}
        self._replay_guard = True

    def restart_epoch(self) -> None:
        """Forget the active epoch's pending selections (the Trainer will not skip its batches)."""
        self._active_epoch = -1

    def _geometry(self) -> dict[str, int]:
        return {
            "num_samples": self.num_samples,
            "batch_size": self.batch_size,
            "mini_repeat_count": self.mini_repeat_count,
            "repeat_count": self.repeat_count,
        }

    def save(self, directory: str | os.PathLike[str]) -> Path:
        path = Path(directory) / STATE_FILE
        save_state(self.state_dict(), path)  # atomic: a crash mid-write never leaves a truncated state file
        return path

    def load(self, directory: str | os.PathLike[str]) -> bool:
        """Load ``directory/autocurriculum_state.json``; False (with a warning) if the checkpoint has none."""
        path = Path(directory) / STATE_FILE
        if not path.is_file():
            warnings.warn(
                f"{directory} holds no {STATE_FILE}; the curriculum restarts from its initial state",
                stacklevel=2,
            )
            return False
        self.load_state_dict(load_state(path))
        return True


class CurriculumFeedback:
    """Wrap a TRL reward function so its per-completion rewards also reach the curriculum.

    The rewards returned to TRL are the wrapped function's, unchanged. For the
    curriculum they must lie in [0, 1] unless ``success_threshold`` is given,
    in which case ``reward >= success_threshold`` counts as a success.
    ``gather`` collects a list from every process (``accelerate.utils.gather_object``
    by default; every rank must call it, so the wrapper reports on all ranks).
    """

    def __init__(
        self,
        reward_func: Callable[..., list[float | None]],
        sampler: CurriculumRepeatSampler | None = None,
        id_column: str = "task_id",
        gather: Callable[[list[Any]], list[Any]] | None = None,
        is_training: Callable[[], bool] | None = None,
    ):
        if inspect.iscoroutinefunction(reward_func) or inspect.iscoroutinefunction(
            getattr(reward_func, "__call__", None)  # noqa: B004 - a callable instance's async __call__
        ):
            raise InvalidTypeError("CurriculumFeedback wraps synchronous reward functions only")
        self.reward_func = reward_func
        self.sampler = sampler
        self.id_column = id_column
        self._gather = gather
        self.is_training = is_training or (lambda: True)
        # TRL names reward columns after the function; keep the user's name in its logs.
        self.__name__ = getattr(reward_func, "__name__", type(reward_func).__name__)

    def gather(self, items: list[Any]) -> list[Any]:
        if self._gather is not None:
            return self._gather(items)
        from accelerate.utils import gather_object

        return gather_object(items)

    def __call__(self, prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float | None]:
        rewards = list(self.reward_func(prompts=prompts, completions=completions, **kwargs))
        if self.sampler is None or not self.is_training():
            return rewards  # evaluation batches are not the curriculum's business
        if self.id_column not in kwargs:
            raise UnknownTaskError(
                f"reward kwargs have no {self.id_column!r} column; the train dataset needs a task id column "
                f"(pass id_column=... to name yours)"
            )
        # checked here, before anything is gathered or recorded: a bad reward names its task and changes nothing
        threshold = self.sampler.success_threshold
        local = [
            (str(t), _reward_value(str(t), r, threshold)) for t, r in zip(kwargs[self.id_column], rewards, strict=True)
        ]
        pairs = self.gather(local)
        state = kwargs.get("trainer_state")
        step = int(getattr(state, "global_step", 0) or 0)
        self.sampler.report([t for t, _ in pairs], [r for _, r in pairs], step=step)
        return rewards


def _trainer_callback_base() -> type:
    from transformers import TrainerCallback

    return TrainerCallback


class CurriculumCheckpointCallback(_trainer_callback_base()):  # type: ignore[misc]
    """Write the sampler's (and curriculum's) state into every TRL checkpoint folder."""

    def __init__(self, sampler: CurriculumRepeatSampler):
        self.sampler = sampler

    def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
        if state.is_world_process_zero:  # all ranks hold the same state; one writer suffices
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            folder.mkdir(parents=True, exist_ok=True)
            self.sampler.save(folder)
        return control


TRL_SUPPORTS = frozenset({Ability.FILTERS_GROUPS})  # generate-until-full (any rank count); no screens or ragged groups
# keys of GRPOTrainer's generation output that generate-until-full knows how to split and join
_PADDED_LEFT = {"prompt_ids", "prompt_mask"}
_PADDED_RIGHT = {
    "completion_ids",
    "completion_mask",
    "old_per_token_logps",
    "ref_per_token_logps",
    "sampling_per_token_logps",
}
_PER_ROW = {"advantages"}


def _rows(output: dict[str, Any], rows: slice) -> dict[str, Any]:
    """One group's rows of a GRPOTrainer generation output."""
    part = {}
    for key, value in output.items():
        if key == "num_items_in_batch":
            continue  # recomputed for the joined batch
        if key not in _PADDED_LEFT | _PADDED_RIGHT | _PER_ROW:
            raise NotImplementedError(
                f"generate-until-full cannot split TRL's generation output {key!r} (vLLM importance sampling, "
                "multimodal inputs and tools are not supported with a filtering strategy yet)"
            )
        part[key] = value[rows]
    return part


def _concatenate_outputs(parts: list[dict[str, Any]], pad_token_id: int | None) -> dict[str, Any]:
    """Join groups from several generation rounds, re-padding prompts on the left and completions on the right."""
    import torch

    from autocurriculum.trainers.sequences import right_pad

    joined: dict[str, Any] = {}
    for key in parts[0]:
        values = [p[key] for p in parts]
        if key in _PER_ROW:
            joined[key] = torch.cat(values)
            continue
        width = max(v.shape[1] for v in values)
        fill = (pad_token_id or 0) if key.endswith("_ids") else 0
        if key in _PADDED_LEFT:
            joined[key] = torch.cat(
                [torch.cat([v.new_full((v.shape[0], width - v.shape[1]), fill), v], 1) for v in values]
            )
        else:
            joined[key] = right_pad(values, width, fill)
    joined["num_items_in_batch"] = joined["completion_mask"].sum()
    return joined


def _grpo_trainer_base() -> type:
    from trl import GRPOTrainer

    return GRPOTrainer


class CurriculumGRPOTrainer(_grpo_trainer_base()):  # type: ignore[misc]
    """``trl.GRPOTrainer`` whose prompts are chosen by ``curriculum``.

    ``reward_funcs[feedback_reward]`` defines success for the curriculum (the
    others are passed to TRL untouched). The train dataset must be a
    ``datasets.Dataset`` with an ``id_column`` holding the pool's task ids.
    ``shuffle_dataset`` is ignored: the curriculum decides the order.
    """

    def __init__(
        self,
        model: Any,
        reward_funcs: Any,
        args: Any = None,
        train_dataset: Any = None,
        *,
        curriculum: Curriculum,
        id_column: str = "task_id",
        feedback_reward: int = 0,
        success_threshold: float | None = None,
        **kwargs: Any,
    ):
        # Filtering strategies get DAPO's generate-until-full loop (``_generate_until_full``). TRL gives every
        # prompt num_generations completions and has no screening pass, so screening and allocating strategies
        # would silently run as a different method: refuse them.
        require_supported(type(curriculum), curriculum.config, "TRL (CurriculumGRPOTrainer)", (), TRL_SUPPORTS)
        funcs = list(reward_funcs) if isinstance(reward_funcs, (list, tuple)) else [reward_funcs]
        if (
            not 0 <= feedback_reward < len(funcs)
            or not callable(funcs[feedback_reward])
            or isinstance(funcs[feedback_reward], str)
        ):
            raise ConfigError(
                f"reward_funcs[{feedback_reward}] must be a Python reward function to feed the curriculum"
            )
        feedback = CurriculumFeedback(funcs[feedback_reward], id_column=id_column)
        funcs[feedback_reward] = feedback
        super().__init__(model=model, reward_funcs=funcs, args=args, train_dataset=train_dataset, **kwargs)
        from datasets import Dataset

        if not isinstance(self.train_dataset, Dataset):
            raise InvalidTypeError(
                "CurriculumGRPOTrainer needs a datasets.Dataset train set (an IterableDataset has no rows)"
            )
        if id_column not in self.train_dataset.column_names:
            raise MissingFieldError(
                f"train dataset has no {id_column!r} column (columns: {', '.join(self.train_dataset.column_names)})"
            )
        self.curriculum = curriculum
        self.curriculum_sampler = CurriculumRepeatSampler(
            curriculum,
            self.train_dataset[id_column],
            mini_repeat_count=self.num_generations,
            batch_size=self.args.generation_batch_size // self.num_generations,
            repeat_count=self.num_iterations * self.args.steps_per_generation,
            success_threshold=success_threshold,
        )
        feedback.sampler = self.curriculum_sampler
        feedback.is_training = lambda: bool(self.model.training)
        self.add_callback(CurriculumCheckpointCallback(self.curriculum_sampler))

        self._id_column = id_column

    def _get_train_sampler(self, dataset: Any = None) -> Sampler:
        return self.curriculum_sampler

    def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        if not self.model.training:
            return super()._generate_and_score_completions(inputs)
        if Ability.FILTERS_GROUPS in self.curriculum.abilities:
            output = self._generate_until_full(inputs)
        else:
            output = super()._generate_and_score_completions(inputs)
        # through TRL's own metrics, so they land in log_history and wherever report_to points
        for key, value in self.curriculum_sampler.log_metrics().items():
            self._metrics["train"][key].append(value)
        return output

    def _generate_until_full(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """DAPO dynamic sampling inside TRL: generate, report every group, keep what ``filter`` keeps, draw more
        prompts from the curriculum until the generation batch is full of kept groups.

        Every generated group reaches ``curriculum.update`` (through the reward wrapper, which gathers all ranks'
        rewards). After ``curriculum.max_generation_rounds`` rounds the batch is completed with dropped groups
        (zero advantage, so no gradient: a partial batch in effect, keeping TRL's batch shape) and a
        ``GenerationRoundsExhausted`` warning is issued. Round counts and zero-std shares go to TRL's logs under
        ``curriculum/``.

        Several ranks: each rank trains on its own groups, and every rank sees every rank's outcomes, so all of
        them compute the same keep decisions and the same per-rank counts without talking. A round continues
        until the rank furthest behind is full; every rank generates the same number of prompts in it (TRL
        gathers equal shapes), drawn by one identical ``select`` and split by rank.
        """
        g = self.num_generations
        world, rank = self.accelerator.num_processes, self.accelerator.process_index
        if len(inputs) % g:
            raise UnsupportedStrategyError(
                f"generate-until-full keeps or drops whole groups on each rank, but this rank's generation batch "
                f"of {len(inputs)} completions is not a multiple of num_generations={g}; make "
                "per_device_train_batch_size * steps_per_generation a multiple of num_generations"
            )
        needed = len(inputs) // g  # groups this rank (and every rank) trains on
        kept: list[dict[str, Any]] = []
        dropped: list[dict[str, Any]] = []
        kept_per_rank = [0] * world
        generated_groups = zero_std_groups = rounds = 0
        batch = inputs
        while True:
            output = super()._generate_and_score_completions(batch)
            outcomes = self.curriculum_sampler.last_outcomes  # every rank's groups, rank by rank
            local = len(batch) // g
            if len(outcomes) != local * world:
                raise StrategyContractError(
                    f"expected {local * world} scored groups ({local} on each of {world} ranks) from the reward "
                    f"wrapper, got {len(outcomes)}"
                )
            rounds += 1
            generated_groups += len(outcomes)
            zero_std_groups += sum(o.is_zero_variance for o in outcomes)
            keep = {id(o) for o in self.curriculum.filter(outcomes)}
            for r in range(world):
                passed = sum(id(o) in keep for o in outcomes[r * local : (r + 1) * local])
                kept_per_rank[r] = min(needed, kept_per_rank[r] + passed)
            for i, outcome in enumerate(outcomes[rank * local : (rank + 1) * local]):
                part = _rows(output, slice(i * g, (i + 1) * g))
                (kept if id(outcome) in keep and len(kept) < needed else dropped).append(part)
            if min(kept_per_rank) >= needed or rounds >= self.curriculum.max_generation_rounds:
                break
            per_rank = self.curriculum.generation_size(needed - min(kept_per_rank))
            ids = self.curriculum.select(per_rank * world)  # the same on every rank: same state, same draws
            rows = [self.curriculum_sampler.row_of[t] for t in ids[rank * per_rank : (rank + 1) * per_rank]]
            batch = [self.train_dataset[row] for row in rows for _ in range(g)]
        if min(kept_per_rank) < needed:
            warnings.warn(
                f"strategy {self.curriculum.name!r}: only {sum(kept_per_rank)} of {needed * world} groups passed "
                f"the filter after {rounds} generation rounds; the rest of the batch holds dropped groups, whose "
                "advantages are zero",
                GenerationRoundsExhausted,
                stacklevel=2,
            )
        trained = kept + dropped[: needed - len(kept)]
        metrics = self._metrics["train"]
        metrics["curriculum/generation_rounds"].append(float(rounds))
        metrics["curriculum/zero_std_before_filter"].append(zero_std_groups / max(generated_groups, 1))
        metrics["curriculum/zero_std_after_filter"].append(1.0 - sum(kept_per_rank) / (needed * world))
        metrics["curriculum/generated_groups_per_trained"].append(generated_groups / (needed * world))
        return _concatenate_outputs(trained, self.processing_class.pad_token_id)

    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs: Any) -> Any:
        checkpoint = resume_from_checkpoint
        if checkpoint is True:
            from transformers.trainer_utils import get_last_checkpoint

            checkpoint = get_last_checkpoint(self.args.output_dir)
        if isinstance(checkpoint, (str, os.PathLike)) and self.curriculum_sampler.load(checkpoint):
            if self.args.ignore_data_skip:
                self.curriculum_sampler.restart_epoch()  # the Trainer re-reads the epoch from its start
        return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)


def tiny_offline_model(alphabet: str, hidden_size: int = 64, num_layers: int = 2, seed: int = 0) -> tuple[Any, Any]:
    """A randomly initialised Qwen2-style causal LM and a character tokenizer, built locally (no hub access).

    For smoke tests and examples on CPU: ``alphabet`` lists every character
    prompts and completions may contain. Returns ``(model, tokenizer)``.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<pad>", "<eos>", "<unk>"]
    chars = sorted(set(alphabet))
    vocab = {tok: i for i, tok in enumerate(specials + chars)}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    backend.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>", padding_side="left"
    )
    config = Qwen2Config(
        vocab_size=len(vocab),
        hidden_size=hidden_size,
        intermediate_size=4 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["<eos>"],
        bos_token_id=None,
    )
    with torch.random.fork_rng(devices=[]):  # seeded initialisation without touching the caller's RNG
        torch.manual_seed(seed)
        model = Qwen2ForCausalLM(config)
    model.generation_config.pad_token_id = vocab["<pad>"]
    model.generation_config.eos_token_id = vocab["<eos>"]
    model.generation_config.bos_token_id = None
    return model, tokenizer
