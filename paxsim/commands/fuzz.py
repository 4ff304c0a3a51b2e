"""``paxsim fuzz``: search failure schedules for a violation, shrink it, write it,
explain it. Exit 1 when one is found, 0 when the budget ends with none, 2 on bad
input."""

from __future__ import annotations

import os
import re
import sys
import time
import tomllib
from typing import Optional

from ..cli import UsageError

DEFAULT_OUT = "counterexamples"

# (protocol, servers, liveness): the tutorial's broken stages, for --bench
BENCH_STAGES: tuple[tuple[str, int, bool], ...] = (
    ("uncoordinated", 2, False),
    ("send_accept", 2, True),
    ("retrans_accept_fallback", 2, False),
    ("wait_for_learn_fallback", 2, False),
    ("wait_for_learn_majority", 3, False),
    ("leader_change_rounds", 5, False),
    ("paxos_promise_without_round", 5, False),
)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fuzz", help="search failure schedules for a violation, shrink it and write it as a scenario",
        description="Draw failure schedules (drops, delays, duplication, crashes, recoveries, partitions, request "
                    "times) with hypothesis until the protocol breaks safety (or, with --liveness, gets STUCK "
                    "under faults that end); shrink the schedule to a minimal one, write it as a scenario TOML "
                    "that `paxsim run` replays, and explain it. Exit 1 if a counterexample was found, 0 if the "
                    "budget ended without one, 2 on bad input.")
    p.add_argument("--protocol", metavar="NAME",
                   help="a built-in protocol (`paxsim protocols` lists them) or module.path:ClassName")
    p.add_argument("--servers", type=int, metavar="N", help="number of servers (default: 3, or what the protocol allows)")
    p.add_argument("--clients", type=int, default=2, metavar="K", help="number of clients (default %(default)s)")
    p.add_argument("--requests", type=int, default=1, metavar="R", help="requests per client (default %(default)s)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--budget-examples", type=int, metavar="N", help="stop after N examples")
    budget.add_argument("--budget-seconds", type=float, metavar="S",
                        help="stop after S seconds (default 60 when no budget is given; hours are fine)")
    p.add_argument("--seed", type=int, default=0, help="search seed: same seed, same counterexample (default 0)")
    p.add_argument("--liveness", action="store_true",
                   help="also look for STUCK runs, under schedules whose faults end and leave a connected majority up")
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help="where to write the counterexample (default ./%(default)s)")
    p.add_argument("--workers", type=int, default=1, metavar="W",
                   help="processes searching independent seeds in parallel (default 1)")
    p.add_argument("--max-faults", type=int, default=5, metavar="F",
                   help="at most F faults per schedule (default %(default)s)")
    p.add_argument("--improve", type=int, default=3, metavar="C",
                   help="after a find, C more rounds of examples look for a schedule with fewer faults "
                        "(default %(default)s)")
    p.add_argument("--events", type=int, default=40, metavar="N",
                   help="show at most N events of the replay (default %(default)s)")
    p.add_argument("--guide", action="store_true",
                   help="steer hypothesis with target() towards more leader changes, rounds and recoveries "
                        "(measured slower on the quality suite: off by default)")
    p.add_argument("--json", action="store_true",
                   help="print one JSON summary object (protocol, seed, runs, seconds, runs_per_s, found, outcome, "
                        "counterexample, size, counts, coverage, generation_share) instead of the explanation")
    p.add_argument("--bench", action="store_true",
                   help="benchmark: fuzz paxos (3 and 5 servers) and every broken stage, print runs per CPU second, "
                        "the share of time spent generating examples, and the time to the first counterexample "
                        "(budget per stage: --budget-seconds, default 60)")
    from ..overrides import add_param_option

    add_param_option(p)
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=main)


# ---------------------------------------------------------------- validation ---

