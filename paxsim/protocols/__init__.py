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


def _import(module_name: str, outside: bool, near=None):
    """Import a protocol's module; one from outside paxsim that is not installed
    is looked for in :func:`search_folders` (without setting PYTHONPATH)."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        top = module_name.split(".")[0]
        if not outside or exc.name != top:
            raise
        found = find_folder(top, near)
        if found is None or found in sys.path:
            raise
        sys.path.append(found)
        return importlib.import_module(module_name)


def search_folders(near=None) -> list[str]:
    """Where a ``module.path`` that is not installed is looked for, in this order:

    1. the current folder (as ``python -m`` would find it);
    2. the folder of the scenario file ``near`` (when given), then its parent
       folders, nearest first (so a counterexample written under
       ``counterexamples/`` next to ``mymod.py`` replays from anywhere);
    3. the folder holding paxsim's shipped examples (``examples.leader_only``).

    The first folder that holds ``MODULE.py`` or a ``MODULE/`` package wins and is
    added to ``sys.path`` (worker processes inherit it; Dask workers are sent the
    module, see :mod:`paxsim.sweep.runner`). Installed modules come before all.
    """
    out = [os.getcwd()]
    if near is not None and not str(near).startswith("<"):
        folder = os.path.dirname(os.path.abspath(str(near)))
        while True:
            out.append(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    from ..data import root

    out.append(str(root()))
    return list(dict.fromkeys(out))


def find_folder(top: str, near=None):
    """The first of :func:`search_folders` that holds module or package ``top``, or None."""
    for folder in search_folders(near):
        if os.path.isfile(os.path.join(folder, top + ".py")) or os.path.isdir(os.path.join(folder, top)):
            return folder
    return None


def load_protocol(name: str, near=None) -> type[Replica]:
    """The protocol class for a built-in ``name`` or ``module.path:ClassName``;
    ``near``: the scenario file naming it (see :func:`search_folders`)."""
    target = BUILTIN.get(name)
    if target is None:
        if ":" not in name:
            raise UnknownProtocol(
                f"unknown protocol {name!r} (built-in: {', '.join(BUILTIN)}; or module.path:ClassName)"
            )
        target = name
    module_name, _, cls_name = target.partition(":")
    try:
        module = _import(module_name, outside=target is name, near=near)
    except ImportError as exc:
        raise UnknownProtocol(f"cannot import module {module_name!r} for protocol {name!r}: {exc}") from None
    cls = getattr(module, cls_name, None)
    if not (isinstance(cls, type) and issubclass(cls, Replica)):
        raise UnknownProtocol(f"{target!r} is not a paxsim Replica subclass")
    return cls


__all__ = ["BUILTIN", "ParamError", "Replica", "UnknownProtocol", "find_folder", "load_protocol", "search_folders"]
