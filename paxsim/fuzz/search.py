"""The search: draw failure schedules with hypothesis until one breaks the protocol,
then shrink it to a minimal schedule and replay it.

How it works. Hypothesis is used programmatically: each *chunk* is one ``@given``
test run in-process with ``max_examples`` examples, ``database=None`` and a seed
derived from the user's seed and the chunk number; the test body runs a scenario
(``record_trace=False``), counts its coverage, steers the search with
``target()`` (leader changes, rounds tried, recoveries) and raises when the
outcome is a violation (UNSAFE, or STUCK when looking for liveness failures).
Hypothesis then shrinks the failing schedule and replays the smallest one, which
is the one the exception carries. Chunks repeat until the budget ends.

Shrinking is capped (``FuzzConfig.shrink_runs`` simulations after the first
failure; the failures already seen are remembered, so hypothesis's final replay
stays consistent). A greedy pass follows (:func:`minimize`): remove each fault,
each link override, loss, duplication, jitter ... one at a time, keeping every
change after which the protocol still fails the same way and the honest size
(:mod:`paxsim.fuzz.size`: what was lost, crashed, recovered, split or delayed in
the run) is no larger.

Speed: a drawn dict is valid by construction, so it becomes a scenario without a
second validation (:mod:`paxsim.fuzz.build`); a run's world is disposed of as soon
as it has been looked at (freed by reference counting, not by the cyclic garbage
collector), and while a chunk runs what lived before it is frozen out of the
collector's full collections (:func:`frozen_heap`).

Determinism: chunk k's examples depend only on (seed, k), so the same seed gives
the same counterexample (and the same file bytes) as long as it is found within
the budget. With ``workers > 1`` chunks run in parallel processes and the lowest
chunk that failed wins, whatever finished first: the answer of one worker.
"""

from __future__ import annotations

import gc
import json
import time
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable, Optional

from hypothesis import HealthCheck, Phase, Verbosity, given, seed as hseed, settings, target

from ..driver import RunResult, run_scenario
from ..scenario import Scenario, from_dict
from ..sim.rng import derive
from .build import ScenarioBuilder
from .size import run_counts
from .strategies import FAMILIES, scenarios, settle_chains

ERROR = "ERROR"  # the protocol raised an exception

COVERAGE = ("lost messages", "crashes", "recoveries", "partitions", "2+ leaders", "3+ leaders", "4+ leaders",
            "recovery and 3+ leaders", "crash, partition and 3+ leaders")
"""What a campaign's coverage report counts: runs in which each happened."""


@dataclass(frozen=True)
class FuzzConfig:
    """What to search: protocol, sizes, and whether STUCK counts as a failure.
    ``enabled``: the fault families schedules may use (see
    :data:`~paxsim.fuzz.strategies.FAMILIES`; fewer makes a weaker fuzzer)."""

    protocol: str
    servers: int = 3
    clients: int = 2
    requests: int = 1
    liveness: bool = False
    max_faults: int = 5
    params: tuple = ()          # sorted (key, value) pairs: hashable, picklable
    chunk: int = 200            # hypothesis examples per chunk
    shrink_runs: int = 150      # runs hypothesis may spend shrinking after the first failure
    settle: Optional[float] = None   # None: 30 when looking for safety only, else the scenario default
    enabled: tuple = FAMILIES
    guide: bool = False         # steer hypothesis with target() (leader changes, rounds, recoveries)

    def strategy(self):
        settle = self.settle
        if settle is None and not self.liveness:
            settle = 30.0
        return scenarios(self.protocol, servers=self.servers, clients=self.clients, requests=self.requests,
                         liveness=self.liveness, max_faults=self.max_faults, params=dict(self.params) or None,
                         settle=settle, enabled=self.enabled)

    def fails(self, outcome: str) -> bool:
        return outcome == "UNSAFE" or outcome == ERROR or (self.liveness and outcome == "STUCK")


