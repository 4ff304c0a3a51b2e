"""The judgements shared by the batch and the streaming checker.

One core: the invariants' names, the results (:class:`Violation`,
:class:`Verdict`), the candidate reports (:class:`Reports`), the wording of every
violation, exact state identity (:class:`SameChain`) and the liveness rule
(:func:`judge_liveness`). The drivers (:mod:`.batch`, :mod:`.stream`) decide
*when* a judgement is made (all records at once, or one record at a time); what a
violation is and how it reads is decided here, once. An incremental checker (the
exhaustive explorer) can call these judgements on a growing history too.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from heapq import nsmallest
from operator import attrgetter
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from ..history import Execution, FinalWorld, Invocation, Observed
from ..types import Request, State

SAFETY_INVARIANTS: tuple[str, ...] = (
    "prefix_chain",
    "reply_contains_request",
    "no_duplicate",
    "only_sent_requests",
    "client_order",
    "real_time",
    "replica_agreement",
)
LIVENESS_INVARIANTS: tuple[str, ...] = ("liveness", "replica_progress")
INVARIANTS: tuple[str, ...] = SAFETY_INVARIANTS + LIVENESS_INVARIANTS

_INF = float("inf")


# ------------------------------------------------------------------ results ---

def label(state: State, limit: int = 12) -> str:
    """``state.label()``, without walking the whole chain of a long state."""
    if state.length > limit:
        ids: list[str] = []
        node: Optional[State] = state
        while len(ids) < 3 and node is not None and node.request is not None:
            ids.append(node.request.id)
            node = node.parent
        ids.reverse()
        return f"s^(…{state.length - 3} more,{','.join(ids)})"
    return state.label(limit)


def describe(o: Observed) -> str:
    """``Observed.describe()``, with the cheap label."""
    return (
        f"{o.client} saw <{label(o.state)}> for {o.request.id}"
        f" from {o.server} at t={o.time:g}"
    )


@dataclass(frozen=True)
class Violation:
    """One broken invariant, with the records that show it."""

    invariant: str
    detail: str
    replies: tuple[Observed, ...] = ()
    positions: tuple[int, ...] = ()
    latent: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "detail": self.detail,
            "latent": self.latent,
            "positions": list(self.positions),
            "replies": [
                {
                    "client": o.client,
                    "request": o.request.id,
                    "state": label(o.state),
                    "server": o.server,
                    "time": o.time,
                    "pos": o.pos,
                }
                for o in self.replies
            ],
        }


@dataclass(frozen=True)
class Verdict:
    """The outcome of a run and the violations that justify it.

    ``violations`` holds at most ``max_reports_per_invariant`` reports per
    invariant, in the order of :data:`INVARIANTS`; ``omitted`` counts, per
    invariant, the violations found but not reported. ``unjudged`` counts the
    replies the streaming checker could not judge (truncated states beyond what
    it knew, see :mod:`paxsim.streaming`): they were neither accepted nor blamed.
    """

    outcome: str  # "SAFE" | "UNSAFE" | "STUCK"
    violations: tuple[Violation, ...] = ()
    omitted: tuple[tuple[str, int], ...] = ()
    unjudged: int = 0
    notes: tuple[str, ...] = ()  # requests left unanswered where nothing could be done

    @property
    def safety_violations(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.invariant in SAFETY_INVARIANTS)

    @property
    def liveness_violations(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.invariant in LIVENESS_INVARIANTS)

    def to_json(self) -> dict[str, Any]:
        out = {
            "outcome": self.outcome,
            "violations": [v.to_json() for v in self.violations],
            "omitted": {name: n for name, n in self.omitted},
        }
        if self.unjudged:
            out["unjudged"] = self.unjudged
        if self.notes:
            out["notes"] = list(self.notes)
        return out


class Reports:
    """Candidate violations per invariant: sorted by a key, formatted only if reported."""

    def __init__(self, cap: int) -> None:
        self.cap = max(0, cap)
        self.found: dict[str, list[tuple[tuple, int, Callable[[], Violation]]]] = {
            name: [] for name in INVARIANTS
        }
        self.seq = 0
        self.notes: list[tuple[tuple, str]] = []

    def add(self, invariant: str, key: tuple, make: Callable[[], Violation]) -> None:
        self.seq += 1
        self.found[invariant].append((key, self.seq, make))

    def note(self, key: tuple, text: str) -> None:
        """Something to tell that is no violation (a request nobody could answer)."""
        self.notes.append((key, text))

    def sorted_notes(self) -> tuple[str, ...]:
        return tuple(text for _key, text in sorted(self.notes))

    def verdict(self) -> Verdict:
        violations: list[Violation] = []
        omitted: list[tuple[str, int]] = []
        unsafe = stuck = False
        for name in INVARIANTS:
            found = self.found[name]
            if not found:
                continue
            if name in SAFETY_INVARIANTS:
                unsafe = True
            else:
                stuck = True
            # the cap best by (key, arrival); arrival numbers are unique, so ``make`` is never compared
            for _key, _seq, make in nsmallest(self.cap, found):
                violations.append(make())
            if len(found) > self.cap:
                omitted.append((name, len(found) - self.cap))
        outcome = "UNSAFE" if unsafe else "STUCK" if stuck else "SAFE"
        return Verdict(outcome, tuple(violations), tuple(omitted), notes=self.sorted_notes())


# -------------------------------------------------------------- sort keys ---

# (built in C: an unsafe run adds a report for every reply off the main chain)
reply_key: Callable[[Observed], tuple] = attrgetter(
    "time", "pos", "client", "request.id", "server", "state.length", "state.digest")
"""An Observed's sort key: (time, pos, client, request id, server, state length, digest)."""

