"""Hypothesis strategies for failure schedules: scenario dicts for paxsim.

Every strategy here draws plain data in the scenario schema that
:func:`paxsim.scenario.from_dict` validates (the same as the TOML files), so a
drawn value can be run with ``run_scenario(scenario_from_dict(d))`` and written
back with ``Scenario.to_toml()``::

    from hypothesis import given, settings
    from paxsim import run_scenario, scenario_from_dict
    from paxsim.fuzz.strategies import scenarios

    @settings(max_examples=50, deadline=None)
    @given(scenarios("paxos", servers=3))
    def test_paxos_is_safe(d):
        assert run_scenario(scenario_from_dict(d), record_trace=False).outcome != "UNSAFE"

How it is cheap. Hypothesis spends its time per *choice*, so a whole schedule is
one choice: a fixed-size byte string that a decoder reads one byte per decision
(:class:`Digits`: ``byte % options``). Every strategy is built once per
configuration (cached) and is ``st.binary(...).map(decoder)``. Byte 0 is always the
simplest option (no fault, the first grid value), so hypothesis's shrinking (bytes
towards zero) shrinks towards "nothing goes wrong"; :func:`paxsim.fuzz.search.minimize`
then removes what is not needed, one fault at a time.

Swarm testing (Groce et al. 2012; TigerBeetle's VOPR). Each schedule first reads
its *palette*: which fault families are on (random loss, targeted drops, delays,
timed crashes, crashes triggered by a message, partitions, isolations, duplication
and reordering), at what rate (loss rate, number of faults), which message kinds
and which servers faults aim at. Its faults come from the palette only, so rare
combinations (three crashes of the same server with recoveries, only PROM losses)
are common in some runs.

Protocol-aware faults. Faults are triggered by the protocol's own messages, of the
kinds it declares (:func:`message_kinds`, also for a ``module:Class`` protocol):
"S2 crashes right after sending the 1st PROM and recovers 5 later", "whoever sends
the 2nd PREP (the second candidate) is cut off right after, for 20" (a forced
leader change), "the sender of the 3rd ACC (whoever leads then) is cut off".
Chained (a link counts from when the one before fired) and opening with a stale
leader that returns (cut off right after it proposes, restarted or not, and
reconnected as it asks to lead or proposes again: ``until_sends``), they force the
second and third leader changes deep bugs need.

With ``liveness=True`` the faults *end*: partitions heal, crashed servers beyond
a minority recover, no random loss, clients resend. A request left unanswered
after such a schedule is a liveness failure of the protocol (STUCK), not of the
schedule.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from typing import Optional, Sequence

from hypothesis import strategies as st

from ..scenario import TARGETED

# ------------------------------------------------------------------ the grids ---

TIMES: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 5.0, 0.5, 1.5, 2.5, 4.0, 7.0, 10.0, 15.0, 20.0, 30.0)
"""When timed faults happen (first elements are what shrinking goes to)."""

GAPS: tuple[float, ...] = (0.0, 1.0, 0.5, 2.0, 3.0, 5.0, 10.0, 20.0)
"""Time between a client's scheduled requests (and before its first one)."""

LINK_DELAYS: tuple[float, ...] = (3.0, 0.5, 2.0, 5.0, 10.0, 20.0)
"""Per-link constant delays (the default link takes 1)."""

EXTRA_DELAYS: tuple[float, ...] = (2.0, 5.0, 1.0, 10.0, 30.0)
"""How much a targeted ``delay`` fault holds a message back."""

DURATIONS: tuple[float, ...] = (10.0, 5.0, 20.0, 40.0, 80.0)
"""How long a timed partition lasts, or a crashed server stays down."""

LASTING: tuple[float, ...] = (10.0, 20.0, 5.0, 30.0, 15.0, 40.0)
"""How long after a triggered crash the server recovers, or an isolated one is back."""

LOSS: tuple[float, ...] = (0.1, 0.3, 0.05, 0.5)
"""Loss rates of a lossy network or link (the palette picks one per schedule)."""

DUPLICATE: tuple[float, ...] = (0.1, 0.3)

JITTER: tuple[tuple[float, float], ...] = ((0.5, 1.5), (0.9, 1.1), (0.2, 1.8))
"""A network's nominal delay: constant 1, or uniform in one of these ranges. Longer
delays are faults (slow links, targeted delays) and count in a schedule's size."""

