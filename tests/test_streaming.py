"""The streaming checker (paxsim.streaming) against the batch one (paxsim.checker):
the same outcome on every run, the same broken invariants on every run whose
replies form one chain; constructed histories both ways; truncated states; a
streaming run keeps no records and its memory grows by well under 20 bytes per
request; ``paxsim run --stream``.

Where they may differ (documented in paxsim.streaming): when replies fork, the
streaming checker's main chain is the first branch observed, the batch one's the
longest state. Found on random schedules: the batch checker may then also report
``real_time`` (and ``client_order``) along its longer branch, a request answered
on the first branch and placed later on the longer one; the streaming checker
may report ``client_order`` along its own branch. Both say UNSAFE, with
``prefix_chain``.
"""

from __future__ import annotations

import gc
import random
import tracemalloc
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paxsim.checker.stream as streaming
from paxsim.checker import Verdict, check
from paxsim.cli import main
from paxsim.driver import run_scenario
from paxsim.figures import SCENARIO_DIR, figure_files
from paxsim.history import Execution, FinalWorld, History, Invocation, Observed
from paxsim.protocols import BUILTIN, load_protocol
from paxsim.scenario import from_dict, load
from paxsim.schedules import random_scenario
from paxsim.checker import StreamChecker
from paxsim.types import EMPTY, Request, State
from tests import test_checker as tc

# ----------------------------------------------------------------- helpers ---

C1, C2, C3 = "C1", "C2", "C3"
m1, m2, m3, m4 = tc.m1, tc.m2, tc.m3, tc.m4  # seq 0: identified by id (hand-made histories)
state, inv, saw, ex, world = tc.state, tc.inv, tc.saw, tc.ex, tc.world


def records(h: History) -> list:
    """The records in the order they happened: (time, pos); ties keep list order,
    invocations before executions before replies."""
    out = [(x.time, x.pos, 0, i, x) for i, x in enumerate(h.invocations)]
    out += [(x.time, x.pos, 1, i, x) for i, x in enumerate(h.executions)]
    out += [(x.time, x.pos, 2, i, x) for i, x in enumerate(h.replies)]
    out.sort(key=lambda t: t[:4])
    return [t[4] for t in out]


def stream(h: History, cap: int = 5) -> Verdict:
    """Feed ``h``'s records to a StreamChecker, in order; its verdict."""
    sc = StreamChecker(cap)
    sink = {Invocation: sc.invocations, Observed: sc.replies, Execution: sc.executions}
    for rec in records(h):
        sink[type(rec)].append(rec)
    return sc.verdict(h.final)


def numbered(h: History) -> History:
    """The same history with each invoked request numbered (``seq``) in its client's
    invocation order, as the simulator's clients number them; states rebuilt on the
    numbered requests (same digests: a digest depends on the id only)."""
    seqs: dict[str, int] = {}
    count: Counter = Counter()
    for i in h.invocations:
        if i.request.id not in seqs:
            count[i.request.client] += 1
            seqs[i.request.id] = count[i.request.client]
    reqs: dict[str, Request] = {}

    def req(r: Request) -> Request:
        if r.id not in reqs:
            reqs[r.id] = Request(r.id, r.client, seqs.get(r.id, 0))
        return reqs[r.id]

    memo: dict[int, State] = {}

    def rebuild(s: State) -> State:
        path = []
        node = s
        while node is not None and node.request is not None and id(node) not in memo:
            path.append(node)
            node = node.parent
        below = memo[id(node)] if node is not None and id(node) in memo else node
        for nd in reversed(path):
            below = memo[id(nd)] = State(nd.length, nd.digest, req(nd.request), below)
        return below

    return History([Invocation(i.time, i.client, req(i.request), i.pos) for i in h.invocations],
                   [Observed(o.time, o.client, req(o.request), rebuild(o.state), o.server, o.pos)
                    for o in h.replies],
                   [Execution(e.time, e.replica, req(e.request), rebuild(e.state), e.pos)
                    for e in h.executions],
                   h.final)


def broken(v: Verdict) -> set[str]:
    return {x.invariant for x in v.violations} | {name for name, _ in v.omitted}


def invariants(v: Verdict) -> list[str]:
    return [x.invariant for x in v.violations]