inv_key: Callable[[Invocation], tuple] = attrgetter("time", "pos", "client", "request.id", "request.client")
"""An Invocation's sort key: (time, pos, client, request id, the request's client)."""

exec_key: Callable[[Execution], tuple] = attrgetter(
    "time", "pos", "replica", "request.id", "state.length", "state.digest")
"""An Execution's sort key: (time, pos, replica, request id, state length, digest)."""



LIVENESS_RULE = (
    "a request is STUCK only if, after the last fault, its client could reach (over links"
    " that deliver, among the servers it may contact) a quorum of up servers that reach"
    " each other, for at least settle, and sent the request often enough that the"
    " network's loss alone would have lost every try with probability under 1%; a replica"
    " lagging behind another is STUCK under the same rule, counting the round trips"
    " between servers that fit in the time it had to catch up")
HOPS = 4          # messages one try needs to get through: request, accept, learn, reply
UNLIKELY = 0.01   # below this, losing every try is not an excuse


def all_tries_may_be_lost(tries: int, loss: float) -> bool:
    """Whether ``tries`` sends over links that lose ``loss`` of their messages may all
    have failed by loss alone (probability at least :data:`UNLIKELY`)."""
    return loss > 0 and (1.0 - (1.0 - loss) ** HOPS) ** tries >= UNLIKELY


