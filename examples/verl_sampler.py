"""verl's own data path driven by a curriculum strategy, on CPU, no GPU or rollout engine needed.

    make test-verl                                    # builds .venv-verl (verl 0.7.1) once
    .venv-verl/bin/python examples/verl_sampler.py --strategy thompson --steps 6

What runs is exactly what ``RayPPOTrainer`` does around the rollout: verl's
``create_rl_sampler`` loads ``CurriculumSampler`` from ``data.sampler.class_path``,
a ``StatefulDataLoader`` over verl's ``RLHFDataset`` draws batches, and after
each step ``sampler.update(batch)`` receives a trajectory-level ``DataProto``
(``uid``, ``extra_info``, ``acc``, ``token_level_scores``). The rollout is
simulated (a "model" that solves levels <= 2 and half of level 3), since
generation needs vLLM/SGLang workers. Half-way, the dataloader state is saved
to ``data.pt`` and restored into a fresh sampler, as verl's checkpoints do.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

GROUP = 4  # rollout.n


def _tokenizer() -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set("A0123456789+="))
    vocab = {t: i for i, t in enumerate(["<pad>", "<eos>", "<unk>", *chars])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    backend.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    return tok


def write_parquet(path: Path) -> None:
    """verl's RLHF layout; the task id goes into extra_info.index."""
    import pandas as pd

    from autocurriculum.integrations.verl import verl_rows
    from autocurriculum.tasks import build_pool, make_task_family

    pool = build_pool([make_task_family("addition")], tasks_per_level=8)
    pd.DataFrame(verl_rows(pool)).to_parquet(path)


def simulated_rollout(batch: dict, step: int, rng: np.random.Generator) -> Any:
    import torch
    from verl import DataProto

    extra = np.repeat(batch["extra_info"], GROUP)
    p_solve = np.array([1.0 if e["level"] <= 2 else 0.5 if e["level"] == 3 else 0.0 for e in extra])
    acc = (rng.random(len(extra)) < p_solve).astype(np.float64)
    uid = np.repeat(np.array([f"{step}-{i}" for i in range(len(batch["extra_info"]))], dtype=object), GROUP)
    scores = torch.zeros(len(extra), 8)
    scores[:, -1] = torch.tensor(acc)
    return DataProto.from_dict(
        tensors={"token_level_scores": scores}, non_tensors={"uid": uid, "extra_info": extra, "acc": acc}
    )


def build(parquet: str, strategy: str, batch_size: int) -> tuple[Any, Any]:
    from omegaconf import OmegaConf
    from torchdata.stateful_dataloader import StatefulDataLoader
    from verl.trainer.main_ppo import create_rl_sampler
    from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn

    config = OmegaConf.create(
        {
            "train_files": parquet,
            "prompt_key": "prompt",
            "max_prompt_length": 64,
            "filter_overlong_prompts": False,
            "truncation": "error",
            "shuffle": False,
            "train_batch_size": batch_size,
            "dataloader_num_workers": 0,  # verl asserts this for curriculum samplers
            "sampler": {"class_path": "pkg://autocurriculum.integrations.verl", "class_name": "CurriculumSampler"},
            "curriculum": {"strategy": strategy, "options": {"seed": 0}, "id_key": "index", "success_key": "acc"},
        }
    )
    dataset = RLHFDataset(data_files=parquet, tokenizer=_tokenizer(), config=config)
    sampler = create_rl_sampler(config, dataset)
    loader = StatefulDataLoader(
        dataset, batch_size=batch_size, sampler=sampler, num_workers=0, collate_fn=collate_fn, drop_last=True
    )
    return loader, sampler


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="thompson")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="verl_sampler_"))
    parquet = str(work / "train.parquet")
    write_parquet(parquet)
    rng = np.random.default_rng(0)
    loader, sampler = build(parquet, args.strategy, args.batch_size)
    iterator = iter(loader)
    for step in range(args.steps):
        if step == args.steps // 2:
            torch.save(loader.state_dict(), work / "data.pt")  # what verl's checkpoint writes
            loader, sampler = build(parquet, args.strategy, args.batch_size)
            loader.load_state_dict(torch.load(work / "data.pt", weights_only=False))
            iterator = iter(loader)
            print(f"-- resumed from {work / 'data.pt'}")
        try:
            batch = next(iterator)
        except StopIteration:  # end of an epoch: verl's fit loop starts the next one
            iterator = iter(loader)
            batch = next(iterator)
        data = simulated_rollout(batch, step, rng)
        sampler.update(batch=data)  # RayPPOTrainer.fit calls this after each step
        levels = Counter(int(e["level"]) for e in batch["extra_info"])
        shown = " ".join(f"L{k}x{v}" for k, v in sorted(levels.items()))
        print(f"step {step}: pass rate {data.non_tensor_batch['acc'].mean():.2f}  selected {shown}")
    print(f"curriculum updates: {sampler.curriculum.updates_seen}, groups seen: {sampler.curriculum.groups_seen}")


if __name__ == "__main__":
    main()
