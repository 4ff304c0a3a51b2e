"""The simulated network: links with delay, loss, duplication and (re)ordering,
partitions, and targeted faults that replay a figure exactly.

Every message in flight is one SimPy ``Timeout`` whose callback delivers it; no
process per message. Randomness comes from per-link streams (delay, loss,
duplication each have their own), so that changing one link leaves the others'
draws alone. Ties in time are broken by SimPy's event sequence number, which is
the order of the calls, so a run is fixed by its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

from collections import defaultdict
from heapq import heappush

import simpy
from simpy.events import NORMAL, Event

from ..types import Message, ProcessId
from . import trace as T


class Node(Protocol):
    pid: ProcessId
    up: bool
    replica: Any  # a host's replica (messages go straight to it), None for a client

    def receive(self, src: ProcessId, msg: Message) -> None: ...


DelayFn = Callable[[], float]


def make_delay(spec: dict[str, Any], rng: random.Random) -> DelayFn:
    """A delay sampler from a validated spec: constant / uniform / exponential."""
    dist = spec.get("dist", "constant")
    if dist == "constant":
        value = float(spec.get("value", 1.0))
        fn = lambda: value  # noqa: E731
        fn.inline = (0, value, 0.0, None)
        return fn
    if dist == "uniform":
        low, high = float(spec["low"]), float(spec["high"])
        rand = rng.random
        span = high - low
        fn = lambda: low + span * rand()  # noqa: E731  (what random.uniform computes)
        fn.inline = (1, low, span, rand)
        return fn
    if dist == "exponential":
        rate = 1.0 / float(spec["mean"])
        base = float(spec.get("min", 0.0))
        expo = rng.expovariate
        fn = lambda: base + expo(rate)  # noqa: E731
        fn.inline = (2, base, rate, expo)
        return fn
    raise ValueError(f"unknown delay distribution {dist!r}")


class Delivery(Event):
    """A message in flight: a SimPy event, already triggered, whose one callback
    delivers it. Lighter than a ``Timeout`` (no delay checks, no env reference):
    the network pushes it on SimPy's queue itself, with SimPy's sequence number."""

    def __init__(self, callbacks: list, value: Any):
        self.callbacks = callbacks
        self._ok = True
        self._value = value


class Link:
    """One direction between two processes. ``delay`` samples a delay; for the three
    built-in distributions the network inlines the draw (``dist``, ``a``, ``b``,
    ``rand``), which is the same draw ``delay()`` makes."""

    __slots__ = ("delay", "loss", "dup", "fifo", "last", "loss_rng", "dup_rng", "dist", "a", "b", "rand")

    def __init__(self, delay: DelayFn, loss: float, dup: float, fifo: bool,
                 loss_rng: random.Random, dup_rng: random.Random):
        self.delay = delay
        self.loss = loss
        self.dup = dup
        self.fifo = fifo
        self.last = 0.0
        self.loss_rng = loss_rng
        self.dup_rng = dup_rng
        self.dist, self.a, self.b, self.rand = getattr(delay, "inline", (3, 0.0, 0.0, None))


@dataclass(slots=True)
class Pattern:
    """Matches messages by type (``kind``), sender, receiver and request id."""

    type: Optional[str] = None
    src: Optional[str] = None
    dst: Optional[str] = None
    request: Optional[str] = None

    def matches(self, src: str, dst: str, msg: Message) -> bool:
        if self.type is not None and msg.kind != self.type:
            return False
        if self.src is not None and src != self.src:
            return False
        if self.dst is not None and dst != self.dst:
            return False
        if self.request is not None:
            req = getattr(msg, "request", None)
            if req is None or req.id != self.request:
                return False
        return True

    def describe(self) -> str:
        parts = [self.type or "any message"]
        if self.request:
            parts.append(f"for {self.request}")
        if self.src:
            parts.append(f"from {self.src}")
        if self.dst:
            parts.append(f"to {self.dst}")
        return " ".join(parts)


@dataclass(slots=True)
class Targeted:
    """Act on the ``nth`` message matching ``pattern`` (1-based).

    ``action``: "drop" (lose it), "delay" (add ``by`` to its delay),
    "crash_after_send" (its sender crashes right after sending it),
    "crash_after_receive" (its receiver crashes right after handling it),
    "isolate_after_send" / "isolate_after_receive" (its sender / receiver is cut
    off from the other servers right after sending / handling it). ``lasting``: a crashed process recovers, an isolated one is
    reconnected, this long after (None: never).
    """

    pattern: Pattern
    nth: int
    action: str
    by: float = 0.0
    seen: int = 0
    fired: bool = False
    lasting: Optional[float] = None


class Network:
    def __init__(self, env: simpy.Environment, trace: Optional[T.Trace]):
        self.env = env
        self.trace = trace
        self.nodes: dict[ProcessId, Node] = {}
        self.links: dict[tuple[ProcessId, ProcessId], Link] = {}
        self.links_from: dict[ProcessId, dict[ProcessId, Link]] = {}  # src -> dst -> link
        self.groups: Optional[dict[ProcessId, int]] = None  # partition: pid -> group
        self.group_list: tuple[tuple[ProcessId, ...], ...] = ()
        self.on_send: list[Targeted] = []
        self.on_receive: list[Targeted] = []
        self.crash: Callable[[ProcessId], None] = lambda pid: None
        # a triggered crash or isolation (crash_after_*, isolate_after_send) of pid
        self.fire: Callable[[ProcessId, Targeted], None] = lambda pid, t: self.crash(pid)
        self.next_mid = 0
        self.ticks = 0  # history positions when no trace is kept
        # streaming counters, by message kind
        self.sent: dict[str, int] = defaultdict(int)
        self.dropped: dict[str, int] = defaultdict(int)
        self.duplicated: dict[str, int] = defaultdict(int)
        self._queue = env._queue
        self._eid = env._eid
        # SimPy's step() swaps an event's callbacks attribute out and never changes
        # the list itself, so every message in flight can share this one.
        self._deliveries = [self._deliver]
        self.logs: dict[str, int] = {}  # Log effects by event name (e.g. "leader")
        self.last_fault_time = 0.0
        self.lost = 0      # messages lost by a link's loss or a targeted drop
        self.splits = 0    # partitions made

    # ---- configuration ------------------------------------------------------------
    def add_node(self, node: Node) -> None:
        self.nodes[node.pid] = node

    def set_link(self, src: ProcessId, dst: ProcessId, link: Link) -> None:
        self.links[(src, dst)] = link
        self.links_from.setdefault(src, {})[dst] = link

    def add_targeted(self, t: Targeted) -> None:
        (self.on_receive if t.action.endswith("_receive") else self.on_send).append(t)

    def partition(self, groups: tuple[tuple[ProcessId, ...], ...]) -> None:
        self.group_list = groups
        self.groups = {p: i for i, g in enumerate(groups) for p in g}
        self.splits += 1
        self.last_fault_time = self.env.now
        if self.trace is not None:
            self.trace.add(self.env.now, T.PARTITION, info={"groups": [list(g) for g in groups]})

    def heal(self) -> None:
        self.groups = None
        self.group_list = ()
        self.last_fault_time = self.env.now
        if self.trace is not None:
            self.trace.add(self.env.now, T.HEAL)

    @property
    def delivered(self) -> dict[str, int]:
        """Messages delivered so far, by kind. Not counted one by one on the hot path:
        every copy that was sent (or duplicated) was dropped, delivered, or is still
        on SimPy's queue, so delivered = sent + duplicated - dropped - in flight."""
        inflight: dict[str, int] = defaultdict(int)
        for entry in self._queue:
            ev = entry[3]
            if type(ev) is Delivery and ev.callbacks is self._deliveries:
                inflight[ev._value[3].kind] += 1
        out = {}
        for kind in sorted(set(self.sent) | set(self.duplicated)):
            n = (self.sent.get(kind, 0) + self.duplicated.get(kind, 0) - self.dropped.get(kind, 0)
                 - inflight.get(kind, 0))
            if n:
                out[kind] = n
        return out

    def connected(self, a: ProcessId, b: ProcessId) -> bool:
        g = self.groups
        if g is None:
            return True
        ga = g.get(a)
        gb = g.get(b)
        return ga is None or gb is None or ga == gb

    def position(self) -> int:
        """A position for a history record: the next trace index, or a counter when
        no trace is kept. Always increasing, so records of one instant keep their order."""
        if self.trace is not None:
            return len(self.trace.events)
        self.ticks += 1
        return self.ticks

    # ---- the hot path -----------------------------------------------------------------
    def send(self, src: ProcessId, dst: ProcessId, msg: Message) -> None:
        if self.on_send or self.groups is not None:
            self._send_checked(src, dst, msg)
        else:
            self.broadcast(src, (dst,), msg)

    def _send_checked(self, src: ProcessId, dst: ProcessId, msg: Message) -> None:
        """``send`` with targeted faults and partitions about (the general path)."""
        now = self.env._now
        kind = msg.kind
        mid = self.next_mid
        self.next_mid = mid + 1
        self.sent[kind] += 1
        trace = self.trace
        if trace is not None:
            trace.events.append((now, T.SEND, src, dst, mid, msg))
        extra = 0.0
        crash_after = None
        if self.on_send:
            for t in self._hits(self.on_send, src, dst, msg):
                if t.action == "drop":
                    self._drop(now, src, dst, mid, msg, "targeted")
                    return
                if t.action == "delay":
                    extra += t.by
                else:
                    crash_after = t
        link = self.links_from[src][dst]
        if not self.connected(src, dst):
            self._drop(now, src, dst, mid, msg, "partition")
        elif link.loss and link.loss_rng.random() < link.loss:
            self._drop(now, src, dst, mid, msg, "loss")
        else:
            value = (src, dst, mid, msg)
            self._enqueue(now, link, extra, value)
            if link.dup and link.dup_rng.random() < link.dup:
                self.duplicated[kind] += 1
                if trace is not None:
                    trace.events.append((now, T.DUPLICATE, src, dst, mid, msg))
                self._enqueue(now, link, extra, value)
        if crash_after is not None:
            self.fire(src, crash_after)

    def broadcast(self, src: ProcessId, dsts: tuple[ProcessId, ...], msg: Message) -> None:
        """``send(src, dst, msg)`` for each ``dst`` in order: the same draws, the same
        trace, the same counters, with what does not change between them done once.
        This is the hot path: with no partition and no targeted fault about, every
        message goes through the loop below."""
        if self.on_send or self.groups is not None:
            node = self.nodes[src]
            for dst in dsts:
                self._send_checked(src, dst, msg)
                if not node.up:
                    return
            return
        now = self.env._now
        kind = msg.kind
        self.sent[kind] += len(dsts)
        trace = self.trace
        links = self.links_from[src]
        queue = self._queue
        eid = self._eid
        deliveries = self._deliveries
        for dst in dsts:
            mid = self.next_mid
            self.next_mid = mid + 1
            if trace is not None:
                trace.events.append((now, T.SEND, src, dst, mid, msg))
            link = links[dst]
            if link.loss and link.loss_rng.random() < link.loss:
                self._drop(now, src, dst, mid, msg, "loss")
                continue
            value = (src, dst, mid, msg)
            # _enqueue(now, link, 0.0, value), inlined for the common distributions
            dist = link.dist
            if dist == 1:
                at = now + link.a + link.b * link.rand()
            elif dist == 0:
                at = now + link.a
            else:
                at = now + self._delay(link, 0.0)
            if link.fifo:
                if at < link.last:
                    at = link.last
                link.last = at
            heappush(queue, (at, NORMAL, next(eid), Delivery(deliveries, value)))
            if link.dup and link.dup_rng.random() < link.dup:
                self.duplicated[kind] += 1
                if trace is not None:
                    trace.events.append((now, T.DUPLICATE, src, dst, mid, msg))
                self._enqueue(now, link, 0.0, value)

    @staticmethod
    def _delay(link: Link, extra: float) -> float:
        dist = link.dist
        if dist == 0:
            delay = link.a + extra
        elif dist == 1:
            delay = link.a + link.b * link.rand() + extra
        elif dist == 2:
            delay = link.a + link.rand(link.b) + extra
        else:
            delay = link.delay() + extra
        return delay if delay > 0.0 else 0.0

    def _enqueue(self, now: float, link: Link, extra: float, value: tuple) -> None:
        """Put one copy of a message on SimPy's queue, due after the link's delay."""
        at = now + self._delay(link, extra)
        if link.fifo:
            if at < link.last:
                at = link.last
            link.last = at
        heappush(self._queue, (at, NORMAL, next(self._eid), Delivery(self._deliveries, value)))

    def later(self, delay: float, callback: Callable[[Event], None], value: Any) -> None:
        """Call ``callback(event)`` after ``delay``, ``event._value`` being ``value``."""
        heappush(self._queue, (self.env._now + delay, NORMAL, next(self._eid), Delivery([callback], value)))

    def _deliver(self, ev: Event) -> None:
        src, dst, mid, msg = ev._value
        node = self.nodes[dst]
        if not node.up:
            self._drop(self.env._now, src, dst, mid, msg, "crashed")
            return
        if self.groups is not None and not self.connected(src, dst):
            self._drop(self.env._now, src, dst, mid, msg, "partition")
            return
        if self.trace is not None:
            self.trace.events.append((self.env._now, T.DELIVER, src, dst, mid, msg))
        replica = node.replica
        if replica is not None:  # a host: hand the message straight to its replica
            effects = replica.on_message(self.env._now, src, msg)
            if effects:
                node.apply(effects)
        else:
            node.receive(src, msg)
        if self.on_receive:
            for t in self._hits(self.on_receive, src, dst, msg):
                self.fire(dst, t)

    @staticmethod
    def _hits(targets: list[Targeted], src: ProcessId, dst: ProcessId, msg: Message) -> list[Targeted]:
        """The targeted faults this message triggers (it is the nth match of each)."""
        hits = []
        for t in targets:
            if not t.fired and t.pattern.matches(src, dst, msg):
                t.seen += 1
                if t.seen == t.nth:
                    t.fired = True
                    hits.append(t)
        return hits

    def _drop(self, now: float, src, dst, mid: int, msg: Message, reason: str) -> None:
        kind = msg.kind
        self.dropped[kind] += 1
        if reason == "loss" or reason == "targeted":
            self.lost += 1
        if self.trace is not None:
            self.trace.add(now, T.DROP, src, dst, mid, {"type": kind, "label": msg.label(), "reason": reason, **msg.fields()})
