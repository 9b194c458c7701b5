"""A curriculum strategy drives TRL's GRPOTrainer: tiny Qwen2-style model, offline, CPU, about a minute.

    .venv/bin/python examples/trl_grpo.py --strategy thompson --steps 12
    .venv/bin/python examples/trl_grpo.py --strategy uniform --steps 12

Tasks come from the built-in ``addition`` family (levels 1-6). The model is
random and tiny, so the reward is a toy: TRL trains on the fraction of answer
characters in the right place (shaped, in [0, 1]); the curriculum counts a
group member as a success when at least half of them are right
(``success_threshold=0.5``). Prints the reward and the selected levels per
step, then the step time and the share of it spent in the curriculum.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings
from collections import Counter
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built locally; never reach a hub
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore", category=FutureWarning)  # transformers 5 renames; not ours to fix


def positional_accuracy(completions: list[str], answer: list[str], **kwargs: Any) -> list[float]:
    """Fraction of answer characters the completion has in the right place (a shaped reward)."""
    return [
        sum(a == b for a, b in zip(c, gold, strict=False)) / len(gold)
        for c, gold in zip(completions, answer, strict=True)
    ]


def run(strategy: str, steps: int, seed: int = 0, output_dir: str | None = None, quiet: bool = False) -> dict[str, Any]:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig

    from autocurriculum import make_curriculum
    from autocurriculum.integrations.trl import CurriculumGRPOTrainer, tiny_offline_model
    from autocurriculum.tasks import build_pool, make_task_family

    torch.set_num_threads(2)
    family = make_task_family("addition")
    pool = build_pool([family], tasks_per_level=16)  # 96 tasks, ids like "addition:L3:s0:7"
    dataset = Dataset.from_list([{"prompt": t.prompt, "answer": t.answer, "task_id": t.task_id} for t in pool])
    model, tokenizer = tiny_offline_model(family.alphabet, hidden_size=64, num_layers=2, seed=seed)
    curriculum = make_curriculum(strategy, pool, {"seed": seed})

    config = GRPOConfig(
        output_dir=output_dir or tempfile.mkdtemp(prefix="trl_grpo_"),
        per_device_train_batch_size=32,  # 8 prompts x 4 generations per step
        num_generations=4,
        max_completion_length=8,
        max_steps=steps,
        learning_rate=3e-3,
        beta=0.0,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=seed,
        disable_tqdm=True,
    )
    step_times: list[float] = []
    rewards: list[float] = []

    class Printer(TrainerCallback):
        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.t0 = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            step_times.append(time.perf_counter() - self.t0)

        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            if logs and "reward" in logs:
                rewards.append(float(logs["reward"]))
                last = trainer.curriculum_sampler.selection_log[-1]
                levels = Counter(pool.get(t).level for t in last["ids"])
                shown = " ".join(f"L{int(k)}x{v}" for k, v in sorted(levels.items()))
                if not quiet:
                    print(
                        f"step {state.global_step:3d}  reward {logs['reward']:.3f}  "
                        f"zero-std {logs.get('frac_reward_zero_std', float('nan')):.2f}  "
                        f"selected (chunk {last['chunk']}, lag {last['feedback_lag']}): {shown}",
                        flush=True,
                    )

    trainer = CurriculumGRPOTrainer(
        model=model,
        reward_funcs=positional_accuracy,
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        curriculum=curriculum,
        success_threshold=0.5,
        callbacks=[Printer()],
    )
    trainer.remove_callback(PrinterCallback)  # our Printer shows the interesting part of each log line
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    steady = step_times[1:] or step_times  # the first step pays one-off warm-up costs
    mean_step = sum(steady) / len(steady)
    overhead = trainer.curriculum_sampler.curriculum_seconds
    result = {
        "strategy": strategy,
        "steps": len(step_times),
        "mean_step_seconds": mean_step,
        "curriculum_seconds": overhead,
        "curriculum_fraction": overhead / max(sum(step_times), 1e-9),
        "final_reward": rewards[-1] if rewards else float("nan"),
        "wall_seconds": wall,
    }
    if not quiet:
        print(
            f"{strategy}: {result['steps']} steps, {mean_step:.3f} s/step (steady), curriculum "
            f"{overhead * 1e3:.1f} ms in total = {100 * result['curriculum_fraction']:.3f}% of step time"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="thompson", help="any registered strategy (autocurriculum strategies)")
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default=None)
    args = parser.parse_args()
    run(args.strategy, args.steps, args.seed, args.output_dir)


if __name__ == "__main__":
    main()