def judge_liveness(final: FinalWorld, unanswered: Iterable[Invocation], last: Mapping[str, Execution],
                   add: Callable[[str, tuple, Callable[[], Violation]], None],
                   note: Optional[Callable[[tuple, str], None]] = None) -> None:
    """Liveness at the end of a settled run, for the batch and the streaming checker:
    :data:`LIVENESS_RULE` (VOPR's liveness phase, judged on the world at the end).

    ``unanswered``: the invocations no reply answered; ``last``: each replica's last
    execution (read only when ``final.catch_up``); ``add(invariant, key, make)``
    collects the candidate reports; ``note(key, text)`` what was left unanswered
    where nothing could be done (not a violation).
    """
    reach: dict[str, list[str]] = {}
    for inv in unanswered:
        c = inv.client
        servers = reach.get(c)
        if servers is None:
            servers = reach[c] = final.reachable_servers(c)
        rid = inv.request.id
        why = None
        tried = final.tries.get(c)
        tries = tried[1] if tried is not None and tried[0] == rid else None
        loss = final.loss.get(c, 0.0)
        if len(servers) < final.quorum:
            why = (f"no quorum ({final.quorum}) of up servers that reach each other was reachable"
                   f" from {c} at the end" + (f" (only {', '.join(servers)})" if servers else ""))
        elif tries == 0:
            why = f"never resent after the last fault (t={final.last_fault:g})"
        elif tries is not None and all_tries_may_be_lost(tries, loss):
            since = f" after the last fault (t={final.last_fault:g})" if final.last_fault else ""
            why = (f"sent {tries} time{'s' if tries != 1 else ''}{since} over links"
                   f" losing {loss:.0%}: all may have been lost")
        if why is None:
            add("liveness", inv_key(inv),
                lambda inv=inv, servers=servers, tries=tries: liveness_violation(inv, servers, final, tries))
        elif note is not None:
            note((0,) + inv_key(inv), f"{rid} (invoked by {c} at t={inv.time:g}) unanswered: {why}; not judged")

    if not final.catch_up:
        return
    up = [s for s in final.servers if s in final.up]

    def done(s: str) -> int:
        e = last.get(s)
        return 0 if e is None else e.state.length

    for r in up:
        ahead: Optional[str] = None
        for s in up:
            if s != r and done(s) > done(r) and final.connected(r, s):
                if ahead is None or done(s) > done(ahead):
                    ahead = s
        if ahead is None:
            continue
        # the time r had to catch up, in round trips: loss alone may explain a short one
        since = max(final.last_fault, last[ahead].time)
        trips = int((final.end_time - since) / final.round_trip) if final.round_trip > 0 else None
        if trips is not None and all_tries_may_be_lost(trips, final.server_loss):
            if note is not None:
                note((1, final.servers.index(r)),
                     f"{r} executed {done(r)} requests while {ahead} executed {done(ahead)}, but only"
                     f" {trips} round trip{'s' if trips != 1 else ''} passed since t={since:g} over links"
                     f" losing {final.server_loss:.0%}: catching up may have been lost; not judged")
            continue
        pos = tuple(last[x].pos for x in (r, ahead) if x in last)
        add("replica_progress", (final.servers.index(r),),
            lambda r=r, ahead=ahead, pos=pos: Violation(
                "replica_progress",
                f"{r} is up and connected to {ahead} but executed {done(r)}"
                f" requests while {ahead} executed {done(ahead)}",
                (), pos))



def never_sent(r: Request) -> str:
    return f"no client ever invoked {r.id}"


def invented_execution_violation(e: Execution) -> Violation:
    return Violation(
        "only_sent_requests",
        f"{e.replica} executed {e.request.id} as request {e.state.length} at t={e.time:g},"
        f" but {never_sent(e.request)}",
        (), (e.pos,), latent=True)


def fork_violation(a: Observed, b: Observed) -> Violation:
    if reply_key(b) < reply_key(a):
        a, b = b, a
    return Violation(
        "prefix_chain",
        f"{describe(a)} but {describe(b)}: neither state is a prefix of the other",
        (a, b), (a.pos, b.pos))


def missing_violation(o: Observed) -> Violation:
    return Violation(
        "reply_contains_request",
        f"{describe(o)}, but that state does not contain {o.request.id}",
        (o,), (o.pos,))


def dup_violation(o: Observed, rid: str, q: int, p: int) -> Violation:
    return Violation(
        "no_duplicate",
        f"{describe(o)}, in which {rid} was executed twice: as request {q} and as request {p}",
        (o,), (o.pos,))


