"""Judge a run's :class:`~paxsim.history.History`: SAFE, UNSAFE or STUCK.

The checker sees only the records of a run (what clients invoked and saw, what
replicas executed, how the world looked at the end), never a protocol or the
network. It checks, in the tutorial's terms:

Safety on the replies that clients observed (``history.replies``):

- ``prefix_chain``: every observed state lies on one chain under the prefix order
  (no two clients can tell that the service forked: ``s^1`` against ``s^2``);
- ``reply_contains_request``: a reply to ``m`` carries a state that executed ``m``;
- ``no_duplicate``: no request is executed twice in an observed state;
- ``only_sent_requests``: observed states (and replica executions) hold only
  requests that some client invoked;
- ``client_order``: a client's requests are executed in the order it invoked them;
- ``real_time``: if ``a`` was answered before ``b`` was invoked, ``a`` precedes ``b``;
  and no reply holds a request invoked after the reply arrived.

States are compared exactly: the digest is a filter, and a match is confirmed
request by request (:class:`~paxsim.checker.core.OnChain`,
:class:`~paxsim.checker.core.SameStates`), walking each node about once.

Safety among replicas (``history.executions``), latent because no client needs to
have seen it: ``replica_agreement``: no two executions at the same position differ.

Liveness, only when the run ``settled`` (``history.final``), by the rule of
:data:`paxsim.checker.core.LIVENESS_RULE`:

- ``liveness``: a request never answered although, after the last fault, its
  client reaches a quorum of up servers that reach each other (over links that
  deliver, through a server it may contact) and kept resending it; otherwise it is
  a note (``Verdict.notes``), not a violation;
- ``replica_progress`` (when ``final.catch_up``): an up replica lags behind another
  up replica it is connected to.

All checks run in O(n log n) time and O(n) memory in the number of records (plus
the size of the states observed off the main chain, whose nodes are walked once
each, or once per copy that lists them where a fork was first seen trimmed); the
common all-good path runs mostly in C (``map`` over attribute getters).

Equal states are one state, whichever copy (full, trimmed, shared or separate) is
met first: a fork first seen in a trimmed copy is judged on what a fuller copy of
it (or of a state built on it) lists below its snapshot node, if any does.
Records are taken in (time, trace position) order; records with equal time and
position keep the order of the history's lists. Reports are listed per invariant,
ordered by (time, position, process, request id) or by chain position, so the
output is deterministic.
"""

from __future__ import annotations

import gc
from bisect import bisect_left, bisect_right
from itertools import accumulate, chain, compress, repeat
from operator import and_, attrgetter, eq, gt, is_, itemgetter, le, not_
from typing import Any, Callable, Collection, Optional, Sequence

from ..history import Execution, History, Invocation, Observed
from ..types import Request, State
from .core import (
    OnChain,
    Reports,
    SameStates,
    Verdict,
    agreement_violation,
    dup_violation,
    exec_key,
    fork_violation,
    future_request_violation,
    invented_execution_violation,
    invented_violation,
    judge_liveness,
    walk_off_chain,
    missing_violation,
    never_sent,
    order_violation,
    real_time_violation,
    reply_key,
    inv_key,
)

_INF = float("inf")
_NEVER = (-_INF, -1)  # the (time, pos) of no invocation

# Field getters, applied with map() so that the common all-good case of a long
# history runs mostly in C.
_TIME_POS = attrgetter("time", "pos")
_RID = attrgetter("request.id")          # of an Observed, Invocation, Execution or State
_CLIENT = attrgetter("client")
_REPLICA = attrgetter("replica")
_SLEN = attrgetter("state.length")
_SDIGEST = attrgetter("state.digest")
_DIGEST = attrgetter("digest")
_STATE = attrgetter("state")
_PARENT = attrgetter("state.parent")
_PARENT_OF = attrgetter("parent")
_LEN = attrgetter("length")
_EXEC_AT = attrgetter("state.length", "request.id", "state.digest")


# ------------------------------------------------------------------- check ---