def check_args(args):
    """Validate flags; returns (protocol class, servers). Raises UsageError."""
    from ..protocols import UnknownProtocol, load_protocol

    for flag, value, low in (("--clients", args.clients, 1), ("--requests", args.requests, 1),
                             ("--workers", args.workers, 1), ("--max-faults", args.max_faults, 0),
                             ("--seed", args.seed, 0), ("--events", args.events, 0),
                             ("--improve", args.improve, 0)):
        if value < low:
            raise UsageError(f"{flag}: must be at least {low}, got {value}")
    if args.clients > 26:
        raise UsageError(f"--clients: at most 26, got {args.clients}")
    if args.requests > 50:
        raise UsageError(f"--requests: at most 50, got {args.requests}")
    if args.workers > 64:
        raise UsageError(f"--workers: at most 64, got {args.workers}")
    if args.budget_examples is not None and args.budget_examples < 1:
        raise UsageError(f"--budget-examples: must be at least 1, got {args.budget_examples}")
    if args.budget_seconds is not None and not (args.budget_seconds > 0 and args.budget_seconds < float("inf")):
        raise UsageError(f"--budget-seconds: must be a positive number, got {args.budget_seconds}")
    from ..limits import MAX_COUNT, MAX_SEED, MAX_TIME
    from ..outputs import check_flag, check_output

    for flag, value, high in (("--seed", args.seed, MAX_SEED), ("--budget-examples", args.budget_examples, MAX_COUNT),
                              ("--events", args.events, MAX_COUNT), ("--improve", args.improve, 1000),
                              ("--max-faults", args.max_faults, 1000), ("--budget-seconds", args.budget_seconds, MAX_TIME)):
        check_flag(flag, value, 0, high)
    check_output("--out", args.out, folder=True, create=True)
    if args.bench:
        return None, None
    if not args.protocol:
        raise UsageError("--protocol: required (a built-in name or module.path:ClassName)")
    try:
        proto = load_protocol(args.protocol)
    except UnknownProtocol as exc:
        raise UsageError(f"--protocol: {exc}") from None
    servers = args.servers if args.servers is not None else default_servers(proto)
    if servers < 1:
        raise UsageError(f"--servers: must be at least 1, got {servers}")
    if servers > 9:
        raise UsageError(f"--servers: at most 9, got {servers}")
    from ..overrides import check_params, parse_params

    check_params(proto, parse_params(args.param), servers, servers_flag="--servers")
    return proto, servers


def default_servers(proto) -> int:
    n = max(3, proto.min_servers)
    if proto.max_servers is not None:
        n = min(n, proto.max_servers)
    return n


def out_path(out: str, protocol: str, servers: int, seed: int, liveness: bool) -> str:
    safe = re.sub(r"[^A-Za-z0-9_]+", "_", protocol).strip("_")
    tail = "-liveness" if liveness else ""
    return os.path.join(out, f"{safe}-n{servers}-seed{seed}{tail}.toml")


# ------------------------------------------------------------------ progress ---

