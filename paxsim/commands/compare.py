"""``paxsim compare``: tables and plots from a results database."""

from __future__ import annotations

import json
import os

from ..cli import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare", help="summarize a results database: a table per configuration, plots, CSV",
        description="Print, per configuration, each metric's mean with its 95%% confidence interval over seeds "
                    "and its 99th percentile over runs; write plots (PNG and SVG) of latency against loss, "
                    "messages per request against n, unavailability against crash rate and violations per stage.")
    p.add_argument("--db", default=None, help="results database (default paxsim-results.sqlite)")
    p.add_argument("--experiment", help="only this experiment (default: all in the database)")
    p.add_argument("--out", default=os.path.join("out", "compare"), help="folder for the plots (default %(default)s)")
    p.add_argument("--no-plots", action="store_true", help="print the table only")
    p.add_argument("--csv", metavar="FILE", help="also write every row to a CSV file")
    p.add_argument("--json", action="store_true", help="print one JSON object per configuration instead of a table")
    p.set_defaults(func=main)


def main(args) -> int:
    from ..sweep import DEFAULT_DB, export_csv, read_rows, summarize
    from ..sweep.summary import print_table

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
    summaries = summarize(rows)
    if args.json:
        for s in summaries:
            print(json.dumps(s.to_json(), sort_keys=True))
    else:
        print_table(summaries)
    if args.csv:
        folder = os.path.dirname(os.path.abspath(args.csv))
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise UsageError(f"--csv: {folder} is not a folder")
        os.makedirs(folder, exist_ok=True)
        n = export_csv(db, args.csv, args.experiment)
        print(f"wrote {n} rows to {args.csv}")
    if not args.no_plots:
        from ..sweep.plots import write_plots

        paths = write_plots(rows, args.out)
        names = ", ".join(os.path.splitext(os.path.basename(p))[0] for p in paths[::2])
        print(f"wrote {len(paths) // 2} plots as PNG and SVG to {args.out}/: {names}")
    return 0