def compare(b: Verdict, s: Verdict, what: str) -> str:
    """Assert what the two checkers must agree on; return "fork" or "chain"."""
    assert s.outcome == b.outcome, (what, b, s)
    fork = "prefix_chain" in broken(b)
    assert ("prefix_chain" in broken(s)) == fork, (what, b, s)
    if fork:
        return "fork"
    assert broken(s) == broken(b), (what, b, s)
    # One chain: the same reports, word for word, except replica_agreement, whose
    # streaming report cannot name what the first replica executed (same execution).
    assert s.omitted == b.omitted, what
    assert invariants(s) == invariants(b), what
    for x, y in zip(b.violations, s.violations):
        if x.invariant == "replica_agreement":
            assert x.positions[-1] == y.positions[-1] and y.latent, (what, x, y)
        else:
            assert (x.detail, x.replies, x.positions, x.latent) == (y.detail, y.replies, y.positions,
                                                                     y.latent), what
    return "chain"


def both(h: History, cap: int = 5) -> tuple[Verdict, Verdict]:
    """Batch and streaming verdicts on ``h``; the streaming one is the same with the
    requests numbered (the simulator's case) or not (found by id)."""
    b = check(h, max_reports_per_invariant=cap)
    s = stream(h, cap)
    assert stream(numbered(h), cap) == s
    return b, s


# ------------------------------------------------- differential: random runs ---

SMALL = {"horizon": 30.0, "settle": 40.0}
CONFIGS = [{}, {"crashes": 2, "partitions": 2, "requests": 4},
           {"crashes": 3, "partitions": 3, "loss": 0.3, "requests": 5, "clients": 3}]
SEEDS = 36
TOTALS: Counter = Counter()


def sizes(protocol: str) -> list[int]:
    cls = load_protocol(protocol)
    return sorted({min(max(k, cls.min_servers), cls.max_servers or 99) for k in (2, 3, 5)})


@pytest.mark.parametrize("protocol", list(BUILTIN))
def test_streaming_agrees_with_batch_on_random_schedules(protocol):
    """Every stage, broken or not, under random faults: 3 sizes x 3 kinds of
    schedule x 36 seeds (fewer sizes where a stage allows fewer); paxos also with
    compaction every 1 or 3 requests (states end in snapshot nodes)."""
    runs = [(n, extra, {}) for n in sizes(protocol) for extra in CONFIGS]
    if "compact" in load_protocol(protocol).params:
        runs += [(n, extra, {"compact": c}) for n in (3, 5) for extra in CONFIGS[1:] for c in (1, 3)]
    outcomes: Counter = Counter()
    for n, extra, params in runs:
        for seed in range(SEEDS):
            sc = random_scenario(protocol, seed, servers=n, params=params, **SMALL, **extra)
            r = run_scenario(sc, record_trace=False)
            s = stream(r.history)
            kind = compare(r.verdict, s, f"{protocol} n={n} {extra} {params} seed {seed}")
            outcomes[r.outcome] += 1
            outcomes[kind] += 1
            outcomes["unjudged"] += s.unjudged
    TOTALS.update(outcomes)
    assert outcomes["unjudged"] == 0
    if protocol in ("uncoordinated", "retrans_accept_fallback", "wait_for_learn_fallback",
                    "wait_for_learn_majority", "single_server"):
        assert outcomes["UNSAFE"] > 0 and outcomes["fork"] > 0
    if protocol == "send_accept":
        assert outcomes["STUCK"] > 0


@pytest.mark.parametrize("path", figure_files(), ids=lambda p: p.stem)
def test_streaming_agrees_with_batch_on_the_figures(path):
    sc = load(path)
    r = run_scenario(sc)
    s = stream(r.history)
    compare(r.verdict, s, path.stem)
    assert s.outcome == sc.expected
    # the world's own streaming history gives the very same verdict
    assert run_scenario(sc, stream=True).verdict == s


@pytest.mark.parametrize("protocol, seed", [("paxos", 3), ("uncoordinated", 5), ("send_accept", 1),
                                            ("wait_for_learn_majority", 11), ("single_server", 2)])
