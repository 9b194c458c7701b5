"""One GRPO run of one strategy on the testbed, at a fixed rollout budget.

Read ``run_strategy`` top to bottom: copy the warm start, build the trainer and the curriculum, serve the
curriculum's declared needs (``wire_harness``), then loop select -> rollout -> verify -> update -> filter ->
train until the budget is spent, evaluating at 0 rollouts, at every multiple of ``rl.eval_every`` the budget
crosses, and always at the end. Given a ``checkpoint_dir``, the run saves itself there every
``rl.checkpoint_every`` steps and when done, and ``resume`` continues it bit-identically (``experiments.checkpoint``).
"""

from __future__ import annotations

import copy
import json
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch

from autocurriculum.core import (
    Ability,
    ConfigError,
    Curriculum,
    GenerationRoundsExhausted,
    GroupOutcome,
    Need,
    collect_batch,
    make_config,
    make_curriculum,
    require_supported,
    strategy_class,
)
from autocurriculum.core.errors import StrategyContractError
from autocurriculum.experiments.checkpoint import (
    CheckpointError,
    RunCheckpoint,
    RunProgress,
    SavedRun,
    inexact_resume_reason,
    run_fingerprint,
    weights_digest,
)
from autocurriculum.experiments.config import RLConfig, resolve_strategy
from autocurriculum.experiments.testbed import Testbed
from autocurriculum.trainers import GRPOConfig, GRPOTrainer, TinyGPT
from autocurriculum.trainers.grpo import RolloutGroup
from autocurriculum.trainers.threads import torch_threads

ProgressCallback = Callable[[int], None]  # called with rollouts consumed so far
ProviderFactories = Mapping[Need, Callable[[], Callable[..., Any]]]

HARNESS = "testbed"
# What the testbed harness can serve to a strategy (see ``harness_providers``) and what its loop supports.
TESTBED_SERVES = frozenset({Need.PASS_RATE_ORACLE, Need.STUDENT_FEATURES})
TESTBED_SUPPORTS = frozenset(Ability)  # filtering with refill, screening, ragged groups
ORACLE_GENERATOR_OFFSET = 10_000  # the oracle's Monte Carlo generator: testbed.generator(offset), apart from others


@dataclass
class RunResult:
    strategy: str
    seed: int
    steps: list[dict[str, Any]] = field(default_factory=list)  # one record per GRPO update
    evals: list[dict[str, Any]] = field(default_factory=list)  # held-out accuracy checkpoints (evaluated levels)
    rollouts: int = 0
    completion_tokens: int = 0
    wall_seconds: float = 0.0
    eval_seconds: float = 0.0
    oracle_seconds: float = 0.0
    curriculum_state: dict[str, Any] | None = None
    teacher: dict[str, Any] | None = None  # learned-teacher strategies only (goldilocks, pcl)
    # accuracy of the levels with too few unseen held-out prompts, at the same checkpoints (not in `overall`)
    evals_apart: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # generation-round warnings (partial batches)
    student_sha256: str | None = None  # digest of the final student's weights: equal digests, bit-identical weights

    @property
    def final_accuracy(self) -> float:
        return float(self.evals[-1]["overall"]) if self.evals else float("nan")


