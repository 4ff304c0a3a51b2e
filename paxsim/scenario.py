"""Scenarios are data: TOML files, validated before anything runs.

A scenario names a protocol and its parameters, the servers, the clients and their
requests, the network model, a fault schedule, a seed and the expected outcome.
Every problem is reported as one :class:`ScenarioError` naming the file, the key
and the problem. ``to_toml`` writes a scenario back (the fuzzer uses it).

Example (see scenarios/ for the tutorial's figures)::

    description = "Fig. 1: one server orders two clients' requests"
    protocol = "single_server"
    servers = 1
    expected = "SAFE"

    [network]
    delay = 1.0                      # or {dist = "uniform", low = 0.5, high = 1.5}

    [[clients]]
    name = "C1"
    requests = [{id = "m1", at = 0.0}]

    [[faults]]
    at = 5.0
    crash = "S1"
"""

from __future__ import annotations

import math
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional, Sequence

from .limits import (MAX_CLIENTS, MAX_COUNT, MAX_FILE_BYTES, MAX_REQUESTS, MAX_SEED, MAX_SERVERS, MAX_TEXT,
                     MAX_TIME, name_problem, number_problem, period_problem, printable, show, shown_path)
from .interleaving import Step, parse_schedule
from .protocols import ParamError, UnknownProtocol, load_protocol
from .types import OUTCOMES

DEFAULT_SETTLE = 60.0
DEFAULT_RETRY = 20.0


class ScenarioError(ValueError):
    """Bad scenario input: ``source`` (file), ``key`` (dotted path), ``problem``."""

    def __init__(self, source: str, key: str, problem: str):
        super().__init__(f"{source}: {key}: {problem}" if key else f"{source}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem


# ------------------------------------------------------------------ the model ---

@dataclass(frozen=True)
class LinkSpec:
    src: tuple[str, ...]      # empty: any
    dst: tuple[str, ...]
    delay: Optional[dict] = None
    loss: Optional[float] = None
    duplicate: Optional[float] = None
    fifo: Optional[bool] = None


@dataclass(frozen=True)
class NetworkSpec:
    delay: dict = field(default_factory=lambda: {"dist": "constant", "value": 1.0})
    loss: float = 0.0
    duplicate: float = 0.0
    fifo: bool = True
    links: tuple[LinkSpec, ...] = ()


class RequestSpec(NamedTuple):
    """A client's request: its id and when it is due (a named tuple: cheap to make
    on demand for long workloads)."""

    id: str
    at: float


@dataclass(frozen=True)
class RequestRange(Sequence):
    """``size`` requests ``m{first}, m{first+1}, ...`` at ``start, start + interval, ...``,
    made on demand: a workload of a million requests costs a few bytes, not a
    million objects (a ``{count, start, interval}`` table in a scenario file)."""

    first: int
    size: int
    start: float
    interval: float

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, k):
        if isinstance(k, slice):
            return tuple(self[i] for i in range(*k.indices(self.size)))
        if k < 0:
            k += self.size
        if not 0 <= k < self.size:
            raise IndexError(k)
        return RequestSpec(f"m{self.first + k}", self.start + k * self.interval)

    def __iter__(self):
        first, start, interval = self.first, self.start, self.interval
        for k in range(self.size):
            yield RequestSpec(f"m{first + k}", start + k * interval)


@dataclass(frozen=True)
class ClientSpec:
    name: str
    requests: Sequence[RequestSpec]   # a tuple, or a RequestRange
    servers: tuple[str, ...] = ()     # whom to send to, in order; empty: all servers
    mode: Optional[str] = None        # "all" | "one"; None: the protocol's choice
    retry: Optional[float] = DEFAULT_RETRY   # None or 0: never resend