@dataclass
class Stats:
    """What a campaign ran: simulations, their time, and its coverage."""

    runs: int = 0
    sim_seconds: float = 0.0    # CPU seconds simulating
    coverage: dict = field(default_factory=lambda: dict.fromkeys(COVERAGE, 0))

    def add(self, other: "Stats") -> None:
        self.runs += other.runs
        self.sim_seconds += other.sim_seconds
        for k, v in other.coverage.items():
            self.coverage[k] = self.coverage.get(k, 0) + v


def observe(r: RunResult, stats: Optional[Stats], guide: bool) -> None:
    """Count the run's coverage; ``guide``: inside a hypothesis test, steer the
    search (``target``) towards what deep bugs need: more leader changes, higher
    rounds, crashes followed by recoveries."""
    world = r.world
    net = world.net
    leaders = net.logs.get("leader", 0)
    crashes = down = 0
    for h in world.hosts.values():
        crashes += h.crashes
        down += not h.up
    recoveries = crashes - down
    if stats is not None:
        cov = stats.coverage
        for key, hit in (("lost messages", net.lost), ("crashes", crashes), ("recoveries", recoveries),
                         ("partitions", net.splits), ("2+ leaders", leaders >= 2), ("3+ leaders", leaders >= 3),
                         ("4+ leaders", leaders >= 4), ("recovery and 3+ leaders", recoveries and leaders >= 3),
                         ("crash, partition and 3+ leaders", crashes and net.splits and leaders >= 3)):
            if hit:
                cov[key] += 1
    if guide:
        target(float(leaders), label="leader changes")
        target(float(net.sent.get("PREP", 0)), label="rounds tried")
        target(float(min(recoveries, 3) * 4 + min(leaders, 4)), label="recoveries and leaders")


def run_dict(d: dict, stats: Optional[Stats] = None, guide: bool = False, trace: bool = False,
             build: Optional[Callable[[dict], Scenario]] = None) -> tuple[str, str, Optional[RunResult]]:
    """Run a scenario dict: (outcome, error text if it raised, the run). ``stats``:
    add the run to these; ``guide``: steer hypothesis (see :func:`observe`);
    ``build``: makes the scenario of a drawn dict (default: validate it, ``from_dict``)."""
    sc = build(d) if build is not None else from_dict(d, source="<fuzz>")
    t0 = time.process_time()
    try:
        r = run_scenario(sc, record_trace=trace)
    except Exception as exc:  # a protocol bug is a finding too
        r = None
        outcome, error = ERROR, f"{type(exc).__name__}: {exc}"
    else:
        outcome, error = r.outcome, ""
    if stats is not None:
        stats.runs += 1
        stats.sim_seconds += time.process_time() - t0
    if r is not None and (stats is not None or guide):
        observe(r, stats, guide)
    return outcome, error, r


def outcome_of(d: dict) -> tuple[str, str]:
    """Run a scenario dict without a trace: (outcome, error text if it raised)."""
    outcome, error, r = run_dict(d)
    if r is not None:
        r.world.dispose()
    return outcome, error


class _Found(Exception):
    def __init__(self, d: dict, outcome: str, error: str):
        super().__init__(outcome)
        self.d = d
        self.outcome = outcome
        self.error = error


@dataclass
class ChunkResult:
    key: int                        # the chunk's number in the search
    runs: int                       # simulations run (generation and shrinking)
    seconds: float
    found: Optional[dict] = None
    outcome: Optional[str] = None
    error: str = ""
    first_fail_after: Optional[float] = None   # seconds into the chunk
    stats: Stats = field(default_factory=Stats)
    first_fail_runs: Optional[int] = None      # runs into the chunk
    cpu: float = 0.0                           # CPU seconds of the chunk (of the process that ran it)


def chunk_seed(seed: int, k: int) -> int:
    return derive(seed, "fuzz", k) % (2**32)


