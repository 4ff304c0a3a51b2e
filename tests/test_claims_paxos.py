"""The tutorial's claims for sections 6 and 7, replayed through the whole simulator:
figures 10, 11, 11-rounds, 12a, 12b and 12-promise end as figures.md says, and the
broken ones fail for the reason the text gives, naming the replies it names."""

from __future__ import annotations

import dataclasses

import pytest

from paxsim.driver import run_scenario
from paxsim.figures import SCENARIO_DIR
from paxsim.scenario import load

MINE = ["fig10", "fig11", "fig11-rounds", "fig12a", "fig12b", "fig12-promise"]


def run(name: str, **changes):
    sc = load(SCENARIO_DIR / f"{name}.toml")
    if changes:
        sc = dataclasses.replace(sc, **changes)
    return run_scenario(sc)


def leader_logs(r) -> list[tuple[str, object]]:
    return [(e["src"], e["info"]) for e in r.trace.records() if e["ev"] == "log" and e["event"] == "leader"]


def labels(r, ev: str = "deliver") -> list[str]:
    return [f"{e['src']}->{e['dst']} {e['label']}" for e in r.trace.records() if e["ev"] == ev]


@pytest.mark.parametrize("name", MINE)
def test_figure_outcome_as_expected(name):
    r = run(name)
    assert r.scenario.figure == name
    assert r.outcome == r.expected, [v.detail for v in r.verdict.violations]


def test_fig10_promise_before_accepts():
    r = run("fig10")
    d = labels(r)
    prom = d.index("S3->S2 <PROM, -, S2>")
    first_acc = min(i for i, x in enumerate(d) if x.startswith("S2->") and "<ACC" in x)
    assert prom < first_acc
    assert leader_logs(r) == [("S1", "S1"), ("S2", "S2")]


def test_fig11_promise_carries_m1_and_c2_gets_s12():
    r = run("fig11")
    d = labels(r)
    i_prom = d.index("S3->S2 <PROM, m1, S2>")
    i_acc1 = d.index("S2->S3 <ACC, m1, 1, S2>")
    i_acc2 = d.index("S2->S3 <ACC, m2, 2, S2>")
    assert i_prom < i_acc1 < i_acc2
    c2 = {o.state.label() for o in r.history.replies if o.client == "C2"}
    assert c2 == {"s^12"}
    # after the heal S1 follows S2 and executes both, in order
    s1 = [e.state.label() for e in r.history.executions if e.replica == "S1"]
    assert s1 == ["s^1", "s^12"]


def test_fig11_rounds_leadership_moves_back_to_s1():
    r = run("fig11-rounds")
    assert leader_logs(r) == [("S1", 1), ("S2", 2), ("S3", 3), ("S1", 4)]
    # with leader ids instead of rounds the same schedule gets stuck once S3 is gone
    stuck = run("fig11-rounds", protocol="leader_change")
    assert stuck.outcome == "STUCK"
    assert any(v.invariant == "liveness" and v.detail.startswith("m4") for v in stuck.verdict.violations)


def test_fig12a_s1_against_s2():
    r = run("fig12a")
    first = r.verdict.violations[0]
    assert first.invariant == "prefix_chain"
    assert "C1 saw <s^1> for m1 from S2" in first.detail
    assert "C2 saw <s^2> for m2" in first.detail
    # Paxos with the same schedule (same parameter names and defaults): S2 does not
    # execute m1 on the accept alone, so nobody answers C1, which only talks to S1,
    # now crashed: nothing could be done for m1 (a note, not STUCK), and C2 gets s^2.
    fixed = run("fig12a", protocol="paxos")
    assert fixed.outcome == "SAFE"
    assert len(fixed.verdict.notes) == 1 and fixed.verdict.notes[0].startswith("m1 (invoked by C1")
    assert "no quorum" in fixed.verdict.notes[0]
    assert [o.state.label() for o in fixed.history.replies if o.client == "C1"] == []
    assert {o.state.label() for o in fixed.history.replies if o.client == "C2"} == {"s^2"}


