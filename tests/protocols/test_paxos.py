"""Paxos (section 7, Fig. 12b) and the promise-without-round variant (Fig. 12-promise),
driven by hand with the in-memory cluster: one test per claim of the tutorial."""

from __future__ import annotations

import pytest

from paxsim.protocols import ParamError, load_protocol
from paxsim.protocols.paxos import NOOP, CatchUp, Chosen, Paxos, PaxosPromiseWithoutRound
from paxsim.testing import Cluster, Envelope
from paxsim.types import Accept, Prepare, Promise, Request

THREE = ["S1", "S2", "S3"]
FIVE = ["S1", "S2", "S3", "S4", "S5"]


def started(servers, proto=Paxos) -> Cluster:
    """A cluster in which S1 ran phase 1 for round 1 with everybody and leads."""
    c = Cluster(proto, servers)
    c.start()
    c.deliver_all()
    assert c.logged("leader") == [("S1", 1)]
    return c


def take_over(c: Cluster, server: str, after: float = 10.0) -> None:
    """Let ``after`` time pass and ``server`` look at its leader (its heartbeat tick)."""
    c.advance(after)
    c.fire(server, "heartbeat")


def test_registry_and_attributes():
    assert load_protocol("paxos") is Paxos
    assert load_protocol("paxos_promise_without_round") is PaxosPromiseWithoutRound
    assert [Paxos.quorum(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 3]
    assert Paxos.client_mode == "one" and Paxos.catch_up
    with pytest.raises(ParamError) as e:
        Paxos.check_params({"suspect": 1.0}, 3)
    assert e.value.key == "suspect"
    with pytest.raises(ParamError):
        Paxos.check_params({"retransmit": 0.0}, 3)


def test_new_leader_needs_majority_of_promises():
    c = Cluster(Paxos, FIVE)
    c.start()
    assert [str(e) for e in c.pending(kind="PREP")] == [f"S1->{s} <PREP, 1>" for s in FIVE[1:]]
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")                      # queued: S1 does not lead yet
    for s in ("S2", "S3", "S4", "S5"):
        c.deliver(kind="PREP", dst=s)
    c.deliver(kind="PROM", src="S2")           # S1 + S2: two of five
    assert c.logged("leader") == [] and c.pending(kind="ACC") == []
    c.deliver(kind="PROM", src="S3")           # S1 + S2 + S3: a majority
    assert c.logged("leader") == [("S1", 1)]
    assert [e.msg.label() for e in c.pending(kind="ACC")] == ["<ACC, m1, 1, 1>"] * 4


def test_stable_leader_skips_phase_one():
    c = started(THREE)
    for i in range(1, 4):
        c.request("C1", f"m{i}", to="S1")
        c.deliver_all()
    assert c.pending(kind="PREP") == [] and c.logged("leader") == [("S1", 1)]
    assert c.replies["C1"] == ["s^1", "s^12", "s^123"]
    assert c.executed("S2") == c.executed("S3") == ["m1", "m2", "m3"]


def test_execute_only_after_majority_of_learns():
    c = started(FIVE)
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.deliver(kind="ACC", dst="S2")            # S2: the accept (S1's learn) and its own: 2 of 5
    assert c.executed("S2") == []
    c.deliver(kind="ACC", dst="S3")            # S3 too: 2 of 5 so far
    assert c.executed("S3") == []
    c.deliver(kind="LRN", src="S2", dst="S3")  # S1, S3, S2: a majority
    assert c.executed("S3") == ["m1"]
    assert c.executed("S2") == [] and c.executed("S1") == []
    c.deliver(kind="LRN", src="S3", dst="S2")
    assert c.executed("S2") == ["m1"]
    c.deliver(kind="LRN", src="S2", dst="S1")  # the leader: itself + S2 is not enough
    assert c.executed("S1") == []
    c.deliver(kind="LRN", src="S3", dst="S1")
    assert c.executed("S1") == ["m1"]
    assert c.replies == {} and len(c.pending(kind="REPLY")) == 1  # only the leader replies


def test_learns_of_different_rounds_do_not_add_up():
    c = started(FIVE)
    p = c.replicas["S5"]
    m1, m2 = Request("m1", "C1"), Request("m2", "C2")
    effects = p.on_message(c.now, "S2", Accept(m1, 1, 1)) + p.on_message(c.now, "S3", Accept(m2, 1, 7))
    c._apply("S5", effects)
    assert c.executed("S5") == []              # (1: S2, S5) and (7: S3, S5), never 3 in one round


def test_acceptor_rejects_lower_round():
    c = started(THREE)
    take_over(c, "S2")                         # S2 suspects S1 and prepares round 2
    c.drop(kind="PREP", dst="S1")
    c.deliver_all()
    assert c.logged("leader")[-1] == ("S2", 2)
    assert c.store["S3"]["promised"] == 2
    old = Request("m9", "C1")
    c.inbox.append(Envelope("S1", "S3", Accept(old, 1, 1)))  # the old leader's accept
    c.deliver(kind="ACC", src="S1")
    assert "a1" not in c.store["S3"] and c.pending(kind="LRN") == []
    assert [e.msg.label() for e in c.pending(src="S3")] == ["<NACK, 2>"]
    c.inbox.append(Envelope("S1", "S3", Prepare(1)))
    c.deliver(kind="PREP")
    assert c.pending(kind="PROM") == []


def test_recovered_acceptor_keeps_its_promise():
    c = started(THREE)
    take_over(c, "S2")
    c.drop(kind="PREP", dst="S1")
    c.deliver_all()
    c.request("C2", "m2", to="S2")
    c.deliver_all()
    assert c.store["S3"]["promised"] == 2 and c.store["S3"]["a1"] == (2, Request("m2", "C2"))
    c.crash("S3")
    c.recover("S3")
    assert c.replicas["S3"].acc.promised == 2
    assert c.replicas["S3"].acc.accepted == {1: (2, Request("m2", "C2"))}
    c.inbox.append(Envelope("S1", "S3", Accept(Request("m1", "C1"), 1, 1)))
    c.deliver(kind="ACC")
    assert c.store["S3"]["a1"] == (2, Request("m2", "C2"))
    # and it reports what it accepted, with the round, to the next leader
    c.inbox.append(Envelope("S1", "S3", Prepare(4)))
    c.deliver(kind="PREP")
    (prom,) = c.pending(kind="PROM")
    assert prom.msg.label() == "<PROM, (2, m2), 4>"


def _two_leader_changes(proto) -> Cluster:
    """Fig. 12-promise, by hand: S1 (round 1) gets m1 accepted by S3 only; S2 (round
    2, with S4 and S5) gets m2 chosen; then S3 takes over with S4 and S5."""
    c = started(FIVE, proto)
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    for s in ("S2", "S4", "S5"):
        c.drop(kind="ACC", dst=s)
    c.deliver(kind="ACC", dst="S3")
    c.drop(kind="LRN")
    c.crash("S1")
    c.isolate("S3")
    take_over(c, "S2")
    c.deliver_all()
    assert c.logged("leader")[-1] == ("S2", 2)
    c.request("C2", "m2", to="S2")
    c.deliver_all()
    assert c.replies["C2"] == ["s^2"]
    c.crash("S2")
    c.heal()
    c.drop(src="S3")
    take_over(c, "S3")                          # suspects S1 (its leader) and S2: S3 tries
    c.deliver(kind="PREP", dst="S4")
    c.deliver(kind="PREP", dst="S5")
    proms = sorted(e.msg.label() for e in c.pending(kind="PROM"))
    c.deliver_all()
    assert c.logged("leader")[-1] == ("S3", 3)
    return c, proms


def test_new_leader_reproposes_value_of_highest_round():
    c, proms = _two_leader_changes(Paxos)
    assert proms == ["<PROM, (2, m2), 3>"] * 2  # S3 itself holds (1, m1)
    assert c.executed("S3") == ["m2"]
    assert c.replies["C2"] == ["s^2", "s^2"]   # S3 answers m2 again, consistently


def test_promise_without_round_picks_a_value_that_was_not_chosen():
    c, proms = _two_leader_changes(PaxosPromiseWithoutRound)
    assert proms == ["<PROM, m2, 3>"] * 2      # no rounds: m1 (S3's own) or m2?
    assert c.executed("S3") == ["m1"]          # the lowest-ranked promiser's value: S3's own
    assert c.replies["C1"] == ["s^1"] and c.replies["C2"] == ["s^2"]


def test_gaps_are_filled_with_noop_and_never_executed():
    c = started(THREE)
    take_over(c, "S2")
    c.drop(kind="PREP", dst="S1")
    # S3 reports a value for slot 2 only
    m5 = Request("m5", "C1")
    c.replicas["S3"].acc.accepted[2] = (1, m5)
    c.deliver(kind="PREP", dst="S3")
    c.deliver(kind="PROM")
    sent = {e.msg.slot: e.msg.request for e in c.pending(kind="ACC", dst="S3")}
    assert sent == {1: NOOP, 2: m5}
    c.drop(dst="S1")
    c.deliver_all()
    assert c.executed("S2") == c.executed("S3") == ["m5"]


def test_request_chosen_twice_is_executed_once():
    c = started(THREE)
    m1 = Request("m1", "C1")
    # m1 accepted in slot 1 by S1 only; the client resends to S2, which leads next
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.drop(kind="ACC")
    c.crash("S1")
    take_over(c, "S2")
    c.deliver_all()
    c.request("C1", "m1", to="S2")
    c.deliver_all()
    assert c.executed("S2") == ["m1"]
    c.recover("S1")
    # S1 (which holds (1, m1) in slot 1) becomes leader again: m1 is in slot 1 and 2
    c.replicas["S1"].acc.accepted[2] = (1, m1)
    c.crash("S2")
    take_over(c, "S1", after=20.0)
    c.deliver_all()
    assert c.executed("S3")[:1] == ["m1"] and c.executed("S3").count("m1") == 1


def test_recovered_server_catches_up():
    c = started(THREE)
    c.crash("S3")
    for i in (1, 2):
        c.request("C1", f"m{i}", to="S1")
        c.deliver_all()
    c.recover("S3")
    assert c.executed("S3") == []
    c.advance(2.0)
    c.fire("S1", "heartbeat")                  # upto = 2
    c.deliver(kind="HB", dst="S3")
    (ask,) = c.pending(src="S3")
    assert ask.msg.label() == "<CATCHUP, 1>"
    c.deliver_all()
    assert c.executed("S3") == ["m1", "m2"]
    assert [s for _, s in c.executions["S3"]] == [s for _, s in c.executions["S1"]]


def test_catch_up_sends_only_executed_values():
    c = started(THREE)
    c.request("C1", "m1", to="S1")
    c.deliver_all()
    (reply,) = c.replicas["S2"].on_message(c.now, "S3", CatchUp(1))
    assert isinstance(reply.msg, Chosen) and [r.id for r in reply.msg.requests] == ["m1"]
    assert c.replicas["S2"].on_message(c.now, "S3", CatchUp(2)) == []


def test_follower_forwards_to_leader_and_leader_answers():
    c = started(THREE)
    c.request("C1", "m1", to="S3")
    c.deliver(kind="REQ")
    (fwd,) = c.pending(src="S3")
    assert str(fwd) == "S3->S1 m1"
    c.deliver_all()
    assert sorted(e.src for e in c.inbox) == []
    assert c.replies["C1"] == ["s^1", "s^1"]     # the leader, and S3 that forwarded it
    c.request("C1", "m1", to="S2")             # a resend after the answer: answered from the record
    c.deliver_all()
    assert c.replies["C1"] == ["s^1", "s^1", "s^1"]


def test_old_leader_steps_down_on_higher_round():
    c = started(THREE)
    take_over(c, "S2")
    c.drop(kind="PREP", dst="S1")
    c.deliver_all()
    assert c.replicas["S1"].ldr.phase == 2     # S1 did not hear: it still thinks it leads
    c.request("C1", "m1", to="S1")
    c.deliver(kind="REQ")
    c.deliver_all()                            # its accepts are refused with NACK(2)
    assert c.replicas["S1"].ldr.phase == 0 and c.replicas["S1"].leader == "S2"
    assert c.executed("S1") == []


def test_single_and_even_numbers_of_servers():
    c = Cluster(Paxos, ["S1"])
    c.start()
    c.request("C1", "m1", to="S1")
    c.deliver_all()
    assert c.replies["C1"] == ["s^1"]
    c4 = started(["S1", "S2", "S3", "S4"])
    c4.request("C1", "m1", to="S1")
    c4.deliver(kind="REQ")
    c4.deliver(kind="ACC", dst="S2")
    c4.deliver(kind="LRN", src="S2", dst="S1")
    assert c4.executed("S1") == []             # 2 of 4 is no majority
    c4.deliver(kind="ACC", dst="S3")
    c4.deliver(kind="LRN", src="S3", dst="S1")
    assert c4.executed("S1") == ["m1"]


def test_only_the_lowest_ranked_unsuspected_server_tries():
    c = started(FIVE)
    c.crash("S1")
    c.crash("S2")
    c.advance(5.0)
    for s in ("S3", "S4", "S5"):               # heartbeats: S3, S4, S5 hear each other
        c.fire(s, "heartbeat")
    c.deliver_all()
    c.advance(5.0)
    for s in ("S3", "S4", "S5"):               # all suspect S1 (and S2) at the same moment
        c.fire(s, "heartbeat")
    assert sorted({e.src for e in c.pending(kind="PREP")}) == ["S3"]
    c.deliver_all()
    assert c.logged("leader")[-1] == ("S3", 3)
    # a promise is a vote of confidence: S4 and S5 now wait a full timeout for S3
    c.advance(4.0)
    for s in ("S4", "S5"):
        c.fire(s, "heartbeat")
    assert c.pending(kind="PREP") == []


def test_stale_leader_never_proposes_into_a_slot_it_knows_is_chosen():
    c = started(THREE)
    c.isolate("S1")
    take_over(c, "S2")
    c.deliver_all()
    c.request("C2", "m1", to="S2")
    c.deliver_all()
    assert c.replicas["S1"].ldr.phase == 2      # cut off: S1 still thinks it leads round 1
    c.heal()
    c.inbox.append(Envelope("S3", "S1", Chosen(1, (Request("m1", "C2"),))))  # caught up
    c.deliver(kind="CHOSEN")
    assert c.executed("S1") == ["m1"]
    c.request("C1", "m2", to="S1")
    c.deliver(kind="REQ", dst="S1")
    assert {e.msg.slot for e in c.pending(kind="ACC", src="S1")} == {2}
    c.deliver_all()                             # S2 and S3 refuse round 1: NACK(2)
    assert c.replicas["S1"].ldr.phase == 0 and c.replicas["S1"].leader == "S2"