def invented_violation(o: Observed, r: Request, p: int, why: str) -> Violation:
    return Violation(
        "only_sent_requests",
        f"{describe(o)}, whose request {p} is {r.id}, but {why}",
        (o,), (o.pos,))


def order_violation(o: Observed, inv: Invocation, p: int, later: Invocation, q: int) -> Violation:
    return Violation(
        "client_order",
        f"{inv.client} invoked {inv.request.id} (t={inv.time:g}) before {later.request.id}"
        f" (t={later.time:g}), but {describe(o)}, which executed {later.request.id}"
        f" as request {q} and {inv.request.id} as request {p}",
        (o,), (inv.pos, later.pos, o.pos))


def real_time_violation(a: Observed, pa: int, inv: Invocation, pb: int, o: Observed) -> Violation:
    return Violation(
        "real_time",
        f"{a.request.id} was answered before {inv.client} invoked {inv.request.id} at"
        f" t={inv.time:g} ({describe(a)}), but {describe(o)}, which executed"
        f" {inv.request.id} as request {pb} before {a.request.id} as request {pa}",
        (a, o) if o is not a else (a,),
        (a.pos, inv.pos, o.pos))


def future_request_violation(o: Observed, inv: Invocation) -> Violation:
    """real_time, the other way round: a reply holds a request invoked after it arrived."""
    return Violation(
        "real_time",
        f"{describe(o)}, but that state holds {inv.request.id}, which {inv.client} invoked"
        f" only later, at t={inv.time:g}",
        (o,), (o.pos, inv.pos))


def agreement_violation(f: Execution, e: Execution) -> Violation:
    p = e.state.length
    other = "later executed" if f.replica == e.replica else "executed"
    if f.request.id != e.request.id:
        detail = (f"{f.replica} executed {f.request.id} as request {p} at t={f.time:g},"
                  f" but {e.replica} {other} {e.request.id} as request {p} at t={e.time:g}")
    elif f.replica == e.replica:
        detail = (f"{f.replica} executed {e.request.id} as request {p} twice, in different"
                  f" states: <{label(f.state)}> at t={f.time:g} and <{label(e.state)}>"
                  f" at t={e.time:g}")
    else:
        detail = (f"{f.replica} and {e.replica} both executed {e.request.id} as request {p},"
                  f" but in different states: <{label(f.state)}> at t={f.time:g}"
                  f" against <{label(e.state)}> at t={e.time:g}")
    return Violation("replica_agreement", detail, (), (f.pos, e.pos), latent=True)


def liveness_violation(inv: Invocation, servers: list[str], final: Any,
                       tries: Optional[int] = None) -> Violation:
    sent = "" if tries is None else f"; {inv.client} sent it {tries} time{'s' if tries != 1 else ''} since"
    return Violation(
        "liveness",
        f"{inv.request.id}, invoked by {inv.client} at t={inv.time:g}, never got a reply,"
        f" although from the last fault (t={final.last_fault:g}) to the end (t={final.end_time:g})"
        f" {', '.join(servers)} {'was' if len(servers) == 1 else 'were'} up, reachable from"
        f" {inv.client} over links that deliver, and reached each other (quorum {final.quorum}){sent}"
        f" (STUCK: {LIVENESS_RULE})",
        (), (inv.pos,))



# --------------------------------------------------------- state identity ---

