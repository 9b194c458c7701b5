"""GRESO, SPEED, Knapsack RL and CurES: the strategies that save or reallocate rollouts.

Each is checked against its contract and against the claim it exists for, on a simulated student whose
prompts are a third always solved, a third never solved and a third solved half the time.
"""

import numpy as np
import pytest

from autocurriculum.core import GroupOutcome, Task, TaskPool, collect_batch, make_curriculum
from autocurriculum.testing import check_curriculum

# a third of this pool never varies, so filters sometimes end a batch a group short: expected, not a failure
pytestmark = pytest.mark.filterwarnings("ignore::autocurriculum.core.GenerationRoundsExhausted")

G = 8
RATES = (1.0, 0.0, 0.5)  # by row % 3: solved, unsolved, intermediate


def pool(size: int = 90) -> TaskPool:
    return TaskPool(
        Task(f"t-{i}", f"p{i}", "a", category=f"c{i % 3}", knobs={"level": float(i % 3)}) for i in range(size)
    )


def rate(task_id: str) -> float:
    return globals()["RATES"][int(task_id.split("-")[1]) % 3]


def generator(rng: np.random.Generator):
    def generate(ids: list[str], sizes: np.ndarray) -> list[GroupOutcome]:
        return [GroupOutcome(t, (rng.random(int(n)) < rate(t)).astype(float)) for t, n in zip(ids, sizes, strict=True)]

    return generate


def run(name: str, steps: int = 40, batch: int = 8, seed: int = 0, **options) -> dict[str, float]:
    """Rollouts charged, groups trained and their zero-variance share over ``steps`` batches."""
    curriculum = make_curriculum(name, pool(), {"seed": seed, **options})
    generate = generator(np.random.default_rng(seed))
    rollouts = trained = informative = screening = 0
    for _ in range(steps):
        collected = collect_batch(curriculum, generate, batch, G, merge_payloads=lambda a, b: None)
        rollouts += collected.rollouts
        screening += collected.screening_rollouts
        trained += len(collected.kept)
        informative += sum(not g.is_zero_variance for g in collected.kept)
    return {
        "rollouts_per_trained_group": rollouts / trained,
        "effective_group_ratio": informative / trained,
        "screening_share": screening / rollouts,
    }


@pytest.mark.parametrize("name", ["greso", "speed", "knapsack", "cures"])
def test_contract(name: str) -> None:
    check_curriculum(name)


def test_greso_skips_zero_variance_prompts_and_needs_fewer_rollouts_than_dynamic_sampling() -> None:
    greso = [run("greso", seed=s)["rollouts_per_trained_group"] for s in range(3)]
    dynamic = [run("dynamic-sampling", seed=s)["rollouts_per_trained_group"] for s in range(3)]
    assert np.median(greso) < 0.8 * np.median(dynamic)  # dynamic sampling pays ~3 groups per kept one here


def test_greso_tunes_its_skipping_toward_the_zero_variance_target() -> None:
    curriculum = make_curriculum("greso", pool(), {"seed": 0})
    generate = generator(np.random.default_rng(0))
    late_shares = []
    for step in range(30):
        collected = collect_batch(curriculum, generate, 8, G)
        if step >= 15:
            late_shares.append(np.mean([g.is_zero_variance for g in collected.generated]))
    # uniform draws are 2/3 zero-variance here; GRESO skips its way toward its 0.25 target
    assert np.mean(late_shares) < 0.45 and curriculum.skipped > 0
    on_streak = np.flatnonzero((curriculum.streaks.easy > 0) | (curriculum.streaks.hard > 0))
    assert on_streak.size > 0 and (curriculum.keep_probability(on_streak) < 1.0).all()
    fresh = np.flatnonzero((curriculum.streaks.easy == 0) & (curriculum.streaks.hard == 0))
    assert (curriculum.keep_probability(fresh) == 1.0).all()


