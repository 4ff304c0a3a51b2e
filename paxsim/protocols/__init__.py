"""The protocol registry: one module per tutorial stage.

``load_protocol(name)`` takes a built-in name (see :data:`BUILTIN`) or
``module.path:ClassName`` for a protocol that lives outside paxsim.
"""

from __future__ import annotations

import importlib

from .base import ParamError, Replica

# name -> "module:Class"; in the tutorial's order.
BUILTIN: dict[str, str] = {
    "single_server": "paxsim.protocols.single_server:SingleServer",
    "uncoordinated": "paxsim.protocols.uncoordinated:Uncoordinated",
    "send_accept": "paxsim.protocols.send_accept:SendAccept",
    "retrans_accept": "paxsim.protocols.retrans_accept:RetransAccept",
    "retrans_accept_fallback": "paxsim.protocols.retrans_accept:RetransAcceptFallback",
    "wait_for_learn": "paxsim.protocols.wait_for_learn:WaitForLearn",
    "wait_for_learn_fallback": "paxsim.protocols.wait_for_learn:WaitForLearnFallback",
    "wait_for_learn_majority": "paxsim.protocols.wait_for_learn_majority:WaitForLearnMajority",
    "leader_change": "paxsim.protocols.leader_change:LeaderChange",
    "leader_change_rounds": "paxsim.protocols.leader_change:LeaderChangeRounds",
    "paxos": "paxsim.protocols.paxos:Paxos",
    "paxos_promise_without_round": "paxsim.protocols.paxos:PaxosPromiseWithoutRound",
}


class UnknownProtocol(ValueError):
    pass


def load_protocol(name: str) -> type[Replica]:
    target = BUILTIN.get(name)
    if target is None:
        if ":" not in name:
            raise UnknownProtocol(
                f"unknown protocol {name!r} (built-in: {', '.join(BUILTIN)}; or module.path:ClassName)"
            )
        target = name
    module_name, _, cls_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UnknownProtocol(f"cannot import module {module_name!r} for protocol {name!r}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Replica)):
        raise UnknownProtocol(f"{target!r} is not a paxsim Replica subclass")
    return cls


__all__ = ["BUILTIN", "ParamError", "Replica", "UnknownProtocol", "load_protocol"]
