"""verl adapter against verl's real classes, where verl imports.

`make test-verl` runs this file twice: in .venv-verl (verl 0.7.1: the sampler hook, the dataset, the reward manager)
and in .venv-verl09 (verl 0.9.1, the current release: the dataset, the reward manager and the v1 trainer's replay
buffer over TransferQueue; it has no sampler hook).
The verl-free parts (import without verl, the service's rollout grouping) run everywhere.
"""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from autocurriculum.core import ConfigError
from autocurriculum.tasks import build_pool, make_task_family


def test_module_imports_without_verl():
    # a fresh interpreter in which `import verl` (and ray) fail
    code = (
        "import sys; sys.modules['verl'] = None; sys.modules['ray'] = None\n"
        "import autocurriculum.integrations.verl as m\n"
        "assert callable(m.outcomes_from_batch)\n"
        "try:\n    m.CurriculumSampler\nexcept ImportError:\n    print('lazy')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "lazy"


def test_verl_rows_read_back_as_the_same_pool():
    datasets = pytest.importorskip("datasets")
    from autocurriculum.integrations.verl import pool_from_dataframe, verl_rows

    pool = build_pool([make_task_family("addition")], tasks_per_level=3)
    rows = verl_rows(pool)
    assert rows[0]["prompt"] == [{"role": "user", "content": pool[0].prompt}]
    assert rows[0]["reward_model"]["ground_truth"] == pool[0].answer
    back = pool_from_dataframe(datasets.Dataset.from_list(rows))
    assert [back[i].task_id for i in range(len(back))] == [t.task_id for t in pool]
    assert [back[i].level for i in range(len(back))] == [t.level for t in pool]
    assert back.category_names == ["addition"]
    assert [back[i].prompt for i in range(len(back))] == [t.prompt for t in pool]  # learned teachers read prompts
    assert [back[i].answer for i in range(len(back))] == [t.answer for t in pool]


def test_service_completes_groups_and_round_trips(tmp_path):
    from autocurriculum.integrations.verl import dataset_curriculum_service

    pool = build_pool([make_task_family("addition")], tasks_per_level=2)
    cfg = {"strategy": "thompson", "options": {"seed": 1}, "group_size": 2, "local": True, "persist_every": 1}
    cfg["state_path"] = str(tmp_path / "state.json")
    service = dataset_curriculum_service(pool, cfg)
    ids = service.select(3)
    assert service.report_rollouts([(ids[0], 1.0), (ids[1], 0.0)]) == 0  # no group complete yet
    assert service.report_rollouts([(ids[0], 0.0), (ids[1], 0.0), (ids[2], 1.0)]) == 2
    service.persist()  # as at a checkpoint; the pending rollout of ids[2] goes with the state
    restored = dataset_curriculum_service(pool, cfg)
    assert restored.rollout_groups.pending == {ids[2]: [1.0]}
    assert restored.report_rollouts([(ids[2], 0.0)]) == 1  # the half-finished group completes after the restart
    assert service.report_rollouts([(ids[2], 0.0)]) == 1
    assert restored.select(5) == service.select(5)
    assert restored.log_metrics()["curriculum/groups_seen"] == 3.0


try:
    import torch
    import verl
    from omegaconf import OmegaConf
    from verl import DataProto

    HAVE_VERL = True
except ImportError:
    HAVE_VERL = False
try:  # verl <= 0.7 only: the sampler hook is absent from the 0.8.0 and 0.9 wheels
    import verl.experimental.dataset.sampler as sampler_module

    HAVE_SAMPLER_HOOK = True
except ImportError:
    HAVE_SAMPLER_HOOK = False

requires_verl = pytest.mark.skipif(not HAVE_VERL, reason="needs verl (make test-verl builds .venv-verl, .venv-verl09)")
requires_sampler_hook = pytest.mark.skipif(not HAVE_SAMPLER_HOOK, reason="needs verl <= 0.7 (make test-verl)")

N_ROWS, BATCH, GROUP = 24, 4, 3


def _tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set("0123456789+=A"))
    vocab = {t: i for i, t in enumerate(["<pad>", "<eos>", "<unk>", *chars])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    backend.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    return tok


@pytest.fixture
def parquet(tmp_path):
    import pandas as pd

    from autocurriculum.integrations.verl import verl_rows

    family = make_task_family("addition")
    pool = build_pool([family], tasks_per_level=4)
    rows = verl_rows(pool)[:N_ROWS]
    path = tmp_path / "train.parquet"
    pd.DataFrame(rows).to_parquet(path)
    return str(path)


def _data_config(parquet, **curriculum):
    return OmegaConf.create(
        {
            "train_files": parquet,
            "prompt_key": "prompt",
            "max_prompt_length": 64,
            "filter_overlong_prompts": False,
            "return_raw_chat": False,
            "truncation": "error",
            "shuffle": False,
            "train_batch_size": BATCH,
            "gen_batch_size": BATCH,
            "dataloader_num_workers": 0,
            "sampler": {"class_path": "pkg://autocurriculum.integrations.verl", "class_name": "CurriculumSampler"},
            "curriculum": {"strategy": "thompson", "options": {"seed": 3}, **curriculum},
        }
    )


def _dataset(parquet, config):
    from verl.utils.dataset.rl_dataset import RLHFDataset

    return RLHFDataset(data_files=parquet, tokenizer=_tokenizer(), config=config)


def _loader(dataset, sampler):
    from torchdata.stateful_dataloader import StatefulDataLoader
    from verl.utils.dataset.rl_dataset import collate_fn

    return StatefulDataLoader(
        dataset, batch_size=BATCH, sampler=sampler, num_workers=0, collate_fn=collate_fn, drop_last=True
    )


def _rollout(batch: dict, step: int) -> DataProto:
    """A trajectory-level DataProto as verl builds it: each prompt repeated GROUP times, interleaved, with `acc`."""
    extra = np.repeat(batch["extra_info"], GROUP)
    n = len(extra)
    uid = np.repeat(np.array([f"u{step}-{i}" for i in range(len(batch["extra_info"]))], dtype=object), GROUP)
    # deterministic "model": low levels are solved, high levels not, one flip per group for variance
    acc = np.array([float(e["level"] <= 2 or j % GROUP == 0) for j, e in enumerate(extra)])
    scores = torch.zeros(n, 5)
    scores[:, -1] = torch.tensor(acc)
    return DataProto.from_dict(
        tensors={"token_level_scores": scores},
        non_tensors={"uid": uid, "extra_info": extra, "acc": acc},
        meta_info={"global_steps": step},
    )


@requires_sampler_hook
def test_create_rl_sampler_builds_our_sampler_and_enforces_num_workers(parquet):
    from verl.trainer.main_ppo import create_rl_sampler

    config = _data_config(parquet)
    dataset = _dataset(parquet, config)
    sampler = create_rl_sampler(config, dataset)
    assert isinstance(sampler, sampler_module.AbstractCurriculumSampler)
    assert len(sampler) == len(dataset) == N_ROWS
    config.dataloader_num_workers = 2
    with pytest.raises(AssertionError):
        create_rl_sampler(config, dataset)


def _run(parquet, steps, loader=None, sampler=None):
    from verl.trainer.main_ppo import create_rl_sampler

    config = _data_config(parquet)
    if sampler is None:
        dataset = _dataset(parquet, config)
        sampler = create_rl_sampler(config, dataset)
        loader = _loader(dataset, sampler)
    it = iter(loader)
    seen = []
    for step in range(steps):
        batch = next(it)
        seen.append([e["index"] for e in batch["extra_info"]])
        sampler.update(batch=_rollout(batch, step))  # what RayPPOTrainer.fit does after each step
    return seen, loader, sampler


@requires_sampler_hook
def test_sampler_state_round_trips_through_verl_checkpoint(parquet, tmp_path):
    from verl.trainer.main_ppo import create_rl_sampler

    full, _, full_sampler = _run(parquet, 5)
    assert full_sampler.updates == 5 and full_sampler.curriculum.groups_seen == 5 * BATCH
    first, loader, _ = _run(parquet, 2)
    torch.save(loader.state_dict(), tmp_path / "data.pt")  # RayPPOTrainer._save_checkpoint
    config = _data_config(parquet)
    dataset = _dataset(parquet, config)
    sampler = create_rl_sampler(config, dataset)
    loader = _loader(dataset, sampler)
    loader.load_state_dict(torch.load(tmp_path / "data.pt", weights_only=False))  # _load_checkpoint
    rest, _, _ = _run(parquet, 3, loader, sampler)
    assert first + rest == full
    assert sampler.curriculum.updates_seen == 5


@requires_sampler_hook
def test_outcomes_and_dapo_helpers(parquet):
    from verl.trainer.main_ppo import create_rl_sampler

    from autocurriculum.integrations.verl import curriculum_filter, outcomes_from_batch, report_before_filter

    config = _data_config(parquet, strategy="dynamic-sampling", report_before_filter=True)
    dataset = _dataset(parquet, config)
    sampler = create_rl_sampler(config, dataset)
    batch = next(iter(_loader(dataset, sampler)))
    data = _rollout(batch, 0)
    outcomes = outcomes_from_batch(data)
    assert [o.task_id for o in outcomes] == [e["index"] for e in batch["extra_info"]]
    assert all(o.group_size == GROUP for o in outcomes)
    by_scores = outcomes_from_batch(data, success_key=None)  # falls back to token_level_scores
    assert [o.pass_rate for o in by_scores] == [o.pass_rate for o in outcomes]
    sampler.update(batch=data)  # ignored: groups are reported before the filter instead
    assert sampler.curriculum.groups_seen == 0
    report_before_filter(sampler, data)
    assert sampler.curriculum.groups_seen == BATCH
    kept = curriculum_filter(sampler, data)  # dynamic-sampling drops all-equal groups, like DAPO
    assert sampler.curriculum.groups_seen == 2 * BATCH
    kept_ids = {e["index"] for e in kept.non_tensor_batch["extra_info"]}
    assert kept_ids == {o.task_id for o in outcomes if not o.is_zero_variance}
    metrics = sampler.metrics()  # the curriculum's signals for verl's metrics dict, the TRL adapter's keys
    assert metrics["curriculum/groups_seen"] == 2 * BATCH
    zero_std = np.mean([o.is_zero_variance for o in outcomes])
    assert metrics["curriculum/zero_std_fraction"] == pytest.approx(zero_std)


@requires_verl
def test_curriculum_dataset_is_a_verl_custom_cls(parquet):
    from verl.utils.dataset.rl_dataset import get_dataset_class

    config = _data_config(parquet, local=True, prefetch=BATCH, group_size=GROUP)
    config.custom_cls = {"path": "pkg://autocurriculum.integrations.verl", "name": "CurriculumDataset"}
    cls = get_dataset_class(config)  # verl loads it from data.custom_cls, as main_ppo does
    assert cls.__name__ == "CurriculumDataset"
    dataset = cls(data_files=parquet, tokenizer=_tokenizer(), config=config)
    items = [dataset[0] for _ in range(BATCH)]
    ids = [item["extra_info"]["index"] for item in items]
    assert len(set(ids)) == BATCH  # the curriculum chose, not the index
    assert dataset.curriculum_service.report_rollouts([(t, 1.0) for t in ids for _ in range(GROUP)]) == BATCH
    assert dataset.metrics()["curriculum/groups_seen"] == BATCH  # the signals for verl's metrics dict


@requires_verl
def test_curriculum_dataset_learns_from_verls_on_batch_end_hook(parquet):
    """feedback: batch_end: RayPPOTrainer calls the dataset's on_batch_end(batch) after each step (0.7.1; 0.9.1
    with use_v1=false); the trained batch's groups reach the curriculum with no reward wrapper and no Ray actor."""
    from verl.utils.dataset.rl_dataset import get_dataset_class

    config = _data_config(parquet, local=True, prefetch=BATCH, feedback="batch_end", actor_name="ac-batch-end")
    config.custom_cls = {"path": "pkg://autocurriculum.integrations.verl", "name": "CurriculumDataset"}
    dataset = get_dataset_class(config)(data_files=parquet, tokenizer=_tokenizer(), config=config)
    extras = [dict(dataset[0]["extra_info"]) for _ in range(BATCH)]
    batch = _rollout({"extra_info": np.array(extras, dtype=object)}, step=1)  # levels <= 2 solved, others 1 in 3
    dataset.on_batch_end(batch=batch)
    assert dataset.curriculum_service.state_dict()["groups_seen"] == BATCH
    expected = np.mean([1.0 if e["level"] <= 2 else 1 / GROUP for e in extras])
    assert dataset.metrics()["curriculum/pass_rate_mean"] == pytest.approx(expected)
    with pytest.raises(ConfigError, match=r"data\.curriculum\.feedback: must be 'reward'.*got 'epoch'"):
        bad = _data_config(parquet, local=True, feedback="epoch", actor_name="ac-bad")
        get_dataset_class(config)(data_files=parquet, tokenizer=_tokenizer(), config=bad)


@requires_verl
@pytest.mark.slow
def test_named_ray_actor_shared_by_dataset_and_reward(parquet, tmp_path):
    """The dataset (trainer process) serves the named actor; a reward function in a Ray worker process reports to
    it by name; the actor persists its state, and a restarted one continues from the file."""
    ray = pytest.importorskip("ray")
    from autocurriculum.integrations.verl import curriculum_reward, dataset_curriculum_service
    from autocurriculum.service import connect_curriculum

    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        pool = build_pool([make_task_family("addition")], tasks_per_level=2)
        cfg = {"strategy": "thompson", "options": {"seed": 0}, "group_size": 2, "actor_name": "ac-test"}
        cfg.update(state_path=str(tmp_path / "curriculum.json"), persist_every=1)
        service = dataset_curriculum_service(pool, cfg)
        ids = service.select(2)

        @ray.remote(num_cpus=0)
        def reward_worker(task_ids):  # another process, as verl's reward workers are
            reward = curriculum_reward(lambda *a, **k: {"score": 1.0, "acc": 1.0}, actor_name="ac-test")
            return [reward("addition", "x", "y", extra_info={"index": t})["score"] for t in task_ids for _ in range(2)]

        assert ray.get(reward_worker.remote(ids)) == [1.0] * 4
        assert connect_curriculum("ac-test").state_dict()["groups_seen"] == 2
        service.kill()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # Ray frees the name once the actor is gone
            try:
                ray.get_actor("ac-test")
            except ValueError:
                break
            time.sleep(0.1)
        again = dataset_curriculum_service(pool, cfg)  # a resumed job: the actor restores from state_path
        assert again.persistence()["restored_from_update"] == 2
        assert again.state_dict()["groups_seen"] == 2
    finally:
        ray.shutdown()


@requires_verl
def test_reward_manager_reports_each_rollout_through_verls_own_loader(parquet, tmp_path):
    """verl's load_reward_manager loads our wrapped compute_score from reward.custom_reward_function (the keys
    docs/verl.md gives) and its naive reward manager scores single rollouts; the groups they complete reach the
    dataset's curriculum (local mode: one process, found by actor name)."""

    from verl.trainer.ppo.reward import load_reward_manager
    from verl.utils.dataset.rl_dataset import get_dataset_class

    reward_file = tmp_path / "my_reward.py"
    reward_file.write_text(
        "from autocurriculum.integrations.verl import curriculum_reward\n"
        "def exact(data_source, solution_str, ground_truth, extra_info=None, **kwargs):\n"
        "    return float(solution_str.strip() == str(ground_truth))\n"
        "compute_score = curriculum_reward(exact, actor_name='ac-reward')\n"
    )
    data = _data_config(parquet, local=True, prefetch=BATCH, group_size=GROUP, actor_name="ac-reward")
    data.custom_cls = {"path": "pkg://autocurriculum.integrations.verl", "name": "CurriculumDataset"}
    tokenizer = _tokenizer()
    dataset = get_dataset_class(data)(data_files=parquet, tokenizer=tokenizer, config=data)
    config = OmegaConf.create(
        {
            "data": data,
            "reward": {
                "custom_reward_function": {"path": str(reward_file), "name": "compute_score"},
                "reward_manager": {"source": "register", "name": "naive"},
            },
        }
    )
    manager = load_reward_manager(config, tokenizer)
    items = [dataset[0] for _ in range(BATCH)]
    solved = 0
    for item in items:
        answer = item["reward_model"]["ground_truth"]
        for j in range(GROUP):  # the first completion of each group is right, the others wrong
            text = answer if j == 0 else "0000"
            solved += j == 0
            response = torch.tensor([tokenizer.convert_tokens_to_ids(list(text))])
            rollout = DataProto.from_dict(
                tensors={
                    "prompts": torch.zeros(1, 2, dtype=torch.long),
                    "responses": response,
                    "attention_mask": torch.ones(1, 2 + response.shape[1], dtype=torch.long),
                },
                non_tensors={
                    "data_source": np.array([item["data_source"]], dtype=object),
                    "reward_model": np.array([item["reward_model"]], dtype=object),
                    "extra_info": np.array([dict(item["extra_info"])], dtype=object),
                },
            )
            result = manager.loop.run_until_complete(manager.run_single(rollout))  # the loop verl made
            assert result["reward_score"] == float(j == 0)
    state = dataset.curriculum_service.state_dict()
    assert state["groups_seen"] == BATCH
    metrics = dataset.metrics()
    assert metrics["curriculum/pass_rate_mean"] == pytest.approx(1 / GROUP)
    assert metrics["curriculum/zero_std_fraction"] == 0.0
    print(f"verl {verl.__version__}: {solved} rollouts solved through load_reward_manager")


# ----------------------------------------------------------------- verl 0.9 v1 trainer: the replay-buffer hook
def test_replay_buffer_groups_sessions_by_prompt_uid_and_names_bad_rows():
    """The verl-free half of CurriculumReplayBuffer: TransferQueue keys `{uid}_{session}_{index}` become one group
    per uid, one reward per session (a multi-output session counts once), stamped with the oldest policy version."""
    from autocurriculum.core import InvalidOutcomeError, MissingFieldError
    from autocurriculum.integrations.verl import _ReplayBufferLogic

    logic = _ReplayBufferLogic()
    logic._setup_curriculum({"feedback": "batch_end"})
    keys = ["a_0_0", "a_0_1", "a_1_0", "b_0_0", "b_1_0", "b_2_0"]
    tags = [{"global_steps": 5, "min_global_steps": 4}] * 3 + [{"global_steps": 5}] * 3
    scores = [np.array([0.0, 1.0])] * 2 + [np.array([0.0, 0.0])] + [np.array([0.0, 0.0, 1.0])] * 3
    extra = [{"index": "t-a"}] * 3 + [{"index": "t-b"}] * 3
    groups = logic.trained_groups(keys, tags, {"rm_scores": scores, "extra_info": extra}, step=6)
    assert [(g.task_id, list(g.rewards), g.step) for g in groups] == [
        ("t-a", [1.0, 0.0], 4),
        ("t-b", [1.0, 1.0, 1.0], 5),
    ]
    with pytest.raises(InvalidOutcomeError, match=r"task 't-a'.*success_threshold"):
        nan = [np.array([np.nan])] * 6
        logic.trained_groups(keys, tags, {"rm_scores": nan, "extra_info": extra}, step=6)
    with pytest.raises(MissingFieldError, match=r"TransferQueue group 'a': extra_info has no 'index'"):
        logic.trained_groups(keys, tags, {"rm_scores": scores, "extra_info": [{}] * 6}, step=6)
    with pytest.raises(ConfigError, match=r"sampler_kwargs\.feedback: must be 'reward'.*got 'epoch'"):
        _ReplayBufferLogic()._setup_curriculum({"feedback": "epoch"})


try:  # verl >= 0.9 with its v1 trainer (TransferQueue)
    import transfer_queue
    import verl.trainer.ppo.v1.trainer_base

    HAVE_V1_TRAINER = True
except ImportError:
    HAVE_V1_TRAINER = False


@pytest.mark.skipif(not HAVE_V1_TRAINER, reason="needs verl >= 0.9 with TransferQueue (make test-verl)")
@pytest.mark.slow
def test_replay_buffer_reports_trained_groups_and_logs_metrics_through_verls_v1_trainer(parquet):
    """verl 0.9's default (v1) trainer never calls on_batch_end; it draws each batch from a ReplayBuffer over
    TransferQueue. verl's own _build_replay_buffer loads ours from trainer.v1.sampler.custom_sampler; verl's
    ReplayBuffer.sample runs on a real TransferQueue holding groups written as verl's AgentLoopWorkerTQ writes
    them; the sampled batch reaches the dataset's curriculum, and the curriculum/... metrics come back in the
    dict verl merges into the step's logged metrics (through its own MetricsAggregator)."""
    import ray
    from verl.trainer.ppo.v1.trainer_base import PPOTrainer
    from verl.trainer.ppo.v1.utils import MetricsAggregator
    from verl.utils.dataset.rl_dataset import get_dataset_class
    from verl.utils.tensordict_utils import list_of_dict_to_tensordict

    data = _data_config(parquet, local=True, prefetch=BATCH, actor_name="ac-v1")
    data.custom_cls = {"path": "pkg://autocurriculum.integrations.verl", "name": "CurriculumDataset"}
    dataset = get_dataset_class(data)(data_files=parquet, tokenizer=_tokenizer(), config=data)
    chosen = [dataset[0] for _ in range(BATCH)]  # the prompts the curriculum handed to verl's dataloader

    sampler = {
        "max_off_policy_threshold": 8,
        "max_off_policy_strategy": "drop",
        "custom_sampler": {"path": "pkg://autocurriculum.integrations.verl", "name": "CurriculumReplayBuffer"},
        "sampler_kwargs": {"feedback": "batch_end", "actor_name": "ac-v1"},
    }
    trainer = type("Stub", (), {})()  # only what _build_replay_buffer reads
    trainer.config = OmegaConf.create({"trainer": {"v1": {"sync": {}, "sampler": sampler}}, "data": data})
    trainer.trainer_mode = "sync"
    trainer._add_prompts_to_generate = lambda n: n
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)  # TransferQueue's controller + storage
    try:
        transfer_queue.init(OmegaConf.create({"backend": {"SimpleStorage": {"num_data_storage_units": 1}}}))
        buffer = PPOTrainer._build_replay_buffer(trainer)
        assert type(buffer).__name__ == "CurriculumReplayBuffer"
        keys, fields, tags = [], [], []
        for i, item in enumerate(chosen):  # prompt i: its first rollout right, the others wrong
            transfer_queue.kv_put(
                key=f"p{i}", partition_id="train", tag={"is_prompt": True, "status": "finished", "global_steps": 1}
            )
            for session in range(GROUP):
                scores = torch.zeros(4)
                scores[-1] = float(session == 0)
                keys.append(f"p{i}_{session}_0")
                fields.append({"rm_scores": scores, "extra_info": dict(item["extra_info"])})
                tags.append({"status": "success", "global_steps": 1, "min_global_steps": 1, "max_global_steps": 1})
        transfer_queue.kv_batch_put(
            keys=keys, fields=list_of_dict_to_tensordict(fields), tags=tags, partition_id="train"
        )
        batch, metrics = buffer.sample(global_steps=1, partition_id="train", batch_size=BATCH)
        assert sorted(batch.keys) == sorted(keys)
    finally:
        transfer_queue.close()
        ray.shutdown()
    state = dataset.curriculum_service.state_dict()
    assert state["groups_seen"] == BATCH
    assert metrics["curriculum/groups_reported"] == BATCH
    assert metrics["curriculum/pass_rate_mean"] == pytest.approx(1 / GROUP)
    aggregator = MetricsAggregator()  # what verl's TrainerBase.step does with the sampler's metrics
    aggregator.add_step_metrics(metrics, sample_count=len(keys))
    logged = aggregator.get_aggregated_metrics()
    assert logged["curriculum/pass_rate_mean"] == pytest.approx(1 / GROUP)
    assert logged["curriculum/zero_std_fraction"] == 0.0
