"""Draw a :class:`~paxsim.diagram.model.Diagram` with matplotlib: SVG, PNG, PDF.

Uses the Agg canvas on a bare :class:`matplotlib.figure.Figure` (never pyplot, never
a display). One data unit is one point, so the layout's label boxes are the drawn
ones. SVG keeps its text as text (searchable, selectable) and carries no date or
random ids, so the same diagram gives the same bytes. Files are written to a
temporary file in the target folder and renamed: never half-written.
"""

from __future__ import annotations

import io
import os
from typing import Any, Optional

from .files import write_atomic
from .model import FONT, HEADER_H, HEADER_Y, Diagram, text_width
from .overview import COLS, ROW_H, Overview, short_state

FORMATS = ("svg", "png", "pdf")

INK = "#222222"
LANE = "#555555"
ARROW = "#1f4e79"
REQ = "#2f6f3e"
REPLY = "#6b3fa0"
LOST = "#c0392b"
WARNC = "#d62728"
BOX_FC = "#fff6d5"
BAND = "#8fa8c8"
COLORS = {"REQ": REQ, "REPLY": REPLY}

_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "paxsim",
    "font.family": "monospace",
    "font.monospace": ["DejaVu Sans Mono"],
    "pdf.fonttype": 42,
    "path.simplify": False,
}
MAX_PIXELS = 30000      # per side, for PNG


def figure(d: Diagram):
    """A matplotlib Figure (Agg canvas) with the diagram drawn on it."""
    import matplotlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, Rectangle

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(d.width / 72.0, d.height / 72.0), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, d.width)
        ax.set_ylim(d.height, 0)
        ax.set_axis_off()
        txt = dict(fontsize=FONT, family="monospace")

        # partition bands (behind everything)
        for k, b in enumerate(d.bands):
            ax.add_artist(Rectangle((4, b.y0), d.width - 8, b.y1 - b.y0, fc=BAND, ec="none", alpha=0.22,
                                   zorder=0, gid=f"partition-{k}"))
        # time axis
        for y, t in d.ticks:
            ax.text(40, y, f"{t:.2f}".rstrip("0").rstrip("."), ha="right", va="center", fontsize=FONT - 1.5,
                    color="#888888")
        ax.text(40, HEADER_Y + HEADER_H / 2, "t", ha="right", va="center", fontsize=FONT - 1, color="#888888")
        for y in d.breaks:
            ax.text(30, y, "≈", ha="center", va="center", fontsize=FONT + 2, color="#888888")
        # lanes
        for lane in d.lanes:
            w = max(text_width(lane.name, FONT + 1) + 10.0, 28.0)
            fc = "#e8eef6" if lane.kind == "server" else "#eef6e8"
            for k, hy in enumerate(d.headers):     # repeated down a tall picture
                ax.add_artist(Rectangle((lane.x - w / 2, hy), w, HEADER_H, fc=fc, ec=LANE, lw=0.8, zorder=3))
                ax.text(lane.x, hy + HEADER_H / 2, lane.name, ha="center", va="center", fontsize=FONT + 1,
                        weight="bold", color=INK, zorder=4, gid=f"lane-{lane.name}" + (f"-{k}" if k else ""))
            for y0, y1 in lane.segments:
                ax.plot([lane.x, lane.x], [y0, y1], color=LANE, lw=1.0, zorder=1, solid_capstyle="butt")
        # arrows
        for a in d.arrows:
            color = WARNC if a.warn else (LOST if a.lost else COLORS.get(a.type, ARROW))
            style = "-|>" if a.head else "-"
            ls = (0, (3, 2)) if (a.dup or a.clipped_start or a.clipped_end) else "-"
            lw = 1.6 if a.warn else 0.9
            if a.x0 == a.x1 and a.y0 == a.y1:
                continue
            p = FancyArrowPatch((a.x0, a.y0), (a.x1, a.y1), arrowstyle=style, mutation_scale=7, color=color,
                                lw=lw, linestyle=ls, shrinkA=0, shrinkB=0, zorder=2,
                                gid=f"msg-{a.i}" + ("-warn" if a.warn else ""))
            ax.add_artist(p)
            if a.lost:
                ax.plot([a.x1], [a.y1], marker="x", ms=7, mew=1.8, color=LOST, zorder=5, gid=f"lost-{a.i}")
        # execution boxes
        for b in d.boxes:
            x0, y0, x1, y1 = b.rect
            ax.add_artist(Rectangle((x0, y0), x1 - x0, y1 - y0, fc="#ffe0d6" if b.warn else BOX_FC,
                                   ec=WARNC if b.warn else INK, lw=1.2 if b.warn else 0.8, zorder=6,
                                   gid=f"exec-{b.i}"))
            ax.text(b.x, y0 + (y1 - y0) / 2, b.label, ha="center", va="center", zorder=7, color=INK, **txt)
        # crashes, recoveries, timers
        for m in d.marks:
            if m.kind == "crash":
                ax.plot([m.x], [m.y], marker="X", ms=10, color=LOST, mec="white", mew=0.5, zorder=8,
                        gid=f"crash-{m.i}")
            elif m.kind == "recover":
                ax.plot([m.x - 7, m.x + 7], [m.y, m.y], color=REQ, lw=2.0, zorder=8, gid=f"recover-{m.i}")
            else:
                ax.plot([m.x], [m.y], marker="o", ms=3, mfc="white", mec="#888888", mew=0.8, zorder=8,
                        gid=f"timer-{m.i}")
        # labels
        for k, l in enumerate(d.labels):
            color = WARNC if l.warn else ("#34495e" if l.owner == "band" else INK)
            ax.text(l.x, l.y, l.text, ha="center", va="center", color=color, zorder=9,
                    weight="bold" if l.warn else "normal",
                    bbox=dict(boxstyle="square,pad=0.12", fc="white" if l.owner != "band" else "#eef2f8",
                              ec="none", alpha=0.92),
                    gid=f"label-{k}", **txt)
        # caption
        y = d.body_bottom + 10.0
        warn = bold = False
        for k, line in enumerate(d.caption):
            if not line.startswith("    "):       # not a continuation of a wrapped line
                bold = line.startswith("outcome ")
                warn = not bold and d.outcome in ("UNSAFE", "STUCK") and "(latent)" not in line and k > 0 \
                    and not (d.title and line == d.title)
            ax.text(6, y, line, ha="left", va="top", fontsize=FONT + 0.5,
                    color=WARNC if warn else INK, weight="bold" if bold else "normal", gid=f"caption-{k}")
            y += 12.0
    return fig


