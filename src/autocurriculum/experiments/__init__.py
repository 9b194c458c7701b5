"""Experiments on the embedded testbed: configs, the GRPO run loop, comparisons, summaries and reports.

Imports torch (through the trainers); the core and strategies do not.
"""

from autocurriculum.experiments.compare import run_comparison
from autocurriculum.experiments.config import ExperimentConfig, RLConfig, TestbedConfig
from autocurriculum.experiments.presets import PRESETS
from autocurriculum.experiments.runner import RunResult, run_strategy
from autocurriculum.experiments.summary import summarize
from autocurriculum.experiments.testbed import Testbed

__all__ = [
    "PRESETS",
    "ExperimentConfig",
    "RLConfig",
    "RunResult",
    "Testbed",
    "TestbedConfig",
    "run_comparison",
    "run_strategy",
    "summarize",
]