@dataclass(frozen=True)
class FaultSpec:
    """One fault. ``kind``: crash, recover, partition, heal, drop, delay,
    crash_after_send, crash_after_receive, isolate_after_send, isolate_after_receive."""

    kind: str
    at: Optional[float] = None
    target: Optional[str] = None                    # crash / recover
    groups: tuple[tuple[str, ...], ...] = ()        # partition
    until: Optional[float] = None                   # partition: heal time
    match: Optional[dict] = None                    # targeted: type/from/to/request
    nth: int = 1
    by: float = 0.0
    lasting: Optional[float] = None                 # triggered crash / isolation: undone after this long
    until_sends: Optional[str] = None               # triggered isolation: ends as its server sends this kind
    chained: bool = False                           # triggered: counts after the triggered fault before it fired


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    protocol: str
    servers: tuple[str, ...]
    clients: tuple[ClientSpec, ...]
    network: NetworkSpec = NetworkSpec()
    faults: tuple[FaultSpec, ...] = ()
    params: dict = field(default_factory=dict)
    seed: int = 0
    expected: Optional[str] = None
    until: Optional[float] = None
    settle: float = DEFAULT_SETTLE
    figure: Optional[str] = None
    source: str = "<scenario>"
    schedule: tuple[Step, ...] = ()   # an exact interleaving to replay (paxsim.interleaving)

    def with_seed(self, seed: int) -> "Scenario":
        return replace(self, seed=seed)

    @property
    def processes(self) -> tuple[str, ...]:
        return self.servers + tuple(c.name for c in self.clients)

    def end_time(self) -> float:
        """When the run stops: ``until``, or the last scheduled thing plus ``settle``."""
        if self.until is not None:
            return self.until
        last = 0.0
        for c in self.clients:
            if len(c.requests):  # listed in time order (validated)
                last = max(last, c.requests[-1].at)
        for f in self.faults:
            for t in (f.at, f.until):
                if t is not None:
                    last = max(last, t)
        return last + self.settle

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"description": self.description, "protocol": self.protocol}
        if self.figure:
            d["figure"] = self.figure
        d["servers"] = list(self.servers)
        d["seed"] = self.seed
        if self.expected:
            d["expected"] = self.expected
        if self.until is not None:
            d["until"] = self.until
        if self.settle != DEFAULT_SETTLE:
            d["settle"] = self.settle
        if self.params:
            d["params"] = dict(self.params)
        net: dict[str, Any] = {"delay": dict(self.network.delay), "loss": self.network.loss,
                               "duplicate": self.network.duplicate, "fifo": self.network.fifo}
        if self.network.links:
            links = []
            for l in self.network.links:
                e: dict[str, Any] = {}
                if l.src:
                    e["from"] = list(l.src)
                if l.dst:
                    e["to"] = list(l.dst)
                for k in ("delay", "loss", "duplicate", "fifo"):
                    v = getattr(l, k)
                    if v is not None:
                        e[k] = v
                links.append(e)
            net["links"] = links
        d["network"] = net
        clients = []
        for c in self.clients:
            e = {"name": c.name, "requests": [{"id": r.id, "at": r.at} for r in c.requests]}
            if c.servers:
                e["servers"] = list(c.servers)
            if c.mode:
                e["mode"] = c.mode
            e["retry"] = c.retry if c.retry else 0.0
            clients.append(e)
        d["clients"] = clients
        faults = []
        for f in self.faults:
            e = {}
            if f.kind in ("crash", "recover"):
                e = {"at": f.at, f.kind: f.target}
            elif f.kind == "partition":
                e = {"at": f.at, "partition": [list(g) for g in f.groups]}
                if f.until is not None:
                    e["until"] = f.until
            elif f.kind == "heal":
                e = {"at": f.at, "heal": True}
            else:
                e = {f.kind: dict(f.match or {}), "nth": f.nth}
                if f.kind == "delay":
                    e["by"] = f.by
                if f.lasting is not None:
                    e["for"] = f.lasting
                if f.until_sends is not None:
                    e["until_sends"] = f.until_sends
                if f.chained:
                    e["chained"] = True
            faults.append(e)
        if faults:
            d["faults"] = faults
        if self.schedule:
            d["schedule"] = [step.to_dict() for step in self.schedule]
        return d

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())


# ------------------------------------------------------------------- loading ---

