"""Framework-free core: task records, outcomes, statistics, the Curriculum interface and its registry.

Importing this package must never import torch (checked by the tests).
"""

from autocurriculum.core.batching import CollectedBatch, GenerationRoundsExhausted, collect_batch
from autocurriculum.core.config import (
    build_config,
    config_section,
    config_to_dict,
    field_help,
    load_config_file,
    merge_values,
    option,
    require,
)
from autocurriculum.core.curriculum import Curriculum, CurriculumConfig, Need
from autocurriculum.core.errors import (
    AutocurriculumError,
    ConfigError,
    EmptyPoolError,
    InvalidOutcomeError,
    UnknownNameError,
    UnknownTaskError,
)
from autocurriculum.core.outcome import GroupOutcome, success_values, zero_variance_fraction
from autocurriculum.core.registry import (
    make_config,
    make_curriculum,
    register_strategy,
    strategy_class,
    strategy_names,
)
from autocurriculum.core.stats import PromptStatistics, bootstrap_ci, nearest_to_target
from autocurriculum.core.task import Task, TaskPool, TaskSource

__all__ = [
    "AutocurriculumError",
    "CollectedBatch",
    "ConfigError",
    "Curriculum",
    "CurriculumConfig",
    "EmptyPoolError",
    "GenerationRoundsExhausted",
    "GroupOutcome",
    "InvalidOutcomeError",
    "Need",
    "PromptStatistics",
    "Task",
    "TaskPool",
    "TaskSource",
    "UnknownNameError",
    "UnknownTaskError",
    "bootstrap_ci",
    "build_config",
    "collect_batch",
    "config_section",
    "config_to_dict",
    "field_help",
    "load_config_file",
    "make_config",
    "make_curriculum",
    "merge_values",
    "nearest_to_target",
    "option",
    "register_strategy",
    "require",
    "strategy_class",
    "strategy_names",
    "success_values",
    "zero_variance_fraction",
]
