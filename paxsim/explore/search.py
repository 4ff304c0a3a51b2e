"""Breadth-first or depth-first search over every state within the bounds.

Each state is judged, when its last step recorded a reply or an execution, by the
checker every driver uses (:func:`paxsim.checker.check` on the path's history);
the search stops at the first violation. Breadth-first search finds one of the
shortest paths to it. States are deduplicated by their exact key
(:meth:`~paxsim.explore.model.XState.key`): a dictionary of whole keys, so two
different states are never merged; a state met again in fewer steps than before
is expanded again, so that the depth bound means "every state some path of at
most that many steps reaches". Liveness is not judged here (a bounded search
cannot tell a slow run from a stuck one): it stays with simulation.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..checker import Verdict, check
from ..history import History
from .model import Action, Bounds, KeyParts, Setup, System, XState


@dataclass
class Stats:
    states: int = 0          # unique states found
    transitions: int = 0     # successors computed
    max_depth: int = 0
    depth_cut: int = 0       # states not expanded because of the depth bound
    seconds: float = 0.0     # wall-clock time
    cpu_seconds: float = 0.0  # this process's CPU time (what states/s is measured in)
    queue: int = 0

    @property
    def states_per_s(self) -> float:
        """Unique states per CPU second (not wall time: a busy machine does not halve it)."""
        return self.states / self.cpu_seconds if self.cpu_seconds > 0 else 0.0


@dataclass
class Outcome:
    setup: Setup
    bounds: Bounds
    strategy: str
    complete: bool                       # every state within the bounds was explored
    stats: Stats
    verdict: Optional[Verdict] = None    # the violating state's verdict, if any
    path: list[Action] = field(default_factory=list)
    history: Optional[History] = None

    @property
    def outcome(self) -> str:
        return "UNSAFE" if self.verdict is not None else "SAFE"


def explore(setup: Setup, bounds: Bounds, *, strategy: str = "bfs", budget_seconds: Optional[float] = None,
            max_states: Optional[int] = None,
            progress: Optional[Callable[[Stats], None]] = None) -> Outcome:
    """Explore every state of ``setup`` within ``bounds`` (or until the budget ends)."""
    if strategy not in ("bfs", "dfs"):
        raise ValueError(f"strategy must be bfs or dfs, not {strategy!r}")
    system = System(setup, bounds)
    stats = Stats()
    clock = time.perf_counter
    cpu = time.process_time
    start = clock()
    cpu_start = cpu()
    deadline = None if budget_seconds is None else start + budget_seconds
    firsts = system.initials()
    for first in firsts:
        found = _judge(first)
        if found is not None:
            stats.states = 1
            stats.seconds, stats.cpu_seconds = clock() - start, cpu() - cpu_start
            return Outcome(setup, bounds, strategy, False, stats, found, first.path(), first.records.history())
    # Each state seen, with the fewest steps it was reached in: a state reached again
    # in fewer steps is expanded again (depth-first search meets states deep first,
    # and a crash or recovery adds two steps at once), so that the depth bound cuts
    # no state that some shorter path reaches.
    parts = KeyParts()  # numbers for servers' and clients' states, equal parts of keys kept once (XState.key)
    seen = {first.key(parts): 0 for first in firsts}
    judged: set = set()  # summaries of histories already judged SAFE (see System._record)
    frontier = _Frontier(strategy, firsts)
    depth_bound = bounds.depth
    complete = True
    ticks = 0
    best: Optional[tuple[XState, Verdict]] = None  # the shortest violation so far
    while frontier:
        st = frontier.pop()
        if best is not None and (strategy == "dfs" or st.depth + 1 >= best[0].depth):
            break  # nothing left can reach a violation in fewer steps
        if depth_bound is not None and st.depth >= depth_bound:
            stats.depth_cut += 1
            continue
        for child in system.successors(st):
            if depth_bound is not None and child.depth > depth_bound:
                continue  # a crash right after the last step the bound allows
            stats.transitions += 1
            if child.judge and child.summary not in judged:
                verdict = _judge(child)
                if verdict is None:
                    judged.add(child.summary)
                elif best is None or child.depth < best[0].depth:
                    best = (child, verdict)
                    continue
            key = child.key(parts)
            known = seen.get(key)
            if known is not None and known <= child.depth:
                continue
            seen[key] = child.depth
            if child.depth > stats.max_depth:
                stats.max_depth = child.depth
            frontier.append(child)
        st.release()
        ticks += 1
        if ticks & 255 == 0:
            now = clock()
            stats.states, stats.queue, stats.seconds = len(seen), len(frontier), now - start
            stats.cpu_seconds = cpu() - cpu_start
            if progress is not None:
                progress(stats)
            if (deadline is not None and now >= deadline) or (max_states is not None and len(seen) >= max_states):
                complete = False
                break
    stats.states, stats.queue, stats.seconds = len(seen), len(frontier), clock() - start
    stats.cpu_seconds = cpu() - cpu_start
    if best is not None:
        child, verdict = best
        stats.states += 1
        stats.max_depth = max(stats.max_depth, child.depth)
        return Outcome(setup, bounds, strategy, False, stats, verdict, child.path(), child.records.history())
    return Outcome(setup, bounds, strategy, complete, stats)


class _Frontier:
    """The states still to expand: breadth-first, depth by depth (a step of the
    model may add two steps to a path, a crash right after a server's own step,
    and such a state waits for its depth), or depth-first (last in, first out)."""

    def __init__(self, strategy: str, firsts: list[XState]) -> None:
        self.bfs = strategy == "bfs"
        self.levels: dict[int, deque[XState]] = {0: deque(firsts)} if self.bfs else {}
        self.depth = 0
        self.stack = [] if self.bfs else list(reversed(firsts))
        self.size = len(firsts)

    def __len__(self) -> int:
        return self.size

    def append(self, st: XState) -> None:
        self.size += 1
        if self.bfs:
            level = self.levels.get(st.depth)
            if level is None:
                level = self.levels[st.depth] = deque()
            level.append(st)
        else:
            self.stack.append(st)

    def pop(self) -> XState:
        self.size -= 1
        if not self.bfs:
            return self.stack.pop()
        level = self.levels.get(self.depth)
        while not level:
            self.levels.pop(self.depth, None)
            self.depth += 1
            level = self.levels.get(self.depth)
        return level.popleft()


def _judge(st: XState) -> Optional[Verdict]:
    """The checker's verdict on the path's history if it is UNSAFE, else None."""
    if st.records is None:
        return None
    verdict = check(st.records.history())
    return verdict if verdict.outcome == "UNSAFE" else None
