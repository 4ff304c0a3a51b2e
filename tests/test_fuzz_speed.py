"""What keeps the search fast changes nothing it finds: the scenario builder (no
second validation) and the validator agree on every drawn schedule; a world that is
let go is freed at once (no cycles left for the garbage collector); a chunk freezes
the heap only while it runs, and never the caller's."""

from __future__ import annotations

import gc
import random
import sys

import pytest

from paxsim import run_scenario, scenario_from_dict
from paxsim.fuzz.build import ScenarioBuilder
from paxsim.fuzz.strategies import Layout, decode_scenario

search_module = sys.modules["paxsim.fuzz.search"]   # paxsim.fuzz.search is also the function

CONFIGS = [  # protocol, servers, requests, liveness, params, settle
    ("paxos", 3, 1, False, (), 30.0),
    ("paxos", 5, 2, True, (), None),
    ("paxos_promise_without_round", 5, 1, False, (), 30.0),
    ("uncoordinated", 2, 2, False, (), 30.0),
    ("send_accept", 2, 1, True, (), None),
    ("wait_for_learn_majority", 3, 1, False, (("retransmit", 3.0),), 30.0),
    ("leader_change_rounds", 5, 1, False, (), 30.0),
]


def drawn(protocol, servers, requests, liveness, params, settle, count, seed):
    """``count`` decoded schedules from random byte strings (and the all-zero one)."""
    rnd = random.Random(seed)
    size = Layout(servers, 2, requests, 5).size
    blobs = [bytes(size)] + [rnd.randbytes(size) for _ in range(count - 1)]
    return [decode_scenario(b, protocol, servers, 2, requests, liveness, 5, params, settle=settle) for b in blobs]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c[0]}-n{c[1]}{'-liveness' if c[3] else ''}")
def test_builder_makes_the_scenario_the_validator_makes(config):
    build = ScenarioBuilder(config[0])
    dropped = 0
    for d in drawn(*config, count=150, seed=len(config[0])):
        want = scenario_from_dict(d, source="<fuzz>")
        got = build.build(d)
        assert got is not None, d
        assert got == want and repr(got) == repr(want), d
        dropped += len(d.get("faults", ())) - len(got.faults)
    assert dropped > 0   # the faults that would do nothing are left out alike (some are drawn)


def test_builder_hands_what_it_cannot_vouch_for_to_the_validator():
    d = drawn("paxos", 3, 1, False, (), 30.0, count=1, seed=1)[0]
    build = ScenarioBuilder("paxos")
    assert build.build({**d, "until": 50.0}) is None                  # keys drawn dicts never have
    assert build.build({**d, "expected": "SAFE"}) is None
    assert build.build({**d, "params": {"heartbeat": 0.001}}) is None  # too fast for the network
    with pytest.raises(ValueError, match="params.heartbeat"):
        build({**d, "params": {"heartbeat": 0.001}})


def unreachable_after(dispose: bool) -> int:
    """Objects only the cyclic garbage collector would free, after running (and
    disposing of) the worlds of ten drawn schedules."""
    build = ScenarioBuilder("paxos")
    gc.collect()
    found = 0
    for d in drawn("paxos", 3, 1, False, (), 30.0, count=10, seed=7):
        r = run_scenario(build(d), record_trace=False)
        if dispose:
            r.world.dispose()
        del r
        found += gc.collect()
    return found


def test_a_disposed_world_is_freed_without_the_cyclic_collector():
    assert unreachable_after(dispose=False) > 1000     # a world is a web of cycles ...
    assert unreachable_after(dispose=True) <= 10 * 10  # ... until disposed of (SimPy's Environment keeps a few)


def test_the_search_disposes_of_the_worlds_it_ran():
    cfg = search_module.FuzzConfig("paxos", servers=3)
    search_module.run_chunk(cfg, 1, 0, 5)
    gc.collect()
    gc.disable()
    try:
        search_module.run_chunk(cfg, 1, 1, 20)
        left = gc.collect()
    finally:
        gc.enable()
    assert left < 20 * 250    # hypothesis's own (~70 a run); 20 worlds not disposed of leave over 10,000


def test_a_chunk_freezes_the_heap_only_while_it_runs_and_never_the_callers():
    seen = []
    with search_module.frozen_heap():
        seen.append(gc.get_freeze_count())
    assert seen[0] > 0 and gc.get_freeze_count() == 0
    gc.freeze()
    try:
        mine = gc.get_freeze_count()
        with search_module.frozen_heap():
            pass
        assert gc.get_freeze_count() == mine    # the caller's frozen objects stay frozen
    finally:
        gc.unfreeze()
