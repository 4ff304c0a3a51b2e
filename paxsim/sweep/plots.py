"""Plots of a sweep, with matplotlib's object API (no pyplot, no GUI backend):
each function takes database rows and returns a ``Figure``; :func:`write_plots`
saves them as PNG and SVG.

Lines are per protocol; each point pools every run with that protocol and x
value (over all other dimensions and seeds) and shows the mean with its 95%
confidence interval as an error bar.
"""

from __future__ import annotations

import os
from typing import Any, Optional, Sequence

from matplotlib.figure import Figure

from .summary import _proto_order, group_stat

PLOTS = ("latency_vs_loss", "messages_vs_servers", "unavailability_vs_crash_rate", "violations_per_stage")


def _protocols(rows: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({r["protocol"] for r in rows}, key=_proto_order)


def line_plot(rows: Sequence[dict[str, Any]], x: str, metric: str, *, xlabel: str, ylabel: str,
              title: str, by: str = "protocol") -> Figure:
    """``metric`` against column ``x``, one line per value of ``by`` (mean, 95% CI bars)."""
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    ax = fig.add_subplot()
    stats = group_stat(rows, (by, x), metric)
    keys = _protocols(rows) if by == "protocol" else sorted({r[by] for r in rows})
    for k in keys:
        pts = [(xv, s) for (kv, xv), s in stats.items() if kv == k and s.mean is not None]
        if not pts:
            continue
        xs = [p[0] for p in pts]
        ys = [p[1].mean for p in pts]
        err = [p[1].half or 0.0 for p in pts]
        ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=f"{by}={k}" if by != "protocol" else k)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    return fig


def latency_vs_loss(rows: Sequence[dict[str, Any]]) -> Figure:
    return line_plot(rows, "loss", "latency_mean", xlabel="message loss probability",
                     ylabel="mean client latency (sim. time)", title="Latency against loss")


def messages_vs_servers(rows: Sequence[dict[str, Any]]) -> Figure:
    return line_plot(rows, "servers", "messages_per_request", xlabel="servers (n)",
                     ylabel="messages per completed request", title="Messages per request against n")


def unavailability_vs_crash_rate(rows: Sequence[dict[str, Any]]) -> Figure:
    return line_plot(rows, "crash_rate", "unavailable_time", xlabel="crashes per horizon",
                     ylabel="unavailable time (sim. time)", title="Unavailability against crash rate")


def violations_per_stage(rows: Sequence[dict[str, Any]]) -> Figure:
    """Per protocol (in the tutorial's order): the fraction of runs UNSAFE and STUCK."""
    fig = Figure(figsize=(max(4.8, 1.2 * len(_protocols(rows)) + 2), 4.2), layout="constrained")
    ax = fig.add_subplot()
    protos = _protocols(rows)
    unsafe, stuck, counts = [], [], []
    for p in protos:
        rs = [r for r in rows if r["protocol"] == p]
        n = len(rs)
        counts.append(n)
        unsafe.append(sum(r["outcome"] == "UNSAFE" for r in rs) / n)
        stuck.append(sum(r["outcome"] == "STUCK" for r in rs) / n)
    xs = list(range(len(protos)))
    ax.bar(xs, unsafe, color="tab:red", label="UNSAFE (safety violated)")
    ax.bar(xs, stuck, bottom=unsafe, color="tab:orange", label="STUCK (liveness violated)")
    for x, u, s, n in zip(xs, unsafe, stuck, counts):
        ax.annotate(f"{u + s:.0%} of {n}", (x, u + s), ha="center", va="bottom", fontsize="small")
    ax.set_xticks(xs, protos, rotation=20, ha="right")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("fraction of runs")
    ax.set_title("Violations per stage")
    ax.legend(fontsize="small", loc="upper left")
    return fig


def save(fig: Figure, out_dir: str, name: str) -> list[str]:
    """Write ``out_dir/name.png`` and ``.svg`` (reproducible: no dates, fixed SVG ids)."""
    import matplotlib

    paths = []
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
        path = os.path.join(out_dir, f"{name}.{ext}")
        with matplotlib.rc_context({"svg.hashsalt": "paxsim"}):
            fig.savefig(path, format=ext, metadata=meta, dpi=120)
        paths.append(path)
    return paths


def write_plots(rows: Sequence[dict[str, Any]], out_dir: str, names: Optional[Sequence[str]] = None) -> list[str]:
    """Every plot of :data:`PLOTS` (or ``names``) as PNG and SVG in ``out_dir``; the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths: list[str] = []
    for name in names or PLOTS:
        paths += save(globals()[name](rows), out_dir, name)
    return paths