KINDS: tuple[str, ...] = ("ACC", "LRN", "REPLY", "PROM", "PREP", "REQ", "HB")
"""Message kinds a targeted fault can match; see :mod:`paxsim.types`."""

CORE: tuple[str, ...] = ("ACC", "PREP", "PROM", "LRN")
"""The kinds that carry the agreement itself: palettes pick them three times as often."""

FAMILIES: tuple[str, ...] = ("loss", "drop", "delay", "crash", "crash_after", "partition", "isolate", "chaos",
                             "churn")
"""Fault families a palette switches on or off (one bit each): random loss (network
and links), targeted drops, delays (targeted and slow links), timed crashes and
recoveries, crashes triggered by a message (maybe recovering), timed partitions,
isolations triggered by a message, duplication and reordering, and churn: chains
of crashes and isolations of whoever sends (or handles) the nth agreement message,
each undone after a while (forced leader changes, recoveries). Churn crashes only
when a crash family is on too, and isolates only when a partition family is."""

FAULT_FAMILIES = ("drop", "delay", "crash", "crash_after", "partition", "isolate")
"""The families that add entries to ``[[faults]]``."""


@lru_cache(maxsize=64)
def message_kinds(protocol) -> tuple[str, ...]:
    """:data:`KINDS` and the kinds of the messages a protocol defines in its own
    modules (e.g. Paxos's CATCHUP and CHOSEN), so targeted faults can hit them;
    a message class with ``fuzz_target = False`` (one a fuzz-sized run never sends,
    like Paxos's SNAP) is left out, so that no drawn fault is wasted on it.
    ``protocol``: a name (``"paxos"``, ``"module:Class"``) or a Replica class."""
    import sys

    from ..protocols import load_protocol
    from ..types import Message

    cls = load_protocol(protocol) if isinstance(protocol, str) else protocol
    extra: set[str] = set()
    for base in cls.__mro__:
        module = sys.modules.get(base.__module__)
        for value in vars(module).values() if module is not None else ():
            if isinstance(value, type) and issubclass(value, Message) and value is not Message \
                    and getattr(value, "fuzz_target", True):
                kind = getattr(value, "kind", None)
                if isinstance(kind, str) and kind not in KINDS:
                    extra.add(kind)
    return KINDS + tuple(sorted(extra))


@lru_cache(maxsize=64)
def declared_kinds(protocol: str) -> tuple[str, ...]:
    """The kinds a protocol declares it sends (``message_kinds``), () if it does not say."""
    from ..protocols import load_protocol

    return tuple(getattr(load_protocol(protocol), "message_kinds", None) or ())


def server_names(n: int) -> tuple[str, ...]:
    return tuple(f"S{i}" for i in range(1, n + 1))


def client_names(k: int) -> tuple[str, ...]:
    return tuple(f"C{i}" for i in range(1, k + 1))


def request_ids(clients: int, requests: int) -> tuple[str, ...]:
    """``m1 .. m(clients*requests)``; client i's j-th request is ``m(j*clients + i)``."""
    return tuple(f"m{j * clients + i + 1}" for j in range(requests) for i in range(clients))


