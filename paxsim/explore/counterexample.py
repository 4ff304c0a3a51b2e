"""A path the explorer found, as a scenario the simulator replays, and as a story.

The scenario keeps every client's requests due at time 0 (the explorer's clients)
and lists the path as its ``[[schedule]]`` (:mod:`paxsim.interleaving`): each
delivery, loss, duplicate, timer, crash and recovery in the order found.
"""

from __future__ import annotations

from typing import Any

from ..interleaving import Step, message_key
from ..types import ClientReply, ClientRequest
from .model import Action, Setup


def steps(path: list[Action]) -> list[Step]:
    out = []
    for a in path:
        if a.kind in ("hold", "start", "heal"):
            continue  # a replay holds every message until a step names it; clients' servers say the start
        if a.msg is not None:  # a message that a cut loses is a drop
            kind = "drop" if a.kind == "cut" else a.kind
            out.append(Step(a.time, kind, src=a.src, dst=a.dst, msg=message_key(a.msg)))
        elif a.kind == "timer":
            out.append(Step(a.time, "timer", process=a.process, timer=a.timer))
        else:
            out.append(Step(a.time, a.kind, process=a.process))
    return out


def scenario_dict(setup: Setup, path: list[Action], description: str, protocol: str,
                  invariant: str = "") -> dict[str, Any]:
    """The TOML schema of a scenario that replays ``path`` (``protocol``: its name
    as the user gave it, built-in or ``module:Class``)."""
    clients = []
    if path and path[0].kind == "start":
        firsts = dict(path[0].targets)
    else:
        firsts = {c: setup.servers[j] for c, j in zip(setup.clients, setup.firsts) if setup.mode == "one"}
    for i, c in enumerate(setup.clients):
        client = {
            "name": c,
            "requests": [{"id": setup.request_id(i, k), "at": 0.0} for k in range(setup.requests)],
            "mode": setup.mode,
            "retry": float(setup.retry),
        }
        if c in firsts:  # the servers in the order the client tries them, its first one first
            j = setup.servers.index(firsts[c])
            client["servers"] = list(setup.servers[j:] + setup.servers[:j])
        clients.append(client)
    d: dict[str, Any] = {
        "description": description,
        "protocol": protocol,
        "servers": list(setup.servers),
        "expected": "UNSAFE",
    }
    if setup.params:
        d["params"] = dict(setup.params)
    d["clients"] = clients
    d["schedule"] = [s.to_dict() for s in steps(path)]
    return d


def story(path: list[Action]) -> list[str]:
    """The path in the tutorial's terms, one line per step."""
    lines = []
    for k, a in enumerate(path, 1):
        t = f"t={a.time:g}"
        if a.kind == "start":
            lines.append(f"{k:>3}. {a}")
            continue
        if a.msg is not None:
            label = a.msg.label()
            if type(a.msg) is ClientRequest:
                what = f"{a.src}'s request {label} to {a.dst}"
            elif type(a.msg) is ClientReply:
                what = f"{a.src}'s reply {label} for {a.msg.request.id} to {a.dst}"
            else:
                what = f"{a.src}'s {label} to {a.dst}"
            verb = {"deliver": "arrives", "drop": "is lost", "duplicate": "is duplicated",
                    "hold": "is held back (later messages overtake it)", "cut": "is lost"}[a.kind]
            if a.kind == "cut":
                lines.append(f"{k:>3}. {t}: {a.process} is cut off from everybody: {what} {verb}")
            else:
                lines.append(f"{k:>3}. {t}: {what} {verb}{f' ({a.process} is cut off)' if a.process else ''}")
        elif a.kind == "heal":
            lines.append(f"{k:>3}. {t}: {a.process} is no longer cut off")
        elif a.kind == "timer":
            lines.append(f"{k:>3}. {t}: {a.process}'s {a.timer} timer fires")
        else:
            lines.append(f"{k:>3}. {t}: {a.process} {'crashes' if a.kind == 'crash' else 'recovers'}")
    return lines
