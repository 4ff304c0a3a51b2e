"""``paxsim run SCENARIO...``: run scenarios, check them, report."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

from ..cli import UsageError
from ..driver import RunResult, run_scenario
from ..limits import MAX_BATCH_REQUESTS, MAX_COUNT, MAX_SEED
from ..outputs import check_flag, check_output
from ..report import event_lines


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="run scenario files and check what the clients saw",
                       description="Run each scenario, check the history, print the outcome against the "
                                   "expected one. Exit 0 if every outcome matches, 1 if one does not, 2 on bad input.")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario TOML file(s)")
    p.add_argument("--seed", type=int, help="override the scenario's seed")
    p.add_argument("--protocol", metavar="NAME",
                   help="run with this protocol instead of the scenario's: a built-in name or module.path:ClassName "
                        "(`paxsim protocols` lists them); the scenario's [params] carry over")
    from ..overrides import add_param_option

    add_param_option(p)
    p.add_argument("--trace", metavar="FILE", help="write the run's trace as JSON Lines (one scenario only)")
    p.add_argument("--json", action="store_true",
                   help="one JSON object per scenario per line; its trace_digest is null unless --digest or "
                        "--trace is given (a trace costs more than the run: --json keeps none by default)")
    p.add_argument("--digest", action="store_true",
                   help="keep the trace and report its digest (BLAKE2b of the JSON Lines --trace writes)")
    p.add_argument("--events", type=int, default=60, metavar="N",
                   help="show at most N events per scenario (default 60; 0 for none)")
    p.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                   help="judge records as they come and keep none: memory stays bounded on long runs; "
                        "implies no trace, so it cannot be combined with trace/diagram options "
                        f"(and no events are listed). Default: on for a scenario of more than {LONG:,} "
                        "requests when no trace or diagram is asked for")
    from .draw import add_options  # diagram options: --svg/--png/--pdf FILE, --diagram, --from/--to/--only

    add_options(p, text_flag="--diagram")
    p.set_defaults(func=main)


NOTHING_TO_DRAW = "the trace has no events to draw"
"""paxsim.diagram's message for a run with nothing to draw (no clients, heartbeats hidden)."""

LONG = 10_000
"""More requests than this, and no trace or diagram asked for: judged as a stream."""


def write_atomic(path: str, write) -> None:
    """Write through a temporary file in the same folder, then rename: never half-written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".paxsim-", suffix=".tmp")
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it 0600; a trace is an ordinary file
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def print_result(r: RunResult, events: int) -> None:
    sc = r.scenario
    mark = {True: "ok", False: "MISMATCH", None: "-"}[r.match]
    print(f"{sc.name}: {sc.protocol} seed={r.seed}  outcome {r.outcome}  expected {r.expected or '-'}  [{mark}]")
    print(f"  {sc.description}")
    for v in r.verdict.violations:
        tag = " (latent)" if v.latent else ""
        print(f"  ! {v.invariant}{tag}: {v.detail}")
    if r.verdict.unjudged:
        print(f"  note: {r.verdict.unjudged} repl{'y' if r.verdict.unjudged == 1 else 'ies'} could not be"
              " judged (states compacted beyond what the checker knew)")
    for note in r.verdict.notes:
        print(f"  note: {note}")
    if events and r.trace is not None:
        for line in event_lines(r.trace, limit=events):
            print("   " + line)


def main(args) -> int:
    check_flag("--seed", args.seed, 0, MAX_SEED, whole=True)
    check_flag("--events", args.events, 0, MAX_COUNT, whole=True)
    check_output("--trace", args.trace)
    given = [flag for flag, on in (
        ("--trace", args.trace), ("--svg", args.svg), ("--png", args.png), ("--pdf", args.pdf),
        ("--diagram", args.diagram_text), ("--from", args.t_from is not None),
        ("--to", args.t_to is not None), ("--only", args.only is not None),
        ("--heartbeats", args.heartbeats), ("--timers", args.timers), ("--digest", args.digest),
        ("--html", args.html), ("--full", args.full), ("--linear", args.linear)) if on]
    if args.stream and given:
        raise UsageError(f"--stream keeps no trace, so it cannot be combined with {', '.join(given)}")
    if args.trace and len(args.scenarios) != 1:
        raise UsageError("--trace: give exactly one scenario when writing a trace")
    from ..overrides import load_scenario, parse_params

    params = parse_params(args.param)
    loaded = [load_scenario(p, args.protocol, params) for p in args.scenarios]  # validate all before running any
    scenarios = [sc for sc, _ in loaded]
    overridden = {id(sc): o for sc, o in loaded}
    from . import draw

    if (draw.wanted(args) or args.html) and len(args.scenarios) != 1:
        raise UsageError("--svg/--png/--pdf/--html: give exactly one scenario when drawing a diagram")
    if args.diagram_text and args.json:
        raise UsageError("--diagram: cannot be combined with --json (use --svg FILE or paxsim draw)")
    for sc in scenarios:
        draw.check_options(args, list(sc.processes))
    for sc in scenarios:  # every record kept (a trace, a diagram, --no-stream): bounded memory
        requests = sum(len(c.requests) for c in sc.clients)
        stream = args.stream if args.stream is not None else (not given and requests > LONG)
        if not stream and requests > MAX_BATCH_REQUESTS:
            why = ", ".join(given) or "--no-stream"
            raise UsageError(f"{sc.source}: {requests:,} requests are too many to keep every record ({why}; at most "
                             f"{MAX_BATCH_REQUESTS:,}): judge it as a stream (--stream, no trace or diagram)")
    ok = True
    for sc in scenarios:
        requests = sum(len(c.requests) for c in sc.clients)
        stream = args.stream if args.stream is not None else (not given and requests > LONG)
        # A trace only when something shows it: the events listed, a file, a digest, a diagram.
        keep = bool(given) or (not args.json and args.events > 0)
        r = run_scenario(sc, args.seed, record_trace=keep and not stream, stream=stream)
        if args.trace:
            write_atomic(args.trace, r.trace.write)  # the trace keeps the digest of what it wrote
        if args.json:
            print(json.dumps({**r.to_json(), "overridden": overridden[id(sc)]}, sort_keys=True))
        else:
            print_result(r, args.events)
            if stream and args.stream is None:
                print(f"  ({requests:,} requests: judged as a stream, no trace kept; --no-stream keeps one)")
        if draw.wanted(args) or args.diagram_text:
            try:
                draw.render(r, args, title=f"{sc.name}: {sc.description}")
            except UsageError as exc:  # a run with nothing to draw is no bad input: say so, go on
                if not str(exc).endswith(NOTHING_TO_DRAW):
                    raise
                print(f"paxsim: note: {sc.name}: no diagram written, {NOTHING_TO_DRAW}", file=sys.stderr)
        draw.write_html(r, args, title=f"{sc.name}: {sc.description}")
        if r.match is False:
            ok = False
    return 0 if ok else 1