class SameStates:
    """Exact equality of states (as ``State.__eq__``), remembering which nodes were
    found equal (union-find over node ids), so that comparing many states that
    grew from each other (replicas' executions) walks each node about once.

    Nodes are remembered by ``id()``: the states compared must stay alive while
    this object is used (a batch history holds them)."""

    __slots__ = ("rep",)

    def __init__(self) -> None:
        self.rep: dict[int, int] = {}

    def find(self, node: State) -> int:
        rep = self.rep
        i = id(node)
        while i in rep:
            i = rep[i]
        return i

    def __call__(self, a: State, b: State) -> bool:
        if a is b:
            return True
        if a.length != b.length or a.digest != b.digest:
            return False
        find = self.find
        path: list[tuple[State, State]] = []
        x: Optional[State] = a
        y: Optional[State] = b
        while x is not None and y is not None and x is not y and find(x) != find(y):
            rx, ry = x.request, y.request
            if rx is None or ry is None:  # a snapshot node: nothing listed below it
                if x.length != y.length or x.digest != y.digest:
                    return False
                break
            if rx.id != ry.id or rx.client != ry.client:
                return False
            path.append((x, y))
            x, y = x.parent, y.parent
        else:
            if (x is None) != (y is None) and (x or y).length:  # one ran out, the other is not empty
                return False
        rep = self.rep
        for x, y in path:
            i, j = find(x), find(y)
            if i != j:
                rep[i] = j
        return True


_NONE: tuple[int, ...] = ()


def walk_off_chain(state: State, on_chain: Callable[[State], bool], known: Mapping[State, Any],
                   parent: Callable[[State], Optional[State]] = attrgetter("parent"),
                   cut: Optional[Callable[[State], bool]] = None,
                   ) -> tuple[list[State], Optional[State], str, Sequence[int]]:
    """The off-chain walk, shared by both checkers: from ``state`` down, collect the
    nodes that are not on the main chain, until the walk meets the chain
    (``on_chain(node)``, "chain"), a node walked before (in ``known``, "known"), a
    snapshot node or the empty state, below which nothing is listed ("snapshot"),
    or the end of a chain without a parent ("bottom").

    Equal states are one state, whichever copy a walk meets first: a known node
    whose earlier walk stopped at a snapshot node below it (``cut(node)``; None:
    there is no such node) does not stop this walk if this copy lists a request
    there: the walk goes on, listing the known nodes again, so that what lies below
    the snapshot node is found. Returns (nodes walked, top first; the node it
    stopped at; why; the indices, among the nodes walked, of those that were
    known: usually none)."""
    path: list[State] = []
    again: Sequence[int] = _NONE
    node: Optional[State] = state
    while node is not None:
        if on_chain(node):
            return path, node, "chain", again
        if node in known:
            if cut is None or node.request is None or not cut(node):
                return path, node, "known", again
            if not again:
                again = []
            again.append(len(path))  # type: ignore[attr-defined]
        elif node.request is None:
            return path, node, "snapshot", again
        path.append(node)
        node = parent(node)
    return path, None, "bottom", again


class OnChain:
    """Whether a state is exactly a node of one reference chain (the batch checker's
    main chain): the digest is compared first, then the requests are, walking the
    state down until it meets a node of the chain itself or one already
    confirmed. Each node is confirmed once (remembered by ``id()``: the states
    must stay alive meanwhile)."""

    __slots__ = ("nodes", "digests", "confirmed", "refuted")

    def __init__(self, nodes: list[State], digests: list[int]) -> None:
        self.nodes = nodes        # the chain's nodes, oldest first (position p at p - 1)
        self.digests = digests    # digests[p]: the chain's digest at p (0 at 0)
        self.confirmed: set[int] = set()
        self.refuted: set[int] = set()

    def __call__(self, state: State) -> bool:
        nodes = self.nodes
        digests = self.digests
        confirmed = self.confirmed
        n = len(nodes)
        path: list[int] = []
        node: Optional[State] = state
        while node is not None:
            p = node.length
            if p > n or digests[p] != node.digest:
                return False
            if p == 0 or node is nodes[p - 1] or id(node) in confirmed:
                break
            r = node.request
            if r is None:  # a snapshot node: equal length and digest is all there is
                break
            c = nodes[p - 1].request
            if c is None or r.id != c.id or r.client != c.client or id(node) in self.refuted:
                self.refuted.update(path)
                self.refuted.add(id(node))
                return False
            path.append(id(node))
            node = node.parent
        confirmed.update(path)
        return True
