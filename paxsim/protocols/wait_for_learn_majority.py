"""Stage 6, *WaitForLearn* with a majority (Fig. 8), and why it is not enough (Fig. 9).

Falling back to a single server splits the brain in a partition (Fig. 7), and a
timeout cannot tell a partition from a crash. So add a server and let only a
majority make progress: with three servers at most one side of a partition holds
two of them.

The rules here, for any number ``n`` of servers:

- Ranks: S1 has rank 1, the highest. A server acts as leader while its failure
  detector (heartbeats and timeouts, not an oracle) suspects every higher-ranked
  server; so S1 always leads, S2 leads when it suspects S1, and so on. When it
  starts leading it orders the requests it holds, in arrival order, from the
  slot after the highest one it knows of.
- The leader sends ``<ACC, m, j>`` to every other server, retransmits it until each
  one has answered ``<LRN, m>``, and executes slot ``j`` (in slot order) once a
  majority of the servers, itself included, has it: ``n // 2`` learns.
- A follower executes on the accept, in slot order (the three-server rule: the
  accept and its own learn make two of three), and answers every accept with a
  learn. It keeps the first accept it gets for a slot.
- There is no takeover protocol: a new leader asks nobody what the old one did.

Fig. 8: a partition cuts S1 off from S2 and S3. S1 keeps leading, but can never
collect a majority of learns and executes nothing. S2 suspects S1, takes over and
orders m2 with S3: the majority side makes progress, and nobody sees a fork.

How it breaks (Fig. 9): detection can be false. If S1 and S2 cannot reach each
other but both reach S3, both lead, and both send an accept for slot 1 to S3:
``<ACC, m1, 1>`` and ``<ACC, m2, 1>``. S3 executes the first one it gets (and
replies), answers both with a learn, and crashes; learns may be lost. One leader
executes its request as number 1 after S3's learn, while S3 executed the other:
one client sees ``s^1``, the other ``s^2``. S1 and S2 cannot find out what S3
did. An explicit leadership takeover (prepare and promise) fixes this.
"""

from __future__ import annotations

from typing import Any

from ..types import Effect, Log, Message, ProcessId, Request, SetTimer
from .detector import CHECK_TIMER, HEARTBEAT_TIMER, Detector
from .wait_for_learn import WaitForLearn


class WaitForLearnMajority(WaitForLearn):
    name = "wait_for_learn_majority"
    message_kinds = ("REQ", "REPLY", "ACC", "LRN", "HB")  # what it may send (targeted faults are checked against it)
    params: dict[str, Any] = {"retransmit": 3.0, "heartbeat": 1.0, "suspect": 5.0}
    min_servers = 1
    max_servers = None
    catch_up = False  # no takeover protocol: after a leader change, servers may lag for good

    @classmethod
    def quorum(cls, n: int) -> int:
        return n // 2 + 1

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        self.higher = self.servers[: self.rank - 1]
        self.detector = Detector(self.peers, self.p["suspect"], self.p["heartbeat"])
        self.was_leading = False

    def acks_needed(self) -> int:
        return self.quorum(len(self.servers)) - 1  # plus its own

    def leading(self, now: float) -> bool:
        return all(self.detector.suspects(now, p) for p in self.higher)

    # ---- inputs --------------------------------------------------------------------------
    def on_start(self, now: float) -> list[Effect]:
        self.detector = Detector(self.peers, self.p["suspect"], self.p["heartbeat"], now)
        return self.detector.start() + self.check_role(now)

    def on_message(self, now: float, src: ProcessId, msg: Message) -> list[Effect]:
        self.detector.heard(now, src)
        out = self.check_role(now)
        return out + super().on_message(now, src, msg)

    def on_timer(self, now: float, name: str) -> list[Effect]:
        if name == HEARTBEAT_TIMER:
            return self.detector.beat()
        if name == CHECK_TIMER:
            return self.check_role(now) + [SetTimer(CHECK_TIMER, self.detector.interval)]
        return super().on_timer(now, name)

    # ---- roles ---------------------------------------------------------------------------
    def check_role(self, now: float) -> list[Effect]:
        lead = self.leading(now)
        if lead == self.was_leading:
            return []
        self.was_leading = lead
        if not lead:
            return [Log("follower", self.pid)]
        # Take over with no takeover protocol: continue after the highest slot known,
        # and order what we hold, in arrival order.
        self.next_slot = max(self.next_slot, max(self.log, default=0) + 1)
        out: list[Effect] = [Log("leader", self.pid)]
        for req in list(self.held.values()):
            if req.id not in self.in_log and req.id not in self.slot_of:
                out += self.order(now, req)
        return out

    def order(self, now: float, req: Request) -> list[Effect]:
        while self.next_slot in self.log:  # slots another leader's accepts already filled
            self.next_slot += 1
        return super().order(now, req)
