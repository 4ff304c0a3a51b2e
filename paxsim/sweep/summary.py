"""Summaries of a sweep: per configuration, each metric over its seeds; paired
differences between variants run with the same seeds.

Nothing is pooled: a summary is one configuration of one experiment (every
dimension of the grid, protocol parameters and protocol code included, fixed).

Intervals are 95% and computed with numpy and scipy:

- every metric has a floor (all of them are counts, times or rates: 0) and an
  interval never goes below it;
- for metrics that are bounded and skewed (unavailable time, outages, gaps,
  leader changes, drops, tail latency: most runs near 0, a few far out) the
  interval is a percentile bootstrap of the mean (numpy, 4,000 resamples with a
  fixed generator, so it is reproducible) once there are at least
  :data:`BOOTSTRAP_MIN` runs; with fewer, a Student t interval clipped at the floor;
- for the others, a Student t interval (``scipy.stats.t``), clipped at the floor.

``p99`` is the 99th percentile of the per-run values (nearest rank). Outcomes are
counted: ``violation rate`` is the fraction of runs judged UNSAFE, ``stuck rate``
the fraction judged STUCK.

Paired comparisons (:func:`paired`): sweep runs with the same seed get the same
request times, crashes and partitions whatever the protocol or its parameters
(:data:`paxsim.sweep.runner.PAIRED`), so two variants are compared seed by seed:
the mean of the per-seed differences with its interval (t, or bootstrap from
:data:`BOOTSTRAP_MIN` pairs on; no floor: a difference may be negative).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

import numpy as np
from scipy import stats as sps

LEVEL = 0.95
BOOTSTRAP_MIN = 10
BOOTSTRAP_RESAMPLES = 4000

# metrics whose runs are mostly near the floor with a long tail: bootstrap intervals
SKEWED: frozenset[str] = frozenset({"unavailable_time", "outages", "max_gap", "leader_changes",
                                    "messages_dropped", "latency_p99", "latency_max"})
FLOOR: dict[str, float] = {}      # metric -> floor, when not 0
DEFAULT_FLOOR = 0.0


def floor_of(metric: Optional[str]) -> Optional[float]:
    """The lowest value ``metric`` can take (None: unknown metric, no floor)."""
    if metric is None:
        return None
    return FLOOR.get(metric, DEFAULT_FLOOR)


@dataclass(frozen=True)
class Stat:
    n: int
    mean: Optional[float]
    low: Optional[float]        # the 95% interval (None with fewer than 2 values)
    high: Optional[float]
    p99: Optional[float]
    method: str = ""            # "t", "t, clipped at 0", "bootstrap" or "" (no interval)

    @property
    def half(self) -> Optional[float]:
        """Half the width of the interval (it need not be symmetric around the mean)."""
        return None if self.low is None or self.high is None else (self.high - self.low) / 2

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "ci95": None if self.low is None else [self.low, self.high],
                "p99": self.p99, "method": self.method}


def t_interval(xs: np.ndarray) -> tuple[float, float]:
    n = len(xs)
    mean = float(xs.mean())
    sem = float(xs.std(ddof=1)) / np.sqrt(n)
    if sem == 0.0:
        return mean, mean
    half = float(sps.t.ppf(0.5 + LEVEL / 2, n - 1)) * sem
    return mean - half, mean + half


def bootstrap_interval(xs: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap of the mean (reproducible: a fixed generator)."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(xs), size=(BOOTSTRAP_RESAMPLES, len(xs)))
    means = xs[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - LEVEL) / 2, 0.5 + LEVEL / 2])
    return float(lo), float(hi)


def interval(xs: np.ndarray, metric: Optional[str] = None, floor: Optional[float] = None,
             skewed: Optional[bool] = None) -> tuple[Optional[float], Optional[float], str]:
    """The 95% interval of the mean of ``xs`` and how it was made (see the module docstring)."""
    if len(xs) < 2:
        return None, None, ""
    skewed = metric in SKEWED if skewed is None else skewed
    if skewed and len(xs) >= BOOTSTRAP_MIN:
        lo, hi = bootstrap_interval(xs)
        method = "bootstrap"
    else:
        lo, hi = t_interval(xs)
        method = "t"
    if floor is not None and lo < floor:
        lo = floor
        method += f", clipped at {floor:g}"
    return lo, hi, method


def nearest_rank(xs: np.ndarray, q: float) -> Optional[float]:
    return None if len(xs) == 0 else float(np.percentile(xs, q * 100, method="inverted_cdf"))


def mean_ci(values: Iterable[Optional[float]], metric: Optional[str] = None) -> Stat:
    """Mean, 95% interval and nearest-rank p99 of the values that are not None;
    ``metric`` picks the method and the floor (see the module docstring)."""
    xs = np.array(sorted(float(v) for v in values if v is not None), dtype=float)
    if len(xs) == 0:
        return Stat(0, None, None, None, None)
    lo, hi, method = interval(xs, metric, floor_of(metric))
    return Stat(len(xs), float(xs.mean()), lo, hi, nearest_rank(xs, 0.99), method)


SUMMARY_METRICS: tuple[str, ...] = (
    "latency_mean", "latency_p99", "messages_per_request", "throughput", "unavailable_time", "outages",
    "max_gap", "leader_changes", "requests_completed", "requests_sent", "messages_sent", "messages_dropped",
)

# ------------------------------------------------------------------ dimensions ---

# Columns that describe a configuration, in the order tables show them, with their labels.
DIM_LABELS = {"protocol": "protocol", "servers": "n", "loss": "loss", "duplicate": "dup", "delay": "delay",
              "crash_rate": "crash/h", "partition_rate": "part/h", "workload": "load", "horizon": "horizon",
              "recover": "recover", "threshold": "thr"}
PARAM = "param:"           # dims of protocol parameters: "param:q2"
CODE = "code"              # the protocol's code digest (one per protocol within an experiment)


def dims_of(row: dict[str, Any]) -> dict[str, Any]:
    """Every dimension of ``row``'s configuration (parameters as ``param:KEY``)."""
    d = {
        "protocol": row["protocol"], "servers": row["servers"], "loss": row["loss"],
        "duplicate": row["duplicate"], "delay": f"{row['delay_low']:g}-{row['delay_high']:g}",
        "crash_rate": row["crash_rate"], "partition_rate": row["partition_rate"],
        "workload": f"{row['clients']}x{row['requests']}", "horizon": row.get("horizon"),
        "recover": bool(row.get("recover", 1)), "threshold": row.get("threshold"),
    }
    for k, v in sorted((row.get("params") or {}).items()):
        d[PARAM + k] = v
    d[CODE] = row.get("code") or ""
    return d


