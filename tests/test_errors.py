"""One error hierarchy (issue 13, part 6): library errors subclass AutocurriculumError, the CLI prints one line for
them, and library code leaves process-wide settings (torch threads, the global RNG, the environment) as it found
them."""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import pkgutil
import sys
from pathlib import Path

import pytest
import torch

import autocurriculum
from autocurriculum.cli import main
from autocurriculum.core import AutocurriculumError, build_config
from autocurriculum.core.errors import MissingFileError, StateFormatError
from autocurriculum.experiments import ExperimentConfig, Testbed, run_strategy
from autocurriculum.experiments.warm_start import warm_start
from autocurriculum.trainers import load_model
from autocurriculum.trainers.threads import torch_threads

SRC = Path(autocurriculum.__file__).parent
BUILTIN_ERRORS = {
    "Exception",
    "ValueError",
    "TypeError",
    "KeyError",
    "LookupError",
    "IndexError",
    "RuntimeError",
    "OSError",
    "FileNotFoundError",
    "ImportError",
}
# Errors that are not the library reporting bad input: an assertion helper's failure (it *is* an AssertionError,
# so that pytest shows it as a failed check).
OUTSIDE_THE_HIERARCHY = {"autocurriculum.testing.curriculum.ContractViolation"}


def _builtin_raises(path: Path) -> list[str]:
    """``raise ValueError("...")`` and kin: a builtin error with a message is a library error outside the hierarchy.

    A bare ``raise TypeError`` caught a few lines below (control flow inside a parser) is not a message to a user.
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        func = node.exc.func
        if isinstance(func, ast.Name) and func.id in BUILTIN_ERRORS and (node.exc.args or node.exc.keywords):
            found.append(f"{path.relative_to(SRC.parent)}:{node.lineno}: raise {func.id}(...)")
    return found


def test_library_code_raises_only_its_own_errors() -> None:
    offenders = [line for path in sorted(SRC.rglob("*.py")) for line in _builtin_raises(path)]
    assert not offenders, "raise a class from autocurriculum.core.errors instead:\n" + "\n".join(offenders)


def test_the_scan_finds_a_builtin_raise(tmp_path: Path) -> None:
    """The check above can fail: it flags exactly the raises with a message."""
    sample = SRC / "_scan_sample.py"
    try:
        sample.write_text(
            "def f(x):\n"
            "    try:\n"
            "        raise TypeError\n"
            "    except TypeError:\n"
            "        pass\n"
            "    raise ValueError(f'bad {x}')\n"
        )
        assert _builtin_raises(sample) == ["autocurriculum/_scan_sample.py:6: raise ValueError(...)"]
    finally:
        sample.unlink()


def _library_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(SRC)], prefix="autocurriculum."):
        try:
            importlib.import_module(info.name)
        except ImportError:  # an optional extra that is not installed here (verl lives in its own venv)
            continue
        names.append(info.name)
    return names


def test_every_exception_class_the_library_defines_is_an_autocurriculum_error() -> None:
    outside = []
    modules = _library_modules()
    assert len(modules) > 100, modules  # the walk really imported the package
    for name in modules:
        for _, cls in inspect.getmembers(sys.modules[name], inspect.isclass):
            if cls.__module__ != name or not issubclass(cls, BaseException) or issubclass(cls, Warning):
                continue
            if not issubclass(cls, AutocurriculumError) and f"{name}.{cls.__qualname__}" not in OUTSIDE_THE_HIERARCHY:
                outside.append(f"{name}.{cls.__qualname__}")
    assert not outside, outside


# ----- bad checkpoints: one clear line naming the file -----
def test_a_corrupt_or_missing_model_checkpoint_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match=r"nothing\.pt"):
        load_model(tmp_path / "nothing.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"PK\x03\x04 not really a checkpoint")
    with pytest.raises(StateFormatError, match=r"broken\.pt cannot be read"):
        load_model(broken)


TINY_RUN = {
    "testbed": {
        "task_options": {"addition": {"width": 2}},
        "train_tasks_per_level": 6,
        "eval_tasks_per_level": 2,
        "min_eval_prompts_per_level": 1,
        "pass_rate_samples": 0,
    },
    "warm_start": {"steps": 2, "max_level": 1},
    "model": {"d_model": 16, "n_layers": 1, "n_heads": 2},
    "grpo": {"group_size": 2},
    "rl": {"prompts_per_step": 2, "eval_every": 8},
}


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    old = sys.argv
    sys.argv = ["autocurriculum", *args]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


def test_the_cli_reports_a_corrupt_warm_start_cache_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    cache = tmp_path / "cache"
    config = tmp_path / "c.json"
    config.write_text(json.dumps({**TINY_RUN, "testbed": {**TINY_RUN["testbed"], "warm_start_cache": str(cache)}}))
    args = ["run", "--strategy", "uniform", "--task", "addition", "--rollouts", "8", "--config", str(config)]
    code, _ = _cli([*args, "--out", str(tmp_path / "first")], capsys)
    assert code == 0
    (cached,) = cache.glob("*.pt")
    cached.write_bytes(cached.read_bytes()[:100])  # a copy cut short, as by a full disk or a killed writer
    code, output = _cli([*args, "--out", str(tmp_path / "second")], capsys)
    assert code == 2
    assert "Traceback" not in output
    assert cached.name in "".join(output.split()) and "cannot be read" in output


# ----- process-wide settings: left as the caller had them -----
def test_torch_threads_restores_the_callers_setting_even_on_error() -> None:
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with pytest.raises(KeyError), torch_threads(target):
        assert torch.get_num_threads() == target
        raise KeyError("inside")
    assert torch.get_num_threads() == before


def test_on_evaluate_sees_every_held_out_evaluation_with_the_student_it_scored() -> None:
    config = build_config(ExperimentConfig, {**TINY_RUN, "testbed": {**TINY_RUN["testbed"], "warm_start_cache": ""}})
    testbed = Testbed.from_config(config, seed=0)
    model, _ = warm_start(testbed, config.sft)
    seen: list[tuple[dict, float]] = []

    def record(student, evaluation):  # the student at that evaluation: rescoring it gives the same accuracy
        seen.append((dict(evaluation), testbed.evaluate(student)["overall"]))

    rl = build_config(type(config.rl), {**TINY_RUN["rl"], "rollouts": 16, "eval_every": 8})
    result = run_strategy(testbed, model, "uniform", 0, config.grpo, rl, on_evaluate=record)
    assert [evaluation for evaluation, _ in seen] == result.evals and len(seen) >= 2
    assert all(rescored == evaluation["overall"] for evaluation, rescored in seen)


def test_a_testbed_run_leaves_threads_rng_and_environment_as_it_found_them() -> None:
    config = build_config(ExperimentConfig, {**TINY_RUN, "testbed": {**TINY_RUN["testbed"], "warm_start_cache": ""}})
    testbed = Testbed.from_config(config, seed=0)
    model, _ = warm_start(testbed, config.sft)
    before_threads = torch.get_num_threads()
    ours = 2 if config.testbed.torch_threads == 1 else 1
    torch.set_num_threads(ours)
    torch.manual_seed(1234)
    rng_before = torch.random.get_rng_state()
    environment = dict(os.environ)
    try:
        rl = build_config(type(config.rl), {**TINY_RUN["rl"], "rollouts": 8})
        result = run_strategy(testbed, model, "thompson", 0, config.grpo, rl)
        assert result.rollouts == 8
        assert torch.get_num_threads() == ours
        assert torch.equal(torch.random.get_rng_state(), rng_before)
        assert dict(os.environ) == environment
    finally:
        torch.set_num_threads(before_threads)
