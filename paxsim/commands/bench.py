"""``paxsim bench``: deliveries per second, against a bare SimPy loop."""

from __future__ import annotations

import json

from ..bench import machine, measure, run_json_vs_stream, stage_costs, stage_ratios
from ..cli import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure simulator speed as a ratio against a bare SimPy loop",
                       description="Run a long fault-free workload through the whole stack (network, replicas, "
                                   "clients, checker) and a bare SimPy loop firing the same number of timeouts "
                                   "with callbacks, in this process; print deliveries per second and their ratio.")
    p.add_argument("--json", action="store_true", help="print a JSON object (paxsim_deliveries_per_s, "
                                                       "simpy_deliveries_per_s, ratio, ...)")
    p.add_argument("--requests", type=int, default=1500, help="requests per client (default %(default)s)")
    p.add_argument("--protocol", default="paxos", help="protocol to measure (default %(default)s)")
    p.add_argument("--servers", type=int, default=5, help="servers (default %(default)s)")
    p.add_argument("--no-stages", action="store_true",
                   help="skip the tables per stage (ratio, messages per request)")
    p.add_argument("--no-process", action="store_true",
                   help="skip timing whole `paxsim run --json` processes against `--stream`")
    p.add_argument("--no-check", action="store_true",
                   help="skip the exhaustive checker's speed (paxsim check, states/s against a bare search loop)")
    p.add_argument("--repeat", type=int, default=5, help="take the best of N runs (default %(default)s)")
    p.add_argument("--memory", metavar="N,N,...", default=None,
                   help="instead: peak memory (RSS) of one long run per total number of requests, each in a "
                        "fresh process, e.g. --memory 10000,100000 (4 clients, streaming checker)")
    p.add_argument("--full-history", action="store_true",
                   help="with --memory: keep every record and check in batch, to compare")
    p.set_defaults(func=main)


