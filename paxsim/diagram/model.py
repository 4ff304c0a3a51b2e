"""Trace records -> a message sequence diagram, laid out independently of any output.

One vertical timeline (lane) per process, clients at the edges and servers in the
middle (``C1, S1, S2, ..., C2`` as in the tutorial), time downwards. Every message
is an arrow from its send to its delivery, labeled as in the tutorial (``m1``,
``<ACC, m2, 1>``); a lost message ends in a cross; a duplicated one shows twice;
an executed request is a box on the server's lane labeled with its new state; a
crash ends a lane with a cross and a recovery restarts it; a partition is a shaded
band naming its groups. The replies that break safety (the deliveries named by the
verdict's ``positions``) are marked ``warn``, and the caption names the invariant.

All coordinates are in points (1/72 inch), ``y`` growing downwards, so renderers
only draw: :mod:`paxsim.diagram.mpl` (SVG/PNG/PDF) and :mod:`paxsim.diagram.text`
read this model; it imports none of them (dependencies point one way).

Time is warped so diagrams stay readable: distinct event times get distinct rows,
a time gap becomes vertical space proportional to it but clamped (idle stretches
shrink), and several events of one process at one time are stacked in trace order
(a delivery, then the execution box, then the replies it caused), so simultaneous
arrows stay apart. Labels are placed by :func:`place_labels`: at the middle of the
arrow if free, else further along it, else shifted, never overlapping another label,
an execution box or a lane header.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from statistics import median
from typing import Any, Iterable, Optional, Sequence

# ---- metrics (points). Labels use a monospace font so widths are known in advance.
FONT = 8.0               # label font size
CHAR_W = 0.61 * FONT     # advance of DejaVu Sans Mono is 0.602 em; a little margin
LINE_H = FONT * 1.35     # label box height
PAD = 1.5                # label box padding each side
MARGIN_L = 46.0          # left margin (time ticks)
MARGIN_R = 16.0
HEADER_Y = 8.0           # lane header boxes
HEADER_H = 16.0
HEADER_EVERY = 720.0     # a tall picture repeats its lane headers this often (points)
TOP = HEADER_Y + HEADER_H + 14.0   # where time starts
MIN_SPACING = 96.0       # between lanes (more for long labels, up to MAX_SPACING)
MAX_SPACING = 170.0
SUB_DELIVER = 7.0        # stacking of events of one process at one time
SUB_SEND = 7.0
SUB_MARK = 9.0
BOX_H = 13.0
PX_PER_T = 34.0          # vertical points per time unit...
MIN_GAP = 8.0            # ...but at least this much between distinct times
MAX_GAP = 110.0          # ...and at most this much (long idle stretches shrink)
BOTTOM_PAD = 16.0
CAPTION_LINE = 12.0

LIVENESS = ("liveness", "replica_progress")    # not drawn as conflicts


def text_width(s: str, size: float = FONT) -> float:
    return len(s) * 0.61 * size


def natural_key(name: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


@dataclass
class Lane:
    name: str
    kind: str                       # "client" | "server"
    x: float
    segments: list[list[float]] = field(default_factory=list)   # [y0, y1] alive

@dataclass
class Arrow:
    src: str
    dst: str
    x0: float
    y0: float
    x1: float
    y1: float
    label: str
    type: str
    t0: float
    t1: float
    i: int                          # trace index of the delivery / drop
    lost: bool = False              # ends in a cross at (x1, y1)
    reason: str = ""
    dup: bool = False               # the second copy of a duplicated message
    warn: bool = False              # a reply that breaks safety
    clipped_start: bool = False     # sent before the window
    clipped_end: bool = False       # arrives after the window
    head: bool = True
    midway: bool = False            # lost when sent: drawn to half way at a typical delay

@dataclass
class Box:
    lane: str
    x: float
    y: float                        # top
    w: float
    h: float
    label: str
    t: float
    i: int
    warn: bool = False
    why: str = ""                   # the invariants it breaks

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x - self.w / 2, self.y, self.x + self.w / 2, self.y + self.h)

@dataclass
class Mark:
    kind: str                       # "crash" | "recover" | "timer"
    lane: str
    x: float
    y: float
    t: float
    i: int
    label: str = ""

@dataclass
class Band:
    y0: float
    y1: float
    t0: float
    t1: Optional[float]
    groups: list[list[str]]
    label: str
    i: int

@dataclass
class Label:
    text: str
    x: float                        # centre
    y: float                        # centre
    w: float
    h: float
    owner: str = ""                 # "arrow" | "band"
    warn: bool = False
    ax: float = 0.0                 # the point of the arrow it belongs to
    ay: float = 0.0

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x - self.w / 2, self.y - self.h / 2, self.x + self.w / 2, self.y + self.h / 2)

@dataclass
class Diagram:
    width: float
    height: float
    lanes: list[Lane]
    arrows: list[Arrow]
    boxes: list[Box]
    marks: list[Mark]
    bands: list[Band]
    labels: list[Label]
    ticks: list[tuple[float, float]]          # (y, t)
    breaks: list[float]                       # y of compressed idle stretches
    title: str
    outcome: Optional[str]
    caption: list[str]                        # wrapped to the width of the drawing
    t_from: Optional[float]
    t_to: Optional[float]
    body_bottom: float
    events: list[tuple[float, int, str, Any]] = field(default_factory=list)  # (t, i, kind, obj) in trace order
    notes: list[str] = field(default_factory=list)                            # the caption, unwrapped
    headers: list[float] = field(default_factory=lambda: [HEADER_Y])          # y of each row of lane headers

    def label_rects(self) -> list[tuple[float, float, float, float]]:
        """Every text box that must not overlap another: labels and execution boxes."""
        return [l.rect for l in self.labels] + [b.rect for b in self.boxes]


class DiagramError(ValueError):
    """Bad drawing input (unknown process, empty window, malformed records); ``option`` names
    the option at fault ("only", "window") or is None. The CLI turns it into a UsageError."""

    def __init__(self, message: str, option: Optional[str] = None):
        super().__init__(message)
        self.option = option


# ------------------------------------------------------------------- input ---

def as_records(source: Any) -> list[dict[str, Any]]:
    """Records from a Trace, a RunResult, a path to a JSON Lines trace, or a list of dicts."""
    if hasattr(source, "trace") and hasattr(source, "verdict"):      # RunResult
        source = source.trace
        if source is None:
            raise DiagramError("the run was made without a trace (record_trace=False)")
    if hasattr(source, "records") and callable(source.records):      # Trace
        return list(source.records())
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        from ..sim.trace import read_trace

        return read_trace(str(source))
    recs = list(source)
    for n, r in enumerate(recs):
        if not isinstance(r, dict) or "ev" not in r or "t" not in r:
            raise DiagramError(f"record {n} is not a trace record (needs 'ev' and 't'): {r!r:.80}")
        if "i" not in r:
            recs[n] = {**r, "i": n}
    return recs


_BARE = re.compile(r"^s\^([^(].*)$")


def readable_states(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with state labels that cannot be misread: once a run has a request
    past m9, ``s^1596`` (one digit per request) could also be m15, m9, m6, so it is
    written ``s^(1,5,9,6)`` as the longer states already are. Other runs are unchanged."""
    if not many_requests(records):
        return list(records)
    out = []
    for r in records:
        state = r.get("state")
        if isinstance(state, str) and _BARE.match(state):
            r = {**r, "state": spell_state(state)}
            if r.get("type") == "REPLY":
                r["label"] = f"<{r['state']}>"
        out.append(r)
    return out


