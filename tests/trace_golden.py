"""Golden trace digests: the 17 figures and 72 random schedules, recorded at a
known-good commit, so that a hot-path change that alters a single byte of any
trace shows up.

    PYTHONPATH=$PWD python -m tests.trace_golden            # compare, print differences
    PYTHONPATH=$PWD python -m tests.trace_golden --write    # record (only when a change is meant)

Each case's ``trace`` digest is the BLAKE2b of its JSON Lines trace (what ``run
--trace`` writes), so equal digests mean byte-identical trace files. A trace rounds
times to 9 decimals, so two more digests pin every bit: ``exact``, of the trace's
times and the history's records as floats (``repr``), and ``untraced``, of the same
run made without a trace (``record_trace=False``, the fast path of the fuzzer,
sweeps and the bench): its history, end time and message counters. The cases cover every
stage, 3 and 5 servers, loss, duplication, crashes with and without recovery,
partitions, FIFO links, exponential and constant delays, and compacting Paxos.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "data" / "trace_digests.json"

# (protocol, servers, extra keyword arguments of random_schedule, network tweak, seeds)
RANDOM = [
    ("paxos", 3, {}, None, range(0, 12)),
    ("paxos", 5, {"crashes": 2, "partitions": 2, "requests": 4}, None, range(0, 10)),
    ("paxos", 3, {"recover": False, "partitions": 2}, None, range(0, 6)),
    ("paxos", 3, {"params": {"compact": 1}, "crashes": 2}, None, range(0, 6)),
    ("paxos", 3, {"loss": 0.2, "duplicate": 0.1}, "fifo", range(0, 6)),
    ("paxos", 5, {}, "exponential", range(0, 6)),
    ("paxos", 3, {"crashes": 0, "partitions": 0}, "constant", range(0, 4)),
    ("uncoordinated", 2, {}, None, range(0, 4)),
    ("retrans_accept_fallback", 2, {}, None, range(0, 3)),
    ("wait_for_learn_fallback", 2, {}, None, range(0, 3)),
    ("wait_for_learn_majority", 3, {}, None, range(0, 3)),
    ("leader_change_rounds", 5, {}, None, range(0, 3)),
    ("paxos_promise_without_round", 3, {"crashes": 3, "partitions": 3, "loss": 0.3}, None, range(0, 3)),
    ("single_server", 1, {"partitions": 0}, None, range(0, 3)),
]


def _tweak(d: dict, how) -> dict:
    if how == "fifo":
        d["network"]["fifo"] = True
    elif how == "exponential":
        d["network"]["delay"] = {"dist": "exponential", "mean": 1.0, "min": 0.2}
    elif how == "constant":
        d["network"]["delay"] = {"dist": "constant", "value": 1.0}
    return d


def cases() -> Iterator[tuple[str, object]]:
    """(name, scenario) for every golden case, in a fixed order."""
    from paxsim.scenario import from_dict, load
    from paxsim.schedules import random_schedule

    for path in sorted((ROOT / "scenarios").glob("fig*.toml")):
        yield path.stem, load(str(path))
    for protocol, servers, kw, how, seeds in RANDOM:
        for seed in seeds:
            d = _tweak(random_schedule(protocol, seed, servers=servers, **kw), how)
            name = f"random-{protocol}-n{servers}-{how or 'uniform'}-{'-'.join(sorted(kw)) or 'default'}-{seed}"
            yield name, from_dict(d, source=f"<{name}>", name=name)


def _sha(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:32]


def _history(r) -> tuple:
    h = r.history
    return ([(o.time, o.client, o.request.id, o.state.length, o.state.label(), o.server, o.pos) for o in h.replies],
            [(e.time, e.replica, e.request.id, e.state.length, e.pos) for e in h.executions],
            [(i.time, i.client, i.request.id, i.pos) for i in h.invocations])


def run_case(sc) -> dict:
    from paxsim.driver import run_scenario

    r = run_scenario(sc)
    u = run_scenario(sc, record_trace=False)
    w = u.world
    return {"outcome": r.outcome, "trace": r.trace.digest(), "events": len(r.trace),
            "exact": _sha(([e[0] for e in r.trace.events], _history(r))),
            "untraced": _sha((u.outcome, [v.detail for v in u.verdict.violations], w.env.now, _history(u),
                              sorted(w.net.sent.items()), sorted(w.net.dropped.items()),
                              sorted(w.net.duplicated.items()), sorted(w.net.delivered.items())))}


def digests() -> dict[str, dict]:
    return {name: run_case(sc) for name, sc in cases()}


def main(argv: list[str]) -> int:
    now = digests()
    if "--write" in argv:
        GOLDEN.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"wrote {len(now)} digests to {GOLDEN}")
        return 0
    golden = json.loads(GOLDEN.read_text())
    bad = [k for k in sorted(set(now) | set(golden)) if now.get(k) != golden.get(k)]
    for k in bad:
        print(f"DIFFERS {k}: golden {golden.get(k)} now {now.get(k)}")
    print(f"{len(now) - len(bad)}/{len(now)} identical")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
