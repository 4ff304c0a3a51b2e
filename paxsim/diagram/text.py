"""Draw a :class:`~paxsim.diagram.model.Diagram` as plain text for the terminal.

One row per event in time order (a message is drawn at its delivery, a lost one at
its send, ending in ``x`` half way), one column per process::

        t   C1          S1          S2          C2
    1.000    |----m1----->|            |            |
             |          [s^1]          |            |

``|`` a process that is up, nothing below a crash ``X`` until it recovers ``+``;
``[s^12]`` an execution; ``=`` and ``!!`` a reply that breaks safety; ``~`` rows
while a partition lasts. The checker's verdict ends the drawing.
"""

from __future__ import annotations

from typing import Union

from .model import TOP, Arrow, Diagram, wrap
from .overview import COLS, Overview

TIME_W = 9


def render(d: Union[Diagram, Overview], *, max_width: int = 26) -> str:
    if isinstance(d, Overview):
        return render_overview(d)
    lanes = d.lanes
    longest = max([len(a.label) + (4 if a.dup else 0) for a in d.arrows] +
                  [len(b.label) + 2 for b in d.boxes] + [len(l.name) for l in lanes] + [4])
    sp = max(10, min(longest + 6, max_width))
    col = {l.name: TIME_W + 2 + k * sp + sp // 2 for k, l in enumerate(lanes)}
    xs = {l.name: l.x for l in lanes}
    widest_box = max([len(b.label) + 2 for b in d.boxes] + [0])
    width = TIME_W + 2 + sp * len(lanes) + max(0, widest_box // 2 - sp // 2 + 1)   # a box on the last lane fits whole
    alive = {l.name: bool(l.segments) and l.segments[0][0] <= TOP for l in lanes}
    parted = any(b.y0 <= TOP for b in d.bands)

    out: list[str] = []
    head = [" "] * width
    _put(head, TIME_W - 1, "t")
    for l in lanes:
        _put(head, col[l.name] - len(l.name) // 2, l.name)
    out.append("".join(head).rstrip())

    def base() -> list[str]:
        row = [" "] * width
        if parted:
            row[TIME_W] = "~"
        for name, c in col.items():
            if alive[name]:
                row[c] = "|"
        return row

    last_t = None
    for t, i, kind, obj in d.events:
        row = base()
        note = ""
        if kind == "arrow":
            note = _arrow(row, obj, col, xs)
        elif kind == "box":
            s = f"[{obj.label}]"
            _put(row, max(TIME_W + 1, col[obj.lane] - len(s) // 2), s)     # whole, clear of the time column
            if obj.warn:
                note = f"!! {obj.lane} executed {obj.label} ({obj.why})"
        elif kind == "crash":
            row[col[obj.lane]] = "X"
            alive[obj.lane] = False
            note = f"{obj.lane} crashes"
        elif kind == "recover":
            row[col[obj.lane]] = "+"
            alive[obj.lane] = True
            note = f"{obj.lane} recovers"
        elif kind == "timer":
            row[col[obj.lane]] = "o"
            note = f"{obj.lane} timer {obj.label}"
        elif kind == "partition":
            parted = True
            row = _banner(width, f" {obj.label} ")
        elif kind == "heal":
            parted = False
            row = _banner(width, " partition heals ")
        stamp = f"{t:{TIME_W - 1}.3f}" if t != last_t else " " * (TIME_W - 1)
        last_t = t
        line = stamp + "".join(row[TIME_W - 1:]).rstrip()
        if note:
            line = line.ljust(width) + "  " + note
        out.append(line.rstrip())
    if d.notes:
        out.append("")
        for line in d.notes:
            out.extend(wrap(line, max(60, min(width + 20, 100))))
    return "\n".join(out) + "\n"


def _put(row: list[str], start: int, s: str) -> None:
    for k, ch in enumerate(s):
        if 0 <= start + k < len(row):
            row[start + k] = ch


def _banner(width: int, text: str) -> list[str]:
    row = [" "] * (TIME_W) + ["~"] * (width - TIME_W)
    mid = TIME_W + (width - TIME_W) // 2 - len(text) // 2
    _put(row, max(TIME_W + 2, mid), text)
    return row


def _arrow(row: list[str], a: Arrow, col: dict[str, int], xs: dict[str, float]) -> str:
    c0, c1 = col[a.src], col[a.dst]
    label = a.label + (" dup" if a.dup else "")
    shaft = "=" if a.warn else "-"
    notes = []
    if c0 == c1:
        _put(row, c0 + 1, "<-'" + " " + label)
        return ""
    step = 1 if c1 > c0 else -1
    if a.lost and a.midway:      # where the drawing puts the cross, in columns
        x_src, x_dst = xs[a.src], xs[a.dst]
        frac = (a.x1 - x_src) / (x_dst - x_src) if x_dst != x_src else 0.5
        end = c0 + int(round(frac * (c1 - c0)))
        if end in col.values() and end != c0:
            end -= step
    elif a.lost:
        end = c1 - step * 2
    else:
        end = c1
    lo, hi = (c0 + 1, end - 1) if step > 0 else (end + 1, c0 - 1)
    for c in range(lo, hi + 1):
        row[c] = shaft
    if a.lost:
        row[end] = "x"
        notes.append(f"lost: {a.reason}" if a.reason else "lost")
    elif step > 0:
        row[end - 1] = ">"
    else:
        row[end + 1] = "<"
    span = hi - lo + 1 - (0 if a.lost else 1)
    if len(label) + 2 <= span:
        start = (lo if step > 0 else lo + 1) + (span - len(label)) // 2
        _put(row, start, label)
    else:
        notes.insert(0, f"{a.src}->{a.dst} {label}")
    if a.clipped_start:
        notes.append(f"sent at {a.t0:.3f}, before the window")
    if a.clipped_end:
        notes.append(f"sent at {a.t0:.3f}, arrives after the window")
    if a.warn:
        notes.append("!! conflicting reply")
    return ", ".join(notes)


def render_overview(o: Overview) -> str:
    """The overview as a table: one line per request, its timing and final state(s)."""
    widths = [max(chars, len(name) + 1) for name, chars in COLS]
    head = "".join(name.ljust(w) for (name, _), w in zip(COLS, widths)) + "invoked  answered  replies"
    out = [head]
    for rw in o.rows:
        cells = "".join(c.ljust(w) for c, w in zip(rw.cells(len(o.servers)), widths))
        states = sorted({st for *_, st, _ in rw.replies})
        inv = "-" if rw.invoked is None else f"{rw.invoked:.3f}"
        ans = "-" if rw.answered is None else f"{rw.answered:.3f}"
        line = f"{cells}{inv:>7}  {ans:>8}  {' != '.join(states) or '-'}"
        out.append(line + ("  !!" if rw.warn else ""))
    out.append("")
    for t, proc, kind in o.crashes:
        out.append(f"{t:9.3f}  {proc} {'crashes' if kind == 'crash' else 'recovers'}")
    for t0, t1, label in o.partitions:
        out.append(f"{t0:9.3f}  partition {label}" + ("" if t1 is None else f" until {t1:.3f}"))
    out.append("")
    for line in o.notes:
        out.extend(wrap(line, 100))
    return "\n".join(out) + "\n"
