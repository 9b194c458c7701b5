"""SOAR's comparison: every arm of the paper at the same evaluation budget, over teacher seeds.

Per seed: build the setup (warm start, fail@K hard set), pretrain the teacher once, then
  - run the outer loop with the grounded reward (Grounded-T; its promoted questions PQ and promoted student PS)
    and with the intrinsic reward (Intrinsic-T);
  - evaluate with a fresh student (``evaluation.py``): Hard-Only (and 4x its group), Base-T (questions from the
    untrained teacher), Intrinsic-T and Grounded-T (questions sampled from the trained teachers), PQ, the oracle
    curriculum (real problems of the levels between the warm start and the hard set, with true answers), and the
    structure-vs-correctness study on PQ (answers corrupted at 30% and 60%; correct-only and wrong-only subsets).
Outputs: ``summary.json``, ``report.md``, plots, and per seed the loop histories and every question set as JSONL.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from autocurriculum.core import derive_seed
from autocurriculum.core.errors import InvalidArgumentError
from autocurriculum.soar.config import SOARConfig
from autocurriculum.soar.evaluation import corrupt_answers, evaluate_question_set, hard_test_scores
from autocurriculum.soar.grammar import ParsedQuestion
from autocurriculum.soar.loop import SOARLoop, write_well_formed
from autocurriculum.soar.questions import diversity_bits, write_questions
from autocurriculum.soar.setup import SOARSetup, build_setup
from autocurriculum.soar.teacher import QuestionTeacher, TinyQuestionTeacher

BASE_ARMS = (
    "base",
    "hard-only",
    "hard-only-4x",
    "oracle-curriculum",
    "base-t",
    "intrinsic-t",
    "grounded-t",
    "pq",
    "ps",
)
CORRUPTION_ARMS = ("pq-corrupt-30", "pq-corrupt-60", "pq-correct-only", "pq-wrong-only")
ARMS = BASE_ARMS + CORRUPTION_ARMS
# A teacher "collapses" when its last step's questions cover fewer than this share of the untrained teacher's cells
# (in bits of entropy): the paper's Intrinsic-T loses diversity while its reward rises.
COLLAPSE_SHARE = 0.5


def sample_questions(setup: SOARSetup, teacher: QuestionTeacher, count: int, seed: int) -> list[ParsedQuestion]:
    """``count`` well-formed questions from ``teacher`` (fewer if it cannot write them within the rounds)."""
    rounds = setup.config.teacher.max_resample_rounds
    return write_well_formed(teacher, setup.question_format, count, (seed, 77), rounds)[1]


def train_teacher(
    setup: SOARSetup,
    pretrained: TinyQuestionTeacher,
    reward: str,
    out_dir: Path,
    progress: bool = False,
    resume: bool = False,
) -> SOARLoop:
    """The outer loop with ``reward`` from a copy of the pretrained teacher; checkpointed after every step."""
    config = dataclasses.replace(setup.config, outer=dataclasses.replace(setup.config.outer, reward=reward))
    loop = SOARLoop(dataclasses.replace(setup, config=config), copy.deepcopy(pretrained))
    checkpoint = out_dir / f"state-{reward}.pt"
    if resume and checkpoint.exists():
        loop.load(checkpoint)
    bar = tqdm(
        total=config.outer.steps,
        initial=loop.step_index,
        desc=f"seed {config.seed}: {reward} teacher",
        disable=not progress,
        leave=False,
    )

    def advance(record: dict[str, Any]) -> None:
        bar.update(1)
        bar.set_postfix(reward=f"{record.get('mean_reward', float('nan')):+.3f}", promotions=loop.promotions)

    loop.run(on_step=advance, checkpoint=checkpoint)
    bar.close()
    with open(out_dir / f"history-{reward}.jsonl", "w") as handle:
        for record in loop.history:
            handle.write(json.dumps(record) + "\n")
    return loop


def run_seed(
    config: SOARConfig, out_dir: Path, arms: Sequence[str] = ARMS, progress: bool = False, resume: bool = False
) -> dict[str, Any]:
    """Every arm for one teacher seed; returns ``{"arms": {arm: scores}, "teachers": {...}, "hard_set": ...}``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    say = tqdm.write if progress else (lambda _: None)
    say(f"seed {config.seed}: warm start and fail@{config.hard_set.fail_at_k} hard set")
    setup = build_setup(config, progress=progress)
    (out_dir / "hard_set.json").write_text(json.dumps(setup.hard_set.to_dict(), indent=2))
    say(
        f"seed {config.seed}: {len(setup.hard_set.train)} hard training / {len(setup.hard_set.test)} test problems; "
        "pretraining the teacher"
    )
    pretrained = setup.pretrained_teacher(progress=progress)
    wanted = set(arms)
    teachers: dict[str, SOARLoop] = {}
    for reward, arm_names in (
        ("grounded", {"grounded-t", "pq", "ps", *CORRUPTION_ARMS}),
        ("intrinsic", {"intrinsic-t"}),
    ):
        if wanted & arm_names:
            teachers[reward] = train_teacher(setup, pretrained, reward, out_dir, progress, resume)

    count = config.evaluation.sampled_questions
    question_sets: dict[str, list[ParsedQuestion]] = {}
    if "base-t" in wanted:
        question_sets["base-t"] = sample_questions(setup, pretrained, count, derive_seed(config.seed, 1))
    for reward, arm in (("intrinsic", "intrinsic-t"), ("grounded", "grounded-t")):
        if arm in wanted:
            question_sets[arm] = sample_questions(setup, teachers[reward].teacher, count, derive_seed(config.seed, 2))
    promoted = teachers["grounded"].promoted if "grounded" in teachers else []
    if "pq" in wanted:
        question_sets["pq"] = promoted
    modulus = setup.family_config.modulus
    truth = setup.question_format.true_answer
    study = {
        "pq-corrupt-30": lambda: corrupt_answers(promoted, 0.3, modulus, config.seed),
        "pq-corrupt-60": lambda: corrupt_answers(promoted, 0.6, modulus, config.seed),
        "pq-correct-only": lambda: [q for q in promoted if truth(q) == q.answer],
        "pq-wrong-only": lambda: [q for q in promoted if truth(q) != q.answer],
    }
    for arm, make in study.items():
        if arm in wanted:
            question_sets[arm] = make()
    for arm, questions in question_sets.items():
        write_questions(out_dir / f"questions-{arm}.jsonl", questions, arm=arm, seed=config.seed)
    if promoted:
        write_questions(out_dir / "promoted.jsonl", promoted, seed=config.seed)

    results: dict[str, Any] = {}
    jobs: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    for arm in arms:
        if arm == "base":  # the warm-started student itself: the paper's "base inference" row
            jobs.append((arm, lambda: hard_test_scores(setup, setup.student, config.seed)))
        elif arm == "hard-only":
            jobs.append((arm, lambda: evaluate_question_set(setup, None, config.seed)))
        elif arm == "hard-only-4x":
            jobs.append((arm, lambda: evaluate_question_set(setup, None, config.seed, group_multiplier=4)))
        elif arm == "oracle-curriculum":
            real = setup.oracle_tasks(count)
            jobs.append((arm, lambda real=real: evaluate_question_set(setup, None, config.seed, real_tasks=real)))
        elif arm == "ps":
            if "grounded" in teachers:
                student = teachers["grounded"].baseline
                jobs.append(
                    (
                        arm,
                        lambda student=student: {
                            **hard_test_scores(setup, student, config.seed),
                            "promotions": teachers["grounded"].promotions,
                        },
                    )
                )
        elif arm in question_sets:
            questions = question_sets[arm]
            if questions:
                jobs.append((arm, lambda q=questions: evaluate_question_set(setup, q, config.seed)))
            else:  # PQ without a promotion, a subset that is empty: nothing to train on
                results[arm] = {"skipped": "no questions (no promotion, or an empty subset)"}
    for arm, job in tqdm(jobs, desc=f"seed {config.seed}: evaluating arms", disable=not progress, leave=False):
        results[arm] = job()

    teacher_summary = {
        reward: {
            "promotions": loop.promotions,
            "skipped_steps": loop.skipped_steps,
            "student_rollouts": loop.student_rollouts,
            "final_diversity_bits": _last(loop.history, "diversity_bits"),
            "final_vendi_score": _last(loop.history, "vendi_score"),
            "final_mean_reward": _last(loop.history, "mean_reward"),
        }
        for reward, loop in teachers.items()
    }
    base_diversity = diversity_bits(question_sets["base-t"]) if question_sets.get("base-t") else None
    for entry in teacher_summary.values():
        final = entry["final_diversity_bits"]
        entry["collapsed"] = bool(base_diversity and final is not None and final < COLLAPSE_SHARE * base_diversity)
    result = {
        "seed": config.seed,
        "arms": results,
        "teachers": teacher_summary,
        "base_diversity_bits": base_diversity,
        "hard_set": setup.hard_set.to_dict(),
        "seconds": time.perf_counter() - start,
    }
    (out_dir / "result.json").write_text(json.dumps(result, indent=2))  # kept even if a later seed fails
    return result


