"""Plain-text reports of runs: the outcome line, violations, a compact event list."""

from __future__ import annotations

from typing import Optional

from .sim.trace import Trace

SKIP = {"send", "timer", "end", "verdict"}  # the verdict is reported above the events


def event_lines(trace: Trace, limit: Optional[int] = 200, timers: bool = False) -> list[str]:
    """One line per interesting trace event: deliveries, drops, executions, faults."""
    out = []
    shown = 0
    total = 0
    for rec in trace.records():
        ev = rec["ev"]
        if ev in SKIP and not (timers and ev == "timer"):
            continue
        if ev in ("deliver", "drop", "duplicate") and rec.get("type") == "HB" and not timers:
            continue
        total += 1
        if limit is not None and shown >= limit:
            continue
        shown += 1
        t = f"{rec['t']:9.3f}"
        if ev == "deliver":
            line = f"{rec['src']:>3} -> {rec['dst']:<3} {rec['label']}"
        elif ev == "drop":
            line = f"{rec['src']:>3} -x {rec['dst']:<3} {rec['label']}  (lost: {rec['reason']})"
        elif ev == "duplicate":
            line = f"{rec['src']:>3} => {rec['dst']:<3} {rec['label']}  (duplicated)"
        elif ev == "execute":
            line = f"{rec['src']:>3} executes {rec['m']} -> {rec['state']}"
        elif ev == "invoke":
            again = f" (resend {rec['retry']})" if "retry" in rec else ""
            line = f"{rec['src']:>3} sends {rec['m']}{again}"
        elif ev in ("crash", "recover"):
            line = f"{rec['src']:>3} {'CRASHES' if ev == 'crash' else 'recovers'}"
        elif ev == "partition":
            line = "partition " + " | ".join(",".join(g) for g in rec["groups"])
        elif ev == "heal":
            line = "partition heals"
        elif ev == "log":
            info = rec.get("info")
            line = f"{rec['src']:>3} {rec['event']}" + ("" if info is None else f": {info}")
        elif ev == "timer":
            line = f"{rec['src']:>3} timer {rec['timer']}"
        else:
            line = ev
        out.append(f"{t}  {line}")
    if limit is not None and total > shown:
        out.append(f"      ...  {total - shown} more events (write them all with --trace FILE)")
    return out
