"""A tiny in-memory cluster for driving replicas by hand, with no SimPy.

In the spirit of etcd-raft's test network and h11's connection pair: messages
sent by replicas wait in a queue until the test delivers, drops or reorders them;
timers fire only when the test says so; time moves only when the test moves it.

    c = Cluster(SendAccept, ["S1", "S2"])
    c.start()
    c.request("C1", "m1", to="S1")          # a client request arrives at S1
    c.drop(kind="ACC", src="S1", dst="S2")  # lose the accept
    c.deliver_all()
    assert c.executed("S2") == []
    assert c.replies["C1"] == ["s^1"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Optional, Sequence

from .protocols.base import Replica
from .types import (
    Broadcast, Erase, CancelTimer, ClientReply, ClientRequest, Execute, Log, Message, Persist, ProcessId, Reply, Request, Send,
    SetTimer, State,
)


@dataclass
class Envelope:
    src: ProcessId
    dst: ProcessId
    msg: Message

    def __str__(self) -> str:
        return f"{self.src}->{self.dst} {self.msg.label()}"


@dataclass
class Cluster:
    protocol: type
    servers: Sequence[ProcessId]
    params: Mapping[str, Any] = field(default_factory=dict)
    now: float = 0.0

    def __post_init__(self) -> None:
        self.servers = tuple(self.servers)
        p = self.protocol.check_params(dict(self.params), len(self.servers))
        self.params = p
        self.replicas: dict[ProcessId, Optional[Replica]] = {
            s: self.protocol(s, self.servers, p) for s in self.servers
        }
        self.inbox: list[Envelope] = []                     # in flight, in send order
        self.timers: dict[ProcessId, dict[str, float]] = {s: {} for s in self.servers}  # name -> due time
        self.store: dict[ProcessId, dict[str, Any]] = {s: {} for s in self.servers}
        self.executions: dict[ProcessId, list[tuple[str, State]]] = {s: [] for s in self.servers}
        self.replies: dict[ProcessId, list[str]] = {}       # client -> reply state labels
        self.reply_states: dict[ProcessId, list[State]] = {}
        self.logs: list[tuple[ProcessId, str, Any]] = []
        self.cut_links: set[tuple[ProcessId, ProcessId]] = set()
        self.lost_kinds: set[str] = set()
        self.delivered: list[Envelope] = []                 # every message delivered, in order

    # ---- inputs ----------------------------------------------------------------------
    def start(self) -> None:
        for s in self.servers:
            self._apply(s, self.replicas[s].on_start(self.now))

    def request(self, client: ProcessId, rid: str, to: ProcessId | Iterable[ProcessId], seq: int = 0) -> Request:
        """Put client ``client``'s request ``rid`` in flight to server(s) ``to``
        (``seq``: its place in the client's sequence, as simulated clients number them)."""
        req = Request(rid, client, seq)
        for s in ([to] if isinstance(to, str) else list(to)):
            self.inbox.append(Envelope(client, s, ClientRequest(req)))
        return req

    def advance(self, dt: float) -> None:
        self.now += dt

    def fire(self, server: ProcessId, name: str) -> None:
        """Fire ``server``'s timer ``name`` now (it must be set)."""
        assert name in self.timers[server], f"{server} has no timer {name!r} (set: {sorted(self.timers[server])})"
        del self.timers[server][name]
        self._apply(server, self.replicas[server].on_timer(self.now, name))

    def fire_due(self) -> int:
        """Fire every timer due at or before ``now`` (in due-time order); how many fired."""
        n = 0
        while True:
            due = sorted((t, s, name) for s, ts in self.timers.items() for name, t in ts.items() if t <= self.now)
            if not due:
                return n
            _, s, name = due[0]
            self.fire(s, name)
            n += 1

    def run_for(self, duration: float, step: float = 0.5) -> None:
        """Move time on in steps of ``step``, firing due timers and delivering
        everything in flight after each step."""
        end = self.now + duration
        while self.now < end:
            self.advance(step)
            self.fire_due()
            self.deliver_all()

    def crash(self, server: ProcessId) -> None:
        self.replicas[server] = None
        self.timers[server] = {}

    def recover(self, server: ProcessId) -> None:
        r = self.protocol(server, self.servers, self.params)
        self.replicas[server] = r
        self._apply(server, r.on_recover(self.now, dict(self.store[server])))

    # ---- the network -------------------------------------------------------------------
    def pending(self, kind: Optional[str] = None, src: Optional[str] = None, dst: Optional[str] = None) -> list[Envelope]:
        return [e for e in self.inbox if (kind is None or e.msg.kind == kind)
                and (src is None or e.src == src) and (dst is None or e.dst == dst)]

    def drop(self, kind: Optional[str] = None, src: Optional[str] = None, dst: Optional[str] = None) -> int:
        """Lose every in-flight message matching; how many were lost."""
        doomed = self.pending(kind, src, dst)
        self.inbox = [e for e in self.inbox if e not in doomed]
        return len(doomed)

    def cut(self, a: ProcessId, b: ProcessId) -> None:
        """From now on, messages between a and b (both ways) are lost."""
        self.cut_links |= {(a, b), (b, a)}

    def isolate(self, a: ProcessId) -> None:
        for s in self.servers:
            if s != a:
                self.cut(a, s)

    def lose(self, kind: str) -> None:
        """From now on, every message of this kind (``"CATCHUP"``) is lost."""
        self.lost_kinds.add(kind)

    def heal(self) -> None:
        """Reconnect every cut link and stop losing messages by kind."""
        self.cut_links.clear()
        self.lost_kinds.clear()

    def deliver(self, kind: Optional[str] = None, src: Optional[str] = None, dst: Optional[str] = None) -> Envelope:
        """Deliver the oldest in-flight message matching (it must exist)."""
        found = self.pending(kind, src, dst)
        assert found, f"no message in flight matching kind={kind} src={src} dst={dst}; in flight: {[str(e) for e in self.inbox]}"
        env = found[0]
        self.inbox.remove(env)
        self._deliver(env)
        return env

    def deliver_all(self, limit: int = 100_000) -> int:
        """Deliver in send order until nothing is in flight; how many were delivered."""
        n = 0
        while self.inbox:
            env = self.inbox.pop(0)
            self._deliver(env)
            n += 1
            assert n < limit, "messages never stop: a loop?"
        return n

    def _deliver(self, env: Envelope) -> None:
        if (env.src, env.dst) in self.cut_links or env.msg.kind in self.lost_kinds:
            return
        self.delivered.append(env)
        if env.dst in self.replicas:
            r = self.replicas[env.dst]
            if r is not None:
                self._apply(env.dst, r.on_message(self.now, env.src, env.msg))
        elif type(env.msg) is ClientReply:
            self.replies.setdefault(env.dst, []).append(env.msg.state.label())
            self.reply_states.setdefault(env.dst, []).append(env.msg.state)

    def _apply(self, server: ProcessId, effects: Iterable[Any]) -> None:
        for e in effects:
            if isinstance(e, Send):
                self.inbox.append(Envelope(server, e.dst, e.msg))
            elif isinstance(e, Broadcast):
                self.inbox.extend(Envelope(server, d, e.msg) for d in e.dsts)
            elif isinstance(e, Reply):
                self.inbox.append(Envelope(server, e.request.client, ClientReply(e.request, e.state)))
            elif isinstance(e, SetTimer):
                self.timers[server][e.name] = self.now + e.delay
            elif isinstance(e, CancelTimer):
                self.timers[server].pop(e.name, None)
            elif isinstance(e, Execute):
                self.executions[server].append((e.request.id, e.state))
            elif isinstance(e, Persist):
                self.store[server][e.key] = e.value
            elif isinstance(e, Erase):
                for key in e.keys:
                    self.store[server].pop(key, None)
            elif isinstance(e, Log):
                self.logs.append((server, e.event, e.info))
            else:
                raise TypeError(f"unknown effect {e!r}")

    # ---- reading the result --------------------------------------------------------------
    def executed(self, server: ProcessId) -> list[str]:
        """Request ids ``server`` executed, in order."""
        return [rid for rid, _ in self.executions[server]]

    def logged(self, event: str) -> list[tuple[ProcessId, Any]]:
        """(server, info) of every ``Log(event, info)`` so far, in order."""
        return [(s, info) for s, e, info in self.logs if e == event]

    def state(self, server: ProcessId) -> str:
        ex = self.executions[server]
        return ex[-1][1].label() if ex else "s^()"
