"""Issue 12's TRL measurement: plain TRL, our adapter with `thompson`, and our adapter with `dynamic-sampling` in
generate-until-full mode, side by side in one run, same model, data, reward, seeds and optimizer-step count.

    .venv/bin/python benchmarks/trl_side_by_side.py --steps 30 --seeds 0,1,2          # tiny Qwen2-style model
    .venv/bin/python benchmarks/trl_side_by_side.py --model smollm2 --steps 2 --seeds 0  # SmolLM2-135M (slow)

Per arm and seed, from TRL's own log history: the zero-std fraction of the groups trained on (TRL's
``frac_reward_zero_std`` of the batch it trains on; for the filtering arm, the share of the trained batch that
had to be padded with dropped groups, ``curriculum/zero_std_after_filter``), generated rollouts per trained group,
generation rounds per optimizer step, wall time per optimizer step and the curriculum's share of it. The reward
is binary (TRL and the curriculum see the same 0/1 signal), so a zero-std group is exactly an all-0 or all-1 one.
Writes ``--out``/result.json and prints a table (median over seeds, min-max in brackets).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ARMS = ("trl", "thompson", "dynamic-sampling")


def _tiny_setup(seed: int) -> dict[str, Any]:
    from datasets import Dataset

    from autocurriculum.integrations.trl import tiny_offline_model
    from autocurriculum.tasks import build_pool, make_task_family

    family = make_task_family("addition")
    pool = build_pool([family], tasks_per_level=16)
    model, tokenizer = tiny_offline_model(family.alphabet, hidden_size=64, num_layers=2, seed=seed)
    answers = {t.task_id: t.answer for t in pool}

    def first_digit(completions: list[str], task_id: list[str], **kwargs: Any) -> list[float]:
        """1 when the completion starts with the answer's first character: binary, and within reach of a random
        model (about 1 in 10 at first), so groups are a mix of all-0 and informative ones, as on real data."""
        return [
            float(bool(completion) and completion[0] == answers[tid][0])
            for completion, tid in zip(completions, task_id, strict=True)
        ]

    records = [{"prompt": t.prompt, "task_id": t.task_id} for t in pool]
    return {
        "pool": pool,
        "dataset": Dataset.from_list(records),
        "model": model,
        "tokenizer": tokenizer,
        "reward": first_digit,
        "args": {
            "per_device_train_batch_size": 32,  # 8 prompts x 4 completions
            "num_generations": 4,
            "max_completion_length": 8,
            "learning_rate": 3e-3,
        },
    }


def _smollm2_setup(seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
    import smollm2_grpo
    from datasets import Dataset

    model, tokenizer = smollm2_grpo.load_smollm2()
    pool, score = smollm2_grpo.build_tasks(size_per_level=8)
    records = [
        {"prompt": [{"role": "user", "content": t.prompt + " Reply with the number only."}], "task_id": t.task_id}
        for t in pool
    ]

    def exact_answer(completions: list[Any], task_id: list[str], **kwargs: Any) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        return [score(t, text) for t, text in zip(task_id, texts, strict=True)]

    return {
        "pool": pool,
        "dataset": Dataset.from_list(records),
        "model": model,
        "tokenizer": tokenizer,
        "reward": exact_answer,
        "args": {
            "per_device_train_batch_size": 16,  # 4 prompts x 4 completions
            "num_generations": 4,
            "max_completion_length": 24,
            "learning_rate": 1e-6,
        },
    }


def run_arm(arm: str, model_name: str, steps: int, seed: int, max_generation_rounds: int = 10) -> dict[str, Any]:
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from autocurriculum import make_curriculum
    from autocurriculum.integrations.trl import CurriculumGRPOTrainer

    setup = _tiny_setup(seed) if model_name == "tiny" else _smollm2_setup(seed)
    config = GRPOConfig(
        output_dir=tempfile.mkdtemp(prefix=f"trl_{arm}_"),
        max_steps=steps,
        beta=0.0,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        logging_steps=1,
        seed=seed,
        disable_tqdm=True,
        **setup["args"],
    )
    step_seconds: list[float] = []

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.start = time.perf_counter()

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            step_seconds.append(time.perf_counter() - self.start)

    common = {
        "model": setup["model"],
        "reward_funcs": setup["reward"],
        "args": config,
        "train_dataset": setup["dataset"],
        "processing_class": setup["tokenizer"],
        "callbacks": [StepTimer()],
    }
    if arm == "trl":
        trainer = GRPOTrainer(**common)
    else:
        options = {"max_generation_rounds": max_generation_rounds} if arm == "dynamic-sampling" else {}
        curriculum = make_curriculum(arm, setup["pool"], {"seed": seed, **options})
        trainer = CurriculumGRPOTrainer(**common, curriculum=curriculum)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.train()
    logs = [h for h in trainer.state.log_history if "reward" in h]
    group = setup["args"]["num_generations"]

    def mean_of(key: str, default: float) -> float:
        values = [h[key] for h in logs if key in h]
        return float(statistics.fmean(values)) if values else default

    filtering = arm == "dynamic-sampling"
    zero_std_trained = (
        mean_of("curriculum/zero_std_after_filter", 0.0) if filtering else mean_of("frac_reward_zero_std", float("nan"))
    )
    steady = step_seconds[1:] or step_seconds  # the first step pays one-off warm-up costs
    curriculum_seconds = 0.0 if arm == "trl" else float(trainer.curriculum_sampler.curriculum_seconds)
    return {
        "arm": arm,
        "seed": seed,
        "optimizer_steps": int(trainer.state.global_step),
        "zero_std_trained": zero_std_trained,
        "zero_std_generated": mean_of("curriculum/zero_std_before_filter", zero_std_trained),
        "rollouts_per_trained_group": group * mean_of("curriculum/generated_groups_per_trained", 1.0),
        "generation_rounds_per_step": mean_of("curriculum/generation_rounds", 1.0),
        "seconds_per_step": float(statistics.fmean(steady)) if steady else float("nan"),
        "curriculum_share_of_step_time": curriculum_seconds / max(sum(step_seconds), 1e-9),
        "reward_mean": mean_of("reward", float("nan")),
        "rounds_exhausted_warnings": sum("GenerationRoundsExhausted" in type(w.message).__name__ for w in caught),
    }


def _cell(values: list[float], fmt: str) -> str:
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(statistics.median(values), fmt)} [{format(min(values), fmt)}-{format(max(values), fmt)}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("tiny", "smollm2"), default="tiny")
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per arm and seed (equal budget)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads (this script's own setting)")
    parser.add_argument("--arms", default=",".join(ARMS), help="which of trl, thompson, dynamic-sampling to run")
    parser.add_argument(
        "--max-generation-rounds", type=int, default=10, help="dynamic-sampling's round limit (DAPO's default: 10)"
    )
    parser.add_argument("--out", default="runs/trl-side-by-side")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=FutureWarning)
    seeds = [int(s) for s in args.seeds.split(",")]
    arms = [a for a in args.arms.split(",") if a]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown:
        parser.error(f"--arms: unknown arm {unknown[0]!r}; choose from {', '.join(ARMS)}")
    start = time.perf_counter()
    rows = []
    for seed in seeds:
        for arm in arms:  # interleaved per seed, so a machine that slows down slows every arm alike
            row = run_arm(arm, args.model, args.steps, seed, args.max_generation_rounds)
            rows.append(row)
            print(json.dumps(row), flush=True)
    wall = time.perf_counter() - start
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "model": args.model,
        "steps": args.steps,
        "seeds": seeds,
        "max_generation_rounds": args.max_generation_rounds,
        "wall_seconds": wall,
        "runs": rows,
    }
    (out / "result.json").write_text(json.dumps(result, indent=2))

    columns = [
        ("zero_std_trained", ".3f"),
        ("zero_std_generated", ".3f"),
        ("rollouts_per_trained_group", ".2f"),
        ("generation_rounds_per_step", ".2f"),
        ("seconds_per_step", ".3f"),
        ("curriculum_share_of_step_time", ".4f"),
        ("reward_mean", ".3f"),
    ]
    print(f"\n{args.model}, {args.steps} optimizer steps per run, seeds {seeds}, {wall:.0f} s in all")
    print("| arm | " + " | ".join(name for name, _ in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for arm in arms:
        mine = [r for r in rows if r["arm"] == arm]
        print(f"| {arm} | " + " | ".join(_cell([r[name] for r in mine], fmt) for name, fmt in columns) + " |")


if __name__ == "__main__":
    main()
