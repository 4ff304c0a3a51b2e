"""The interactive view of a run: one self-contained HTML file to open in a browser.

::

    from paxsim import load_scenario, run_scenario
    from paxsim.diagram.html import write_view

    r = run_scenario(load_scenario("scenarios/fig05.toml"))
    write_view(r, "fig05.html")          # open it from disk: no server, no network

The file inlines its script and style (``view.js``, ``view.css`` beside this module)
and the run as JSON: one lane per process (clients, then servers by rank), every
message as an arrow on a linear time axis (idle stretches can be compressed),
zoom and pan, lane headers that stay visible, filters by message type, process,
slot, round and request (heartbeats hidden by default), lost messages and crashes
marked, partitions shaded, and a cursor that steps event by event (arrow keys,
space, Home/End) showing what every replica knows at that moment and what each
client saw. The checker's violations are listed with links that move the cursor to
the conflicting replies.

Replica state comes from the optional :meth:`~paxsim.protocols.base.Replica.inspect`
method: given a :class:`~paxsim.driver.RunResult`, :func:`write_view` replays its
scenario and seed once more with every replica observed after each input (the run
is deterministic, so the replay is the same run; nothing is recorded in ordinary
runs, which therefore cost nothing more). A bare trace (``paxsim draw --html``)
shows messages, executions and the clients' view, without the replicas' inner state.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Optional

from .files import write_atomic
from .model import LIVENESS, as_records, many_requests, processes, readable_states, spell_state

HERE = Path(__file__).resolve().parent
KEYS = ("t", "ev", "src", "dst", "type", "label", "m", "slot", "rnd", "state", "reason", "timer", "groups",
        "event", "info")
"""The fields of a trace record the view keeps (the rest is dropped to keep files small)."""


# ------------------------------------------------------------------ replica state ---

def flatten(d: dict[str, Any]) -> dict[str, Any]:
    """``inspect()``'s dict as flat ``key`` / ``key[sub]`` entries of plain values, so
    that only what changed needs storing (a log grows by one entry, not a copy)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[f"{k}[]"] = len(v)
            for sub, x in v.items():
                out[f"{k}[{sub}]"] = _plain(x)
        elif isinstance(v, (list, tuple)) and len(v) > 8:
            out[f"{k}[]"] = len(v)
            for sub, x in enumerate(v, 1):
                out[f"{k}[{sub}]"] = _plain(x)
        else:
            out[k] = _plain(v)
    return out


def _plain(x: Any) -> Any:
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, (list, tuple)):
        return [_plain(y) for y in x]
    return str(x)


class StateRecorder:
    """Observes every replica of a world after each input it handles.

    ``changes[pid]`` is a list of ``[trace index, key, value]`` (``value`` None when the
    key disappeared): the state after the input recorded at that trace index (-1: the
    start), stored as differences from the state before."""

    def __init__(self) -> None:
        self.changes: dict[str, list[list[Any]]] = {}
        self.last: dict[str, dict[str, Any]] = {}

    def attach(self, world: Any) -> None:
        trace = world.trace
        proto = world.protocol
        if not callable(getattr(proto, "inspect", None)) or trace is None:
            return
        record = self.record

        def observed(method: str) -> Callable:
            def call(self, now, *args):
                out = getattr(proto, method)(self, now, *args)
                record(self.pid, len(trace.events) - 1, self.inspect(now))
                return out
            return call

        cls = type(proto.__name__, (proto,), {m: observed(m) for m in
                                              ("on_start", "on_message", "on_timer", "on_recover")})
        for host in world.hosts.values():
            old = host.factory
            host.factory = _rebind(old, proto, cls)

    def record(self, pid: str, index: int, state: dict[str, Any]) -> None:
        flat = flatten(state)
        prev = self.last.get(pid, {})
        rows = self.changes.setdefault(pid, [])
        for k, v in flat.items():
            if k not in prev or prev[k] != v:
                rows.append([index, k, v])
        for k in prev:
            if k not in flat:
                rows.append([index, k, None])
        self.last[pid] = flat


def _rebind(factory: Callable, proto: type, cls: type) -> Callable:
    """A factory making the observed subclass instead of ``proto`` (same arguments)."""
    def make():
        r = factory()
        r.__class__ = cls         # same instance, same state: only the input methods are wrapped
        return r
    return make


