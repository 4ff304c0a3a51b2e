"""``paxsim bench``: deliveries per second, against a bare SimPy loop."""

from __future__ import annotations

import json

from ..bench import measure
from ..cli import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("bench", help="measure simulator speed as a ratio against a bare SimPy loop",
                       description="Run a long fault-free workload through the whole stack (network, replicas, "
                                   "clients, checker) and a bare SimPy loop firing the same number of timeouts "
                                   "with callbacks, in this process; print deliveries per second and their ratio.")
    p.add_argument("--json", action="store_true", help="print a JSON object (paxsim_deliveries_per_s, "
                                                       "simpy_deliveries_per_s, ratio, ...)")
    p.add_argument("--requests", type=int, default=3000, help="requests per client (default %(default)s)")
    p.add_argument("--repeat", type=int, default=3, help="take the best of N runs (default %(default)s)")
    p.set_defaults(func=main)


def main(args) -> int:
    if args.requests < 1:
        raise UsageError("--requests: must be at least 1")
    if args.repeat < 1:
        raise UsageError("--repeat: must be at least 1")
    r = measure(requests=args.requests, repeat=args.repeat)
    if args.json:
        print(json.dumps(r, sort_keys=True))
    else:
        print(f"workload: {r['workload']}")
        print(f"  paxsim     {r['paxsim_deliveries_per_s']:>12,.0f} deliveries/s  ({r['deliveries']:,} in {r['paxsim_seconds']:.2f}s)")
        print(f"  bare SimPy {r['simpy_deliveries_per_s']:>12,.0f} deliveries/s")
        print(f"  ratio      {r['ratio']:.3f}   (floor 0.2, goal 0.33)")
        print(f"  messages per completed request: {r['messages_per_request']:.2f}; outcome {r['outcome']}")
    return 0
