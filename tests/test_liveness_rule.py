"""Liveness judged only where something could be done (VOPR's liveness phase).

A request is STUCK only if, after the last fault, its client could reach (over
links that deliver, among the servers it may contact) a quorum of up servers that
reach each other for ``settle``, and sent it often enough that loss alone does not
explain the silence. Each example of issue #12 as a run, with its right verdict.
"""

from __future__ import annotations

from paxsim.checker import check
from paxsim.checker.core import all_tries_may_be_lost
from paxsim.driver import run_scenario
from paxsim.figures import SCENARIO_DIR
from paxsim.history import FinalWorld, History, Invocation
from paxsim.scenario import from_dict, load
from paxsim.types import Request


def run(**kw):
    spec = {"description": "liveness rule", "protocol": "paxos", "servers": 3, "seed": 1,
            "network": {"delay": 1.0}, **kw}
    return run_scenario(from_dict(spec, source="<test>", name="t"), record_trace=False)


def test_links_that_lose_everything_count_as_cut():
    # S1 <-> S2 lose 100%, S3 crashed: no two up servers reach each other.
    r = run(network={"delay": 1.0, "links": [{"from": "S1", "to": "S2", "loss": 1.0},
                                             {"from": "S2", "to": "S1", "loss": 1.0}]},
            clients=[{"name": "C1", "requests": [{"id": "m1", "at": 5.0}]}],
            faults=[{"at": 1.0, "crash": "S3"}])
    assert r.outcome == "SAFE", r.verdict
    assert r.verdict.notes and "no quorum (2)" in r.verdict.notes[0] and "only S1" in r.verdict.notes[0]
    # with the links delivering, the same crash leaves S1 and S2 a quorum: answered
    assert run(clients=[{"name": "C1", "requests": [{"id": "m1", "at": 5.0}]}],
               faults=[{"at": 1.0, "crash": "S3"}]).verdict.notes == ()


def test_only_the_servers_a_client_may_contact_count():
    r = run(clients=[{"name": "C1", "servers": ["S1"], "requests": [{"id": "m1", "at": 5.0}]}],
            faults=[{"at": 1.0, "crash": "S1"}])
    assert r.outcome == "SAFE" and "unanswered: no quorum" in r.verdict.notes[0]


def test_a_request_lost_by_a_client_that_never_resends_is_not_stuck():
    r = run(clients=[{"name": "C1", "retry": 0, "requests": [{"id": "m1", "at": 5.0}]}],
            faults=[{"drop": {"type": "REQ", "from": "C1"}, "nth": 1}])
    assert r.outcome == "SAFE"
    assert r.verdict.notes == ("m1 (invoked by C1 at t=5) unanswered: never resent after the last"
                               " fault (t=5); not judged",)


def lossy(settle: float):
    return run(seed=6, settle=settle, network={"delay": 1.0, "loss": 0.3},
               clients=[{"name": "C1", "retry": 4.0, "requests": {"count": 3, "start": 1.0, "interval": 1.0}}])


def test_loss_with_a_short_settle_is_not_stuck_and_a_longer_settle_answers():
    short = lossy(5.0)
    assert short.outcome == "SAFE" and short.verdict.notes
    assert any("all may have been lost" in n for n in short.verdict.notes)
    assert any("catching up may have been lost" in n for n in short.verdict.notes)
    long = lossy(200.0)
    assert long.outcome == "SAFE" and long.verdict.notes == ()


def test_the_rule_still_finds_a_stuck_replica():
    r = run_scenario(load(SCENARIO_DIR / "fig03-lost.toml"))
    assert r.outcome == "STUCK" and r.verdict.violations[0].invariant == "replica_progress"


m1 = Request("m1", "C1")


def final(**kw) -> FinalWorld:
    return FinalWorld(100.0, ("S1", "S2", "S3"), ("S1", "S2", "S3"), quorum=2, last_fault=10.0, **kw)


def test_tries_and_loss_decide_between_stuck_and_a_note():
    h = lambda f: History([Invocation(0.0, "C1", m1, 1)], [], [], f)  # noqa: E731
    stuck = check(h(final(tries={"C1": ("m1", 3)})))
    assert stuck.outcome == "STUCK" and "C1 sent it 3 times since" in stuck.violations[0].detail
    assert "STUCK: a request is STUCK only if" in stuck.violations[0].detail
    assert check(h(final(tries={"C1": ("m1", 0)}))).notes[0].endswith(
        "never resent after the last fault (t=10); not judged")
    noted = check(h(final(tries={"C1": ("m1", 3)}, loss={"C1": 0.3})))
    assert noted.outcome == "SAFE" and "losing 30%" in noted.notes[0]
    assert check(h(final(tries={"C1": ("m1", 30)}, loss={"C1": 0.3}))).outcome == "STUCK"
    # C1 reaches only S1, which reaches the others: S1 can forward, a quorum is there
    cut = frozenset({("C1", "S2"), ("C1", "S3")})
    assert check(h(final(tries={"C1": ("m1", 3)}, cut=cut))).outcome == "STUCK"
    # ... unless S1 is cut from the others too (one way is enough)
    cut |= {("S1", "S2"), ("S3", "S1")}
    assert check(h(final(tries={"C1": ("m1", 3)}, cut=cut))).outcome == "SAFE"


def test_all_tries_may_be_lost():
    assert not all_tries_may_be_lost(1, 0.0)
    assert all_tries_may_be_lost(3, 0.3) and not all_tries_may_be_lost(30, 0.3)


def test_paxsim_run_prints_the_notes(tmp_path, capsys):
    from paxsim.cli import main

    path = tmp_path / "lost.toml"
    path.write_text('description = "a lost request, never resent"\nprotocol = "paxos"\nservers = 3\n'
                    '[network]\ndelay = 1.0\n[[clients]]\nname = "C1"\nretry = 0\n'
                    'requests = [{id = "m1", at = 5.0}]\n[[faults]]\ndrop = {type = "REQ", from = "C1"}\nnth = 1\n')
    main(["run", str(path), "--events", "0"])
    out = capsys.readouterr().out
    assert "outcome SAFE" in out
    assert "note: m1 (invoked by C1 at t=5) unanswered: never resent after the last fault (t=5)" in out
