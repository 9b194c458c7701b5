"""DUMP (UCB over distributions) and the per-arm sliding windows it keeps (core.windows.ArmWindows)."""

import numpy as np
import pytest

import autocurriculum.strategies.dump  # noqa: F401 - registers "dump"
from autocurriculum.core import ConfigError, GroupOutcome, Task, TaskPool, make_curriculum
from autocurriculum.core.windows import ArmWindows
from autocurriculum.testing import check_curriculum


def level_pool(levels: int, per_level: int) -> TaskPool:
    return TaskPool(
        Task(f"t-{i}", f"prompt {i}", "a", category="fam", knobs={"level": float(i % levels)})
        for i in range(levels * per_level)
    )


def run(curriculum, pool: TaskPool, rates: list[float], steps: int, batch: int = 16, group: int = 8, seed: int = 0):
    """Simulated student with a fixed pass rate per level; returns the levels selected at every step."""
    rng = np.random.default_rng(seed)
    chosen = []
    for step in range(steps):
        ids = curriculum.select(batch)
        levels = pool.levels(pool.rows_of(ids)).astype(int)
        chosen.append(levels)
        curriculum.update(
            [
                GroupOutcome(t, (rng.random(group) < rates[lv]).astype(float), step=step)
                for t, lv in zip(ids, levels, strict=True)
            ]
        )
    return np.array(chosen)


def test_contract() -> None:
    check_curriculum("dump")


def test_arm_windows_keep_the_last_observations_and_count_all() -> None:
    windows = ArmWindows(arms=3, size=3)
    windows.push(np.array([0, 0, 1]), np.array([1.0, 2.0, 10.0]), steps=0)
    windows.push(np.array([0, 0, 0, 0, 0]), np.arange(3.0, 8.0), steps=np.arange(1, 6))  # more than size at once
    assert windows.means(empty=-1.0).tolist() == [6.0, 10.0, -1.0]  # arm 0 keeps 5, 6, 7
    assert windows.totals.tolist() == [7, 1, 0]
    assert sorted(windows.steps[0].tolist()) == [3, 4, 5]
    windows.push(np.array([0]), np.array([100.0]), steps=6)  # evicts the oldest (5.0)
    assert windows.means()[0] == pytest.approx((6 + 7 + 100) / 3)


def test_arm_windows_state_round_trip() -> None:
    windows = ArmWindows(arms=2, size=4)
    windows.push(np.array([1, 0, 1]), np.array([0.5, 0.25, 1.0]), steps=3)
    restored = ArmWindows(arms=2, size=4)
    restored.load_state_dict(windows.state_dict())
    np.testing.assert_array_equal(restored.means(), windows.means())
    np.testing.assert_array_equal(restored.totals, windows.totals)
    with pytest.raises(ValueError, match="shape"):
        ArmWindows(arms=3, size=4).load_state_dict(windows.state_dict())


def test_ucb_score_is_window_mean_plus_bonus() -> None:
    pool = level_pool(3, 4)
    curriculum = make_curriculum("dump", pool, {"window": 2, "exploration_weight": 0.5})
    level0 = [t for t in pool.ids if pool.get(t).level == 0]
    # three groups of level 0 with known mean |advantage|; the window keeps the last two
    advantages = [[1.0, -1.0], [0.5, -0.5], [0.2, -0.2]]
    curriculum.update(
        [GroupOutcome(level0[i], np.array([1.0, 0.0]), advantages=np.array(a)) for i, a in enumerate(advantages)]
    )
    total = 3
    expected = np.array([(0.5 + 0.2) / 2, 0.0, 0.0]) + 0.5 * np.sqrt(2 * np.log(total + 1) / (np.array([3, 0, 0]) + 1))
    np.testing.assert_allclose(curriculum.ucb_scores(), expected)
    # unvisited distributions carry the larger bonus, so they are the likelier picks
    probs = curriculum.category_probabilities()
    assert probs[1] == probs[2] > probs[0]


def test_concentrates_on_the_distribution_with_learnable_prompts() -> None:
    # level 2 has pass rate 0.5 (mean |advantage| 1); every other level is all-0 or all-1 (|advantage| 0)
    pool = level_pool(6, 20)
    rates = [0.0, 1.0, 0.5, 0.0, 1.0, 0.0]
    for seed in range(2):
        curriculum = make_curriculum("dump", pool, {"seed": seed})
        chosen = run(curriculum, pool, rates, steps=60, seed=seed)
        late = chosen[-20:].ravel()
        assert np.mean(late == 2) > 0.7, np.bincount(late, minlength=6)
        assert int(np.argmax(curriculum.category_probabilities())) == curriculum.category_names.index("fam/L2")
        # the bonus kept every distribution explored
        assert (curriculum.windows.totals > 0).all()


def test_zero_variance_groups_carry_no_learnability() -> None:
    # all-0 and all-1 groups have |advantage| 0: with c = 0 no distribution stands out, sampling stays uniform
    pool = level_pool(4, 10)
    curriculum = make_curriculum("dump", pool, {"exploration_weight": 0.0})
    run(curriculum, pool, [0.0, 0.0, 1.0, 1.0], steps=5)
    np.testing.assert_allclose(curriculum.category_probabilities(), 0.25)


@pytest.mark.parametrize(
    ("field", "value"), [("window", 0), ("exploration_weight", -1.0), ("temperature", 0.0)], ids=str
)
def test_rejects_bad_config(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        make_curriculum("dump", level_pool(2, 2), {field: value})
