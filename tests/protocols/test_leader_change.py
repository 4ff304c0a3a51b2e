"""LeaderChange with leader ids (Figs. 10, 11) and with round numbers (Fig. 11-rounds,
Fig. 12a), driven by hand with the in-memory cluster."""

from __future__ import annotations

import pytest

from paxsim.protocols import ParamError, load_protocol
from paxsim.protocols.leader_change import LeaderChange, LeaderChangeRounds
from paxsim.testing import Cluster

THREE = ["S1", "S2", "S3"]
FIVE = ["S1", "S2", "S3", "S4", "S5"]


def tick(c: Cluster, server: str, after: float = 10.0) -> None:
    c.advance(after)
    c.fire(server, "heartbeat")


def test_registry_and_attributes():
    assert load_protocol("leader_change") is LeaderChange
    assert load_protocol("leader_change_rounds") is LeaderChangeRounds
    with pytest.raises(ParamError):
        LeaderChange.check_params({}, 5)          # ids: the three-server protocol
    LeaderChangeRounds.check_params({}, 5)
    assert LeaderChange.quorum(3) == 2 and LeaderChangeRounds.quorum(5) == 2


def test_s1_leads_from_the_start_and_followers_execute_on_the_accept():
    c = Cluster(LeaderChange, THREE)
    c.start()
    assert c.logged("leader") == [("S1", "S1")]
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    (acc, _) = c.pending(kind="ACC")
    assert acc.msg.label() == "<ACC, m1, 1, S1>"
    c.deliver(kind="ACC", dst="S3")
    assert c.executed("S3") == ["m1"] and c.executed("S1") == []
    assert [e.msg.label() for e in c.pending(src="S3")] == ["<LRN, m1, S1>", "<s^1>"]
    c.deliver(kind="LRN")                       # the leader: after one learn
    assert c.executed("S1") == ["m1"]


def test_new_leader_waits_for_a_promise():
    """Fig. 10: <PREP, S2>, S3 answers <PROM, -, S2>; only then does S2 send accepts."""
    c = Cluster(LeaderChange, THREE)
    c.start()
    c.crash("S1")
    tick(c, "S2")
    assert [str(e) for e in c.pending(kind="PREP")] == ["S2->S1 <PREP, S2>", "S2->S3 <PREP, S2>"]
    c.request("C1", "m1", to="S2")
    c.deliver(kind="REQ")
    assert c.pending(kind="ACC") == []          # no promise yet: the request waits
    c.deliver(kind="PREP", dst="S3")
    (prom,) = c.pending(kind="PROM")
    assert str(prom) == "S3->S2 <PROM, -, S2>"
    assert c.replicas["S3"].leader == "S2"      # S3 replaced S1 by S2
    c.deliver(kind="PROM")
    assert c.logged("leader")[-1] == ("S2", "S2")
    assert [e.msg.label() for e in c.pending(kind="ACC")] == ["<ACC, m1, 1, S2>"] * 2


def _fig11() -> Cluster:
    c = Cluster(LeaderChange, THREE)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.drop(kind="ACC", dst="S2")
    c.deliver(kind="ACC", dst="S3")             # only S3 got it: executes and replies <s^1>
    c.isolate("S1")
    c.deliver_all()
    assert c.replies["C1"] == ["s^1"] and c.executed("S1") == []
    tick(c, "S2")
    c.deliver_all()
    return c


def test_promise_reports_executed_request_to_new_leader():
    """Fig. 11: S3's <PROM, m1, S2> makes S2 re-send ACC(m1, 1) before it orders m2."""
    c = Cluster(LeaderChange, THREE)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.drop(kind="ACC", dst="S2")
    c.deliver(kind="ACC", dst="S3")
    c.isolate("S1")
    c.deliver_all()
    tick(c, "S2")
    c.deliver(kind="PREP", dst="S3")
    assert [e.msg.label() for e in c.pending(kind="PROM")] == ["<PROM, m1, S2>"]
    c.deliver(kind="PROM")
    assert [e.msg.label() for e in c.pending(kind="ACC", dst="S3")] == ["<ACC, m1, 1, S2>"]
    c.request("C2", "m2", to="S2")
    c.deliver_all()
    assert c.executed("S2") == ["m1", "m2"] == c.executed("S3")
    assert set(c.replies["C2"]) == {"s^12"}


