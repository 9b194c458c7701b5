"""Drive verl with any registered curriculum strategy. verl is imported lazily: this module imports without it.

Two paths, because verl removed its sampler hook after 0.7:

**verl <= 0.7 (``AbstractCurriculumSampler``; the hook is absent from the 0.8.0
and 0.9 wheels).** ``CurriculumSampler`` is loaded by verl itself::

    data.sampler.class_path=pkg://autocurriculum.integrations.verl
    data.sampler.class_name=CurriculumSampler
    data.dataloader_num_workers=0            # verl asserts this for curriculum samplers
    +data.curriculum.strategy=thompson
    +data.curriculum.options={target: 0.5}
    +data.curriculum.id_key=index            # key in extra_info holding the task id
    +data.curriculum.success_key=acc         # reward_extra_info key; else sum of token_level_scores
    +data.curriculum.success_threshold=null  # set it to binarise shaped scores

Each dataloader batch of ``gen_batch_size or train_batch_size`` prompts is one
``select`` call made lazily, after verl's ``sampler.update(batch)`` for the
previous step (zero lag with ``num_workers=0``). The curriculum's state and the
position in the epoch are the sampler's ``state_dict``, which verl's
``StatefulDataLoader`` writes into ``data.pt`` with each checkpoint.

DAPO's dynamic-sampling trainer never calls ``sampler.update`` and drops
all-equal groups first; call ``report_before_filter(sampler, batch)`` on every
generated batch before filtering (or ``curriculum_filter`` to let the strategy
filter) and set ``data.curriculum.report_before_filter=true`` so that a later
trainer ``update`` call is not counted twice.

**verl >= 0.8.** ``CurriculumDataset`` (``data.custom_cls``) hands out the
prompt the curriculum chooses instead of the one at the requested index, and
``curriculum_reward`` wraps a ``compute_score`` to report each scored
rollout. Dataset (in the trainer process) and reward workers (other processes)
share the curriculum through the library's one service (``autocurriculum.service``:
``serve_curriculum``, the named Ray actor), which assembles single rollouts into
groups and persists its state to ``data.curriculum.state_path``, reloading it on start.

**verl 0.9's v1 trainer** (the default, ``trainer.use_v1=true``) never calls the
dataset's ``on_batch_end``. ``CurriculumReplayBuffer``
(``trainer.v1.sampler.custom_sampler``) adds the service's ``curriculum/...``
metrics to each training step's metrics dict (verl logs it) and, with
``trainer.v1.sampler.sampler_kwargs.feedback=batch_end``, reports each sampled
batch from TransferQueue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autocurriculum.core import (
    Ability,
    Curriculum,
    GroupOutcome,
    InvalidOutcomeError,
    Task,
    TaskPool,
    make_curriculum,
    require_supported,
    success_values,
)
from autocurriculum.core.codec import state_from_json, state_to_json
from autocurriculum.core.errors import ConfigError, InvalidTypeError, MissingFieldError
from autocurriculum.core.registry import make_config, strategy_class
from autocurriculum.core.step_metrics import curriculum_step_metrics
from autocurriculum.service import CurriculumService, RolloutGrouping
from autocurriculum.service.in_process import DEFAULT_PERSIST_EVERY
from autocurriculum.service.ray_actor import DEFAULT_ACTOR_NAME, connect_curriculum, serve_curriculum

__all__ = [
    "CurriculumDataset",  # noqa: F822 - built lazily by __getattr__ (needs verl)
    "CurriculumReplayBuffer",  # noqa: F822
    "CurriculumSampler",  # noqa: F822
    "curriculum_filter",
    "curriculum_reward",
    "dataset_curriculum_service",
    "outcomes_from_batch",
    "pool_from_dataframe",
    "report_before_filter",
    "verl_rows",
]


def _cfg_get(config: Any, key: str, default: Any = None) -> Any:
    """``config[key]`` for dicts and OmegaConf ``DictConfig`` alike."""
    if config is None:
        return default
    getter = getattr(config, "get", None)
    value = getter(key, default) if getter is not None else getattr(config, key, default)
    return default if value is None else value


def _plain(value: Any) -> Any:
    """OmegaConf containers -> plain dict/list (strategy configs are built from mappings)."""
    try:
        from omegaconf import OmegaConf

        if OmegaConf.is_config(value):
            return OmegaConf.to_container(value, resolve=True)
    except ImportError:
        pass
    return value


def _extra_info_id(extra_info: Any, id_key: str, where: str) -> str:
    if not isinstance(extra_info, Mapping) or extra_info.get(id_key) is None:
        raise MissingFieldError(
            f"{where}: extra_info has no {id_key!r}; put a stable task id there (verl's default: 'index')"
        )
    return str(extra_info[id_key])


# where each path's feedback comes from: curriculum_reward per scored rollout, or the batch handed to training
FEEDBACK_MODES = ("reward", "batch_end")


def _feedback_mode(cfg: Any, field: str, batch_end_reports: str) -> str:
    """The ``feedback`` option of ``cfg`` (default 'reward'); anything else than ``FEEDBACK_MODES`` is a
    ``ConfigError`` naming ``field`` and what 'batch_end' reports on this path."""
    mode = str(_cfg_get(cfg, "feedback", "reward"))
    if mode not in FEEDBACK_MODES:
        raise ConfigError(
            f"{field}: must be 'reward' (curriculum_reward reports each scored rollout) or 'batch_end' "
            f"({batch_end_reports}), got {mode!r}"
        )
    return mode


def _service_named(actor_name: str) -> Any:
    """The curriculum service of this process under ``actor_name``, else the named Ray actor."""
    return _LOCAL_SERVICES.get(actor_name) or connect_curriculum(actor_name)


def _group_outcome(
    task_id: str, rewards: list[Any], success_threshold: Any, step: int, threshold_key: str
) -> GroupOutcome:
    """A ``GroupOutcome`` from one group's raw rewards; a reward the curriculum cannot use (None, NaN, a string,
    out of range) is an ``InvalidOutcomeError`` naming the task id and the key that binarises shaped rewards."""
    try:
        return GroupOutcome(task_id, success_values(rewards, success_threshold), step=step)
    except InvalidOutcomeError as exc:  # still an InvalidOutcomeError (a ValueError), with the hint
        raise InvalidOutcomeError(f"task {task_id!r}: {exc}; set {threshold_key} to binarise shaped rewards") from None


def verl_rows(tasks: Iterable[Task], ability: str = "math", id_key: str = "index") -> list[dict[str, Any]]:
    """Rows in verl's RLHF parquet layout for ``tasks``; ``pool_from_dataframe`` reads them back.

    ``data_source`` is the task's category; the id and every knob go to ``extra_info``.
    """
    return [
        {
            "data_source": task.category,
            "prompt": [{"role": "user", "content": task.prompt}],
            "ability": ability,
            "reward_model": {"style": "rule", "ground_truth": task.answer},
            "extra_info": {id_key: task.task_id, **task.knobs},
        }
        for task in tasks
    ]


def pool_from_dataframe(dataframe: Any, id_key: str = "index") -> TaskPool:
    """A ``TaskPool`` from verl's RLHF parquet layout (``prompt``, ``data_source``, ``reward_model``, ``extra_info``).

    Ids are ``extra_info[id_key]``; numeric ``extra_info`` fields (``level``, ...) become knobs. The prompt text
    (a chat's message contents joined, or a plain string) and ``reward_model.ground_truth`` are kept: strategies
    that read prompts (goldilocks, pcl) need them.
    """
    columns = set(dataframe.column_names)
    if "extra_info" not in columns:
        raise MissingFieldError(f"dataset has no 'extra_info' column (columns: {sorted(columns)})")
    prompts = dataframe["prompt"] if "prompt" in columns else None
    rewards = dataframe["reward_model"] if "reward_model" in columns else None
    sources = dataframe["data_source"] if "data_source" in columns else None
    tasks = []
    for row, extra in enumerate(dataframe["extra_info"]):
        task_id = _extra_info_id(extra, id_key, f"row {row}")
        knobs = {
            k: float(v)
            for k, v in extra.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k != id_key
        }
        prompt = "" if prompts is None else _prompt_text(prompts[row])
        reward = rewards[row] if rewards is not None else None
        answer = str(reward.get("ground_truth", "")) if isinstance(reward, dict) else ""
        category = str(sources[row]) if sources is not None else "default"
        tasks.append(Task(task_id=task_id, prompt=prompt, answer=answer, category=category, knobs=knobs))
    return TaskPool(tasks)


def _prompt_text(prompt: Any) -> str:
    """verl's prompt cell as text: a chat (list of ``{"role", "content"}``) joined by newlines, or a string."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, (list, tuple)):
        return "\n".join(str(m.get("content", "")) if isinstance(m, dict) else str(m) for m in prompt)
    return "" if prompt is None else str(prompt)


def outcomes_from_batch(
    batch: Any,
    id_key: str = "index",
    success_key: str | None = "acc",
    success_threshold: float | None = None,
    step: int = 0,
) -> list[GroupOutcome]:
    """One ``GroupOutcome`` per ``uid`` of a trajectory-level ``DataProto``, in first-appearance order.

    The reward of a trajectory is ``non_tensor_batch[success_key]`` when present
    (verl's ``reward_extra_info``, e.g. binary ``acc``), else the sum of its
    ``token_level_scores``. With ``success_threshold`` it becomes ``reward >= threshold``.
    A reward the curriculum cannot use (None, NaN, a string, out of range) is an ``InvalidOutcomeError``
    naming the task id.
    """
    non_tensor = batch.non_tensor_batch
    uids = non_tensor["uid"]
    extra = non_tensor["extra_info"]
    if success_key and success_key in non_tensor:
        rewards = list(non_tensor[success_key])  # converted per group below, so an error can name the task
    elif batch.batch is not None and "token_level_scores" in batch.batch.keys():
        rewards = batch.batch["token_level_scores"].sum(dim=-1).detach().cpu().double().numpy().tolist()
    else:
        raise MissingFieldError(
            f"batch has neither non_tensor_batch[{success_key!r}] nor token_level_scores; "
            "set data.curriculum.success_key to a reward_extra_info key"
        )
    groups: dict[Any, list[int]] = {}
    for i, uid in enumerate(uids):
        groups.setdefault(uid, []).append(i)
    return [
        _group_outcome(
            _extra_info_id(extra[rows[0]], id_key, f"group {uid!r}"),
            [rewards[i] for i in rows],
            success_threshold,
            step,
            "data.curriculum.success_threshold",
        )
        for uid, rows in groups.items()
    ]


# ----------------------------------------------------------------- verl <= 0.7: the sampler hook
class _SamplerLogic:
    """Everything of ``CurriculumSampler`` except its verl base class (unit-testable without verl)."""

    def _setup(self, data_source: Any, data_config: Any) -> None:
        cfg = _cfg_get(data_config, "curriculum", {})
        self.id_key = str(_cfg_get(cfg, "id_key", "index"))
        self.success_key = _cfg_get(cfg, "success_key", "acc")
        self.success_threshold = _cfg_get(cfg, "success_threshold", None)
        self.report_before_filter = bool(_cfg_get(cfg, "report_before_filter", False))
        dataframe = getattr(data_source, "dataframe", None)
        if dataframe is None:
            raise InvalidTypeError("CurriculumSampler needs verl's RLHFDataset (or any dataset with a `dataframe`)")
        self.pool = pool_from_dataframe(dataframe, self.id_key)
        self.curriculum: Curriculum = make_curriculum(
            str(_cfg_get(cfg, "strategy", "uniform")), self.pool, _plain(_cfg_get(cfg, "options", {}))
        )
        # curriculum_filter gives filtering strategies DAPO's refill loop; verl has no screening or ragged groups
        require_supported(
            type(self.curriculum), self.curriculum.config, "verl (CurriculumSampler)", (), {Ability.FILTERS_GROUPS}
        )
        self.chunk_size = int(_cfg_get(data_config, "gen_batch_size", 0) or _cfg_get(data_config, "train_batch_size"))
        self.num_rows = len(self.pool)
        self.position = 0  # indices yielded in the current pass
        self.chunk: list[int] = []  # rows of the chunk being yielded
        self._resume = False
        self.updates = 0
        self.curriculum_seconds = 0.0
        self.selection_log: list[list[str]] = []
        self.last_outcomes: list[GroupOutcome] = []

    def __len__(self) -> int:
        return self.num_rows  # fixed: verl derives total steps from len(dataloader)

    def __iter__(self):
        start = self.position if self._resume and self.position < self.num_rows else 0
        self._resume = False
        pos = start
        while pos < self.num_rows:
            offset = pos % self.chunk_size
            if offset == 0 or not self.chunk:
                size = min(self.chunk_size, self.num_rows - (pos - offset))
                t0 = time.perf_counter()
                ids = self.curriculum.select(size)  # lazily, after update() for the previous batch
                self.curriculum_seconds += time.perf_counter() - t0
                self.selection_log.append(ids)
                self.chunk = [int(r) for r in self.pool.rows_of(ids)]
            row = self.chunk[offset]
            pos += 1
            self.position = pos
            yield row
        self.position = 0
        self.chunk = []

    def update(self, batch: Any) -> None:
        """verl calls this after each step; ignored when groups are reported before DAPO's filter instead."""
        if self.report_before_filter:
            return
        self.report(batch)

    def report(self, batch: Any) -> list[GroupOutcome]:
        step = int(_cfg_get(getattr(batch, "meta_info", {}), "global_steps", self.updates) or 0)
        outcomes = outcomes_from_batch(batch, self.id_key, self.success_key, self.success_threshold, step)
        t0 = time.perf_counter()
        self.curriculum.update(outcomes)
        self.curriculum_seconds += time.perf_counter() - t0
        self.updates += 1
        self.last_outcomes = outcomes
        return outcomes

    def metrics(self) -> dict[str, float]:
        """The curriculum's ``curriculum/...`` signals, for the trainer's metrics dict (see docs/verl.md)."""
        return curriculum_step_metrics(
            self.curriculum,
            scored=self.last_outcomes,
            selected_ids=self.selection_log[-1] if self.selection_log else (),
            seconds=self.curriculum_seconds,
        )

    def state_dict(self) -> dict[str, Any]:
        # a JSON string: data.pt may be read with weights_only loaders, and it is easy to inspect
        return {
            "autocurriculum": state_to_json(
                {
                    "curriculum": self.curriculum.state_dict(),
                    "position": self.position,
                    "chunk": self.pool.ids_of(np.asarray(self.chunk, dtype=np.int64)) if self.chunk else [],
                    "updates": self.updates,
                }
            )
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        data = state_from_json(state["autocurriculum"])
        self.curriculum.load_state_dict(data["curriculum"])
        self.position = int(data["position"])
        self.chunk = [int(r) for r in self.pool.rows_of(data["chunk"])] if data["chunk"] else []
        self.updates = int(data["updates"])
        self._resume = True


def report_before_filter(sampler: Any, batch: Any) -> list[GroupOutcome]:
    """Report every generated group to the curriculum before DAPO's ``filter_groups`` drops the all-equal ones."""
    return sampler.report(batch)


def curriculum_filter(sampler: Any, batch: Any) -> Any:
    """Report all groups, then keep the trajectories of the groups the strategy's ``filter`` keeps.

    A drop-in for DAPO's std > 0 filter: ``dynamic-sampling`` reproduces it,
    ``band`` keeps pass rates within its band, other strategies keep everything.
    """
    outcomes = sampler.report(batch)
    uids = batch.non_tensor_batch["uid"]
    order = list(dict.fromkeys(uids))  # uid of each outcome, same order as outcomes_from_batch
    for outcome, uid in zip(outcomes, order, strict=True):
        outcome.payload = uid
    kept = {o.payload for o in sampler.curriculum.filter(outcomes)}
    return batch[np.array([i for i, u in enumerate(uids) if u in kept], dtype=np.int64)]


# ----------------------------------------------------------------- verl >= 0.8: dataset + reward + the service
# data.curriculum.local: the dataset's in-process service, which curriculum_reward in the same process finds by
# actor name (as it would find the Ray actor), so verl's own dataset and reward-manager code run without Ray.
_LOCAL_SERVICES: dict[str, CurriculumService] = {}


def _rollout_grouping(cfg: Any) -> RolloutGrouping:
    return RolloutGrouping(int(_cfg_get(cfg, "group_size", 1)), _cfg_get(cfg, "success_threshold", None))


def curriculum_reward(
    compute_score: Callable[..., Any] | None = None,
    actor_name: str = DEFAULT_ACTOR_NAME,
    id_key: str = "index",
    success_key: str = "acc",
    service: Any = None,
) -> Callable[..., Any]:
    """Wrap a verl ``compute_score`` so each scored rollout is reported to the curriculum service.

    The score returned to verl is unchanged. The success value reported is ``score[success_key]`` for dict
    scores that have it, else ``score["score"]`` or the float score (binarise shaped scores with
    ``data.curriculum.success_threshold``). The service is the named Ray actor ``actor_name`` (connected on the
    first call, from whichever reward worker runs it) or ``service`` (a ``CurriculumService`` in this process).
    A failed report never fails the reward: it is logged as a warning naming the task id, and nothing of it is
    recorded.
    """

    def wrapped(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, **kwargs: Any) -> Any:
        inner = compute_score
        if inner is None:
            from verl.utils.reward_score import default_compute_score as inner
        score = inner(data_source, solution_str, ground_truth, extra_info=extra_info, **kwargs)
        if isinstance(score, Mapping):
            value = score.get(success_key, score.get("score", 0.0))
        else:
            value = score
        nonlocal service
        task_id = None
        try:
            task_id = _extra_info_id(extra_info, id_key, "curriculum_reward")
            reward = float(success_values([value])[0])  # a plain float for the actor; a non-number raises here
            if service is None:
                service = _service_named(actor_name)
            service.report_rollouts([(task_id, reward)])
        except Exception as exc:  # feedback is best effort; a reward must never crash training
            import logging

            logging.getLogger(__name__).warning("curriculum feedback for task %r failed: %s", task_id, exc)
        return score

    wrapped.__name__ = getattr(compute_score, "__name__", "compute_score")
    return wrapped


def dataset_curriculum_service(pool: TaskPool, cfg: Any) -> Any:
    """The service behind ``CurriculumDataset``, from the ``data.curriculum`` config section.

    A ``CurriculumService`` in this process with ``local: true`` (one process: tests, debugging; reward functions
    in this process find it by ``actor_name``), else the named Ray actor
    that reward workers in other processes report to (created on first use, found by name afterwards). A
    strategy this path cannot run (one that filters, screens or allocates group sizes) is refused by name.
    """
    strategy = str(_cfg_get(cfg, "strategy", "uniform"))
    options = _plain(_cfg_get(cfg, "options", {}))
    # the dataset path selects before rollout only: no group filter, screening or ragged groups in verl >= 0.8
    require_supported(strategy_class(strategy), make_config(strategy, options), "verl >= 0.8 (CurriculumDataset)")
    persistence = {
        "persist_path": _cfg_get(cfg, "state_path", None),
        # one update per completed group (hundreds per step): persisting each would cost more than it saves
        "persist_every": int(_cfg_get(cfg, "persist_every", DEFAULT_PERSIST_EVERY)),
        "rollouts": _rollout_grouping(cfg),
    }
    name = str(_cfg_get(cfg, "actor_name", DEFAULT_ACTOR_NAME))
    if _cfg_get(cfg, "local", False):
        _LOCAL_SERVICES[name] = CurriculumService.create(strategy, pool, options, **persistence)
        return _LOCAL_SERVICES[name]
    return serve_curriculum(
        strategy,
        pool,
        options,
        name=name,
        get_if_exists=True,  # every dataset replica (train, resumed job) shares one actor
        max_restarts=int(_cfg_get(cfg, "max_restarts", 0)),
        **persistence,
    )


class _DatasetLogic:
    """Everything of ``CurriculumDataset`` except its verl base class; the curriculum lives in the service."""

    def _setup_curriculum(self, config: Any) -> None:
        cfg = _cfg_get(config, "curriculum", {})
        self.curriculum_id_key = str(_cfg_get(cfg, "id_key", "index"))
        pool = pool_from_dataframe(self.dataframe, self.curriculum_id_key)
        self._row_of = {t: i for i, t in enumerate(pool.ids)}
        self.prefetch = int(_cfg_get(cfg, "prefetch", 1))
        self._queue: list[str] = []
        self.curriculum_feedback = _feedback_mode(
            cfg, "data.curriculum.feedback", "verl's on_batch_end hook reports each trained batch"
        )
        self.curriculum_success_key = _cfg_get(cfg, "success_key", "acc")
        self.curriculum_success_threshold = _cfg_get(cfg, "success_threshold", None)
        self.curriculum_service = dataset_curriculum_service(pool, cfg)

    def next_row(self) -> int:
        if not self._queue:
            self._queue = list(self.curriculum_service.select(self.prefetch))
        return self._row_of[self._queue.pop(0)]

    def report_trained_batch(self, batch: Any) -> list[GroupOutcome]:
        """With ``feedback: batch_end``, the groups of the batch verl just trained on, reported to the service.

        verl's ``RayPPOTrainer`` calls the dataset's ``on_batch_end(batch)`` after every step (0.7.1, and 0.9.1
        with ``trainer.use_v1=false``; the v1 trainer does not: use ``CurriculumReplayBuffer``), with each
        trajectory's ``uid``, ``extra_info`` and ``reward_extra_info`` (``acc``) in the batch: the same grouping
        as the sampler path (``outcomes_from_batch``), and no reward wrapper or Ray actor is needed. With
        ``feedback: reward`` (the default) this does nothing: the reward wrapper reports every scored rollout.
        """
        if self.curriculum_feedback != "batch_end":
            return []
        step = int(_cfg_get(getattr(batch, "meta_info", {}), "global_steps", 0) or 0)
        outcomes = outcomes_from_batch(
            batch, self.curriculum_id_key, self.curriculum_success_key, self.curriculum_success_threshold, step
        )
        self.curriculum_service.update(outcomes)
        return outcomes

    def metrics(self) -> dict[str, float]:
        """The curriculum's ``curriculum/...`` signals, for the trainer's metrics dict (see docs/verl.md)."""
        return self.curriculum_service.log_metrics()


# ----------------------------------------------------------------- verl >= 0.9, v1 trainer: the replay-buffer hook
# verl 0.9's default trainer (trainer.use_v1=true) never calls the dataset's on_batch_end. It draws every training
# batch from a ReplayBuffer over TransferQueue, and trainer.v1.sampler.custom_sampler plugs in a subclass whose
# sample() returns (batch, metrics): the metrics go into the step's metrics dict that verl's Tracking logs.


class _ReplayBufferLogic:
    """Everything of ``CurriculumReplayBuffer`` except verl's ``ReplayBuffer`` base (options: module docs)."""

    def _setup_curriculum(self, sampler_kwargs: Any) -> None:
        cfg = _plain(sampler_kwargs) or {}
        self.curriculum_feedback = _feedback_mode(
            cfg,
            "trainer.v1.sampler.sampler_kwargs.feedback",
            "the replay buffer reports each batch it hands to training",
        )
        self.curriculum_id_key = str(_cfg_get(cfg, "id_key", "index"))
        self.curriculum_success_threshold = _cfg_get(cfg, "success_threshold", None)
        self.curriculum_actor_name = str(_cfg_get(cfg, "actor_name", DEFAULT_ACTOR_NAME))
        self._curriculum_service: Any = None

    @property
    def curriculum_service(self) -> Any:
        # found on first use: verl builds the replay buffer before the dataset that creates the service
        if self._curriculum_service is None:
            self._curriculum_service = _service_named(self.curriculum_actor_name)
        return self._curriculum_service

    def trained_groups(self, keys: list[str], tags: list[dict], rows: Any, step: int) -> list[GroupOutcome]:
        """One ``GroupOutcome`` per prompt ``uid`` among TransferQueue ``keys`` (``{uid}_{session}_{index}``).

        ``rows`` holds each key's ``rm_scores`` (verl's per-token reward; its sum is the trajectory's reward, as in
        verl's own group filter) and ``extra_info`` (the task id). A multi-output agent loop copies the session's
        reward to every output, so each session counts once. A group's step is the oldest policy version that
        generated it (the tags' ``min_global_steps``, else the step its prompt was drawn at), so asynchronous
        trainers report late groups with their age.
        """
        scores, extra = rows["rm_scores"], rows["extra_info"]
        sessions: dict[str, dict[str, float]] = {}
        extra_of: dict[str, Any] = {}
        step_of: dict[str, int] = {}
        for position, (key, tag) in enumerate(zip(keys, tags, strict=True)):
            uid, session = key.split("_")[:2]
            sessions.setdefault(uid, {})[session] = float(scores[position].sum())
            extra_of.setdefault(uid, extra[position])
            version = tag.get("min_global_steps")
            version = int(tag.get("global_steps", step) if version is None else version)
            step_of[uid] = min(step_of.get(uid, version), version)
        return [
            _group_outcome(
                _extra_info_id(extra_of[uid], self.curriculum_id_key, f"TransferQueue group {uid!r}"),
                list(rewards.values()),
                self.curriculum_success_threshold,
                step_of[uid],
                "trainer.v1.sampler.sampler_kwargs.success_threshold",
            )
            for uid, rewards in sessions.items()
        ]

    def after_sample(
        self, keys: list[str], tags: list[dict], read: Callable[[list[str], list[str]], Any], step: int
    ) -> dict[str, float]:
        """Report the batch just sampled for training (``feedback: batch_end``); the ``curriculum/...`` metrics."""
        metrics: dict[str, float] = {}
        if self.curriculum_feedback == "batch_end" and keys:
            outcomes = self.trained_groups(keys, tags, read(keys, ["rm_scores", "extra_info"]), step)
            self.curriculum_service.update(outcomes)
            metrics["curriculum/groups_reported"] = float(len(outcomes))
        metrics.update(self.curriculum_service.log_metrics())
        return metrics


_LAZY = {"CurriculumSampler", "CurriculumDataset", "CurriculumReplayBuffer"}
_built: dict[str, type] = {}


def _build(name: str) -> type:
    if name == "CurriculumSampler":
        from verl.experimental.dataset.sampler import AbstractCurriculumSampler

        class CurriculumSampler(_SamplerLogic, AbstractCurriculumSampler):
            """verl (<= 0.7) curriculum sampler; configure under ``data.curriculum`` (see module docs)."""

            def __init__(self, data_source: Any, data_config: Any):
                self._setup(data_source, data_config)

            def __iter__(self):  # AbstractSampler is a torch Sampler: keep our generator
                return _SamplerLogic.__iter__(self)

            def update(self, batch: Any) -> None:
                _SamplerLogic.update(self, batch)

        CurriculumSampler.__module__ = __name__
        return CurriculumSampler
    if name == "CurriculumReplayBuffer":
        import transfer_queue as tq
        from verl.trainer.ppo.v1.replay_buffer import ReplayBuffer

        class CurriculumReplayBuffer(_ReplayBufferLogic, ReplayBuffer):
            """verl 0.9 v1 replay buffer (``trainer.v1.sampler.custom_sampler``): adds the curriculum's metrics to
            each training step's metrics and, with ``feedback: batch_end``, reports each sampled batch."""

            def __init__(self, sampler_kwargs: Any = None, **kwargs: Any):
                super().__init__(sampler_kwargs=sampler_kwargs, **kwargs)
                self._setup_curriculum(sampler_kwargs)

            def sample(self, global_steps: int, partition_id: str, batch_size: int) -> tuple[Any, dict]:
                batch, metrics = super().sample(global_steps, partition_id, batch_size)
                if partition_id == "train":

                    def read(keys: list[str], fields: list[str]) -> Any:
                        return tq.kv_batch_get(keys=keys, partition_id=partition_id, select_fields=fields)

                    pairs = zip(batch.keys, batch.tags, strict=True)
                    kept = [(key, tag) for key, tag in pairs if not tag.get("is_padding")]
                    keys, tags = [key for key, _ in kept], [tag for _, tag in kept]
                    metrics.update(self.after_sample(keys, tags, read, global_steps))
                return batch, metrics

        CurriculumReplayBuffer.__module__ = __name__
        return CurriculumReplayBuffer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    class CurriculumDataset(_DatasetLogic, RLHFDataset):
        """verl ``data.custom_cls`` dataset: item ``i`` is the next prompt the curriculum chooses.

        The requested index is ignored (its length stays the parquet's, so
        verl's step count is unchanged). Needs ``data.dataloader_num_workers=0``
        and ``data.shuffle=false``: workers would prefetch selections.
        """

        def __init__(self, data_files: Any, tokenizer: Any, config: Any, processor: Any = None, max_samples: int = -1):
            super().__init__(data_files, tokenizer, config, processor=processor, max_samples=max_samples)
            self._setup_curriculum(config)

        def __getitem__(self, item: int) -> dict:
            return super().__getitem__(self.next_row())

        def on_batch_end(self, batch: Any) -> None:  # verl's own per-step dataset hook
            self.report_trained_batch(batch)

    CurriculumDataset.__module__ = __name__
    return CurriculumDataset


def __getattr__(name: str) -> Any:
    # verl-backed classes are built on first access, so importing this module never imports verl
    if name in _LAZY:
        if name not in _built:
            _built[name] = _build(name)
        return _built[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
