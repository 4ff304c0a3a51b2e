"""``paxsim figures``: replay every figure of the tutorial and compare with the text."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..cli import UsageError
from ..figures import SCENARIO_DIR, figure_files, replay
from ..scenario import load


def add_parser(sub) -> None:
    p = sub.add_parser("figures", help="replay the tutorial's figures and compare with what the text says",
                       description="Replay every scenarios/figNN*.toml in figure order and print figure, stage, "
                                   "what the tutorial says, the observed outcome and whether they match. "
                                   "Exit 1 on any mismatch.")
    p.add_argument("--json", action="store_true", help="print a JSON list of {figure, protocol, expected, outcome, match, ...}")
    p.add_argument("--dir", default=str(SCENARIO_DIR), help="folder with the figure scenarios (default: %(default)s)")
    p.add_argument("--svg", metavar="DIR", help="also draw each figure's run as DIR/<figure>.svg")
    p.set_defaults(func=main)


def main(args) -> int:
    folder = Path(args.dir)
    if not os.path.isdir(folder):  # never raises (a name too long is just not a folder)
        raise UsageError(f"--dir: {folder} is not a folder")
    files = figure_files(folder)
    if not files:
        raise UsageError(f"--dir: no figNN*.toml scenarios in {folder}")
    scenarios = [load(p) for p in files]
    if args.svg is not None:
        from ..outputs import check_output

        check_output("--svg", args.svg, folder=True)
    rows = []
    for sc in scenarios:
        r = replay(sc)
        if args.svg is not None:
            from ..diagram import draw

            draw(r, str(Path(args.svg) / f"{sc.name}.svg"), "svg", title=f"{sc.name}: {sc.description}")
        worst = r.verdict.violations[0] if r.verdict.violations else None
        rows.append({
            "figure": sc.name,
            "protocol": sc.protocol,
            "description": sc.description,
            "expected": sc.expected,
            "outcome": r.outcome,
            "match": r.match is True,
            "violation": None if worst is None else f"{worst.invariant}: {worst.detail}",
            "trace_digest": r.trace_digest(),
        })
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        _table(rows)
    return 0 if all(r["match"] for r in rows) else 1


def _table(rows) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency
        Console = None
    if Console is not None:
        t = Table(title="Paxos Explained from Scratch: every figure replayed", show_lines=False)
        for col in ("figure", "stage", "the tutorial says", "observed", "match"):
            t.add_column(col, overflow="fold")
        for r in rows:
            obs = r["outcome"] + (f"\n[dim]{r['violation']}[/dim]" if r["violation"] else "")
            t.add_row(r["figure"], r["protocol"], f"{r['expected']}: {r['description']}", obs,
                      "[green]yes[/green]" if r["match"] else "[bold red]NO[/bold red]")
        Console().print(t)
        n = sum(r["match"] for r in rows)
        Console().print(f"{n}/{len(rows)} figures behave as the tutorial says.")
        return