def run_chunk(cfg: FuzzConfig, seed: int, k: int, max_examples: int,
              below: Optional[int] = None) -> ChunkResult:
    """One hypothesis run of ``max_examples`` examples; shrinks what fails. With
    ``below``, only runs whose honest size (:mod:`paxsim.fuzz.size`) is smaller than
    that count as failing."""
    stats = Stats()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    first: list[float] = []
    first_runs: list[int] = []
    failing: dict[str, tuple[str, str]] = {}
    build = ScenarioBuilder(cfg.protocol)   # drawn dicts are valid: made into scenarios without a second check

    @settings(max_examples=max_examples, database=None, deadline=None, derandomize=False,
              phases=(Phase.generate, Phase.target, Phase.shrink) if cfg.guide else (Phase.generate, Phase.shrink),
              suppress_health_check=list(HealthCheck),
              verbosity=Verbosity.quiet, report_multiple_bugs=False, print_blob=False)
    @hseed(chunk_seed(seed, k) if below is None else derive(seed, "smaller", below, k) % (2**32))
    @given(cfg.strategy())
    def probe(d: dict) -> None:
        # hypothesis replays the smallest failure at the end (no failure yet: nothing to look up)
        known = failing.get(json.dumps(d, sort_keys=True)) if failing else None
        if known is None:
            if first and stats.runs - first_runs[0] >= cfg.shrink_runs:
                return             # the shrink budget is spent: nothing new counts as failing
            outcome, error, r = run_dict(d, stats, guide=cfg.guide, trace=below is not None, build=build)
            fails = cfg.fails(outcome) and (below is None or (r is not None and sum(run_counts(r).values()) < below))
            if r is not None:
                r.world.dispose()   # freed at once: the search spends less time collecting garbage
            if not fails:
                return
            if not first:
                first.append(time.perf_counter() - t0)
                first_runs.append(stats.runs)
            known = failing[json.dumps(d, sort_keys=True)] = (outcome, error)
        raise _Found(d, *known)     # one raise: hypothesis tells failures apart by their line

    with frozen_heap():
        try:
            probe()
        except _Found as f:
            return ChunkResult(k, stats.runs, time.perf_counter() - t0, f.d, f.outcome, f.error, first[0], stats,
                               first_runs[0], time.process_time() - cpu0)
    return ChunkResult(k, stats.runs, time.perf_counter() - t0, stats=stats, cpu=time.process_time() - cpu0)


