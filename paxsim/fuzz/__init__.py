"""Fuzzing failure schedules with hypothesis.

- :mod:`paxsim.fuzz.strategies`: public hypothesis strategies that draw scenario
  dicts (drops, delays, duplication, crashes, recoveries, partitions, request
  times), for ``paxsim fuzz`` and for your own ``@given`` tests;
- :mod:`paxsim.fuzz.search`: the search and shrink driver behind ``paxsim fuzz``;
- :mod:`paxsim.fuzz.explain`: a counterexample told in the tutorial's terms.
"""

from .explain import explain
from .search import FuzzConfig, SearchResult, search
from .strategies import scenarios, schedule_size

__all__ = ["FuzzConfig", "SearchResult", "explain", "scenarios", "schedule_size", "search"]
