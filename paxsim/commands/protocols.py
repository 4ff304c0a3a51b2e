"""``paxsim protocols``: the built-in stages (or given protocols), their parameters
and defaults, valid ranges, quorums and the figures that use them."""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "protocols", help="list the protocols with their parameters, defaults, valid ranges, quorums and figures",
        description="Describe every built-in stage, in the tutorial's order (or only the protocols named, which "
                    "may be module.path:ClassName): a one-line summary, parameters with defaults and valid ranges, "
                    "how many servers it runs with, its quorums and the figures that use it.")
    p.add_argument("names", nargs="*", metavar="PROTOCOL", help="built-in name or module.path:ClassName (default: all built-in)")
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per protocol")
    p.set_defaults(func=main)


def main(args) -> int:
    from ..catalog import describe, lines
    from ..protocols import BUILTIN

    names = args.names or list(BUILTIN)
    described = [describe(n) for n in names]  # UnknownProtocol -> exit 2, before printing anything
    if args.json:
        print(json.dumps(described, indent=1))
        return 0
    for i, d in enumerate(described):
        if i:
            print()
        print("\n".join(lines(d)))
    return 0
