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

import simpy
from simpy.events import NORMAL, Timeout

from ..types import Message, ProcessId
from . import trace as T


class Node(Protocol):
    pid: ProcessId
    up: bool

    def receive(self, src: ProcessId, msg: Message) -> None: ...


DelayFn = Callable[[], float]


def make_delay(spec: dict[str, Any], rng: random.Random) -> DelayFn:
    """A delay sampler from a validated spec: constant / uniform / exponential."""
    dist = spec.get("dist", "constant")
    if dist == "constant":
        value = float(spec.get("value", 1.0))
        return lambda: value
    if dist == "uniform":
        low, high = float(spec["low"]), float(spec["high"])
        uniform = rng.uniform
        return lambda: uniform(low, high)
    if dist == "exponential":
        rate = 1.0 / float(spec["mean"])
        base = float(spec.get("min", 0.0))
        expo = rng.expovariate
        return lambda: base + expo(rate)
    raise ValueError(f"unknown delay distribution {dist!r}")


class Link:
    __slots__ = ("delay", "loss", "dup", "fifo", "last", "loss_rng", "dup_rng")

    def __init__(self, delay: DelayFn, loss: float, dup: float, fifo: bool,
                 loss_rng: random.Random, dup_rng: random.Random):
        self.delay = delay
        self.loss = loss
        self.dup = dup
        self.fifo = fifo
        self.last = 0.0
        self.loss_rng = loss_rng
        self.dup_rng = dup_rng


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
    "crash_after_receive" (its receiver crashes right after handling it).
    """

    pattern: Pattern
    nth: int
    action: str
    by: float = 0.0
    seen: int = 0
    fired: bool = False


class Network:
    def __init__(self, env: simpy.Environment, trace: Optional[T.Trace]):
        self.env = env
        self.trace = trace
        self.nodes: dict[ProcessId, Node] = {}
        self.links: dict[tuple[ProcessId, ProcessId], Link] = {}
        self.groups: Optional[dict[ProcessId, int]] = None  # partition: pid -> group
        self.group_list: tuple[tuple[ProcessId, ...], ...] = ()
        self.on_send: list[Targeted] = []
        self.on_receive: list[Targeted] = []
        self.crash: Callable[[ProcessId], None] = lambda pid: None
        self.next_mid = 0
        # streaming counters, by message kind
        self.sent: dict[str, int] = {}
        self.delivered: dict[str, int] = {}
        self.dropped: dict[str, int] = {}
        self.duplicated: dict[str, int] = {}
        self.logs: dict[str, int] = {}  # Log effects by event name (e.g. "leader")
        self.last_fault_time = 0.0

    # ---- configuration ------------------------------------------------------------
    def add_node(self, node: Node) -> None:
        self.nodes[node.pid] = node

    def set_link(self, src: ProcessId, dst: ProcessId, link: Link) -> None:
        self.links[(src, dst)] = link

    def add_targeted(self, t: Targeted) -> None:
        (self.on_receive if t.action == "crash_after_receive" else self.on_send).append(t)

    def partition(self, groups: tuple[tuple[ProcessId, ...], ...]) -> None:
        self.group_list = groups
        self.groups = {p: i for i, g in enumerate(groups) for p in g}
        self.last_fault_time = self.env.now
        if self.trace is not None:
            self.trace.add(self.env.now, T.PARTITION, info={"groups": [list(g) for g in groups]})

    def heal(self) -> None:
        self.groups = None
        self.group_list = ()
        self.last_fault_time = self.env.now
        if self.trace is not None:
            self.trace.add(self.env.now, T.HEAL)

    def connected(self, a: ProcessId, b: ProcessId) -> bool:
        g = self.groups
        if g is None:
            return True
        ga = g.get(a)
        gb = g.get(b)
        return ga is None or gb is None or ga == gb

    # ---- the hot path -----------------------------------------------------------------
    def send(self, src: ProcessId, dst: ProcessId, msg: Message) -> None:
        now = self.env.now
        kind = msg.kind
        mid = self.next_mid
        self.next_mid = mid + 1
        sent = self.sent
        sent[kind] = sent.get(kind, 0) + 1
        trace = self.trace
        if trace is not None:
            trace.add(now, T.SEND, src, dst, mid, msg)
        extra = 0.0
        crash_after = False
        if self.on_send:
            for t in self.on_send:
                if not t.fired and t.pattern.matches(src, dst, msg):
                    t.seen += 1
                    if t.seen == t.nth:
                        t.fired = True
                        if t.action == "drop":
                            self._drop(now, src, dst, mid, msg, "targeted")
                            return
                        if t.action == "delay":
                            extra += t.by
                        else:
                            crash_after = True
        link = self.links[(src, dst)]
        g = self.groups
        if g is not None:
            ga = g.get(src)
            gb = g.get(dst)
            if ga is not None and gb is not None and ga != gb:
                self._drop(now, src, dst, mid, msg, "partition")
                if crash_after:
                    self.crash(src)
                return
        if link.loss and link.loss_rng.random() < link.loss:
            self._drop(now, src, dst, mid, msg, "loss")
        else:
            self._schedule(now, src, dst, mid, msg, link, extra)
            if link.dup and link.dup_rng.random() < link.dup:
                dup = self.duplicated
                dup[kind] = dup.get(kind, 0) + 1
                if trace is not None:
                    trace.add(now, T.DUPLICATE, src, dst, mid, msg)
                self._schedule(now, src, dst, mid, msg, link, extra)
        if crash_after:
            self.crash(src)

    def _schedule(self, now: float, src, dst, mid: int, msg: Message, link: Link, extra: float) -> None:
        delay = link.delay() + extra
        if delay < 0.0:
            delay = 0.0
        if link.fifo:
            at = now + delay
            if at < link.last:
                at = link.last
            link.last = at
            delay = at - now
        ev = Timeout(self.env, delay, (src, dst, mid, msg))
        ev.callbacks.append(self._deliver)

    def _deliver(self, ev: Timeout) -> None:
        src, dst, mid, msg = ev._value
        now = self.env.now
        node = self.nodes[dst]
        if not node.up:
            self._drop(now, src, dst, mid, msg, "crashed")
            return
        g = self.groups
        if g is not None:
            ga = g.get(src)
            gb = g.get(dst)
            if ga is not None and gb is not None and ga != gb:
                self._drop(now, src, dst, mid, msg, "partition")
                return
        d = self.delivered
        kind = msg.kind
        d[kind] = d.get(kind, 0) + 1
        if self.trace is not None:
            self.trace.add(now, T.DELIVER, src, dst, mid, msg)
        node.receive(src, msg)
        if self.on_receive:
            for t in self.on_receive:
                if not t.fired and t.pattern.matches(src, dst, msg):
                    t.seen += 1
                    if t.seen == t.nth:
                        t.fired = True
                        self.crash(dst)

    def _drop(self, now: float, src, dst, mid: int, msg: Message, reason: str) -> None:
        d = self.dropped
        kind = msg.kind
        d[kind] = d.get(kind, 0) + 1
        if self.trace is not None:
            self.trace.add(now, T.DROP, src, dst, mid, {"type": kind, "label": msg.label(), "reason": reason, **msg.fields()})
