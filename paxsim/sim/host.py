"""A host runs one replica: it feeds it inputs and carries out its effects.

This is the only seam between protocol code and SimPy. A crash drops the replica
instance and its timers (volatile state is gone); a recovery builds a fresh
instance and hands it what it persisted.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence

import simpy

from ..history import Execution, History
from ..protocols.base import Replica
from ..types import Broadcast, CancelTimer, ClientReply, Erase, Execute, Log, Message, Persist, ProcessId, Reply, Send, SetTimer
from . import trace as T
from .network import Network

tuple_new = tuple.__new__


class Host:
    def __init__(self, env: simpy.Environment, net: Network, history: History, trace: Optional[T.Trace],
                 pid: ProcessId, factory: Callable[[], Replica]):
        self.env = env
        self.net = net
        self.history = history
        self.trace = trace
        self.pid = pid
        self.factory = factory
        self.replica: Optional[Replica] = None
        self.up = False
        self.timers: dict[str, int] = {}
        self.timer_gen = 0
        self.store: dict[str, Any] = {}
        self.crashes = 0
        self.executed = 0  # executions since the start (metrics)

    # ---- lifecycle ----------------------------------------------------------------------
    def start(self) -> None:
        self.replica = self.factory()
        self.up = True
        self.apply(self.replica.on_start(self.env.now))

    def crash(self) -> None:
        if not self.up:
            return
        self.up = False
        self.replica = None
        self.timers.clear()
        self.crashes += 1
        self.net.last_fault_time = self.env.now
        if self.trace is not None:
            self.trace.add(self.env.now, T.CRASH, self.pid)

    def recover(self) -> None:
        if self.up:
            return
        self.replica = self.factory()
        self.up = True
        self.net.last_fault_time = self.env.now
        if self.trace is not None:
            self.trace.add(self.env.now, T.RECOVER, self.pid)
        self.apply(self.replica.on_recover(self.env.now, dict(self.store)))

    # ---- inputs -------------------------------------------------------------------------
    def receive(self, src: ProcessId, msg: Message) -> None:
        effects = self.replica.on_message(self.env._now, src, msg)
        if effects:  # most learns change nothing visible: skip the call
            self.apply(effects)

    def fire(self, name: str, gen: int) -> None:
        """Timer ``name``, set as generation ``gen``, is due: the replica's ``on_timer``,
        unless it was cancelled or reset since, or set before a crash (a crash clears
        the timers, and generations only grow, so an older one never matches)."""
        timers = self.timers
        if timers.get(name) != gen:
            return
        del timers[name]
        if self.trace is not None:
            self.trace.add(self.env.now, T.TIMER, self.pid, info={"timer": name})
        effects = self.replica.on_timer(self.env._now, name)
        if effects:
            self.apply(effects)

    # ---- effects ------------------------------------------------------------------------
    def apply(self, effects: Sequence[Any]) -> None:
        net = self.net
        pid = self.pid
        # checks ordered by how often paxos emits each effect; only what goes out
        # through the network can crash this host (a targeted fault) midway
        for e in effects:
            t = type(e)
            if t is Broadcast:
                net.broadcast(pid, e.dsts, e.msg)
                if not self.up:
                    break  # crashed in the middle of the step: the rest never happens
            elif t is Persist:
                self.store[e.key] = e.value
            elif t is Execute:
                self.executed += 1
                now = self.env._now
                if self.trace is not None:
                    pos = net.position()
                    self.trace.add(now, T.EXECUTE, pid,
                                   info={"m": e.request.id, "state": e.state.label(), "len": e.state.length})
                else:
                    pos = net.ticks = net.ticks + 1  # what net.position() does without a trace
                # Execution(now, pid, ...), built as the tuple it is (its generated __new__ costs more)
                self.history.executions.append(tuple_new(Execution, (now, pid, e.request, e.state, pos)))
            elif t is SetTimer:
                gen = self.timer_gen = self.timer_gen + 1
                self.timers[e.name] = gen
                net.timer(e.delay, self, e.name, gen)
            elif t is Send:
                net.send(pid, e.dst, e.msg)
                if not self.up:
                    break
            elif t is Reply:
                req = e.request
                net.send(pid, req.client, ClientReply(req, e.state))
                if not self.up:
                    break
            elif t is CancelTimer:
                self.timers.pop(e.name, None)
            elif t is Log:
                logs = self.net.logs
                logs[e.event] = logs.get(e.event, 0) + 1
                if self.trace is not None:
                    self.trace.add(self.env.now, T.LOG, pid, info={"event": e.event, "info": e.info})
            elif t is Erase:
                store = self.store
                for key in e.keys:
                    store.pop(key, None)
            else:
                raise TypeError(f"{pid}: unknown effect {e!r}")
