"""TSCL "Window" learning progress and the windowed slope estimator (core.windows.WindowedLearningProgress)."""

import numpy as np
import pytest

import autocurriculum.strategies.learning_progress  # noqa: F401 - registers "learning-progress"
from autocurriculum.core import ConfigError, GroupOutcome, Task, TaskPool, make_curriculum
from autocurriculum.core.windows import WindowedLearningProgress
from autocurriculum.testing import check_curriculum


def level_pool(levels: int, per_level: int) -> TaskPool:
    return TaskPool(
        Task(f"t-{i}", f"prompt {i}", "a", category="fam", knobs={"level": float(i % levels)})
        for i in range(levels * per_level)
    )


def run(curriculum, pool: TaskPool, rate, steps: int, batch: int = 16, group: int = 16, seed: int = 0) -> np.ndarray:
    """Simulated student whose pass rate is ``rate(level, step)``; returns the levels selected at every step."""
    rng = np.random.default_rng(seed)
    chosen = []
    for step in range(steps):
        ids = curriculum.select(batch)
        levels = pool.levels(pool.rows_of(ids)).astype(int)
        chosen.append(levels)
        curriculum.update(
            [
                GroupOutcome(t, (rng.random(group) < rate(lv, step)).astype(float), step=step)
                for t, lv in zip(ids, levels, strict=True)
            ]
        )
    return np.array(chosen)


def test_contract() -> None:
    check_curriculum("learning-progress")


def test_slope_is_the_least_squares_fit_of_the_last_k_scores() -> None:
    progress = WindowedLearningProgress(arms=3, window=4)
    # arm 0: pooled rate per step 0.1 * step, observed at steps 0, 2, 4, 6, 8 (the window keeps the last 4)
    for step in range(0, 10, 2):
        progress.observe(np.array([0, 0]), np.array([0.1 * step, 0.1 * step]), np.array([1.0, 1.0]), step=step)
    # arm 1: two groups in one step are pooled into one score (3 of 4 rollouts -> 0.75), then 0.25 later
    progress.observe(np.array([1, 1]), np.array([1.0, 2.0]), np.array([2.0, 2.0]), step=0)
    progress.observe(np.array([1]), np.array([1.0]), np.array([4.0]), step=5)
    slopes = progress.slopes()
    assert slopes[0] == pytest.approx(0.1)
    assert slopes[1] == pytest.approx((0.25 - 0.75) / 5)
    assert np.isnan(slopes[2])  # never scored
    np.testing.assert_allclose(progress.progress(unscored=1.0), [0.1, 0.1, 1.0])  # |slope|: forgetting counts
    restored = WindowedLearningProgress(arms=3, window=4)
    restored.load_state_dict(progress.state_dict())
    np.testing.assert_array_equal(restored.slopes(), slopes)


def test_unscored_categories_are_tried_first() -> None:
    pool = level_pool(4, 5)
    curriculum = make_curriculum("learning-progress", pool, {"exploration": "epsilon", "epsilon": 0.0})
    run(curriculum, pool, lambda lv, step: 0.5 if lv < 2 else 0.0, steps=1, batch=2)
    probs = curriculum.category_probabilities()
    # after one step no category has two scores, so all still count as the fastest possible learners
    np.testing.assert_allclose(probs, 0.25)


@pytest.mark.parametrize("exploration", ["boltzmann", "epsilon"])
@pytest.mark.parametrize("direction", ["improving", "forgetting"])
def test_prefers_the_category_whose_pass_rate_changes(exploration: str, direction: str) -> None:
    # level 0 changes by 1/40 per step (up, or down: forgetting); level 1 stays at 0.5; levels 2, 3 are 0 and 1
    def rate(level: int, step: int) -> float:
        moving = min(1.0, step / 40) if direction == "improving" else max(0.0, 1.0 - step / 40)
        return [moving, 0.5, 0.0, 1.0][level]

    pool = level_pool(4, 20)
    shares = []
    for seed in range(3):
        curriculum = make_curriculum("learning-progress", pool, {"seed": seed, "exploration": exploration})
        chosen = run(curriculum, pool, rate, steps=40, seed=seed)
        shares.append(np.bincount(chosen[10:].ravel(), minlength=4) / chosen[10:].size)
    shares = np.mean(shares, axis=0)
    assert shares[0] > 1.5 * shares[1], shares  # the changing category beats the static one
    assert shares[0] > 0.4, shares


@pytest.mark.parametrize(
    ("field", "value"),
    [("window", 1), ("exploration", "thompson"), ("temperature", 0.0), ("epsilon", 1.5)],
    ids=str,
)
def test_rejects_bad_config(field: str, value) -> None:
    with pytest.raises(ConfigError, match=field):
        make_curriculum("learning-progress", level_pool(2, 2), {field: value})
