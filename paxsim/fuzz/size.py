"""The honest size of a schedule: how much actually went wrong in a run of it.

A figure of the tutorial is small because little goes wrong in it: one lost
accept, one crash. A fuzzed schedule is judged the same way, by what happened
when it ran, not by how many lines it has: a 30% lossy network that lost 15
messages counts 15, a crash that never happened (its trigger never came) counts
nothing. Counted from the trace of a run:

- ``lost``: every message lost by the network (random loss on a link, or a
  targeted drop); messages that died with a crashed receiver or at a partition
  are the crash's or the partition's doing and are not counted again;
- ``crashes``, ``recoveries``, ``partitions`` (every split, timed or triggered);
- ``delayed``: every message that took longer than the network's nominal range
  (a targeted delay, a slow link, a message queued behind one on a FIFO link).

:func:`paxsim.fuzz.search.minimize` shrinks by this size.
"""

from __future__ import annotations

from typing import Union

from ..driver import RunResult, run_scenario
from ..scenario import Scenario, from_dict
from ..sim import trace as T

KEYS = ("lost", "crashes", "recoveries", "partitions", "delayed")


def nominal_delay(sc: Scenario) -> float:
    """The longest delay the network's base model gives a message (inf if unbounded)."""
    d = sc.network.delay
    dist = d.get("dist", "constant")
    if dist == "constant":
        return float(d["value"])
    if dist == "uniform":
        return float(d["high"])
    return float("inf")


def run_counts(r: RunResult) -> dict[str, int]:
    """The counts of a run recorded with a trace."""
    if r.trace is None:
        raise ValueError("run_counts needs a run recorded with a trace")
    top = nominal_delay(r.scenario) + 1e-9
    out = dict.fromkeys(KEYS, 0)
    sent: dict[int, float] = {}
    late: set[int] = set()
    for (t, kind, _src, _dst, mid, info) in r.trace.events:
        if kind == T.SEND:
            sent[mid] = t
        elif kind == T.DELIVER:
            if t - sent.get(mid, t) > top:
                late.add(mid)
        elif kind == T.DROP:
            if info.get("reason") in ("loss", "targeted"):
                out["lost"] += 1
        elif kind == T.CRASH:
            out["crashes"] += 1
        elif kind == T.RECOVER:
            out["recoveries"] += 1
        elif kind == T.PARTITION:
            out["partitions"] += 1
    out["delayed"] = len(late)
    return out


def schedule_counts(scenario: Union[Scenario, dict]) -> dict[str, int]:
    """Run ``scenario`` (a Scenario or a scenario dict) with a trace and count what
    went wrong: ``{"lost", "crashes", "recoveries", "partitions", "delayed"}``."""
    sc = from_dict(scenario, source="<size>") if isinstance(scenario, dict) else scenario
    return run_counts(run_scenario(sc, record_trace=True))


def schedule_size(scenario: Union[Scenario, dict]) -> int:
    """The sum of :func:`schedule_counts`."""
    return sum(schedule_counts(scenario).values())


__all__ = ["KEYS", "nominal_delay", "run_counts", "schedule_counts", "schedule_size"]
