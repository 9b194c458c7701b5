"""AutoTune-SFT with a Hugging Face student trained by TRL's SFTTrainer: a tiny config-built causal LM, offline.

End to end through ``autocurriculum autotune sft --student`` on a reasoning-gym task with the solver teacher,
plus the bad-input paths (prompt file field missing or empty, unknown teacher, a verifier that raises).
"""

from __future__ import annotations

import json
import string

import pytest
from typer.testing import CliRunner

pytest.importorskip("trl")
pytest.importorskip("reasoning_gym")

from autocurriculum.autotune.prompt_sets import (
    PoolProblem,
    PromptSet,
    VerifierError,
    extract_answer,
    file_prompts,
    reasoning_gym_prompts,
    solver_demonstration,
)
from autocurriculum.cli import app
from autocurriculum.core import ConfigError
from autocurriculum.tasks.datasets import DatasetFormatError

runner = CliRunner()
SMALL_RUN = '{"train_pool": 100, "validation_size": 3, "draw_batch": 8, "max_phase_prompts": 32}'
SMALL_LEARNER = '{"max_new_tokens": 8, "batch_size": 8, "generation_batch_size": 64}'


@pytest.fixture(scope="module")
def tiny_student(tmp_path_factory):
    """A 2-layer, width-32 causal LM with a character tokenizer, saved like any Hugging Face model folder."""
    from autocurriculum.integrations.trl import tiny_offline_model

    folder = tmp_path_factory.mktemp("tiny_student")
    model, tokenizer = tiny_offline_model(string.printable.strip() + " ", hidden_size=32, num_layers=2, seed=0)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def _sft(*args: str):
    return runner.invoke(app, ["autotune", "sft", *args, "--no-progress"])


def test_cli_runs_autotune_and_uniform_on_reasoning_gym(tiny_student, tmp_path):
    out = tmp_path / "run"
    budget = 18
    result = _sft(
        "--student", str(tiny_student), "--teacher", "solver", "--task", "reasoning_gym:chain_sum",
        "--phases", "3", "--budget", str(budget), "--test-prompts", "8", "--learning-rate", "1e-3",
        "--run-config", SMALL_RUN, "--learner-config", SMALL_LEARNER, "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((out / "result.json").read_text())
    assert (out / "report.md").read_text().startswith("# AutoTune-SFT")
    at = data["autotune"]
    phases = at["phases"]
    assert len(phases) == 3
    bought = sum(p["demonstrations"] for p in phases)
    assert bought == at["costs"]["teacher_demonstrations"] <= budget
    assert all(p["demonstrations"] <= budget // 3 for p in phases)
    # verifier calls: every phase checks its validation prompts and its teacher's demonstrations at least
    assert sum(p["verifier_calls"] for p in phases) == at["costs"]["verifier_calls"]
    assert all(p["verifier_calls"] >= p["demonstrations"] for p in phases)
    assert phases[1]["verifier_calls"] >= phases[1]["prompts_drawn"]  # phase 1 ranks every draw with member 0
    for accuracy in [data["student_accuracy"], at["accuracy"], *(p["vote_accuracy"] for p in phases)]:
        assert 0.0 <= accuracy <= 1.0
    uniform = data["uniform"]
    assert uniform["method"] == "uniform_sft"
    assert uniform["costs"]["teacher_demonstrations"] == bought  # the same number of demonstrations
    assert 0.0 <= uniform["accuracy"] <= 1.0
    assert uniform["costs"]["learner_training_steps"] >= 1


def test_held_out_prompts_never_train():
    prompts = reasoning_gym_prompts("chain_sum", train_size=300, test_size=100, level=1)
    held = {t.prompt for t in prompts.test}
    assert held and not held & {t.prompt for t in prompts.train}  # 2 one-digit terms repeat: duplicates dropped
    task = prompts.train[0]
    assert prompts.verify(task, task.demonstration) and not prompts.verify(task, "<answer>x</answer>")


def test_solver_demonstration_and_answer_extraction():
    assert solver_demonstration("7", "4 + 5 - 2") == "4 + 5 = 9, 9 - 2 = 7\n<answer>7</answer>"
    assert solver_demonstration("2", "( 6 / 3 )") == "( 6 / 3 ) = 2\n<answer>2</answer>"
    assert solver_demonstration("x") == "<answer>x</answer>"
    assert extract_answer("so 1 + 2 = 3") == "3" and extract_answer("<answer> 5 </answer> 9") == "5"
    assert extract_answer("no digits") is None


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_prompt_file_missing_field_names_file_line_and_field(tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"id": "a", "question": "1+1?", "answer": "2"}, {"id": "b", "answer": "3"}])
    with pytest.raises(DatasetFormatError) as info:
        file_prompts(path, test_size=1, prompt_field="question")
    message = str(info.value)
    assert f"{path}:2" in message and "'question'" in message and "'b'" in message and "missing" in message


def test_prompt_file_empty_column_names_the_row(tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"id": "q1", "prompt": "  ", "answer": "2"}])
    with pytest.raises(DatasetFormatError) as info:
        file_prompts(path, test_size=1)
    assert f"{path}:1" in str(info.value) and "'prompt'" in str(info.value) and "'q1'" in str(info.value)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DatasetFormatError, match="no rows"):
        file_prompts(empty, test_size=1)


def test_cli_reports_bad_prompt_file_and_unknown_teacher(tiny_student, tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"prompt": f"{i}+1=", "answer": str(i + 1)} for i in range(5)])
    result = _sft("--student", str(tiny_student), "--prompts", str(path), "--prompt-field", "question")
    assert result.exit_code != 0
    assert isinstance(result.exception, DatasetFormatError)
    assert f"{path}:1" in str(result.exception) and "'question'" in str(result.exception)
    result = _sft("--student", str(tiny_student), "--prompts", str(path), "--teacher", "oracle", "--test-prompts", "2")
    assert isinstance(result.exception, ConfigError) and "unknown teacher 'oracle'" in str(result.exception)
    result = _sft("--student", str(tiny_student), "--task", "op_chain")
    assert isinstance(result.exception, ConfigError) and "reasoning_gym:NAME" in str(result.exception)


def test_prompt_file_parquet_and_crashing_verifier_names_the_id(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": f"r{i}", "prompt": f"What is {i} + 1?", "answer": str(i + 1)} for i in range(6)]
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    prompts = file_prompts(path, test_size=2)
    assert len(prompts.train) == 4 and len(prompts.test) == 2

    def broken(task, completion):
        raise ZeroDivisionError("bad gold")

    crashing = PromptSet(prompts.name, prompts.train, prompts.test, broken, "broken", prompts.where)
    problem = PoolProblem(crashing)
    batch = problem.draw(1)
    task = problem.tasks(batch)[0]
    with pytest.raises(VerifierError) as info:
        problem.verify(batch, ["<answer>1</answer>"])
    message = str(info.value)
    assert repr(task.task_id) in message and prompts.where[task.task_id] in message and "ZeroDivisionError" in message
    assert f"{path}:" in message


def test_pool_stream_cycles_and_counts(tmp_path):
    path = _jsonl(tmp_path / "p.jsonl", [{"prompt": f"{i}+1=", "answer": str(i + 1)} for i in range(6)])
    problem = PoolProblem(file_prompts(path, test_size=2), seed=1)
    first = problem.draw(4)
    assert sorted(first.indices.tolist()) == [0, 1, 2, 3] and problem.passes == 0
    problem.draw(3)
    assert problem.passes == 1 and problem.costs.prompts_drawn == 7
    with pytest.raises(ConfigError, match="test_prompts"):
        problem.test_prompts(3)