def run_strategy(
    testbed: Testbed,
    warm_model: TinyGPT,
    strategy: str,
    seed: int,
    grpo: GRPOConfig,
    rl: RLConfig,
    strategy_options: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
    metrics_path: Path | None = None,
    checkpoint_dir: Path | None = None,
    resume: bool = False,
    on_evaluate: Callable[[TinyGPT, dict[str, Any]], None] | None = None,
) -> RunResult:
    """Train a copy of ``warm_model`` with GRPO for ``rl.rollouts`` rollouts, prompts chosen by ``strategy``.

    ``strategy`` is a strategy name or a variant label defined in ``strategy_options`` (see
    ``resolve_strategy``); results are reported under the label. One step's rollouts must fit the budget.
    With ``checkpoint_dir``, a checkpoint is written there before the first step and every ``rl.checkpoint_every``
    steps, and the result when done. ``resume`` then returns a finished run's result, continues an unfinished one
    from its checkpoint (cutting ``metrics_path`` back to the checkpoint's length) or starts one that has none.
    ``on_evaluate(student, record)`` is called after every held-out evaluation (for diagnostics that measure more).
    """
    if rl.rollouts < rl.prompts_per_step * grpo.group_size:
        raise ConfigError(
            f"rl.rollouts: {rl.rollouts} is less than one GRPO step (rl.prompts_per_step x grpo.group_size = "
            f"{rl.prompts_per_step} x {grpo.group_size})"
        )
    with torch_threads(testbed.config.torch_threads):  # the run's own setting, the caller's restored after
        result = RunResult(strategy=strategy, seed=seed)

        # a finished run is not redone
        checkpoint: RunCheckpoint | None = None
        if checkpoint_dir is not None:
            fingerprint = run_fingerprint(testbed, warm_model, strategy, seed, grpo, rl, strategy_options or {})
            checkpoint = RunCheckpoint(checkpoint_dir, fingerprint)
            if resume and checkpoint.finished:
                _cut_metrics_file(metrics_path, checkpoint.restore_result(result), checkpoint.result_path)
                return result

        # the student: a copy of the shared warm start, and its GRPO trainer
        model = copy.deepcopy(warm_model).to(testbed.device)
        trainer = GRPOTrainer(model, testbed.tokenizer, testbed.grpo_config(grpo), seed=seed)

        # the curriculum, served what it declares it needs
        pool = testbed.train_pool
        name, options = resolve_strategy(strategy, strategy_options or {})
        curriculum = make_curriculum(name, pool, make_config(name, {"seed": seed, **options}))
        oracle_generator = testbed.generator(ORACLE_GENERATOR_OFFSET)
        step = 0

        def rollout_and_verify(ids: list[str], group_sizes: np.ndarray) -> list[GroupOutcome]:
            tasks = [pool[int(r)] for r in pool.rows_of(ids)]
            groups = trainer.rollout([t.prompt for t in tasks], group_sizes)
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

        # the checkpoint to continue from, checked whole before anything is restored or written (held until the end)
        saved: SavedRun | None = checkpoint.open(resume) if checkpoint is not None else None
        reason = inexact_resume_reason(curriculum) if saved is not None else None
        if saved is not None and reason is not None:
            warnings.warn(f"resuming {saved.path}: the result will not be bit-identical: {reason}", stacklevel=2)
        metrics_file: TextIO | None = None
        try:
            providers = harness_providers(testbed, model, grpo, rl, seed, result, oracle_generator)
            wire_harness(curriculum, strategy, providers)
            run_start = time.perf_counter()
            if saved is None:
                elapsed_before = 0.0
                _evaluate(testbed, model, result, step, on_evaluate)
                next_eval = rl.eval_every
            else:  # continue where the checkpoint stopped: every RNG, counter and record as they were
                progress = saved.restore(trainer, curriculum, result, oracle_generator)
                step, next_eval, elapsed_before = progress.step, progress.next_eval, progress.elapsed_seconds
                _cut_metrics_file(metrics_path, progress.metrics_offset, saved.path)
                if on_progress is not None:
                    on_progress(result.rollouts)
            metrics_file = open(metrics_path, "a") if metrics_path is not None else None

            def save_checkpoint() -> None:
                if checkpoint is None:
                    return
                offset = _sync_metrics_file(metrics_file)
                elapsed = elapsed_before + time.perf_counter() - run_start
                checkpoint.save(
                    RunProgress(step, next_eval, elapsed, offset), trainer, curriculum, result, oracle_generator
                )

            if saved is None and rl.checkpoint_every > 0:
                save_checkpoint()  # before the first step: records where this run's metrics start
            while result.rollouts < rl.rollouts:
                step_start = time.perf_counter()
                oracle_before = result.oracle_seconds
                # select -> rollout -> verify -> update -> filter, until the batch is full (or the budget is)
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", GenerationRoundsExhausted)
                    batch = collect_batch(
                        curriculum,
                        rollout_and_verify,
                        rl.prompts_per_step,
                        grpo.group_size,
                        max_rollouts=rl.rollouts - result.rollouts,
                        merge_payloads=RolloutGroup.concatenate,
                    )
                _keep_round_warnings(caught, result)
                if batch.rollouts == 0:
                    raise StrategyContractError(f"strategy {strategy!r} generated no rollouts at step {step}")
                # train on the kept groups
                train_metrics: dict[str, float] = {}
                train_start = time.perf_counter()
                if batch.kept:
                    train_metrics = trainer.train_step([g.payload for g in batch.kept], [g.rewards for g in batch.kept])
                train_seconds = time.perf_counter() - train_start
                # account: every generated rollout is charged, the oracle's measurements are reported apart
                oracle_seconds = result.oracle_seconds - oracle_before
                step_seconds = time.perf_counter() - step_start - oracle_seconds
                result.rollouts += batch.rollouts
                result.completion_tokens += sum(g.completion_tokens for g in batch.generated)
                record = _step_record(
                    step, result, batch, train_metrics, step_seconds, train_seconds, oracle_seconds, pool
                )
                result.steps.append(record)
                if metrics_file is not None:
                    metrics_file.write(json.dumps({"strategy": strategy, "seed": seed, **record}) + "\n")
                step += 1
                if on_progress is not None:
                    on_progress(result.rollouts)
                # evaluate when a multiple of eval_every is crossed, and always at the end of the budget
                if result.rollouts >= next_eval or result.rollouts >= rl.rollouts:
                    _evaluate(testbed, model, result, step, on_evaluate)
                    next_eval = (result.rollouts // rl.eval_every + 1) * rl.eval_every
                # a checkpoint between two steps (the last step is followed by the result instead)
                if rl.checkpoint_every > 0 and step % rl.checkpoint_every == 0 and result.rollouts < rl.rollouts:
                    save_checkpoint()
            result.wall_seconds = elapsed_before + time.perf_counter() - run_start
            teacher = curriculum.teacher_metrics()  # None for strategies without a learned teacher
            if teacher is not None:
                result.teacher = _teacher_report(testbed, model, grpo, rl, seed, curriculum, teacher, result)
            result.curriculum_state = curriculum.state_dict()
            result.student_sha256 = weights_digest(model)
            if checkpoint is not None:
                checkpoint.save_result(result, _sync_metrics_file(metrics_file))
        finally:
            if metrics_file is not None:
                metrics_file.close()
            curriculum.close()  # stops a background teacher thread
            if checkpoint is not None:
                checkpoint.release()
        return result


def _sync_metrics_file(metrics_file: TextIO | None) -> int:
    """Flush the metrics rows written so far to disk; their byte length (what a checkpoint records)."""
    if metrics_file is None:
        return 0
    metrics_file.flush()
    os.fsync(metrics_file.fileno())
    return os.fstat(metrics_file.fileno()).st_size  # appended to, so its size is where the next row goes


def _cut_metrics_file(metrics_path: Path | None, offset: int, checkpoint_path: Path) -> None:
    """Cut the metrics file back to ``offset`` bytes: rows written after the checkpoint are written again."""
    if metrics_path is None:
        return
    size = metrics_path.stat().st_size if metrics_path.exists() else 0
    if size < offset:
        raise CheckpointError(
            f"{metrics_path}: {size} bytes, but {checkpoint_path} recorded {offset}: the metrics file was truncated "
            "or replaced since the checkpoint, so resuming would lose rows"
        )
    if size > offset:
        os.truncate(metrics_path, offset)


def _keep_round_warnings(caught: list[warnings.WarningMessage], result: RunResult) -> None:
    """Record generation-round warnings in the result (a checkpoint keeps them) and pass every warning on."""
    for w in caught:
        if issubclass(w.category, GenerationRoundsExhausted):
            result.warnings.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


# ----- the harness: what the testbed serves to strategies that declare a need -----
def wire_harness(curriculum: Curriculum, label: str, providers: ProviderFactories, harness: str = HARNESS) -> None:
    """Serve every need ``curriculum`` declares from ``providers``; a ConfigError naming what cannot be served."""
    for need in sorted(curriculum.needs_for(curriculum.config), key=lambda n: n.value):
        if need not in providers:
            raise _unserved(label, need, harness, frozenset(providers))
        curriculum.provide(need, providers[need]())


def check_servable(label: str, strategy_options: dict[str, Any], served: frozenset[Need] = TESTBED_SERVES) -> None:
    """Refuse, before any training, a strategy whose declared needs or abilities the testbed cannot serve."""
    name, options = resolve_strategy(label, strategy_options)
    config = make_config(name, options, source=f"strategy_options.{label}")
    require_supported(strategy_class(name), config, HARNESS, served, TESTBED_SUPPORTS, label=label)


def _unserved(label: str, need: Need, harness: str, served: frozenset[Need]) -> ConfigError:
    offered = ", ".join(sorted(n.value for n in served)) or "nothing"
    return ConfigError(
        f"strategy {label!r} needs {need.value!r}, which the {harness} harness cannot serve (it serves: {offered})"
    )


def harness_providers(
    testbed: Testbed,
    model: TinyGPT,
    grpo: GRPOConfig,
    rl: RLConfig,
    seed: int,
    result: RunResult,
    oracle_generator: torch.Generator | None = None,
) -> dict[Need, Callable[[], Callable[..., Any]]]:
    """Factories for every need the testbed serves, bound to the run's current ``model``.

    The oracle samples with ``oracle_generator`` (default: a fresh ``testbed.generator(ORACLE_GENERATOR_OFFSET)``);
    ``run_strategy`` passes its own, so that a checkpoint can save and restore it.
    """
    generator = oracle_generator if oracle_generator is not None else testbed.generator(ORACLE_GENERATOR_OFFSET)
    return {
        Need.PASS_RATE_ORACLE: lambda: _oracle_estimator(testbed, model, grpo, rl, result, generator),
        Need.STUDENT_FEATURES: lambda: _student_features(testbed, model),
    }


def _oracle_estimator(
    testbed: Testbed, model: TinyGPT, grpo: GRPOConfig, rl: RLConfig, result: RunResult, generator: torch.Generator
) -> Callable[[Sequence[str]], np.ndarray]:
    """Monte Carlo pass rates under the *current* model; time is recorded, rollouts are not charged."""
    pool = testbed.train_pool

    def estimate(ids: Sequence[str]) -> np.ndarray:
        start = time.perf_counter()
        tasks = [pool[int(r)] for r in pool.rows_of(list(ids))]
        rates = testbed.monte_carlo_pass_rates(model, tasks, rl.oracle_samples, grpo.temperature, generator)
        result.oracle_seconds += time.perf_counter() - start
        return rates

    return estimate


def _student_features(testbed: Testbed, model: TinyGPT) -> Callable[[Sequence[str]], np.ndarray]:
    """Mean-pooled final hidden states of the current student, for the 'student' predictor features."""
    from autocurriculum.predictors import hidden_state_provider
    from autocurriculum.trainers.tiny_gpt import position_ids_from_mask

    device = testbed.device

    def run(ids: torch.Tensor, mask: torch.Tensor) -> Any:
        ids, mask = ids.to(device), mask.to(device)
        return model(ids, position_ids_from_mask(mask), mask)

    return hidden_state_provider(model.ln_f, run, testbed.tokenizer.encode, pad_id=testbed.tokenizer.pad_id)


# ----- records -----
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
        "screening_rollouts": batch.screening_rollouts,
        # rollouts in trained groups with unequal rewards: what allocating strategies try to raise
        "informative_rollouts": sum(g.group_size for g in batch.kept if not g.is_zero_variance),
        "group_size_mean": float(np.mean([g.group_size for g in batch.kept])) if batch.kept else 0.0,
        "group_size_max": max((g.group_size for g in batch.kept), default=0),
        "mean_reward": float(np.mean([g.pass_rate for g in generated])) if generated else 0.0,
        "mean_level": float(levels.mean()) if levels.size else 0.0,
        # the oracle's Monte Carlo estimation runs inside select(); it is reported apart, not as overhead
        "curriculum_seconds": max(0.0, batch.curriculum_seconds - oracle_seconds),
        "generation_seconds": batch.generation_seconds,
        "train_seconds": train_seconds,
        "step_seconds": step_seconds,
        "oracle_seconds": oracle_seconds,
        **{f"train/{k}": float(v) for k, v in train_metrics.items()},
        "selected_ids": list(batch.selected_ids),  # every prompt the curriculum chose this step, in order
    }


