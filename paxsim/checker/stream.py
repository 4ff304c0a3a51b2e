"""Judge a run as it goes, keeping no records: the streaming checker.

``StreamChecker`` takes the records of a run one at a time, in the order they
happened (non-decreasing ``(time, pos)``, the three kinds interleaved), and keeps
only compact state, so that a run of any length checks in bounded memory::

    sc = StreamChecker()
    history = History.streaming(sc)     # hosts and clients append to its sinks
    ...                                 # run
    verdict = sc.verdict(history.final) # or paxsim.checker.check(history)

It checks the invariants of :mod:`paxsim.checker` (same names, same outcome rules,
same :class:`~paxsim.checker.Verdict`), against one *main chain* built as replies
arrive instead of the longest observed state.

What it keeps
-------------
A request is identified by ``(client, seq)`` (``Request.seq``, set by the
simulator's clients) and its identity is checked with ``Request.key`` (CRC-32 of
the id: a client's seq-th request is one request in any simulated run). Per client: an array of the keys of its invoked requests by seq (4 bytes
each) and an array of their first positions on the main chain (4 bytes each, 8
past 2**32 - 1; 0: not on it yet). The main chain is an ``array('Q')`` of digests
by position (8 bytes each), shared with the replicas' first executions: where a
first execution disagrees with the chain, the execution's digest goes to a side
table (only in unsafe runs); who first executed each position takes one byte.
Everything else is O(clients + servers): the requests not answered yet (a
closed-loop client has one), the last execution per replica, the first
executions not yet on the chain (as far as executions run ahead of replies, at
most 65,536), and at most ``max_reports_per_invariant`` best candidate reports
per invariant (with the records they name; the others are only counted). So 17
bytes per request in all (plus the arrays' over-allocation, at most 1/16).

A request that cannot be numbered by its seq (seq 0, out of sequence: only in
hand-built histories, never in the simulator's) is identified by its id in a side
table: that costs a dict entry per such request.

How it judges
-------------
- The main chain starts empty and grows with every reply whose state extends it:
  a reply whose state has length L within the chain is on it iff its digest
  matches and, exactly, each of its requests is the one placed at its position
  (walked down to the state last confirmed for the replying server, or the
  chain's own nodes: a digest collision never passes); a longer one is walked down (``State.parent``) to the chain's end and
  its new nodes are appended if the digests meet there. Appending a node *places*
  its request: ``no_duplicate`` if the request is already placed, ``client_order``
  if its client already placed a request it invoked later, ``only_sent_requests``
  if no client invoked it (judged at the end: it may still be invoked later, see
  ``real_time``).
- A reply not on the main chain is a fork (``prefix_chain``), reported against
  the reply that last extended the main chain (the batch checker takes the
  shortest chain reply that is not a prefix of it; any chain reply longer than the
  fork point shows the same fork). Its nodes off the chain are walked down to the
  chain (each node once) and their contents checked as the batch checker does.
- ``reply_contains_request``: a reply on the chain of length L to request r needs
  0 < position(r) <= L.
- ``real_time``, the other way round: a request that a reply held before its
  invocation came is reported when the invocation comes.
- ``real_time``: the main chain is built in position order and a request is
  placed only once invoked, so a request invoked after a reply always lands
  beyond every position answered so far. The one way to break real time is for a
  state to hold a request before its client invokes it: such a request is placed
  tentatively (by id) and, when the invocation comes, it is a violation if it sits
  below the highest position answered before the invocation (as in the batch
  checker, a reply at the same ``(time, pos)`` does not precede it).
- ``replica_agreement`` (latent): an execution at position p is compared with the
  first execution at p (digest, and the request itself: a replica's earlier
  positions were compared when it executed them); one report per replica pair. An execution may jump ahead
  (a replica that installed a snapshot): the positions in between stay unknown
  (a hole) until some replica executes them; nothing is invented for them.
- Liveness, at :meth:`StreamChecker.verdict` when the run settled: the requests
  never answered, and each up replica's last execution, exactly as batch.

Truncated states
----------------
A state may end in a *snapshot node* (``State.trimmed``: no request, no parent,
length B > 0): the requests below B are not listed. When a walk meets one at B:

- within the chain (B <= chain length): its digest must equal the chain's at B,
  otherwise it is a fork;
- beyond the chain's end n: the requests n+1..B are taken from the first
  executions at those positions, if they are all known and chaining them onto the
  chain's digest at n gives the snapshot node's digest at B; then the chain is
  extended with them (placing them as above) and with the reply's own nodes.
  Otherwise the reply cannot be judged: it is counted in ``Verdict.unjudged`` and
  judged no further (never a violation that might be false). A fork below a
  snapshot node off the chain is reported, but the contents below the snapshot
  are not checked until a fuller copy (of that state or of one built on it)
  lists them: its walk goes on below the nodes walked before (equal states are
  one state), and the replies that come later are judged on what it found.

Differences from the batch checker
----------------------------------
On runs whose replies form one chain they agree on the outcome and on which
invariants are broken. When the replies fork, the main chain is the first branch
observed (batch: the longest state), so which replies are off the chain, and what
is reported about their contents, can differ; the outcome (UNSAFE) cannot.
Reports may name fewer records: ``client_order`` names the invocation times only
while the requests are unanswered when placed (as they are when a reply places
its own request), ``replica_agreement`` names the replica that first executed the
position but not what it executed, and ``prefix_chain`` pairs a reply with the
reply that last extended the main chain. Records must come in order: a state that
lists a request before its invocation record is taken as holding a request not
yet invoked (see ``real_time``), which the batch checker, sorting each list on
its own, cannot tell.
"""