def read_toml(path: str | Path, error: Callable[[str, str, str], Exception] = ScenarioError) -> dict:
    """The TOML file at ``path`` as a dict; a missing, unreadable, oversized or
    malformed file, or any failure of the parser (nesting too deep, a number too
    long, memory) raises ``error(source, "", problem)``."""
    source = shown_path(str(path))
    if not str(path):
        raise error(source, "", "an empty file name")
    try:
        size = os.stat(path).st_size
        text = Path(path).read_text(encoding="utf-8") if size <= MAX_FILE_BYTES else None
    except FileNotFoundError:
        raise error(source, "", "no such file") from None
    except UnicodeDecodeError:
        raise error(source, "", "cannot read: not UTF-8 text") from None
    except (OSError, ValueError) as exc:  # a folder, no permission, a NUL in the name ...
        raise error(source, "", f"cannot read: {printable(getattr(exc, 'strerror', None) or str(exc))}") from None
    except MemoryError:
        raise error(source, "", "cannot read: out of memory") from None
    if text is None:
        raise error(source, "", f"too large ({size:,} bytes; at most {MAX_FILE_BYTES:,})")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(source, "", f"not valid TOML: {printable(str(exc))}") from None
    except RecursionError:
        raise error(source, "", "not readable TOML: nested too deep") from None
    except MemoryError:
        raise error(source, "", "not readable TOML: out of memory") from None
    except ValueError as exc:  # e.g. a whole number of more than 4,300 digits
        raise error(source, "", f"not readable TOML: {printable(str(exc))[:200]}") from None


def load(path: str | Path) -> Scenario:
    """The scenario file at ``path``, validated; faults that would do nothing are refused."""
    return from_dict(read_toml(path), source=shown_path(str(path)), name=printable(Path(path).stem) or "scenario",
                     noop_faults="refuse")