def splits(servers: Sequence[str]) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every way to cut the servers in two non-empty sides, smallest first side first."""
    servers = tuple(servers)
    out = []
    for k in range(1, len(servers) // 2 + 1):
        for side in combinations(servers, k):
            rest = tuple(s for s in servers if s not in side)
            if k * 2 == len(servers) and side > rest:
                continue  # the same cut, named from the other side
            out.append((side, rest))
    return out


# ----------------------------------------------------------------- decoding ---

class Digits:
    """Reads decisions out of a byte string, one byte each: ``pick(n)`` is the next
    byte modulo ``n`` (0 past the end). Byte 0 is the first option everywhere."""

    __slots__ = ("data", "i")

    def __init__(self, data: bytes):
        self.data = data
        self.i = 0

    def byte(self) -> int:
        i = self.i
        self.i = i + 1
        return self.data[i] if i < len(self.data) else 0

    def pick(self, n: int) -> int:
        b = self.byte()
        return b % n if n > 1 else 0

    def of(self, options: Sequence):
        return options[self.pick(len(options))]

    def chance(self, num: int, den: int = 4) -> bool:
        """True with probability ``num / den`` (0 is False)."""
        return self.byte() % den >= den - num

    def mask(self, options: Sequence, at_least: int = 1) -> tuple:
        """A subset of ``options`` (one bit each, from as many bytes as needed); empty
        masks become the first ``at_least`` options."""
        bits = 0
        for k in range(0, len(options), 8):
            bits |= self.byte() << k
        out = tuple(o for i, o in enumerate(options) if bits >> i & 1)
        return out if len(out) >= at_least else tuple(options[:at_least])


class Palette:
    """What one schedule may use (swarm testing): families, rates, kinds, victims."""

    __slots__ = ("families", "loss", "faults", "kinds", "victims", "duplicate", "all_kinds", "rejoin")

    def __init__(self, families, loss, faults, kinds, victims, duplicate, all_kinds=(), rejoin=()):
        self.families = families
        self.loss = loss
        self.faults = faults
        self.kinds = kinds
        self.victims = victims
        self.duplicate = duplicate
        self.all_kinds = tuple(all_kinds)
        self.rejoin = tuple(rejoin)   # the kinds of :data:`REJOIN_ON` the protocol sends


PALETTE_BYTES = 10


def read_palette(g: Digits, servers: Sequence[str], kinds: Sequence[str], max_faults: int,
                 liveness: bool, enabled: Sequence[str] = FAMILIES, sends: Sequence[str] = ()) -> Palette:
    """A schedule's palette: the families on (among ``enabled``), the loss rate, how
    many faults, one to three message kinds (agreement kinds weighted), the victim
    servers and the duplication rate. ``sends``: the kinds the protocol declares it
    sends (default: ``kinds``), which an isolation may wait for to end."""
    fams = g.mask(FAMILIES, at_least=0)
    fams = tuple(f for f in fams if f in enabled and not (liveness and f == "loss"))
    loss = g.of(LOSS)
    faults = g.pick(max_faults + 1)
    core = tuple(k for k in CORE if k in kinds)
    weighted = core * 3 + tuple(kinds)
    ks = tuple(dict.fromkeys(g.of(weighted) for _ in range(1 + g.pick(3)))) if weighted else ()
    victims = g.mask(tuple(servers)[:8])
    dup = g.of(DUPLICATE)
    rejoin = () if liveness else tuple(k for k in REJOIN_ON if k in (sends or kinds))
    return Palette(fams, loss, faults, ks, victims, dup, kinds, rejoin)


def read_match(g: Digits, kinds: Sequence[str], servers: Sequence[str], clients: Sequence[str],
               requests: Sequence[str], role: Optional[str] = None) -> dict:
    """A message pattern ``{type, from?, to?, request?}`` that can match something:
    requests go from clients to servers, replies from servers to clients, every other
    kind between servers. ``role``: "from" or "to", the end that must be a server
    (the process a triggered crash or isolation hits)."""
    if role == "from":
        kinds = tuple(k for k in kinds if k != "REQ") or ("REPLY",)
    elif role == "to":
        kinds = tuple(k for k in kinds if k != "REPLY") or ("ACC",)
    kind = g.of(kinds)
    senders = tuple(clients) if kind == "REQ" else tuple(servers)
    receivers = tuple(clients) if kind == "REPLY" else tuple(servers)
    m: dict = {"type": kind}
    a = g.pick(len(senders) + 1) - 1   # -1: any sender (unless the sender is the victim)
    if role == "from" and a < 0:
        a = g.pick(len(senders))
    if a >= 0:
        m["from"] = senders[a]
    options = tuple(p for p in receivers if p != m.get("from"))
    b = g.pick(len(options) + 1) - 1 if options else -1
    if role == "to" and b < 0 and options:
        b = g.pick(len(options))
    if b >= 0:
        m["to"] = options[b]
    if requests and kind not in ("HB", "PREP", "PROM", "NACK", "CATCHUP") and g.chance(1):
        m["request"] = g.of(tuple(requests))
    return m


def nth(g: Digits) -> int:
    """1 half the time, then 2, 3, 4 (deep bugs need later messages too)."""
    return (1, 1, 1, 1, 2, 2, 3, 4)[g.pick(8)]


FAULT_BYTES = 12


def read_fault(g: Digits, family: str, pal: Palette, servers: Sequence[str], clients: Sequence[str],
               requests: Sequence[str], liveness: bool) -> list[dict]:
    """One fault of ``family``, as a list of scenario fault entries (a timed crash
    may come with its recovery)."""
    if family == "drop":
        return [{"drop": read_match(g, pal.kinds, servers, clients, requests), "nth": nth(g)}]
    if family == "delay":
        m = read_match(g, pal.kinds, servers, clients, requests)
        return [{"delay": m, "nth": nth(g), "by": g.of(EXTRA_DELAYS)}]
    if family == "crash":
        s = g.of(pal.victims)
        at = g.of(TIMES)
        out = [{"at": at, "crash": s}]
        if g.chance(3):
            out.append({"at": at + g.of(DURATIONS), "recover": s})
        return out
    if family == "crash_after":
        role = "to" if g.chance(1) else "from"
        kind = "crash_after_receive" if role == "to" else "crash_after_send"
        f = {kind: read_match(g, pal.kinds, servers, clients, requests, role=role), "nth": nth(g)}
        if g.chance(3):
            f["for"] = g.of(LASTING)
        return [f]
    if family == "isolate":
        role = "to" if g.chance(2) else "from"
        kinds = tuple(k for k in pal.kinds if k not in ("REQ", "REPLY")) or ("PREP", "ACC")
        kind = "isolate_after_receive" if role == "to" else "isolate_after_send"
        m = read_match(g, kinds, servers, clients, (), role=role)
        if g.chance(2):
            m.pop(role, None)   # whoever sends (handles) it: the leader, a candidate, ...
        f = {kind: m, "nth": nth(g)}
        if liveness or g.chance(7, 8):
            f["for"] = g.of(LASTING)
        return [f]
    # a timed partition: a cut among the victims' cuts, clients on either side or both
    cuts = [c for c in splits(servers) if set(c[0]) <= set(pal.victims) or set(c[1]) <= set(pal.victims)]
    a, b = g.of(cuts or splits(servers) or [((servers[0],), ())])
    ga, gb = list(a), list(b)
    for c in clients:
        where = g.pick(3)
        (ga if where == 1 else gb if where == 2 else []).append(c)
    at = g.of(TIMES)
    f = {"at": at, "partition": [ga, gb]}
    if liveness or g.chance(3):
        f["until"] = at + g.of(DURATIONS)
    return [f] if gb else []


CHURN: tuple[tuple[str, str], ...] = (
    ("isolate_after_send", "ACC"),      # the leader is cut off right after it proposes
    ("crash_after_send", "ACC"),        # the leader crashes right after it proposes
    ("crash_after_receive", "ACC"),     # an acceptor crashes right after it accepts
    ("isolate_after_receive", "ACC"),   # an acceptor is cut off right after it accepts
    ("isolate_after_send", "PREP"),     # a candidate is cut off right after it asks for promises
    ("isolate_after_receive", "PROM"),  # a new leader is cut off once promised
    ("crash_after_send", "PROM"),       # an acceptor crashes right after it promises
    ("crash_after_receive", "LRN"),     # a learner crashes right after it learns
    ("isolate_after_receive", "LRN"),   # the leader is cut off once a learn comes back
    ("restart", "ACC"),                 # the leader is cut off right after it proposes, restarts, rejoins
    ("restart", "PREP"),                # a candidate is cut off right after it asks, restarts, rejoins
    ("return", "ACC"),                  # the leader is cut off right after it proposes, and rejoins as it
)                                       # proposes again a while later, still leading its old round
"""The links of a churn chain: (action on whoever sends or handles it, message kind).
A restart is two faults triggered by the same message: its sender is cut off and
crashes, recovers soon, and is reconnected as it next asks to lead: the stale
leader that returns with what it alone accepted."""

REJOIN_ON: tuple[str, ...] = ("PREP", "ACC")
"""An isolation of a churn chain may end as its server sends one of these (asks to
lead, proposes), the first one some time after it was cut off: event-based, so
that it rejoins at the moment that matters whatever the protocol's timeouts."""

