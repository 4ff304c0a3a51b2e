"""Running a sweep: every (configuration, seed) of an experiment, once.

Each run is fixed by its configuration and seed: the fault schedule is drawn by
:func:`paxsim.schedules.random_scenario`, the run streams with no trace, and its
metrics become one database row. So the rows do not depend on who runs them:

- ``workers == 1``: in this process, one run after another;
- ``workers > 1``: a ``ProcessPoolExecutor`` fed batches of runs (:func:`chunks`:
  big ones first, smaller towards the end; a few per worker in flight, so memory
  stays flat and Ctrl-C is quick);
- ``scheduler="tcp://host:8786"``: the same batches on a Dask distributed cluster
  (``distributed.Client(address)``); the workers need paxsim installed, and the
  module of every protocol from outside paxsim (``mymod:MyPaxos``) is sent to
  them first (a ``.py`` file, or a package as a ``.zip``; see :func:`ship_modules`).

Runs already in the database are skipped, so rerunning an interrupted sweep
finishes it. Rows are committed as they come (see :mod:`paxsim.sweep.db`).
"""

from __future__ import annotations

import gc
import math
import os
import sys
import tempfile
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

from ..checker import check
from ..metrics import run_metrics
from ..sim.rng import stream
from ..sim.world import World
from .db import ResultsDB
from .grid import Experiment, RunConfig, SweepError


# ------------------------------------------------------------------- one run ---

def fault_count(rate: float, seed: int, what: str) -> int:
    """``floor(rate)``, plus one with probability ``rate - floor(rate)`` (from the seed)."""
    whole = int(math.floor(rate))
    frac = rate - whole
    if frac > 0 and stream(seed, "sweep", what).random() < frac:
        whole += 1
    return whole


PAIRED = "sweep"
"""The schedule stream of every sweep run: one seed gives the same request times,
crashes and partitions to every protocol and parameter value (runs pair by seed)."""


def build_scenario(cfg: RunConfig, seed: int):
    from ..schedules import random_scenario

    crashes = fault_count(cfg.crash_rate, seed, "crashes")
    partitions = fault_count(cfg.partition_rate, seed, "partitions")
    sc = random_scenario(cfg.protocol, seed, servers=cfg.servers, clients=cfg.clients, requests=cfg.requests,
                         loss=cfg.loss, duplicate=cfg.duplicate, crashes=crashes, partitions=partitions,
                         recover=cfg.recover, horizon=cfg.horizon, params=dict(cfg.params), delay=cfg.delay,
                         key=PAIRED)
    return sc, crashes, partitions


def run_one(experiment: str, cfg: RunConfig, seed: int) -> dict[str, Any]:
    """Run one configuration with one seed; the database row."""
    from .. import __version__

    sc, crashes, partitions = build_scenario(cfg, seed)
    world = World(sc, record_trace=False)
    world.client_metrics.threshold = cfg.threshold
    verdict = check(world.run())
    row: dict[str, Any] = {"experiment": experiment, "config": cfg.key(), "seed": seed}
    row.update(cfg.columns())
    row["paxsim_version"] = __version__
    row["crashes"] = crashes
    row["partitions"] = partitions
    row.update(run_metrics(world, verdict))
    return row


def run_chunk(experiment: str, chunk: Sequence[tuple[dict, int]]) -> list[dict[str, Any]]:
    """Run a chunk of (config as JSON, seed); top-level so that worker processes can import it."""
    return [run_one(experiment, RunConfig.from_json(c), s) for c, s in chunk]


# ----------------------------------------------------------------- the sweep ---

@dataclass
class SweepStats:
    experiment: str
    total: int          # runs in the grid
    skipped: int        # already in the database when the sweep started
    ran: int = 0        # run (and stored) by this sweep
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    superseded: dict[str, int] = field(default_factory=dict)  # protocol -> stored rows replaced (made by other code or paxsim)
    workers: int = 1
    db: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "total": self.total, "already_stored": self.skipped,
                "ran": self.ran, "superseded": dict(self.superseded), "complete": self.complete,
                "seconds": round(self.seconds, 3), "workers": self.workers, "db": self.db,
                "notes": list(self.notes)}

    @property
    def complete(self) -> bool:
        return self.skipped + self.ran >= self.total


