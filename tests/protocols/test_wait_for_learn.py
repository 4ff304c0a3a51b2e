"""WaitForLearn (Fig. 6) and WaitForLearn with the fallback rule (Fig. 7)."""

from __future__ import annotations

from paxsim.protocols import load_protocol
from paxsim.protocols.wait_for_learn import WaitForLearn, WaitForLearnFallback
from paxsim.testing import Cluster

BOTH = ["S1", "S2"]
FAST = {"retransmit": 3.0, "heartbeat": 1.0, "suspect": 5.0}


def test_registry_and_attributes():
    assert load_protocol("wait_for_learn") is WaitForLearn
    assert load_protocol("wait_for_learn_fallback") is WaitForLearnFallback
    assert WaitForLearn.quorum(2) == 2 and WaitForLearn.catch_up
    assert WaitForLearnFallback.quorum(2) == 1 and not WaitForLearnFallback.catch_up


def test_leader_waits_for_learn_before_executing():
    c = Cluster(WaitForLearn, BOTH)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    assert c.executed("S1") == [] and "C1" not in c.replies
    c.deliver(kind="ACC")
    assert c.executed("S2") == ["m1"]         # the follower executes on the accept
    assert c.executed("S1") == []
    c.deliver(kind="LRN")
    assert c.executed("S1") == ["m1"]
    assert "retransmit S2" not in c.timers["S1"]


def test_leader_retransmits_until_learn_then_executes():
    c = Cluster(WaitForLearn, BOTH)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.drop(kind="ACC")
    c.run_for(2.5)
    assert c.executed("S1") == []
    c.run_for(1.0)                           # the timer fired at t=3: resent, learned
    assert c.executed("S1") == ["m1"] == c.executed("S2")


def test_resent_request_during_wait_is_not_ordered_twice():
    c = Cluster(WaitForLearn, BOTH)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    assert len(c.pending(kind="ACC")) == 1
    c.deliver_all()
    assert c.executed("S1") == ["m1"]


def test_leader_executes_in_slot_order_even_if_learns_come_out_of_order():
    c = Cluster(WaitForLearn, BOTH)
    c.start()
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S1")
    c.deliver(kind="REQ")
    c.deliver(kind="REQ")
    c.deliver(kind="ACC")
    c.deliver(kind="ACC")
    lrn1 = c.pending(kind="LRN")[0]
    c.inbox.remove(lrn1)
    c.deliver(kind="LRN")                     # <LRN, m2> first
    assert c.executed("S1") == []
    c.inbox.append(lrn1)
    c.deliver(kind="LRN")
    assert c.executed("S1") == ["m1", "m2"]


def fig5_schedule(c: Cluster) -> None:
    """S1 gets m1, S2 gets m2 first; the first <ACC, m1, 1> is lost."""
    c.start()
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver(kind="REQ", dst="S1")
    c.deliver(kind="REQ", dst="S2")
    c.drop(kind="ACC")


def test_crash_after_reply_leaves_the_order_with_the_backup():
    """The fix for Fig. 5: once C1 has seen <s^1>, S2 already knows m1 is first."""
    c = Cluster(WaitForLearnFallback, BOTH, FAST)
    fig5_schedule(c)
    while "C1" not in c.replies:
        c.run_for(0.5)
    assert set(c.replies["C1"]) == {"s^1"}   # from S1 and S2 (which executed on the accept)
    c.crash("S1")
    c.run_for(8.0)
    assert ("S2", "fallback") in [(s, e) for s, e, _ in c.logs]
    assert c.executed("S2") == ["m1", "m2"]   # not m2 first
    assert c.replies["C2"] == ["s^12"]


def test_crash_before_learn_lets_the_backup_choose_and_nobody_saw_otherwise():
    c = Cluster(WaitForLearnFallback, BOTH, FAST)
    fig5_schedule(c)
    c.crash("S1")                             # before any retransmission
    c.run_for(8.0)
    assert c.executed("S2") == ["m2"]
    assert "C1" not in c.replies              # S1 never replied: no contradiction


def test_partition_makes_both_fall_back_split_brain():
    """Fig. 7: a partition, both servers up, both go alone."""
    c = Cluster(WaitForLearnFallback, BOTH, FAST)
    c.start()
    c.cut("S1", "S2")
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver_all()
    assert c.executed("S1") == [] == c.executed("S2")   # S1 waits for a learn
    c.run_for(6.0)
    assert c.executed("S1") == ["m1"] and c.executed("S2") == ["m2"]
    assert c.replies == {"C1": ["s^1"], "C2": ["s^2"]}
