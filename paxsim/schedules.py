"""Random failure schedules drawn from a seed.

``random_scenario("paxos", seed=7, servers=5)`` gives a scenario with random
client request times, a lossy, duplicating network with random delays, crashes
(and recoveries) and partitions (and heals), all within ``horizon``; after that the
run settles, so liveness can be judged. The same arguments always give the same
scenario: the draws come from a stream named after the seed, never from global
random state.
"""

from __future__ import annotations

from typing import Optional, Sequence

from .scenario import Scenario, from_dict
from .sim.rng import stream


def random_schedule(protocol: str, seed: int, *, servers: int = 3, clients: int = 2, requests: int = 3,
                    loss: float = 0.05, duplicate: float = 0.02, crashes: int = 1, partitions: int = 1,
                    recover: bool = True, horizon: float = 60.0, params: Optional[dict] = None,
                    delay: Sequence[float] = (0.5, 1.5), settle: float = 60.0, key: Optional[str] = None) -> dict:
    """The scenario as a dict (the TOML schema); see :func:`random_scenario`.
    ``key`` names the random stream instead of ``protocol``: schedules drawn with
    the same key and seed are the same for every protocol (paired comparisons)."""
    rng = stream(seed, "schedule", protocol if key is None else key, servers, clients, requests)
    names = [f"S{i}" for i in range(1, servers + 1)]
    cnames = [f"C{i}" for i in range(1, clients + 1)]
    counter = 0
    client_list = []
    for c in cnames:
        times = sorted(round(rng.uniform(0.0, horizon * 0.8), 3) for _ in range(requests))
        reqs = []
        for t in times:
            counter += 1
            reqs.append({"id": f"m{counter}", "at": t})
        client_list.append({"name": c, "requests": reqs, "retry": 8.0})
    faults: list[dict] = []
    for _ in range(crashes):
        s = rng.choice(names)
        at = round(rng.uniform(0.0, horizon * 0.9), 3)
        faults.append({"at": at, "crash": s})
        if recover:
            back = round(min(horizon, at + rng.uniform(3.0, 20.0)), 3)
            faults.append({"at": back, "recover": s})
    for _ in range(partitions):
        if servers < 2:
            break
        shuffled = names[:]
        rng.shuffle(shuffled)
        k = rng.randint(1, servers - 1)
        a, b = sorted(shuffled[:k]), sorted(shuffled[k:])
        for c in cnames:  # a client may be cut off with one side, or stay connected to all
            side = rng.random()
            if side < 0.3:
                a.append(c)
            elif side < 0.6:
                b.append(c)
        at = round(rng.uniform(0.0, horizon * 0.8), 3)
        until = round(min(horizon, at + rng.uniform(3.0, 25.0)), 3)
        faults.append({"at": at, "partition": [a, b], "until": until})
    faults.sort(key=lambda f: (f["at"], sorted(f)))
    return {
        "description": (f"random schedule {seed}: {protocol}, {servers} servers, {clients} clients x {requests} "
                        f"requests, loss {loss}, dup {duplicate}, {crashes} crash(es), {partitions} partition(s)"),
        "protocol": protocol,
        "servers": servers,
        "seed": seed,
        "settle": settle,
        "params": dict(params or {}),
        "network": {"delay": {"dist": "uniform", "low": float(delay[0]), "high": float(delay[1])},
                    "loss": loss, "duplicate": duplicate, "fifo": False},
        "clients": client_list,
        "faults": faults,
    }


def random_scenario(protocol: str, seed: int, **kw) -> Scenario:
    """A validated random scenario; keyword arguments as :func:`random_schedule`."""
    return from_dict(random_schedule(protocol, seed, **kw), source=f"<random {protocol} seed {seed}>",
                     name=f"random-{protocol}-{seed}")
