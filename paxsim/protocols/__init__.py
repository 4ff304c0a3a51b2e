"""The protocol registry: one module per tutorial stage.

``load_protocol(name)`` takes a built-in name (see :data:`BUILTIN`) or
``module.path:ClassName`` for a protocol that lives outside paxsim.
"""

from __future__ import annotations

import importlib
import os
import sys

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


def _import(module_name: str, outside: bool):
    """Import a protocol's module; one from outside paxsim may also live in the
    current folder (as ``python -m`` would find it), without setting PYTHONPATH."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        here = os.getcwd()
        if not outside or here in sys.path or exc.name != module_name.split(".")[0]:
            raise
        sys.path.append(here)
        return importlib.import_module(module_name)


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
        module = _import(module_name, outside=target is name)
    except ImportError as exc:
        raise UnknownProtocol(f"cannot import module {module_name!r} for protocol {name!r}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Replica)):
        raise UnknownProtocol(f"{target!r} is not a paxsim Replica subclass")
    return cls


__all__ = ["BUILTIN", "ParamError", "Replica", "UnknownProtocol", "load_protocol"]
