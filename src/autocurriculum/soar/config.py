"""Every SOAR setting, one nested dataclass per stage, each field with help text.

    SOARConfig
      seed
      student     StudentConfig      the testbed student: tasks, warm start, model, SFT and GRPO (trainers' own configs)
      hard_set    HardSetConfig      the fail@K filter that builds the problems the student cannot solve
      teacher     TeacherConfig      the question writer: its model, its pretraining grammar, its RLOO update
      inner       InnerLoopConfig    the short student RL runs that measure a question set
      outer       OuterLoopConfig    SOAR's Algorithm 1: sets per step, reward, promotion
      evaluation  EvaluationConfig   the fresh-student protocol (PQ) and pass@k on the hard test set

Defaults are the paper's (Sundaram et al., ICML 2026, Table 3 and App. B.7) scaled to the 0.1M-parameter testbed
student; where a value is scaled, its help says what the paper used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from autocurriculum.core import build_config, config_section, merge_values, option, require
from autocurriculum.experiments.config import (
    TESTBED_TRAINER_DEFAULTS,
    TestbedConfig,
    WarmStartConfig,
    testbed_trainer_section,
)
from autocurriculum.trainers import GRPOConfig, SFTConfig, TinyGPTConfig

# The op_chain SOAR teaches: the testbed's chains, padded with '..' (the family's own default filler), spelled
# exactly as the shipped dots base students were keyed, so the student's warm start is one of them.
DOTS_OP_CHAIN: Mapping[str, Any] = {"max_length": 10, "operators": "+-"}

REWARDS = ("grounded", "intrinsic")
REWARD_METRICS = ("greedy", "sampled")
SCORINGS = ("trace", "final")
PRETRAIN_ANSWERS = ("self", "grammar")


@dataclass
class StudentConfig:
    """The student SOAR teaches: the testbed student on `dots` op_chain (docs/testbed.md), warmed up on levels 1-4."""

    seed: int = option(
        0,
        "Seed of the base model (the student's warm start) and of its fail@K hard set. Every teacher seed teaches "
        "this same student, as the paper's teacher seeds share one base model.",
    )
    testbed: TestbedConfig = field(
        default_factory=lambda: TestbedConfig(task_options={"op_chain": dict(DOTS_OP_CHAIN)}),
        metadata={
            "help": "Task family, device and warm-start cache of the testbed. op_chain keeps the '..' filler "
            "(the testbed's default pads with digits), which the question grammar parses."
        },
    )
    warm_start: WarmStartConfig = option(WarmStartConfig, "Demonstrations and steps of the SFT warm start.")
    model: TinyGPTConfig = testbed_trainer_section(
        "model", "The student (TinyGPTConfig); vocab_size and max_seq_len are derived by the testbed."
    )
    sft: SFTConfig = testbed_trainer_section("sft", "Optimizer of the SFT warm start (SFTConfig).")
    grpo: GRPOConfig = testbed_trainer_section(
        "grpo",
        "The student's GRPO update in the inner loop and in evaluation (paper: RLOO, lr 1e-5, group 32, "
        "KL 0.001; the testbed student is calibrated at 3e-4, group 8, no KL). max_new_tokens is derived.",
    )

    format_credit: float = option(
        0.0,
        "Training reward of a well-formed but wrong completion (one state per operation, '|', a digit), as a share "
        "of a solved one's 1.0; 0 is a binary reward. The paper's student reward (Math-Verify) pays 120 for a "
        "right boxed answer, 20 for an unverified one that contains it, 10 for a wrong boxed one and 0 without a "
        "box: 10/120 = 0.083 (its 20 tier has no counterpart here: a well-formed op_chain answer always parses). It "
        "applies to every student RL run (inner runs, probes, evaluation, Hard-Only), never to what is measured "
        "(rewards on Q_R, pass@k, fail@K, the intrinsic success rate), and lets a question with a wrong answer still "
        "teach the shape of a solution (docs/soar.md, round 8).",
    )

    def validate(self) -> None:
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        require(0.0 <= self.format_credit < 1.0, "format_credit", f"must lie in [0, 1), got {self.format_credit}")
        for name in ("testbed", "warm_start", "model", "sft", "grpo"):
            with config_section(name):
                getattr(self, name).validate()
        require(
            len(self.testbed.tasks) == 1, "testbed.tasks", f"SOAR teaches one task family, got {self.testbed.tasks}"
        )


@dataclass
class HardSetConfig:
    """Problems the warm-started student cannot solve: fail@K at temperature 1 on levels beyond its reach."""

    levels: list[int] = option(
        [8, 9, 10],
        "Levels the candidate problems come from (the warm start demonstrates 1-4). At 8-10, RL on the hard set "
        "alone stays at 0 (docs/soar.md); at 7-10 it sometimes escapes by itself.",
    )
    candidates_per_level: int = option(128, "Candidate problems generated per level before filtering.")
    fail_at_k: int = option(
        128, "Samples per candidate at `temperature`; a candidate is hard when all of them fail (paper: fail@128)."
    )
    temperature: float = option(1.0, "Sampling temperature of the filter (paper: 1.0).")
    test_fraction: float = option(
        0.5, "Share of the hard problems held out as the test set the teacher never influences (paper: 50/50)."
    )
    scoring: str = option(
        "trace",
        "'trace': a completion solves a problem only if its whole scratchpad (every state and the answer) is right; "
        "'final': the verified final answer alone. op_chain's answer is one digit mod 10, so a guess passes one "
        "time in ten and no problem survives fail@128 under 'final'; real math answers are not guessable.",
    )

    def validate(self) -> None:
        require(len(self.levels) > 0, "levels", "name at least one level")
        require(all(level >= 1 for level in self.levels), "levels", f"must be >= 1, got {self.levels}")
        require(
            self.candidates_per_level >= 2, "candidates_per_level", f"must be >= 2, got {self.candidates_per_level}"
        )
        require(self.fail_at_k >= 1, "fail_at_k", f"must be >= 1, got {self.fail_at_k}")
        require(self.temperature > 0, "temperature", f"must be positive, got {self.temperature}")
        require(0 < self.test_fraction < 1, "test_fraction", f"must lie in (0, 1), got {self.test_fraction}")
        require(self.scoring in SCORINGS, "scoring", f"must be one of {SCORINGS}, got {self.scoring!r}")


@dataclass
class GrammarConfig:
    """The broad, noisy question grammar the teacher learns to write from (any level, broader operators, nonsense)."""

    max_level: int = option(10, "Longest chain in the pretraining questions (levels 1..max_level, uniformly).")
    operators: str = option("+-*", "Operators of the pretraining questions (broader than the student's '+-').")
    malformed_fraction: float = option(
        0.1, "Share of pretraining strings broken on purpose (missing '=', wrong padding, no answer, doubled ops)."
    )
    wrong_solution_fraction: float = option(
        0.3,
        "Share of the grammar's own solutions with a slip: one state off and the later steps computed from it (under "
        "'+' and '-' a wrong answer). Used only with teacher.pretrain_answers = 'grammar'; 0.3 leaves 70% right.",
    )

    def validate(self) -> None:
        require(self.max_level >= 1, "max_level", f"must be >= 1, got {self.max_level}")
        require(
            len(self.operators) > 0 and set(self.operators) <= set("+-*"),
            "operators",
            f"must be a non-empty subset of '+-*', got {self.operators!r}",
        )
        require(
            0.0 <= self.malformed_fraction < 1.0,
            "malformed_fraction",
            f"must lie in [0, 1), got {self.malformed_fraction}",
        )
        require(
            0.0 <= self.wrong_solution_fraction <= 1.0,
            "wrong_solution_fraction",
            f"must lie in [0, 1], got {self.wrong_solution_fraction}",
        )


@dataclass
class TeacherConfig:
    """The question writer: a copy of the warm-started student (the paper's teacher starts from the base model; with
    ``solver_steps`` > 0, a control, from that student after practice on real problems), taught to write questions
    from the grammar, then RLOO-trained by the outer loop."""

    grammar: GrammarConfig = option(GrammarConfig, "The question grammar of the teacher's pretraining.")
    pretrain: SFTConfig = option(
        SFTConfig,
        "Optimizer of the question-writing SFT (SFTConfig, default learning rate 1e-3); the loss covers the question "
        "and the solution after it (pretrain_answers).",
    )
    pretrain_steps: int = option(300, "SFT steps teaching the teacher to write questions (0: it never learns to).")
    pretrain_examples: int = option(20_000, "Grammar questions drawn for that SFT.")
    pretrain_answers: str = option(
        "self",
        "What follows each grammar question in that SFT. 'self' (the paper: teacher and student are copies of one "
        "base model): the base student's own sampled solution, so the teacher's answers stay as good, and as wrong, "
        "as the base model's. 'grammar' (the issue's and the T3 design's teacher, 'pretrained on a broad, noisy "
        "problem grammar'): the grammar's own solution, grammar.wrong_solution_fraction of them with a slip, so the "
        "teacher learns to solve from the grammar as a pretrained LM learns from its corpus, and can know more than "
        "the student (docs/soar.md, round 9).",
    )
    learning_rate: float = option(
        1e-4, "AdamW learning rate of the RLOO update (paper: 1e-5, the student's rate; swept 1e-6 to 5e-5)."
    )
    kl_coef: float = option(1e-3, "Weight of the k3 KL penalty to the pretrained teacher (paper: 0.001).")
    temperature: float = option(1.0, "Sampling temperature of the teacher, question and answer (paper: 1.0).")
    max_resample_rounds: int = option(
        8, "Rounds of resampling malformed rollouts before a step is skipped for lack of well-formed questions."
    )
    answer_scoring: str = option(
        "final",
        "How a student's completion of a question (the teacher's or the oracle curriculum's) is scored. 'final': its "
        "final answer against the question's answer, as the paper scores the student against the teacher's boxed "
        "answer. 'trace': it must equal the whole written solution, scratchpad and answer (the teacher's own, "
        "unverified). op_chain's answer is one digit, so under 'final' a wrong answer rewards one guess in ten and "
        "teaches a wrong step; a wrong MATH answer is matched by almost no sample (docs/soar.md, round 6).",
    )

    solver_steps: int = option(
        0,
        "A control outside the paper; 0 (the paper): the teacher starts from the base student. Otherwise the copy "
        "the teacher starts from first gets this many GRPO steps on real problems of the oracle curriculum's levels "
        "(true solutions, scored by answer_scoring), so it solves those levels better than the student does; the "
        "student, hard set and evaluation are unchanged. It tells whether the loop promotes and PQ helps when the "
        "teacher's answers are right past the student's frontier (docs/soar.md, round 7).",
    )

    def validate(self) -> None:
        for name in ("grammar", "pretrain"):
            with config_section(name):
                getattr(self, name).validate()
        require(self.pretrain_steps >= 0, "pretrain_steps", f"must be >= 0, got {self.pretrain_steps}")
        require(self.solver_steps >= 0, "solver_steps", f"must be >= 0, got {self.solver_steps}")
        require(self.pretrain_examples >= 1, "pretrain_examples", f"must be >= 1, got {self.pretrain_examples}")
        require(
            self.pretrain_answers in PRETRAIN_ANSWERS,
            "pretrain_answers",
            f"must be one of {PRETRAIN_ANSWERS}, got {self.pretrain_answers!r}",
        )
        require(
            self.learning_rate >= 0,
            "learning_rate",
            f"must be >= 0 (0 freezes the teacher), got {self.learning_rate}",
        )
        require(self.kl_coef >= 0, "kl_coef", f"must be >= 0, got {self.kl_coef}")
        require(self.temperature > 0, "temperature", f"must be positive, got {self.temperature}")
        require(self.max_resample_rounds >= 1, "max_resample_rounds", f"must be >= 1, got {self.max_resample_rounds}")
        require(
            self.answer_scoring in SCORINGS, "answer_scoring", f"must be one of {SCORINGS}, got {self.answer_scoring!r}"
        )


@dataclass
class InnerLoopConfig:
    """One short GRPO run of the student on a question set, from the current baseline (its reward is the gain)."""

    steps: int = option(10, "GRPO steps per inner run (paper: 10).")
    steps_after_promotion: int = option(5, "Extra steps once the student has been promoted at least once (paper: +5).")
    prompts_per_step: int = option(8, "Questions per GRPO step (paper: batch 8).")
    runs: int = option(2, "Inner runs r per set; the set's reward is their mean (paper: r = 4).")
    probe_steps: int = option(
        0,
        "Not in the paper (0 = the paper's reward). GRPO steps on the reward questions Q_R after each inner run, "
        "and from the baseline alike, before Q_R is measured: the reward becomes what the set unlocks for RL on the "
        "hard problems (the gain over the baseline after the same probe). The probe only measures; a promoted "
        "student is the one before it. On the testbed the immediate gain of a 10-step run is 0-2 problems of 64 "
        "even for real stepping stones; a 20-step probe lifts it about 7x and ranks the teacher's sets "
        "(docs/soar.md, round 4).",
    )

    def validate(self) -> None:
        require(self.steps >= 1, "steps", f"must be >= 1, got {self.steps}")
        require(self.probe_steps >= 0, "probe_steps", f"must be >= 0, got {self.probe_steps}")
        require(
            self.steps_after_promotion >= 0, "steps_after_promotion", f"must be >= 0, got {self.steps_after_promotion}"
        )
        require(self.prompts_per_step >= 1, "prompts_per_step", f"must be >= 1, got {self.prompts_per_step}")
        require(self.runs >= 1, "runs", f"must be >= 1, got {self.runs}")


@dataclass
class OuterLoopConfig:
    """SOAR's Algorithm 1: g sets of n questions per step, each rewarded, the teacher RLOO-updated, promotions."""

    steps: int = option(40, "Outer steps T (paper: up to 200).")
    sets_per_step: int = option(4, "Question sets g sampled per step: the teacher's RLOO group (paper: g = 4).")
    questions_per_set: int = option(32, "Questions n per set (paper: n = 64).")
    reward_questions: int = option(64, "Hard training problems |Q_R| drawn per step to measure the gain (paper: 64).")
    reward: str = option(
        "grounded",
        "'grounded': the student's greedy-accuracy gain on Q_R after inner runs on the set (SOAR); 'intrinsic': "
        "learnability of the set's questions, r_i = 0 if the student's success rate on question i is 0, else "
        "1 - rate (Intrinsic-T); 'none': the teacher is never updated (Base-T).",
    )
    reward_metric: str = option(
        "greedy",
        "How the grounded reward measures the student on Q_R: 'greedy' accuracy (the paper) or 'sampled', the "
        "success rate of reward_samples samples at temperature 1 per problem. On the testbed a 10-step inner run "
        "rarely flips a greedy answer on the hard set (docs/soar.md), while any sampled success is what makes the "
        "hard set learnable afterwards.",
    )
    reward_samples: int = option(8, "Samples per reward question for reward_metric='sampled'.")
    intrinsic_samples: int = option(32, "Student samples per question for the intrinsic reward (paper: 32).")
    promotion_threshold: float = option(
        0.01, "tau: promote when the moving average of the step's mean set reward exceeds it (paper: 0.01)."
    )
    moving_average_window: int = option(3, "Steps in the moving average of the promotion rule (paper: 3).")

    def validate(self) -> None:
        require(self.steps >= 1, "steps", f"must be >= 1, got {self.steps}")
        require(self.sets_per_step >= 2, "sets_per_step", f"RLOO needs at least 2 sets, got {self.sets_per_step}")
        require(self.questions_per_set >= 1, "questions_per_set", f"must be >= 1, got {self.questions_per_set}")
        require(self.reward_questions >= 1, "reward_questions", f"must be >= 1, got {self.reward_questions}")
        require(self.reward in REWARDS, "reward", f"must be one of {REWARDS}, got {self.reward!r}")
        require(
            self.reward_metric in REWARD_METRICS,
            "reward_metric",
            f"must be one of {REWARD_METRICS}, got {self.reward_metric!r}",
        )
        require(self.reward_samples >= 1, "reward_samples", f"must be >= 1, got {self.reward_samples}")
        require(self.intrinsic_samples >= 1, "intrinsic_samples", f"must be >= 1, got {self.intrinsic_samples}")
        require(
            self.moving_average_window >= 1, "moving_average_window", f"must be >= 1, got {self.moving_average_window}"
        )


