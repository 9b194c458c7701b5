"""Run several strategies x seeds at one rollout budget and write the comparison outputs.

config -> one testbed and SFT warm start per seed (cached on disk) -> the (seed, strategy) runs -> summary ->
report. Both the warm starts and the runs use a process pool when ``testbed.workers > 1``. Runs are independent
and seeded, so the results (and the order of every output row: by seed, then by the order of ``strategies``) are
the same for any number of workers.

Every run checkpoints itself under ``out_dir/.checkpoints/run-NNNN/`` (``rl.checkpoint_every``) and records its
result there when done; ``resume=True`` continues an interrupted comparison: the config must match the one in
``config.json``, finished runs are not redone, unfinished ones continue from their checkpoints, and the outputs
come out as an uninterrupted comparison's. ``summary.json`` is written last, and the checkpoints are removed only
after it, so a comparison killed while writing its outputs resumes too.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import queue as queue_module
import shutil
import time
import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, as_completed, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from autocurriculum.core import ConfigError, GenerationRoundsExhausted
from autocurriculum.experiments.checkpoint import CHECKPOINT_FILE, RESULT_FILE, fingerprint_mismatch, write_atomically
from autocurriculum.experiments.config import ExperimentConfig, RLConfig
from autocurriculum.experiments.report import (
    plot_accuracy_by_level,
    plot_teacher_error,
    plot_training_dynamics,
    summary_table,
    write_report,
)
from autocurriculum.experiments.runner import RunResult, check_servable, run_strategy
from autocurriculum.experiments.speedup import headline_lines
from autocurriculum.experiments.summary import summarize
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.experiments.warm_start import WarmStartSource, warm_start
from autocurriculum.trainers import GRPOConfig, TinyGPT
from autocurriculum.trainers.threads import torch_threads

PARTS_DIR = ".metrics-parts"  # per-run metrics files while the runs are going, merged into metrics.jsonl
CHECKPOINTS_DIR = ".checkpoints"  # per-run checkpoints and results until the comparison's outputs are written


@dataclass
class SeedSetup:
    """What every run of one seed shares: the testbed and the warm-started weights (on CPU, to ship to workers)."""

    testbed: Testbed
    warm_state: dict[str, torch.Tensor]
    histogram: dict[str, Any] | None
    warm_start_source: WarmStartSource


@dataclass
class RunJob:
    """One (seed, strategy) run, self-contained so it can run in another process."""

    index: int
    seed: int
    strategy: str
    testbed: Testbed
    warm_state: dict[str, torch.Tensor]
    grpo: GRPOConfig
    rl: RLConfig
    strategy_options: dict[str, Any]
    metrics_path: Path
    checkpoint_dir: Path | None = None
    resume: bool = False


def run_comparison(
    config: ExperimentConfig,
    out_dir: Path,
    console: Console | None = None,
    overwrite: bool = False,
    resume: bool = False,
) -> dict[str, Any]:
    """Warm-start once per seed, run every strategy from that checkpoint, then summarize, plot and report.

    Refuses an ``out_dir`` that already holds a ``summary.json`` or an interrupted comparison's checkpoints unless
    ``overwrite``; ``resume`` continues an interrupted comparison there (or reports a finished one).
    """
    config.validate()
    for label in config.strategies:  # fail before any training on a need the testbed cannot serve
        check_servable(label, config.strategy_options)
    if resume and overwrite:
        raise ConfigError("--resume continues the comparison in --out and --overwrite replaces it: choose one")
    out_dir = Path(out_dir)
    console = console or Console()
    if resume and _resumable(out_dir, config, console):
        if _finished(out_dir):
            return _report_finished(out_dir, console)
    else:
        out_dir = _prepare_out_dir(out_dir, overwrite)
        write_atomically(out_dir / "config.json", json.dumps(dataclasses.asdict(config), indent=2).encode())
    start = time.perf_counter()
    with torch_threads(config.testbed.torch_threads):  # the run's own setting, the caller's restored after
        parts, checkpoints = out_dir / PARTS_DIR, out_dir / CHECKPOINTS_DIR
        with Progress(*_progress_columns(), console=console, transient=False) as progress:
            # 1. one testbed and warm start per seed, shared by all its strategies
            setups = _prepare_seeds(config, progress)
            _share_evaluated_levels([s.testbed for s in setups])
            # 2. the runs
            parts.mkdir(exist_ok=True)
            jobs = [
                RunJob(
                    index=i,
                    seed=seed,
                    strategy=label,
                    testbed=setup.testbed,
                    warm_state=setup.warm_state,
                    grpo=config.grpo,
                    rl=config.rl,
                    strategy_options=config.strategy_options,
                    metrics_path=parts / f"run-{i:04d}.jsonl",
                    checkpoint_dir=checkpoints / f"run-{i:04d}",
                    resume=resume,
                )
                for i, (seed, setup, label) in enumerate(
                    (seed, setup, label)
                    for seed, setup in zip(config.seeds, setups, strict=True)
                    for label in config.strategies
                )
            ]
            if resume:
                _report_resumed(jobs, progress.console)
            results = _run_jobs(jobs, config, progress)
        # 3. outputs: metrics merged in run order, summary, plots, report
        merged = b"".join(job.metrics_path.read_bytes() for job in jobs)
        write_atomically(out_dir / "metrics.jsonl", merged)
        caught = [w for r in results for w in r.warnings]
        if caught:
            console.print(
                f"[yellow]{len(caught)} generation-round warnings (partial batches); first:[/] {escape(caught[0])}"
            )
        summary = summarize(results)
        wall = time.perf_counter() - start
        meta = _meta(config, setups, wall)
        # a resumed comparison's wall time covers only this invocation; the summed run times cover all of them
        meta["resumed"] = resume
        meta["run_seconds_total"] = sum(r.wall_seconds for r in results)
        meta["student_sha256"] = {
            str(seed): {r.strategy: r.student_sha256 for r in results if r.seed == seed} for seed in config.seeds
        }
        write_outputs(out_dir, results, summary, meta)  # summary.json last: a comparison with one is finished
        shutil.rmtree(checkpoints, ignore_errors=True)
        shutil.rmtree(parts, ignore_errors=True)
        for line in headline_lines(summary):
            console.print(escape(line))
        print_summary(console, summary)
        console.print(f"Wrote {out_dir}/report.md, summary.json, metrics.jsonl, evals.jsonl and plots ({wall:.0f} s).")
        return summary


def _prepare_out_dir(out_dir: Path, overwrite: bool) -> Path:
    summary = out_dir / "summary.json"
    interrupted = (out_dir / CHECKPOINTS_DIR).exists()
    if (summary.exists() or interrupted) and not overwrite:
        held = "a summary.json from an earlier comparison" if summary.exists() else "an interrupted comparison"
        raise ConfigError(
            f"--out: {out_dir} already holds {held}; pass --overwrite to replace its results, "
            + ("--resume to continue it, " if interrupted else "")
            + "or choose another directory"
        )
    summary.unlink(missing_ok=True)  # a run that fails now must not leave the old summary beside new metrics
    out_dir.mkdir(parents=True, exist_ok=True)
    for leftover in (PARTS_DIR, CHECKPOINTS_DIR):  # left by an interrupted comparison
        if (out_dir / leftover).exists():
            shutil.rmtree(out_dir / leftover)
    return out_dir


# ----- resuming an interrupted comparison -----
def _resumable(out_dir: Path, config: ExperimentConfig, console: Console) -> bool:
    """Whether ``out_dir`` holds a comparison of this ``config`` to resume; a ConfigError naming what differs."""
    saved_config = out_dir / "config.json"
    if not saved_config.exists():
        console.print(f"--resume: {out_dir} holds no comparison yet; starting one")
        return False
    try:
        saved = json.loads(saved_config.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"--resume: cannot read {saved_config} ({exc})") from None
    differences = fingerprint_mismatch(saved, json.loads(json.dumps(dataclasses.asdict(config))))
    if differences:
        raise ConfigError(
            f"--resume: {saved_config} was written for another comparison: "
            + "; ".join(d.replace("in the checkpoint", "there") for d in differences)
            + ". Resume with the same settings, or start afresh (--overwrite or another --out)"
        )
    return True


def _finished(out_dir: Path) -> bool:
    return (out_dir / "summary.json").exists() and not (out_dir / CHECKPOINTS_DIR).exists()


def _report_finished(out_dir: Path, console: Console) -> dict[str, Any]:
    """A finished comparison's summary, printed as at its end; nothing is run or written."""
    shutil.rmtree(out_dir / PARTS_DIR, ignore_errors=True)  # left if the comparison stopped while cleaning up
    summary = json.loads((out_dir / "summary.json").read_text())["strategies"]
    console.print(f"--resume: the comparison in {out_dir} is finished; its summary:")
    for line in headline_lines(summary):
        console.print(escape(line))
    print_summary(console, summary)
    return summary


