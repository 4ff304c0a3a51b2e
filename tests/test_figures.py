"""Every figure of the tutorial, replayed: the outcome the text states, for the
reason the text gives. One row of figures.md, one scenario file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paxsim import run_scenario
from paxsim.figures import SCENARIO_DIR, figure_files, figure_key
from paxsim.scenario import load

FIGURES = ["fig01", "fig02", "fig03", "fig03-lost", "fig04", "fig05", "fig06", "fig07", "fig08", "fig09",
           "fig10", "fig11", "fig11-rounds", "fig12a", "fig12b", "fig12-promise"]
ROOT = Path(__file__).resolve().parent.parent


def figure_ids() -> list[str]:
    return [p.stem for p in figure_files()]


def test_every_figure_of_the_tutorial_has_a_scenario():
    have = set(figure_ids())
    if "fig09a" in have and "fig09b" in have:
        have.add("fig09")
    missing = [f for f in FIGURES if f not in have]
    assert missing == []


def test_figures_are_listed_in_the_tutorial_order():
    assert sorted(FIGURES, key=figure_key) == FIGURES


@pytest.mark.parametrize("fig", figure_ids())
def test_figure_replays_to_the_outcome_the_tutorial_states(fig):
    sc = load(SCENARIO_DIR / f"{fig}.toml")
    assert sc.expected is not None, f"{fig} must declare its expected outcome"
    assert sc.description
    r = run_scenario(sc)
    assert r.outcome == sc.expected, [v.detail for v in r.verdict.violations]
    if sc.expected == "UNSAFE":
        first = r.verdict.violations[0]
        assert not first.latent, "the tutorial's violations are seen by clients"
        assert first.replies, "an UNSAFE figure names the conflicting replies"
    if sc.expected == "SAFE":
        assert r.verdict.violations == ()


def test_fig02_names_the_replies_the_text_names():
    r = run_scenario(load(SCENARIO_DIR / "fig02.toml"))
    first = r.verdict.violations[0]
    assert first.invariant == "prefix_chain"
    seen = {(o.client, o.state.label()) for o in first.replies}
    assert seen == {("C1", "s^1"), ("C2", "s^2")}


def test_paxsim_figures_json_lists_every_figure_in_order_and_all_match():
    r = subprocess.run([sys.executable, "-m", "paxsim", "figures", "--json"], capture_output=True, text=True, cwd=ROOT)
    rows = json.loads(r.stdout)
    assert [row["figure"] for row in rows] == figure_ids()
    for row in rows:
        for key in ("figure", "protocol", "expected", "outcome", "match"):
            assert key in row
    assert all(row["match"] for row in rows), [row for row in rows if not row["match"]]
    assert r.returncode == 0
