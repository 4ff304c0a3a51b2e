"""A protocol written outside paxsim: only the first server serves.

Clients send every request to every server; S1 executes it and replies, the
other servers ignore it. Safe under any schedule, because S1 persists what it
executed *before* it replies, so a crash and recovery cannot make it forget an
answered request. Not fault tolerant: while S1 is down nobody answers
(``paxsim fuzz --liveness`` finds that at once).

    PYTHONPATH=. .venv/bin/paxsim fuzz --protocol examples.leader_only:LeaderOnly --budget-seconds 10

Everything a replica needs is in paxsim.types (messages, effects, states) and
paxsim.protocols.base.Replica (the interface). A replica never touches a clock,
a random generator, the network or a file: it gets inputs with the time ``now``
and returns effects as data.
"""

from __future__ import annotations

from paxsim.protocols.base import Replica
from paxsim.types import EMPTY, ClientRequest, Execute, Persist, Reply


class LeaderOnly(Replica):
    name = "leader_only"
    client_mode = "all"      # clients send each request to every server
    catch_up = False         # followers never execute: do not judge them for lagging
    params = {}              # no parameters (scenario [params] are checked against this)
    message_kinds = ("REQ", "REPLY")   # it sends only replies (targeted faults are checked against this)

    @classmethod
    def quorum(cls, n: int) -> int:
        return 1             # S1 alone can answer

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        self.state = EMPTY   # the service's state: the requests executed, in order
        self.done = {}       # request id -> state reached when it was executed

    def on_message(self, now, src, msg):
        if type(msg) is not ClientRequest or self.pid != self.servers[0]:
            return []
        req = msg.request
        if req.id in self.done:                      # a resent request: answer again
            return [Reply(req, self.done[req.id])]
        self.state = self.state.then(req)
        self.done[req.id] = self.state
        return [
            Persist("state", self.state),            # first make it survive a crash,
            Persist("done", dict(self.done)),
            Execute(req, self.state),                # then record the execution
            Reply(req, self.state),                  # and only then answer
        ]

    def on_recover(self, now, stored):
        self.state = stored.get("state", EMPTY)
        self.done = dict(stored.get("done", {}))
        return []
