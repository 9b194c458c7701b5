"""Crash-safe runs: kill -9 at random steps, --resume, and the results are bit-identical; bad resumes are refused."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from autocurriculum.cli import app
from autocurriculum.core import ConfigError, merge_values
from autocurriculum.core.codec import state_to_json
from autocurriculum.experiments import ExperimentConfig, Testbed, run_comparison, run_strategy
from autocurriculum.experiments import checkpoint as checkpoint_module
from autocurriculum.experiments.checkpoint import CHECKPOINT_FILE, LOCK_FILE, CheckpointError
from autocurriculum.experiments.compare import CHECKPOINTS_DIR, PARTS_DIR
from autocurriculum.experiments.presets import TINY
from autocurriculum.experiments.warm_start import WarmStartNotConverged, warm_start
from autocurriculum.trainers import GRPOTrainer, TinyGPT

pytestmark = pytest.mark.filterwarnings(
    "ignore::autocurriculum.experiments.warm_start.WarmStartNotConverged",
    "ignore::autocurriculum.core.GenerationRoundsExhausted",
)
cli = CliRunner()
ROLLOUTS_PER_STEP = 16  # TINY: 4 prompts x group size 4

# The tiny preset, with a warm start long enough that GRPO sees rewards: the preset's 5 SFT steps leave nearly every
# reward at 0, the weights would hardly move and "bit-identical weights" would prove little.
VALUES: dict[str, Any] = merge_values(
    TINY,
    {
        "strategies": ["thompson"],
        "testbed": {"pass_rate_samples": 0},
        "warm_start": {"steps": 100, "check_every": 50, "attempts": 1, "demonstrations_per_level": 500},
        "sft": {"batch_size": 32},
        "rl": {"rollouts": 320, "eval_every": 96, "checkpoint_every": 1},  # 20 steps
    },
)


def without_timings(value: Any) -> Any:
    """``value`` without wall-clock measurements, which no two runs share (crashed or not)."""
    if isinstance(value, dict):
        timed = ("seconds", "time_fraction", "overhead_fraction")
        return {k: without_timings(v) for k, v in value.items() if not any(t in str(k) for t in timed)}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ----- kill -9 at random points, resume from the command line -----
def _row_count(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(log, "ab") as stderr:
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)


def test_kill_9_at_random_steps_then_resume_gives_bit_identical_results(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(merge_values(VALUES, {"testbed": {"warm_start_cache": str(tmp_path / "cache")}})))
    base = [sys.executable, "-m", "autocurriculum.cli", "run", "--strategy", "thompson", "--config", str(config)]
    log = tmp_path / "stderr.log"
    # the uninterrupted run (it also caches the warm start the others load)
    reference = tmp_path / "reference"
    assert _start([*base, "--out", str(reference)], log).wait(timeout=120) == 0, log.read_text()[-3000:]

    # the same run killed with SIGKILL three times, after a seeded number of metric rows plus a seeded delay (so
    # some kills land inside a step, some inside a checkpoint write), resumed after each kill
    rng = random.Random(13)
    kill_rows = [rng.randint(2, 4)]
    for _ in range(2):
        kill_rows.append(kill_rows[-1] + rng.randint(4, 6))  # at most 16 of 20 rows: the run is still going
    out = tmp_path / "killed"
    metrics = out / PARTS_DIR / "run-0000.jsonl"
    deadline = time.monotonic() + 120
    for attempt, rows in enumerate(kill_rows):
        process = _start([*base, "--out", str(out), *(["--resume"] if attempt else [])], log)
        while _row_count(metrics) < rows:
            assert process.poll() is None, f"ended before the kill at row {rows}: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline
            time.sleep(0.001)
        time.sleep(rng.uniform(0.0, 0.015))
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL, log.read_text()[-3000:]
    assert _start([*base, "--out", str(out), "--resume"], log).wait(timeout=120) == 0, log.read_text()[-3000:]

    expected, resumed = jsonl(reference / "metrics.jsonl"), jsonl(out / "metrics.jsonl")
    assert [r["step"] for r in resumed] == list(range(20))  # no row duplicated, none missing
    assert without_timings(resumed) == without_timings(expected)  # selected ids, rewards, losses, grad norms ...
    assert [r["selected_ids"] for r in resumed] == [r["selected_ids"] for r in expected]
    assert sum(r["train/grad_norm"] > 0 for r in expected) >= 10  # the student did learn: its weights moved
    assert jsonl(out / "evals.jsonl") == jsonl(reference / "evals.jsonl")
    digests = [json.loads((d / "summary.json").read_text())["meta"]["student_sha256"] for d in (reference, out)]
    assert digests[0] == digests[1] and digests[0]["0"]["thompson"]  # the final weights, bit for bit
    assert not (out / CHECKPOINTS_DIR).exists() and not (out / PARTS_DIR).exists()


# ----- a crash between two checkpoints, for every kind of strategy -----
@pytest.fixture(scope="module")
def bed() -> Iterator[tuple[ExperimentConfig, Testbed, TinyGPT]]:
    threads = torch.get_num_threads()
    config = ExperimentConfig.from_values(merge_values(VALUES, {"rl": {"rollouts": 160, "checkpoint_every": 3}}))
    testbed = Testbed.from_config(config, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WarmStartNotConverged)
        model, _ = warm_start(testbed, config.sft)
    yield config, testbed, model
    torch.set_num_threads(threads)


class Crash(Exception):
    pass


TEACHER_OPTIONS = {  # the teacher selects from the second step
    "goldilocks": {"warmup": 4},
    "pcl": {"warmup": 4},
    "pcl-student": {"strategy": "pcl", "features": "student", "warmup": 4},
}


def _crash_after(steps: int) -> Any:
    def on_progress(rollouts: int) -> None:
        if rollouts >= steps * ROLLOUTS_PER_STEP:
            raise Crash  # after the step's metrics row, before its checkpoint

    return on_progress


@pytest.mark.parametrize(
    ("strategy", "grpo_changes"),
    [
        ("uniform", {"kl_coef": 0.1}),  # a frozen KL reference model to restore too
        ("thompson", {}),
        ("oracle", {}),
        ("dynamic-sampling", {}),
        ("goldilocks", {}),
        ("pcl", {}),
        # features of the student as it was when picked are reused later: the student must move for it to matter
        ("pcl-student", {"learning_rate": 3e-3}),
    ],
)
def test_a_crash_between_checkpoints_resumes_bit_identically(
    bed: tuple[ExperimentConfig, Testbed, TinyGPT], tmp_path: Path, strategy: str, grpo_changes: dict[str, float]
) -> None:
    config, testbed, model = bed
    grpo = dataclasses.replace(config.grpo, **grpo_changes)

    def run(name: str, **kwargs: Any) -> Any:
        return run_strategy(
            testbed,
            model,
            strategy,
            0,
            grpo,
            config.rl,
            TEACHER_OPTIONS,
            metrics_path=tmp_path / f"{name}.jsonl",
            checkpoint_dir=tmp_path / name,
            **kwargs,
        )

    expected = run("reference")
    with pytest.raises(Crash):
        run("crashed", on_progress=_crash_after(steps=5 if strategy != "dynamic-sampling" else 2))
    resumed = run("crashed", resume=True)
    rows = jsonl(tmp_path / "crashed.jsonl")
    assert [r["step"] for r in rows] == list(range(len(expected.steps)))
    assert without_timings(rows) == without_timings(jsonl(tmp_path / "reference.jsonl"))
    assert resumed.student_sha256 == expected.student_sha256
    assert resumed.evals == expected.evals and resumed.warnings == expected.warnings
    for part in ("teacher", "curriculum_state"):  # as JSON text: NaN (never seen) equals NaN there
        assert state_to_json({part: without_timings(getattr(resumed, part))}) == state_to_json(
            {part: without_timings(getattr(expected, part))}
        )
    again = run("crashed", resume=True)  # a finished run is returned, not redone
    assert again.student_sha256 == expected.student_sha256 and again.wall_seconds == resumed.wall_seconds


def test_resuming_a_teacher_that_is_not_reproducible_warns(
    bed: tuple[ExperimentConfig, Testbed, TinyGPT], tmp_path: Path
) -> None:
    config, testbed, model = bed
    options = {"pcl-latest": {"strategy": "pcl", "teacher_mode": "latest", "warmup": 4}}
    arguments = (testbed, model, "pcl-latest", 0, config.grpo, config.rl, options)
    with pytest.raises(Crash):
        run_strategy(*arguments, on_progress=_crash_after(steps=4), checkpoint_dir=tmp_path)
    with pytest.warns(UserWarning, match=r"will not be bit-identical: strategy 'pcl' with teacher_mode='latest'"):
        run_strategy(*arguments, checkpoint_dir=tmp_path, resume=True)


# ----- what a resume refuses -----
def _interrupted(bed: tuple[ExperimentConfig, Testbed, TinyGPT], where: Path) -> tuple[Path, Path]:
    config, testbed, model = bed
    with pytest.raises(Crash):
        run_strategy(
            testbed,
            model,
            "thompson",
            0,
            config.grpo,
            config.rl,
            on_progress=_crash_after(steps=4),
            metrics_path=where / "metrics.jsonl",
            checkpoint_dir=where,
        )
    return where / CHECKPOINT_FILE, where / "metrics.jsonl"


def test_resuming_another_run_is_refused_naming_the_field(
    bed: tuple[ExperimentConfig, Testbed, TinyGPT], tmp_path: Path
) -> None:
    config, testbed, model = bed
    state, metrics = _interrupted(bed, tmp_path)
    before = state.read_bytes(), metrics.read_bytes()
    other_rl = dataclasses.replace(config.rl, eval_every=32)
    other_pool = Testbed.from_config(
        ExperimentConfig.from_values(merge_values(VALUES, {"testbed": {"train_tasks_per_level": 11}})), seed=0
    )
    cases = [
        ({"strategy": "uniform"}, r"strategy: 'thompson' in the checkpoint, 'uniform' now"),
        ({"seed": 1}, r"seed: 0 in the checkpoint, 1 now"),
        ({"rl": other_rl}, r"rl\.eval_every: 96 in the checkpoint, 32 now"),
        ({"testbed": other_pool}, r"pool\.size: 36 in the checkpoint, 33 now.*testbed\.train_tasks_per_level: 12"),
    ]
    for change, message in cases:
        arguments = {"testbed": testbed, "strategy": "thompson", "seed": 0, "rl": config.rl, **change}
        with pytest.raises(CheckpointError, match=message) as caught:
            run_strategy(
                arguments["testbed"],
                model,
                arguments["strategy"],
                arguments["seed"],
                config.grpo,
                arguments["rl"],
                metrics_path=metrics,
                checkpoint_dir=tmp_path,
                resume=True,
            )
        assert str(state) in str(caught.value)
        assert (state.read_bytes(), metrics.read_bytes()) == before  # a refused resume changes nothing
    # a run still held by another process (an orphaned worker of a killed comparison) is not written beside
    with open(tmp_path / LOCK_FILE, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        with pytest.raises(CheckpointError, match=r"another process \(pid 4242\) is running this run"):
            run_strategy(testbed, model, "thompson", 0, config.grpo, config.rl, checkpoint_dir=tmp_path, resume=True)
    assert (state.read_bytes(), metrics.read_bytes()) == before


def test_a_truncated_corrupt_or_foreign_checkpoint_is_refused_and_left_as_is(
    bed: tuple[ExperimentConfig, Testbed, TinyGPT], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, testbed, model = bed
    state, metrics = _interrupted(bed, tmp_path)
    good = state.read_bytes()
    header_end = good.index(b"\n")
    header = json.loads(good[:header_end])
    flipped = bytearray(good)
    flipped[-100] ^= 0xFF
    other_version = json.dumps({**header, "library_version": "0.0.1"}).encode() + good[header_end:]
    cases = [
        (good[: len(good) // 2], r"truncated run checkpoint: \d+ bytes after the header, \d+ expected"),
        (good[: header_end // 2], r"not a run checkpoint \(format None"),
        (bytes(flipped), r"corrupt run checkpoint: its SHA-256 does not match"),
        (other_version, r"written by autocurriculum 0\.0\.1, this is \d"),
    ]

    def resume() -> None:
        run_strategy(
            testbed, model, "thompson", 0, config.grpo, config.rl, metrics_path=metrics, checkpoint_dir=tmp_path,
            resume=True,
        )  # fmt: skip

    for content, message in cases:
        state.write_bytes(content)
        with pytest.raises(CheckpointError, match=message) as caught:
            resume()
        assert str(caught.value).startswith(str(state))
        assert state.read_bytes() == content  # never overwritten by the failed resume
    # a metrics file shorter than the checkpoint recorded: rows would be lost, so refused too
    state.write_bytes(good)
    metrics.write_text("")
    with pytest.raises(CheckpointError, match=r"metrics\.jsonl: 0 bytes, but .*checkpoint\.pt recorded \d+"):
        resume()
    assert state.read_bytes() == good

    # a crash while writing the next checkpoint leaves the previous one whole
    def crash_before_rename(*args: Any) -> None:
        raise Crash

    monkeypatch.setattr(checkpoint_module.os, "replace", crash_before_rename)
    with pytest.raises(Crash):
        run_strategy(testbed, model, "thompson", 0, config.grpo, config.rl, checkpoint_dir=tmp_path, resume=True)
    assert state.read_bytes() == good


# ----- compare: finished runs are not redone -----
def test_compare_resume_skips_finished_runs_and_only_reports_a_finished_comparison(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = torch.get_num_threads()
    values = merge_values(
        VALUES, {"strategies": ["uniform", "thompson"], "rl": {"rollouts": 96, "checkpoint_every": 2}}
    )
    config = ExperimentConfig.from_values(values)
    train_step = GRPOTrainer.train_step
    calls = {"n": 0, "crash_at": None}

    def counted(self: GRPOTrainer, *args: Any) -> dict[str, float]:
        calls["n"] += 1
        if calls["n"] == calls["crash_at"]:
            raise Crash
        return train_step(self, *args)

    monkeypatch.setattr(GRPOTrainer, "train_step", counted)
    try:
        reference = run_comparison(config, tmp_path / "reference")
        steps = calls["n"] // 2  # per run; both runs train on every step here
        calls.update(n=0, crash_at=steps + 4)  # uniform finishes, thompson crashes in its 4th step
        out = tmp_path / "out"
        with pytest.raises(Crash):
            run_comparison(config, out)
        with pytest.raises(ConfigError, match=r"interrupted comparison; pass --overwrite .* --resume to continue it"):
            run_comparison(config, out)
        calls.update(n=0, crash_at=None)
        resumed = run_comparison(config, out, resume=True)
        assert calls["n"] == steps - 2  # thompson from its checkpoint after step 2; uniform not redone
        assert without_timings(resumed) == without_timings(reference)
        for name in ("metrics.jsonl", "evals.jsonl"):
            assert without_timings(jsonl(out / name)) == without_timings(jsonl(tmp_path / "reference" / name))
        meta = [json.loads((d / "summary.json").read_text())["meta"] for d in (out, tmp_path / "reference")]
        assert meta[0]["student_sha256"] == meta[1]["student_sha256"]
        # the resumed report does not pass off the last invocation's wall time as the comparison's
        assert meta[0]["resumed"] and not meta[1]["resumed"]
        assert meta[0]["run_seconds_total"] > 0
        assert "Resumed from checkpoints" in (out / "report.md").read_text()
        assert "Resumed" not in (tmp_path / "reference" / "report.md").read_text()
        # --resume on a finished comparison reports it; nothing runs, nothing is written
        written = {p: p.stat().st_mtime_ns for p in out.iterdir()}
        calls["n"] = 0
        args = ["compare", "--strategies", "uniform,thompson", "--seeds", "1", "--out", str(out), "--resume"]
        config_file = tmp_path / "c.json"
        config_file.write_text(json.dumps({k: v for k, v in values.items() if k != "strategies"}))
        result = cli.invoke(app, [*args, "--config", str(config_file)])
        assert result.exit_code == 0, result.output
        assert "is finished" in result.output and calls["n"] == 0
        assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == written
        # ... and a different config is refused by name, from config.json, before anything runs
        for extra, message in (
            (["--rollouts", "112"], r"rl\.rollouts: 96 there, 112 now"),
            (
                ["--strategies", "uniform,oracle"],
                r"strategies: \['uniform', 'thompson'\] there, \['uniform', 'oracle'\]",
            ),
        ):
            result = cli.invoke(app, [*args, "--config", str(config_file), *extra])
            assert isinstance(result.exception, ConfigError), result.output
            assert "config.json was written for another comparison" in str(result.exception)
            assert re.search(message, str(result.exception)), str(result.exception)
    finally:
        torch.set_num_threads(threads)
    shutil.rmtree(tmp_path / "reference")
