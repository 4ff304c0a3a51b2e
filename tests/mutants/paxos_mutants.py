"""Wrong Paxos variants (mutants), one planted bug each. See tests/test_mutants.py.

Each docstring says what is wrong and why it breaks safety.
"""

from __future__ import annotations

from paxsim.protocols.paxos import Paxos
from paxsim.types import Persist


class PromiseQuorumF(Paxos):
    """A new leader starts after f promises (its own included) instead of f+1: with
    three servers it leads alone, so two leaders' quorums need not intersect and the
    new one re-proposes nothing of what the old one got chosen."""

    name = "mutant_promise_quorum_f"

    def promise_quorum(self) -> int:
        return max(1, len(self.servers) // 2)


class LearnQuorumF(Paxos):
    """A learner executes a slot after f learns (the accept and its own count)
    instead of a majority: a value accepted by a minority is executed, and a new
    leader that never heard of it orders something else there."""

    name = "mutant_learn_quorum_f"

    def learn_quorum(self) -> int:
        return max(1, len(self.servers) // 2)


class IgnorePromisedValues(Paxos):
    """The new leader ignores the values reported in promises and fills every open
    slot with whatever comes next: a value chosen in an earlier round is replaced."""

    name = "mutant_ignore_promises"

    def pick(self, reports):
        return {}


class LowestRoundValue(Paxos):
    """The new leader re-proposes, per slot, the reported value with the *lowest*
    round instead of the highest: an old, never-chosen value wins over a chosen one."""

    name = "mutant_lowest_round"

    def pick(self, reports):
        best = {}
        for _src, entries in reports:
            for a in entries:
                vr = self.decode(a.vrnd)
                b = best.get(a.slot)
                if b is None or vr < b[0]:
                    best[a.slot] = (vr, a.request)
        return {s: v for s, (_k, v) in best.items()}


class AcceptLowerRound(Paxos):
    """An acceptor accepts an accept from a round lower than the one it promised: an
    old leader (cut off, or slow) overwrites what the new leader got chosen."""

    name = "mutant_accept_lower_round"

    def _on_accept(self, now, src, msg):
        acc = self.acc
        promised = acc.promised
        acc.promised = 0  # forget the promise for this check only
        out = super()._on_accept(now, src, msg)
        if acc.promised < promised:
            acc.promised = promised
            out = [e for e in out if not (type(e) is Persist and e.key == "promised")]
        return out


class ForgetAfterCrash(Paxos):
    """An acceptor persists nothing it can use: after a crash and recovery it has
    forgotten its promises and what it accepted, so a value chosen with its vote may
    be chosen over by a new leader who asks it."""

    name = "mutant_forget_after_crash"

    def on_recover(self, now, stored):
        return super().on_recover(now, {})


class PromiseLowerRound(Paxos):
    """An acceptor promises any round, even a lower one than it promised, and then
    takes that round's accepts: two leaders both gather promises and both get a
    value chosen in the same slot."""

    name = "mutant_promise_lower_round"

    def _on_prepare(self, now, src, msg):
        acc = self.acc
        promised = acc.promised
        acc.promised = 0
        out = super()._on_prepare(now, src, msg)
        acc.promised = self.decode(msg.rnd)  # may be lower than before: its accepts now pass
        return out


MUTANTS = (PromiseQuorumF, LearnQuorumF, IgnorePromisedValues, LowestRoundValue, AcceptLowerRound,
           ForgetAfterCrash, PromiseLowerRound)
