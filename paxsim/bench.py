"""The benchmark: simulated message deliveries per second of the whole stack
(network + replicas + clients + checker), next to a bare SimPy loop that schedules
and fires the same number of timeouts with callbacks, in the same process.

The ratio (paxsim / bare SimPy) is the number that matters: it does not depend on
the machine's speed, only on how much work paxsim adds per delivered message.
Both sides are timed in process CPU time (``time.process_time``), best of
``repeat`` runs, interleaved, so that other load on the machine changes little;
the spread of the ratio of each interleaved pair says how much it did.

Also measured: the same ratio per stage (:func:`stage_ratios`), the CPU time to
build a world (:func:`world_construction`), and what ``paxsim run --json`` costs
as a whole process against ``paxsim run --stream`` (:func:`run_json_vs_stream`).
"""

from __future__ import annotations

import gc
import os
import statistics
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


def spread(values: list[float]) -> dict:
    """min, median and max, rounded for reading."""
    return {"min": round(min(values), 4), "median": round(statistics.median(values), 4),
            "max": round(max(values), 4)}


def measure(protocol: str = "paxos", servers: int = 5, clients: int = 4, requests: int = 1500,
            repeat: int = 3, params: Optional[dict] = None) -> dict:
    spec = workload(protocol, servers, clients, requests, params=params)
    best_p: Optional[PaxsimRun] = None
    best_s = float("inf")
    pairs = []  # the ratio of each interleaved pair of runs
    gc.collect()
    for _ in range(repeat):
        r = run_paxsim(spec)
        if best_p is None or r.seconds < best_p.seconds:
            best_p = r
        s = run_bare_simpy(r.deliveries)
        best_s = min(best_s, s)
        pairs.append(s / r.seconds)
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
        "ratio_spread": spread(pairs),
        "repeat": repeat,
        "world_ms": world_construction(spec),
    }


def world_construction(spec: dict, times: int = 30) -> float:
    """CPU milliseconds to build the world of ``spec`` (network, links, hosts,
    clients, faults), best of ``times``: what every run pays before its first event."""
    scenario = from_dict(spec, source="<bench>", name="bench")
    best = float("inf")
    for _ in range(times):
        t0 = time.process_time()
        World(scenario, record_trace=False)
        best = min(best, time.process_time() - t0)
    return round(best * 1000, 3)


def stage_ratios(requests: int = 300, clients: int = 2, repeat: int = 3) -> list[dict]:
    """The bench ratio of every stage (``STAGES``), each on its figure's number of servers,
    in steady state: how much each stage's protocol (and its checking) costs per delivery."""
    rows = []
    for protocol, servers in STAGES:
        r = measure(protocol, servers, clients, requests, repeat=repeat)
        rows.append({k: r[k] for k in ("protocol", "servers", "ratio", "ratio_spread", "deliveries",
                                       "paxsim_deliveries_per_s", "world_ms", "outcome")})
    return rows


def run_json_vs_stream(protocol: str = "paxos", servers: int = 5, clients: int = 4, requests: int = 500,
                       repeat: int = 3) -> dict:
    """CPU seconds of whole ``paxsim run`` processes on one scenario of ``clients x
    requests`` requests (2,000 by default): ``--json`` (no trace unless asked for),
    ``--json --digest`` (a trace and its digest) and ``--json --stream``, interleaved,
    best of ``repeat``; the ratios against ``--stream``, with their spread over rounds."""
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from .scenario import from_dict

    spec = workload(protocol, servers, clients, requests)
    text = from_dict(spec, source="<bench>", name="bench-run").to_toml()
    root = str(Path(__file__).resolve().parent.parent)  # where this paxsim is imported from
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p))
    modes = {"json": ["--json"], "digest": ["--json", "--digest"], "stream": ["--json", "--stream"]}
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    with tempfile.TemporaryDirectory(prefix="paxsim-bench-") as tmp:
        path = Path(tmp) / "bench-run.toml"
        path.write_text(text)
        for _ in range(repeat):
            for mode, flags in modes.items():
                before = os.times()
                subprocess.run([sys.executable, "-m", "paxsim", "run", str(path), *flags], env=env, check=True,
                               stdout=subprocess.DEVNULL)
                after = os.times()
                seconds[mode].append(after.children_user + after.children_system
                                     - before.children_user - before.children_system)
    best = {m: min(v) for m, v in seconds.items()}
    return {
        "workload": f"{protocol} n={servers}, {clients} clients x {requests} requests, no faults",
        "requests": clients * requests,
        "seconds": {m: round(v, 3) for m, v in best.items()},
        "json_over_stream": round(best["json"] / best["stream"], 3),
        "json_over_stream_spread": spread([j / s for j, s in zip(seconds["json"], seconds["stream"])]),
        "digest_over_stream": round(best["digest"] / best["stream"], 3),
        "repeat": repeat,
    }


def machine() -> dict:
    """What the numbers were measured on, and how busy it was."""
    import platform

    return {"python": platform.python_version(), "platform": platform.platform(terse=True),
            "cpus": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()]}


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