def replay_states(scenario: Any, seed: Optional[int], n_records: int) -> Optional[dict[str, list]]:
    """Run ``scenario`` (with ``seed``) again, observing every replica; None if its
    protocol has no ``inspect()`` or the replay's trace differs from the one shown."""
    from ..driver import make_world
    from ..protocols import load_protocol

    if not callable(getattr(load_protocol(scenario.protocol), "inspect", None)):
        return None
    if seed is not None:
        scenario = scenario.with_seed(seed)
    world = make_world(scenario, record_trace=True)
    rec = StateRecorder()
    rec.attach(world)
    world.run()
    if len(world.trace) + 1 != n_records:    # the shown trace ends with the verdict
        return None
    return rec.changes


# ------------------------------------------------------------------------- data ---

def view_data(source: Any, *, title: str = "", scenario: Any = None, seed: Optional[int] = None,
              heartbeats: bool = False, states: Optional[dict[str, list]] = None,
              t_from: Optional[float] = None, t_to: Optional[float] = None,
              only: Optional[list[str]] = None) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-ready data (``source``: what
    :func:`~paxsim.diagram.model.as_records` takes; ``scenario``: its scenario, for
    the servers' order, the description and the claim). ``t_from``/``t_to`` keep the
    events of a time window (and the messages that cross it): the page of a long run
    stays small; the replicas' state stays whole. ``only``: the processes shown at
    first (the page's filters can show the others)."""
    lo = float("-inf") if t_from is None else t_from
    hi = float("inf") if t_to is None else t_to
    servers = None if scenario is None else tuple(scenario.servers)
    records = readable_states(as_records(source))
    if states is not None and many_requests(records):
        states = {pid: [[k, key, spell_state(v) if key == "executed" else v] for k, key, v in rows]
                  for pid, rows in states.items()}
    clients, srv = processes(records, servers)
    if servers is not None:
        srv = [s for s in servers if s in srv] + [s for s in srv if s not in servers]
    verdict = next((r for r in records if r["ev"] == "verdict"), None) or {}
    violations = [{"invariant": v.get("invariant"), "detail": v.get("detail"), "latent": bool(v.get("latent")),
                   "positions": list(v.get("positions", [])), "liveness": v.get("invariant") in LIVENESS}
                  for v in verdict.get("violations", [])]
    warn = {p for v in violations if not v["liveness"] for p in v["positions"]}
    # pair each delivery or drop with its send (or duplicate), in order per message id
    sends: dict[int, list[int]] = {}
    for r in records:
        if r["ev"] in ("send", "duplicate") and "mid" in r:
            sends.setdefault(r["mid"], []).append(r["i"])
    used: dict[int, int] = {}
    pair: dict[int, int] = {}
    for r in records:
        if r["ev"] in ("deliver", "drop") and "mid" in r:
            k = used.get(r["mid"], 0)
            used[r["mid"]] = k + 1
            ss = sends.get(r["mid"], [])
            if ss:
                pair[r["i"]] = ss[min(k, len(ss) - 1)]
    by_i = {r["i"]: r for r in records}
    events = []
    down: set[str] = set()                       # crashed when the window opens
    parted: Optional[dict[str, Any]] = None      # the partition in force when it opens
    for r in records:
        if r["ev"] in ("end", "verdict", "send"):
            continue
        start = by_i[pair[r["i"]]]["t"] if r["i"] in pair else r["t"]
        if r["t"] < lo:
            if r["ev"] in ("crash", "recover"):
                (down.add if r["ev"] == "crash" else down.discard)(r["src"])
            elif r["ev"] in ("partition", "heal"):
                parted = r if r["ev"] == "partition" else None
            continue
        if parted is not None and r["t"] >= lo:  # still cut off as the window opens
            events.append({"ev": "partition", "t": lo, "groups": parted.get("groups", []), "i": parted["i"]})
            parted = None
        if start > hi or (r["t"] > hi and r["ev"] not in ("deliver", "drop")):
            continue
        e = {k: r[k] for k in KEYS if k in r and r[k] is not None}
        e["i"] = r["i"]
        if r["i"] in pair:
            s = by_i[pair[r["i"]]]
            e["s"] = s["i"]
            e["t0"] = s["t"]
            if s["ev"] == "duplicate":
                e["dup"] = True
        if r["i"] in warn:
            e["warn"] = True
        events.append(e)
    meta: dict[str, Any] = {"title": title, "outcome": verdict.get("outcome")}
    if scenario is not None:
        meta.update(name=scenario.name, description=scenario.description, protocol=scenario.protocol,
                    seed=scenario.seed if seed is None else seed, expected=scenario.expected,
                    figure=getattr(scenario, "figure", None), claim=claim_of(scenario))
    return {"meta": meta, "clients": clients, "servers": srv, "events": events, "violations": violations,
            "states": states, "heartbeats": heartbeats, "down": sorted(down), "only": only,
            "window": [t_from, t_to],
            "end": max((r["t"] for r in records), default=0.0)}


def claim_of(scenario: Any) -> Optional[str]:
    """What the figure shows and the tutorial claims: the opening comment of its
    scenario file, up to the choices made where the text is open (None if none)."""
    path = getattr(scenario, "path", None) or getattr(scenario, "source", None)
    if not path or not os.path.isfile(str(path)):
        return None
    lines = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.startswith("#") or line[1:].strip().startswith(("Choices", "- ")):
                break
            lines.append(line[1:].strip())
    return " ".join(lines).split(" Choices")[0].strip() or None


# ------------------------------------------------------------------------- page ---

def page(data: dict[str, Any]) -> str:
    """The HTML document (script, style and data inline)."""
    js = (HERE / "view.js").read_text(encoding="utf-8")
    css = (HERE / "view.css").read_text(encoding="utf-8")
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("<", "\\u003c")   # no "</script>"
    title = data["meta"].get("name") or data["meta"].get("title") or "paxsim run"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{_esc(str(title))} - paxsim</title>\n<style>\n{css}</style></head>\n<body>\n"
            f"<script id=\"run\" type=\"application/json\">{blob}</script>\n"
            f"<script>\n{js}</script>\n</body></html>\n")


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def write_view(source: Any, path: str, *, title: str = "", scenario: Any = None, heartbeats: bool = False,
               states: Optional[dict[str, list]] = None, **window: Any) -> None:
    """Write the interactive view of ``source`` to ``path`` (whole or not at all).

    ``source``: a :class:`~paxsim.driver.RunResult` (its scenario is replayed once to
    record the replicas' state, see :func:`replay_states`), a Trace, a JSON Lines
    trace path or a list of records (messages only). ``scenario``: the scenario of a
    bare trace, for its description and claim. ``t_from``, ``t_to``, ``only``: see
    :func:`view_data`."""
    records = as_records(source)
    ran = source.scenario if hasattr(source, "scenario") and hasattr(source, "verdict") else None
    seed = getattr(source, "seed", None)
    if states is None and ran is not None:
        states = replay_states(ran, seed, len(records))
    data = view_data(records, title=title, scenario=scenario or ran, seed=seed, heartbeats=heartbeats, states=states,
                     **window)
    _write(path, page(data))


def write_index(rows: list[dict[str, Any]], path: str) -> None:
    """The index of ``paxsim figures --html DIR``: each figure, its claim, the verdict
    and a link to its view (``rows``: figure, file, protocol, description, claim,
    expected, outcome, match)."""
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>paxsim: the tutorial's figures"
           "</title><style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:"
           "collapse}td,th{border-bottom:1px solid #ddd;padding:6px 10px;text-align:left;vertical-align:top}"
           ".no{color:#c0392b;font-weight:bold}.UNSAFE{color:#c0392b}.STUCK{color:#b9770e}.SAFE{color:#1e8449}"
           "</style></head><body><h1>Paxos Explained from Scratch: every figure replayed</h1>"
           "<table><tr><th>figure</th><th>stage</th><th>what the tutorial says</th><th>observed</th>"
           "<th>match</th></tr>"]
    for r in rows:
        claim = r.get("claim") or r.get("description") or ""
        out.append(f"<tr><td><a href=\"{_esc(r['file'])}\">{_esc(r['figure'])}</a></td><td>{_esc(r['protocol'])}"
                   f"</td><td>{_esc(str(r.get('expected')))}: {_esc(claim)}<br><small>{_esc(r['description'])}"
                   f"</small></td><td class=\"{_esc(r['outcome'])}\">{_esc(r['outcome'])}</td>"
                   f"<td>{'yes' if r['match'] else '<span class=no>NO</span>'}</td></tr>")
    n = sum(1 for r in rows if r["match"])
    out.append(f"</table><p>{n}/{len(rows)} figures behave as the tutorial says.</p></body></html>\n")
    _write(path, "".join(out))


def _write(path: str, text: str) -> None:
    write_atomic(path, text.encode("utf-8"))


__all__ = ["StateRecorder", "page", "replay_states", "view_data", "write_index", "write_view"]