from __future__ import annotations

from array import array
from itertools import repeat
from typing import Any, Callable, Optional

from ..history import Execution, FinalWorld, Invocation, Observed
from ..types import EMPTY, Request, State, chain_digest
from .core import (
    INVARIANTS,
    SAFETY_INVARIANTS,
    Reports,
    Verdict,
    Violation,
    describe,
    dup_violation,
    exec_key,
    fork_violation,
    future_request_violation,
    inv_key,
    invented_execution_violation,
    invented_violation,
    judge_liveness,
    label,
    missing_violation,
    never_sent,
    order_violation,
    real_time_violation,
    reply_key,
    walk_off_chain,
)

# CRC-32 keys and chain positions take 4 bytes each where an unsigned int has 32
# bits; positions move to 8 bytes ('q') past 2**32 - 1 (see _set_pos).
_KEY_CODE = _POS_CODE = "I" if array("I").itemsize >= 4 else "L"
_ON, _OFF, _UNJUDGED = 1, 2, 3
_XBUF_MAX = 1 << 16  # first executions kept ahead of the main chain, at most


class _Sink:
    """Where the simulator appends one kind of record: straight into the checker.

    It holds nothing: ``len`` is 0 and iterating it is an error (a streaming
    history has no records to read)."""

    __slots__ = ("append", "kind")

    def __init__(self, append: Callable[[Any], None], kind: str) -> None:
        self.append = append
        self.kind = kind

    def __len__(self) -> int:
        return 0

    def __iter__(self):
        raise TypeError(f"a streaming history keeps no {self.kind}: they were judged as they came")

    def __repr__(self) -> str:
        return f"<streaming sink for {self.kind}>"


class _Client:
    """What is kept per client. Slot k is its k-th invoked request (its seq)."""

    __slots__ = ("name", "keys", "pos", "open", "top_slot", "top_req", "top_pos", "top_inv",
                 "last_req", "last_pos", "last_inv")

    def __init__(self, name: str) -> None:
        self.name = name
        self.keys = array(_KEY_CODE, [0])  # slot -> Request.key (slot 0 unused)
        self.pos = array(_POS_CODE, [0])  # slot -> first position on the main chain (0: none)
        self.open: dict[int, Invocation] = {}  # slot -> invocation not answered yet
        self.top_slot = 0                  # the latest-invoked request placed so far ...
        self.top_req: Optional[Request] = None
        self.top_pos = 0                   # ... its position
        self.top_inv: Optional[Invocation] = None  # ... and its invocation, if still at hand
        self.last_req: Optional[Request] = None  # the request placed at the highest position
        self.last_pos = 0
        self.last_inv: Optional[Invocation] = None


class _Branch:
    """A path of nodes off the main chain, from where it leaves the chain (``fork``:
    the chain position below it, or -1 if unknown: below a snapshot node) upward;
    ``ids``: request id -> its first length on the path; ``tip``: the top length."""

    __slots__ = ("fork", "ids", "tip")

    def __init__(self, fork: int, ids: dict[str, int], tip: int) -> None:
        self.fork = fork
        self.ids = ids
        self.tip = tip


