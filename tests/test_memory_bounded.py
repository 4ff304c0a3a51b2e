"""A long run keeps memory bounded (issue: a 100,000-request Paxos run).

What a finished run still holds is measured with tracemalloc, the world kept
alive: Paxos compacts its log (servers keep at most 2 x ``compact`` slots), the
streaming checker keeps about 17 bytes per request, the client metrics 8 (one
latency each, for exact percentiles). With the full history and the batch checker
the same run holds kilobytes per request, so the measure has teeth.
``paxsim bench --memory 10000,100000`` reports peak RSS at scale (README).
"""

from __future__ import annotations

import gc
import tracemalloc

from paxsim.driver import run_scenario
from paxsim.scenario import from_dict


def steady(requests: int) -> dict:
    return {
        "description": "steady paxos", "protocol": "paxos", "servers": 3, "seed": 1, "settle": 20.0, "params": {"compact": 50},
        "network": {"delay": {"dist": "uniform", "low": 0.5, "high": 1.5}},
        "clients": [{"name": f"C{i}", "requests": {"count": requests // 2, "start": 0.0, "interval": 0.0},
                     "retry": 200.0} for i in (1, 2)],
    }


def held(requests: int, stream: bool) -> int:
    """Bytes allocated during the run and still held by its result at the end."""
    sc = from_dict(steady(requests), source="<memory>", name="memory")
    gc.collect()
    tracemalloc.start()
    try:
        r = run_scenario(sc, record_trace=False, stream=stream)
        gc.collect()
        size, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.outcome == "SAFE" and r.world.client_metrics.completions == requests
    for host in r.world.hosts.values():  # each server holds at most two checkpoints' worth of slots
        lrn = host.replica.lrn
        assert len(lrn.log) <= 100 and len(host.replica.acc.accepted) <= 100 and len(host.store) <= 102
    return size


def test_a_long_streaming_paxos_run_holds_a_few_bytes_per_request():
    held(200, stream=True)  # warm up: imports and caches made once are not the run's
    per_request = (held(8000, stream=True) - held(2000, stream=True)) / 6000
    print(f"{per_request:.1f} bytes per request")
    assert per_request < 40, per_request


def test_with_the_full_history_the_same_run_holds_kilobytes_per_request():
    held(200, stream=False)
    per_request = (held(4000, stream=False) - held(1000, stream=False)) / 3000
    assert per_request > 1000, per_request