def many_requests(records: Sequence[dict[str, Any]]) -> bool:
    """Whether a run invokes a request past m9 (so ``s^15`` could be misread)."""
    ids = {r.get("m") for r in records if r["ev"] == "invoke"}
    return any(isinstance(m, str) and len(m[1:] if m.startswith("m") else m) > 1 for m in ids)


def spell_state(label: Any) -> Any:
    """``s^1596`` -> ``s^(1,5,9,6)``; any other value unchanged."""
    bare = _BARE.match(label) if isinstance(label, str) else None
    return f"s^({','.join(bare.group(1))})" if bare and len(bare.group(1)) > 1 else label


def processes(records: Sequence[dict[str, Any]], servers: Optional[Iterable[str]] = None) -> tuple[list[str], list[str]]:
    """(clients, servers) named in a trace, each in natural order.

    ``servers``: the scenario's servers, if known (a RunResult knows them); every
    other process is a client. Without them, a client is a process that invokes
    requests or receives replies (a server that forwards a request is still a
    server); a trace without ``invoke`` records falls back to "sends a REQ"."""
    names: set[str] = set()
    clients: set[str] = set()
    senders: set[str] = set()
    for r in records:
        ev = r["ev"]
        for k in ("src", "dst"):
            v = r.get(k)
            if isinstance(v, str):
                names.add(v)
        if ev == "invoke":
            clients.add(r["src"])
        elif ev == "send" and r.get("type") == "REQ":
            senders.add(r["src"])
        if ev in ("send", "deliver", "drop") and r.get("type") == "REPLY":
            clients.add(r["dst"])
        if ev == "partition":
            for g in r.get("groups", []):
                names.update(g)
    if servers is not None:
        known = set(servers)
        names |= known
        clients = names - known
    elif not any(r["ev"] == "invoke" for r in records):
        clients |= senders
    return sorted(clients, key=natural_key), sorted(names - clients, key=natural_key)


