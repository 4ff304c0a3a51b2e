"""Stage 3, *SendAccept* (Fig. 3): a leader tells the others the order.

Two servers that execute requests on arrival drift apart (Fig. 2): S1 sees
``m1 m2``, S2 sees ``m2 m1``. The smallest fix is to let one server decide the
order. The leader (the primary; here the server of rank 1, ``S1``) gives every
new request the next *sequence number* ``j`` and sends ``<ACC, m, j>`` ("execute
``m`` as the ``j``-th request") to the other server(s); then it executes the
request at once and replies. Clients still send every request to every server.

A follower never orders anything itself. A request that reaches it straight from
a client is only *held*; the follower executes requests strictly in
sequence-number order, as the accepts dictate, whatever order they (or the client
requests) arrived in: an accept for slot 2 that arrives before slot 1 waits in a
buffer. It replies to the client after executing, so in Fig. 3 the clients see
both servers' replies, and since the service is deterministic those replies agree
(``s^2`` is a prefix of ``s^21``).

No request is executed twice: the :class:`Service` remembers what it executed
and answers a resent request with the state it reached then.

How it breaks: nothing ever checks that an accept arrived. If ``<ACC, m2, 1>``
is lost (Fig. 3, lost accept), S2 holds ``m1`` and ``<ACC, m1, 2>`` and waits for
slot 1 forever; it never executes anything again. The simulator judges this
STUCK: S2 is up and connected to S1 but never catches up. RetransAccept fixes it.

The class is built so that later stages change one thing each:
:meth:`SendAccept.acknowledge` (what a follower answers to an accept),
:meth:`SendAccept.after_order` (what the leader does after sending accepts) and
:meth:`SendAccept.acks_needed` (how many learns the leader waits for before it
executes its own slot).

Crash-stop: a server that recovers starts empty (nothing is persisted); the
stages before LeaderChange do not deal with recovery.

After a crash with recovery: nothing is persisted. A recovered leader numbers
requests from slot 1 again (conflicting accepts: forks); a recovered follower
restarts empty and waits for slots it already had: forks or waits forever.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..types import Accept, ClientRequest, Effect, Learn, Message, ProcessId, Request, Send
from .base import ParamError, Replica
from .single_server import Service


class SendAccept(Replica):
    name = "send_accept"
    message_kinds = ("REQ", "REPLY", "ACC")  # what it may send (targeted faults are checked against it)
    params: dict[str, Any] = {}
    client_mode = "all"
    min_servers = 2
    max_servers = None
    catch_up = True

    @classmethod
    def quorum(cls, n: int) -> int:
        return n  # every server takes part in every request

    @classmethod
    def check_params(cls, given: Mapping[str, Any], n_servers: int) -> dict[str, Any]:
        out = super().check_params(given, n_servers)
        for key in ("retransmit", "heartbeat", "suspect"):
            if key in out and not out[key] > 0:
                raise ParamError(key, f"must be > 0, got {out[key]!r}")
        return out

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        self.service = Service()
        self.leader: ProcessId = self.servers[0]
        # ordering (as leader)
        self.next_slot = 1
        self.slot_of: dict[str, int] = {}       # request id -> slot this server gave it
        self.own: dict[int, list[ProcessId]] = {}  # own slot -> peers that sent <LRN> for it
        # the log, shared by leader and follower
        self.log: dict[int, Request] = {}       # slot -> request (the first accept for it)
        self.in_log: set[str] = set()           # ids of requests in the log
        self.next_exec = 1                      # the next slot to execute
        self.held: dict[str, Request] = {}      # known, not yet executed, in arrival order

    # ---- roles ---------------------------------------------------------------------------
    def leading(self, now: float) -> bool:
        return self.pid == self.leader

    def acks_needed(self) -> int:
        """How many peers must answer ``<LRN>`` before the leader executes its own slot."""
        return 0

    # ---- inputs --------------------------------------------------------------------------
    def on_message(self, now: float, src: ProcessId, msg: Message) -> list[Effect]:
        t = type(msg)
        if t is ClientRequest:
            return self.on_request(now, msg.request)
        if t is Accept:
            return self.on_accept(now, src, msg)
        if t is Learn:
            return self.on_learn(now, src, msg)
        return []

    def on_request(self, now: float, req: Request) -> list[Effect]:
        if self.service.executed(req.id):
            return self.service.execute(req)  # a resent request: answer it again
        if req.id not in self.held:
            self.held[req.id] = req
        if self.leading(now) and req.id not in self.slot_of and req.id not in self.in_log:
            return self.order(now, req)
        return []

    def order(self, now: float, req: Request) -> list[Effect]:
        """As leader: give ``req`` the next sequence number and tell the others."""
        slot = self.next_slot
        self.next_slot = slot + 1
        self.slot_of[req.id] = slot
        self.own[slot] = []
        self._log(slot, req)
        acc = Accept(req, slot)
        out: list[Effect] = [Send(p, acc) for p in self.peers]
        out += self.after_order(now, slot, acc)
        out += self.execute_ready()
        return out

    def after_order(self, now: float, slot: int, acc: Accept) -> list[Effect]:
        return []

    def on_accept(self, now: float, src: ProcessId, acc: Accept) -> list[Effect]:
        if acc.slot not in self.log:
            self._log(acc.slot, acc.request)
            if acc.request.id not in self.held and not self.service.executed(acc.request.id):
                self.held[acc.request.id] = acc.request
        out = self.acknowledge(src, acc)
        out += self.execute_ready()
        return out

    def acknowledge(self, src: ProcessId, acc: Accept) -> list[Effect]:
        """What a follower answers to an accept: SendAccept answers nothing."""
        return []

    def on_learn(self, now: float, src: ProcessId, lrn: Learn) -> list[Effect]:
        return []

    # ---- the log -------------------------------------------------------------------------
    def _log(self, slot: int, req: Request) -> None:
        self.log[slot] = req
        self.in_log.add(req.id)

    def may_execute(self, slot: int) -> bool:
        acks = self.own.get(slot)
        return acks is None or len(acks) >= self.acks_needed()

    def execute_ready(self) -> list[Effect]:
        """Execute logged slots in sequence-number order, as far as there is no gap."""
        out: list[Effect] = []
        while self.next_exec in self.log and self.may_execute(self.next_exec):
            req = self.log[self.next_exec]
            self.next_exec += 1
            self.held.pop(req.id, None)
            out += self.service.execute(req)
        return out

    def inspect(self, now: float) -> dict:
        """What this server knows, for the viewer (see :mod:`paxsim.protocols.base`)."""
        return {"role": "leader" if self.leading(now) else "follower",
                "log": {slot: req.id for slot, req in sorted(self.log.items())},
                "next to execute": self.next_exec,
                "held": [req.id for req in self.held.values()],
                "executed": self.service.state.label()}
