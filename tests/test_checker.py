"""Tests for paxsim.checker: good histories pass, each bad one fails on the right invariant."""

from __future__ import annotations

import json
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paxsim.checker import Verdict, Violation, check
from paxsim.history import Execution, FinalWorld, History, Invocation, Observed
from paxsim.types import EMPTY, Request, State

# ----------------------------------------------------------------- helpers ---

C1, C2, C3 = "C1", "C2", "C3"
m1, m2, m3, m4 = (Request("m1", C1), Request("m2", C2), Request("m3", C1), Request("m4", C2))


def state(*requests: Request) -> State:
    s = EMPTY
    for r in requests:
        s = s.then(r)
    return s


def inv(t: float, r: Request, pos: int = -1) -> Invocation:
    return Invocation(t, r.client, r, pos)


def saw(t: float, r: Request, s: State, server: str = "S1", client: str | None = None,
        pos: int = -1) -> Observed:
    return Observed(t, client or r.client, r, s, server, pos)


def ex(t: float, replica: str, s: State, pos: int = -1) -> Execution:
    assert s.request is not None
    return Execution(t, replica, s.request, s, pos)


def invariants(v: Verdict) -> list[str]:
    return [x.invariant for x in v.violations]


def world(servers=("S1", "S2", "S3"), up=None, groups=(), quorum=2, settled=True,
          catch_up=True, end=100.0) -> FinalWorld:
    return FinalWorld(end, tuple(servers), tuple(servers if up is None else up),
                      tuple(tuple(g) for g in groups), quorum, settled, catch_up)


# ------------------------------------------- generated single-server runs ---

def single_server_run(rnd: random.Random, with_pos: bool) -> History:
    """A random run of clients (closed loop) against one server that executes in
    arrival order and replies with its state; replies arrive later, in any order,
    sometimes twice. Times may tie; trace positions (if any) increase."""
    h = History()
    nclients = rnd.randint(1, 4)
    todo = {f"C{c}": [Request(f"m{c}{k}" if rnd.random() < 0.5 else f"m{c * 10 + k}", f"C{c}")
                      for k in range(rnd.randint(0, 5))]
            for c in range(1, nclients + 1)}
    current: dict[str, Request | None] = {c: None for c in todo}  # closed loop
    in_flight: list[Request] = []   # sent, not yet arrived
    arrived: list[Request] = []     # arrived, not yet executed (FIFO)
    outgoing: list[tuple[Request, State, bool]] = []  # replies in the network
    s = EMPTY
    t = 0.0
    step = 0
    while True:
        choices = [c for c in sorted(todo) if todo[c] and current[c] is None]
        options = [("inv", c) for c in choices]
        if in_flight:
            options.append(("arrive", None))
        if arrived:
            options.append(("exec", None))
        if outgoing:
            options.append(("deliver", None))
        if not options:
            break
        kind, c = rnd.choice(options)
        t += rnd.choice([0.0, 0.5, 1.0])
        step += 1
        pos = step if with_pos else -1
        if kind == "inv":
            r = todo[c].pop(0)
            current[c] = r
            in_flight.append(r)
            h.invocations.append(Invocation(t, c, r, pos))
        elif kind == "arrive":
            arrived.append(in_flight.pop(rnd.randrange(len(in_flight))))
        elif kind == "exec":
            r = arrived.pop(0)
            s = s.then(r)
            h.executions.append(Execution(t, "S1", r, s, pos))
            outgoing.append((r, s, rnd.random() < 0.3))
        else:
            r, rs, dup = outgoing.pop(rnd.randrange(len(outgoing)))
            if dup:
                outgoing.append((r, rs, False))
            h.replies.append(Observed(t, r.client, r, rs, "S1", pos))
            if current[r.client] == r:
                current[r.client] = None  # answered: the client may send its next request
    h.final = FinalWorld(t, ("S1",), ("S1",), quorum=1)
    return h


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.randoms(use_true_random=False), st.booleans())
def test_single_server_histories_are_safe(rnd, with_pos):
    h = single_server_run(rnd, with_pos)
    v = check(h)
    assert v.outcome == "SAFE", [x.detail for x in v.violations]
    assert v.violations == () and v.omitted == ()


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False), st.booleans())
def test_observing_an_invented_request_is_unsafe(rnd, with_pos):
    h = single_server_run(rnd, with_pos)
    if not h.replies:
        return
    i = rnd.randrange(len(h.replies))
    o = h.replies[i]
    assert o.state.parent is not None
    fake = o.state.parent.then(Request("x", "C9"))
    h.replies[i] = Observed(o.time, o.client, o.request, fake, o.server, o.pos)
    v = check(h)
    assert v.outcome == "UNSAFE"
    assert "only_sent_requests" in invariants(v)


