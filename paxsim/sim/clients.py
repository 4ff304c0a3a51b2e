"""Simulated clients.

A client sends its requests one at a time (closed loop): request k goes out at its
scheduled time, or as soon as request k-1 is answered, whichever is later. It sends
to every server (``mode="all"``) or to one server (``mode="one"``), and resends an
unanswered request after ``retry`` time units: to the same servers in "all" mode,
to the next server in "one" mode. Every reply that arrives is recorded in the
history, including late and duplicate ones: the checker judges all a client saw.
"""

from __future__ import annotations

from array import array
from typing import Optional, Sequence

import simpy
from simpy.events import Timeout

from ..history import History, Invocation, Observed
from ..types import ClientReply, ClientRequest, Message, ProcessId, Request
from . import trace as T
from .network import Network

tuple_new = tuple.__new__  # builds a NamedTuple without its generated __new__ (the hot path)


class Client:
    def __init__(self, env: simpy.Environment, net: Network, history: History, trace: Optional[T.Trace],
                 pid: ProcessId, requests: Sequence, targets: Sequence[ProcessId],
                 mode: str, retry: Optional[float], metrics: "ClientMetrics"):
        self.env = env
        self.net = net
        self.history = history
        self.trace = trace
        self.pid = pid
        self.requests = requests    # of RequestSpec-like items (.id, .at); request k gets seq k
        self.targets = tuple(targets)
        self.mode = mode
        self.retry = retry
        self.metrics = metrics
        self.up = True
        self.replica = None         # not a server: the network calls receive()
        self.next = 0               # how many requests were taken so far (the seq of the current one)
        self.specs = iter(requests)  # the requests not taken yet (a RequestRange makes them on demand)
        self.current: Optional[Request] = None
        self.sent_at = 0.0
        self.target = 0             # in "one" mode: index into targets
        self.attempt = 0            # resends of the current request so far
        self.last_send = 0.0
        self.retry_armed = False    # one retry timer per client, not one per request
        self.invoked = False        # the current request has gone out
        self.sends: list[float] = []  # when the current request was sent (first send, resends)

    def start(self) -> None:
        self._schedule_next()

    def _schedule_next(self) -> None:
        spec = next(self.specs, None)
        if spec is None:
            self.current = None
            return
        self.next = seq = self.next + 1
        request, at = Request(spec.id, self.pid, seq), spec.at
        self.current = request
        self.invoked = False
        self.attempt = 0
        delay = at - self.env._now
        if delay > 0.0:
            self.net.later(delay, self._at_time, request)
        else:
            self._invoke(request)  # closed loop: the next request goes out at once

    def _at_time(self, ev) -> None:
        if ev._value is self.current:
            self._invoke(ev._value)

    def _invoke(self, request: Request) -> None:
        now = self.env._now
        self.invoked = True
        self.sent_at = self.last_send = now
        if self.trace is not None:
            pos = len(self.trace.events)  # self.net.position(), inlined
            self.trace.add(now, T.INVOKE, self.pid, info={"m": request.id})
        else:
            net = self.net
            pos = net.ticks = net.ticks + 1
        self.history.invocations.append(tuple_new(Invocation, (now, self.pid, request, pos)))  # Invocation(...)
        self.metrics.invoked(now)
        self.sends = [now]
        self._transmit(request)
        if self.retry and not self.retry_armed:
            self.retry_armed = True
            self.net.later(self.retry, self._retry, None)

    def _transmit(self, request: Request) -> None:
        msg = ClientRequest(request)
        if self.mode == "all":
            for s in self.targets:
                self.net.send(self.pid, s, msg)
        else:
            self.net.send(self.pid, self.targets[self.target], msg)

    def _retry(self, ev) -> None:
        """Resend the current request if it went unanswered for ``retry`` since its last send."""
        self.retry_armed = False
        request = self.current
        if request is None or not self.invoked:
            return  # idle, or the next request is not due yet: its invocation re-arms
        now = self.env._now
        due = self.last_send + self.retry
        if now >= due - 1e-9:
            self.attempt += 1
            if self.mode == "one":
                self.target = (self.target + 1) % len(self.targets)
            if self.trace is not None:
                self.trace.add(now, T.INVOKE, self.pid, info={"m": request.id, "retry": self.attempt})
            self._transmit(request)
            self.sends.append(now)
            self.last_send = now
            due = now + self.retry
        self.retry_armed = True
        self.net.later(due - now, self._retry, None)

    def tries_since(self, t: float) -> int:
        """How many times the current request was sent after ``t``."""
        return sum(1 for x in self.sends if x > t)

    def receive(self, src: ProcessId, msg: Message) -> None:
        if type(msg) is not ClientReply:
            return
        now = self.env._now
        # the deliver event of this reply is the last trace event; without a trace, a counter
        if self.trace is not None:
            pos = len(self.trace.events) - 1
        else:  # self.net.position(), inlined
            net = self.net
            pos = net.ticks = net.ticks + 1
        self.history.replies.append(tuple_new(Observed, (now, self.pid, msg.request, msg.state, src, pos)))  # Observed(...)
        req = msg.request
        if req is self.current or (self.current is not None and req.id == self.current.id):
            if self.mode == "one":
                # stick with the server that answered
                try:
                    self.target = self.targets.index(src)
                except ValueError:
                    pass
            self.metrics.completed(now, now - self.sent_at)
            self.current = None
            self._schedule_next()


