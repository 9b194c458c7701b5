"""The testbed flow: nested configs, derived fields, declared needs, evaluation schedule, held-out prompts, workers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from autocurriculum.cli import app
from autocurriculum.core import ConfigError, Need, build_config, make_curriculum
from autocurriculum.experiments import ExperimentConfig, Testbed, WarmStartConfig, run_comparison, run_strategy
from autocurriculum.experiments import runner as runner_module
from autocurriculum.experiments.runner import check_servable, harness_providers, wire_harness
from autocurriculum.experiments.warm_start import WarmStartNotConverged, warm_start, warm_start_key
from autocurriculum.trainers import GRPOTrainer, TinyGPT, TinyGPTConfig

cli = CliRunner()

# A student that learns nothing, on a pool small enough to run a whole GRPO loop in well under a second.
TINY: dict[str, Any] = {
    "strategies": ["uniform"],
    "testbed": {
        "tasks": ["addition"],
        "task_options": {"addition": {"width": 2}},
        "train_tasks_per_level": 8,
        "eval_tasks_per_level": 4,
        "min_eval_prompts_per_level": 2,
        "pass_rate_samples": 0,
        "torch_threads": 1,
        "warm_start_cache": "",
    },
    "warm_start": {"steps": 0, "demonstrations_per_level": 20, "max_level": 1},
    "model": {"d_model": 16, "n_layers": 1, "n_heads": 2},
    "grpo": {"group_size": 4},
    "rl": {"rollouts": 40, "prompts_per_step": 2, "eval_every": 16, "oracle_samples": 2},
}


def merged(base: dict[str, Any], **sections: dict[str, Any]) -> dict[str, Any]:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for name, values in sections.items():
        out[name] = {**out.get(name, {}), **values} if isinstance(values, dict) else values
    return out


@pytest.fixture(scope="module")
def tiny() -> Iterator[tuple[ExperimentConfig, Testbed, TinyGPT]]:
    threads = torch.get_num_threads()
    config = build_config(ExperimentConfig, TINY)
    testbed = Testbed.from_config(config, seed=0)
    model, _ = warm_start(testbed, config.sft)
    yield config, testbed, model
    torch.set_num_threads(threads)


# ----- nested configs and derived fields -----
def test_nested_yaml_config_reaches_the_trainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    class Recording(GRPOTrainer):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            seen.append(self.config)

    monkeypatch.setattr(runner_module, "GRPOTrainer", Recording)
    values = merged(TINY, grpo={"group_size": 4, "clip_epsilon": 0.1, "updates_per_batch": 2, "grad_clip": 0.5})
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in values.items() if k != "strategies"}))
    args = ["run", "--strategy", "uniform", "--task", "addition", "--config", str(path), "--out", str(tmp_path / "o")]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    (config,) = seen
    assert (config.clip_epsilon, config.updates_per_batch, config.grad_clip) == (0.1, 2, 0.5)
    assert config.max_new_tokens == 4  # derived: width 2 -> 3 answer digits + eos
    saved = json.loads((tmp_path / "o" / "config.json").read_text())
    assert saved["grpo"]["clip_epsilon"] == 0.1 and saved["grpo"]["max_new_tokens"] is None


def test_one_default_for_the_grpo_learning_rate() -> None:
    from autocurriculum.experiments.config import TESTBED_TRAINER_DEFAULTS
    from autocurriculum.trainers import GRPOConfig

    calibrated = TESTBED_TRAINER_DEFAULTS["grpo"]["learning_rate"]
    assert build_config(ExperimentConfig, {}).grpo.learning_rate == calibrated
    # a YAML grpo section that sets other knobs keeps the calibrated learning rate, not the trainer's own default
    assert ExperimentConfig.from_values({"grpo": {"clip_epsilon": 0.1}}).grpo.learning_rate == calibrated
    assert calibrated != GRPOConfig().learning_rate


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"model": {"vocab_size": 20}}, "c.yaml.model.vocab_size: is derived by the testbed"),
        ({"model": {"max_seq_len": 64}}, "c.yaml.model.max_seq_len: is derived by the testbed"),
        ({"grpo": {"max_new_tokens": 9}}, "c.yaml.grpo.max_new_tokens: is derived by the testbed"),
    ],
)
def test_derived_fields_cannot_be_set(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config(ExperimentConfig, values, source="c.yaml")


def test_the_testbed_fills_derived_fields(tiny: tuple[ExperimentConfig, Testbed, TinyGPT]) -> None:
    config, testbed, model = tiny
    assert config.model.vocab_size is None and config.model.max_seq_len is None
    assert testbed.model_config.vocab_size == testbed.tokenizer.vocab_size
    assert model.config.max_seq_len == testbed.max_seq_len
    assert testbed.grpo_config(config.grpo).max_new_tokens == testbed.max_new_tokens
    with pytest.raises(ConfigError, match="vocab_size: is None"):
        TinyGPT(TinyGPTConfig(max_seq_len=8))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"rl": {"rollouts": 8}}, "c.yaml.rl.rollouts: 8 is less than one GRPO step"),
        ({"grpo": {"group_size": 1}}, "c.yaml.grpo.group_size: must be at least 2 for a group baseline, got 1"),
        ({"testbed": {"train_tasks_per_level": 0}}, "c.yaml.testbed.train_tasks_per_level: must be > 0"),
        ({"rl": {"eval_every": 0}}, "c.yaml.rl.eval_every: must be > 0, got 0"),
        ({"rl": {"eval_every": -5}}, "got -5"),
        ({"warm_start": {"level_decay": 0}}, r"c.yaml.warm_start.level_decay: must lie in \(0, 1\], got 0"),
        ({"testbed": {"device": "tpu"}}, "c.yaml.testbed.device: must be one of 'cpu', 'cuda', 'auto'"),
        (
            {
                "testbed": {
                    "tasks": ["addition", "op_chain"],
                    "task_options": {"addition": {"min_level": 3}, "op_chain": {"min_level": 4}},
                },
                "warm_start": {"max_level": 2},
            },
            r"warm_start.max_level: 2 is below every task family's lowest level \(addition: 3, op_chain: 4\)",
        ),
        (
            {"testbed": {"tasks": ["addition"], "task_options": {"addition": {"width": 0}}}},
            "testbed.task_options.addition.width",
        ),
        ({"strategies": ["uniform", "uniform"]}, "repeated label"),
    ],
)
def test_bad_input_names_field_and_value(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_config(ExperimentConfig, values, source="c.yaml")


def test_a_config_built_in_python_is_validated_too() -> None:
    from autocurriculum.experiments import RLConfig

    with pytest.raises(ConfigError, match="eval_every: must be > 0, got 0"):
        RLConfig(eval_every=0)
    with pytest.raises(ConfigError, match=r"rl\.rollouts: 10 is less than one GRPO step"):
        ExperimentConfig(rl=RLConfig(rollouts=10))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without a GPU")
def test_cuda_without_a_gpu_is_a_clear_config_error() -> None:
    with pytest.raises(ConfigError, match=r"testbed\.device: 'cuda' but torch finds no CUDA device"):
        build_config(ExperimentConfig, {"testbed": {"device": "cuda"}})
    assert build_config(ExperimentConfig, {"testbed": {"device": "auto"}}).testbed.device == "auto"


def test_warm_start_demonstrations_decay_with_level() -> None:
    config = WarmStartConfig(max_level=3, demonstrations_per_level=100, level_decay=0.5)
    assert [config.demonstrations_at(level) for level in (1, 2, 3, 4)] == [100, 50, 25, 0]
    values = merged(TINY, warm_start={"max_level": 2, "demonstrations_per_level": 10, "level_decay": 0.5})
    values["testbed"] = {**values["testbed"], "overall_levels": "all"}  # width 2 has no level beyond the warm start
    testbed = Testbed.from_config(build_config(ExperimentConfig, values), seed=0)
    assert len(testbed.demonstrations) == 10 + 5


# ----- declared needs -----
def test_the_testbed_serves_the_oracle_its_declared_need(tiny: tuple[ExperimentConfig, Testbed, TinyGPT]) -> None:
    config, testbed, model = tiny
    oracle = make_curriculum("oracle", testbed.train_pool, {"seed": 0})
    assert oracle.needs_for(oracle.config) == {Need.PASS_RATE_ORACLE}
    result = runner_module.RunResult("oracle", 0)
    wire_harness(oracle, "oracle", harness_providers(testbed, model, config.grpo, config.rl, 0, result))
    assert len(oracle.select(3)) == 3 and result.oracle_seconds > 0
    uniform = make_curriculum("uniform", testbed.train_pool)
    wire_harness(uniform, "uniform", {})  # needs nothing: nothing to serve


def test_a_need_the_harness_cannot_serve_is_refused_by_name(tiny: tuple[ExperimentConfig, Testbed, TinyGPT]) -> None:
    _, testbed, _ = tiny
    oracle = make_curriculum("oracle", testbed.train_pool)
    with pytest.raises(ConfigError, match=r"strategy 'oracle' needs 'pass_rate_oracle', which the testbed harness"):
        wire_harness(oracle, "oracle", {})
    options = {"pcl-student": {"strategy": "pcl", "features": "student"}}
    with pytest.raises(ConfigError, match=r"strategy 'pcl-student' needs 'student_features'.*serves: nothing"):
        check_servable("pcl-student", options, served=frozenset())
    check_servable("pcl", {}, served=frozenset())  # n-gram features need nothing
    with pytest.raises(ConfigError, match="does not declare need 'student_features'"):
        oracle.provide(Need.STUDENT_FEATURES, lambda prompts: np.zeros((len(prompts), 2)))


# ----- evaluation schedule and held-out prompts -----
@pytest.mark.parametrize(("rollouts", "expected"), [(40, [0, 16, 32, 40]), (32, [0, 16, 32])])
def test_evaluation_at_start_each_crossing_and_the_end_of_the_budget(
    tiny: tuple[ExperimentConfig, Testbed, TinyGPT], rollouts: int, expected: list[int]
) -> None:
    config, testbed, model = tiny
    rl = build_config(type(config.rl), {**TINY["rl"], "rollouts": rollouts})
    result = run_strategy(testbed, model, "uniform", 0, config.grpo, rl)
    assert [e["rollouts"] for e in result.evals] == expected
    assert result.rollouts == rollouts


def test_held_out_prompts_are_never_trained_on(tiny: tuple[ExperimentConfig, Testbed, TinyGPT]) -> None:
    _, testbed, _ = tiny
    held_out = [t.prompt for t in testbed.eval_pool]
    seen = {p for p, _ in testbed.demonstrations} | {t.prompt for t in testbed.train_pool}
    assert len(held_out) == len(set(held_out)) > 0
    assert not set(held_out) & seen
    # a streaming pool too, where the training prompts exist only on demand
    values = merged(TINY, testbed={"pool": "streaming", "streaming_size": 3000})
    stream = Testbed.from_config(build_config(ExperimentConfig, values), seed=0)
    streamed = {stream.train_pool[r].prompt for r in range(len(stream.train_pool))}
    assert not {t.prompt for t in stream.eval_pool} & (streamed | {p for p, _ in stream.demonstrations})


def test_levels_without_enough_unseen_prompts_are_reported_apart(
    tiny: tuple[ExperimentConfig, Testbed, TinyGPT],
) -> None:
    _, _, model = tiny
    # width 2, level 1: 100 distinct prompts, (almost surely) all of them among 1000 demonstrations
    values = merged(TINY, warm_start={"demonstrations_per_level": 1000}, testbed={"min_eval_prompts_per_level": 4})
    testbed = Testbed.from_config(build_config(ExperimentConfig, values), seed=0)
    assert testbed.metadata["excluded_levels"] == {"addition/L1": testbed.held_out_prompts["addition/L1"]}
    assert testbed.held_out_prompts["addition/L1"] < 4 and testbed.level_names == ["addition/L2"]
    accuracy, apart = testbed.evaluate_levels(model)
    assert set(accuracy) == {"addition/L2", "overall"} and accuracy["overall"] == accuracy["addition/L2"]
    assert set(apart) <= {"addition/L1"}


def test_pass_rate_histogram_counts_every_training_prompt(tiny: tuple[ExperimentConfig, Testbed, TinyGPT]) -> None:
    _, testbed, model = tiny
    histogram = testbed.pass_rate_histogram(model, samples=4)
    assert histogram["samples"] == 4 and len(histogram["counts"]) == 5
    assert sum(histogram["counts"]) == len(testbed.train_pool)
    assert set(histogram["by_level"]) == {"addition/L1", "addition/L2"}
    assert np.sum(list(histogram["by_level"].values()), axis=0).tolist() == histogram["counts"]
    sub = testbed.pass_rate_histogram(model, samples=4, max_prompts=5)
    assert sum(sub["counts"]) == 5 and sub == testbed.pass_rate_histogram(model, samples=4, max_prompts=5)
    assert 0.0 <= histogram["zero_variance_fraction"] <= 1.0


# ----- comparisons: workers and output folders -----
def _without_timings(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if not k.endswith("_seconds")} for row in rows]


def test_two_workers_give_the_same_results_as_one(tmp_path: Path) -> None:
    """Warm starts (trained in workers too: a few SFT steps, target never reached) and runs alike."""
    threads = torch.get_num_threads()
    values = merged(
        TINY,
        strategies=["uniform", "thompson", "oracle"],
        seeds=[0, 1],
        warm_start={"steps": 4, "check_every": 2, "target_accuracy": 1.0, "attempts": 2},
    )
    values["testbed"]["pass_rate_samples"] = 2
    outputs = {}
    try:
        for workers in (1, 2):
            values["testbed"]["workers"] = workers
            # a warning raised in a worker's warm start reaches the caller, as it does with one process
            with pytest.warns(WarmStartNotConverged) as caught:
                run_comparison(build_config(ExperimentConfig, values), tmp_path / str(workers))
            assert sorted(str(w.message)[:32] for w in caught) == [
                "warm start (seed 0): no initiali",
                "warm start (seed 1): no initiali",
            ]
            out = tmp_path / str(workers)
            outputs[workers] = {
                name: [json.loads(line) for line in (out / name).read_text().splitlines()]
                for name in ("metrics.jsonl", "evals.jsonl")
            }
            outputs[workers]["meta"] = json.loads((out / "summary.json").read_text())["meta"]
    finally:
        torch.set_num_threads(threads)
    one, two = outputs[1], outputs[2]
    assert _without_timings(one["metrics.jsonl"]) == _without_timings(two["metrics.jsonl"])
    assert one["evals.jsonl"] == two["evals.jsonl"]
    assert [(r["seed"], r["strategy"]) for r in one["evals.jsonl"] if r["step"] == 0] == [
        (seed, s) for seed in (0, 1) for s in ("uniform", "thompson", "oracle")
    ]
    assert one["meta"]["pass_rate_histogram"] == two["meta"]["pass_rate_histogram"]
    assert sum(one["meta"]["pass_rate_histogram"]["counts"]) == 2 * 16  # two seeds' training pools


def test_an_out_dir_with_results_is_refused_without_overwrite(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps({k: v for k, v in TINY.items() if k != "strategies"}))
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text('{"earlier": true}')
    args = ["run", "--strategy", "uniform", "--task", "addition", "--config", str(config), "--out", str(out)]
    result = cli.invoke(app, args)
    assert isinstance(result.exception, ConfigError)
    assert "already holds a summary.json" in str(result.exception) and "--overwrite" in str(result.exception)
    assert json.loads((out / "summary.json").read_text()) == {"earlier": True}
    result = cli.invoke(app, [*args, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert "strategies" in json.loads((out / "summary.json").read_text())


# ----- what `overall` measures, and a warm start trained until it converges -----
def test_overall_averages_only_levels_beyond_the_warm_start() -> None:
    values = merged(TINY, warm_start={"steps": 0, "demonstrations_per_level": 20, "max_level": 1})
    beyond = Testbed.from_config(build_config(ExperimentConfig, values), seed=0)
    assert beyond.level_names == ["addition/L2"]  # width 2: level 1 is demonstrated, so it is reported apart
    assert beyond.metadata["excluded_levels"] == {"addition/L1": beyond.held_out_prompts["addition/L1"]}
    values["testbed"] = {**values["testbed"], "overall_levels": "all"}
    every = Testbed.from_config(build_config(ExperimentConfig, values), seed=0)
    assert every.level_names == ["addition/L1", "addition/L2"]
    model = every.new_model()
    record, apart = beyond.evaluate_levels(model)
    assert set(record) == {"addition/L2", "overall"} and record["overall"] == record["addition/L2"]
    assert set(apart) == {"addition/L1"}


def test_warm_start_stops_once_the_demonstrated_levels_are_learnt(monkeypatch: pytest.MonkeyPatch) -> None:
    from autocurriculum.experiments.warm_start import train_until_converged

    values = merged(TINY, warm_start={"steps": 30, "check_every": 10, "target_accuracy": 0.9, "max_level": 1})
    config = build_config(ExperimentConfig, values)
    testbed = Testbed.from_config(config, seed=0)
    checks = iter([0.2, 0.95, 0.99])
    monkeypatch.setattr(testbed, "warm_up_accuracy", lambda model: next(checks))
    run = train_until_converged(testbed, config.sft)
    assert (run.attempt, run.steps, run.accuracy) == (0, 20, 0.95)  # the second check reached the target


def test_warm_start_restarts_from_a_fresh_initialisation_when_an_attempt_stalls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from autocurriculum.experiments.warm_start import train_until_converged

    values = merged(
        TINY, warm_start={"steps": 20, "check_every": 10, "target_accuracy": 0.9, "max_level": 1, "attempts": 3}
    )
    config = build_config(ExperimentConfig, values)
    testbed = Testbed.from_config(config, seed=0)
    # attempt 0 stalls (0.3, 0.4), attempt 1 converges at its second check
    checks = iter([0.3, 0.4, 0.5, 0.92])
    monkeypatch.setattr(testbed, "warm_up_accuracy", lambda model: next(checks))
    run = train_until_converged(testbed, config.sft)
    assert (run.attempt, run.steps, run.accuracy) == (1, 20, 0.92)
    first, second = testbed.new_model(0), testbed.new_model(1)
    assert not torch.equal(first.tok_emb.weight, second.tok_emb.weight)

    # no attempt converges: the most accurate one is kept, with a warning naming the fields to raise
    checks = iter([0.3, 0.6, 0.5, 0.55, 0.2, 0.4])
    monkeypatch.setattr(testbed, "warm_up_accuracy", lambda model: next(checks))
    with pytest.warns(WarmStartNotConverged, match=r"no initialisation of 3 .* keeping attempt 0, .* 0\.600"):
        run = train_until_converged(testbed, config.sft)
    assert (run.attempt, run.steps, run.accuracy) == (0, 20, 0.6)


def test_warm_start_attempts_must_be_positive() -> None:
    with pytest.raises(ConfigError, match=r"warm_start.attempts: must be >= 1, got 0"):
        build_config(ExperimentConfig, merged(TINY, warm_start={"attempts": 0}))


def test_warm_start_threads_are_validated_and_part_of_the_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"testbed.warm_start_threads: must be >= 0 \(0: torch_threads\), got -1"):
        build_config(ExperimentConfig, merged(TINY, testbed={"warm_start_threads": -1}))
    config = build_config(ExperimentConfig, TINY)
    assert config.testbed.warm_start_threads_each(seeds=1) == config.testbed.torch_threads == 1
    shared = build_config(ExperimentConfig, merged(TINY, testbed={"warm_start_threads": 2, "workers": 2})).testbed
    assert shared.warm_start_threads_each(seeds=1) == 2  # one warm start takes both threads
    assert shared.warm_start_threads_each(seeds=5) == 1  # two at a time share them
    testbed = Testbed.from_config(config, seed=0)
    keys = set()
    for threads in (1, 2):
        monkeypatch.setattr(torch, "get_num_threads", lambda threads=threads: threads)
        keys.add(warm_start_key(testbed, config.sft))
    assert len(keys) == 2  # a cached warm start trained with other threads is not reused: its weights differ


def test_a_single_seeds_warm_start_runs_with_warm_start_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.progress import Progress

    from autocurriculum.experiments import compare

    seen: list[int] = []

    def record_threads(config: ExperimentConfig, seed: int) -> Any:
        seen.append(torch.get_num_threads())
        return compare.SeedSetup(testbed=None, warm_state={}, histogram=None, warm_start_source="cache")

    monkeypatch.setattr(compare, "build_seed_setup", record_threads)
    before = torch.get_num_threads()
    config = build_config(ExperimentConfig, merged(TINY, testbed={"warm_start_threads": 2}))
    with Progress(disable=True) as progress:
        compare._prepare_seeds(config, progress)
    assert seen == [2] and torch.get_num_threads() == before  # the caller's setting is given back


def test_warm_up_accuracy_scores_unseen_prompts_of_the_demonstrated_levels(
    tiny: tuple[ExperimentConfig, Testbed, TinyGPT],
) -> None:
    _, testbed, model = tiny
    accuracy = testbed.warm_up_accuracy(model)
    assert 0.0 <= accuracy <= 1.0
    rows = testbed._apart_rows.get("addition/L1", testbed._eval_rows.get("addition/L1"))
    prompts = [testbed.eval_pool.prompt(int(r)) for r in rows[:64]]
    from autocurriculum.trainers import greedy_complete

    completions = greedy_complete(model, testbed.tokenizer, prompts, testbed.max_new_tokens)
    expected = testbed.score([testbed.eval_pool[int(r)] for r in rows[:64]], completions).mean()
    assert accuracy == pytest.approx(expected)


BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
STREAMING_BENCHMARKS = {
    "learned_teachers.yaml",
    "learned_teachers_dots.yaml",
    "streaming.yaml",
    "streaming_digits.yaml",
    "streaming_dots.yaml",
    "leaderboard_streaming.yaml",
    "leaderboard_streaming_dots.yaml",
    "pcl_explore_streaming.yaml",
}
# The selection benchmarks (the soar_*.yaml configs are SOAR's, tested in test_soar.py).
SELECTION_BENCHMARKS = sorted(p.name for p in BENCHMARKS.glob("*.yaml") if not p.name.startswith("soar_"))


@pytest.mark.parametrize("name", SELECTION_BENCHMARKS)
def test_benchmark_configs_build(name: str) -> None:
    values = yaml.safe_load((BENCHMARKS / name).read_text())
    if values.get("testbed", {}).get("device") == "cuda" and not torch.cuda.is_available():
        values["testbed"]["device"] = "cpu"  # a GPU benchmark: everything but the device must be valid here too
    config = ExperimentConfig.from_values(values, source=name)
    assert len(config.seeds) >= 2
    for label in config.strategies:  # every strategy is one the testbed can serve
        check_servable(label, config.strategy_options)
    assert (config.testbed.pool == "streaming") == (name in STREAMING_BENCHMARKS)


def test_demo_preset_builds_and_compares_uniform_two_adaptive_strategies_and_the_oracle() -> None:
    from autocurriculum.experiments.presets import DEMO

    config = ExperimentConfig.from_values(DEMO, source="demo")
    assert config.strategies[0] == "uniform" and "oracle" in config.strategies
    assert len(set(config.strategies) - {"uniform", "oracle"}) >= 2
    for label in config.strategies:
        check_servable(label, config.strategy_options)
