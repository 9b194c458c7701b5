"""TRL adapter: index-stream shape, cross-rank consistency, and exact resume through real GRPO steps on CPU."""

from __future__ import annotations

import os
import zlib

import pytest

pytest.importorskip("trl")
pytest.importorskip("accelerate")

from accelerate.data_loader import BatchSamplerShard
from torch.utils.data import BatchSampler
from trl.trainer.utils import RepeatSampler

from autocurriculum import make_curriculum
from autocurriculum.core import Task, TaskPool
from autocurriculum.integrations.trl import (
    CurriculumFeedback,
    CurriculumRepeatSampler,
    rewards_to_outcomes,
)

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _pool(n: int) -> TaskPool:
    return TaskPool(Task(task_id=f"t{i:03d}", prompt=f"A{i:03d}=", answer=str(i % 10)) for i in range(n))


def _structure(stream: list[int], mini: int, batch: int, repeat: int) -> list[tuple[int, ...]]:
    """Check RepeatSampler's layout and return the unique prompts of each chunk."""
    chunk_len = mini * batch * repeat
    assert len(stream) % chunk_len == 0
    chunks = []
    for start in range(0, len(stream), chunk_len):
        block = stream[start : start + chunk_len]
        first = block[: mini * batch]
        assert block == first * repeat  # the chunk is repeated `repeat` times
        prompts = first[::mini]
        assert first == [p for p in prompts for _ in range(mini)]  # each prompt `mini` times in a row
        chunks.append(tuple(prompts))
    return chunks


@pytest.mark.parametrize(("n", "mini", "batch", "repeat"), [(13, 3, 4, 2), (8, 2, 4, 1), (10, 4, 1, 3)])
def test_stream_has_the_shape_of_trl_repeat_sampler(n, mini, batch, repeat):
    reference = RepeatSampler(list(range(n)), mini_repeat_count=mini, batch_size=batch, repeat_count=repeat, seed=0)
    pool = _pool(n)
    ours = CurriculumRepeatSampler(make_curriculum("uniform", pool, {"seed": 0}), pool.ids, mini, batch, repeat)
    ref_stream, our_stream = list(reference), list(ours)
    assert len(ours) == len(reference) == len(our_stream) == len(ref_stream)
    ref_chunks = _structure(ref_stream, mini, batch, repeat)
    our_chunks = _structure(our_stream, mini, batch, repeat)
    assert len(our_chunks) == len(ref_chunks)
    assert all(len(set(c)) == batch for c in our_chunks)  # uniform draws without replacement within a chunk


def test_ids_come_from_the_id_column_not_positions():
    pool = _pool(6)
    shuffled = list(reversed(pool.ids))  # dataset rows in another order than the pool
    sampler = CurriculumRepeatSampler(make_curriculum("uniform", pool), shuffled, 2, 3)
    stream = list(sampler)
    chosen = [i for chunk in (e["ids"] for e in sampler.selection_log) for i in chunk]
    assert [shuffled[row] for row in stream[::2]] == chosen
    with pytest.raises(ValueError, match="not in the dataset"):
        CurriculumRepeatSampler(make_curriculum("uniform", pool), pool.ids[:4], 2, 2)


def _reward(task_id: str, position: int) -> float:
    return float((zlib.crc32(task_id.encode()) + position) % 3 == 0)


def test_selections_identical_across_simulated_ranks():
    ranks, mini, per_device, steps = 2, 4, 8, 6
    batch = per_device * ranks // mini  # unique prompts per generation batch (global)
    pool = _pool(40)
    samplers = [
        CurriculumRepeatSampler(make_curriculum("thompson", pool, {"seed": 7}), pool.ids, mini, batch)
        for _ in range(ranks)
    ]
    # accelerate shards one global stream: rank r takes every `ranks`-th batch of `per_device` indices
    iters = [
        iter(BatchSamplerShard(BatchSampler(s, per_device, drop_last=True), num_processes=ranks, process_index=r))
        for r, s in enumerate(samplers)
    ]
    for _ in range(steps):
        local = []
        for r in range(ranks):
            rows = next(iters[r])
            ids = [pool.ids[i] for i in rows]
            local.append([(t, _reward(t, j % mini)) for j, t in enumerate(ids)])
        gathered = [pair for rank_pairs in local for pair in rank_pairs]  # gather_object: rank order
        for r in range(ranks):
            wrapper = CurriculumFeedback(
                lambda prompts, completions, pairs=local[r], **kw: [p[1] for p in pairs],
                sampler=samplers[r],
                gather=lambda _items, everything=gathered: everything,
            )
            ids_r = [t for t, _ in local[r]]
            wrapper(prompts=ids_r, completions=ids_r, task_id=ids_r)
    logs = [[e["ids"] for e in s.selection_log] for s in samplers]
    assert logs[0] == logs[1] and len(logs[0]) >= steps
    assert samplers[0].curriculum.state_dict()["stats"]["alpha"].tolist() == (
        samplers[1].curriculum.state_dict()["stats"]["alpha"].tolist()
    )
    assert samplers[0].curriculum.groups_seen == steps * batch