CHURN_BYTES = 16

ISOLATED_FOR: tuple[float, ...] = (20.0, 10.0, 30.0, 15.0)
CRASHED_FOR: tuple[float, ...] = (5.0, 10.0, 20.0, 3.0)


def read_churn(g: Digits, pal: Palette, liveness: bool) -> list[dict]:
    """A churn chain: two to four links (:data:`CHURN`), each triggered by the nth
    agreement message any server sends or handles (half of the links after the first
    count from when the link before fired: ``chained``; a restart is never chained,
    its two faults must count alike), each undone after a while or, for
    an isolation, maybe as its server asks to lead or proposes again (not under
    ``liveness``: such an isolation might never end). Only links whose kind the
    protocol declares, whose action a family of the palette allows (crashes: crash
    or crash_after; isolations: partition or isolate; a restart needs both). Half
    the chains open with a restart of the first proposer (the stale leader that
    returns, which deep bugs of leader changes need)."""
    fams = set(pal.families)
    ok = {"crash": bool({"crash", "crash_after"} & fams), "isolate": bool({"isolate", "partition"} & fams)}
    rejoin = pal.rejoin
    ok["restart"] = ok["crash"] and ok["isolate"] and rejoin[:1] == ("PREP",)
    ok["return"] = ok["isolate"] and "ACC" in rejoin
    links = tuple((a, k) for a, k in CHURN if k in pal.all_kinds and ok[a.split("_")[0]])
    out: list[dict] = []
    if not links:
        return out
    openings = tuple(o for o in (("restart", "ACC"), ("return", "ACC")) if o in links)
    opening = g.chance(3, 4) and openings
    for i in range(2 + g.pick(3)):
        action, kind = g.of(links)
        if i == 0 and opening:
            action, kind = g.of(openings)
        n = (1, 1, 1, 2, 2, 3)[g.pick(6)]
        chained = i > 0 and g.chance(1, 2)
        if action == "return":
            out.append({"isolate_after_send": {"type": kind}, "nth": n, "for": g.of(ISOLATED_FOR),
                        "until_sends": kind})
            continue
        if action == "restart":
            out.append({"isolate_after_send": {"type": kind}, "nth": n, "until_sends": "PREP"})
            out.append({"crash_after_send": {"type": kind}, "nth": n, "for": g.of(CRASHED_FOR)})
            continue
        f: dict = {action: {"type": kind}, "nth": n}
        if chained:
            f["chained"] = True
        if action.startswith("isolate"):
            f["for"] = g.of(ISOLATED_FOR)
            if rejoin and g.chance(1):
                f["until_sends"] = g.of(rejoin)
        elif g.chance(7, 8):
            f["for"] = g.of(CRASHED_FOR)
        out.append(f)
    return out