def _last(history: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in history if not r.get("skipped") and r.get(key) is not None]
    return float(values[-1]) if values else None


def summarise(seeds: list[dict[str, Any]], config: SOARConfig) -> dict[str, Any]:
    """Median and range over seeds of every arm's scores; promotions and collapse per teacher."""
    metrics = [f"pass@{k}" for k in config.evaluation.pass_at] + ["hard_train_greedy", "diversity_bits", "vendi_score"]
    arms: dict[str, Any] = {}
    for arm in ARMS:
        entries = [s["arms"][arm] for s in seeds if arm in s["arms"] and "skipped" not in s["arms"][arm]]
        if not entries and not any(arm in s["arms"] for s in seeds):
            continue
        arm_summary: dict[str, Any] = {"seeds": len(entries)}
        for metric in metrics:
            values = [e[metric] for e in entries if e.get(metric) is not None]
            if values:
                arm_summary[metric] = {
                    "median": float(np.median(values)),
                    "min": float(np.min(values)),
                    "max": float(np.max(values)),
                    "per_seed": [float(v) for v in values],
                }
        if any("student_rollouts" in e for e in entries):
            arm_summary["student_rollouts"] = int(np.median([e.get("student_rollouts", 0) for e in entries]))
        arms[arm] = arm_summary
    teachers: dict[str, Any] = {}
    for reward in ("grounded", "intrinsic"):
        entries = [s["teachers"][reward] for s in seeds if reward in s["teachers"]]
        if entries:
            teachers[reward] = {
                "promotions_per_seed": [e["promotions"] for e in entries],
                "collapse_rate": float(np.mean([e["collapsed"] for e in entries])),
                "final_diversity_bits_per_seed": [e["final_diversity_bits"] for e in entries],
                "final_vendi_score_per_seed": [e.get("final_vendi_score") for e in entries],
                "student_rollouts_per_seed": [e["student_rollouts"] for e in entries],
            }
    return {"arms": arms, "teachers": teachers, "seeds": [s["seed"] for s in seeds]}


