"""The loader and the command line, fuzzed (issue #13).

Scenario files: start from every scenario under scenarios/ and examples/, mutate it
(delete a key, add an unknown one, swap a value's type, put in an extreme value: 0,
-1, 1e308, nan, inf, huge whole numbers, empty strings, control characters, deep
nesting; or corrupt the text itself) and run ``paxsim run`` on it in this process.
Flags: the same for each subcommand's flags. Either way paxsim either runs (exit 0
or 1) or refuses with exit 2 and exactly one line naming the file or flag: never a
traceback, never more than a few seconds before the refusal, never a file written
on refusal.

CI runs a few hundred examples; ``PAXSIM_BAD_INPUT_EXAMPLES=N`` runs N per test
(the long campaign before closing #13 ran this way).
"""

from __future__ import annotations

import copy
import io
import math
import os
import re
import shutil
import signal
import tempfile
import time
import tomllib
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paxsim.cli import main
from paxsim.limits import printable

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "scenarios").glob("*.toml")) + sorted((ROOT / "examples").glob("*.toml"))
EXAMPLES = int(os.environ.get("PAXSIM_BAD_INPUT_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                       HealthCheck.nested_given])  # `paxsim fuzz` runs hypothesis itself
REFUSE_SECONDS = 5.0   # "a few seconds", on a loaded 2-core machine
HANG_SECONDS = 60      # an accepted run this long is a hang


def shrink_workloads(d: Any) -> Any:
    """Long workloads ({count = 25000}) cut to 40 requests, so that an accepted mutant
    runs in well under a second; huge counts are still fuzzed by the mutations."""
    if isinstance(d, dict):
        out = {k: shrink_workloads(v) for k, v in d.items()}
        if isinstance(out.get("count"), int) and out["count"] > 40:
            out["count"] = 40
        return out
    if isinstance(d, list):
        return [shrink_workloads(x) for x in d]
    return d


BASES = [(p.name, shrink_workloads(tomllib.loads(p.read_text()))) for p in SOURCES]


# ------------------------------------------------------------- TOML writing ---

class Raw(str):
    """A value written into the TOML text as is (deep nesting, a 5,000-digit number)."""


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _string(k)


def _string(s: str) -> str:
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif c.isprintable() and not (0xD800 <= ord(c) <= 0xDFFF):
            out.append(c)
        else:
            out.append(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
    return '"' + "".join(out) + '"'


def value(v: Any) -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list):
        return "[" + ", ".join(value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {value(x)}" for k, x in v.items()) + "}"
    return _string(str(v))  # dates and such: as text


def to_toml(d: dict) -> str:
    return "".join(f"{_key(k)} = {value(v)}\n" for k, v in d.items())


# ------------------------------------------------------------------ mutations ---

EXTREMES: list[Any] = [
    0, -1, 1, 0.0, -0.0, 1e308, -1e308, 1e-300, 5e-324, float("nan"), float("inf"), float("-inf"),
    2**63, 2**64, 10**400, Raw("9" * 5000), "", " ", "\x00", "S1\nS2", "C1\r", "\x1b[31mred", "\u2028", "m1",
    "S1", "ACC", "paxos", ":", "a:b", [], {}, [[]], True, False, ["S1", "S1"],
    Raw("[" * 60 + "]" * 60), Raw("[" * 3000 + "]" * 3000), Raw("{a = " * 40 + "1" + "}" * 40),
    Raw("1979-05-27T07:32:00Z"),
]
"""Extreme values: numbers at and beyond every limit, empty and control-character
strings, names that exist, wrong types, deep nesting, a date."""


def paths(d: Any, here: tuple = ()) -> list[tuple]:
    out = [here]
    if isinstance(d, dict):
        for k, v in d.items():
            out += paths(v, here + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out += paths(v, here + (i,))
    return out


def get(d: Any, path: tuple) -> Any:
    for k in path:
        d = d[k]
    return d


def swap_type(v: Any) -> Any:
    if isinstance(v, bool):
        return "true"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return {"x": v[:1]} if v else {}
    if isinstance(v, dict):
        return list(v.values())[:2]
    return 0


@st.composite
def mutated(draw) -> tuple[str, str]:
    """(base name, TOML text) of a mutated scenario."""
    name, base = draw(st.sampled_from(BASES))
    d = shrink_workloads(base)  # a fresh copy
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(d)))
        op = draw(st.sampled_from(("delete", "add", "extreme", "extreme", "extreme", "swap")))
        target = get(d, path[:-1]) if path else None
        if op == "delete" and path:
            del target[path[-1]]
        elif op == "add":
            box = get(d, path)
            key = draw(st.sampled_from(("colour", "", "a\nb", "servers", "at", "type", "seed", "\x00")))
            new = copy.deepcopy(draw(st.sampled_from(EXTREMES)))  # never share (and grow) a list of EXTREMES
            if isinstance(box, dict):
                box[key] = new
            elif isinstance(box, list):
                box.append(new)
        elif op == "swap" and path:
            target[path[-1]] = swap_type(get(d, path))
        elif path:
            target[path[-1]] = copy.deepcopy(draw(st.sampled_from(EXTREMES)))
    text = to_toml(d)
    corrupt = draw(st.sampled_from(("none",) * 6 + ("truncate", "byte", "dup")))
    if corrupt == "truncate":
        text = text[:draw(st.integers(0, len(text)))]
    elif corrupt == "byte":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(("\x00", "[", "]", '"', "=", "\n[[", "\ufeff", "\udcff"))) + text[at:]
    elif corrupt == "dup":
        text = text + text
    return name, text