def test_a_streaming_world_judges_what_a_full_history_holds(protocol, seed):
    sc = random_scenario(protocol, seed, servers=min(3, load_protocol(protocol).max_servers or 3),
                         **SMALL, **CONFIGS[2])
    full = run_scenario(sc, record_trace=False)
    s = run_scenario(sc, record_trace=False, stream=True)
    assert s.verdict == stream(full.history)
    assert s.verdict.outcome == full.verdict.outcome
    h = s.history
    assert isinstance(h.stream, StreamChecker) and check(h) == s.verdict
    assert len(h.invocations) == len(h.replies) == len(h.executions) == 0
    with pytest.raises(TypeError, match="keeps no replies"):
        list(h.replies)


# ------------------------------------------------- constructed, both ways ---

def test_good_histories_are_safe_both_ways():
    for h in [
        History([inv(0, m1), inv(0, m2)], [saw(2, m1, state(m1)), saw(3, m2, state(m1, m2))],
                [ex(1, "S1", state(m1)), ex(1.5, "S1", state(m1, m2))], FinalWorld(10, ("S1",), ("S1",))),
        History([inv(0, m1), inv(0, m2)],
                [saw(2, m2, state(m2), "S1"), saw(3, m1, state(m2, m1), "S1"),
                 saw(4, m2, state(m2), "S2"), saw(5, m1, state(m2, m1), "S2")]),
        History([inv(0, m1), inv(0, m2)], [saw(3, m1, state(m1)), saw(4, m2, state(m1, m2))],
                [ex(1, "S1", state(m1)), ex(2, "S1", state(m1, m2)),
                 ex(5, "S1", state(m1)), ex(6, "S1", state(m1, m2)), ex(6, "S2", state(m1))]),
        History([inv(0, m1), inv(0, m2), inv(5, m1)],  # invoked twice: counts once
                [saw(1, m2, state(m2)), saw(6, m1, state(m2, m1))], [], world(servers=("S1",), quorum=1)),
        # the same instant, no trace position: the reply does not precede the invocation
        History([inv(0, m1), inv(2, m2)], [saw(2, m1, state(m2, m1)), saw(5, m2, state(m2))]),
    ]:
        b, s = both(h)
        assert b.outcome == s.outcome == "SAFE" and s.violations == ()


# Each invariant's bad case: the streaming checker reports exactly what the batch one does.
BAD = {
    "reply_contains_request": History([inv(0, m1), inv(0, m2)],
                                      [saw(1, m1, state(m1)), saw(2, m2, state(m1))]),
    "no_duplicate": History([inv(0, m1), inv(0, m2)],
                            [saw(1, m1, state(m1)), saw(2, m2, state(m1, m2, m1))]),
    "only_sent_requests": History([inv(0, m1)], [saw(1, m1, state(Request("m9", C2), m1))]),
    "client_order": History([inv(0, m1), inv(1, m3)],
                            [saw(3, m3, state(m3)), saw(4, m1, state(m3, m1))]),
    "real_time": History([inv(0, m1), inv(3, m2)],
                         [saw(2, m1, state(m2, m1), "S1"), saw(5, m2, state(m2), "S2")]),
    "real_time with positions": History([inv(0, m1, 1), inv(2, m2, 5)],
                                        [saw(2, m1, state(m2, m1), pos=4), saw(5, m2, state(m2), pos=9)]),
    "replica_agreement": History([inv(0, m1), inv(0, m2)], [],
                                 [ex(1, "S1", state(m1)), ex(2, "S2", state(m2))]),
    "liveness": tc.pending_m2(world()),
    "replica_progress": tc.lagging(world()),
}


@pytest.mark.parametrize("name", list(BAD))
def test_each_bad_case_is_caught_both_ways(name):
    b, s = both(BAD[name])
    assert compare(b, s, name) == "chain"
    expected = name.split()[0]
    assert expected in broken(s)
    assert s.outcome == ("STUCK" if expected in ("liveness", "replica_progress") else "UNSAFE")


def test_only_sent_requests_in_an_execution_is_latent():
    ghost = Request("m9", C2)
    h = History([inv(0, m1)], [saw(1, m1, state(m1))],
                [ex(0.5, "S1", state(m1)), ex(0.7, "S2", state(m1, ghost))])
    b, s = both(h)
    assert compare(b, s, "exec") == "chain"
    assert invariants(s) == ["only_sent_requests"] and s.violations[0].latent


