"""The Ray-served curriculum under load and faults (issue 13): no update lost, consistent after crashes.

Every client updates its own tasks with known rewards, so the service's per-task statistics can be checked
exactly against what the clients sent, not only counted. The persistence rules are tested in-process first
(no Ray), then through the actor: killed clients, an actor killed for good, an actor restarted by Ray.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autocurriculum.core import GroupOutcome, make_curriculum
from autocurriculum.core.codec import load_state, state_to_json
from autocurriculum.core.errors import ConfigError, ServiceUnavailableError
from autocurriculum.service import CurriculumService
from autocurriculum.testing import contract_pool

CLIENTS, UPDATES_PER_CLIENT, SELECT_EVERY = 8, 300, 3
TASKS_PER_CLIENT, GROUP = 5, 8


def client_tasks(worker: int) -> list[str]:
    """Each client updates its own tasks, so the statistics say exactly which client sent what."""
    return [f"task-{worker * TASKS_PER_CLIENT + j}" for j in range(TASKS_PER_CLIENT)]


def outcome(worker: int, i: int) -> GroupOutcome:
    """Update ``i`` of ``worker``: one group with ``i % 9`` successes out of 8, on a known task."""
    rewards = (np.arange(GROUP) < i % (GROUP + 1)).astype(float)
    return GroupOutcome(client_tasks(worker)[i % TASKS_PER_CLIENT], rewards, step=i)


def expected_stats(worker: int, updates: int | list[int]) -> dict[str, tuple[float, float]]:
    """(successes, trials) per task after the first ``updates`` updates of ``worker`` (or those listed)."""
    totals = {task: [0.0, 0.0] for task in client_tasks(worker)}
    for i in range(updates) if isinstance(updates, int) else updates:
        group = outcome(worker, i)
        totals[group.task_id][0] += float(group.rewards.sum())
        totals[group.task_id][1] += GROUP
    return {task: (s, n) for task, (s, n) in totals.items()}


def observed_stats(state: dict, worker: int) -> dict[str, tuple[float, float]]:
    rows = [int(task.split("-")[1]) for task in client_tasks(worker)]
    stats = state["stats"]
    return {
        task: (float(stats["successes"][row]), float(stats["trials"][row]))
        for task, row in zip(client_tasks(worker), rows, strict=True)
    }


def updates_in_state(state: dict, worker: int) -> int:
    return int(sum(trials for _, trials in observed_stats(state, worker).values()) // GROUP)


def assert_round_trips(state: dict) -> None:
    """A state taken from the service loads into a fresh curriculum and comes back byte for byte."""
    fresh = make_curriculum("thompson", contract_pool(), {"seed": 0})
    fresh.load_state_dict(state)
    assert state_to_json(fresh.state_dict()) == state_to_json(state)
    # no half-applied update: the counters and the statistics agree
    assert float(state["stats"]["trials"].sum()) == GROUP * state["groups_seen"]


# ----- persistence, in-process (no Ray) -----


def test_service_persists_every_n_updates_and_restores_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "curriculum.json"
    service = CurriculumService.create("thompson", contract_pool(), {"seed": 0}, persist_path=path, persist_every=10)
    assert not path.exists() and service.persistence()["restored_from_update"] is None
    for i in range(25):
        service.update([outcome(0, i)])
    report = service.persistence()
    assert (report["updates_seen"], report["updates_persisted"], report["updates_since_persist"]) == (25, 20, 5)
    assert load_state(path)["update_sequence"] == 20

    restarted = CurriculumService.create("thompson", contract_pool(), {"seed": 0}, persist_path=path)
    assert restarted.persistence()["restored_from_update"] == 20  # 25 sent - 20 kept = the 5 since the persist
    assert observed_stats(restarted.state_dict(), 0) == expected_stats(0, 20)
    assert restarted.counters() == {"updates_seen": 20, "groups_seen": 20}
    # and it continues like the original did at update 20 (same selections from the restored RNG)
    replay = CurriculumService.create("thompson", contract_pool(), {"seed": 0})
    for i in range(20):
        replay.update([outcome(0, i)])
    assert restarted.select(6) == replay.select(6)


def test_service_persistence_edges(tmp_path: Path) -> None:
    path = tmp_path / "curriculum.json"
    with pytest.raises(ConfigError, match="persist_every"):
        CurriculumService.create("thompson", contract_pool(), persist_path=path, persist_every=0)
    with pytest.raises(ConfigError, match="without persist_path"):
        CurriculumService.create("thompson", contract_pool()).persist()
    service = CurriculumService.create("thompson", contract_pool(), {"seed": 0}, persist_path=path, persist_every=50)
    for i in range(3):
        service.update([outcome(0, i)])
    service.persist()  # on demand, e.g. at a trainer checkpoint
    assert load_state(path)["update_sequence"] == 3
    # a loaded state is persisted at once: a restart must not go back to the state before the load
    source = CurriculumService.create("thompson", contract_pool(), {"seed": 0})
    for i in range(7):
        source.update([outcome(1, i)])
    service.load_state_dict(source.state_dict())
    assert load_state(path)["update_sequence"] == 7
    # a file from another strategy or pool is refused with the path, never silently replaced
    with pytest.raises(ConfigError, match=r"curriculum\.json.*strategy 'thompson'"):
        CurriculumService.create("uniform", contract_pool(), persist_path=path)
    with pytest.raises(ConfigError, match="pool of 60 tasks"):
        CurriculumService.create("thompson", contract_pool(30), persist_path=path)
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary file behind


# ----- Ray: one cluster for the module, 8 logical CPUs so 8 clients run at once on any machine -----


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    # This test module is not importable in Ray workers: ship it by value (autocurriculum.testing is installed).
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    ray.init(num_cpus=CLIENTS, include_dashboard=False, log_to_driver=False, namespace="autocurriculum-load-tests")
    yield ray
    ray.shutdown()
    ray.cloudpickle.unregister_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client_process(ray_cluster):
    """``load_client`` as a Ray task: one worker process per client (a killed one must stay dead, not rerun)."""
    return ray_cluster.remote(num_cpus=1, max_retries=0)(load_client)


def load_client(actor: str, worker: int, updates: int, progress: str | None = None) -> dict:
    """One trainer process: updates with a select every few, recording each acknowledged update.

    If the actor crashes and Ray restarts it, the client notes the failed update (not re-sent: it may have
    been applied), waits for the restart and goes on, as a trainer would.
    """
    from autocurriculum.service import connect_curriculum

    client = connect_curriculum(actor)
    log = None
    if progress is not None:
        Path(progress + ".pid").write_text(str(os.getpid()))
        log = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    acks, failed = [], []  # acks: (update index, incarnation that applied it, its update sequence number)
    for i in range(updates):
        try:
            client.update([outcome(worker, i)])
            if log is not None:  # after the call returned: the line count is the updates acknowledged
                os.write(log, b".\n")
            acks.append((i, *client.last_receipt))
            if i % SELECT_EVERY == 0:
                assert len(client.select(4)) == 4
        except ServiceUnavailableError as error:  # the update or the select in flight when the actor crashed
            if not error.restarting:
                raise
            failed.append((error.method, i))
            client.wait_until_available()
    return {"pid": os.getpid(), "worker": worker, "updates": updates, "acks": acks, "failed": failed}


def acknowledged(progress: Path) -> int:
    return len(progress.read_bytes().splitlines()) if progress.exists() else 0


def wait_for(condition, what: str, timeout_s: float = 60.0) -> None:
    """Poll a condition another process makes true (a file grows, a process exits); fail after the timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.01)


