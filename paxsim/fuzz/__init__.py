"""Fuzzing failure schedules with hypothesis.

- :mod:`paxsim.fuzz.strategies`: public hypothesis strategies that draw scenario
  dicts (drops, delays, duplication, crashes, recoveries, partitions, isolations,
  request times), for ``paxsim fuzz`` and for your own ``@given`` tests;
- :mod:`paxsim.fuzz.search`: the search and shrink driver behind ``paxsim fuzz``;
- :mod:`paxsim.fuzz.size`: the honest size of a schedule (what went wrong in its run);
- :mod:`paxsim.fuzz.explain`: a counterexample told in the tutorial's terms.
"""

from .explain import explain
from .search import FuzzConfig, SearchResult, search
from .size import schedule_counts, schedule_size
from .strategies import scenarios

__all__ = ["FuzzConfig", "SearchResult", "explain", "scenarios", "schedule_counts", "schedule_size", "search"]