@dataclass
class EvaluationConfig:
    """The paper's fresh-student protocol: RL on a question set, then on the hard training set; pass@k on hard test."""

    synthetic_steps: int = option(
        64, "GRPO steps on the synthetic questions first ('curriculum' mode, paper: 64), then hard_steps."
    )
    hard_steps: int = option(100, "GRPO steps on the hard training set (paper: up to 1,500 with early stopping).")
    prompts_per_step: int = option(8, "Prompts per GRPO step (paper: batch 8).")
    samples: int = option(32, "Samples per hard test problem for pass@k at temperature 1 (paper: 32).")
    pass_at: list[int] = option([1, 8, 32], "k of the reported pass@k (each at most `samples`).")
    sampled_questions: int = option(
        128, "Questions sampled from a trained (or untrained) teacher for its arm (paper: 128 sampled questions)."
    )
    student_seeds: int = option(
        3,
        "Fresh students per arm and teacher seed, their scores averaged (paper: 6-9 nested student seeds). One "
        "student's escape from zero reward is a chance event, so a single one says little.",
    )

    def validate(self) -> None:
        require(self.synthetic_steps >= 0, "synthetic_steps", f"must be >= 0, got {self.synthetic_steps}")
        require(self.hard_steps >= 0, "hard_steps", f"must be >= 0, got {self.hard_steps}")
        require(self.prompts_per_step >= 1, "prompts_per_step", f"must be >= 1, got {self.prompts_per_step}")
        require(self.samples >= 1, "samples", f"must be >= 1, got {self.samples}")
        require(
            len(self.pass_at) > 0 and all(1 <= k <= self.samples for k in self.pass_at),
            "pass_at",
            f"every k must lie in [1, samples={self.samples}], got {self.pass_at}",
        )
        require(self.sampled_questions >= 1, "sampled_questions", f"must be >= 1, got {self.sampled_questions}")
        require(self.student_seeds >= 1, "student_seeds", f"must be >= 1, got {self.student_seeds}")