def compare(
    config: SOARConfig,
    seeds: Sequence[int],
    out: Path,
    arms: Sequence[str] = ARMS,
    progress: bool = False,
    resume: bool = False,
    workers: int = 1,
) -> dict[str, Any]:
    """``run_seed`` for every seed (``workers`` seeds at a time, each in its own process), then ``summary.json``,
    ``report.md`` and the plots in ``out``. Results do not depend on ``workers``: every draw is seeded."""
    if workers < 1:
        raise InvalidArgumentError(f"compare: workers must be >= 1, got {workers}")
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    jobs = [(dataclasses.replace(config, seed=seed), out / f"seed-{seed}", list(arms), resume) for seed in seeds]
    if workers == 1:
        per_seed = [run_seed(c, d, a, progress, r) for c, d, a, r in jobs]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        say = tqdm.write if progress else (lambda _: None)
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_run_seed_in_worker, *job) for job in jobs]
            per_seed = []
            for job, future in zip(jobs, futures, strict=True):
                per_seed.append(future.result())
                say(f"seed {job[0].seed} done ({per_seed[-1]['seconds']:.0f} s)")
    summary = {
        **summarise(per_seed, config),
        "per_seed": per_seed,
        "config": dataclasses.asdict(config),
        "wall_seconds": time.perf_counter() - start,
        "evaluation_budget": {
            "grpo_steps": config.evaluation.synthetic_steps + config.evaluation.hard_steps,
            "prompts_per_step": config.evaluation.prompts_per_step,
            "group_size": config.student.grpo.group_size,
            "student_seeds": config.evaluation.student_seeds,
        },
    }
    _write_outputs(summary, out)
    return summary


