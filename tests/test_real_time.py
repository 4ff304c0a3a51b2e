"""Real time both ways: a reply may not hold a request invoked after it arrived
(batch and streaming checker)."""

from __future__ import annotations

from paxsim.history import History
from paxsim.types import Request
from tests import test_checker as tc
from tests.test_exact_identity import broken, stream
from paxsim.checker import check

m1, m2 = tc.m1, tc.m2


def test_a_reply_holding_a_request_invoked_later_breaks_real_time_both_ways():
    # m1 is answered at t=2 with <m1 m2>, but C2 invokes m2 only at t=3. The order of
    # the chain is fine (m1 before m2): only the reply's time gives it away.
    s12 = tc.state(m1, m2)
    h = History([tc.inv(0, m1, 1), tc.inv(3, m2, 3)],
                [tc.saw(2, m1, s12, "S1", pos=2), tc.saw(4, m2, s12, "S1", pos=4)])
    for v in (check(h), stream(h)):
        assert v.outcome == "UNSAFE" and broken(v) == {"real_time"}, v
        assert v.violations[0].detail == ("C1 saw <s^12> for m1 from S1 at t=2, but that state holds m2,"
                                          " which C2 invoked only later, at t=3")


def test_the_same_reply_after_the_invocation_is_fine():
    s12 = tc.state(m1, m2)
    h = History([tc.inv(0, m1, 1), tc.inv(1, m2, 2)],
                [tc.saw(2, m1, s12, "S1", pos=3), tc.saw(4, m2, s12, "S1", pos=4)])
    assert check(h).outcome == stream(h).outcome == "SAFE"


def test_off_the_main_chain_too():
    # C2 sees a fork <m2 m3> at t=2, before m3 was invoked (t=5): both a fork and real time
    m3 = tc.m3
    h = History([tc.inv(0, m1, 1), tc.inv(0, m2, 2), tc.inv(5, m3, 6)],
                [tc.saw(1, m1, tc.state(m1, m2, m3), "S1", pos=3), tc.saw(2, m2, tc.state(m2, m3), "S2", pos=4),
                 tc.saw(6, m3, tc.state(m1, m2, m3), "S1", pos=7)])
    for v in (check(h), stream(h)):
        assert "real_time" in broken(v) and "prefix_chain" in broken(v), v


def test_off_the_main_chain_the_late_request_may_sit_below_the_replys_own():
    # C2 sees the fork <m4 m2> at t=2: its own m2 was invoked at t=0, but m4, one node
    # further down the fork, only at t=5 (the walk over the fork carries what it met below)
    m3, m4 = tc.m3, tc.m4
    h = History([tc.inv(0, m1, 1), tc.inv(0, m2, 2), tc.inv(1.5, m3, 4), tc.inv(5, m4, 7)],
                [tc.saw(1, m1, tc.state(m1), "S1", pos=3), tc.saw(2, m2, tc.state(m4, m2), "S2", pos=5),
                 tc.saw(3, m3, tc.state(m1, m2, m3), "S1", pos=6)])
    for v in (check(h), stream(h)):
        assert broken(v) == {"real_time", "prefix_chain"}, v
        late = [x.detail for x in v.violations if x.invariant == "real_time"]
        assert late == ["C2 saw <s^42> for m2 from S2 at t=2, but that state holds m4,"
                        " which C2 invoked only later, at t=5"], late


# A fork whose walk stops at a node equal to one an earlier fork's walk listed (another
# object: a server's own copy, perhaps trimmed) hangs below that node and holds what
# lies below it. Equal states are one state: the verdict may not depend on the copy.
A, B, X, Z = Request("A", "C1"), Request("B", "C2"), Request("X", "C1"), Request("Z", "C2")