def test_speed_screens_cheaply_charges_the_screen_and_trains_on_informative_full_groups() -> None:
    speed = run("speed")
    dynamic = run("dynamic-sampling")
    assert speed["effective_group_ratio"] == 1.0
    assert 0.2 < speed["screening_share"] < 0.9
    # a 4-rollout screen costs half a group: ~4/0.29 + 4 = 18 rollouts per trained group against ~24
    assert speed["rollouts_per_trained_group"] < 0.85 * dynamic["rollouts_per_trained_group"]


def test_knapsack_moves_rollouts_from_solved_prompts_to_uncertain_ones() -> None:
    curriculum = make_curriculum("knapsack", pool(), {"seed": 0, "min_group_size": 2})
    rows = np.arange(9)
    curriculum.update([GroupOutcome(f"t-{r}", np.full(G, rate(f"t-{r}"))) for r in rows])  # observed once
    sizes = curriculum._allocate(rows, 9 * G)
    assert sizes.sum() == 9 * G
    assert sizes[0::3].tolist() == [2, 2, 2] and sizes[1::3].tolist() == [2, 2, 2]  # p = 1 and p = 0: no value
    assert sizes[2::3].tolist() == [20, 20, 20]  # everything else goes where groups can differ
    smoothed = make_curriculum("knapsack", pool(), {"seed": 0, "estimate": "smoothed"})
    smoothed.update([GroupOutcome(f"t-{r}", np.full(G, rate(f"t-{r}"))) for r in rows])
    sizes = smoothed._allocate(rows, 9 * G)
    # 8/8 reads as p = 0.9 (low value), 0/8 as 0.1 (hard: worth exploring), 4/8 as 0.5
    assert sizes[0::3].max() < sizes[2::3].min() and sizes[0::3].max() < sizes[1::3].min()


def test_knapsack_puts_more_of_the_same_budget_into_informative_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """With near-solved and near-failed prompts (p = 0.95, 0.05), uniform groups of 8 are mostly all-equal;
    Knapsack gives the rollouts where a group is likely to differ, at the same total budget."""
    monkeypatch.setitem(globals(), "RATES", (0.95, 0.05, 0.5))
    share = {}
    for name in ("knapsack", "uniform"):
        informative = total = 0
        for seed in range(3):
            curriculum = make_curriculum(name, pool(), {"seed": seed})
            generate = generator(np.random.default_rng(seed))
            for _ in range(40):
                collected = collect_batch(curriculum, generate, 8, G)
                total += collected.rollouts
                informative += sum(g.group_size for g in collected.kept if not g.is_zero_variance)
        share[name] = informative / total
    assert total == 3 * 40 * 8 * G  # both spent exactly the budget
    assert share["knapsack"] > share["uniform"] + 0.1  # measured 0.72 against 0.56 over 6 seeds


def test_cures_samples_uncertain_prompts_and_gives_them_more_rollouts() -> None:
    curriculum = make_curriculum("cures", pool(), {"seed": 0})
    all_rows = np.arange(90)
    for _ in range(3):  # observe every prompt: counts make p_hat near 0, 1 or 0.5
        curriculum.update(
            [
                GroupOutcome(f"t-{r}", np.full(G, rate(f"t-{r}")) if r % 3 < 2 else np.r_[np.ones(4), np.zeros(4)])
                for r in all_rows
            ]
        )
    chosen = curriculum.pool.rows_of(curriculum.select(30))
    assert np.mean(chosen % 3 == 2) > 0.6
    sizes = curriculum._allocate(np.arange(6), 6 * G)
    assert sizes.sum() == 6 * G and sizes[2] > sizes[0] and sizes[5] > sizes[1]
    code = make_curriculum("cures", pool(), {"seed": 0, "temperature_mode": "code"})
    code.stats = curriculum.stats
    assert np.mean(code.pool.rows_of(code.select(30)) % 3 == 2) < 0.6  # the reference code's T >= 100: ~uniform
