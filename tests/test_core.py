import subprocess
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

from autocurriculum.core import (
    ConfigError,
    EmptyPoolError,
    GenerationRoundsExhausted,
    GroupOutcome,
    InvalidOutcomeError,
    PromptStatistics,
    Task,
    TaskPool,
    UnknownNameError,
    UnknownTaskError,
    build_config,
    collect_batch,
    field_help,
    make_curriculum,
    nearest_to_target,
    option,
    strategy_class,
)


def small_pool(n: int = 10) -> TaskPool:
    return TaskPool(
        Task(f"id{i}", f"q{i}", str(i), category="a" if i % 2 else "b", knobs={"level": i}) for i in range(n)
    )


def test_importing_core_does_not_import_torch() -> None:
    code = "import sys, autocurriculum.core, autocurriculum.strategies; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_task_pool_maps_ids_to_rows_and_back() -> None:
    pool = small_pool()
    rows = pool.rows_of(["id3", "id0", "id9"])
    assert rows.tolist() == [3, 0, 9]
    assert pool[3].task_id == "id3" and pool[3].knobs == {"level": 3.0} and pool[3].category == "a"
    assert pool.levels().tolist() == list(range(10))
    assert pool.get("id4").prompt == "q4"
    with pytest.raises(UnknownTaskError, match="'nope'"):
        pool.rows_of(["id1", "nope"])


def test_task_pool_rejects_duplicates_and_empty() -> None:
    with pytest.raises(ValueError, match="duplicate task id 'x'"):
        TaskPool([Task("x", "p", "a"), Task("x", "q", "b")])
    with pytest.raises(EmptyPoolError):
        make_curriculum("uniform", TaskPool([]))


def test_group_outcome_validation_names_task_and_index() -> None:
    g = GroupOutcome("t", [0, 1, 1, 0])
    assert g.pass_rate == 0.5 and g.successes == 2 and not g.is_zero_variance
    assert GroupOutcome("t", [1, 1]).is_zero_variance
    with pytest.raises(InvalidOutcomeError, match=r"task 't': rewards\[2\] = nan"):
        GroupOutcome("t", [0, 1, float("nan")])
    with pytest.raises(InvalidOutcomeError, match="advantages"):
        GroupOutcome("t", [0, 1], advantages=[0.1])


def test_prompt_statistics_discounted_beta_update() -> None:
    stats = PromptStatistics(4, prior_alpha=1, prior_beta=1, discount=0.5)
    stats.observe(np.array([0, 2]), np.array([3.0, 0.0]), np.array([4.0, 4.0]))
    # alpha = 0.5*1 + 0.5*1 + 3 = 4 ; beta = 1 + 1 = 2
    assert stats.alpha.tolist() == [4.0, 1.0, 1.0, 1.0]
    assert stats.beta.tolist() == [2.0, 1.0, 5.0, 1.0]
    stats.observe(np.array([0]), np.array([0.0]), np.array([4.0]))
    # alpha = 0.5*4 + 0.5 + 0 = 2.5 ; beta = 0.5*2 + 0.5 + 4 = 5.5
    assert stats.alpha[0] == pytest.approx(2.5) and stats.beta[0] == pytest.approx(5.5)
    assert stats.empirical_pass_rate()[0] == pytest.approx(3 / 8)
    assert np.isnan(stats.empirical_pass_rate()[1])
    assert stats.posterior_mean(np.array([0]))[0] == pytest.approx(2.5 / 8)


def test_prompt_statistics_aggregates_repeated_rows() -> None:
    once = PromptStatistics(3, discount=0.8)
    once.observe(np.array([1]), np.array([5.0]), np.array([8.0]))
    twice = PromptStatistics(3, discount=0.8)
    twice.observe(np.array([1, 1]), np.array([2.0, 3.0]), np.array([4.0, 4.0]))
    assert np.allclose(once.alpha, twice.alpha) and np.allclose(once.beta, twice.beta)
    assert twice.trials[1] == 8 and twice.bytes_per_prompt == 16


def test_prompt_statistics_state_round_trip_and_size_check() -> None:
    stats = PromptStatistics(5, discount=0.9)
    stats.observe(np.array([1, 4]), np.array([1.0, 2.0]), np.array([2.0, 2.0]), step=3)
    clone = PromptStatistics(5)
    clone.load_state_dict(stats.state_dict())
    assert np.array_equal(clone.alpha, stats.alpha) and clone.discount == 0.9 and clone.trials[4] == 2
    with pytest.raises(ValueError, match="5 prompts"):
        PromptStatistics(6).load_state_dict(stats.state_dict())