def process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
def test_eight_client_processes_lose_no_update(ray_cluster, client_process) -> None:
    from autocurriculum.service import serve_curriculum

    ray = ray_cluster
    owner = serve_curriculum("thompson", contract_pool, {"seed": 0}, name="load-8")
    results = ray.get([client_process.remote("load-8", w, UPDATES_PER_CLIENT) for w in range(CLIENTS)])
    assert len({r["pid"] for r in results}) == CLIENTS  # eight separate processes, all at once
    total = CLIENTS * UPDATES_PER_CLIENT
    assert owner.counters() == {"updates_seen": total, "groups_seen": total}
    state = owner.state_dict()
    for worker in range(CLIENTS):  # every group landed on its task with its rewards: exact totals
        assert observed_stats(state, worker) == expected_stats(worker, UPDATES_PER_CLIENT)
    untouched = np.ones(len(state["stats"]["trials"]), dtype=bool)
    untouched[: CLIENTS * TASKS_PER_CLIENT] = False
    assert not state["stats"]["trials"][untouched].any()
    assert_round_trips(state)
    owner.kill()


@pytest.mark.slow
def test_a_client_killed_mid_update_leaves_the_service_consistent(ray_cluster, client_process, tmp_path) -> None:
    from autocurriculum.service import serve_curriculum

    ray = ray_cluster
    owner = serve_curriculum("thompson", contract_pool, {"seed": 0}, name="kill-client")
    progress = tmp_path / "victim.log"
    victim = client_process.remote("kill-client", 0, 10**6, str(progress))  # runs until killed
    survivor = client_process.remote("kill-client", 1, UPDATES_PER_CLIENT)
    wait_for(lambda: acknowledged(progress) >= 50, "the victim's first 50 updates")
    os.kill(int(Path(str(progress) + ".pid").read_text()), signal.SIGKILL)
    with pytest.raises(ray.exceptions.RayError):  # WorkerCrashedError: the process died, not retried
        ray.get(victim)
    assert ray.get(survivor)["updates"] == UPDATES_PER_CLIENT

    assert len(owner.select(8)) == 8  # the service still answers
    state = owner.state_dict()
    recorded = acknowledged(progress)
    # the victim's updates are each applied whole: all it saw acknowledged, plus at most the one in flight
    from_victim = updates_in_state(state, 0)
    assert recorded <= from_victim <= recorded + 1
    assert observed_stats(state, 0) == expected_stats(0, from_victim)  # a prefix of what it sent, exactly
    assert observed_stats(state, 1) == expected_stats(1, UPDATES_PER_CLIENT)
    assert owner.counters()["updates_seen"] == from_victim + UPDATES_PER_CLIENT
    assert_round_trips(state)
    owner.kill()


