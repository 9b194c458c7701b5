"""ALP-GMM, its Gaussian-mixture fit (core.gaussian_mixture) and its ALP memory (core.windows)."""

import json

import numpy as np
import pytest

import autocurriculum.strategies.alp_gmm  # noqa: F401 - registers "alp-gmm"
from autocurriculum.core import ConfigError, GroupOutcome, Task, TaskPool, make_curriculum
from autocurriculum.core.codec import state_from_json, state_to_json
from autocurriculum.core.gaussian_mixture import fit_by_aic, fit_gaussian_mixture
from autocurriculum.core.windows import NearestPreviousProgress, RecentRows, nearest_points
from autocurriculum.testing import check_curriculum


def level_pool(levels: int, per_level: int, extra: dict | None = None) -> TaskPool:
    return TaskPool(
        Task(f"t-{i}", f"prompt {i}", "a", category="fam", knobs={"level": float(i % levels), **(extra or {})})
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


def blobs(centers: list[list[float]], per_blob: int, spread: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(center, spread, (per_blob, len(center))) for center in centers])


# ----- the Gaussian mixture -----
def test_contract() -> None:
    check_curriculum("alp-gmm")


@pytest.mark.parametrize("covariance", ["full", "diag"])
def test_aic_picks_the_number_of_well_separated_clusters(covariance: str) -> None:
    two = blobs([[0.0, 0.0], [4.0, 4.0]], 150, 0.5)
    mixture, aics = fit_by_aic(two, range(1, 7), np.random.default_rng(0), covariance_type=covariance)
    assert mixture.components == 2, aics
    means = mixture.means[np.argsort(mixture.means[:, 0])]
    np.testing.assert_allclose(means, [[0.0, 0.0], [4.0, 4.0]], atol=0.15)
    np.testing.assert_allclose(mixture.weights, 0.5, atol=0.01)
    three = blobs([[0.0, 0.0], [4.0, 4.0], [0.0, 5.0]], 150, 0.5, seed=1)
    assert fit_by_aic(three, range(1, 7), np.random.default_rng(0), covariance_type=covariance)[0].components == 3


