"""Paxos with n servers (section 7 of the tutorial), as a replicated state machine.

The essay
---------
Every server plays three parts at once, kept apart here as three small classes:

* the **acceptor** (:class:`Acceptor`) remembers the highest round it *promised*
  and, per slot, the value it *accepted* last and the round it accepted it in
  (``vrnd``). This is all a server writes to stable storage (``Persist``); it is
  all a server has after a crash. An acceptor never accepts in a round lower than
  the one it promised, and it never promises a round lower than one it promised.
* the **leader** (:class:`Leader`, the proposer) orders client requests: it gives
  each one a slot (sequence number ``j``) and sends ``<ACC, m, j, r>`` in its round
  ``r``. Before it may do that in a new round it runs *phase 1*: it sends
  ``<PREP, r>`` and waits for promises from a majority (its own counts). Each
  promise ``<PROM, [(vrnd, m) per slot], r>`` reports everything the promiser
  accepted, with the round it accepted it in. For every slot the new leader
  re-proposes the reported value with the **highest vrnd** (the only value that may
  have been chosen: a value chosen in round ``v`` was accepted by a majority, every
  majority of promisers contains one of them, and any later round re-proposed that
  same value); slots nobody reported are filled with a no-op. A stable leader skips
  phase 1 for every further request: one round trip per request.
* the **learner** (:class:`Learner`) counts learns. An acceptor that accepts
  ``<ACC, m, j, r>`` sends ``<LRN, m, j, r>`` to every server. Slot ``j`` is
  *chosen* once a majority of servers accepted the same round's value for it: the
  accept counts as the leader's learn and a server's own learn counts too, so with
  three servers a follower knows on the accept, the leader after one learn. Slots
  are executed strictly in order; a request chosen in two slots (a client resent it
  during a leader change) is executed once: the second slot only answers
  (:class:`~paxsim.protocols.single_server.Service`).

Rounds are preassigned (server ``S_k`` of ``n`` owns ``k, k+n, k+2n, ...``), so two
servers never prepare the same round, and a server that lost the lead can lead
again later with a higher round of its own (the fix of Fig. 11-rounds).

Choices where the tutorial is open (documented, tested):

* Any n >= 1 works, even n too: a quorum is ``n // 2 + 1``, so any two quorums
  intersect. With n = 2f+1 it tolerates f crashed or cut-off servers.
* At the start S1 runs phase 1 for round 1 like anybody else (no implicit leader).
* Who leads next: failure detection by heartbeat timeouts
  (:mod:`paxsim.protocols.detector`), no oracle. A follower suspects its leader
  after ``suspect`` time units without a sign of it *acting* as leader (its
  heartbeat ``<HB, r>``, an accept, a prepare): a live server that only follows
  does not keep a dead round alive. A server that suspects its leader tries to
  lead only if it is the lowest-ranked server it does not suspect (so normally
  one server tries, not all); it prepares its next own round above every round
  it has seen. Seeing a higher round (in a prepare, accept, learn, a leader's
  heartbeat, or a ``<NACK, r>`` that an acceptor sends back for a prepare or
  accept of a lower round) makes a leader or candidate step down and follow the
  owner of that round, granting it a full timeout (a promise is a vote of
  confidence). A candidate that fails waits a growing backoff before it tries a
  new round. Dueling cannot go on forever once faults stop: everyone then agrees
  on who is lowest-ranked and alive.
* Who replies: the leader, when it executes a request (also a duplicate slot), or
  when a snapshot it installs covers a request it proposed or queued.
  Any server that has already executed a resent request answers it from its
  record. A follower forwards a client's request to the leader it believes in
  (only requests that come from a client: no forwarding loops), keeps it until
  it executes it, hands it to the next leader if the leader changes (or proposes
  it itself if it becomes leader), and answers it too when it executes it (or a
  snapshot covers it). A
  candidate queues requests until it leads. A leader never proposes into a slot
  it knows is chosen (a stale leader may have caught up past its next slot).
* Catch-up: heartbeats carry the round the sender leads (none if it follows) and
  how many slots it executed (``upto``). A server that hears of a peer ahead of
  it asks that peer (``<CATCHUP, j>``) and gets the chosen values from slot ``j``
  on (``<CHOSEN, j, [m...]>``): a recovered server rebuilds its service this way,
  and so does one that missed learns. Values sent are ones the peer executed, so
  they were chosen.
* Client sessions: clients are closed-loop (a client sends request ``seq + 1`` only
  after the reply to ``seq``), so instead of a table of every request it executed,
  a server keeps per client the last request it executed and the state it gave
  (as real systems do). A copy of that request is answered from the table; a copy
  of an older one is ignored (its client has had its answer). Requests without a
  ``seq`` (built by hand) fall back to the per-request table.
* Log compaction (``compact``, default 1000; 0 never): every ``compact`` executed
  slots a server takes a checkpoint (slot, service state, session table) and keeps
  the last two. Everything up to the older one is forgotten: the log and the values
  the acceptor accepted (stable storage gets the checkpoint instead); the state's
  chain is cut at the newest checkpoint (``State.trimmed``). A peer asking to catch up from below it gets
  the snapshot ``<SNAP, j, s>`` first; a recovered server restarts from the one it
  persisted. Safety needs one more step: an acceptor that compacted promises with
  ``<PROM, ..., <SNAP, j, s>>``, and a new leader behind ``j`` installs that snapshot
  before it proposes anything, so it never fills a slot up to ``j`` (whose accepted
  values nobody reports any more) with a no-op. Memory per server is then bounded
  by ``2 x compact`` slots, however long the run.
* Heartbeats: the leader sends them every ``heartbeat`` time units; a follower
  only when it sent nothing to everybody since the last tick (its learns, sent
  to every server, already show it is alive). An accept that is not chosen is
  resent, to the servers whose learn is missing, ``retransmit`` to
  ``1.5 x retransmit`` time units after it last went out.

:class:`PaxosPromiseWithoutRound` is the broken variant of Fig. 12-promise:
promises carry values without rounds, and the new leader takes, for each slot,
the value reported by the lowest-ranked promiser (itself included). After two
leader changes it may pick a value that was never chosen over one that was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Optional

from ..types import (
    Accept, Accepted, Broadcast, ClientRequest, Effect, Erase, Execute, Heartbeat, Learn, Log, Message, Persist,
    Prepare, ProcessId, Promise, Reply, Request, Send, SetTimer, State,
)
from .base import ParamError, Replica
from .detector import HEARTBEAT_TIMER, Detector
from .single_server import Service

RETRANSMIT_TIMER = "retransmit"
NOOP = Request("noop", "")
"""Fills a slot that no promiser reported; executing it does nothing."""
CATCH_UP_BATCH = 256
NOTHING: tuple = ()  # "no effects", without allocating a list
OLD = State(-1, 0)
"""What the session table says of a request older than its client's last executed
one: executed long ago, and its client has had the answer (clients are closed-loop)."""


# ------------------------------------------------------------ extra messages ---

@dataclass(frozen=True, slots=True)
class Nack(Message):
    """``<NACK, r>``: I promised round ``r``; your prepare or accept was ignored."""

    kind: ClassVar[str] = "NACK"
    rnd: Any

    def label(self) -> str:
        return f"<NACK, {self.rnd}>"

    def fields(self) -> dict[str, Any]:
        return {"rnd": self.rnd}


@dataclass(frozen=True, slots=True)
class CatchUp(Message):
    """``<CATCHUP, j>``: send me the values chosen from slot ``j`` on."""

    kind: ClassVar[str] = "CATCHUP"
    slot: int

    def label(self) -> str:
        return f"<CATCHUP, {self.slot}>"

    def fields(self) -> dict[str, Any]:
        return {"slot": self.slot}


@dataclass(frozen=True, slots=True)
class Chosen(Message):
    """``<CHOSEN, j, [m...]>``: the values chosen for slots ``j, j+1, ...``."""

    kind: ClassVar[str] = "CHOSEN"
    slot: int
    requests: tuple[Request, ...]

    def label(self) -> str:
        return f"<CHOSEN, {self.slot}, [{', '.join(r.id for r in self.requests)}]>"

    def fields(self) -> dict[str, Any]:
        return {"slot": self.slot, "m": [r.id for r in self.requests]}


@dataclass(frozen=True, slots=True)
class Snapshot(Message):
    """``<SNAP, j, s>``: everything up to slot ``j`` is chosen and executed, giving
    service state ``state``; ``sessions`` is the session table then, as
    ``(client, seq, state)`` triples (client order), and ``done`` the per-request
    table of requests without a ``seq`` (built by hand; none from simulated clients).
    Stands in for the log up to ``j`` once a server compacted it."""

    kind: ClassVar[str] = "SNAP"
    fuzz_target: ClassVar[bool] = False  # only sent after `compact` slots: beyond a fuzz run
    slot: int
    state: State
    sessions: tuple[tuple[ProcessId, int, State], ...] = ()
    done: tuple[tuple[str, State], ...] = ()

    def label(self) -> str:
        return f"<SNAP, {self.slot}, {self.state.label(3)}>"

    def fields(self) -> dict[str, Any]:
        return {"slot": self.slot, "len": self.state.length}


@dataclass(frozen=True, slots=True)
class SnapPromise(Promise):
    """A promise from an acceptor that compacted its log: it reports what it accepted
    above its snapshot, and the snapshot (the chosen values below it, as a state)."""

    snapshot: Optional[Snapshot] = None

    def label(self) -> str:
        return Promise.label(self)[:-1] + f", {self.snapshot.label() if self.snapshot else '-'}>"


# ------------------------------------------------------------- the three parts ---

class Acceptor:
    """What a server promised and accepted: the only state that survives a crash."""

    __slots__ = ("promised", "accepted")

    def __init__(self) -> None:
        self.promised = 0                                   # highest round promised (0: none)
        self.accepted: dict[int, tuple[int, Request]] = {}  # slot -> (vrnd, value)


class Leader:
    """The proposer's state. ``phase``: 0 follower, 1 preparing, 2 leading."""

    __slots__ = ("phase", "rnd", "label", "promises", "next_slot", "inflight", "proposed", "queue", "since",
                 "attempts")

    def __init__(self) -> None:
        self.phase = 0
        self.rnd = 0
        self.label: Any = None
        self.promises: dict[ProcessId, tuple[Accepted, ...]] = {}
        self.next_slot = 1
        self.inflight: dict[int, list] = {}      # slot -> [value, resend due], proposed, not yet chosen
        self.proposed: dict[str, int] = {}       # request id -> slot, this round
        self.queue: list[Request] = []           # requests waiting for phase 1 to end
        self.since = 0.0
        self.attempts = 0