class Progress:
    """A rich progress bar on a terminal, plain lines (at most every 2 s) otherwise;
    ``quiet``: nothing at all."""

    def __init__(self, title: str, total: int, done: int, enabled: Optional[bool] = None, stream=None,
                 quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.total = total
        self.done = done
        self.start_done = done
        self.title = title
        self.t0 = time.monotonic()
        self.last = 0.0
        self.bar = None
        tty = enabled if enabled is not None else self.stream.isatty()
        if tty and not quiet:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RP, TimeElapsedColumn, \
                TimeRemainingColumn, TextColumn

            self.bar = RP(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), TimeRemainingColumn(), console=Console(file=self.stream),
                          transient=False)
            self.task = self.bar.add_task(title, total=total, completed=done)
            self.bar.start()

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
            return
        if self.quiet:
            return
        now = time.monotonic()
        if now - self.last >= 2.0 or self.done >= self.total:
            self.last = now
            print(f"{self.title}: {self.done}/{self.total} runs ({now - self.t0:.1f}s)", file=self.stream,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


MAX_CHUNK = 100
MIN_CHUNK = 4


def chunks(tasks: list, workers: int) -> list[list]:
    """``tasks`` cut into batches for ``workers``: big ones first (runs take a few
    milliseconds, so a task per run would spend more time in hand-offs than in
    runs), shrinking towards the end (each batch is a share of what is left), so
    that no worker is left with a long batch while the others are idle."""
    out = []
    i = 0
    while i < len(tasks):
        size = max(MIN_CHUNK, min(MAX_CHUNK, (len(tasks) - i) // (2 * max(1, workers))))
        out.append(tasks[i:i + size])
        i += size
    return out


def run_sweep(exp: Experiment, db_path: str, *, workers: int = 1, scheduler: Optional[str] = None,
              progress: Optional[bool | str] = None, on_rows: Optional[Callable[[list[dict]], None]] = None,
              log=None) -> SweepStats:
    """Run every (configuration, seed) of ``exp`` not yet in ``db_path``; store the rows.

    ``progress``: True a rich bar, ``"lines"`` a plain line every 2 s, False
    nothing, None: a bar if ``log`` (stderr) is a terminal, else lines. Notes (left-out configurations, runs
    already stored, rows superseded) go to ``log`` (None: stderr; use
    ``open(os.devnull, "w")`` for silence). ``on_rows`` is called in this process
    with each batch of finished rows after they are handed to the database (tests
    use it to interrupt). Raises :class:`SweepError` on input it cannot run.
    """
    log = log or sys.stderr
    configs = exp.configs()
    if not configs:
        raise SweepError("the grid is empty: no protocol can run with the given servers and parameters (" +
                         "; ".join(exp.skipped) + ")")
    tasks = [(cfg, seed) for cfg in configs for seed in exp.seeds]
    _check_configs(configs, exp.seeds[0])
    t0 = time.monotonic()
    client = connect(scheduler) if scheduler else None
    try:
        if client is not None:
            ship_modules(client, exp.protocols)
        return _sweep(exp, db_path, tasks, t0, workers, client, progress, on_rows, log)
    finally:
        if client is not None:
            client.close()


def _check_configs(configs: Sequence[RunConfig], seed: int) -> None:
    """Refuse, before the database is made, a configuration whose scenarios the loader
    refuses (a delay too long for the protocol's heartbeat, ...): one per configuration
    is enough, since seeds change times and victims, not what is checked."""
    from ..cli import UsageError
    from ..scenario import ScenarioError

    for cfg in configs:
        try:
            build_scenario(cfg, seed)
        except ScenarioError as exc:
            raise UsageError(f"configuration {cfg.key()}: {exc.key}: {exc.problem}") from None


def _sweep(exp, db_path, tasks, t0, workers, client, progress, on_rows, log) -> SweepStats:
    with ResultsDB(db_path) as db:
        db.save_experiment(exp.name, exp.to_json())
        as_json = {cfg: cfg.to_json() for cfg in dict.fromkeys(cfg for cfg, _ in tasks)}  # one dict per config
        keys = {cfg: cfg.key() for cfg in as_json}
        superseded = db.supersede(exp.name, keys.values())
        done = db.done(exp.name)
        todo = [(as_json[cfg], seed) for cfg, seed in tasks if (keys[cfg], seed) not in done]
        stats = SweepStats(exp.name, len(tasks), len(tasks) - len(todo), notes=tuple(exp.skipped),
                           superseded=superseded, workers=0 if client is not None else max(1, workers),
                           db=db_path)
        for note in exp.skipped:
            print(f"note: left out {note}", file=log)
        for proto, n in superseded.items():
            print(f"note: {n} stored runs of {proto} in {exp.name} were made by other code of {proto} "
                  "(or another paxsim version); they are deleted and run again", file=log)
        if stats.skipped:
            print(f"{exp.name}: {stats.skipped} of {stats.total} runs already in {db_path} (same configuration, "
                  f"same protocol code); running the other {len(todo)}", file=log)
        bar = Progress(exp.name, stats.total, stats.skipped, stream=log, quiet=progress is False,
                       enabled=None if progress is None else progress is True)

        def take(rows: list[dict]) -> None:
            for r in rows:
                db.add(r)
            stats.ran += len(rows)
            bar.advance(len(rows))
            if on_rows is not None:
                on_rows(rows)

        try:
            if not todo:
                pass
            elif client is not None:
                _run_dask(exp.name, todo, client, take)
            elif workers <= 1:
                for item in todo:
                    take(run_chunk(exp.name, [item]))
            else:
                _run_processes(exp.name, todo, workers, take)
        finally:
            bar.close()
            db.flush()
            stats.seconds = time.monotonic() - t0
    return stats


def _run_processes(name: str, todo: list, workers: int, take) -> None:
    batches = chunks(todo, workers)
    gc.freeze()   # forked workers share the parent's objects: keep the collector from copying their pages
    ex = ProcessPoolExecutor(max_workers=workers)
    pending: set = set()
    it = iter(batches)
    try:
        for c in it:
            pending.add(ex.submit(run_chunk, name, c))
            if len(pending) >= workers * 3:
                break
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                pending.discard(f)
                take(f.result())
                nxt = next(it, None)
                if nxt is not None:
                    pending.add(ex.submit(run_chunk, name, nxt))
    except BrokenProcessPool as exc:
        # a worker died (killed, out of memory): keep what finished, stop
        for f in pending:
            if f.done() and not f.cancelled() and f.exception() is None:
                take(f.result())
        raise SweepAborted(f"a worker process died ({exc}); finished runs are saved, "
                           "rerun the same command to resume") from None
    except BaseException:
        # Ctrl-C or an error: save chunks that already finished, drop the rest
        for f in pending:
            if f.done() and not f.cancelled() and f.exception() is None:
                take(f.result())
        raise
    finally:
        ex.shutdown(wait=False, cancel_futures=True)
        gc.unfreeze()


class SweepAborted(RuntimeError):
    """The sweep stopped before its end (a worker died); finished runs are saved."""


def connect(address: str):
    """A ``distributed.Client`` for ``address``; a SweepError naming --scheduler if that fails."""
    try:
        from distributed import Client
    except ImportError:
        raise SweepError("--scheduler: needs dask.distributed (pip install 'paxsim[dask]')") from None
    try:
        return Client(address, timeout=20)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SweepError(f"--scheduler: cannot connect to {address}: {exc}") from None


def user_modules(protocols: Sequence[str]) -> list[str]:
    """The files that hold protocols from outside paxsim: a top-level module's ``.py``,
    or a top-level package's folder (each once, in the order of ``protocols``)."""
    from ..protocols import BUILTIN, load_protocol

    out: list[str] = []
    for name in protocols:
        if name in BUILTIN:
            continue
        load_protocol(name)  # imported already by the grid; found on the search path
        top = name.partition(":")[0].split(".")[0]
        path = getattr(sys.modules.get(top), "__file__", None)
        if top == "paxsim" or path is None:
            continue
        path = os.path.dirname(path) if os.path.basename(path) == "__init__.py" else path
        if path not in out:
            out.append(path)
    return out


def ship_modules(client, protocols: Sequence[str]) -> list[str]:
    """Send the module of every protocol from outside paxsim to the cluster's workers
    (also ones that join later): a worker plugin uploads the ``.py`` (or the package,
    zipped) and imports it. The names sent."""
    from distributed.diagnostics.plugin import UploadFile

    sent = []
    with tempfile.TemporaryDirectory(prefix="paxsim-ship-") as tmp:
        for path in user_modules(protocols):
            if os.path.isdir(path):
                top = os.path.basename(path)
                upload = os.path.join(tmp, f"{top}.zip")
                with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as z:
                    for folder, dirs, files in os.walk(path):
                        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                        for f in sorted(files):
                            if f.endswith((".py", ".toml", ".json")):
                                full = os.path.join(folder, f)
                                z.write(full, os.path.join(top, os.path.relpath(full, path)))
            else:
                upload = path
            client.register_plugin(UploadFile(upload), name=f"paxsim-upload-{os.path.basename(upload)}")
            sent.append(os.path.basename(upload))
    return sent


def _run_dask(name: str, todo: list, client, take) -> None:
    from distributed import as_completed

    nworkers = max(1, sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values()))
    batches = chunks(todo, nworkers)
    futures = [client.submit(run_chunk, name, c, pure=False) for c in batches]
    try:
        for fut in as_completed(futures):
            take(fut.result())
    except BaseException:
        client.cancel(futures)
        raise
