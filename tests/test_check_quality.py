"""`paxsim check` finds known bugs, and stops finding them when it is weakened.

As tests/quality/ does for the fuzzer: a planted Paxos bug (tests/mutants/) is
found within small bounds and replays UNSAFE in the simulator; the same search
with one of its powers taken away (per-process clocks, late messages) no longer
finds it within the same bounds, so each power is what finds it.
"""

from __future__ import annotations

import pytest

from paxsim.driver import run_scenario
from paxsim.explore import Bounds, Setup, explore
from paxsim.explore.counterexample import scenario_dict
from paxsim.overrides import check_params
from paxsim.scenario import from_dict
from tests.mutants.paxos_mutants import PromiseQuorumF

SERVERS = ("S1", "S2", "S3")
# A leader change takes two heartbeats of the server that times out (suspect after 3).
FAST = {"heartbeat": 2, "suspect": 3}
BOUNDS = dict(drops=0, dups=0, crashes=0, recoveries=0, timeouts=2, clocks="per-process", delays=1)


def _setup(mutant, spread=False) -> Setup:
    params = check_params(mutant, FAST, len(SERVERS), servers_flag="--servers")
    return Setup(mutant, SERVERS, ("C1", "C2"), 1, params, mode="one", spread=spread)


def test_check_kills_a_leader_that_leads_alone_and_the_replay_agrees():
    """PromiseQuorumF: a new leader starts without a majority of promises. With
    per-process clocks S2 times out alone, and one late accept lets both leaders
    get their own value chosen in slot 1."""
    sp = _setup(PromiseQuorumF)
    found = explore(sp, Bounds(**BOUNDS))
    assert found.outcome == "UNSAFE"
    assert {a.kind for a in found.path} >= {"timer", "hold", "deliver"}
    d = scenario_dict(sp, found.path, "found by check", "tests.mutants.paxos_mutants:PromiseQuorumF")
    assert run_scenario(from_dict(d, "<check>")).outcome == "UNSAFE"


def test_without_a_late_message_the_same_bounds_are_safe_and_complete():
    found = explore(_setup(PromiseQuorumF), Bounds(**{**BOUNDS, "delays": 0}))
    assert found.outcome == "SAFE" and found.complete


def test_with_one_clock_the_same_bounds_are_safe_and_complete():
    """Two timer firings in all cannot make a server suspect its leader when every
    server's heartbeat is due at the same times."""
    found = explore(_setup(PromiseQuorumF), Bounds(**{**BOUNDS, "clocks": "global"}))
    assert found.outcome == "SAFE" and found.complete


def test_clients_that_may_start_anywhere_start_the_path_and_the_replay():
    """Each client may send its first request to any server (every choice
    explored): the path says where, and the replayed scenario's clients try their
    servers in that order."""
    sp = _setup(PromiseQuorumF, spread=True)
    found = explore(sp, Bounds(**BOUNDS))
    assert found.outcome == "UNSAFE" and found.path[0].kind == "start"
    d = scenario_dict(sp, found.path, "found by check", "tests.mutants.paxos_mutants:PromiseQuorumF")
    firsts = dict(found.path[0].targets)
    assert [c["servers"][0] for c in d["clients"]] == [firsts[c["name"]] for c in d["clients"]]
    assert run_scenario(from_dict(d, "<check>")).outcome == "UNSAFE"


# backoff 0 lets a server that led before lead again as soon as it suspects, and
# retransmit 10 keeps its retransmit timer from firing first (Fig. 12-promise).
PROMISE = {**FAST, "backoff": 0, "retransmit": 10}


def _two_clients(protocol: str, servers: int = 3, firsts: tuple = (0, 1), params=PROMISE) -> Setup:
    """Two clients with one request each, C1 sending first to server firsts[0], C2 to firsts[1]."""
    from paxsim.protocols import load_protocol

    proto = load_protocol(protocol)
    names = tuple(f"S{i}" for i in range(1, servers + 1))
    return Setup(proto, names, ("C1", "C2"), 1, check_params(proto, params, servers, servers_flag="--servers"),
                 mode="one", firsts=firsts)


