"""Sweeps: run a grid of protocol variants x network and fault settings x seeds,
store one row per run in SQLite, summarize and plot.

    from paxsim.sweep import Experiment, run_sweep, read_rows, summarize
    exp = Experiment("demo", protocols=["paxos"], servers=[3, 5], loss=[0.0, 0.05],
                     seeds=list(range(20)))
    run_sweep(exp, "results.sqlite", workers=2)
    for s in summarize(read_rows("results.sqlite", "demo")):
        print(s.config, s.stat("latency_mean"))

Protocol parameters are grid dimensions too (``Experiment(..., params={"paxos":
{"suspect": [8.0, 12.0]}})`` or ``param_grid={"q2": [2, 3]}``); rows are keyed by
the protocol's code (:func:`protocol_code`), so rows of an edited protocol are
replaced, never reported as current. :func:`paxsim.sweep.summary.paired` compares
variants seed by seed. Bad input raises :class:`SweepError`.

The command line: ``paxsim sweep`` and ``paxsim compare``.
"""

from .db import DEFAULT_DB, ResultsDB, export_csv, read_rows, to_dataframe
from .grid import (DIMENSIONS, Experiment, GridError, RunConfig, SweepError, experiment_from_flags,
                   load_experiment, protocol_code)
from .runner import SweepAborted, SweepStats, run_one, run_sweep
from .summary import ConfigSummary, Stat, mean_ci, summarize

__all__ = [
    "DEFAULT_DB", "DIMENSIONS", "ConfigSummary", "Experiment", "GridError", "ResultsDB", "RunConfig", "Stat",
    "SweepAborted", "SweepError", "SweepStats", "experiment_from_flags", "export_csv", "load_experiment", "mean_ci",
    "protocol_code",
    "read_rows", "run_one", "run_sweep", "summarize", "to_dataframe",
]