def test_thompson_sampling_concentrates_near_target() -> None:
    stats = PromptStatistics(3)
    stats.observe(np.array([0, 1, 2]), np.array([0.0, 50.0, 100.0]), np.array([100.0, 100.0, 100.0]))
    draws = stats.sample(np.random.default_rng(0))
    assert nearest_to_target(draws, 0.5, 1).tolist() == [1]
    assert nearest_to_target(np.array([0.2, 0.5, 0.8, 0.5]), 0.5, 2).tolist() == [1, 3]


@dataclass
class _Cfg:
    rate: float = option(0.1, "a rate")
    steps: int = option(3, "steps")
    names: list[str] = option([], "names")
    flag: bool = option(False, "flag")

    def validate(self) -> None:
        if self.rate < 0:
            raise ConfigError("rate: must be >= 0")


def test_build_config_checks_fields_and_types() -> None:
    cfg = build_config(_Cfg, {"rate": "0.5", "steps": 4.0, "names": "a,b", "flag": "true"})
    assert (cfg.rate, cfg.steps, cfg.names, cfg.flag) == (0.5, 4, ["a", "b"], True)
    assert field_help(_Cfg)["rate"] == "a rate"
    with pytest.raises(ConfigError, match=r"f.yaml: unknown field\(s\) 'rat'"):
        build_config(_Cfg, {"rat": 1}, source="f.yaml")
    with pytest.raises(ConfigError, match=r"cfg.steps: expected an integer"):
        build_config(_Cfg, {"steps": 2.5}, source="cfg")
    with pytest.raises(ConfigError, match="rate"):
        build_config(_Cfg, {"rate": -1})


def test_unknown_strategy_lists_valid_names() -> None:
    with pytest.raises(UnknownNameError, match=r"valid strategies: .*thompson.*uniform"):
        strategy_class("thompsn")


def _fake_generate(pass_rates: dict[str, float]):
    def generate(ids: list[str], sizes: np.ndarray) -> list[GroupOutcome]:
        assert (np.asarray(sizes) == 4).all()
        return [GroupOutcome(t, np.full(4, pass_rates[t]) if pass_rates[t] in (0, 1) else [0, 1, 0, 1]) for t in ids]

    return generate


def test_collect_batch_refills_and_reports_every_group() -> None:
    pool = small_pool()
    rates = {f"id{i}": (0.5 if i < 3 else 1.0) for i in range(10)}
    curriculum = make_curriculum("dynamic-sampling", pool, {"seed": 1, "max_generation_rounds": 50})
    batch = collect_batch(curriculum, _fake_generate(rates), batch_size=4, group_size=4)
    assert len(batch.kept) == 4 and all(not g.is_zero_variance for g in batch.kept)
    assert batch.rounds > 1 and curriculum.groups_seen == len(batch.generated) > 4
    assert batch.rollouts == 4 * len(batch.generated)


def test_collect_batch_degrades_with_warning_when_data_too_hard() -> None:
    pool = small_pool()
    rates = {f"id{i}": 0.0 for i in range(10)}
    curriculum = make_curriculum("dynamic-sampling", pool, {"max_generation_rounds": 3})
    with pytest.warns(GenerationRoundsExhausted, match="0 of 4 groups"):
        batch = collect_batch(curriculum, _fake_generate(rates), batch_size=4, group_size=4)
    assert batch.kept == [] and batch.rounds == 3 and batch.exhausted


def test_collect_batch_respects_rollout_cap_without_warning() -> None:
    pool = small_pool()
    curriculum = make_curriculum("uniform", pool)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch = collect_batch(
            curriculum, _fake_generate(dict.fromkeys(pool.ids, 0.5)), batch_size=8, group_size=4, max_rollouts=13
        )
    assert len(batch.generated) == 3 and batch.rollouts == 12 and batch.exhausted


def test_success_values_binarises_shaped_rewards_and_keeps_not_applicable() -> None:
    from autocurriculum.core import success_values

    assert success_values([0.2, 1.0, 0.5]).tolist() == [0.2, 1.0, 0.5]
    values = success_values([0.2, None, 3.0, 0.5], success_threshold=0.5)
    assert np.isnan(values[1]) and values[[0, 2, 3]].tolist() == [0.0, 1.0, 1.0]
