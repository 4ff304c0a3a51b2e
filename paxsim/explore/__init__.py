"""Exhaustive bounded search over the same replica classes the simulator runs.

``explore(setup, bounds)`` visits every state reachable within the bounds (drops,
duplicates, crashes, recoveries, timer firings, depth) and judges each with the
checker; a violation comes back with the path that led to it, which
:func:`paxsim.explore.replay.to_scenario` turns into a scenario the simulator
replays step for step. See :mod:`paxsim.explore.model` for the rules of time.
"""

from .model import Action, Bounds, Setup, System, XState
from .search import Outcome, Stats, explore

__all__ = ["Action", "Bounds", "Outcome", "Setup", "Stats", "System", "XState", "explore"]
