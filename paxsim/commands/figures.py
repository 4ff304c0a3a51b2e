"""``paxsim figures``: replay every figure of the tutorial and compare with the text."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..cli import UsageError
from ..figures import SCENARIO_DIR, ablate, figure_files, replay
from ..scenario import load


def add_parser(sub) -> None:
    p = sub.add_parser("figures", help="replay the tutorial's figures and compare with what the text says",
                       description="Replay every scenarios/figNN*.toml in figure order and print figure, stage, "
                                   "what the tutorial says, the observed outcome and whether they match. "
                                   "Exit 1 on any mismatch.")
    p.add_argument("--json", action="store_true", help="print a JSON list of {figure, protocol, expected, outcome, match, ...}")
    p.add_argument("--dir", default=str(SCENARIO_DIR), help="folder with the figure scenarios (default: %(default)s)")
    p.add_argument("--svg", metavar="DIR", help="also draw each figure's run as DIR/<figure>.svg")
    p.add_argument("--html", metavar="DIR", help="also write each figure's interactive view as DIR/<figure>.html "
                                                 "and an index, DIR/index.html")
    p.set_defaults(func=main)


def main(args) -> int:
    folder = Path(args.dir)
    if not os.path.isdir(folder):  # never raises (a name too long is just not a folder)
        raise UsageError(f"--dir: {folder} is not a folder")
    files = figure_files(folder)
    if not files:
        raise UsageError(f"--dir: no figNN*.toml scenarios in {folder}")
    scenarios = [load(p) for p in files]
    from ..outputs import check_output

    for flag, out in (("--svg", args.svg), ("--html", args.html)):
        check_output(flag, out, folder=True)
    rows = []
    for sc in scenarios:
        r = replay(sc)
        if args.svg is not None:
            from ..diagram import draw

            draw(r, str(Path(args.svg) / f"{sc.name}.svg"), "svg", title=f"{sc.name}: {sc.description}")
        if args.html is not None:
            from ..diagram.html import write_view

            write_view(r, str(Path(args.html) / f"{sc.name}.html"), title=f"{sc.name}: {sc.description}")
        worst = r.verdict.violations[0] if r.verdict.violations else None
        ab = ablate(sc)
        rows.append({
            "figure": sc.name,
            "protocol": sc.protocol,
            "description": sc.description,
            "expected": sc.expected,
            "outcome": r.outcome,
            "match": r.match is True,
            "violation": None if worst is None else f"{worst.invariant}: {worst.detail}",
            "trace_digest": r.trace_digest(),
            "ablation": None if ab is None else ab[0].what,
            "ablation_expected": None if ab is None else ab[0].expected,
            "ablation_outcome": None if ab is None else ab[1].outcome,
            "ablation_match": ab is None or ab[1].outcome == ab[0].expected,
        })
    if args.html is not None:
        from ..diagram.html import claim_of, write_index

        claims = {sc.name: claim_of(sc) for sc in scenarios}
        write_index([{**row, "file": f"{row['figure']}.html", "claim": claims[row["figure"]]} for row in rows],
                    str(Path(args.html) / "index.html"))
    if args.json:
        print(json.dumps(rows, indent=1))
    else:
        _table(rows)
    return 0 if all(r["match"] and r["ablation_match"] for r in rows) else 1


def _table(rows) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency
        Console = None
    if Console is not None:
        t = Table(title="Paxos Explained from Scratch: every figure replayed", show_lines=False)
        for col in ("figure", "stage", "the tutorial says", "observed", "ablation: changed -> outcome", "match"):
            t.add_column(col, overflow="fold")
        for r in rows:
            obs = r["outcome"] + (f"\n[dim]{r['violation']}[/dim]" if r["violation"] else "")
            abl = "-" if r["ablation"] is None else (
                f"{r['ablation']} -> {r['ablation_outcome']}"
                + ("" if r["ablation_match"] else f" [bold red](expected {r['ablation_expected']})[/bold red]"))
            ok = r["match"] and r["ablation_match"]
            t.add_row(r["figure"], r["protocol"], f"{r['expected']}: {r['description']}", obs, abl,
                      "[green]yes[/green]" if ok else "[bold red]NO[/bold red]")
        Console().print(t)
        n = sum(r["match"] for r in rows)
        ablated = [r for r in rows if r["ablation"] is not None]
        m = sum(r["ablation_match"] for r in ablated)
        Console().print(f"{n}/{len(rows)} figures behave as the tutorial says; {m}/{len(ablated)} ablations"
                        " turn out as the text's reason predicts.")
        return
