"""Stage 1 (SingleServer) and the uncoordinated pair, driven by hand (no SimPy)."""

from paxsim.protocols.single_server import SingleServer
from paxsim.protocols.uncoordinated import Uncoordinated
from paxsim.testing import Cluster


def test_single_server_orders_requests_in_arrival_order():
    c = Cluster(SingleServer, ["S1"])
    c.start()
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S1")
    c.deliver_all()
    assert c.executed("S1") == ["m1", "m2"]
    assert c.replies == {"C1": ["s^1"], "C2": ["s^12"]}


def test_single_server_answers_a_resent_request_without_executing_it_again():
    c = Cluster(SingleServer, ["S1"])
    c.start()
    c.request("C1", "m1", to="S1")
    c.request("C2", "m2", to="S1")
    c.request("C1", "m1", to="S1")
    c.deliver_all()
    assert c.executed("S1") == ["m1", "m2"]
    assert c.replies["C1"] == ["s^1", "s^1"]


def test_two_uncoordinated_servers_diverge_when_messages_cross():
    c = Cluster(Uncoordinated, ["S1", "S2"])
    c.start()
    c.request("C1", "m1", to=["S1", "S2"])
    c.request("C2", "m2", to=["S1", "S2"])
    c.deliver(src="C1", dst="S1")
    c.deliver(src="C2", dst="S2")
    c.deliver_all()
    assert c.executed("S1") == ["m1", "m2"]
    assert c.executed("S2") == ["m2", "m1"]
    assert sorted(c.replies["C1"]) == ["s^1", "s^21"]
    assert sorted(c.replies["C2"]) == ["s^12", "s^2"]


def test_uncoordinated_servers_agree_when_messages_arrive_in_the_same_order():
    c = Cluster(Uncoordinated, ["S1", "S2"])
    c.start()
    c.request("C1", "m1", to=["S1", "S2"])
    c.request("C2", "m2", to=["S1", "S2"])
    c.deliver_all()
    assert c.executed("S1") == c.executed("S2") == ["m1", "m2"]