def test_higher_rank_wins_when_partitions_merge():
    """Fig. 11, the end: S1 and S2 both think they lead; S2 ranks higher."""
    c = _fig11()
    c.request("C2", "m2", to="S2")
    c.deliver_all()
    assert c.replicas["S1"].ldr.phase == 2      # cut off, S1 still thinks it leads
    c.heal()
    c.advance(1.0)
    c.fire("S1", "heartbeat")                   # <HB, S1> reaches S2 ...
    c.deliver(kind="HB", src="S1", dst="S2")
    assert [e.msg.label() for e in c.pending(src="S2", dst="S1")] == [
        "<NACK, S2>", "<ACC, m1, 1, S2>", "<ACC, m2, 2, S2>"]
    c.deliver_all()                             # ... S2 re-sends its accepts, S1 follows S2
    assert c.replicas["S1"].ldr.phase == 0 and c.replicas["S1"].leader == "S2"
    assert c.executed("S1") == ["m1", "m2"]
    assert set(c.replies["C2"]) == {"s^12"}


def _lead_in_turn(proto) -> Cluster:
    """S1 leads; then S2 (S1 crashed); then S3 (S2 crashed, S1 back); then S3 crashes."""
    c = Cluster(proto, THREE)
    c.start()
    c.crash("S1")
    tick(c, "S2")
    c.deliver_all()
    c.crash("S2")
    c.recover("S1")
    tick(c, "S3")
    c.deliver_all()
    c.recover("S2")
    c.crash("S3")
    tick(c, "S1", after=20.0)
    c.deliver_all()
    return c


def test_ids_cannot_move_leadership_back_to_a_lower_rank():
    c = _lead_in_turn(LeaderChange)
    assert c.logged("leader") == [("S1", "S1"), ("S2", "S2"), ("S3", "S3")]
    assert c.pending(kind="PREP") == []        # S1 would need an id above S3's: it has none


def test_round_numbers_let_low_rank_lead_again():
    """Fig. 11-rounds: S1 1, S2 2, S3 3, then S1 with its next round, 4."""
    c = _lead_in_turn(LeaderChangeRounds)
    assert c.logged("leader") == [("S1", 1), ("S2", 2), ("S3", 3), ("S1", 4)]
    c.request("C1", "m1", to="S1")
    c.deliver_all()
    assert c.executed("S1") == ["m1"] == c.executed("S2")


def test_five_servers_one_promise_and_execute_on_accept_lose_a_reply():
    """Fig. 12a: the three-server rules with five servers."""
    c = Cluster(LeaderChangeRounds, FIVE)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    for s in ("S3", "S4", "S5"):
        c.drop(kind="ACC", dst=s)
    c.deliver(kind="ACC", dst="S2")
    c.deliver_all()
    assert c.replies["C1"][0] == "s^1"
    c.crash("S1")
    c.crash("S2")
    tick(c, "S3")
    c.deliver(kind="PREP", dst="S4")
    c.deliver(kind="PROM")                      # one other promise is enough here
    assert c.logged("leader")[-1] == ("S3", 3)
    c.request("C2", "m2", to="S3")
    c.deliver_all()
    assert "s^2" in c.replies["C2"]             # against C1's s^1


def test_new_leader_resends_what_the_promise_reports_over_its_own_stale_value():
    c = Cluster(LeaderChangeRounds, THREE)
    c.start()
    c.isolate("S1")
    c.request("C2", "m4", to="S1")              # S1, cut off, accepts m4 for slot 1 alone
    c.deliver_all()
    tick(c, "S2")
    c.deliver_all()                             # S2 leads round 2 with S3
    c.request("C1", "m1", to="S2")
    c.deliver_all()
    assert c.executed("S3") == ["m1"] and c.replies["C1"][0] == "s^1"
    c.crash("S2")
    c.heal()
    c.advance(4.0)
    c.fire("S1", "heartbeat")                   # S1's round-1 heartbeat and accept: NACK(2)
    c.deliver_all()
    assert c.replicas["S1"].ldr.phase == 0
    tick(c, "S1")                               # S2 is silent: S1 asks with round 4
    c.deliver(kind="PREP", dst="S3")
    assert [e.msg.label() for e in c.pending(kind="PROM")] == ["<PROM, m1, 4>"]
    c.deliver(kind="PROM")
    assert [e.msg.label() for e in c.pending(kind="ACC", dst="S3")] == ["<ACC, m1, 1, 4>"]
    c.deliver_all()
    assert c.executed("S1") == ["m1"]