@settings(max_examples=60, deadline=None)
@given(st.randoms(use_true_random=False), st.booleans())
def test_dropping_every_reply_to_a_request_is_stuck(rnd, with_pos):
    h = single_server_run(rnd, with_pos)
    if not h.replies:
        return
    gone = rnd.choice(h.replies).request
    h.replies = [o for o in h.replies if o.request != gone]
    v = check(h)
    assert v.outcome == "STUCK"
    assert invariants(v) == ["liveness"]
    assert v.violations[0].detail.startswith(f"{gone.id}, invoked by {gone.client}")


# ------------------------------------------------------- tutorial figures ---

def test_fig1_single_server_is_safe():
    h = History([inv(0, m1), inv(0, m2)], [saw(2, m1, state(m1)), saw(3, m2, state(m1, m2))],
                [ex(1, "S1", state(m1)), ex(1.5, "S1", state(m1, m2))],
                FinalWorld(10, ("S1",), ("S1",)))
    assert check(h) == Verdict("SAFE", ())


def test_fig3_prefix_is_safe():
    h = History([inv(0, m1), inv(0, m2)],
                [saw(2, m2, state(m2), "S1"), saw(3, m1, state(m2, m1), "S1"),
                 saw(4, m2, state(m2), "S2"), saw(5, m1, state(m2, m1), "S2")])
    assert check(h).outcome == "SAFE"


def test_diverging_states_name_both_replies():
    a = saw(2, m1, state(m1), "S1")
    b = saw(3, m2, state(m2), "S2")
    h = History([inv(0, m1), inv(0, m2)], [b, a])
    v = check(h)
    assert v.outcome == "UNSAFE"
    assert invariants(v) == ["prefix_chain"]
    x = v.violations[0]
    assert x.detail == ("C1 saw <s^1> for m1 from S1 at t=2 but C2 saw <s^2> for m2 from S2"
                        " at t=3: neither state is a prefix of the other")
    assert x.replies == (a, b)
    assert not x.latent


def test_fig2_reports_s1_against_s2_first():
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        replies = [saw(1, m1, state(m1), "S1"), saw(1, m2, state(m2), "S2"),
                   saw(2, m1, state(m2, m1), "S2"), saw(2, m2, state(m1, m2), "S1")]
        h = History([inv(0, m1), inv(0, m2)], [replies[i] for i in order])
        v = check(h)
        assert v.outcome == "UNSAFE"
        assert set(invariants(v)) == {"prefix_chain"}
        first = v.violations[0]
        assert [o.state.label() for o in first.replies] == ["s^1", "s^2"]
        assert [o.client for o in first.replies] == ["C1", "C2"]
        assert "C1 saw <s^1>" in first.detail and "C2 saw <s^2>" in first.detail


# ------------------------------------------------- one invariant at a time ---

def test_reply_missing_its_request():
    h = History([inv(0, m1), inv(0, m2)],
                [saw(1, m1, state(m1)), saw(2, m2, state(m1))])
    v = check(h)
    assert invariants(v) == ["reply_contains_request"]
    assert "C2 saw <s^1> for m2" in v.violations[0].detail
    assert v.outcome == "UNSAFE"


def test_duplicated_request_in_a_state():
    h = History([inv(0, m1), inv(0, m2)],
                [saw(1, m1, state(m1)), saw(2, m2, state(m1, m2, m1))])
    v = check(h)
    assert invariants(v) == ["no_duplicate"]
    assert "m1 was executed twice: as request 1 and as request 3" in v.violations[0].detail


def test_invented_request_in_a_state():
    ghost = Request("m9", C2)
    h = History([inv(0, m1)], [saw(1, m1, state(ghost, m1))])
    v = check(h)
    assert invariants(v) == ["only_sent_requests"]
    assert "no client ever invoked m9" in v.violations[0].detail
    assert not v.violations[0].latent


def test_invented_request_in_an_execution_is_latent():
    ghost = Request("m9", C2)
    h = History([inv(0, m1)], [saw(1, m1, state(m1))],
                [ex(0.5, "S1", state(m1)), ex(0.7, "S2", state(m1, ghost))])
    v = check(h)
    assert invariants(v) == ["only_sent_requests"]
    assert v.violations[0].latent and v.outcome == "UNSAFE"


