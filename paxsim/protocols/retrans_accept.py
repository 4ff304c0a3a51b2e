"""Stage 4, *RetransAccept* (Fig. 4), and section 4's fallback rule (Fig. 5).

SendAccept gets stuck when an accept is lost: the follower waits for a slot that
never comes. RetransAccept adds lost-message detection. A follower answers every
``<ACC, m, j>`` (a retransmitted duplicate too) with ``<LRN, m>``, an
acknowledgement; the leader retransmits each accept until the learn for it
arrives: every ``retransmit`` time units it resends to each peer the accepts that
peer has not acknowledged (one timer per peer; to a peer that answered nothing in
the last period only the oldest, as a probe, so a dead peer costs one message per
period rather than one per request). The servers make progress as long as messages are not lost infinitely often (Fig. 4:
``<ACC, m2, 1>`` is lost, S1 resends it, S2 executes m2 then m1).

The leader still executes and replies at once, before any learn has come back.

*RetransAcceptFallback* adds the rule of section 4: if one server crashes, the
other must not wait for it forever, so a server that suspects every other server
continues alone as a SingleServer. Suspicion comes from a timeout failure
detector (:class:`~paxsim.protocols.detector.Detector`: heartbeats every
``heartbeat``, suspect after ``suspect`` of silence), never from an oracle. When
it falls back, the server executes the requests it holds, in the order they
arrived at it, and from then on executes every new request on arrival; it ignores
accepts and stops retransmitting. It never rejoins (the tutorial says nothing
about it), so a fallen-back server may lag behind for good.

How it breaks (Fig. 5): ``<ACC, m1, 1>`` is lost; S1 executes m1, replies
``<s^1>`` to C1 and crashes before it retransmits. S2 never learned that m1 is
request 1. Its detector fires, it goes alone and executes the requests it holds
in arrival order: m2 first. C2 sees ``s^2`` although C1 has seen ``s^1``. The
leader replied before it knew that S2 had the order; WaitForLearn fixes that.

After a crash with recovery: nothing is persisted; a server restarts empty, as in
SendAccept (a recovered leader reuses slot numbers, a follower re-executes from
``s^()``). With the fallback rule the survivor may have gone alone for good.
"""

from __future__ import annotations

from typing import Any

from ..types import Accept, CancelTimer, ClientRequest, Effect, Learn, Log, Message, ProcessId, Send, SetTimer
from .detector import CHECK_TIMER, HEARTBEAT_TIMER, Detector
from .send_accept import SendAccept

RETRANSMIT = "retransmit "  # + peer: one retransmission timer per peer


class RetransAccept(SendAccept):
    name = "retrans_accept"
    message_kinds = ("REQ", "REPLY", "ACC", "LRN")  # what it may send (targeted faults are checked against it)
    params: dict[str, Any] = {"retransmit": 3.0}

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        self.unacked: dict[ProcessId, dict[int, None]] = {p: {} for p in self.peers}  # peer -> slots, oldest first
        self.answered: dict[ProcessId, bool] = {p: False for p in self.peers}  # a learn since the last period
        self.ticking: dict[ProcessId, bool] = {p: False for p in self.peers}

    def after_order(self, now: float, slot: int, acc: Accept) -> list[Effect]:
        out: list[Effect] = []
        for p in self.peers:
            self.unacked[p][slot] = None
            if not self.ticking[p]:
                self.ticking[p] = True
                self.answered[p] = False
                out.append(SetTimer(RETRANSMIT + p, self.p["retransmit"]))
        return out

    def acknowledge(self, src: ProcessId, acc: Accept) -> list[Effect]:
        return [Send(src, Learn(acc.request, acc.slot, acc.rnd))]

    def on_learn(self, now: float, src: ProcessId, lrn: Learn) -> list[Effect]:
        acks = self.own.get(lrn.slot)
        if acks is None or src in acks or src not in self.peers or self.log.get(lrn.slot) != lrn.request:
            return []
        acks.append(src)
        self.answered[src] = True
        waiting = self.unacked[src]
        waiting.pop(lrn.slot, None)
        out: list[Effect] = []
        if not waiting and self.ticking[src]:
            self.ticking[src] = False
            out.append(CancelTimer(RETRANSMIT + src))
        out += self.execute_ready()
        return out

    def on_timer(self, now: float, name: str) -> list[Effect]:
        if name.startswith(RETRANSMIT):
            return self.retransmit(name[len(RETRANSMIT):])
        return []

    def retransmit(self, peer: ProcessId) -> list[Effect]:
        """Every ``retransmit``: resend the accepts ``peer`` has not acknowledged.

        To a peer that answered no learn during the last period (it may be down),
        only the oldest one goes out, as a probe; once it answers, the rest follow
        in the next period. Every accept is still resent until it is acknowledged,
        and a crashed peer costs one message per period, not one per slot.
        """
        waiting = self.unacked.get(peer)
        if not waiting:
            if peer in self.ticking:
                self.ticking[peer] = False
            return []
        slots = list(waiting) if self.answered[peer] else [next(iter(waiting))]
        self.answered[peer] = False
        out: list[Effect] = [Send(peer, Accept(self.log[j], j)) for j in slots]
        out.append(SetTimer(RETRANSMIT + peer, self.p["retransmit"]))
        return out

    def stop_retransmitting(self) -> list[Effect]:
        out: list[Effect] = []
        for p in self.peers:
            self.unacked[p].clear()
            if self.ticking[p]:
                self.ticking[p] = False
                out.append(CancelTimer(RETRANSMIT + p))
        return out


