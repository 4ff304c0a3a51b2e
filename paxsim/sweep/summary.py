"""Summaries of a sweep: per configuration, each metric over its seeds.

For every metric and configuration: the number of runs that have a value
(``latency_mean`` is None in a run that completed nothing), the mean, a 95%
confidence interval of the mean (Student t, ``mean ± t(0.975, n-1) * s / sqrt(n)``;
none for a single run) and the 99th percentile of the per-run values
(nearest-rank). Outcomes are counted: ``violation rate`` is the fraction of runs
judged UNSAFE, ``stuck rate`` the fraction judged STUCK.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional, Sequence

from ..metrics import percentile

# two-sided 95%: t(0.975, df) for small df; beyond the table, the next lower entry (conservative)
_T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262,
         10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101,
         19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052,
         28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000, 120: 1.980}


def t975(df: int) -> float:
    if df < 1:
        return math.inf
    if df in _T975:
        return _T975[df]
    if df > 120 * 8:
        return 1.960
    return _T975[max(k for k in _T975 if k <= df)]


@dataclass(frozen=True)
class Stat:
    n: int
    mean: Optional[float]
    half: Optional[float]      # half-width of the 95% CI (None with fewer than 2 values)
    p99: Optional[float]

    @property
    def low(self) -> Optional[float]:
        return None if self.mean is None or self.half is None else self.mean - self.half

    @property
    def high(self) -> Optional[float]:
        return None if self.mean is None or self.half is None else self.mean + self.half

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "mean": self.mean, "ci95": None if self.half is None else [self.low, self.high],
                "p99": self.p99}


def mean_ci(values: Iterable[Optional[float]]) -> Stat:
    """Mean, 95% CI half-width and nearest-rank p99 of the values that are not None."""
    xs = sorted(float(v) for v in values if v is not None)
    n = len(xs)
    if n == 0:
        return Stat(0, None, None, None)
    mean = math.fsum(xs) / n
    half = None
    if n >= 2:
        var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
        half = t975(n - 1) * math.sqrt(var / n)
    return Stat(n, mean, half, percentile(xs, 0.99))


SUMMARY_METRICS: tuple[str, ...] = (
    "latency_mean", "latency_p99", "messages_per_request", "throughput", "unavailable_time", "outages",
    "max_gap", "leader_changes", "requests_completed", "requests_sent", "messages_sent", "messages_dropped",
)


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
        return {"experiment": self.experiment, "config": self.config, **self.dims, "runs": self.runs,
                "outcomes": dict(sorted(self.outcomes.items())), "violation_rate": self.violation_rate,
                "stuck_rate": self.stuck_rate, "stats": {k: v.to_json() for k, v in self.stats.items()}}


def dims_of(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "protocol": row["protocol"], "servers": row["servers"], "loss": row["loss"],
        "duplicate": row["duplicate"], "delay": f"{row['delay_low']:g}-{row['delay_high']:g}",
        "crash_rate": row["crash_rate"], "partition_rate": row["partition_rate"],
        "workload": f"{row['clients']}x{row['requests']}",
    }


def summarize(rows: Sequence[dict[str, Any]], metrics: Sequence[str] = SUMMARY_METRICS) -> list[ConfigSummary]:
    """One summary per (experiment, config), sorted by experiment then grid order of dimensions."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["experiment"], r["config"]), []).append(r)
    out = []
    for (exp, cfg), rs in groups.items():
        s = ConfigSummary(exp, cfg, dims_of(rs[0]), len(rs), dict(Counter(r["outcome"] for r in rs)))
        for m in metrics:
            s.stats[m] = mean_ci(r.get(m) for r in rs)
        out.append(s)
    out.sort(key=lambda s: (s.experiment, _proto_order(s.dims["protocol"]), s.dims["servers"], s.dims["loss"],
                            s.dims["duplicate"], s.dims["delay"], s.dims["crash_rate"],
                            s.dims["partition_rate"], s.dims["workload"], s.config))
    return out


def _proto_order(name: str) -> tuple[int, str]:
    from ..protocols import BUILTIN

    names = list(BUILTIN)
    return (names.index(name), name) if name in names else (len(names), name)


def group_stat(rows: Sequence[dict[str, Any]], by: Sequence[str], metric: str) -> dict[tuple, Stat]:
    """``metric`` pooled over all rows sharing the values of the ``by`` columns."""
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in by), []).append(r.get(metric))
    return {k: mean_ci(v) for k, v in sorted(groups.items(), key=lambda kv: tuple(map(_sortable, kv[0])))}


def _sortable(x: Any) -> tuple:
    return (0, x, "") if isinstance(x, (int, float)) else (1, 0, str(x))


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
    if s.half is not None:
        text += f" ±{fmt(s.half)}"
    if p99:
        text += f"\np99 {fmt(s.p99)}"
    return text


DIM_LABELS = {"protocol": "protocol", "servers": "n", "loss": "loss", "duplicate": "dup", "delay": "delay",
              "crash_rate": "crash/h", "partition_rate": "part/h", "workload": "load"}


def print_table(summaries: Sequence[ConfigSummary], console=None) -> None:
    """A rich table per experiment: varying dimensions, then metrics (mean ±95% CI, p99)."""
    from rich.console import Console
    from rich.table import Table

    if console is None:
        import sys

        console = Console() if sys.stdout.isatty() else Console(width=200)
    by_exp: dict[str, list[ConfigSummary]] = {}
    for s in summaries:
        by_exp.setdefault(s.experiment, []).append(s)
    for exp, ss in by_exp.items():
        varying = [d for d in DIM_LABELS if len({str(s.dims[d]) for s in ss}) > 1 or d == "protocol"]
        fixed = [f"{DIM_LABELS[d]}={ss[0].dims[d]}" for d in DIM_LABELS if d not in varying]
        t = Table(title=f"{exp}: mean ±95% CI over seeds, p99 over runs",
                  caption=("fixed: " + ", ".join(fixed)) if fixed else None, show_lines=True)
        for d in varying:
            t.add_column(DIM_LABELS[d])
        for col in ("runs", "latency", "run p99 latency", "msgs/request", "throughput", "unavailable",
                    "leader changes", "SAFE/UNSAFE/STUCK"):
            t.add_column(col, justify="right")
        for s in ss:
            o = s.outcomes
            t.add_row(*[str(s.dims[d]) for d in varying], str(s.runs), cell(s.stats["latency_mean"]),
                      cell(s.stats["latency_p99"]), cell(s.stats["messages_per_request"]),
                      cell(s.stats["throughput"], p99=False), cell(s.stats["unavailable_time"]),
                      cell(s.stats["leader_changes"], p99=False),
                      f"{o.get('SAFE', 0)}/{o.get('UNSAFE', 0)}/{o.get('STUCK', 0)}")
        console.print(t)