def fork_on_a_copy(below_b) -> History:
    """C1 sees the fork <X A Z> at t=1, C2 the fork <X B> at t=2 (built on ``below_b``,
    a state equal to <X>, or <X A> for a trimmed copy); X and Z are invoked only at t=3.
    C1's reply gives away Z (its topmost late request); C2's reply gives away X."""
    s1 = tc.state(X, A, Z)
    main = tc.state(A, B, X, Z)
    return History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(3, X, 5), tc.inv(3, Z, 6)],
                   [tc.saw(1, A, s1, "S2", pos=3), tc.saw(2, B, below_b(s1).then(B), "S3", pos=4),
                    tc.saw(5, X, main, "S1", pos=7), tc.saw(6, Z, main, "S1", pos=8)])


def late(v) -> list[str]:
    return [x.detail for x in v.violations if x.invariant == "real_time"]


def test_a_fork_built_on_a_copy_of_an_earlier_forks_node_holds_what_lies_below_it():
    shared = fork_on_a_copy(lambda s1: s1.parent.parent)     # C1's own node <X>
    copy = fork_on_a_copy(lambda s1: tc.state(X))             # an equal, separate <X>
    by_c1 = "C1 saw <s^XAZ> for A from S2 at t=1, but that state holds Z, which C2 invoked only later, at t=3"
    by_c2 = "C2 saw <s^XB> for B from S3 at t=2, but that state holds X, which C1 invoked only later, at t=3"
    for h in (shared, copy):
        v = check(h)
        assert broken(v) == {"prefix_chain", "real_time"}, v
        assert late(v) == [by_c2, by_c1], late(v)   # by the invocation: X, then Z
        assert sorted(late(stream(h))) == [  # streaming: the first reply that held each
            "C1 saw <s^XAZ> for A from S2 at t=1, but that state holds X, which C1 invoked only later, at t=3",
            by_c1]
    assert check(copy) == check(shared)
    # the copy trimmed (C2's server compacted its log: X no longer listed): still X
    trimmed = fork_on_a_copy(lambda s1: s1.parent.trimmed(1).parent)
    v = check(trimmed)
    assert len(late(v)) == 2 and late(v)[0].startswith("C2 saw <s^(…1 more,B)> for B") and \
        late(v)[0].endswith("holds X, which C1 invoked only later, at t=3"), late(v)


def test_a_trimmed_fork_reply_holds_what_its_snapshot_node_stands_for():
    # equal to an earlier fork's state: C1 sees <X A> at t=1, and again, trimmed to
    # <... A>, at t=2; X is invoked at t=3 (one report per request: the first reply)
    full = tc.state(X, A)
    main = tc.state(A, B, X)
    h = History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(3, X, 5)],
                [tc.saw(1, A, full, "S2", pos=3), tc.saw(2, A, full.trimmed(1), "S2", pos=4),
                 tc.saw(5, X, main, "S1", pos=7), tc.saw(6, B, main, "S1", pos=8)])
    for v in (check(h), stream(h)):
        assert {"prefix_chain", "real_time"} <= broken(v), v
        assert late(v) == ["C1 saw <s^XA> for A from S2 at t=1, but that state holds X,"
                           " which C1 invoked only later, at t=3"], late(v)
    # a fork whose snapshot node lies on the main chain: C2's <... B> at t=1 stands
    # for <X B>, and X is invoked only at t=3
    main = tc.state(X, A, B)
    h = History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(3, X, 5)],
                [tc.saw(1, B, tc.state(X, B).trimmed(1), "S2", pos=3),
                 tc.saw(5, X, main, "S1", pos=7), tc.saw(6, A, main, "S1", pos=8)])
    assert late(check(h)) == ["C2 saw <s^(…1 more,B)> for B from S2 at t=1, but that state holds X,"
                              " which C1 invoked only later, at t=3"]


# A fork first seen in a trimmed copy (only its top listed, above a snapshot node),
# then in a full one: the full one's walk meets the trimmed copy's nodes, which its
# walk listed without what lies below them; it must go on below them.
V, W, U, Y = Request("V", "C3"), Request("W", "C2"), Request("U", "C3"), Request("Y", "C2")


