"""Values shared by every layer: requests, service states, messages and effects.

Everything here is an immutable value (frozen dataclasses with slots) built from
the standard library only. Protocols speak in these values; the simulator carries
them; the checker judges them. Names follow the tutorial: a request is ``m1``, an
accept is ``<ACC, m2, 1>``, a learn ``<LRN, m2>``, a prepare ``<PREP, 4>``, a
promise ``<PROM, (2, m2), 4>``, a reply carries the server's state ``<s^12>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zlib import crc32
from typing import Any, Callable, ClassVar, Optional, Union
from weakref import ref as _weak

ProcessId = str
Round = Union[int, str, None]  # a round number, a leader id ("S2"), or none


def quick_init(cls: type) -> type:
    """Give a frozen dataclass with slots a faster ``__init__``, with the same
    parameters and defaults: it stores each field through its slot (what the
    generated one does through ``object.__setattr__``, at about twice the cost).
    Values are built on the hot path (a message per send, an effect per step);
    they stay as immutable as before (``__setattr__`` still refuses)."""
    import dataclasses

    params, body, env = [], [], {}
    for f in dataclasses.fields(cls):
        if not f.init:
            if f.default is not dataclasses.MISSING:  # set as the generated __init__ sets it
                env[f"_set_{f.name}"] = getattr(cls, f.name).__set__
                env[f"_default_{f.name}"] = f.default
                body.append(f"    _set_{f.name}(self, _default_{f.name})")
            continue
        env[f"_set_{f.name}"] = getattr(cls, f.name).__set__  # the slot's member descriptor
        if f.default is not dataclasses.MISSING:
            env[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        else:
            assert f.default_factory is dataclasses.MISSING, f"{cls.__name__}.{f.name}: no factories"
            params.append(f.name)
        body.append(f"    _set_{f.name}(self, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    src = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(src, env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init
    return cls


# ---------------------------------------------------------------- requests ---

@quick_init
@dataclass(frozen=True, slots=True)
class Request:
    """A client request: a globally unique id (``m1``) and the client that sent it.

    ``seq`` is its place in its client's sequence (1, 2, ...; 0 if unknown). Clients
    are closed-loop, so a server may keep, per client, only the last request it
    executed and recognise any lower ``seq`` as an old one (client sessions, as in
    real systems); the streaming checker also identifies requests by (client, seq).
    It does not take part in equality: a request is its id and client.

    ``key`` is a CRC-32 of the id, computed once, for the chained state digest. It
    only speeds comparisons up: two ids may share a key (``req-2f74de6ba`` and
    ``req-3a4e5ebf7d`` do), so equal keys never make two requests the same."""

    id: str
    client: ProcessId
    seq: int = field(default=0, compare=False)
    key: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _set_key(self, crc32(self.id.encode()))

    def __str__(self) -> str:
        return self.id


_set_key = Request.key.__set__  # type: ignore[attr-defined]


# ---------------------------------------------------------- service state ---

_MASK = (1 << 64) - 1


def chain_digest(digest: int, key: int) -> int:
    """The digest of (sequence with digest ``digest``) + the request with ``key``.

    CPython's tuple hash (an xxHash-style mix) of two ints: order-sensitive, cheap,
    and the same in every process under any PYTHONHASHSEED, because hashing an
    int is not salted (hashing a str is: that is why the key is a CRC-32).
    """
    return hash((digest, key)) & _MASK


@quick_init
@dataclass(frozen=True, slots=True, eq=False, weakref_slot=True)
class State:
    """The service's state: the sequence of requests executed so far.

    Stored as a persistent linked list: each state points at the state before it,
    so a reply carries a reference (constant size) and states reached by the same
    executions share their past.

    Equality is exact: two states are equal when they list the same requests (by
    id) in the same order. The length and the chained digest are compared first
    (O(1): different ones prove the states differ); equal ones are confirmed by
    walking both chains down together until they meet in a shared node, so a
    digest collision (e.g. two ids with the same CRC-32) never makes two different
    sequences equal. Where a chain ends in a snapshot node (``trimmed``), what lies
    below it is no longer listed: there, equal length and digest is all that is
    left to compare. The hash is the digest's, so equal states hash alike.

    Replicas that execute the same request in the same state share the node that
    follows (``then``), and the copy a checkpoint makes there (``trimmed(1)``): a
    node remembers, weakly, the node made from it (a node made by ``then`` has it
    as parent, a copy does not). A cache, invisible to equality, hashing, copying
    and pickling.
    """

    length: int
    digest: int
    request: Optional[Request] = field(default=None, repr=False)
    parent: Optional["State"] = field(default=None, repr=False)
    _made: Optional[Callable[[], Optional["State"]]] = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> tuple:
        return self.length, self.digest, self.request, self.parent

    def __setstate__(self, state: tuple) -> None:
        self.__init__(*state)  # type: ignore[misc]

    def __eq__(self, other: object) -> bool:
        return self is other or (
            isinstance(other, State)
            and self.length == other.length
            and self.digest == other.digest
            and self.same_requests(other)
        )

    def same_requests(self, other: "State") -> bool:
        """Whether ``other`` (of the same length) lists the same requests: walks both
        chains down together until a shared node (or a snapshot node, below which
        nothing is listed). O(nodes not shared)."""
        a: Optional[State] = self
        b: Optional[State] = other
        while a is not b and a is not None and b is not None:
            ra, rb = a.request, b.request
            if ra is None or rb is None:  # a snapshot node: nothing listed below it
                return a.length == b.length and a.digest == b.digest
            if ra.id != rb.id or ra.client != rb.client:
                return False
            a, b = a.parent, b.parent
        # one chain ran out (a node of length 1 without a parent): the other must be empty too
        return a is b or (0 if a is None else a.length) == (0 if b is None else b.length) == 0

    def __hash__(self) -> int:
        return self.digest  # equal states have equal digests (an int hashes to itself, unsalted)

    def then(self, request: Request) -> "State":
        """The state after executing ``request`` in this state: ``State(length + 1,
        chain_digest(digest, request.key), request, self)``, or the node already
        made from this one for that very request (replicas that agree share their
        chains: one node per position instead of one per replica)."""
        made = self._made
        if made is not None:
            made = made()
            if made is not None and made.request is request and made.parent is self:
                return made
        new = _new_object(State)  # State(...) without the call: State has no __post_init__ to run
        _set_length(new, self.length + 1)
        _set_digest(new, hash((self.digest, request.key)) & _MASK)  # chain_digest
        _set_request(new, request)
        _set_parent(new, self)
        _set_made(new, None)
        _set_made(self, _weak(new))
        return new

    def requests(self) -> list[Request]:
        """The executed requests, oldest first (walks the chain: O(length))."""
        out: list[Request] = []
        node: Optional[State] = self
        while node is not None and node.request is not None:
            out.append(node.request)
            node = node.parent
        out.reverse()
        return out

    def at(self, length: int) -> "State":
        """This state's prefix of the given length."""
        node: State = self
        while node.length > length:
            assert node.parent is not None
            node = node.parent
        return node

    def contains(self, request_id: str) -> bool:
        node: Optional[State] = self
        while node is not None and node.request is not None:
            if node.request.id == request_id:
                return True
            node = node.parent
        return False

    def trimmed(self, keep: int) -> "State":
        """An equal state that remembers only its last ``keep`` requests.

        The chain below them becomes a *snapshot node*: ``State(length, digest)``
        with no request and no parent, standing for requests that are no longer
        listed (a server that compacted its log). Comparing states is unchanged;
        walking the chain (``requests``, ``contains``) stops at the snapshot node.
        O(keep): the kept nodes are rebuilt on top of the snapshot node.
        """
        kept: list[State] = []
        node: Optional[State] = self
        while node is not None and node.request is not None and len(kept) < keep:
            kept.append(node)
            node = node.parent
        if node is None or node.request is None:
            return self  # already short enough
        made = self._made
        if made is not None:
            made = made()
        if keep == 1 and made is not None and made.parent is not self:
            return made  # a checkpoint here: replicas that agree share the copy, as ``then`` shares nodes
        out = State(node.length, node.digest)
        for nd in reversed(kept):
            out = State(nd.length, nd.digest, nd.request, out)
        if keep == 1 and made is None:  # (a node made from this one by ``then`` is kept: others may need it)
            _set_made(self, _weak(out))
        return out

    @property
    def complete(self) -> bool:
        """Whether the chain lists every request (it does not end in a snapshot node)."""
        node: State = self
        while node.parent is not None:
            node = node.parent
        return node.length == 0

    def label(self, limit: int = 12) -> str:
        """Tutorial notation: ``s^12`` for m1 then m2; ``s^()`` for the empty state."""
        reqs = self.requests() if self.length <= limit else None
        if reqs is None or len(reqs) < self.length:  # long, or its chain was trimmed
            last = []
            node: Optional[State] = self
            while node is not None and node.request is not None and len(last) < 3:
                last.append(node.request)
                node = node.parent
            last.reverse()
            return f"s^(…{self.length - len(last)} more,{','.join(r.id for r in last)})"
        ids = [r.id for r in reqs]
        if not ids:
            return "s^()"
        short = [i[1:] if i.startswith("m") else i for i in ids]
        if all(len(s) == 1 for s in short):
            return "s^" + "".join(short)
        return "s^(" + ",".join(short) + ")"

    def __str__(self) -> str:
        return self.label()


