"""Stage 5, *WaitForLearn* (Fig. 6), and the fallback rule again (Fig. 7).

RetransAccept with the fallback rule breaks because the leader replies before it
knows that the other server has the order (Fig. 5). WaitForLearn changes one
thing: the leader executes (and replies to) its slot ``j`` only after
``<LRN, m>`` for it has arrived from the other server, retransmitting the accept
meanwhile, and it still executes in sequence-number order. The follower executes
on the accept, as before, and answers with the learn.

Now if S1 receives the learn and replies to C1 before crashing, S2 already has
the order; if S1 crashes before replying, S2 may or may not have seen the accept,
and either way no client has seen a state that S2 could contradict. With more
than two servers this module waits for a learn from every other server.

*WaitForLearnFallback* adds section 4's rule (suspect the other -> continue alone
as a SingleServer, executing the held requests in arrival order), detected by
heartbeats and timeouts.

How it breaks (Fig. 7): a timeout cannot tell a crashed server from a cut-off
one. A partition separates S1 and S2 while both stay up; after the detection
timeout each concludes that the other crashed and falls back. S1 executes m1 for
C1, S2 executes m2 for C2: C1 sees ``s^1``, C2 sees ``s^2``, a split brain. The
cure is a third server and majorities (WaitForLearnMajority).

After a crash with recovery: nothing is persisted; a recovered server restarts
with an empty log and service, so it may take a second value for a slot it had
acknowledged before: unsafe.
"""

from __future__ import annotations

from typing import Any

from .retrans_accept import FallbackToSingleServer, RetransAccept


class WaitForLearn(RetransAccept):
    name = "wait_for_learn"
    params: dict[str, Any] = {"retransmit": 3.0}

    def acks_needed(self) -> int:
        return len(self.peers)  # the other server's learn (every other server's)


class WaitForLearnFallback(FallbackToSingleServer, WaitForLearn):
    name = "wait_for_learn_fallback"
    params: dict[str, Any] = {"retransmit": 3.0, "heartbeat": 1.0, "suspect": 5.0}
