"""What a run leaves for the checker: client invocations and replies, replica
executions, and how the world looked when the run ended.

The simulator appends to a :class:`History` as the run goes; the checker reads it.
Neither side needs the other: the checker never sees a protocol or the network,
only these records. ``pos`` fields are positions in the run's trace (the index of
the trace event that produced the record), so that a violation can point there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple, Optional, Protocol

from .types import ProcessId, Request, State


# The three record types are immutable named tuples: a run makes one per request,
# reply and execution, so they are built on the hot path (tuple-fast, unlike a
# frozen dataclass) while reading like one (``rec.time``, ``rec.state``).

class Invocation(NamedTuple):
    """``client`` sent ``request`` (its first send; resends are not new invocations)."""

    time: float
    client: ProcessId
    request: Request
    pos: int = -1


class Observed(NamedTuple):
    """A reply that reached a client: ``client`` saw ``state`` for ``request``."""

    time: float
    client: ProcessId
    request: Request
    state: State
    server: ProcessId
    pos: int = -1

    def describe(self) -> str:
        return (
            f"{self.client} saw <{self.state.label()}> for {self.request.id}"
            f" from {self.server} at t={self.time:g}"
        )


class Execution(NamedTuple):
    """Replica ``replica`` executed ``request`` as number ``state.length``."""

    time: float
    replica: ProcessId
    request: Request
    state: State
    pos: int = -1


@dataclass(slots=True)
class FinalWorld:
    """The world at the end of the run, for judging liveness.

    ``up``: servers that are up. ``groups``: a partition still in force at the end,
    as groups of processes that reach each other (a process in no group reaches
    everybody); ``cut``: ordered pairs ``(src, dst)`` whose link delivers nothing at
    the end (an active partition separates them, or the link loses every message).
    ``quorum``: how many servers the protocol needs, up and connected to each
    other and to the client, to answer a request. ``settled``: whether the run went
    on for ``settle`` after its last fault (otherwise liveness is not judged).

    Per client, when the simulator knows them (else every client may contact
    every server, kept resending, over lossless links): ``contacts``, the servers
    it may contact; ``tries``, its unanswered request's id and how many times it
    sent it at or after ``last_fault`` (crashes, recoveries, partitions, heals and
    targeted faults); ``loss``, the highest loss of the links it needs that are not
    cut (to, from and among the servers). ``server_loss``: the highest loss of the
    links among servers that are not cut; ``round_trip``: twice the slowest mean
    delay among them (0: unknown).
    """

    end_time: float
    servers: tuple[ProcessId, ...]
    up: tuple[ProcessId, ...]
    groups: tuple[tuple[ProcessId, ...], ...] = ()
    quorum: int = 1
    settled: bool = True
    catch_up: bool = True
    cut: frozenset = frozenset()
    contacts: dict = field(default_factory=dict)
    tries: dict = field(default_factory=dict)
    loss: dict = field(default_factory=dict)
    last_fault: float = 0.0
    server_loss: float = 0.0
    round_trip: float = 0.0

    def connected(self, a: ProcessId, b: ProcessId) -> bool:
        """Whether ``a`` and ``b`` exchange messages both ways at the end."""
        if (a, b) in self.cut or (b, a) in self.cut:
            return False
        ga = gb = None
        for i, g in enumerate(self.groups):
            if a in g:
                ga = i
            if b in g:
                gb = i
        return ga is None or gb is None or ga == gb

    def reachable_servers(self, client: ProcessId) -> list[ProcessId]:
        """The largest set of up servers that reach each other and include one the
        client may contact and reaches (each server in turn as that one; members
        are added in server order when connected to all members so far)."""
        contacts = self.contacts.get(client) or self.servers
        up = [s for s in self.servers if s in self.up]
        best: list[ProcessId] = []
        for s in up:
            if s not in contacts or not self.connected(client, s):
                continue
            comp = [s]
            for t in up:
                if t != s and all(self.connected(t, u) for u in comp):
                    comp.append(t)
            if len(comp) > len(best):
                best = comp
        return best


class RecordSink(Protocol):
    """What a streaming history hands its records to (a checker that judges them as
    they come, e.g. :class:`paxsim.checker.StreamChecker`): three sinks with an
    ``append(record)`` method, and the verdict once the run is over."""

    invocations: Any
    replies: Any
    executions: Any

    def verdict(self, final: Optional["FinalWorld"]) -> Any: ...


@dataclass(slots=True)
class History:
    """The records of a run, in lists; or, for a *streaming* history, sinks that
    hand each record to a :class:`~paxsim.streaming.StreamChecker` as it is
    appended and keep nothing (``stream`` is then that checker, and
    ``paxsim.checker.check`` returns its verdict)."""

    invocations: list[Invocation] = field(default_factory=list)
    replies: list[Observed] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    final: Optional[FinalWorld] = None
    stream: Optional[RecordSink] = None

    @classmethod
    def streaming(cls, checker: RecordSink) -> "History":
        """A history whose records go straight to ``checker`` (none are kept)."""
        return cls(checker.invocations, checker.replies, checker.executions, stream=checker)