class Reporter:
    """A rich progress bar on a terminal, plain lines (every 10 s) otherwise."""

    def __init__(self, total: float, by_time: bool, label: str):
        self.by_time = by_time
        self.label = label
        self.t0 = time.perf_counter()
        self.last_line = -1e9
        self.bar = None
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                                TimeElapsedColumn(), console=Console(file=sys.stderr), transient=True)
            self.task = self.bar.add_task(label, total=total, info="")
            self.bar.start()

    def __call__(self, p) -> None:
        rate = p.runs / p.elapsed if p.elapsed > 0 else 0.0
        info = f"{p.examples} examples, {p.runs} runs, {rate:.0f} runs/s" + (", found one" if p.found else "")
        if self.bar is not None:
            self.bar.update(self.task, completed=p.elapsed if self.by_time else p.examples, info=info)
        elif p.found or p.elapsed - self.last_line >= 10.0:
            self.last_line = p.elapsed
            print(f"fuzz {self.label}: {p.elapsed:.0f}s, {info}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


# ---------------------------------------------------------------------- main ---

def found_by(args, servers: int, budget_seconds: Optional[float]) -> str:
    """The command that finds this counterexample again: every flag that matters."""
    budget = (f"--budget-examples {args.budget_examples}" if args.budget_examples is not None
              else f"--budget-seconds {budget_seconds:g}")
    return (f"paxsim fuzz --protocol {args.protocol} --servers {servers} --clients {args.clients} "
            f"--requests {args.requests} --seed {args.seed} --max-faults {args.max_faults} --improve {args.improve} "
            f"{budget}{' --liveness' if args.liveness else ''}{' --guide' if args.guide else ''}"
            f"{''.join(f' --param {x}' for x in args.param or ())}")


def summary(args, servers: int, res, path: Optional[str]) -> dict:
    """The ``--json`` object."""
    return {
        "protocol": args.protocol, "servers": servers, "seed": args.seed, "liveness": args.liveness,
        "runs": res.runs, "examples": res.examples, "seconds": round(res.seconds, 3),
        "runs_per_s": round(res.runs_per_second, 1), "generation_share": round(res.generation_share, 3),
        "found": res.found is not None, "outcome": res.outcome,
        "time_to_first": None if res.time_to_first is None else round(res.time_to_first, 3),
        "counterexample": path,
        "size": None if res.counts is None else sum(res.counts.values()),
        "counts": res.counts,
        "coverage": {"runs": res.stats.runs, **res.stats.coverage},
        "params": dict(res.config.params),
    }


def main(args) -> int:
    if getattr(args, "json", False) and not hasattr(args, "summary"):
        return json_main(args)
    proto, servers = check_args(args)
    if args.bench:
        return bench(args)

    from ..fuzz.explain import explain
    from ..fuzz.search import ERROR, FuzzConfig, replay, search
    from ..overrides import parse_params
    from ..scenario import from_dict

    cfg = FuzzConfig(args.protocol, servers=servers, clients=args.clients, requests=args.requests,
                     liveness=args.liveness, max_faults=args.max_faults, guide=args.guide,
                     params=tuple(sorted(parse_params(args.param).items())))
    budget_seconds = args.budget_seconds
    if args.budget_examples is None and budget_seconds is None:
        budget_seconds = 60.0
    what = "safety" + (" and liveness" if args.liveness else "")
    head = (f"{args.protocol}, {servers} servers, {args.clients} clients x {args.requests} requests, "
            f"seed {args.seed}")
    print(f"fuzzing {head} for {what} violations "
          f"(budget: {f'{args.budget_examples} examples' if args.budget_examples else f'{budget_seconds:g} s'}"
          f"{f', {args.workers} workers' if args.workers > 1 else ''})", flush=True)
    reporter = None if args.quiet else Reporter(budget_seconds if args.budget_examples is None
                                                else args.budget_examples, args.budget_examples is None,
                                                args.protocol)
    try:
        res = search(cfg, args.seed, budget_examples=args.budget_examples, budget_seconds=budget_seconds,
                     workers=args.workers, improve=args.improve, progress=reporter)
    finally:
        if reporter is not None:
            reporter.close()
    if res.found is None:
        if hasattr(args, "summary"):
            args.summary.update(summary(args, servers, res, None))
        print(f"nothing found: {res.examples} examples, {res.runs} runs in {res.seconds:.1f} s "
              f"({res.runs_per_second:.0f} runs/s)")
        print(coverage_line(res))
        return 0

    path = out_path(args.out, args.protocol, servers, args.seed, args.liveness)
    sc = from_dict(res.found, source=path, name=os.path.splitext(os.path.basename(path))[0])
    text = sc.to_toml()
    header = (f"# Found by: {found_by(args, servers, budget_seconds)}"
              f"{f' (also with --workers {args.workers})' if args.workers > 1 else ''}\n"
              f"# Replay: paxsim run {path}\n")
    text = header + text
    # the file must replay to the same outcome: check before writing it
    again = from_dict(tomllib.loads(text), source=path, name=sc.name)
    if res.outcome == ERROR:
        try:
            replay(res.found)
        except Exception as exc:  # the protocol's own exception, shown as found
            r = None
            err = f"{type(exc).__name__}: {exc}"
        else:  # pragma: no cover - the search only keeps schedules that raise
            r, err = None, res.error
    else:
        from ..driver import run_scenario

        r = run_scenario(again)
        if r.outcome != res.outcome:
            raise UsageError(f"{path}: the written counterexample replays to {r.outcome}, not {res.outcome} "
                             "(please report this)")
    os.makedirs(args.out, exist_ok=True)
    from .run import write_atomic

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)

    write_atomic(path, write)
    if r is not None:  # the interactive view beside it (paxsim.diagram.html)
        from ..diagram.html import write_view

        write_view(r, os.path.splitext(path)[0] + ".html", title=f"{sc.name}: found by paxsim fuzz")
    if hasattr(args, "summary"):
        args.summary.update(summary(args, servers, res, path))
    print(f"FOUND {res.outcome} after {res.runs} runs in {res.seconds:.1f} s"
          + (f" (first failure after {res.time_to_first:.1f} s)" if res.time_to_first is not None else ""))
    counts = res.counts
    if counts is not None:
        print(f"wrote {path}: size {sum(counts.values())} ({size_words(counts)})")
    else:
        print(f"wrote {path}")
    print(f"replay it: paxsim run {path}    draw it: paxsim run {path} --svg {os.path.splitext(path)[0]}.svg")
    if r is not None:
        print(f"step through it in a browser: {os.path.splitext(path)[0]}.html")
    print(coverage_line(res))
    print()
    if r is None:
        print(f"{args.protocol} raised an exception on this schedule: {err}")
        from ..fuzz.explain import describe_schedule

        for line in describe_schedule(sc):
            print("  - " + line)
    else:
        for line in explain(r, events=args.events):
            print(line)
    return 1


