"""Copying and identifying a replica's state, for any protocol, without its help.

The explorer keeps many states of the same replica at once and must tell two of
them apart exactly. Two generic functions do it for any object graph a protocol
builds from the usual pieces:

* :func:`clone` copies the mutable parts (dicts, lists, sets, plain objects with a
  ``__dict__`` or ``__slots__``) and shares the immutable ones (numbers, strings,
  tuples, frozensets, frozen dataclasses such as messages and requests, service
  states). Aliasing is kept: two attributes that held the same dict hold the same
  copy.
* :func:`freeze` turns the same graph into a hashable value that compares equal
  exactly when the two graphs hold the same data: dicts become tuples of items in
  insertion order (the order a protocol may iterate in), sets become frozensets
  (their order is hash order, which a protocol must not rely on), objects become
  ``(class, attributes...)``. Immutable values stand for themselves: they compare
  by value. Nothing is hashed into a digest, so two different states never
  compare equal (the dictionary of seen states compares whole keys).

What a protocol author must (not) do for this to be exact, documented in the
README's "Exhaustive checking" section:

* keep replica state in those pieces: no generators, closures, locks, or objects
  compared by identity; no mutable object inside a tuple or a frozen dataclass;
* never let the iteration order of a ``set`` of strings leak into effects (it
  depends on PYTHONHASHSEED): iterate a dict or a sorted list instead;
* a protocol may define ``freeze(self)`` (a hashable value standing for its whole
  state) and ``clone(self)`` (a deep copy) to replace the generic versions.
"""

from __future__ import annotations

import types
from typing import Any

_ATOMS = (int, float, str, bool, type(None), bytes, complex)
_OPAQUE = (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


# How each type is copied and frozen, decided once per type.
_ATOM, _TUPLE, _DICT, _LIST, _SET, _FSET, _VALUE, _OBJECT = range(8)
_KINDS: dict[type, int] = {t: _ATOM for t in _ATOMS}
_KINDS.update({tuple: _TUPLE, dict: _DICT, list: _LIST, set: _SET, frozenset: _FSET})
_FIELDS: dict[type, tuple[bool, tuple[str, ...], frozenset]] = {}
_CONST_SLOTS: dict[type, tuple[str, ...]] = {}  # slots named in constant_attributes: shared
_MISSING = object()


def _kind(t: type) -> int:
    kind = _KINDS.get(t)
    if kind is None:
        params = getattr(t, "__dataclass_params__", None)
        if issubclass(t, _OPAQUE) or (params is not None and params.frozen):
            kind = _VALUE      # shared, compared by value (messages, requests, effects)
        elif t.__hash__ is not None and t.__eq__ is not object.__eq__:
            kind = _VALUE      # a value type with its own equality (e.g. State)
        else:
            kind = _OBJECT
            names: list[str] = []
            for klass in t.__mro__:
                slots = klass.__dict__.get("__slots__", ())
                for name in (slots,) if isinstance(slots, str) else slots:
                    if name not in ("__dict__", "__weakref__") and name not in names:
                        names.append(name)
            consts = frozenset(getattr(t, "constant_attributes", ()))
            _FIELDS[t] = (_has_dict(t), tuple(n for n in names if n not in consts), consts)
            _CONST_SLOTS[t] = tuple(n for n in names if n in consts)
        _KINDS[t] = kind
    return kind


def _has_dict(t: type) -> bool:
    """Whether instances of ``t`` carry a ``__dict__`` (no ``__slots__`` somewhere up)."""
    return any("__slots__" not in klass.__dict__ for klass in t.__mro__ if klass is not object)


def clone(obj: Any) -> Any:
    """A copy of ``obj`` that shares immutable parts and keeps aliasing."""
    own = getattr(type(obj), "clone", None)
    if own is not None and not isinstance(obj, type):
        return obj.clone()
    return _clone(obj, {})


def _clone(obj: Any, memo: dict[int, Any]) -> Any:
    t = type(obj)
    kind = _KINDS.get(t)
    if kind is None:
        kind = _kind(t)
    if kind <= _TUPLE or kind >= _FSET and kind != _OBJECT:
        return obj
    key = id(obj)
    done = memo.get(key)
    if done is not None:
        return done
    if kind == _DICT:
        new: Any = {}
        memo[key] = new
        for k, v in obj.items():
            new[k] = _clone(v, memo)
        return new
    if kind == _LIST:
        new = [_clone(v, memo) for v in obj]
        memo[key] = new
        return new
    if kind == _SET:
        new = set(obj)  # elements of a set are hashable, hence treated as immutable
        memo[key] = new
        return new
    has_dict, names, consts = _FIELDS[t]
    new = object.__new__(t)
    memo[key] = new
    if has_dict:
        nd = new.__dict__
        for k, v in obj.__dict__.items():
            nd[k] = v if k in consts else _clone(v, memo)
    for name in _CONST_SLOTS[t]:
        v = getattr(obj, name, _MISSING)
        if v is not _MISSING:
            object.__setattr__(new, name, v)
    for name in names:
        v = getattr(obj, name, _MISSING)
        if v is not _MISSING:
            object.__setattr__(new, name, _clone(v, memo))
    return new


def freeze(obj: Any) -> Any:
    """A hashable value equal for equal states (see the module's docstring)."""
    own = getattr(type(obj), "freeze", None)
    if own is not None and not isinstance(obj, type):
        return obj.freeze()
    return _freeze(obj)


def _freeze(obj: Any) -> Any:
    t = type(obj)
    kind = _KINDS.get(t)
    if kind is None:
        kind = _kind(t)
    if kind == _ATOM or kind == _VALUE:
        return obj
    if kind == _TUPLE:
        return tuple([_freeze(v) for v in obj])
    if kind == _DICT:
        return ("d", tuple([(_freeze(k), _freeze(v)) for k, v in obj.items()]))
    if kind == _LIST:
        return ("l", tuple([_freeze(v) for v in obj]))
    if kind == _SET or kind == _FSET:
        return ("s", frozenset([_freeze(v) for v in obj]))
    has_dict, names, consts = _FIELDS[t]
    parts: list[Any] = [t.__qualname__]
    if has_dict:
        for k, v in obj.__dict__.items():
            if k in consts:
                continue
            parts.append(k)
            parts.append(_freeze(v))
    for name in names:
        v = getattr(obj, name, _MISSING)
        if v is not _MISSING:
            parts.append(name)
            parts.append(_freeze(v))
    return tuple(parts)

