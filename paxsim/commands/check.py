"""``paxsim check``: exhaustive bounded model checking of a protocol's own replicas.

Exit 0: no violation within the bounds (it says whether the space was exhausted
or the budget ran out); 1: a violation was found (written as a scenario that
``paxsim run`` replays); 2: bad input.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

from ..cli import UsageError
from ..limits import MAX_COUNT, MAX_TIME
from ..outputs import check_flag, check_output

DEFAULT_OUT = "counterexamples"
MAX_SERVERS, MAX_CLIENTS, MAX_REQUESTS = 9, 6, 6


def add_parser(sub) -> None:
    p = sub.add_parser(
        "check", help="explore every interleaving within bounds (exhaustive model checking)",
        description="Explore every state the protocol's own replicas can reach within the bounds: every order of "
                    "message deliveries, every timer firing, and up to the given number of lost and duplicated "
                    "messages, crashes and recoveries. Each state is judged by the same checker as every run "
                    "(safety only: liveness stays with simulation). Breadth-first search finds a shortest "
                    "counterexample; it is written as a scenario that `paxsim run` replays step for step. "
                    "Exit 0 if no violation was found within the bounds, 1 if one was, 2 on bad input.")
    p.add_argument("--protocol", required=True, metavar="NAME", help="a built-in protocol or module.path:ClassName")
    p.add_argument("--servers", type=int, metavar="N", help="number of servers (default: 3, or what the protocol allows)")
    p.add_argument("--clients", type=int, default=2, metavar="K", help="number of clients (default %(default)s)")
    p.add_argument("--requests", type=int, default=1, metavar="R", help="requests per client (default %(default)s)")
    p.add_argument("--max-drops", type=int, default=1, metavar="D", help="lost messages per path (default %(default)s)")
    p.add_argument("--max-dups", type=int, default=0, metavar="U",
                   help="duplicated messages per path (default %(default)s)")
    p.add_argument("--max-crashes", type=int, default=1, metavar="C", help="crashes per path (default %(default)s)")
    p.add_argument("--max-recoveries", type=int, metavar="C",
                   help="recoveries per path (default: as many as --max-crashes)")
    p.add_argument("--max-timeouts", type=int, default=0, metavar="T",
                   help="timer firings per path, servers' and clients' together (default %(default)s)")
    p.add_argument("--max-delays", default="any", metavar="K",
                   help="messages per path that arrive after messages sent later than them; all others arrive "
                        "in the order they were sent. 'any' (the default): the network may reorder anything. "
                        "A small K reaches deep paths (several leader changes) in seconds")
    p.add_argument("--max-partitions", type=int, default=0, metavar="P",
                   help="times per path that one server is cut off from every other process for a while (every "
                        "message to or from it is lost meanwhile); needs --max-delays K (default %(default)s)")
    p.add_argument("--clocks", choices=("global", "per-process"), default="global",
                   help="global: one clock, timers fire in deadline order across all processes (the simulator's "
                        "model); per-process: each process's clock moves only when its own timer fires, so one "
                        "server can time out while the others' timers wait (default %(default)s)")
    p.add_argument("--max-depth", default="60", metavar="N",
                   help="steps per path, or 'none' (then --budget-seconds is required) (default %(default)s)")
    p.add_argument("--network", choices=("multiset", "set"), default="multiset",
                   help="multiset: every copy in flight counts; set: identical messages in flight are one "
                        "(unordered non-duplicating, fewer states) (default %(default)s)")
    p.add_argument("--retry", type=float, default=0.0, metavar="T",
                   help="clients resend an unanswered request after T time units (default 0: never)")
    p.add_argument("--client-mode", choices=("one", "all"),
                   help="clients send each request to one server at a time (the next one on a resend) or to all "
                        "(default: the protocol's choice)")
    p.add_argument("--first-server", default="first", metavar="first|any|S,S,...",
                   help="in 'one' client mode: every client sends its first request to S1 ('first'), or to any "
                        "server (every choice explored: 'any'), or each to the server named for it (a list, one "
                        "per client: 'S1,S3') (default %(default)s)")
    p.add_argument("--strategy", choices=("bfs", "dfs"), default="bfs",
                   help="breadth-first (shortest counterexample) or depth-first (default %(default)s)")
    p.add_argument("--budget-seconds", type=float, metavar="S", help="stop after S seconds (wall clock)")
    from ..overrides import add_param_option

    add_param_option(p)
    p.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                   help="where to write a counterexample (default ./%(default)s)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=main)


def _count(name: str, value: Optional[int], low: int, high: int = MAX_COUNT) -> None:
    check_flag(name, value, low, high, whole=True)


def _count_or_word(flag: str, raw, word: str, low: int) -> Optional[int]:
    """A whole number of at least ``low``, or None for ``word`` ("none", "any")."""
    text = str(raw).strip().lower()
    if text == word:
        return None
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"{flag}: must be a whole number or '{word}', got {raw!r}") from None
    _count(flag, value, low)
    return value


def _first_servers(raw: str, servers: tuple[str, ...], clients: int) -> tuple[bool, tuple[int, ...]]:
    """``--first-server``: (every choice explored?, each client's first server's index or ())."""
    text = str(raw).strip()
    if text in ("first", "any"):
        return text == "any", ()
    names = [w.strip() for w in text.split(",")]
    if len(names) != clients:
        raise UsageError(f"--first-server: 'first', 'any' or one server per client ({clients}), got {raw!r}")
    for name in names:
        if name not in servers:
            raise UsageError(f"--first-server: {name!r} is not a server (they are {', '.join(servers)})")
    return False, tuple(servers.index(name) for name in names)


def setup_from_args(args):
    """The protocol, setup and bounds the flags describe (every flag validated)."""
    from ..explore import Bounds, Setup
    from ..overrides import check_params, parse_params
    from ..protocols import load_protocol

    proto = load_protocol(args.protocol)
    servers = args.servers if args.servers is not None else max(proto.min_servers, min(3, proto.max_servers or 3))
    _count("--servers", servers, 1, MAX_SERVERS)
    _count("--clients", args.clients, 1, MAX_CLIENTS)
    _count("--requests", args.requests, 1, MAX_REQUESTS)
    for flag in ("max_drops", "max_dups", "max_crashes", "max_recoveries", "max_timeouts", "max_partitions"):
        _count("--" + flag.replace("_", "-"), getattr(args, flag), 0)
    depth = _count_or_word("--max-depth", args.max_depth, "none", 1)
    if depth is None and args.budget_seconds is None:
        raise UsageError("--max-depth none: a search without a depth bound may never end; give --budget-seconds too")
    delays = _count_or_word("--max-delays", args.max_delays, "any", 0)
    if args.max_partitions and delays is None:
        raise UsageError("--max-partitions: a cut loses the messages that reach the head of the send-order queue; "
                         "give --max-delays K (0 for none held back)")
    check_flag("--budget-seconds", args.budget_seconds, 0, MAX_TIME, above=True)
    check_flag("--retry", args.retry, 0, MAX_TIME)  # 0: clients never resend
    params = check_params(proto, parse_params(args.param), servers, servers_flag="--servers")
    names = tuple(f"S{i}" for i in range(1, servers + 1))
    spread, firsts = _first_servers(args.first_server, names, args.clients)
    mode = args.client_mode or proto.client_mode
    if (spread or firsts) and mode != "one":
        raise UsageError(f"--first-server {args.first_server}: clients send each request to every server in "
                         f"'{mode}' mode; give --client-mode one")
    setup = Setup(proto, names, tuple(f"C{i}" for i in range(1, args.clients + 1)), args.requests, params,
                  retry=args.retry, mode=mode, spread=spread, firsts=firsts)
    recoveries = args.max_crashes if args.max_recoveries is None else args.max_recoveries
    bounds = Bounds(drops=args.max_drops, dups=args.max_dups, crashes=args.max_crashes, recoveries=recoveries,
                    timeouts=args.max_timeouts, depth=depth, network=args.network, delays=delays,
                    clocks=args.clocks, cuts=args.max_partitions)
    return setup, bounds


def out_path(out: str, protocol: str, servers: int) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in protocol)
    return os.path.join(out, f"check-{safe}-n{servers}.toml")


def first_server(setup, words: bool = False) -> str:
    """Where clients send first, as the flag's value (or in words)."""
    if setup.spread:
        return "any server" if words else "any"
    if setup.firsts:
        return ",".join(setup.servers[j] for j in setup.firsts)
    return setup.servers[0] if words else "first"


