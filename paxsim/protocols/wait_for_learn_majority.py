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
  accept and its own learn make two of three), and answers an accept with a
  learn. It keeps the first accept it gets for a slot, and a learn means "I hold
  this value for this slot": a server never sends a learn for a second value in a
  slot it already holds (another leader's accept, or its own proposal). This is
  our reading of the text's claim that WaitForLearn "tolerates either a crash or
  a partition": with it, two leaders can never both collect a majority for one
  slot, so a false detection alone is safe.
- There is no takeover protocol: a new leader asks nobody what the old one did.

Fig. 8: a partition cuts S1 off from S2 and S3. S1 keeps leading, but can never
collect a majority of learns and executes nothing. S2 suspects S1, takes over and
orders m2 with S3: the majority side makes progress, and nobody sees a fork.

How it breaks (Fig. 9): detection can be false. If S1 and S2 cannot reach each
other but both reach S3, both lead, and both send an accept for slot 1 to S3:
``<ACC, m1, 1>`` and ``<ACC, m2, 1>``. S3 executes the first one it gets (and
replies to that client), answers it with a learn (which may be lost), refuses
the second value, and crashes. Now S1 and S2 cannot find out what S3 executed:
each holds its own value for slot 1, neither can ever collect a majority for it
(not even after the partition ends: each refuses the other's value), and nothing
is executed again: STUCK, although S1 and S2 are up and connected. Without the
crash the run is SAFE: S3 keeps answering the leader whose value it holds. (A
reading in which S3 learned both values would fork instead: UNSAFE.) An explicit
leadership takeover (prepare and promise, LeaderChange) fixes this: the new
leader asks what was accepted before it proposes.

After a crash with recovery: nothing is persisted; a recovered server forgets the
values it held and what it executed, so it may take a second value for a slot
(unsafe) or leave a leader waiting for a slot it had answered (stuck).
"""

from __future__ import annotations

from typing import Any

from ..types import Accept, Effect, Log, Message, ProcessId, Request, SetTimer
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

    def acknowledge(self, src: ProcessId, acc: Accept) -> list[Effect]:
        """A learn says "I hold this value for this slot": a server never sends one for
        a second value in a slot it already holds (the first accept it got, or its
        own proposal). So two leaders cannot both collect a majority for one slot."""
        if self.log.get(acc.slot) != acc.request:
            return []
        return super().acknowledge(src, acc)

    def inspect(self, now: float) -> dict:
        """The stage's state, and whom it suspects (it leads when it suspects every higher rank)."""
        out = super().inspect(now)
        out["suspects"] = [p for p in self.peers if self.detector.suspects(now, p)]
        return out
