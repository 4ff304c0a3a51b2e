"""*LeaderChange* (section 6 of the tutorial, Figs. 10, 11, 11-rounds, 12a).

The essay
---------
*WaitForLearn* with three servers lets two servers act as leader at once after a
false detection (Fig. 9), and a crash can then hide which one's accept was
executed. The fix is an explicit takeover: a server that wants to lead sends
``<PREP, S2>``; a server that agrees replaces its leader by S2, promises to ignore
the old leader from now on, and tells S2 which requests it accepted:
``<PROM, m1, S2>`` (``<PROM, -, S2>`` if none). Only after a promise from at least
one other server (with three servers: a majority, counting itself) does S2 send
accepts, and first it re-sends the accepts for the requests the promise reported,
in their slots, so a request that a follower may have executed and answered is
kept in its place (Fig. 11). Leader ids travel in every accept, learn, prepare
and promise, so a server can tell the old leader's messages from the new one's.

Everything else is the three-server *WaitForLearn* rule: the leader sends
``<ACC, m, j, S>`` to the others; a follower executes on the accept (slot order)
and answers the client; the leader executes after one learn (learns go to the
leader only). All servers that execute reply.

When partitions merge, two servers may both think they lead. The predefined
ranking decides: S3 > S2 > S1. A server that sees a higher-ranked leader's message
steps down; the higher-ranked leader, on hearing a lower-ranked one's heartbeat,
re-sends its accepts to it, and the loser executes them in order (Fig. 11).

The flaw: an acceptor only promises a *higher-ranked* leader, so once the highest
rank (S3) leads, nobody can ever take over from it. :class:`LeaderChangeRounds`
replaces ids by round numbers, preassigned per server (S1: 1, 4, 7, ...; S2: 2, 5,
8, ...), and a server asks with its next round above any it has seen, so S1 can
lead again with round 4 (Fig. 11-rounds). It keeps the three-server rules
(execute on the accept, one other promise, one learn), which is exactly what goes
wrong with five servers: S1's accept reaches only S2, S2 executes and answers,
S1 and S2 crash, and S3 orders another request first with a promise from S4 who
never heard of m1 (Fig. 12a). Paxos (:mod:`paxsim.protocols.paxos`) fixes that.

Choices where the text is open:

* Failure detection, who tries to take over, step-down and backoff are as in
  :mod:`paxsim.protocols.paxos` (heartbeat timeouts; the lowest-ranked server not
  suspected tries; a server that saw a higher id or round follows its owner).
* S1 leads from the start (everybody has implicitly promised S1 / round 1).
* Promises report requests without rounds. The new leader re-sends what the
  promises report (as in Fig. 11); its own accepted value for a slot counts only
  if no promise reported that slot (it may be a stale proposal of its own that
  nobody else accepted); between promisers, the lowest-ranked one's wins. No rule
  without rounds is right in general: after several leader changes a promiser
  may report a value that was overtaken. With ids (at most two takeovers among
  three servers) random schedules never broke it; with rounds they do, rarely
  (about 1 in 1,000 under heavy loss) -- the problem of Fig. 12-promise, which
  Paxos fixes by reporting (round, value).
* A new leader re-sends accepts for every slot from 1 (also slots it executed),
  so a server that missed them catches up; a leader also re-sends to any server
  whose heartbeat shows it executed fewer slots and no progress since its
  previous heartbeat (or that claims to lead, when partitions merge).
* Clients send to one server at a time; a follower forwards a request to its
  leader. Every server that executes a request replies (as in the figures,
  where S3 answers <s^1> in Fig. 11 and S2 in Fig. 12a).

Both run on the shared engine in :mod:`paxsim.protocols.paxos` with these flags.

After a crash with recovery: as Paxos (the shared engine), a server persists what
it promised and accepted, recovers it and catches up on what it executed. What
breaks with five servers is the three-server rule (Fig. 12a), not recovery.
"""

from __future__ import annotations

from .paxos import Paxos


class LeaderChange(Paxos):
    name = "leader_change"
    message_kinds = ("REQ", "REPLY", "ACC", "LRN", "PREP", "PROM", "HB", "NACK")  # no catch-up, no snapshots
    min_servers = 3
    max_servers = 3
    catch_up = True

    ids = True
    implicit_first_leader = True
    promise_rounds = False
    learn_to_all = False
    exec_on_accept = True
    replies_all = True
    own_report_first = False
    compacts = False
    params = {k: v for k, v in Paxos.params.items() if k != "compact"}

    @classmethod
    def quorum(cls, n: int) -> int:
        return min(n, 2)  # the leader and one other server

    def promise_quorum(self) -> int:
        return 2          # itself and at least one other server

    def learn_quorum(self) -> int:
        return 2          # the leader's own accept and one learn


class LeaderChangeRounds(LeaderChange):
    name = "leader_change_rounds"
    max_servers = None
    ids = False


__all__ = ["LeaderChange", "LeaderChangeRounds"]
