"""What paxsim accepts: the limits of every number and name, in one place.

Scenario files (:mod:`paxsim.scenario`), protocol parameters
(:meth:`paxsim.protocols.base.Replica.check_params`) and command-line flags
(``paxsim/commands/*``) all check their numbers and names with the functions
here, so one value is refused the same way wherever it is given. Each function
returns the problem as text (or ``None`` when the value is fine); the caller
turns it into its own one-line error naming the file or flag and the key.
The README section "What paxsim refuses" lists these limits and why.
"""

from __future__ import annotations

import math
from typing import Any, Optional

MAX_SERVERS = 50
"""Servers per run: Paxos sends O(n^2) heartbeats and learns; 50 is far beyond any figure."""
MAX_CLIENTS = 1000
"""Clients per run."""
MAX_REQUESTS = 10_000_000
"""Requests per run, judged as a stream (about 25 bytes each: 250 MB)."""
MAX_BATCH_REQUESTS = 100_000
"""Requests per run when every record is kept (a trace, a diagram, ``--no-stream``):
about 3 KB each, so 100,000 need about 320 MB."""
MAX_TIME = 1e7
"""Every time, interval, delay and horizon, in simulated time units."""
MIN_PERIOD = 1e-3
"""The shortest interval of anything that repeats (heartbeat, retransmission, resend)."""
PERIOD_PER_DELAY = 0.01
"""... and at least this fraction of the network's mean delay: at most 100 copies of
a repeated message in flight on a link."""
MAX_COUNT = 10**9
"""Any other whole number (``nth``, ``compact``)."""
MAX_SEED = 2**63 - 1
"""Seeds (SQLite stores them as 64-bit integers)."""
MAX_SEEDS = 1_000_000
"""Seeds per sweep."""
MAX_FILE_BYTES = 100 * 2**20
"""Size of a scenario or experiment file (a list of a million requests is about 30 MB;
longer workloads are written as ``{count = N}``)."""
MAX_TEXT = 10_000
"""Characters in any other string (a description)."""
MAX_NAME = 64
"""Characters in a process name or a request id."""
NAME_FORBIDDEN = ","
"""Characters a name may not hold (``--only S1,S2`` splits on commas)."""


def show(v: Any, depth: int = 2) -> str:
    """A short, one-line, printable rendering of any value, for an error message:
    long strings and lists are cut, huge whole numbers described, nesting stopped."""
    if v is None or isinstance(v, (bool, float)):
        return repr(v)
    if isinstance(v, int):
        return repr(v) if v.bit_length() <= 64 else f"a whole number of {v.bit_length()} bits"
    if isinstance(v, str):
        return repr(v) if len(v) <= 40 else repr(v[:40])[:-1] + "...'"
    if isinstance(v, (list, tuple)):
        if depth <= 0:
            return "[...]"
        items = [show(x, depth - 1) for x in v[:4]]
        return "[" + ", ".join(items + (["..."] if len(v) > 4 else [])) + "]"
    if isinstance(v, dict):
        if depth <= 0:
            return "{...}"
        items = [f"{show(k, 0)} = {show(x, depth - 1)}" for k, x in list(v.items())[:4]]
        return "{" + ", ".join(items + (["..."] if len(v) > 4 else [])) + "}"
    return f"a {type(v).__name__}"


def printable(text: str) -> str:
    """``text`` on one line: every character that is not printable escaped."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def shown_path(path: str) -> str:
    """A file name for a message: as is, or quoted when it is empty or begins or
    ends with a space (so that it can be seen), with unprintable characters escaped."""
    return printable(path) if path and path == path.strip() else repr(path)


def _g(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def number_problem(v: Any, low: float = 0.0, high: float = MAX_TIME, *, whole: bool = False,
                   above: bool = False) -> Optional[str]:
    """What is wrong with ``v`` as a number in ``[low, high]`` (``above``: ``(low, high]``),
    a whole one if ``whole``; None if nothing is."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return f"must be a {'whole number' if whole else 'number'}, not {show(v)}"
    if whole and not isinstance(v, int):
        return f"must be a whole number, not {show(v)}"
    if isinstance(v, float) and not math.isfinite(v):
        return f"must be finite, not {show(v)}"
    if above and v <= low:
        return f"must be > {_g(low)}, got {show(v)}"
    if v < low:
        return f"must be >= {_g(low)}, got {show(v)}" if low else f"must not be negative, got {show(v)}"
    if v > high:
        return f"must be at most {_g(high)}, got {show(v)}"
    return None


def period_problem(v: float, delay: float) -> Optional[str]:
    """What is wrong with ``v`` as the interval of something that repeats, on a network
    whose mean delay is ``delay`` (see :data:`MIN_PERIOD`, :data:`PERIOD_PER_DELAY`)."""
    floor = max(MIN_PERIOD, PERIOD_PER_DELAY * delay)
    if v < floor:
        why = (f"1/100 of the network's mean delay {delay:g}" if floor > MIN_PERIOD
               else "the shortest interval paxsim repeats anything at")
        return f"must be at least {floor:g} ({why}), got {show(v)}"
    return None


def name_problem(v: Any) -> Optional[str]:
    """What is wrong with ``v`` as a process name or request id: printable, non-empty,
    at most :data:`MAX_NAME` characters, no comma, no leading or trailing space."""
    if not isinstance(v, str):
        return f"must be a name (a string), not {show(v)}"
    if not v.strip():
        return f"must be a non-empty name, not {show(v)}"
    if len(v) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters, got {len(v)}"
    if not v.isprintable():
        return f"must be printable (no control characters), not {show(v)}"
    if v != v.strip():
        return f"must not begin or end with a space, not {show(v)}"
    if any(c in v for c in NAME_FORBIDDEN):
        return f"must not contain {', '.join(repr(c) for c in NAME_FORBIDDEN)}, not {show(v)}"
    return None
