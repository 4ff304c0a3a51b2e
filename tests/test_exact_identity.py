"""Exact state identity: two different request sequences never compare equal, in
``State`` and in both checkers, whatever the digest.

A state's digest chains ``Request.key``, a CRC-32 of the id: ids can collide
(``req-2f74de6ba`` and ``req-3a4e5ebf7d`` do). The tests use that real pair, and
inject colliding key functions (every id the same key; keys by id length) into
whole simulated runs: the verdicts must be those of the run with CRC-32 keys.
"""

from __future__ import annotations

from zlib import crc32

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paxsim.types as types
from paxsim.checker import StreamChecker, check
from paxsim.driver import run_scenario
from paxsim.history import Execution, History, Invocation, Observed
from paxsim.protocols import load_protocol
from paxsim.schedules import random_scenario
from paxsim.types import EMPTY, Request

TWINS = ("req-2f74de6ba", "req-3a4e5ebf7d")


def stream(h: History) -> object:
    sc = StreamChecker()
    recs = [(x.time, x.pos, 0, i, x) for i, x in enumerate(h.invocations)]
    recs += [(x.time, x.pos, 1, i, x) for i, x in enumerate(h.executions)]
    recs += [(x.time, x.pos, 2, i, x) for i, x in enumerate(h.replies)]
    recs.sort(key=lambda t: t[:4])
    sink = {Invocation: sc.invocations, Observed: sc.replies, Execution: sc.executions}
    for rec in recs:
        sink[type(rec[4])].append(rec[4])
    return sc.verdict(h.final)


def broken(v) -> set[str]:
    return {x.invariant for x in v.violations} | {name for name, _ in v.omitted}


def test_the_twins_collide_under_crc32():
    a, b = TWINS
    assert a != b and crc32(a.encode()) == crc32(b.encode())
    assert Request(a, "C1").key == Request(b, "C2").key


def test_states_of_colliding_requests_are_not_equal():
    a, b = Request(TWINS[0], "C1"), Request(TWINS[1], "C2")
    d = Request("d", "C3")
    sa, sb = EMPTY.then(a).then(d), EMPTY.then(b).then(d)
    assert (sa.length, sa.digest) == (sb.length, sb.digest)  # the digest cannot tell them apart
    assert sa != sb and len({sa, sb}) == 2
    assert sa == EMPTY.then(a).then(d)  # equal sequences built apart are equal


def crafted_fork(a: Request, b: Request) -> History:
    """C3 sees <a d>, C2 sees <b> then <b d e>: a fork if a != b."""
    d, e = Request("d", "C3"), Request("e", "C2")
    s_b = EMPTY.then(b)
    return History(
        [Invocation(0.0, "C1", a, 1), Invocation(0.0, "C2", b, 2), Invocation(1.0, "C3", d, 3),
         Invocation(2.0, "C2", e, 5)],
        [Observed(1.5, "C2", b, s_b, "S2", 4), Observed(3.0, "C3", d, EMPTY.then(a).then(d), "S1", 6),
         Observed(4.0, "C2", e, s_b.then(d).then(e), "S2", 7)])


def test_the_crafted_fork_with_crc32_twins_is_unsafe_both_ways():
    h = crafted_fork(Request(TWINS[0], "C1"), Request(TWINS[1], "C2"))
    for v in (check(h), stream(h)):
        assert v.outcome == "UNSAFE" and "prefix_chain" in broken(v), v


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.text("abcdefgh0123456789-", min_size=1, max_size=12),
       st.text("abcdefgh0123456789-", min_size=1, max_size=12))
def test_any_two_ids_under_a_constant_key_fork_both_ways(monkeypatch, x, y):
    monkeypatch.setattr(types, "crc32", lambda data: 7)  # every id collides with every other
    a, b = Request("a" + x, "C1"), Request("b" + y, "C2")
    h = crafted_fork(a, b)
    for v in (check(h), stream(h)):
        assert v.outcome == "UNSAFE" and "prefix_chain" in broken(v), v


KEYS = {"constant": lambda data: 0, "by length": lambda data: len(data) % 3}
PROTOCOLS = ["uncoordinated", "wait_for_learn_majority", "wait_for_learn_fallback",
             "leader_change_rounds", "paxos"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.sampled_from(PROTOCOLS), st.integers(0, 10_000), st.sampled_from(sorted(KEYS)))
def test_colliding_keys_change_no_verdict_of_a_simulated_run(monkeypatch, protocol, seed, key):
    """The same run (same scenario, same seed: digests never steer a protocol) judged
    with CRC-32 keys and with colliding ones: the same outcome and invariants, in
    the batch and the streaming checker."""
    n = min(3, load_protocol(protocol).max_servers or 3)
    sc = random_scenario(protocol, seed, servers=n, horizon=30.0, settle=40.0, crashes=2, partitions=2,
                         requests=4, clients=3, loss=0.2)
    real = run_scenario(sc, record_trace=False)
    real_stream = run_scenario(sc, record_trace=False, stream=True).verdict
    with monkeypatch.context() as m:
        m.setattr(types, "crc32", KEYS[key])
        fake = run_scenario(sc, record_trace=False)
        fake_stream = run_scenario(sc, record_trace=False, stream=True).verdict
        # the injection took: every state of one length has one digest (constant keys)
        if key == "constant":
            seen = {(o.state.length, o.state.digest) for o in fake.history.replies}
            assert len(seen) == len({length for length, _ in seen})
    assert (fake.outcome, broken(fake.verdict)) == (real.outcome, broken(real.verdict))
    assert (fake_stream.outcome, broken(fake_stream)) == (real_stream.outcome, broken(real_stream))


@pytest.mark.parametrize("protocol, seed", [("uncoordinated", 3), ("wait_for_learn_majority", 5)])
def test_a_forking_run_under_a_constant_key_is_still_unsafe(monkeypatch, protocol, seed):
    """A run that forks (found with CRC-32 keys) stays UNSAFE with every digest of a
    length equal: only the exact comparison can see the fork then."""
    found = None
    for s in range(seed, seed + 200):
        sc = random_scenario(protocol, s, servers=3, horizon=30.0, settle=40.0, crashes=2, partitions=2,
                             requests=4, clients=3)
        r = run_scenario(sc, record_trace=False)
        if "prefix_chain" in broken(r.verdict):
            found = sc
            break
    assert found is not None
    monkeypatch.setattr(types, "crc32", lambda data: 0)
    r = run_scenario(found, record_trace=False)
    assert r.outcome == "UNSAFE" and "prefix_chain" in broken(r.verdict)
    v = run_scenario(found, record_trace=False, stream=True).verdict
    assert v.outcome == "UNSAFE" and "prefix_chain" in broken(v)
