"""``paxsim draw TRACE.jsonl``: the message sequence diagram of a recorded run."""

from __future__ import annotations

import json
import math
import os
from typing import Any, Optional

from ..cli import UsageError
from ..limits import printable, show, shown_path

OUTPUTS = (("svg", "SVG"), ("png", "PNG"), ("pdf", "PDF"))
FILES = OUTPUTS + (("html", "HTML"),)


def add_options(p, *, text_flag: str = "--text") -> None:
    """The drawing options shared by ``paxsim draw`` and ``paxsim run``."""
    g = p.add_argument_group("diagram")
    for fmt, name in OUTPUTS:
        g.add_argument(f"--{fmt}", metavar="FILE", help=f"write the message sequence diagram as {name}")
    g.add_argument(text_flag, dest="diagram_text", action="store_true",
                   help="print the message sequence diagram as text")
    g.add_argument("--from", dest="t_from", type=float, metavar="T", help="draw from time T on")
    g.add_argument("--to", dest="t_to", type=float, metavar="T", help="draw up to time T")
    g.add_argument("--only", metavar="P,Q,...", help="draw only these processes (e.g. S1,S2,C1)")
    g.add_argument("--heartbeats", action="store_true", help="draw heartbeat (HB) messages too")
    g.add_argument("--timers", action="store_true", help="mark timer expiries")
    g.add_argument("--full", action="store_true",
                   help="draw every message even when the run is big (by default a run with more than "
                        "300 messages to draw gets an overview: one row per request)")
    g.add_argument("--linear", action="store_true",
                   help="a linear time axis (default: idle stretches are compressed)")
    g.add_argument("--html", metavar="FILE",
                   help="write the interactive view: one self-contained HTML file to open in a browser")


def add_parser(sub) -> None:
    p = sub.add_parser("draw", help="draw a run's trace as a message sequence diagram (SVG, PNG, PDF, text)",
                       description="Draw the trace written by `paxsim run --trace FILE` as a message sequence "
                                   "diagram like the tutorial's figures: one timeline per process, arrows for "
                                   "messages, crosses for lost messages and crashes, boxes for executions, "
                                   "shaded partitions, conflicting replies in red. Without an output option, "
                                   "prints the text rendering.")
    p.add_argument("trace", metavar="TRACE", help="a JSON Lines trace (paxsim run SCENARIO --trace TRACE)")
    add_options(p)
    p.set_defaults(func=main)


def wanted(args) -> list[tuple[str, str]]:
    """(format, path) for every file output asked for."""
    return [(fmt, getattr(args, fmt)) for fmt, _ in OUTPUTS if getattr(args, fmt, None)]


def check_options(args, known: Optional[list[str]] = None) -> None:
    """Refuse bad drawing options before anything runs or is written (``known``: the
    processes that exist, to check --only against)."""
    from ..outputs import check_output

    for fmt, path in wanted(args) + [("html", getattr(args, "html", None))]:
        check_output(f"--{fmt}", path)
    for flag, v in (("--from", args.t_from), ("--to", args.t_to)):
        if v is not None and not math.isfinite(v):
            raise UsageError(f"{flag}: must be a finite number, not {v}")
    if args.t_from is not None and args.t_to is not None and args.t_from > args.t_to:
        raise UsageError(f"--from {args.t_from:g} is after --to {args.t_to:g}")
    if args.only is not None:
        names = [p.strip() for p in args.only.split(",") if p.strip()]
        if not names:
            raise UsageError("--only: name at least one process, like S1,S2,C1")
        unknown = [p for p in names if known is not None and p not in known]
        if unknown:
            raise UsageError(f"--only: unknown process {', '.join(unknown)} (known: {', '.join(known or [])})")


class TraceRecords(list):
    """The records of a trace file, with the file's ``path`` and each record's ``lines`` number."""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.lines: list[int] = []


