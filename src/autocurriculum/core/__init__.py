"""Framework-free core: task records, outcomes, statistics, the Curriculum interface and its registry.

Importing this package must never import torch (checked by the tests).
"""

from autocurriculum.core.allocation import greedy_allocation, proportional_allocation
from autocurriculum.core.batching import CollectedBatch, GenerationRoundsExhausted, collect_batch
from autocurriculum.core.beta_evidence import DiscountedPassRates, ImplicitEvidenceBeta
from autocurriculum.core.capabilities import Ability, Need, abilities_from_names, needs_from_names, require_supported
from autocurriculum.core.codec import (
    curriculum_state,
    load_curriculum,
    load_state,
    save_curriculum,
    save_state,
    state_from_json,
    state_to_json,
)
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
from autocurriculum.core.curriculum import Curriculum, CurriculumConfig, RolloutPlan
from autocurriculum.core.errors import (
    AllocationError,
    AutocurriculumError,
    ConfigError,
    EmptyPoolError,
    InvalidArgumentError,
    InvalidOutcomeError,
    InvalidTypeError,
    MissingDependencyError,
    MissingFieldError,
    MissingFileError,
    NotReadyError,
    OutOfRangeError,
    StateFormatError,
    StrategyContractError,
    UnknownNameError,
    UnknownTaskError,
    UnsupportedStrategyError,
)
from autocurriculum.core.gaussian_mixture import AICMixtureFitter, GaussianMixture, fit_by_aic, fit_gaussian_mixture
from autocurriculum.core.group_variance import max_group_variance, normalized_group_variance, normalized_reward_variance
from autocurriculum.core.outcome import (
    GroupOutcome,
    success_values,
    successes_and_trials,
    zero_variance_fraction,
    zero_variance_mask,
)
from autocurriculum.core.priority_bank import PriorityBank
from autocurriculum.core.registry import (
    make_config,
    make_curriculum,
    register_strategy,
    strategy_class,
    strategy_names,
)
from autocurriculum.core.seeding import derive_seed
from autocurriculum.core.stats import (
    LastGroupStatistics,
    PromptStatistics,
    bootstrap_ci,
    nearest_to_target,
    vendi_score,
)
from autocurriculum.core.streaks import ZeroVarianceStreaks
from autocurriculum.core.task import Task, TaskPool, TaskSource
from autocurriculum.core.windows import (
    ArmWindows,
    NearestPreviousProgress,
    RecentRows,
    WindowedLearningProgress,
    nearest_points,
)

__all__ = [
    "AICMixtureFitter",
    "Ability",
    "AllocationError",
    "ArmWindows",
    "AutocurriculumError",
    "CollectedBatch",
    "ConfigError",
    "Curriculum",
    "CurriculumConfig",
    "DiscountedPassRates",
    "EmptyPoolError",
    "GaussianMixture",
    "GenerationRoundsExhausted",
    "GroupOutcome",
    "ImplicitEvidenceBeta",
    "InvalidArgumentError",
    "InvalidOutcomeError",
    "InvalidTypeError",
    "LastGroupStatistics",
    "MissingDependencyError",
    "MissingFieldError",
    "MissingFileError",
    "NearestPreviousProgress",
    "Need",
    "NotReadyError",
    "OutOfRangeError",
    "PriorityBank",
    "PromptStatistics",
    "RecentRows",
    "RolloutPlan",
    "StateFormatError",
    "StrategyContractError",
    "Task",
    "TaskPool",
    "TaskSource",
    "UnknownNameError",
    "UnknownTaskError",
    "UnsupportedStrategyError",
    "WindowedLearningProgress",
    "ZeroVarianceStreaks",
    "abilities_from_names",
    "bootstrap_ci",
    "build_config",
    "collect_batch",
    "config_section",
    "config_to_dict",
    "curriculum_state",
    "derive_seed",
    "field_help",
    "fit_by_aic",
    "fit_gaussian_mixture",
    "greedy_allocation",
    "load_config_file",
    "load_curriculum",
    "load_state",
    "make_config",
    "make_curriculum",
    "max_group_variance",
    "merge_values",
    "nearest_points",
    "nearest_to_target",
    "needs_from_names",
    "normalized_group_variance",
    "normalized_reward_variance",
    "option",
    "proportional_allocation",
    "register_strategy",
    "require",
    "require_supported",
    "save_curriculum",
    "save_state",
    "state_from_json",
    "state_to_json",
    "strategy_class",
    "strategy_names",
    "success_values",
    "successes_and_trials",
    "vendi_score",
    "zero_variance_fraction",
    "zero_variance_mask",
]
