"""The benchmark: simulated message deliveries per second of the whole stack
(network + replicas + clients + checker), next to a bare SimPy loop that schedules
and fires the same number of timeouts with callbacks, in the same process.

The ratio (paxsim / bare SimPy) is the number that matters: it does not depend on
the machine's speed, only on how much work paxsim adds per delivered message.
Both sides are timed in process CPU time (``time.process_time``), best of
``repeat`` runs, interleaved, so that other load on the machine changes little.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Optional

import simpy
from simpy.events import Timeout

from .checker import check
from .scenario import from_dict
from .sim.world import World


def workload(protocol: str, servers: int, clients: int, requests: int, seed: int = 1,
             params: Optional[dict] = None) -> dict:
    """A steady-state scenario: no faults, uniform delays, closed-loop clients."""
    return {
        "description": f"benchmark: {protocol}, {servers} servers, {clients} clients x {requests} requests",
        "protocol": protocol,
        "servers": servers,
        "seed": seed,
        "settle": 20.0,  # longer than any request takes (4 hops of up to 1.5), or the run ends early
        "params": params or {},
        "network": {"delay": {"dist": "uniform", "low": 0.5, "high": 1.5}},
        "clients": [
            {"name": f"C{i + 1}", "requests": {"count": requests, "start": 0.0, "interval": 0.0}, "retry": 200.0}
            for i in range(clients)
        ],
    }


@dataclass
class PaxsimRun:
    deliveries: int
    seconds: float
    completed: int
    messages_sent: int
    outcome: str


def run_paxsim(spec: dict) -> PaxsimRun:
    scenario = from_dict(spec, source="<bench>", name="bench")
    t0 = time.process_time()
    world = World(scenario, record_trace=False)
    history = world.run()
    verdict = check(history)
    seconds = time.process_time() - t0
    return PaxsimRun(sum(world.net.delivered.values()), seconds, world.client_metrics.completions,
                     sum(world.net.sent.values()), verdict.outcome)


def run_bare_simpy(events: int, concurrency: int = 16) -> float:
    """Seconds for a bare SimPy loop to schedule and fire ``events`` timeouts with callbacks."""
    env = simpy.Environment()
    left = [events]

    def fire(ev: Timeout) -> None:
        if left[0] > 0:
            left[0] -= 1
            Timeout(env, 1.0, ev._value).callbacks.append(fire)

    t0 = time.process_time()
    for i in range(min(concurrency, events)):
        left[0] -= 1
        Timeout(env, 1.0, i).callbacks.append(fire)
    env.run()
    return time.process_time() - t0


# The stages, each with the number of servers its figure uses, for the message-cost table.
STAGES: list[tuple[str, int]] = [
    ("single_server", 1), ("uncoordinated", 2), ("send_accept", 2), ("retrans_accept", 2),
    ("retrans_accept_fallback", 2), ("wait_for_learn", 2), ("wait_for_learn_fallback", 2),
    ("wait_for_learn_majority", 3), ("leader_change", 3), ("leader_change_rounds", 3), ("paxos", 3),
    ("paxos", 5), ("paxos_promise_without_round", 5),
]


def stage_costs(requests: int = 200, clients: int = 2) -> list[dict]:
    """Messages per committed request for each stage in steady state (no faults).

    Heartbeats are counted apart: they depend on how long the run takes, not on
    how many requests it commits.
    """
    rows = []
    for protocol, servers in STAGES:
        spec = workload(protocol, servers, clients, requests)
        scenario = from_dict(spec, source="<bench>", name="bench")
        world = World(scenario, record_trace=False)
        verdict = check(world.run())
        done = world.client_metrics.completions
        sent = dict(world.net.sent)
        hb = sent.pop("HB", 0)
        rows.append({
            "protocol": protocol,
            "servers": servers,
            "completed": done,
            "messages_per_request": (sum(sent.values()) / done) if done else None,
            "heartbeats_per_request": (hb / done) if done else None,
            "by_type": {k: round(v / done, 2) for k, v in sorted(sent.items())} if done else {},
            "outcome": verdict.outcome,
        })
    return rows


def measure(protocol: str = "paxos", servers: int = 5, clients: int = 4, requests: int = 1500,
            repeat: int = 3, params: Optional[dict] = None) -> dict:
    spec = workload(protocol, servers, clients, requests, params=params)
    best_p: Optional[PaxsimRun] = None
    best_s = float("inf")
    gc.collect()
    for _ in range(repeat):
        r = run_paxsim(spec)
        if best_p is None or r.seconds < best_p.seconds:
            best_p = r
        best_s = min(best_s, run_bare_simpy(r.deliveries))
    assert best_p is not None
    p_rate = best_p.deliveries / best_p.seconds
    s_rate = best_p.deliveries / best_s
    return {
        "workload": f"{protocol} n={servers}, {clients} clients x {requests} requests, no faults",
        "protocol": protocol,
        "servers": servers,
        "deliveries": best_p.deliveries,
        "requests_completed": best_p.completed,
        "messages_per_request": best_p.messages_sent / best_p.completed if best_p.completed else None,
        "outcome": best_p.outcome,
        "paxsim_seconds": best_p.seconds,
        "simpy_seconds": best_s,
        "paxsim_deliveries_per_s": p_rate,
        "simpy_deliveries_per_s": s_rate,
        "ratio": p_rate / s_rate,
    }


# ---------------------------------------------------------------- memory ---

def _peak_rss_mb() -> float:
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def _memory_child(protocol: str, servers: int, clients: int, total: int, stream: bool) -> dict:
    """One long run in this (fresh) process: its peak RSS, outcome and completions."""
    per_client, extra = divmod(total, clients)
    spec = workload(protocol, servers, clients, per_client)
    for c in spec["clients"][:extra]:
        c["requests"]["count"] += 1
    scenario = from_dict(spec, source="<bench --memory>", name="bench-memory")
    world = World(scenario, record_trace=False, stream=stream)
    verdict = check(world.run())
    return {"requests": total, "completed": world.client_metrics.completions, "outcome": verdict.outcome,
            "peak_rss_mb": _peak_rss_mb(), "stream": stream}


def measure_memory(sizes: list[int], protocol: str = "paxos", servers: int = 5, clients: int = 4,
                   stream: bool = True) -> list[dict]:
    """Peak resident memory of one long steady run per size (total requests), each in a
    fresh process so that one run's peak does not hide the next one's."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    rows = []
    for total in sizes:
        with ctx.Pool(1) as pool:
            rows.append(pool.apply(_memory_child, (protocol, servers, clients, total, stream)))
    return rows
