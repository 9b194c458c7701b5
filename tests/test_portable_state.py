"""A curriculum state saved under one trainer continues identically under another (TRL <-> verl <-> testbed)."""

from pathlib import Path

import pytest

from autocurriculum.core import make_curriculum
from autocurriculum.core.codec import StateFormatError, load_curriculum, save_curriculum, save_state
from autocurriculum.integrations.trl import CurriculumRepeatSampler
from autocurriculum.service import CurriculumService
from autocurriculum.testing import contract_pool, drive


@pytest.mark.parametrize("strategy", ["thompson", "sec", "bots", "learning-progress"])
def test_trl_to_verl_to_testbed_and_back_continues_identically(strategy: str, tmp_path: Path) -> None:
    pool = contract_pool()
    reference = make_curriculum(strategy, pool, {"seed": 1})
    drive(reference, steps=4, batch=8)

    trl_curriculum = make_curriculum(strategy, pool, {"seed": 1})
    drive(trl_curriculum, steps=4, batch=8)
    sampler = CurriculumRepeatSampler(trl_curriculum, pool.ids.tolist(), mini_repeat_count=8, batch_size=8)
    trl_file = sampler.save(tmp_path)  # the file TRL's checkpoint callback writes

    verl_file = tmp_path / "verl_state.json"  # data.curriculum.state_path of the verl >= 0.8 path
    verl = CurriculumService.create(strategy, pool, {"seed": 99}, persist_path=verl_file)  # the state overrides it
    load_curriculum(verl.curriculum, trl_file)
    assert drive(verl.curriculum, steps=2, batch=8, rng_seed=5) == drive(reference, steps=2, batch=8, rng_seed=5)
    verl.persist()
    testbed = make_curriculum(strategy, pool, {"seed": 7})
    load_curriculum(testbed, verl_file)
    assert drive(testbed, steps=2, batch=8, rng_seed=6) == drive(reference, steps=2, batch=8, rng_seed=6)

    bare = tmp_path / "testbed_state.json"
    save_curriculum(testbed, bare)
    back_in_trl = make_curriculum(strategy, pool, {"seed": 3})
    load_curriculum(back_in_trl, bare)
    assert drive(back_in_trl, steps=2, batch=8, rng_seed=8) == drive(reference, steps=2, batch=8, rng_seed=8)


def test_a_state_from_another_strategy_or_pool_or_without_a_curriculum_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    save_curriculum(make_curriculum("thompson", contract_pool()), path)
    with pytest.raises(ValueError, match="saved by strategy 'thompson', not 'sec'"):
        load_curriculum(make_curriculum("sec", contract_pool()), path)
    with pytest.raises(ValueError, match="pool of 60 tasks, this one has 30"):
        load_curriculum(make_curriculum("thompson", contract_pool(30)), path)
    save_state({"epoch": 3}, path)
    with pytest.raises(StateFormatError, match=r"state\.json: holds no curriculum state \(keys: epoch\)"):
        load_curriculum(make_curriculum("thompson", contract_pool()), path)
