"""The experiment harness: summaries, config handling and a short end-to-end run of `demo`."""

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autocurriculum.cli import app, main
from autocurriculum.experiments.summary import first_crossing, spread

runner = CliRunner()


def test_first_crossing_interpolates_between_evaluations() -> None:
    evals = [{"rollouts": 0, "overall": 0.2}, {"rollouts": 100, "overall": 0.4}, {"rollouts": 200, "overall": 0.8}]
    assert first_crossing(evals, 0.6) == pytest.approx(150.0)
    assert first_crossing(evals, 0.1) == 0.0
    assert first_crossing(evals, 0.9) is None


def test_spread_counts_never_reached_seeds_against_the_median() -> None:
    assert spread([1.0, 3.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0, "per_seed": [1.0, 3.0, 2.0]}
    # one seed never got there: it counts as +inf, so the median moves up and max is unknown
    assert spread([1.0, None, 2.0])["median"] == 2.0
    assert spread([1.0, None, 2.0])["max"] is None
    assert spread([1.0, None, None])["median"] is None


def test_demo_end_to_end_at_tiny_size(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--preset", "tiny", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    strategies = summary["strategies"]
    assert set(strategies) == {"uniform", "dynamic-sampling", "thompson", "oracle"}
    for name, entry in strategies.items():
        for key in (
            "final_accuracy",
            "rollouts",
            "rollouts_to_uniform_final",
            "zero_variance_fraction",
            "selection_overhead_fraction",
            "seeds",
        ):
            assert key in entry, (name, key)
        assert entry["seeds"] == [0]
        # every run stops at the budget: filtered rollouts are charged, never free
        assert entry["rollouts"]["median"] == 96
        assert 0.0 <= entry["final_accuracy"]["median"] <= 1.0
    assert strategies["oracle"]["oracle_estimation_seconds"]["median"] > 0
    for name in ("report.md", "accuracy_by_level.png", "training_dynamics.png", "metrics.jsonl", "evals.jsonl"):
        assert (tmp_path / name).stat().st_size > 0, name
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert {r["strategy"] for r in records} == set(strategies)
    assert all(0 <= r["zero_variance_fraction"] <= 1 for r in records)
    assert "Oracle caveat" in (tmp_path / "report.md").read_text()


def test_run_command_single_strategy_with_json_config(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    tiny = {
        "testbed": {
            "task_options": {"addition": {"width": 2}},
            "train_tasks_per_level": 6,
            "eval_tasks_per_level": 2,
            "min_eval_prompts_per_level": 1,
            "warm_start_cache": "",
        },
        "warm_start": {"steps": 2, "max_level": 1},
        "model": {"d_model": 16, "n_layers": 1, "n_heads": 2},
        "grpo": {"group_size": 2},
        "rl": {"prompts_per_step": 2, "eval_every": 8},
    }
    config.write_text(json.dumps(tiny))
    out = tmp_path / "out"
    args = ["run", "--strategy", "band", "--task", "addition", "--rollouts", "16", "--seed", "3"]
    result = runner.invoke(app, [*args, "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())["strategies"]
    assert list(summary) == ["band"] and summary["band"]["seeds"] == [3]
    assert summary["band"]["rollouts_to_uniform_final"] is None  # no uniform run to compare against


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["compare", "--strategies", "uniform,thompsn"], "unknown strategy 'thompsn'; valid strategies:"),
        (["run", "--strategy", "uniform", "--task", "additon"], "unknown task family 'additon'"),
        (["compare", "--strategies", "uniform", "--seeds", "0"], "--seeds: must be >= 1"),
        (["demo", "--preset", "huge"], "unknown preset 'huge'"),
    ],
)
def test_cli_rejects_bad_names_with_clear_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = sys.argv
    sys.argv = ["autocurriculum", *args, "--out", str(tmp_path)]
    try:
        with pytest.raises(SystemExit) as exit_info:
            main()
    finally:
        sys.argv = old
    assert exit_info.value.code == 2
    assert message in " ".join(capsys.readouterr().out.split())


def test_config_file_errors_name_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rl:\n  rollout: 10\n")
    result = runner.invoke(app, ["demo", "--config", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code != 0
    assert "bad.yaml" in str(result.exception) and "'rollout'" in str(result.exception)
    broken = tmp_path / "broken.yaml"
    broken.write_text("rl: [unclosed\n")
    result = runner.invoke(app, ["demo", "--config", str(broken)])
    assert "broken.yaml: cannot parse" in str(result.exception) and "line" in str(result.exception)
    bad_value = tmp_path / "v.json"
    bad_value.write_text(json.dumps({"grpo": {"learning_rate": 5}}))
    result = runner.invoke(app, ["demo", "--config", str(bad_value)])
    assert "v.json.grpo.learning_rate" in str(result.exception) and "got 5" in str(result.exception)


def test_strategy_variants_are_reported_under_their_label(tmp_path: Path) -> None:
    from autocurriculum.core import build_config
    from autocurriculum.experiments import PRESETS, ExperimentConfig, run_comparison

    values = {
        **PRESETS["tiny"],
        "strategies": ["uniform", "thompson-wide"],
        "strategy_options": {"thompson-wide": {"strategy": "thompson", "candidate_factor": 2}},
    }
    summary = run_comparison(build_config(ExperimentConfig, values), tmp_path)
    assert set(summary) == {"uniform", "thompson-wide"}
    bad = {**values, "strategy_options": {"thompson-wide": {"strategy": "thompsn"}}}
    with pytest.raises(Exception, match="unknown strategy 'thompsn'"):
        run_comparison(build_config(ExperimentConfig, bad), tmp_path)


def test_streaming_pool_with_learned_teachers_reports_teacher_metrics(tmp_path: Path) -> None:
    from autocurriculum.core import build_config
    from autocurriculum.experiments import PRESETS, ExperimentConfig, run_comparison

    values = {
        **PRESETS["tiny"],
        "strategies": ["uniform", "goldilocks", "pcl-student"],
        "strategy_options": {"pcl-student": {"strategy": "pcl", "features": "student"}},
        "testbed": {**PRESETS["tiny"]["testbed"], "pool": "streaming", "streaming_size": 20_000},
    }
    summary = run_comparison(build_config(ExperimentConfig, values), tmp_path)
    for name in ("goldilocks", "pcl-student"):
        for key in ("teacher_mae_unseen", "teacher_spearman", "teacher_time_fraction"):
            assert key in summary[name], (name, key)
        # the loop's thread and the background teacher's, concurrent: each at most the wall time
        assert 0.0 < summary[name]["teacher_time_fraction"]["median"] <= 2.0
    assert "teacher_mae_unseen" not in summary["uniform"]
    assert (tmp_path / "teacher_mae.png").stat().st_size > 0
    assert "Learned teachers" in (tmp_path / "report.md").read_text()


def test_screening_allocating_and_skipping_strategies_run_on_the_testbed_within_budget(tmp_path: Path) -> None:
    """SPEED (screens), Knapsack (ragged groups) and GRESO (skips, filters) through the real GRPO loop."""
    from autocurriculum.core import build_config
    from autocurriculum.experiments import PRESETS, ExperimentConfig, run_comparison

    values = {**PRESETS["tiny"], "strategies": ["uniform", "speed", "knapsack", "greso"]}
    config = build_config(ExperimentConfig, values)
    summary = run_comparison(config, tmp_path)
    assert set(summary) == {"uniform", "speed", "knapsack", "greso"}
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    budget = config.rl.rollouts
    for name in ("speed", "knapsack", "greso"):
        steps = [r for r in rows if r["strategy"] == name]
        assert steps and steps[-1]["rollouts"] <= budget  # every generated rollout is charged, none beyond
    assert sum(r["screening_rollouts"] for r in rows if r["strategy"] == "speed") > 0
    assert max(r["group_size_max"] for r in rows if r["strategy"] == "knapsack") > config.grpo.group_size
    assert all(r["screening_rollouts"] == 0 for r in rows if r["strategy"] != "speed")
    assert all(0 <= r["informative_rollouts"] <= r["rollouts"] for r in rows)
    assert 0.0 <= summary["knapsack"]["informative_rollout_fraction"]["median"] <= 1.0