def lane_order(clients: Sequence[str], servers: Sequence[str]) -> list[str]:
    """The tutorial's layout: C1, S1, S2, ..., C2 (about half the clients on each side)."""
    left = list(clients[: max(1, len(clients) // 2)]) if clients else []
    right = list(clients[len(left):])
    return left + list(servers) + right


# ------------------------------------------------------------------ layout ---

class _TimeAxis:
    """Distinct times -> rows; y(t, offset) with clamped gaps between rows."""

    def __init__(self, heights: dict[float, float], top: float, linear: bool = False):
        self.linear = linear
        self.times = sorted(heights)
        self.base: list[float] = []
        self.height: list[float] = []
        self.breaks: list[float] = []
        y = top
        prev: Optional[float] = None
        for t in self.times:
            if prev is not None:
                dt = t - prev
                y += self.gap(dt)
                if dt * PX_PER_T > MAX_GAP and not linear:
                    self.breaks.append(y - MAX_GAP / 2)
            self.base.append(y)
            h = heights[t]
            self.height.append(h)
            y += h
            prev = t
        self.end = y

    def gap(self, dt: float) -> float:
        if self.linear:           # proportional: a row's own height is the only distortion
            return dt * PX_PER_T
        return min(max(dt * PX_PER_T, MIN_GAP), MAX_GAP)

    def y(self, t: float) -> float:
        """y of an arbitrary time (interpolated between rows)."""
        ts = self.times
        if not ts:
            return TOP
        k = bisect_right(ts, t) - 1
        if k < 0:
            return self.base[0] - min(self.gap(ts[0] - t), MAX_GAP / 2)
        if ts[k] == t:
            return self.base[k]
        bottom = self.base[k] + self.height[k]
        if k + 1 < len(ts):
            frac = (t - ts[k]) / (ts[k + 1] - ts[k])
            return bottom + frac * (self.base[k + 1] - bottom)
        return bottom + self.gap(t - ts[k])

    def at(self, t: float, off: float) -> float:
        k = bisect_right(self.times, t) - 1
        if k >= 0 and self.times[k] == t:
            return self.base[k] + off
        return self.y(t) + off


def build(source: Any, *, only: Optional[Iterable[str]] = None, t_from: Optional[float] = None,
          t_to: Optional[float] = None, heartbeats: bool = False, timers: bool = False,
          title: str = "", servers: Optional[Iterable[str]] = None, linear: bool = False,
          cls: type = Diagram) -> Diagram:
    """Lay out the diagram of a run.

    ``source``: a Trace, a RunResult, a JSON Lines trace path or a list of records.
    ``only``: processes to show (others and their messages are hidden);
    ``t_from``/``t_to``: the time window; ``heartbeats``: show ``HB`` messages;
    ``timers``: show timer expiries as small marks; ``servers``: which processes
    are servers (default: the RunResult's scenario says, else guessed from the
    trace); ``linear``: time gaps proportional to time, never clamped (slopes mean
    something; the default shrinks idle stretches); ``cls``: the Diagram class to
    make (a renderer's subclass). Raises :class:`DiagramError` for an unknown
    process, an empty window or malformed records.
    """
    if servers is None:
        servers = scenario_servers(source)
    records = readable_states(as_records(source))
    try:
        return _build(records, only, t_from, t_to, heartbeats, timers, title, servers, linear, cls)
    except (KeyError, TypeError, AttributeError) as exc:
        raise DiagramError(f"malformed trace record ({type(exc).__name__}: {exc})") from None


def scenario_servers(source: Any) -> Optional[tuple[str, ...]]:
    """The servers of a RunResult's scenario (None for a bare trace)."""
    sc = getattr(source, "scenario", None)
    return tuple(sc.servers) if sc is not None and hasattr(sc, "servers") else None


def _build(records: list[dict[str, Any]], only: Optional[Iterable[str]], t_from: Optional[float],
           t_to: Optional[float], heartbeats: bool, timers: bool, title: str,
           known_servers: Optional[Iterable[str]], linear: bool, cls: type) -> Diagram:
    clients, servers = processes(records, known_servers)
    order = lane_order(clients, servers)
    if only is not None:
        only = [p.strip() for p in only if p.strip()]
        unknown = [p for p in only if p not in order]
        if unknown:
            raise DiagramError(f"unknown process {', '.join(unknown)} (the trace has: {', '.join(order)})", "only")
        if not only:
            raise DiagramError("no process to show", "only")
        order = [p for p in order if p in set(only)]
    if t_from is not None and t_to is not None and t_from > t_to:
        raise DiagramError(f"the window starts after it ends ({t_from:g} > {t_to:g})", "window")
    shown = set(order)
    lo = float("-inf") if t_from is None else t_from
    hi = float("inf") if t_to is None else t_to

    def inwin(t: float) -> bool:
        return lo <= t <= hi

    # verdict
    verdict = next((r for r in records if r["ev"] == "verdict"), None)
    why: dict[int, list[str]] = {}          # trace index -> the safety invariants it breaks
    if verdict:
        for v in verdict.get("violations", []):
            if v.get("invariant") in LIVENESS:
                continue
            for pos in v.get("positions", []):
                names = why.setdefault(pos, [])
                if v.get("invariant") not in names:
                    names.append(str(v.get("invariant")))

    def visible_msg(r: dict) -> bool:
        if r.get("type") == "HB" and not heartbeats:
            return False
        return r.get("src") in shown and r.get("dst") in shown

    # pair sends (and duplicates) with deliveries / drops
    sends: dict[int, list[dict]] = {}
    for r in records:
        if r["ev"] in ("send", "duplicate") and "mid" in r:
            sends.setdefault(r["mid"], []).append(r)
    used: dict[int, int] = {}
    pairs: list[tuple[dict, dict]] = []      # (send or duplicate record, deliver/drop record)
    for r in records:
        if r["ev"] in ("deliver", "drop") and "mid" in r:
            k = used.get(r["mid"], 0)
            used[r["mid"]] = k + 1
            ss = sends.get(r["mid"], [])
            s = ss[k] if k < len(ss) else (ss[-1] if ss else None)
            if s is None:
                continue
            if visible_msg(r):
                pairs.append((s, r))
    # typical delay per link, for drawing a lost message mid-way
    delays: dict[tuple[str, str], list[float]] = {}
    all_delays: list[float] = []
    for s, r in pairs:
        if r["ev"] == "deliver":
            d = r["t"] - s["t"]
            delays.setdefault((s["src"], s["dst"]), []).append(d)
            all_delays.append(d)
    typical = median(all_delays) if all_delays else 1.0

    def nominal(src: str, dst: str) -> float:
        ds = delays.get((src, dst))
        return median(ds) if ds else typical

    # which pairs fall in the window
    win_pairs = []
    for s, r in pairs:
        t0 = s["t"]
        t1 = r["t"]
        if r["ev"] == "drop" and t1 == t0:
            t1 = t0 + nominal(s["src"], s["dst"]) / 2
        if t1 < lo or t0 > hi:
            continue
        win_pairs.append((s, r))

    # ---- rows: per (process, time) a stack of events, in trace order
    slot_events: dict[float, dict[str, list[tuple[int, str, float]]]] = {}
    offsets: dict[tuple[int, str], float] = {}      # (trace index, role) -> offset within the time row

    def stack(t: float, proc: str, i: int, role: str, size: float) -> None:
        slot_events.setdefault(t, {}).setdefault(proc, []).append((i, role, size))

    send_points: set[int] = set()
    for s, r in win_pairs:
        if inwin(s["t"]):
            send_points.add(s["i"])
        if r["ev"] == "deliver" and inwin(r["t"]):
            stack(r["t"], r["dst"], r["i"], "deliver", SUB_DELIVER)
        elif r["ev"] == "drop" and r["t"] != s["t"] and inwin(r["t"]):
            stack(r["t"], r["dst"], r["i"], "deliver", SUB_DELIVER)
    exec_recs, mark_recs, part_recs = [], [], []
    for r in records:
        ev = r["ev"]
        if ev in ("send", "duplicate") and r["i"] in send_points:
            stack(r["t"], r["src"], r["i"], "send", SUB_SEND)
        elif ev == "execute" and r.get("src") in shown and inwin(r["t"]):
            stack(r["t"], r["src"], r["i"], "execute", BOX_H + 3)
            exec_recs.append(r)
        elif ev in ("crash", "recover") and r.get("src") in shown:
            if inwin(r["t"]):
                stack(r["t"], r["src"], r["i"], ev, SUB_MARK)
            mark_recs.append(r)
        elif ev == "timer" and timers and r.get("src") in shown and inwin(r["t"]):
            stack(r["t"], r["src"], r["i"], "timer", 5.0)
            mark_recs.append(r)
        elif ev in ("partition", "heal"):
            part_recs.append(r)
            if inwin(r["t"]):
                slot_events.setdefault(r["t"], {})
    heights: dict[float, float] = {}
    for t, per in slot_events.items():
        h = 0.0
        for proc, evs in per.items():
            off = 0.0
            prev_role = None
            for i, role, size in sorted(evs):
                if role == "send" and prev_role == "send":
                    off -= SUB_SEND * 0.45            # a burst of sends fans out from nearly one point
                offsets[(i, role)] = off
                off += size
                prev_role = role
            h = max(h, off)
        heights[t] = h
    if not heights and (t_from is not None or t_to is not None):
        span = [r["t"] for r in records if r["ev"] not in ("end", "verdict")]
        where = f" (the trace spans {min(span):g} to {max(span):g})" if span else ""
        raise DiagramError(f"nothing to draw between {lo:g} and {hi:g}{where}", "window")
    if t_from is not None:
        heights.setdefault(t_from, 0.0)
    axis = _TimeAxis(heights, TOP, linear)
    if not axis.times:
        if t_from is not None or t_to is not None:
            raise DiagramError("nothing to draw in this window", "window")
        raise DiagramError("the trace has no events to draw")
    top_y = TOP - 6.0
    body_bottom = axis.end + (axis.gap(t_to - axis.times[-1]) if t_to is not None and t_to > axis.times[-1] else 0.0)
    body_bottom += BOTTOM_PAD

    def clamp_y(y: float) -> float:
        return min(max(y, top_y), body_bottom)

    # ---- lanes
    all_labels = [r.get("label", "") for _, r in win_pairs]
    widest = max([text_width(l) for l in all_labels] + [0.0])
    spacing = max(MIN_SPACING, min(widest + 2 * PAD + 30.0, MAX_SPACING))
    lanes: dict[str, Lane] = {}
    for k, name in enumerate(order):
        kind = "client" if name in clients else "server"
        lanes[name] = Lane(name, kind, MARGIN_L + spacing / 2 + k * spacing)
    width = MARGIN_L + spacing * len(order) + MARGIN_R

    # alive segments: every process is up at the start; crashes end, recoveries restart
    alive_at_start = {p: True for p in order}
    for r in sorted(mark_recs, key=lambda r: r["i"]):
        if r["ev"] in ("crash", "recover") and r["t"] < lo:
            alive_at_start[r["src"]] = r["ev"] == "recover"
    for name, lane in lanes.items():
        if alive_at_start[name]:
            lane.segments.append([top_y, body_bottom])
    marks: list[Mark] = []
    for r in sorted(mark_recs, key=lambda r: r["i"]):
        if not inwin(r["t"]):
            continue
        lane = lanes[r["src"]]
        y = axis.at(r["t"], offsets.get((r["i"], r["ev"]), 0.0) + (SUB_MARK / 2 if r["ev"] != "timer" else 2.5))
        if r["ev"] == "crash":
            if lane.segments and lane.segments[-1][1] == body_bottom:
                lane.segments[-1][1] = y
            marks.append(Mark("crash", lane.name, lane.x, y, r["t"], r["i"], f"{lane.name} crashes"))
        elif r["ev"] == "recover":
            if not lane.segments or lane.segments[-1][1] != body_bottom:
                lane.segments.append([y, body_bottom])
            marks.append(Mark("recover", lane.name, lane.x, y, r["t"], r["i"], f"{lane.name} recovers"))
        else:
            marks.append(Mark("timer", lane.name, lane.x, y, r["t"], r["i"], str(r.get("timer", ""))))

    # ---- execution boxes
    boxes: list[Box] = []
    for r in exec_recs:
        lane = lanes[r["src"]]
        label = str(r.get("state", r.get("m", "")))
        y = axis.at(r["t"], offsets[(r["i"], "execute")])
        w = max(text_width(label) + 8.0, 22.0)
        boxes.append(Box(lane.name, lane.x, y, w, BOX_H, label, r["t"], r["i"], r["i"] in why, ", ".join(why.get(r["i"], []))))

    # ---- arrows
    arrows: list[Arrow] = []
    for s, r in win_pairs:
        a, b = lanes[s["src"]], lanes[s["dst"]]
        t0 = s["t"]
        lost = r["ev"] == "drop"
        at_send = lost and r["t"] == t0
        y0 = axis.at(t0, offsets.get((s["i"], "send"), 0.0)) if inwin(t0) else top_y
        x0, x1 = a.x, b.x
        if at_send:
            # half way along its last hop (so it never ends on a lane it passes over)
            t1 = t0 + nominal(s["src"], s["dst"])
            yfull = axis.y(t1)
            # (a little short of half way, so two messages lost in opposite directions do not share a cross)
            frac = 0.44
            if abs(b.x - a.x) > spacing * 1.5:
                frac = 1.0 - (spacing * 0.56) / abs(b.x - a.x)
            x1 = a.x + (b.x - a.x) * frac
            y1 = y0 + (yfull - y0) * frac
        else:
            t1 = r["t"]
            y1 = axis.at(t1, offsets.get((r["i"], "deliver"), 0.0)) if inwin(t1) else body_bottom
            if lost:      # reached a crashed process, or cut by a partition on the way: cross just before it
                frac = 1.0 - 14.0 / abs(b.x - a.x) if abs(b.x - a.x) > 28.0 else 0.5
                x1 = a.x + (b.x - a.x) * frac
                y1 = y0 + (y1 - y0) * frac
        if a is b:        # a message to itself: a short hook
            x1 = a.x
        arrows.append(Arrow(s["src"], s["dst"], x0, clamp_y(y0), x1, clamp_y(y1), str(r.get("label", r.get("type", "?"))),
                            str(r.get("type", "")), t0, t1, r["i"], lost=lost, reason=str(r.get("reason", "")),
                            dup=s["ev"] == "duplicate", warn=r["i"] in why and not lost,
                            clipped_start=not inwin(t0), clipped_end=not lost and not inwin(r["t"]),
                            head=not lost, midway=at_send))

    # ---- partitions
    bands: list[Band] = []
    open_part: Optional[dict] = None
    spans: list[tuple[dict, Optional[dict]]] = []
    for r in records:
        if r["ev"] == "partition":
            if open_part is not None:
                spans.append((open_part, r))
            open_part = r
        elif r["ev"] == "heal" and open_part is not None:
            spans.append((open_part, r))
            open_part = None
    if open_part is not None:
        spans.append((open_part, None))
    for p, h in spans:
        t0 = p["t"]
        t1 = None if h is None else h["t"]
        if (t1 is not None and t1 < lo) or t0 > hi:
            continue
        y0 = axis.at(t0, 0.0) if inwin(t0) else top_y
        y1 = axis.at(t1, 0.0) if t1 is not None and inwin(t1) else body_bottom
        groups = [[x for x in g] for g in p.get("groups", [])]
        text = "partition " + " | ".join(",".join(g) for g in groups)
        bands.append(Band(clamp_y(y0), clamp_y(max(y1, y0 + 4.0)), t0, t1, groups, text, p["i"]))

    # ---- ticks
    ticks: list[tuple[float, float]] = []
    last = -1e9
    for t, y in zip(axis.times, axis.base):
        if y - last >= 16.0:
            ticks.append((y, t))
            last = y

    # ---- caption
    outcome = verdict.get("outcome") if verdict else None
    caption: list[str] = [title] if title else []
    if verdict:
        vs = verdict.get("violations", [])
        loud = [v for v in vs if not v.get("latent")]
        quiet = [v for v in vs if v.get("latent")]
        caption.append(f"outcome {outcome}" + (f": {len(vs)} violation(s)" if vs else ""))
        for v in (loud + quiet)[:4]:
            tag = " (latent)" if v.get("latent") else ""
            caption.append(f"{v.get('invariant')}{tag}: {v.get('detail')}")
        if len(vs) > 4:
            caption.append(f"... and {len(vs) - 4} more")

    d = cls(width, 0.0, list(lanes.values()), arrows, boxes, marks, bands, [], ticks,
                [b for b in axis.breaks if top_y < b < body_bottom], title, outcome, caption, t_from, t_to, body_bottom)
    d.headers = [HEADER_Y] + [HEADER_Y + k * HEADER_EVERY for k in range(1, int((body_bottom - TOP) // HEADER_EVERY) + 1)
                              if HEADER_Y + k * HEADER_EVERY + HEADER_H < body_bottom - 40.0]
    place_labels(d)
    chars_per_line = max(40, int((d.width - 16) / text_width("x", FONT + 1)))
    wrapped: list[str] = []
    for line in caption:
        wrapped.extend(wrap(line, chars_per_line))
    d.caption = wrapped
    d.notes = caption
    d.height = body_bottom + 10.0 + CAPTION_LINE * len(wrapped) + (6.0 if wrapped else 0.0)

    # trace-ordered list of what is drawn, for the text renderer
    evs: list[tuple[float, int, str, Any]] = []
    for ar in arrows:
        evs.append((ar.t0 if ar.midway else ar.t1, ar.i, "arrow", ar))
    for bx in boxes:
        evs.append((bx.t, bx.i, "box", bx))
    for m in marks:
        evs.append((m.t, m.i, m.kind, m))
    for bd in bands:
        if inwin(bd.t0):
            evs.append((bd.t0, bd.i, "partition", bd))
    for r in part_recs:
        if r["ev"] == "heal" and inwin(r["t"]):
            evs.append((r["t"], r["i"], "heal", None))
    evs.sort(key=lambda e: (e[0], e[1]))
    d.events = evs
    return d


def wrap(line: str, n: int) -> list[str]:
    out: list[str] = []
    while len(line) > n:
        cut = line.rfind(" ", 0, n)
        if cut <= n // 3:
            cut = n
        out.append(line[:cut])
        line = "    " + line[cut:].lstrip()
    out.append(line)
    return out


# ---------------------------------------------------------- label placement ---

def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float], gap: float = 0.5) -> bool:
    return a[0] < b[2] + gap and b[0] < a[2] + gap and a[1] < b[3] + gap and b[1] < a[3] + gap


class _Index:
    """Rectangles bucketed by y, for fast overlap queries."""

    STEP = 40.0

    def __init__(self) -> None:
        self.buckets: dict[int, list[tuple[float, float, float, float]]] = {}

    def _keys(self, r) -> range:
        return range(int(r[1] // self.STEP) - 1, int(r[3] // self.STEP) + 2)

    def add(self, r) -> None:
        for k in self._keys(r):
            self.buckets.setdefault(k, []).append(r)

    def hits(self, r) -> bool:
        for k in self._keys(r):
            for o in self.buckets.get(k, ()):
                if _overlap(r, o):
                    return True
        return False


FRACTIONS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.22, 0.78, 0.15, 0.85)


def place_labels(d: Diagram) -> None:
    """Give every arrow (and partition band) a label box that overlaps no other label,
    no execution box and no lane header; prefer the middle of the arrow, then points
    further along it, then the same points shifted up or down."""
    idx = _Index()
    lane_x = sorted(l.x for l in d.lanes)
    for b in d.boxes:
        idx.add(b.rect)
    for a in d.arrows:              # the cross of a lost message
        if a.lost:
            idx.add((a.x1 - 5.0, a.y1 - 5.0, a.x1 + 5.0, a.y1 + 5.0))
    for m in d.marks:
        r = 7.0 if m.kind != "timer" else 3.0
        idx.add((m.x - r, m.y - r, m.x + r, m.y + r))
    for l in d.lanes:
        w = max(text_width(l.name, FONT + 1) + 10.0, 28.0)
        for hy in d.headers:
            idx.add((l.x - w / 2, hy, l.x + w / 2, hy + HEADER_H))
    labels: list[Label] = []
    h = LINE_H
    # partition bands first: at the top of the band, between two lanes where free
    for bd in d.bands:
        w = text_width(bd.label) + 2 * PAD
        xs = [lane_x[0] + w / 2 + 6.0] + [(a + b) / 2 for a, b in zip(lane_x, lane_x[1:])]
        placed = None
        for dy in (h / 2 + 2.0, h * 1.5 + 3.0, h * 2.5 + 4.0, -h / 2 - 2.0):
            for x in xs:
                x = min(max(x, w / 2 + 2.0), d.width - w / 2 - 2.0)
                lab = Label(bd.label, x, bd.y0 + dy, w, h, "band", ax=x, ay=bd.y0)
                if not idx.hits(lab.rect):
                    placed = lab
                    break
            if placed:
                break
        if placed is None:
            placed = _push(idx, Label(bd.label, xs[0], bd.y0 + h / 2 + 2.0, w, h, "band", ax=xs[0], ay=bd.y0))
        idx.add(placed.rect)
        labels.append(placed)
    # arrows: warned ones first (they matter most), then in time order
    order = sorted(range(len(d.arrows)), key=lambda k: (not d.arrows[k].warn, d.arrows[k].y0, d.arrows[k].i))
    for k in order:
        a = d.arrows[k]
        text = a.label + " dup" if a.dup else a.label
        w = text_width(text) + 2 * PAD
        placed = None
        # 1) on the arrow, between two lanes; 2) shifted a little, between two lanes;
        # 3) on the arrow, over a lane; 4) shifted further, anywhere free
        for strict, shifts in ((True, (0.0,)), (True, (0.75 * h, -0.75 * h)), (False, (0.0,)),
                               (False, (h, -h, 2 * h, -2 * h, 3 * h, -3 * h))):
            for dy in shifts:
                for f in FRACTIONS:
                    px = a.x0 + (a.x1 - a.x0) * f
                    py = a.y0 + (a.y1 - a.y0) * f
                    lab = Label(text, px, py + dy, w, h, "arrow", a.warn, px, py)
                    if idx.hits(lab.rect):
                        continue
                    if strict and any(lab.rect[0] - 2 < x < lab.rect[2] + 2 for x in lane_x):
                        continue
                    placed = lab
                    break
                if placed:
                    break
            if placed:
                break
        if placed is None:
            px, py = (a.x0 + a.x1) / 2, (a.y0 + a.y1) / 2
            placed = _push(idx, Label(text, px, py, w, h, "arrow", a.warn, px, py))
        idx.add(placed.rect)
        labels.append(placed)
    d.labels = labels


def _push(idx: _Index, lab: Label) -> Label:
    """Move a label down until it is free (always terminates: finitely many boxes)."""
    while idx.hits(lab.rect):
        lab.y += LINE_H / 2
    return lab