# ------------------------------------------------------------------- running ---

class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int):
    def fire(signum, frame):
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def listing(folder: str) -> dict[str, tuple[int, int]]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st_ = os.lstat(p)
            out[os.path.relpath(p, folder)] = (st_.st_size, st_.st_mtime_ns)
    return out


def run_cli(argv: list[str], cwd: str) -> tuple[int, str, str, float]:
    """The paxsim command in this process, in folder ``cwd``: (exit code, stdout, stderr, seconds)."""
    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    t0 = time.perf_counter()
    try:
        with redirect_stdout(out), redirect_stderr(err), time_limit(HANG_SECONDS):
            try:
                rc = main(argv)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 2
    finally:
        os.chdir(here)
    return rc, out.getvalue(), err.getvalue(), time.perf_counter() - t0


def check(argv: list[str], cwd: str, names: tuple[str, ...]) -> int:
    """Run; assert it ran or refused with one line naming one of ``names``, quickly,
    writing nothing. Returns the exit code."""
    before = listing(cwd)
    rc, out, err, took = run_cli(argv, cwd)
    assert rc in (0, 1, 2), (argv, rc, err)
    assert "Traceback" not in err, (argv, err)  # a crash exits 1 too: not a verdict
    if rc == 2:
        assert err.endswith("\n") and err.count("\n") == 1 and "error: " in err, (argv, err)
        assert any(n in err for n in names), (argv, names, err)
        assert took < REFUSE_SECONDS, f"refused after {took:.1f} s: {argv}"
        assert listing(cwd) == before, f"refused but wrote files: {argv}: {err}"
    return rc


# --------------------------------------------------------------- the loader ---

@FUZZ
@given(mutated(), st.sampled_from(((), ("--json",), ("--stream",), ("--trace", "t.jsonl"),
                                   ("--trace", "nope/t.jsonl"), ("--diagram",))))
def test_mutated_scenarios_run_or_are_refused_in_one_line(case, flags):
    name, text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mutant-" + name)
        with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
            fh.write(text)
        check(["run", path, "--events", "0", *flags], tmp, (printable(path), "--trace", "--diagram", "--stream"))


