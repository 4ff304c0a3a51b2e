"""``paxsim sweep``: run a grid of protocols x servers x network x faults x seeds."""

from __future__ import annotations

import json
import os
import sys

from ..cli import UsageError

MAX_WORKERS = 256
"""Local worker processes, at most."""

GRID_FLAGS = ("protocols", "servers", "loss", "duplicate", "delay", "crash_rate", "partition_rate", "workload",
              "seeds", "horizon", "threshold")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="run a grid of protocol variants and fault settings over many seeds into a SQLite database",
        description="Run every combination of the grid's values once per seed, each with a random fault "
                    "schedule drawn from its seed (paxsim.schedules.random_scenario), and store one row of "
                    "metrics per run in --db. Runs already stored are skipped: rerunning an interrupted sweep "
                    "resumes it. Lists are comma-separated. Give the grid as flags or as an experiment TOML file "
                    "(see experiments/); flags override the file's values.")
    p.add_argument("experiment", nargs="?", metavar="EXPERIMENT.toml", help="experiment file (optional)")
    p.add_argument("--name", help="experiment name stored with the rows (default: the file's name, or 'sweep')")
    p.add_argument("--protocols", help="protocol names, e.g. paxos,wait_for_learn_majority")
    p.add_argument("--servers", help="server counts, e.g. 3,5,7 (default 3)")
    p.add_argument("--loss", help="message loss probabilities, e.g. 0,0.05 (default 0)")
    p.add_argument("--duplicate", help="message duplication probabilities (default 0)")
    p.add_argument("--delay", help="delays: a mean d (uniform in [d/2, 3d/2]) or LOW:HIGH (default 1)")
    p.add_argument("--crash-rate", dest="crash_rate", help="crashes per horizon, e.g. 0,1,2 (default 0)")
    p.add_argument("--partition-rate", dest="partition_rate", help="partitions per horizon (default 0)")
    p.add_argument("--workload", help="CLIENTSxREQUESTS per client, e.g. 2x3,4x10 (default 2x3)")
    p.add_argument("--seeds", help="N (seeds 0..N-1), A:B (A..B-1) or a list 1,5,9 (default 10)")
    p.add_argument("--horizon", help="requests and faults happen within [0, H] (default 60)")
    p.add_argument("--threshold", help="gaps longer than this count as unavailable (default 10)")
    p.add_argument("--no-recover", action="store_true", help="crashed servers stay down")
    p.add_argument("--db", default=None, help="results database (default paxsim-results.sqlite)")
    p.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: the number of cores; 1 runs in this process)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask distributed cluster, e.g. tcp://host:8786")
    p.add_argument("--no-progress", action="store_true", help="plain progress lines even on a terminal")
    p.add_argument("--quiet", action="store_true", help="no progress and no notes on stderr (errors only)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON summary (runs done, already stored, superseded, seconds, notes) on stdout")
    from ..overrides import add_param_option

    add_param_option(p, help="a protocol parameter as a grid dimension, KEY=V1,V2,... (repeat for more); "
                             "applies to every protocol of the grid that takes KEY (`paxsim protocols`)")
    p.set_defaults(func=main)


def main(args) -> int:
    from ..sweep import SweepError

    try:
        return _main(args)
    except SweepError as exc:
        raise UsageError(str(exc)) from None


def _main(args) -> int:
    from ..data import resolve
    from ..overrides import parse_param_grid
    from ..sweep import DEFAULT_DB, SweepAborted, experiment_from_flags, load_experiment, run_sweep

    from ..limits import printable
    from ..outputs import check_flag, check_output

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers: must be at least 1")
    check_flag("--workers", args.workers, 1, MAX_WORKERS, whole=True)
    if args.name is not None and not args.name.strip():
        raise UsageError("--name: must not be empty")
    if args.name is not None and not args.name.isprintable():
        raise UsageError(f"--name: must be printable (no control characters), not {printable(args.name)!r}")
    check_output("--db", args.db)
    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--workers: not with --scheduler (the cluster has its own workers)")
    flags = {k: getattr(args, k) for k in GRID_FLAGS if getattr(args, k) is not None}
    if "threshold" in flags:
        flags["unavailability_threshold"] = flags.pop("threshold")
    grid = parse_param_grid(args.param)
    if args.experiment:
        exp = load_experiment(resolve(args.experiment), flags, grid)
        if args.no_recover:
            exp.recover = False
        if args.name:
            exp.name = args.name
    else:
        exp = experiment_from_flags(args.name or "sweep", flags, recover=not args.no_recover, param_grid=grid)
    db = args.db or DEFAULT_DB
    workers = args.workers or (os.cpu_count() or 1)
    progress = False if args.quiet else ("lines" if args.no_progress else None)
    log = open(os.devnull, "w") if args.quiet else sys.stderr
    try:
        stats = run_sweep(exp, db, workers=workers, scheduler=args.scheduler, log=log, progress=progress)
    except SweepAborted as exc:
        print(f"paxsim: sweep stopped: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"paxsim: sweep interrupted; finished runs are saved in {db}; rerun the same command to resume",
              file=sys.stderr)
        raise
    finally:
        if log is not sys.stderr:
            log.close()
    if args.json:
        print(json.dumps(stats.to_json(), sort_keys=True))
    else:
        print(f"{exp.name}: {stats.ran} runs done, {stats.skipped} already stored, {stats.total} in the grid "
              f"({stats.seconds:.1f}s) -> {db}")
    return 0
