"""A researcher's commands: `paxsim protocols`, `run --protocol/--param`, `fuzz --param`,
and protocols found next to the scenario that names them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paxsim.cli import main
from paxsim.protocols import BUILTIN

ROOT = Path(__file__).resolve().parent.parent
FIG12B = str(ROOT / "scenarios" / "fig12b.toml")
FIG05 = str(ROOT / "scenarios" / "fig05.toml")
FLEX = "examples.flexible_paxos:FlexiblePaxos"


# ---- paxsim protocols ------------------------------------------------------------------------

def test_protocols_lists_every_stage_with_params_ranges_quorums_and_figures(capsys):
    assert main(["protocols", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listed] == list(BUILTIN)
    paxos = next(d for d in listed if d["name"] == "paxos")
    params = {p["name"]: p for p in paxos["params"]}
    assert params["heartbeat"]["default"] == 2.0 and params["heartbeat"]["valid"] == "number > 0; must be at most 1e+07"
    assert params["backoff"]["valid"] == "number >= 0; must be at most 1e+07"  # paxsim.limits.MAX_TIME
    assert params["compact"]["valid"] == "whole number >= 0" and "checkpoint" in params["compact"]["help"]
    assert {"servers": 5, "quorum": 3, "promise": 3, "learn": 3} in paxos["quorums"]
    assert paxos["figures"] == ["fig12b"] and paxos["summary"].startswith("Paxos with n servers")
    fallback = next(d for d in listed if d["name"] == "retrans_accept_fallback")
    assert (fallback["min_servers"], fallback["max_servers"], fallback["client_mode"]) == (2, 2, "all")
    assert "fig05" in fallback["figures"]


def test_protocols_describes_a_module_class(capsys):
    assert main(["protocols", FLEX]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"{FLEX}\n  Paxos whose phase-1 (q1) and phase-2 (q2) quorums only need to intersect")
    assert "q2 = 0  (whole number >= 0; must be at most the number of servers (3))" in text
    assert "figures: -" in text
    assert main(["protocols", "nosuchmod:Nope"]) == 2
    assert "nosuchmod" in capsys.readouterr().err


# ---- run --protocol / --param ----------------------------------------------------------------

def run_json(capsys, *args):
    rc = main(["run", *args, "--json"])
    return rc, json.loads(capsys.readouterr().out)


def test_run_with_another_protocol_and_parameters_says_what_it_overrode(capsys):
    rc, plain = run_json(capsys, FIG12B)
    assert rc == 0 and plain["overridden"] == {}
    rc, flex = run_json(capsys, FIG12B, "--protocol", FLEX, "--param", "q1=4", "--param", "q2=2")
    assert rc == 0 and flex["outcome"] == "SAFE" and flex["protocol"] == FLEX
    assert flex["overridden"] == {"protocol": {"from": "paxos", "to": FLEX},
                                  "params": {"q1": {"from": None, "to": 4}, "q2": {"from": None, "to": 2}}}
    # the parameters reach the protocol: a phase-2 quorum of every server changes the run
    _, all5 = run_json(capsys, FIG12B, "--protocol", FLEX, "--param", "q1=1", "--param", "q2=5", "--digest")
    _, majority = run_json(capsys, FIG12B, "--protocol", FLEX, "--digest")  # --json alone keeps no trace
    assert all5["trace_digest"] != majority["trace_digest"]
    rc, tuned = run_json(capsys, FIG12B, "--param", "suspect=9.5")
    assert tuned["overridden"]["params"] == {"suspect": {"from": 8.0, "to": 9.5}}


@pytest.mark.parametrize("args, message", [
    ([FIG12B, "--protocol", FLEX, "--param", "q1=2", "--param", "q2=2"], "--param q2: q1 + q2 must exceed"),
    ([FIG12B, "--param", "q2=2"], "--param q2: unknown parameter for protocol paxos"),
    ([FIG12B, "--param", "suspect=fast"], "--param suspect: must be a number, not 'fast'"),
    ([FIG12B, "--param", "suspect"], "--param 'suspect': give KEY=VALUE"),
    ([FIG12B, "--param", "suspect=9", "--param", "suspect=10"], "--param suspect: given twice"),
    ([FIG05, "--protocol", "uncoordinated"], "fig05.toml sets params.heartbeat, which uncoordinated does not take"),
    ([FIG05, "--protocol", "nope"], "--protocol: unknown protocol 'nope'"),
    ([FIG12B, "--protocol", "single_server"], "--protocol: protocol single_server runs with at most 1 servers"),
])
def test_bad_overrides_exit_2_with_one_line(capsys, args, message):
    assert main(["run", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_fuzz_takes_params(monkeypatch, tmp_path, capsys):
    import importlib

    search_mod = importlib.import_module("paxsim.fuzz.search")

    assert main(["fuzz", "--protocol", "paxos", "--param", "q2=1", "--out", str(tmp_path)]) == 2
    assert "--param q2: unknown parameter for protocol paxos" in capsys.readouterr().err
    assert main(["fuzz", "--protocol", FLEX, "--servers", "3", "--param", "q1=1", "--param", "q2=1",
                 "--out", str(tmp_path)]) == 2
    assert "--param q2: q1 + q2 must exceed the number of servers (3)" in capsys.readouterr().err
    seen = []
    real = search_mod.search

    def spy(cfg, *a, **kw):
        seen.append(cfg)
        return real(cfg, *a, **kw)

    monkeypatch.setattr(search_mod, "search", spy)
    assert main(["fuzz", "--protocol", FLEX, "--servers", "5", "--param", "q1=4", "--param", "q2=2",
                 "--budget-examples", "3", "--out", str(tmp_path)]) == 0
    assert seen and dict(seen[0].params) == {"q1": 4, "q2": 2}


# ---- own protocols next to the scenario ---------------------------------------------------------

MODULE = '''from paxsim.protocols.uncoordinated import Uncoordinated


class Mine(Uncoordinated):
    """{doc}"""
    name = "{name}"
'''


def scenario_using(protocol: str) -> str:
    text = Path(ROOT / "scenarios" / "fig02.toml").read_text()
    return text.replace('protocol = "uncoordinated"', f'protocol = "{protocol}"')


def test_a_protocol_module_is_found_next_to_the_scenario_from_any_folder(tmp_path):
    proj = tmp_path / "proj"
    (proj / "counterexamples").mkdir(parents=True)
    (proj / "projmod.py").write_text(MODULE.format(doc="the project's", name="from_proj"))
    (proj / "counterexamples" / "x.toml").write_text(scenario_using("projmod:Mine"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(cwd, *args):
        return subprocess.run([sys.executable, "-m", "paxsim", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=120)

    r = run(elsewhere, "run", str(proj / "counterexamples" / "x.toml"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["protocol"] == "projmod:Mine"
    # the current folder comes first: a projmod.py here wins over the scenario's
    (elsewhere / "projmod.py").write_text(MODULE.format(doc="the current folder's", name="from_here"))
    code = ("from paxsim.protocols import load_protocol; import sys; "
            "print(load_protocol('projmod:Mine', near=sys.argv[1]).__doc__)")
    r = subprocess.run([sys.executable, "-c", code, str(proj / "counterexamples" / "x.toml")], cwd=elsewhere,
                       env=env, capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "the current folder's", r.stderr
    (elsewhere / "projmod.py").unlink()
    os.rename(proj / "projmod.py", proj / "other.py")     # nowhere to be found: one line, exit 2
    r = run(elsewhere, "run", str(proj / "counterexamples" / "x.toml"))
    assert r.returncode == 2 and "cannot import module 'projmod'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_the_readme_shows_the_flexible_paxos_example_as_it_is():
    import re

    readme = (ROOT / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "class FlexiblePaxos" in b]
    assert block in (ROOT / "examples" / "flexible_paxos.py").read_text()
    section = readme.split("## Writing a variant", 1)[1].split("\n## ", 1)[0]
    for hook in ("promise_quorum", "learn_quorum", "pick", "check_params", "on_recover", "quorum(cls, n)"):
        assert f"`{hook}" in section


def test_fuzz_json_summary(tmp_path, capsys):
    assert main(["fuzz", "--protocol", "send_accept", "--servers", "2", "--liveness", "--seed", "1",
                 "--improve", "0", "--out", str(tmp_path), "--json"]) == 1
    out = capsys.readouterr()
    (line,) = out.out.splitlines()                   # stdout: the summary only; the report went to stderr
    found = json.loads(line)
    assert found["found"] is True and found["outcome"] == "STUCK" and found["exit_code"] == 1
    assert Path(found["counterexample"]).exists() and "FOUND STUCK" in out.err
    assert main(["fuzz", "--protocol", FLEX, "--servers", "5", "--param", "q1=4", "--param", "q2=2",
                 "--budget-examples", "2", "--out", str(tmp_path), "--json"]) == 0
    none = json.loads(capsys.readouterr().out)
    assert none["found"] is False and none["params"] == {"q1": 4, "q2": 2} and none["examples"] == 2


@pytest.mark.parametrize("quiet", [False, True])
def test_fuzz_quiet_silences_progress(tmp_path, capsys, quiet):
    args = ["fuzz", "--protocol", "paxos", "--budget-examples", "2", "--out", str(tmp_path)]
    assert main(args + (["--quiet"] if quiet else [])) == 0
    err = capsys.readouterr().err
    assert (err == "") if quiet else ("fuzz paxos:" in err)