@contextmanager
def frozen_heap():
    """While a chunk runs, the objects that lived before it (modules, hypothesis, the
    caller's data) are left out of the garbage collector's full collections, which
    would otherwise scan all of them again every few hundred runs (``gc.freeze``;
    undone after, and not at all if the caller froze objects itself)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


# ------------------------------------------------------------------- shrinking ---

def _candidates(d: dict):
    """Smaller variants of ``d``, one change each, biggest simplifications first."""
    faults = d.get("faults", [])

    def with_fault(i: int, f: Optional[dict]) -> dict:
        e = dict(d)
        e["faults"] = settle_chains(faults[:i] + ([f] if f is not None else []) + faults[i + 1:])
        if not e["faults"]:
            del e["faults"]
        return e

    for i in range(len(faults)):
        yield with_fault(i, None)
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
    for i, l in enumerate(links):                # a slow link that is less slow, a lossy one less lossy
        lower = []
        dl = l.get("delay")
        if isinstance(dl, dict) and dl.get("dist") == "uniform" and dl["high"] - dl["low"] > 1.0:
            lower.append({**l, "delay": {**dl, "high": dl["low"] + 1.0}})
        elif isinstance(dl, (int, float)) and dl > 2.0:
            lower.append({**l, "delay": 2.0})
        if l.get("loss", 0.0) > 0.05:
            lower.append({**l, "loss": 0.05})
        for smaller in lower:
            yield {**d, "network": {**net, "links": links[:i] + [smaller] + links[i + 1:]}}
    for key, plain in (("loss", 0.0), ("duplicate", 0.0), ("delay", 1.0), ("fifo", True)):
        if key in net and net[key] != plain:
            yield {**d, "network": {**net, key: plain}}
    for rate in (0.05, 0.1):                    # a less lossy network loses fewer messages
        if net.get("loss", 0.0) > rate:
            yield {**d, "network": {**net, "loss": rate}}
    for i, f in enumerate(faults):
        if f.get("nth", 1) > 1:
            yield with_fault(i, {**f, "nth": f["nth"] - 1})
        if "partition" in f and "until" in f:   # a partition that heals earlier
            for dur in (5.0, 10.0):
                if f["until"] - f["at"] > dur:
                    yield with_fault(i, {**f, "until": f["at"] + dur})
        if "until_sends" in f:                   # reconnected by time alone
            yield with_fault(i, {k: v for k, v in f.items() if k != "until_sends"})
        if "for" in f:                           # down (or cut off) for good, or for less long
            yield with_fault(i, {k: v for k, v in f.items() if k != "for"})
            for dur in (5.0, 10.0):
                if f["for"] > dur:
                    yield with_fault(i, {**f, "for": dur})
        for k in ("drop", "delay", "crash_after_send", "crash_after_receive", "isolate_after_send"):
            if k in f:
                m = f[k]
                keep = {"crash_after_send": "from", "crash_after_receive": "to"}.get(k)
                for field_ in ("request", "to", "from"):
                    if field_ in m and len(m) > 1 and field_ != keep:
                        yield with_fault(i, {**f, k: {a: b for a, b in m.items() if a != field_}})
    clients = d.get("clients", [])
    for i, c in enumerate(clients):
        for key in ("servers", "retry"):
            if key in c:
                e = dict(d)
                e["clients"] = clients[:i] + [{a: b for a, b in c.items() if a != key}] + clients[i + 1:]
                yield e
    if d.get("seed", 0) != 0:
        yield {**d, "seed": 0}


def minimize(d: dict, still_fails: Callable[[dict], bool], max_runs: int = 400,
             size: Optional[Callable[[dict], int]] = None) -> tuple[dict, int]:
    """Greedy one-change-at-a-time shrinking; returns (smallest dict, runs used).
    With ``size``, a change is kept only if it does not make the size larger (every
    change simplifies the schedule's text; the size says what happened in the run)."""
    runs = 0
    current = size(d) if size is not None else 0
    improved = True
    while improved and runs < max_runs:
        improved = False
        for e in _candidates(d):
            if runs >= max_runs:
                break
            runs += 1
            if not still_fails(e):
                continue
            if size is not None:
                n = size(e)
                if n > current:
                    continue
                current = n
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
    runs_to_first: Optional[int] = None   # simulations until the first failure (of the winning chunk)
    replay: Optional[RunResult] = None
    key: Optional[int] = None       # the chunk that found it
    stats: Stats = field(default_factory=Stats)   # the search's runs (not the shrinking's)
    search_seconds: float = 0.0     # CPU seconds of the search itself, all workers' chunks
    counts: Optional[dict] = None   # the counterexample's honest size, by kind

    @property
    def runs_per_second(self) -> float:
        return self.runs / self.seconds if self.seconds > 0 else 0.0

    @property
    def generation_share(self) -> float:
        """Of the search's time, the share not spent simulating (drawing examples,
        building scenarios, hypothesis's own work)."""
        if self.search_seconds <= 0:
            return 0.0
        return max(0.0, 1.0 - self.stats.sim_seconds / self.search_seconds)


def search(cfg: FuzzConfig, seed: int = 0, *, budget_examples: Optional[int] = None,
           budget_seconds: Optional[float] = None, workers: int = 1, improve: int = 3,
           progress: Optional[Callable[[Progress], None]] = None, minimize_runs: int = 400) -> SearchResult:
    """Search for a failing schedule within the budget (default: 60 seconds).

    Chunk k (of ``cfg.chunk`` examples) is seeded by (seed, k) alone; the search
    stops at the first chunk that fails. With several workers chunks run in
    parallel and the lowest failing chunk wins, so the answer is the one a single
    worker gives (if it gets that far within the budget).

    Once one is found and shrunk, up to ``improve`` more chunks look for a failing
    schedule of smaller honest size (:mod:`paxsim.fuzz.size`), each success lowering
    the bar: hypothesis shrinks by the shape of its choices, which does not always
    agree with what a reader counts. ``minimize_runs`` caps each greedy pass."""
    if budget_examples is None and budget_seconds is None:
        budget_seconds = 60.0
    t0 = time.perf_counter()
    prog = Progress()
    best: Optional[ChunkResult] = None
    time_to_first: Optional[float] = None
    runs_to_first: Optional[int] = None
    stats = Stats()
    busy = 0.0

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
        nonlocal best, time_to_first, busy, runs_to_first
        prog.runs += r.runs
        prog.examples += size
        prog.chunks += 1
        prog.elapsed = time.perf_counter() - t0
        stats.add(r.stats)
        busy += r.cpu
        if r.found is not None:
            if time_to_first is None:
                time_to_first = prog.elapsed - r.seconds + (r.first_fail_after or 0.0)
                runs_to_first = prog.runs - r.runs + (r.first_fail_runs or 0)
            if best is None or r.key < best.key:
                best = r
            prog.found = True
        if progress is not None:
            progress(prog)

    if workers <= 1:
        for k, n in enumerate(sizes()):
            if out_of_time():
                break
            r = run_chunk(cfg, seed, k, n)
            account(r, n)
            if best is not None:
                break
    else:
        tasks = enumerate(sizes())
        pending: dict[Future, tuple[int, int]] = {}
        with ProcessPoolExecutor(max_workers=workers) as pool:
            def submit() -> bool:
                if best is not None or out_of_time():
                    return False
                task = next(tasks, None)
                if task is None:
                    return False
                k, n = task
                pending[pool.submit(run_chunk, cfg, seed, k, n)] = task
                return True

            for _ in range(workers):
                if not submit():
                    break
            while pending:
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: pending[f][0]):
                    k, n = pending.pop(fut)
                    account(fut.result(), n)
                while len(pending) < workers and submit():
                    pass
                # a chunk later than the best failing one cannot change the answer
                if best is not None:
                    for fut in [f for f, (k, _) in pending.items() if k > best.key]:
                        if fut.cancel():
                            pending.pop(fut)

    res = SearchResult(cfg, seed, prog.runs, prog.examples, time.perf_counter() - t0,
                       time_to_first=time_to_first, runs_to_first=runs_to_first, stats=stats,
                       search_seconds=busy)
    if best is None:
        return res
    outcome = best.outcome
    error_kind = best.error.split(":", 1)[0]

    def still_fails(e: dict) -> bool:
        o, err = outcome_of(e)
        if outcome == ERROR:
            return o == ERROR and err.split(":", 1)[0] == error_kind
        return o == outcome

    def size(e: dict) -> int:
        _o, _err, r = run_dict(e, trace=True)
        return sum(run_counts(r).values()) if r is not None else 0

    found, extra = minimize(best.found, still_fails, max_runs=minimize_runs, size=size if outcome != ERROR else None)
    res.runs += extra
    n = size(found) if outcome != ERROR else 0
    for j in range(improve):
        if n == 0 or outcome == ERROR:
            break
        r = run_chunk(cfg, seed, j, cfg.chunk, below=n)
        res.runs += r.runs
        if r.found is not None and r.outcome == outcome:
            smaller, extra = minimize(r.found, still_fails, max_runs=minimize_runs, size=size)
            res.runs += extra
            if size(smaller) < n:
                found, n = smaller, size(smaller)
    found = dict(found)
    res.raw = best.found
    res.found = finalize(found, cfg, seed, outcome)
    res.outcome = outcome
    res.error = best.error
    res.key = best.key
    if outcome != ERROR:
        _o, _err, r = run_dict(res.found, trace=True)
        res.counts = run_counts(r) if r is not None else None
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


__all__ = ["COVERAGE", "ERROR", "ChunkResult", "FuzzConfig", "Progress", "SearchResult", "Stats", "chunk_seed",
           "finalize", "frozen_heap", "minimize", "observe", "outcome_of", "replay", "run_chunk", "run_dict", "search"]
