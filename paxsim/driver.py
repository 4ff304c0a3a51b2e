"""The driver: scenario -> world -> run -> check -> :class:`RunResult`.

The CLI, notebooks, the fuzzer and sweeps all run scenarios through here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .checker import Verdict, check
from .history import History
from .scenario import Scenario
from .sim.trace import Trace
from .sim.world import World


@dataclass
class RunResult:
    scenario: Scenario
    seed: int
    verdict: Verdict
    history: History
    trace: Optional[Trace]
    world: World

    @property
    def outcome(self) -> str:
        return self.verdict.outcome

    @property
    def expected(self) -> Optional[str]:
        return self.scenario.expected

    @property
    def match(self) -> Optional[bool]:
        return None if self.expected is None else self.outcome == self.expected

    def trace_digest(self) -> Optional[str]:
        return None if self.trace is None else self.trace.digest()

    def metrics(self) -> dict[str, Any]:
        """Streaming counters of the run (no trace needed)."""
        w = self.world
        cm = w.client_metrics
        sent = sum(w.net.sent.values())
        lat = sorted(cm.latencies)

        def pct(q: float) -> Optional[float]:
            if not lat:
                return None
            return lat[min(len(lat) - 1, int(q * len(lat)))]

        return {
            "requests_sent": cm.invocations,
            "requests_completed": cm.completions,
            "latency_mean": (sum(lat) / len(lat)) if lat else None,
            "latency_p50": pct(0.5),
            "latency_p99": pct(0.99),
            "latency_max": lat[-1] if lat else None,
            "messages_sent": sent,
            "messages_delivered": sum(w.net.delivered.values()),
            "messages_dropped": sum(w.net.dropped.values()),
            "messages_duplicated": sum(w.net.duplicated.values()),
            "sent_by_type": dict(sorted(w.net.sent.items())),
            "messages_per_request": (sent / cm.completions) if cm.completions else None,
            "unavailable_time": cm.unavailable,
        }

    def to_json(self) -> dict[str, Any]:
        sc = self.scenario
        return {
            "scenario": sc.name,
            "figure": sc.figure,
            "protocol": sc.protocol,
            "seed": self.seed,
            "outcome": self.outcome,
            "expected": self.expected,
            "match": self.match,
            "violations": [v.to_json() for v in self.verdict.violations],
            "trace_digest": self.trace_digest(),
        }


def run_scenario(scenario: Scenario, seed: Optional[int] = None, *, record_trace: bool = True) -> RunResult:
    if seed is not None:
        scenario = scenario.with_seed(seed)
    world = World(scenario, record_trace=record_trace)
    history = world.run()
    verdict = check(history)
    return RunResult(scenario, scenario.seed, verdict, history, world.trace, world)