class FallbackToSingleServer:
    """Mixin: section 4's rule. Suspect every other server -> continue alone.

    Put it before the stage's class in the bases; it needs the stage's
    ``service``, ``held``, ``own`` and ``peers``, and params ``heartbeat`` and
    ``suspect``.
    """

    catch_up = False  # a server that went alone lags behind for good
    max_servers = 2   # the rule of section 4 is for a pair of servers
    message_kinds = ("REQ", "REPLY", "ACC", "LRN", "HB")  # the stage's messages and heartbeats

    @classmethod
    def quorum(cls, n: int) -> int:
        return 1  # a server alone answers requests

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        self.alone = False
        self.detector = Detector(self.peers, self.p["suspect"], self.p["heartbeat"])

    def on_start(self, now: float) -> list[Effect]:
        self.detector = Detector(self.peers, self.p["suspect"], self.p["heartbeat"], now)
        return super().on_start(now) + self.detector.start()

    def on_message(self, now: float, src: ProcessId, msg: Message) -> list[Effect]:
        self.detector.heard(now, src)
        if not self.alone:
            return super().on_message(now, src, msg)
        if type(msg) is ClientRequest:
            self.held.pop(msg.request.id, None)
            return self.service.execute(msg.request)  # SingleServer: execute on arrival
        return []

    def on_timer(self, now: float, name: str) -> list[Effect]:
        if name == HEARTBEAT_TIMER:
            return [] if self.alone else self.detector.beat()
        if name == CHECK_TIMER:
            if self.alone:
                return []
            if self.peers and all(self.detector.suspects(now, p) for p in self.peers):
                return self.fall_back(now)
            return [SetTimer(CHECK_TIMER, self.detector.interval)]
        if self.alone:
            return []
        return super().on_timer(now, name)

    def fall_back(self, now: float) -> list[Effect]:
        """Go alone: execute every held request in arrival order."""
        self.alone = True
        out: list[Effect] = [Log("fallback", "suspects " + ",".join(self.peers) + "; continues alone")]
        out += self.stop_retransmitting()
        held = list(self.held.values())
        self.held.clear()
        for req in held:
            out += self.service.execute(req)
        return out

    def inspect(self, now: float) -> dict:
        """The stage's state, and whom it suspects and whether it went alone."""
        out = super().inspect(now)
        out["suspects"] = [p for p in self.peers if self.detector.suspects(now, p)]
        out["alone"] = self.alone
        return out


class RetransAcceptFallback(FallbackToSingleServer, RetransAccept):
    name = "retrans_accept_fallback"
    params: dict[str, Any] = {"retransmit": 3.0, "heartbeat": 1.0, "suspect": 5.0}
