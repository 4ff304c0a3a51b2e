"""The explorer's world: every replica, its stable storage and timers, the messages
in flight, the clients, and what the checker needs of the past, as one value.

The replicas are the protocol's own classes, driven exactly as the simulator's
hosts drive them (``on_start``, ``on_message``, ``on_timer``, ``on_recover`` and
their effects), so a counterexample found here replays in the simulator
(:mod:`paxsim.sim.replay`). Nothing here imports SimPy.

Time. By default there is one clock, as in the simulator, and timers are exact
as there: a timer set at ``t`` with delay ``d`` fires at ``t + d``, and time moves
on only when the timer due first fires (ties in any order). Messages are
delivered at the current time, after any delay the network likes: a message may
wait across any number of timer firings, be delivered to a crashed process (it
is then lost, as in the simulator), or stay in flight until it recovers. This is
the simulator's model with every delay chosen by the search instead of a random
stream. With ``clocks="per-process"`` each process has a clock of its own, which
moves on only when one of its own timers fires (see :meth:`System._at`).

Network. By default any message in flight may be delivered next. With a bound on
delays (``delays=k``) messages arrive in the order they were sent and before any
timer fires, but for ``k`` per path that are held back and arrive late, when the
network is otherwise quiet, or never (see :meth:`System._fifo_successors`). There,
a partition (``cuts=p``) cuts one server off from every other process for a while:
each message to or from it that reaches the head of the queue is lost, until the
cut heals (see :meth:`System._cut_off`). One cut stands for many drops, as in the
tutorial's figures ("S1 is cut off"), and costs the search one choice, not one per
message.

Clients behave as the simulator's closed-loop clients with every request due at
time 0: a client sends its first request at the start and its next one as soon as
the current one is answered; it resends after ``retry`` time units (to the next
server, in ``"one"`` mode) if ``retry`` is not 0.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Optional, Sequence

from ..history import Execution, History, Invocation, Observed
from ..protocols.base import Replica
from ..types import (
    Broadcast, CancelTimer, ClientReply, ClientRequest, Erase, Execute, Log, Message, Persist, ProcessId,
    Reply, Request, Send, SetTimer, State,
)
from .freeze import clone, freeze

RETRY_TIMER = "retry"
"""The name of a client's resend timer in actions, paths and schedules."""

SENDING = (Send, Broadcast, Reply)
"""Effects that put messages in flight."""

DROPS, DUPS, CRASHES, RECOVERIES, TIMEOUTS, DELAYS, CUTS = range(7)
"""Positions in a state's ``used`` counts (along its path)."""


def spend(used: tuple, which: int) -> tuple:
    """``used`` with one more of ``which`` spent."""
    return used[:which] + (used[which] + 1,) + used[which + 1:]


# ------------------------------------------------------------------ settings ---

@dataclass(frozen=True)
class Bounds:
    """What makes the space finite. Every count is along one path."""

    drops: int = 1
    dups: int = 0
    crashes: int = 1
    recoveries: int = 1
    timeouts: int = 0          # timer firings of servers and clients together (as paxsim check)
    depth: Optional[int] = 60  # None: no depth bound (needs a time budget)
    network: str = "multiset"  # or "set": identical messages in flight are one
    delays: Optional[int] = None  # None: any order; k: in send order but for k messages held back
    clocks: str = "global"     # or "per-process": each process has a clock of its own
    cuts: int = 0              # with delays=k: times one server is cut off from every other process

    def to_json(self) -> dict[str, Any]:
        return {"drops": self.drops, "dups": self.dups, "crashes": self.crashes, "recoveries": self.recoveries,
                "timeouts": self.timeouts, "depth": self.depth, "network": self.network, "delays": self.delays,
                "clocks": self.clocks, "partitions": self.cuts}


@dataclass(frozen=True)
class Setup:
    """Who takes part: the protocol, its servers and parameters, the clients."""

    protocol: type
    servers: tuple[ProcessId, ...]
    clients: tuple[ProcessId, ...]
    requests: int                      # per client
    params: Mapping[str, Any]
    retry: float = 0.0                 # client resend interval (0: never)
    mode: str = "one"
    spread: bool = False               # "one" mode: may each client send first to any server? (else the first)
    firsts: tuple[int, ...] = ()       # "one" mode, without spread: each client's first server (default: the first)

    def request_id(self, client_index: int, k: int) -> str:
        """Request ``k`` (0-based) of client ``client_index``: m1, m2, ... across clients."""
        return f"m{client_index * self.requests + k + 1}"


# ------------------------------------------------------------------ clients ---

