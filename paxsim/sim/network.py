"""The simulated network: links with delay, loss, duplication and (re)ordering,
partitions, and targeted faults that replay a figure exactly.

Every message in flight is one entry on SimPy's queue, keyed as SimPy keys its
events (time, priority, sequence number): ``(at, NORMAL, eid, src, dst, mid, msg)``,
one flat tuple, no event object and no process per message; so is a host's timer,
``(at, NORMAL, eid, host, name, gen)``. :meth:`Network.run` carries the queue out
in SimPy's order and hands each message straight to its receiver, each timer to
its host (SimPy's own ``env.step`` cannot: neither is an event). Randomness comes from per-link streams (delay, loss,
duplication each have their own, made on their first draw), so that changing one
link leaves the others' draws alone. Ties in time are broken by SimPy's event
sequence number, which is the order of the calls, so a run is fixed by its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

from collections import defaultdict
from heapq import heappop, heappush

import simpy
from simpy.core import Infinity
from simpy.events import NORMAL, Event

from ..types import Message, ProcessId
from . import trace as T
from .rng import LazyStream


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


class Later(tuple):
    """A callback in flight (a client's timer; a host's is a :data:`TIMER_ENTRY`),
    ``(callback, value)``: a tuple that looks like a triggered SimPy event whose one
    callback is ``callback`` (``env.step`` carries it out);
    :meth:`Network.run` calls ``callback(event)`` directly. Lighter than a
    ``Timeout`` (no delay checks, no env reference, no ``__init__`` to run)."""

    _ok = True

    @property
    def _value(self) -> Any:
        return self[1]

    def __getattr__(self, name: str) -> Any:
        if name == "callbacks":  # until env.step sets it (to None, once done)
            return [self[0]]
        raise AttributeError(name)


MESSAGE_ENTRY = 7
"""The length of a message's entry on the queue, ``(at, NORMAL, eid, src, dst, mid,
msg)``."""

TIMER_ENTRY = 6
"""The length of a host's timer on the queue, ``(at, NORMAL, eid, host, name, gen)``
(see :meth:`Network.timer`); every other entry is SimPy's ``(at, priority, eid, event)``."""


