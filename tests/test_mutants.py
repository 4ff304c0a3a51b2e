"""Mutation check (as hypothesis checks itself in its quality tests): the fuzzer
must catch every deliberately wrong variant of Paxos in tests/mutants/. A fuzzer
that cannot find planted bugs proves nothing when it finds none in Paxos.

One seed and one examples budget for all, so the test is deterministic; the
newer, deeper suite is tests/quality/.
"""

from __future__ import annotations

import pytest

from paxsim.fuzz.search import FuzzConfig, outcome_of, search
from paxsim.protocols import load_protocol
from tests.mutants.paxos_mutants import MUTANTS

MUTANT_NAMES = [m.__name__ for m in MUTANTS]
BUDGET = 1500   # examples, 3 servers, seed 1 for every mutant: the search stops at the first failure


def test_there_are_at_least_six_mutants_each_a_small_override_of_paxos():
    from paxsim.protocols.paxos import Paxos

    assert len(MUTANTS) >= 6
    for m in MUTANTS:
        assert issubclass(m, Paxos) and m is not Paxos and m.__doc__
        assert load_protocol(f"tests.mutants.paxos_mutants:{m.__name__}") is m


@pytest.mark.parametrize("name", MUTANT_NAMES)
def test_fuzzer_kills_the_mutant(name):
    protocol = f"tests.mutants.paxos_mutants:{name}"
    res = search(FuzzConfig(protocol, servers=3, shrink_runs=0), seed=1, budget_examples=BUDGET, improve=0,
                 minimize_runs=0)
    assert res.found is not None, f"{name} survived {BUDGET} examples"
    assert res.outcome == "UNSAFE"
    assert outcome_of(res.found)[0] == "UNSAFE"
    # and Paxos itself survives the very schedule that kills the mutant
    assert outcome_of({**res.found, "protocol": "paxos"})[0] != "UNSAFE"

