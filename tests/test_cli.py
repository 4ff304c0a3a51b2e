"""The paxsim command as a user runs it: help, exit codes, JSON output, traces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paxsim.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIG01 = str(ROOT / "scenarios" / "fig01.toml")
FIG02 = str(ROOT / "scenarios" / "fig02.toml")


def paxsim(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "paxsim", *args], capture_output=True, text=True, cwd=ROOT)


def test_help_works_for_the_command_and_every_subcommand():
    r = paxsim("--help")
    assert r.returncode == 0 and "run" in r.stdout and "figures" in r.stdout and "bench" in r.stdout
    from paxsim.cli import command_names

    for name in command_names():
        r = paxsim(name, "--help")
        assert r.returncode == 0, (name, r.stderr)
        assert "usage: paxsim " + name in r.stdout


def test_run_prints_outcome_expected_violations_and_events(capsys):
    assert main(["run", FIG02]) == 0
    out = capsys.readouterr().out
    assert "outcome UNSAFE" in out and "expected UNSAFE" in out
    assert "prefix_chain" in out and "C1 saw <s^1>" in out and "C2 saw <s^2>" in out
    assert "S2 executes m1 -> s^21" in out


def test_run_json_has_the_documented_keys(capsys):
    assert main(["run", FIG01, FIG02, "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    for line in lines:
        obj = json.loads(line)
        for key in ("scenario", "protocol", "seed", "outcome", "expected", "match", "violations", "trace_digest"):
            assert key in obj
        for v in obj["violations"]:
            assert "invariant" in v and "detail" in v
    assert json.loads(lines[1])["outcome"] == "UNSAFE"


def test_run_exits_1_when_an_outcome_does_not_match(tmp_path, capsys):
    text = Path(FIG02).read_text().replace('expected = "UNSAFE"', 'expected = "SAFE"')
    p = tmp_path / "wrong.toml"
    p.write_text(text)
    assert main(["run", str(p)]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_run_writes_a_trace_file_with_the_reported_digest(tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    assert main(["run", FIG02, "--trace", str(out), "--json"]) == 0
    obj = json.loads(capsys.readouterr().out)
    from paxsim.sim.trace import digest_lines, read_trace

    assert digest_lines(out.read_text().splitlines()) == obj["trace_digest"]
    recs = read_trace(str(out))
    assert recs[-1]["ev"] == "verdict" and recs[-1]["outcome"] == "UNSAFE"
    assert {r["ev"] for r in recs} >= {"send", "deliver", "execute", "invoke"}


@pytest.mark.parametrize("args,needle", [
    (["run", FIG01, FIG02, "--trace", "x.jsonl"], "--trace"),
    (["run", FIG01, "--seed", "-3"], "--seed"),
    (["run", FIG01, "--trace", "/no/such/folder/t.jsonl"], "does not exist"),
    (["bench", "--requests", "0"], "--requests"),
    (["figures", "--dir", "/no/such/folder"], "--dir"),
])
def test_bad_flags_exit_2_with_one_message(args, needle):
    r = paxsim(*args)
    assert r.returncode == 2, r
    assert needle in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_argparse_errors_exit_2():
    r = paxsim("run")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    r = paxsim("frobnicate")
    assert r.returncode == 2


def test_python_dash_m_and_console_script_agree():
    r = paxsim("run", FIG01, "--json")
    exe = Path(sys.executable).parent / "paxsim"
    if exe.exists():
        r2 = subprocess.run([str(exe), "run", FIG01, "--json"], capture_output=True, text=True, cwd=ROOT)
        assert r2.stdout == r.stdout
    assert json.loads(r.stdout)["outcome"] == "SAFE"


def test_bench_json_reports_the_ratio():
    r = paxsim("bench", "--json", "--requests", "50", "--repeat", "1")
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    for key in ("paxsim_deliveries_per_s", "simpy_deliveries_per_s", "ratio"):
        assert obj[key] > 0
    assert obj["ratio"] == pytest.approx(obj["paxsim_deliveries_per_s"] / obj["simpy_deliveries_per_s"])