def test_client_order_reordered():
    # C1 pipelines m1 then m3; both are answered after both were sent (no real-time order).
    h = History([inv(0, m1), inv(1, m3)],
                [saw(3, m3, state(m3)), saw(4, m1, state(m3, m1))])
    v = check(h)
    assert invariants(v) == ["client_order"]
    assert v.violations[0].detail.startswith("C1 invoked m1 (t=0) before m3 (t=1)")


def test_real_time_violation():
    # m1 is answered at t=2; m2 is invoked at t=3; yet m2 is ordered before m1.
    h = History([inv(0, m1), inv(3, m2)],
                [saw(2, m1, state(m2, m1), "S1"), saw(5, m2, state(m2), "S2")])
    # The reply to m1 holds m2 before anybody invoked it: reported once, that way.
    v = check(h)
    assert invariants(v) == ["real_time"]
    d = v.violations[0].detail
    assert d == ("C1 saw <s^21> for m1 from S1 at t=2, but that state holds m2,"
                 " which C2 invoked only later, at t=3")


def test_real_time_when_the_earlier_reply_does_not_show_the_later_request():
    # m1 answered at t=2 with <s^1>; m2 invoked at t=3; a later reply orders m2 first.
    h = History([inv(0, m1), inv(3, m2)],
                [saw(2, m1, state(m1), "S1"), saw(5, m2, state(m2, m1), "S2")])
    # <s^1> then <s^21>: a fork, and m2 executed before m1 although invoked after
    # m1 was answered
    assert invariants(check(h)) == ["prefix_chain", "real_time"]


def test_real_time_needs_the_reply_strictly_before_the_invocation():
    # Same time, same (unknown) trace position: no order between reply and invocation.
    h = History([inv(0, m1), inv(2, m2)],
                [saw(2, m1, state(m2, m1)), saw(5, m2, state(m2))])
    assert check(h).outcome == "SAFE"
    # With trace positions, the reply at pos 4 precedes the invocation at pos 5.
    h = History([inv(0, m1, 1), inv(2, m2, 5)],
                [saw(2, m1, state(m2, m1), pos=4), saw(5, m2, state(m2), pos=9)])
    assert invariants(check(h)) == ["real_time"]


def test_replica_agreement_without_any_reply_is_latent_and_unsafe():
    h = History([inv(0, m1), inv(0, m2)], [],
                [ex(1, "S1", state(m1)), ex(2, "S2", state(m2))])
    v = check(h)
    assert v.outcome == "UNSAFE"
    assert invariants(v) == ["replica_agreement"]
    x = v.violations[0]
    assert x.latent and x.replies == ()
    assert x.detail == "S1 executed m1 as request 1 at t=1, but S2 executed m2 as request 1 at t=2"


def test_replica_agreement_reported_once_per_pair():
    h = History([inv(0, m1), inv(0, m2), inv(0, m3)], [],
                [ex(1, "S1", state(m1)), ex(2, "S1", state(m1, m2)), ex(3, "S1", state(m1, m2, m3)),
                 ex(4, "S2", state(m2)), ex(5, "S2", state(m2, m1)), ex(6, "S2", state(m2, m1, m3)),
                 ex(7, "S3", state(m1)), ex(8, "S3", state(m1, m3))])
    v = check(h)
    assert [x.detail for x in v.violations] == [
        "S1 executed m1 as request 1 at t=1, but S2 executed m2 as request 1 at t=4",
        "S1 executed m2 as request 2 at t=2, but S3 executed m3 as request 2 at t=8",
    ]


def test_same_request_state_differs_at_a_position():
    h = History([inv(0, m1), inv(0, m2), inv(0, m3)], [],
                [ex(1, "S1", state(m1, m2, m3)), ex(2, "S2", state(m2, m1, m3))])
    v = check(h)
    assert invariants(v) == ["replica_agreement"]
    assert "both executed m3 as request 3, but in different states" in v.violations[0].detail


def test_reexecution_after_crash_is_fine():
    h = History([inv(0, m1), inv(0, m2)], [saw(3, m1, state(m1)), saw(4, m2, state(m1, m2))],
                [ex(1, "S1", state(m1)), ex(2, "S1", state(m1, m2)),
                 ex(5, "S1", state(m1)), ex(6, "S1", state(m1, m2)), ex(6, "S2", state(m1))])
    assert check(h).outcome == "SAFE"


# --------------------------------------------------------------- liveness ---

def pending_m2(final: FinalWorld) -> History:
    return History([inv(0, m1), inv(0, m2)], [saw(1, m1, state(m1))],
                   [ex(0.5, s, state(m1)) for s in final.servers], final)


