"""The explorer and the simulator agree on every path, not only on counterexamples.

`paxsim check` models clients, network and clocks itself (it never needs a second
model of a *protocol*, but it does step the replicas without SimPy). Random paths
of the explorer, under every kind of bound, are written as scenarios and replayed
in the simulator: the same invocations, replies and executions (times, clients,
requests, states) and the same verdict, or one of the two is wrong.
"""

from __future__ import annotations

import random

import pytest

from paxsim.checker import check
from paxsim.driver import run_scenario
from paxsim.explore import Bounds, Setup
from paxsim.explore.counterexample import scenario_dict
from paxsim.explore.model import System
from paxsim.protocols import load_protocol
from paxsim.protocols.single_server import SingleServer
from paxsim.scenario import from_dict
from paxsim.types import ClientRequest, SetTimer

FAST = {"heartbeat": 2, "suspect": 3}
SETUPS = [  # protocol, servers, clients, requests each, params, client resend
    ("paxos", 3, 2, 2, FAST, 1.0),
    ("wait_for_learn_majority", 3, 2, 1, {"suspect": 2}, 0.0),
    ("leader_change_rounds", 3, 2, 2, FAST, 2.0),
    ("paxos_promise_without_round", 3, 2, 1, FAST, 0.0),
    ("leader_change_rounds", 5, 2, 1, FAST, 0.0),  # clients start where they are told (below)
]
BOUNDS = [
    dict(drops=1, dups=1, crashes=1, recoveries=1, timeouts=6, clocks="global"),
    dict(drops=1, dups=1, crashes=1, recoveries=1, timeouts=6, clocks="per-process"),
    dict(drops=1, dups=0, crashes=2, recoveries=2, timeouts=8, delays=2, clocks="per-process"),
    dict(drops=0, dups=1, crashes=1, recoveries=1, timeouts=8, delays=1, clocks="global"),
    dict(drops=1, dups=0, crashes=1, recoveries=1, timeouts=6, delays=1, cuts=2, clocks="per-process"),
]


def _records(h):
    return ([(i.time, i.client, i.request.id) for i in h.invocations],
            [(o.time, o.client, o.request.id, o.server, o.state) for o in h.replies],
            [(e.time, e.replica, e.request.id, e.state) for e in h.executions])


def _walk_and_replay(sp: Setup, bounds: dict, protocol: str, seed: str, longest: int) -> list:
    """Twenty random paths of the explorer, each replayed in the simulator: the same
    records and verdict (asserted); the paths compared."""
    system = System(sp, Bounds(**bounds))
    rnd = random.Random(seed)
    compared = []
    for _ in range(20):
        st = rnd.choice(system.initials())
        for _ in range(rnd.randint(5, longest)):
            succ = list(system.successors(st))
            if not succ:
                break
            st = rnd.choice(succ)
        if st.records is None:
            continue
        h = st.records.history()
        verdict = check(h)
        d = scenario_dict(sp, st.path(), "a random path", protocol)
        d["expected"] = verdict.outcome
        replayed = run_scenario(from_dict(d, "<path>"))
        assert _records(replayed.history) == _records(h), st.path()
        assert replayed.verdict.outcome == verdict.outcome
        assert ({v.invariant for v in replayed.verdict.safety_violations}
                == {v.invariant for v in verdict.safety_violations})
        compared.append(st.path())
    return compared


BY_BOUNDS = dict(argnames="bounds", argvalues=BOUNDS, ids=lambda b: f"{b['clocks']}-delays{b.get('delays', 'any')}-cuts{b.get('cuts', 0)}")


@pytest.mark.parametrize(**BY_BOUNDS)
@pytest.mark.parametrize("protocol, servers, clients, requests, params, retry", SETUPS,
                         ids=[f"{s[0]}-n{s[1]}" for s in SETUPS])
def test_random_paths_replay_to_the_same_history_and_verdict(protocol, servers, clients, requests, params, retry,
                                                             bounds):
    proto = load_protocol(protocol)
    sp = Setup(proto, tuple(f"S{i}" for i in range(1, servers + 1)), tuple(f"C{i}" for i in range(1, clients + 1)),
               requests, proto.check_params(params, servers), retry=retry, mode=proto.client_mode,
               spread=servers == 3, firsts=(0, 2) if servers == 5 else ())
    assert len(_walk_and_replay(sp, bounds, protocol, f"{protocol}-{bounds}", 70)) >= 15


class ExecutesOnItsTimer(SingleServer):
    """Each server keeps the requests it receives and executes them when its own
    timer fires (every 1): with per-process clocks, executions and replies are
    recorded in timer steps whose clock lies behind the latest clock so far."""

    name = "executes_on_its_timer"
    max_servers = None

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        self.pending: list = []

    def on_start(self, now):
        return [SetTimer("tick", 1.0)]

    def on_recover(self, now, stored):
        return [SetTimer("tick", 1.0)]

    def on_message(self, now, src, msg):
        if type(msg) is ClientRequest:
            self.pending.append(msg.request)
        return []

    def on_timer(self, now, name):
        out: list = [SetTimer("tick", 1.0)]
        for request in self.pending:
            out += self.service.execute(request)
        self.pending = []
        return out


@pytest.mark.parametrize(**BY_BOUNDS)
def test_records_made_by_timers_replay_at_the_same_times(bounds):
    sp = Setup(ExecutesOnItsTimer, ("S1", "S2"), ("C1", "C2"), 2, {}, mode="all")
    paths = _walk_and_replay(sp, bounds, "tests.test_check_agrees_with_replay:ExecutesOnItsTimer",
                             f"timers-{bounds}", 40)
    behind = sum(any(a.kind == "timer" and a.time < max(b.time for b in path[:k + 1]) for k, a in enumerate(path))
                 for path in paths)
    if bounds["clocks"] == "per-process":
        assert behind > 0  # some timer fired behind the latest clock: the case this test is for
