"""Hypothesis strategies for failure schedules: scenario dicts for paxsim.

Every strategy here draws plain data in the scenario schema that
:func:`paxsim.scenario.from_dict` validates (the same as the TOML files), so a
drawn value can be run with ``run_scenario(scenario_from_dict(d))`` and written
back with ``Scenario.to_toml()``. They are small pieces combined with
``st.builds`` / ``st.fixed_dictionaries`` / ``@st.composite``; use the pieces in
your own tests or the whole :func:`scenarios`::

    from hypothesis import given, settings
    from paxsim import run_scenario, scenario_from_dict
    from paxsim.fuzz.strategies import scenarios

    @settings(max_examples=50, deadline=None)
    @given(scenarios("paxos", servers=3))
    def test_paxos_is_safe(d):
        assert run_scenario(scenario_from_dict(d), record_trace=False).outcome != "UNSAFE"

Values are drawn from small grids (times, delays, durations) rather than from all
floats: distinct failures need distinct orderings of events, not distinct
decimals, and a grid makes shrunk counterexamples read like the tutorial's
figures (``t=2``, ``delay 3``). Everything shrinks towards "no fault": empty
fault lists, no loss, the first element of each grid.

:func:`fault_lists` draws each schedule's own palette first (swarm testing: which
fault kinds, message kinds and victim servers it uses), so faults come correlated,
and :func:`isolations` draws leader churn (servers cut off one after another).

With ``liveness=True`` the faults *end*: partitions heal, crashed servers beyond
a minority recover, no probabilistic loss, clients resend. A request left
unanswered after such a schedule is a liveness failure of the protocol (STUCK),
not of the schedule.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations
from typing import Optional, Sequence

from hypothesis import strategies as st

# ------------------------------------------------------------------ the grids ---

TIMES: tuple[float, ...] = (0.0, 1.0, 0.5, 2.0, 1.5, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0)
"""When faults happen (first elements are what shrinking goes to)."""

GAPS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0)
"""Time between a client's scheduled requests (and before its first one)."""

LINK_DELAYS: tuple[float, ...] = (3.0, 0.5, 2.0, 5.0, 10.0, 20.0)
"""Per-link constant delays (the default link takes 1)."""

EXTRA_DELAYS: tuple[float, ...] = (2.0, 5.0, 1.0, 10.0, 30.0)
"""How much a targeted ``delay`` fault holds a message back."""

DURATIONS: tuple[float, ...] = (10.0, 5.0, 20.0, 40.0, 80.0)
"""How long a partition lasts, or a crashed server stays down."""

LOSS: tuple[float, ...] = (0.0, 0.1, 0.3, 0.05, 0.5)
NETWORK_LOSS: tuple[float, ...] = (0.0, 0.0, 0.0, 0.1, 0.3, 0.05)
"""A lossy network is drawn one time in two: most failures need a few chosen losses."""
DUPLICATE: tuple[float, ...] = (0.0, 0.1, 0.3)

KINDS: tuple[str, ...] = ("ACC", "LRN", "REPLY", "PROM", "PREP", "REQ", "HB")
"""Message kinds a targeted fault can match; see :mod:`paxsim.types`."""


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


def server_names(n: int) -> tuple[str, ...]:
    return tuple(f"S{i}" for i in range(1, n + 1))


def client_names(k: int) -> tuple[str, ...]:
    return tuple(f"C{i}" for i in range(1, k + 1))


def request_ids(clients: int, requests: int) -> tuple[str, ...]:
    """``m1 .. m(clients*requests)``; client i's j-th request is ``m(j*clients + i)``."""
    return tuple(f"m{j * clients + i + 1}" for j in range(requests) for i in range(clients))


def times(grid: Sequence[float] = TIMES) -> st.SearchStrategy[float]:
    return st.sampled_from(tuple(grid))


# ---------------------------------------------------------- targeted faults ---

