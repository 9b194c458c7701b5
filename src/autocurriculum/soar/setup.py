"""What every SOAR arm starts from, for one seed: the testbed, the warm-started student, the hard set, the teacher."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from autocurriculum.core import ConfigError, Task, derive_seed
from autocurriculum.core.config import config_section
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.experiments.warm_start import warm_start
from autocurriculum.soar.config import SOARConfig
from autocurriculum.soar.grammar import QuestionFormat
from autocurriculum.soar.hard_set import HardSet, build_hard_set
from autocurriculum.soar.student import (
    RewardFn,
    hard_problem_reward,
    question_reward,
    trained_copy,
    with_format_credit,
)
from autocurriculum.soar.teacher import TinyQuestionTeacher
from autocurriculum.tasks.op_chain import OpChainConfig
from autocurriculum.trainers import TinyGPT

SOLVER_SEED_STREAM = 7  # derive_seed stream of the teacher's solver head start (teacher.solver_steps)


@dataclass
class SOARSetup:
    config: SOARConfig
    testbed: Testbed
    student: TinyGPT  # the warm-started student (never trained in place: arms copy it)
    hard_set: HardSet
    question_format: QuestionFormat

    @property
    def family_config(self) -> OpChainConfig:
        config = self.testbed.families[0].config
        assert isinstance(config, OpChainConfig)
        return config

    def fresh_student(self) -> TinyGPT:
        return copy.deepcopy(self.student)

    def question_training_reward(self) -> RewardFn:
        """What a student's RL run on questions is rewarded with: ``teacher.answer_scoring``, plus
        ``student.format_credit`` for a well-formed wrong attempt."""
        success = question_reward(self.testbed, self.config.teacher.answer_scoring)
        return with_format_credit(success, self.question_format, self.config.student.format_credit)

    def hard_training_reward(self) -> RewardFn:
        """What a student's RL run on hard problems is rewarded with: ``hard_set.scoring``, plus the format credit."""
        success = hard_problem_reward(self.testbed, self.config.hard_set.scoring)
        return with_format_credit(success, self.question_format, self.config.student.format_credit)

    def oracle_tasks(self, count: int) -> list[Task]:
        """Real problems, with true answers, of the levels between the warm start and the hard set."""
        family = self.testbed.families[0]
        low = self.config.student.warm_start.max_level + 1
        high = min(self.config.hard_set.levels) - 1
        levels = [lv for lv in family.levels if low <= lv <= high] or [min(self.config.hard_set.levels)]
        return [family.generate(levels[i % len(levels)], 9_000_000 + i) for i in range(count)]

    def teacher_start(self) -> TinyGPT:
        """What the teacher is a copy of: the base student, or (``teacher.solver_steps`` > 0, a control outside the
        paper) the base student after that many GRPO steps on the oracle curriculum's problems."""
        steps = self.config.teacher.solver_steps
        if steps == 0:
            return self.student
        evaluation = self.config.evaluation
        model, _ = trained_copy(
            self.student,
            self.testbed,
            self.config.student.grpo,
            self.oracle_tasks(evaluation.sampled_questions),
            steps,
            evaluation.prompts_per_step,
            self.question_training_reward(),
            derive_seed(self.config.seed, SOLVER_SEED_STREAM),
        )
        return model

    def pretrained_teacher(self, progress: bool = False) -> TinyQuestionTeacher:
        teacher = TinyQuestionTeacher(
            self.config.teacher,
            self.family_config,
            self.teacher_start(),
            self.testbed.tokenizer,
            self.testbed.max_new_tokens,
            self.config.seed,
        )
        teacher.pretrain(progress=progress)
        return teacher


def build_setup(config: SOARConfig, progress: bool = False) -> SOARSetup:
    """The testbed of the base student (``student.seed``), its warm start (cached like the testbed's) and its fail@K
    hard set; the same for every teacher seed."""
    student = config.student
    testbed = Testbed(student.testbed, student.seed, model=student.model, warm_start=student.warm_start)
    family = testbed.families[0]
    if not isinstance(family.config, OpChainConfig):
        raise ConfigError(
            f"student.testbed.tasks: SOAR's teacher writes op_chain questions, got family {family.name!r}"
        )
    with config_section(f"student.testbed.task_options.{family.name}"):  # before the warm start, which takes minutes
        question_format = QuestionFormat.for_teacher(family.config, config.teacher)
    model, _ = warm_start(testbed, student.sft, progress=progress)
    hard = build_hard_set(model, testbed, config.hard_set, student.seed)
    return SOARSetup(config, testbed, model, hard, question_format)