def test_rewards_to_outcomes_groups_and_thresholds():
    ids = ["a", "a", "b", "b", "a", "a"]  # "a" selected twice in one chunk stays two groups
    outcomes = rewards_to_outcomes(ids, [1.0, 0.0, None, 1.0, 0.2, 0.9], 2, success_threshold=0.5)
    assert [(o.task_id, o.rewards.tolist()) for o in outcomes] == [("a", [1, 0]), ("b", [1]), ("a", [0, 1])]
    with pytest.raises(ValueError, match="success_threshold"):
        rewards_to_outcomes(["a", "a"], [2.0, 0.0], 2)


# ----------------------------------------------------------------- real GRPO steps with a tiny model


def _train(tmp_path, name: str, max_steps: int, resume: str | None = None):
    from datasets import Dataset
    from trl import GRPOConfig

    from autocurriculum.integrations.trl import CurriculumGRPOTrainer, tiny_offline_model

    pool = _pool(24)
    dataset = Dataset.from_list([{"prompt": t.prompt, "answer": t.answer, "task_id": t.task_id} for t in pool])
    model, tokenizer = tiny_offline_model("A0123456789=", hidden_size=32, num_layers=1, seed=0)

    def deterministic_reward(completions, task_id, **kwargs):
        # depends on the task only, so both runs see identical feedback whatever the model samples
        return [_reward(t, i % 3) for i, t in enumerate(task_id)]

    config = GRPOConfig(
        output_dir=str(tmp_path / name),
        per_device_train_batch_size=6,  # 2 prompts x 3 generations
        num_generations=3,
        max_completion_length=4,
        max_steps=max_steps,
        learning_rate=1e-3,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="steps",
        save_steps=2,
        logging_steps=1,
        seed=0,
        disable_tqdm=True,
    )
    trainer = CurriculumGRPOTrainer(
        model=model,
        reward_funcs=deterministic_reward,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        curriculum=make_curriculum("thompson", pool, {"seed": 5}),
    )
    trainer.train(resume_from_checkpoint=resume)
    return trainer.curriculum_sampler


@pytest.mark.slow
def test_resume_from_trl_checkpoint_continues_the_selection_sequence(tmp_path):
    full = _train(tmp_path, "full", max_steps=6)
    assert (tmp_path / "full" / "checkpoint-4" / "autocurriculum_state.json").is_file()
    assert len(full.feedback_log) == 6
    resumed = _train(tmp_path, "resumed", max_steps=6, resume=str(tmp_path / "full" / "checkpoint-4"))
    assert resumed.feedback_log == full.feedback_log[4:]  # steps 5 and 6 train on the same prompts
    by_chunk = {(e["epoch"], e["chunk"]): e["ids"] for e in full.selection_log}
    assert resumed.selection_log  # it did draw new chunks, from the restored state
    for entry in resumed.selection_log:
        assert entry["ids"] == by_chunk[(entry["epoch"], entry["chunk"])]
    assert resumed.curriculum.state_dict()["stats"]["alpha"].tolist() == (
        full.curriculum.state_dict()["stats"]["alpha"].tolist()
    )