def _report_resumed(jobs: list[RunJob], console: Console) -> None:
    """Say which runs are done and which continue; a run with neither checkpoint nor result starts afresh."""
    done = {j.index for j in jobs if j.checkpoint_dir is not None and (j.checkpoint_dir / RESULT_FILE).exists()}
    going = {
        j.index for j in jobs if j.checkpoint_dir is not None and (j.checkpoint_dir / CHECKPOINT_FILE).exists()
    } - done
    for job in jobs:
        if job.index not in done | going:
            job.metrics_path.unlink(missing_ok=True)  # rows of a run killed before its first checkpoint
    console.print(
        f"--resume: {len(done)} of {len(jobs)} runs finished, {len(going)} continue from a checkpoint, "
        f"{len(jobs) - len(done) - len(going)} start afresh"
    )


def _prepare_seeds(config: ExperimentConfig, progress: Progress) -> list[SeedSetup]:
    """One testbed and warm start per seed; several seeds at once when ``testbed.workers > 1``."""
    workers = min(config.testbed.workers, len(config.seeds))
    if workers == 1:
        return [_prepare_seed(config, seed, progress) for seed in config.seeds]
    task = progress.add_task(
        f"testbeds and SFT warm starts ({len(config.seeds)} seeds, {workers} at a time)", total=len(config.seeds)
    )
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_prepare_seed_in_worker, config, seed) for seed in config.seeds]
        for _ in as_completed(futures):
            progress.advance(task)
        prepared = [future.result() for future in futures]
    for setup, caught in prepared:  # warnings raised in a worker would otherwise only reach its stderr
        for message, category in caught:
            warnings.warn(message, category, stacklevel=2)
        if setup.warm_start_source != "trained":
            progress.console.print(f"seed {setup.testbed.seed}: warm start{_source_note(setup.warm_start_source)}")
    return [setup for setup, _ in prepared]


