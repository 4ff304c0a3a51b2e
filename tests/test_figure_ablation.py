"""Every figure breaks (or holds) for the text's reason: an ablation per figure.

For an UNSAFE or STUCK figure, remove (or move) the fault the text blames and the
run turns SAFE; for a SAFE figure that shows a fix, the stage before fails on the
same scenario (or a minimally changed one, named in the ablation). The ablations
live in ``paxsim.figures.ABLATIONS``; ``paxsim figures`` shows their outcomes.
"""

from __future__ import annotations

import json

import pytest

from paxsim.cli import main
from paxsim.driver import run_scenario
from paxsim.figures import ABLATIONS, SCENARIO_DIR, ablate, figure_files, under
from paxsim.scenario import from_dict, load

FIGURES = [p.stem for p in figure_files()]


def test_every_figure_but_the_first_stage_has_an_ablation():
    assert sorted(ABLATIONS) == sorted(f for f in FIGURES if f != "fig01")


@pytest.mark.parametrize("fig", [f for f in FIGURES if f != "fig01"])
def test_the_ablation_flips_the_outcome(fig):
    sc = load(SCENARIO_DIR / f"{fig}.toml")
    assert run_scenario(sc).outcome == sc.expected
    ab, r = ablate(sc)
    if sc.expected in ("UNSAFE", "STUCK"):
        assert ab.expected == "SAFE"   # the blamed fault is necessary
    else:
        assert ab.expected != "SAFE"   # the stage before fails: this figure shows a fix
    assert r.outcome == ab.expected, (fig, ab.what, r.verdict)


@pytest.mark.parametrize("fig", ["fig09a", "fig09b"])
def test_fig09_without_the_crash_is_safe_and_answers_everything(fig):
    """WaitForLearn with a majority tolerates the false detection alone: every
    request is answered; with S3's crash nobody can decide slot 1 again."""
    sc = load(SCENARIO_DIR / f"{fig}.toml")
    _ab, r = ablate(sc)
    assert r.outcome == "SAFE" and r.verdict.notes == ()
    answered = {o.request.id for o in r.history.replies}
    assert answered == {"m1", "m2"}
    stuck = run_scenario(sc).verdict
    assert [v.invariant for v in stuck.violations] == ["liveness"]
    # LeaderChange (a takeover protocol) answers on the same schedule
    assert run_scenario(from_dict(under("leader_change")(sc.to_dict()), name=fig)).outcome == "SAFE"


def test_fig12b_separates_paxos_from_every_earlier_stage():
    sc = load(SCENARIO_DIR / "fig12b.toml")
    for stage in ("leader_change_rounds", "wait_for_learn_majority", "paxos_promise_without_round"):
        r = run_scenario(from_dict(under(stage)(sc.to_dict()), name="fig12b"))
        assert r.outcome in ("UNSAFE", "STUCK"), stage
    assert run_scenario(sc).outcome == "SAFE"


def test_figures_json_has_the_ablation_beside_each_figure(capsys):
    assert main(["figures", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by = {r["figure"]: r for r in rows}
    assert by["fig01"]["ablation"] is None and by["fig01"]["ablation_outcome"] is None
    for fig, r in by.items():
        if fig != "fig01":
            assert r["ablation"] and r["ablation_outcome"] == r["ablation_expected"], r
        if r["expected"] in ("UNSAFE", "STUCK"):
            assert r["ablation_outcome"] == "SAFE"
