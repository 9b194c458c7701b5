"""The student's side of SOAR: how a completion is scored, short GRPO runs on a task list, accuracy and pass@k.

The student is the calibrated testbed student (``experiments.testbed``) trained by the library's own
``GRPOTrainer``; nothing here copies them. Two scoring rules exist because two kinds of tasks exist: a teacher's
question is scored against the teacher's (unverified) answer by ``teacher.answer_scoring`` (default: the family's
final-answer verifier, as SOAR scores the student against the teacher's boxed answer); a hard problem is scored by
``hard_set.scoring`` (default: the whole scratchpad must be right, so a one-in-ten guess of the final digit does not
count as solving it). Those rules say what is solved; the student's RL runs train on them, plus, with
``student.format_credit``, a partial reward for a well-formed wrong attempt (``with_format_credit``).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from autocurriculum.core import Task
from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.soar.grammar import QuestionFormat
from autocurriculum.trainers import GRPOConfig, GRPOTrainer, TinyGPT, greedy_complete

RewardFn = Callable[[Sequence[Task], Sequence[str]], np.ndarray]


def final_answer_reward(testbed: Testbed) -> RewardFn:
    """1.0 where the completion's final answer equals the task's reference answer (the family's verifier)."""
    family = testbed.families[0]

    def score(tasks: Sequence[Task], completions: Sequence[str]) -> np.ndarray:
        return np.array([family.verifier.reward(c, t.answer) for t, c in zip(tasks, completions, strict=True)])

    return score


def trace_reward(testbed: Testbed) -> RewardFn:
    """1.0 where the completion is the whole correct demonstration: every intermediate state and the answer."""
    final = final_answer_reward(testbed)

    def score(tasks: Sequence[Task], completions: Sequence[str]) -> np.ndarray:
        answers = final(tasks, completions)
        exact = np.array([float(c.strip() == (t.demonstration or "")) for t, c in zip(tasks, completions, strict=True)])
        return answers * exact

    return score


def hard_problem_reward(testbed: Testbed, scoring: str) -> RewardFn:
    """The scoring rule of hard problems (``hard_set.scoring``)."""
    return trace_reward(testbed) if scoring == "trace" else final_answer_reward(testbed)


def question_reward(testbed: Testbed, scoring: str) -> RewardFn:
    """The scoring rule of questions (``teacher.answer_scoring``): 'trace' needs every question's written solution
    and names a question without one rather than scoring it 0."""
    if scoring != "trace":
        return final_answer_reward(testbed)
    trace = trace_reward(testbed)

    def score(tasks: Sequence[Task], completions: Sequence[str]) -> np.ndarray:
        unsolved = next((t for t in tasks if not t.demonstration), None)
        if unsolved is not None:
            raise InvalidArgumentError(
                f"teacher.answer_scoring 'trace' scores against a written solution, and question {unsolved.task_id} "
                f"({unsolved.prompt!r}, answer {unsolved.answer!r}) has none: give its JSONL row a 'solution' field "
                "or use answer_scoring 'final'"
            )
        return trace(tasks, completions)

    return score


def solution_shape_reward(question_format: QuestionFormat) -> RewardFn:
    """1.0 where the completion is solution-shaped for its task's prompt (one state per operation, ``|``, a digit),
    right or wrong."""

    def score(tasks: Sequence[Task], completions: Sequence[str]) -> np.ndarray:
        return np.array(
            [float(question_format.solution_shaped(t.prompt, c)) for t, c in zip(tasks, completions, strict=True)]
        )

    return score


def with_format_credit(success: RewardFn, question_format: QuestionFormat, credit: float) -> RewardFn:
    """A training reward from a success rule (``student.format_credit``): 1 where ``success`` says solved,
    ``credit`` where the completion is solution-shaped for its question but wrong, 0 otherwise. The paper's tiered
    student reward, so a question whose answer is wrong still rewards a well-formed attempt over a malformed one."""
    if credit == 0:
        return success
    shaped = solution_shape_reward(question_format)

    def score(tasks: Sequence[Task], completions: Sequence[str]) -> np.ndarray:
        solved = success(tasks, completions)
        return np.where(solved > 0, solved, credit * shaped(tasks, completions))

    return score


@dataclass
class GRPORunStats:
    steps: int = 0
    rollouts: int = 0
    mean_reward: float = 0.0
    zero_variance_fraction: float = 0.0


def grpo_run(
    model: TinyGPT,
    testbed: Testbed,
    grpo: GRPOConfig,
    tasks: Sequence[Task],
    steps: int,
    prompts_per_step: int,
    reward: RewardFn,
    seed: int,
) -> GRPORunStats:
    """Train ``model`` in place: ``steps`` GRPO updates on batches drawn without replacement from ``tasks``.

    A fresh AdamW per run (the paper's inner runs restart from the baseline with no warm-up).
    """
    stats = GRPORunStats()
    if steps == 0 or not tasks:
        return stats
    trainer = GRPOTrainer(model, testbed.tokenizer, testbed.grpo_config(grpo), seed=seed)
    rng = np.random.default_rng([seed, 2024])
    rewards_seen, zero_var = [], []
    for _ in range(steps):
        rows = rng.choice(len(tasks), size=min(prompts_per_step, len(tasks)), replace=False)
        batch = [tasks[int(r)] for r in rows]
        groups = trainer.rollout([t.prompt for t in batch])
        rewards = [reward([t] * g.group_size, g.completions) for t, g in zip(batch, groups, strict=True)]
        trainer.train_step(groups, rewards)
        stats.steps += 1
        stats.rollouts += sum(g.group_size for g in groups)
        rewards_seen.extend(float(r.mean()) for r in rewards)
        zero_var.extend(float(r.std() == 0) for r in rewards)
    stats.mean_reward = float(np.mean(rewards_seen))
    stats.zero_variance_fraction = float(np.mean(zero_var))
    return stats


def trained_copy(
    baseline: TinyGPT,
    testbed: Testbed,
    grpo: GRPOConfig,
    tasks: Sequence[Task],
    steps: int,
    prompts_per_step: int,
    reward: RewardFn,
    seed: int,
) -> tuple[TinyGPT, GRPORunStats]:
    """A copy of ``baseline`` after ``grpo_run`` on ``tasks`` (the baseline is left untouched)."""
    model = copy.deepcopy(baseline)
    stats = grpo_run(model, testbed, grpo, tasks, steps, prompts_per_step, reward, seed)
    return model, stats


def greedy_accuracy(model: TinyGPT, testbed: Testbed, tasks: Sequence[Task], reward: RewardFn) -> float:
    """Mean greedy score of ``model`` on ``tasks``."""
    if not tasks:
        return float("nan")
    completions = greedy_complete(model, testbed.tokenizer, [t.prompt for t in tasks], testbed.max_new_tokens)
    return float(reward(tasks, completions).mean())


def success_counts(
    model: TinyGPT,
    testbed: Testbed,
    tasks: Sequence[Task],
    samples: int,
    temperature: float,
    reward: RewardFn,
    generator: torch.Generator,
    chunk: int = 64,
) -> np.ndarray:
    """How many of ``samples`` completions at ``temperature`` solve each task, scored by ``reward``."""
    rates = testbed.monte_carlo_pass_rates(model, tasks, samples, temperature, generator, chunk=chunk, score=reward)
    return np.rint(rates * samples).astype(np.int64)


def pass_at_k(samples: int, correct: int, k: int) -> float:
    """Unbiased pass@k from ``samples`` draws of which ``correct`` succeeded: 1 - C(n-c, k) / C(n, k)."""
    if not 1 <= k <= samples:
        raise InvalidArgumentError(f"pass_at_k: k must lie in [1, {samples}], got {k}")
    if samples - correct < k:
        return 1.0
    return 1.0 - math.comb(samples - correct, k) / math.comb(samples, k)


def mean_pass_at_k(counts: np.ndarray, samples: int, ks: Sequence[int]) -> dict[str, float]:
    """``{"pass@k": mean over problems}`` for every k."""
    return {f"pass@{k}": float(np.mean([pass_at_k(samples, int(c), k) for c in counts])) for k in ks}
