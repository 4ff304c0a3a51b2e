"""The scenario a drawn schedule stands for, without validating it again.

:func:`paxsim.scenario.from_dict` checks every key of a scenario dict against the
schema and names the first problem: what files people write need. The dicts the
fuzzer draws (:func:`paxsim.fuzz.strategies.decode_scenario`) are valid by
construction, and the search runs thousands of them a second, so
:class:`ScenarioBuilder` turns them into the :class:`~paxsim.scenario.Scenario`
``from_dict`` would make (equal and with the same repr: the tests compare both
over hundreds of drawn dicts) with only the work that changes the result: request,
link and fault specs, and the faults that would do nothing left out. What depends
on the campaign alone (the protocol class, its parameters) is done once.

Anything it cannot vouch for, a dict of another shape or parameters too fast for
the network, goes to ``from_dict``, which names the problem as usual.
"""

from __future__ import annotations

from typing import Any, Optional

from ..limits import period_problem
from ..protocols import ParamError, load_protocol
from ..scenario import (DEFAULT_RETRY, DEFAULT_SETTLE, TARGETED, ClientSpec, FaultSpec, LinkSpec, NetworkSpec,
                        RequestSpec, Scenario, from_dict, mean_delay, timeline_noops)

TIMED = ("crash", "recover", "partition", "heal")
DRAWN_KEYS = frozenset(("description", "protocol", "servers", "seed", "settle", "params", "network", "clients",
                        "faults"))
"""The top-level keys a drawn dict may have (any other: ``from_dict`` judges it)."""


class ScenarioBuilder:
    """``builder(d)``: the scenario of a drawn dict ``d`` for ``protocol`` (as
    ``from_dict(d, source=source)``, which it calls for any dict it does not know)."""

    def __init__(self, protocol: str, source: str = "<fuzz>"):
        self.protocol = protocol
        self.source = source
        self.proto = load_protocol(protocol, near=source)
        self.kinds = self.proto.message_kinds
        self.params: dict[tuple, dict] = {}   # (params items, servers) -> checked params

    def __call__(self, d: dict) -> Scenario:
        sc = self.build(d)
        return sc if sc is not None else from_dict(d, source=self.source)

    def build(self, d: dict) -> Optional[Scenario]:
        """The scenario, or None if ``d`` is not a drawn dict of this protocol whose
        timing is known to pass (``from_dict`` then judges it)."""
        if d.get("protocol") != self.protocol or not isinstance(d.get("servers"), int) or not DRAWN_KEYS.issuperset(d):
            return None
        servers = tuple(f"S{i}" for i in range(1, d["servers"] + 1))
        params = self.checked_params(d.get("params", {}), len(servers))
        if params is None:
            return None
        clients = tuple(client(c) for c in d["clients"])
        network = network_spec(d.get("network", {}))
        mean = mean_delay(network.delay)
        try:
            self.proto.check_timing(params, mean)
        except ParamError:
            return None
        if any(c.retry and period_problem(c.retry, mean) for c in clients):
            return None
        faults = [fault(f) for f in d.get("faults", ())]
        noop = self.never_fire(faults)
        noop |= timeline_noops(faults, servers, never=noop)
        return Scenario(
            name="scenario", description=d["description"], protocol=self.protocol, servers=servers,
            clients=clients, network=network, faults=tuple(f for i, f in enumerate(faults) if i not in noop),
            params=params, seed=d.get("seed", 0), expected=None, until=None,
            settle=float(d.get("settle", DEFAULT_SETTLE)), figure=None, source=self.source)

    def checked_params(self, given: dict, servers: int) -> Optional[dict]:
        key = (tuple(sorted(given.items())), servers)   # hashable: FuzzConfig.params are
        if key not in self.params:
            try:
                self.params[key] = self.proto.check_params(given, servers)
            except ParamError:
                return None
        return dict(self.params[key])   # each scenario its own, as from_dict gives

    def never_fire(self, faults: list[FaultSpec]) -> set[int]:
        """Targeted faults on a kind the protocol never sends, and chained ones after them."""
        out: set[int] = set()
        last_targeted = None
        for i, f in enumerate(faults):
            if f.kind not in TARGETED:
                continue
            if f.chained and last_targeted in out:
                out.add(i)
            if self.kinds is not None and "type" in f.match and f.match["type"] not in self.kinds:
                out.add(i)
            last_targeted = i
        return out


def client(c: dict) -> ClientSpec:
    return ClientSpec(c["name"], tuple(RequestSpec(r["id"], float(r["at"])) for r in c["requests"]),
                      tuple(c.get("servers", ())), None, float(c.get("retry", DEFAULT_RETRY)) or None)


def delay_spec(v: Any) -> dict:
    if isinstance(v, dict):
        dist = v.get("dist", "constant")
        if dist == "uniform":
            return {"dist": "uniform", "low": float(v["low"]), "high": float(v["high"])}
        if dist == "exponential":
            out = {"dist": "exponential", "mean": float(v["mean"])}
            if "min" in v:
                out["min"] = float(v["min"])
            return out
        return {"dist": "constant", "value": float(v["value"])}
    return {"dist": "constant", "value": float(v)}


def optional_float(d: dict, key: str) -> Optional[float]:
    return float(d[key]) if key in d else None


def names(v: Any) -> tuple[str, ...]:
    return (v,) if isinstance(v, str) else tuple(v)


def network_spec(net: dict) -> NetworkSpec:
    links = tuple(LinkSpec(names(l.get("from", ())), names(l.get("to", ())),
                           delay_spec(l["delay"]) if "delay" in l else None, optional_float(l, "loss"),
                           optional_float(l, "duplicate"), l.get("fifo"))
                  for l in net.get("links", ()))
    return NetworkSpec(delay_spec(net["delay"]) if "delay" in net else NetworkSpec().delay,
                       float(net.get("loss", 0.0)), float(net.get("duplicate", 0.0)), net.get("fifo", True), links)


def fault(f: dict) -> FaultSpec:
    kind = next(k for k in TIMED + TARGETED if k in f)
    if kind in ("crash", "recover"):
        return FaultSpec(kind, at=float(f["at"]), target=f[kind])
    if kind == "heal":
        return FaultSpec("heal", at=float(f["at"]))
    if kind == "partition":
        return FaultSpec("partition", at=float(f["at"]), groups=tuple(names(g) for g in f["partition"]),
                         until=optional_float(f, "until"))
    m = f[kind]
    match = {k: m[k] for k in ("type", "request", "from", "to") if k in m}
    return FaultSpec(kind, match=match, nth=f.get("nth", 1), by=float(f.get("by", 0.0)),
                     lasting=optional_float(f, "for"), until_sends=f.get("until_sends"),
                     chained=f.get("chained", False))


__all__ = ["ScenarioBuilder"]