def label(dim: str) -> str:
    return dim[len(PARAM):] if dim.startswith(PARAM) else DIM_LABELS.get(dim, dim)


def value_text(v: Any) -> str:
    if v is None:
        return "default"
    if isinstance(v, float):
        return format(v, "g")
    return str(v)


def all_dims(dicts: Sequence[dict[str, Any]]) -> list[str]:
    """Every dimension present in ``dicts`` in table order (parameters after the grid's,
    then the protocol's code: it varies only if rows of one protocol were made by
    different code, which a table then shows as a column)."""
    params = sorted({k for d in dicts for k in d if k.startswith(PARAM)})
    return [d for d in DIM_LABELS] + params + [CODE]


def varying(dicts: Sequence[dict[str, Any]], exclude: Sequence[str] = ()) -> list[str]:
    """The dimensions with more than one value across ``dicts`` (a missing parameter
    counts as its own value: the protocol's default). The code digest counts only
    when one protocol has rows made by different code."""
    out = []
    for d in all_dims(dicts):
        if d in exclude:
            continue
        if d == CODE:
            codes: dict[Any, set] = {}
            for x in dicts:
                codes.setdefault(x.get("protocol"), set()).add(x.get(CODE))
            if any(len(c) > 1 for c in codes.values()):
                out.append(d)
        elif len({json.dumps(x.get(d), sort_keys=True, default=str) for x in dicts}) > 1:
            out.append(d)
    return out


def sortable(x: Any) -> tuple:
    if x is None:
        return (0, 0, "")
    return (1, x, "") if isinstance(x, (int, float)) else (2, 0, str(x))


def proto_order(name: str) -> tuple[int, str]:
    from ..protocols import BUILTIN

    names = list(BUILTIN)
    return (names.index(name), name) if name in names else (len(names), name)


def dims_key(dims: dict[str, Any], order: Sequence[str]) -> tuple:
    return tuple(proto_order(dims[d]) if d == "protocol" else sortable(dims.get(d)) for d in order)


# ------------------------------------------------------------------ summaries ---

@dataclass
class ConfigSummary:
    experiment: str
    config: str
    dims: dict[str, Any]
    runs: int
    outcomes: dict[str, int]
    stats: dict[str, Stat] = field(default_factory=dict)

    def stat(self, metric: str) -> Stat:
        return self.stats[metric]

    @property
    def violation_rate(self) -> float:
        return self.outcomes.get("UNSAFE", 0) / self.runs if self.runs else 0.0

    @property
    def stuck_rate(self) -> float:
        return self.outcomes.get("STUCK", 0) / self.runs if self.runs else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": "config", "experiment": self.experiment, "config": self.config, **self.dims,
                "runs": self.runs, "outcomes": dict(sorted(self.outcomes.items())),
                "violation_rate": self.violation_rate, "stuck_rate": self.stuck_rate,
                "stats": {k: v.to_json() for k, v in self.stats.items()}}


