"""Failure detection by timeouts, as section 5 of the tutorial describes it.

A server is *suspected* when nothing has arrived from it for ``timeout`` time
units. Every message counts as a sign of life; heartbeats keep quiet links alive.
Nothing here is an oracle: a partition or a slow link makes a live server look
dead (false suspicion), which is exactly what breaks the fallback stages.

Pure: the owner feeds it ``heard(now, src)`` and asks ``suspects(now, peer)``;
the owner sets the timers (names ``HEARTBEAT_TIMER`` and ``CHECK_TIMER``).
"""

from __future__ import annotations

from typing import Iterable

from ..types import Effect, Heartbeat, ProcessId, Round, Send, SetTimer

HEARTBEAT_TIMER = "heartbeat"
CHECK_TIMER = "suspect-check"


class Detector:
    __slots__ = ("peers", "timeout", "interval", "last")

    def __init__(self, peers: Iterable[ProcessId], timeout: float, interval: float, now: float = 0.0):
        self.peers = tuple(peers)
        self.timeout = timeout
        self.interval = interval
        self.last = {p: now for p in self.peers}

    def heard(self, now: float, src: ProcessId) -> None:
        if src in self.last:
            self.last[src] = now

    def suspects(self, now: float, peer: ProcessId) -> bool:
        return now - self.last[peer] >= self.timeout

    def alive(self, now: float) -> list[ProcessId]:
        """Peers not suspected, in the order given at construction."""
        return [p for p in self.peers if now - self.last[p] < self.timeout]

    def start(self) -> list[Effect]:
        return [SetTimer(HEARTBEAT_TIMER, self.interval), SetTimer(CHECK_TIMER, self.interval)]

    def beat(self, rnd: Round = None, upto: int = 0) -> list[Effect]:
        """Heartbeats to every peer, and the next heartbeat timer."""
        hb = Heartbeat(rnd, upto)
        out: list[Effect] = [Send(p, hb) for p in self.peers]
        out.append(SetTimer(HEARTBEAT_TIMER, self.interval))
        return out
