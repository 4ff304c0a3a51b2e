"""Metrics of one run, from the counters the simulator keeps as it streams."""

from __future__ import annotations

from typing import Any, Optional


def run_metrics(world, verdict=None) -> dict[str, Any]:
    cm = world.client_metrics
    net = world.net
    sent = sum(net.sent.values())
    lat = sorted(cm.latencies)

    def pct(q: float) -> Optional[float]:
        if not lat:
            return None
        return lat[min(len(lat) - 1, int(q * len(lat)))]

    out = {
        "requests_sent": cm.invocations,
        "requests_completed": cm.completions,
        "latency_mean": (sum(lat) / len(lat)) if lat else None,
        "latency_p50": pct(0.5),
        "latency_p99": pct(0.99),
        "latency_max": lat[-1] if lat else None,
        "messages_sent": sent,
        "messages_delivered": sum(net.delivered.values()),
        "messages_dropped": sum(net.dropped.values()),
        "messages_duplicated": sum(net.duplicated.values()),
        "sent_by_type": dict(sorted(net.sent.items())),
        "messages_per_request": (sent / cm.completions) if cm.completions else None,
        "unavailable_time": cm.unavailable,
        "leader_changes": net.logs.get("leader", 0),
    }
    if verdict is not None:
        out["outcome"] = verdict.outcome
        out["violations"] = len(verdict.violations)
    return out
