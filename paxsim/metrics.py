"""Metrics of one run, from the counters the simulator keeps as it streams.

Nothing here needs a trace: run with ``record_trace=False`` and call
:func:`run_metrics` on the finished world. The counters come from
:class:`~paxsim.sim.clients.ClientMetrics` (client side: invocations,
completions, latencies, gaps) and :class:`~paxsim.sim.network.Network` (messages
by type, ``Log`` events by name).

Definitions (times are simulated time units):

``requests_sent`` / ``requests_completed``
    requests invoked by clients / requests whose client got its first reply.
``latency_mean``, ``latency_p50``, ``latency_p99``, ``latency_max``
    over completed requests, from first send to first reply (resends included in
    the wait). Percentiles are nearest-rank: the value at position
    ``ceil(q * n)`` of the sorted latencies (so p50 of [1, 2, 3, 4] is 2).
``messages_sent`` / ``_delivered`` / ``_dropped`` / ``_duplicated``
    totals over every message kind (client requests and replies included); the
    same per kind in ``sent_by_type`` etc. (dicts sorted by kind).
``heartbeats``
    heartbeat messages sent (``HB``): they are driven by time, not by requests
    (a run's quiet settle period is full of them), so they are counted apart.
``messages_per_request``
    ``(messages_sent - heartbeats) / requests_completed``: every message of the
    run except heartbeats (client requests and replies, accepts, learns,
    prepares, promises, resends and duplicates included) per completed request.
``throughput``
    ``requests_completed / (last completion - first invocation)``; None when that
    span is zero.
``unavailable_time``, ``outages``, ``max_gap``
    see :class:`~paxsim.sim.clients.ClientMetrics`: the total length of the gaps
    (stretches with a request pending and none completing) longer than the
    threshold, how many there were, and the longest gap.
``leader_changes``
    how many times some replica began to lead (``Log("leader", rnd)`` effects),
    the first leadership included.
``outcome``, ``violations``, ``violated``
    the checker's outcome, the number of violations found (reported and omitted),
    and the names of the broken invariants, comma-separated in the checker's order.
"""

from __future__ import annotations

import math
from typing import Any, Optional, Sequence

METRIC_NAMES: tuple[str, ...] = (
    "requests_sent", "requests_completed",
    "latency_mean", "latency_p50", "latency_p99", "latency_max",
    "messages_sent", "messages_delivered", "messages_dropped", "messages_duplicated",
    "heartbeats", "messages_per_request", "throughput",
    "unavailable_time", "outages", "max_gap",
    "leader_changes", "end_time",
    "outcome", "violations", "violated",
    "sent_by_type", "delivered_by_type", "dropped_by_type", "duplicated_by_type",
)
"""Every key :func:`run_metrics` returns (with a verdict), in a fixed order."""

BY_TYPE: tuple[str, ...] = ("sent_by_type", "delivered_by_type", "dropped_by_type", "duplicated_by_type")


def percentile(sorted_values: Sequence[float], q: float) -> Optional[float]:
    """Nearest-rank percentile of already sorted values (None when empty)."""
    n = len(sorted_values)
    if n == 0:
        return None
    k = max(1, math.ceil(q * n - 1e-9))
    return sorted_values[min(n, k) - 1]


def run_metrics(world, verdict=None) -> dict[str, Any]:
    """The metrics of a finished run (see the module docstring for definitions)."""
    cm = world.client_metrics
    net = world.net
    sent = sum(net.sent.values())
    hb = net.sent.get("HB", 0)
    lat = sorted(cm.latencies)
    done = cm.completions
    span = (cm.last_completion - cm.first_invocation) if (done and cm.first_invocation is not None) else 0.0
    out: dict[str, Any] = {
        "requests_sent": cm.invocations,
        "requests_completed": done,
        "latency_mean": (math.fsum(lat) / len(lat)) if lat else None,
        "latency_p50": percentile(lat, 0.5),
        "latency_p99": percentile(lat, 0.99),
        "latency_max": lat[-1] if lat else None,
        "messages_sent": sent,
        "messages_delivered": sum(net.delivered.values()),
        "messages_dropped": sum(net.dropped.values()),
        "messages_duplicated": sum(net.duplicated.values()),
        "heartbeats": hb,
        "messages_per_request": ((sent - hb) / done) if done else None,
        "throughput": (done / span) if span > 0 else None,
        "unavailable_time": cm.unavailable,
        "outages": cm.outages,
        "max_gap": cm.max_gap,
        "leader_changes": net.logs.get("leader", 0),
        "end_time": world.env.now,
        "sent_by_type": dict(sorted(net.sent.items())),
        "delivered_by_type": dict(sorted(net.delivered.items())),
        "dropped_by_type": dict(sorted(net.dropped.items())),
        "duplicated_by_type": dict(sorted(net.duplicated.items())),
    }
    if verdict is not None:
        out["outcome"] = verdict.outcome
        out["violations"] = len(verdict.violations) + sum(n for _, n in verdict.omitted)
        names: list[str] = []
        for v in verdict.violations:
            if v.invariant not in names:
                names.append(v.invariant)
        out["violated"] = ",".join(names)
    return out