class _BoundedReports(Reports):
    """:class:`~paxsim.checker.core.Reports` that keeps only the ``cap`` best candidates
    per invariant (by key, then by arrival), counting the others."""

    def __init__(self, cap: int) -> None:
        super().__init__(cap)
        self.dropped = dict.fromkeys(INVARIANTS, 0)
        self.limit = 2 * self.cap + 16

    def add(self, invariant: str, key: tuple, make: Callable[[], Violation]) -> None:
        self.seq += 1
        found = self.found[invariant]
        found.append((key, self.seq, make))
        if len(found) > self.limit:
            found.sort(key=_candidate_order)
            self.dropped[invariant] += len(found) - self.cap
            del found[self.cap:]

    def copy(self) -> "_BoundedReports":
        other = _BoundedReports(self.cap)
        other.found = {name: list(c) for name, c in self.found.items()}
        other.dropped = dict(self.dropped)
        other.seq = self.seq
        other.notes = list(self.notes)
        return other

    def verdict(self, unjudged: int = 0) -> Verdict:
        violations: list[Violation] = []
        omitted: list[tuple[str, int]] = []
        unsafe = stuck = False
        for name in INVARIANTS:
            found = self.found[name]
            total = len(found) + self.dropped[name]
            if not total:
                continue
            if name in SAFETY_INVARIANTS:
                unsafe = True
            else:
                stuck = True
            found.sort(key=_candidate_order)
            for _key, _seq, make in found[: self.cap]:
                violations.append(make())
            if total > self.cap:
                omitted.append((name, total - self.cap))
        outcome = "UNSAFE" if unsafe else "STUCK" if stuck else "SAFE"
        return Verdict(outcome, tuple(violations), tuple(omitted), unjudged=unjudged,
                       notes=self.sorted_notes())


def _set_pos(cl: _Client, s: int, p: int) -> None:
    try:
        cl.pos[s] = p
    except OverflowError:  # a position past 2**32 - 1: 8 bytes each from now on
        cl.pos = array("q", cl.pos)
        cl.pos[s] = p


def _candidate_order(c: tuple) -> tuple:
    return (c[0], c[1])


def _parent(node: State) -> State:
    """The node below ``node`` (which lists a request); the empty state below length 1."""
    parent = node.parent
    if parent is None:
        if node.length == 1:
            return EMPTY
        raise ValueError(f"malformed state: node of length {node.length} has no parent")
    if parent.length != node.length - 1:
        raise ValueError(f"malformed state chain: node of length {node.length} on one of length {parent.length}")
    return parent