def test_an_actor_killed_for_good_fails_its_clients_clearly(ray_cluster) -> None:
    from autocurriculum.service import serve_curriculum

    client = serve_curriculum("thompson", contract_pool, {"seed": 0}, name="killed-for-good")
    client.update([outcome(0, 0)])
    pid = client.describe()["pid"]
    client.kill()  # no restart
    wait_for(lambda: process_gone(pid), "the actor process to exit")
    with pytest.raises(ServiceUnavailableError) as error:
        client.update([outcome(0, 1)])
    assert not error.value.restarting and error.value.actor == "killed-for-good"
    message = str(error.value)
    assert "'killed-for-good' died and will not come back: update() failed (ActorDiedError" in message
    assert "may or may not have been applied" in message and "no persist_path" in message
    with pytest.raises(ServiceUnavailableError, match=r"killed-for-good.*counters\(\)"):
        client.counters()


def test_a_restarted_actor_continues_from_its_last_persist_and_reports_the_loss(ray_cluster, tmp_path) -> None:
    from autocurriculum.service import connect_curriculum, serve_curriculum

    ray = ray_cluster
    path = tmp_path / "curriculum.json"
    client = serve_curriculum(
        "thompson", contract_pool, {"seed": 0}, name="restarts", max_restarts=1, persist_path=path, persist_every=10
    )
    sent = 25
    for i in range(sent):
        client.update([outcome(0, i)])
    assert client.persistence()["updates_persisted"] == 20
    pid = client.describe()["pid"]
    ray.kill(client.handle, no_restart=False)  # as a crash would: Ray restarts it
    wait_for(lambda: process_gone(pid), "the actor process to exit")
    try:  # Ray fails a call that reaches the crashed process before it learns of the crash
        client.counters()
    except ServiceUnavailableError as error:
        assert error.restarting and "'restarts' is restarting: counters() failed (ActorUnavailableError" in str(error)
        assert str(path) in str(error)
    client.wait_until_available()

    report = client.persistence()
    assert client.describe()["pid"] != pid
    assert report["restored_from_update"] == 20
    assert sent - report["restored_from_update"] == 5  # lost: exactly the updates since the last persist
    state = client.state_dict()
    assert observed_stats(state, 0) == expected_stats(0, 20)  # the persisted state, exactly
    assert_round_trips(state)
    # the same actor, by name, goes on from update 20
    client.update([outcome(0, 20)])
    assert connect_curriculum("restarts").counters() == {"updates_seen": 21, "groups_seen": 21}

    # no restarts left: the next crash is final, and the message points at the file to continue from
    pid = client.describe()["pid"]
    ray.kill(client.handle, no_restart=False)
    wait_for(lambda: process_gone(pid), "the restarted actor process to exit")
    with pytest.raises(ServiceUnavailableError) as error:
        for _ in range(2):  # the first call may still see "restarting" before Ray marks the actor dead
            try:
                client.update([outcome(0, 21)])
            except ServiceUnavailableError as first:
                if not first.restarting:
                    raise
    assert not error.value.restarting and f"persist_path={str(path)!r}" in str(error.value)