def _train_filtering(
    tmp_path,
    strategy: str,
    max_steps: int = 4,
    options: dict | None = None,
    save_steps: int | None = None,
    resume: str | None = None,
    name: str | None = None,
):
    """A tiny TRL run where a third of the prompts always succeed, a third always fail, a third vary."""
    from datasets import Dataset
    from trl import GRPOConfig

    from autocurriculum.integrations.trl import CurriculumGRPOTrainer, tiny_offline_model

    pool = _pool(30)
    dataset = Dataset.from_list([{"prompt": t.prompt, "answer": t.answer, "task_id": t.task_id} for t in pool])
    model, tokenizer = tiny_offline_model("A0123456789=", hidden_size=32, num_layers=1, seed=0)

    def reward(completions, task_id, **kwargs):
        kind = [int(t[1:]) % 3 for t in task_id]  # 0: always right, 1: always wrong, 2: half the completions
        return [1.0 if k == 0 else 0.0 if k == 1 else float(i % 2) for i, k in enumerate(kind)]

    config = GRPOConfig(
        output_dir=str(tmp_path / (name or strategy)),
        per_device_train_batch_size=8,  # 4 prompts x 2 generations
        num_generations=2,
        max_completion_length=3,
        max_steps=max_steps,
        learning_rate=1e-3,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no" if save_steps is None else "steps",
        save_steps=save_steps or 500,
        logging_steps=1,
        seed=0,
        disable_tqdm=True,
    )
    curriculum = make_curriculum(strategy, pool, {"seed": 3, **(options or {})})
    trainer = CurriculumGRPOTrainer(
        model=model,
        reward_funcs=reward,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        curriculum=curriculum,
    )
    trainer.train(resume_from_checkpoint=resume)
    return trainer


@pytest.mark.slow
def test_dynamic_sampling_resumes_from_a_trl_checkpoint_mid_run(tmp_path):
    """Kill after step 2, resume from checkpoint-2: the optimizer-step count TRL sees stays right, the curriculum
    continues from its saved state (every group generated before the checkpoint still counted, none twice) and
    every resumed batch is still full of informative groups."""
    from autocurriculum.core.codec import curriculum_state, load_state

    full = _train_filtering(tmp_path, "dynamic-sampling", max_steps=4, save_steps=2, name="full")
    checkpoint = tmp_path / "full" / "checkpoint-2"
    assert full.state.global_step == 4
    resumed = _train_filtering(tmp_path, "dynamic-sampling", max_steps=4, resume=str(checkpoint), name="resumed")
    assert resumed.state.global_step == 4
    logs = [e for e in resumed.state.log_history if "curriculum/generation_rounds" in e]
    assert [e["step"] for e in logs] == [1, 2, 3, 4]  # TRL restores the log history of steps 1-2 from the checkpoint
    first_two, logs = logs[:2], logs[2:]  # restored from the checkpoint; trained after the resume
    assert all(e["curriculum/zero_std_after_filter"] == 0.0 for e in logs)
    saved_groups = curriculum_state(load_state(checkpoint / "autocurriculum_state.json"))["groups_seen"]
    generated_before = round(sum(e["curriculum/generated_groups_per_trained"] * 4 for e in first_two))
    assert saved_groups == generated_before > 0  # the checkpoint holds every group generated in steps 1-2
    generated_after = round(sum(e["curriculum/generated_groups_per_trained"] * 4 for e in logs))
    assert resumed.curriculum.groups_seen == saved_groups + generated_after


@pytest.mark.slow
def test_dynamic_sampling_in_trl_generates_until_the_batch_is_full_of_informative_groups(tmp_path):
    trainer = _train_filtering(tmp_path, "dynamic-sampling")
    logs = [entry for entry in trainer.state.log_history if "curriculum/generation_rounds" in entry]
    assert len(logs) == 4
    assert all(entry["curriculum/zero_std_after_filter"] == 0.0 for entry in logs)  # every trained group varies
    assert all(entry["curriculum/zero_std_before_filter"] > 0.3 for entry in logs)  # 2 in 3 prompts never vary
    assert max(entry["curriculum/generation_rounds"] for entry in logs) > 1
    per_trained = [entry["curriculum/generated_groups_per_trained"] for entry in logs]
    assert min(per_trained) >= 1.0 and max(per_trained) > 1.0
    # every generated group reached the curriculum, filtered ones included
    generated = sum(entry["curriculum/generated_groups_per_trained"] * 4 for entry in logs)
    assert trainer.curriculum.groups_seen == round(generated)
    # the curriculum's own signals reach TRL's logger (and so wherever report_to points)
    for key in ("curriculum/zero_std_fraction", "curriculum/selected_level_mean", "curriculum/groups_seen"):
        assert all(key in entry for entry in logs), key
    assert logs[-1]["curriculum/groups_seen"] == trainer.curriculum.groups_seen


