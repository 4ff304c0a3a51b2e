"""Mutation check (as hypothesis checks itself in its quality tests): the fuzzer
must catch every deliberately wrong variant of Paxos in tests/mutants/. A fuzzer
that cannot find planted bugs proves nothing when it finds none in Paxos.

Seeds and example budgets are fixed, so the test is deterministic; the kill rate
within the default 60 s budget is reported in README.md (see "Fuzzing").
"""

from __future__ import annotations

import pytest

from paxsim.fuzz.search import FuzzConfig, outcome_of, search
from paxsim.protocols import load_protocol
from tests.mutants.paxos_mutants import MUTANTS

# class name -> (servers, seed, examples budget): seeds that find the bug early,
# so the test stays fast; `paxsim fuzz` with its default 60 s budget kills all of
# them from seed 1 (README.md, "Fuzzing").
BUDGETS = {
    "PromiseQuorumF": (3, 1, 200),
    "LearnQuorumF": (3, 7, 100),
    "IgnorePromisedValues": (3, 7, 300),
    "LowestRoundValue": (3, 0, 300),
    "AcceptLowerRound": (3, 7, 100),
    "ForgetAfterCrash": (3, 1, 300),  # seed re-picked: fuzzed partitions now end explicitly (#12)
    "PromiseLowerRound": (3, 1, 300),
}


def test_there_are_at_least_six_mutants_each_a_small_override_of_paxos():
    from paxsim.protocols.paxos import Paxos

    assert len(MUTANTS) >= 6
    for m in MUTANTS:
        assert issubclass(m, Paxos) and m is not Paxos and m.__doc__
        assert load_protocol(f"tests.mutants.paxos_mutants:{m.__name__}") is m


@pytest.mark.parametrize("name", sorted(BUDGETS))
def test_fuzzer_kills_the_mutant(name):
    servers, seed, budget = BUDGETS[name]
    protocol = f"tests.mutants.paxos_mutants:{name}"
    res = search(FuzzConfig(protocol, servers=servers, shrink_runs=50), seed=seed, budget_examples=budget, improve=0)
    assert res.found is not None, f"{name} survived {budget} examples"
    assert res.outcome == "UNSAFE"
    assert outcome_of(res.found)[0] == "UNSAFE"
    # and Paxos itself survives the very schedule that kills the mutant
    assert outcome_of({**res.found, "protocol": "paxos"})[0] != "UNSAFE"


def test_every_mutant_has_a_budget():
    assert sorted(BUDGETS) == sorted(m.__name__ for m in MUTANTS)
