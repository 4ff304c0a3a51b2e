"""The ``paxsim`` command. Each subcommand lives in ``paxsim/commands/NAME.py`` and
provides ``add_parser(subparsers)`` and ``main(args) -> int``.

Exit codes: 0 all as expected, 1 an outcome differs from its expectation (or a
violation was found, for fuzz), 2 bad input (one message, no traceback).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional, Sequence

# Shown first in --help, in this order; any other module in paxsim/commands follows.
PREFERRED = ["run", "figures", "draw", "fuzz", "check", "sweep", "compare", "bench"]


def command_names() -> list[str]:
    import pkgutil

    from . import commands

    found = sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))
    return [n for n in PREFERRED if n in found] + [n for n in found if n not in PREFERRED]


class UsageError(Exception):
    """Bad input from the command line: printed as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """Refuses a bad command line with one line (no usage block), exit code 2."""

    def error(self, message: str):
        from .limits import printable

        self.exit(2, f"{printable(self.prog)}: error: {printable(message)} (see {printable(self.prog)} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="paxsim",
        description="Deterministic simulator for 'Paxos Explained from Scratch': replay the tutorial's "
                    "figures, run scenarios, check what the clients saw.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_names():
        module = importlib.import_module(f"paxsim.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    from .protocols import UnknownProtocol
    from .scenario import ScenarioError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ScenarioError, UsageError, UnknownProtocol) as exc:
        from .limits import printable

        print(f"paxsim: error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("paxsim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def entry() -> None:
    sys.exit(main())
