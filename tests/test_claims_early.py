"""The early stages' claims, replayed through the simulator (SimPy, the checker).

Figures 3 to 9 of the tutorial: each scenario gives the outcome the text says, and
the unsafe ones fail for the reason the text gives, naming the replies it names.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from paxsim import load_scenario, run_scenario, scenario_from_dict

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
MINE = ["fig03", "fig03-lost", "fig04", "fig05", "fig06", "fig07", "fig08", "fig09a", "fig09b"]
EXPECTED = {"fig03": "SAFE", "fig03-lost": "STUCK", "fig04": "SAFE", "fig05": "UNSAFE", "fig06": "SAFE",
            "fig07": "UNSAFE", "fig08": "SAFE", "fig09a": "STUCK", "fig09b": "STUCK"}


def figure(name: str):
    return run_scenario(load_scenario(SCENARIOS / f"{name}.toml"))


def as_dict(name: str) -> dict:
    return tomllib.loads((SCENARIOS / f"{name}.toml").read_text())


def answered(result) -> set[str]:
    return {o.request.id for o in result.history.replies}


def invoked(result) -> set[str]:
    return {i.request.id for i in result.history.invocations}


@pytest.mark.parametrize("name", MINE)
def test_each_figure_behaves_as_the_tutorial_says(name):
    r = figure(name)
    assert r.scenario.figure == name
    assert r.expected == EXPECTED[name]
    assert r.outcome == EXPECTED[name], [v.detail for v in r.verdict.violations]


def first_fork(r):
    v = r.verdict.violations[0]
    assert v.invariant == "prefix_chain", v.detail
    return {(o.client, o.state.label(), o.server) for o in v.replies}


def test_fig03_clients_see_prefixes_and_follower_runs_in_sequence_order():
    r = figure("fig03")
    order = {s: [e.request.id for e in r.history.executions if e.replica == s] for s in ("S1", "S2")}
    assert order == {"S1": ["m2", "m1"], "S2": ["m2", "m1"]}
    seen = {(o.client, o.state.label()) for o in r.history.replies}
    assert seen == {("C2", "s^2"), ("C1", "s^21")}
    assert {o.server for o in r.history.replies} == {"S1", "S2"}  # both servers reply


def test_fig03_lost_accept_is_stuck_because_s2_never_executes():
    r = figure("fig03-lost")
    assert [v.invariant for v in r.verdict.violations] == ["replica_progress"]
    assert "S2 is up and connected to S1 but executed 0 requests" in r.verdict.violations[0].detail
    assert not [e for e in r.history.executions if e.replica == "S2"]


def test_fig04_retransmission_answers_every_request():
    r = figure("fig04")
    assert answered(r) == invoked(r) == {"m1", "m2"}
    assert [e.request.id for e in r.history.executions if e.replica == "S2"] == ["m2", "m1"]
    assert r.world.net.sent["ACC"] == 3       # two accepts and one retransmission


def test_fig05_c1_saw_s1_c2_sees_s2():
    r = figure("fig05")
    assert first_fork(r) == {("C1", "s^1", "S1"), ("C2", "s^2", "S2")}
    assert "C1 saw <s^1>" in r.verdict.violations[0].detail
    assert "C2 saw <s^2>" in r.verdict.violations[0].detail


def test_fig05_schedule_is_safe_once_the_leader_waits_for_learn():
    d = as_dict("fig05")
    d["protocol"] = "wait_for_learn_fallback"
    d["expected"] = "SAFE"
    r = run_scenario(scenario_from_dict(d, source="fig05 with WaitForLearn"))
    assert r.outcome == "SAFE", [v.detail for v in r.verdict.violations]
    assert "m1" in answered(r)                 # C1 still gets its reply
    s2 = [e.request.id for e in r.history.executions if e.replica == "S2"]
    assert s2[0] == "m1"                       # S2 obeys the accept it learned


def test_fig06_leader_executes_only_after_the_learn():
    r = figure("fig06")
    lrn_arrival = min(rec["t"] for rec in r.trace.records()
                      if rec["ev"] == "deliver" and rec.get("type") == "LRN" and rec.get("m") == "m1")
    s1_m1 = next(e.time for e in r.history.executions if e.replica == "S1" and e.request.id == "m1")
    assert s1_m1 >= lrn_arrival
    assert answered(r) == {"m1", "m2"}


def test_fig07_split_brain_s1_against_s2():
    r = figure("fig07")
    assert first_fork(r) == {("C1", "s^1", "S1"), ("C2", "s^2", "S2")}


def test_fig08_majority_side_progresses_minority_executes_nothing():
    r = figure("fig08")
    by = {s: [e.request.id for e in r.history.executions if e.replica == s] for s in ("S1", "S2", "S3")}
    assert by == {"S1": [], "S2": ["m2"], "S3": ["m2"]}
    assert answered(r) == {"m2"}


def learns_from_s3(r) -> set:
    return {(e[3], e[5].request.id) for e in r.trace.events if e[1] == "send" and e[2] == "S3"
            and e[5].kind == "LRN"}


@pytest.mark.parametrize("name, executed, other, waiting", [("fig09a", "m1", "m2", "C2"),
                                                           ("fig09b", "m2", "m1", "C1")])
def test_fig09_s3_executes_one_value_refuses_the_other_and_nobody_decides_again(name, executed, other, waiting):
    r = figure(name)
    s3 = [e.request.id for e in r.history.executions if e.replica == "S3"]
    assert s3 == [executed]
    assert {(o.client, o.state.label(), o.server) for o in r.history.replies} == {
        ("C1" if executed == "m1" else "C2", f"s^{executed[1]}", "S3")}
    # S3 learned only the first value it got for slot 1: never a second one
    assert {m for _dst, m in learns_from_s3(r)} == {executed}
    # nobody else executed anything: the two leaders hold different values for slot 1
    assert [e for e in r.history.executions if e.replica != "S3"] == []
    v = r.verdict.violations
    assert [x.invariant for x in v] == ["liveness"] and v[0].detail.startswith(f"{other}, invoked by {waiting}")


def random_run(protocol: str, seed: int, loss: float) -> dict:
    return {
        "description": f"{protocol} under random loss and delay",
        "protocol": protocol,
        "servers": 2,
        "seed": seed,
        "network": {"delay": {"dist": "uniform", "low": 0.5, "high": 2.0}, "loss": loss, "fifo": False},
        "clients": [
            {"name": "C1", "requests": {"count": 4, "start": 0.0, "interval": 2.0}, "retry": 10.0},
            {"name": "C2", "requests": {"count": 4, "start": 1.0, "interval": 2.0}, "retry": 10.0},
        ],
    }


@pytest.mark.parametrize("seed", range(1, 6))
def test_retrans_accept_survives_30_percent_loss(seed):
    r = run_scenario(scenario_from_dict(random_run("retrans_accept", seed, 0.3)))
    assert r.outcome == "SAFE", [v.detail for v in r.verdict.violations]
    assert answered(r) == invoked(r) and len(invoked(r)) == 8
    assert sum(r.world.net.dropped.values()) > 0                # there was loss to survive
    ex = {s: [e.request.id for e in r.history.executions if e.replica == s] for s in ("S1", "S2")}
    assert ex["S1"] == ex["S2"] and len(ex["S1"]) == 8   # the follower caught up


def test_send_accept_gets_stuck_under_random_loss_for_some_seed():
    outcomes = [run_scenario(scenario_from_dict(random_run("send_accept", seed, 0.2)), record_trace=False).outcome
                for seed in range(1, 9)]
    assert "STUCK" in outcomes
    assert "UNSAFE" not in outcomes           # stuck, never inconsistent


def test_figure_runs_are_deterministic():
    a, b = figure("fig05"), figure("fig05")
    assert a.trace_digest() == b.trace_digest()


def test_bad_stage_params_are_named():
    from paxsim import ScenarioError

    d = as_dict("fig04")
    d["params"] = {"retransmit": 0}
    with pytest.raises(ScenarioError, match=r"params\.retransmit: must be > 0"):
        scenario_from_dict(d, source="x.toml")
    d = as_dict("fig05")
    d["servers"] = 3
    with pytest.raises(ScenarioError, match="servers: .*at most 2 servers"):
        scenario_from_dict(d, source="x.toml")