class ClientModel:
    """A closed-loop client, as :class:`paxsim.sim.clients.Client` behaves with
    every request due at time 0. Plain data: the explorer clones and freezes it."""

    __slots__ = ("pid", "index", "next", "current", "invoked", "target", "attempt", "last_send", "retry_due", "key",
                 "part")

    def __init__(self, pid: ProcessId, index: int) -> None:
        self.pid = pid
        self.index = index
        self.next = 0
        self.current: Optional[Request] = None
        self.invoked = False
        self.target = 0
        self.attempt = 0
        self.last_send = 0.0
        self.retry_due: Optional[float] = None
        self.key: Optional[tuple] = None  # frozen(), computed once (a changed client is a new copy)
        self.part = -1  # the number KeyParts gives frozen() (-1: not asked yet)

    def frozen(self) -> tuple:
        if self.key is None:
            self.key = (self.next, self.current, self.invoked, self.target, self.attempt, self.last_send,
                        self.retry_due)
        return self.key

    def copy(self) -> "ClientModel":
        c = ClientModel(self.pid, self.index)
        c.next, c.current, c.invoked, c.target = self.next, self.current, self.invoked, self.target
        c.attempt, c.last_send, c.retry_due = self.attempt, self.last_send, self.retry_due
        return c


# ------------------------------------------------------------------- states ---

class Action:
    """One step: ``kind`` is deliver, drop, duplicate, hold (the message is held
    back, with ``--max-delays``), timer, crash or recover; or ``start``, the
    first step of a path when clients choose their first server
    (``Setup.spread``: ``targets`` has each client's)."""

    __slots__ = ("kind", "src", "dst", "msg", "process", "timer", "time", "targets")

    def __init__(self, kind: str, *, src: ProcessId = "", dst: ProcessId = "", msg: Optional[Message] = None,
                 process: ProcessId = "", timer: str = "", time: float = 0.0, targets: tuple = ()) -> None:
        self.targets = targets
        self.kind = kind
        self.src = src
        self.dst = dst
        self.msg = msg
        self.process = process
        self.timer = timer
        self.time = time

    def __str__(self) -> str:
        if self.kind == "start":
            return "start: " + ", ".join(f"{c} sends first to {s}" for c, s in self.targets)
        if self.kind == "cut":
            return f"t={self.time:g} cut {self.process} off: {self.src}->{self.dst} {self.msg.label()} lost"
        if self.msg is not None:
            return f"t={self.time:g} {self.kind} {self.src}->{self.dst} {self.msg.label()}"
        if self.timer:
            return f"t={self.time:g} {self.process} timer {self.timer}"
        return f"t={self.time:g} {self.kind} {self.process}"


class Records:
    """The history of one path, as a linked list (states share their past)."""

    __slots__ = ("record", "parent")

    def __init__(self, record: Any, parent: Optional["Records"]) -> None:
        self.record = record
        self.parent = parent

    def history(self) -> History:
        items: list[Any] = []
        node: Optional[Records] = self
        while node is not None:
            items.append(node.record)
            node = node.parent
        items.reverse()
        h = History()
        for r in items:
            t = type(r)
            if t is Invocation:
                h.invocations.append(r)
            elif t is Observed:
                h.replies.append(r)
            elif t is Execution:
                h.executions.append(r)
        return h


class Server:
    """One server's slot: up or down, its replica's state (an interned id, see
    :class:`System`), its stable storage and its timers. Never changed once a
    state holds it: a step makes a new one."""

    __slots__ = ("up", "rid", "store", "timers", "key", "part")

    def __init__(self, up: bool, rid: int, store: dict, timers: dict) -> None:
        self.up = up
        self.rid = rid             # the replica's state: an index into System.replicas (-1: down)
        self.store = store         # key -> value (insertion order kept)
        self.timers = timers       # name -> deadline
        self.key: Optional[tuple] = None  # frozen(), computed once
        self.part = -1                    # the number KeyParts gives frozen() (-1: not asked yet)

    def frozen(self) -> tuple:
        if self.key is None:
            self.key = (self.rid, tuple(self.store.items()), tuple(sorted(self.timers.items())))
        return self.key


EMPTY_BAG: frozenset = frozenset()


class KeyParts:
    """What a search's keys share: a number per distinct server or client state
    (its frozen form, kept once), and one object per equal part of a key."""

    __slots__ = ("numbers", "objects")

    def __init__(self) -> None:
        self.numbers: dict = {}
        self.objects: dict = {}

    def number(self, part: Any) -> int:
        """The number of ``part``'s frozen form (a Server or ClientModel), remembered on it."""
        numbers = self.numbers
        n = part.part = numbers.setdefault(part.frozen(), len(numbers))
        return n

    def one(self, value: Any) -> Any:
        return self.objects.setdefault(value, value)