def _prepare_seed(config: ExperimentConfig, seed: int, progress: Progress) -> SeedSetup:
    task = progress.add_task(f"seed {seed}: testbed and SFT warm start", total=None)
    with torch_threads(config.testbed.warm_start_threads_each(len(config.seeds))):
        setup = build_seed_setup(config, seed)
    progress.update(
        task, total=1, completed=1, description=f"seed {seed}: warm start" + _source_note(setup.warm_start_source)
    )
    return setup


def _source_note(source: WarmStartSource) -> str:
    return "" if source == "trained" else f" ({source})"


def _prepare_seed_in_worker(config: ExperimentConfig, seed: int) -> tuple[SeedSetup, list[tuple[str, type[Warning]]]]:
    torch.set_num_threads(config.testbed.warm_start_threads_each(len(config.seeds)))  # this worker's own setting
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        setup = build_seed_setup(config, seed)
    return setup, [(str(w.message), w.category) for w in caught]


def build_seed_setup(config: ExperimentConfig, seed: int) -> SeedSetup:
    """The testbed, the warm-started weights (from the cache when there) and their pass-rate histogram."""
    testbed = Testbed.from_config(config, seed)
    model, source = warm_start(testbed, config.sft)
    histogram = None
    if config.testbed.pass_rate_samples > 0:
        histogram = testbed.pass_rate_histogram(
            model,
            samples=config.testbed.pass_rate_samples,
            max_prompts=config.testbed.pass_rate_prompts,
            temperature=config.grpo.temperature,
        )
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return SeedSetup(testbed, state, histogram, source)