def _evaluate(
    testbed: Testbed,
    model: TinyGPT,
    result: RunResult,
    step: int,
    on_evaluate: Callable[[TinyGPT, dict[str, Any]], None] | None = None,
) -> None:
    start = time.perf_counter()
    accuracy, apart = testbed.evaluate_levels(model)
    result.eval_seconds += time.perf_counter() - start
    result.evals.append({"step": step, "rollouts": result.rollouts, **accuracy})
    if apart:
        result.evals_apart.append({"step": step, "rollouts": result.rollouts, **apart})
    if on_evaluate is not None:
        on_evaluate(model, result.evals[-1])


def _teacher_report(
    testbed: Testbed,
    model: TinyGPT,
    grpo: GRPOConfig,
    rl: RLConfig,
    seed: int,
    curriculum: Curriculum,
    metrics: dict[str, Any],
    result: RunResult,
) -> dict[str, Any]:
    """Teacher quality on held-out prompts it never trained on, against Monte Carlo pass rates of the final student."""
    from autocurriculum.predictors import teacher_time_fraction

    rng = np.random.default_rng(seed)
    rows = rng.choice(len(testbed.eval_pool), size=min(256, len(testbed.eval_pool)), replace=False)
    tasks = [testbed.eval_pool[int(r)] for r in rows]
    rates = testbed.monte_carlo_pass_rates(model, tasks, rl.oracle_samples, grpo.temperature, testbed.generator(20_000))
    held_out = curriculum.evaluate_teacher([t.prompt for t in tasks], rates) or {}
    return {
        "teacher_mae_unseen": float(held_out.get("mae", float("nan"))),
        "teacher_spearman": float(held_out.get("spearman", float("nan"))),
        "teacher_time_fraction": float(teacher_time_fraction(metrics["teacher_seconds"], result.wall_seconds)),
        "teacher_seconds": float(metrics["teacher_seconds"]),
        "online_mae_unseen": metrics.get("teacher_mae_unseen"),
        "online_spearman": metrics.get("teacher_spearman"),
        "mae_history": metrics.get("teacher_mae_history", []),
    }
