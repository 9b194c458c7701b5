"""AutoTune (Rajaraman et al., COLT 2026): verifier-gated autocurriculum for SFT and RL.

Importing this package never imports torch; only ``learners.transformer``, ``learners.huggingface`` (and
``TinyGPTTeacher``, ``HuggingFaceTeacher``) do, lazily. ``autotune.huggingface_sft`` runs AutoTune-SFT on a Hugging Face
student over a prompt set of ``autotune.prompt_sets`` (reasoning-gym task or JSONL/Parquet file).
The scaling sweep (``autotune.experiment``), its plots (``autotune.plots``) and the ``autocurriculum autotune``
commands (``autotune.cli``) are modules of their own that this package does not import.
"""

from autocurriculum.autotune.boosting import AutoTuneConfig, BoostingOutcome, PhaseRecord, run_boosting
from autocurriculum.autotune.costs import CostCounters
from autocurriculum.autotune.ensemble import plurality_vote, plurality_vote_int, ranks
from autocurriculum.autotune.learners import TabularRLLearner, TabularSFTLearner
from autocurriculum.autotune.problem import ArrayProblem, Problem, Prompts, TextProblem, make_problem
from autocurriculum.autotune.reference import ReferenceModel, TextReferenceModel, rollouts_per_prompt
from autocurriculum.autotune.result import AutoTuneResult
from autocurriculum.autotune.rl import RLFineTuneConfig, autotune_rl, reference_supervision, rl_finetune
from autocurriculum.autotune.sft import (
    CounterexampleConfig,
    UniformSFTConfig,
    autotune_sft,
    counterexample_sft,
    uniform_sft,
)
from autocurriculum.autotune.teacher import (
    CallableTeacher,
    DemonstrationTeacher,
    HuggingFaceTeacher,
    ProgrammaticTeacher,
    TinyGPTTeacher,
)
from autocurriculum.autotune.weights import (
    DETERMINISTIC,
    STOCHASTIC,
    VoteRule,
    acceptance_probabilities,
    beta_table,
    choose_k,
    pivotal_weights,
    pivotal_weights_direct,
    vote_failure_probability,
)

__all__ = [
    "DETERMINISTIC",
    "STOCHASTIC",
    "ArrayProblem",
    "AutoTuneConfig",
    "AutoTuneResult",
    "BoostingOutcome",
    "CallableTeacher",
    "CostCounters",
    "CounterexampleConfig",
    "DemonstrationTeacher",
    "HuggingFaceTeacher",
    "PhaseRecord",
    "Problem",
    "ProgrammaticTeacher",
    "Prompts",
    "RLFineTuneConfig",
    "ReferenceModel",
    "TabularRLLearner",
    "TabularSFTLearner",
    "TextProblem",
    "TextReferenceModel",
    "TinyGPTTeacher",
    "UniformSFTConfig",
    "VoteRule",
    "acceptance_probabilities",
    "autotune_rl",
    "autotune_sft",
    "beta_table",
    "choose_k",
    "counterexample_sft",
    "make_problem",
    "pivotal_weights",
    "pivotal_weights_direct",
    "plurality_vote",
    "plurality_vote_int",
    "ranks",
    "reference_supervision",
    "rl_finetune",
    "rollouts_per_prompt",
    "run_boosting",
    "uniform_sft",
    "vote_failure_probability",
]
