"""``autocurriculum soar run | evaluate | compare | report``: the SOAR outer loop, a question set's evaluation, all
arms, one report over several compare runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from autocurriculum.core import ConfigError, load_config_file, merge_values, require

soar_app = typer.Typer(
    help="SOAR: a teacher writes stepping-stone problems, rewarded by the student's gain on problems it cannot solve.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

ConfigOption = Annotated[Path | None, typer.Option("--config", help="YAML or JSON file of SOARConfig settings.")]
QuickOption = Annotated[
    bool, typer.Option("--quick", help="Every stage at seconds scale (about a minute per seed on 2 cores).")
]
ThreadsOption = Annotated[
    int, typer.Option("--threads", help="torch CPU threads (the tiny models gain nothing from more).")
]


def _config(path: Path | None, quick: bool, overrides: dict[str, Any]):
    from autocurriculum.soar.config import QUICK_OVERRIDES, SOARConfig

    values = merge_values(QUICK_OVERRIDES if quick else {}, load_config_file(path))
    return SOARConfig.from_values(merge_values(values, overrides), source=str(path or "soar config"))


def _threads(threads: int) -> None:
    import torch

    require(threads >= 1, "--threads", f"must be >= 1, got {threads}")
    torch.set_num_threads(threads)


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise ConfigError(f"--seeds: expected comma-separated integers, got {text!r}") from None
    require(len(seeds) > 0 and all(s >= 0 for s in seeds), "--seeds", f"give seeds >= 0, got {text!r}")
    return seeds


@soar_app.command()
def run(
    out: Annotated[Path, typer.Option("--out", help="Directory for the histories, promoted.jsonl and the state.")],
    config: ConfigOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Teacher seed.")] = 0,
    reward: Annotated[str, typer.Option("--reward", help="'grounded' (SOAR) or 'intrinsic'.")] = "grounded",
    quick: QuickOption = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from --out's saved state.")] = False,
    threads: ThreadsOption = 1,
) -> None:
    """Train one teacher with the outer loop; write its history, promoted questions and checkpoint."""
    from autocurriculum.soar.experiment import train_teacher
    from autocurriculum.soar.questions import write_questions
    from autocurriculum.soar.setup import build_setup

    _threads(threads)
    soar = _config(config, quick, {"seed": seed, "outer": {"reward": reward}})
    out.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]stage 1/3[/] warm start and fail@{soar.hard_set.fail_at_k} hard set (seed {seed})")
    setup = build_setup(soar, progress=True)
    (out / "hard_set.json").write_text(json.dumps(setup.hard_set.to_dict(), indent=2))
    console.print(f"  {len(setup.hard_set.train)} hard training / {len(setup.hard_set.test)} hard test problems")
    console.print(f"[bold]stage 2/3[/] pretraining the teacher ({soar.teacher.pretrain_steps} steps)")
    teacher = setup.pretrained_teacher(progress=True)
    console.print(f"[bold]stage 3/3[/] outer loop, {soar.outer.steps} steps, reward {reward!r}")
    loop = train_teacher(setup, teacher, reward, out, progress=True, resume=resume)
    write_questions(out / "promoted.jsonl", loop.promoted, seed=seed)
    console.print(
        f"{loop.promotions} promotion(s), {len(loop.promoted)} promoted questions, {loop.skipped_steps} skipped "
        f"step(s), {loop.student_rollouts:,} student rollouts. Wrote {out}/history-{reward}.jsonl, promoted.jsonl "
        f"and state-{reward}.pt"
    )


@soar_app.command()
def evaluate(
    questions: Annotated[
        list[Path], typer.Argument(help="JSONL question sets (promoted.jsonl, questions-<arm>.jsonl), one or more.")
    ],
    config: ConfigOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fresh students (the teacher seed's role).")] = 0,
    quick: QuickOption = False,
    threads: ThreadsOption = 1,
) -> None:
    """Fresh students trained on each of QUESTIONS then on the hard training set, against Hard-Only at the same
    budget (run once). The students of every row share their seeds, so they pair up across rows."""
    from autocurriculum.soar.evaluation import evaluate_question_set
    from autocurriculum.soar.questions import read_questions
    from autocurriculum.soar.setup import build_setup

    _threads(threads)
    missing = [str(path) for path in questions if not path.exists()]
    if missing:
        raise ConfigError(f"QUESTIONS: file(s) {', '.join(missing)} do not exist")
    soar = _config(config, quick, {"seed": seed})
    setup = build_setup(soar, progress=True)
    sets = {str(path): read_questions(path, setup.question_format) for path in questions}
    for path, loaded in sets.items():
        require(len(loaded) > 0, "QUESTIONS", f"{path} holds no questions")
    rows = {"hard-only": evaluate_question_set(setup, None, seed)}
    rows.update({path: evaluate_question_set(setup, loaded, seed) for path, loaded in sets.items()})
    widest = f"pass@{max(soar.evaluation.pass_at)}"
    for name, scores in rows.items():
        numbers = ", ".join(f"{k} {v:.3f}" for k, v in scores.items() if k.startswith("pass@"))
        students = ", ".join(f"{student[widest]:.4f}" for student in scores["per_student"])
        console.print(
            f"{name}: {numbers} ({scores['student_rollouts']:,} student rollouts); {widest} per student: {students}"
        )


@soar_app.command()
def compare(
    out: Annotated[Path, typer.Option("--out", help="Directory for report.md, summary.json, plots and question sets.")],
    config: ConfigOption = None,
    seeds: Annotated[str, typer.Option("--seeds", help="Teacher seeds, comma-separated.")] = "0,1,2",
    arms: Annotated[str | None, typer.Option("--arms", help="Subset of arms, comma-separated (default: all).")] = None,
    quick: QuickOption = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue teachers from their saved states.")] = False,
    workers: Annotated[int, typer.Option("--workers", help="Seeds run in parallel, one process each.")] = 1,
    threads: ThreadsOption = 1,
) -> None:
    """Every arm (Hard-Only, 4x, oracle curriculum, Base-T, Intrinsic-T, Grounded-T, PQ, PS, corruption study)."""
    from autocurriculum.soar.experiment import ARMS
    from autocurriculum.soar.experiment import compare as run_compare
    from autocurriculum.soar.report import headline

    _threads(threads)
    chosen = list(ARMS) if arms is None else [a.strip() for a in arms.split(",") if a.strip()]
    unknown = [a for a in chosen if a not in ARMS]
    require(not unknown, "--arms", f"unknown arm(s) {unknown}; choose from {', '.join(ARMS)}")
    soar = _config(config, quick, {})
    require(workers >= 1, "--workers", f"must be >= 1, got {workers}")
    summary = run_compare(soar, _seeds(seeds), out, chosen, progress=True, resume=resume, workers=workers)
    for line in headline(summary):
        console.print(line)
    console.print(f"Wrote {out}/report.md, summary.json, teacher_reward.png, pass_at_k.png, diversity.png")


@soar_app.command()
def report(
    runs: Annotated[list[Path], typer.Argument(help="--out directories of soar compare runs of one config.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the merged report.md, summary.json and plots.")],
) -> None:
    """One report over the seeds of several compare runs of the same config (seeds run in batches or on two
    machines); the runs' own files are left as they are."""
    from autocurriculum.soar.experiment import merge_comparisons
    from autocurriculum.soar.report import headline

    summary = merge_comparisons(runs, out)
    for line in headline(summary):
        console.print(line)
    console.print(f"Wrote {out}/report.md, summary.json, teacher_reward.png, pass_at_k.png, diversity.png")