def read_faults(g: Digits, pal: Palette, servers, clients, requests, liveness: bool) -> list[dict]:
    fams = tuple(f for f in pal.families if f in FAULT_FAMILIES)
    out: list[dict] = []
    start = g.i + CHURN_BYTES
    if "churn" in pal.families:
        out += read_churn(g, pal, liveness)
    for k in range(pal.faults if fams else 0):
        g.i = start + k * FAULT_BYTES
        out += read_fault(g, g.of(fams), pal, servers, clients, requests, liveness)
    if liveness:
        out = end_faults(out, servers)
    return settle_chains(out)


def settle_chains(faults: list[dict]) -> list[dict]:
    """``faults`` where no fault is ``chained`` without a triggered fault before it
    (after faults were removed: it then counts from the start)."""
    out = []
    seen = False
    for f in faults:
        if f.get("chained") and not seen:
            f = {k: v for k, v in f.items() if k != "chained"}
        seen = seen or any(k in f for k in TARGETED)
        out.append(f)
    return out


NETWORK_BYTES = 18


def read_network(g: Digits, pal: Palette, processes: Sequence[str], calm: bool) -> dict:
    """The ``[network]`` table: base delay (constant 1 or uniform around 1, see
    :data:`JITTER`), loss, duplication, FIFO or not, and per-link overrides (slow
    links with ``delay``, lossy ones with ``loss``)."""
    fams = pal.families
    jitter = g.pick(4)
    delay: object = 1.0 if jitter == 0 else {"dist": "uniform", "low": JITTER[jitter - 1][0],
                                               "high": JITTER[jitter - 1][1]}
    net: dict = {"delay": delay, "loss": 0.0, "duplicate": 0.0, "fifo": True}
    if "loss" in fams and g.chance(2):
        net["loss"] = pal.loss
    if "chaos" in fams:
        net["duplicate"] = pal.duplicate if g.chance(2) else 0.0
        net["fifo"] = not g.chance(2)
    links = []
    if ("delay" in fams or "chaos" in fams) and g.chance(2):
        # a slow, jittery network: every link, beyond the nominal range
        lo = g.of((0.5, 0.1, 1.0))
        links.append({"delay": {"dist": "uniform", "low": lo, "high": lo + g.of((2.0,) if calm else (5.0, 2.0))}})
    if ("loss" in fams or "delay" in fams) and len(processes) > 1:
        for _ in range(g.pick(3)):
            a = g.of(tuple(processes))
            b = g.of(tuple(p for p in processes if p != a))
            lossy = "loss" in fams and ("delay" not in fams or g.chance(2))
            if lossy:
                links.append({"from": a, "to": b, "loss": pal.loss})
            else:
                slow = tuple(d for d in LINK_DELAYS if d <= 3.0) if calm else LINK_DELAYS
                links.append({"from": a, "to": b, "delay": g.of(slow)})
    if links:
        net["links"] = links
    return net


