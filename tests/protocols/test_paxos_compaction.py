"""Paxos log compaction and client sessions, driven by hand with the in-memory cluster.

A server checkpoints its service every ``compact`` executed slots and keeps the
last two checkpoints; everything up to the older one is forgotten (log, accepted
values, stable storage entries, the states' chains). Peers behind it catch up from
the snapshot, a new leader takes it from a promise, and a recovered server starts
from the one it persisted. Memory stays bounded however long the run.
"""

from __future__ import annotations

import pytest

from paxsim.protocols import ParamError
from paxsim.protocols.leader_change import LeaderChange
from paxsim.protocols.paxos import OLD, Paxos, SnapPromise, Snapshot
from paxsim.testing import Cluster

THREE = ["S1", "S2", "S3"]


def cluster(compact: int, servers=THREE) -> Cluster:
    c = Cluster(Paxos, servers, params={"compact": compact})
    c.start()
    c.deliver_all()
    assert c.logged("leader") == [("S1", 1)]
    return c


def run_requests(c: Cluster, first: int, count: int, client: str = "C1", to: str = "S1") -> None:
    """Client ``client`` sends requests m{first}.. one after the other (closed loop)."""
    for k in range(first, first + count):
        c.request(client, f"m{k}", to=to, seq=k)
        c.deliver_all()


def test_compact_is_a_whole_number_and_only_paxos_has_it():
    assert Paxos.check_params({}, 3)["compact"] == 1000
    with pytest.raises(ParamError) as e:
        Paxos.check_params({"compact": 2.5}, 3)
    assert e.value.key == "compact"
    with pytest.raises(ParamError) as e:
        LeaderChange.check_params({"compact": 4}, 3)
    assert e.value.key == "compact"


def test_memory_stays_bounded_however_many_requests():
    c = cluster(compact=4)
    run_requests(c, 1, 60)
    for s in THREE:
        r = c.replicas[s]
        lrn = r.lrn
        assert lrn.next_exec == 61
        assert 4 <= len(lrn.log) <= 8 and lrn.base + len(lrn.log) == 60
        assert len(r.acc.accepted) <= 8                              # accepted values above the snapshot
        assert sum(k.startswith("a") for k in c.store[s]) <= 8       # ... and on stable storage
        assert c.store[s]["snap"] == lrn.checkpoints[0]
        assert len(lrn.sessions) == 1 and lrn.service.done == {}      # one entry per client, not per request
        state = lrn.service.state
        assert state.length == 60 and not state.complete
        assert len(state.requests()) <= 9                             # the chain below the snapshot is gone
    assert c.replies["C1"][-1] == "s^(…57 more,m58,m59,m60)"


def test_compaction_changes_nothing_a_client_sees():
    full, compacted = cluster(compact=0), cluster(compact=3)
    run_requests(full, 1, 20)
    run_requests(compacted, 1, 20)
    assert full.reply_states["C1"] == compacted.reply_states["C1"]   # equal states, reply by reply
    assert all(compacted.executed(s) == full.executed(s) for s in THREE)


def test_a_server_behind_the_snapshot_catches_up_from_it():
    c = cluster(compact=4)
    c.isolate("S3")
    run_requests(c, 1, 30)
    assert c.replicas["S3"].lrn.next_exec == 1 and c.replicas["S1"].lrn.base > 1
    c.heal()
    c.run_for(6.0)                                   # heartbeats tell S3 it is behind
    assert [e for e in c.executions["S3"] if e[1].length == 30]
    assert c.replicas["S3"].lrn.service.state == c.replicas["S1"].lrn.service.state
    # it jumped: one execution for the snapshot, then the log after it, one by one
    lengths = [st.length for _, st in c.executions["S3"]]
    assert lengths[0] > 1 and lengths == sorted(lengths) and lengths[-1] == 30


def test_a_new_leader_takes_the_snapshot_from_a_promise_before_it_proposes():
    c = cluster(compact=4)
    c.isolate("S2")                                  # S2 misses everything ...
    run_requests(c, 1, 30)
    chosen = c.replicas["S1"].lrn.service.state
    c.crash("S1")                                    # ... then the leader dies
    c.heal()
    c.cut("S1", "S2")
    c.cut("S1", "S3")
    c.lose("CATCHUP")                                # no catching up: only a promise can tell S2
    c.run_for(20.0)
    assert c.logged("leader")[-1] == ("S2", 2)       # the lowest-ranked live server leads
    promised = [e for e in c.delivered if isinstance(e.msg, SnapPromise)]
    assert promised and promised[0].src == "S3" and promised[0].msg.snapshot.slot > 1
    s2 = c.replicas["S2"]
    assert s2.lrn.service.state == chosen            # S2 holds what was chosen, not no-ops over it
    c.heal()
    c.cut("S1", "S2")
    c.cut("S1", "S3")
    c.request("C1", "m31", to="S2", seq=31)
    c.run_for(4.0)
    assert c.replies["C1"][-1].endswith("m31)")
    assert c.replicas["S3"].lrn.service.state == s2.lrn.service.state
    assert c.replicas["S3"].lrn.service.state.length == 31


