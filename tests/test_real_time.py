"""Real time both ways: a reply may not hold a request invoked after it arrived
(batch and streaming checker)."""

from __future__ import annotations

from paxsim.history import History
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