def test_a_request_seen_before_its_invocation_is_judged_when_it_comes():
    # m2 is in a state C1 sees at t=2 but invoked only at t=3: real time is broken
    # (m1 was answered before m2 was invoked, yet m2 precedes m1); not an invented
    # request, since it is invoked in the end.
    b, s = both(BAD["real_time"])
    assert invariants(s) == ["real_time"]
    assert s.violations[0].detail.endswith("holds m2, which C2 invoked only later, at t=3")
    # never invoked: invented
    h = History([inv(0, m1)], [saw(2, m1, state(m2, m1))])
    b, s = both(h)
    assert invariants(s) == invariants(b) == ["only_sent_requests"]


def test_replica_agreement_once_per_pair_naming_the_first_replica():
    h = History([inv(0, m1), inv(0, m2), inv(0, m3)], [],
                [ex(1, "S1", state(m1)), ex(2, "S1", state(m1, m2)), ex(3, "S1", state(m1, m2, m3)),
                 ex(4, "S2", state(m2)), ex(5, "S2", state(m2, m1)), ex(6, "S2", state(m2, m1, m3)),
                 ex(7, "S3", state(m1)), ex(8, "S3", state(m1, m3))])
    b, s = both(h)
    compare(b, s, "pairs")
    assert [x.detail for x in s.violations] == [
        "S1 was the first to execute request 1, but S2 executed m2 as request 1 at t=4 in a different"
        " state (<s^2>)",
        "S1 was the first to execute request 2, but S3 executed m3 as request 2 at t=8 in a different"
        " state (<s^13>)",
    ]
    h = History([inv(0, m1), inv(0, m2)], [], [ex(1, "S1", state(m1)), ex(2, "S1", state(m2))])
    assert stream(h).violations[0].detail.startswith("S1 executed request 1 twice, in different states")


def test_liveness_variants_both_ways():
    for final in (world(), world(up=("S1",)), world(groups=[("S1", "C2"), ("S2", "S3")]),
                  world(groups=[("S1",), ("S2", "S3", "C2")]), world(settled=False)):
        compare(*both(tc.pending_m2(final)), "liveness")
    for final in (world(), world(catch_up=False), world(groups=[("S1",), ("S2", "S3")]),
                  world(up=("S1",)), world(settled=False), world(up=("S1", "S3"))):
        compare(*both(tc.lagging(final)), "progress")
    h = tc.pending_m2(world())
    h.final = None
    assert stream(h).outcome == "SAFE"


def test_forks_both_ways():
    a = saw(2, m1, state(m1), "S1")
    b_ = saw(3, m2, state(m2), "S2")
    b, s = both(History([inv(0, m1), inv(0, m2)], [b_, a]))
    assert invariants(s) == invariants(b) == ["prefix_chain"]
    assert s.violations[0] == b.violations[0]  # the same pair, in the same words
    # Fig. 2, in any order: the first branch seen is the main chain.
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        replies = [saw(1, m1, state(m1), "S1"), saw(1, m2, state(m2), "S2"),
                   saw(2, m1, state(m2, m1), "S2"), saw(2, m2, state(m1, m2), "S1")]
        h = History([inv(0, m1), inv(0, m2)], [replies[i] for i in order])
        b, s = both(h)
        assert broken(s) == broken(b) == {"prefix_chain"}
        assert [o.state.label() for o in s.violations[0].replies] == ["s^1", "s^2"]


def test_off_chain_contents_are_checked():
    ghost = Request("m9", C3)
    main_ = state(m1, m2, m3, m4)
    h = History([inv(0, m1), inv(0, m2), inv(0, m3), inv(0, m4)],
                [saw(4, m4, main_), saw(5, m2, state(m2, m2)), saw(6, m3, state(m2, m1))])
    b, s = both(h)
    assert broken(s) == broken(b) == {"prefix_chain", "no_duplicate", "reply_contains_request"}
    assert "C2 saw <s^22>" in next(x for x in s.violations if x.invariant == "no_duplicate").detail
    assert "C1 saw <s^21> for m3" in next(
        x for x in s.violations if x.invariant == "reply_contains_request").detail
    # a branch shared by several replies: one report per state, m9 reported once
    h = History([inv(0, m1), inv(0, m2), inv(0, m3), inv(0, m4)],
                [saw(4, m4, state(m1, m2, m3, m4)), saw(5, m2, state(m2)),
                 saw(6, m1, state(m2, ghost, m1)), saw(7, m1, state(m2, ghost, m1), "S2"),
                 saw(8, m2, state(m2, ghost))])
    b, s = both(h)
    assert invariants(s) == invariants(b) == ["prefix_chain"] * 3 + ["only_sent_requests"]
    assert [[o.state.label() for o in x.replies] for x in s.violations[:3]] == [
        ["s^1234", "s^2"], ["s^1234", "s^29"], ["s^1234", "s^291"]]
    assert s.violations[:3] == b.violations[:3]
    assert s.violations[3].detail == ("C1 saw <s^291> for m1 from S1 at t=6, whose"
                                      " request 2 is m9, but no client ever invoked m9")