def overview_figure(o: Overview):
    """A matplotlib Figure of an :class:`~paxsim.diagram.overview.Overview`: one row per request."""
    import matplotlib

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(o.width / 72.0, o.height / 72.0), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, o.width)
        ax.set_ylim(o.height, 0)
        ax.set_axis_off()
        txt = dict(fontsize=FONT, family="monospace", va="center")
        x_end = o.x(o.t1)
        for k, (t0, t1, label) in enumerate(o.partitions):
            x1 = o.x(o.t1 if t1 is None else t1)
            ax.add_artist(Rectangle((o.x(t0), o.headers[0]), x1 - o.x(t0), o.body_bottom - o.headers[0], fc=BAND,
                                    ec="none", alpha=0.22, zorder=0, gid=f"partition-{k}"))
            ax.text(o.x(t0) + 2, o.body_bottom - 2, "partition " + label, fontsize=FONT - 1.5, color="#34495e",
                    va="bottom", ha="left", zorder=1)
        for k, (t, proc, kind) in enumerate(o.crashes):
            color = LOST if kind == "crash" else REQ
            ax.plot([o.x(t)] * 2, [o.headers[0] + 28, o.body_bottom], color=color, lw=0.8,
                    ls=(0, (2, 2)), zorder=1, gid=f"{kind}-{k}")
            ax.text(o.x(t), o.body_bottom + 1, f"{proc} {'X' if kind == 'crash' else '+'}", fontsize=FONT - 1.5,
                    color=color, ha="center", va="top")
        step = _tick_step(o.t1 - o.t0)
        for hy in o.headers:                       # column titles and the time axis, repeated down the page
            for (name, _), cx in zip(COLS, o.col_x):
                ax.text(cx, hy + 12, name, weight="bold", color=INK, **txt)
            ax.plot([o.x0, x_end], [hy + 24, hy + 24], color=LANE, lw=0.6)
            t = step * int(o.t0 // step)
            while t <= o.t1 + 1e-9:
                if t >= o.t0:
                    ax.plot([o.x(t)] * 2, [hy + 22, hy + 26], color=LANE, lw=0.6)
                    ax.text(o.x(t), hy + 12, f"{t:g}", ha="center", fontsize=FONT - 1.5, color="#888888",
                            va="center")
                t += step
        srv_rank = {s: k for k, s in enumerate(o.servers)}
        for k, rw in enumerate(o.rows):
            y = rw.y + ROW_H / 2
            if k % 2:
                ax.add_artist(Rectangle((4, rw.y), o.width - 8, ROW_H, fc="#f4f4f4", ec="none", zorder=0))
            for cell, cx in zip(rw.cells(len(o.servers)), o.col_x):
                ax.text(cx, y, cell, color=WARNC if rw.warn and cx == o.col_x[0] else INK, **txt)
            start = rw.invoked if rw.invoked is not None else (rw.executions[0][0] if rw.executions else None)
            if start is not None:
                end = rw.answered if rw.answered is not None else o.t1
                ax.plot([o.x(start), o.x(end)], [y, y], color=REQ if rw.answered is not None else LOST,
                        lw=2.2, alpha=0.5, solid_capstyle="butt", zorder=2, gid=f"req-{rw.m}")
            for t, srv, _ in rw.executions:        # a tick per execution, offset by the server's rank
                dy = (srv_rank.get(srv, 0) - (len(o.servers) - 1) / 2) * (ROW_H - 4) / max(len(o.servers), 1)
                ax.plot([o.x(t)], [y + dy], marker="|", ms=4, mew=1.0, color=ARROW, zorder=3)
            for t, srv, state, warn in rw.replies:
                ax.plot([o.x(t)], [y], marker="o", ms=3.5 if warn else 2.5, color=WARNC if warn else REPLY,
                        zorder=4)
            last = rw.replies[-1][2] if rw.replies else (rw.executions[-1][2] if rw.executions else "")
            states = sorted({short_state(st) for *_, st, _ in rw.replies})
            note = ("replies " + " ≠ ".join(states)) if len(states) > 1 else short_state(last)
            ax.text(x_end + 6, y, note, color=WARNC if rw.warn else "#555555", fontsize=FONT - 1, va="center",
                    family="monospace")
        y = o.body_bottom + 10.0
        for k, line in enumerate(o.caption):
            ax.text(6, y, line, ha="left", va="top", fontsize=FONT + 0.5, color=INK,
                    weight="bold" if line.startswith("outcome ") else "normal", gid=f"caption-{k}")
            y += 12.0
    return fig


def _tick_step(span: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if span / step <= 12:
            return float(step)
    return 10000.0


def _save(d: Any, fh: Any, fmt: str, dpi: Optional[float] = None) -> None:
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    fig = overview_figure(d) if isinstance(d, Overview) else figure(d)
    meta: dict[str, Any] = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None},
                            "png": {"Software": None}}[fmt]
    if dpi is None:
        dpi = 144.0 if fmt == "png" else 72.0
    if fmt == "png":
        side = max(d.width, d.height) / 72.0
        dpi = min(dpi, MAX_PIXELS / side)
    with matplotlib.rc_context(_RC):
        fig.savefig(fh, format=fmt, dpi=dpi, metadata=meta)


def svg_string(d: Diagram) -> str:
    buf = io.BytesIO()
    _save(d, buf, "svg")
    return buf.getvalue().decode("utf-8")


def to_bytes(d: Diagram, fmt: str, dpi: Optional[float] = None) -> bytes:
    buf = io.BytesIO()
    _save(d, buf, fmt, dpi)
    return buf.getvalue()


def save(d: Diagram, path: str, fmt: Optional[str] = None, dpi: Optional[float] = None) -> None:
    """Write the diagram to ``path`` (format from ``fmt`` or the file's suffix),
    through a temporary file in the same folder that is renamed when complete."""
    if fmt is None:
        fmt = os.path.splitext(path)[1].lstrip(".").lower()
    write_atomic(path, to_bytes(d, fmt, dpi))