def render(source: Any, args, title: str = "", *, print_text: Optional[bool] = None) -> None:
    """Build the diagram of ``source`` with the options in ``args``; write the files asked
    for and print the text rendering if asked (or if ``print_text``)."""
    from ..diagram import DiagramError, as_text, layout, save

    only = None if args.only is None else args.only.split(",")
    opts = dict(full=args.full, only=only, t_from=args.t_from, t_to=args.t_to, heartbeats=args.heartbeats,
                timers=args.timers, linear=args.linear)
    try:
        d = layout(source, title=title, **opts)
    except DiagramError as exc:
        if exc.option is None and isinstance(source, TraceRecords):
            n = _first_bad(source, layout, DiagramError, opts, str(exc))
            raise UsageError(f"{printable(source.path)}: line {source.lines[n]}: {exc}") from None
        flag = {"only": "--only", "window": "--from/--to"}.get(exc.option or "", "diagram")
        raise UsageError(f"{flag}: {exc}") from None
    for fmt, path in wanted(args):
        save(d, path, fmt)
    if args.diagram_text if print_text is None else print_text:
        print(as_text(d), end="")


def _first_bad(records: list, build, error, opts: dict, message: str) -> int:
    """The index of the first record whose prefix fails to draw with ``message`` (a
    prefix of a good trace is a good trace): a binary search, a few builds."""
    lo, hi = 0, len(records) - 1  # records[:hi + 1] fails
    while lo < hi:
        mid = (lo + hi) // 2
        try:
            build(records[:mid + 1], **opts)
        except error as exc:
            if str(exc) == message:
                hi = mid
                continue
        lo = mid + 1
    return hi


def _record_problem(rec: Any) -> Optional[str]:
    if not isinstance(rec, dict) or "ev" not in rec or "t" not in rec:
        return "not a trace record (needs \"ev\" and \"t\")"
    t = rec["t"]
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t):
        return f"\"t\" must be a finite number, not {show(t)}"
    if not isinstance(rec["ev"], str):
        return f"\"ev\" must be a string, not {show(rec['ev'])}"
    for k in ("src", "dst", "type", "label"):
        if k in rec and not isinstance(rec[k], str):
            return f"\"{k}\" must be a string, not {show(rec[k])}"
    return None


def write_html(source: Any, args, *, title: str = "", scenario: Any = None) -> None:
    """Write the interactive view asked for with ``--html FILE`` (if any)."""
    if getattr(args, "html", None):
        from ..diagram.html import write_view

        only = None if args.only is None else [p.strip() for p in args.only.split(",") if p.strip()]
        write_view(source, args.html, title=title, scenario=scenario, heartbeats=args.heartbeats,
                   t_from=args.t_from, t_to=args.t_to, only=only)
        size = os.path.getsize(args.html)
        if size > 20_000_000:
            print(f"(the view {args.html} is {size / 1e6:.0f} MB: --from/--to keep a time window)")


def read_records(path: str) -> TraceRecords:
    shown = shown_path(path)
    if not path:
        raise UsageError(f"{shown}: an empty file name (give a trace written by `paxsim run SCENARIO --trace FILE`)")
    try:
        fh = open(path, encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{shown}: no such trace file") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{shown}: cannot read: {printable(getattr(exc, 'strerror', None) or str(exc))}") from None
    out = TraceRecords(path)
    with fh:
        try:
            for n, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise UsageError(f"{shown}: line {n}: not JSON ({exc.msg}); expected a trace written by "
                                     "`paxsim run SCENARIO --trace FILE`") from None
                except (ValueError, RecursionError) as exc:  # a number too long, nesting too deep
                    why = "nested too deep" if isinstance(exc, RecursionError) else printable(str(exc))[:100]
                    raise UsageError(f"{shown}: line {n}: not a trace record ({why})") from None
                problem = _record_problem(rec)
                if problem:
                    raise UsageError(f"{shown}: line {n}: {problem}")
                rec.setdefault("i", len(out))
                out.append(rec)
                out.lines.append(n)
        except UnicodeDecodeError:
            raise UsageError(f"{shown}: not a text file") from None
        except MemoryError:
            raise UsageError(f"{shown}: cannot read: out of memory") from None
    if not out:
        raise UsageError(f"{shown}: the trace is empty")
    return out


def main(args) -> int:
    check_options(args)
    records = read_records(args.trace)
    title = os.path.basename(args.trace)
    if wanted(args) or args.diagram_text or not args.html:
        render(records, args, title, print_text=args.diagram_text or not wanted(args))
    write_html(records, args, title=title)
    return 0
