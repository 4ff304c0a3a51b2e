"""Plots of a sweep, with matplotlib's object API (no pyplot, no GUI backend):
each function takes database rows of one experiment and returns a ``Figure``;
:func:`write_plots` saves them as PNG and SVG (a folder per experiment when the
rows hold several).

Nothing is pooled: every dimension that varies in the rows besides the x axis is
either a line (one per combination of values, labeled with them) or a facet (a
panel per value of one dimension). When that would make too many lines or panels
the plot is not drawn and :class:`NotDrawn` names the dimensions (select rows
with ``paxsim compare --where``). A plot whose x axis has a single value is not
drawn either. Each point is a mean with its 95% interval (see
:mod:`paxsim.sweep.summary`: never below the metric's floor).
"""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

from matplotlib.figure import Figure

from .summary import dims_of, dims_key, label, mean_ci, value_text, varying

PLOTS = ("latency_vs_loss", "messages_vs_servers", "unavailability_vs_crash_rate", "violations_per_stage")
MAX_LINES = 6
MAX_FACETS = 4
MAX_BARS = 16


class NotDrawn(ValueError):
    """A plot that would pool, or show nothing (the message says which dimensions)."""


def _one_experiment(rows: Sequence[dict[str, Any]]) -> None:
    exps = sorted({r["experiment"] for r in rows})
    if len(exps) > 1:
        raise NotDrawn(f"rows of {len(exps)} experiments ({', '.join(exps)}): one plot each (write_plots does)")
    if not rows:
        raise NotDrawn("no rows")


def _layout(dicts: list[dict], x: Optional[str], lines: Optional[Sequence[str]], what: str,
            max_lines: int = MAX_LINES) -> tuple[list[str], Optional[str]]:
    """(line dims, facet dim or None) covering every dimension that varies besides ``x``:
    lines for all of them if few enough, else a panel per value of one; else NotDrawn."""
    vary = varying(dicts, exclude=[x] if x else [])
    ordered = [d for d in (lines or []) if d in vary] + [d for d in vary if d not in (lines or [])]
    counts = {d: len({json.dumps(x_.get(d), default=str) for x_ in dicts}) for d in vary}

    def combos(ds) -> int:
        n = 1
        for d in ds:
            n *= counts[d]
        return n

    if combos(ordered) <= max_lines:
        return ordered, None
    for facet in sorted(ordered, key=lambda d: (d in (lines or []), -counts[d])):
        rest = [d for d in ordered if d != facet]
        if counts[facet] <= MAX_FACETS and combos(rest) <= max_lines:
            return rest, facet
    named = ", ".join(f"{label(d)} ({counts[d]} values)" for d in vary)
    raise NotDrawn(f"{what}: too many groups to draw without pooling: {named} vary"
                   + (f" besides {label(x)}" if x else "") + "; select rows with --where")


def _series_label(d: dict, dims: Sequence[str]) -> str:
    if not dims:
        return ""
    return ", ".join(value_text(d.get(k)) if k == "protocol" else f"{label(k)}={value_text(d.get(k))}"
                     for k in dims)


