"""The overview of a run too big to draw message by message: one row per request.

A message sequence diagram of a long run (fig12b has about 1,400 arrows; a random
run of 200 requests many thousands) cannot stay readable. Past :data:`LIMIT` drawn
messages the drawing commands lay out this overview instead, and say so in its
caption with how to get the full picture (``--full``, a ``--from``/``--to``
window, ``--only``, or ``--html FILE`` for the interactive view).

Each row is one request, in the order the clients invoked them: who asked, the
slot(s) and round(s) it was accepted in, how many accepts, learns and lost
messages concerned it (summarised as counts), and on a linear time axis a bar
from its invocation to its first answer, a tick where each server executed it and
a dot for each reply (red when the checker names it). Crashes are vertical marks,
partitions shaded. Coordinates are points, as in :mod:`.model`; renderers read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from .model import (DiagramError, LIVENESS, as_records, natural_key, processes, readable_states, scenario_servers,
                    text_width, wrap)

LIMIT = 300              # more drawn messages than this: the overview is the default
FONT = 8.0
ROW_H = 13.0
TOP = 44.0               # first row (below the header and the time axis)
COLS = (("request", 8), ("client", 7), ("slot", 6), ("round", 6), ("acc", 5), ("lrn", 5), ("lost", 5),
        ("exec", 5))
TIMELINE_W = 520.0
MARGIN = 8.0
HEADER_EVERY = 720.0


@dataclass
class Row:
    m: str
    client: str
    invoked: Optional[float]
    answered: Optional[float]
    slots: list[int] = field(default_factory=list)
    rounds: list[Any] = field(default_factory=list)
    acc: int = 0
    lrn: int = 0
    lost: int = 0
    executions: list[tuple[float, str, str]] = field(default_factory=list)   # (t, server, state)
    replies: list[tuple[float, str, str, bool]] = field(default_factory=list)  # (t, server, state, warn)
    y: float = 0.0

    def cells(self, n_servers: int) -> list[str]:
        return [self.m, self.client, _nums(self.slots), _nums(self.rounds), str(self.acc), str(self.lrn),
                str(self.lost), f"{len({s for _, s, _ in self.executions})}/{n_servers}"]

    @property
    def warn(self) -> bool:
        return any(w for *_, w in self.replies)


@dataclass
class Overview:
    width: float
    height: float
    rows: list[Row]
    servers: list[str]
    clients: list[str]
    t0: float
    t1: float
    x0: float                                  # timeline left edge
    scale: float                               # points per time unit
    col_x: list[float]                         # left edge of each text column
    crashes: list[tuple[float, str, str]]      # (t, process, "crash" | "recover")
    partitions: list[tuple[float, Optional[float], str]]
    caption: list[str]
    notes: list[str]
    outcome: Optional[str]
    title: str
    headers: list[float]
    body_bottom: float

    def x(self, t: float) -> float:
        return self.x0 + (t - self.t0) * self.scale


def short_state(label: str, keep: int = 3) -> str:
    """``s^(1,5,9,6,10,2)`` -> ``s^(…3 more,6,10,2)``: the notation of long states,
    for a column of states that must stay narrow."""
    if not (label.startswith("s^(") and label.endswith(")")):
        return label
    parts = label[3:-1].split(",")
    more = 0
    if parts and parts[0].startswith("…") and parts[0].endswith(" more"):
        more = int(parts[0][1:-5])
        parts = parts[1:]
    if more + len(parts) <= keep + 1:
        return label
    return f"s^(…{more + len(parts) - keep} more,{','.join(parts[-keep:])})"


def _nums(xs: list) -> str:
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return ",".join(str(x) for x in xs[:3]) + ("…" if len(xs) > 3 else "")


def drawn_messages(records: list[dict[str, Any]], heartbeats: bool = False) -> int:
    """How many arrows the full diagram would draw (deliveries and drops; HB hidden)."""
    return sum(1 for r in records if r["ev"] in ("deliver", "drop") and (heartbeats or r.get("type") != "HB"))


def build_overview(source: Any, *, title: str = "", servers: Optional[Iterable[str]] = None,
                   reason: str = "", cls: type = Overview) -> Overview:
    """Lay out the one-row-per-request overview of ``source`` (as :func:`.model.build`
    takes); ``cls``: the Overview class to make (a renderer's subclass)."""
    if servers is None:
        servers = scenario_servers(source)
    records = readable_states(as_records(source))
    try:
        return _build(records, title, servers, reason, cls)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DiagramError(f"malformed trace record ({type(exc).__name__}: {exc})") from None


def _build(records: list[dict[str, Any]], title: str, known: Optional[Iterable[str]], reason: str,
           cls: type) -> Overview:
    clients, servers = processes(records, known)
    verdict = next((r for r in records if r["ev"] == "verdict"), None)
    warn_pos: set[int] = set()
    if verdict:
        for v in verdict.get("violations", []):
            if v.get("invariant") not in LIVENESS:
                warn_pos.update(v.get("positions", []))
    rows: dict[str, Row] = {}

    def row(m: Any, client: str = "?") -> Optional[Row]:
        if not isinstance(m, str):
            return None
        if m not in rows:
            rows[m] = Row(m, client, None, None)
        return rows[m]

    crashes, partitions = [], []
    open_part: Optional[tuple[float, str]] = None
    times = [r["t"] for r in records if r["ev"] not in ("end", "verdict")]
    for r in records:
        ev, typ = r["ev"], r.get("type")
        if ev == "invoke":
            rw = row(r.get("m"), r["src"])
            rw.client = r["src"]
            if rw.invoked is None:
                rw.invoked = r["t"]
        elif ev == "send" and typ == "ACC":
            rw = row(r.get("m"))
            if rw is not None:
                rw.acc += 1
                if r.get("slot") not in rw.slots:
                    rw.slots.append(r.get("slot"))
                if r.get("rnd") not in rw.rounds:
                    rw.rounds.append(r.get("rnd"))
        elif ev == "deliver" and typ == "LRN":
            rw = row(r.get("m"))
            if rw is not None:
                rw.lrn += 1
        elif ev == "drop" and typ != "HB":
            rw = row(r.get("m")) if isinstance(r.get("m"), str) else None
            if rw is not None:
                rw.lost += 1
        elif ev == "execute":
            rw = row(r.get("m"))
            if rw is not None:
                rw.executions.append((r["t"], r["src"], str(r.get("state", ""))))
        elif ev == "deliver" and typ == "REPLY":
            rw = row(r.get("m"), r["dst"])
            if rw is not None:
                rw.replies.append((r["t"], r["src"], str(r.get("state", "")), r["i"] in warn_pos))
                if rw.answered is None:
                    rw.answered = r["t"]
        elif ev in ("crash", "recover"):
            crashes.append((r["t"], r["src"], ev))
        elif ev == "partition":
            if open_part is not None:
                partitions.append((open_part[0], r["t"], open_part[1]))
            open_part = (r["t"], " | ".join(",".join(g) for g in r.get("groups", [])))
        elif ev == "heal" and open_part is not None:
            partitions.append((open_part[0], r["t"], open_part[1]))
            open_part = None
    if open_part is not None:
        partitions.append((open_part[0], None, open_part[1]))
    if not times:
        raise DiagramError("the trace has no events to draw")
    ordered = sorted(rows.values(), key=lambda w: (w.invoked if w.invoked is not None else float("inf"),
                                                   natural_key(w.m)))
    # columns, then the timeline
    col_x, x = [], MARGIN
    for name, chars in COLS:
        col_x.append(x)
        x += max(chars, len(name) + 1) * text_width("x", FONT)
    x0 = x + 8.0
    t0 = min(times)
    t1 = max([t for rw in ordered for t, *_ in rw.executions + rw.replies] + [rw.invoked or t0 for rw in ordered]
             + [t for t, *_ in crashes] + [t for p in partitions for t in p[:2] if t is not None] + [t0 + 1.0])
    # (the quiet time a run waits before it stops is left out)
    scale = TIMELINE_W / max(t1 - t0, 1e-9)
    width = x0 + TIMELINE_W + 170.0           # room for each row's final state on the right
    y = TOP
    headers = [8.0]
    for k, rw in enumerate(ordered):
        if y - headers[-1] > HEADER_EVERY and len(ordered) - k > 10:
            headers.append(y)
            y += 30.0
        rw.y = y
        y += ROW_H
    body_bottom = y + 8.0
    outcome = verdict.get("outcome") if verdict else None
    notes: list[str] = [title] if title else []
    notes.append(f"overview: one row per request ({len(ordered)} requests, {len(servers)} servers, "
                 f"{len(clients)} clients)" + (f"; {reason}" if reason else ""))
    notes.append("full picture: --full (every message), --from T --to T (a time window), --only S1,C1, "
                 "or --html FILE (the interactive view)")
    if verdict:
        vs = verdict.get("violations", [])
        notes.append(f"outcome {outcome}" + (f": {len(vs)} violation(s)" if vs else ""))
        for v in vs[:4]:
            notes.append(f"{v.get('invariant')}{' (latent)' if v.get('latent') else ''}: {v.get('detail')}")
    chars = max(60, int((width - 16) / text_width("x", FONT + 0.5)))
    caption = [part for line in notes for part in wrap(line, chars)]
    height = body_bottom + 10.0 + 12.0 * len(caption) + 6.0
    return cls(width, height, ordered, servers, clients, t0, t1, x0, scale, col_x, crashes, partitions,
                    caption, notes, outcome, title, headers, body_bottom)
