"""Realistic Paxos bugs, one per class: each a small override of
:class:`paxsim.protocols.paxos.Paxos`, the kind of mistake an implementer makes.
``paxsim fuzz`` must kill every one (tests/quality/test_quality.py; kill rates
in README.md). Run one with ``--protocol tests.quality.paxos_mutants:ClassName``
from the repository root.

``DEEP`` lists the mutants that only show after a crash with recovery, or after
two or more leader changes: no schedule without those can break them.
"""

from __future__ import annotations

from paxsim.protocols.paxos import NOOP, Chosen, Paxos
from paxsim.types import Learn, Reply, Send


# ------------------------------------------------- show only after a crash and recovery ---

class RecoverWithoutRounds(Paxos):
    """After a crash the acceptor restores the values it accepted but not the rounds
    it accepted them in (it reports them as round 0). A value chosen in a late round
    then loses, in the next leader's pick, against an older value from an earlier
    round that another promiser reports."""

    name = "mutant_recover_without_rounds"

    def on_recover(self, now, stored):
        out = super().on_recover(now, stored)
        acc = self.acc
        for slot, (_vr, value) in list(acc.accepted.items()):
            acc.accepted[slot] = (0, value)
        return out


class RecoverForgetsPromise(Paxos):
    """The promise is kept in memory only: after a crash the acceptor restores what
    it accepted but has promised nothing, so it takes an old leader's accepts from
    a round it had promised to ignore, and a second value is chosen in a slot."""

    name = "mutant_recover_forgets_promise"

    def on_recover(self, now, stored):
        return super().on_recover(now, {k: v for k, v in stored.items() if k != "promised"})


class RecoverForgetsAccepted(Paxos):
    """Only the promise is written to stable storage: after a crash the acceptor
    promises as it should but reports nothing it accepted, so a value chosen with
    its vote can be replaced by the next leader."""

    name = "mutant_recover_forgets_accepted"

    def on_recover(self, now, stored):
        return super().on_recover(now, {k: v for k, v in stored.items() if not k.startswith("a")})


class RecoverAcceptedAsChosen(Paxos):
    """On recovery the server takes the values it had accepted for chosen and
    executes them: a value accepted by a minority, never chosen, is executed, and
    the slot is later chosen with another value."""

    name = "mutant_recover_accepted_as_chosen"

    def on_recover(self, now, stored):
        out = super().on_recover(now, stored)
        lrn = self.lrn
        for slot, (_vr, value) in sorted(self.acc.accepted.items()):
            if slot >= lrn.next_exec:
                lrn.chosen[slot] = value
        self._execute(out)
        return out


# ----------------------------------------------- show only after two leader changes ---

class ReusesOldPhaseOne(Paxos):
    """A leader that loses the lead and later takes it back skips phase 1: it
    reuses the promises it gathered the first time, in a new round. Values chosen by
    the leader in between are not among them, and are overwritten."""

    name = "mutant_reuses_old_phase_one"

    def _on_promise(self, now, src, msg):
        L = self.ldr
        if L.phase == 1 and self.decode(msg.rnd) == L.rnd:
            self.cached = dict(getattr(self, "cached", {}), **{src: msg.accepted})
        return super()._on_promise(now, src, msg)

    def _prepare(self, now):
        cached = getattr(self, "cached", None)
        if not cached or len(cached) + 1 < self.pq:
            return super()._prepare(now)
        out = super()._prepare(now)           # the new round: persisted and broadcast ...
        L = self.ldr
        if L.phase == 1:                       # ... but no waiting for its promises
            L.promises = dict(cached)
            out += self._lead(now)
        return out


class FirstReportWins(Paxos):
    """A new leader re-proposes, per slot, the value of the first promise that
    reports one (arrival order) instead of the one with the highest round: a value
    from a lower round can win over the chosen one."""

    name = "mutant_first_report_wins"

    def pick(self, reports):
        best = {}
        for _src, entries in reports[1:] + reports[:1]:   # promises as they came, own last
            for a in entries:
                best.setdefault(a.slot, a.request)
        return best


# -------------------------------------------------------------------- the rest ---

class LearnerMixesRounds(Paxos):
    """The learner counts learns for a slot whatever round they are from, keeping
    the first value it heard of: a majority made of learns of two rounds (with two
    values) counts as chosen."""

    name = "mutant_learner_mixes_rounds"

    def _on_learn(self, now, src, msg):
        v = self.lrn.votes.get(msg.slot)
        if v is not None and self.decode(msg.rnd) != v[0]:
            msg = Learn(v[1], msg.slot, self.label(v[0]))   # counted as a learn of the first round
        return super()._on_learn(now, src, msg)


class NoopDespiteReport(Paxos):
    """A new leader keeps, of the values promises report, only the one for the
    highest slot, and fills the slots below it with no-ops, although a promise
    reported a value for them."""

    name = "mutant_noop_despite_report"

    def pick(self, reports):
        values = super().pick(reports)
        if not values:
            return values
        top = max(values)
        return {s: (v if s == top else NOOP) for s, v in values.items()}


