"""paxsim fuzz: strategies draw valid scenarios, the search finds and shrinks,
the command writes a file that replays, exit codes, reproducibility."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paxsim import load_scenario, run_scenario, scenario_from_dict
from paxsim.cli import main as cli_main
from paxsim.fuzz.explain import describe_schedule, explain, ordinal
from paxsim.fuzz.search import FuzzConfig, minimize, outcome_of, search
from paxsim.fuzz.size import schedule_counts, schedule_size
from paxsim.fuzz.strategies import (
    client_schedules, crashes, drops, end_faults, message_kinds, networks, partitions, scenarios, server_names,
    settle_chains, splits,
)

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ strategies ---

@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["uncoordinated", "send_accept", "paxos"]), st.booleans(), st.data())
def test_drawn_scenarios_validate_and_round_trip(protocol, liveness, data):
    n = 3 if protocol == "paxos" else 2
    d = data.draw(scenarios(protocol, servers=n, clients=2, requests=2, liveness=liveness))
    sc = scenario_from_dict(d)
    assert sc.protocol == protocol and len(sc.servers) == n
    again = scenario_from_dict(tomllib.loads(sc.to_toml()))
    assert again.to_toml() == sc.to_toml()


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_liveness_schedules_end(data):
    d = data.draw(scenarios("paxos", servers=5, liveness=True))
    sc = scenario_from_dict(d)
    assert sc.network.loss == 0.0 and all(not l.loss for l in sc.network.links)
    assert all(f.until is not None for f in sc.faults if f.kind == "partition")
    assert all(c.retry for c in sc.clients)
    down = set()  # who is down once every timed crash and recovery has happened
    for f in sorted((f for f in sc.faults if f.at is not None and f.kind in ("crash", "recover")),
                    key=lambda f: f.at):
        (down.add if f.kind == "crash" else down.discard)(f.target)
    for f in sc.faults:
        if f.kind.startswith("crash_after") and f.lasting is None:   # down for good
            down.add(f.match["from"] if f.kind == "crash_after_send" else f.match["to"])
        elif f.kind.startswith("isolate"):
            assert f.lasting is not None                  # every isolation ends
    assert len(down) <= 2      # a minority of five may stay down (one that came back mid-way is up)


def test_end_faults_recovers_all_but_a_minority():
    faults = [{"at": 1.0, "crash": "S1"}, {"at": 2.0, "crash": "S2"}, {"crash_after_send": {"type": "ACC", "from": "S3"}},
              {"at": 3.0, "partition": [["S1"], ["S2", "S3"]]}]
    out = end_faults(faults, server_names(3))
    assert out[2]["until"] > 3.0                       # the partition heals
    assert not any("crash_after_send" in f for f in out)   # S3's triggered crash could come late: gone
    assert [f["recover"] for f in out if "recover" in f] == ["S2"]   # S1 (a minority of one) may stay down
    assert max(f["at"] for f in out) == out[-1]["at"]


def test_splits_name_each_cut_once():
    assert splits(["S1", "S2"]) == [(("S1",), ("S2",))]
    assert len(splits(server_names(3))) == 3
    assert len(splits(server_names(5))) == 15   # 5 singles + 10 pairs


def test_end_faults_ends_triggered_isolations_and_keeps_recovering_crashes():
    faults = [{"isolate_after_send": {"type": "PREP"}, "nth": 2},
              {"crash_after_send": {"type": "ACC", "from": "S2"}, "nth": 1, "for": 5.0},
              {"crash_after_send": {"type": "ACC", "from": "S3"}, "nth": 1}]
    out = end_faults(faults, server_names(3))
    assert out[0]["for"] > 0                                    # the isolation ends
    assert out[1] == faults[1]                                  # S2 comes back by itself
    assert out[2] == faults[2]                                  # S3: the minority of one may stay down


def test_strategies_are_built_once_per_configuration():
    """Generation is cheap: the strategy of a configuration is made once, not per draw."""
    assert scenarios("paxos", servers=3) is scenarios("paxos", servers=3)
    assert scenarios("paxos", servers=3) is not scenarios("paxos", servers=5)
    assert FuzzConfig("paxos").strategy() is FuzzConfig("paxos").strategy()


def test_message_kinds_include_the_protocols_own():
    kinds = message_kinds("paxos")
    assert {"ACC", "LRN", "REPLY", "CATCHUP", "CHOSEN"} <= set(kinds)
    assert "CHOSEN" not in message_kinds("uncoordinated")


@settings(max_examples=30, deadline=None)
@given(drops(server_names(3), ("C1", "C2"), ("m1", "m2")))
def test_drops_match_possible_messages(f):
    m = f["drop"]
    if m["type"] == "REQ" and "from" in m:
        assert m["from"].startswith("C")
    if m["type"] == "REPLY" and "to" in m:
        assert m["to"].startswith("C")
    if m["type"] not in ("REQ", "REPLY"):
        assert m.get("from", "S").startswith("S") and m.get("to", "S").startswith("S")
    assert m.get("from") != m.get("to") or "from" not in m


def test_pieces_compose_in_a_users_own_strategy():
    """The small strategies build a user's own scenario strategy with st.fixed_dictionaries."""
    servers = server_names(3)
    mine = st.fixed_dictionaries({
        "description": st.just("mine"), "protocol": st.just("paxos"), "servers": st.just(3),
        "network": networks(servers + ("C1",), loss=False),
        "clients": client_schedules(servers, clients=1, requests=1),
        "faults": st.tuples(crashes(servers, liveness=True), st.lists(partitions(servers, ("C1",), liveness=True),
                                                                       max_size=1))
                    .map(lambda t: t[0] + t[1]),
    })

    @settings(max_examples=10, deadline=None)
    @given(mine)
    def check(d):
        r = run_scenario(scenario_from_dict(d), record_trace=False)
        assert r.outcome != "UNSAFE"

    check()