def merge_comparisons(runs: Sequence[Path], out: Path) -> dict[str, Any]:
    """One summary, report and set of plots in ``out`` for the seeds of several ``compare`` runs of one config (for
    example seeds 0-2 and then 3-4, or seeds run on two machines). The seeds' own files stay where they are; the
    summary's ``seed_dirs`` says where."""
    if not runs:
        raise InvalidArgumentError("merge: give at least one compare output directory")
    loaded: list[tuple[Path, dict[str, Any]]] = []
    for run in runs:
        path = run / "summary.json"
        if not path.exists():
            raise InvalidArgumentError(f"merge: {path} does not exist (is {run} the --out of a soar compare?)")
        loaded.append((run, json.loads(path.read_text())))
    first_run, first = loaded[0]
    seed_dirs: dict[int, Path] = {}
    for run, summary in loaded:
        differing = sorted(k for k in first["config"] if summary["config"].get(k) != first["config"][k] and k != "seed")
        if differing:
            raise InvalidArgumentError(
                f"merge: {run} was run with another config than {first_run} (differs in {', '.join(differing)})"
            )
        for result in summary["per_seed"]:
            seed = result["seed"]
            if seed in seed_dirs:
                raise InvalidArgumentError(f"merge: teacher seed {seed} is in both {seed_dirs[seed].parent} and {run}")
            seed_dirs[seed] = Path(summary.get("seed_dirs", {}).get(str(seed), run / f"seed-{seed}"))
    per_seed = sorted((r for _, s in loaded for r in s["per_seed"]), key=lambda r: r["seed"])
    config = SOARConfig.from_values(first["config"], source=str(first_run / "summary.json"))
    merged = {
        **summarise(per_seed, config),
        "per_seed": per_seed,
        "config": first["config"],
        "wall_seconds": sum(s["wall_seconds"] for _, s in loaded),
        "evaluation_budget": first["evaluation_budget"],
        "merged_from": {str(run): s["wall_seconds"] for run, s in loaded},
        "seed_dirs": {str(seed): str(path) for seed, path in sorted(seed_dirs.items())},
    }
    out.mkdir(parents=True, exist_ok=True)
    _write_outputs(merged, out)
    return merged


def _write_outputs(summary: dict[str, Any], out: Path) -> None:
    from autocurriculum.soar.plots import plot_all
    from autocurriculum.soar.report import write_report

    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    seed_dirs = {int(seed): Path(path) for seed, path in summary.get("seed_dirs", {}).items()}
    plot_all(summary, out, seed_dirs)
    write_report(summary, out)


def _run_seed_in_worker(config: SOARConfig, out_dir: Path, arms: list[str], resume: bool) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)  # a worker process of our own: one thread per seed
    return run_seed(config, out_dir, arms, progress=False, resume=resume)