def test_one_component_fit_is_the_maximum_likelihood_gaussian() -> None:
    data = blobs([[1.0, -2.0, 0.5]], 400, 0.7) @ np.array([[1.0, 0.3, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    mixture = fit_gaussian_mixture(data, 1, np.random.default_rng(0), reg_covar=0.0)
    covariance = np.cov(data.T, bias=True)
    np.testing.assert_allclose(mixture.means[0], data.mean(axis=0))
    np.testing.assert_allclose(mixture.covariances[0], covariance)
    centered = data - data.mean(axis=0)
    expected = -0.5 * (
        data.shape[0] * (3 * np.log(2 * np.pi) + np.linalg.slogdet(covariance)[1])
        + np.einsum("ij,jk,ik->", centered, np.linalg.inv(covariance), centered)
    )
    assert mixture.log_likelihood == pytest.approx(expected)
    assert mixture.n_parameters() == 3 + 6  # mean and a full 3x3 covariance, no free weight
    assert mixture.aic() == pytest.approx(2 * 9 - 2 * expected)
    np.testing.assert_allclose(mixture.log_density(data).sum(), expected)


def test_mixture_fit_is_deterministic_and_handles_coinciding_points() -> None:
    # a discrete knob: many identical points, more components than distinct values
    data = np.column_stack([np.repeat([0.0, 0.5, 1.0], 20), np.zeros(60)])
    first = fit_by_aic(data, range(2, 6), np.random.default_rng(3))[0]
    second = fit_by_aic(data, range(2, 6), np.random.default_rng(3))[0]
    assert np.isfinite(first.log_likelihood)
    np.testing.assert_array_equal(first.means, second.means)
    sample = first.sample(0, 5, np.random.default_rng(0))
    assert sample.shape == (5, 2) and np.isfinite(sample).all()


# ----- the ALP memory -----
def test_alp_compares_with_the_latest_earlier_outcome_at_the_nearest_point() -> None:
    memory = NearestPreviousProgress(np.array([[0.0], [0.5], [1.0]]))
    # nothing seen before: ALP 0; two groups of one batch are not compared with each other
    np.testing.assert_array_equal(memory.observe(np.array([0, 0]), np.array([0.2, 0.6]), step=0), [0.0, 0.0])
    assert memory.last_value[0] == pytest.approx(0.4)  # the point's value is the batch mean
    # point 0 again: against its own latest value; point 2 (never seen): against the nearest seen point (0)
    np.testing.assert_allclose(memory.observe(np.array([0, 2]), np.array([0.9, 1.0]), step=1), [0.5, 0.6])
    # point 1 is equally near point 0 (0.9, seen at step 1) and point 2 (0.3, step 2): the most recent wins
    memory.observe(np.array([2]), np.array([0.3]), step=2)
    np.testing.assert_allclose(memory.observe(np.array([1]), np.array([0.5]), step=3), [0.2])
    assert nearest_points(np.array([[0.26]]), np.array([[0.0], [0.5], [1.0]])).tolist() == [1]


def test_recent_rows_keep_the_last_rows_in_order() -> None:
    rows = RecentRows(size=3, width=1)
    rows.append(np.array([[1.0], [2.0]]))
    rows.append(np.array([[3.0], [4.0], [5.0], [6.0]]))  # more than size at once
    assert rows.values().ravel().tolist() == [4.0, 5.0, 6.0]
    rows.append(np.array([[7.0]]))
    assert rows.values().ravel().tolist() == [5.0, 6.0, 7.0] and rows.appended == 7


# ----- the strategy -----
def test_bootstraps_uniformly_then_fits_every_fit_rate_groups() -> None:
    pool = level_pool(10, 10)
    curriculum = make_curriculum("alp-gmm", pool, {"fit_rate": 40})
    chosen = run(curriculum, pool, lambda lv, step: 0.5, steps=2, batch=16)  # 32 groups: still bootstrapping
    assert curriculum.bootstrapping and curriculum.fitter.fits == 0
    assert len(set(chosen.ravel().tolist())) >= 8  # uniform over the pool
    run(curriculum, pool, lambda lv, step: 0.5, steps=1, batch=16)  # 48 groups: crossed 40
    assert not curriculum.bootstrapping and curriculum.fitter.fits == 1
    assert 2 <= curriculum.fitter.mixture.components <= 10
    run(curriculum, pool, lambda lv, step: 0.5, steps=2, batch=16)  # 80: crossed 80
    assert curriculum.fitter.fits == 2


def test_concentrates_where_outcomes_change_over_time() -> None:
    # levels 0-2 always solved, 6-9 never; level 3 static at 0.5 (noisy, no progress); level 4 swings each step
    def rate(level: int, step: int) -> float:
        if level == 4:
            return 0.15 if step % 2 == 0 else 0.85
        return 1.0 if level <= 2 else 0.5 if level == 3 else 0.0

    pool = level_pool(10, 20)
    for seed in range(2):
        curriculum = make_curriculum("alp-gmm", pool, {"seed": seed, "fit_rate": 64})
        chosen = run(curriculum, pool, rate, steps=50, seed=seed)
        early, late = chosen[:4].ravel(), chosen[-25:].ravel()  # 4 steps of 16 = the bootstrap
        assert np.mean(early == 4) < 0.3
        assert np.mean(late == 4) > 0.45, np.bincount(late, minlength=10)
        assert np.mean(late == 4) > 2 * np.mean(late == 3)
        probs = curriculum.component_probabilities()
        level_of_best = curriculum.fitter.mixture.means[int(np.argmax(probs)), 0] * 9
        assert level_of_best == pytest.approx(4, abs=0.5)
        # a level's many prompts are spread, not one prompt repeated
        assert len(set(curriculum.select(16))) >= 10


def test_two_knobs_locate_the_changing_corner() -> None:
    pool = TaskPool(
        Task(f"t-{i}", f"p{i}", "a", knobs={"level": float(i % 4), "width": float((i // 4) % 4)}) for i in range(160)
    )
    width = pool.knob("width")
    rng = np.random.default_rng(0)
    curriculum = make_curriculum("alp-gmm", pool, {"knobs": ["level", "width"], "fit_rate": 64})
    late = []
    for step in range(40):
        rows = pool.rows_of(curriculum.select(16))
        hot = (pool.levels(rows) == 3) & (width[rows] == 0)
        rates = np.where(hot, 0.1 + 0.8 * (step % 2), 1.0)  # only (level 3, width 0) changes
        if step >= 20:
            late.extend(hot.tolist())
        ids = pool.ids_of(rows)
        curriculum.update(
            [GroupOutcome(t, (rng.random(16) < r).astype(float)) for t, r in zip(ids, rates, strict=True)]
        )
    assert np.mean(late) > 0.4  # 1 of 16 points, 1/16 of the pool


def test_state_with_a_fitted_mixture_survives_json_and_continues() -> None:
    pool = level_pool(6, 10)
    original = make_curriculum("alp-gmm", pool, {"seed": 1, "fit_rate": 20})
    run(original, pool, lambda lv, step: [1.0, 0.8, 0.5, 0.5, 0.2, 0.0][lv] * (step % 2), steps=4)
    assert original.fitter.mixture is not None
    state = original.state_dict()
    json.loads(state_to_json(state))  # plain JSON after the codec
    restored = make_curriculum("alp-gmm", pool, {"seed": 99, "fit_rate": 20})
    restored.load_state_dict(state_from_json(state_to_json(state)))
    np.testing.assert_array_equal(restored.fitter.mixture.means, original.fitter.mixture.means)
    rate = lambda lv, step: 0.5  # noqa: E731
    np.testing.assert_array_equal(
        run(original, pool, rate, steps=3, seed=5), run(restored, pool, rate, steps=3, seed=5)
    )


def test_pool_without_the_knob_is_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match="knobs") as error:
        make_curriculum("alp-gmm", level_pool(3, 2), {"knobs": ["level", "difficulty"]})
    message = str(error.value)
    assert "alp-gmm" in message and "'difficulty'" in message and "'level'" in message and "set knobs" in message
    no_knobs = TaskPool(Task(f"t-{i}", "p", "a") for i in range(4))
    with pytest.raises(ConfigError, match=r"knobs.*carry none"):
        make_curriculum("alp-gmm", no_knobs)
    partial = TaskPool([Task("a", "p", "a", knobs={"level": 1.0}), Task("b", "p", "a")])
    with pytest.raises(ConfigError, match="1 of 2 tasks lack it"):
        make_curriculum("alp-gmm", partial)


def test_streaming_source_is_refused() -> None:
    from autocurriculum.tasks import StreamingTaskSource

    stream = StreamingTaskSource.from_names(["addition"], min_size=1_000)
    with pytest.raises(ConfigError, match="knobs") as error:
        make_curriculum("alp-gmm", stream)
    assert "alp-gmm" in str(error.value) and "StreamingTaskSource" in str(error.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [("knobs", []), ("fit_rate", 1), ("random_share", 1.5), ("max_components", 1), ("covariance", "spherical")],
    ids=str,
)
def test_rejects_bad_config(field: str, value) -> None:
    with pytest.raises(ConfigError, match=field):
        make_curriculum("alp-gmm", level_pool(2, 2), {field: value})
