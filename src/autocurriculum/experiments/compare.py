"""Run several strategies x seeds at one rollout budget and write the comparison outputs."""

from __future__ import annotations

import dataclasses
import json
import time
import warnings
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from autocurriculum.core import GenerationRoundsExhausted, make_config
from autocurriculum.experiments.config import ExperimentConfig, resolve_strategy
from autocurriculum.experiments.report import (
    plot_accuracy_by_level,
    plot_teacher_error,
    plot_training_dynamics,
    summary_table,
    write_report,
)
from autocurriculum.experiments.runner import RunResult, run_strategy
from autocurriculum.experiments.summary import summarize
from autocurriculum.experiments.testbed import Testbed


def run_comparison(config: ExperimentConfig, out_dir: Path, console: Console | None = None) -> dict[str, Any]:
    """Warm-start once per seed, run every strategy from that checkpoint, then summarize, plot and report."""
    config.validate()
    for label in config.strategies:  # fail before any training on a bad name or option
        name, options = resolve_strategy(label, config.strategy_options)
        make_config(name, options, source=f"strategy_options.{label}")
    console = console or Console()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / "metrics.jsonl"
    metrics_path.write_text("")
    (out_dir / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))
    start = time.perf_counter()
    results: list[RunResult] = []
    total = config.rl.rollouts * len(config.strategies) * len(config.seeds)
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rollouts"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with (
        Progress(*columns, console=console, transient=False) as progress,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", GenerationRoundsExhausted)
        overall = progress.add_task("all runs", total=total)
        for seed in config.seeds:
            testbed = Testbed(config.testbed, seed)
            warm = progress.add_task(f"seed {seed}: SFT warm start", total=None)
            cache = config.testbed.warm_start_cache
            warm_model = testbed.warm_start(cache_dir=Path(cache) if cache else None)
            progress.update(warm, total=1, completed=1)
            for strategy in config.strategies:
                done_before = progress.tasks[overall].completed
                task = progress.add_task(f"seed {seed}: {strategy}", total=config.rl.rollouts)

                def advance(rollouts: int, task=task, done_before=done_before) -> None:
                    progress.update(task, completed=min(rollouts, config.rl.rollouts))
                    progress.update(overall, completed=done_before + min(rollouts, config.rl.rollouts))

                result = run_strategy(
                    testbed,
                    warm_model,
                    strategy,
                    config.rl,
                    seed,
                    strategy_options=config.strategy_options,
                    on_progress=advance,
                    metrics_path=metrics_path,
                )
                results.append(result)
                progress.update(task, completed=config.rl.rollouts)
                progress.console.print(
                    f"seed {seed} {strategy}: held-out accuracy {result.evals[0]['overall']:.3f} -> "
                    f"{result.final_accuracy:.3f} after {result.rollouts} rollouts ({result.wall_seconds:.0f} s)"
                )
    if caught:
        first = escape(str(caught[0].message))
        console.print(f"[yellow]{len(caught)} generation-round warnings (partial batches); first:[/] {first}")
    summary = summarize(results)
    wall = time.perf_counter() - start
    meta = {
        "seeds": config.seeds,
        "rollouts": config.rl.rollouts,
        "prompts_per_step": config.rl.prompts_per_step,
        "group_size": config.rl.group_size,
        "tasks": config.testbed.tasks,
        "pool": config.testbed.pool,
        "warmup_max_level": config.testbed.warmup_max_level,
        "wall_seconds": wall,
    }
    write_outputs(out_dir, results, summary, meta)
    print_summary(console, summary)
    console.print(f"Wrote {out_dir}/report.md, summary.json, metrics.jsonl, evals.jsonl and plots ({wall:.0f} s).")
    return summary


def write_outputs(out_dir: Path, results: list[RunResult], summary: dict[str, Any], meta: dict[str, Any]) -> None:
    with open(out_dir / "evals.jsonl", "w") as f:
        for r in results:
            for e in r.evals:
                f.write(json.dumps({"strategy": r.strategy, "seed": r.seed, **e}) + "\n")
    (out_dir / "summary.json").write_text(json.dumps({"meta": meta, "strategies": summary}, indent=2))
    plot_accuracy_by_level(results, out_dir / "accuracy_by_level.png")
    plot_training_dynamics(results, out_dir / "training_dynamics.png")
    plot_teacher_error(results, out_dir / "teacher_mae.png")
    write_report(out_dir, summary, meta)


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    rows = summary_table(summary)
    table = Table(title=escape("Strategies at equal rollout budget (median [min, max] over seeds)"))
    for header in rows[0]:
        table.add_column(header)
    for row in rows[1:]:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)
