"""Behaviour of each built-in strategy beyond the shared contract: do they pick what they promise?"""

import numpy as np
import pytest

from autocurriculum.core import GroupOutcome, make_curriculum
from autocurriculum.core.categories import CategoryValues, boltzmann, category_of_rows
from autocurriculum.testing import contract_pool, drive, true_pass_rate


def level_of(task_id: str) -> int:
    return int(task_id.split("-")[1]) % 6


def levels_selected_late(name: str, **options) -> np.ndarray:
    pool = contract_pool(120)
    curriculum = make_curriculum(name, pool, {"seed": 0, **options})
    if name == "oracle":
        curriculum.attach_pass_rate_estimator(lambda ids: np.array([true_pass_rate(t) for t in ids]))
    drive(curriculum, steps=40, batch=12)
    return np.array([level_of(t) for t in curriculum.select(200)])


def test_uniform_covers_all_levels() -> None:
    levels = levels_selected_late("uniform")
    assert set(levels.tolist()) == set(range(6))


def test_thompson_learns_to_avoid_solved_and_hopeless_prompts() -> None:
    # levels 0 (p=1) and 5 (p=0) never give signal; 2-3 (p=0.6, 0.3) do
    levels = levels_selected_late("thompson", candidate_factor=8)
    uninformative = np.isin(levels, [0, 5]).mean()
    assert uninformative < 0.1, uninformative
    assert np.isin(levels, [2, 3]).mean() > 0.5


def test_sec_concentrates_on_categories_with_signal() -> None:
    pool = contract_pool(120)
    curriculum = make_curriculum("sec", pool, {"seed": 0, "uniform_mix": 0.0})
    drive(curriculum, steps=30, batch=12)
    probs = dict(zip(curriculum.category_names, curriculum.category_probabilities(), strict=True))
    # contract_pool categories are cat{i%3} with level i%6; levels 0 and 5 never carry signal
    dead = sum(p for name, p in probs.items() if name.endswith(("/L0", "/L5")))
    assert dead < 0.05, probs


def test_oracle_picks_prompts_nearest_the_target() -> None:
    levels = levels_selected_late("oracle", target=0.5)
    rates = np.array([[1.0, 0.9, 0.6, 0.3, 0.05, 0.0][lv] for lv in levels])
    assert np.mean(np.abs(rates - 0.5) <= 0.2) > 0.95


def test_oracle_without_estimator_explains_itself() -> None:
    curriculum = make_curriculum("oracle", contract_pool())
    with pytest.raises(RuntimeError, match="pass-rate estimator"):
        curriculum.select(4)


@pytest.mark.parametrize(("name", "options"), [("dynamic-sampling", {}), ("band", {"low": 0.2, "high": 0.8})])
def test_filters_keep_only_what_they_promise(name: str, options: dict) -> None:
    curriculum = make_curriculum(name, contract_pool(), options)
    groups = [
        GroupOutcome("task-0", np.zeros(8)),
        GroupOutcome("task-1", np.ones(8)),
        GroupOutcome("task-2", np.r_[np.ones(1), np.zeros(7)]),  # p = 0.125
        GroupOutcome("task-3", np.r_[np.ones(4), np.zeros(4)]),  # p = 0.5
    ]
    kept = {g.task_id for g in curriculum.filter(groups)}
    expected = {"task-2", "task-3"} if name == "dynamic-sampling" else {"task-3"}
    assert kept == expected


def test_dynamic_sampling_generation_size_oversamples() -> None:
    curriculum = make_curriculum("dynamic-sampling", contract_pool(), {"oversample": 2.5})
    assert curriculum.generation_size(4) == 10
    assert curriculum.max_generation_rounds == 10


def test_category_helpers() -> None:
    pool = contract_pool(12)
    codes, names = category_of_rows(pool)
    assert len(names) == 6 and codes.shape == (12,)  # cat{i%3} x level{i%6} -> 6 distinct pairs
    values = CategoryValues(3, rate=0.5)
    values.update(np.array([0, 0, 2]), np.array([1.0, 0.0, 1.0]))
    assert values.values.tolist() == [0.25, 0.0, 0.5] and values.counts.tolist() == [2, 0, 1]
    probs = boltzmann(np.array([0.0, 1.0]), temperature=0.5, uniform_mix=0.2)
    assert probs.sum() == pytest.approx(1.0) and probs[1] > probs[0] and probs[0] >= 0.1


def test_true_pass_rate_helper_is_monotone() -> None:
    assert [true_pass_rate(f"task-{i}") for i in range(6)] == sorted(
        [true_pass_rate(f"task-{i}") for i in range(6)], reverse=True
    )
