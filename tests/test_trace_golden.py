"""Every trace of the 17 figures and 72 random schedules is byte-identical to the
one recorded at a known-good commit (and so is every float of the run, with and
without a trace) (tests/data/trace_digests.json, written by
``python -m tests.trace_golden --write``): speed work must not change a run."""

from __future__ import annotations

import json

import pytest

from tests.trace_golden import GOLDEN, cases, run_case

_GOLDEN = json.loads(GOLDEN.read_text())
_CASES = list(cases())


def test_the_golden_set_covers_the_figures_and_60_random_schedules():
    names = [n for n, _ in _CASES]
    assert sorted(names) == sorted(_GOLDEN)
    assert sum(n.startswith("fig") for n in names) == 17
    assert sum(n.startswith("random-") for n in names) >= 60


@pytest.mark.parametrize("name, scenario", _CASES, ids=[n for n, _ in _CASES])
def test_trace_is_byte_identical_to_the_recorded_one(name, scenario):
    assert run_case(scenario) == _GOLDEN[name]