def summarize(rows: Sequence[dict[str, Any]], metrics: Sequence[str] = SUMMARY_METRICS) -> list[ConfigSummary]:
    """One summary per (experiment, config), sorted by experiment then grid order of dimensions."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["experiment"], r["config"]), []).append(r)
    out = []
    for (exp, cfg), rs in groups.items():
        s = ConfigSummary(exp, cfg, dims_of(rs[0]), len(rs), dict(Counter(r["outcome"] for r in rs)))
        for m in metrics:
            s.stats[m] = mean_ci((r.get(m) for r in rs), m)
        out.append(s)
    order = all_dims([s.dims for s in out])
    out.sort(key=lambda s: (s.experiment, dims_key(s.dims, order), s.config))
    return out


def group_stat(rows: Sequence[dict[str, Any]], by: Sequence[str], metric: str) -> dict[tuple, Stat]:
    """``metric`` per value of the ``by`` dimensions (names of :func:`dims_of`). Refuses
    (ValueError naming them) when another dimension varies in ``rows``: that would pool."""
    dicts = [dims_of(r) for r in rows]
    others = varying(dicts, exclude=by)
    if others:
        raise ValueError(f"{', '.join(label(d) for d in others)} also vary in these rows; group by them too "
                         "or select rows (compare --where)")
    exps = {r["experiment"] for r in rows}
    if len(exps) > 1:
        raise ValueError(f"rows of {len(exps)} experiments ({', '.join(sorted(exps))}); compare one at a time")
    groups: dict[tuple, list] = {}
    for r, d in zip(rows, dicts):
        groups.setdefault(tuple(d.get(k) for k in by), []).append(r.get(metric))
    return {k: mean_ci(v, metric) for k, v in sorted(groups.items(), key=lambda kv: tuple(map(sortable, kv[0])))}


# ------------------------------------------------------------------ pairing ---

PAIRED_METRICS: tuple[str, ...] = ("latency_mean", "messages_per_request", "unavailable_time", "leader_changes")
VARIANT_DIMS = ("protocol",)       # with every param:KEY, the dimensions that make a variant


@dataclass
class Paired:
    """Variant ``other`` minus variant ``base``, seed by seed, in one configuration."""

    experiment: str
    context: dict[str, Any]       # the other dimensions, fixed
    base: str
    other: str
    metric: str
    pairs: int
    diff: Stat                    # of the per-seed differences (other - base)
    base_mean: Optional[float]
    other_mean: Optional[float]
    better: int                   # seeds where other < base (lower is better for these metrics)
    worse: int

    def to_json(self) -> dict[str, Any]:
        return {"kind": "paired", "experiment": self.experiment, **self.context, "base": self.base,
                "other": self.other, "metric": self.metric, "pairs": self.pairs, "base_mean": self.base_mean,
                "other_mean": self.other_mean, "diff_mean": self.diff.mean,
                "diff_ci95": None if self.diff.low is None else [self.diff.low, self.diff.high],
                "method": self.diff.method, "other_lower": self.better, "other_higher": self.worse}


def variant_of(dims: dict[str, Any], variant_dims: Sequence[str]) -> str:
    parts = [dims["protocol"]] + [f"{label(d)}={value_text(dims.get(d))}" for d in variant_dims
                                  if d != "protocol"]
    return " ".join(parts)


def paired(rows: Sequence[dict[str, Any]], metrics: Sequence[str] = PAIRED_METRICS) -> list[Paired]:
    """Per experiment and configuration of everything but the variant (protocol and
    its parameters): every variant against the first (tutorial order), seed by seed."""
    out: list[Paired] = []
    by_exp: dict[str, list[dict]] = {}
    for r in rows:
        by_exp.setdefault(r["experiment"], []).append(r)
    for exp, rs in sorted(by_exp.items()):
        dicts = [dims_of(r) for r in rs]
        var = [d for d in varying(dicts) if d in VARIANT_DIMS or d.startswith(PARAM)]
        if not var:
            continue
        ctx_dims = [d for d in varying(dicts) if d not in var]
        cells: dict[tuple, dict[str, dict[int, dict]]] = {}
        contexts: dict[tuple, dict[str, Any]] = {}
        order: dict[str, tuple] = {}
        for r, d in zip(rs, dicts):
            ctx = tuple(json.dumps(d.get(k), default=str) for k in ctx_dims)
            contexts[ctx] = {k: d.get(k) for k in ctx_dims}
            v = variant_of(d, var)
            order[v] = dims_key(d, var)
            cells.setdefault(ctx, {}).setdefault(v, {})[r["seed"]] = r
        for ctx in sorted(cells, key=lambda c: dims_key(contexts[c], ctx_dims)):
            variants = sorted(cells[ctx], key=lambda v: order[v])
            base = variants[0]
            for other in variants[1:]:
                seeds = sorted(set(cells[ctx][base]) & set(cells[ctx][other]))
                for m in metrics:
                    a = [cells[ctx][base][s].get(m) for s in seeds]
                    b = [cells[ctx][other][s].get(m) for s in seeds]
                    ok = [(x, y) for x, y in zip(a, b) if x is not None and y is not None]
                    if not ok:
                        continue
                    diffs = np.array([y - x for x, y in ok], dtype=float)
                    lo, hi, method = interval(diffs, m, floor=None)
                    out.append(Paired(exp, contexts[ctx], base, other, m, len(ok),
                                      Stat(len(ok), float(diffs.mean()), lo, hi, None, method),
                                      float(np.mean([x for x, _ in ok])), float(np.mean([y for _, y in ok])),
                                      int((diffs < 0).sum()), int((diffs > 0).sum())))
    return out


# ------------------------------------------------------------------ printing ---

def fmt(x: Optional[float]) -> str:
    if x is None:
        return "-"
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def cell(s: Stat, p99: bool = True) -> str:
    if s.n == 0:
        return "-"
    text = fmt(s.mean)
    if s.low is not None:
        text += f" [{fmt(s.low)}, {fmt(s.high)}]"
    if p99:
        text += f"\np99 {fmt(s.p99)}"
    return text


def _console(console):
    if console is None:
        import sys

        from rich.console import Console

        console = Console() if sys.stdout.isatty() else Console(width=200)
    return console


def print_table(summaries: Sequence[ConfigSummary], console=None) -> None:
    """A rich table per experiment: a column per varying dimension (every configuration
    its own row: nothing pooled), fixed dimensions in the caption, then metrics
    (mean [95% interval], p99)."""
    from rich.table import Table

    console = _console(console)
    by_exp: dict[str, list[ConfigSummary]] = {}
    for s in summaries:
        by_exp.setdefault(s.experiment, []).append(s)
    for exp, ss in by_exp.items():
        dicts = [s.dims for s in ss]
        vary = varying(dicts)
        if "protocol" not in vary:
            vary = ["protocol"] + vary
        fixed = [f"{label(d)}={value_text(ss[0].dims.get(d))}" for d in all_dims(dicts)
                 if d not in vary and d != CODE]
        codes = sorted({f"{s.dims['protocol']} {s.dims[CODE]}" for s in ss if s.dims.get(CODE)})
        caption = ("fixed: " + ", ".join(fixed) if fixed else "") + (("\ncode: " + "; ".join(codes)) if codes else "")
        t = Table(title=f"{exp}: mean [95% interval] over seeds, p99 over runs", caption=caption or None,
                  show_lines=True)
        for d in vary:
            t.add_column(label(d))
        for col in ("runs", "latency", "run p99 latency", "msgs/request", "throughput", "unavailable",
                    "leader changes", "SAFE/UNSAFE/STUCK"):
            t.add_column(col, justify="right")
        for s in ss:
            o = s.outcomes
            t.add_row(*[value_text(s.dims.get(d)) for d in vary], str(s.runs), cell(s.stats["latency_mean"]),
                      cell(s.stats["latency_p99"]), cell(s.stats["messages_per_request"]),
                      cell(s.stats["throughput"], p99=False), cell(s.stats["unavailable_time"]),
                      cell(s.stats["leader_changes"], p99=False),
                      f"{o.get('SAFE', 0)}/{o.get('UNSAFE', 0)}/{o.get('STUCK', 0)}")
        console.print(t)


def print_paired(pairs: Sequence[Paired], console=None) -> None:
    """A table per experiment of paired differences (other - base, same seeds)."""
    from rich.table import Table

    if not pairs:
        return
    console = _console(console)
    by_exp: dict[str, list[Paired]] = {}
    for p in pairs:
        by_exp.setdefault(p.experiment, []).append(p)
    for exp, ps in by_exp.items():
        ctx = list(ps[0].context)
        t = Table(title=f"{exp}: paired by seed (same requests, crashes, partitions): other - base, "
                        "mean [95% interval]", show_lines=False)
        for d in ctx:
            t.add_column(label(d))
        for col in ("base", "other", "metric", "pairs", "base mean", "other mean", "difference", "lower/higher"):
            t.add_column(col, justify="right" if col not in ("base", "other", "metric") else "left")
        for p in ps:
            diff = fmt(p.diff.mean) + (f" [{fmt(p.diff.low)}, {fmt(p.diff.high)}]" if p.diff.low is not None else "")
            t.add_row(*[value_text(p.context[d]) for d in ctx], p.base, p.other, p.metric, str(p.pairs),
                      fmt(p.base_mean), fmt(p.other_mean), diff, f"{p.better}/{p.worse}")
        console.print(t)
