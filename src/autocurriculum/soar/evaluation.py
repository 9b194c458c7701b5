"""The paper's evaluation: a *fresh* student trained on a question set, then on the hard training set (PQ protocol,
'curriculum' mode), and pass@k on the hard *test* set from ``evaluation.samples`` samples at temperature 1.

Every arm gets the same student budget: ``synthetic_steps + hard_steps`` GRPO steps of ``prompts_per_step`` prompts
x ``grpo.group_size`` rollouts. An arm without questions (Hard-Only) spends all of its steps on the hard set.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from autocurriculum.core import Task
from autocurriculum.soar.grammar import ParsedQuestion
from autocurriculum.soar.questions import diversity_bits, question_vendi
from autocurriculum.soar.setup import SOARSetup
from autocurriculum.soar.student import (
    greedy_accuracy,
    grpo_run,
    hard_problem_reward,
    mean_pass_at_k,
    success_counts,
)
from autocurriculum.tasks.op_chain import SEPARATOR
from autocurriculum.trainers import TinyGPT


def hard_test_scores(setup: SOARSetup, model: TinyGPT, seed: int) -> dict[str, float]:
    """pass@k on the hard test set and greedy accuracy on the hard training set."""
    evaluation, testbed = setup.config.evaluation, setup.testbed
    reward = hard_problem_reward(testbed, setup.config.hard_set.scoring)
    generator = torch.Generator(device=testbed.device).manual_seed(seed * 104_729 + 99)
    counts = success_counts(model, testbed, setup.hard_set.test, evaluation.samples, 1.0, reward, generator)
    return {
        **mean_pass_at_k(counts, evaluation.samples, evaluation.pass_at),
        "hard_train_greedy": greedy_accuracy(model, testbed, setup.hard_set.train, reward),
        "hard_test_solved": int((counts > 0).sum()),
    }


def evaluate_question_set(
    setup: SOARSetup,
    questions: Sequence[ParsedQuestion] | None,
    seed: int,
    real_tasks: Sequence[Task] | None = None,
    group_multiplier: int = 1,
) -> dict[str, Any]:
    """``evaluation.student_seeds`` fresh students, each ``synthetic_steps`` on the questions (or ``real_tasks``)
    then on the hard training set; their scores averaged (``per_student`` keeps each).

    ``questions is None and real_tasks is None`` is Hard-Only: every step on the hard set. ``group_multiplier``
    scales the group size (Hard-Only's 4x-compute variant).
    """
    start = time.perf_counter()
    runs = [
        _fresh_student(setup, questions, seed * 1_000 + s, real_tasks, group_multiplier)
        for s in range(setup.config.evaluation.student_seeds)
    ]
    averaged: dict[str, Any] = {
        key: float(np.mean([r[key] for r in runs])) for key in runs[0] if isinstance(runs[0][key], (int, float))
    }
    averaged["student_rollouts"] = int(runs[0]["student_rollouts"])  # per student
    averaged["questions"] = runs[0]["questions"]
    averaged["diversity_bits"] = diversity_bits(questions) if questions else None
    averaged["vendi_score"] = question_vendi(questions) if questions else None
    averaged["per_student"] = runs
    averaged["seconds"] = time.perf_counter() - start
    return averaged


def _fresh_student(
    setup: SOARSetup,
    questions: Sequence[ParsedQuestion] | None,
    seed: int,
    real_tasks: Sequence[Task] | None,
    group_multiplier: int,
) -> dict[str, Any]:
    config, testbed = setup.config, setup.testbed
    evaluation = config.evaluation
    grpo = dataclasses.replace(config.student.grpo, group_size=config.student.grpo.group_size * group_multiplier)
    model = setup.fresh_student()
    family = testbed.families[0].name
    first: list[Task] = list(real_tasks) if real_tasks is not None else [q.task(family) for q in questions or []]
    hard_steps = evaluation.hard_steps + (0 if first else evaluation.synthetic_steps)
    phase_one = grpo_run(
        model,
        testbed,
        grpo,
        first,
        evaluation.synthetic_steps if first else 0,
        evaluation.prompts_per_step,
        setup.question_training_reward(),
        seed=seed * 31 + 1,
    )
    phase_two = grpo_run(
        model,
        testbed,
        grpo,
        setup.hard_set.train,
        hard_steps,
        evaluation.prompts_per_step,
        setup.hard_training_reward(),
        seed=seed * 31 + 2,
    )
    return {
        **hard_test_scores(setup, model, seed),
        "questions": len(first),
        "student_rollouts": phase_one.rollouts + phase_two.rollouts,
        "hard_phase_zero_variance": phase_two.zero_variance_fraction,
    }


def corrupt_answers(
    questions: Sequence[ParsedQuestion], fraction: float, modulus: int, seed: int
) -> list[ParsedQuestion]:
    """A copy with ``fraction`` of the answers replaced by a different random digit (the structure-vs-correctness
    study: do the questions teach through their shape or through their answers?)."""
    rng = np.random.default_rng([seed, 6060])
    out = list(questions)
    chosen = rng.choice(len(out), size=round(fraction * len(out)), replace=False) if out else []
    for i in chosen:
        q = out[int(i)]
        wrong = str((int(q.answer) + int(rng.integers(1, modulus))) % modulus)
        # a written solution keeps its scratchpad and ends in the corrupted answer
        solution = None if q.solution is None else q.solution.rpartition(SEPARATOR)[0] + SEPARATOR + wrong
        out[int(i)] = dataclasses.replace(q, answer=wrong, solution=solution)
    return out
