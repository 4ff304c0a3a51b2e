"""An experiment: a grid of run configurations times a list of seeds.

Given by command-line flags (``--protocols paxos,wait_for_learn_majority
--servers 3,5 --loss 0,0.05 --seeds 100``) or by an experiment TOML file::

    name = "loss"                    # default: the file's name without .toml
    description = "Paxos under loss"
    protocols = ["paxos", "wait_for_learn_majority"]
    servers = [3, 5]
    loss = [0.0, 0.05, 0.1]          # per-message loss probability
    duplicate = [0.0]                # per-message duplication probability
    delay = [1.0]                    # a number d: uniform in [d/2, 3d/2]; or [low, high]
    crash_rate = [0, 1]              # crashes per horizon (fractions: see below)
    partition_rate = [0]             # partitions per horizon
    workload = ["2x3"]               # clients x requests per client
    seeds = 20                       # 0..19; or a list [1, 5, 9]; or "100:200"
    horizon = 60.0                   # faults and requests happen within [0, horizon]
    recover = true                   # a crashed server recovers (after 3..20 time units)
    unavailability_threshold = 10.0  # gaps longer than this count as unavailable

    [params.paxos]                   # protocol parameters, per protocol
    suspect = 8.0                    # one value: every run of paxos
    # retransmit = [2.0, 4.0]        # a list: a grid dimension (each value, times the rest)

Every list may also be given as a single value. ``--param KEY=V1,V2`` on the
command line (``param_grid``) adds a grid dimension for every protocol of the
grid that takes ``KEY`` (the others run once); a combination of parameter values
a protocol refuses (Flexible Paxos's ``q1 + q2 > n``) is left out with a note.

A configuration's key names the protocol's identity: a digest of the source of
its class and of every module it inherits from, and paxsim's version
(:func:`protocol_code`), so that rows made by an edited protocol are never taken
for current ones (``paxsim sweep`` replaces them and says so). Each run's fault schedule is
drawn from its seed by :func:`paxsim.schedules.random_scenario`. A rate ``r`` gives
``floor(r)`` crashes (partitions) plus one more with probability ``r - floor(r)``,
drawn from a stream named after the seed, so a fractional rate is an average.

A configuration that a protocol cannot run (``single_server`` with 3 servers) is
left out of the grid with a note; a grid with nothing left is an error.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from ..limits import MAX_CLIENTS, MAX_REQUESTS, MAX_SEED, MAX_SEEDS, MAX_SERVERS, MAX_TIME, show
from ..protocols import ParamError, UnknownProtocol, load_protocol
from ..scenario import read_toml

DEFAULT_SEEDS = 10
MAX_RATE = 1000.0
"""Crashes or partitions per run, at most."""
DEFAULT_HORIZON = 60.0
DEFAULT_THRESHOLD = 10.0

# Columns that describe a configuration, in the order tables show them.
DIMENSIONS: tuple[str, ...] = ("protocol", "servers", "loss", "duplicate", "delay", "crash_rate",
                               "partition_rate", "workload")


class SweepError(ValueError):
    """A sweep cannot run as asked (bad input, an unusable database); the message says why."""


class GridError(SweepError):
    """Bad experiment input: ``where`` (a flag or a file), ``key``, ``problem``."""

    def __init__(self, where: str, key: str, problem: str):
        text = f"{where}: {key}: {problem}" if key else f"{where}: {problem}"
        super().__init__(text)
        self.where = where
        self.key = key
        self.problem = problem


def _g(x: float) -> str:
    return format(x, "g")


_CODES: dict[type, str] = {}   # per class object: a reloaded module gives a new class, a new digest


def protocol_code(name: str) -> str:
    """The identity of protocol ``name``'s code: 12 hex digits of a SHA-256 over
    paxsim's version and the source of every module that defines the class or one
    of its bases (so an edit to the variant or to the Paxos it extends changes it)."""
    cls = load_protocol(name)
    code = _CODES.get(cls)
    if code is None:
        from .. import __version__

        h = hashlib.sha256(f"paxsim {__version__}\n".encode())
        seen = []
        for klass in cls.__mro__:
            module = inspect.getmodule(klass)
            if module is None or module.__name__ == "builtins" or module in seen:
                continue
            seen.append(module)
            try:
                text = inspect.getsource(module)
            except (OSError, TypeError):
                text = f"{module.__name__} (no source)"
            h.update(f"{module.__name__}\n{text}\n".encode())
        code = _CODES[cls] = h.hexdigest()[:12]
    return code


@dataclass(frozen=True)
class RunConfig:
    """Everything that fixes a run except its seed."""

    protocol: str
    servers: int
    loss: float = 0.0
    duplicate: float = 0.0
    delay: tuple[float, float] = (0.5, 1.5)
    crash_rate: float = 0.0
    partition_rate: float = 0.0
    clients: int = 2
    requests: int = 3
    horizon: float = DEFAULT_HORIZON
    recover: bool = True
    threshold: float = DEFAULT_THRESHOLD
    params: tuple[tuple[str, Any], ...] = ()
    code: str = ""           # protocol_code(protocol): the identity of its source and of paxsim

    @property
    def workload(self) -> str:
        return f"{self.clients}x{self.requests}"

    @property
    def delay_label(self) -> str:
        return f"{_g(self.delay[0])}-{_g(self.delay[1])}"

    def key(self) -> str:
        """A canonical text naming the configuration (the database's ``config``)."""
        parts = [self.protocol, f"n={self.servers}", f"loss={_g(self.loss)}", f"dup={_g(self.duplicate)}",
                 f"delay={self.delay_label}", f"crash={_g(self.crash_rate)}",
                 f"part={_g(self.partition_rate)}", f"wl={self.workload}", f"h={_g(self.horizon)}",
                 f"recover={'yes' if self.recover else 'no'}", f"thr={_g(self.threshold)}"]
        if self.params:
            parts.append("params=" + json.dumps(dict(self.params), sort_keys=True, separators=(",", ":")))
        if self.code:
            parts.append(f"code={self.code}")
        return " ".join(parts)

    def columns(self) -> dict[str, Any]:
        """The configuration as database columns."""
        return {
            "protocol": self.protocol, "servers": self.servers, "loss": self.loss,
            "duplicate": self.duplicate, "delay_low": self.delay[0], "delay_high": self.delay[1],
            "crash_rate": self.crash_rate, "partition_rate": self.partition_rate,
            "clients": self.clients, "requests": self.requests, "horizon": self.horizon,
            "recover": int(self.recover), "threshold": self.threshold,
            "params": json.dumps(dict(self.params), sort_keys=True), "code": self.code,
        }

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["delay"] = list(self.delay)
        d["params"] = dict(self.params)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        d["delay"] = tuple(d["delay"])
        d["params"] = tuple(sorted(d.get("params", {}).items()))
        return cls(**d)


@dataclass
class Experiment:
    name: str
    protocols: list[str]
    servers: list[int] = field(default_factory=lambda: [3])
    loss: list[float] = field(default_factory=lambda: [0.0])
    duplicate: list[float] = field(default_factory=lambda: [0.0])
    delay: list[tuple[float, float]] = field(default_factory=lambda: [(0.5, 1.5)])
    crash_rate: list[float] = field(default_factory=lambda: [0.0])
    partition_rate: list[float] = field(default_factory=lambda: [0.0])
    workload: list[tuple[int, int]] = field(default_factory=lambda: [(2, 3)])
    seeds: list[int] = field(default_factory=lambda: list(range(DEFAULT_SEEDS)))
    horizon: float = DEFAULT_HORIZON
    recover: bool = True
    threshold: float = DEFAULT_THRESHOLD
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""
    param_grid: dict[str, list] = field(default_factory=dict)  # --param KEY=V1,V2: for every protocol taking KEY
    skipped: list[str] = field(default_factory=list)   # notes on left-out configurations

    def param_sets(self, proto: str) -> list[dict[str, Any]]:
        """Every combination of ``proto``'s parameter values (lists are grid dimensions)."""
        cls = load_protocol(proto)
        table = dict(self.params.get(proto, {}))
        for key, values in self.param_grid.items():
            if key in cls.params and key not in table:
                table[key] = values
        keys = sorted(table)
        lists = [table[k] if isinstance(table[k], list) else [table[k]] for k in keys]
        return [dict(zip(keys, combo)) for combo in itertools.product(*lists)]

    def configs(self) -> list[RunConfig]:
        """The grid, in a fixed order, without configurations a protocol cannot run."""
        out = []
        left_out: dict[str, dict[int, str]] = {}
        refused: list[str] = []
        for proto, n, loss, dup, delay, cr, pr, (c, r) in itertools.product(
                self.protocols, self.servers, self.loss, self.duplicate, self.delay, self.crash_rate,
                self.partition_rate, self.workload):
            cls = load_protocol(proto)
            for given in self.param_sets(proto):
                try:
                    cls.check_params(given, n)
                except ParamError as exc:
                    if exc.key == "servers":
                        left_out.setdefault(proto, {})[n] = exc.problem
                        break
                    note = (f"{proto} with {', '.join(f'{k}={v}' for k, v in given.items())}, {n} servers "
                            f"({exc.key}: {exc.problem})")
                    if note not in refused:
                        refused.append(note)
                    continue
                out.append(RunConfig(proto, n, loss, dup, delay, cr, pr, c, r, self.horizon, self.recover,
                                     self.threshold, tuple(sorted(given.items())), protocol_code(proto)))
        self.skipped = []
        for proto, by_n in left_out.items():
            cls = load_protocol(proto)
            lo, hi = cls.min_servers, cls.max_servers
            runs = f"{lo} to {hi}" if hi is not None and hi != lo else (f"exactly {lo}" if hi == lo
                                                                          else f"at least {lo}")
            ns = ", ".join(str(k) for k in sorted(by_n))
            self.skipped.append(f"{proto} with {ns} servers (it runs with {runs})")
        self.skipped += refused
        return out

    def tasks(self) -> list[tuple[RunConfig, int]]:
        return [(cfg, seed) for cfg in self.configs() for seed in self.seeds]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "protocols": self.protocols,
            "servers": self.servers, "loss": self.loss, "duplicate": self.duplicate,
            "delay": [list(d) for d in self.delay], "crash_rate": self.crash_rate,
            "partition_rate": self.partition_rate, "workload": [f"{c}x{r}" for c, r in self.workload],
            "seeds": self.seeds, "horizon": self.horizon, "recover": self.recover,
            "unavailability_threshold": self.threshold, "params": self.params, "param_grid": self.param_grid,
            "codes": {p: protocol_code(p) for p in self.protocols},
        }


