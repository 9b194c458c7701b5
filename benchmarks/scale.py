"""Selection cost at scale (issue 13): ms per select(256) + update and bytes of state per prompt, for every
history-based strategy on streaming pools of 10^5..10^7 prompts, beside a bare NumPy Thompson loop (the limit).

Run: make benchmark-scale  (or: python benchmarks/scale.py --sizes 100000,1000000,10000000 --steps 50)
Outcome objects are built outside the timer (a trainer builds them anyway); the timer covers select + update.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

import autocurriculum.strategies  # noqa: F401 - registers every strategy
from autocurriculum.core import GroupOutcome, make_curriculum
from autocurriculum.tasks import StreamingTaskSource

BATCH = 256
GROUP = 8
STRATEGIES = ["uniform", "thompson", "bots", "greso", "knapsack", "cures", "vcrl", "sec", "dump", "learning-progress"]


def bare_numpy_thompson(size: int, steps: int, rng: np.random.Generator) -> float:
    """The limit: float32 Beta counts, 8x candidates, nearest 0.5, vectorised update; ms per step."""
    alpha = np.ones(size, dtype=np.float32)
    beta = np.ones(size, dtype=np.float32)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        candidates = rng.choice(size, size=8 * BATCH, replace=False)
        draws = rng.beta(alpha[candidates], beta[candidates])
        rows = candidates[np.argsort(np.abs(draws - 0.5))[:BATCH]]
        successes = rng.integers(0, GROUP + 1, size=BATCH).astype(np.float32)
        alpha[rows] = 0.9 * alpha[rows] + 0.1 + successes
        beta[rows] = 0.9 * beta[rows] + 0.1 + (GROUP - successes)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e3)


def strategy_cost(name: str, source: StreamingTaskSource, steps: int, rng: np.random.Generator) -> tuple[float, float]:
    tracemalloc.start()
    curriculum = make_curriculum(name, source, {"seed": 0})
    state_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        ids = curriculum.select(BATCH)
        selected = time.perf_counter() - start
        outcomes = [GroupOutcome(t, (rng.random(GROUP) < 0.5).astype(float)) for t in ids]
        start = time.perf_counter()
        curriculum.update(outcomes)
        times.append(selected + time.perf_counter() - start)
    curriculum.close()
    return float(np.median(times) * 1e3), state_bytes / len(source)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(0)
    print("| strategy | " + " | ".join(f"{s:,} prompts: ms (bytes/prompt)" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    print(
        "| bare NumPy Thompson | "
        + " | ".join(f"{bare_numpy_thompson(s, args.steps, rng):.2f} (8)" for s in sizes)
        + " |"
    )
    sources = {s: StreamingTaskSource.from_names(["addition", "op_chain"], min_size=s) for s in sizes}
    for name in args.strategies.split(","):
        cells = []
        for size in sizes:
            ms, per_prompt = strategy_cost(name, sources[size], args.steps, rng)
            cells.append(f"{ms:.2f} ({per_prompt:.1f})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