@st.composite
def message_matches(draw, servers: Sequence[str], clients: Sequence[str],
                    requests: Sequence[str] = (), kinds: Sequence[str] = KINDS,
                    src: Optional[Sequence[str]] = None, dst: Optional[Sequence[str]] = None) -> dict:
    """A message pattern ``{type, from?, to?, request?}`` that can match something:
    requests go from clients to servers, replies from servers to clients, every
    other kind between servers. ``src`` / ``dst`` restrict the ends (and make them
    required)."""
    kind = draw(st.sampled_from(tuple(kinds)))
    senders = tuple(clients) if kind == "REQ" else tuple(servers)
    receivers = tuple(clients) if kind == "REPLY" else tuple(servers)
    match: dict = {"type": kind}
    if src is not None:
        options = tuple(p for p in senders if p in src)
        if options:
            match["from"] = draw(st.sampled_from(options))
    elif senders and draw(st.booleans()):
        match["from"] = draw(st.sampled_from(senders))
    if dst is not None:
        options = tuple(p for p in receivers if p in dst and p != match.get("from"))
        if options:
            match["to"] = draw(st.sampled_from(options))
    elif draw(st.booleans()):
        options = tuple(p for p in receivers if p != match.get("from"))
        if options:
            match["to"] = draw(st.sampled_from(options))
    if requests and kind not in ("HB", "PREP", "PROM") and draw(st.booleans()):
        match["request"] = draw(st.sampled_from(tuple(requests)))
    return match


def nths(top: int = 4) -> st.SearchStrategy[int]:
    return st.integers(min_value=1, max_value=top)