def found_by(args, setup, bounds) -> str:
    words = [f"paxsim check --protocol {args.protocol} --servers {len(setup.servers)} --clients {len(setup.clients)}",
             f"--requests {setup.requests} --max-drops {bounds.drops} --max-dups {bounds.dups}",
             f"--max-crashes {bounds.crashes} --max-recoveries {bounds.recoveries}",
             f"--max-timeouts {bounds.timeouts} --max-depth {bounds.depth if bounds.depth is not None else 'none'}",
             f"--max-delays {bounds.delays if bounds.delays is not None else 'any'} --clocks {bounds.clocks}",
             f"--max-partitions {bounds.cuts}",
             f"--network {bounds.network} --retry {setup.retry:g} --client-mode {setup.mode} "
             f"--first-server {first_server(setup)} --strategy {args.strategy}"]
    words += [f"--param {p}" for p in args.param or ()]
    return " ".join(words)


def main(args) -> int:
    from ..explore import explore
    from ..explore.counterexample import scenario_dict, story

    setup, bounds = setup_from_args(args)
    check_output("--out", args.out, folder=True, create=True)
    b = bounds
    head = (f"{args.protocol}: {len(setup.servers)} servers, {len(setup.clients)} clients x {setup.requests} "
            f"request{'s' if setup.requests != 1 else ''}")
    bounds_line = (f"bounds: drops {b.drops}, duplicates {b.dups}, crashes {b.crashes}, recoveries {b.recoveries}, "
                   f"timer firings {b.timeouts}, depth {b.depth if b.depth is not None else 'none'}, "
                   f"network {b.network}, "
                   f"{'any order' if b.delays is None else 'send order but for %d held back' % b.delays}, "
                   f"{'partitions %d, ' % b.cuts if b.cuts else ''}clocks {b.clocks}; "
                   f"client resend {'after %g' % setup.retry if setup.retry else 'off'}, "
                   f"first request to {first_server(setup, words=True)}")
    if not args.json:
        print(f"checking {head}")
        print(bounds_line)
        print(f"strategy {args.strategy}; safety only: liveness is judged by simulation (paxsim run, paxsim fuzz)")
    progress = _Progress() if not args.json and sys.stderr.isatty() else None
    try:
        result = explore(setup, bounds, strategy=args.strategy, budget_seconds=args.budget_seconds,
                         progress=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    s = result.stats
    path_file = None
    replay = None
    if result.verdict is not None:
        inv = result.verdict.safety_violations[0].invariant
        description = (f"Found by paxsim check: {args.protocol} breaks {inv} in {len(result.path)} steps "
                       f"(bounds: {bounds_line[8:]})")
        d = scenario_dict(setup, result.path, description, args.protocol)
        from ..scenario import dumps_toml, from_dict

        path_file = out_path(args.out, args.protocol, len(setup.servers))
        os.makedirs(args.out, exist_ok=True)
        with open(path_file, "w", encoding="utf-8") as fh:
            fh.write(f"# Found by: {found_by(args, setup, bounds)}\n")
            fh.write(dumps_toml(d))
        from ..driver import run_scenario

        replay = run_scenario(from_dict(d, source=path_file, name=os.path.splitext(os.path.basename(path_file))[0]))
        from ..diagram.html import write_view  # the interactive view beside it

        write_view(replay, os.path.splitext(path_file)[0] + ".html", title=f"{args.protocol}: found by paxsim check")
    if args.json:
        print(json.dumps({
            "protocol": args.protocol, "servers": len(setup.servers), "clients": len(setup.clients),
            "requests": setup.requests, "bounds": bounds.to_json(), "strategy": args.strategy,
            "first_server": first_server(setup),
            "complete": result.complete, "states": s.states, "transitions": s.transitions,
            "max_depth": s.max_depth, "seconds": round(s.seconds, 3), "cpu_seconds": round(s.cpu_seconds, 3),
            "states_per_s": round(s.states_per_s, 1), "outcome": result.outcome,
            "violations": [v.to_json() for v in (result.verdict.violations if result.verdict else ())],
            "counterexample": path_file,
            "replayed": None if replay is None else replay.outcome,
        }, sort_keys=True))
    else:
        stats = (f"{s.states:,} states, {s.transitions:,} transitions, max depth {s.max_depth}, "
                 f"{s.seconds:.1f} s ({s.states_per_s:,.0f} states per CPU second)")
        if result.verdict is None:
            how = ("the space within the bounds was exhausted (complete)" if result.complete
                   else f"the budget ran out with {s.queue:,} states still queued (not complete)")
            print(f"SAFE: no violation within the bounds; {how}")
            print(stats)
        else:
            print(f"UNSAFE: a path of {len(result.path)} steps breaks safety")
            print(stats)
            for line in story(result.path):
                print(line)
            for v in result.verdict.safety_violations:
                print(f"  ! {v.invariant}{' (latent)' if v.latent else ''}: {v.detail}")
            print(f"wrote {path_file}")
            print(f"replayed in the simulator: {replay.outcome}"
                  + ("" if replay.outcome == "UNSAFE" else "  (the replay does NOT reproduce it: please report)"))
            print(f"replay it: paxsim run {path_file}    draw it: paxsim run {path_file} "
                  f"--svg {os.path.splitext(path_file)[0]}.svg")
            print(f"step through it in a browser: {os.path.splitext(path_file)[0]}.html")
    return 1 if result.verdict is not None else 0


class _Progress:
    """A status line on the terminal (rich): states, depth, states/s, queue."""

    def __init__(self) -> None:
        from rich.console import Console

        self.status = Console(stderr=True).status("exploring…")
        self.status.start()

    def update(self, s) -> None:
        self.status.update(f"{s.states:,} states, depth {s.max_depth}, {s.states_per_s:,.0f} states/s, "
                           f"queue {s.queue:,}, {s.seconds:.0f} s")

    def close(self) -> None:
        self.status.stop()
