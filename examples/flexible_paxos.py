"""Flexible Paxos (Howard, Malkhi and Spiegelman, 2016) as a variant of paxsim's Paxos.

Paxos needs a majority twice: a new leader waits for promises from a majority
(phase 1) and a value is chosen once a majority accepted it (phase 2). Safety only
needs every phase-1 quorum to meet every phase-2 quorum: ``q1 + q2 > n``. With
``q2`` small, the common case (phase 2, every request) waits for fewer servers; the
price is a larger ``q1``: a leader change needs ``q1`` servers up and connected.

It uses only the documented hooks of :class:`paxsim.protocols.paxos.Paxos` (see
the README, "Writing a variant"): ``params``, ``check_params``,
``promise_quorum`` and ``learn_quorum``.

    paxsim run scenarios/fig12b.toml --protocol examples.flexible_paxos:FlexiblePaxos --param q1=4 --param q2=2
    paxsim fuzz --protocol examples.flexible_paxos:FlexiblePaxos --servers 5 --param q1=4 --param q2=2
    paxsim sweep --protocols paxos,examples.flexible_paxos:FlexiblePaxos --servers 5 --param q2=2,3 --seeds 10
"""

from __future__ import annotations

from paxsim.protocols.base import ParamError
from paxsim.protocols.paxos import Paxos


class FlexiblePaxos(Paxos):
    """Paxos whose phase-1 (q1) and phase-2 (q2) quorums only need to intersect: q1 + q2 > n."""

    name = "flexible_paxos"
    params = {
        **Paxos.params,
        "q1": 0,  # promises a new leader needs, its own included (0: a majority)
        "q2": 0,  # accepts (learns) that make a slot chosen (0: a majority)
    }

    @classmethod
    def check_params(cls, given, n_servers):
        out = super().check_params(given, n_servers)
        majority = cls.quorum(n_servers)
        q1, q2 = out["q1"] or majority, out["q2"] or majority
        for key, q in (("q1", q1), ("q2", q2)):
            if q > n_servers:
                raise ParamError(key, f"must be at most the number of servers ({n_servers}), got {q}")
        if q1 + q2 <= n_servers:
            raise ParamError("q2", f"q1 + q2 must exceed the number of servers ({n_servers}) so that every "
                                   f"phase-1 quorum meets every phase-2 quorum; got q1={q1}, q2={q2}")
        return out

    def promise_quorum(self) -> int:
        return self.p["q1"] or super().promise_quorum()

    def learn_quorum(self) -> int:
        return self.p["q2"] or super().learn_quorum()
