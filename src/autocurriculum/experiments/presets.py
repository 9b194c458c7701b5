"""Named experiment presets: the demo newcomers run first, and a tiny one for tests."""

from __future__ import annotations

from typing import Any

# One seed and four strategies on the calibrated testbed at 25,600 rollouts (4 prompts x 8 rollouts per GRPO step,
# the testbed's defaults), two runs at a time with one torch thread each. The student is seed 0's shipped base
# student (experiments/base_students/), so no warm start is trained: every machine starts the demo from the same
# weights. Strategies: uniform, the two practical strategies with the best medians over the 10 seeds of
# benchmarks/ten_seeds_default.yaml (pcl, a learned value model; adarft, a moving difficulty target) and the oracle.
# docs/testbed.md has the measured time.
DEMO: dict[str, Any] = {
    "strategies": ["uniform", "pcl", "adarft", "oracle"],
    "seeds": [0],
    "testbed": {"workers": 2, "torch_threads": 1},
    "rl": {"rollouts": 25_600},
}

# Seconds, for the end-to-end test of the demo code path; learns nothing.
TINY: dict[str, Any] = {
    "strategies": ["uniform", "dynamic-sampling", "thompson", "oracle"],
    "seeds": [0],
    "testbed": {
        "task_options": {"addition": {"width": 3}, "op_chain": {"max_length": 3}},
        "train_tasks_per_level": 12,
        "eval_tasks_per_level": 4,
        "min_eval_prompts_per_level": 2,
        "torch_threads": 1,  # a tiny model gains nothing from more threads, and a busy machine slows them a lot
        "warm_start_cache": "",
    },
    "warm_start": {"steps": 5, "max_level": 1},
    "model": {"d_model": 32, "n_layers": 1, "n_heads": 2},
    "sft": {"batch_size": 16},
    "grpo": {"group_size": 4},
    "rl": {"rollouts": 96, "prompts_per_step": 4, "eval_every": 48, "oracle_samples": 2},
}

PRESETS = {"demo": DEMO, "tiny": TINY}