class Learner:
    """Tallies learns per slot and executes chosen slots in order.

    With compaction, ``log`` holds only the slots after ``base`` (the oldest kept
    checkpoint); ``checkpoints`` are the last two snapshots taken, oldest first, and
    ``sessions`` replaces the service's per-request table by one entry per client.
    """

    __slots__ = ("votes", "chosen", "next_exec", "log", "service", "base", "checkpoints", "sessions")

    def __init__(self) -> None:
        self.votes: dict[int, list] = {}         # slot -> [round, value, bitmask of servers]
        self.chosen: dict[int, Request] = {}     # chosen, waiting for earlier slots
        self.next_exec = 1
        self.log: list[Request] = []             # log[j-1-base]: the value executed for slot j
        self.service = Service()
        self.base = 0
        self.checkpoints: list[Snapshot] = []
        self.sessions: Optional[dict[ProcessId, tuple[int, State]]] = None  # client -> (seq, state)


# ------------------------------------------------------------------ the replica ---

class Paxos(Replica):
    name = "paxos"
    message_kinds = ("REQ", "REPLY", "ACC", "LRN", "PREP", "PROM", "HB", "NACK", "CATCHUP", "CHOSEN", "SNAP")
    client_mode = "one"
    min_servers = 1
    catch_up = True
    params = {
        "heartbeat": 2.0,      # heartbeat interval, also how often suspicion is checked
        "suspect": 8.0,        # silence after which a server is suspected
        "retransmit": 4.0,     # resend unanswered accepts / prepares after this long
        "backoff": 4.0,        # extra wait per failed attempt to lead (times rank)
        "compact": 1000,       # checkpoint every this many executed slots, keep two (0: never)
    }

    # Variants (class attributes; see leader_change.py):
    ids: ClassVar[bool] = False              # rounds are leader ids (S1 < S2 < S3), one per server
    implicit_first_leader: ClassVar[bool] = False   # S1 leads round 1 from the start, no phase 1
    promise_rounds: ClassVar[bool] = True    # promises report (vrnd, value); else values only
    learn_to_all: ClassVar[bool] = True      # learns go to every server; else to the leader only
    exec_on_accept: ClassVar[bool] = False   # a follower executes on the accept (3-server rule)
    replies_all: ClassVar[bool] = False      # every server that executes replies; else the leader
    own_report_first: ClassVar[bool] = True  # without rounds: may the new leader's own value win?
    compacts: ClassVar[bool] = True          # log compaction and client sessions (param compact)
    constant_attributes = Replica.constant_attributes + (
        "n", "bit", "mybit", "rank_of", "pq", "lq", "hb_every", "suspect_after", "rtx_every", "rtx_tick",
        "hb_timer", "rtx_timer", "backoff", "compact")

    @classmethod
    def check_params(cls, given, n_servers):
        out = super().check_params(given, n_servers)
        for key in ("heartbeat", "suspect", "retransmit"):
            if out[key] <= 0:
                raise ParamError(key, f"must be > 0, got {out[key]!r}")
        if out["suspect"] <= out["heartbeat"]:
            raise ParamError("suspect", f"must be longer than heartbeat ({out['heartbeat']!r}), got {out['suspect']!r}")
        return out

    def promise_quorum(self) -> int:
        """Promises (own included) a new leader needs."""
        return self.quorum(len(self.servers))

    def learn_quorum(self) -> int:
        """Learns (own and the accept included) that make a slot chosen."""
        return self.quorum(len(self.servers))

    def __init__(self, pid, servers, params):
        super().__init__(pid, servers, params)
        n = len(self.servers)
        self.n = n
        self.acc = Acceptor()
        self.ldr = Leader()
        self.lrn = Learner()
        self.bit = {s: 1 << i for i, s in enumerate(self.servers)}
        self.mybit = self.bit.get(pid, 0)
        self.rank_of = {s: i + 1 for i, s in enumerate(self.servers)}
        self.pq = self.promise_quorum()
        self.lq = self.learn_quorum()
        self.hb_every = float(params["heartbeat"])
        self.suspect_after = float(params["suspect"])
        self.rtx_every = float(params["retransmit"])
        self.rtx_tick = self.rtx_every / 2  # an accept is resent 1 to 1.5 x retransmit after it went out
        # effects are immutable values: the two timers this replica keeps setting, made once
        self.hb_timer = SetTimer(HEARTBEAT_TIMER, self.hb_every)
        self.rtx_timer = SetTimer(RETRANSMIT_TIMER, self.rtx_tick)
        self.backoff = float(params["backoff"])
        self.det = Detector(self.peers, self.suspect_after, self.hb_every)
        self.last = self.det.last
        self.leader: Optional[ProcessId] = None  # whom I follow (or myself when leading)
        self.leader_seen = 0.0       # when it last acted as leader (or candidate) towards me
        self.max_seen = 0
        self.next_try = 0.0
        self.busy = False            # sent something to every peer since the last heartbeat tick
        self.rtx_armed = False
        self.fwd: dict[str, Request] = {}   # client requests I forwarded, not yet executed here
        self.fwd_to: Optional[ProcessId] = None  # ... to this leader
        self.fwd_at = 0.0                        # ... last at this time
        self.peer_seen: dict[ProcessId, int] = {}  # LeaderChange: upto in a peer's last heartbeat
        self.peer_upto = 0           # highest executed count a peer told me about
        self.catchup_at = -1e18
        self.compact = int(params.get("compact", 0)) if self.compacts else 0
        self.next_checkpoint = self.compact if self.compact else float("inf")  # checkpoint once past this slot
        if self.compact:
            self.lrn.sessions = {}

    # ---- rounds ---------------------------------------------------------------------
    def owner(self, r: int) -> ProcessId:
        return self.servers[(r - 1) % self.n]

    def label(self, r: int) -> Any:
        """A round as messages carry it: the number, or the owner's id."""
        return self.servers[r - 1] if self.ids else r

    def decode(self, raw: Any) -> int:
        if raw is None:
            return 0
        return self.rank_of[raw] if self.ids else raw

    def next_round(self) -> Optional[int]:
        """My smallest own round above every round seen; None if I have none (ids)."""
        if self.ids:
            return self.rank if self.rank > self.max_seen else None
        r = self.rank
        if r <= self.max_seen:
            r += ((self.max_seen - r) // self.n + 1) * self.n
        return r

    # ---- lifecycle ------------------------------------------------------------------
    def on_start(self, now: float) -> list[Effect]:
        self.det.last = self.last = {p: now for p in self.peers}
        self.leader_seen = now
        out: list[Effect] = [self.hb_timer]
        first = self.servers[0]
        if self.implicit_first_leader:
            # Everybody starts out having promised S1's round 1: S1 leads at once.
            self.acc.promised = self.max_seen = 1
            self.leader = first
            if self.pid == first:
                L = self.ldr
                L.phase, L.rnd, L.label = 2, 1, self.label(1)
                out.append(Log("leader", L.label))
            return out
        self.leader = first
        if self.pid == first:
            out += self._prepare(now)
        return out

    def on_recover(self, now: float, stored: Mapping[str, Any]) -> list[Effect]:
        self.det.last = self.last = {p: now for p in self.peers}
        acc = self.acc
        acc.promised = stored.get("promised", 1 if self.implicit_first_leader else 0)
        for key, value in stored.items():
            if key[0] == "a":
                acc.accepted[int(key[1:])] = value
        snap = stored.get("snap")
        if snap is not None:  # the learner restarts from its last persisted checkpoint
            self._restore(snap)
        self.max_seen = acc.promised
        self.leader = None  # learn who leads from the others' heartbeats
        self.next_try = now + self.suspect_after
        return [self.hb_timer]

    # ---- inputs ---------------------------------------------------------------------
    def on_message(self, now: float, src: ProcessId, msg: Message) -> list[Effect]:
        last = self.last
        if src in last:
            last[src] = now
        t = type(msg)
        if t is Learn:
            return self._on_learn(now, src, msg)
        if t is Accept:
            return self._on_accept(now, src, msg)
        if t is ClientRequest:
            return self._on_request(now, src, msg)
        if t is Heartbeat:
            return self._on_heartbeat(now, src, msg)
        if t is Prepare:
            return self._on_prepare(now, src, msg)
        if t is Promise:
            return self._on_promise(now, src, msg)
        if t is Nack:
            r = self.decode(msg.rnd)
            if r > self.max_seen:
                self._see(now, r)
            return []
        if t is CatchUp:
            return self._on_catch_up(src, msg)
        if t is Chosen:
            return self._on_chosen(now, src, msg)
        if t is SnapPromise:
            return self._on_promise(now, src, msg)
        if t is Snapshot:
            out: list[Effect] = []
            self._install(msg, out)
            return out
        return []

    def on_timer(self, now: float, name: str) -> list[Effect]:
        if name == HEARTBEAT_TIMER:
            # One timer does both jobs: heartbeats out, then a look at the leader.
            out: list[Effect] = [self.hb_timer]
            if self.ldr.phase == 2 or not self.busy or not self.learn_to_all:
                hb = Heartbeat(self.ldr.label if self.ldr.phase == 2 else None, self.lrn.next_exec - 1)
                out.append(Broadcast(self.peers, hb))
            self.busy = False
            if self.ldr.phase != 2:
                self._check(now, out)
            return out
        if name == RETRANSMIT_TIMER:
            return self._retransmit(now)
        return []

    # ---- failure detection and taking over -------------------------------------------
    def _check(self, now: float, out: list) -> None:
        L = self.ldr
        if L.phase == 2:
            return
        if L.phase == 1:
            if now - L.since >= self.rtx_every:
                L.since = now
                prep = Prepare(L.label)
                for p in self.peers:
                    if p not in L.promises:
                        out.append(Send(p, prep))
            return
        leader = self.leader
        if leader is not None and leader != self.pid and now - self.leader_seen < self.suspect_after:
            return  # the leader I follow looks alive
        if now < self.next_try:
            return
        # The lowest-ranked server I do not suspect (other than the suspected leader) tries.
        for s in self.servers:
            if s == self.pid:
                out += self._prepare(now)
                return
            if s != leader and now - self.last[s] < self.suspect_after:
                return

    def _prepare(self, now: float) -> list[Effect]:
        r = self.next_round()
        if r is None:
            return []  # ids: my id ranks below a leader already seen; I can never lead again
        L = self.ldr
        L.phase, L.rnd, L.label = 1, r, self.label(r)
        L.promises = {}
        L.since = now
        L.attempts += 1
        self.next_try = now + self.suspect_after + self.backoff * self.rank * L.attempts
        self.max_seen = r
        self.leader = self.pid
        acc = self.acc
        acc.promised = r
        out: list[Effect] = [Persist("promised", r)]
        prep = Prepare(L.label)
        out.append(Broadcast(self.peers, prep))
        if 1 >= self.pq:
            out += self._lead(now)
        return out

    def _see(self, now: float, r: int) -> list[Effect]:
        """A higher round than any seen: step down, follow its owner."""
        self.max_seen = r
        L = self.ldr
        if L.phase:
            L.phase = 0
            L.promises = {}
            L.inflight = {}
            L.proposed = {}
            L.queue = []
        owner = self.owner(r)
        if owner != self.pid:
            self.leader = owner
            # give the new leader a full timeout, unless I heard of its round only from
            # others and have not heard from it for that long (it may be long dead)
            heard = self.last.get(owner, now)
            self.leader_seen = now if now - heard < self.suspect_after else heard
        else:
            self.leader = None       # my own old round (from before a crash): nobody leads
        return []

    # ---- acceptor -------------------------------------------------------------------------
    def _on_prepare(self, now: float, src: ProcessId, msg: Prepare) -> list[Effect]:
        r = self.decode(msg.rnd)
        acc = self.acc
        if r < acc.promised or (r == acc.promised and self.owner(r) != src):
            # promised a higher round (or this round to its owner only): say so
            return [Send(src, Nack(self.label(acc.promised)))]
        out: list[Effect] = []
        if r > acc.promised:
            acc.promised = r
            out.append(Persist("promised", r))
        if r > self.max_seen:
            self._see(now, r)
        if self.ldr.phase == 0:
            self.leader = src        # a promise is a vote of confidence: a full timeout
            self.leader_seen = now
        if self.promise_rounds:
            report = tuple(Accepted(s, v, self.label(vr)) for s, (vr, v) in sorted(acc.accepted.items()))
        else:
            report = tuple(Accepted(s, v) for s, (vr, v) in sorted(acc.accepted.items()))
        lrn = self.lrn
        if lrn.base:  # compacted: what I accepted up to base is in my snapshot
            out.append(Send(src, SnapPromise(msg.rnd, report, lrn.checkpoints[0])))
        else:
            out.append(Send(src, Promise(msg.rnd, report)))
        return out

    def _on_accept(self, now: float, src: ProcessId, msg: Accept) -> list[Effect]:
        raw = msg.rnd
        r = self.rank_of[raw] if self.ids else raw
        acc = self.acc
        if r < acc.promised:
            return [Send(src, Nack(self.label(acc.promised)))]  # an old leader's accept
        out: list[Effect] = []
        if r > self.max_seen:
            self._see(now, r)
        self.leader_seen = now
        if r > acc.promised:
            acc.promised = r
            out.append(Persist("promised", r))
        slot = msg.slot
        req = msg.request
        acc.accepted[slot] = value = (r, req)
        out.append(Persist(f"a{slot}", value))
        lrn = self.lrn
        if self.learn_to_all:
            lm = Learn(req, slot, raw)
            out.append(Broadcast(self.peers, lm))
            self.busy = True
            if slot >= lrn.next_exec and slot not in lrn.chosen:
                self._tally(slot, r, req, self.mybit | self.bit[src], out)
        else:
            out.append(Send(src, Learn(req, slot, raw)))
            if self.exec_on_accept and slot >= lrn.next_exec:
                lrn.chosen[slot] = req
                lrn.votes.pop(slot, None)
                if slot == lrn.next_exec:
                    self._execute(out)
        return out

    # ---- learner --------------------------------------------------------------------------
    def _on_learn(self, now: float, src: ProcessId, msg: Learn) -> list[Effect]:
        # The most frequent message with five servers: _tally inlined.
        slot = msg.slot
        lrn = self.lrn
        raw = msg.rnd
        r = self.rank_of[raw] if self.ids else raw
        if r > self.max_seen:
            self._see(now, r)
        if slot < lrn.next_exec or slot in lrn.chosen:
            return NOTHING
        votes = lrn.votes
        v = votes.get(slot)
        bits = self.bit[src]
        if v is None or r > v[0]:
            v = votes[slot] = [r, msg.request, bits]
            mask = bits
        elif r == v[0]:
            mask = v[2] = v[2] | bits
        else:
            return NOTHING
        if mask.bit_count() < self.lq:
            return NOTHING
        del votes[slot]
        lrn.chosen[slot] = v[1]
        if self.ldr.inflight:
            self._settled(slot, v[1])
        out: list[Effect] = []
        if slot == lrn.next_exec:
            self._execute(out)
        return out

    def _tally(self, slot: int, r: int, req: Request, bits: int, out: list) -> None:
        lrn = self.lrn
        votes = lrn.votes
        v = votes.get(slot)
        if v is None or r > v[0]:
            v = votes[slot] = [r, req, bits]
            mask = bits
        elif r == v[0]:
            mask = v[2] = v[2] | bits
        else:
            return
        if mask.bit_count() >= self.lq:
            del votes[slot]
            lrn.chosen[slot] = v[1]
            if self.ldr.inflight:
                self._settled(slot, v[1])
            if slot == lrn.next_exec:
                self._execute(out)

    def _settled(self, slot: int, value: Request) -> None:
        """Slot ``slot`` is chosen: stop resending my proposal for it; if another value
        won it (I was a stale leader), my request may be proposed again later."""
        L = self.ldr
        entry = L.inflight.pop(slot, None)
        if entry is not None:
            mine = entry[0]
            if mine.id != value.id and L.proposed.get(mine.id) == slot:
                del L.proposed[mine.id]

    def _execute(self, out: list) -> None:
        lrn = self.lrn
        chosen = lrn.chosen
        svc = lrn.service
        done = svc.done
        log = lrn.log
        L = self.ldr
        reply = self.replies_all or L.phase == 2
        fwd = self.fwd
        sessions = lrn.sessions
        j = lrn.next_exec
        while j in chosen:
            req = chosen.pop(j)
            log.append(req)
            j += 1
            if req is NOOP or req.client == "":
                continue
            if sessions is not None and req.seq:  # _seen, inlined
                last = sessions.get(req.client)
                seen = None if last is None or req.seq > last[0] else last[1] if req.seq == last[0] else OLD
            else:
                seen = done.get(req.id)
            # the leader replies; so does a follower that forwarded the client's request
            answer = reply or (fwd and fwd.pop(req.id, None) is not None)
            if seen is None:  # Service.execute, inlined (the hot path)
                seen = svc.state = svc.state.then(req)
                if sessions is not None and req.seq:
                    sessions[req.client] = (req.seq, seen)
                else:
                    done[req.id] = seen
                out.append(Execute(req, seen))
                if answer:
                    out.append(Reply(req, seen))
            elif answer and seen is not OLD:
                out.append(Reply(req, seen))
            L.proposed.pop(req.id, None)
        lrn.next_exec = j
        if j > self.next_checkpoint:
            self._checkpoint(out)

    # ---- leader -----------------------------------------------------------------------------
    def _on_request(self, now: float, src: ProcessId, msg: ClientRequest) -> list[Effect]:
        req = msg.request
        seen = self._seen(req)
        if seen is not None:
            if seen is OLD:
                return []  # an old copy: its client has moved on
            return [Reply(req, seen)]  # executed already: answer from the record
        L = self.ldr
        if L.phase == 2:
            if req.id in L.proposed:
                return []  # in progress
            out: list[Effect] = []
            self._propose(now, req, out)
            return out
        if L.phase == 1:
            if req not in L.queue:
                L.queue.append(req)
            return []
        if src in self.rank_of:
            return []  # forwarded by another follower: no forwarding loops
        self.fwd[req.id] = req  # kept until executed: handed to the next leader if this one fails
        leader = self.leader
        if leader is not None and leader != self.pid:
            self.fwd_to = leader
            self.fwd_at = now
            return [Send(leader, msg)]
        return []

    def _propose(self, now: float, req: Request, out: list) -> None:
        L = self.ldr
        lrn = self.lrn
        slot = L.next_slot
        if slot < lrn.next_exec:      # a leader that lagged learnt later slots by catching up
            slot = lrn.next_exec
        while slot in lrn.chosen:
            slot += 1
        L.next_slot = slot + 1
        L.proposed[req.id] = slot
        self._send_accept(now, slot, req, out)

    def _send_accept(self, now: float, slot: int, req: Request, out: list) -> None:
        L = self.ldr
        r = L.rnd
        self.acc.accepted[slot] = value = (r, req)
        out.append(Persist(f"a{slot}", value))
        m = Accept(req, slot, L.label)
        out.append(Broadcast(self.peers, m))
        self.busy = True
        lrn = self.lrn
        if slot >= lrn.next_exec and slot not in lrn.chosen:
            L.inflight[slot] = [req, now + self.rtx_every]
            if not self.rtx_armed:
                self.rtx_armed = True
                out.append(self.rtx_timer)
            self._tally(slot, r, req, self.mybit, out)

    def _retransmit(self, now: float) -> list[Effect]:
        """Resend each accept unanswered for ``retransmit`` to the servers whose learn
        is missing (the timer ticks every retransmit/2 while accepts are in flight)."""
        L = self.ldr
        self.rtx_armed = False
        if L.phase != 2 or not L.inflight:
            return []
        out: list[Effect] = []
        votes = self.lrn.votes
        bit = self.bit
        for slot, entry in L.inflight.items():
            if entry[1] > now:
                continue
            entry[1] = now + self.rtx_every
            req = entry[0]
            v = votes.get(slot)
            mask = v[2] if v is not None and v[0] == L.rnd else self.mybit
            m = Accept(req, slot, L.label)
            for p in self.peers:
                if not mask & bit[p]:
                    out.append(Send(p, m))
        self.rtx_armed = True
        out.append(self.rtx_timer)
        return out

    def _on_promise(self, now: float, src: ProcessId, msg: Promise) -> list[Effect]:
        L = self.ldr
        if L.phase != 1 or self.decode(msg.rnd) != L.rnd:
            return []
        out: list[Effect] = []
        if type(msg) is SnapPromise and msg.snapshot is not None:
            # the promiser forgot what it accepted up to its snapshot: take the
            # snapshot first, so that I never propose into a slot below it
            self._install(msg.snapshot, out)
        L.promises[src] = msg.accepted
        if len(L.promises) + 1 >= self.pq:
            out += self._lead(now)
        return out

    def pick(self, reports: list[tuple[ProcessId, tuple[Accepted, ...]]]) -> dict[int, Request]:
        """Per slot, the value the new leader re-proposes: the one with the highest
        vrnd (Paxos); without rounds, the lowest-ranked promiser's (LeaderChange: the
        lowest-ranked other promiser's, its own only if no other reported the slot)."""
        best: dict[int, tuple[Any, Request]] = {}
        if self.promise_rounds:
            for _src, entries in reports:
                for a in entries:
                    vr = self.decode(a.vrnd)
                    b = best.get(a.slot)
                    if b is None or vr > b[0]:
                        best[a.slot] = (vr, a.request)
        else:
            own_last = not self.own_report_first
            order = sorted(reports, key=lambda x: (own_last and x[0] == self.pid, self.rank_of[x[0]]))
            for src, entries in order:
                for a in entries:
                    if a.slot not in best:
                        best[a.slot] = (src, a.request)
        return {s: v for s, (_k, v) in best.items()}

    def _lead(self, now: float) -> list[Effect]:
        L = self.ldr
        lrn = self.lrn
        acc = self.acc
        own = tuple(Accepted(s, v, self.label(vr) if self.promise_rounds else None)
                    for s, (vr, v) in sorted(acc.accepted.items()))
        reports = [(self.pid, own)] + list(L.promises.items())
        values = self.pick(reports)
        L.phase = 2
        L.attempts = 0
        L.promises = {}
        L.inflight = {}
        L.proposed = {}
        self.leader = self.pid
        out: list[Effect] = [Log("leader", L.label)]
        top = max([lrn.next_exec - 1] + list(values) + list(lrn.chosen))
        start = 1 if self.exec_on_accept else lrn.next_exec
        for slot in range(start, top + 1):
            if slot < lrn.next_exec:
                value = lrn.log[slot - 1 - lrn.base]  # executed: tell the others again (LeaderChange)
            elif slot in lrn.chosen:
                value = lrn.chosen[slot]
            else:
                value = values.get(slot, NOOP)
            if value is not NOOP:
                L.proposed[value.id] = slot
            self._send_accept(now, slot, value, out)
        L.next_slot = top + 1
        queue, L.queue = L.queue, []
        if self.fwd:
            queue += self.fwd.values()
            self.fwd = {}
        for req in queue:
            if req.id in L.proposed:
                continue
            seen = self._seen(req)
            if seen is None:
                self._propose(now, req, out)
            elif seen is not OLD:
                out.append(Reply(req, seen))  # executed meanwhile (a snapshot from a promise)
        return out

    # ---- heartbeats and catching up ----------------------------------------------------------
    def _on_heartbeat(self, now: float, src: ProcessId, msg: Heartbeat) -> list[Effect]:
        r = self.decode(msg.rnd)   # the round src leads, 0 if it does not lead
        if r > self.max_seen:
            self._see(now, r)
        elif r and r == self.max_seen and self.ldr.phase == 0:
            self.leader = src
            self.leader_seen = now
        lrn = self.lrn
        out: list[Effect] = []
        if r and r < self.acc.promised:
            out.append(Send(src, Nack(self.label(self.acc.promised))))  # you lead an old round
        if self.fwd and r and r == self.max_seen and (src != self.fwd_to or now - self.fwd_at >= self.rtx_every):
            # a new leader, or the forward may be lost: hand the leader the client
            # requests I forwarded that I have not seen executed
            self.fwd = {k: v for k, v in self.fwd.items() if self._seen(v) is None}
            self.fwd_to = src
            self.fwd_at = now
            for v in self.fwd.values():
                out.append(Send(src, ClientRequest(v)))
        upto = msg.upto
        L = self.ldr
        if not self.learn_to_all:
            # LeaderChange: the leader re-sends its accepts to a server that missed them:
            # one that made no progress since its last heartbeat, or that thinks it
            # leads (this is how the higher-ranked leader wins when partitions merge).
            before = self.peer_seen.get(src)
            self.peer_seen[src] = upto
            if L.phase == 2 and upto < lrn.next_exec - 1 and r <= L.rnd and (r or before == upto):
                for slot in range(upto + 1, L.next_slot):
                    if slot < lrn.next_exec:
                        value = lrn.log[slot - 1 - lrn.base]
                    else:
                        got = self.acc.accepted.get(slot)
                        if got is None:
                            continue
                        value = got[1]
                    out.append(Send(src, Accept(value, slot, L.label)))
            return out
        if upto > self.peer_upto:
            self.peer_upto = upto
        if upto >= lrn.next_exec and now - self.catchup_at >= self.hb_every:
            self.catchup_at = now
            out.append(Send(src, CatchUp(lrn.next_exec)))
        return out

    def _on_catch_up(self, src: ProcessId, msg: CatchUp) -> list[Effect]:
        lrn = self.lrn
        log = lrn.log
        base = lrn.base
        j = msg.slot
        if j < 1 or j > base + len(log):
            return []
        out: list[Effect] = []
        if j <= base:  # compacted away: the snapshot stands in for slots up to base
            out.append(Send(src, lrn.checkpoints[0]))
            j = base + 1
            if not log:
                return out
        out.append(Send(src, Chosen(j, tuple(log[j - 1 - base:j - 1 - base + CATCH_UP_BATCH]))))
        return out

    def _on_chosen(self, now: float, src: ProcessId, msg: Chosen) -> list[Effect]:
        lrn = self.lrn
        out: list[Effect] = []
        slot = msg.slot
        for req in msg.requests:
            if slot >= lrn.next_exec and slot not in lrn.chosen:
                lrn.chosen[slot] = req
                lrn.votes.pop(slot, None)
                if self.ldr.inflight:
                    self._settled(slot, req)
            slot += 1
        self._execute(out)
        if self.peer_upto >= lrn.next_exec and len(msg.requests) == CATCH_UP_BATCH:
            self.catchup_at = now
            out.append(Send(src, CatchUp(lrn.next_exec)))
        return out


    # ---- client sessions, checkpoints and compaction ----------------------------------------
    def _seen(self, req: Request) -> Optional[State]:
        """The state ``req`` was executed in, OLD if it is older than its client's last
        executed request (clients are closed-loop), None if it was not executed."""
        lrn = self.lrn
        sessions = lrn.sessions
        if sessions is not None and req.seq:
            last = sessions.get(req.client)
            if last is None or req.seq > last[0]:
                return None
            return last[1] if req.seq == last[0] else OLD
        return lrn.service.done.get(req.id)

    def _checkpoint(self, out: list) -> None:
        """Take a checkpoint of the service here; keep the last two. Everything up to
        the older one is then forgotten: the log and the accepted values (also on
        stable storage, which gets the checkpoint instead). The service state's chain
        is cut at the new checkpoint at once: O(1), and it only serves the checker.
        Peers that fall behind it catch up from the snapshot."""
        lrn = self.lrn
        sessions = lrn.sessions or {}
        self.next_checkpoint = lrn.next_exec - 1 + self.compact
        snap = Snapshot(lrn.next_exec - 1, lrn.service.state.trimmed(1),
                        tuple((c, seq, st.trimmed(1)) for c, (seq, st) in sorted(sessions.items())),
                        tuple(lrn.service.done.items()))
        # the service goes on from the checkpoint's state: O(1), and the chain of
        # states before it is no longer held here
        lrn.service.state = snap.state
        cps = lrn.checkpoints
        cps.append(snap)
        if len(cps) > 2:
            del cps[0]
        oldest = cps[0]
        if oldest.slot <= lrn.base:
            return
        del lrn.log[:oldest.slot - lrn.base]
        lrn.base = oldest.slot
        self._forget_accepted(oldest, out)
        for c, (seq, st) in sessions.items():
            sessions[c] = (seq, st.trimmed(1))

    def _forget_accepted(self, snap: Snapshot, out: list) -> None:
        """The acceptor forgets what it accepted up to ``snap.slot``; stable storage
        gets the snapshot first (a promise then reports the snapshot instead)."""
        acc = self.acc
        gone = [slot for slot in acc.accepted if slot <= snap.slot]
        for slot in gone:
            del acc.accepted[slot]
        out.append(Persist("snap", snap))
        if gone:
            out.append(Erase(tuple(f"a{slot}" for slot in gone)))

    def _restore(self, snap: Snapshot) -> None:
        """The learner starts over from ``snap``: chosen and executed up to its slot."""
        lrn = self.lrn
        lrn.service.state = snap.state
        if lrn.sessions is not None:
            lrn.sessions = {c: (seq, st) for c, seq, st in snap.sessions}
        lrn.service.done = dict(snap.done)
        lrn.log = []
        lrn.base = snap.slot
        lrn.next_exec = snap.slot + 1
        lrn.checkpoints = [snap]
        if self.compact:
            self.next_checkpoint = snap.slot + self.compact
        for table in (lrn.chosen, lrn.votes):
            for slot in [slot for slot in table if slot <= snap.slot]:
                del table[slot]

    def _install(self, snap: Snapshot, out: list) -> None:
        """A peer's snapshot ahead of me: jump to it (it holds only chosen values),
        then go on executing whatever I already know was chosen after it."""
        lrn = self.lrn
        if snap.slot < lrn.next_exec:
            return
        before = lrn.service.state.length
        self._restore(snap)
        self._forget_accepted(snap, out)
        L = self.ldr
        # requests I owe an answer (I proposed them as leader, or forwarded them)
        owed: dict[str, Request] = {}
        for slot in [slot for slot in L.inflight if slot <= snap.slot]:
            req = L.inflight.pop(slot)[0]
            if req is not NOOP:
                owed[req.id] = req
        for rid in [rid for rid, slot in L.proposed.items() if slot <= snap.slot]:
            del L.proposed[rid]  # executed in the snapshot, or lost its slot: may be proposed again
        if L.next_slot <= snap.slot:
            L.next_slot = snap.slot + 1
        if self.fwd:
            for k, v in self.fwd.items():
                if self._seen(v) is not None:
                    owed[k] = v
            self.fwd = {k: v for k, v in self.fwd.items() if k not in owed}
        state = snap.state
        if state.length > before and state.request is not None:
            out.append(Execute(state.request, state))  # the service jumped to this state
        for req in owed.values():
            # answered as executing it would have (the snapshot may hold a newer
            # request of its client: then the client has had this answer)
            seen = self._seen(req)
            if seen is not None and seen is not OLD:
                out.append(Reply(req, seen))
        self._execute(out)

    def inspect(self, now: float) -> dict:
        """What this server knows, for the viewer (see :mod:`paxsim.protocols.base`):
        its role, the round it leads or tries, the highest round promised, what it
        accepted per slot (round, value), the chosen log and the executed state."""
        acc, ldr, lrn = self.acc, self.ldr, self.lrn
        rnd = self.label
        role = "follower"
        if ldr.phase and self.leader == self.pid:
            role = "leader" if ldr.phase == 2 else "candidate"
        log = {lrn.base + k + 1: v.id for k, v in enumerate(lrn.log)}
        log.update((j, v.id) for j, v in lrn.chosen.items())
        return {"role": role,
                "leader": self.leader,
                "round": rnd(ldr.rnd) if ldr.phase else None,
                "promised": rnd(acc.promised) if acc.promised else None,
                "accepted": {j: f"({rnd(r) if r else '-'}, {v.id})" for j, (r, v) in sorted(acc.accepted.items())},
                "log": dict(sorted(log.items())),
                "executed": lrn.service.state.label(),
                "suspects": [p for p in self.peers if self.det.suspects(now, p)]}


class PaxosPromiseWithoutRound(Paxos):
    """Fig. 12-promise: promises carry the accepted values but not their rounds, so
    the new leader cannot tell which one may have been chosen; it takes the value
    of the lowest-ranked promiser (itself included). Unsafe after successive leader
    changes."""

    name = "paxos_promise_without_round"
    promise_rounds = False


__all__ = ["Acceptor", "CatchUp", "Chosen", "Leader", "Learner", "NOOP", "Nack", "OLD", "Paxos",
           "PaxosPromiseWithoutRound", "SnapPromise", "Snapshot"]
