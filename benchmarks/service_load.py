"""The Ray-served curriculum under load and faults (issue 13): N client processes against one actor.

Three phases, each against a fresh named actor (thompson over a pool of --pool-size tasks, persisting its
state every --persist-every updates, as a deployment would):

* load: every client sends --updates single-group updates with a select(--select-size) every --select-every
  updates; afterwards the actor's counters and statistics must match what the clients sent exactly (lost =
  sent - applied, target 0). Throughput and per-call p50/p99 latency are measured in the clients.
* batched: the same with --batch-groups groups per update call, as a trainer sending one batch per step does.
* fault: the load again with max_restarts=1; half-way the actor is killed (``ray.kill(no_restart=False)``, as a
  crash would). Clients count the calls that failed, wait for the restart and go on. Reported: the update the
  restarted actor restored from, the acknowledged updates it lost (at most persist_every - 1), and a check that
  every update acknowledged after the restart was kept.

Run: make benchmark-service  (or: python benchmarks/service_load.py --clients 8 --updates 10000)
Writes --out (default runs/service-load/result.json) and prints a summary.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import ray

from autocurriculum.core import GroupOutcome
from autocurriculum.core.errors import ServiceUnavailableError
from autocurriculum.service import connect_curriculum, serve_curriculum
from autocurriculum.testing import contract_pool


@ray.remote(num_cpus=0)
class StartSignal:
    """Holds the clients until all of them are connected, so the timed window is the concurrent load only."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.arrived = 0

    async def arrive(self) -> None:
        self.arrived += 1

    async def count(self) -> int:
        return self.arrived

    async def wait(self) -> None:
        await self.event.wait()

    async def go(self) -> None:
        self.event.set()


def make_updates(worker: int, calls: int, groups_per_call: int, pool_size: int, group_size: int) -> list:
    """The client's updates, built before the timer (a trainer builds its outcomes anyway)."""
    rng = np.random.default_rng(1000 + worker)
    tasks = rng.integers(0, pool_size, size=(calls, groups_per_call))
    rewards = (rng.random((calls, groups_per_call, group_size)) < 0.5).astype(float)
    return [
        [GroupOutcome(f"task-{t}", r, step=i) for t, r in zip(tasks[i], rewards[i], strict=True)] for i in range(calls)
    ]


@ray.remote(num_cpus=1, max_retries=0)
def client_process(actor: str, signal: Any, worker: int, args: dict[str, Any], groups_per_call: int) -> dict:
    """One trainer process: connect by name, wait for the start, then update with interleaved selects."""
    updates = make_updates(worker, args["calls"], groups_per_call, args["pool_size"], args["group_size"])
    client = connect_curriculum(actor)
    ray.get(signal.arrive.remote())
    ray.get(signal.wait.remote())
    update_s, select_s = [], []
    receipts = []  # (incarnation, update sequence number) of every acknowledged update
    acked = failed = 0
    restart_wait_s = 0.0
    successes = 0.0
    start = time.time()
    for i, groups in enumerate(updates):
        t = time.perf_counter()
        try:
            client.update(groups)
        except ServiceUnavailableError as error:  # the fault phase: count it, wait for Ray's restart, go on
            if not error.restarting:
                raise
            failed += 1
            client.wait_until_available()
            restart_wait_s = max(restart_wait_s, time.perf_counter() - t)  # from the failed call to the restart
            continue  # not re-sent: it may have been applied already (see ray_actor.py)
        update_s.append(time.perf_counter() - t)
        receipts.append(tuple(client.last_receipt))
        acked += 1
        successes += float(sum(g.rewards.sum() for g in groups))
        if i % args["select_every"] == 0:
            t = time.perf_counter()
            try:
                client.select(args["select_size"])
            except ServiceUnavailableError as error:
                if not error.restarting:
                    raise
                failed += 1
                client.wait_until_available()
                continue
            select_s.append(time.perf_counter() - t)
    return {
        "pid": os.getpid(),
        "start": start,
        "end": time.time(),
        "update_s": np.asarray(update_s),
        "select_s": np.asarray(select_s),
        "acked": acked,
        "acked_groups": acked * groups_per_call,
        "acked_successes": successes,
        "receipts": receipts,
        "failed_calls": failed,
        "restart_wait_s": restart_wait_s,
    }