def test_the_mutations_reach_every_class_of_problem():
    """The loader fuzz is only as good as its mutations: on a fixed sample, refusals
    come from the parser, from unknown keys, from types, from ranges and from
    names, and some mutants still run."""
    seen: dict[str, int] = {}

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(mutated())
    def sample(case):
        name, text = case
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.toml")
            with open(path, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write(text)
            rc, _, err, _ = run_cli(["run", path, "--events", "0"], tmp)
        for label, pattern in (("parser", "TOML|UTF-8"), ("unknown key", "unknown key"),
                               ("type", "must be a|must be true"), ("range", "at most|finite|negative|>= |> 0"),
                               ("name", "printable|non-empty name|distinct"), ("ran", None)):
            if (pattern is None and rc in (0, 1)) or (pattern is not None and rc == 2 and re.search(pattern, err)):
                seen[label] = seen.get(label, 0) + 1

    sample()
    assert set(seen) == {"parser", "unknown key", "type", "range", "name", "ran"}, seen


# ----------------------------------------------------------------- the flags ---

FLAG_VALUES: list[str] = ["0", "-1", "1e308", "nan", "inf", "-inf", "99999999999999999999999", "1" * 5000, "",
                          " ", "\x01", "S1\nS2", "x", "1.5", "1,,2", ":", "3:1", "0:0", "2x", "x3", "nope/out.svg",
                          ".", "a\nb.svg", "out.svg", "paxos", ":Paxos", "paxsim.protocols.base:Replica"]

COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "run": (["{fig01}", "--events", "0"],
            ["--seed", "--events", "--trace", "--svg", "--png", "--from", "--to", "--only", "--json", "--stream",
             "--no-stream", "--diagram"]),
    "draw": (["{trace}"], ["--svg", "--png", "--text", "--from", "--to", "--only", "--heartbeats", "--timers"]),
    "fuzz": (["--protocol", "single_server", "--servers", "1", "--budget-examples", "2", "--out", "cx"],
             ["--protocol", "--servers", "--clients", "--requests", "--budget-examples", "--budget-seconds", "--seed",
              "--workers", "--max-faults", "--improve", "--events", "--out", "--liveness"]),
    "sweep": (["--protocols", "single_server", "--servers", "1", "--seeds", "1", "--workload", "1x1", "--workers", "1",
               "--no-progress", "--db", "r.sqlite"],
              ["--protocols", "--servers", "--loss", "--duplicate", "--delay", "--crash-rate", "--partition-rate",
               "--workload", "--seeds", "--horizon", "--threshold", "--workers", "--db", "--name", "--no-recover"]),
    "compare": (["--db", "{db}", "--no-plots"], ["--db", "--experiment", "--out", "--csv", "--json"]),
    "bench": (["--requests", "1", "--repeat", "1", "--no-stages", "--servers", "1", "--protocol", "single_server"],
              ["--requests", "--repeat", "--servers", "--protocol", "--memory", "--full-history"]),
    "figures": (["--dir", "{figs}"], ["--dir", "--svg", "--json"]),
    "check": (["--protocol", "single_server", "--servers", "1", "--clients", "1", "--max-drops", "0",
               "--max-crashes", "0", "--out", "cx"],
              ["--protocol", "--servers", "--clients", "--requests", "--max-drops", "--max-dups", "--max-crashes",
               "--max-recoveries", "--max-timeouts", "--max-delays", "--max-partitions", "--clocks", "--max-depth", "--network", "--retry",
               "--client-mode", "--first-server", "--strategy", "--budget-seconds", "--param", "--out", "--json"]),
}


@st.composite
def command_lines(draw) -> tuple[str, list[str]]:
    cmd = draw(st.sampled_from(sorted(COMMANDS)))
    argv, flags = COMMANDS[cmd]
    argv = list(argv)
    for _ in range(draw(st.integers(1, 2))):
        op = draw(st.sampled_from(("set", "set", "set", "bare", "drop", "unknown", "positional")))
        flag = draw(st.sampled_from(flags))
        if op == "set":
            argv += [flag, draw(st.sampled_from(FLAG_VALUES))]
        elif op == "bare":
            argv.append(flag)
        elif op == "drop" and argv:
            del argv[draw(st.integers(0, len(argv) - 1))]
        elif op == "unknown":
            argv.append(draw(st.sampled_from(("--colour", "-x", "--", "--seed=", "--=1"))))
        else:
            argv.insert(0, draw(st.sampled_from(FLAG_VALUES)))
    return cmd, argv


def workspace(tmp: str) -> dict[str, str]:
    """A scenario, a trace, a results database and a folder with one figure, in ``tmp``."""
    shutil.copy(ROOT / "scenarios" / "fig01.toml", os.path.join(tmp, "fig01.toml"))
    os.mkdir(os.path.join(tmp, "figs"))
    shutil.copy(ROOT / "scenarios" / "fig01.toml", os.path.join(tmp, "figs", "fig01.toml"))
    assert run_cli(["run", "fig01.toml", "--trace", "fig01.jsonl", "--events", "0"], tmp)[0] == 0
    assert run_cli(["sweep", "--protocols", "single_server", "--servers", "1", "--seeds", "2", "--workload", "1x1",
                    "--workers", "1", "--no-progress", "--db", "db.sqlite", "--name", "e"], tmp)[0] == 0
    return {"fig01": "fig01.toml", "trace": "fig01.jsonl", "db": "db.sqlite", "figs": "figs"}


_WORKSPACE: dict[str, str] = {}


@FUZZ
@given(command_lines())
def test_every_subcommand_runs_or_refuses_bad_flags_in_one_line(cmd_argv):
    cmd, argv = cmd_argv
    if not _WORKSPACE:
        _WORKSPACE["tmp"] = tempfile.mkdtemp(prefix="paxsim-flags-")
        _WORKSPACE.update(workspace(_WORKSPACE["tmp"]))
    template = _WORKSPACE["tmp"]
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(template, tmp, dirs_exist_ok=True)
        argv = [a.format(**_WORKSPACE) if a.startswith("{") else a for a in argv]
        names = tuple(printable(a) for a in argv if a.strip()) + tuple(COMMANDS[cmd][1]) + (
            "required", "unrecognized arguments", "argument ", "--db") + tuple(repr(a) for a in argv if not a.strip())
        check([cmd, *argv], tmp, names)
