"""Simulated clients.

A client sends its requests one at a time (closed loop): request k goes out at its
scheduled time, or as soon as request k-1 is answered, whichever is later. It sends
to every server (``mode="all"``) or to one server (``mode="one"``), and resends an
unanswered request after ``retry`` time units: to the same servers in "all" mode,
to the next server in "one" mode. Every reply that arrives is recorded in the
history, including late and duplicate ones: the checker judges all a client saw.
"""

from __future__ import annotations

from typing import Optional, Sequence

import simpy
from simpy.events import Timeout

from ..history import History, Invocation, Observed
from ..types import ClientReply, ClientRequest, Message, ProcessId, Request
from . import trace as T
from .network import Network


class Client:
    def __init__(self, env: simpy.Environment, net: Network, history: History, trace: Optional[T.Trace],
                 pid: ProcessId, requests: Sequence[tuple[Request, float]], targets: Sequence[ProcessId],
                 mode: str, retry: Optional[float], metrics: "ClientMetrics"):
        self.env = env
        self.net = net
        self.history = history
        self.trace = trace
        self.pid = pid
        self.requests = list(requests)
        self.targets = tuple(targets)
        self.mode = mode
        self.retry = retry
        self.metrics = metrics
        self.up = True
        self.next = 0               # index of the next request to send
        self.current: Optional[Request] = None
        self.sent_at = 0.0
        self.target = 0             # in "one" mode: index into targets
        self.attempt = 0
        self.answered: set[str] = set()

    def start(self) -> None:
        self._schedule_next()

    def _schedule_next(self) -> None:
        if self.next >= len(self.requests):
            self.current = None
            return
        request, at = self.requests[self.next]
        self.next += 1
        self.current = request
        delay = max(0.0, at - self.env.now)
        Timeout(self.env, delay, (request, 0)).callbacks.append(self._send)

    def _send(self, ev: Timeout) -> None:
        request, attempt = ev._value
        if self.current is not request or attempt != self.attempt:
            return
        now = self.env.now
        if attempt == 0:
            self.sent_at = now
            pos = -1
            if self.trace is not None:
                pos = self.trace.add(now, T.INVOKE, self.pid, info={"m": request.id})
            self.history.invocations.append(Invocation(now, self.pid, request, pos))
            self.metrics.invoked(now)
        else:
            if self.mode == "one":
                self.target = (self.target + 1) % len(self.targets)
            if self.trace is not None:
                self.trace.add(now, T.INVOKE, self.pid, info={"m": request.id, "retry": attempt})
        msg = ClientRequest(request)
        if self.mode == "all":
            for s in self.targets:
                self.net.send(self.pid, s, msg)
        else:
            self.net.send(self.pid, self.targets[self.target], msg)
        if self.retry:
            self.attempt = attempt + 1
            Timeout(self.env, self.retry, (request, attempt + 1)).callbacks.append(self._send)

    def receive(self, src: ProcessId, msg: Message) -> None:
        if type(msg) is not ClientReply:
            return
        now = self.env.now
        self.history.replies.append(Observed(now, self.pid, msg.request, msg.state, src,
                                             len(self.trace.events) - 1 if self.trace is not None else -1))
        req = msg.request
        if req is self.current or (self.current is not None and req.id == self.current.id):
            if self.mode == "one":
                # stick with the server that answered
                try:
                    self.target = self.targets.index(src)
                except ValueError:
                    pass
            self.metrics.completed(now, now - self.sent_at)
            self.attempt = 0
            self.current = None
            self._schedule_next()


class ClientMetrics:
    """Streaming client-side metrics: latencies and unavailable time."""

    __slots__ = ("latencies", "pending", "invocations", "completions", "unavailable", "_since", "last_completion")

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.pending = 0
        self.invocations = 0
        self.completions = 0
        self.unavailable = 0.0
        self._since: Optional[float] = None  # time since when requests are pending with none completing
        self.last_completion = 0.0

    def invoked(self, now: float) -> None:
        self.invocations += 1
        self.pending += 1
        if self._since is None:
            self._since = now

    def completed(self, now: float, latency: float) -> None:
        self.completions += 1
        self.last_completion = now
        self.pending -= 1
        self.latencies.append(latency)
        if self._since is not None:
            self.unavailable += now - self._since
        self._since = now if self.pending else None

    def close(self, now: float) -> None:
        if self._since is not None:
            self.unavailable += now - self._since
            self._since = None