class Link:
    """One direction between two processes. ``delay`` samples a delay; for the three
    built-in distributions the network inlines the draw (``dist``, ``a``, ``b``,
    ``rand``), which is the same draw ``delay()`` makes."""

    __slots__ = ("delay", "loss", "dup", "fifo", "last", "loss_rng", "dup_rng", "dist", "a", "b", "rand", "plain",
                 "lazy_rand")

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
        if isinstance(getattr(self.rand, "__self__", None), LazyStream):
            self.lazy_rand = self.rand  # replaced by the generator's own method on the first draw
            self.rand = self._first_draw
        # the common case, inlined in Network.broadcast: uniform delay, no loss, no copies
        self.plain = self.dist == 1 and not loss and not dup

    def _first_draw(self, *args: float) -> float:
        lazy = self.lazy_rand
        self.rand = getattr(lazy.__self__.get(), lazy.__name__)
        return self.rand(*args)


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
    reconnected, this long after (None: never). ``until_sends``: an isolated process
    is instead reconnected right before it sends a message of this kind (so that one
    gets through), the first one ``lasting`` or more after it was cut off.
    ``after``: count only messages that come after that fault fired (a chain).
    """

    pattern: Pattern
    nth: int
    action: str
    by: float = 0.0
    seen: int = 0
    fired: bool = False
    lasting: Optional[float] = None
    until_sends: Optional[str] = None
    after: Optional["Targeted"] = None
    fired_in: int = 0   # the network's hit check in which it fired


class Network:
    def __init__(self, env: simpy.Environment, trace: Optional[T.Trace]):
        self.env = env
        self.trace = trace
        self.nodes: dict[ProcessId, Node] = {}
        self.links: dict[tuple[ProcessId, ProcessId], Link] = {}
        self.links_from: dict[ProcessId, dict[ProcessId, Link]] = {}  # src -> dst -> link
        self.groups: Optional[dict[ProcessId, int]] = None  # partition: pid -> group (None: none active)
        self.group_list: tuple[tuple[ProcessId, ...], ...] = ()
        # Active partitions, each with its own lifetime: handle -> (groups, pid -> group).
        # A link is cut while any of them separates its ends.
        self.partitions: dict[int, tuple[tuple[tuple[ProcessId, ...], ...], dict[ProcessId, int]]] = {}
        self.next_partition = 0
        self.last_targeted = 0.0  # when a targeted fault last hit a message
        self.on_send: list[Targeted] = []
        self.on_receive: list[Targeted] = []
        # isolations that end as their server sends a message of a kind: (pid, kind, not before, undo)
        self.rejoin: list[tuple[ProcessId, str, float, Callable[[], None]]] = []
        self.checks = 0   # hit checks so far: a chained fault counts messages of later checks only
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

    def partition(self, groups: tuple[tuple[ProcessId, ...], ...]) -> int:
        """Start a partition; it lasts until ``heal(handle)`` (its own end) or ``heal()``."""
        handle = self.next_partition
        self.next_partition += 1
        self.partitions[handle] = (groups, {p: i for i, g in enumerate(groups) for p in g})
        self.group_list = groups
        self.groups = self.partitions[handle][1]
        self.splits += 1
        self.last_fault_time = self.env.now
        if self.trace is not None:
            self.trace.add(self.env.now, T.PARTITION, info={"groups": [list(g) for g in groups]})
        return handle

    def heal(self, handle: Optional[int] = None) -> None:
        """End partition ``handle`` (if still active), or every partition."""
        if handle is not None and handle not in self.partitions:
            return  # healed already
        ended = self.partitions.pop(handle)[0] if handle is not None else None
        if handle is None:
            self.partitions.clear()
        if self.partitions:
            self.group_list, self.groups = self.partitions[max(self.partitions)]
        else:
            self.groups = None
            self.group_list = ()
        self.last_fault_time = self.env.now
        if self.trace is not None:
            if self.partitions and ended is not None:  # others stay in force
                self.trace.add(self.env.now, T.HEAL, info={"groups": [list(g) for g in ended]})
            else:
                self.trace.add(self.env.now, T.HEAL)

    @property
    def delivered(self) -> dict[str, int]:
        """Messages delivered so far, by kind. Not counted one by one on the hot path:
        every copy that was sent (or duplicated) was dropped, delivered, or is still
        on SimPy's queue, so delivered = sent + duplicated - dropped - in flight."""
        inflight: dict[str, int] = defaultdict(int)
        for entry in self._queue:
            if len(entry) == MESSAGE_ENTRY:
                inflight[entry[6].kind] += 1
        out = {}
        for kind in sorted(set(self.sent) | set(self.duplicated)):
            n = (self.sent.get(kind, 0) + self.duplicated.get(kind, 0) - self.dropped.get(kind, 0)
                 - inflight.get(kind, 0))
            if n:
                out[kind] = n
        return out

    def connected(self, a: ProcessId, b: ProcessId) -> bool:
        """Whether no active partition separates ``a`` from ``b``."""
        if self.groups is None:
            return True
        for _groups, g in self.partitions.values():
            ga = g.get(a)
            gb = g.get(b)
            if ga is not None and gb is not None and ga != gb:
                return False
        return True

    def position(self) -> int:
        """A position for a history record: the next trace index, or a counter when
        no trace is kept. Always increasing, so records of one instant keep their order."""
        if self.trace is not None:
            return len(self.trace.events)
        self.ticks += 1
        return self.ticks

    def dispose(self) -> None:
        """Done with this network (and its world): drop what is still in flight and
        the references that make cycles (nodes that point back at the network, links
        whose first draw is still their own method, the fault callbacks), so that a
        world is freed as soon as it is let go, not by the cyclic garbage collector."""
        self._queue.clear()
        self.nodes.clear()
        for link in self.links.values():
            link.rand = None
        self.rejoin.clear()
        self.crash = self.fire = None

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
        if self.rejoin:
            self._rejoin(src, kind)
        mid = self.next_mid
        self.next_mid = mid + 1
        self.sent[kind] += 1
        trace = self.trace
        if trace is not None:
            trace.events.append((now, T.SEND, src, dst, mid, msg))
        extra = 0.0
        fire: list[Targeted] = []
        if self.on_send:
            for t in self._hits(self.on_send, src, dst, msg):
                if t.action == "drop":
                    self.last_targeted = now
                    self._drop(now, src, dst, mid, msg, "targeted")
                    return
                if t.action == "delay":
                    extra += t.by
                else:
                    fire.append(t)   # every fault this message triggers, in the schedule's order
        if not self.connected(src, dst):
            self._drop(now, src, dst, mid, msg, "partition")
        else:
            self._transmit(now, self.links_from[src][dst], extra, src, dst, mid, msg)
        for t in fire:
            self.fire(src, t)

    def _rejoin(self, src: ProcessId, kind: str) -> None:
        """End the isolations of ``src`` that last until it sends a ``kind`` (before it goes out)."""
        now = self.env._now
        due = [r for r in self.rejoin if r[0] == src and r[1] == kind and r[2] <= now]
        if due:
            self.rejoin = [r for r in self.rejoin if r not in due]
            for r in due:
                r[3]()

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
        self.sent[msg.kind] += len(dsts)
        trace = self.trace
        links = self.links_from[src]
        queue = self._queue
        eid = self._eid
        mid = self.next_mid
        self.next_mid = mid + len(dsts)
        for dst in dsts:
            link = links[dst]
            if trace is not None:
                trace.events.append((now, T.SEND, src, dst, mid, msg))
            if link.plain:  # _transmit(now, link, None, ...), inlined for a plain link
                at = now + link.a + link.b * link.rand()
                if link.fifo:
                    if at < link.last:
                        at = link.last
                    link.last = at
                heappush(queue, (at, NORMAL, next(eid), src, dst, mid, msg))
            else:
                self._transmit(now, link, None, src, dst, mid, msg)
            mid += 1

    def _transmit(self, now: float, link: Link, extra: Optional[float], src: ProcessId, dst: ProcessId,
                  mid: int, msg: Message) -> None:
        """One message onto one link that is up: lost, or in flight (and maybe a copy too).

        ``extra`` None: sent by :meth:`broadcast`, which computes the first copy's due
        time as ``now + low + span * draw``, not as ``now + (low + span * draw)`` like
        :meth:`_enqueue`: the two can differ in the last bit, and a run must not change."""
        if link.loss and link.loss_rng.random() < link.loss:
            self._drop(now, src, dst, mid, msg, "loss")
            return
        value = (src, dst, mid, msg)
        if extra is None:
            extra = 0.0
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
            heappush(self._queue, (at, NORMAL, next(self._eid), src, dst, mid, msg))
        else:
            self._enqueue(now, link, extra, value)
        if link.dup and link.dup_rng.random() < link.dup:
            self.duplicated[msg.kind] += 1
            if self.trace is not None:
                self.trace.events.append((now, T.DUPLICATE, src, dst, mid, msg))
            self._enqueue(now, link, extra, value)  # its own entry

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
        """Put one copy of a message ``(src, dst, mid, msg)`` on SimPy's queue, due
        after the link's delay."""
        at = now + self._delay(link, extra)
        if link.fifo:
            if at < link.last:
                at = link.last
            link.last = at
        heappush(self._queue, (at, NORMAL, next(self._eid)) + value)

    def later(self, delay: float, callback: Callable[[Event], None], value: Any) -> None:
        """Call ``callback(event)`` after ``delay``, ``event._value`` being ``value``."""
        heappush(self._queue, (self.env._now + delay, NORMAL, next(self._eid), Later((callback, value))))

    def timer(self, delay: float, host: Any, name: str, gen: int) -> None:
        """Call ``host.fire(name, gen)`` after ``delay``: a replica's timer, one flat
        entry on the queue (a timer fires about once for every eight deliveries)."""
        heappush(self._queue, (self.env._now + delay, NORMAL, next(self._eid), host, name, gen))

    def deliver(self, value: tuple) -> None:
        """Hand one message ``(src, dst, mid, msg)`` that has arrived to its receiver."""
        src, dst, mid, msg = value
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

    def run(self, until: float = Infinity, stop: Optional[Event] = None) -> None:
        """Carry out SimPy's queue as ``env.run(until)`` or ``env.run(stop)`` would, in the
        same order (time, priority, sequence number), handing each message that arrives
        straight to :meth:`deliver` (most entries of a run are messages) and each host's
        timer to ``host.fire``. Any other event (clients' timers, faults, SimPy's own) is
        processed as ``env.step`` processes it. Stops before the first
        event due at ``until`` or later (SimPy's stop event comes first at its time, then
        the clock reads ``until``), or once ``stop`` has been processed."""
        env = self.env
        queue = self._queue
        deliver = self.deliver
        nodes = self.nodes
        plain = self.trace is None and not self.on_receive
        while queue:
            item = heappop(queue)
            at = item[0]
            if at >= until:
                heappush(queue, item)  # back in its place: the same key, the same order
                break
            env._now = at
            size = len(item)
            if size == MESSAGE_ENTRY:
                _, _, _, src, dst, mid, msg = item
                node = nodes[dst]
                if plain and node.up and self.groups is None:  # deliver(ev), its common case inlined
                    replica = node.replica
                    if replica is not None:
                        effects = replica.on_message(at, src, msg)
                        if effects:
                            node.apply(effects)
                    else:
                        node.receive(src, msg)
                else:
                    deliver((src, dst, mid, msg))
                continue
            if size == TIMER_ENTRY:
                item[3].fire(item[4], item[5])
                continue
            ev = item[3]
            if type(ev) is Later:
                ev[0](ev)
                continue
            callbacks, ev.callbacks = ev.callbacks, None
            for callback in callbacks:
                callback(ev)
            if not ev._ok and not hasattr(ev, "_defused"):
                exc = type(ev._value)(*ev._value.args)
                exc.__cause__ = ev._value
                raise exc
            if ev is stop:
                return
        if stop is not None:
            raise RuntimeError(f'No scheduled events left but "until" event was not triggered: {stop}')
        if until != Infinity:
            env._now = until

    def _hits(self, targets: list[Targeted], src: ProcessId, dst: ProcessId, msg: Message) -> list[Targeted]:
        """The targeted faults this message triggers (it is the nth match of each; a
        chained one counts the messages after the one that fired the fault it follows)."""
        self.checks = check = self.checks + 1
        hits = []
        for t in targets:
            if not t.fired and t.pattern.matches(src, dst, msg):
                after = t.after
                if after is not None and (not after.fired or after.fired_in == check):
                    continue
                t.seen += 1
                if t.seen == t.nth:
                    t.fired = True
                    t.fired_in = check
                    hits.append(t)
        return hits

    def _drop(self, now: float, src, dst, mid: int, msg: Message, reason: str) -> None:
        kind = msg.kind
        self.dropped[kind] += 1
        if reason == "loss" or reason == "targeted":
            self.lost += 1
        if self.trace is not None:
            self.trace.add(now, T.DROP, src, dst, mid, {"type": kind, "label": msg.label(), "reason": reason, **msg.fields()})
