"""The base students shipped with the package: they match the default testbed, load first, and are the students
their metadata says they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from autocurriculum.core import build_config, merge_values
from autocurriculum.experiments import ExperimentConfig, Testbed
from autocurriculum.experiments.presets import TINY as PRESET_TINY
from autocurriculum.experiments.warm_start import BASE_STUDENTS, warm_start, warm_start_filename
from autocurriculum.soar.config import DOTS_OP_CHAIN
from autocurriculum.trainers import load_model, save_model
from autocurriculum.trainers.threads import torch_threads

SHIPPED_SEEDS = range(10)

# The tests' tiny preset, with an SFT of a few steps: enough to give a cache something to hold.
TINY: dict[str, Any] = merge_values(
    PRESET_TINY, {"warm_start": {"steps": 2, "check_every": 1, "attempts": 1}, "sft": {"batch_size": 8}}
)


def default_testbed(seed: int) -> tuple[ExperimentConfig, Testbed]:
    config = ExperimentConfig()
    return config, Testbed.from_config(config, seed)


@pytest.mark.parametrize("seed", SHIPPED_SEEDS)
def test_every_shipped_seed_has_the_default_testbeds_student(seed: int) -> None:
    """Fails when a default that shapes the warm start changes without regenerating base_students/."""
    config, testbed = default_testbed(seed)
    with torch_threads(1):  # the compare default: one thread per warm start, as they were trained
        name = warm_start_filename(testbed, config.sft)
    assert (BASE_STUDENTS / name).exists(), f"{name} is missing from {BASE_STUDENTS}: regenerate it (README there)"


# Earlier defaults whose students still ship: SOAR teaches op_chain padded with '..' (dots, the default until session
# 13), and the benchmarks measured on dots or on digits (the default in sessions 13-14) pin theirs
# (benchmarks/ten_seeds.yaml, ten_seeds_digits.yaml and others).
PINNED_TESTBEDS = {"dots": dict(DOTS_OP_CHAIN), "digits": {"max_length": 10, "operators": "+-", "filler": "digits"}}


@pytest.mark.parametrize("filler", sorted(PINNED_TESTBEDS))
@pytest.mark.parametrize("seed", SHIPPED_SEEDS)
def test_every_shipped_seed_has_the_pinned_testbeds_students_too(seed: int, filler: str) -> None:
    values = {"testbed": {"task_options": {"op_chain": PINNED_TESTBEDS[filler]}}}
    config = build_config(ExperimentConfig, values)
    testbed = Testbed.from_config(config, seed)
    assert testbed.families[0].config.filler == filler
    with torch_threads(1):
        name = warm_start_filename(testbed, config.sft)
    assert (BASE_STUDENTS / name).exists(), f"{name} ({filler}) is missing from {BASE_STUDENTS}"


def test_the_shipped_students_are_the_converged_students_their_metadata_records() -> None:
    config, testbed = default_testbed(0)
    with torch_threads(1):
        model, source = warm_start(testbed, config.sft)
        assert source == "base student"
        recorded = load_model(BASE_STUDENTS / warm_start_filename(testbed, config.sft)).metadata
        accuracy = testbed.warm_up_accuracy(model)
    # Greedy decoding on this machine may flip a rare near-tie, never a student's worth of answers.
    assert abs(accuracy - recorded["warm_up_accuracy"]) <= 0.02
    assert recorded["warm_up_accuracy"] >= config.warm_start.target_accuracy
    assert recorded["seed"] == 0 and recorded["warm_start"]["max_level"] == config.warm_start.max_level


def tiny_testbed(cache: Path, base_students: bool) -> tuple[ExperimentConfig, Testbed]:
    testbed = {"warm_start_cache": str(cache), "base_students": base_students}
    config = build_config(ExperimentConfig, merge_values(TINY, {"testbed": testbed}))
    return config, Testbed.from_config(config, seed=0)


@pytest.mark.filterwarnings("ignore::autocurriculum.experiments.warm_start.WarmStartNotConverged")  # 2 SFT steps
def test_a_base_student_comes_before_the_cache_and_before_training(tmp_path: Path) -> None:
    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    config, testbed = tiny_testbed(cache, base_students=True)
    name = warm_start_filename(testbed, config.sft)
    base_model, cached_model = testbed.new_model(0), testbed.new_model(1)  # two distinct initialisations
    save_model(shipped / name, base_model, testbed.tokenizer)
    save_model(cache / name, cached_model, testbed.tokenizer)

    model, source = warm_start(testbed, config.sft, base_students=shipped)
    assert source == "base student" and torch.equal(model.tok_emb.weight, base_model.tok_emb.weight)

    config, testbed = tiny_testbed(cache, base_students=False)
    model, source = warm_start(testbed, config.sft, base_students=shipped)
    assert source == "cache" and torch.equal(model.tok_emb.weight, cached_model.tok_emb.weight)

    (cache / name).unlink()
    config, testbed = tiny_testbed(cache, base_students=True)
    model, source = warm_start(testbed, config.sft, base_students=tmp_path / "empty")
    assert source == "trained" and (cache / name).exists()  # trained here, cached for the next run
    assert not (tmp_path / "empty").exists()  # the shipped directory is never written


def test_another_config_does_not_take_a_base_student() -> None:
    config, testbed = default_testbed(0)
    other = build_config(ExperimentConfig, {"warm_start": {"max_level": 3}})
    with torch_threads(1):
        assert warm_start_filename(testbed, config.sft) != warm_start_filename(Testbed.from_config(other, 0), other.sft)
