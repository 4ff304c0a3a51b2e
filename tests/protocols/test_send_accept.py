"""SendAccept (Fig. 3): the leader orders, the follower obeys sequence numbers; a lost accept sticks."""

from __future__ import annotations

import pytest

from paxsim.protocols import load_protocol
from paxsim.protocols.base import ParamError
from paxsim.protocols.send_accept import SendAccept
from paxsim.testing import Cluster
from paxsim.types import Accept, Request

BOTH = ["S1", "S2"]


def fig3(c: Cluster) -> None:
    """S1 receives m2 then m1; S2 receives m1 then m2 (the clients send to both)."""
    c.start()
    c.request("C2", "m2", to="S1")
    c.request("C1", "m1", to="S2")
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S2")
    c.deliver(kind="REQ", src="C2", dst="S1")
    c.deliver(kind="REQ", src="C1", dst="S1")


def test_registry_names_the_stage():
    assert load_protocol("send_accept") is SendAccept
    assert SendAccept.client_mode == "all"
    assert SendAccept.quorum(2) == 2 and SendAccept.quorum(3) == 3
    assert SendAccept.catch_up is True
    with pytest.raises(ParamError):
        SendAccept.check_params({}, 1)


def test_leader_gives_sequence_numbers_in_its_arrival_order_and_executes_at_once():
    c = Cluster(SendAccept, BOTH)
    fig3(c)
    accepts = [e.msg for e in c.pending(kind="ACC", src="S1", dst="S2")]
    assert [(a.request.id, a.slot) for a in accepts] == [("m2", 1), ("m1", 2)]
    assert c.executed("S1") == ["m2", "m1"]  # before any accept was delivered
    c.deliver_all()
    assert c.replies["C2"][0] == "s^2" and c.replies["C1"][0] == "s^21"


def deliver_slot(c: Cluster, dst: str, slot: int) -> None:
    env = next(e for e in c.pending(kind="ACC", dst=dst) if e.msg.slot == slot)
    c.inbox.remove(env)
    c.inbox.insert(0, env)
    c.deliver(kind="ACC", dst=dst)


def test_follower_executes_in_sequence_number_order_not_arrival_order():
    c = Cluster(SendAccept, BOTH)
    fig3(c)
    c.deliver(kind="REQ", src="C1", dst="S2")   # S2 hears of m1 first...
    deliver_slot(c, "S2", 2)                    # ...and gets <ACC, m1, 2> first
    assert c.executed("S2") == []               # slot 1 is missing: m1 waits
    deliver_slot(c, "S2", 1)                    # <ACC, m2, 1>
    assert c.executed("S2") == ["m2", "m1"]
    c.deliver_all()
    assert c.state("S2") == c.state("S1") == "s^21"


def test_follower_holds_client_requests_until_the_leader_orders_them():
    c = Cluster(SendAccept, BOTH)
    c.start()
    c.request("C1", "m1", to="S2")
    c.deliver_all()
    assert c.executed("S2") == [] and c.pending(kind="ACC") == [] and "C1" not in c.replies


def test_both_servers_reply_and_clients_see_one_chain():
    c = Cluster(SendAccept, BOTH)
    fig3(c)
    c.deliver_all()
    assert set(c.replies["C2"]) == {"s^2"} and len(c.replies["C2"]) >= 2   # from S1 and from S2
    assert set(c.replies["C1"]) == {"s^21"} and len(c.replies["C1"]) >= 2


def test_lost_accept_leaves_follower_stuck():
    c = Cluster(SendAccept, BOTH)
    fig3(c)
    first = c.pending(kind="ACC", dst="S2")[0]
    assert first.msg == Accept(Request("m2", "C2"), 1)
    c.inbox.remove(first)
    c.deliver_all()
    for _ in range(3):  # resent requests do not help: nothing retransmits the order
        c.request("C1", "m1", to=BOTH)
        c.request("C2", "m2", to=BOTH)
        c.deliver_all()
    assert c.executed("S1") == ["m2", "m1"]
    assert c.executed("S2") == []
    assert c.timers["S1"] == {} and c.timers["S2"] == {}  # nothing will ever happen


def test_resent_request_is_answered_not_executed_again():
    c = Cluster(SendAccept, BOTH)
    c.start()
    c.request("C1", "m1", to=BOTH)
    c.deliver_all()
    c.request("C1", "m1", to=BOTH)
    c.deliver_all()
    assert c.executed("S1") == ["m1"] and c.executed("S2") == ["m1"]
    assert c.replies["C1"] == ["s^1"] * 4
    assert len(c.pending(kind="ACC")) == 0


def test_every_follower_obeys_with_three_servers():
    c = Cluster(SendAccept, ["S1", "S2", "S3"])
    c.start()
    c.request("C1", "m1", to=["S3", "S2", "S1"])
    c.request("C2", "m2", to=["S3", "S2", "S1"])
    c.inbox.reverse()  # the servers see m2 before m1, S1 last of all
    c.deliver_all()
    assert c.executed("S1") == c.executed("S2") == c.executed("S3") == ["m2", "m1"]
