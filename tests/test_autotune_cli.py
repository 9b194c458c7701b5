"""`autocurriculum autotune ...`: runs, bad input named, and the quick-format scaling outputs."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from autocurriculum.cli import app
from autocurriculum.core import ConfigError

runner = CliRunner()


def test_sft_and_rl_commands_run(tmp_path):
    result = runner.invoke(
        app,
        [
            "autotune",
            "sft",
            "--method",
            "counterexample",
            "--eps",
            "0.1",
            "--test-prompts",
            "500",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["method"] == "counterexample_sft" and data["costs"]["teacher_demonstrations"] > 0
    result = runner.invoke(
        app,
        ["autotune", "rl", "--method", "rlfinetune", "--coverage", "4", "--prompts", "200", "--test-prompts", "500"],
    )
    assert result.exit_code == 0, result.output


def test_autotune_run_writes_phase_records_and_plot(tmp_path):
    args = ["autotune", "sft", "--method", "autotune", "--eps", "0.1", "--test-prompts", "500"]
    args += ["--task-config", '{"clusters": 16, "steps": 3}', "--reuse-supervision", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "result.json").read_text())
    k = data["extra"]["k"]
    assert len(data["phases"]) == k and len(data["extra"]["vote_error"]) == k
    assert len(data["extra"]["potential"]) == k + 1
    assert data["extra"]["vote_error"][-1] == pytest.approx(1 - data["accuracy"])
    assert (tmp_path / "phases.png").stat().st_size > 0


def test_rl_command_runs_on_a_text_family_with_the_transformer(tmp_path):
    args = ["autotune", "rl", "--method", "rlfinetune", "--task", "op_chain", "--level", "1"]
    args += ["--learner", "transformer", "--steps-per-fit", "5", "--d-model", "32", "--coverage", "4"]
    args += ["--prompts", "16", "--test-prompts", "20", "--out", str(tmp_path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["costs"]["reference_rollouts"] == 16 * data["extra"]["rollouts_per_prompt"]


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["sft", "--task", "nope"], "--task"),
        (["sft", "--eps", "0"], "--eps"),
        (["sft", "--task", "op_chain"], "--learner"),
        (["rl", "--task", "op_chain"], "--learner"),
        (["rl", "--coverage", "0.5"], "coverage"),
        (["sft", "--method", "magic"], "--method"),
        (["sft", "--task-config", "{not json"], "--task-config"),
        (["sft", "--task-config", "[1, 2]"], "--task-config"),
        (["sft", "--task-config", '{"clusterz": 3}'], "clusterz"),
        (["sft", "--autotune-config", '{"chunk": 0}'], "chunk"),
        (["rl", "--autotune-config", '{"chunks": 8}'], "--autotune-config"),
    ],
)
def test_bad_input_is_a_config_error_naming_the_option(args, option):
    result = runner.invoke(app, ["autotune", *args])
    assert isinstance(result.exception, ConfigError)
    assert option in str(result.exception)


def test_scaling_writes_the_report_files(tmp_path, monkeypatch):
    import autocurriculum.autotune.experiment as scaling

    # a miniature sweep with the same output format as --quick
    monkeypatch.setattr(
        scaling,
        "QUICK",
        {
            "sft_eps": [0.2, 0.1],
            "rl_eps": [0.2, 0.1],
            "coverages": [4],
            "seeds": 1,
            "test_prompts": 500,
            "clusters": 16,
            "steps": 3,
        },
    )
    result = runner.invoke(app, ["autotune", "scaling", "--out", str(tmp_path), "--quick", "--no-progress"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "scaling.json").read_text())
    assert set(data["sft"]) == {
        "uniform_sft",
        "autotune_sft",
        "autotune_sft_reuse",
        "counterexample_sft",
        "counterexample_sft_oracle",
    }
    assert set(data["rl"]) == {"rl_finetune", "autotune_rl", "autotune_rl_reuse"}
    assert set(data["rl"]["autotune_rl"]) == {"4"}
    ratio = data["sft_ratio_to_uniform"]["counterexample_sft_oracle"]["0.1"]
    assert ratio is not None and ratio["min"] <= ratio["median"] <= ratio["max"]
    assert "4" in data["slopes"]["rl_reference_rollouts"]["autotune_rl_reuse"]
    cell = data["sft"]["autotune_sft"]["0.1"]
    assert {"median", "min", "max"} <= set(cell["demonstrations"]) and "verifier_calls" in cell
    assert "uniform_sft" in data["slopes"]["sft_demonstrations"]
    for name in ("report.md", "sft_demonstrations.png", "rl_rollouts.png"):
        assert (tmp_path / name).exists()


def test_faithful_floor_counts_majority_demonstrations_of_the_needed_clusters():
    import math

    from autocurriculum.autotune import choose_k
    from autocurriculum.autotune.experiment import faithful_floor

    # equal clusters: 100 of them, eps=0.1 -> shown mass >= 1 - 0.11 -> 89 clusters, each shown ceil(k/2) times
    assert faithful_floor(0.1, 100, 0.0) == math.ceil(choose_k(0.1) / 2) * 89
    floors = [faithful_floor(e, 128, 1.1) for e in (0.2, 0.1, 0.05, 0.01)]
    assert floors == sorted(floors) and floors[-1] <= math.ceil(choose_k(0.01) / 2) * 128
    # a heavier tail needs fewer clusters for the same eps
    assert faithful_floor(0.01, 128, 3.0) < faithful_floor(0.01, 128, 1.1)