def test_fig12a_the_three_server_rule_with_five_servers_is_found_depth_first():
    """Fig. 12a (leader_change_rounds, 5 servers): a new leader with one other
    promise, from a server that never heard of m1, orders m2 in m1's slot. Clients
    send first as in the figure (C1 to S1, C2 to S3); four late messages, one
    crash and two heartbeats of the server that takes over are enough, and a
    depth-first search within 32 steps meets it in about 115,000 states (breadth-
    first search does not, in millions)."""
    sp = _two_clients("leader_change_rounds", 5, firsts=(0, 2), params=FAST)
    bounds = Bounds(drops=0, dups=0, crashes=1, recoveries=0, timeouts=2, delays=4, clocks="per-process", depth=32)
    found = explore(sp, bounds, strategy="dfs", max_states=300_000)
    assert found.outcome == "UNSAFE" and len(found.path) <= 32
    assert {a.kind for a in found.path} >= {"timer", "hold"}
    assert [a.process for a in found.path if a.kind == "timer"][0] not in ("S1", "S2")  # someone else takes over
    d = scenario_dict(sp, found.path, "found by check", "leader_change_rounds")
    replayed = run_scenario(from_dict(d, "<check>"))
    assert replayed.outcome == "UNSAFE"
    assert ({v.invariant for v in replayed.verdict.safety_violations}
            == {v.invariant for v in found.verdict.safety_violations})


# Fig. 12-promise: three leader changes. A partition (one server cut off for a
# while) stands in for the figure's.
CUT = dict(drops=0, dups=0, crashes=0, recoveries=0, timeouts=4, clocks="per-process", delays=0, cuts=1, depth=40)


def test_fig12_promise_without_rounds_is_found_breadth_first_with_one_partition():
    """S1 accepts m1 alone in round 1 and is cut off; S2 leads round 2 with S3 and
    m2 is chosen; the cut heals, S1 times out on S2 and leads round 4 with promises
    that report m2, but without rounds it cannot tell m2 was chosen and takes its
    own m1 (the lowest-ranked promiser's value): two values in slot 1."""
    sp = _two_clients("paxos_promise_without_round")
    found = explore(sp, Bounds(**CUT))
    assert found.outcome == "UNSAFE" and len(found.path) <= 35
    assert [a.process for a in found.path if a.kind in ("cut", "heal")] == ["S1", "S1"]
    assert sum(a.kind == "timer" for a in found.path) == 4
    d = scenario_dict(sp, found.path, "found by check", "paxos_promise_without_round")
    replayed = run_scenario(from_dict(d, "<check>"))
    assert replayed.outcome == "UNSAFE"
    assert {v.invariant for v in replayed.verdict.safety_violations} == {"replica_agreement"}


def test_fig12_promise_needs_the_partition_and_rounds_in_promises_fix_it():
    """The same bounds without the partition: complete and SAFE. Paxos (promises
    carry their rounds) with the partition: complete and SAFE, so the fix holds
    within these bounds."""
    without = explore(_two_clients("paxos_promise_without_round"), Bounds(**{**CUT, "cuts": 0}))
    assert without.outcome == "SAFE" and without.complete
    fixed = explore(_two_clients("paxos"), Bounds(**CUT))
    assert fixed.outcome == "SAFE" and fixed.complete


def test_fig12a_is_found_breadth_first_as_the_figure_tells_it_with_a_partition():
    """With a partition in place of its late messages, Fig. 12a is in breadth-first
    reach: S1's accept reaches only S2, which executes m1 and answers; S1 is cut off
    and S2 crashes; S3 times out, leads with S4 and S5, which never heard of m1,
    and orders m2 first. Without the partition the same bounds are complete and SAFE."""
    sp = _two_clients("leader_change_rounds", 5, firsts=(0, 2), params=FAST)
    bounds = dict(drops=0, dups=0, crashes=1, recoveries=0, timeouts=2, delays=0, cuts=1, clocks="per-process",
                  depth=40)
    found = explore(sp, Bounds(**bounds))
    assert found.outcome == "UNSAFE" and len(found.path) <= 28
    assert [(a.kind, a.process) for a in found.path if a.kind in ("cut", "crash")] == [("cut", "S1"), ("crash", "S2")]
    assert run_scenario(from_dict(scenario_dict(sp, found.path, "x", "leader_change_rounds"), "<check>")).outcome == \
        "UNSAFE"
    without = explore(sp, Bounds(**{**bounds, "cuts": 0}))
    assert without.outcome == "SAFE" and without.complete


