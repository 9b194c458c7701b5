"""SOAR's outer loop (Algorithm 1 of Sundaram et al.), read top to bottom in ``SOARLoop.step``.

Each outer step t:
  1. the teacher writes g x n well-formed question-answer pairs (malformed rollouts are resampled), split into g sets;
  2. |Q_R| reward questions are drawn from the hard *training* split;
  3. each set gets a reward: 'grounded' = mean over r short GRPO runs of the student, each from the current
     baseline, of the greedy-accuracy gain on Q_R; 'intrinsic' = the set's mean learnability under the baseline;
  4. the teacher takes one RLOO step, every rollout of set k carrying A_k = R_k - mean of the other sets;
  5. (grounded) when the moving average of the step's mean reward exceeds tau, the best set is promoted: the
     baseline becomes that set's median-reward student and the set joins the promoted questions.

Every random draw is seeded from (seed, t, ...), so a loop saved after step t and resumed continues identically.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autocurriculum.core import derive_seed
from autocurriculum.core.errors import StateFormatError
from autocurriculum.soar.config import SOARConfig
from autocurriculum.soar.grammar import ParsedQuestion, QuestionFormat
from autocurriculum.soar.promotion import PromotionRule
from autocurriculum.soar.questions import diversity_bits, question_vendi
from autocurriculum.soar.rloo import rloo_advantages
from autocurriculum.soar.setup import SOARSetup
from autocurriculum.soar.student import (
    greedy_accuracy,
    hard_problem_reward,
    question_reward,
    success_counts,
    trained_copy,
)
from autocurriculum.soar.teacher import QuestionTeacher, TeacherRollout
from autocurriculum.trainers import TinyGPT

STATE_FORMAT = 1


class TeacherWroteNothing(UserWarning):
    """A whole outer step without enough well-formed questions: the step is skipped and counted."""


def learnability(success_rates: np.ndarray) -> np.ndarray:
    """Intrinsic-T's per-question reward: 0 where the student never succeeds, else 1 - its success rate."""
    rates = np.asarray(success_rates, dtype=np.float64)
    return np.where(rates == 0, 0.0, 1.0 - rates)


