"""Scenario files: good ones load; every kind of bad input is refused before
anything runs, with one message naming the file, the key and the problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from paxsim.scenario import ScenarioError, from_dict, load

BASE = """
description = "test"
protocol = "uncoordinated"
servers = 2
[[clients]]
name = "C1"
requests = [{id = "m1", at = 0.0}]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(text)
    return p


BAD = [
    ("unknown top-level key", "colour = 1\n" + BASE, "colour", "unknown key"),
    ("wrong type", BASE.replace("servers = 2", 'servers = "two"'), "servers", "must be a count"),
    ("probability > 1", BASE + "[network]\nloss = 1.5\n", "network.loss", "[0, 1]"),
    ("negative probability", BASE + "[network]\nduplicate = -0.1\n", "network.duplicate", "negative"),
    ("negative time", BASE.replace("at = 0.0", "at = -1.0"), "clients[0].requests[0].at", "negative"),
    ("unknown process in link", BASE + "[network]\n[[network.links]]\nfrom = \"S9\"\n", "network.links[0].from", "unknown process 'S9'"),
    ("unknown crash target", BASE + "[[faults]]\nat = 1.0\ncrash = \"S7\"\n", "faults[0].crash", "unknown server 'S7'"),
    ("unknown protocol", BASE.replace('"uncoordinated"', '"raft"'), "protocol", "unknown protocol 'raft'"),
    ("unknown parameter", BASE + "[params]\nspeed = 3\n", "params.speed", "unknown parameter"),
    ("missing description", BASE.replace('description = "test"', ""), "description", "is required"),
    ("bad expected", 'expected = "FINE"\n' + BASE, "expected", "SAFE, UNSAFE, STUCK"),
    ("two faults in one", BASE + "[[faults]]\nat = 1.0\ncrash = \"S1\"\nrecover = \"S1\"\n", "faults[0]", "exactly one fault"),
    ("partition in one group", BASE + "[[faults]]\nat = 1.0\npartition = [[\"S1\"]]\n", "faults[0].partition", "at least two groups"),
    ("heal before start", BASE + "[[faults]]\nat = 5.0\npartition = [[\"S1\"], [\"S2\"]]\nuntil = 1.0\n", "faults[0].until", "heals before"),
    ("targeted with time", BASE + "[[faults]]\nat = 1.0\ndrop = {type = \"ACC\"}\n", "faults[0].at", "triggered by a message"),
    ("nth zero", BASE + "[[faults]]\ndrop = {type = \"ACC\"}\nnth = 0\n", "faults[0].nth", ">= 1"),
    ("duplicate request id", BASE.replace('[{id = "m1", at = 0.0}]', '[{id = "m1", at = 0.0}, {id = "m1", at = 1.0}]'), "clients[0].requests[1].id", "duplicate request id"),
    ("bad delay distribution", BASE + "[network]\ndelay = {dist = \"pareto\"}\n", "network.delay.dist", "unknown distribution"),
    ("uniform high < low", BASE + "[network]\ndelay = {dist = \"uniform\", low = 3.0, high = 1.0}\n", "network.delay.high", ">= low"),
    ("too many servers", BASE.replace('"uncoordinated"', '"single_server"'), "servers", "at most 1"),
    ("not TOML", "this is = = not toml", "", "not valid TOML"),
    ("client mode", BASE.replace('name = "C1"', 'name = "C1"\nmode = "some"'), "clients[0].mode", '"all" or "one"'),
]


@pytest.mark.parametrize("what,text,key,problem", BAD, ids=[b[0] for b in BAD])
def test_bad_scenario_is_refused_naming_file_key_and_problem(tmp_path, what, text, key, problem):
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError) as exc:
        load(p)
    e = exc.value
    assert e.source == str(p)
    assert e.key == key
    assert problem in e.problem
    assert str(p) in str(e)


def test_missing_file_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="no such file"):
        load(tmp_path / "nope.toml")


def test_bad_scenario_on_the_command_line_exits_2_with_one_line_and_no_traceback(tmp_path):
    p = write(tmp_path, BASE + "[network]\nloss = 2\n")
    out = tmp_path / "trace.jsonl"
    r = subprocess.run([sys.executable, "-m", "paxsim", "run", str(p), "--trace", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(p) in lines[0] and "network.loss" in lines[0] and "probability" in lines[0]
    assert "Traceback" not in r.stderr
    assert not out.exists()


def test_one_bad_file_among_good_ones_runs_nothing(tmp_path):
    good = Path(__file__).resolve().parent.parent / "scenarios" / "fig01.toml"
    bad = write(tmp_path, "colour = 1\n" + BASE)
    r = subprocess.run([sys.executable, "-m", "paxsim", "run", str(good), str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and r.stdout == ""


def test_good_scenario_round_trips_through_toml(tmp_path):
    sc = load(Path(__file__).resolve().parent.parent / "scenarios" / "fig02.toml")
    p = tmp_path / "again.toml"
    p.write_text(sc.to_toml())
    again = load(p)
    assert again.to_dict() == sc.to_dict()


def test_generated_requests_get_distinct_ids():
    sc = from_dict({
        "description": "x", "protocol": "uncoordinated", "servers": 2,
        "clients": [{"name": "C1", "requests": {"count": 3}}, {"name": "C2", "requests": {"count": 2, "interval": 1.0}}],
    })
    ids = [r.id for c in sc.clients for r in c.requests]
    assert ids == ["m1", "m2", "m3", "m4", "m5"]
    assert [r.at for r in sc.clients[1].requests] == [0.0, 1.0]


def test_protocol_parameter_of_wrong_type_is_refused():
    from paxsim.protocols.base import ParamError, Replica

    class P(Replica):
        name = "p"
        params = {"timeout": 2.0, "flag": True}

    with pytest.raises(ParamError, match="must be a number"):
        P.check_params({"timeout": "soon"}, 3)
    with pytest.raises(ParamError, match="true or false"):
        P.check_params({"flag": 1}, 3)
    with pytest.raises(ParamError, match="negative"):
        P.check_params({"timeout": -1}, 3)
    assert P.check_params({"timeout": 5}, 3) == {"timeout": 5, "flag": True}