def drops(servers, clients, requests=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """Lose the nth message matching a pattern: ``{drop = {type="ACC", from="S1"}, nth = 1}``."""
    return st.builds(lambda m, n: {"drop": m, "nth": n},
                     message_matches(servers, clients, requests, kinds), nths())


def delays(servers, clients, requests=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """Hold back the nth matching message: ``{delay = {...}, nth = 1, by = 5.0}``."""
    return st.builds(lambda m, n, b: {"delay": m, "nth": n, "by": b},
                     message_matches(servers, clients, requests, kinds), nths(), st.sampled_from(EXTRA_DELAYS))


def crashes_after_send(servers, clients, requests=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """A server crashes right after sending the nth matching message (e.g. a REPLY);
    the rest of that step (its other sends) never happens."""
    return st.builds(lambda m, n: {"crash_after_send": m, "nth": n},
                     message_matches(servers, clients, requests, tuple(k for k in kinds if k != "REQ") or ("REPLY",),
                                     src=servers), nths())


def crashes_after_receive(servers, clients, requests=(), kinds=KINDS) -> st.SearchStrategy[dict]:
    """A server crashes right after handling the nth matching message (e.g. an ACC)."""
    return st.builds(lambda m, n: {"crash_after_receive": m, "nth": n},
                     message_matches(servers, clients, requests, tuple(k for k in kinds if k != "REPLY") or ("ACC",),
                                     dst=servers), nths())


@st.composite
def with_recovery(draw, fault: st.SearchStrategy[dict]) -> list[dict]:
    """A crash triggered by a message, maybe followed by the server's recovery at a
    grid time (a no-op if it has not crashed by then): a list of one or two faults."""
    f = draw(fault)
    out = [f]
    m = f.get("crash_after_send") or f.get("crash_after_receive") or {}
    who = m.get("from") if "crash_after_send" in f else m.get("to")
    if who is not None and draw(st.booleans()):
        out.append({"at": draw(st.sampled_from((10.0, 5.0, 15.0, 20.0, 30.0))), "recover": who})
    return out


# -------------------------------------------------------------- timed faults ---

@st.composite
def crashes(draw, servers: Sequence[str], recover: Optional[bool] = None) -> list[dict]:
    """A crash at a grid time, maybe followed by a recovery: a list of one or two faults.
    ``recover=True`` always recovers, ``False`` never, ``None`` either."""
    s = draw(st.sampled_from(tuple(servers)))
    at = draw(times())
    out = [{"at": at, "crash": s}]
    back = draw(st.booleans()) if recover is None else recover
    if back:
        out.append({"at": at + draw(st.sampled_from(DURATIONS)), "recover": s})
    return out


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


@st.composite
def partitions(draw, servers: Sequence[str], clients: Sequence[str] = (), heal: Optional[bool] = None,
               sides: Sequence[tuple[tuple[str, ...], tuple[str, ...]]] = ()) -> dict:
    """A partition of the servers in two sides, each client on one side or with both
    (a process in no group reaches everyone), healing after a grid duration.
    ``heal=True`` always heals, ``False`` never, ``None`` either. ``sides``: the cuts
    to choose from (default: every cut, see :func:`splits`)."""
    options = list(sides) or splits(servers)
    if not options:
        return {"at": 0.0, "heal": True}
    a, b = draw(st.sampled_from(options))
    ga, gb = list(a), list(b)
    for c in clients:
        where = draw(st.sampled_from((0, 1, 2)))
        if where == 1:
            ga.append(c)
        elif where == 2:
            gb.append(c)
    at = draw(times())
    out: dict = {"at": at, "partition": [ga, gb]}
    lasts = draw(st.booleans()) if heal is None else heal
    if lasts:
        out["until"] = at + draw(st.sampled_from(DURATIONS))
    return out


# ------------------------------------------------------------------ network ---

@st.composite
def link_overrides(draw, processes: Sequence[str], loss: bool = True,
                   delays: Sequence[float] = LINK_DELAYS) -> dict:
    """One ``[[network.links]]`` entry: a slower (or faster) link, or a lossy one."""
    a = draw(st.sampled_from(tuple(processes)))
    b = draw(st.sampled_from(tuple(p for p in processes if p != a)))
    out: dict = {"from": a, "to": b}
    if loss and draw(st.booleans()):
        out["loss"] = draw(st.sampled_from(LOSS[1:]))
    else:
        out["delay"] = draw(st.sampled_from(tuple(delays)))
    return out


def networks(processes: Sequence[str], *, loss: bool = True, max_links: int = 4,
             calm: bool = False) -> st.SearchStrategy[dict]:
    """The ``[network]`` table: base delay (constant 1 or uniform), loss, duplication,
    FIFO or not, and per-link overrides (``loss=False``: never lossy). ``calm``:
    delays stay within a few time units (no link slower than failure detection)."""
    base = st.one_of(
        st.just(1.0),
        st.builds(lambda lo, w: {"dist": "uniform", "low": lo, "high": lo + w},
                  st.sampled_from((0.5, 0.1, 1.0)), st.sampled_from((1.0, 2.0) if calm else (1.0, 2.0, 5.0))),
    )
    link_delays = tuple(d for d in LINK_DELAYS if d <= 3.0) if calm else LINK_DELAYS
    return st.fixed_dictionaries({
        "delay": base,
        "loss": st.sampled_from(NETWORK_LOSS) if loss else st.just(0.0),
        "duplicate": st.sampled_from(DUPLICATE),
        "fifo": st.booleans().map(lambda b: not b),
        "links": st.lists(link_overrides(processes, loss=loss, delays=link_delays), max_size=max_links),
    }).map(_drop_empty_links)


def _drop_empty_links(net: dict) -> dict:
    if not net["links"]:
        net = dict(net)
        del net["links"]
    return net


# ------------------------------------------------------------------ clients ---

@st.composite
def client_schedules(draw, servers: Sequence[str], clients: int = 2, requests: int = 1,
            resend: bool = False) -> list[dict]:
    """``[[clients]]``: each client's request times (grid gaps, in order), whom it
    addresses first (a rotation of the servers) and how soon it resends
    (``resend=True``: it always does)."""
    ids = request_ids(clients, requests)
    servers = tuple(servers)
    rotations = [servers[i:] + servers[:i] for i in range(len(servers))]
    out = []
    for i, name in enumerate(client_names(clients)):
        t = 0.0
        reqs = []
        for j in range(requests):
            t += draw(st.sampled_from(GAPS))
            reqs.append({"id": ids[j * clients + i], "at": t})
        c: dict = {"name": name, "requests": reqs}
        first = draw(st.sampled_from(range(len(rotations))))
        if first:
            c["servers"] = list(rotations[first])
        retry = draw(st.sampled_from((20.0, 5.0, 10.0) if resend else (20.0, 5.0, 10.0, 0.0)))
        if retry != 20.0:
            c["retry"] = retry
        out.append(c)
    return out


# ---------------------------------------------------------------- schedules ---

FAULTS: tuple[str, ...] = ("drop", "crash_after_send", "partition", "crash", "crash_after_receive", "delay",
                           "isolations")
"""The fault kinds :func:`fault_kinds` draws from (``isolations``: leader churn)."""


@st.composite
def isolations(draw, servers: Sequence[str], clients: Sequence[str] = (), victims: Sequence[str] = ()) -> list[dict]:
    """Leader churn: one to three back-to-back partitions, each cutting one server
    (and maybe some clients) off from the others for long enough that failure
    detection fires and another server takes over. The first one starts early,
    around when the first requests are ordered."""
    victims = tuple(victims) or tuple(servers)
    t = draw(st.sampled_from((2.5, 1.5, 3.5, 5.0, 0.5, 10.0)))
    out = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        s = draw(st.sampled_from(victims))
        side = [s] + [c for c in clients if draw(st.booleans())]
        rest = [x for x in servers if x != s]
        dur = draw(st.sampled_from((20.0, 10.0, 30.0)))
        out.append({"at": t, "partition": [side, rest], "until": t + dur})
        t += dur
    return out


def fault_kinds(servers: Sequence[str], clients: Sequence[str], requests: Sequence[str] = (),
                liveness: bool = False, kinds: Sequence[str] = KINDS,
                enabled: Sequence[str] = FAULTS, victims: Sequence[str] = ()) -> st.SearchStrategy[list[dict]]:
    """One fault of any of the ``enabled`` kinds, as a list of scenario fault entries
    (a crash may come with its recovery, leader churn is several partitions). Timed
    crashes and partitions hit the ``victims`` (default: any server). Under
    ``liveness`` every timed fault ends."""
    victims = tuple(victims) or tuple(servers)
    one = lambda s: s.map(lambda f: [f])  # noqa: E731
    sides = [sp for sp in splits(servers) if set(sp[0]) <= set(victims) or set(sp[1]) <= set(victims)]
    table = {
        "drop": lambda: one(drops(servers, clients, requests, kinds)),
        "crash_after_send": lambda: with_recovery(crashes_after_send(servers, clients, requests, kinds)),
        "partition": lambda: one(partitions(servers, clients, heal=True if liveness else None, sides=sides)),
        "crash": lambda: crashes(victims, recover=None),
        "crash_after_receive": lambda: with_recovery(crashes_after_receive(servers, clients, requests, kinds)),
        "delay": lambda: one(delays(servers, clients, requests, kinds)),
        "isolations": lambda: isolations(servers, clients, victims),
    }
    return st.one_of(*[table[k]() for k in FAULTS if k in enabled])


@st.composite
def fault_lists(draw, servers: Sequence[str], clients: Sequence[str], requests: Sequence[str] = (),
                liveness: bool = False, max_faults: int = 5, kinds: Sequence[str] = KINDS,
                swarm: bool = True) -> list[dict]:
    """A fault schedule: up to ``max_faults`` faults, flattened. Under ``liveness``, at
    most a minority of the servers stays down for good: a server beyond that gets a
    late recovery (a no-op if it is up).

    ``swarm`` (swarm testing, Groce et al. 2012): each schedule first draws its own
    palette (which fault kinds, which message kinds, which servers are victims) and
    then draws faults from it only. Faults then come correlated (three crashes of
    the same two servers, drops of ACCs only), which is what deep failures need and
    what independent draws almost never give."""
    if swarm:
        enabled = draw(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=3, unique=True))
        kinds = draw(st.lists(st.sampled_from(tuple(kinds)), min_size=1, max_size=3, unique=True))
        victims = draw(st.lists(st.sampled_from(tuple(servers)), min_size=1, max_size=len(servers), unique=True))
        victims = [x for x in servers if x in victims]
    else:
        enabled, victims = FAULTS, list(servers)
    groups = draw(st.lists(fault_kinds(servers, clients, requests, liveness, kinds, enabled, victims),
                           max_size=max_faults))
    flat = [f for group in groups for f in group]
    if liveness:
        flat = end_faults(flat, servers)
    return one_partition_at_a_time(flat)


def one_partition_at_a_time(faults: list[dict]) -> list[dict]:
    """The schedules this search was tuned on have one partition in force at a time:
    a partition ends when a later one starts, when another one's ``until`` comes, or
    at a ``heal``. Partitions compose (each has its own lifetime, a link is cut
    while any of them separates its ends), so those ends are written out here, and
    the story of a schedule says when each partition ends. A partition that would
    end as it starts is left out."""
    parts = [i for i, f in enumerate(faults) if "partition" in f]
    if len(parts) < 2 and not any("heal" in f for f in faults):
        return faults
    inf = float("inf")
    out = list(faults)
    drop: set[int] = set()
    for i in parts:
        f = faults[i]
        at = f["at"]
        end = f.get("until", inf)
        for j, g in enumerate(faults):
            if j == i:
                continue
            if "partition" in g and (g["at"] > at or (g["at"] == at and j > i)):
                end = min(end, g["at"])          # a later partition replaces it
            if "partition" in g and g.get("until", inf) > at and j != i:
                end = min(end, g.get("until", inf))  # another one's end heals it
            if "heal" in g and g["at"] > at:
                end = min(end, g["at"])
        if end <= at:
            drop.add(i)
        elif end < inf:
            out[i] = {**f, "until": end}
    return [f for i, f in enumerate(out) if i not in drop]


def end_faults(faults: list[dict], servers: Sequence[str]) -> list[dict]:
    """Make a schedule's faults end: every partition heals, and only a minority of
    the servers (the first ones named in a crash) may stay down. Crashes that a
    message triggers (possibly late: the 4th heartbeat) are kept only for that
    minority; every other server that crashes at a time recovers after the last
    timed fault."""
    minority = (len(servers) - 1) // 2
    crashing: list[str] = []
    for f in faults:
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
        if triggered is not None and triggered not in may_stay_down:
            continue
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


@st.composite
def scenarios(draw, protocol: str, servers: int = 3, clients: int = 2, requests: int = 1,
              liveness: bool = False, max_faults: int = 5, params: Optional[dict] = None,
              kinds: Optional[Sequence[str]] = None, settle: Optional[float] = None) -> dict:
    """A whole scenario dict for ``protocol``: clients and their request times, a
    network (delays, loss, duplication, per-link overrides) and a fault schedule
    (targeted drops, delays and crashes, timed crashes, recoveries, partitions).
    ``kinds``: message kinds targeted faults may match (default: :func:`message_kinds`)."""
    if kinds is None:
        kinds = message_kinds(protocol)
    snames = server_names(servers)
    cnames = client_names(clients)
    ids = request_ids(clients, requests)
    d: dict = {
        "description": f"fuzzed schedule for {protocol}",
        "protocol": protocol,
        "servers": servers,
        "seed": draw(st.integers(min_value=0, max_value=999)),
    }
    if settle is not None:
        d["settle"] = settle
    if params:
        d["params"] = dict(params)
    d["network"] = draw(networks(snames + cnames, loss=not liveness, calm=liveness))
    d["clients"] = draw(client_schedules(snames, clients, requests, resend=liveness))
    faults = draw(fault_lists(snames, cnames, ids, liveness=liveness, max_faults=max_faults, kinds=kinds))
    if faults:
        d["faults"] = faults
    return d


# ------------------------------------------------------------------- sizing ---

LOSS_FAULTS = ("drop",)
CRASH_FAULTS = ("crash", "crash_after_send", "crash_after_receive")


def schedule_size(scenario) -> int:
    """How much goes wrong in a schedule, counted as the tutorial's figures count it:
    lost messages (targeted drops; a lossy network or link counts once), crashes
    (timed or triggered by a message) and partitions. Delays, duplication,
    recoveries and heals are free. Takes a :class:`~paxsim.scenario.Scenario` or a
    scenario dict."""
    return sum(schedule_counts(scenario).values())


def schedule_counts(scenario) -> dict[str, int]:
    """``{"lost": .., "crashes": .., "partitions": ..}`` for :func:`schedule_size`."""
    lost = crashed = parts = 0
    if isinstance(scenario, dict):
        net = scenario.get("network", {})
        lost += 1 if net.get("loss", 0.0) else 0
        lost += sum(1 for l in net.get("links", []) if l.get("loss"))
        for f in scenario.get("faults", []):
            if "drop" in f:
                lost += 1
            elif any(k in f for k in CRASH_FAULTS):
                crashed += 1
            elif "partition" in f:
                parts += 1
    else:
        lost += 1 if scenario.network.loss else 0
        lost += sum(1 for l in scenario.network.links if l.loss)
        for f in scenario.faults:
            if f.kind in LOSS_FAULTS:
                lost += 1
            elif f.kind in CRASH_FAULTS:
                crashed += 1
            elif f.kind == "partition":
                parts += 1
    return {"lost": lost, "crashes": crashed, "partitions": parts}


__all__ = [
    "DURATIONS", "EXTRA_DELAYS", "GAPS", "KINDS", "LINK_DELAYS", "LOSS", "TIMES",
    "client_names", "client_schedules", "crashes", "crashes_after_receive", "crashes_after_send", "delays", "drops",
    "FAULTS", "end_faults", "fault_kinds", "fault_lists", "isolations", "link_overrides", "message_kinds", "message_matches", "networks",
    "nths",
    "partitions", "request_ids", "scenarios", "with_recovery", "schedule_counts", "schedule_size", "server_names", "splits",
    "times",
]