class LeaderSkipsOwnReport(Paxos):
    """A new leader picks from the promises it received and forgets what it
    accepted itself: with three servers its quorum is itself and one other, and a
    value only it and a third server accepted is lost."""

    name = "mutant_leader_skips_own_report"

    def pick(self, reports):
        return super().pick([r for r in reports if r[0] != self.pid])


class NewLeaderProposesFromNextExec(Paxos):
    """A new leader numbers new requests from the first slot it has not executed,
    not from above the slots it re-proposed: a client request and a reported value
    are proposed in the same slot of the same round."""

    name = "mutant_new_leader_proposes_from_next_exec"

    def _lead(self, now):
        L = self.ldr
        queue = L.queue
        L.queue = []
        out = super()._lead(now)
        L.next_slot = self.lrn.next_exec
        for req in queue:
            if self._seen(req) is None:
                self._propose(now, req, out)
        return out


class _ReportsSome(Paxos):
    """An acceptor whose promise reports only the accepted slots ``reported`` keeps."""

    def reported(self, accepted: dict) -> dict:
        return accepted

    def _on_prepare(self, now, src, msg):
        acc = self.acc
        kept = acc.accepted
        acc.accepted = self.reported(kept)
        try:
            return super()._on_prepare(now, src, msg)
        finally:
            acc.accepted = kept


class PromiseReportsOnlyUnexecuted(_ReportsSome):
    """An acceptor's promise leaves out the slots it has executed ("they are done"):
    a new leader that has not executed them (it missed learns) fills them anew."""

    name = "mutant_promise_reports_only_unexecuted"

    def reported(self, accepted):
        return {s: v for s, v in accepted.items() if s >= self.lrn.next_exec}


class PromiseReportsOnlyLastSlot(_ReportsSome):
    """An acceptor's promise reports only the last slot it accepted, as if the log
    were one register: the new leader fills the slots below with no-ops or new
    requests, although they may be chosen."""

    name = "mutant_promise_reports_only_last_slot"

    def reported(self, accepted):
        if not accepted:
            return accepted
        top = max(accepted)
        return {top: accepted[top]}


class LeaderRepliesOnPropose(Paxos):
    """The leader answers a client as soon as it proposes its request in the next
    slot, with the state executing it will give (an "optimistic" reply): if the
    leader then fails before a majority accepted, another value fills that slot."""

    name = "mutant_leader_replies_on_propose"

    def _send_accept(self, now, slot, req, out):
        super()._send_accept(now, slot, req, out)
        lrn = self.lrn
        if req is not NOOP and req.client and slot == lrn.next_exec and self._seen(req) is None:
            out.append(Reply(req, lrn.service.state.then(req)))


class CatchUpSendsAccepted(Paxos):
    """A server asked to help a peer catch up sends the values it accepted (which
    may never have been chosen) for the slots it has not executed yet, along with
    the executed ones."""

    name = "mutant_catch_up_sends_accepted"

    def _on_catch_up(self, src, msg):
        out = super()._on_catch_up(src, msg)
        lrn = self.lrn
        j = lrn.next_exec
        extra = []
        while j in self.acc.accepted:
            extra.append(self.acc.accepted[j][1])
            j += 1
        if extra:
            out.append(Send(src, Chosen(lrn.next_exec, tuple(extra))))
        return out


class LearnCountsMessages(Paxos):
    """The learner counts learn messages instead of distinct servers: a learn that
    arrives twice (resent after a lost one, or duplicated by the network) counts
    twice, and a slot is executed before a majority accepted it."""

    name = "mutant_learn_counts_messages"

    def _on_learn(self, now, src, msg):
        v = self.lrn.votes.get(msg.slot)
        if v is not None and self.decode(msg.rnd) == v[0] and v[2] & self.bit[src]:
            # already counted: count it again, as a server not yet heard from
            for s in self.servers:
                if not v[2] & self.bit[s]:
                    return super()._on_learn(now, s, msg)
        return super()._on_learn(now, src, msg)


MUTANTS = (RecoverWithoutRounds, RecoverForgetsPromise, RecoverForgetsAccepted, RecoverAcceptedAsChosen,
           ReusesOldPhaseOne, LearnerMixesRounds, NoopDespiteReport, LeaderSkipsOwnReport,
           NewLeaderProposesFromNextExec, PromiseReportsOnlyUnexecuted, PromiseReportsOnlyLastSlot,
           LeaderRepliesOnPropose)
"""The suite: ``paxsim fuzz`` (3 servers, default flags) kills each within 60 s."""

DEEP = (RecoverWithoutRounds, RecoverForgetsPromise, RecoverForgetsAccepted, RecoverAcceptedAsChosen,
        ReusesOldPhaseOne)
"""Mutants that only show after a crash with recovery (the first four: their code
runs only in ``on_recover``) or after a leader loses the lead and takes it back
(two leader changes: its cached phase 1 is used only then)."""

HARD = (FirstReportWins, CatchUpSendsAccepted, LearnCountsMessages)
"""Real bugs the fuzzer does not kill within 60 s yet (measured with 3 and 5
servers): kept as the next target, not counted in the suite."""

__all__ = [m.__name__ for m in MUTANTS + HARD] + ["DEEP", "HARD", "MUTANTS"]
