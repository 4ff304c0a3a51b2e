"""RetransAccept (Fig. 4) and the fallback rule of section 4 (Fig. 5)."""

from __future__ import annotations

import pytest

from paxsim.protocols import load_protocol
from paxsim.protocols.base import ParamError
from paxsim.protocols.retrans_accept import RetransAccept, RetransAcceptFallback
from paxsim.testing import Cluster

BOTH = ["S1", "S2"]


def test_registry_and_attributes():
    assert load_protocol("retrans_accept") is RetransAccept
    assert load_protocol("retrans_accept_fallback") is RetransAcceptFallback
    assert RetransAccept.quorum(2) == 2 and RetransAccept.catch_up
    assert RetransAcceptFallback.quorum(2) == 1 and not RetransAcceptFallback.catch_up
    assert RetransAccept.check_params({}, 2) == {"retransmit": 3.0}
    with pytest.raises(ParamError, match="retransmit"):
        RetransAccept.check_params({"retransmit": 0}, 2)
    with pytest.raises(ParamError, match="suspect"):
        RetransAcceptFallback.check_params({"suspect": "soon"}, 2)
    with pytest.raises(ParamError, match="at most 2"):
        RetransAcceptFallback.check_params({}, 3)


def test_follower_answers_every_accept_with_a_learn_including_duplicates():
    c = Cluster(RetransAccept, BOTH)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ", dst="S1")
    acc = c.pending(kind="ACC")[0]
    c.inbox.append(type(acc)(acc.src, acc.dst, acc.msg))  # the network duplicates it
    c.deliver(kind="ACC")
    c.deliver(kind="ACC")
    learns = c.pending(kind="LRN", src="S2", dst="S1")
    assert [(e.msg.request.id, e.msg.slot) for e in learns] == [("m1", 1), ("m1", 1)]
    assert c.executed("S2") == ["m1"]  # executed once


def test_leader_retransmits_accept_until_learn():
    c = Cluster(RetransAccept, BOTH, {"retransmit": 3.0})
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ", dst="S1")
    assert c.drop(kind="ACC") == 1
    c.advance(3.0)
    c.fire("S1", "retransmit S2")
    assert c.drop(kind="ACC") == 1           # lost again
    c.advance(3.0)
    c.fire("S1", "retransmit S2")
    c.deliver(kind="ACC")                     # this one arrives
    assert c.drop(kind="LRN") == 1           # but its learn is lost
    c.advance(3.0)
    c.fire("S1", "retransmit S2")
    c.deliver(kind="ACC")                     # a duplicate for S2: learn again
    c.deliver(kind="LRN")
    assert "retransmit S2" not in c.timers["S1"]   # acknowledged: no more retransmissions
    assert c.executed("S2") == ["m1"]


def test_a_silent_peer_gets_one_probe_per_period_then_everything_once_it_answers():
    c = Cluster(RetransAccept, BOTH, {"retransmit": 3.0})
    c.start()
    for i in range(1, 6):
        c.request("C1", f"m{i}", to="S1")
    c.deliver_all()
    assert c.executed("S2") == ["m1", "m2", "m3", "m4", "m5"]
    c.cut("S1", "S2")                         # from now on S2 hears nothing
    for i in range(6, 11):
        c.request("C1", f"m{i}", to="S1")
    c.deliver_all()
    for _ in range(4):
        c.advance(3.0)
        c.fire("S1", "retransmit S2")
        resent = c.pending(kind="ACC")
        assert [e.msg.slot for e in resent] == [6]   # only the oldest, as a probe
        c.deliver_all()
    c.heal()
    c.advance(3.0)
    c.fire("S1", "retransmit S2")             # the probe arrives and is answered
    c.deliver_all()
    c.advance(3.0)
    c.fire("S1", "retransmit S2")             # now the rest follows
    assert [e.msg.slot for e in c.pending(kind="ACC")] == [7, 8, 9, 10]
    c.deliver_all()
    assert c.executed("S2") == [f"m{i}" for i in range(1, 11)]
    assert "retransmit S2" not in c.timers["S1"]


def test_lost_accept_is_repaired_and_follower_executes_in_order():
    """Fig. 4: <ACC, m2, 1> is lost, S1 resends it, S2 executes m2 then m1."""
    c = Cluster(RetransAccept, BOTH)
    c.start()
    c.request("C2", "m2", to="S1")
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.drop(kind="ACC")                        # <ACC, m2, 1>
    c.deliver_all()                           # m1 and <ACC, m1, 2>
    assert c.executed("S2") == []
    c.run_for(4.0)
    assert c.executed("S2") == ["m2", "m1"] == c.executed("S1")
    assert c.timers["S1"] == {}


def test_leader_still_replies_before_any_learn():
    c = Cluster(RetransAccept, BOTH)
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    assert c.executed("S1") == ["m1"]
    assert [str(e) for e in c.inbox] == ["S1->S2 <ACC, m1, 1>", "S1->C1 <s^1>"]


# ------------------------------------------------------------- the fallback rule ---

def test_heartbeats_keep_the_other_server_from_being_suspected():
    c = Cluster(RetransAcceptFallback, BOTH, {"heartbeat": 1.0, "suspect": 5.0})
    c.start()
    c.run_for(30.0)
    assert not [log for log in c.logs if log[1] == "fallback"]


def test_leader_crash_after_reply_lets_backup_reorder():
    """Fig. 5: S1 replies <s^1> to C1 and crashes; S2 goes alone and runs m2 first."""
    c = Cluster(RetransAcceptFallback, BOTH, {"retransmit": 3.0, "heartbeat": 1.0, "suspect": 5.0})
    c.start()
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver(kind="REQ", dst="S1")
    c.drop(kind="ACC")                        # <ACC, m1, 1> is lost
    c.deliver(kind="REPLY")                   # C1 sees <s^1>
    c.crash("S1")                             # before retransmitting
    c.deliver(kind="REQ", dst="S2")           # S2 holds m2 ...
    c.request("C1", "m1", to="S2")
    c.deliver(kind="REQ", dst="S2")           # ... then m1
    assert c.executed("S2") == []
    c.run_for(4.0)
    assert c.executed("S2") == []             # not suspected yet
    c.run_for(3.0)
    assert ("S2", "fallback") in [(s, e) for s, e, _ in c.logs]
    assert c.executed("S2") == ["m2", "m1"]   # its own order: arrival order
    assert c.replies["C1"][0] == "s^1" and c.replies["C2"] == ["s^2"]   # a fork


def test_server_alone_executes_new_requests_on_arrival():
    c = Cluster(RetransAcceptFallback, BOTH, {"heartbeat": 1.0, "suspect": 5.0})
    c.start()
    c.crash("S1")
    c.run_for(6.0)
    c.request("C1", "m7", to="S2")
    c.deliver_all()
    assert c.executed("S2") == ["m7"] and c.replies["C1"] == ["s^7"]


def test_detector_is_no_oracle_a_cut_link_looks_like_a_crash():
    c = Cluster(RetransAcceptFallback, BOTH, {"heartbeat": 1.0, "suspect": 5.0})
    c.start()
    c.cut("S1", "S2")
    c.run_for(6.0)
    assert sorted(s for s, e, _ in c.logs if e == "fallback") == ["S1", "S2"]
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver_all()
    assert c.executed("S1") == ["m1"] and c.executed("S2") == ["m2"]
    assert c.pending(kind="ACC") == []        # alone: no accepts any more
