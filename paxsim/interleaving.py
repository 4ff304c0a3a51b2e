"""An exact interleaving: the steps a replay carries out, in order.

A scenario with a ``[[schedule]]`` leaves nothing to chance: its network delivers
no message by itself and fires no timer by itself. Each step says what happens
next, and at what time on the clock of the process it happens to (the receiver of
a message, the owner of a timer, the server that crashes or recovers); each
process's steps are listed in time order. With one clock for all (the
simulator's model) the whole schedule is in time order; ``paxsim check --clocks
per-process`` writes schedules where each process keeps its own clock:

    [[schedule]]
    at = 0.0
    deliver = "S1->S2"                       # or drop = ..., duplicate = ...
    msg = 'ACC {"m":"m1","rnd":1,"slot":1}'  # the message's kind and fields

    [[schedule]]
    at = 2.0
    timer = "S2"                             # S2's timer "heartbeat" fires
    name = "heartbeat"

    [[schedule]]
    at = 2.0
    crash = "S1"                             # or recover = "S1"

``paxsim check`` writes such scenarios for the paths it finds; ``paxsim run``
replays them in the simulator (:mod:`paxsim.sim.replay`) to the same states, so
that the trace, the checker's verdict and the diagrams are the simulator's own.
A message is named by :func:`message_key` (its kind and its fields as JSON), a
client's resend timer by the name ``retry``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .limits import MAX_COUNT, MAX_TEXT, number_problem, show
from .types import Message

MESSAGE_STEPS = ("deliver", "drop", "duplicate")
STEP_KINDS = MESSAGE_STEPS + ("timer", "crash", "recover")


def message_key(msg: Message) -> str:
    """A message's kind and fields, as a schedule names it: ``ACC {"m":"m1",...}``."""
    return f"{msg.kind} {json.dumps(msg.fields(), sort_keys=True, separators=(',', ':'))}"


@dataclass(frozen=True)
class Step:
    """One step of a schedule. ``process``: the server that crashes, recovers or
    whose timer fires (or the client whose resend timer fires)."""

    at: float
    kind: str
    src: str = ""
    dst: str = ""
    msg: str = ""
    process: str = ""
    timer: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"at": self.at}
        if self.kind in MESSAGE_STEPS:
            d[self.kind] = f"{self.src}->{self.dst}"
            d["msg"] = self.msg
        elif self.kind == "timer":
            d["timer"] = self.process
            d["name"] = self.timer
        else:
            d[self.kind] = self.process
        return d

    def describe(self) -> str:
        if self.kind in MESSAGE_STEPS:
            return f"t={self.at:g} {self.kind} {self.src}->{self.dst} {self.msg}"
        if self.kind == "timer":
            return f"t={self.at:g} {self.process}'s timer {self.timer} fires"
        return f"t={self.at:g} {self.kind} {self.process}"


def parse_schedule(raw: Any, err: Callable[[str, str], Exception], servers: Sequence[str],
                   processes: Sequence[str]) -> tuple[Step, ...]:
    """The ``schedule`` array of a scenario, validated (``err(key, problem)`` makes
    the error to raise)."""
    if not isinstance(raw, list):
        raise err("schedule", "must be an array of tables ([[schedule]])")
    if len(raw) > MAX_COUNT:
        raise err("schedule", f"at most {MAX_COUNT:,} steps, got {len(raw):,}")
    steps: list[Step] = []
    last: dict[str, float] = {}  # per process: the time of its latest step so far
    for i, s in enumerate(raw):
        path = f"schedule[{i}]"
        if not isinstance(s, dict):
            raise err(path, f"must be a table, not {type(s).__name__}")
        for k in s:
            if k not in ("at", "msg", "name") + STEP_KINDS:
                raise err(f"{path}.{k}", f"unknown key (allowed: at, {', '.join(STEP_KINDS)}, msg, name)")
        kinds = [k for k in STEP_KINDS if k in s]
        if len(kinds) != 1:
            raise err(path, f"must name exactly one step: {', '.join(STEP_KINDS)} (got {', '.join(kinds) or 'none'})")
        kind = kinds[0]
        if "at" not in s:
            raise err(f"{path}.at", "is required: the time of the step")
        at = s["at"]
        problem = number_problem(at)  # as every time in a scenario
        if problem:
            raise err(f"{path}.at", problem if "at most" in problem else f"{problem} (a finite time >= 0)")
        value = s[kind]
        actor = value.split("->")[-1] if kind in MESSAGE_STEPS and isinstance(value, str) else value
        if isinstance(actor, str) and at < last.get(actor, 0.0):
            raise err(f"{path}.at", f"the steps of {actor} must be listed in time order "
                                    f"({at:g} < {last[actor]:g}, its clock never goes back)")
        if isinstance(actor, str):
            last[actor] = float(at)
        allowed = "msg" if kind in MESSAGE_STEPS else "name" if kind == "timer" else None
        for k in ("msg", "name"):
            if k in s and k != allowed:
                raise err(f"{path}.{k}", f"does not apply to a {kind} step")
        if kind in MESSAGE_STEPS:
            if not isinstance(value, str) or value.count("->") != 1:
                raise err(f"{path}.{kind}", f"must be \"SRC->DST\", not {show(value)}")
            src, dst = value.split("->")
            for p in (src, dst):
                if p not in processes:
                    raise err(f"{path}.{kind}", f"unknown process {show(p)} (known: {', '.join(processes)})")
            msg = s.get("msg")
            if not isinstance(msg, str) or not msg:
                raise err(f"{path}.msg", "is required: the message's kind and fields, as paxsim check writes them")
            if len(msg) > MAX_TEXT:
                raise err(f"{path}.msg", f"must be at most {MAX_TEXT:,} characters, got {len(msg):,}")
            steps.append(Step(float(at), kind, src=src, dst=dst, msg=msg))
        elif kind == "timer":
            if value not in processes:
                raise err(f"{path}.timer", f"unknown process {show(value)} (known: {', '.join(processes)})")
            name = s.get("name")
            if not isinstance(name, str) or not name:
                raise err(f"{path}.name", "is required: the name of the timer that fires")
            if len(name) > MAX_TEXT or not name.isprintable():
                raise err(f"{path}.name", f"must be a printable timer name, not {show(name)}")
            steps.append(Step(float(at), "timer", process=value, timer=name))
        else:
            if value not in servers:
                raise err(f"{path}.{kind}", f"unknown server {show(value)} (servers: {', '.join(servers)})")
            steps.append(Step(float(at), kind, process=value))
    return tuple(steps)