class _V:
    """Validation helpers that know the source file."""

    def __init__(self, source: str):
        self.source = source

    def err(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(self.source, key, problem)

    def table(self, d: Any, key: str, allowed: Sequence[str]) -> dict:
        if not isinstance(d, dict):
            raise self.err(key, f"must be a table, not {type(d).__name__}")
        for k in d:
            if k not in allowed:
                raise self.err(f"{key}.{k}" if key else k, f"unknown key (allowed: {', '.join(allowed)})")
        return d

    def number(self, d: dict, key: str, path: str, default: Any = None, *, minimum: float = 0.0,
               maximum: float = MAX_TIME, required: bool = False) -> Any:
        """``d[key]`` as a float in ``[minimum, maximum]`` (default: a time, at most
        :data:`~paxsim.limits.MAX_TIME`)."""
        if key not in d:
            if required:
                raise self.err(path, "is required")
            return default
        problem = number_problem(d[key], minimum, maximum)
        if problem:
            raise self.err(path, problem)
        return float(d[key])

    def whole(self, d: dict, key: str, path: str, default: int, minimum: int, maximum: int) -> int:
        v = d.get(key, default)
        problem = number_problem(v, minimum, maximum, whole=True)
        if problem:
            raise self.err(path, problem)
        return v

    def prob(self, d: dict, key: str, path: str, default: Any = None) -> Any:
        v = self.number(d, key, path, default)
        if v is not None and v > 1.0:
            raise self.err(path, f"is a probability and must lie in [0, 1], got {show(d[key])}")
        return v

    def string(self, d: dict, key: str, path: str, default: Any = None, *, required: bool = False) -> Any:
        if key not in d:
            if required:
                raise self.err(path, "is required")
            return default
        v = d[key]
        if not isinstance(v, str) or not v:
            raise self.err(path, f"must be a non-empty string, not {show(v)}")
        if len(v) > MAX_TEXT:
            raise self.err(path, f"must be at most {MAX_TEXT:,} characters, got {len(v):,}")
        if not v.isprintable():
            raise self.err(path, f"must be printable text on one line (no control characters), not {show(v)}")
        return v

    def name(self, d: dict, key: str, path: str) -> str:
        if key not in d:
            raise self.err(path, "is required")
        problem = name_problem(d[key])
        if problem:
            raise self.err(path, problem)
        return d[key]

    def names(self, v: Any, path: str, known: Sequence[str]) -> tuple[str, ...]:
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise self.err(path, f"must be a process name or a list of them, not {show(v)}")
        for x in items:
            if x not in known:
                raise self.err(path, f"unknown process {show(x)} (known: {_listed(known)})")
        return tuple(items)

    def delay(self, v: Any, path: str) -> dict:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            problem = number_problem(v, 0.0, MAX_TIME)
            if problem:
                raise self.err(path, problem)
            return {"dist": "constant", "value": float(v)}
        d = self.table(v, path, ("dist", "value", "low", "high", "mean", "min"))
        dist = d.get("dist", "constant")
        if dist == "constant":
            return {"dist": "constant", "value": self.number(d, "value", f"{path}.value", required=True)}
        if dist == "uniform":
            low = self.number(d, "low", f"{path}.low", required=True)
            high = self.number(d, "high", f"{path}.high", required=True)
            if high < low:
                raise self.err(f"{path}.high", f"must be >= low ({low:g}), got {high:g}")
            return {"dist": "uniform", "low": low, "high": high}
        if dist == "exponential":
            mean = self.number(d, "mean", f"{path}.mean", required=True)
            if mean <= 0:
                raise self.err(f"{path}.mean", "must be > 0")
            out = {"dist": "exponential", "mean": mean}
            if "min" in d:
                out["min"] = self.number(d, "min", f"{path}.min")
            return out
        raise self.err(f"{path}.dist", f"unknown distribution {show(dist)} (known: constant, uniform, exponential)")


def _listed(names: Sequence[str], at_most: int = 12) -> str:
    """Names for a message, the first ``at_most`` of them."""
    shown = ", ".join(names[:at_most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > at_most else "")


def mean_delay(delay: dict) -> float:
    """The mean of a delay distribution as :meth:`_V.delay` returns it."""
    if delay["dist"] == "uniform":
        return (delay["low"] + delay["high"]) / 2
    if delay["dist"] == "exponential":
        return max(delay["mean"], delay.get("min", 0.0))
    return delay["value"]


TOP_KEYS = ("name", "description", "figure", "protocol", "servers", "seed", "expected", "until", "settle",
            "params", "network", "clients", "faults", "schedule")
TARGETED = ("drop", "delay", "crash_after_send", "crash_after_receive", "isolate_after_send",
            "isolate_after_receive")


NOOP_FAULTS = ("refuse", "drop")


def from_dict(data: dict, source: str = "<scenario>", name: Optional[str] = None, *,
              noop_faults: str = "drop") -> Scenario:
    """Validate a scenario dict (the TOML schema) into a :class:`Scenario`; the first
    problem raises :class:`ScenarioError` naming ``source``, the key and the problem.

    Faults that provably do nothing (recovering a server that is up, crashing one
    that is down, a targeted fault on a message kind the protocol never sends):
    ``noop_faults="refuse"`` refuses them (:func:`load` does, for files people
    write); the default ``"drop"`` leaves them out of the scenario, for programs
    that draw schedules at random and may draw them (the fuzzer's strategies,
    :mod:`paxsim.schedules`). Either way none of them reaches a run."""
    if noop_faults not in NOOP_FAULTS:
        raise ValueError(f"noop_faults must be one of {NOOP_FAULTS}, not {noop_faults!r}")
    v = _V(source)
    v.table(data, "", TOP_KEYS)
    description = v.string(data, "description", "description", required=True)
    proto_name = v.string(data, "protocol", "protocol", required=True)
    try:
        proto = load_protocol(proto_name, near=source)
    except UnknownProtocol as exc:
        raise v.err("protocol", str(exc)) from None

    # servers
    if "servers" not in data:
        raise v.err("servers", "is required (a count, or a list of names like [\"S1\", \"S2\"])")
    sv = data["servers"]
    if isinstance(sv, int) and not isinstance(sv, bool):
        problem = number_problem(sv, 1, MAX_SERVERS, whole=True)
        if problem:
            raise v.err("servers", problem)
        servers = tuple(f"S{i}" for i in range(1, sv + 1))
    elif isinstance(sv, list) and sv:
        if len(sv) > MAX_SERVERS:
            raise v.err("servers", f"at most {MAX_SERVERS} servers, got {len(sv)}")
        for i, s in enumerate(sv):
            problem = name_problem(s)
            if problem:
                raise v.err(f"servers[{i}]", problem)
        servers = tuple(sv)
        if len(set(servers)) != len(servers):
            raise v.err("servers", "names must be distinct")
    else:
        raise v.err("servers", f"must be a count or a non-empty list of names, not {show(sv)}")

    seed = v.whole(data, "seed", "seed", 0, 0, MAX_SEED)
    expected = data.get("expected")
    if expected is not None and (not isinstance(expected, str) or expected not in OUTCOMES):
        raise v.err("expected", f"must be one of {', '.join(OUTCOMES)}, not {show(expected)}")
    until = v.number(data, "until", "until")
    settle = v.number(data, "settle", "settle", DEFAULT_SETTLE)
    figure = v.string(data, "figure", "figure")

    params = data.get("params", {})
    if not isinstance(params, dict):
        raise v.err("params", f"must be a table, not {type(params).__name__}")
    try:
        params = proto.check_params(params, len(servers))
    except ParamError as exc:
        key = "servers" if exc.key == "servers" else f"params.{exc.key}"
        raise v.err(key, exc.problem) from None

    # clients
    raw_clients = data.get("clients", [])
    if not isinstance(raw_clients, list):
        raise v.err("clients", "must be an array of tables ([[clients]])")
    if len(raw_clients) > MAX_CLIENTS:
        raise v.err("clients", f"at most {MAX_CLIENTS} clients, got {len(raw_clients)}")
    client_names = [c.get("name") if isinstance(c, dict) else None for c in raw_clients]
    clients = []
    used_ids: set[str] = set()
    ranges: list[tuple[int, int]] = []  # ids m{a} .. m{b} taken by RequestRanges
    counter = 0
    total = 0  # requests so far
    for i, c in enumerate(raw_clients):
        path = f"clients[{i}]"
        v.table(c, path, ("name", "requests", "servers", "mode", "retry"))
        cname = v.name(c, "name", f"{path}.name")
        if cname in servers or client_names.count(cname) > 1:
            raise v.err(f"{path}.name", f"duplicate process name {show(cname)}")
        targets = v.names(c["servers"], f"{path}.servers", servers) if "servers" in c else ()
        mode = v.string(c, "mode", f"{path}.mode")
        if mode is not None and mode not in ("all", "one"):
            raise v.err(f"{path}.mode", f"must be \"all\" or \"one\", not {show(mode)}")
        retry = v.number(c, "retry", f"{path}.retry", DEFAULT_RETRY)
        reqs = c.get("requests")
        if reqs is None:
            raise v.err(f"{path}.requests", "is required")
        specs = []
        if isinstance(reqs, dict):
            v.table(reqs, f"{path}.requests", ("count", "start", "interval"))
            if "count" not in reqs:
                raise v.err(f"{path}.requests.count", "is required")
            n = v.whole(reqs, "count", f"{path}.requests.count", 0, 0, MAX_REQUESTS - total)
            start = v.number(reqs, "start", f"{path}.requests.start", 0.0)
            interval = v.number(reqs, "interval", f"{path}.requests.interval", 0.0)
            if n > 1 and start + (n - 1) * interval > MAX_TIME:
                raise v.err(f"{path}.requests.interval", f"the last request would be due at "
                            f"{start + (n - 1) * interval:g}, after {MAX_TIME:g} (the longest time paxsim runs)")
            total += n
            if not _ids_in_range(used_ids, counter + 1, counter + n):
                # no id of m{counter+1} .. m{counter+n} is taken: made on demand
                clients.append(ClientSpec(cname, RequestRange(counter + 1, n, start, interval), targets, mode,
                                          retry or None))
                ranges.append((counter + 1, counter + n))
                counter += n
                continue
            for k in range(n):
                counter += 1
                rid = f"m{counter}"
                while rid in used_ids:
                    counter += 1
                    rid = f"m{counter}"
                used_ids.add(rid)
                specs.append(RequestSpec(rid, start + k * interval))
        elif isinstance(reqs, list):
            if total + len(reqs) > MAX_REQUESTS:
                raise v.err(f"{path}.requests", f"at most {MAX_REQUESTS:,} requests per run, got {total + len(reqs):,}")
            total += len(reqs)
            last_at = 0.0
            for j, r in enumerate(reqs):
                rpath = f"{path}.requests[{j}]"
                v.table(r, rpath, ("id", "at"))
                at = v.number(r, "at", f"{rpath}.at", 0.0)
                if at < last_at:
                    raise v.err(f"{rpath}.at", f"requests must be listed in time order ({at:g} < {last_at:g})")
                last_at = at
                if "id" in r:
                    rid = v.name(r, "id", f"{rpath}.id")
                else:
                    counter += 1
                    rid = f"m{counter}"
                if rid in used_ids or _in_ranges(rid, ranges):
                    raise v.err(f"{rpath}.id", f"duplicate request id {show(rid)}")
                used_ids.add(rid)
                specs.append(RequestSpec(rid, at))
        else:
            raise v.err(f"{path}.requests", "must be a list of {id, at} tables or a {count, start, interval} table")
        clients.append(ClientSpec(cname, tuple(specs), targets, mode, retry or None))
    processes = servers + tuple(c.name for c in clients)

    # network
    net = data.get("network", {})
    v.table(net, "network", ("delay", "loss", "duplicate", "fifo", "links"))
    delay = v.delay(net["delay"], "network.delay") if "delay" in net else NetworkSpec().delay
    loss = v.prob(net, "loss", "network.loss", 0.0)
    dup = v.prob(net, "duplicate", "network.duplicate", 0.0)
    fifo = net.get("fifo", True)
    if not isinstance(fifo, bool):
        raise v.err("network.fifo", f"must be true or false, not {show(fifo)}")
    links = []
    raw_links = net.get("links", [])
    if not isinstance(raw_links, list):
        raise v.err("network.links", "must be an array of tables ([[network.links]])")
    for i, l in enumerate(raw_links):
        path = f"network.links[{i}]"
        v.table(l, path, ("from", "to", "delay", "loss", "duplicate", "fifo"))
        src = v.names(l["from"], f"{path}.from", processes) if "from" in l else ()
        dst = v.names(l["to"], f"{path}.to", processes) if "to" in l else ()
        lf = l.get("fifo")
        if lf is not None and not isinstance(lf, bool):
            raise v.err(f"{path}.fifo", f"must be true or false, not {show(lf)}")
        links.append(LinkSpec(src, dst, v.delay(l["delay"], f"{path}.delay") if "delay" in l else None,
                              v.prob(l, "loss", f"{path}.loss"), v.prob(l, "duplicate", f"{path}.duplicate"), lf))
    network = NetworkSpec(delay, loss, dup, fifo, tuple(links))

    # what repeats must not outpace the network (heartbeats, retransmissions, resends)
    mean = mean_delay(delay)
    try:
        proto.check_timing(params, mean)
    except ParamError as exc:
        raise v.err(f"params.{exc.key}", exc.problem) from None
    for i, c in enumerate(clients):
        problem = c.retry and period_problem(c.retry, mean)
        if problem:
            raise v.err(f"clients[{i}].retry", f"{problem} (or 0: never resend)")

    # faults
    raw_faults = data.get("faults", [])
    if not isinstance(raw_faults, list):
        raise v.err("faults", "must be an array of tables ([[faults]])")
    kinds_known = proto.message_kinds
    faults = []
    paths = []
    noop: set[int] = set()  # indices into faults of targeted faults that can never fire
    for i, f in enumerate(raw_faults):
        path = f"faults[{i}]"
        v.table(f, path, ("at", "crash", "recover", "partition", "until", "heal") + TARGETED
                + ("nth", "by", "for", "until_sends", "chained"))
        kinds = [k for k in ("crash", "recover", "partition", "heal") + TARGETED if k in f]
        if len(kinds) != 1:
            raise v.err(path, "must name exactly one fault: crash, recover, partition, heal, drop, delay, "
                              "crash_after_send, crash_after_receive, isolate_after_send or isolate_after_receive "
                              f"(got {', '.join(kinds) or 'none'})")
        kind = kinds[0]
        if kind in ("crash", "recover", "partition", "heal"):
            at = v.number(f, "at", f"{path}.at", required=True)
            for k in ("nth", "by", "for", "until_sends", "chained"):
                if k in f:
                    raise v.err(f"{path}.{k}", f"only applies to targeted faults, not {kind}")
            if kind in ("crash", "recover"):
                target = v.string(f, kind, f"{path}.{kind}")
                if target not in servers:
                    raise v.err(f"{path}.{kind}", f"unknown server {show(target)} (servers: {_listed(servers)})")
                if "until" in f:
                    raise v.err(f"{path}.until", f"only applies to a partition, not {kind}")
                faults.append(FaultSpec(kind, at=at, target=target))
            elif kind == "heal":
                if f["heal"] is not True:
                    raise v.err(f"{path}.heal", "must be true")
                faults.append(FaultSpec("heal", at=at))
            else:
                groups_raw = f["partition"]
                if not isinstance(groups_raw, list) or len(groups_raw) < 2:
                    raise v.err(f"{path}.partition", "must be a list of at least two groups, like [[\"S1\"], [\"S2\", \"S3\"]]")
                groups = tuple(v.names(g, f"{path}.partition[{j}]", processes) for j, g in enumerate(groups_raw))
                flat = [p for g in groups for p in g]
                if len(set(flat)) != len(flat):
                    raise v.err(f"{path}.partition", "a process is in more than one group")
                until_ = v.number(f, "until", f"{path}.until")
                if until_ is not None and until_ < at:
                    raise v.err(f"{path}.until", f"heals before it starts ({until_:g} < {at:g})")
                faults.append(FaultSpec("partition", at=at, groups=groups, until=until_))
        else:
            if "at" in f or "until" in f:
                raise v.err(f"{path}.at", f"a targeted fault ({kind}) is triggered by a message, not a time")
            m = v.table(f[kind], f"{path}.{kind}", ("type", "from", "to", "request"))
            match = {}
            for k in ("type", "request"):
                if k in m:
                    match[k] = v.string(m, k, f"{path}.{kind}.{k}")
            for k in ("from", "to"):
                if k in m:
                    match[k] = v.names(m[k], f"{path}.{kind}.{k}", processes)[0] if isinstance(m[k], str) else None
                    if match[k] is None:
                        raise v.err(f"{path}.{kind}.{k}", "must be one process name")
            if "request" in match and match["request"] not in used_ids \
                    and not _in_ranges(match["request"], ranges):
                raise v.err(f"{path}.{kind}.request", f"unknown request {show(match['request'])}")
            nth = v.whole(f, "nth", f"{path}.nth", 1, 1, MAX_COUNT)
            by = v.number(f, "by", f"{path}.by", 0.0)
            if "by" in f and kind != "delay":
                raise v.err(f"{path}.by", "only applies to a delay fault")
            lasting = v.number(f, "for", f"{path}.for")
            if lasting is not None and kind in ("drop", "delay"):
                raise v.err(f"{path}.for", f"only applies to a triggered crash or isolation, not {kind}")
            until_sends = v.string(f, "until_sends", f"{path}.until_sends")
            if until_sends is not None:
                if not kind.startswith("isolate"):
                    raise v.err(f"{path}.until_sends", f"only applies to a triggered isolation, not {kind}")
                if kinds_known is not None and until_sends not in kinds_known:
                    raise v.err(f"{path}.until_sends", f"protocol {proto_name} never sends a {show(until_sends)} "
                                f"message (its kinds: {', '.join(kinds_known)})")
            chained = f.get("chained", False)
            if not isinstance(chained, bool):
                raise v.err(f"{path}.chained", f"must be true or false, not {show(chained)}")
            if chained:
                before = [j for j, e in enumerate(faults) if e.kind in TARGETED]
                if not before:
                    raise v.err(f"{path}.chained", "must come after a fault triggered by a message (it counts "
                                                   "from when the last one before it fired)")
                if before[-1] in noop:
                    noop.add(len(faults))   # the fault it waits for never fires
            if "type" in match and kinds_known is not None and match["type"] not in kinds_known:
                if noop_faults == "refuse":
                    raise v.err(f"{path}.{kind}.type", f"protocol {proto_name} never sends a {show(match['type'])} "
                                f"message, so this fault would never fire (its kinds: {', '.join(kinds_known)})")
                noop.add(len(faults))
            faults.append(FaultSpec(kind, match=match, nth=nth, by=by, lasting=lasting, until_sends=until_sends,
                                    chained=chained))
        paths.append(path)
    noop |= _timeline_noops(v, faults, paths, servers, refuse=noop_faults == "refuse", never=noop)

    schedule: tuple[Step, ...] = ()
    if "schedule" in data:
        schedule = parse_schedule(data["schedule"], v.err, servers, processes)
        if faults:
            raise v.err("faults", "a scenario with a schedule names its crashes as steps, not faults")

    return Scenario(
        name=v.string(data, "name", "name", name or "scenario"),
        description=description,
        protocol=proto_name,
        servers=servers,
        clients=tuple(clients),
        network=network,
        faults=tuple(f for i, f in enumerate(faults) if i not in noop),
        params=params,
        seed=seed,
        expected=expected,
        until=until,
        settle=settle,
        figure=figure,
        source=source,
        schedule=schedule,
    )


def _timeline_noops(v: _V, faults: list[FaultSpec], paths: list[str], servers: Sequence[str], *,
                    refuse: bool, never: set[int] = frozenset()) -> set[int]:
    """Check the crashes and recoveries as a timeline, per server in time order: a
    server crashes only while up and recovers only while down. Returns the indices of
    the faults that break this (they would do nothing), or refuses the first one.
    A server that a message may crash (``crash_after_send`` / ``_receive``) may be up
    or down at any time: its timed faults are not judged (``never``: the indices of
    targeted faults that can never fire, and so crash nobody)."""
    maybe: set[str] = set()
    for i, f in enumerate(faults):
        if f.kind in ("crash_after_send", "crash_after_receive") and i not in never:
            who = (f.match or {}).get("from" if f.kind == "crash_after_send" else "to")
            maybe.update(servers if who is None else (who,))
    down: dict[str, float] = {}  # server -> when it crashed
    out: set[int] = set()
    timed = sorted((f.at, i) for i, f in enumerate(faults) if f.kind in ("crash", "recover"))
    for at, i in timed:
        f = faults[i]
        if f.target in maybe:
            continue
        key = f"{paths[i]}.{f.kind}"
        if f.kind == "crash" and f.target in down:
            if refuse:
                raise v.err(key, f"{f.target} is already down at {at:g} (it crashed at {down[f.target]:g} "
                                 "and has not recovered): crash only a server that is up")
            out.add(i)
        elif f.kind == "recover" and f.target not in down:
            if refuse:
                raise v.err(key, f"{f.target} is not down at {at:g}: recover only a server that crashed before")
            out.add(i)
        elif f.kind == "crash":
            down[f.target] = at
        else:
            del down[f.target]
    return out


def timeline_noops(faults: Sequence[FaultSpec], servers: Sequence[str], never: set[int] = frozenset()) -> set[int]:
    """The indices of the timed crashes and recoveries among ``faults`` that would do
    nothing (crashing a server that is down, recovering one that is up), as
    :func:`from_dict` drops them; ``never``: the indices of targeted faults that can
    never fire. For programs that build valid scenarios themselves (the fuzzer)."""
    return _timeline_noops(_V("<scenario>"), list(faults), [""] * len(faults), servers, refuse=False, never=never)


# ------------------------------------------------------------ writing TOML ---

def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else "0.0"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {v!r} as TOML")


def dumps_toml(d: dict) -> str:
    """A small TOML writer for scenario dicts: scalars, inline tables, arrays of tables."""
    lines: list[str] = []
    tables: list[tuple[str, dict]] = []
    arrays: list[tuple[str, list]] = []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and k in ("clients", "faults", "schedule"):
            arrays.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    for k, v in tables:
        lines.append("")
        lines.append(f"[{k}]")
        sub_arrays = []
        for kk, vv in v.items():
            if isinstance(vv, list) and vv and all(isinstance(x, dict) for x in vv):
                sub_arrays.append((kk, vv))
            else:
                lines.append(f"{kk} = {_toml_value(vv)}")
        for kk, vv in sub_arrays:
            for item in vv:
                lines.append("")
                lines.append(f"[[{k}.{kk}]]")
                for a, b in item.items():
                    lines.append(f"{a} = {_toml_value(b)}")
    for k, v in arrays:
        for item in v:
            lines.append("")
            lines.append(f"[[{k}]]")
            for a, b in item.items():
                lines.append(f"{a} = {_toml_value(b)}")
    return "\n".join(lines) + "\n"


def _number_of(rid: str) -> Optional[int]:
    """``k`` for an id ``m{k}`` as a range would write it; None for any other id."""
    if len(rid) > 1 and rid[0] == "m" and rid[1:].isdigit() and rid[1] != "0":
        return int(rid[1:])
    return None


def _ids_in_range(ids, a: int, b: int) -> bool:
    return any(a <= k <= b for k in map(_number_of, ids) if k is not None)


def _in_ranges(rid: str, ranges: list[tuple[int, int]]) -> bool:
    k = _number_of(rid)
    return k is not None and any(a <= k <= b for a, b in ranges)
