"""Named experiment presets: the demo newcomers run first, and a tiny one for tests."""

from __future__ import annotations

from typing import Any

# About 5 minutes on 2 CPU cores for one seed and four strategies (the warm start is cached for later runs).
DEMO: dict[str, Any] = {
    "strategies": ["uniform", "thompson", "sec", "oracle"],
    "seeds": [0],
}

# Seconds, for the end-to-end test of the demo code path; learns nothing.
TINY: dict[str, Any] = {
    "strategies": ["uniform", "dynamic-sampling", "thompson", "oracle"],
    "seeds": [0],
    "testbed": {
        "task_options": {"addition": {"width": 3}, "op_chain": {"max_length": 3}},
        "train_tasks_per_level": 12,
        "eval_tasks_per_level": 4,
        "warmup_steps": 5,
        "warmup_batch_size": 16,
        "d_model": 32,
        "n_layers": 1,
        "n_heads": 2,
        "warm_start_cache": "",
    },
    "rl": {"rollouts": 96, "prompts_per_step": 4, "group_size": 4, "eval_every": 48, "oracle_samples": 2},
}

PRESETS = {"demo": DEMO, "tiny": TINY}