_new_object = object.__new__
_set_length, _set_digest = State.length.__set__, State.digest.__set__  # type: ignore[attr-defined]
_set_request, _set_parent = State.request.__set__, State.parent.__set__  # type: ignore[attr-defined]
_set_made = State._made.__set__  # type: ignore[attr-defined]

EMPTY = State(0, 0)


# --------------------------------------------------------------- messages ---

@quick_init
@dataclass(frozen=True, slots=True)
class Message:
    """Base of every message. ``kind`` names it in traces, patterns and diagrams."""

    kind: ClassVar[str] = "MSG"

    def label(self) -> str:
        return f"<{self.kind}>"

    def fields(self) -> dict[str, Any]:
        """Plain JSON-ready fields, for traces."""
        return {}

    def __str__(self) -> str:
        return self.label()


def _r(x: Any) -> str:
    return "-" if x is None else str(x)


@quick_init
@dataclass(frozen=True, slots=True)
class ClientRequest(Message):
    """A request travelling from a client to a server (drawn as ``m1``)."""

    kind: ClassVar[str] = "REQ"
    request: Request

    def label(self) -> str:
        return self.request.id

    def fields(self) -> dict[str, Any]:
        return {"m": self.request.id}


@quick_init
@dataclass(frozen=True, slots=True)
class ClientReply(Message):
    """A server's reply to a client: the service state after executing the request."""

    kind: ClassVar[str] = "REPLY"
    request: Request
    state: State

    def label(self) -> str:
        return f"<{self.state.label()}>"

    def fields(self) -> dict[str, Any]:
        return {"m": self.request.id, "state": self.state.label(), "len": self.state.length}


