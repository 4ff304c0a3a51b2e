"""The search: draw failure schedules with hypothesis until one breaks the protocol,
then shrink it to a minimal schedule and replay it.

How it works. Hypothesis is used programmatically: each *chunk* is one ``@given``
test run in-process with ``max_examples`` examples, ``database=None`` and a seed
derived from the user's seed, the worker number and the chunk number; the test
body runs a scenario (``record_trace=False``) and raises when the outcome is a
violation (UNSAFE, or STUCK when looking for liveness failures). Hypothesis then
shrinks the failing schedule and replays the smallest one, which is the one the
exception carries. Chunks repeat until the budget (examples or seconds) ends.

Shrinking is capped (``FuzzConfig.shrink_runs`` simulations after the first
failure; the failures already seen are remembered, so hypothesis's final replay
stays consistent). A greedy pass follows (:func:`minimize`): remove each fault, each link override,
loss, duplication, jitter ... one at a time, keeping every removal after which the
protocol still fails the same way. What is left is as small as the tutorial's
own figures (see :func:`~paxsim.fuzz.strategies.schedule_size`).

Determinism: a chunk's examples depend only on its seed, so the same seed gives
the same counterexample (and the same file bytes) as long as it is found within
the budget. With ``workers > 1`` chunks (k, w) run in parallel processes and the
counterexample of the smallest (k, w) that failed wins, whatever finished first.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from hypothesis import HealthCheck, Phase, Verbosity, given, seed as hseed, settings, target

from ..driver import RunResult, run_scenario
from ..scenario import from_dict
from ..sim.rng import derive
from .strategies import scenarios, schedule_size

ERROR = "ERROR"  # the protocol raised an exception


@dataclass(frozen=True)
class FuzzConfig:
    """What to search: protocol, sizes, and whether STUCK counts as a failure."""

    protocol: str
    servers: int = 3
    clients: int = 2
    requests: int = 1
    liveness: bool = False
    max_faults: int = 5
    params: tuple = ()          # sorted (key, value) pairs: hashable, picklable
    chunk: int = 100            # hypothesis examples per chunk
    shrink_runs: int = 300      # runs hypothesis may spend shrinking after the first failure
    settle: Optional[float] = None   # None: 30 when looking for safety only, else the scenario default

    def strategy(self):
        settle = self.settle
        if settle is None and not self.liveness:
            settle = 30.0
        return scenarios(self.protocol, servers=self.servers, clients=self.clients, requests=self.requests,
                         liveness=self.liveness, max_faults=self.max_faults, params=dict(self.params) or None,
                         settle=settle)

    def fails(self, outcome: str) -> bool:
        return outcome == "UNSAFE" or outcome == ERROR or (self.liveness and outcome == "STUCK")


def outcome_of(d: dict, observe: bool = False) -> tuple[str, str]:
    """Run a scenario dict without a trace: (outcome, error text if it raised).
    ``observe``: inside a hypothesis test, steer the search (``target``) towards
    runs with more leader changes and crashes, where the deep bugs live."""
    sc = from_dict(d, source="<fuzz>")
    try:
        r = run_scenario(sc, record_trace=False)
    except Exception as exc:  # a protocol bug is a finding too
        return ERROR, f"{type(exc).__name__}: {exc}"
    if observe:
        logs = r.world.net.logs
        target(float(logs.get("leader", 0)), label="leader changes")
        target(float(sum(h.crashes for h in r.world.hosts.values())), label="crashes")
    return r.outcome, ""


class _Found(Exception):
    def __init__(self, d: dict, outcome: str, error: str):
        super().__init__(outcome)
        self.d = d
        self.outcome = outcome
        self.error = error


@dataclass
class ChunkResult:
    key: tuple[int, int]            # (chunk number, worker)
    runs: int                       # simulations run (generation and shrinking)
    seconds: float
    found: Optional[dict] = None
    outcome: Optional[str] = None
    error: str = ""
    first_fail_after: Optional[float] = None   # seconds into the chunk


def chunk_seed(seed: int, worker: int, k: int) -> int:
    return derive(seed, "fuzz", worker, k) % (2**32)


def run_chunk(cfg: FuzzConfig, seed: int, worker: int, k: int, max_examples: int,
              below: Optional[int] = None) -> ChunkResult:
    """One hypothesis run of ``max_examples`` examples; shrinks what fails. With
    ``below``, only schedules smaller than that (see ``schedule_size``) count."""
    runs = 0
    t0 = time.perf_counter()
    first: list[float] = []
    first_runs: list[int] = []
    failing: dict[str, tuple[str, str]] = {}

    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False,
              phases=(Phase.generate, Phase.target, Phase.shrink), suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False)
    @hseed(chunk_seed(seed, worker, k) if below is None else derive(seed, "smaller", below, k) % (2**32))
    @given(cfg.strategy())
    def probe(d: dict) -> None:
        nonlocal runs
        if below is not None and schedule_size(d) >= below:
            return
        key = json.dumps(d, sort_keys=True)
        known = failing.get(key)   # hypothesis replays the smallest failure at the end
        if known is None:
            if first and runs - first_runs[0] >= cfg.shrink_runs:
                return             # the shrink budget is spent: nothing new counts as failing
            runs += 1
            outcome, error = outcome_of(d, observe=True)
            if not cfg.fails(outcome):
                return
            if not first:
                first.append(time.perf_counter() - t0)
                first_runs.append(runs)
            known = failing[key] = (outcome, error)
        raise _Found(d, *known)     # one raise: hypothesis tells failures apart by their line

    try:
        probe()
    except _Found as f:
        return ChunkResult((k, worker), runs, time.perf_counter() - t0, f.d, f.outcome, f.error, first[0])
    return ChunkResult((k, worker), runs, time.perf_counter() - t0)


# ------------------------------------------------------------------- shrinking ---

def _candidates(d: dict):
    """Smaller variants of ``d``, one change each, biggest simplifications first."""
    faults = d.get("faults", [])
    for i in range(len(faults)):
        e = dict(d)
        e["faults"] = faults[:i] + faults[i + 1:]
        if not e["faults"]:
            del e["faults"]
        yield e
    net = d.get("network", {})
    links = net.get("links", [])
    for i in range(len(links)):
        e = dict(d)
        n = dict(net)
        n["links"] = links[:i] + links[i + 1:]
        if not n["links"]:
            del n["links"]
        e["network"] = n
        yield e
    for key, plain in (("loss", 0.0), ("duplicate", 0.0), ("delay", 1.0), ("fifo", True)):
        if key in net and net[key] != plain:
            e = dict(d)
            e["network"] = {**net, key: plain}
            yield e
    for i, f in enumerate(faults):
        if f.get("nth", 1) > 1:
            e = dict(d)
            e["faults"] = faults[:i] + [{**f, "nth": 1}] + faults[i + 1:]
            yield e
        if "partition" in f and "until" in f:   # a partition that heals earlier
            for dur in (5.0, 10.0):
                if f["until"] - f["at"] > dur:
                    e = dict(d)
                    e["faults"] = faults[:i] + [{**f, "until": f["at"] + dur}] + faults[i + 1:]
                    yield e
        for k in ("drop", "delay", "crash_after_send", "crash_after_receive"):
            if k in f:
                m = f[k]
                keep = {"crash_after_send": "from", "crash_after_receive": "to"}.get(k)
                for field_ in ("request", "to", "from"):
                    if field_ in m and len(m) > 1 and field_ != keep:
                        e = dict(d)
                        e["faults"] = faults[:i] + [{**f, k: {a: b for a, b in m.items() if a != field_}}] \
                            + faults[i + 1:]
                        yield e
    clients = d.get("clients", [])
    for i, c in enumerate(clients):
        for key in ("servers", "retry"):
            if key in c:
                e = dict(d)
                e["clients"] = clients[:i] + [{a: b for a, b in c.items() if a != key}] + clients[i + 1:]
                yield e
    if d.get("seed", 0) != 0:
        yield {**d, "seed": 0}


def minimize(d: dict, still_fails: Callable[[dict], bool], max_runs: int = 400) -> tuple[dict, int]:
    """Greedy one-change-at-a-time shrinking; returns (smallest dict, runs used)."""
    runs = 0
    improved = True
    while improved and runs < max_runs:
        improved = False
        for e in _candidates(d):
            if runs >= max_runs:
                break
            runs += 1
            if still_fails(e):
                d = e
                improved = True
                break
    return d, runs


# ---------------------------------------------------------------------- search ---

@dataclass
class Progress:
    runs: int = 0
    examples: int = 0
    chunks: int = 0
    elapsed: float = 0.0
    found: bool = False


@dataclass
class SearchResult:
    config: FuzzConfig
    seed: int
    runs: int                       # simulations run in the search (all workers)
    examples: int                   # hypothesis examples budgeted in finished chunks
    seconds: float
    found: Optional[dict] = None    # the minimal failing scenario dict (with expected)
    outcome: Optional[str] = None
    error: str = ""
    raw: Optional[dict] = None      # what hypothesis shrank to, before the greedy pass
    time_to_first: Optional[float] = None
    replay: Optional[RunResult] = None
    key: Optional[tuple[int, int]] = None

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.seconds if self.seconds > 0 else 0.0


def search(cfg: FuzzConfig, seed: int = 0, *, budget_examples: Optional[int] = None,
           budget_seconds: Optional[float] = None, workers: int = 1, improve: int = 3,
           progress: Optional[Callable[[Progress], None]] = None) -> SearchResult:
    """Search for a failing schedule within the budget (default: 60 seconds).

    Once one is found and shrunk, up to ``improve`` more chunks look for a failing
    schedule with fewer faults (by ``schedule_size``), each success lowering the bar:
    hypothesis shrinks by the shape of its choices, which does not always agree with
    what a reader counts."""
    if budget_examples is None and budget_seconds is None:
        budget_seconds = 60.0
    t0 = time.perf_counter()
    prog = Progress()
    best: Optional[ChunkResult] = None
    time_to_first: Optional[float] = None

    def sizes():
        """Chunk sizes in order, until the example budget is spent (None: forever)."""
        left = budget_examples
        while left is None or left > 0:
            n = cfg.chunk if left is None else min(cfg.chunk, left)
            if left is not None:
                left -= n
            yield n

    def out_of_time() -> bool:
        return budget_seconds is not None and time.perf_counter() - t0 >= budget_seconds

    def account(r: ChunkResult, size: int) -> None:
        nonlocal best, time_to_first
        prog.runs += r.runs
        prog.examples += size
        prog.chunks += 1
        prog.elapsed = time.perf_counter() - t0
        if r.found is not None:
            if time_to_first is None:
                time_to_first = prog.elapsed - r.seconds + (r.first_fail_after or 0.0)
            if best is None or r.key < best.key:
                best = r
            prog.found = True
        if progress is not None:
            progress(prog)

    if workers <= 1:
        for k, n in enumerate(sizes()):
            if out_of_time():
                break
            r = run_chunk(cfg, seed, 0, k, n)
            account(r, n)
            if best is not None:
                break
    else:
        tasks = ((k, w, n) for k, n in enumerate(sizes()) for w in range(workers))
        pending: dict[Future, tuple[int, int, int]] = {}
        with ProcessPoolExecutor(max_workers=workers) as pool:
            def submit() -> bool:
                if best is not None or out_of_time():
                    return False
                task = next(tasks, None)
                if task is None:
                    return False
                k, w, n = task
                pending[pool.submit(run_chunk, cfg, seed, w, k, n)] = task
                return True

            for _ in range(workers):
                if not submit():
                    break
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: pending[f][:2]):
                    k, w, n = pending.pop(fut)
                    account(fut.result(), n)
                while len(pending) < workers and submit():
                    pass
                # a chunk later than the best failing one cannot change the answer
                if best is not None:
                    for fut in [f for f, (k, w, _) in pending.items() if (k, w) > best.key]:
                        if fut.cancel():
                            pending.pop(fut)

    res = SearchResult(cfg, seed, prog.runs, prog.examples, time.perf_counter() - t0,
                       time_to_first=time_to_first)
    if best is None:
        return res
    outcome = best.outcome
    error_kind = best.error.split(":", 1)[0]

    def still_fails(e: dict) -> bool:
        o, err = outcome_of(e)
        if outcome == ERROR:
            return o == ERROR and err.split(":", 1)[0] == error_kind
        return o == outcome

    found, extra = minimize(best.found, still_fails)
    res.runs += extra
    size = schedule_size(found)
    for j in range(improve):
        if size == 0:
            break
        r = run_chunk(cfg, seed, 0, j, cfg.chunk, below=size)
        res.runs += r.runs
        if r.found is not None and r.outcome == outcome:
            smaller, extra = minimize(r.found, still_fails)
            res.runs += extra
            if schedule_size(smaller) < size:
                found, size = smaller, schedule_size(smaller)
    found = dict(found)
    res.raw = best.found
    res.found = finalize(found, cfg, seed, outcome)
    res.outcome = outcome
    res.error = best.error
    res.key = best.key
    res.seconds = time.perf_counter() - t0
    return res


def finalize(d: dict, cfg: FuzzConfig, seed: int, outcome: str) -> dict:
    """The counterexample as it is written: a description and the expected outcome."""
    d = dict(d)
    what = {"UNSAFE": "a safety violation", "STUCK": "a liveness failure (STUCK)",
            ERROR: "an exception in the protocol"}[outcome]
    d["description"] = (f"Fuzzed counterexample: {what} of {cfg.protocol} with {cfg.servers} servers, "
                        f"{cfg.clients} clients x {cfg.requests} requests (paxsim fuzz --seed {seed})")
    d.pop("expected", None)
    if outcome != ERROR:
        d["expected"] = outcome
    return d


def replay(d: dict) -> RunResult:
    """Run the counterexample with a trace, as ``paxsim run`` would."""
    return run_scenario(from_dict(d, source="<counterexample>"), record_trace=True)


__all__ = ["ERROR", "ChunkResult", "FuzzConfig", "Progress", "SearchResult", "chunk_seed", "finalize",
           "minimize", "outcome_of", "replay", "run_chunk", "search"]
