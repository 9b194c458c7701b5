"""Paired speedups, bootstrap intervals, summary fields, headline sentences and plots, on hand-made runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autocurriculum.core import bootstrap_ci, vendi_score
from autocurriculum.experiments.report import (
    pass_rate_histogram_table,
    plot_accuracy_by_level,
    plot_pass_rate_histogram,
    summary_table,
    write_report,
)
from autocurriculum.experiments.runner import RunResult
from autocurriculum.experiments.speedup import (
    NO_IMPROVEMENT,
    headline_lines,
    normalized_auc,
    paired_speedup,
    smooth_accuracy,
    target_grid,
)
from autocurriculum.experiments.summary import summarize

EVAL_EVERY = 1000
BUDGET = 8000
CHECKPOINTS = list(range(0, BUDGET + 1, EVAL_EVERY))  # 9 evaluations
LEVELS = ("op_chain/L1", "op_chain/L2")


def linear(start: float, per_evaluation: float, cap: float = 1.0) -> list[float]:
    return [min(cap, start + per_evaluation * i) for i in range(len(CHECKPOINTS))]


def make_evals(accuracy: list[float], rollouts: list[int] | None = None) -> list[dict]:
    rollouts = CHECKPOINTS if rollouts is None else rollouts
    return [
        {"step": i, "rollouts": x, "overall": y, LEVELS[0]: min(1.0, y + 0.2), LEVELS[1]: max(0.0, y - 0.2)}
        for i, (x, y) in enumerate(zip(rollouts, accuracy, strict=True))
    ]


def make_run(strategy: str, seed: int, accuracy: list[float], oracle_seconds: float = 0.0) -> RunResult:
    step = {
        "zero_variance_fraction": 0.5,
        "groups_generated": 4,
        "groups_trained": 4,
        "effective_group_ratio": 1.0,
        "curriculum_seconds": 0.01,
        "step_seconds": 1.0,
        "mean_level": 2.0,
    }
    return RunResult(
        strategy=strategy,
        seed=seed,
        evals=make_evals(accuracy),
        steps=[dict(step) for _ in range(4)],
        rollouts=BUDGET,
        oracle_seconds=oracle_seconds,
    )


UNIFORM = linear(0.30, 0.02)  # 0.30 -> 0.46; smoothed final = mean(0.44, 0.46) = 0.45
TWICE_AS_FAST = linear(0.30, 0.04)  # uniform's curve compressed 2x in rollouts (and carried on)


# --- smoothing, targets, crossings ---------------------------------------------------------------------------------


def test_smoothing_is_a_centred_average_that_keeps_the_shared_start() -> None:
    smoothed = smooth_accuracy([0.30, 0.36, 0.30, 0.33])
    # first point kept as measured (the warm start all strategies share), last = mean of the last two
    assert smoothed.tolist() == pytest.approx([0.30, 0.32, 0.33, 0.315])
    assert smooth_accuracy([0.4]).tolist() == [0.4]
    with pytest.raises(ValueError, match="odd"):
        smooth_accuracy([0.1, 0.2], window=2)


def test_target_grid_excludes_the_start_and_ends_on_uniforms_final() -> None:
    grid = target_grid(0.30, 0.45, points=10)
    assert grid.size == 10
    assert grid[0] == pytest.approx(0.315) and grid[-1] == 0.45
    assert np.allclose(np.diff(grid), 0.015)


# --- paired speedup ---------------------------------------------------------------------------------------------------


def test_uniforms_curve_compressed_twice_gives_speedup_two() -> None:
    result = paired_speedup(make_evals(TWICE_AS_FAST), make_evals(UNIFORM), BUDGET)
    # nine targets below 0.44 are reached at exactly half the rollouts; the top one (0.45) lies on uniform's
    # smoothed last segment (8000 vs 3750 rollouts), so the geometric mean is 2 * (8000 / 7500) ** 0.1
    assert result.speedup == pytest.approx(2 * (8000 / 7500) ** 0.1)
    assert result.speedup == pytest.approx(2.0, rel=0.01)
    assert result.rollout_ratio == pytest.approx(0.5, rel=0.01)
    assert result.rollout_ratio * result.speedup == pytest.approx(1.0, abs=1e-15)
    assert result.censored_fraction == 0.0
    assert result.reason is None
    assert result.start == 0.30 and result.uniform_final == pytest.approx(0.45)
    assert result.strategy_rollouts[:9] == pytest.approx([r / 2 for r in result.uniform_rollouts[:9]])
    assert result.rollouts_to_uniform_final == pytest.approx(3750.0)


def test_exactly_compressed_evaluations_give_exactly_two() -> None:
    halved = [x // 2 for x in CHECKPOINTS]
    result = paired_speedup(make_evals(UNIFORM, halved), make_evals(UNIFORM))
    assert result.speedup == pytest.approx(2.0, rel=1e-12)
    assert result.rollout_ratio == pytest.approx(0.5, rel=1e-12)


def test_identical_curves_give_one() -> None:
    noisy = [0.30, 0.31, 0.30, 0.33, 0.34, 0.33, 0.36, 0.37, 0.36]
    result = paired_speedup(make_evals(noisy), make_evals(noisy), BUDGET)
    assert result.speedup == 1.0 and result.rollout_ratio == 1.0
    assert result.censored_fraction == 0.0


@pytest.mark.parametrize(
    "uniform",
    [
        [0.30] * 9,  # flat
        [0.281, 0.280, 0.280, 0.279, 0.280, 0.279, 0.279, 0.280, 0.278],  # declining by noise
        [0.30, 0.31, 0.30, 0.30, 0.31, 0.30, 0.30, 0.30, 0.309],  # up by less than min_improvement
    ],
)
def test_uniform_without_improvement_gives_no_speedup_never_zero(uniform: list[float]) -> None:
    result = paired_speedup(make_evals(TWICE_AS_FAST), make_evals(uniform), BUDGET)
    assert result.speedup is None and result.rollout_ratio is None and result.censored_fraction is None
    assert result.reason == NO_IMPROVEMENT
    assert result.start == uniform[0]
    assert result.uniform_final == pytest.approx(np.mean(uniform[-2:]))


def test_min_improvement_is_a_parameter() -> None:
    small_gain = [0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.30, 0.305, 0.305]  # +0.005
    assert paired_speedup(make_evals(small_gain), make_evals(small_gain)).speedup is None
    assert paired_speedup(make_evals(small_gain), make_evals(small_gain), min_improvement=0.001).speedup == 1.0


def test_strategy_that_never_reaches_the_top_targets_is_censored_at_its_budget() -> None:
    plateau = linear(0.30, 0.04, cap=0.40)  # fast start, stuck at 0.40 below uniform's final 0.45
    result = paired_speedup(make_evals(plateau), make_evals(UNIFORM), BUDGET)
    # targets 0.315 .. 0.450 in steps of 0.015: six are <= 0.39 (reached), the four above 0.39 never are
    # (smoothed plateau peaks at 0.40, so 0.405 and up are censored)
    assert result.targets == pytest.approx([0.30 + 0.015 * k for k in range(1, 11)])
    assert result.censored == (False,) * 6 + (True,) * 4
    assert result.censored_fraction == pytest.approx(0.4)
    censored_speedups = np.array(result.uniform_rollouts[6:]) / np.array(result.strategy_rollouts[6:])
    assert result.strategy_rollouts[6:] == (BUDGET,) * 4
    # at most R_uniform(a) / budget: "not faster" where it never got there (uniform itself needs the budget for 0.45)
    assert censored_speedups.tolist() == pytest.approx([r / BUDGET for r in result.uniform_rollouts[6:]])
    assert censored_speedups.tolist() == pytest.approx([5250 / 8000, 6000 / 8000, 6750 / 8000, 1.0])
    assert result.rollouts_to_uniform_final is None
    per_target = np.array(result.uniform_rollouts) / np.array(result.strategy_rollouts)
    assert result.speedup == pytest.approx(float(np.exp(np.mean(np.log(per_target)))))


def test_strategy_that_never_improves_is_slower_than_uniform() -> None:
    result = paired_speedup(make_evals([0.30] * 9), make_evals(UNIFORM), BUDGET)
    assert result.censored_fraction == 1.0
    assert result.speedup is not None and result.speedup < 1.0
    assert result.rollout_ratio > 1.0


# --- bootstrap and AUC ------------------------------------------------------------------------------------------------


def test_bootstrap_ci_contains_the_median_and_is_deterministic() -> None:
    values = [0.41, 0.55, 0.38, 0.47, 0.60, 0.44]
    low, high = bootstrap_ci(values)
    assert low <= float(np.median(values)) <= high
    assert min(values) <= low < high <= max(values)
    assert bootstrap_ci(values) == (low, high)
    assert bootstrap_ci(values, seed=0, resamples=10_000) == (low, high)
    narrow = bootstrap_ci(values, confidence=0.5)
    assert low <= narrow[0] <= narrow[1] <= high
    assert bootstrap_ci(values, statistic=np.mean)[0] <= np.mean(values) <= bootstrap_ci(values, statistic=np.mean)[1]


def test_bootstrap_ci_edge_cases() -> None:
    assert bootstrap_ci([0.7]) == (0.7, 0.7)
    assert bootstrap_ci([2.0, 2.0, 2.0]) == (2.0, 2.0)
    with pytest.raises(ValueError, match="finite"):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="at least one"):
        bootstrap_ci([])
    # a statistic without an axis argument is applied sample by sample
    low, high = bootstrap_ci([1.0, 2.0, 3.0], statistic=lambda sample: float(max(sample)), resamples=200)
    assert 1.0 <= low <= high == 3.0


def test_vendi_score_counts_effectively_distinct_items() -> None:
    identity = np.eye(5)
    assert vendi_score(identity) == pytest.approx(5.0)  # 5 orthogonal items
    assert vendi_score(np.ones((4, 3))) == pytest.approx(1.0)  # 4 copies of one item
    # two clusters of equal size: 2 effective items, whatever the cluster sizes' scale
    clusters = np.array([[1.0, 0.0]] * 3 + [[0.0, 2.0]] * 3)
    assert vendi_score(clusters) == pytest.approx(2.0)
    # near-duplicates count as partly the same item: between 1 and 2
    close = vendi_score(np.array([[1.0, 0.0], [1.0, 0.1]]))
    assert 1.0 < close < 1.1
    # the wide and the tall case (Gram matrix on either side) agree
    rng = np.random.default_rng(0)
    tall, wide = rng.random((30, 4)), rng.random((4, 30))
    assert vendi_score(tall) == pytest.approx(float(np.exp(-np.sum(_entropy_terms(tall)))))
    assert 1.0 < vendi_score(wide) <= 4.0
    with pytest.raises(ValueError, match="all zeros"):
        vendi_score(np.array([[1.0, 0.0], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="2-D"):
        vendi_score(np.zeros(3))


def _entropy_terms(features: np.ndarray) -> np.ndarray:
    """lambda * log(lambda) of the n x n kernel matrix K / n, computed directly (the definition)."""
    unit = features / np.linalg.norm(features, axis=1, keepdims=True)
    eigenvalues = np.linalg.eigvalsh(unit @ unit.T / len(unit))
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return eigenvalues * np.log(eigenvalues)


def test_auc_is_the_mean_accuracy_over_training() -> None:
    assert normalized_auc(make_evals([0.37] * 9), BUDGET) == pytest.approx(0.37)
    assert normalized_auc(make_evals(linear(0.0, 0.125)), BUDGET) == pytest.approx(0.5)  # 0 -> 1 linearly
    # held at the last evaluation up to the budget: 0 -> 1 over the first half, then 1
    assert normalized_auc(make_evals([0.0, 1.0], [0, 4000]), 8000) == pytest.approx(0.75)


# --- summary.json -----------------------------------------------------------------------------------------------------


def comparison(uniform: list[float] = UNIFORM, seeds: int = 3) -> list[RunResult]:
    runs = []
    for seed in range(seeds):
        jitter = 0.002 * seed  # seeds differ a little so the intervals have width
        runs.append(make_run("uniform", seed, [y + jitter for y in uniform]))
        runs.append(make_run("thompson", seed, [y + jitter for y in TWICE_AS_FAST[:1]] + TWICE_AS_FAST[1:]))
        runs.append(make_run("oracle", seed, linear(0.30 + jitter, 0.05), oracle_seconds=2.0))
    return runs


def test_summary_reports_paired_speedups_with_intervals() -> None:
    summary = json.loads(json.dumps(summarize(comparison())))  # survives JSON as summary.json does
    thompson = summary["thompson"]
    speed = thompson["speedup_vs_uniform"]
    assert speed["seeds"] == 3 and speed["reason"] is None
    assert len(speed["per_seed"]) == 3 and speed["censored_fraction"] == [0.0, 0.0, 0.0]
    assert speed["median"] == pytest.approx(2.0, rel=0.02)
    assert speed["ci_low"] <= speed["median"] <= speed["ci_high"]
    ratio = speed["rollout_ratio"]
    assert ratio["median"] == pytest.approx(0.5, rel=0.02)
    assert ratio["per_seed"] == pytest.approx([1 / s for s in speed["per_seed"]])
    assert ratio["ci_low"] <= ratio["median"] <= ratio["ci_high"]
    assert speed["start_accuracy"] == pytest.approx([0.300, 0.302, 0.304])
    # the baseline's own speedup is exactly 1 by definition
    base = summary["uniform"]["speedup_vs_uniform"]
    assert base["per_seed"] == [1.0, 1.0, 1.0] and (base["ci_low"], base["ci_high"]) == (1.0, 1.0)
    assert summary["uniform"]["auc_minus_uniform"]["per_seed"] == [0.0, 0.0, 0.0]
    # AUC and its paired difference
    assert summary["uniform"]["auc"]["median"] == pytest.approx(0.382, abs=1e-9)  # mean of a line 0.302 -> 0.462
    gap = thompson["auc_minus_uniform"]
    assert gap["median"] > 0 and gap["ci_low"] <= gap["median"] <= gap["ci_high"]
    assert thompson["initial_accuracy"]["per_seed"] == pytest.approx([0.300, 0.302, 0.304])
    # rollouts to uniform's (smoothed) final, from the same smoothed curves
    assert thompson["rollouts_to_uniform_final"]["median"] == pytest.approx(3750 + 0.002 / 0.04 * 1000)  # seed 1
    assert thompson["rollouts_to_uniform_final"]["reason"] is None
    assert summary["oracle"]["upper_bound"] is True and thompson["upper_bound"] is False
    for kept in ("final_accuracy", "rollouts", "zero_variance_fraction", "selection_overhead_fraction", "seeds"):
        assert kept in thompson


def test_summary_when_uniform_does_not_improve_has_reasons_not_zeros() -> None:
    flat = [0.281, 0.281, 0.280, 0.280, 0.279, 0.280, 0.279, 0.279, 0.279]
    summary = summarize(comparison(uniform=flat))
    for name in ("uniform", "thompson", "oracle"):
        speed = summary[name]["speedup_vs_uniform"]
        assert speed["median"] is None and speed["rollout_ratio"]["median"] is None
        assert speed["per_seed"] == [None, None, None] and speed["seeds"] == 0
        assert speed["reason"] == NO_IMPROVEMENT
        to_final = summary[name]["rollouts_to_uniform_final"]
        assert to_final["median"] is None and to_final["per_seed"] == [None, None, None]
        assert to_final["reason"] == NO_IMPROVEMENT  # thompson starts above 0.279: never a misleading 0.0


def test_summary_with_one_seed_without_improvement_uses_the_others() -> None:
    runs = comparison()
    runs[0] = make_run("uniform", 0, [0.30] * 9)
    speed = summarize(runs)["thompson"]["speedup_vs_uniform"]
    assert speed["seeds"] == 2 and speed["per_seed"][0] is None
    assert speed["reason"] == f"seed 0: {NO_IMPROVEMENT}"


def test_summary_without_a_uniform_run() -> None:
    summary = summarize([make_run("band", 3, TWICE_AS_FAST)])
    assert summary["band"]["rollouts_to_uniform_final"] is None
    assert summary["band"]["speedup_vs_uniform"]["reason"] == "no uniform run at this seed"
    assert summary["band"]["auc_minus_uniform"]["median"] is None


# --- headline ---------------------------------------------------------------------------------------------------------


def test_headline_lines_for_a_resolved_comparison() -> None:
    summary = summarize(comparison())
    lines = headline_lines(summary)
    assert lines[0] == "uniform: held-out accuracy 0.302 → 0.462 in 8,000 rollouts (median of 3 seeds)"
    ratio = summary["thompson"]["speedup_vs_uniform"]["rollout_ratio"]
    assert lines[1] == (
        f"thompson reached uniform's accuracies (up to its final) with {ratio['median']:.2f}× the rollouts "
        f"(95% CI {ratio['ci_low']:.2f}–{ratio['ci_high']:.2f}, 3 seeds)"
    )
    assert ratio["median"] == pytest.approx(0.5, rel=0.05)
    assert lines[2].startswith(
        "oracle (upper bound, not a method: its pass-rate measurements are not charged) reached uniform's accuracies"
    )
    assert len(lines) == 3


def test_headline_when_uniform_does_not_improve() -> None:
    flat = [0.281, 0.281, 0.280, 0.280, 0.279, 0.280, 0.279, 0.279, 0.279]
    runs = [make_run("uniform", 0, flat), make_run("thompson", 0, TWICE_AS_FAST)]
    lines = headline_lines(summarize(runs))
    assert lines[0] == "uniform did not improve (0.281 → 0.279): no improvement to speed up"
    assert lines[1].startswith("thompson: no speedup to report (no improvement to speed up); mean held-out accuracy")
    assert "+0." in lines[1] and "vs uniform" in lines[1]


def test_headline_for_slower_unresolved_and_censored_strategies() -> None:
    runs = []
    for seed in range(3):
        runs.append(make_run("uniform", seed, UNIFORM))
        runs.append(make_run("stuck", seed, [0.30] * 9))
        runs.append(make_run("mixed", seed, TWICE_AS_FAST if seed == 0 else linear(0.30, 0.01)))
    lines = dict(zip(["uniform", "stuck", "mixed"], headline_lines(summarize(runs)), strict=True))
    assert "with " in lines["stuck"] and ": slower than uniform" in lines["stuck"]
    assert "never reached 100% of the accuracy targets" in lines["stuck"]
    assert "the interval includes 1×: not resolved from uniform" in lines["mixed"]
    one_seed = headline_lines(summarize([make_run("uniform", 0, UNIFORM), make_run("thompson", 0, TWICE_AS_FAST)]))
    assert one_seed[0].endswith("(1 seed)") and one_seed[1].endswith("(1 seed, no interval)")


def test_headline_names_the_seeds_that_ended_below_their_own_peak() -> None:
    # seed 1 climbs with uniform, then loses 0.2 in its last evaluations: fast on the way up, forgotten at the end
    forgets = [*UNIFORM[:-2], UNIFORM[-3] - 0.15, UNIFORM[-3] - 0.25]
    runs = [make_run("uniform", seed, UNIFORM) for seed in range(3)]
    runs += [make_run("pcl", seed, forgets if seed == 1 else UNIFORM) for seed in range(3)]
    summary = summarize(runs)
    drops = summary["pcl"]["drop_from_peak"]["per_seed"]
    assert drops[0] == pytest.approx(0.0) and drops[2] == pytest.approx(0.0)
    # smoothed peak (mean of three evaluations around the best) minus the smoothed end (mean of the last two)
    peak = max(np.convolve(forgets, np.ones(3) / 3, mode="valid"))
    assert drops[1] == pytest.approx(peak - (forgets[-1] + forgets[-2]) / 2)
    lines = dict(zip(["uniform", "pcl"], headline_lines(summary), strict=True))
    assert f"it ended below its own peak (seed 1: -{drops[1]:.2f})" in lines["pcl"]
    assert "below its own peak" not in lines["uniform"]
    # noise-sized dips are not called forgetting
    wobbly = [*UNIFORM[:-1], UNIFORM[-1] - 0.05]
    quiet = summarize([make_run("uniform", 0, UNIFORM), make_run("pcl", 0, wobbly)])
    assert "below its own peak" not in headline_lines(quiet)[1]


# --- plots and report -------------------------------------------------------------------------------------------------

HISTOGRAM = {
    "samples": 8,
    "counts": [50, 10, 6, 5, 4, 5, 6, 4, 10],
    "by_level": {"op_chain/L1": [5, 2, 2, 3, 3, 4, 5, 4, 10], "op_chain/L2": [45, 8, 4, 2, 1, 1, 1, 0, 0]},
}


def test_accuracy_plot_starts_the_overall_axis_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "accuracy.png"
    figure = plot_accuracy_by_level(comparison(), path)
    assert path.stat().st_size > 0 and path.read_bytes()[:4] == b"\x89PNG"
    overall, level_1, level_2 = figure.axes[:3]
    assert overall.get_ylim()[0] == 0
    assert overall.get_ylim()[1] == pytest.approx(min(1.0, 0.304 + 0.05 * 8 + 0.05))  # oracle's top + margin
    assert level_1.get_ylim() == (0.0, 1.0) and level_2.get_ylim() == (0.0, 1.0)
    assert "median over 3 seeds, band: min–max" in figure.texts[0].get_text()
    assert {line.get_label() for line in overall.get_lines()} == {"uniform", "thompson", "oracle"}


def test_pass_rate_histogram_plot_and_table(tmp_path: Path) -> None:
    path = tmp_path / "hist.png"
    figure = plot_pass_rate_histogram(HISTOGRAM, path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    overall_panel = figure.axes[0]
    assert "zero-variance (k=0 or k=8): 60% of 100 prompts" in [t.get_text() for t in overall_panel.texts]
    assert [p.get_height() for p in overall_panel.patches] == pytest.approx([c / 100 for c in HISTOGRAM["counts"]])
    table = pass_rate_histogram_table(HISTOGRAM).splitlines()
    assert table[0] == "| prompts | k=0 | k=1 | k=2 | k=3 | k=4 | k=5 | k=6 | k=7 | k=8 | zero-variance (k=0 or 8) |"
    assert table[2] == "| all (100) | 50 | 10 | 6 | 5 | 4 | 5 | 6 | 4 | 10 | 60% |"
    assert table[3] == "| op_chain/L1 | 5 | 2 | 2 | 3 | 3 | 4 | 5 | 4 | 10 | 39% |"
    assert table[4] == "| op_chain/L2 | 45 | 8 | 4 | 2 | 1 | 1 | 1 | 0 | 0 | 73% |"
    with pytest.raises(ValueError, match="expected samples"):
        pass_rate_histogram_table({"samples": 8, "counts": [1, 2, 3]})


def test_report_puts_the_headline_first_and_includes_the_histogram(tmp_path: Path) -> None:
    summary = summarize(comparison())
    meta = {
        "seeds": [0, 1, 2],
        "rollouts": BUDGET,
        "prompts_per_step": 4,
        "group_size": 8,
        "tasks": ["op_chain"],
        "warmup_max_level": 2,
        "wall_seconds": 12.0,
        "pass_rate_histogram": HISTOGRAM,
    }
    text = write_report(tmp_path, summary, meta).read_text()
    lines = text.splitlines()
    assert lines[0] == "# Autocurriculum comparison"
    assert lines[2:5] == [f"- {line}" for line in headline_lines(summary)]
    assert "Oracle caveat" in text and "*not* charged" in text
    assert "| all (100) | 50 |" in text and "![pass-rate histogram](pass_rate_histogram.png)" in text
    assert (tmp_path / "pass_rate_histogram.png").read_bytes()[:4] == b"\x89PNG"
    rows = summary_table(summary)
    assert rows[0][3] == "rollouts needed (× uniform) [95% CI]"
    assert rows[1][3] == "1.00× (baseline)"
    assert [r[0] for r in rows[1:]] == ["uniform", "oracle", "thompson"]  # ranked: fastest after the baseline
    assert rows[2][3].startswith("0.40×") and rows[3][3].startswith("0.5") and rows[3][3].count("×") == 3
    assert rows[3][1] == "0.302 [0.300, 0.304]"
    assert "![leaderboard](leaderboard.png)" in text and (tmp_path / "leaderboard.png").stat().st_size > 0


def test_report_without_uniform_improvement_explains_the_gap(tmp_path: Path) -> None:
    flat = [0.30] * 9
    summary = summarize([make_run("uniform", 0, flat), make_run("thompson", 0, TWICE_AS_FAST)])
    text = write_report(tmp_path, summary, {"seeds": [0]}).read_text()
    assert "- uniform did not improve (0.300 → 0.300): no improvement to speed up" in text
    assert "n/a (no improvement to speed up)" in text
    assert "pass_rate_histogram" not in text
