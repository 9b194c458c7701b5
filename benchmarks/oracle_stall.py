"""Where the oracle stalls (issue 9; docs/testbed.md, "Where the oracle stalls"): one strategy on one seed of the
benchmark testbed, printing at every evaluation the greedy held-out accuracy per level and the pass rate at
temperature 1 on 64 unseen prompts of levels 7-10 (8 samples each), the rate a curriculum's groups see.

Run: make benchmark-oracle-stall  (or: python benchmarks/oracle_stall.py --strategy oracle --seed 0
     [--target 0.25] [--oracle-samples 32] [--rollouts 51200])
Uses the benchmark's cached warm start (runs/.cache/warm-start) when there; one run takes 2-4 minutes on one core.
"""

from __future__ import annotations

import argparse
import json
import time

from autocurriculum.core import build_config
from autocurriculum.experiments.compare import build_seed_setup
from autocurriculum.experiments.config import ExperimentConfig
from autocurriculum.experiments.runner import run_strategy
from autocurriculum.trainers import TinyGPT

FAR_LEVELS = (7, 8, 9, 10)
PROMPTS_PER_LEVEL = 64
SAMPLES = 8
PROMPT_INDEX_OFFSET = 7_000_000  # indices far from the pools' own, so the prompts are unseen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strategy", default="oracle")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--target", type=float, default=None, help="oracle only: the pass rate it aims for")
    parser.add_argument("--oracle-samples", type=int, default=None, help="oracle only: Monte Carlo samples")
    parser.add_argument("--rollouts", type=int, default=None, help="rollout budget (default: the benchmark's)")
    args = parser.parse_args()

    overrides = {"oracle_samples": args.oracle_samples, "rollouts": args.rollouts}
    # the budget and batch shape the stall was measured at (the defaults until session 15)
    rl = {"rollouts": 51_200, "prompts_per_step": 16, "eval_every": 6_400}
    rl.update({k: v for k, v in overrides.items() if v is not None})
    # the `dots` testbed (the default until session 13), on which docs/testbed.md's stall was measured
    dots = {"op_chain": {"max_length": 10, "operators": "+-"}}
    testbed_values = {"torch_threads": 1, "pass_rate_samples": 0, "task_options": dots}
    config = build_config(ExperimentConfig, {"testbed": testbed_values, "rl": rl})
    options = {"target": args.target} if args.target is not None else {}
    label = args.strategy if not options else f"{args.strategy}-variant"
    strategy_options = {label: {"strategy": args.strategy, **options}} if options else {}

    setup = build_seed_setup(config, args.seed)
    testbed = setup.testbed
    model = TinyGPT(testbed.model_config, seed=0)
    model.load_state_dict(setup.warm_state)
    family = testbed.families[0]
    far = {lv: [family.generate(lv, PROMPT_INDEX_OFFSET + i) for i in range(PROMPTS_PER_LEVEL)] for lv in FAR_LEVELS}
    generator = testbed.generator(55_555)

    def sample_far_levels(student, record):
        sampled = {
            lv: float(testbed.monte_carlo_pass_rates(student, tasks, SAMPLES, 1.0, generator).mean())
            for lv, tasks in far.items()
        }
        row = {
            "strategy": label,
            "seed": args.seed,
            "rollouts": record["rollouts"],
            "overall": round(record["overall"], 3),
            "greedy": {k: round(v, 2) for k, v in record.items() if k.startswith(family.name)},
            "pass_rate_t1": {f"L{lv}": round(v, 3) for lv, v in sampled.items()},
        }
        print(json.dumps(row), flush=True)

    start = time.perf_counter()
    run_strategy(
        testbed,
        model,
        label,
        args.seed,
        config.grpo,
        config.rl,
        strategy_options=strategy_options,
        on_evaluate=sample_far_levels,
    )
    print(f"# {label}, seed {args.seed}: {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