def size_words(counts: dict) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items())


def coverage_line(res) -> str:
    cov = res.stats.coverage
    runs = res.stats.runs or 1
    return (f"coverage of {res.stats.runs} runs: "
            + ", ".join(f"{k} {v} ({100 * v / runs:.0f}%)" for k, v in cov.items()))


def bench(args) -> int:
    """Runs per second, generation share and time to first counterexample: paxos
    (nothing to find, 3 and 5 servers), then every broken stage."""
    from ..fuzz.search import FuzzConfig, search
    from ..protocols import UnknownProtocol, load_protocol

    budget = args.budget_seconds or 60.0
    print(f"fuzz benchmark: seed {args.seed}, budget {budget:g} s per stage (paxos: at most 20 s), "
          f"{args.workers} worker(s)")
    print(f"{'stage':<30} {'n':>2} {'mode':<8} {'runs/s':>7} {'gen.':>5} {'first found':>12} {'outcome':>8} "
          f"{'size':>5}")
    for name, n, live in (("paxos", 3, False), ("paxos", 5, False)) + BENCH_STAGES:
        try:
            load_protocol(name)
        except UnknownProtocol:
            print(f"{name:<30} {n:>2} {'':<8} {'(not available)':>7}")
            continue
        cfg = FuzzConfig(name, servers=n, clients=args.clients, requests=args.requests, liveness=live,
                         max_faults=args.max_faults)
        b = budget if name != "paxos" else min(budget, 20.0)
        r = search(cfg, args.seed, budget_seconds=b, workers=args.workers, improve=0)
        first = f"{r.time_to_first:.2f} s" if r.time_to_first is not None else "-"
        size = str(sum(r.counts.values())) if r.counts else "-"
        rate = r.stats.runs / r.search_seconds if r.search_seconds > 0 else 0.0   # per CPU second of the search
        print(f"{name:<30} {n:>2} {'liveness' if live else 'safety':<8} {rate:>7.0f} "
              f"{r.generation_share:>5.0%} {first:>12} {r.outcome or 'none':>8} {size:>5}", flush=True)
    return 0


def json_main(args) -> int:
    """``--json``: the usual report goes to stderr, one JSON summary object to stdout."""
    import contextlib
    import json

    args.summary = {}
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        rc = main(args)
    print(json.dumps({**args.summary, "exit_code": rc}, sort_keys=True), file=out)
    return rc