@pytest.mark.slow
def test_a_filter_that_keeps_nothing_trains_a_partial_batch_with_a_warning(tmp_path):
    from autocurriculum.core import GenerationRoundsExhausted

    with pytest.warns(GenerationRoundsExhausted, match=r"only 0 of 4 groups passed the filter after 2"):
        trainer = _train_filtering(
            tmp_path, "band", max_steps=1, options={"low": 0.9, "high": 0.95, "max_generation_rounds": 2}
        )
    (entry,) = [e for e in trainer.state.log_history if "curriculum/generation_rounds" in e]
    assert entry["curriculum/generation_rounds"] == 2 and entry["curriculum/zero_std_after_filter"] == 1.0


# ----- several real ranks (torchrun, gloo on CPU) -----
_RANK_SCRIPT = """
import json, os, sys, warnings
warnings.filterwarnings("ignore")
from datasets import Dataset
from trl import GRPOConfig
from autocurriculum import make_curriculum
from autocurriculum.core import Task, TaskPool
from autocurriculum.core.codec import state_to_json
from autocurriculum.integrations.trl import CurriculumGRPOTrainer, tiny_offline_model

strategy, out = sys.argv[1], sys.argv[2]
pool = TaskPool(Task(task_id=f"t{i:03d}", prompt=f"A{i:03d}=", answer=str(i % 10)) for i in range(30))
dataset = Dataset.from_list([{"prompt": t.prompt, "answer": t.answer, "task_id": t.task_id} for t in pool])
model, tokenizer = tiny_offline_model("A0123456789=", hidden_size=32, num_layers=1, seed=0)

def reward(completions, task_id, **kwargs):  # a third always right, a third always wrong, a third half right
    kind = [int(t[1:]) % 3 for t in task_id]
    return [1.0 if k == 0 else 0.0 if k == 1 else float(i % 2) for i, k in enumerate(kind)]

config = GRPOConfig(
    output_dir=out, per_device_train_batch_size=4, num_generations=2, max_completion_length=3, max_steps=3,
    learning_rate=1e-3, use_cpu=True, bf16=False, report_to="none", save_strategy="no", logging_steps=1,
    seed=0, disable_tqdm=True,
)
trainer = CurriculumGRPOTrainer(
    model=model, reward_funcs=reward, args=config, train_dataset=dataset, processing_class=tokenizer,
    curriculum=make_curriculum(strategy, pool, {"seed": 3}),
)
trainer.train()
rank = trainer.accelerator.process_index
with open(os.path.join(out, f"rank-{rank}.json"), "w") as f:
    json.dump({
        "world": trainer.accelerator.num_processes,
        "steps": trainer.state.global_step,
        "state": state_to_json(trainer.curriculum.state_dict()),
        "logs": [e for e in trainer.state.log_history if "curriculum/groups_seen" in e],
    }, f)
# Tear gloo down explicitly: left to interpreter exit, its threads can abort a rank ("terminate called without an
# active exception", exit -6) after all the work is done.
import torch.distributed as dist
if dist.is_initialized():
    dist.barrier()
    dist.destroy_process_group()
"""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["thompson", "dynamic-sampling"])
def test_two_real_ranks_make_identical_curriculum_decisions(tmp_path, strategy):
    """Two processes under torchrun (gloo on CPU), one sampler replica each: the curricula end in the same state
    on both ranks, TRL's step count is right, and with dynamic-sampling every trained group on every rank is
    informative (the rank furthest behind sets each refill round)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed next to this interpreter")
    script = tmp_path / "ranks.py"
    script.write_text(_RANK_SCRIPT)
    env = {**os.environ, "ACCELERATE_USE_CPU": "1", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    command = [str(torchrun), "--nproc_per_node", "2", "--master_port", str(_free_port()), str(script)]
    done = subprocess.run([*command, strategy, str(tmp_path)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank-{r}.json").read_text()) for r in range(2)]
    assert [r["world"] for r in ranks] == [2, 2]
    assert [r["steps"] for r in ranks] == [3, 3]
    assert ranks[0]["state"] == ranks[1]["state"]  # identical decisions: same updates, same draws, same filter
    logs = ranks[0]["logs"]
    assert len(logs) == 3
    if strategy == "dynamic-sampling":
        assert all(e["curriculum/zero_std_after_filter"] == 0.0 for e in logs)
        assert all(e["curriculum/zero_std_before_filter"] > 0.3 for e in logs)  # 2 in 3 prompts never vary
        assert max(e["curriculum/generation_rounds"] for e in logs) > 1
        generated = sum(e["curriculum/generated_groups_per_trained"] * 4 for e in logs)  # 2 ranks x 2 groups
        assert logs[-1]["curriculum/groups_seen"] == round(generated)  # every rank's every group was counted
