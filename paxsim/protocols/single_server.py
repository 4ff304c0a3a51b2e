"""Stage 1, *SingleServer* (Fig. 1): one server orders and executes requests.

The server executes each request on arrival, in arrival order, and replies with
its new state. A resent request is not executed twice: the server answers it
again with the state it reached when it executed it. Safe as long as the server
does not crash, and not fault tolerant: if the server crashes, nobody answers.

After a crash with recovery: nothing is persisted, so the server restarts with
the empty state and executes the next request as request 1 again. A client that
saw ``s^1`` before the crash and one that sees ``s^2`` after it observe a fork:
UNSAFE (as every stage before Paxos, which persists what it accepted).
"""

from __future__ import annotations

from ..types import EMPTY, ClientRequest, ClientReply, Effect, Execute, Message, ProcessId, Reply, Request, State
from .base import Replica


class Service:
    """The replicated service: a deterministic state machine over requests.

    Its state is the sequence of executed requests (a :class:`~paxsim.types.State`).
    ``done`` remembers, per request id, the state reached when it was executed, so a
    duplicate is answered, never executed again.
    """

    __slots__ = ("state", "done")

    def __init__(self) -> None:
        self.state: State = EMPTY
        self.done: dict[str, State] = {}

    def execute(self, request: Request) -> list[Effect]:
        """Execute ``request`` (once) and reply; a duplicate is only answered."""
        seen = self.done.get(request.id)
        if seen is not None:
            return [Reply(request, seen)]
        self.state = self.state.then(request)
        self.done[request.id] = self.state
        return [Execute(request, self.state), Reply(request, self.state)]

    def executed(self, request_id: str) -> bool:
        return request_id in self.done


class SingleServer(Replica):
    name = "single_server"
    message_kinds = ("REQ", "REPLY")  # what it may send (targeted faults are checked against it)
    client_mode = "all"
    max_servers = 1

    @classmethod
    def quorum(cls, n: int) -> int:
        return 1

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        self.service = Service()

    def on_message(self, now: float, src: ProcessId, msg: Message) -> list[Effect]:
        if type(msg) is ClientRequest:
            return self.service.execute(msg.request)
        return []

    def inspect(self, now: float) -> dict:
        """What this server knows, for the viewer (see :mod:`paxsim.protocols.base`)."""
        return {"executed": self.service.state.label()}