def check(history: History, *, max_reports_per_invariant: int = 5) -> Verdict:
    """Judge ``history``: UNSAFE if any safety invariant is broken (even latently),
    else STUCK if a liveness invariant is broken, else SAFE.

    Records are taken in (time, trace position) order; records with equal time and
    position keep their order in the history's lists (the order they happened in).
    Reports are ordered by (time, position, process, request id) and the like.

    A streaming history (``History.streaming``) keeps no records: its checker
    judged them as they came, and its verdict is returned (with that checker's own
    ``max_reports_per_invariant``).
    """
    if history.stream is not None:
        return history.stream.verdict(history.final)
    # The checker allocates millions of small objects on a long history and makes
    # no reference cycles that matter: collecting meanwhile only costs time.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return BatchChecker(history, max(0, max_reports_per_invariant)).run()
    finally:
        if collecting:
            gc.enable()


class BatchChecker:
    def __init__(self, history: History, cap: int) -> None:
        self.history = history
        self.reports = Reports(cap)
        invocations = history.invocations
        ids = list(map(_RID, invocations))
        self.invoked: set[str] = set(ids)  # ids of the requests some client invoked
        if len(self.invoked) == len(invocations):
            firsts = list(invocations)
        else:  # a request invoked more than once: keep its first invocation
            seen: set[str] = set()
            firsts = []
            for i, rid in zip(invocations, ids):
                if rid not in seen:
                    seen.add(rid)
                    firsts.append(i)
        # A client's invocation order is the order of its records (appended in time
        # order): sorting could not break ties between records at the same instant.
        self.firsts = firsts
        self.invs = sorted(firsts, key=_TIME_POS)
        self.replies = sorted(history.replies, key=_TIME_POS)
        self.execs = sorted(history.executions, key=_TIME_POS)
        self.invented: set[str] = set()  # request ids reported by only_sent_requests
        self.answered: set[str] = set()  # ids of the requests some reply answered
        self.first_pos: dict[str, int] = {}  # request id -> first position on the main chain
        self.on_chain = OnChain([], [0])
        self.inv_at: dict[str, tuple] = {}  # request id -> (time, pos) of its first invocation
        self.chain_pm: list[tuple] = [_NEVER]  # the latest invocation among the chain's first L requests
        self.future_seen: set[str] = set()  # requests reported as held by a reply before their invocation
        self._first_inv: Optional[dict[str, Invocation]] = None
        self.forest: dict[State, list] = {}  # the nodes off the main chain (check_off_chain)
        self.roots: dict[State, None] = {}  # ... the roots of its trees, in the order found
        self.on_main: Callable[[State], bool] = self.on_chain
        self.cuts = 0  # walks that stopped at a snapshot node off the main chain

    def run(self) -> Verdict:
        self.check_replies()
        self.check_executions()
        self.check_liveness()
        return self.reports.verdict()

    # -- helpers

    def first_inv(self) -> dict[str, Invocation]:
        if self._first_inv is None:
            self._first_inv = {i.request.id: i for i in self.firsts}
        return self._first_inv

    def sent(self, r: Request) -> bool:
        return r.id in self.invoked

    # -- safety on observed replies

    def check_replies(self) -> None:
        replies = self.replies
        if not replies:
            return
        reports = self.reports

        # The main chain: the longest observed state (the first one, if several).
        top = max(replies, key=_SLEN).state
        nodes = _chain(top, self.history)
        n = len(nodes)
        digest_at = [0]
        digest_at += map(_DIGEST, nodes)
        chain_ids = list(map(_RID, nodes))
        first_pos: dict[str, int] = dict(zip(reversed(chain_ids), range(n, 0, -1)))
        self.first_pos = first_pos
        # pm[L]: the latest invocation (time, pos) among the chain's first L requests
        inv_at = dict(zip(map(_RID, self.firsts), map(_TIME_POS, self.firsts)))
        self.inv_at = inv_at
        self.chain_pm = pm = list(accumulate(map(inv_at.get, chain_ids, repeat(_NEVER)), max,
                                             initial=_NEVER))

        # Classify replies: on the main chain, or not.
        lens = list(map(_SLEN, replies))
        on = list(map(eq, map(digest_at.__getitem__, lens), map(_SDIGEST, replies)))
        # ... exactly: a digest that matches is confirmed request by request, unless
        # the reply's state is the chain's own node (the common case, tested in C)
        self.on_chain = on_chain = OnChain(nodes, digest_at)
        nodes_at: list[Optional[State]] = [None]
        nodes_at += nodes
        same = list(map(is_, map(nodes_at.__getitem__, lens), map(_STATE, replies)))
        todo = list(compress(range(len(replies)), map(gt, on, same)))
        for i in [i for i in todo if replies[i].state.request is None]:  # the empty state, a snapshot node
            if not on_chain(replies[i].state):
                on[i] = False
        todo = [i for i in todo if replies[i].state.request is not None]
        if todo:
            # one step in C: the state's parent is the chain's own node and its
            # request the chain's there (a copy of the chain's top, or the next node)
            states = [replies[i].state for i in todo]
            below = list(map(nodes_at.__getitem__, [lens[i] - 1 for i in todo]))
            chain_ids_at = [None]
            chain_ids_at += map(_RID, nodes)
            step = map(and_, map(is_, map(_PARENT_OF, states), below),
                       map(eq, map(_RID, states), map(chain_ids_at.__getitem__, map(_LEN, states))))
            for i, ok in zip(todo, list(step)):
                if not ok and lens[i] and not on_chain(replies[i].state):
                    on[i] = False
        rids = list(map(_RID, replies))
        rpos = list(map(first_pos.get, rids, repeat(0)))  # 0: not on the main chain
        self.answered = set(rids)
        witness_cache: list[Any] = []

        def witness(p: int) -> Observed:
            """The shortest observed chain state with at least ``p`` requests."""
            if not witness_cache:
                idx = list(compress(range(len(replies)), on))
                idx.reverse()  # so that the first reply of each length wins
                at = dict(zip(map(lens.__getitem__, idx), map(replies.__getitem__, idx)))
                witness_cache.append(at)
                witness_cache.append(sorted(at))
            at, ls = witness_cache
            return at[ls[bisect_left(ls, p)]]

        # Along the main chain: duplicates, invented requests.
        if len(first_pos) != n:
            for p, rid in enumerate(chain_ids, 1):
                q = first_pos[rid]
                if q != p:
                    reports.add("no_duplicate", (0, p, rid),
                                lambda rid=rid, q=q, p=p: dup_violation(witness(p), rid, q, p))
        if not self.invoked.issuperset(chain_ids):
            for p, nd in enumerate(nodes, 1):
                r = nd.request
                if first_pos[r.id] == p and not self.sent(r):
                    self.invented.add(r.id)
                    reports.add("only_sent_requests", (0, p, r.id),
                                lambda r=r, p=p: invented_violation(
                                    witness(p), r, p, never_sent(r)))

        # client_order: along each client's invocations, chain positions increase.
        clients = list(map(_CLIENT, self.firsts))
        last = dict.fromkeys(clients, 0)  # client -> latest chain position so far
        for c, p in zip(clients, map(first_pos.get, map(_RID, self.firsts), repeat(0))):
            if p:
                q = last[c]
                if p < q:  # invoked after the request at q, but executed before it
                    reports.add("client_order", (q, p),
                                lambda p=p, q=q: order_violation(
                                    witness(q), self.first_inv()[chain_ids[q - 1]], q,
                                    self.first_inv()[chain_ids[p - 1]], p))
                else:
                    last[c] = p

        # reply_contains_request on the chain: 0 < position <= length.
        if 0 in rpos or not all(map(le, rpos, lens)):
            checked: set[tuple[str, int]] = set()
            for i, o in enumerate(replies):
                if on[i] and not 0 < rpos[i] <= lens[i] and (rids[i], lens[i]) not in checked:
                    checked.add((rids[i], lens[i]))
                    reports.add("reply_contains_request", reply_key(o),
                                lambda o=o: missing_violation(o))

        if not all(on):
            self.check_off_chain([replies[i] for i in compress(range(len(replies)),
                                                               map(not_, on))],
                                 n, digest_at, witness)

        # real_time, the other way round: no reply on the chain holds a request
        # invoked after the reply arrived (requests never invoked are only_sent_requests).
        rkeys = list(map(_TIME_POS, replies))
        nr = len(rkeys)
        for i in compress(range(nr), list(map(gt, map(pm.__getitem__, lens), rkeys))):
            if on[i]:
                p = bisect_right(pm, rkeys[i])  # the first position invoked after the reply
                self.future(replies[i], chain_ids[p - 1])

        # real_time: sweep invocations and replies in (time, pos) order; best[j] is
        # the latest chain position among the requests of the first j replies. A
        # reply at the same (time, pos) as an invocation does not precede it.
        best = list(accumulate(rpos, max, initial=0))
        j = 0
        for inv, k, pb in zip(self.invs, map(_TIME_POS, self.invs),
                              map(first_pos.get, map(_RID, self.invs), repeat(0))):
            while j < nr and rkeys[j] < k:
                j += 1
            if 0 < pb < best[j] and inv.request.id not in self.future_seen:
                pa = best[j]
                a = replies[rpos.index(pa, 0, j)]
                reports.add("real_time", inv_key(inv),
                            lambda inv=inv, a=a, pa=pa, pb=pb: real_time_violation(
                                a, pa, inv, pb, witness(pa)))

    def future(self, o: Observed, rid: str) -> None:
        """Report that ``o``'s state holds ``rid``, invoked after ``o`` arrived (once per request)."""
        if rid in self.future_seen:
            return
        self.future_seen.add(rid)
        inv = self.first_inv()[rid]
        self.reports.add("real_time", inv_key(inv), lambda: future_request_violation(o, inv))

    def check_off_chain(self, off: list[Observed], n: int, digest_at: list[int],
                        witness: Callable[[int], Observed]) -> None:
        """Replies off the main chain: prefix_chain, and their contents as far as
        a walk over the states' nodes off the main chain (each walked once) goes."""
        reports = self.reports
        first_pos = self.first_pos
        off_chain: dict[State, list[Observed]] = {}
        for o in off:
            lst = off_chain.get(o.state)
            if lst is None:
                off_chain[o.state] = [o]
            else:
                lst.append(o)

        # Where each state leaves the main chain; the nodes off it form a forest. One
        # entry per node walked, [fork, children, replies with an equal state or None,
        # the node] (one lookup by state per node: a state hashes in Python). Every
        # node of a tree leaves the chain where its root does; -1 where that is not
        # known (the root stands on a snapshot node). A child may hang from an equal
        # copy of its parent's node (another object, perhaps trimmed): it is walked
        # as if it hung from the node itself (equal states hold the same requests).
        self.forest = forest = {}
        self.roots = {}
        on_chain = self.on_chain

        def on_main(node: State) -> bool:
            ln = node.length
            return ln <= n and digest_at[ln] == node.digest and on_chain(node)

        self.on_main = on_main
        self.cuts = 0
        walk = self.walk
        for s in off_chain:
            walk(s)
        # A state first walked in a trimmed copy: another copy may list what lies
        # below its snapshot node (equal states are one state, whichever came first)
        # (a bare snapshot node, nothing listed, hangs nothing in the forest: cut too)
        for s, seen in off_chain.items() if self.cuts else ():
            entry = forest.get(s)
            if entry[0] < 0 if entry is not None else s.request is None and s.length > 0:
                for copy in {id(o.state): o.state for o in seen if o.state is not s}.values():
                    walk(copy)
        # prefix_chain: each off-chain state against the shortest chain reply that
        # is not its prefix (the smallest conflicting pair), smallest pairs first.
        # The partner depends only on where the state leaves the chain: one per fork.
        partners: dict[int, tuple[Observed, tuple, int]] = {}  # fork + 1 -> (partner, its key, its length)
        add = reports.add
        for s, seen in off_chain.items():
            entry = forest.get(s)  # None: the state is a bare snapshot node (nothing listed, nothing walked)
            if entry is None:
                p = 1
            else:
                entry[2] = seen
                p = entry[0] + 1 if entry[0] > 0 else 1
            got = partners.get(p)
            if got is None:
                partner = witness(p)
                got = partners[p] = (partner, reply_key(partner), partner.state.length)
            partner, pk, plen = got
            o = seen[0]
            ok = reply_key(o)
            slen = s.length
            key = (slen if slen > plen else plen, slen + plen,
                   ok if ok <= pk else pk)  # reply_key(min(o, partner, key=reply_key))
            add("prefix_chain", key, lambda o=o, partner=partner: fork_violation(o, partner))

        # Contents: one depth-first walk over the forest, keeping the requests on
        # the current path (request id -> its first length on the path). A stack
        # entry is (node, the latest invocation among its parent's requests or None)
        # to enter a node, or (None, request id) to leave the node that put that id
        # on the path.
        on_path: dict[str, int] = {}
        pending: list[tuple[str, tuple]] = []  # found on the path, awaiting a reply to name
        checked: set[tuple[str, State]] = set()
        inv_at = self.inv_at
        invoked = self.invoked
        invented = self.invented
        pm = self.chain_pm
        stack: list[tuple[Optional[State], Any]] = [(r, None) for r in reversed(self.roots)]
        pop = stack.pop
        push = stack.append
        while stack:
            nd, below = pop()
            if nd is None:
                del on_path[below]
                continue
            r = nd.request
            if r is None:
                continue
            rid = r.id
            k, kids, seen, _nd = forest[nd]
            q = on_path.get(rid)
            if q is None:
                fp = first_pos.get(rid, _INF)
                if fp <= k:
                    q = fp
            if q is not None:
                pending.append(("dup", (rid, q, nd.length)))
            else:
                on_path[rid] = nd.length
                if rid not in invoked and rid not in invented:  # not self.sent(r)
                    invented.add(rid)
                    pending.append(("inv", (r, nd.length)))
            mine = inv_at.get(rid, _NEVER)
            top = (pm[k] if k >= 0 else _NEVER) if below is None else below
            if mine > top:  # max(top, mine)
                top = mine
            if seen:
                for o in seen:
                    if top > (o.time, o.pos):
                        self.future(o, self.held_after(o))
                # Every node lies below some reply's state: the first one met names
                # what was found on its path.
                if pending:
                    for what, args in pending:
                        self.report_pending(what, args, seen[0])
                    pending.clear()
                for o in seen:
                    m = o.request.id
                    if k < 0:
                        break  # it may lie below the snapshot node, where nothing is listed
                    if m in on_path or first_pos.get(m, _INF) <= k or (m, nd) in checked:
                        continue
                    checked.add((m, nd))
                    reports.add("reply_contains_request", reply_key(o),
                                lambda o=o: missing_violation(o))
            if q is None:
                push((None, rid))
            if len(kids) == 1:
                push((kids[0], top))
            else:
                for c in reversed(kids):
                    push((c, top))

    def walk(self, s: State) -> None:
        """Walk ``s`` down off the main chain and hang its new nodes in the forest."""
        forest = self.forest
        path, node, why, again = walk_off_chain(s, self.on_main, forest, _PARENT_OF,
                                                self.cut if self.cuts else None)
        if why == "chain":
            k = node.length
        elif why == "known":
            known = forest[node]
            k = known[0]
        elif why == "snapshot" and node.length:
            k = -1
            self.cuts += 1
        else:
            k = 0
        if again:
            self.regrow(path, node, why, k, again)
            return
        below = None
        for m in path:
            forest[m] = [k, [] if below is None else [below], None, m]
            below = m
        if path:
            if why == "known":
                known[1].append(path[-1])
            else:
                self.roots[path[-1]] = None

    def cut(self, node: State) -> bool:
        """Whether what lies below ``node``'s tree is not known (a snapshot node)."""
        return self.forest[node][0] < 0

    def regrow(self, path: list[State], node: Optional[State], why: str, k: int,
               again: Sequence[int]) -> None:
        """A walk that went on below known nodes (their tree stood on a snapshot
        node): hang their tree on what it found below it."""
        forest = self.forest
        roots = self.roots
        last = len(path) - 1
        up: Optional[State] = None  # the node walked above, if it is to hang on this one
        for i, m in enumerate(path):
            if i not in again:
                forest[m] = [k, [] if up is None else [up], None, m]
                up = m
                continue
            if up is not None:
                forest[m][1].append(up)
            up = None
            if m in roots:  # it stood on a snapshot node: it stands on what was found below
                if i < last or why == "known":
                    del roots[m]
                    up = m
                if k >= 0:
                    self.settle(m, k)
        if up is not None:
            if why == "known":
                forest[node][1].append(up)
            else:
                roots[up] = None

    def settle(self, root: State, k: int) -> None:
        """The tree of ``root`` (which stood on a snapshot node) leaves the chain at ``k``."""
        todo = [root]
        while todo:
            entry = self.forest[todo.pop()]
            entry[0] = k
            todo.extend(entry[1])

    def held_after(self, o: Observed) -> str:
        """The topmost request of ``o``'s state (off the main chain) invoked after
        ``o`` arrived. Below a snapshot node of ``o``'s state the walk goes on in the
        equal node the walk over forks listed, or on the main chain."""
        key = (o.time, o.pos)
        node: Optional[State] = o.state
        chain_ids = self.on_chain.nodes
        while node is not None and node.length:
            if node.request is None:  # a snapshot node: nothing listed below it
                entry = self.forest.get(node)
                if entry is not None:
                    node = entry[3]
                    continue
            if self.on_chain(node):  # the rest is on the main chain
                return chain_ids[bisect_right(self.chain_pm, key) - 1].request.id
            if node.request is None:
                break
            if self.inv_at.get(node.request.id, _NEVER) > key:
                return node.request.id
            node = node.parent
        raise AssertionError("no request invoked after the reply")  # pragma: no cover

    def report_pending(self, what: str, args: tuple, o: Observed) -> None:
        if what == "dup":
            rid, q, p = args
            self.reports.add("no_duplicate", (1,) + reply_key(o) + (p,),
                             lambda: dup_violation(o, rid, q, p))
        else:
            r, p = args
            self.reports.add("only_sent_requests", (1,) + reply_key(o) + (p,),
                             lambda: invented_violation(o, r, p, never_sent(r)))

    # -- safety among replicas

    def check_executions(self) -> None:
        execs = self.execs
        if not execs:
            return
        reports = self.reports
        at = list(map(_EXEC_AT, execs))
        executed: Collection[tuple] = set(at)  # each (position, request id, digest) once: n replicas' copies are one
        distinct = len(executed)
        if 2 * distinct > len(at):
            executed = at  # few copies (replicas that disagree): the list, read in its order, is as short
        if not self.invoked.issuperset(map(itemgetter(1), executed)):
            for e in execs:
                rid = e.request.id
                if not self.sent(e.request) and rid not in self.invented:
                    self.invented.add(rid)
                    reports.add("only_sent_requests", (2,) + exec_key(e),
                                lambda e=e: invented_execution_violation(e))
        if distinct == len(set(map(itemgetter(0), executed))) and self.executions_linked(execs, executed):
            return  # one (request, digest) per position, and every state made of executed nodes
        same = SameStates()  # exact: equal digests are confirmed request by request
        first_at: dict[int, Execution] = {}
        pairs: set[tuple[str, str]] = set()  # replica pairs already reported
        for e, (p, rid, digest) in zip(execs, at):
            f = first_at.get(p)
            if f is None:
                first_at[p] = e
                continue
            if f.request.id == rid and f.state.digest == digest and same(f.state, e.state):
                continue
            pair = (f.replica, e.replica)
            if pair in pairs:
                continue  # one report per pair: later positions differ as a consequence
            pairs.add(pair)
            reports.add("replica_agreement", exec_key(e),
                        lambda f=f, e=e: agreement_violation(f, e))

    @staticmethod
    def executions_linked(execs: list[Execution], executed: Collection[tuple]) -> bool:
        """Whether every node below an executed state holds, at its position, the
        request and digest executed there (walking down to an executed state, the
        empty state or a snapshot node; each node once). With one (request, digest)
        per position, equal digests are then exact: two executed states that
        differed would differ in the request at some position. The nodes walked are
        the copies a replica made of its own states when it compacted its log."""
        unique = dict(zip(map(itemgetter(0), executed), executed))  # one per position
        get = unique.get
        known = set(map(id, map(_STATE, execs)))
        parents = list(map(_PARENT, execs))
        outside = compress(parents, map(not_, map(known.__contains__, map(id, parents))))  # in C
        for node in outside:
            while node is not None and id(node) not in known:
                r = node.request
                if r is None:  # the empty state, or a snapshot node: its digest at its length
                    if node.length and (get(node.length) or (0, "", None))[2] != node.digest:
                        return False
                    break
                if get(node.length) != (node.length, r.id, node.digest):
                    return False
                known.add(id(node))
                node = node.parent
            else:
                if node is None:
                    return False
        return True

    # -- liveness

    def check_liveness(self) -> None:
        final = self.history.final
        if final is None or not final.settled:
            return
        answered = self.answered
        unanswered = [inv for inv in self.invs if inv.request.id not in answered]
        last = dict(zip(map(_REPLICA, self.execs), self.execs)) if final.catch_up else {}
        judge_liveness(final, unanswered, last, self.reports.add, self.reports.note)