def read_clients(g: Digits, servers: Sequence[str], clients: int, requests: int, resend: bool) -> list[dict]:
    """``[[clients]]``: each client's request times (grid gaps, in order), whom it
    addresses first (a rotation of the servers) and how soon it resends."""
    ids = request_ids(clients, requests)
    servers = tuple(servers)
    out = []
    for i, name in enumerate(client_names(clients)):
        first = g.pick(len(servers))
        retry = g.of((20.0, 5.0, 10.0) if resend else (20.0, 5.0, 10.0, 0.0))
        t = 0.0
        reqs = []
        for j in range(requests):
            t += g.of(GAPS)
            reqs.append({"id": ids[j * clients + i], "at": t})
        c: dict = {"name": name, "requests": reqs}
        if first:
            c["servers"] = list(servers[first:] + servers[:first])
        if retry != 20.0:
            c["retry"] = retry
        out.append(c)
    return out


def end_faults(faults: list[dict], servers: Sequence[str]) -> list[dict]:
    """Make a schedule's faults end: every partition heals, and only a minority of
    the servers (the first ones named in a crash) may stay down. Triggered crashes
    of a named server that never recover (possibly late: the 4th heartbeat) are
    kept only for that minority, those of whoever sends or handles a message
    recover; every other server that crashes at a time recovers after the last
    timed fault."""
    minority = (len(servers) - 1) // 2
    crashing: list[str] = []
    for f in faults:
        if "for" in f:
            continue   # comes back by itself
        s = f.get("crash") or (f.get("crash_after_send") or {}).get("from") \
            or (f.get("crash_after_receive") or {}).get("to")
        if s is not None and s not in crashing:
            crashing.append(s)
    may_stay_down = set(crashing[:minority])
    out = []
    last = 0.0
    for f in faults:
        f = dict(f)
        triggered = (f.get("crash_after_send") or {}).get("from") or (f.get("crash_after_receive") or {}).get("to")
        if triggered is not None and triggered not in may_stay_down and "for" not in f:
            continue
        if triggered is None and ("crash_after_send" in f or "crash_after_receive" in f) and "for" not in f:
            f["for"] = LASTING[0]   # whoever it is comes back
        if ("isolate_after_send" in f or "isolate_after_receive" in f) and "for" not in f:
            f["for"] = LASTING[0]
        if "partition" in f and "until" not in f:
            f["until"] = f["at"] + DURATIONS[0]
        for k in ("at", "until"):
            if k in f:
                last = max(last, f[k])
        out.append(f)
    late = last + DURATIONS[0]
    for s in crashing[minority:]:
        if any(f.get("crash") == s for f in out):
            out.append({"at": late, "recover": s})
    return out


# ---------------------------------------------------------------- strategies ---

def _blob(n: int) -> st.SearchStrategy[bytes]:
    return st.binary(min_size=n, max_size=n)


def _all(kinds) -> Palette:
    return Palette(FAMILIES, LOSS[0], 1, tuple(kinds), (), DUPLICATE[0])