def trimmed_then_full() -> History:
    """C3 sees <B V> at t=0.5, C2 <A X W> trimmed to <... W> at t=1, C3 <A X W U> at
    t=2; the main chain is <B V A X Y>, and X is invoked only at t=3."""
    main = tc.state(B, V, A, X, Y)
    return History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(0, V, 3), tc.inv(0, W, 4), tc.inv(0, U, 5),
                    tc.inv(3, X, 9), tc.inv(3.5, Y, 10)],
                   [tc.saw(0.5, V, tc.state(B, V), "S1", pos=6),
                    tc.saw(1, W, tc.state(A, X, W).trimmed(1), "S2", pos=7),
                    tc.saw(2, U, tc.state(A, X, W, U), "S3", pos=8),
                    tc.saw(4, X, main, "S1", pos=11), tc.saw(5, Y, main, "S1", pos=12)])


def test_batch_a_fork_first_seen_trimmed_still_holds_what_a_full_copy_lists_below():
    # the trimmed reply at t=1 is the same state as <A X W>: it holds X too (the first)
    v = check(trimmed_then_full())
    assert broken(v) == {"prefix_chain", "real_time"}, v
    assert late(v) == ["C2 saw <s^(…2 more,W)> for W from S2 at t=1, but that state holds X,"
                       " which C1 invoked only later, at t=3"], late(v)


def test_streaming_a_fork_first_seen_trimmed_still_holds_what_a_full_copy_lists_below():
    # streaming learns what the trimmed copy stood for only at t=2, from the full one
    v = stream(trimmed_then_full())
    assert broken(v) == {"prefix_chain", "real_time"}, v
    assert late(v) == ["C3 saw <s^AXWU> for U from S3 at t=2, but that state holds X,"
                       " which C1 invoked only later, at t=3"], late(v)


def one_state_in_two_copies(first, second) -> History:
    """C2 (at t=1) and C3 (at t=2) see the same fork <A X W>, each in the copy given
    (``first``, ``second``: functions of the full state); X is invoked at t=3."""
    full = tc.state(A, X, W)
    main = tc.state(B, V, A, X, Y)
    return History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(0, V, 3), tc.inv(0, W, 4),
                    tc.inv(3, X, 9), tc.inv(3.5, Y, 10)],
                   [tc.saw(0.5, V, tc.state(B, V), "S1", pos=6), tc.saw(1, W, first(full), "S2", pos=7),
                    tc.saw(2, W, second(full), "S3", pos=8),
                    tc.saw(4, X, main, "S1", pos=11), tc.saw(5, Y, main, "S1", pos=12)])


def test_equal_states_are_one_state_whichever_copy_comes_first():
    full, trim, bare = (lambda s: s), (lambda s: s.trimmed(1)), (lambda s: s.trimmed(0))
    copy = lambda s: tc.state(A, X, W)  # noqa: E731 (an equal, separate object)
    orders = {"trimmed first": (trim, full), "full first": (full, trim), "one object": (full, full),
              "equal objects": (full, copy), "equal objects, trimmed first": (trim, copy),
              "nothing listed first": (bare, full), "nothing listed, then an equal object": (bare, copy)}
    batch = {name: check(one_state_in_two_copies(*order)) for name, order in orders.items()}
    streaming = {name: stream(one_state_in_two_copies(*order)) for name, order in orders.items()}
    # batch: the same reports, naming the same records (the first reply holds X)
    shapes = {name: [(x.invariant, x.positions) for x in v.violations] for name, v in batch.items()}
    assert all(s == shapes["one object"] for s in shapes.values()), shapes
    assert ("real_time", (7, 9)) in shapes["one object"], shapes
    # streaming: the same violations (it learns what a trimmed copy stands for only
    # when a full one comes, so which reply is named may differ)
    counts = {name: sorted(x.invariant for x in v.violations) for name, v in streaming.items()}
    assert all(c == counts["one object"] for c in counts.values()), counts
    assert counts["one object"] == ["prefix_chain", "real_time"], counts


