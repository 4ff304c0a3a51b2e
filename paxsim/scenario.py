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
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, NamedTuple, Optional, Sequence

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
    """The TOML file at ``path`` as a dict; a missing, unreadable or malformed file
    raises ``error(source, "", problem)``."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(source, "", "no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise error(source, "", f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(source, "", f"not valid TOML: {exc}") from None


def load(path: str | Path) -> Scenario:
    return from_dict(read_toml(path), source=str(path), name=Path(path).stem)


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
               required: bool = False) -> Any:
        if key not in d:
            if required:
                raise self.err(path, "is required")
            return default
        v = d[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.err(path, f"must be a number, not {v!r}")
        if not math.isfinite(v):
            raise self.err(path, f"must be finite, not {v!r}")
        if v < minimum:
            raise self.err(path, f"must be >= {minimum:g}, got {v!r}" if minimum else f"must not be negative, got {v!r}")
        return float(v)

    def prob(self, d: dict, key: str, path: str, default: Any = None) -> Any:
        v = self.number(d, key, path, default)
        if v is not None and not 0.0 <= v <= 1.0:
            raise self.err(path, f"is a probability and must lie in [0, 1], got {v!r}")
        return v

    def string(self, d: dict, key: str, path: str, default: Any = None, *, required: bool = False) -> Any:
        if key not in d:
            if required:
                raise self.err(path, "is required")
            return default
        v = d[key]
        if not isinstance(v, str) or not v:
            raise self.err(path, f"must be a non-empty string, not {v!r}")
        return v

    def names(self, v: Any, path: str, known: Sequence[str]) -> tuple[str, ...]:
        items = [v] if isinstance(v, str) else v
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise self.err(path, f"must be a process name or a list of them, not {v!r}")
        for x in items:
            if x not in known:
                raise self.err(path, f"unknown process {x!r} (known: {', '.join(known)})")
        return tuple(items)

    def delay(self, v: Any, path: str) -> dict:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if v < 0 or not math.isfinite(v):
                raise self.err(path, f"must be a non-negative number, got {v!r}")
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
        raise self.err(f"{path}.dist", f"unknown distribution {dist!r} (known: constant, uniform, exponential)")


TOP_KEYS = ("name", "description", "figure", "protocol", "servers", "seed", "expected", "until", "settle",
            "params", "network", "clients", "faults", "schedule")
TARGETED = ("drop", "delay", "crash_after_send", "crash_after_receive", "isolate_after_send",
            "isolate_after_receive")


def from_dict(data: dict, source: str = "<scenario>", name: Optional[str] = None) -> Scenario:
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
        if sv < 1:
            raise v.err("servers", f"must be at least 1, got {sv}")
        servers = tuple(f"S{i}" for i in range(1, sv + 1))
    elif isinstance(sv, list) and sv and all(isinstance(s, str) and s for s in sv):
        servers = tuple(sv)
        if len(set(servers)) != len(servers):
            raise v.err("servers", "names must be distinct")
    else:
        raise v.err("servers", f"must be a count or a non-empty list of names, not {sv!r}")

    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise v.err("seed", f"must be a non-negative whole number, not {seed!r}")
    expected = data.get("expected")
    if expected is not None and expected not in OUTCOMES:
        raise v.err("expected", f"must be one of {', '.join(OUTCOMES)}, not {expected!r}")
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
    client_names = [c.get("name") if isinstance(c, dict) else None for c in raw_clients]
    clients = []
    used_ids: set[str] = set()
    ranges: list[tuple[int, int]] = []  # ids m{a} .. m{b} taken by RequestRanges
    counter = 0
    for i, c in enumerate(raw_clients):
        path = f"clients[{i}]"
        v.table(c, path, ("name", "requests", "servers", "mode", "retry"))
        cname = v.string(c, "name", f"{path}.name", required=True)
        if cname in servers or client_names.count(cname) > 1:
            raise v.err(f"{path}.name", f"duplicate process name {cname!r}")
        targets = v.names(c["servers"], f"{path}.servers", servers) if "servers" in c else ()
        mode = v.string(c, "mode", f"{path}.mode")
        if mode is not None and mode not in ("all", "one"):
            raise v.err(f"{path}.mode", f"must be \"all\" or \"one\", not {mode!r}")
        retry = v.number(c, "retry", f"{path}.retry", DEFAULT_RETRY)
        reqs = c.get("requests")
        if reqs is None:
            raise v.err(f"{path}.requests", "is required")
        specs = []
        if isinstance(reqs, dict):
            v.table(reqs, f"{path}.requests", ("count", "start", "interval"))
            n = reqs.get("count")
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise v.err(f"{path}.requests.count", f"must be a non-negative whole number, not {n!r}")
            start = v.number(reqs, "start", f"{path}.requests.start", 0.0)
            interval = v.number(reqs, "interval", f"{path}.requests.interval", 0.0)
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
            last_at = 0.0
            for j, r in enumerate(reqs):
                rpath = f"{path}.requests[{j}]"
                v.table(r, rpath, ("id", "at"))
                at = v.number(r, "at", f"{rpath}.at", 0.0)
                if at < last_at:
                    raise v.err(f"{rpath}.at", f"requests must be listed in time order ({at:g} < {last_at:g})")
                last_at = at
                if "id" in r:
                    rid = v.string(r, "id", f"{rpath}.id")
                else:
                    counter += 1
                    rid = f"m{counter}"
                if rid in used_ids or _in_ranges(rid, ranges):
                    raise v.err(f"{rpath}.id", f"duplicate request id {rid!r}")
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
        raise v.err("network.fifo", f"must be true or false, not {fifo!r}")
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
            raise v.err(f"{path}.fifo", f"must be true or false, not {lf!r}")
        links.append(LinkSpec(src, dst, v.delay(l["delay"], f"{path}.delay") if "delay" in l else None,
                              v.prob(l, "loss", f"{path}.loss"), v.prob(l, "duplicate", f"{path}.duplicate"), lf))
    network = NetworkSpec(delay, loss, dup, fifo, tuple(links))

    # faults
    raw_faults = data.get("faults", [])
    if not isinstance(raw_faults, list):
        raise v.err("faults", "must be an array of tables ([[faults]])")
    faults = []
    for i, f in enumerate(raw_faults):
        path = f"faults[{i}]"
        v.table(f, path, ("at", "crash", "recover", "partition", "until", "heal") + TARGETED + ("nth", "by", "for"))
        kinds = [k for k in ("crash", "recover", "partition", "heal") + TARGETED if k in f]
        if len(kinds) != 1:
            raise v.err(path, "must name exactly one fault: crash, recover, partition, heal, drop, delay, "
                              "crash_after_send, crash_after_receive, isolate_after_send or isolate_after_receive "
                              f"(got {', '.join(kinds) or 'none'})")
        kind = kinds[0]
        if kind in ("crash", "recover", "partition", "heal"):
            at = v.number(f, "at", f"{path}.at", required=True)
            for k in ("nth", "by", "for"):
                if k in f:
                    raise v.err(f"{path}.{k}", f"only applies to targeted faults, not {kind}")
            if kind in ("crash", "recover"):
                target = v.string(f, kind, f"{path}.{kind}")
                if target not in servers:
                    raise v.err(f"{path}.{kind}", f"unknown server {target!r} (servers: {', '.join(servers)})")
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
                raise v.err(f"{path}.{kind}.request", f"unknown request {match['request']!r}")
            nth = f.get("nth", 1)
            if isinstance(nth, bool) or not isinstance(nth, int) or nth < 1:
                raise v.err(f"{path}.nth", f"must be a whole number >= 1, not {nth!r}")
            by = v.number(f, "by", f"{path}.by", 0.0)
            if "by" in f and kind != "delay":
                raise v.err(f"{path}.by", "only applies to a delay fault")
            lasting = v.number(f, "for", f"{path}.for")
            if lasting is not None and kind in ("drop", "delay"):
                raise v.err(f"{path}.for", f"only applies to a triggered crash or isolation, not {kind}")
            faults.append(FaultSpec(kind, match=match, nth=nth, by=by, lasting=lasting))

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
        faults=tuple(faults),
        params=params,
        seed=seed,
        expected=expected,
        until=until,
        settle=settle,
        figure=figure,
        source=source,
        schedule=schedule,
    )


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
