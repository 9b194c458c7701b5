"""Experiments on the embedded testbed: configs, the GRPO run loop, comparisons, summaries and reports.

The flow: ``ExperimentConfig`` -> ``Testbed`` (pools, tokenizer, student) and ``warm_start`` -> ``run_strategy``
(one GRPO run) -> ``run_comparison`` (strategies x seeds, outputs) -> ``summarize`` and the report.
Imports torch (through the trainers); the core and strategies do not.
"""

from autocurriculum.experiments.compare import run_comparison
from autocurriculum.experiments.config import ExperimentConfig, RLConfig, TestbedConfig, WarmStartConfig
from autocurriculum.experiments.presets import PRESETS
from autocurriculum.experiments.runner import RunResult, run_strategy, wire_harness
from autocurriculum.experiments.summary import summarize
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.experiments.warm_start import demonstrations, warm_start

__all__ = [
    "PRESETS",
    "ExperimentConfig",
    "RLConfig",
    "RunResult",
    "Testbed",
    "TestbedConfig",
    "WarmStartConfig",
    "demonstrations",
    "run_comparison",
    "run_strategy",
    "summarize",
    "warm_start",
    "wire_harness",
]
