"""Command line: ``autocurriculum demo | run | compare | strategies | tasks``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from autocurriculum.core import (
    AutocurriculumError,
    ConfigError,
    field_help,
    load_config_file,
    merge_values,
    strategy_class,
    strategy_names,
)

app = typer.Typer(
    help="Decide what a reasoning model should practise next, and measure it on the embedded testbed.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML or JSON file with experiment settings (CLI options win).")
]
OutOption = Annotated[Path, typer.Option("--out", help="Directory for report.md, summary.json, metrics and plots.")]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace the results in --out if it already holds a summary.json.")
]
ResumeOption = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Continue the interrupted comparison in --out from its checkpoints (rl.checkpoint_every): finished "
        "runs are not redone, the results are bit-identical to an uninterrupted comparison; a different config is "
        "refused. A finished comparison is only reported.",
    ),
]


def _experiment(values: dict[str, Any], source: str):
    from autocurriculum.experiments import ExperimentConfig

    return ExperimentConfig.from_values(values, source=source)


def _run(values: dict[str, Any], source: str, out: Path, overwrite: bool, resume: bool) -> None:
    from autocurriculum.experiments import run_comparison

    config = _experiment(values, source)
    run_comparison(config, out, console=console, overwrite=overwrite, resume=resume)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@app.command()
def demo(
    out: OutOption = Path("runs/demo"),
    config: ConfigOption = None,
    preset: Annotated[str, typer.Option(help="Preset: 'demo' (about 3 min on 2 cores) or 'tiny' (seconds).")] = "demo",
    overwrite: OverwriteOption = False,
    resume: ResumeOption = False,
) -> None:
    """The main job: uniform vs adaptive strategies vs the oracle at one rollout budget, with report and plots."""
    from autocurriculum.experiments import PRESETS

    if preset not in PRESETS:
        raise ConfigError(f"--preset: unknown preset {preset!r}; valid presets: {', '.join(sorted(PRESETS))}")
    values = merge_values(PRESETS[preset], load_config_file(config))
    _run(values, str(config or f"preset {preset!r}"), out, overwrite, resume)


@app.command()
def run(
    strategy: Annotated[str, typer.Option(help="Strategy name (see `autocurriculum strategies`).")],
    task: Annotated[
        str, typer.Option(help="Task family, or several separated by commas (see `autocurriculum tasks`).")
    ] = "op_chain",
    rollouts: Annotated[int | None, typer.Option(help="Rollout budget (default: config, rl.rollouts).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the warm start, the trainer and the strategy.")] = 0,
    out: OutOption = Path("runs/run"),
    config: ConfigOption = None,
    overwrite: OverwriteOption = False,
    resume: ResumeOption = False,
) -> None:
    """A single run of one strategy on the testbed."""
    values = load_config_file(config)
    values = merge_values(values, {"strategies": [strategy], "seeds": [seed], "testbed": {"tasks": _split(task)}})
    if rollouts is not None:
        values = merge_values(values, {"rl": {"rollouts": rollouts}})
    strategy_class(strategy)
    _run(values, str(config or "command line"), out, overwrite, resume)


@app.command()
def compare(
    strategies: Annotated[
        str | None, typer.Option(help="Comma-separated strategy names or variant labels (default: from --config).")
    ] = None,
    seeds: Annotated[
        int | None, typer.Option(help="Number of seeds 0..K-1, each with its own warm start (default: config, or 3).")
    ] = None,
    rollouts: Annotated[int | None, typer.Option(help="Rollout budget per run (default: rl.rollouts).")] = None,
    out: OutOption = Path("runs/compare"),
    task: Annotated[str | None, typer.Option(help="Task families, comma-separated (default: the testbed's).")] = None,
    pool: Annotated[
        str | None, typer.Option(help="'fixed' (prompts revisited) or 'streaming' (10^6 prompts, each seen ~once).")
    ] = None,
    config: ConfigOption = None,
    workers: Annotated[
        int | None, typer.Option(help="Runs in parallel, one process each (default: config, or 1).")
    ] = None,
    overwrite: OverwriteOption = False,
    resume: ResumeOption = False,
) -> None:
    """Several strategies x seeds at equal rollout budget; writes the same outputs as `demo`."""
    values = load_config_file(config)
    if strategies is not None:
        values["strategies"] = _split(strategies)
    if "strategies" not in values:
        raise ConfigError("--strategies: name the strategies to compare (or give them in --config)")
    if seeds is not None and seeds < 1:
        raise ConfigError(f"--seeds: must be >= 1, got {seeds}")
    if seeds is not None or "seeds" not in values:
        values["seeds"] = list(range(seeds or 3))
    if rollouts is not None:
        values = merge_values(values, {"rl": {"rollouts": rollouts}})
    if task is not None:
        values = merge_values(values, {"testbed": {"tasks": _split(task)}})
    if pool is not None:
        values = merge_values(values, {"testbed": {"pool": pool}})
    if workers is not None:
        values = merge_values(values, {"testbed": {"workers": workers}})
    _run(values, str(config or "command line"), out, overwrite, resume)


@app.command("strategies")
def list_strategies() -> None:
    """List the registered strategies, what they need and do (docs/strategies.md), and their options."""
    import dataclasses

    table = Table(title="Strategies")
    table.add_column("name")
    table.add_column("needs / abilities")
    table.add_column("options (default): help")
    for name in strategy_names():
        cls = strategy_class(name)
        defaults = {
            f.name: f.default_factory() if f.default is dataclasses.MISSING else f.default  # type: ignore[misc]
            for f in dataclasses.fields(cls.config_class)
        }
        opts = "\n".join(f"{k} ({defaults[k]}): {h}" for k, h in field_help(cls.config_class).items())
        declared = sorted(n.value for n in cls.needs) + sorted(a.value for a in cls.abilities)
        table.add_row(name, "\n".join(declared) or "-", opts)
    console.print(table)


@app.command("tasks")
def list_tasks() -> None:
    """List the registered task families and their levels."""
    from autocurriculum.tasks import make_task_family, task_family_names

    table = Table(title="Task families")
    for header in ("name", "levels", "example (level 1)", "example (hardest)"):
        table.add_column(header)
    for name in task_family_names():
        family = make_task_family(name)
        easy, hard = family.generate(family.levels[0], 0), family.generate(family.levels[-1], 0)
        table.add_row(
            name,
            f"{family.levels[0]}..{family.levels[-1]}",
            f"{easy.prompt} -> {easy.demonstration}",
            f"{hard.prompt} -> {hard.demonstration}",
        )
    console.print(table)


from autocurriculum.autotune.cli import autotune_app  # noqa: E402 - mounted after the base commands

app.add_typer(autotune_app, name="autotune")

from autocurriculum.soar.cli import soar_app  # noqa: E402 - mounted after the base commands

app.add_typer(soar_app, name="soar")


def main() -> None:
    try:
        app()
    except AutocurriculumError as exc:
        console.print(f"[bold red]error:[/] {exc}")
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