def _chain(top: State, history: Optional[History] = None) -> list[State]:
    """The nodes of ``top``'s chain, oldest first (the empty state left out).

    A server that compacted its log replies with states whose chain ends in a
    snapshot node (``State.trimmed``). Below such a node at length B, the chain is
    continued with a node at B of the same digest from another observed or executed
    state (some replica executed position B in full), until the empty state: the
    first reply's, if it fits, as the replies of its time hold the same nodes (and
    then meet the chain's own nodes in ``check_replies``), else the first
    execution's.
    """
    nodes: list[State] = []
    node: Optional[State] = top
    while node is not None and node.request is not None:
        nodes.append(node)
        node = node.parent
    if node is not None and node.length > 0 and history is not None:
        # the first reply, else the first execution, at each length; every record by
        # length if neither fits (replicas that disagree)
        first_reply = _first_by_length(history.replies)
        first_exec: Optional[dict[int, State]] = None
        by_len: Optional[dict[int, list[State]]] = None
        while node is not None and node.length > 0 and node.request is None:
            bottom = node
            cand = first_reply.get(bottom.length)
            if cand is None or cand.digest != bottom.digest or cand.request is None:
                if first_exec is None:
                    first_exec = _first_by_length(history.executions)
                cand = first_exec.get(bottom.length)
            if cand is not None and cand.digest == bottom.digest and cand.request is not None:
                node = cand
            else:
                if by_len is None:
                    by_len = {}
                    for st in map(_STATE, chain(history.executions, history.replies)):
                        if st.request is not None:
                            by_len.setdefault(st.length, []).append(st)
                for cand in by_len.get(bottom.length, ()):
                    if cand.digest == bottom.digest:
                        node = cand
                        break
                else:
                    raise ValueError(f"cannot judge: states were compacted below position {bottom.length}"
                                     f" and no record lists request {bottom.length}")
            while node is not None and node.request is not None:
                nodes.append(node)
                node = node.parent
    nodes.reverse()
    for k in (0, len(nodes) - 1) if nodes else ():
        if nodes[k].length != k + 1:
            raise ValueError(f"malformed state chain: node {k + 1} has length {nodes[k].length}")
    if node is not None and (node.length, node.digest) != (0, 0):
        raise ValueError("malformed state chain: it does not start from the empty state")
    return nodes


def _first_by_length(records: list[Any]) -> dict[int, State]:
    """The state of the first record at each state length (built in C)."""
    backwards = records[::-1]
    return dict(zip(map(_SLEN, backwards), map(_STATE, backwards)))