@dataclass
class SOARConfig:
    """One SOAR run: a teacher seed, the student it teaches and every stage's settings."""

    seed: int = option(
        0,
        "Teacher seed: the teacher's pretraining and sampling, the reward questions, the inner runs and the fresh "
        "students of the evaluation (the base student and the hard set have their own: student.seed).",
    )
    student: StudentConfig = option(StudentConfig, "The student and its trainers.")
    hard_set: HardSetConfig = option(HardSetConfig, "How the hard problems are found and split.")
    teacher: TeacherConfig = option(TeacherConfig, "The question writer.")
    inner: InnerLoopConfig = option(InnerLoopConfig, "The short student runs that measure a set.")
    outer: OuterLoopConfig = option(OuterLoopConfig, "Algorithm 1.")
    evaluation: EvaluationConfig = option(EvaluationConfig, "Fresh-student evaluation and pass@k.")

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        require(self.seed >= 0, "seed", f"must be >= 0, got {self.seed}")
        for name in ("student", "hard_set", "teacher", "inner", "outer", "evaluation"):
            with config_section(name):
                getattr(self, name).validate()

    @classmethod
    def from_values(cls, values: Mapping[str, Any] | None = None, source: str = "soar config") -> SOARConfig:
        """Build from a mapping (YAML/JSON); trainer sections start from the testbed's calibrated values and
        op_chain from ``DOTS_OP_CHAIN``."""
        student = {name: dict(TESTBED_TRAINER_DEFAULTS[name]) for name in ("model", "sft", "grpo")}
        student["testbed"] = {"task_options": {"op_chain": dict(DOTS_OP_CHAIN)}}
        defaults = {"student": student}
        return build_config(cls, merge_values(defaults, values or {}), source=source)


# Every stage at seconds scale: the quick run (`soar run --quick`) and the tests exercise the whole loop with it.
QUICK_OVERRIDES: dict[str, Any] = {
    "hard_set": {"candidates_per_level": 32, "fail_at_k": 16},
    "teacher": {"pretrain_steps": 150, "pretrain_examples": 4_000},
    "inner": {"steps": 3, "steps_after_promotion": 1, "prompts_per_step": 4, "runs": 2},
    "outer": {"steps": 4, "sets_per_step": 2, "questions_per_set": 8, "reward_questions": 16, "intrinsic_samples": 8},
    "evaluation": {
        "synthetic_steps": 4,
        "hard_steps": 4,
        "prompts_per_step": 4,
        "samples": 8,
        "pass_at": [1, 8],
        "sampled_questions": 16,
        "student_seeds": 1,
    },
}
