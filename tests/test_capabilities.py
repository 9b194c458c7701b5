"""Declared needs and abilities: trainers refuse what they cannot run, by name, before any training."""

from pathlib import Path

import numpy as np
import pytest

from autocurriculum.core import (
    Ability,
    Need,
    Task,
    TaskPool,
    UnsupportedStrategyError,
    make_config,
    make_curriculum,
    require_supported,
    strategy_class,
)
from autocurriculum.core.registry import strategy_names


def pool() -> TaskPool:
    return TaskPool(Task(f"t{i}", f"p{i}", "1", knobs={"level": float(i % 3)}) for i in range(12))


def test_every_strategy_declares_only_known_needs_and_abilities() -> None:
    for name in strategy_names():
        cls = strategy_class(name)
        assert cls.abilities <= frozenset(Ability) and cls.needs_for(make_config(name)) <= frozenset(Need)
    assert strategy_class("speed").abilities == {Ability.SCREENS}
    assert strategy_class("knapsack").abilities == {Ability.ALLOCATES}
    assert Ability.FILTERS_GROUPS in strategy_class("greso").abilities


def test_require_supported_names_the_strategy_the_ability_and_the_trainer() -> None:
    with pytest.raises(UnsupportedStrategyError, match=r"'speed' screens.*my-trainer.*supports: filters_groups"):
        require_supported(strategy_class("speed"), make_config("speed"), "my-trainer", (), {Ability.FILTERS_GROUPS})
    with pytest.raises(UnsupportedStrategyError, match=r"'oracle' needs 'pass_rate_oracle'.*my-trainer"):
        require_supported(strategy_class("oracle"), make_config("oracle"), "my-trainer")
    require_supported(strategy_class("thompson"), make_config("thompson"), "my-trainer")  # needs nothing


@pytest.mark.parametrize(("name", "ability"), [("knapsack", "allocates"), ("speed", "screens"), ("cures", "allocates")])
def test_trl_adapter_refuses_what_trl_cannot_run(name: str, ability: str) -> None:
    pytest.importorskip("trl")
    from autocurriculum.integrations.trl import CurriculumGRPOTrainer

    with pytest.raises(UnsupportedStrategyError, match=rf"'{name}' {ability}.*TRL \(CurriculumGRPOTrainer\)"):
        CurriculumGRPOTrainer(model=None, reward_funcs=[lambda **kw: [0.0]], curriculum=make_curriculum(name, pool()))


def test_verl_paths_refuse_what_they_cannot_run(tmp_path: Path) -> None:
    from autocurriculum.integrations.verl import dataset_curriculum_service

    with pytest.raises(UnsupportedStrategyError, match=r"'dynamic-sampling' filters groups.*verl >= 0.8"):
        dataset_curriculum_service(pool(), {"strategy": "dynamic-sampling", "local": True})
    with pytest.raises(UnsupportedStrategyError, match=r"'knapsack' allocates.*verl >= 0.8"):
        dataset_curriculum_service(pool(), {"strategy": "knapsack", "local": True})
    assert dataset_curriculum_service(pool(), {"strategy": "thompson", "local": True}).curriculum.name == "thompson"


def test_allocation_that_misses_the_budget_is_refused_with_the_sizes() -> None:
    from autocurriculum.core import AllocationError
    from autocurriculum.strategies.cures import CurESCurriculum

    class Broken(CurESCurriculum):
        def _allocate(self, rows, budget):
            return np.full(rows.size, 3)

    with pytest.raises(AllocationError, match=r"'cures' allocated group sizes \[3, 3, 3, 3\].*sum to the budget 32"):
        Broken(pool()).plan(4, 8)


def test_unknown_need_or_ability_names_are_refused_with_the_known_ones() -> None:
    from autocurriculum.core import ConfigError, abilities_from_names, needs_from_names

    assert abilities_from_names(["screens", "allocates"]) == {Ability.SCREENS, Ability.ALLOCATES}
    with pytest.raises(ConfigError, match=r"trainer.supports: unknown ability 'screening'; known abilities: .*screens"):
        abilities_from_names(["screening"], field="trainer.supports")
    with pytest.raises(ConfigError, match=r"unknown need 'model'; known needs: pass_rate_oracle, student_features"):
        needs_from_names(["model"])


def test_trl_adapter_refuses_a_strategy_that_needs_the_live_student() -> None:
    pytest.importorskip("trl")
    from autocurriculum.integrations.trl import CurriculumGRPOTrainer

    curriculum = make_curriculum("goldilocks", pool(), {"features": "student"})
    try:
        with pytest.raises(UnsupportedStrategyError, match=r"'goldilocks' needs 'student_features'.*TRL"):
            CurriculumGRPOTrainer(model=None, reward_funcs=[lambda **kw: [0.0]], curriculum=curriculum)
    finally:
        curriculum.close()