def test_caps_limit_reports_not_the_outcome():
    reqs = [Request(f"m{i}", f"C{i}") for i in range(1, 11)]
    h = History([inv(0, r) for r in reqs], [saw(1, r, state(r)) for r in reqs])
    b, s = both(h, cap=3)
    assert invariants(s) == ["prefix_chain"] * 3 and s.omitted == b.omitted == (("prefix_chain", 6),)
    b, s = both(h, cap=0)
    assert s.outcome == "UNSAFE" and s.violations == () and s.omitted == (("prefix_chain", 9),)
    # many more than the cap: the candidates kept stay bounded, the count exact
    reqs = [Request(f"m{i}", f"C{i}") for i in range(1, 301)]
    h = History([inv(0, r) for r in reqs], [saw(i, r, state(r)) for i, r in enumerate(reqs)])
    sc = StreamChecker(2)
    for rec in records(h):
        (sc.invocations if type(rec) is Invocation else sc.replies).append(rec)
    assert len(sc.reports.found["prefix_chain"]) <= 2 * 2 + 16
    v = sc.verdict(None)
    assert v.omitted == (("prefix_chain", 297),) and v == check(h, max_reports_per_invariant=2)


def test_long_states_are_labelled_briefly():
    reqs = [Request(f"m{i}", C1) for i in range(1, 101)]
    s100 = state(*reqs)
    h = History([inv(i, r) for i, r in enumerate(reqs)],
                [saw(200, reqs[-1], s100), saw(201, reqs[0], state(reqs[1]))])
    b, s = both(h)
    assert s.violations[0] == b.violations[0]
    assert "s^(…97 more,m98,m99,m100)" in s.violations[0].detail