class StreamChecker:
    """Judges records as they are appended; see the module docstring.

    ``invocations``, ``replies``, ``executions``: sinks with an ``append(record)``
    method (``History.streaming(checker)`` uses them as its lists). Records must
    come in non-decreasing ``(time, pos)`` order, interleaved as they happened.
    """

    def __init__(self, max_reports_per_invariant: int = 5) -> None:
        self.reports = _BoundedReports(max(0, max_reports_per_invariant))
        self.invocations = _Sink(self._invoke, "invocations")
        self.replies = _Sink(self._reply, "replies")
        self.executions = _Sink(self._execute, "executions")

        self._clients: dict[str, _Client] = {}
        self._by_id: dict[str, tuple[_Client, int]] = {}  # requests not numbered by seq
        # The main chain: digests by position (0: the empty state); _n: its length.
        self._d = array("Q", [0])
        self._n = 0
        self._top: Optional[Observed] = None  # the reply that last extended the main chain
        self._tip: Optional[State] = None  # ... and its state (the chain's own top node)
        # Exact identity: per server, the longest state confirmed to be on the chain
        # request by request (walks stop there); positions holding a duplicate.
        self._ok: dict[str, State] = {}
        self._dup_at: dict[int, str] = {}
        # real_time: the highest chain position among the requests answered so far,
        # and the first reply that reached it; the same before the latest (time, pos).
        self._best = 0
        self._best_reply: Optional[Observed] = None
        self._best_prev = 0
        self._best_prev_reply: Optional[Observed] = None
        self._rt: Any = None
        self._rp: Any = None
        # Requests seen before (or without) their invocation, by id: only in unsafe
        # or hand-made histories. _early is set once any of these is non-empty.
        self._early = False
        self._unsent_chain: dict[str, tuple[int, Observed, Request]] = {}
        self._unsent_off: dict[str, tuple[Observed, Request, int]] = {}
        self._unsent_exec: dict[str, Execution] = {}
        self._answered_early: set[str] = set()
        self._missing_seen: set[tuple[str, int]] = set()  # reply_contains_request reported on the chain
        # Off the main chain (only in unsafe runs): walked nodes, reported states.
        self._off: dict[State, _Branch] = {}
        self._off_reported: set[State] = set()
        self._off_checked: set[tuple[str, State]] = set()
        self._cuts = 0  # walks that stopped at a snapshot node off the chain
        self._unjudged = 0
        # Executions. Positions 1.._xcont and those in _xextra were executed; the
        # first execution's digest is _d[p], or _xdiff[p] where it differs from the
        # main chain. Who first executed p: _reps[_xfirst[p] - 1] (one byte each).
        self._xcont = 0
        self._xextra: set[int] = set()
        self._xdiff: dict[int, int] = {}
        self._xfirst = array("B", [0])
        self._reps: list[str] = []
        self._rep_index: dict[str, int] = {}
        self._xreq: dict[int, str] = {}  # position -> first executed request, where not the chain's
        self._xbuf: dict[int, Request] = {}  # position -> first executed request, beyond the chain
        self._xlast: dict[str, Execution] = {}  # replica -> its last execution
        self._pairs: set[tuple[str, str]] = set()

    # ------------------------------------------------------------ the sinks ---

    def _invoke(self, inv: Invocation) -> None:
        r = inv.request
        cl = self._clients.get(r.client)
        if cl is None:
            cl = self._clients[r.client] = _Client(r.client)
        keys = cl.keys
        s = r.seq
        if s == len(keys):  # the next in its client's sequence: the simulator's case
            keys.append(r.key)
            cl.pos.append(0)
        else:
            s = self._odd_invocation(cl, r)
            if s < 0:
                return  # invoked again: the first invocation counts
        cl.open[s] = inv
        if self._early:
            self._invoked_late(inv, cl, s)

    def _reply(self, o: Observed) -> None:
        s = o.state
        L = s.length
        n = self._n
        if L <= n:
            on = _ON if self._d[L] == s.digest and self._exact(s, o.server) else self._off_chain(o)
        elif L == n + 1 and s.request is not None and (parent := s.parent) is not None \
                and parent.length == n and parent.digest == self._d[n] \
                and (parent is self._tip or self._exact(parent, o.server)):
            self._push(s.digest, s.request, o)  # one node onto the chain: the common case
            self._top = o
            self._tip = s
            on = _ON
        else:
            on = self._extend(o, s, L)
        r = o.request
        cl = self._clients.get(r.client)
        q = r.seq
        if cl is not None and 0 < q < len(cl.keys) and cl.keys[q] == r.key:
            p = cl.pos[q]
            cl.open.pop(q, None)
        else:
            p = self._odd_reply(r)
        if on == _ON and not 0 < p <= L:
            self._missing(o, L)
        t = o.time
        tp = o.pos
        if t != self._rt or tp != self._rp:
            self._rt = t
            self._rp = tp
            self._best_prev = self._best
            self._best_prev_reply = self._best_reply
        if p > self._best:
            self._best = p
            self._best_reply = o

    def _execute(self, e: Execution) -> None:
        st = e.state
        p = st.length
        self._xlast[e.replica] = e
        if p <= self._xcont:  # executed before: it must agree with the first execution
            f = self._d[p]
            if self._xdiff:
                f = self._xdiff.get(p, f)
            if f != st.digest or not self._same_first(e.request, p):
                self._disagree(e, p)
            # the same request as the first execution's at p; below p, each position
            # was compared when this replica executed it (or by digest, after a jump)
        elif p > 0:
            self._first_execution(e, p, st.digest)

    # -------------------------------------------------------- identification ---

    def _odd_invocation(self, cl: _Client, r: Request) -> int:
        """An invocation that is not the next of its client's seq: a repeat (-1), or
        a request numbered by the order of its client's invocations, found by id."""
        s = r.seq
        if 0 < s < len(cl.keys) and cl.keys[s] == r.key:
            return -1
        if r.id in self._by_id:
            return -1
        s = len(cl.keys)
        cl.keys.append(r.key)
        cl.pos.append(0)
        self._by_id[r.id] = (cl, s)
        return s

    def _find(self, r: Request) -> tuple[Optional[_Client], int]:
        """(client, slot) of an invoked request, or (None, 0)."""
        cl = self._clients.get(r.client)
        s = r.seq
        if cl is not None and 0 < s < len(cl.keys) and cl.keys[s] == r.key:
            return cl, s
        hit = self._by_id.get(r.id) if self._by_id else None
        if hit is not None:
            return hit
        return None, 0

    def _position(self, r: Request) -> int:
        """``r``'s first position on the main chain (0: none)."""
        cl, s = self._find(r)
        if cl is not None:
            return cl.pos[s]
        if self._unsent_chain:
            hit = self._unsent_chain.get(r.id)
            if hit is not None:
                return hit[0]
        return 0

    def _odd_reply(self, r: Request) -> int:
        cl, s = self._find(r)
        if cl is not None:
            cl.open.pop(s, None)
            return cl.pos[s]
        self._answered_early.add(r.id)  # invoked later, if ever
        self._early = True
        hit = self._unsent_chain.get(r.id)
        return 0 if hit is None else hit[0]

    def _check_execution(self, e: Execution) -> None:
        """only_sent_requests for an execution (judged at the end: the request may
        still be invoked later)."""
        r = e.request
        cl = self._clients.get(r.client)
        s = r.seq
        if cl is not None and 0 < s < len(cl.keys) and cl.keys[s] == r.key:
            return
        cl, _s = self._find(r)
        if cl is None and r.id not in self._unsent_exec:
            self._unsent_exec[e.request.id] = e
            self._early = True

    def _invoked_late(self, inv: Invocation, cl: _Client, s: int) -> None:
        """The invocation of a request that records already named."""
        r = inv.request
        rid = r.id
        if rid in self._answered_early:
            self._answered_early.discard(rid)
            cl.open.pop(s, None)
        off = self._unsent_off.pop(rid, None)
        self._unsent_exec.pop(rid, None)
        hit = self._unsent_chain.pop(rid, None)
        # real_time, the other way round: a reply held r before r was invoked
        early = hit[1] if hit is not None else off[0] if off is not None else None
        if early is not None:
            self.reports.add("real_time", inv_key(inv), lambda: future_request_violation(early, inv))
        if hit is None:
            return
        p, _o, _r = hit
        _set_pos(cl, s, p)
        witness = self._top
        assert witness is not None
        if cl.last_pos > p:
            # invoked before r, placed after it
            a, pa, ia = cl.last_req, cl.last_pos, cl.last_inv
            self.reports.add("client_order", (pa, p),
                             lambda: _order(witness, a, ia, pa, r, inv, p))
        cl.top_slot, cl.top_req, cl.top_pos, cl.top_inv = s, r, p, inv
        if p > cl.last_pos:
            cl.last_req, cl.last_pos, cl.last_inv = r, p, inv
        if inv.time == self._rt and inv.pos == self._rp:
            best, a_reply = self._best_prev, self._best_prev_reply
        else:
            best, a_reply = self._best, self._best_reply
        if p < best and early is None:  # (else reported above, the same inversion)
            self.reports.add("real_time", inv_key(inv),
                             lambda a=a_reply, pa=best, w=witness: real_time_violation(a, pa, inv, p, w))

    # --------------------------------------------------------- the main chain ---

    def _extend(self, o: Observed, s: State, L: int) -> int:
        """A reply longer than the main chain: extend the chain with it if it is on
        it (_ON); else it is a fork (_OFF) or cannot be judged (_UNJUDGED)."""
        n = self._n
        node = s
        path: list[State] = []
        while node.length > n:
            if node.request is None:
                return self._gap(o, path, node)
            path.append(node)
            node = _parent(node)
        if node.digest != self._d[n] or not self._exact(node, o.server):
            return self._off_chain(o)
        push = self._push
        for nd in reversed(path):
            push(nd.digest, nd.request, o)
        self._top = o
        self._tip = o.state
        return _ON

    def _gap(self, o: Observed, path: list[State], snap: State) -> int:
        """The walk down from a reply met a snapshot node beyond the chain's end:
        fill the gap with the first executions, if they lead to the snapshot."""
        n = self._n
        B = snap.length
        buf = self._xbuf
        d = self._d[n]
        fill: list[tuple[int, Request]] = []
        for p in range(n + 1, B + 1):
            r = buf.get(p)
            if r is None:
                break
            d = chain_digest(d, r.key)
            fill.append((d, r))
        if len(fill) != B - n or d != snap.digest:
            self._unjudged += 1
            return _UNJUDGED
        push = self._push
        for d, r in fill:
            push(d, r, o)
        for nd in reversed(path):
            push(nd.digest, nd.request, o)
        self._top = o
        self._tip = o.state
        return _ON

    def _push(self, digest: int, r: Request, o: Observed) -> None:
        """Append a node to the main chain and place its request there."""
        D = self._d
        p = self._n + 1
        if p < len(D):  # the executions got here first
            if p <= self._xcont or p in self._xextra:
                if D[p] != digest:
                    self._xdiff[p] = D[p]
            D[p] = digest
        else:
            D.append(digest)
        self._n = p
        if self._xbuf:
            f = self._xbuf.pop(p, None)
            if f is not None and (f.id != r.id or f.client != r.client):
                self._xreq[p] = f.id  # the first execution at p holds another request
        cl = self._clients.get(r.client)
        s = r.seq
        if cl is None or not 0 < s < len(cl.keys) or cl.keys[s] != r.key:
            cl, s = self._find(r)
            if cl is None:
                self._place_unsent(r, p, o)
                return
        pos = cl.pos
        q = pos[s]
        if q:
            rid = r.id
            self._dup_at[p] = rid
            self.reports.add("no_duplicate", (0, p, rid), lambda: dup_violation(o, rid, q, p))
            return
        try:
            pos[s] = p
        except OverflowError:
            _set_pos(cl, s, p)
        inv = cl.open.get(s)  # its invocation, unless it was answered already
        if s < cl.top_slot:  # its client invoked a request after it that is placed before it
            b, pb, ib = cl.top_req, cl.top_pos, cl.top_inv
            self.reports.add("client_order", (p, pb), lambda: _order(o, r, inv, p, b, ib, pb))
        else:
            cl.top_slot = s
            cl.top_req = r
            cl.top_pos = p
            cl.top_inv = inv
        cl.last_req = r
        cl.last_pos = p
        cl.last_inv = inv

    def _exact(self, node: State, who: str) -> bool:
        """Whether ``node`` (length <= the chain's, digest equal to the chain's there)
        lists exactly the chain's requests: each of its requests must be the one
        placed at its position, walking down until a node confirmed before (the
        longest state confirmed for ``who``, the replying server) or the chain's tip.
        A digest collision (two ids with one CRC-32) is caught here."""
        ref = self._ok.get(who)
        tip = self._tip  # the chain's own nodes, if the state is close to the top
        if tip is not None and tip.length - node.length > 16:
            tip = None
        a: Optional[State] = node
        while a is not None and a.length > 0:
            ln = a.length
            while ref is not None and ref.length > ln:
                ref = ref.parent
            while tip is not None and tip.length > ln:
                tip = tip.parent
            if a is ref or a is tip:
                break
            r = a.request
            if r is None:  # a snapshot node: equal length and digest is all there is
                if self._d[ln] != a.digest:
                    return False
                break
            if not self._placed_at(r, ln):
                return False
            a = a.parent
        old = self._ok.get(who)
        if old is None or old.length <= node.length:
            self._ok[who] = node
        return True

    def _placed_at(self, r: Request, p: int) -> bool:
        """Whether the chain's request at position ``p`` is ``r``."""
        cl, s = self._find(r)
        if cl is not None:
            if cl.pos[s] == p:
                return True
        else:
            hit = self._unsent_chain.get(r.id)
            if hit is not None and hit[0] == p:
                return True
        return self._dup_at.get(p) == r.id

    def _place_unsent(self, r: Request, p: int, o: Observed) -> None:
        rid = r.id
        hit = self._unsent_chain.get(rid)
        if hit is not None:
            q = hit[0]
            self._dup_at[p] = rid
            self.reports.add("no_duplicate", (0, p, rid), lambda: dup_violation(o, rid, q, p))
        else:
            self._unsent_chain[rid] = (p, o, r)
            self._early = True

    def _missing(self, o: Observed, L: int) -> None:
        k = (o.request.id, L)
        if k not in self._missing_seen:
            self._missing_seen.add(k)
            self.reports.add("reply_contains_request", reply_key(o), lambda: missing_violation(o))

    # --------------------------------------------------------- off the chain ---

    def _off_chain(self, o: Observed) -> int:
        """A reply whose state is not on the main chain: a fork. Report it (once per
        state) and check the contents of its nodes off the chain (each node once)."""
        s = o.state
        off = self._off
        br = off.get(s)
        new = s not in self._off_reported
        if br is None and new or br is not None and br.fork < 0:
            self._walk_off(o)  # (again if an earlier copy stopped at a snapshot node: this one may list more)
            br = off.get(s)
        if new:
            self._off_reported.add(s)
            partner = self._top
            if partner is not None:
                key = (max(s.length, partner.state.length), s.length + partner.state.length,
                       reply_key(min(o, partner, key=reply_key)))
                self.reports.add("prefix_chain", key, lambda: fork_violation(o, partner))
            else:  # cannot happen with a chain to leave; say so rather than stay silent
                self.reports.add("prefix_chain", (s.length, s.length, reply_key(o)),
                                 lambda: Violation("prefix_chain", f"{describe(o)}, off every observed chain",
                                                   (o,), (o.pos,)))
        m = o.request.id
        # (below a snapshot node nothing is known: judged if a copy lists it later)
        if br is not None and br.fork >= 0 and (m, s) not in self._off_checked:
            self._off_checked.add((m, s))
            q = br.ids.get(m)
            if q is not None and q <= s.length:
                return _OFF
            fp = self._position(o.request)
            if 0 < fp <= br.fork:
                return _OFF
            self.reports.add("reply_contains_request", reply_key(o), lambda: missing_violation(o))
        return _OFF

    def _walk_off(self, o: Observed) -> None:
        off = self._off
        D = self._d
        n = self._n
        base: Optional[_Branch] = None
        base_len = 0

        def on_main(node: State) -> bool:
            ln = node.length
            return ln <= n and D[ln] == node.digest and self._exact(node, o.server)

        path, node, why, again = walk_off_chain(o.state, on_main, off, _parent,
                                                self._cut if self._cuts else None)
        # known nodes walked again (below them, their earlier walk stopped at a
        # snapshot node): the duplicates their earlier walk found are not found again
        before = {id(path[i]): off[path[i]] for i in again} if again else None
        if why == "chain":
            fork = node.length
        elif why == "known":
            base = off[node]
            base_len, fork = node.length, base.fork
        elif why == "snapshot":  # nothing is known below a snapshot node off the chain
            fork = 0 if node.length == 0 else -1
            self._cuts += fork < 0
        else:
            fork = 0
        if not path:
            return
        path.reverse()
        if base is not None and base.tip == base_len:
            br = base  # go on up the same path
        elif base is not None:
            br = _Branch(fork, {rid: ln for rid, ln in base.ids.items() if ln <= base_len}, base_len)
        else:
            br = _Branch(fork, {}, 0)
        ids = br.ids
        for nd in path:
            r = nd.request
            rid = r.id
            ln = nd.length
            if before:
                old = before.get(id(nd))
                if old is not None and old.ids.get(rid, ln) < ln:
                    off[nd] = br
                    continue  # a duplicate reported by the earlier walk
            off[nd] = br
            q = ids.get(rid)
            if q is None and fork > 0:
                fp = self._position(r)
                if 0 < fp <= fork:
                    q = fp
            if q is not None:
                self.reports.add("no_duplicate", (1,) + reply_key(o) + (ln,),
                                 lambda rid=rid, q=q, ln=ln: dup_violation(o, rid, q, ln))
            else:
                ids[rid] = ln
                if self._find(r)[0] is None and rid not in self._unsent_off:
                    self._unsent_off[rid] = (o, r, ln)
                    self._early = True
        br.tip = path[-1].length

    def _cut(self, node: State) -> bool:
        """Whether what lies below ``node``, off the chain, is not known (a snapshot node)."""
        return self._off[node].fork < 0

    # ------------------------------------------------------------ executions ---

    def _first_execution(self, e: Execution, p: int, d: int) -> None:
        """An execution at a position beyond the contiguous executed ones."""
        self._check_execution(e)
        xcont = self._xcont
        rep = e.replica
        if p == xcont + 1:
            c = p
            extra = self._xextra
            while extra and c + 1 in extra:  # positions executed out of order before
                extra.discard(c + 1)
                c += 1
            self._xcont = c
        elif p in self._xextra:
            f = self._xdiff.get(p, self._d[p])
            if f != d or not self._same_first(e.request, p):
                self._disagree(e, p)
            return
        else:
            self._xextra.add(p)
        i = self._rep_index.get(rep)
        if i is None:
            i = self._new_replica(rep)
        first = self._xfirst
        if p == len(first):
            first.append(i)
        elif p < len(first):
            first[p] = i
        else:
            first.extend(repeat(0, p - len(first)))
            first.append(i)
        D = self._d
        size = len(D)
        if p < size:
            if p <= self._n:
                if D[p] != d:
                    self._xdiff[p] = d
                if not self._placed_at(e.request, p):
                    self._xreq[p] = e.request.id
                return
            D[p] = d
        else:
            if p > size:  # a jump: positions nobody executed yet stay a hole
                D.extend(repeat(0, p - size))
            D.append(d)
        buf = self._xbuf
        buf[p] = e.request
        if len(buf) > _XBUF_MAX:
            del buf[next(iter(buf))]

    def _same_first(self, r: Request, p: int) -> bool:
        """Whether ``r`` is the request the first execution at ``p`` executed (exactly,
        by id; a digest may collide). Unknown (a position jumped over): True."""
        f = self._xbuf.get(p)
        if f is not None:
            return f.id == r.id and f.client == r.client
        alt = self._xreq.get(p)
        if alt is not None:
            return alt == r.id
        if p <= self._n:
            return self._placed_at(r, p)
        return True

    def _new_replica(self, rep: str) -> int:
        self._reps.append(rep)
        i = self._rep_index[rep] = len(self._reps)
        if i == 256:  # more replicas than a byte can number
            self._xfirst = array("H", self._xfirst)
        return i

    def _first_replica(self, p: int) -> str:
        i = self._xfirst[p] if p < len(self._xfirst) else 0
        return self._reps[i - 1] if i else "?"

    def _disagree(self, e: Execution, p: int) -> None:
        self._check_execution(e)
        f = self._first_replica(p)
        pair = (f, e.replica)
        if pair in self._pairs:
            return  # one report per pair: later positions differ as a consequence
        self._pairs.add(pair)
        self.reports.add("replica_agreement", exec_key(e), lambda: _agreement_violation(f, e))

    # --------------------------------------------------------------- verdict ---

    @property
    def unjudged(self) -> int:
        """Replies that could not be judged (truncated states beyond what is known)."""
        return self._unjudged

    def verdict(self, final: Optional[FinalWorld]) -> Verdict:
        """The verdict on everything appended so far, with liveness judged on
        ``final`` (if the run settled). It may be asked again later."""
        reports = self.reports.copy()
        invented: set[str] = set()
        for rid, (p, o, r) in self._unsent_chain.items():
            invented.add(rid)
            reports.add("only_sent_requests", (0, p, rid),
                        lambda o=o, r=r, p=p: invented_violation(o, r, p, never_sent(r)))
        for rid, (o, r, p) in self._unsent_off.items():
            if rid not in invented:
                invented.add(rid)
                reports.add("only_sent_requests", (1,) + reply_key(o) + (p,),
                            lambda o=o, r=r, p=p: invented_violation(o, r, p, never_sent(r)))
        for rid, e in self._unsent_exec.items():
            if rid not in invented:
                invented.add(rid)
                reports.add("only_sent_requests", (2,) + exec_key(e),
                            lambda e=e: invented_execution_violation(e))
        if final is not None and final.settled:
            unanswered = [inv for cl in self._clients.values() for inv in cl.open.values()]
            judge_liveness(final, unanswered, self._xlast, reports.add, reports.note)
        return reports.verdict(self._unjudged)


