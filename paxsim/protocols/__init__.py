"""The protocol registry: one module per tutorial stage.

``load_protocol(name)`` takes a built-in name (see :data:`BUILTIN`) or
``module.path:ClassName`` for a protocol that lives outside paxsim.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
from typing import Optional

from ..limits import printable, show
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


def parse_spec(name: str) -> tuple[str, str]:
    """``(module, class)`` of a ``module.path:ClassName`` spec (a built-in name gives
    its registered target); UnknownProtocol with one clear message otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise UnknownProtocol(f"empty protocol name (built-in: {', '.join(BUILTIN)}; or module.path:ClassName)")
    target = BUILTIN.get(name)
    if target is None:
        shown = show(name)
        if ":" not in name:
            raise UnknownProtocol(f"unknown protocol {shown} (built-in: {', '.join(BUILTIN)}; or module.path:ClassName)")
        target = name
        module_name, _, cls_name = name.partition(":")
        if not module_name:
            raise UnknownProtocol(f"protocol {shown} names no module before the colon (give module.path:ClassName)")
        if module_name.startswith("."):
            raise UnknownProtocol(f"protocol {shown}: a relative module path cannot be imported (give the full "
                                  "module.path:ClassName)")
        if not all(part.isidentifier() for part in module_name.split(".")):
            raise UnknownProtocol(f"protocol {shown}: {show(module_name)} is not a module path (dotted Python "
                                  "names, like examples.leader_only)")
        if not cls_name:
            raise UnknownProtocol(f"protocol {shown} names no class after the colon (give module.path:ClassName)")
        if not cls_name.isidentifier():
            raise UnknownProtocol(f"protocol {shown}: {show(cls_name)} is not a class name")
    module_name, _, cls_name = target.partition(":")
    return module_name, cls_name


def usable_problem(cls) -> Optional[str]:
    """Why ``cls`` cannot run as a protocol (None if it can): it must be a concrete
    subclass of Replica (not Replica itself) with sound class attributes."""
    if not isinstance(cls, type):
        return f"is a {type(cls).__name__}, not a class"
    if not issubclass(cls, Replica):
        return "is not a subclass of paxsim.protocols.base.Replica"
    if cls is Replica:
        return "is the abstract base class; give a protocol that subclasses it"
    if inspect.isabstract(cls):
        return "is abstract (it leaves methods unimplemented)"
    if not isinstance(cls.params, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, (bool, int, float, str))) for k, v in cls.params.items()):
        return "has a params attribute that is not a table of name -> bool, number or string"
    if cls.client_mode not in ("all", "one"):
        return f"has client_mode {cls.client_mode!r} (must be \"all\" or \"one\")"
    lo, hi = cls.min_servers, cls.max_servers
    if isinstance(lo, bool) or not isinstance(lo, int) or lo < 1 or \
            (hi is not None and (isinstance(hi, bool) or not isinstance(hi, int) or hi < lo)):
        return f"has min_servers {lo!r} / max_servers {hi!r} (whole numbers, 1 <= min <= max)"
    kinds = cls.message_kinds
    if kinds is not None and (not isinstance(kinds, tuple) or not all(isinstance(k, str) and k for k in kinds)):
        return "has a message_kinds attribute that is not a tuple of message kinds"
    return None


def load_protocol(name: str, near=None) -> type[Replica]:
    """The protocol class for a built-in ``name`` or ``module.path:ClassName``;
    ``near``: the scenario file naming it (see :func:`search_folders`)."""
    module_name, cls_name = parse_spec(name)
    try:
        module = _import(module_name, outside=name not in BUILTIN, near=near)
    except Exception as exc:  # ImportError, or the module's own error while it loads
        problem = printable(str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}")[:200]
        raise UnknownProtocol(f"cannot import module {module_name!r} for protocol {show(name)}: {problem}") from None
    cls = getattr(module, cls_name, None)
    if cls is None:
        raise UnknownProtocol(f"module {module_name!r} has no class {cls_name!r} (protocol {show(name)})")
    problem = usable_problem(cls)
    if problem:
        raise UnknownProtocol(f"{module_name}:{cls_name} is not a usable protocol: it {problem}")
    return cls


__all__ = ["BUILTIN", "ParamError", "Replica", "UnknownProtocol", "find_folder", "load_protocol", "parse_spec",
           "search_folders", "usable_problem"]