def latency_ms(samples: list[np.ndarray]) -> dict[str, float]:
    values = np.concatenate(samples) * 1e3 if samples else np.zeros(0)
    if values.size == 0:
        return {}
    return {
        "calls": int(values.size),
        "p50": round(float(np.percentile(values, 50)), 3),
        "p99": round(float(np.percentile(values, 99)), 3),
        "mean": round(float(values.mean()), 3),
        "max": round(float(values.max()), 3),
    }


def run_phase(
    name: str, args: argparse.Namespace, calls: int, groups_per_call: int, persist_path: Path, kill_after: int = 0
) -> dict[str, Any]:
    """Serve a fresh actor, run the clients against it, check what it holds against what they sent."""
    persist_path.unlink(missing_ok=True)
    actor = f"service-load-{name}"
    owner = serve_curriculum(
        args.strategy,
        functools.partial(contract_pool, args.pool_size),  # the actor builds the pool itself
        {"seed": 0},
        name=actor,
        max_restarts=1 if kill_after else 0,
        persist_path=persist_path,
        persist_every=args.persist_every,
    )
    signal = StartSignal.remote()
    shared = {
        "calls": calls,
        "pool_size": args.pool_size,
        "group_size": args.group_size,
        "select_every": args.select_every,
        "select_size": args.select_size,
    }
    refs = [client_process.remote(actor, signal, w, shared, groups_per_call) for w in range(args.clients)]
    while ray.get(signal.count.remote()) < args.clients:  # worker processes start at their own pace
        time.sleep(0.05)
    ray.get(signal.go.remote())
    killed_at, first_life = None, owner.describe()["incarnation"]
    if kill_after:  # kill the actor once it has applied about kill_after updates, mid-load
        while (seen := owner.counters()["updates_seen"]) < kill_after:
            time.sleep(0.05)
        killed_at = seen
        ray.kill(owner.handle, no_restart=False)
    results = ray.get(refs)
    owner.wait_until_available()

    counters = owner.counters()
    state = owner.state_dict()
    persistence = owner.persistence()
    owner.kill()
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    acked = sum(r["acked"] for r in results)
    report: dict[str, Any] = {
        "clients": args.clients,
        "distinct_client_processes": len({r["pid"] for r in results}),
        "groups_per_update": groups_per_call,
        "updates_sent": args.clients * calls,
        "updates_acknowledged": acked,
        "updates_applied": counters["updates_seen"],
        "groups_acknowledged": sum(r["acked_groups"] for r in results),
        "groups_applied": counters["groups_seen"],
        "wall_s": round(wall, 2),
        "updates_per_s": round(acked / wall, 1),
        "groups_per_s": round(sum(r["acked_groups"] for r in results) / wall, 1),
        "update_latency_ms": latency_ms([r["update_s"] for r in results]),
        "select_latency_ms": latency_ms([r["select_s"] for r in results]),
    }
    trials = float(np.asarray(state["stats"]["trials"], dtype=np.float64).sum())
    successes = float(np.asarray(state["stats"]["successes"], dtype=np.float64).sum())
    if not kill_after:
        report["updates_lost"] = acked - counters["updates_seen"]  # target 0
        report["statistics_match"] = bool(
            trials == report["groups_acknowledged"] * args.group_size
            and successes == sum(r["acked_successes"] for r in results)
        )
    else:
        restored = persistence["restored_from_update"]
        first = [seq for r in results for life, seq in r["receipts"] if life == first_life]
        lost = sorted(seq for seq in first if seq > restored)  # acknowledged, numbered after the last persist
        after = sum(len(r["receipts"]) for r in results) - len(first)
        report.update(
            {
                "persist_every": args.persist_every,
                "killed_when_applied_about": killed_at,
                "applied_before_crash_at_least": max(first),
                "restored_from_update": restored,
                "failed_calls": sum(r["failed_calls"] for r in results),
                "updates_lost": len(lost),  # target: at most persist_every - 1
                "lost_update_sequence_range": [lost[0], lost[-1]] if lost else [],
                # a call that failed at the crash may still have been applied (and persisted)
                "unacknowledged_but_kept": restored - (len(first) - len(lost)),
                "all_updates_after_restart_kept": counters["updates_seen"] == restored + after,
                "longest_outage_s": round(max(r["restart_wait_s"] for r in results), 2),  # failed call to restart
            }
        )
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="client processes")
    parser.add_argument("--updates", type=int, default=10_000, help="single-group updates per client")
    parser.add_argument("--select-every", type=int, default=4, help="a select after every k-th update")
    parser.add_argument("--select-size", type=int, default=8, help="tasks per select")
    parser.add_argument("--group-size", type=int, default=8, help="rollouts per group")
    parser.add_argument("--pool-size", type=int, default=10_000, help="tasks in the pool")
    parser.add_argument("--strategy", default="thompson")
    parser.add_argument("--persist-every", type=int, default=100, help="updates between two persists")
    parser.add_argument("--batch-groups", type=int, default=32, help="groups per update in the batched phase")
    parser.add_argument("--batched-updates", type=int, default=1_000, help="batched updates per client (0: skip)")
    parser.add_argument("--fault-updates", type=int, default=2_000, help="updates per client, fault phase (0: skip)")
    parser.add_argument("--out", type=Path, default=Path("runs/service-load/result.json"))
    args = parser.parse_args(argv)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    persist_path = args.out.parent / "curriculum-state.json"
    # logical CPUs: one per client, so all run at once whatever the machine (they share the real cores)
    ray.init(num_cpus=args.clients, include_dashboard=False, log_to_driver=False, namespace="service-load")
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # benchmarks/ is not importable in workers
    started = time.time()
    result: dict[str, Any] = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {"cpu_count": os.cpu_count(), "ray": ray.__version__},
    }

    def phase(key: str, **kwargs: Any) -> None:
        print(f"{key} ...", flush=True)
        result[key] = run_phase(key, args, persist_path=persist_path, **kwargs)
        print(json.dumps(result[key], indent=1), flush=True)

    phase("load", calls=args.updates, groups_per_call=1)
    if args.batched_updates:
        phase("batched", calls=args.batched_updates, groups_per_call=args.batch_groups)
    if args.fault_updates:
        # half-way, and half a persist interval past a persist: the kill lands between two persists
        kill_after = args.clients * args.fault_updates // 2 + args.persist_every // 2
        phase("fault", calls=args.fault_updates, groups_per_call=1, kill_after=kill_after)
    result["total_wall_s"] = round(time.time() - started, 1)
    ray.shutdown()

    args.out.write_text(json.dumps(result, indent=2) + "\n")
    load = result["load"]
    print(
        f"\n{args.clients} clients x {args.updates} updates: {load['updates_per_s']} updates/s, update p50/p99 "
        f"{load['update_latency_ms']['p50']}/{load['update_latency_ms']['p99']} ms, select p50/p99 "
        f"{load['select_latency_ms']['p50']}/{load['select_latency_ms']['p99']} ms, lost {load['updates_lost']}"
    )
    if "fault" in result:
        fault = result["fault"]
        print(
            f"actor killed at ~{fault['killed_when_applied_about']} updates: restored from update "
            f"{fault['restored_from_update']}, lost {fault['updates_lost']} acknowledged updates "
            f"(persist_every {args.persist_every}), {fault['failed_calls']} calls failed, all later updates kept: "
            f"{fault['all_updates_after_restart_kept']}"
        )
    print(f"wrote {args.out} ({result['total_wall_s']} s)")
    return result


if __name__ == "__main__":
    main()