def test_a_trimmed_fork_reply_is_not_blamed_for_a_request_below_its_snapshot_node():
    # C1's reply to A is <A X> trimmed to <... X>: A lies below the snapshot node, where
    # nothing is listed; the fork is reported, a missing A is not (it is not known)
    Z = Request("Z", "C1")
    main = tc.state(B, Y, Z)
    h = History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(0, X, 3), tc.inv(0, Y, 4), tc.inv(0, Z, 5)],
                [tc.saw(0.5, B, tc.state(B), "S1", pos=6), tc.saw(1, A, tc.state(A, X).trimmed(1), "S2", pos=7),
                 tc.saw(2, Z, main, "S1", pos=8)])
    for v in (check(h), stream(h)):
        assert broken(v) == {"prefix_chain"}, v


def test_once_a_full_copy_lists_what_lies_below_a_trimmed_forks_replies_are_judged_on_it():
    # C2's reply to Q is <A X W> trimmed to <... W> (at t=1, and again at t=2.5): Q is
    # in no state. Once C3's full <A X W U> (t=2) lists what lies below, Q is missing
    # (batch: the first such reply; streaming: the first after t=2, when it knows).
    Q = Request("Q", "C2")
    main = tc.state(B, V, A, X, Y)
    trimmed = tc.state(A, X, W).trimmed(1)
    h = History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(0, V, 3), tc.inv(0, W, 4), tc.inv(0, U, 5),
                 tc.inv(0, Q, 6), tc.inv(3, X, 9), tc.inv(3.5, Y, 10)],
                [tc.saw(0.5, V, tc.state(B, V), "S1", pos=6), tc.saw(1, Q, trimmed, "S2", pos=7),
                 tc.saw(2, U, tc.state(A, X, W, U), "S3", pos=8), tc.saw(2.5, Q, trimmed, "S2", pos=9),
                 tc.saw(4, X, main, "S1", pos=11), tc.saw(5, Y, main, "S1", pos=12)])
    for v, t in ((check(h), 1), (stream(h), 2.5)):
        assert broken(v) == {"prefix_chain", "real_time", "reply_contains_request"}, v
        assert [x.detail for x in v.violations if x.invariant == "reply_contains_request"] == [
            f"C2 saw <s^(…2 more,W)> for Q from S2 at t={t:g}, but that state does not contain Q"]


def test_a_duplicate_in_a_trimmed_fork_is_reported_once_whichever_copies_show_it():
    # <A X W Q W> executes W twice; C2 sees it trimmed to <... W Q W> at t=1, C3 in
    # full at t=2 (its walk lists W's nodes again, below which it finds A and X)
    Q = Request("Q", "C2")
    full = tc.state(A, X, W, Q, W)
    main = tc.state(B, V, A, X, Y, Z)
    h = History([tc.inv(0, A, 1), tc.inv(0, B, 2), tc.inv(0, V, 3), tc.inv(0, W, 4), tc.inv(0, Q, 5),
                 tc.inv(0, X, 6), tc.inv(3.5, Y, 10), tc.inv(3.5, Z, 10)],
                [tc.saw(0.5, V, tc.state(B, V), "S1", pos=6), tc.saw(1, W, full.trimmed(3), "S2", pos=7),
                 tc.saw(2, Q, full, "S3", pos=8), tc.saw(4, X, main, "S1", pos=11), tc.saw(5, Y, main, "S1", pos=12)])
    for v in (check(h), stream(h)):
        assert broken(v) == {"prefix_chain", "no_duplicate"}, v
        assert [x.invariant for x in v.violations].count("no_duplicate") == 1 and not v.omitted, v


def test_a_fork_reply_whose_state_is_a_bare_snapshot_node_is_judged_not_a_crash():
    # C2's reply lists nothing (a server that compacted everything, even m2): a fork
    # against C1's <m1 m3> of the same length, found by both drivers alike
    m3 = tc.m3
    h = History([tc.inv(0, m1, 1), tc.inv(0, m2, 2), tc.inv(0, m3, 3)],
                [tc.saw(1, m1, tc.state(m1, m3), "S1", pos=4), tc.saw(2, m2, tc.state(m2, m3).trimmed(0), "S2", pos=5),
                 tc.saw(3, m3, tc.state(m1, m3), "S1", pos=6)])
    v = check(h)
    assert broken(v) == {"prefix_chain"} and v == stream(h), v
