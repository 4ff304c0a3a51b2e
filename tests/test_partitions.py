"""Composable partitions: each partition fault has its own lifetime; a link is cut
while any active partition separates its ends; ``heal`` ends them all."""

from __future__ import annotations

from simpy.events import Timeout

from paxsim.fuzz.explain import describe_fault
from paxsim.scenario import from_dict
from paxsim.sim.world import World


def world(faults) -> World:
    spec = {"description": "partitions", "protocol": "paxos", "servers": 3, "seed": 1,
            "network": {"delay": 1.0}, "until": 60.0,
            "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 1.0}]}], "faults": faults}
    return World(from_dict(spec, source="<test>", name="t"))


A = {"at": 5.0, "partition": [["S1"], ["S2", "S3"]], "until": 30.0}
B = {"at": 20.0, "partition": [["S3"], ["S1", "S2"]], "until": 40.0}


def probe(w: World, times, pairs) -> dict:
    seen = {}
    for t in times:
        Timeout(w.env, t).callbacks.append(
            lambda ev, t=t: seen.__setitem__(t, tuple(w.net.connected(a, b) for a, b in pairs)))
    w.run(until=60.0)
    return seen


PAIRS = [("S1", "S2"), ("S2", "S3"), ("S1", "S3")]


def test_overlapping_partitions_each_keep_their_own_lifetime():
    seen = probe(world([A, B]), [10.0, 25.0, 35.0, 45.0], PAIRS)
    assert seen[10.0] == (False, True, False)   # A only
    assert seen[25.0] == (False, False, False)  # A and B: every pair separated by one of them
    assert seen[35.0] == (True, False, False)   # A ended at 30; B goes on until 40
    assert seen[45.0] == (True, True, True)


def test_heal_ends_every_partition():
    seen = probe(world([A, B, {"at": 22.0, "heal": True}]), [21.0, 23.0, 35.0], PAIRS)
    assert seen[21.0] == (False, False, False)
    assert seen[23.0] == seen[35.0] == (True, True, True)


def test_the_trace_tells_which_partition_ended():
    w = world([A, B])
    w.run(until=60.0)
    heals = [(e[0], e[-1]) for e in w.trace.events if e[1] == "heal"]
    assert heals[0][0] == 30.0 and heals[0][1] == {"groups": [["S1"], ["S2", "S3"]]}
    assert heals[1][0] == 40.0


def test_the_fuzzers_story_tells_each_partition_its_own_end():
    w = world([A, B])
    a, b = w.scenario.faults
    assert describe_fault(a).endswith("healing at t=30")
    assert describe_fault(b).endswith("healing at t=40")