# ------------------------------------------------------------- reports ---

def _order(o: Observed, a: Request, ia: Optional[Invocation], pa: int,
           b: Request, ib: Optional[Invocation], pb: int) -> Violation:
    """``a``'s client invoked ``a`` before ``b``, but ``a`` is at ``pa`` after ``b`` at
    ``pb``: in the batch checker's words if both invocations are at hand."""
    if ia is not None and ib is not None:
        return order_violation(o, ia, pa, ib, pb)
    return Violation(
        "client_order",
        f"{a.client} invoked {a.id} before {b.id}, but {describe(o)}, which executed {b.id}"
        f" as request {pb} and {a.id} as request {pa}",
        (o,), (o.pos,))


def _agreement_violation(first: str, e: Execution) -> Violation:
    p = e.state.length
    if first == e.replica:
        detail = (f"{e.replica} executed request {p} twice, in different states: the second time"
                  f" {e.request.id} in <{label(e.state)}> at t={e.time:g}")
    else:
        detail = (f"{first} was the first to execute request {p}, but {e.replica} executed"
                  f" {e.request.id} as request {p} at t={e.time:g} in a different state"
                  f" (<{label(e.state)}>)")
    return Violation("replica_agreement", detail, (), (e.pos,), latent=True)


__all__ = ["StreamChecker"]