@quick_init
@dataclass(frozen=True, slots=True)
class Accept(Message):
    """``<ACC, m, j>``: execute ``m`` as the ``j``-th request (in round ``rnd``)."""

    kind: ClassVar[str] = "ACC"
    request: Request
    slot: int
    rnd: Round = None

    def label(self) -> str:
        tail = "" if self.rnd is None else f", {self.rnd}"
        return f"<ACC, {self.request.id}, {self.slot}{tail}>"

    def fields(self) -> dict[str, Any]:
        return {"m": self.request.id, "slot": self.slot, "rnd": self.rnd}


@quick_init
@dataclass(frozen=True, slots=True)
class Learn(Message):
    """``<LRN, m>``: the sender accepted ``m`` for ``slot`` (in round ``rnd``)."""

    kind: ClassVar[str] = "LRN"
    request: Request
    slot: int
    rnd: Round = None

    def label(self) -> str:
        tail = "" if self.rnd is None else f", {self.rnd}"
        return f"<LRN, {self.request.id}{tail}>"

    def fields(self) -> dict[str, Any]:
        return {"m": self.request.id, "slot": self.slot, "rnd": self.rnd}


@quick_init
@dataclass(frozen=True, slots=True)
class Prepare(Message):
    """``<PREP, r>``: the sender asks to lead in round (or with id) ``r``."""

    kind: ClassVar[str] = "PREP"
    rnd: Round

    def label(self) -> str:
        return f"<PREP, {_r(self.rnd)}>"

    def fields(self) -> dict[str, Any]:
        return {"rnd": self.rnd}