def test_pending_request_with_reachable_quorum_is_stuck():
    v = check(pending_m2(world()))
    assert v.outcome == "STUCK" and invariants(v) == ["liveness"]
    assert v.violations[0].detail.startswith(
        "m2, invoked by C2 at t=0, never got a reply, although from the last fault (t=0) to the"
        " end (t=100) S1, S2, S3 were up, reachable from C2 over links that deliver, and reached"
        " each other (quorum 2) (STUCK: a request is STUCK only if")


def test_pending_request_without_quorum_is_safe():
    assert check(pending_m2(world(up=("S1",)))).outcome == "SAFE"
    # S1 | S2, S3 | C2: C2 reaches only S1.
    assert check(pending_m2(world(groups=[("S1", "C2"), ("S2", "S3")]))).outcome == "SAFE"
    # The client reaches S2 and S3 together: a quorum.
    assert check(pending_m2(world(groups=[("S1",), ("S2", "S3", "C2")]))).outcome == "STUCK"


def test_unsettled_run_is_not_judged_for_liveness():
    assert check(pending_m2(world(settled=False))).outcome == "SAFE"
    h = pending_m2(world())
    h.final = None
    assert check(h).outcome == "SAFE"


def lagging(final: FinalWorld) -> History:
    return History([inv(0, m1), inv(0, m2)], [saw(3, m1, state(m1)), saw(4, m2, state(m1, m2))],
                   [ex(1, "S1", state(m1)), ex(2, "S1", state(m1, m2)), ex(2, "S3", state(m1))],
                   final)


def test_replica_progress_lag_is_stuck():
    v = check(lagging(world()))
    assert v.outcome == "STUCK"
    assert invariants(v) == ["replica_progress", "replica_progress"]
    assert v.violations[0].detail == (
        "S2 is up and connected to S1 but executed 0 requests while S1 executed 2")
    assert v.violations[1].detail.startswith("S3 is up and connected to S1 but executed 1")


def test_replica_progress_not_judged_without_catch_up_or_connection():
    assert check(lagging(world(catch_up=False))).outcome == "SAFE"
    # S1 cut off: only S3 (1 request) is ahead of S2 on its side.
    v = check(lagging(world(groups=[("S1",), ("S2", "S3")])))
    assert [x.detail for x in v.violations] == [
        "S2 is up and connected to S3 but executed 0 requests while S3 executed 1"]
    assert check(lagging(world(up=("S1",)))).outcome == "SAFE"
    assert check(lagging(world(settled=False))).outcome == "SAFE"


def test_replica_progress_counts_the_latest_execution():
    h = lagging(world(up=("S1", "S3")))
    h.executions.append(ex(5, "S3", state(m1, m2)))
    assert check(h).outcome == "SAFE"


# ------------------------------------------------ off-chain states, caps ---

def test_off_chain_contents_are_checked():
    main = state(m1, m2, m3, m4)
    h = History([inv(0, m1), inv(0, m2), inv(0, m3), inv(0, m4)],
                [saw(9, m4, main), saw(5, m2, state(m2, m2)), saw(6, m3, state(m2, m1))])
    v = check(h)
    assert set(invariants(v)) == {"prefix_chain", "no_duplicate", "reply_contains_request"}
    dup = next(x for x in v.violations if x.invariant == "no_duplicate")
    assert "C2 saw <s^22>" in dup.detail
    miss = next(x for x in v.violations if x.invariant == "reply_contains_request")
    assert "C1 saw <s^21> for m3" in miss.detail


def test_every_reply_sharing_an_off_chain_state_is_checked_for_its_request():
    # S2 and S3 answer from one fork <m2 m1>: m1 is in it, C1's m3 (S3's answer) is not
    fork = state(m2, m1)
    h = History([inv(0, m1), inv(0, m2), inv(0, m3), inv(0, m4)],
                [saw(9, m4, state(m1, m2, m3, m4)), saw(5, m1, fork, "S2"), saw(6, m3, fork, "S3")])
    v = check(h)
    assert set(invariants(v)) == {"prefix_chain", "reply_contains_request"}, v
    miss = next(x for x in v.violations if x.invariant == "reply_contains_request")
    assert "C1 saw <s^21> for m3 from S3" in miss.detail, miss.detail


