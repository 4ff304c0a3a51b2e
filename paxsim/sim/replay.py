"""Replaying an exact interleaving (a scenario's ``[[schedule]]``) in the simulator.

The hosts, replicas and clients are the simulator's own; only the network is
different: :class:`ScheduledNetwork` delivers nothing and fires no timer by
itself. Messages wait in flight and timers wait until a step of the schedule
delivers, drops or duplicates the one it names, fires the timer it names at the
time it is due, or crashes or recovers a server. A step that cannot be carried
out (the message is not in flight, the timer is not due then) stops the replay
with :class:`ReplayError`: the schedule does not belong to this protocol.

Liveness is not judged on a replay (the schedule ends where it ends).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Callable, Optional

import simpy

from ..history import FinalWorld, History
from ..interleaving import MESSAGE_STEPS, Step, message_key
from ..types import Message, ProcessId
from . import trace as T
from .host import Host
from .world import World


class ReplayError(RuntimeError):
    """A schedule step that this run cannot carry out."""


class _Fired:
    """What a timer callback receives: an object whose ``_value`` is its value."""

    __slots__ = ("_value",)

    def __init__(self, value: Any) -> None:
        self._value = value


class ScheduledNetwork:
    """The network of a replay: the same interface hosts and clients use, no
    delivery or timer of its own (see the module's docstring)."""

    def __init__(self, env: simpy.Environment, trace: Optional[T.Trace]) -> None:
        self.env = env
        self.trace = trace
        self.nodes: dict[ProcessId, Any] = {}
        self.inflight: list[tuple[ProcessId, ProcessId, int, Message]] = []
        self.timers: list[tuple[float, ProcessId, Callable, Any]] = []
        self.next_mid = 0
        self.ticks = 0
        self.logs: dict[str, int] = {}
        self.last_fault_time = 0.0
        self.sent: dict[str, int] = defaultdict(int)
        self.dropped: dict[str, int] = defaultdict(int)
        self.duplicated: dict[str, int] = defaultdict(int)
        self.delivered: dict[str, int] = defaultdict(int)

    def add_node(self, node: Any) -> None:
        self.nodes[node.pid] = node

    def set_link(self, src: ProcessId, dst: ProcessId, link: Any) -> None:
        """Links are not used: every delivery is a step of the schedule."""

    def dispose(self) -> None:
        """Done with this network (see Network.dispose): drop the nodes, which point
        back at it, and what is still in flight or set."""
        self.nodes.clear()
        self.inflight.clear()
        self.timers.clear()

    def position(self) -> int:
        if self.trace is not None:
            return len(self.trace.events)
        self.ticks += 1
        return self.ticks

    # ---- what hosts and clients call ------------------------------------------------
    def send(self, src: ProcessId, dst: ProcessId, msg: Message) -> None:
        mid = self.next_mid
        self.next_mid = mid + 1
        self.sent[msg.kind] += 1
        if self.trace is not None:
            self.trace.events.append((self.env.now, T.SEND, src, dst, mid, msg))
        self.inflight.append((src, dst, mid, msg))

    def broadcast(self, src: ProcessId, dsts: tuple[ProcessId, ...], msg: Message) -> None:
        for dst in dsts:
            self.send(src, dst, msg)

    def later(self, delay: float, callback: Callable, value: Any) -> None:
        owner = getattr(callback, "__self__", None)
        self.timers.append((self.env.now + delay, getattr(owner, "pid", ""), callback, value))

    def timer(self, delay: float, host: Host, name: str, gen: int) -> None:
        self.timers.append((self.env.now + delay, host.pid, host, (name, gen)))

    # ---- what the schedule does -------------------------------------------------------
    def _find(self, step: Step) -> int:
        for i, (src, dst, _mid, msg) in enumerate(self.inflight):
            if src == step.src and dst == step.dst and message_key(msg) == step.msg:
                return i
        in_flight = "; ".join(f"{s}->{d} {message_key(m)}" for s, d, _, m in self.inflight) or "nothing"
        raise ReplayError(f"t={step.at:g}: {step.src}->{step.dst} {step.msg} is not in flight (in flight: {in_flight})")

    def carry_out(self, step: Step) -> None:
        now = self.env.now
        if step.kind in MESSAGE_STEPS:
            i = self._find(step)
            src, dst, mid, msg = self.inflight[i]
            if step.kind == "duplicate":
                self.duplicated[msg.kind] += 1
                if self.trace is not None:
                    self.trace.events.append((now, T.DUPLICATE, src, dst, mid, msg))
                self.inflight.insert(i + 1, self.inflight[i])
                return
            del self.inflight[i]
            node = self.nodes[dst]
            if step.kind == "drop" or not node.up:
                self._drop(now, src, dst, mid, msg, "scheduled" if step.kind == "drop" else "crashed")
                return
            self.delivered[msg.kind] += 1
            if self.trace is not None:
                self.trace.events.append((now, T.DELIVER, src, dst, mid, msg))
            node.receive(src, msg)
        elif step.kind == "timer":
            self._fire(step)
        elif step.kind == "crash":
            self.nodes[step.process].crash()
        else:
            self.nodes[step.process].recover()

    def _fire(self, step: Step) -> None:
        node = self.nodes.get(step.process)
        now = self.env.now
        for k, (due, owner, callback, value) in enumerate(self.timers):
            if owner != step.process or abs(due - now) > 1e-9 or not self._current(node, step.timer, value):
                continue
            del self.timers[k]
            if isinstance(callback, Host):
                callback.fire(*value)
            else:
                callback(_Fired(value))
            return
        raise ReplayError(f"t={step.at:g}: {step.process} has no timer {step.timer!r} due then")

    @staticmethod
    def _current(node: Any, name: str, value: Any) -> bool:
        """Whether a held timer is the live one named ``name`` (not reset or cancelled)."""
        if isinstance(node, Host):
            return node.up and value[0] == name and node.timers.get(name) == value[1]
        return name == "retry" and value is None  # a client's resend timer

    def _drop(self, now: float, src, dst, mid: int, msg: Message, reason: str) -> None:
        self.dropped[msg.kind] += 1
        if self.trace is not None:
            self.trace.add(now, T.DROP, src, dst, mid, {"type": msg.kind, "label": msg.label(), "reason": reason,
                                                        **msg.fields()})


class ReplayWorld(World):
    """A world that carries out a scenario's schedule step by step (SimPy's clock
    set to each step's time): the simulator's hosts and clients, on a
    :class:`ScheduledNetwork`. With per-process clocks the trace is drawn at the
    latest clock so far (so that it never goes back); replicas and clients see
    their own."""

    def make_network(self) -> "ScheduledNetwork":
        return ScheduledNetwork(self.env, self.trace)

    def run(self, until: Optional[float] = None) -> History:
        sc = self.scenario
        for pid in sc.servers:
            self.hosts[pid].start()
        for c in self.clients:
            c.start()

        # Each step happens at its own time: the clock of the process that acts (the
        # receiver of a message, the owner of a timer, the server that crashes or
        # recovers). With one clock (every schedule but those of `paxsim check
        # --clocks per-process`) these times never go back. Nothing else is
        # scheduled (this network keeps every timer), so the replay sets SimPy's
        # clock itself instead of waiting for it.
        # The history's records get the latest clock so far, not the acting process's
        # own: real time is judged on them, and it must follow the schedule's order
        # (as `paxsim check` records them).
        end = 0.0
        h = self.history
        records = (h.invocations, h.replies, h.executions)
        for step in sc.schedule:
            self.env._now = step.at
            if step.at >= end:  # (with one clock, always)
                self.net.carry_out(step)
                end = step.at
                continue
            sizes = [len(r) for r in records]
            self.net.carry_out(step)
            for lst, k in zip(records, sizes):
                for j in range(k, len(lst)):
                    lst[j] = lst[j]._replace(time=end)
        self.env._now = end
        if self.trace is not None:
            shown = 0.0
            for k, event in enumerate(self.trace.events):  # drawn at the latest clock so far
                if event[0] < shown:
                    self.trace.events[k] = (shown,) + event[1:]
                else:
                    shown = event[0]
            self.trace.add(end, T.END)
        self.history.final = FinalWorld(
            end_time=end, servers=sc.servers, up=tuple(s for s in sc.servers if self.hosts[s].up),
            quorum=self.protocol.quorum(len(sc.servers)), settled=False, catch_up=self.protocol.catch_up,
        )
        return self.history