def main(args) -> int:
    from ..limits import MAX_REQUESTS, MAX_SERVERS
    from ..outputs import check_flag

    check_flag("--requests", args.requests, 1, MAX_REQUESTS // 4, whole=True)  # per client, 4 clients
    check_flag("--repeat", args.repeat, 1, 100, whole=True)
    check_flag("--servers", args.servers, 1, MAX_SERVERS, whole=True)
    from ..protocols import load_protocol
    from ..scenario import from_dict
    from ..bench import workload

    load_protocol(args.protocol)  # UnknownProtocol -> exit 2
    from_dict(workload(args.protocol, args.servers, 1, 1), source="--protocol/--servers")  # validates the pair
    if args.memory is not None:
        return _memory(args)
    if args.full_history:
        raise UsageError("--full-history: only with --memory")
    r = {"machine": machine()}
    r.update(measure(protocol=args.protocol, servers=args.servers, requests=args.requests, repeat=args.repeat))
    if not args.no_stages:
        r["stage_ratios"] = stage_ratios(requests=min(args.requests, 300), repeat=args.repeat)
        r["stages"] = stage_costs()
    if not args.no_process:
        r["run_json_vs_stream"] = run_json_vs_stream(repeat=args.repeat)
    if not args.no_check:
        from ..explore.bench import check_speed

        r["check"] = check_speed(repeat=min(args.repeat, 3))
    r["machine"]["load_after"] = machine()["load"]
    if args.json:
        print(json.dumps(r, sort_keys=True))
    else:
        m = r["machine"]
        print(f"machine: Python {m['python']}, {m['platform']}, {m['cpus']} cpus, load {m['load'][0]:.2f} "
              f"before, {m['load_after'][0]:.2f} after (CPU time, best of {args.repeat})")
        print(f"workload: {r['workload']}")
        print(f"  paxsim     {r['paxsim_deliveries_per_s']:>12,.0f} deliveries/s  ({r['deliveries']:,} in {r['paxsim_seconds']:.2f}s)")
        print(f"  bare SimPy {r['simpy_deliveries_per_s']:>12,.0f} deliveries/s")
        sp = r["ratio_spread"]
        print(f"  ratio      {r['ratio']:.3f}   (floor 0.25, goal 0.33; pairs {sp['min']:.3f}-{sp['max']:.3f}, "
              f"median {sp['median']:.3f})")
        print(f"  world construction {r['world_ms']:.2f} ms")
        print(f"  messages per completed request: {r['messages_per_request']:.2f}; outcome {r['outcome']}")
        if "stage_ratios" in r:
            print(f"\nratio per stage, steady state (2 clients x {min(args.requests, 300)} requests, no faults):")
            print(f"  {'stage':<28} {'n':>2} {'ratio':>6} {'pairs':>13} {'deliveries/s':>13} {'world':>8}")
            for row in r["stage_ratios"]:
                sp = row["ratio_spread"]
                print(f"  {row['protocol']:<28} {row['servers']:>2} {row['ratio']:>6.3f} "
                      f"{sp['min']:>6.3f}-{sp['max']:<6.3f} {row['paxsim_deliveries_per_s']:>13,.0f} "
                      f"{row['world_ms']:>6.2f}ms")
        if "run_json_vs_stream" in r:
            p = r["run_json_vs_stream"]
            sp = p["json_over_stream_spread"]
            print(f"\nwhole `paxsim run` processes, {p['workload']} (CPU s, best of {p['repeat']}):")
            print(f"  --json {p['seconds']['json']:.2f}  --json --digest {p['seconds']['digest']:.2f}  "
                  f"--json --stream {p['seconds']['stream']:.2f}")
            print(f"  --json / --stream {p['json_over_stream']:.2f} (rounds {sp['min']:.2f}-{sp['max']:.2f}; "
                  f"at most 1.2); --digest / --stream {p['digest_over_stream']:.2f}")
        if "check" in r:
            c = r["check"]
            print(f"\npaxsim check, {c['workload']}: {c['states']:,} states")
            print(f"  check {c['check_states_per_s']:>10,.0f} states/s   bare search loop "
                  f"{c['bare_states_per_s']:>10,.0f} states/s   ratio {c['ratio']:.3f}")
        if "stages" in r:
            print("\nmessages per committed request, steady state (2 clients x 200 requests, no faults):")
            print(f"  {'stage':<28} {'n':>2} {'msgs/req':>9} {'+HB/req':>8}  by type")
            for row in r["stages"]:
                mpr = row["messages_per_request"]
                hb = row["heartbeats_per_request"]
                types = " ".join(f"{k}={v:g}" for k, v in row["by_type"].items())
                print(f"  {row['protocol']:<28} {row['servers']:>2} {mpr if mpr is None else round(mpr, 2):>9} "
                      f"{hb if hb is None else round(hb, 2):>8}  {types}")
    return 0


def _memory(args) -> int:
    from ..bench import measure_memory

    try:
        sizes = [int(x) for x in args.memory.split(",") if x.strip()]
    except ValueError:
        raise UsageError(f"--memory: expected whole numbers separated by commas, got {args.memory!r}") from None
    if not sizes or min(sizes) < 4:
        raise UsageError(f"--memory: each size must be at least 4 requests, got {args.memory!r}")
    from ..limits import MAX_REQUESTS

    if max(sizes) > MAX_REQUESTS:
        raise UsageError(f"--memory: each size must be at most {MAX_REQUESTS:,} requests, got {max(sizes):,}")
    rows = measure_memory(sizes, protocol=args.protocol, servers=args.servers, stream=not args.full_history)
    if args.json:
        print(json.dumps(rows, sort_keys=True))
        return 0
    how = "full history, batch checker" if args.full_history else "streaming checker"
    print(f"peak memory: {args.protocol} n={args.servers}, 4 clients, no faults, {how}, a fresh process per run")
    print(f"  {'requests':>10} {'completed':>10} {'peak RSS':>10}  outcome")
    for r in rows:
        print(f"  {r['requests']:>10,} {r['completed']:>10,} {r['peak_rss_mb']:>8.1f}MB  {r['outcome']}")
    if len(rows) > 1:
        a, b = min(rows, key=lambda r: r["requests"]), max(rows, key=lambda r: r["requests"])
        if b["requests"] > a["requests"]:
            per = (b["peak_rss_mb"] - a["peak_rss_mb"]) * 1024 * 1024 / (b["requests"] - a["requests"])
            print(f"  {per:,.0f} bytes per extra request between {a['requests']:,} and {b['requests']:,}")
    return 0