def test_schedule_size_counts_what_went_wrong_in_the_run():
    """Honest size: every lost message (not one per lossy network), every crash,
    recovery and partition that happened, every message slower than the network's
    nominal range; a fault whose trigger never comes counts nothing."""
    base = {"description": "x", "protocol": "paxos", "servers": 3, "settle": 20.0,
            "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}]}]}
    lossy = {**base, "network": {"delay": 1.0, "loss": 0.3}}
    sc = scenario_from_dict(lossy)
    r = run_scenario(sc)
    lost = sum(1 for rec in r.trace.records() if rec["ev"] == "drop" and rec["reason"] == "loss")
    assert lost > 3
    assert schedule_counts(sc)["lost"] == lost
    faults = {**base, "network": {"delay": 1.0, "fifo": False}, "faults": [
        {"at": 10.0, "crash": "S2"}, {"at": 12.0, "recover": "S2"},
        {"at": 14.0, "partition": [["S1"], ["S2", "S3"]], "until": 16.0},
        {"delay": {"type": "ACC"}, "nth": 1, "by": 3.0},
        {"crash_after_send": {"type": "CATCHUP", "from": "S1"}, "nth": 9}]}   # never comes
    assert schedule_counts(faults) == {"lost": 0, "crashes": 1, "recoveries": 1, "partitions": 1, "delayed": 1}
    # the figures, counted the same way: Fig. 3's lost accept, and its two slow client links
    assert schedule_counts(load_scenario(ROOT / "scenarios" / "fig03-lost.toml")) == \
        {"lost": 1, "crashes": 0, "recoveries": 0, "partitions": 0, "delayed": 2}
    assert schedule_size(load_scenario(ROOT / "scenarios" / "fig02.toml")) == 2


def test_triggered_isolation_and_recovery_happen_and_end():
    """isolate_after_send cuts the sender off right after the message; ``for`` undoes
    a triggered crash or isolation after that long."""
    d = {"description": "x", "protocol": "paxos", "servers": 3, "network": {"delay": 1.0},
         "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}, {"id": "m2", "at": 30.0}]}],
         "faults": [{"isolate_after_send": {"type": "ACC"}, "nth": 1, "for": 15.0},
                    {"crash_after_send": {"type": "PREP", "from": "S2"}, "nth": 1, "for": 4.0}]}
    sc = scenario_from_dict(d)
    assert scenario_from_dict(tomllib.loads(sc.to_toml())) == sc
    r = run_scenario(sc)
    evs = [(rec["ev"], rec.get("src"), rec.get("groups")) for rec in r.trace.records()
           if rec["ev"] in ("partition", "heal", "crash", "recover")]
    assert evs[0] == ("partition", None, [["S1"], ["S2", "S3"]])
    assert [e[0] for e in evs] == ["partition", "crash", "recover", "heal"]
    times = [rec["t"] for rec in r.trace.records() if rec["ev"] in ("crash", "recover", "partition", "heal")]
    assert times[2] - times[1] == pytest.approx(4.0) and times[3] - times[0] == pytest.approx(15.0)
    assert r.outcome == "SAFE"
    lines = describe_schedule(sc)
    assert "whoever sends it is cut off from the other servers right after sending the 1st ACC, and is " \
           "reconnected 15 later" in lines
    assert any("S2 crashes right after sending the 1st PREP from S2, and recovers 4 later" in x for x in lines)


def stale_leader(protocol: str, rejoin: bool = True) -> dict:
    """S1 leads, is cut off right after its first accept and crashes with it (two
    faults of one message), recovers 3 later, and (``rejoin``) is reconnected right
    before it next asks to lead: Fig. 12-promise in two faults."""
    iso = {"isolate_after_send": {"type": "ACC"}, "nth": 1}
    if rejoin:
        iso["until_sends"] = "PREP"
    return {"description": "x", "protocol": protocol, "servers": 5, "network": {"delay": 1.0},
            "clients": [{"name": "C1", "servers": ["S2", "S3", "S4", "S5", "S1"], "requests": [{"id": "m1", "at": 1.0}]},
                        {"name": "C2", "servers": ["S3", "S4", "S5", "S1", "S2"], "requests": [{"id": "m2", "at": 0.5}]}],
            "faults": [iso, {"crash_after_send": {"type": "ACC"}, "nth": 1, "for": 3.0}]}


def test_both_faults_of_one_message_fire():
    r = run_scenario(scenario_from_dict(stale_leader("paxos")))
    evs = [(rec["ev"], rec["t"]) for rec in r.trace.records() if rec["ev"] in ("partition", "crash")]
    assert [e[0] for e in evs] == ["partition", "crash"] and evs[0][1] == evs[1][1]


def test_an_isolation_ends_as_its_server_next_asks_to_lead():
    """until_sends: the isolated server is reconnected right before it sends a PREP,
    which then reaches the others (an event, not a time: whatever the timeouts)."""
    sc = scenario_from_dict(stale_leader("paxos"))
    assert scenario_from_dict(tomllib.loads(sc.to_toml())) == sc
    r = run_scenario(sc)
    recs = list(r.trace.records())
    heal = next(x for x in recs if x["ev"] == "heal")
    start = next(x["t"] for x in recs if x["ev"] == "partition")
    preps = [x for x in recs if x["ev"] == "send" and x["type"] == "PREP" and x["src"] == "S1" and x["t"] > start]
    assert preps and heal["t"] == preps[0]["t"] and recs.index(heal) < recs.index(preps[0])
    assert not [x for x in recs if x["ev"] == "drop" and x["type"] == "PREP" and x["t"] >= heal["t"]]
    assert r.outcome == "SAFE"
    # the stale leader's own report wins without rounds; by time alone it never rejoins
    assert outcome_of(stale_leader("paxos_promise_without_round"))[0] == "UNSAFE"
    assert outcome_of(stale_leader("paxos_promise_without_round", rejoin=False))[0] == "SAFE"
    assert "whoever sends it is cut off from the other servers right after sending the 1st ACC, and is " \
           "reconnected right before it next sends a PREP" in describe_schedule(sc)
    later = {**stale_leader("paxos"), "faults": [{**stale_leader("paxos")["faults"][0], "for": 30.0}]}
    assert "reconnected right before the first PREP it sends 30 or more later" in describe_schedule(scenario_from_dict(later))[-1]


def test_a_chained_fault_counts_from_when_the_one_before_fired():
    """The 1st PROM after the leader was cut off is one to the next leader."""
    def run(chained: bool):
        crash = {"crash_after_send": {"type": "PROM"}, "nth": 1, "for": 2.0}
        if chained:
            crash["chained"] = True
        d = {**stale_leader("paxos", rejoin=False), "faults": [
            {"isolate_after_send": {"type": "ACC"}, "nth": 1, "for": 30.0}, crash]}
        sc = scenario_from_dict(d)
        assert scenario_from_dict(tomllib.loads(sc.to_toml())) == sc
        recs = list(run_scenario(sc).trace.records())
        if chained:
            assert "whoever sends it crashes right after sending the 1st PROM since the fault above fired, and " \
                   "recovers 2 later" in describe_schedule(sc)
        cut = next(x["t"] for x in recs if x["ev"] == "partition")
        crash = next(x for x in recs if x["ev"] == "crash")
        prom = [x for x in recs if x["ev"] == "send" and x["type"] == "PROM" and x["t"] <= crash["t"]][-1]
        return cut, crash["t"], prom["dst"]
    cut, at, to = run(chained=True)
    assert at > cut and to != "S1"
    cut, at, to = run(chained=False)
    assert at < cut and to == "S1"


def test_chains_stay_valid_when_faults_are_removed():
    f = [{"at": 1.0, "crash": "S1"}, {"drop": {"type": "ACC"}, "nth": 1, "chained": True},
         {"drop": {"type": "LRN"}, "nth": 1, "chained": True}]
    assert settle_chains(f) == [f[0], {"drop": {"type": "ACC"}, "nth": 1}, f[2]]


@pytest.mark.parametrize("fault, needle", [
    ({"crash_after_send": {"type": "ACC"}, "nth": 1, "until_sends": "PREP"}, "faults[0].until_sends: only applies to a triggered isolation"),
    ({"isolate_after_send": {"type": "ACC"}, "nth": 1, "until_sends": "SNAPX"}, "faults[0].until_sends: protocol paxos never sends a 'SNAPX'"),
    ({"isolate_after_send": {"type": "ACC"}, "nth": 1, "until_sends": 3}, "faults[0].until_sends: must be a non-empty string"),
    ({"at": 1.0, "crash": "S1", "until_sends": "PREP"}, "faults[0].until_sends: only applies to targeted faults"),
    ({"drop": {"type": "ACC"}, "nth": 1, "chained": True}, "faults[0].chained: must come after a fault triggered by a message"),
    ({"drop": {"type": "ACC"}, "nth": 1, "chained": 1}, "faults[0].chained: must be true or false"),
])
def test_until_sends_and_chained_refuse_bad_input(fault, needle):
    d = {"description": "x", "protocol": "paxos", "servers": 3, "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}]}],
         "faults": [fault]}
    with pytest.raises(Exception) as exc:
        scenario_from_dict(d)
    assert needle in str(exc.value)


def test_for_applies_only_to_triggered_crashes_and_isolations(capsys):
    d = {"description": "x", "protocol": "paxos", "servers": 3, "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}]}],
         "faults": [{"drop": {"type": "ACC"}, "nth": 1, "for": 3.0}]}
    with pytest.raises(Exception) as exc:
        scenario_from_dict(d)
    assert "faults[0].for" in str(exc.value)


# -------------------------------------------------------------------- search ---

@pytest.mark.parametrize("seed", [1, 2, 3])
def test_search_finds_fig2_from_scratch_and_shrinks_to_delays_only(seed):
    res = search(FuzzConfig("uncoordinated", servers=2), seed=seed, budget_examples=200, improve=1)
    assert res.outcome == "UNSAFE"
    c = res.counts
    assert c["lost"] == c["crashes"] == c["partitions"] == 0        # as in Fig. 2: only delays
    assert schedule_size(res.found) == sum(c.values())
    assert res.found["expected"] == "UNSAFE"
    assert outcome_of(res.found)[0] == "UNSAFE"


def test_search_is_reproducible_from_the_seed():
    cfg = FuzzConfig("uncoordinated", servers=2)
    a = search(cfg, seed=5, budget_examples=50, improve=0)
    b = search(cfg, seed=5, budget_examples=50, improve=0)
    assert a.found == b.found and a.raw == b.raw


def test_search_finds_nothing_in_a_safe_protocol():
    res = search(FuzzConfig("examples.leader_only:LeaderOnly", servers=3), seed=1, budget_examples=60)
    assert res.found is None and res.runs >= 60


def test_liveness_search_lets_a_minority_stay_down():
    """Under --liveness a minority may crash for good: LeaderOnly (only S1 serves)
    is then STUCK although S2 and S3 are up."""
    res = search(FuzzConfig("examples.leader_only:LeaderOnly", servers=3, liveness=True, shrink_runs=0), seed=1,
                 budget_examples=600, improve=0, minimize_runs=20)
    assert res.outcome == "STUCK" and res.counts["crashes"] >= 1 and res.counts["recoveries"] == 0


def test_minimize_removes_what_is_not_needed():
    base = {"description": "x", "protocol": "uncoordinated", "servers": 2, "seed": 4,
            "network": {"delay": 1.0, "loss": 0.0, "duplicate": 0.3, "fifo": False,
                        "links": [{"from": "C2", "to": "S1", "delay": 3.0}, {"from": "S1", "to": "S2", "delay": 5.0}]},
            "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.5}]},
                        {"name": "C2", "requests": [{"id": "m2", "at": 0.0}], "retry": 5.0}],
            "faults": [{"at": 9.0, "crash": "S2"}, {"drop": {"type": "HB"}, "nth": 2}]}
    assert outcome_of(base)[0] == "UNSAFE"
    small, _ = minimize(base, lambda d: outcome_of(d)[0] == "UNSAFE")
    assert "faults" not in small
    assert small["network"]["links"] == [{"from": "C2", "to": "S1", "delay": 2.0}]   # and less slow
    assert small["network"]["duplicate"] == 0.0 and small["seed"] == 0


