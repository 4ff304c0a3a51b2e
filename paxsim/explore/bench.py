"""How fast ``paxsim check`` explores, as a ratio against a bare search loop.

The workload: Paxos, 3 servers, 2 clients x 1 request, no faults and no timer
(a space of about 25,000 states that the search exhausts). The bare loop does only
what any breadth-first search must: pop a state, build a key of the same size as
the explorer's (real keys, sampled from the same space), test it against the seen
set, add it and queue it. Both are timed in CPU time, best of ``repeat``.
"""

from __future__ import annotations

import time
from collections import deque

from ..protocols import load_protocol
from .model import Bounds, KeyParts, Setup, System
from .search import explore

BOUNDS = Bounds(drops=0, dups=0, crashes=0, recoveries=0, timeouts=0)


def paxos_setup() -> Setup:
    proto = load_protocol("paxos")
    return Setup(proto, ("S1", "S2", "S3"), ("C1", "C2"), 1, proto.check_params({}, 3), mode=proto.client_mode)


def sample_keys(n: int = 1000) -> list:
    """Keys of real states of the workload's space (its first ``n`` in BFS order)."""
    system = System(paxos_setup(), BOUNDS)
    queue = deque([system.initial()])
    keys: list = []
    seen = set()
    parts = KeyParts()  # keys as the search makes them
    while queue and len(keys) < n:
        for child in system.successors(queue.popleft()):
            k = child.key(parts)
            if k not in seen:
                seen.add(k)
                keys.append(k)
                queue.append(child)
    return keys


def bare_loop(states: int, keys: list) -> float:
    """CPU seconds for a BFS loop that dedups and queues ``states`` states with keys
    as large as the explorer's, and does nothing else."""
    start = time.process_time()
    seen = set()
    queue: deque = deque([0])
    m = len(keys)
    i = 0
    while queue and i < states:
        queue.popleft()
        for _ in range(3):  # about the explorer's transitions per state
            key = (i, keys[i % m])
            i += 1
            if key not in seen:
                seen.add(key)
                queue.append(i)
    return time.process_time() - start


def check_speed(repeat: int = 3) -> dict:
    best = None
    for _ in range(repeat):
        out = explore(paxos_setup(), BOUNDS)
        if best is None or out.stats.cpu_seconds < best.stats.cpu_seconds:
            best = out
    assert best is not None and best.complete and best.outcome == "SAFE"
    keys = sample_keys()
    bare = min(bare_loop(best.stats.states, keys) for _ in range(repeat))
    check_rate = best.stats.states / best.stats.cpu_seconds
    bare_rate = best.stats.states / bare if bare > 0 else float("inf")
    return {"workload": "paxos, 3 servers, 2 clients x 1 request, no faults, no timers (complete)",
            "states": best.stats.states, "transitions": best.stats.transitions,
            "check_states_per_s": check_rate, "bare_states_per_s": bare_rate, "ratio": check_rate / bare_rate}