def median_run(rewards: list[float]) -> int:
    """Index of the median-reward run (the lower median for an even count)."""
    order = np.argsort(np.asarray(rewards), kind="stable")
    return int(order[(len(rewards) - 1) // 2])


def write_well_formed(
    teacher: QuestionTeacher,
    question_format: QuestionFormat,
    needed: int,
    seed_parts: tuple[int, ...],
    rounds: int,
) -> tuple[list[TeacherRollout], list[ParsedQuestion], int, int]:
    """Sample until ``needed`` rollouts pass the format filter or ``rounds`` run out.

    Returns (kept rollouts, their questions, rollouts written, well-formed among them). Malformed ones are dropped,
    which leaves the RLOO gradient unbiased (``rloo.py``). Each round asks for twice what is missing, since a
    teacher early in training writes many malformed ones.
    """
    kept_rollouts: list[TeacherRollout] = []
    kept: list[ParsedQuestion] = []
    written = well_formed = 0
    for round_index in range(rounds):
        missing = needed - len(kept)
        if missing <= 0:
            break
        for rollout in teacher.write(2 * missing, derive_seed(*seed_parts, round_index)):
            written += 1
            parsed = question_format.parse(rollout.question, rollout.answer_text)
            well_formed += parsed is not None
            if parsed is not None and len(kept) < needed:
                kept_rollouts.append(rollout)
                kept.append(parsed)
    return kept_rollouts, kept, written, well_formed


class SOARLoop:
    """The outer loop over one setup and one teacher; ``run`` to the end, ``save``/``load`` to resume."""

    def __init__(self, setup: SOARSetup, teacher: QuestionTeacher) -> None:
        self.setup = setup
        self.config: SOARConfig = setup.config
        self.teacher = teacher
        self.baseline: TinyGPT = setup.fresh_student()
        self.rule = PromotionRule(self.config.outer.promotion_threshold, self.config.outer.moving_average_window)
        self.promoted: list[ParsedQuestion] = []
        self.history: list[dict[str, Any]] = []
        self.step_index = 0
        self.promotions = 0
        self.skipped_steps = 0
        self.student_rollouts = 0  # every inner-run and intrinsic-reward student rollout
        self._hard_reward = hard_problem_reward(setup.testbed, self.config.hard_set.scoring)
        self._question_reward = question_reward(setup.testbed, self.config.teacher.answer_scoring)
        self._question_training_reward = setup.question_training_reward()
        self._hard_training_reward = setup.hard_training_reward()

    # ----- the loop -----
    def run(self, on_step: Callable[[dict[str, Any]], None] | None = None, checkpoint: Path | None = None) -> None:
        while self.step_index < self.config.outer.steps:
            record = self.step()
            if checkpoint is not None:
                self.save(checkpoint)
            if on_step is not None:
                on_step(record)

    def step(self) -> dict[str, Any]:
        """One outer step; returns (and appends to ``history``) its record."""
        outer, t, start = self.config.outer, self.step_index, time.perf_counter()
        # 1. the teacher writes g sets of n well-formed questions
        needed = outer.sets_per_step * outer.questions_per_set
        rollouts, questions, written, well_formed = self._write_questions(needed, t)
        if len(questions) < needed:
            self.skipped_steps += 1
            warnings.warn(
                f"SOAR step {t}: the teacher wrote {len(questions)} well-formed questions of the {needed} needed "
                f"in {written} rollouts ({self.config.teacher.max_resample_rounds} rounds); step skipped "
                f"({self.skipped_steps} so far)",
                TeacherWroteNothing,
                stacklevel=2,
            )
            record = {"step": t, "skipped": True, "written": written, "well_formed": len(questions)}
            return self._finish(record, start)
        n = outer.questions_per_set
        sets = [questions[k * n : (k + 1) * n] for k in range(outer.sets_per_step)]
        # 2. reward questions from the hard training split (never the test split)
        train = self.setup.hard_set.train
        rng = np.random.default_rng(derive_seed(self.config.seed, t, 2))
        reward_rows = rng.choice(len(train), size=min(outer.reward_questions, len(train)), replace=False)
        reward_questions = [train[int(r)] for r in reward_rows]
        # 3. one reward per set
        if outer.reward == "grounded":
            rewards, runs, baseline_accuracy = self._grounded_rewards(sets, reward_questions, t)
        else:
            rewards, runs, baseline_accuracy = self._intrinsic_rewards(sets, t), None, None
        # 4. the teacher's RLOO step: every rollout of set k carries set k's advantage
        advantages = rloo_advantages(rewards)
        teacher_stats: dict[str, float] = {}
        if self.teacher.trainable:
            per_rollout = np.repeat(advantages, n)
            teacher_stats = self.teacher.update(rollouts, per_rollout)
        # 5. promotion (grounded only: the intrinsic reward is not a gain over the baseline)
        step_reward = float(np.mean(rewards))
        average, promote = self.rule.observe(step_reward)
        promoted_set = None
        if promote and runs is not None:
            best = int(np.argmax(rewards))
            chosen = median_run(runs[best][1])
            self.baseline = runs[best][0][chosen]
            self.promoted.extend(sets[best])
            self.promotions += 1
            self.rule.reset()
            promoted_set = best
        correct = [self.setup.question_format.true_answer(q) == q.answer for q in questions]
        record = {
            "step": t,
            "skipped": False,
            "written": written,
            "well_formed": len(questions),
            "well_formed_fraction": well_formed / written,
            "set_rewards": [float(r) for r in rewards],
            "advantages": [float(a) for a in advantages],
            "mean_reward": step_reward,
            "moving_average": average,
            "promoted_set": promoted_set,
            "promotions": self.promotions,
            "baseline_accuracy": baseline_accuracy,
            "diversity_bits": diversity_bits(questions),
            "vendi_score": question_vendi(questions),
            "mean_level": float(np.mean([q.level for q in questions])),
            "answer_correct_fraction": float(np.mean(correct)),
            "student_rollouts": self.student_rollouts,
            **{f"teacher/{k}": v for k, v in teacher_stats.items()},
        }
        return self._finish(record, start)

    def _finish(self, record: dict[str, Any], start: float) -> dict[str, Any]:
        record["seconds"] = time.perf_counter() - start
        self.history.append(record)
        self.step_index += 1
        return record

    def _write_questions(self, needed: int, t: int) -> tuple[list[TeacherRollout], list[ParsedQuestion], int, int]:
        return write_well_formed(
            self.teacher,
            self.setup.question_format,
            needed,
            (self.config.seed, t, 1),
            self.config.teacher.max_resample_rounds,
        )

    def _grounded_rewards(
        self, sets: list[list[ParsedQuestion]], reward_questions: list[Any], t: int
    ) -> tuple[np.ndarray, list[tuple[list[TinyGPT], list[float]]], float]:
        """R_k = mean_j [Acc(theta'_kj, Q_R) - Acc(theta, Q_R)], theta'_kj = a short GRPO run on set k.

        With ``inner.probe_steps`` > 0 both sides are measured after that many GRPO steps on Q_R (run j's probe
        seeded alike for the baseline and every set), so the gain is what set k unlocks for RL on the hard problems.
        """
        inner, testbed, grpo = self.config.inner, self.setup.testbed, self.config.student.grpo
        if inner.probe_steps > 0:
            probed = [self._probe(self.baseline, reward_questions, t, j) for j in range(inner.runs)]
            before_by_run = [self._accuracy(model, reward_questions, t) for model in probed]
            before = float(np.mean(before_by_run))
        else:
            before = self._accuracy(self.baseline, reward_questions, t)
            before_by_run = [before] * inner.runs
        steps = inner.steps + (inner.steps_after_promotion if self.promotions > 0 else 0)
        rewards, runs = [], []
        for k, questions in enumerate(sets):
            tasks = [q.task(testbed.families[0].name) for q in questions]
            models, gains = [], []
            for j in range(inner.runs):
                model, stats = trained_copy(
                    self.baseline,
                    testbed,
                    grpo,
                    tasks,
                    steps,
                    inner.prompts_per_step,
                    self._question_training_reward,
                    seed=derive_seed(self.config.seed, t, 3, k, j),
                )
                self.student_rollouts += stats.rollouts
                models.append(model)  # the student a promotion keeps: before any probe
                measured = self._probe(model, reward_questions, t, j) if inner.probe_steps > 0 else model
                gains.append(self._accuracy(measured, reward_questions, t) - before_by_run[j])
            rewards.append(float(np.mean(gains)))
            runs.append((models, gains))
        return np.array(rewards), runs, before

    def _probe(self, model: TinyGPT, reward_questions: list[Any], t: int, run: int) -> TinyGPT:
        """A copy of ``model`` after ``inner.probe_steps`` GRPO steps on Q_R, scored like the hard problems."""
        inner = self.config.inner
        probed, stats = trained_copy(
            model,
            self.setup.testbed,
            self.config.student.grpo,
            reward_questions,
            inner.probe_steps,
            inner.prompts_per_step,
            self._hard_training_reward,
            seed=derive_seed(self.config.seed, t, 6, run),
        )
        self.student_rollouts += stats.rollouts
        return probed

    def _accuracy(self, model: TinyGPT, reward_questions: list[Any], t: int) -> float:
        """The student's score on Q_R: greedy accuracy, or the sampled success rate (``outer.reward_metric``).
        Sampling is seeded by the step alone, so the baseline and every run of a step are measured with the same
        random stream (common random numbers: less noise in their difference)."""
        outer, testbed = self.config.outer, self.setup.testbed
        if outer.reward_metric == "greedy":
            return greedy_accuracy(model, testbed, reward_questions, self._hard_reward)
        generator = torch.Generator(device=testbed.device).manual_seed(derive_seed(self.config.seed, t, 5))
        counts = success_counts(
            model, testbed, reward_questions, outer.reward_samples, 1.0, self._hard_reward, generator
        )
        return float(counts.mean() / outer.reward_samples)

    def _intrinsic_rewards(self, sets: list[list[ParsedQuestion]], t: int) -> np.ndarray:
        """R_k = mean over set k's questions of learnability(success rate of the baseline, against the teacher)."""
        testbed, samples = self.setup.testbed, self.config.outer.intrinsic_samples
        generator = torch.Generator(device=testbed.device).manual_seed(derive_seed(self.config.seed, t, 4))
        rewards = []
        for questions in sets:
            tasks = [q.task(testbed.families[0].name) for q in questions]
            counts = success_counts(
                self.baseline,
                testbed,
                tasks,
                samples,
                self.config.student.grpo.temperature,
                self._question_reward,
                generator,
            )
            self.student_rollouts += samples * len(tasks)
            rewards.append(float(learnability(counts / samples).mean()))
        return np.array(rewards)

    # ----- save and resume -----
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "config": asdict(self.config),
            "step_index": self.step_index,
            "teacher": self.teacher.state_dict(),
            "baseline": self.baseline.state_dict(),
            "rule": self.rule.state_dict(),
            "promoted": [asdict(q) for q in self.promoted],
            "history": self.history,
            "promotions": self.promotions,
            "skipped_steps": self.skipped_steps,
            "student_rollouts": self.student_rollouts,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state.get("format") != STATE_FORMAT:
            raise StateFormatError(f"SOAR state format {state.get('format')!r}, expected {STATE_FORMAT}")
        if state["config"] != asdict(self.config):
            raise StateFormatError(
                "SOAR state was saved with a different config; resume with the config it was run with"
            )
        self.step_index = int(state["step_index"])
        self.teacher.load_state_dict(state["teacher"])
        self.baseline.load_state_dict(state["baseline"])
        self.rule.load_state_dict(state["rule"])
        self.promoted = [ParsedQuestion(**q) for q in state["promoted"]]
        self.history = list(state["history"])
        self.promotions = int(state["promotions"])
        self.skipped_steps = int(state["skipped_steps"])
        self.student_rollouts = int(state["student_rollouts"])

    def save(self, path: Path) -> None:
        tmp = Path(path).with_suffix(".tmp")
        torch.save(self.state_dict(), tmp)
        tmp.replace(path)  # a crash mid-write leaves the previous checkpoint intact

    def load(self, path: Path) -> None:
        try:
            state = torch.load(path, map_location=self.setup.testbed.device, weights_only=False)
        except Exception as exc:  # a truncated or foreign file
            raise StateFormatError(f"{path}: not a SOAR checkpoint ({exc})") from None
        self.load_state_dict(state)
