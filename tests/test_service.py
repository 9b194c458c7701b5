"""Serving one curriculum to many clients: in-process threads and a named Ray actor."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from autocurriculum.core import GroupOutcome, UnknownTaskError, collect_batch, make_curriculum
from autocurriculum.service import CurriculumService
from autocurriculum.testing import contract_pool, drive, simulated_rollouts

THREADS, UPDATES, GROUPS = 6, 20, 4


def hammer(service, worker: int) -> None:
    rng = np.random.default_rng(worker)
    for step in range(UPDATES):
        ids = service.select(GROUPS)
        groups = simulated_rollouts(ids, step, rng)
        service.update(groups)
        service.filter(groups)


@pytest.mark.parametrize("strategy", ["thompson", "goldilocks"])
def test_concurrent_threads_never_lose_updates(strategy: str) -> None:
    service = CurriculumService.create(strategy, contract_pool(), {"seed": 0})
    threads = [threading.Thread(target=hammer, args=(service, w)) for w in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert service.counters() == {"updates_seen": THREADS * UPDATES, "groups_seen": THREADS * UPDATES * GROUPS}
    state = service.state_dict()
    if strategy == "thompson":  # every rollout landed in the statistics
        assert state["stats"]["trials"].sum() == THREADS * UPDATES * GROUPS * 8
    else:
        assert state["teacher"]["buffer"]["added"] == THREADS * UPDATES * GROUPS
        assert service.teacher_metrics()["teacher_train_steps"] == THREADS * UPDATES * 4


def test_service_drives_collect_batch_like_a_curriculum() -> None:
    pool = contract_pool()
    local = make_curriculum("band", pool, {"seed": 0})
    service = CurriculumService.create("band", pool, {"seed": 0})
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    a = collect_batch(local, lambda ids, sizes: simulated_rollouts(ids, 0, rng_a), batch_size=8, group_size=8)
    b = collect_batch(service, lambda ids, sizes: simulated_rollouts(ids, 0, rng_b), batch_size=8, group_size=8)
    assert a.selected_ids == b.selected_ids and a.rounds == b.rounds
    assert service.teacher_metrics() == {}


def test_ray_is_optional_with_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from autocurriculum.service import serve_curriculum

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    with pytest.raises(ImportError, match=r"autocurriculum\[ray\]"):
        serve_curriculum("uniform", contract_pool())


# ----- Ray: one cluster for the module (starting it costs ~5 s) -----


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    # This test module is not importable in Ray workers: ship it by value (autocurriculum.testing is installed).
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="autocurriculum-tests")
    yield ray
    ray.shutdown()
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


def test_ray_served_curriculum_selects_like_the_in_process_one(ray_cluster) -> None:
    from autocurriculum.service import serve_curriculum

    pool = contract_pool()
    client = serve_curriculum("goldilocks", pool, {"seed": 11, "warmup": 16}, name="same-selections")
    local = make_curriculum("goldilocks", pool, {"seed": 11, "warmup": 16})
    assert drive(client, steps=8, batch=8) == drive(local, steps=8, batch=8)
    # a checkpoint taken through Ray continues identically in-process
    restored = make_curriculum("goldilocks", pool, {"seed": 0, "warmup": 16})
    restored.load_state_dict(client.state_dict())
    assert drive(restored, steps=3, batch=8, rng_seed=4) == drive(client, steps=3, batch=8, rng_seed=4)
    assert client.teacher_metrics()["teacher_examples_unseen"] > 0
    with pytest.raises(UnknownTaskError, match="no-such-task"):
        client.update([GroupOutcome("no-such-task", np.ones(4))])
    client.kill()


def test_concurrent_processes_updating_one_actor_are_all_counted(ray_cluster) -> None:
    from autocurriculum.service import connect_curriculum, serve_curriculum

    ray = ray_cluster
    owner = serve_curriculum("thompson", contract_pool(), {"seed": 0}, name="shared")

    @ray.remote(num_cpus=1)
    def trainer_process(worker: int) -> tuple[int, int]:
        import os

        client = connect_curriculum("shared")  # found by name from another process
        hammer(client, worker)
        return os.getpid(), worker

    results = ray.get([trainer_process.remote(w) for w in range(3)])
    assert len({pid for pid, _ in results}) >= 2  # really several processes
    assert owner.counters() == {"updates_seen": 3 * UPDATES, "groups_seen": 3 * UPDATES * GROUPS}
    assert owner.state_dict()["stats"]["trials"].sum() == 3 * UPDATES * GROUPS * 8
    with pytest.raises(LookupError, match="no-such-actor"):
        connect_curriculum("no-such-actor")
    owner.kill()