def test_an_actor_that_cannot_restore_its_file_says_why(ray_cluster, tmp_path: Path) -> None:
    from autocurriculum.service import serve_curriculum

    path = tmp_path / "curriculum.json"
    CurriculumService.create("thompson", contract_pool(), persist_path=path).persist()
    with pytest.raises(ServiceUnavailableError, match=r"'wrong-file' could not start.*curriculum\.json.*'uniform'"):
        serve_curriculum("uniform", contract_pool, name="wrong-file", persist_path=path)


@pytest.mark.slow
def test_an_actor_killed_under_load_loses_only_the_updates_since_its_last_persist(
    ray_cluster, client_process, tmp_path: Path
) -> None:
    from autocurriculum.service import serve_curriculum

    ray, clients, every = ray_cluster, 3, 10
    client = serve_curriculum(
        "thompson",
        contract_pool,
        {"seed": 0},
        name="crash-under-load",
        max_restarts=1,
        persist_path=tmp_path / "curriculum.json",
        persist_every=every,
    )
    first_life = client.describe()
    refs = [client_process.remote("crash-under-load", w, UPDATES_PER_CLIENT) for w in range(clients)]
    wait_for(lambda: client.counters()["updates_seen"] >= clients * UPDATES_PER_CLIENT // 3 + every // 2, "load")
    ray.kill(client.handle, no_restart=False)
    results = ray.get(refs)
    client.wait_until_available()
    second_life = client.describe()
    assert second_life["pid"] != first_life["pid"]

    restored = client.persistence()["restored_from_update"]
    state = client.state_dict()
    kept_before, lost, after = 0, [], 0
    for r in results:
        assert len(r["failed"]) <= 1  # the call in flight at the crash, if any; then the client waits
        assert {life for _, life, _ in r["acks"]} <= {first_life["incarnation"], second_life["incarnation"]}
        # the receipts say exactly which acknowledged updates the restored state holds
        kept = [i for i, life, seq in r["acks"] if life == first_life["incarnation"] and seq <= restored]
        lost += [seq for _, life, seq in r["acks"] if life == first_life["incarnation"] and seq > restored]
        later = [i for i, life, _ in r["acks"] if life == second_life["incarnation"]]
        in_flight = updates_in_state(state, r["worker"]) - len(kept) - len(later)  # applied, never acknowledged
        assert in_flight in (0, 1) and (in_flight == 0 or r["failed"][0][0] == "update")
        applied = [*kept, *([r["failed"][0][1]] if in_flight else []), *later]
        assert observed_stats(state, r["worker"]) == expected_stats(r["worker"], applied)
        kept_before, after = kept_before + len(kept) + in_flight, after + len(later)
    assert kept_before == restored  # the restored state is exactly the updates numbered up to restored
    assert client.counters()["updates_seen"] == restored + after  # nothing after the restart was lost
    # lost: acknowledged after the last persist, so numbered restored+1 .. restored+every-1 at most
    assert all(restored < seq < restored + every for seq in lost) and len(lost) <= every - 1
    assert_round_trips(state)
    client.kill()
