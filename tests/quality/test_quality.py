"""Quality suite (as hypothesis checks itself): the fuzzer must kill realistic Paxos
bugs (paxos_mutants.py), including ones that need a crash with recovery or a
leader that loses and regains the lead, and these tests must fail when the fuzzer
is weakened.

Budgets here are small and examples-based, so the tests are deterministic; the
kill rate of `paxsim fuzz` with its default 60 s budget over seeds 1..5 is in
README.md ("Quality suite").
"""

from __future__ import annotations

import pytest

from paxsim.fuzz.search import FuzzConfig, outcome_of, search
from paxsim.fuzz.strategies import FAMILIES
from paxsim.protocols import load_protocol
from paxsim.protocols.paxos import Paxos
from tests.quality.paxos_mutants import DEEP, HARD, MUTANTS

MODULE = "tests.quality.paxos_mutants"
BUDGET = 1500          # examples: the search stops at the first failure


def kill(name: str, cfg_kw: dict | None = None, budget: int = BUDGET, seed: int = 1, workers: int = 1):
    cfg = FuzzConfig(f"{MODULE}:{name}", servers=3, shrink_runs=0, **(cfg_kw or {}))
    return search(cfg, seed=seed, budget_examples=budget, improve=0, minimize_runs=0, workers=workers)


def test_the_suite_has_twelve_realistic_mutants_four_of_them_deep():
    assert len(MUTANTS) >= 12 and len(DEEP) >= 4 and set(DEEP) <= set(MUTANTS)
    assert not set(HARD) & set(MUTANTS)
    for m in MUTANTS + HARD:
        assert issubclass(m, Paxos) and m is not Paxos and m.__doc__
        assert load_protocol(f"{MODULE}:{m.__name__}") is m     # usable as --protocol module:Class
    assert len({m.name for m in MUTANTS + HARD}) == len(MUTANTS + HARD)


@pytest.mark.parametrize("name", [m.__name__ for m in MUTANTS])
def test_fuzzer_kills_the_mutant(name):
    res = kill(name, workers=2)      # two processes, the answer of one (see paxsim.fuzz.search)
    assert res.found is not None, f"{name} survived {BUDGET} examples"
    assert res.outcome == "UNSAFE"
    assert outcome_of(res.found)[0] == "UNSAFE"
    # Paxos itself survives the very schedule that kills the mutant
    assert outcome_of({**res.found, "protocol": "paxos"})[0] != "UNSAFE"


NO_CRASHES = tuple(f for f in FAMILIES if f not in ("crash", "crash_after"))
NO_LOSING_THE_LEAD = ("crash", "crash_after", "chaos", "churn")   # a leader only stops leading by crashing


@pytest.mark.parametrize("name, budget", [("RecoverAcceptedAsChosen", 100), ("RecoverForgetsAccepted", 150)])
def test_a_fuzzer_without_crashes_misses_the_recovery_mutants(name, budget):
    """The same budget that kills a recovery mutant finds nothing when schedules
    draw no crashes: the suite would catch a fuzzer that lost them."""
    assert kill(name, budget=budget).found is not None
    weak = kill(name, {"enabled": NO_CRASHES}, budget=budget)
    assert weak.found is None and weak.stats.coverage["crashes"] == 0


def test_a_fuzzer_whose_leaders_never_lose_the_lead_misses_the_stale_phase_one():
    """ReusesOldPhaseOne needs a leader that stops leading, alive, and leads again:
    with crashes only (a crashed leader restarts without its cache), it survives."""
    assert kill("ReusesOldPhaseOne", budget=200).found is not None
    weak = kill("ReusesOldPhaseOne", {"enabled": NO_LOSING_THE_LEAD}, budget=200)
    assert weak.found is None and weak.stats.coverage["crashes"] > 0


def test_the_clean_paxos_campaign_would_catch_a_fuzzer_that_draws_no_faults():
    """tests/test_fuzz_rediscovery.py asserts that a Paxos campaign exercised
    crashes, recoveries, partitions, loss and 3+ leaders; a fuzzer that draws no
    faults reaches none of them (so that test would fail)."""
    res = search(FuzzConfig("paxos", servers=3, enabled=()), seed=1, budget_examples=60)
    cov = res.stats.coverage
    assert res.found is None and res.runs == 60
    assert cov["crashes"] == cov["recoveries"] == cov["partitions"] == cov["lost messages"] == 0