class XState:
    """One state of the world. Mutable only while the successor is being built."""

    __slots__ = ("now", "clocks", "servers", "clients", "inflight", "queue", "used", "summary", "records",
                 "parent", "action", "depth", "nrec", "judge", "cut")

    def __init__(self) -> None:
        self.now = 0.0                            # one clock (with per-process clocks: 0 between steps)
        self.clocks: tuple = ()                   # per-process clocks: servers', then clients'
        self.servers: list[Server] = []
        self.clients: list[ClientModel] = []
        self.inflight: dict[int, int] = {}        # message -> copies (held back, with --max-delays)
        self.queue: tuple = ()                    # with --max-delays: the rest of what is in flight, in send order
        # (a message in flight is an id: System.envs[id] is its (src, dst, msg))
        self.used = (0, 0, 0, 0, 0, 0, 0)         # drops, dups, crashes, recoveries, timeouts, delays, cuts
        self.cut = -1                             # the server cut off from everybody (with Bounds.cuts), or -1
        self.summary: tuple = (frozenset(), frozenset(), ())  # see System._record
        self.records: Optional[Records] = None
        self.parent: Optional[XState] = None
        self.action: Optional[Action] = None
        self.depth = 0
        self.nrec = 0
        self.judge = False                        # a reply or execution was recorded: judge it

    def key(self, parts: Optional["KeyParts"] = None) -> tuple:
        """Exact identity: everything that decides what can happen next and how it
        will be judged (not the path that led here). With ``parts`` (the search's),
        each server's and client's frozen form is a number, and equal parts of keys
        are one object: a search keeps every key, and hashes one per state."""
        if parts is None:
            return (self.now, self.clocks, tuple(map(Server.frozen, self.servers)),
                    tuple(map(ClientModel.frozen, self.clients)), frozenset(self.inflight.items()), self.queue,
                    self.used, self.summary, self.cut)
        number = parts.number
        servers = tuple([s.part if s.part >= 0 else number(s) for s in self.servers])
        clients = tuple([c.part if c.part >= 0 else number(c) for c in self.clients])
        one = parts.one
        bag = one(frozenset(self.inflight.items())) if self.inflight else EMPTY_BAG
        queue = one(self.queue) if self.queue else ()
        return (self.now, self.clocks, one(servers), one(clients), bag, queue, self.used, self.summary, self.cut)

    def release(self) -> None:
        """Forget what only expanding this state needed (its successors are made):
        a state that stays reachable as a parent keeps just its action and records."""
        self.servers = self.clients = self.inflight = self.queue = self.summary = None  # type: ignore[assignment]

    def path(self) -> list[Action]:
        out: list[Action] = []
        node: Optional[XState] = self
        while node is not None and node.action is not None:
            out.append(node.action)
            node = node.parent
        out.reverse()
        return out


# --------------------------------------------------------------- the system ---

