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
        """Streaming counters of the run (no trace needed); see :mod:`paxsim.metrics`."""
        from .metrics import run_metrics

        return run_metrics(self.world, self.verdict)

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


def make_world(scenario: Scenario, *, record_trace: bool = True, stream: bool = False) -> World:
    """The world that carries ``scenario`` out: the simulator's, or, for a scenario
    with a ``[[schedule]]`` (paxsim check's counterexamples), one that replays it."""
    if scenario.schedule:
        from .sim.replay import ReplayWorld

        return ReplayWorld(scenario, record_trace=record_trace)
    return World(scenario, record_trace=record_trace, stream=stream)


def run_scenario(scenario: Scenario, seed: Optional[int] = None, *, record_trace: bool = True,
                 stream: bool = False) -> RunResult:
    """Run ``scenario`` and check it. ``stream``: judge the records as they come and
    keep none (the result's history then has no records; see :mod:`paxsim.streaming`)."""
    if seed is not None:
        scenario = scenario.with_seed(seed)
    world = make_world(scenario, record_trace=record_trace, stream=stream)
    history = world.run()
    verdict = check(history)
    if world.trace is not None:
        world.trace.add(world.env.now, "verdict", info={
            "outcome": verdict.outcome,
            "violations": [{"invariant": v.invariant, "detail": v.detail, "latent": v.latent,
                            "positions": list(v.positions)} for v in verdict.violations],
        })
    return RunResult(scenario, scenario.seed, verdict, history, world.trace, world)
