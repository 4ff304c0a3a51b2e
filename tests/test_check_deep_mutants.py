"""`paxsim check` kills planted Paxos bugs that need a leader change and more.

Each bug below shows only after a leader change together with lost messages, a
crash and recovery, or a client's resend. In send order (``--max-delays 0``) the
search branches only where a message is lost, a timer fires or a server crashes
or recovers, so with per-process clocks and parameters that make every timer
firing count (a follower suspects after two of its own heartbeats; backoff 0 lets
a server lead again at once) a depth-first search reaches these paths within a
few hundred thousand states. Each bug is found with the bounds its path needs,
the counterexample replays UNSAFE in the simulator, and with one lost message or
one timer firing fewer (whichever search is cheaper) the same search exhausts its
space and finds nothing: the bounds are what finds it, not a loose search.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from paxsim.driver import run_scenario
from paxsim.explore import Bounds, Setup, explore
from paxsim.explore.counterexample import scenario_dict
from paxsim.overrides import check_params
from paxsim.scenario import from_dict
from tests.mutants.paxos_mutants import PromiseLowerRound
from tests.quality.paxos_mutants import (
    CatchUpSendsAccepted, LeaderRepliesOnPropose, LearnerMixesRounds, NewLeaderProposesFromNextExec,
    RecoverAcceptedAsChosen,
)

SERVERS = ("S1", "S2", "S3")
EVERY_FIRING_COUNTS = {"heartbeat": 2, "suspect": 3, "backoff": 0, "retransmit": 10}
MAX_STATES = 1_000_000  # a cap far above what each search needs (at most ~400,000 states)


@dataclass(frozen=True)
class Kill:
    """A mutant and the bounds that kill it: lost messages, timer firings, crashes
    (each with a recovery), steps; how many clients, where each sends first (server
    indexes), after how long they resend (0: never), parameters beyond
    EVERY_FIRING_COUNTS; and which bound, one lower, leaves the space SAFE."""

    mutant: type
    drops: int
    timeouts: int
    depth: int
    crashes: int = 0
    clients: int = 2
    firsts: tuple[int, ...] = (0, 1)
    retry: float = 0.0
    params: dict = field(default_factory=dict)
    fewer: str = "drops"  # or "timeouts"

    def setup(self) -> Setup:
        params = check_params(self.mutant, {**EVERY_FIRING_COUNTS, **self.params}, len(SERVERS),
                              servers_flag="--servers")
        clients = tuple(f"C{i}" for i in range(1, self.clients + 1))
        return Setup(self.mutant, SERVERS, clients, 1, params, retry=self.retry, mode="one", firsts=self.firsts)

    def bounds(self, weaker: bool = False) -> Bounds:
        """The bounds that kill it, or (``weaker``) with one less of ``fewer``."""
        counts = {"drops": self.drops, "timeouts": self.timeouts}
        if weaker:
            counts[self.fewer] -= 1
        return Bounds(dups=0, crashes=self.crashes, recoveries=self.crashes, depth=self.depth, delays=0,
                      clocks="per-process", **counts)

    def protocol(self) -> str:
        return f"{self.mutant.__module__}:{self.mutant.__name__}"


KILLS = [
    # S1's accepts for m1 are lost and S1 crashes; S2 takes over and gets m2 chosen
    # in slot 1; S1 recovers and executes the m1 it had only accepted.
    Kill(RecoverAcceptedAsChosen, drops=2, timeouts=2, crashes=1, depth=26),
    # S1 accepted m1 alone in round 1; S2 gets m2 chosen in round 2 without S1's
    # promise or accept; S3's learn of round 2 counts at S1 as a learn of m1.
    Kill(LearnerMixesRounds, drops=5, timeouts=2, depth=24, fewer="timeouts"),
    # S1 answers m1 on proposing it and its accepts are lost; S3 takes over and
    # fills slot 1 with a no-op: C2 is answered a state with m2 first, C1 one with
    # m1 first.
    Kill(LeaderRepliesOnPropose, drops=3, timeouts=2, depth=36),
    # S3 takes over with S1's m1 for slot 1 and proposes a request forwarded to it
    # later in slot 1 as well: S1 executes one, S3 the other.
    Kill(NewLeaderProposesFromNextExec, drops=5, timeouts=3, depth=29, fewer="timeouts"),
    # S1 stays a candidate while S2 leads with S3's promise; S1's resent prepare of
    # the lower round 1 makes S3 promise it, and both rounds get a value chosen in
    # slot 1 (S2's from C2's resend).
    Kill(PromiseLowerRound, drops=4, timeouts=4, depth=34, firsts=(0, 0), retry=1.0, params={"retransmit": 2},
         fewer="timeouts"),
    # S1 proposes m1, m2, m3 (every client sends to it); m1 and m3 are chosen, m2
    # only S1 accepted; S2, which missed m1, catches up from S1 and executes m2 in
    # slot 2; S3 takes over without S1 and fills slot 2 with a no-op.
    Kill(CatchUpSendsAccepted, drops=4, timeouts=3, depth=34, clients=3, firsts=(0, 0, 0)),
]
# AcceptLowerRound and ReusesOldPhaseOne are pinned with a partition instead (tests/test_check_quality.py: one
# cut in place of five lost messages, about ten times fewer states).


def _name(kill: Kill) -> str:
    return kill.mutant.__name__


@pytest.mark.parametrize("kill", KILLS, ids=_name)
def test_found_in_send_order_with_lost_messages_and_replayed_unsafe(kill):
    setup = kill.setup()
    found = explore(setup, kill.bounds(), strategy="dfs", max_states=MAX_STATES)
    assert found.outcome == "UNSAFE" and len(found.path) <= kill.depth
    kinds = {a.kind for a in found.path}
    assert {"drop", "timer"} <= kinds and "hold" not in kinds
    assert ({"crash", "recover"} <= kinds) == bool(kill.crashes)
    assert sum(a.kind == "drop" for a in found.path) <= kill.drops
    replayed = run_scenario(from_dict(scenario_dict(setup, found.path, "found by check", kill.protocol()), "<check>"))
    assert replayed.outcome == "UNSAFE"


@pytest.mark.parametrize("kill", KILLS, ids=_name)
def test_with_one_loss_or_timer_firing_fewer_the_space_is_safe_and_complete(kill):
    found = explore(kill.setup(), kill.bounds(weaker=True), strategy="dfs", max_states=MAX_STATES)
    assert found.outcome == "SAFE" and found.complete
