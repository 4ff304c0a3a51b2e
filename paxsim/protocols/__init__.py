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