@quick_init
@dataclass(frozen=True, slots=True)
class Accepted:
    """One entry of a promise: ``request`` accepted for ``slot`` in round ``vrnd``."""

    slot: int
    request: Request
    vrnd: Round = None

    def label(self) -> str:
        if self.vrnd is None:
            return self.request.id
        return f"({self.vrnd}, {self.request.id})"


@quick_init
@dataclass(frozen=True, slots=True)
class Promise(Message):
    """``<PROM, (2, m2), 4>``: a promise to round ``rnd``, reporting what was accepted."""

    kind: ClassVar[str] = "PROM"
    rnd: Round
    accepted: tuple[Accepted, ...] = ()

    def label(self) -> str:
        if not self.accepted:
            body = "-"
        elif len(self.accepted) == 1:
            body = self.accepted[0].label()
        else:
            body = "[" + ", ".join(a.label() for a in self.accepted) + "]"
        return f"<PROM, {body}, {_r(self.rnd)}>"

    def fields(self) -> dict[str, Any]:
        return {
            "rnd": self.rnd,
            "accepted": [[a.slot, a.request.id, a.vrnd] for a in self.accepted],
        }


@quick_init
@dataclass(frozen=True, slots=True)
class Heartbeat(Message):
    """``<HB>``: I am alive (and, optionally, lead round ``rnd``, executed ``upto``)."""

    kind: ClassVar[str] = "HB"
    rnd: Round = None
    upto: int = 0

    def label(self) -> str:
        return "<HB>" if self.rnd is None else f"<HB, {self.rnd}>"

    def fields(self) -> dict[str, Any]:
        return {"rnd": self.rnd, "upto": self.upto}


# ---------------------------------------------------------------- effects ---

@quick_init
@dataclass(frozen=True, slots=True)
class Send:
    """Send ``msg`` to process ``dst``."""

    dst: ProcessId
    msg: Message


@quick_init
@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``msg`` to every process in ``dsts``, in that order (one effect, k messages)."""

    dsts: tuple[ProcessId, ...]
    msg: Message


@quick_init
@dataclass(frozen=True, slots=True)
class SetTimer:
    """(Re)start the timer ``name``: it fires after ``delay`` unless cancelled or reset."""

    name: str
    delay: float


@quick_init
@dataclass(frozen=True, slots=True)
class CancelTimer:
    name: str


@quick_init
@dataclass(frozen=True, slots=True)
class Execute:
    """The replica executed ``request``; its service is now in ``state``."""

    request: Request
    state: State


@quick_init
@dataclass(frozen=True, slots=True)
class Reply:
    """Reply to ``request``'s client with ``state``."""

    request: Request
    state: State


@quick_init
@dataclass(frozen=True, slots=True)
class Persist:
    """Write ``value`` under ``key`` to stable storage; it survives a crash."""

    key: str
    value: Any


@quick_init
@dataclass(frozen=True, slots=True)
class Erase:
    """Delete ``keys`` from stable storage (a server that compacted its log)."""

    keys: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class Log:
    """Tell the observer something protocol-level happened, e.g. ``Log("leader", 4)``
    when the replica starts leading round 4. Counted in metrics, shown in traces."""

    event: str
    info: Any = None


Effect = Union[Send, Broadcast, SetTimer, CancelTimer, Execute, Reply, Persist, Erase, Log]

OUTCOMES = ("SAFE", "UNSAFE", "STUCK")