def test_fig12b_every_request_answered_and_all_replicas_agree():
    r = run("fig12b")
    answered = {o.request.id for o in r.history.replies}
    invoked = {i.request.id for i in r.history.invocations}
    assert answered == invoked and len(invoked) == 6
    m = r.metrics()
    assert m["messages_dropped"] > 0 and m["messages_duplicated"] > 0
    # S1 round 1, S2 round 2 (S1 cut off), S5 round 5 after the partitions, S1 again
    assert leader_logs(r) == [("S1", 1), ("S2", 2), ("S5", 5), ("S1", 6)]
    # S5 re-proposed m2 for slot 1 (the highest round among the promises)
    assert "S5->S1 <ACC, m2, 1, 5>" in labels(r)
    # the recovered servers rebuilt their service from scratch by catching up
    s4 = [e for e in r.history.executions if e.replica == "S4"]
    assert [e.state.length for e in s4 if e.time > 60][0] == 1
    final = {}
    for e in r.history.executions:
        final[e.replica] = e.state
    assert len(set(final.values())) == 1 and set(final) == set(r.scenario.servers)


def test_fig12_promise_wrong_value_without_rounds_right_value_with_them():
    r = run("fig12-promise")
    first = r.verdict.violations[0]
    assert first.invariant == "prefix_chain"
    assert "C2 saw <s^2> for m2" in first.detail and "C1 saw <s^1> for m1 from S5" in first.detail
    d = labels(r)
    # the text's situation: promises from other servers report m1 and m2 for slot 1
    assert "S1->S5 <PROM, m1, 5>" in d and "S2->S5 <PROM, m2, 5>" in d
    assert "S5->S1 <ACC, m1, 1, 5>" in d
    fixed = run("fig12-promise", protocol="paxos", expected="SAFE")
    assert fixed.outcome == "SAFE"
    assert "S1->S5 <PROM, (1, m1), 5>" in labels(fixed) and "S2->S5 <PROM, (2, m2), 5>" in labels(fixed)
    assert "S5->S1 <ACC, m2, 1, 5>" in labels(fixed)


def test_bad_paxos_parameters_are_named(tmp_path):
    from paxsim.scenario import ScenarioError

    text = (SCENARIO_DIR / "fig12b.toml").read_text().replace('seed = 7', 'seed = 7\n\n[params]\nsuspect = 1.0')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ScenarioError) as e:
        load(bad)
    assert e.value.key == "params.suspect" and "heartbeat" in e.value.problem


FUZZED_STALE_LEADER = """
# Found by paxsim fuzz --protocol paxos --servers 5 --liveness: S2 prepares round 2
# (S3, S4 promise) and crashes; S1, cut off meanwhile, still leads round 1 and never
# heard of round 2; S3 and S4 defer to S1 (lowest-ranked, alive) but refuse round 1.
description = "regression: a leader that missed a higher prepare hears of it from followers"
protocol = "paxos"
servers = 5
expected = "SAFE"

[network]
delay = 1.0

[[network.links]]
from = ["S1"]
to = ["S2"]
delay = 2.0

[[clients]]
name = "C1"
requests = [{id = "m1", at = 0.0}, {id = "m3", at = 0.0}]
servers = ["S2", "S3", "S4", "S5", "S1"]

[[clients]]
name = "C2"
requests = [{id = "m2", at = 0.0}, {id = "m4", at = 0.0}]
servers = ["S2", "S3", "S4", "S5", "S1"]

[[faults]]
crash_after_send = {type = "PREP", from = "S2"}
nth = 3

[[faults]]
at = 4.5
partition = [["S1"], ["S2", "S3", "S4", "S5"]]
until = 14.5
"""


def test_leader_of_an_old_round_is_told_by_followers():
    import tomllib

    from paxsim.scenario import from_dict

    r = run_scenario(from_dict(tomllib.loads(FUZZED_STALE_LEADER), source="<fuzzed>"))
    assert r.outcome == "SAFE", [v.detail for v in r.verdict.violations]
    assert any(e["ev"] == "send" and e["type"] == "NACK" and e["dst"] == "S1" for e in r.trace.records())