class System:
    """Initial state and successors of one protocol's world within ``bounds``."""

    def __init__(self, setup: Setup, bounds: Bounds) -> None:
        self.setup = setup
        self.bounds = bounds
        self.sindex = {s: i for i, s in enumerate(setup.servers)}
        self.cindex = {c: i for i, c in enumerate(setup.clients)}
        self.params = dict(setup.params)
        self.ids: dict[Any, int] = {}          # frozen replica state -> id
        self.replicas: list[Replica] = []      # id -> one copy of that state (never changed)
        self.memo: dict[tuple, tuple[int, Sequence[Any]]] = {}
        self.env_ids: dict[tuple, int] = {}    # (src, dst, msg) -> id of that message in flight
        self.envs: list[tuple] = []            # id -> (src, dst, msg)
        self.fifo = bounds.delays is not None  # see _fifo_successors
        self.local = bounds.clocks == "per-process"  # see _at
        # Crashes right after a server's own step, recoveries (per-process clocks)
        # right before one (see _crash and _own_steps); False: at every state, the
        # plain search that tests compare the reduced one with.
        self.canonical_faults = True

    def _replica(self, pid: ProcessId) -> Replica:
        return self.setup.protocol(pid, self.setup.servers, self.params)

    # ---- replica states, interned, and their steps, remembered --------------------------
    def intern(self, replica: Replica) -> int:
        """The id of this replica state: equal states (by their exact frozen form)
        get the same id, and ``self.replicas[id]`` keeps one copy, never changed."""
        key = freeze(replica)
        rid = self.ids.get(key)
        if rid is None:
            rid = self.ids[key] = len(self.replicas)
            self.replicas.append(replica)
        return rid

    def step(self, rid: int, how: str, a: Any, b: Any, now: float) -> tuple[int, Sequence[Any]]:
        """``(new id, effects)`` of replica state ``rid`` taking one input at ``now``:
        a message ``b`` from ``a`` (``how`` = "m") or the timer named ``a`` ("t").

        A replica is a deterministic function of its state and its input, so the
        answer is computed once (on a copy) and remembered: in the lattice of
        interleavings the same server meets the same input in the same state
        from many global states."""
        memo_key = (rid, how, a, b, now)
        hit = self.memo.get(memo_key)
        if hit is not None:
            return hit
        replica = clone(self.replicas[rid])
        effects = replica.on_message(now, a, b) if how == "m" else replica.on_timer(now, a)
        effects = tuple(effects) if effects else ()
        out = self.memo[memo_key] = (self.intern(replica), effects)
        return out

    # ---- building blocks --------------------------------------------------------------
    def initials(self) -> list[XState]:
        """The states a path may start from: one, or with ``Setup.spread`` one per
        choice of every client's first server (its first step says which)."""
        setup = self.setup
        if not setup.spread or setup.mode != "one":
            return [self.initial(setup.firsts if setup.mode == "one" else ())]
        out = []
        for firsts in itertools.product(range(len(setup.servers)), repeat=len(setup.clients)):
            st = self.initial(firsts)
            st.action = Action("start", targets=tuple((c, setup.servers[j]) for c, j in zip(setup.clients, firsts)))
            out.append(st)
        return out

    def initial(self, firsts: Sequence[int] = ()) -> XState:
        """The start, with client ``i`` sending first to server ``firsts[i]`` (default: the first)."""
        st = XState()
        if self.local:
            st.clocks = (0.0,) * (len(self.setup.servers) + len(self.setup.clients))
        started = []
        for pid in self.setup.servers:
            replica = self._replica(pid)
            started.append(replica.on_start(0.0))
            st.servers.append(Server(True, self.intern(replica), {}, {}))
        for i, c in enumerate(self.setup.clients):
            client = ClientModel(c, i)
            if firsts:
                client.target = firsts[i]
            st.clients.append(client)
        for i, effects in enumerate(started):
            self._apply(st, i, effects)
        for c in st.clients:
            self._schedule_next(st, c)
        return st

    def _child(self, st: XState, action: Action) -> XState:
        new = XState()
        new.now = st.now
        new.clocks = st.clocks
        new.servers = list(st.servers)
        new.clients = list(st.clients)
        new.inflight = dict(st.inflight)
        new.queue = st.queue
        new.used = st.used
        new.summary = st.summary
        new.records = st.records
        new.parent = st
        new.action = action
        new.depth = st.depth + 1
        new.nrec = st.nrec
        new.cut = st.cut
        return new

    def _own_server(self, st: XState, i: int, rid: int) -> Server:
        """A copy of server ``i`` in ``st`` whose replica is now in state ``rid``."""
        old = st.servers[i]
        s = Server(old.up, rid, dict(old.store), dict(old.timers))
        st.servers[i] = s
        return s

    def _own_client(self, st: XState, i: int) -> ClientModel:
        c = st.clients[i].copy()
        st.clients[i] = c
        return c

    def _put(self, st: XState, src: ProcessId, dst: ProcessId, msg: Message) -> None:
        """Send: the message in flight is an id for (src, dst, msg), given once, so
        that keys hash and compare plain numbers, not messages."""
        triple = (src, dst, msg)
        env = self.env_ids.get(triple)
        if env is None:
            env = self.env_ids[triple] = len(self.envs)
            self.envs.append(triple)
        n = st.inflight.get(env, 0)
        if self.fifo:
            if self.bounds.network == "set" and (n or env in st.queue):
                return
            st.queue = st.queue + (env,)
            return
        if n and self.bounds.network == "set":
            return
        st.inflight[env] = n + 1

    def _take(self, st: XState, env: int) -> None:
        n = st.inflight[env]
        if n == 1:
            del st.inflight[env]
        else:
            st.inflight[env] = n - 1

    def _record(self, st: XState, rec: Any) -> None:
        """Add a record to the path's history, and to the state's summary of it.

        The summary holds everything the checker's safety verdict depends on, and
        nothing of the order it came in that the verdict cannot see: the replies
        seen (client, request, state), the executions (replica, state), and per
        invocation, in order, the requests answered before it. So two states with
        the same summary have the same verdict now and after any same steps: the
        search judges a summary once, and merges states by it."""
        st.records = Records(rec, st.records)
        st.nrec += 1
        obs, execs, rt = st.summary
        t = type(rec)
        if t is Observed:
            item = (rec.client, rec.request, rec.state)
            if item not in obs:
                obs = obs | {item}
                st.judge = True
        elif t is Execution:
            item = (rec.replica, rec.state)
            if item not in execs:
                execs = execs | {item}
                st.judge = True
        else:
            answered = frozenset(r for _c, r, _s in obs)
            rt = rt + ((rec.request, answered),)
        st.summary = (obs, execs, rt)

    def _real(self, st: XState) -> float:
        """The time a record of the history gets: the world's time with one clock; with
        per-process clocks the latest clock so far, not the acting process's own.

        Real time (a reply may not hold a request invoked after it) is judged on
        these times, so they must follow the path: a client whose resend timer moved
        its clock to 1 answers and invokes at 1, and a reply that another client
        receives later at its own clock 0 still comes after that invocation. The
        latest clock so far never goes back along a path (each clock only moves on,
        and only by a timer of its own), and it is what the replay gives its history."""
        return max(st.clocks) if self.local else st.now

    def _pos(self, st: XState) -> int:
        return st.depth * 1000 + st.nrec

    def _apply(self, st: XState, i: int, effects: Sequence[Any]) -> None:
        pid = self.setup.servers[i]
        server = st.servers[i]
        now = st.now
        for e in effects:
            t = type(e)
            if t is Broadcast:
                for d in e.dsts:
                    self._put(st, pid, d, e.msg)
            elif t is Send:
                self._put(st, pid, e.dst, e.msg)
            elif t is Reply:
                self._put(st, pid, e.request.client, ClientReply(e.request, e.state))
            elif t is SetTimer:
                server.timers[e.name] = now + e.delay
            elif t is CancelTimer:
                server.timers.pop(e.name, None)
            elif t is Execute:
                self._record(st, Execution(self._real(st), pid, e.request, e.state, self._pos(st)))
            elif t is Persist:
                server.store[e.key] = e.value
            elif t is Erase:
                for k in e.keys:
                    server.store.pop(k, None)
            elif t is Log:
                pass
            else:
                raise TypeError(f"{pid}: unknown effect {e!r}")

    # ---- clients (as paxsim.sim.clients.Client) ----------------------------------------
    def _schedule_next(self, st: XState, c: ClientModel) -> None:
        setup = self.setup
        if c.next >= setup.requests:
            c.current = None
            return
        rid = setup.request_id(c.index, c.next)
        c.next += 1
        c.current = Request(rid, c.pid, c.next)
        c.invoked = False
        c.attempt = 0
        self._invoke(st, c)

    def _invoke(self, st: XState, c: ClientModel) -> None:
        now = st.now
        c.invoked = True
        c.last_send = now
        self._record(st, Invocation(self._real(st), c.pid, c.current, self._pos(st)))
        self._transmit(st, c)
        if self.setup.retry and c.retry_due is None:
            c.retry_due = now + self.setup.retry

    def _transmit(self, st: XState, c: ClientModel) -> None:
        msg = ClientRequest(c.current)
        servers = self.setup.servers
        if self.setup.mode == "all":
            for s in servers:
                self._put(st, c.pid, s, msg)
        else:
            self._put(st, c.pid, servers[c.target], msg)

    def _client_retry(self, st: XState, c: ClientModel) -> None:
        c.retry_due = None
        if c.current is None or not c.invoked:
            return
        now = st.now
        retry = self.setup.retry
        due = c.last_send + retry
        if now >= due - 1e-9:
            c.attempt += 1
            if self.setup.mode == "one":
                c.target = (c.target + 1) % len(self.setup.servers)
            self._transmit(st, c)
            c.last_send = now
            due = now + retry
        c.retry_due = due

    def _client_receive(self, st: XState, c: ClientModel, src: ProcessId, msg: Message) -> None:
        if type(msg) is not ClientReply:
            return
        self._record(st, Observed(self._real(st), c.pid, msg.request, msg.state, src, self._pos(st)))
        cur = c.current
        if cur is not None and msg.request.id == cur.id:
            if self.setup.mode == "one" and src in self.sindex:
                c.target = self.sindex[src]
            c.current = None
            self._schedule_next(st, c)

    # ---- successors -------------------------------------------------------------------
    def successors(self, st: XState) -> Iterator[XState]:
        """Every state one action away, in a fixed order (deterministic search),
        except deliveries that change nothing but the set of messages in flight (to
        a crashed server, or one that ignores the message).

        Why leaving those out is exact for safety: such a successor ``s'`` is ``s``
        with one message fewer in flight. Whatever ``s'`` can do, ``s`` can do too,
        leaving that message in flight for ever (the network may delay a message
        without bound), and the checker judges only what clients and replicas
        recorded, never what is in flight. So every violation reachable from ``s'``
        is reachable from ``s``. (Drops, by the same argument, never reach a
        violation that no drop reaches; they are explored all the same, as the
        bounds ask, so that ``--max-drops`` means what it says; but in send order
        the head of the queue is not dropped where its delivery ends in the same
        world, the receiver ignoring it: that drop only spends one of the bound.)"""
        crashes_left = st.used[CRASHES] < self.bounds.crashes and self.canonical_faults
        for new in self._network_successors(st):
            if self.local:
                new.now = 0.0  # each step reads its process's clock (_at); this one is not part of the state
            yield new
            if crashes_left:
                i = self._actor(new.action)
                if i is not None and new.servers[i].up:
                    yield self._crash(new, i)

    def _actor(self, action: Action) -> Optional[int]:
        """The server whose state ``action`` may have changed (None: no server's)."""
        if action.kind == "deliver":
            return self.sindex.get(action.dst)
        if action.kind in ("timer", "recover"):
            return self.sindex.get(action.process)
        return None

    def _crash(self, st: XState, i: int) -> XState:
        """``st`` with server ``i`` crashed (its stable storage kept).

        A server crashes only at the start or right after a step of its own (a
        message it received, a timer of its own, its recovery), never between
        steps of others. That loses nothing: between its last step and the
        crash, only other processes acted, and nothing they do depends on
        whether it is up (a message to it that reached the head of the queue in
        between was held back or lost, which it may be when it is down as well).
        So every path with a crash anywhere has a twin with the crash moved back
        to right after the server's last step, with the same records. Because the
        crash is offered as a successor of that step's state (not as a choice
        that depends on which step came last), merging equal states stays exact."""
        new = self._child(st, Action("crash", process=self.setup.servers[i], time=self._at(st, i)))
        if self.local:
            new.now = 0.0
        s = st.servers[i]
        new.servers[i] = Server(False, -1, s.store, {})
        new.used = spend(st.used, CRASHES)
        return new

    def _at(self, st: XState, k: int) -> float:
        """The time at which process ``k`` (servers first, then clients) acts.

        With one clock (``global``, the simulator's model) that is the world's time.
        With ``per-process`` clocks, each process has its own, which moves on only
        when one of its timers fires (to that timer's deadline): a message arrives
        at its receiver's clock. Safety in an asynchronous system cannot depend on
        how clocks relate, and each process still sees its own timers fire in
        deadline order; the gain is that one server can suspect its leader without
        every other server's timers firing first."""
        return st.clocks[k] if self.local else st.now

    def _network_successors(self, st: XState) -> Iterator[XState]:
        """Every successor but the crashes right after a server's own step."""
        return self._fifo_successors(st) if self.fifo else self._any_order_successors(st)

    def _any_order_successors(self, st: XState) -> Iterator[XState]:
        b = self.bounds
        used = st.used
        envs = list(st.inflight)
        for env in envs:
            new = self.deliver(st, env)
            if new is not None:
                yield new
        if used[TIMEOUTS] < b.timeouts:
            yield from self._fire_due(st)
        if used[DROPS] < b.drops:
            for env in envs:
                src, dst, msg = self.envs[env]
                new = self._child(st, Action("drop", src=src, dst=dst, msg=msg, time=self._at(st, self._index(dst))))
                self._take(new, env)
                new.used = spend(used, DROPS)
                yield new
        if used[DUPS] < b.dups and b.network == "multiset":
            for env in envs:
                src, dst, msg = self.envs[env]
                new = self._child(st, Action("duplicate", src=src, dst=dst, msg=msg,
                                             time=self._at(st, self._index(dst))))
                new.inflight[env] += 1
                new.used = spend(used, DUPS)
                yield new
        yield from self._faults(st)

    def _fifo_successors(self, st: XState) -> Iterator[XState]:
        """Successors with ``--max-delays k``: messages arrive in the order they were
        sent (one queue for the whole network) except at most ``k`` per path, which
        are held back when they reach the head of the queue and arrive late, or
        never. The message at the head is delivered, held, lost or duplicated (the
        copy comes right behind it, and meets the same choices), or its loss begins
        a cut (:meth:`_cut_off`). A timer fires, and a held message arrives, only when every
        message not held back has arrived: the network is faster than any timer
        but for the ``k`` late messages, and a late message arrives when the
        network is otherwise quiet (before or after a timer fires, a server
        crashes or recovers).

        Deciding a message's fate when it reaches the head loses nothing: until
        then nothing can tell whether it was held, lost or copied earlier, because
        nothing judges what is in flight. The bound is on how far the network
        strays from "in send order, on time": small ``k`` reaches deep paths (a
        leader change or two, a crash and a recovery) because the search branches
        only where a message is late, lost or copied, a timer fires or a server
        crashes or recovers. ``--max-delays any`` (no bound) is the network that
        may reorder anything (:meth:`_any_order_successors`)."""
        b = self.bounds
        used = st.used
        cut = self.setup.servers[st.cut] if st.cut >= 0 else None
        if st.queue:
            head = st.queue[0]
            src, dst, msg = self.envs[head]
            if cut is not None and cut in (src, dst):
                yield from self._cut_off(st, head)
                yield from self._faults(st)
                return
            new = self.deliver(st, head, from_queue=True)
            yield new
            can_drop = used[DROPS] < b.drops
            can_copy = used[DUPS] < b.dups and b.network == "multiset"
            # A drop of a message its receiver ignores (or a crashed one loses) is the
            # delivery with one drop more spent: nothing it reaches is new (asked only
            # where it decides something).
            ignored = (can_drop or (can_copy and used[DELAYS] >= b.delays)) and (
                new.queue == st.queue[1:] and new.summary == st.summary and all(
                    after is before or after.frozen() == before.frozen()
                    for after, before in itertools.chain(zip(new.servers, st.servers), zip(new.clients, st.clients))))
            now = self._at(st, self._index(dst))
            if used[DELAYS] < b.delays:
                yield self._hold(st, head, now)
            if can_drop and not ignored:
                new = self._child(st, Action("drop", src=src, dst=dst, msg=msg, time=now))
                new.queue = st.queue[1:]
                new.used = spend(used, DROPS)
                yield new
            if can_copy and not (ignored and used[DELAYS] >= b.delays):
                new = self._child(st, Action("duplicate", src=src, dst=dst, msg=msg, time=now))
                new.queue = (head,) + st.queue  # the copy arrives right after it (or, held back, later)
                new.used = spend(used, DUPS)
                yield new
            if used[CUTS] < b.cuts:
                for pid in (src, dst):
                    i = self.sindex.get(pid)
                    if i is not None and pid != cut:
                        # pid is cut off from everybody, from this message on (a cut of another
                        # server heals first: nothing touching it arrived since it last could)
                        new = self._child(st, Action("cut", process=pid, src=src, dst=dst, msg=msg, time=now))
                        new.queue = st.queue[1:]
                        new.cut = i
                        new.used = spend(used, CUTS)
                        yield new
        if not st.queue:
            waiting = False  # a held message to or from the server cut off: it arrives after the cut heals
            for env in list(st.inflight):
                if cut is not None and cut in self.envs[env][:2]:
                    waiting = True
                    continue
                new = self.deliver(st, env)
                if new is not None:
                    yield new
            if waiting:
                yield self._heal(st)
            if used[TIMEOUTS] < b.timeouts:
                yield from self._fire_due(st)
        yield from self._faults(st)

    def _cut_off(self, st: XState, head: int) -> Iterator[XState]:
        """The head of the queue is to or from the server cut off: it is lost, or the
        cut heals first (and it reaches the head again, as any message does), or
        (within ``--max-delays``) it is held back and arrives once the cut has healed.

        A cut begins with the first message it loses and heals right before the
        first one to or from that server that arrives, or when the next cut (of
        another server) begins: between those, nothing can tell the cut from none,
        so every cut is explored this way once."""
        src, dst, msg = self.envs[head]
        pid = self.setup.servers[st.cut]
        now = self._at(st, self._index(dst))
        new = self._child(st, Action("drop", src=src, dst=dst, msg=msg, process=pid, time=now))
        new.queue = st.queue[1:]
        yield new
        yield self._heal(st)
        if st.used[DELAYS] < self.bounds.delays:  # or it is held back, to arrive late once the cut heals
            yield self._hold(st, head, now)

    def _hold(self, st: XState, head: int, now: float) -> XState:
        """``st`` with the head of the queue held back: it waits among the messages in flight."""
        src, dst, msg = self.envs[head]
        new = self._child(st, Action("hold", src=src, dst=dst, msg=msg, time=now))
        new.queue = st.queue[1:]
        if not (self.bounds.network == "set" and head in new.inflight):
            new.inflight[head] = new.inflight.get(head, 0) + 1
        new.used = spend(st.used, DELAYS)
        return new

    def _heal(self, st: XState) -> XState:
        i = st.cut
        new = self._child(st, Action("heal", process=self.setup.servers[i], time=self._at(st, i)))
        new.cut = -1
        return new

    def _index(self, pid: ProcessId) -> int:
        """Process ``pid``'s place: servers first, then clients."""
        i = self.sindex.get(pid)
        return i if i is not None else len(self.sindex) + self.cindex[pid]

    def _faults(self, st: XState) -> Iterator[XState]:
        """Crashes of up servers at the start and recoveries of crashed ones, within the bounds."""
        b = self.bounds
        used = st.used
        if used[CRASHES] >= b.crashes and used[RECOVERIES] >= b.recoveries:
            return
        for i, s in enumerate(st.servers):
            pid = self.setup.servers[i]
            if s.up and used[CRASHES] < b.crashes and (st.parent is None or not self.canonical_faults):
                yield self._crash(st, i)  # at the start; later, right after a step of its own (successors)
            elif not s.up and used[RECOVERIES] < b.recoveries:
                new = self._child(st, Action("recover", process=pid, time=self._at(st, i)))
                new.now = self._at(st, i)
                replica = self._replica(pid)
                effects = replica.on_recover(new.now, dict(s.store))
                new.servers[i] = Server(True, self.intern(replica), dict(s.store), {})
                new.used = spend(used, RECOVERIES)
                self._apply(new, i, effects)
                if not (self.local and self.canonical_faults) or any(type(e) in SENDING for e in effects):
                    yield new
                else:
                    yield from self._own_steps(new, i)

    def _own_steps(self, st: XState, i: int) -> Iterator[XState]:
        """With per-process clocks, a recovery is offered only together with the
        server's next step (a message it receives, or a timer of its own), unless
        the recovery itself sends messages.

        That loses nothing: a recovery that nothing follows changes nothing the
        checker judges, and one followed by steps of others first has a twin with
        the recovery moved on to right before the server's next step: nothing
        others do depends on whether it is up (a message to it that reached the
        head of the queue in between was held back or lost, which it may be when
        it is up as well), and its clock, so what it recovers to, does not move
        while it is down. (With one clock, time may move while it is down, so
        every moment of recovery is explored.)"""
        pid = self.setup.servers[i]
        for new in self._network_successors(st):
            a = new.action
            if (a.kind == "deliver" and a.dst == pid) or (a.kind == "timer" and a.process == pid):
                yield new

    def deliver(self, st: XState, env: int, from_queue: bool = False) -> Optional[XState]:
        """The state after delivering ``env``: a held message (with ``--max-delays``)
        or one in flight, or the head of the queue (``from_queue``). None when that
        only removes the message (see :meth:`successors`), except for the head of
        the queue, which must go for the next one to arrive."""
        src, dst, msg = self.envs[env]
        i = self.sindex.get(dst)
        now = self._at(st, self._index(dst))
        if i is not None:
            server = st.servers[i]
            if not server.up:
                if not from_queue:
                    return None  # lost at a crashed process: nothing but the message changes
                return self._received(st, env, now, True)
            rid, effects = self.step(server.rid, "m", src, msg, now)
            if not effects and rid == server.rid and not from_queue:
                return None  # the replica ignored it: nothing but the message changes
            new = self._received(st, env, now, from_queue)
            if effects or rid != server.rid:
                self._own_server(new, i, rid)
            if effects:
                self._apply(new, i, effects)
        else:
            new = self._received(st, env, now, from_queue)
            c = self._own_client(new, self.cindex[dst])
            self._client_receive(new, c, src, msg)
        return new

    def _received(self, st: XState, env: int, now: float, from_queue: bool) -> XState:
        """The successor of ``st`` where ``env`` has left the network, at the receiver's time."""
        src, dst, msg = self.envs[env]
        new = self._child(st, Action("deliver", src=src, dst=dst, msg=msg, time=now))
        new.now = now
        if from_queue:
            new.queue = st.queue[1:]
        else:
            self._take(new, env)
        return new

    def due(self, st: XState) -> list[tuple[float, int, ProcessId, str]]:
        """The timers that may fire next (deadline, order, process, name): with one
        clock, those due first; with per-process clocks, each process's own first."""
        cands: list[tuple[float, int, ProcessId, str]] = []
        for i, s in enumerate(st.servers):
            if s.up:
                for name, t in s.timers.items():
                    cands.append((t, i, self.setup.servers[i], name))
        n = len(st.servers)
        for j, c in enumerate(st.clients):
            if c.retry_due is not None:
                cands.append((c.retry_due, n + j, c.pid, RETRY_TIMER))
        if not cands:
            return []
        if self.local:
            firsts: dict[int, float] = {}
            for t, k, *_ in cands:
                if t < firsts.get(k, t + 1):
                    firsts[k] = t
            return sorted(c for c in cands if c[0] == firsts[c[1]])
        first = min(t for t, *_ in cands)
        return sorted(c for c in cands if c[0] == first)

    def _fire_due(self, st: XState) -> Iterator[XState]:
        n = len(st.servers)
        for t, order, pid, name in self.due(st):
            new = self._child(st, Action("timer", process=pid, timer=name, time=t))
            if self.local:
                new.now = max(st.clocks[order], t)
                new.clocks = st.clocks[:order] + (new.now,) + st.clocks[order + 1:]
            else:
                new.now = max(st.now, t)
            new.used = spend(st.used, TIMEOUTS)
            if order < n:
                rid, effects = self.step(st.servers[order].rid, "t", name, None, new.now)
                server = self._own_server(new, order, rid)
                del server.timers[name]
                self._apply(new, order, effects)
            else:
                c = self._own_client(new, order - n)
                self._client_retry(new, c)
            yield new