@lru_cache(maxsize=256)
def _one(family: str, servers: tuple, clients: tuple, requests: tuple, kinds: tuple,
         liveness: bool = False) -> st.SearchStrategy[list[dict]]:
    pal = _all(kinds)
    pal.victims = servers
    pal.all_kinds = kinds
    return _blob(FAULT_BYTES).map(lambda b: read_fault(Digits(b), family, pal, servers, clients, requests, liveness))


def drops(servers, clients, requests=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """Lose the nth message matching a pattern: ``{drop = {type="ACC", from="S1"}, nth = 1}``."""
    return _one("drop", tuple(servers), tuple(clients), tuple(requests), tuple(kinds)).map(lambda l: l[0])


def delays(servers, clients, requests=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """Hold back the nth matching message: ``{delay = {...}, nth = 1, by = 5.0}``."""
    return _one("delay", tuple(servers), tuple(clients), tuple(requests), tuple(kinds)).map(lambda l: l[0])


def crashes_after(servers, clients, requests=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """A server crashes right after sending (or handling) the nth matching message,
    e.g. the 1st PROM it sends; maybe it recovers ``for`` later."""
    return _one("crash_after", tuple(servers), tuple(clients), tuple(requests), tuple(kinds)).map(lambda l: l[0])


def isolations(servers, clients=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """Leader churn: the sender of the nth matching message (the 2nd PREP: the second
    candidate; the 3rd ACC: whoever leads then) is cut off from the other servers
    right after sending it, usually for a while."""
    return _one("isolate", tuple(servers), tuple(clients), (), tuple(kinds)).map(lambda l: l[0])


def crashes(servers: Sequence[str], liveness: bool = False) -> st.SearchStrategy[list[dict]]:
    """A crash at a grid time, usually followed by a recovery: a list of one or two
    faults (under ``liveness``, :func:`end_faults` makes a whole schedule's crashes end)."""
    return _one("crash", tuple(servers), (), (), KINDS, liveness)


def partitions(servers: Sequence[str], clients: Sequence[str] = (), liveness: bool = False) -> st.SearchStrategy[dict]:
    """A partition of the servers in two sides, each client on one side or with both
    (a process in no group reaches everyone), maybe healing (always, under ``liveness``)."""
    return _one("partition", tuple(servers), tuple(clients), (), KINDS, liveness).filter(bool).map(lambda l: l[0])


def networks(processes: Sequence[str], *, loss: bool = True, calm: bool = False) -> st.SearchStrategy[dict]:
    """The ``[network]`` table (``loss=False``: never lossy; ``calm``: no link slower
    than failure detection)."""
    return _networks(tuple(processes), loss, calm)


@lru_cache(maxsize=64)
def _networks(procs: tuple, loss: bool, calm: bool) -> st.SearchStrategy[dict]:

    def read(b: bytes) -> dict:
        g = Digits(b)
        pal = read_palette(g, (), (), 0, not loss)
        return read_network(g, pal, procs, calm)
    return _blob(PALETTE_BYTES + NETWORK_BYTES).map(read)


def client_schedules(servers: Sequence[str], clients: int = 2, requests: int = 1,
                     resend: bool = False) -> st.SearchStrategy[list[dict]]:
    """``[[clients]]`` (``resend=True``: every client resends)."""
    return _client_schedules(tuple(servers), clients, requests, resend)


@lru_cache(maxsize=64)
def _client_schedules(srv: tuple, clients: int, requests: int, resend: bool) -> st.SearchStrategy[list[dict]]:
    return _blob(clients * (requests + 2)).map(lambda b: read_clients(Digits(b), srv, clients, requests, resend))


def fault_lists(servers: Sequence[str], clients: Sequence[str], requests: Sequence[str] = (),
                liveness: bool = False, max_faults: int = 5, kinds: Sequence[str] = KINDS,
                enabled: Sequence[str] = FAMILIES) -> st.SearchStrategy[list[dict]]:
    """A fault schedule drawn from its own palette (see the module's docstring)."""
    return _fault_lists(tuple(servers), tuple(clients), tuple(requests), liveness, max_faults, tuple(kinds),
                        tuple(enabled))


@lru_cache(maxsize=64)
def _fault_lists(srv: tuple, cl: tuple, rq: tuple, liveness: bool, max_faults: int, ks: tuple,
                 en: tuple) -> st.SearchStrategy[list[dict]]:

    def read(b: bytes) -> list[dict]:
        g = Digits(b)
        pal = read_palette(g, srv, ks, max_faults, liveness, en)
        return read_faults(g, pal, srv, cl, rq, liveness)
    return _blob(PALETTE_BYTES + CHURN_BYTES + FAULT_BYTES * max_faults).map(read)


class Layout:
    """Where each part of a scenario's byte string is read (fixed offsets, so that
    changing one part's decisions does not move the others')."""

    def __init__(self, servers: int, clients: int, requests: int, max_faults: int):
        self.palette = 0
        self.network = PALETTE_BYTES + 1
        self.clients = self.network + NETWORK_BYTES
        self.faults = self.clients + clients * (requests + 2)
        self.size = self.faults + CHURN_BYTES + FAULT_BYTES * max_faults


def decode_scenario(data: bytes, protocol: str, servers: int = 3, clients: int = 2, requests: int = 1,
                    liveness: bool = False, max_faults: int = 5, params: tuple = (),
                    kinds: Optional[Sequence[str]] = None, settle: Optional[float] = None,
                    enabled: Sequence[str] = FAMILIES) -> dict:
    """The scenario dict a byte string stands for (see :func:`scenarios`)."""
    if kinds is None:
        kinds = message_kinds(protocol)
    lay = Layout(servers, clients, requests, max_faults)
    snames = server_names(servers)
    cnames = client_names(clients)
    g = Digits(data)
    pal = read_palette(g, snames, kinds, max_faults, liveness, enabled, declared_kinds(protocol))
    seed = g.byte()
    d: dict = {"description": f"fuzzed schedule for {protocol}", "protocol": protocol, "servers": servers,
               "seed": seed}
    if settle is not None:
        d["settle"] = settle
    if params:
        d["params"] = dict(params)
    g.i = lay.network
    d["network"] = read_network(g, pal, snames + cnames, calm=liveness)
    g.i = lay.clients
    d["clients"] = read_clients(g, snames, clients, requests, resend=liveness)
    g.i = lay.faults
    faults = read_faults(g, pal, snames, cnames, request_ids(clients, requests), liveness)
    if faults:
        d["faults"] = faults
    return d


@lru_cache(maxsize=64)
def _scenarios(protocol: str, servers: int, clients: int, requests: int, liveness: bool, max_faults: int,
               params: tuple, kinds: Optional[tuple], settle: Optional[float],
               enabled: tuple) -> st.SearchStrategy[dict]:
    if kinds is None:
        kinds = message_kinds(protocol)
    size = Layout(servers, clients, requests, max_faults).size
    return _blob(size).map(lambda b: decode_scenario(b, protocol, servers, clients, requests, liveness, max_faults,
                                                     params, kinds, settle, enabled))


def scenarios(protocol: str, servers: int = 3, clients: int = 2, requests: int = 1,
              liveness: bool = False, max_faults: int = 5, params: Optional[dict] = None,
              kinds: Optional[Sequence[str]] = None, settle: Optional[float] = None,
              enabled: Sequence[str] = FAMILIES) -> st.SearchStrategy[dict]:
    """A whole scenario dict for ``protocol``: clients and their request times, a
    network (delays, loss, duplication, per-link overrides) and a fault schedule
    (targeted drops, delays, crashes and isolations, timed crashes, recoveries,
    partitions), one byte string decoded. ``kinds``: message kinds targeted faults
    may match (default: :func:`message_kinds`); ``enabled``: the fault families
    palettes choose from (default: all of :data:`FAMILIES`). Built once per
    configuration."""
    return _scenarios(protocol, servers, clients, requests, liveness, max_faults,
                      tuple(sorted((params or {}).items())), None if kinds is None else tuple(kinds), settle,
                      tuple(enabled))


__all__ = [
    "DUPLICATE", "DURATIONS", "EXTRA_DELAYS", "FAMILIES", "FAULT_FAMILIES", "GAPS", "KINDS", "LASTING",
    "LINK_DELAYS", "LOSS", "TIMES", "Digits", "Palette",
    "client_names", "client_schedules", "crashes", "crashes_after", "decode_scenario", "delays", "drops",
    "end_faults", "fault_lists", "settle_chains", "isolations", "message_kinds", "networks", "partitions", "request_ids",
    "scenarios", "server_names", "splits",
]