def line_plot(rows: Sequence[dict[str, Any]], x: str, metric: str, *, xlabel: str, ylabel: str,
              title: str, by: Optional[str | Sequence[str]] = None) -> Figure:
    """``metric`` against dimension ``x`` (mean, 95% interval bars): a line per
    combination of the other varying dimensions (``by`` first), a panel per value of
    one of them if there are too many; :class:`NotDrawn` if that cannot be done."""
    _one_experiment(rows)
    dicts = [dims_of(r) for r in rows]
    xs_all = sorted({d[x] for d in dicts}, key=lambda v: (isinstance(v, str), v))
    if len(xs_all) < 2:
        raise NotDrawn(f"{title}: {label(x)} has one value ({value_text(xs_all[0])}): nothing to draw against")
    by_dims = [by] if isinstance(by, str) else list(by or [])
    line_dims, facet = _layout(dicts, x, by_dims, title)
    facets = sorted({json.dumps(d.get(facet), default=str) for d in dicts}) if facet else [None]
    fig = Figure(figsize=(6.4 * (1 if len(facets) == 1 else min(2, len(facets))),
                          4.2 * ((len(facets) + 1) // 2 if len(facets) > 1 else 1)), layout="constrained")
    ncols = 1 if len(facets) == 1 else 2
    nrows = (len(facets) + ncols - 1) // ncols
    axes = []
    for i, fv in enumerate(facets):
        ax = fig.add_subplot(nrows, ncols, i + 1, sharey=axes[0] if axes else None)
        axes.append(ax)
        sel = [(r, d) for r, d in zip(rows, dicts)
               if fv is None or json.dumps(d.get(facet), default=str) == fv]
        series: dict[str, list] = {}
        keys: dict[str, tuple] = {}
        for r, d in sel:
            name = _series_label(d, line_dims)
            keys[name] = dims_key(d, line_dims)
            series.setdefault(name, []).append((d[x], r.get(metric)))
        for name in sorted(series, key=lambda n: keys[n]):
            pts: dict[Any, list] = {}
            for xv, v in series[name]:
                pts.setdefault(xv, []).append(v)
            xs, ys, lo, hi = [], [], [], []
            for xv in sorted(pts, key=lambda v: (isinstance(v, str), v)):
                s = mean_ci(pts[xv], metric)
                if s.mean is None:
                    continue
                xs.append(xv)
                ys.append(s.mean)
                lo.append(s.mean - (s.low if s.low is not None else s.mean))
                hi.append((s.high if s.high is not None else s.mean) - s.mean)
            if xs:
                ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, label=name or None)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title if fv is None else f"{title}\n{label(facet)}={value_text(json.loads(fv))}",
                     fontsize="medium")
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
    """A bar per configuration (every varying dimension in its label, nothing pooled):
    the fraction of runs UNSAFE and STUCK."""
    _one_experiment(rows)
    dicts = [dims_of(r) for r in rows]
    vary = varying(dicts)
    if "protocol" not in vary:
        vary = ["protocol"] + vary
    groups: dict[str, list] = {}
    keys: dict[str, tuple] = {}
    for r, d in zip(rows, dicts):
        name = "\n".join(value_text(d.get(k)) if k == "protocol" else f"{label(k)}={value_text(d.get(k))}"
                         for k in vary)
        keys[name] = dims_key(d, vary)
        groups.setdefault(name, []).append(r)
    if len(groups) > MAX_BARS:
        raise NotDrawn(f"Violations per stage: {len(groups)} configurations (" +
                       ", ".join(label(d) for d in vary) + " vary), more than "
                       f"{MAX_BARS} bars; select rows with --where")
    names = sorted(groups, key=lambda n: keys[n])
    fig = Figure(figsize=(max(4.8, 1.2 * len(names) + 2), 4.2 + 0.3 * len(vary)), layout="constrained")
    ax = fig.add_subplot()
    unsafe, stuck, counts = [], [], []
    for name in names:
        rs = groups[name]
        counts.append(len(rs))
        unsafe.append(sum(r["outcome"] == "UNSAFE" for r in rs) / len(rs))
        stuck.append(sum(r["outcome"] == "STUCK" for r in rs) / len(rs))
    xs = list(range(len(names)))
    ax.bar(xs, unsafe, color="tab:red", label="UNSAFE (safety violated)")
    ax.bar(xs, stuck, bottom=unsafe, color="tab:orange", label="STUCK (liveness violated)")
    for x, u, s, n in zip(xs, unsafe, stuck, counts):
        ax.annotate(f"{u + s:.0%} of {n}", (x, u + s), ha="center", va="bottom", fontsize="small")
    ax.set_xticks(xs, names, rotation=20, ha="right", fontsize="small")
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("fraction of runs")
    ax.set_title("Violations per configuration")
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


def write_plots(rows: Sequence[dict[str, Any]], out_dir: str, names: Optional[Sequence[str]] = None,
                skipped: Optional[list[str]] = None) -> list[str]:
    """Every plot of :data:`PLOTS` (or ``names``) as PNG and SVG in ``out_dir`` (in
    ``out_dir/EXPERIMENT/`` when the rows hold several experiments); the paths. A
    plot that is not drawn is noted in ``skipped`` (as "experiment: plot: reason")."""
    by_exp: dict[str, list] = {}
    for r in rows:
        by_exp.setdefault(r["experiment"], []).append(r)
    paths: list[str] = []
    for exp, rs in sorted(by_exp.items()):
        folder = out_dir if len(by_exp) == 1 else os.path.join(out_dir, exp)
        os.makedirs(folder, exist_ok=True)
        for name in names or PLOTS:
            try:
                fig = globals()[name](rs)
            except NotDrawn as exc:
                if skipped is not None:
                    skipped.append(f"{exp}: {name}: {exc}")
                continue
            paths += save(fig, folder, name)
    return paths


__all__ = ["MAX_BARS", "MAX_FACETS", "MAX_LINES", "NotDrawn", "PLOTS", "latency_vs_loss", "line_plot",
           "messages_vs_servers", "save", "unavailability_vs_crash_rate", "violations_per_stage", "write_plots"]
