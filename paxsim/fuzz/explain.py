"""A counterexample told in the tutorial's terms.

:func:`describe_schedule` says what the schedule does (who sends what when, which
message is lost, who crashes, how the network splits); :func:`explain` adds what
happened in the replay (deliveries, losses, crashes, executions, replies) and
which replies conflict, from the checker's verdict.
"""

from __future__ import annotations

from typing import Any

from ..driver import RunResult
from ..report import event_lines
from ..scenario import FaultSpec, Scenario


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _num(x: float) -> str:
    return f"{x:g}"


def _delay(spec: dict[str, Any]) -> str:
    dist = spec.get("dist", "constant")
    if dist == "constant":
        return f"takes {_num(spec['value'])}"
    if dist == "uniform":
        return f"takes between {_num(spec['low'])} and {_num(spec['high'])}"
    return f"takes {_num(spec.get('min', 0.0))} + exponential(mean {_num(spec['mean'])})"


def _message(match: dict[str, Any], nth: int, chained: bool = False) -> str:
    kind = match.get("type", "message")
    parts = [f"the {ordinal(nth)} {kind}"]
    if chained:
        parts.append("since the fault above fired")
    if match.get("request"):
        parts.append(f"for {match['request']}")
    if match.get("from"):
        parts.append(f"from {match['from']}")
    if match.get("to"):
        parts.append(f"to {match['to']}")
    return " ".join(parts)


def _back(lasting, verb: str) -> str:
    return f", and {verb} {_num(lasting)} later" if lasting is not None else ""


def _rejoins(f: FaultSpec) -> str:
    if f.until_sends is None:
        return _back(f.lasting, "is reconnected")
    if f.lasting is None:
        return f", and is reconnected right before it next sends a {f.until_sends}"
    return f", and is reconnected right before the first {f.until_sends} it sends {_num(f.lasting)} or more later"


def describe_fault(f: FaultSpec) -> str:
    m = f.match or {}
    if f.kind == "drop":
        return f"{_message(m, f.nth, f.chained)} is lost"
    if f.kind == "delay":
        return f"{_message(m, f.nth, f.chained)} is held back by {_num(f.by)}"
    lasting = f.lasting
    if f.kind == "crash_after_send":
        who = m.get("from", "whoever sends it")
        return f"{who} crashes right after sending {_message(m, f.nth, f.chained)}" + _back(lasting, "recovers")
    if f.kind == "crash_after_receive":
        who = m.get("to", "whoever handles it")
        return f"{who} crashes right after handling {_message(m, f.nth, f.chained)}" + _back(lasting, "recovers")
    if f.kind == "isolate_after_send":
        who = m.get("from", "whoever sends it")
        return f"{who} is cut off from the other servers right after sending {_message(m, f.nth, f.chained)}" + _rejoins(f)
    if f.kind == "isolate_after_receive":
        who = m.get("to", "whoever handles it")
        return f"{who} is cut off from the other servers right after handling {_message(m, f.nth, f.chained)}" + _rejoins(f)
    if f.kind == "crash":
        return f"{f.target} crashes at t={_num(f.at)}"
    if f.kind == "recover":
        return f"{f.target} recovers at t={_num(f.at)} (if it is down)"
    if f.kind == "partition":
        sides = " | ".join("{" + ", ".join(g) + "}" for g in f.groups)
        heal = f", healing at t={_num(f.until)}" if f.until is not None else ", never healing"
        return f"at t={_num(f.at)} the network splits into {sides}{heal}"
    if f.kind == "heal":
        return f"every partition heals at t={_num(f.at)}"
    return f.kind


def describe_schedule(sc: Scenario) -> list[str]:
    """The schedule in words, one line per item."""
    out = []
    for c in sc.clients:
        reqs = ", ".join(f"{r.id} at t={_num(r.at)}" for r in c.requests)
        to = f" (first to {c.servers[0]})" if c.servers else ""
        resend = f", resends after {_num(c.retry)}" if c.retry else ", never resends"
        out.append(f"{c.name} sends {reqs}{to}{resend}")
    net = sc.network
    line = f"every link {_delay(net.delay)}"
    if net.loss:
        line += f", loses {net.loss:.0%} of messages"
    if net.duplicate:
        line += f", duplicates {net.duplicate:.0%}"
    if not net.fifo:
        line += ", may reorder"
    out.append(line)
    for l in net.links:
        ends = f"{'/'.join(l.src) or 'any'} -> {'/'.join(l.dst) or 'any'}"
        bits = []
        if l.delay is not None:
            bits.append(_delay(l.delay))
        if l.loss:
            bits.append(f"loses {l.loss:.0%}")
        if l.duplicate:
            bits.append(f"duplicates {l.duplicate:.0%}")
        out.append(f"link {ends} " + ", ".join(bits))
    for f in sc.faults:
        out.append(describe_fault(f))
    return out


def lost_messages(r: RunResult) -> list[str]:
    """Every message lost in the replay (heartbeats left out), with the reason."""
    out = []
    if r.trace is None:
        return out
    for rec in r.trace.records():
        if rec["ev"] == "drop" and rec.get("type") != "HB":
            out.append(f"t={rec['t']:g}: {rec['label']} from {rec['src']} to {rec['dst']} ({rec['reason']})")
    return out


def explain(r: RunResult, events: int = 40) -> list[str]:
    """The counterexample in the tutorial's terms: the schedule, what happened, and
    why the checker calls it UNSAFE or STUCK. ``r`` must be a replay with a trace."""
    sc = r.scenario
    out = [f"{sc.protocol} with {len(sc.servers)} servers ({', '.join(sc.servers)}) and clients "
           f"{', '.join(c.name for c in sc.clients)}: {r.outcome}"]
    out.append("The schedule:")
    out += ["  - " + x for x in describe_schedule(sc)]
    bad: list[tuple[float, str]] = []
    if r.trace is not None:
        for rec in r.trace.records():
            if rec["ev"] == "drop" and rec.get("type") != "HB":
                bad.append((rec["t"], f"t={rec['t']:g}: {rec['label']} from {rec['src']} to {rec['dst']}"
                                      f" ({rec['reason']})"))
            elif rec["ev"] in ("crash", "recover"):
                bad.append((rec["t"], f"t={rec['t']:g}: {rec['src']} {rec['ev'].replace('crash', 'crashe')}s"))
    if bad:
        out.append("What was lost, who crashed:")
        out += ["  - " + x for _t, x in bad]
    if r.trace is not None and events:
        out.append("What happened (heartbeats left out):")
        out += ["  " + x for x in event_lines(r.trace, limit=events)]
    out.append("Why this is " + r.outcome + ":")
    for v in r.verdict.violations:
        tag = " (latent: no client saw it)" if v.latent else ""
        out.append(f"  ! {v.invariant}{tag}: {v.detail}")
    return out


__all__ = ["describe_fault", "describe_schedule", "explain", "lost_messages", "ordinal"]