def _share_evaluated_levels(testbeds: list[Testbed]) -> None:
    """Evaluate only the levels every seed can evaluate, so that per-level curves and summaries line up."""
    common = [k for k in testbeds[0].level_names if all(k in t.level_names for t in testbeds[1:])]
    for testbed in testbeds:
        testbed.evaluate_only(common)


# ----- running the jobs, in this process or in a pool of spawned workers -----
def execute_job(job: RunJob, on_progress: Callable[[int], None] | None = None) -> RunResult:
    """One run from its job description (the same code in this process and in a worker)."""
    model = TinyGPT(job.testbed.model_config, seed=0)
    model.load_state_dict(job.warm_state)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", GenerationRoundsExhausted)
        result = run_strategy(
            job.testbed,
            model,
            job.strategy,
            job.seed,
            job.grpo,
            job.rl,
            strategy_options=job.strategy_options,
            on_progress=on_progress,
            metrics_path=job.metrics_path,
            checkpoint_dir=job.checkpoint_dir,
            resume=job.resume,
        )
    for w in caught:  # generation-round warnings are in result.warnings (and summarised once at the end)
        if not issubclass(w.category, GenerationRoundsExhausted):  # not ours to swallow
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result


_worker_progress: Any = None  # the progress queue, in a worker process


def _init_worker(progress_queue: Any) -> None:
    global _worker_progress
    _worker_progress = progress_queue


def _execute_in_worker(job: RunJob) -> RunResult:
    return execute_job(job, lambda rollouts: _worker_progress.put((job.index, rollouts)))