class ClientMetrics:
    """Streaming client-side metrics: latencies, completions, unavailability.

    Every method is O(1) (it runs once per invocation or completion). Latencies are
    kept in an ``array('d')`` (8 bytes each) so exact percentiles can be taken at
    the end.

    Unavailability, precisely. Count as *pending* every request invoked (its first
    send) and not yet completed (its client's first matching reply), over all
    clients. A *gap* is a maximal stretch of simulated time during which at least
    one request is pending and no request completes. It starts at the later of
    (a) the last completion and (b) the invocation that took the number of pending
    requests from 0 to 1; it ends at the next completion, or at the end of the run
    (``close``) if requests are still pending then. Every request's latency thus
    lies inside one or more gaps, so short gaps are ordinary latency, not outages:

    - ``max_gap``: the longest gap of any length;
    - ``outages``: how many gaps are longer than ``threshold``;
    - ``unavailable``: the total length of those gaps, each counted in full.

    Example (threshold 10): a request invoked at 0 completes at 2 (gap 2, not
    counted); another invoked at 5 completes at 25 (gap 20: one outage, 20 units
    unavailable); with requests pending from 30 until the run ends at 100 and no
    completion, a gap of 70 is added: ``unavailable`` 90, ``outages`` 2.
    """

    __slots__ = ("latencies", "pending", "invocations", "completions", "unavailable", "_since",
                 "last_completion", "first_invocation", "threshold", "outages", "max_gap")

    THRESHOLD = 10.0  # default: a few round trips at the default delays

    def __init__(self, threshold: Optional[float] = None) -> None:
        self.latencies = array("d")
        self.pending = 0
        self.invocations = 0
        self.completions = 0
        self.unavailable = 0.0
        self._since: Optional[float] = None  # start of the current gap (None: nothing pending)
        self.last_completion = 0.0
        self.first_invocation: Optional[float] = None
        self.threshold = self.THRESHOLD if threshold is None else threshold
        self.outages = 0
        self.max_gap = 0.0

    def invoked(self, now: float) -> None:
        self.invocations += 1
        self.pending += 1
        if self._since is None:
            self._since = now
            if self.first_invocation is None:
                self.first_invocation = now

    def _gap(self, gap: float) -> None:
        if gap > self.max_gap:
            self.max_gap = gap
        if gap > self.threshold:
            self.unavailable += gap
            self.outages += 1

    def completed(self, now: float, latency: float) -> None:
        self.completions += 1
        self.last_completion = now
        self.pending -= 1
        self.latencies.append(latency)
        since = self._since
        if since is not None:  # _gap, inlined: this runs once per completed request
            gap = now - since
            if gap > self.max_gap:
                self.max_gap = gap
            if gap > self.threshold:
                self.unavailable += gap
                self.outages += 1
        self._since = now if self.pending else None

    def close(self, now: float) -> None:
        if self._since is not None:
            self._gap(now - self._since)
            self._since = None
