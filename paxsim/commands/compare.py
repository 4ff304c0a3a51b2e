"""``paxsim compare``: tables and plots from a results database, never pooled."""

from __future__ import annotations

import json
import os

from ..cli import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="summarize a results database: a table per experiment, paired differences, plots, CSV",
        description="Print, per experiment, a table with a row per configuration (every dimension that varies "
                    "is a column: nothing is averaged over), each metric's mean with its 95% interval over "
                    "seeds (bootstrap or Student t, never below the metric's floor) and its 99th percentile "
                    "over runs; when protocols or their parameters vary, their differences paired by seed "
                    "(same requests, crashes and partitions); and plots (PNG and SVG) of latency against loss, "
                    "messages per request against n, unavailability against crash rate and violations per "
                    "configuration, with a line or a panel per value of every other varying dimension (a plot "
                    "that would need too many is not drawn, and the command says which dimensions to select "
                    "with --where). Experiments are kept apart.")
    p.add_argument("--db", default=None, help="results database (default paxsim-results.sqlite)")
    p.add_argument("--experiment", help="only this experiment (default: each in the database, apart)")
    p.add_argument("--where", action="append", default=None, metavar="DIM=VALUE",
                   help="only rows with this value of a dimension (protocol, servers, loss, duplicate, delay, "
                        "crash_rate, partition_rate, workload, horizon, recover, threshold, or a protocol "
                        "parameter); repeat for more")
    p.add_argument("--out", default=os.path.join("out", "compare"), help="folder for the plots (default %(default)s)")
    p.add_argument("--no-plots", action="store_true", help="print the tables only")
    p.add_argument("--no-paired", action="store_true", help="leave out the paired differences")
    p.add_argument("--csv", metavar="FILE", help="also write every (selected) row to a CSV file")
    p.add_argument("--json", action="store_true",
                   help="print JSON lines instead of tables: one per configuration (kind \"config\") and per "
                        "paired difference (kind \"paired\")")
    p.set_defaults(func=main)


def select(rows: list[dict], where: list[str]) -> list[dict]:
    """The rows matching every ``DIM=VALUE`` of ``where`` (UsageError on an unknown dimension)."""
    from ..overrides import split_param
    from ..sweep.summary import DIM_LABELS, PARAM, dims_of, value_text

    params = {k for r in rows for k in (r.get("params") or {})}
    for text in where:
        key, value = split_param(text, "--where")
        if key not in DIM_LABELS and key not in params:
            known = ", ".join(list(DIM_LABELS) + sorted(params))
            raise UsageError(f"--where {key}: not a dimension of these rows (dimensions: {known})")
        dim = key if key in DIM_LABELS else PARAM + key

        def match(d, dim=dim, value=value) -> bool:
            v = d.get(dim)
            if value_text(v) == value or str(v) == value:
                return True
            try:
                return isinstance(v, (int, float)) and float(value) == float(v)
            except ValueError:
                return False

        rows = [r for r in rows if match(dims_of(r))]
    return rows


def main(args) -> int:
    from ..sweep import SweepError

    try:
        return _main(args)
    except SweepError as exc:
        raise UsageError(str(exc)) from None


def _main(args) -> int:
    from ..sweep import DEFAULT_DB, read_rows, summarize
    from ..sweep.db import write_csv_rows
    from ..sweep.summary import paired, print_paired, print_table

    from ..outputs import check_output

    db = args.db or DEFAULT_DB
    if not os.path.exists(db):
        raise UsageError(f"--db: {db}: no such file (run paxsim sweep first)")
    if not args.no_plots:
        check_output("--out", args.out, folder=True, create=True)
    if args.csv is not None:
        check_output("--csv", args.csv, create=True)  # its folder is made if missing
    rows = read_rows(db, args.experiment)  # read-only: the file is never changed
    if not rows:
        raise UsageError(f"--db: {db} holds no runs yet")
    if args.where:
        rows = select(rows, args.where)
        if not rows:
            raise UsageError(f"--where: no row matches {' '.join(args.where)}")
    summaries = summarize(rows)
    pairs = [] if args.no_paired else paired(rows)
    if args.json:
        for s in summaries:
            print(json.dumps(s.to_json(), sort_keys=True))
        for p in pairs:
            print(json.dumps(p.to_json(), sort_keys=True))
    else:
        print_table(summaries)
        print_paired(pairs)
    if args.csv:
        os.makedirs(os.path.dirname(os.path.abspath(args.csv)), exist_ok=True)
        n = write_csv_rows(rows, args.csv)
        print(f"wrote {n} rows to {args.csv}")
    if not args.no_plots:
        from ..sweep.plots import write_plots

        skipped: list[str] = []
        paths = write_plots(rows, args.out, skipped=skipped)
        names = ", ".join(os.path.relpath(os.path.splitext(p)[0], args.out) for p in paths[::2])
        print(f"wrote {len(paths) // 2} plots as PNG and SVG to {args.out}/: {names or 'none'}")
        for note in skipped:
            print(f"not drawn: {note}")
    return 0

