"""WaitForLearn with a majority (Fig. 8) and two leaders without a takeover protocol (Fig. 9)."""

from __future__ import annotations

from paxsim.protocols import load_protocol
from paxsim.protocols.wait_for_learn_majority import WaitForLearnMajority
from paxsim.testing import Cluster

THREE = ["S1", "S2", "S3"]
FAST = {"retransmit": 3.0, "heartbeat": 1.0, "suspect": 5.0}


def leaders(c: Cluster) -> list[str]:
    """Servers whose last role change made them leader."""
    last: dict[str, str] = {}
    for s, event, _ in c.logs:
        if event in ("leader", "follower"):
            last[s] = event
    return sorted(s for s, e in last.items() if e == "leader")


def test_registry_and_attributes():
    assert load_protocol("wait_for_learn_majority") is WaitForLearnMajority
    assert [WaitForLearnMajority.quorum(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert not WaitForLearnMajority.catch_up


def test_leader_executes_after_a_majority_of_learns():
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.deliver(kind="ACC", dst="S2")
    c.deliver(kind="ACC", dst="S3")
    assert c.executed("S2") == ["m1"] == c.executed("S3")  # followers: on the accept
    assert c.executed("S1") == []
    c.drop(kind="LRN", src="S3")
    c.deliver(kind="LRN", src="S2")           # S1 + S2: two of three
    assert c.executed("S1") == ["m1"]
    assert "retransmit S3" in c.timers["S1"]  # S3's learn still missing: keep resending to S3
    assert "retransmit S2" not in c.timers["S1"]


def test_five_servers_leader_needs_two_learns():
    c = Cluster(WaitForLearnMajority, ["S1", "S2", "S3", "S4", "S5"], FAST)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.deliver_all()
    assert c.executed("S1") == ["m1"]
    c2 = Cluster(WaitForLearnMajority, ["S1", "S2", "S3", "S4", "S5"], FAST)
    c2.start()
    c2.request("C1", "m1", to="S1")
    c2.deliver(kind="REQ")
    for dst in ("S3", "S4", "S5"):
        c2.drop(kind="ACC", dst=dst)
    c2.deliver_all()
    assert c2.executed("S1") == []            # one learn is not a majority of five


def test_server_leads_only_when_it_suspects_every_higher_ranked_server():
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    assert leaders(c) == ["S1"]
    c.run_for(10.0)
    assert leaders(c) == ["S1"]               # heartbeats: nobody suspects S1
    c.crash("S1")
    c.run_for(6.0)
    assert leaders(c) == ["S1", "S2"]         # S1 (crashed) never stepped down; S2 took over
    assert ("S3", "leader") not in [(s, e) for s, e, _ in c.logs]  # S3 still hears S2


def test_partition_with_majority_makes_progress():
    """Fig. 8: S1 is cut off; S2 takes over and orders m2 with S3."""
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    c.isolate("S1")
    c.request("C2", "m2", to=["S2", "S3"])
    c.deliver_all()
    assert c.executed("S2") == []             # S2 follows S1 until it suspects it
    c.run_for(6.0)
    assert c.executed("S2") == ["m2"] == c.executed("S3")
    assert set(c.replies["C2"]) == {"s^2"}


def test_minority_leader_cannot_execute():
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    c.isolate("S1")
    c.request("C1", "m1", to="S1")
    c.run_for(30.0)
    assert c.executed("S1") == []
    assert "C1" not in c.replies
    assert "retransmit S2" in c.timers["S1"] and "retransmit S3" in c.timers["S1"]  # it keeps trying


def test_leader_that_hears_a_higher_ranked_server_again_steps_down():
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    c.isolate("S1")
    c.run_for(6.0)
    assert "S2" in leaders(c)
    c.heal()
    c.run_for(2.0)
    assert leaders(c) == ["S1"]


def test_two_leaders_in_slot_one_neither_decides():
    """Fig. 9(a): S1 and S2 cannot reach each other, both lead, both accept into slot 1
    at S3. S3 executes the first value and never learns the second; it crashes, and
    neither leader ever gets a majority for slot 1: nobody forks, nobody proceeds."""
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    c.cut("S1", "S2")
    c.run_for(6.0)
    assert leaders(c) == ["S1", "S2"]         # a false detection
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver(kind="REQ", dst="S1")
    c.deliver(kind="REQ", dst="S2")
    c.deliver(kind="ACC", src="S1", dst="S3")  # S3 gets S1's accept first ...
    assert c.executed("S3") == ["m1"]
    c.drop(kind="LRN", src="S3", dst="S1")     # ... its learn to S1 is lost
    c.deliver(kind="ACC", src="S2", dst="S3")  # S3 holds m1 in slot 1: no learn for m2
    assert c.pending(kind="LRN", src="S3") == []
    c.crash("S3")
    c.deliver_all()
    c.run_for(20.0)
    assert c.executed("S1") == [] and c.executed("S2") == []
    assert c.replies["C1"] == ["s^1"] and c.replies.get("C2", []) == []


def test_without_the_crash_the_false_detection_alone_is_safe():
    """The same two leaders, S3 up: S1 gets its learn on a retransmission and executes
    m1; S2 never gets a majority for m2 in slot 1 (S3 holds m1 there)."""
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    c.cut("S1", "S2")
    c.run_for(6.0)
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver(kind="REQ", dst="S1")
    c.deliver(kind="REQ", dst="S2")
    c.deliver(kind="ACC", src="S1", dst="S3")
    c.drop(kind="LRN", src="S3", dst="S1")
    c.deliver(kind="ACC", src="S2", dst="S3")
    c.run_for(20.0)
    assert c.executed("S1") == ["m1"] and c.executed("S3") == ["m1"] and c.executed("S2") == []
    assert set(c.replies["C1"]) == {"s^1"} and c.replies.get("C2", []) == []


def test_two_leaders_the_other_way_round():
    """Fig. 9(b): S3 executes m2 and never learns m1; with S3 crashed, S1 never gets a
    majority for m1."""
    c = Cluster(WaitForLearnMajority, THREE, FAST)
    c.start()
    c.cut("S1", "S2")
    c.run_for(6.0)
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver(kind="REQ", dst="S1")
    c.deliver(kind="REQ", dst="S2")
    c.deliver(kind="ACC", src="S2", dst="S3")
    c.drop(kind="LRN", src="S3", dst="S2")
    c.deliver(kind="ACC", src="S1", dst="S3")
    c.crash("S3")
    c.deliver_all()
    assert c.executed("S3") == ["m2"] and c.executed("S1") == []
    assert c.replies["C2"] == ["s^2"] and c.replies.get("C1", []) == []