def _run_jobs(jobs: list[RunJob], config: ExperimentConfig, progress: Progress) -> list[RunResult]:
    budget = config.rl.rollouts
    overall = progress.add_task("all runs", total=budget * len(jobs))
    bars: dict[int, Any] = {}
    done_rollouts = [0] * len(jobs)

    def advance(index: int, rollouts: int) -> None:
        if index not in bars:
            bars[index] = progress.add_task(f"seed {jobs[index].seed}: {jobs[index].strategy}", total=budget)
        done_rollouts[index] = min(rollouts, budget)
        progress.update(bars[index], completed=done_rollouts[index])
        progress.update(overall, completed=sum(done_rollouts))

    def finished(job: RunJob, result: RunResult) -> None:
        advance(job.index, budget)
        progress.console.print(
            f"seed {job.seed} {job.strategy}: held-out accuracy {result.evals[0]['overall']:.3f} -> "
            f"{result.final_accuracy:.3f} after {result.rollouts} rollouts ({result.wall_seconds:.0f} s)"
        )

    workers = min(config.testbed.workers, len(jobs))
    results: list[RunResult | None] = [None] * len(jobs)
    if workers == 1:
        for job in jobs:
            results[job.index] = execute_job(job, lambda rollouts, i=job.index: advance(i, rollouts))
            finished(job, results[job.index])  # type: ignore[arg-type]
        return results  # type: ignore[return-value]
    context = multiprocessing.get_context("spawn")
    progress_queue = context.Queue()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(progress_queue,))
    try:
        futures = {pool.submit(_execute_in_worker, job): job for job in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            _drain(progress_queue, advance)
            for future in sorted(done, key=lambda f: futures[f].index):
                job = futures[future]
                results[job.index] = future.result()
                finished(job, results[job.index])  # type: ignore[arg-type]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results  # type: ignore[return-value]


def _drain(progress_queue: Any, advance: Callable[[int, int], None]) -> None:
    while True:
        try:
            index, rollouts = progress_queue.get_nowait()
        except queue_module.Empty:
            return
        advance(index, rollouts)


def _progress_columns() -> tuple[Any, ...]:
    return (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rollouts"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )


# ----- outputs -----
def _meta(config: ExperimentConfig, setups: list[SeedSetup], wall: float) -> dict[str, Any]:
    testbeds = [s.testbed for s in setups]
    excluded: dict[str, int] = {}
    for testbed in testbeds:
        for level, count in testbed.metadata["excluded_levels"].items():
            excluded[level] = min(count, excluded.get(level, count))
    meta: dict[str, Any] = {
        "seeds": config.seeds,
        "rollouts": config.rl.rollouts,
        "prompts_per_step": config.rl.prompts_per_step,
        "group_size": config.grpo.group_size,
        "tasks": config.testbed.tasks,
        "pool": config.testbed.pool,
        "warmup_max_level": config.warm_start.max_level,
        "workers": config.testbed.workers,
        "device": testbeds[0].metadata["device"],
        "wall_seconds": wall,
        "evaluated_levels": testbeds[0].level_names,
        # levels with too few held-out prompts the student never trained on: not in `overall` (fewest over seeds)
        "excluded_levels": excluded,
        "testbed": {str(t.seed): t.metadata for t in testbeds},
    }
    histograms = [s.histogram for s in setups if s.histogram is not None]
    if histograms:
        meta["pass_rate_histogram"] = _sum_histograms(histograms)
    return meta


def _sum_histograms(histograms: list[dict[str, Any]]) -> dict[str, Any]:
    """The seeds' pass-count histograms added up (same samples per prompt)."""
    samples = histograms[0]["samples"]
    counts = [sum(h["counts"][k] for h in histograms) for k in range(samples + 1)]
    by_level: dict[str, list[int]] = {}
    for h in histograms:
        for level, level_counts in h["by_level"].items():
            previous = by_level.get(level, [0] * (samples + 1))
            by_level[level] = [a + b for a, b in zip(previous, level_counts, strict=True)]
    total = sum(counts)
    return {
        "samples": samples,
        "counts": counts,
        "by_level": by_level,
        "zero_variance_fraction": (counts[0] + counts[samples]) / total if total else 0.0,
        "seeds": len(histograms),
    }


def write_outputs(out_dir: Path, results: list[RunResult], summary: dict[str, Any], meta: dict[str, Any]) -> None:
    with open(out_dir / "evals.jsonl", "w") as f:
        for r in results:
            apart = {e["step"]: e for e in r.evals_apart}
            for e in r.evals:
                row = {"strategy": r.strategy, "seed": r.seed, **e}
                if e["step"] in apart:  # levels with too few unseen prompts, not in `overall`
                    row["apart"] = {k: v for k, v in apart[e["step"]].items() if k not in ("step", "rollouts")}
                f.write(json.dumps(row) + "\n")
    plot_accuracy_by_level(results, out_dir / "accuracy_by_level.png")
    plot_training_dynamics(results, out_dir / "training_dynamics.png")
    plot_teacher_error(results, out_dir / "teacher_mae.png")
    write_report(out_dir, summary, meta)  # also draws pass_rate_histogram.png from meta["pass_rate_histogram"]
    # last, and atomically: a summary.json means every output is there
    summary_text = json.dumps({"meta": meta, "strategies": summary}, indent=2)
    write_atomically(out_dir / "summary.json", summary_text.encode())


# the columns a terminal has room for; report.md holds the whole table
TERMINAL_COLUMNS = ("strategy", "final acc.", "rollouts needed", "effective-group ratio", "selection overhead")


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    rows = summary_table(summary)
    keep = [i for i, header in enumerate(rows[0]) if header.startswith(TERMINAL_COLUMNS)]
    table = Table(
        title=escape("Ranked at equal rollout budget (median [min, max] over seeds; all columns in report.md)")
    )
    for i in keep:
        table.add_column(rows[0][i])
    for row in rows[1:]:
        table.add_row(*(escape(row[i]) for i in keep))
    console.print(table)
