"""One GRPO run of one strategy on the testbed, at a fixed rollout budget."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from autocurriculum.core import GroupOutcome, collect_batch, make_config, make_curriculum
from autocurriculum.experiments.config import RLConfig, resolve_strategy
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.trainers import GRPOConfig, GRPOTrainer, TinyGPT, generate

ProgressCallback = Callable[[int], None]  # called with rollouts consumed so far


@dataclass
class RunResult:
    strategy: str
    seed: int
    steps: list[dict[str, Any]] = field(default_factory=list)  # one record per GRPO update
    evals: list[dict[str, Any]] = field(default_factory=list)  # held-out accuracy checkpoints
    rollouts: int = 0
    completion_tokens: int = 0
    wall_seconds: float = 0.0
    eval_seconds: float = 0.0
    oracle_seconds: float = 0.0
    curriculum_state: dict[str, Any] | None = None
    teacher: dict[str, Any] | None = None  # learned-teacher strategies only (goldilocks, pcl)

    @property
    def final_accuracy(self) -> float:
        return float(self.evals[-1]["overall"]) if self.evals else float("nan")


def run_strategy(
    testbed: Testbed,
    warm_model: TinyGPT,
    strategy: str,
    rl: RLConfig,
    seed: int,
    strategy_options: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    metrics_path: Path | None = None,
) -> RunResult:
    """Train a copy of ``warm_model`` with GRPO for ``rl.rollouts`` rollouts, prompts chosen by ``strategy``.

    ``strategy`` is a strategy name or a variant label defined in ``strategy_options`` (see
    ``resolve_strategy``); results are reported under the label.
    """
    torch.set_num_threads(testbed.config.torch_threads)
    model = copy.deepcopy(warm_model)
    trainer = GRPOTrainer(
        model,
        testbed.tokenizer,
        GRPOConfig(
            learning_rate=rl.learning_rate,
            group_size=rl.group_size,
            max_new_tokens=testbed.max_new_tokens,
            temperature=rl.temperature,
            kl_coef=rl.kl_coef,
        ),
        seed=seed,
    )
    pool = testbed.train_pool
    name, options = resolve_strategy(strategy, strategy_options or {})
    curriculum = make_curriculum(name, pool, make_config(name, {"seed": seed, **options}))
    result = RunResult(strategy=strategy, seed=seed)
    if getattr(curriculum, "requires_pass_rate_estimator", False):
        curriculum.attach_pass_rate_estimator(_oracle_estimator(testbed, model, rl, seed, result))
    if getattr(curriculum, "requires_feature_provider", False):
        curriculum.attach_feature_provider(_student_features(testbed, model))

    step = 0

    def rollout_and_verify(ids: list[str]) -> list[GroupOutcome]:
        tasks = [pool[int(r)] for r in pool.rows_of(ids)]
        groups = trainer.rollout([t.prompt for t in tasks])
        outcomes = []
        for task, group in zip(tasks, groups, strict=True):
            rewards = testbed.score([task] * len(group.completions), group.completions)
            outcomes.append(
                GroupOutcome(
                    task.task_id,
                    rewards,
                    step=step,
                    prompt_tokens=group.prompt_tokens,
                    completion_tokens=group.completion_tokens,
                    payload=group,
                )
            )
        return outcomes

    metrics_file = open(metrics_path, "a") if metrics_path is not None else None
    run_start = time.perf_counter()
    next_eval = 0
    try:
        while True:
            if result.rollouts >= next_eval:
                _evaluate(testbed, model, result, step)
                next_eval = result.rollouts + rl.eval_every
            if result.rollouts >= rl.rollouts:
                break
            step_start = time.perf_counter()
            oracle_before = result.oracle_seconds
            max_prompts = max(1, (rl.rollouts - result.rollouts) // rl.group_size)
            batch = collect_batch(curriculum, rollout_and_verify, rl.prompts_per_step, max_prompts=max_prompts)
            train_metrics: dict[str, float] = {}
            train_start = time.perf_counter()
            if batch.kept:
                train_metrics = trainer.train_step([g.payload for g in batch.kept], [g.rewards for g in batch.kept])
            train_seconds = time.perf_counter() - train_start
            oracle_seconds = result.oracle_seconds - oracle_before
            step_seconds = time.perf_counter() - step_start - oracle_seconds
            result.rollouts += batch.rollouts
            result.completion_tokens += sum(g.completion_tokens for g in batch.generated)
            record = _step_record(step, result, batch, train_metrics, step_seconds, train_seconds, oracle_seconds, pool)
            result.steps.append(record)
            if metrics_file is not None:
                metrics_file.write(json.dumps({"strategy": strategy, "seed": seed, **record}) + "\n")
            step += 1
            if on_progress is not None:
                on_progress(result.rollouts)
        result.wall_seconds = time.perf_counter() - run_start
        if hasattr(curriculum, "teacher_metrics"):
            result.teacher = _teacher_report(testbed, model, rl, seed, curriculum, result)
        result.curriculum_state = curriculum.state_dict()
    finally:
        if metrics_file is not None:
            metrics_file.close()
        if hasattr(curriculum, "close"):
            curriculum.close()  # stops a background teacher thread
    return result


def _step_record(
    step: int,
    result: RunResult,
    batch: Any,
    train_metrics: dict[str, float],
    step_seconds: float,
    train_seconds: float,
    oracle_seconds: float,
    pool: Any,
) -> dict[str, Any]:
    generated: Sequence[GroupOutcome] = batch.generated
    zero_var = [g.is_zero_variance for g in generated]
    levels = pool.levels(pool.rows_of([g.task_id for g in generated])) if generated else np.array([])
    return {
        "step": step,
        "rollouts": result.rollouts,
        "completion_tokens": result.completion_tokens,
        "groups_generated": len(generated),
        "groups_trained": len(batch.kept),
        "generation_rounds": batch.rounds,
        "zero_variance_fraction": float(np.mean(zero_var)) if zero_var else 0.0,
        "effective_group_ratio": float(np.mean([not g.is_zero_variance for g in batch.kept])) if batch.kept else 0.0,
        "mean_reward": float(np.mean([g.pass_rate for g in generated])) if generated else 0.0,
        "mean_level": float(levels.mean()) if levels.size else 0.0,
        # the oracle's Monte Carlo estimation runs inside select(); it is reported apart, not as overhead
        "curriculum_seconds": max(0.0, batch.curriculum_seconds - oracle_seconds),
        "generation_seconds": batch.generation_seconds,
        "train_seconds": train_seconds,
        "step_seconds": step_seconds,
        "oracle_seconds": oracle_seconds,
        **{f"train/{k}": float(v) for k, v in train_metrics.items()},
    }


def _evaluate(testbed: Testbed, model: TinyGPT, result: RunResult, step: int) -> None:
    start = time.perf_counter()
    accuracy = testbed.evaluate(model)
    result.eval_seconds += time.perf_counter() - start
    result.evals.append({"step": step, "rollouts": result.rollouts, **accuracy})


def _oracle_estimator(
    testbed: Testbed, model: TinyGPT, rl: RLConfig, seed: int, result: RunResult
) -> Callable[[Sequence[str]], np.ndarray]:
    """Monte Carlo pass rates under the *current* model; time is recorded, rollouts are not charged."""
    generator = torch.Generator().manual_seed(10_000 + seed)
    pool = testbed.train_pool

    def estimate(ids: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        tasks = [pool[int(r)] for r in pool.rows_of(list(ids))]
        rates = _monte_carlo_pass_rates(testbed, model, tasks, rl.oracle_samples, rl.temperature, generator)
        result.oracle_seconds += time.perf_counter() - start
        return rates

    return estimate


def _monte_carlo_pass_rates(
    testbed: Testbed, model: TinyGPT, tasks: Sequence[Any], samples: int, temperature: float, generator: torch.Generator
) -> np.ndarray:
    prompts = [t.prompt for t in tasks for _ in range(samples)]
    with torch.no_grad():
        out = generate(model, testbed.tokenizer, prompts, testbed.max_new_tokens, temperature, generator=generator)
    rewards = testbed.score([t for t in tasks for _ in range(samples)], out.texts)
    return rewards.reshape(len(tasks), samples).mean(axis=1)


def _student_features(testbed: Testbed, model: TinyGPT) -> Callable[[Sequence[str]], np.ndarray]:
    """Mean-pooled final hidden states of the current student, for the 'student' predictor features."""
    from autocurriculum.predictors import hidden_state_provider
    from autocurriculum.trainers.tiny_gpt import position_ids_from_mask

    return hidden_state_provider(
        model.ln_f,
        lambda ids, mask: model(ids, position_ids_from_mask(mask), mask),
        testbed.tokenizer.encode,
        pad_id=testbed.tokenizer.pad_id,
    )


def _teacher_report(
    testbed: Testbed, model: TinyGPT, rl: RLConfig, seed: int, curriculum: Any, result: RunResult
) -> dict[str, Any]:
    """Teacher quality on held-out prompts it never trained on, against Monte Carlo pass rates of the final student."""
    from autocurriculum.predictors import teacher_time_fraction

    metrics = dict(curriculum.teacher_metrics())
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(testbed.eval_pool), size=min(256, len(testbed.eval_pool)), replace=False)
    tasks = [testbed.eval_pool[int(r)] for r in rows]
    rates = _monte_carlo_pass_rates(
        testbed, model, tasks, rl.oracle_samples, rl.temperature, torch.Generator().manual_seed(20_000 + seed)
    )
    held_out = curriculum.evaluate_teacher([t.prompt for t in tasks], rates)
    return {
        "teacher_mae_unseen": float(held_out["mae"]),
        "teacher_spearman": float(held_out["spearman"]),
        "teacher_time_fraction": float(teacher_time_fraction(metrics["teacher_seconds"], result.wall_seconds)),
        "teacher_seconds": float(metrics["teacher_seconds"]),
        "online_mae_unseen": metrics.get("teacher_mae_unseen"),
        "online_spearman": metrics.get("teacher_spearman"),
        "mae_history": metrics.get("teacher_mae_history", []),
    }