def test_a_promise_after_compaction_carries_the_snapshot():
    c = cluster(compact=2)
    run_requests(c, 1, 10)
    s3 = c.replicas["S3"]
    out = s3.on_message(c.now, "S2", __import__("paxsim.types", fromlist=["Prepare"]).Prepare(2))
    (send,) = [e for e in out if type(e).__name__ == "Send"]
    assert isinstance(send.msg, SnapPromise) and isinstance(send.msg.snapshot, Snapshot)
    assert send.msg.snapshot.slot == s3.lrn.base
    assert all(a.slot > s3.lrn.base for a in send.msg.accepted)
    assert send.msg.label().startswith("<PROM, ") and "<SNAP, " in send.msg.label()


def test_a_recovered_server_starts_from_its_persisted_snapshot():
    c = cluster(compact=4)
    run_requests(c, 1, 25)
    base = c.replicas["S3"].lrn.base
    c.crash("S3")
    c.recover("S3")
    s3 = c.replicas["S3"]
    assert s3.lrn.next_exec == base + 1 and s3.lrn.base == base
    c.run_for(6.0)
    assert s3.lrn.service.state == c.replicas["S1"].lrn.service.state


def test_sessions_answer_the_last_request_and_ignore_older_copies():
    c = cluster(compact=4)
    run_requests(c, 1, 3)
    before = len(c.replies["C1"])
    c.request("C1", "m3", to="S1", seq=3)           # a resend of the last: answered again
    c.deliver_all()
    assert c.replies["C1"][before:] == ["s^123"]
    c.request("C1", "m2", to="S1", seq=2)           # an old copy: C1 has moved on
    c.deliver_all()
    assert len(c.replies["C1"]) == before + 1
    assert c.replicas["S1"]._seen(c.request("C1", "m1", to=[], seq=1)) is OLD
    assert c.executed("S1") == ["m1", "m2", "m3"]


def test_requests_without_seq_are_remembered_across_snapshots():
    """Hand-built requests (no seq) use the per-request table: it travels in the
    snapshot, so a server that caught up from one never executes them twice."""
    c = cluster(compact=2)
    c.isolate("S2")
    for k in range(1, 7):
        c.request("C1", f"m{k}", to="S1")          # seq 0
        c.deliver_all()
    c.heal()
    c.run_for(6.0)                                   # S2 catches up from the snapshot
    assert sorted(c.replicas["S2"].lrn.service.done) == [f"m{k}" for k in range(1, 7)]
    c.crash("S1")
    c.run_for(20.0)
    assert c.logged("leader")[-1] == ("S2", 2)
    c.request("C1", "m1", to="S2")                  # a late copy of m1
    c.run_for(6.0)
    assert c.replies["C1"][-1] == "s^1"             # answered from the table, not executed again
    assert c.replicas["S2"].lrn.service.state == c.replicas["S3"].lrn.service.state
    assert c.replicas["S2"].lrn.service.state.length == 6


def test_a_leader_that_jumps_over_its_proposal_still_answers_it():
    c = cluster(compact=1)
    c.request("C1", "m1", to="S1", seq=1)
    c.deliver(src="C1", dst="S1")
    c.deliver(kind="ACC", dst="S2")
    c.deliver(kind="ACC", dst="S3")                 # chosen; the followers execute it, no reply
    c.lose("LRN")                                    # the leader never learns it: it catches up
    c.run_for(20.0)
    assert [e for e in c.delivered if e.msg.kind == "SNAP" and e.dst == "S1"]
    assert c.replies["C1"] == ["s^1"]               # from the leader, without a resend


def test_a_follower_that_jumps_over_a_forwarded_request_answers_it():
    c = cluster(compact=1)
    c.request("C1", "m1", to="S3", seq=1)
    c.deliver(src="C1", dst="S3")
    c.deliver(src="S3", dst="S1")                   # S3 forwards m1 to the leader
    c.drop(kind="ACC", src="S1", dst="S3")
    c.deliver(kind="ACC", src="S1", dst="S2")       # chosen at S1 + S2; S2 executes it (no reply)
    c.drop(kind="LRN", src="S2")
    c.crash("S1")                                    # the leader dies before it learns
    c.run_for(30.0)
    assert [e for e in c.delivered if e.msg.kind == "SNAP" and e.dst == "S3"]
    assert c.replies["C1"] == ["s^1"]               # S3 answers what it forwarded