# Planted bugs found with a partition (the fuzzer's deep kinds: two or three leader changes).
CUT_KILLS = [  # mutant, bounds beyond CUT's, strategy
    ("tests.mutants.paxos_mutants:LowestRoundValue", {}, "bfs"),
    ("tests.mutants.paxos_mutants:AcceptLowerRound", {"timeouts": 2, "delays": 1, "depth": 30}, "dfs"),
    ("tests.quality.paxos_mutants:ReusesOldPhaseOne", {}, "bfs"),
]


@pytest.mark.parametrize("mutant, extra, strategy", CUT_KILLS, ids=[m.split(":")[1] for m, _e, _s in CUT_KILLS])
def test_planted_bugs_of_several_leader_changes_are_found_with_a_partition(mutant, extra, strategy):
    """Each is found, replays UNSAFE, and without the partition the same bounds
    are complete and SAFE: the cut is what reaches it."""
    sp = _two_clients(mutant)
    found = explore(sp, Bounds(**{**CUT, **extra}), strategy=strategy, max_states=200_000)
    assert found.outcome == "UNSAFE" and "cut" in {a.kind for a in found.path}
    assert run_scenario(from_dict(scenario_dict(sp, found.path, "x", mutant), "<check>")).outcome == "UNSAFE"
    without = explore(sp, Bounds(**{**CUT, **extra, "cuts": 0}), strategy=strategy)
    assert without.outcome == "SAFE" and without.complete


# The fuzzer's hardest kinds: a crash and recovery on top of two or three leader
# changes. Depth-first, each within 60 CPU s (about 17-25 s here); their spaces
# without the partition are too large to exhaust in a test, so no SAFE twin.
DEEP_CUT_KILLS = [  # mutant, bounds beyond CUT's (all with one crash and one recovery)
    ("tests.quality.paxos_mutants:RecoverWithoutRounds", {"depth": 34}),
    ("tests.quality.paxos_mutants:FirstReportWins", {"depth": 36}),
    ("tests.quality.paxos_mutants:RecoverForgetsPromise", {"timeouts": 2, "delays": 1, "depth": 25}),
]


@pytest.mark.parametrize("mutant, extra", DEEP_CUT_KILLS, ids=[m.split(":")[1] for m, _e in DEEP_CUT_KILLS])
def test_planted_bugs_that_need_a_recovery_too_are_found_depth_first(mutant, extra):
    sp = _two_clients(mutant)
    bounds = Bounds(**{**CUT, "crashes": 1, "recoveries": 1, **extra})
    found = explore(sp, bounds, strategy="dfs", max_states=1_500_000)
    assert found.outcome == "UNSAFE" and {"cut", "crash", "recover"} <= {a.kind for a in found.path}
    assert run_scenario(from_dict(scenario_dict(sp, found.path, "x", mutant), "<check>")).outcome == "UNSAFE"


def test_a_learn_counted_twice_is_found_with_five_servers_and_two_copies():
    """LearnCountsMessages (the fuzzer has never killed it): with 3 servers it
    cannot break safety (a learn's round had two acceptors, a majority). With 5:
    S1 is cut off after S2 alone accepts m1; S2's learn reaches S3 three times (two
    copies, each right behind it) and S3 executes m1; S4 times out, leads with S3
    and S5, and gets C2's m2 chosen in slot 1. About 50 CPU s depth-first."""
    mutant = "tests.quality.paxos_mutants:LearnCountsMessages"
    sp = _two_clients(mutant, 5, firsts=(0, 3))
    bounds = Bounds(**{**CUT, "drops": 2, "dups": 2, "timeouts": 2, "depth": 47})
    found = explore(sp, bounds, strategy="dfs", max_states=3_000_000)
    assert found.outcome == "UNSAFE" and sum(a.kind == "duplicate" for a in found.path) == 2
    assert run_scenario(from_dict(scenario_dict(sp, found.path, "x", mutant), "<check>")).outcome == "UNSAFE"