def test_off_chain_branch_shared_by_several_replies():
    ghost = Request("m9", C3)
    h = History([inv(0, m1), inv(0, m2), inv(0, m3), inv(0, m4)],
                [saw(9, m4, state(m1, m2, m3, m4)), saw(5, m2, state(m2)),
                 saw(6, m1, state(m2, ghost, m1)), saw(7, m1, state(m2, ghost, m1), "S2"),
                 saw(8, m2, state(m2, ghost))])
    v = check(h)
    assert invariants(v) == ["prefix_chain"] * 3 + ["only_sent_requests"]
    # Smallest conflicting pair first; one report per distinct off-chain state.
    assert [[o.state.label() for o in x.replies] for x in v.violations[:3]] == [
        ["s^2", "s^1234"], ["s^29", "s^1234"], ["s^291", "s^1234"]]
    # m9 is reported once, naming the first reply (in walk order) whose state holds it.
    assert v.violations[3].detail == ("C2 saw <s^29> for m2 from S1 at t=8, whose"
                                      " request 2 is m9, but no client ever invoked m9")


def test_the_first_of_several_longest_states_is_the_main_chain():
    h = History([inv(0, m1), inv(0, m2)],
                [saw(1, m2, state(m2, m1)), saw(2, m1, state(m1, m2)), saw(3, m1, state(m1))])
    v = check(h)
    assert [[o.state.label() for o in x.replies] for x in v.violations] == [
        ["s^21", "s^1"], ["s^21", "s^12"]]


def test_repeated_invocations_count_once():
    h = History([inv(0, m1), inv(0, m2), inv(5, m1)],
                [saw(1, m2, state(m2)), saw(6, m1, state(m2, m1))],
                [], world(servers=("S1",), quorum=1))
    assert check(h).outcome == "SAFE"


def test_cap_limits_reports_not_the_outcome():
    reqs = [Request(f"m{i}", f"C{i}") for i in range(1, 11)]
    h = History([inv(0, r) for r in reqs], [saw(1, r, state(r)) for r in reqs])
    v = check(h, max_reports_per_invariant=3)
    assert invariants(v) == ["prefix_chain"] * 3
    assert v.omitted == (("prefix_chain", 6),)
    v0 = check(h, max_reports_per_invariant=0)
    assert v0.outcome == "UNSAFE" and v0.violations == ()


def test_long_states_are_labelled_briefly():
    reqs = [Request(f"m{i}", C1) for i in range(1, 101)]
    s = state(*reqs)
    h = History([inv(i, r) for i, r in enumerate(reqs)],
                [saw(200, reqs[-1], s), saw(201, reqs[0], state(reqs[1]))])
    v = check(h)
    assert v.violations[0].invariant == "prefix_chain"
    assert s.label() in v.violations[0].detail
    assert "s^(…97 more,m98,m99,m100)" in v.violations[0].detail


# ------------------------------------------------------------------ json ---

def messy_history() -> History:
    ghost = Request("m9", C3)
    return History(
        [inv(0, m1, 1), inv(0, m2, 2), inv(1, m3, 3), inv(8, m4, 8)],
        [saw(1, m1, state(m1), "S1", pos=4), saw(1, m2, state(m2), "S2", pos=5),
         saw(2, m1, state(m2, m1), "S2", pos=6), saw(2, m2, state(m1, m2), "S1", pos=7),
         saw(3, m3, state(m1, m2, ghost), "S1", pos=9)],
        [ex(0.5, "S1", state(m1), 10), ex(0.6, "S2", state(m2), 11)],
        world(servers=("S1", "S2"), quorum=1))


def test_to_json_is_serializable_and_deterministic():
    v = check(messy_history())
    assert v.outcome == "UNSAFE"
    text = json.dumps([x.to_json() for x in v.violations], sort_keys=True)
    assert text == json.dumps([x.to_json() for x in check(messy_history()).violations],
                              sort_keys=True)
    first = v.violations[0].to_json()
    assert set(first) == {"invariant", "detail", "latent", "positions", "replies"}
    assert set(first["replies"][0]) == {"client", "request", "state", "server", "time", "pos"}
    assert first["replies"][0]["state"] == "s^1"
    json.dumps(v.to_json())
    assert {"prefix_chain", "only_sent_requests", "replica_agreement", "liveness"} <= set(
        invariants(v))


def test_verdict_does_not_depend_on_record_order():
    base = json.dumps(check(messy_history()).to_json(), sort_keys=True)
    rnd = random.Random(7)
    for _ in range(20):
        h = messy_history()
        rnd.shuffle(h.replies)
        rnd.shuffle(h.executions)
        assert json.dumps(check(h).to_json(), sort_keys=True) == base


def test_violation_defaults():
    x = Violation("liveness", "m1 never got a reply")
    assert x.to_json() == {"invariant": "liveness", "detail": "m1 never got a reply",
                           "latent": False, "positions": [], "replies": []}
    v = Verdict("STUCK", (x,))
    assert v.liveness_violations == (x,) and v.safety_violations == ()