def test_a_malformed_state_is_refused():
    bad = State(3, 1, m1, state(m1))  # length 3 on a state of length 1
    with pytest.raises(ValueError, match="malformed"):
        stream(History([inv(0, m1)], [saw(1, m1, bad)]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.booleans())
def test_single_server_histories_both_ways(rnd, with_pos):
    h = tc.single_server_run(rnd, with_pos)
    b, s = both(h)
    assert s.outcome == "SAFE" and s.violations == ()
    if not h.replies:
        return
    # an invented request in one reply
    i = rnd.randrange(len(h.replies))
    o = h.replies[i]
    assert o.state.parent is not None
    fake = o.state.parent.then(Request("x", "C9"))
    h2 = History(h.invocations, h.replies[:i] + [Observed(o.time, o.client, o.request, fake, o.server, o.pos)]
                 + h.replies[i + 1:], h.executions, h.final)
    b, s = both(h2)
    assert s.outcome == b.outcome == "UNSAFE" and "only_sent_requests" in broken(s)
    # every reply to one request dropped
    gone = rnd.choice(h.replies).request
    h3 = History(h.invocations, [x for x in h.replies if x.request != gone], h.executions, h.final)
    b, s = both(h3)
    compare(b, s, "dropped")
    assert invariants(s) == ["liveness"]


# ------------------------------------------------------------ truncated ---

def chain_history(replies, executions=(), reqs=(m1, m2, m3, m4), servers=("S1",)) -> History:
    return History([inv(0, r) for r in reqs], list(replies), list(executions), world(servers, quorum=1))


def test_snapshot_node_within_the_chain_is_compared_there():
    s123, s1234 = state(m1, m2, m3), state(m1, m2, m3, m4)
    h = chain_history([saw(1, m1, state(m1)), saw(2, m2, state(m1, m2)),
                       saw(3, m3, s123.trimmed(1)),      # walks down to a snapshot node at 2
                       saw(4, m2, s123.trimmed(0)),      # a bare snapshot node, on the chain
                       saw(5, m4, s1234.trimmed(0))])    # beyond the chain, no executions: unjudged
    v = stream(h)
    assert v.outcome == "SAFE" and v.violations == () and v.unjudged == 1
    # judged by positions: m4 is not within a state of length 3
    h.replies.append(saw(6, m4, s123.trimmed(0)))
    assert invariants(stream(h)) == ["reply_contains_request"]
    # a snapshot node of the right length but another history: a fork, nothing more
    other = State(2, state(m2, m1).digest).then(m3)
    h = chain_history([saw(1, m1, state(m1)), saw(2, m2, state(m1, m2)), saw(3, m3, other)], reqs=(m1, m2, m3))
    v = stream(h)
    assert v.outcome == "UNSAFE" and invariants(v) == ["prefix_chain"] and v.unjudged == 0


def full_execs(*reqs: Request, replica: str = "S1", t0: float = 0.1) -> list[Execution]:
    s = EMPTY
    out = []
    for k, r in enumerate(reqs):
        s = s.then(r)
        out.append(ex(t0 + 0.01 * k, replica, s))
    return out


def test_a_gap_below_a_snapshot_node_is_filled_from_the_executions():
    s1234 = state(m1, m2, m3, m4)
    execs = full_execs(m1, m2, m3, m4)
    h = chain_history([saw(1, m1, state(m1)), saw(5, m4, s1234.trimmed(1)),  # walks to 3 > chain's 1
                       saw(6, m2, state(m1, m2)), saw(7, m3, state(m1, m2, m3).trimmed(0))], execs)
    v = stream(h)
    assert v == Verdict("SAFE") and v.unjudged == 0
    # what the gap holds is judged: m1 executed twice, found among the executions
    s = state(m1, m2, m1, m4)
    h = chain_history([saw(1, m1, state(m1)), saw(5, m4, s.trimmed(1))], full_execs(m1, m2, m1, m4))
    v = stream(h)
    assert "no_duplicate" in broken(v) and v.unjudged == 0
    assert "m1 was executed twice: as request 1 and as request 3" in v.violations[
        invariants(v).index("no_duplicate")].detail


def test_a_gap_that_cannot_be_filled_is_unjudged_not_blamed():
    s1234 = state(m1, m2, m3, m4)
    # no executions at all
    h = chain_history([saw(1, m1, state(m1)), saw(5, m4, s1234.trimmed(1))])
    v = stream(h)
    assert v.outcome == "STUCK" and broken(v) == {"liveness"}  # m2, m3 never answered
    assert v.unjudged == 1 and v.to_json()["unjudged"] == 1
    # executions that do not lead to the snapshot node (another order)
    h = chain_history([saw(1, m1, state(m1)), saw(5, m4, s1234.trimmed(1)), saw(6, m2, state(m1, m2)),
                       saw(6, m3, state(m1, m2, m3))], full_execs(m1, m3, m2, m4, replica="S2"))
    v = stream(h)
    assert v.unjudged == 1 and "prefix_chain" not in broken(v) and "reply_contains_request" not in broken(v)
    # the replies that came later, with their full states, are judged: on the chain
    assert broken(v) <= {"replica_progress"}
    # executions missing in the middle (a replica that jumped): a hole, not filled
    execs = full_execs(m1) + [ex(0.5, "S2", s1234.trimmed(1))]
    v = stream(chain_history([saw(1, m1, state(m1)), saw(5, m4, s1234.trimmed(1))], execs))
    assert v.unjudged == 1 and not v.safety_violations


def test_an_execution_may_jump_ahead():
    s1234 = state(m1, m2, m3, m4)
    # S2 installs a snapshot (jumps to 4) before anybody executed 2 and 3; S1 then
    # executes everything; S3 jumps to a different state at 4.
    execs = ([ex(0.1, "S1", state(m1)), ex(0.2, "S2", s1234.trimmed(1))]
             + [ex(0.3 + k * 0.01, "S1", state(*(m1, m2, m3, m4)[:k])) for k in (2, 3, 4)]
             + [ex(0.5, "S3", state(m1, m3, m2, m4).trimmed(1))])
    h = chain_history([saw(1, m1, state(m1)), saw(2, m2, state(m1, m2)), saw(2, m3, state(m1, m2, m3)),
                       saw(2, m4, s1234)], execs, servers=("S1", "S2"))
    v = stream(h)
    assert invariants(v) == ["replica_agreement"]
    assert v.violations[0].detail.startswith("S2 was the first to execute request 4, but S3 executed m4")
    h.executions = execs[:-1]
    assert stream(h) == Verdict("SAFE")


# ------------------------------------------------------------- memory ---

def steady(requests: int) -> dict:
    return {"description": "steady paxos", "protocol": "paxos", "servers": 3, "seed": 1, "settle": 50.0,
            "network": {"delay": {"dist": "uniform", "low": 0.5, "high": 1.5}},
            "clients": [{"name": f"C{i}", "requests": {"count": requests // 2, "start": 0.0, "interval": 0.0},
                         "retry": 200.0} for i in (1, 2)]}


def retained(requests: int) -> tuple[int, int, StreamChecker]:
    """Bytes still held by allocations made in paxsim/streaming.py after a streaming
    run, and how many records of the run are still alive."""
    sc = from_dict(steady(requests), source="<memory>", name="memory")
    gc.collect()
    tracemalloc.start()
    try:
        r = run_scenario(sc, record_trace=False, stream=True)
        gc.collect()
        snap = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    size = sum(t.size for t in snap.filter_traces([tracemalloc.Filter(True, streaming.__file__)]).traces)
    assert r.outcome == "SAFE" and r.world.client_metrics.completions == requests
    alive = sum(1 for o in gc.get_objects() if type(o) in (Invocation, Observed, Execution))
    return size, alive, r.history.stream


def test_a_streaming_run_keeps_no_records_and_little_memory():
    small, alive_small, _ = retained(2000)
    big, alive_big, sc = retained(8000)
    per_request = (big - small) / 6000
    # 4 bytes of key + 4 of position per request, 8 of digest + 1 of first
    # replica per chain position: 17, plus the arrays' over-allocation (1/16)
    assert per_request <= 20, per_request
    assert alive_big <= alive_small + 10  # records do not pile up: O(clients + servers)
    assert not sc._xbuf and not sc._off and not sc._unsent_chain and not sc._by_id
    assert sum(len(c.open) for c in sc._clients.values()) == 0
    assert all(not found for found in sc.reports.found.values())


# ---------------------------------------------------------------- CLI ---

FIG05 = str(SCENARIO_DIR / "fig05.toml")


def test_run_stream_prints_the_same_outcome(capsys):
    assert main(["run", FIG05, "--events", "0"]) == 0
    plain = capsys.readouterr().out.splitlines()[0]
    assert main(["run", FIG05, "--stream"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == plain and "outcome UNSAFE" in plain
    assert "prefix_chain" in out


@pytest.mark.parametrize("extra", [["--trace", "t.jsonl"], ["--svg", "d.svg"], ["--diagram"],
                                   ["--only", "S1"], ["--from", "1"]])
def test_run_stream_refuses_trace_and_diagram_options(extra, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", FIG05, "--stream", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("paxsim: error: --stream keeps no trace")
    assert extra[0] in err[0]
    assert list(tmp_path.iterdir()) == []


LONG_RUN = """
description = "one server, more requests than a trace is worth"
protocol = "single_server"
servers = 1
expected = "SAFE"
[[clients]]
name = "C1"
requests = {count = 10001}
"""


def test_run_streams_a_long_scenario_by_itself_unless_told_not_to(capsys, tmp_path):
    path = tmp_path / "long.toml"
    path.write_text(LONG_RUN)
    assert main(["run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "outcome SAFE" in out and "10,001 requests: judged as a stream, no trace kept" in out
    assert main(["run", str(path), "--no-stream", "--events", "2"]) == 0
    out = capsys.readouterr().out
    assert "judged as a stream" not in out and "C1 sends m1" in out
    trace = tmp_path / "t.jsonl"
    assert main(["run", str(path), "--trace", str(trace)]) == 0  # a trace asked for: no streaming
    assert "judged as a stream" not in capsys.readouterr().out and trace.exists()