def test_explain_tells_the_counterexample_in_tutorial_terms():
    sc = load_scenario(ROOT / "scenarios" / "fig03-lost.toml")
    r = run_scenario(sc)
    text = "\n".join(explain(r))
    assert "<ACC, m2, 1>" in text and "is lost" in text
    assert "replica_progress" in text and "STUCK" in text
    assert ordinal(1) == "1st" and ordinal(2) == "2nd" and ordinal(11) == "11th" and ordinal(23) == "23rd"
    lines = describe_schedule(load_scenario(ROOT / "scenarios" / "fig07.toml"))
    assert any("the network splits into" in x for x in lines)


# ------------------------------------------------------------------- command ---

def fuzz(tmp_path, *argv, capsys=None):
    code = cli_main(["fuzz", "--out", str(tmp_path / "cx"), *argv])
    return code


def test_cli_finds_writes_replays_and_exits_1(tmp_path, capsys):
    code = fuzz(tmp_path, "--protocol", "send_accept", "--servers", "2", "--liveness", "--seed", "1",
                "--budget-examples", "100", "--improve", "1")
    out = capsys.readouterr().out
    assert code == 1
    path = tmp_path / "cx" / "send_accept-n2-seed1-liveness.toml"
    assert path.exists()
    sc = load_scenario(path)
    assert sc.expected in ("STUCK", "UNSAFE") and f"FOUND {sc.expected}" in out
    assert "The schedule:" in out and "Why this is" in out and "coverage of" in out
    assert cli_main(["run", str(path), "--events", "0"]) == 0      # replays to the same outcome
    first = path.read_bytes()
    path.unlink()
    # same seed, same bytes: in another process, under another hash seed
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="123")
    p = subprocess.run([sys.executable, "-m", "paxsim", "fuzz", "--protocol", "send_accept", "--servers", "2",
                        "--liveness", "--seed", "1", "--budget-examples", "100", "--improve", "1",
                        "--out", str(tmp_path / "cx")], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1, p.stderr
    assert path.read_bytes() == first


def test_cli_json_summary_and_found_by_line(tmp_path, capsys):
    import json

    code = fuzz(tmp_path, "--protocol", "uncoordinated", "--servers", "2", "--seed", "3", "--budget-examples", "200",
                "--improve", "0", "--max-faults", "4", "--json")
    out = capsys.readouterr().out
    assert code == 1
    obj = json.loads(out)
    assert obj["protocol"] == "uncoordinated" and obj["seed"] == 3 and obj["found"] and obj["outcome"] == "UNSAFE"
    assert obj["runs"] >= 1 and obj["seconds"] > 0 and obj["runs_per_s"] > 0
    assert obj["size"] == sum(obj["counts"].values())
    assert set(obj["coverage"]) >= {"runs", "crashes", "recoveries", "partitions", "lost messages", "3+ leaders"}
    text = Path(obj["counterexample"]).read_text()
    found_by = text.splitlines()[0]
    for flag in ("--protocol uncoordinated", "--servers 2", "--clients 2", "--requests 1", "--seed 3",
                 "--max-faults 4", "--improve 0", "--budget-examples 200"):
        assert flag in found_by, found_by
    code = fuzz(tmp_path, "--protocol", "examples.leader_only:LeaderOnly", "--budget-examples", "20", "--json")
    obj = json.loads(capsys.readouterr().out)
    assert code == 0 and obj["found"] is False and obj["counterexample"] is None and obj["runs"] == 20


def test_cli_exit_0_when_nothing_found(tmp_path, capsys):
    code = fuzz(tmp_path, "--protocol", "examples.leader_only:LeaderOnly", "--budget-examples", "30")
    assert code == 0
    assert "nothing found" in capsys.readouterr().out
    assert not (tmp_path / "cx").exists()


@pytest.mark.parametrize("argv, needle", [
    (["--protocol", "nope"], "--protocol"),
    (["--protocol", "send_accept", "--servers", "0"], "--servers"),
    (["--protocol", "single_server", "--servers", "2"], "--servers"),
    (["--protocol", "uncoordinated", "--budget-examples", "0"], "--budget-examples"),
    (["--protocol", "uncoordinated", "--budget-seconds", "-3"], "--budget-seconds"),
    (["--protocol", "uncoordinated", "--workers", "0"], "--workers"),
    (["--protocol", "uncoordinated", "--clients", "0"], "--clients"),
    (["--protocol", "uncoordinated", "--seed", "-1"], "--seed"),
    ([], "--protocol"),
])
def test_cli_bad_input_exit_2(tmp_path, capsys, argv, needle):
    assert fuzz(tmp_path, *argv) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert not (tmp_path / "cx").exists()


def test_cli_out_must_be_a_folder(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert cli_main(["fuzz", "--protocol", "uncoordinated", "--out", str(f)]) == 2
    assert "--out" in capsys.readouterr().err


def test_workers_give_the_counterexample_of_one_worker(tmp_path):
    """Chunk k is seeded by (seed, k) alone and the lowest failing chunk wins: two
    workers answer what one does. (Chunks of 3 examples: the first chunks find
    nothing, so the answer comes from a later chunk.)"""
    cfg = FuzzConfig("wait_for_learn_majority", servers=3, chunk=4)
    one = search(cfg, seed=4, budget_examples=300, workers=1, improve=0)
    two = search(cfg, seed=4, budget_examples=300, workers=2, improve=0)
    assert one.found is not None and one.key > 0
    assert two.found == one.found and two.key == one.key


def test_own_protocol_runs_and_fuzzes_like_a_builtin(tmp_path):
    """examples/leader_only.py: loaded by module:Class, fuzzed; nothing unsafe found."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-m", "paxsim", "fuzz", "--protocol", "examples.leader_only:LeaderOnly",
                        "--servers", "3", "--budget-examples", "40", "--out", str(tmp_path / "cx")],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "nothing found" in p.stdout


def test_readme_pytest_example_runs():
    """The @given example in README.md ("Fuzzing failure schedules") works as shown."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```python\nfrom hypothesis import given, settings\nfrom paxsim import run_scenario")
    code = text[start + len("```python\n"): text.index("```", start + 10)]
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    namespace["test_paxos_is_safe"]()
