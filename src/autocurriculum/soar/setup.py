"""What every SOAR arm starts from, for one seed: the testbed, the warm-started student, the hard set, the teacher."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from autocurriculum.core import ConfigError
from autocurriculum.core.config import config_section
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.experiments.warm_start import warm_start
from autocurriculum.soar.config import SOARConfig
from autocurriculum.soar.grammar import QuestionFormat
from autocurriculum.soar.hard_set import HardSet, build_hard_set
from autocurriculum.soar.teacher import TinyQuestionTeacher
from autocurriculum.tasks.op_chain import OpChainConfig
from autocurriculum.trainers import TinyGPT


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

    def pretrained_teacher(self, progress: bool = False) -> TinyQuestionTeacher:
        teacher = TinyQuestionTeacher(
            self.config.teacher,
            self.family_config,
            self.student,
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