# ------------------------------------------------------------------ parsing values ---

class _P:
    """Parses one value of a dimension; ``err(key, problem)`` raises a GridError."""

    def __init__(self, where: str):
        self.where = where

    def err(self, key: str, problem: str) -> GridError:
        return GridError(self.where, key, problem)

    def number(self, key: str, v: Any, *, minimum: float = 0.0, maximum: float = MAX_TIME) -> float:
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                raise self.err(key, f"{show(v)} is not a number") from None
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise self.err(key, f"must be a number, not {v!r}")
        if not math.isfinite(v):
            raise self.err(key, f"must be finite, not {v!r}")
        if v < minimum:
            raise self.err(key, f"must be >= {_g(minimum)}, got {_g(v)}")
        if v > maximum:
            raise self.err(key, f"must be <= {_g(maximum)}, got {_g(v)}")
        return float(v)

    def whole(self, key: str, v: Any, *, minimum: int = 0, maximum: int = MAX_SEED) -> int:
        if isinstance(v, str):
            try:
                v = int(v)
            except ValueError:
                raise self.err(key, f"{show(v)} is not a whole number") from None
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.err(key, f"must be a whole number, not {v!r}")
        if v < minimum:
            raise self.err(key, f"must be >= {minimum}, got {v}")
        if v > maximum:
            raise self.err(key, f"must be at most {maximum}, got {show(v)}")
        return v

    def prob(self, key: str, v: Any) -> float:
        return self.number(key, v, minimum=0.0, maximum=1.0)

    def delay(self, key: str, v: Any) -> tuple[float, float]:
        if isinstance(v, str) and ":" in v:
            v = v.split(":", 1)
        if isinstance(v, (list, tuple)):
            if len(v) != 2:
                raise self.err(key, f"a delay range is [low, high], not {v!r}")
            low, high = self.number(key, v[0]), self.number(key, v[1])
            if high < low:
                raise self.err(key, f"delay range high ({_g(high)}) is below low ({_g(low)})")
            return (low, high)
        mean = self.number(key, v)
        return (mean / 2, mean * 1.5)

    def workload(self, key: str, v: Any) -> tuple[int, int]:
        if isinstance(v, dict):
            extra = sorted(set(v) - {"clients", "requests"})
            if extra:
                raise self.err(f"{key}.{extra[0]}", "unknown key (allowed: clients, requests)")
            return (self.whole(f"{key}.clients", v.get("clients", 2), minimum=1, maximum=MAX_CLIENTS),
                    self.whole(f"{key}.requests", v.get("requests", 3), minimum=1, maximum=MAX_REQUESTS // MAX_CLIENTS))
        if isinstance(v, str) and "x" in v:
            a, _, b = v.partition("x")
            return (self.whole(key, a.strip(), minimum=1, maximum=MAX_CLIENTS),
                    self.whole(key, b.strip(), minimum=1, maximum=MAX_REQUESTS // MAX_CLIENTS))
        raise self.err(key, f"a workload is CLIENTSxREQUESTS like \"2x3\", not {v!r}")

    def protocol(self, key: str, v: Any) -> str:
        if not isinstance(v, str) or not v:
            raise self.err(key, f"must be a protocol name, not {v!r}")
        try:
            load_protocol(v)
        except UnknownProtocol as exc:
            raise self.err(key, str(exc)) from None
        return v

    def seeds(self, key: str, v: Any) -> list[int]:
        if isinstance(v, str) and ":" in v:
            a, _, b = v.partition(":")
            lo, hi = self.whole(key, a.strip()), self.whole(key, b.strip())
            if hi <= lo:
                raise self.err(key, f"empty seed range {v!r} (A:B means A, A+1, ..., B-1)")
            if hi - lo > MAX_SEEDS:
                raise self.err(key, f"at most {MAX_SEEDS:,} seeds per sweep, got {hi - lo:,}")
            return list(range(lo, hi))
        if isinstance(v, list):
            if len(v) > MAX_SEEDS:
                raise self.err(key, f"at most {MAX_SEEDS:,} seeds per sweep, got {len(v):,}")
            out = [self.whole(key, x) for x in v]
            if not out:
                raise self.err(key, "needs at least one seed")
            if len(set(out)) != len(out):
                raise self.err(key, "lists a seed twice")
            return out
        n = self.whole(key, v, minimum=1, maximum=MAX_SEEDS)
        return list(range(n))

    def values(self, key: str, v: Any, one: Callable[[str, Any], Any]) -> list:
        items = v if isinstance(v, list) else [v]
        if not items:
            raise self.err(key, "needs at least one value")
        out = []
        for x in items:
            y = one(key, x)
            if y not in out:
                out.append(y)
        return out


def _dims(p: _P, flagname: Callable[[str], str]) -> dict[str, Callable[[Any], Any]]:
    """Parsers for each grid dimension; ``flagname`` names the key in messages."""
    return {
        "protocols": lambda v: p.values(flagname("protocols"), v, p.protocol),
        "servers": lambda v: p.values(flagname("servers"), v, lambda k, x: p.whole(k, x, minimum=1, maximum=MAX_SERVERS)),
        "loss": lambda v: p.values(flagname("loss"), v, p.prob),
        "duplicate": lambda v: p.values(flagname("duplicate"), v, p.prob),
        "delay": lambda v: p.values(flagname("delay"), v, p.delay),
        "crash_rate": lambda v: p.values(flagname("crash_rate"), v, lambda k, x: p.number(k, x, maximum=MAX_RATE)),
        "partition_rate": lambda v: p.values(flagname("partition_rate"), v,
                                             lambda k, x: p.number(k, x, maximum=MAX_RATE)),
        "workload": lambda v: p.values(flagname("workload"), v, p.workload),
        "seeds": lambda v: p.seeds(flagname("seeds"), v),
        "horizon": lambda v: p.number(flagname("horizon"), v, minimum=1.0),
        "recover": lambda v: _bool(p, flagname("recover"), v),
        "unavailability_threshold": lambda v: p.number(flagname("unavailability_threshold"), v),
    }


def _bool(p: _P, key: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise p.err(key, f"must be true or false, not {v!r}")
    return v


FILE_KEYS = ("name", "description", "protocols", "servers", "loss", "duplicate", "delay", "crash_rate",
             "partition_rate", "workload", "seeds", "horizon", "recover", "unavailability_threshold", "params")


def _build(name: str, values: dict[str, Any], params: dict[str, dict], description: str = "") -> Experiment:
    exp = Experiment(name=name, protocols=values["protocols"], description=description, params=params)
    for k in ("servers", "loss", "duplicate", "delay", "crash_rate", "partition_rate", "workload", "seeds",
              "horizon", "recover"):
        if k in values:
            setattr(exp, k, values[k])
    if "unavailability_threshold" in values:
        exp.threshold = values["unavailability_threshold"]
    return exp


def load_experiment(path: str | Path, overrides: Optional[dict[str, str]] = None,
                    param_grid: Optional[dict[str, list]] = None) -> Experiment:
    """Read an experiment TOML file; ``overrides`` (flag name -> text) win over the file;
    ``param_grid`` (``--param KEY=V1,V2``) adds parameter dimensions."""
    source = str(path)
    p = _P(source)
    data = read_toml(path, GridError)
    for k in data:
        if k not in FILE_KEYS:
            raise p.err(k, f"unknown key (allowed: {', '.join(FILE_KEYS)})")
    name = data.get("name", Path(path).stem)
    if not isinstance(name, str) or not name:
        raise p.err("name", f"must be a non-empty string, not {name!r}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise p.err("description", f"must be a string, not {description!r}")
    if "protocols" not in data and not (overrides and "protocols" in overrides):
        raise p.err("protocols", "is required (a list of protocol names)")
    parsers = _dims(p, lambda k: k)
    values = {k: parsers[k](v) for k, v in data.items() if k in parsers}
    params = _params(p, data.get("params", {}))
    if overrides:
        values.update(_from_flags(overrides))
    _check_params(p, values["protocols"], params)
    exp = _build(name, values, params, description)
    exp.param_grid = _check_grid(values["protocols"], param_grid or {})
    return exp


def _params(p: _P, raw: Any) -> dict[str, dict]:
    if not isinstance(raw, dict):
        raise p.err("params", f"must be a table of tables ([params.PROTOCOL]), not {raw!r}")
    out = {}
    for proto, table in raw.items():
        if not isinstance(table, dict):
            raise p.err(f"params.{proto}", f"must be a table of parameters, not {table!r}")
        out[proto] = dict(table)
    return out


def _check_params(p: _P, protocols: list[str], params: dict[str, dict]) -> None:
    """Each value of ``[params.PROTO]`` (or of its list) valid on its own, with the defaults."""
    for proto in params:
        if proto not in protocols:
            raise p.err(f"params.{proto}", f"protocol {proto!r} is not in protocols ({', '.join(protocols)})")
    for proto, table in params.items():
        cls = load_protocol(proto)
        for key, value in table.items():
            values = value if isinstance(value, list) else [value]
            if not values:
                raise p.err(f"params.{proto}.{key}", "an empty list (give at least one value)")
            for v in values:
                problem = _param_problem(cls, key, v)
                if problem:
                    raise p.err(f"params.{proto}.{key}", problem)


def _param_problem(cls, key: str, value: Any) -> Optional[str]:
    """Why ``key = value`` is refused by protocol ``cls`` with every server count it can
    run with (from its minimum up to 9), or None if some count accepts it."""
    problem = None
    top = cls.max_servers if cls.max_servers is not None else max(cls.min_servers, 9)
    for n in range(max(cls.min_servers, 1), top + 1):
        try:
            cls.check_params({key: value}, n)
            return None
        except ParamError as exc:
            if exc.key == "servers":
                continue
            problem = problem or exc.problem
    return problem


def _check_grid(protocols: list[str], grid: dict[str, list]) -> dict[str, list]:
    """``--param`` dimensions: each key taken by some protocol, each value valid for it."""
    for key, values in grid.items():
        takers = [load_protocol(p) for p in protocols if key in load_protocol(p).params]
        if not takers:
            raise GridError("--param", key, f"no protocol of the grid takes it ({', '.join(protocols)}; "
                                            "`paxsim protocols` lists their parameters)")
        for v in values:
            for cls in takers:
                problem = _param_problem(cls, key, v)
                if problem:
                    raise GridError("--param", key, problem)
    return dict(grid)


FLAGS = {"protocols": "--protocols", "servers": "--servers", "loss": "--loss", "duplicate": "--duplicate",
         "delay": "--delay", "crash_rate": "--crash-rate", "partition_rate": "--partition-rate",
         "workload": "--workload", "seeds": "--seeds", "horizon": "--horizon",
         "unavailability_threshold": "--threshold"}


def _split(flag: str, text: str) -> list[str]:
    items = [x.strip() for x in text.split(",")]
    if any(x == "" for x in items):
        raise GridError(flag, "", f"empty value in {text!r} (give values separated by commas)")
    return items


def _from_flags(flags: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, text in flags.items():
        flag = FLAGS[key]
        p = _P(flag)
        parse = _dims(p, lambda k: "")[key]
        if key in ("horizon", "unavailability_threshold"):
            out[key] = parse(text)
            continue
        if key == "seeds":
            items = _split(flag, text)
            out[key] = parse(items[0] if len(items) == 1 else items)
            continue
        out[key] = parse(_split(flag, text))
    return out


def experiment_from_flags(name: str, flags: dict[str, str], recover: bool = True,
                          param_grid: Optional[dict[str, list]] = None) -> Experiment:
    """An experiment from command-line flag texts (flag name -> text, only those given);
    ``param_grid``: ``--param KEY=V1,V2`` dimensions (see :func:`paxsim.overrides.parse_param_grid`)."""
    if "protocols" not in flags:
        raise GridError("--protocols", "", "is required (or give an experiment TOML file)")
    values = _from_flags(flags)
    values["recover"] = recover
    exp = _build(name, values, {})
    exp.param_grid = _check_grid(values["protocols"], param_grid or {})
    return exp
