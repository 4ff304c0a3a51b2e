"""What a protocol is, for people choosing one: ``paxsim protocols``.

:func:`describe` gives, for a built-in stage or a ``module.path:ClassName``: a
one-line summary (the class's docstring, else its module's), the parameters with
their defaults, types, valid ranges and comments, how clients address servers,
how many servers it runs with, its quorums for a few cluster sizes, and the
tutorial's figures that use it.

Valid ranges are found by asking the protocol itself: each parameter is tried
with a few values (below zero, zero, very large) through its ``check_params``,
so the ranges shown are the ones a scenario's ``[params]`` or ``--param`` meets.
"""

from __future__ import annotations

import inspect
import re
import tomllib
from typing import Any, Optional

from .protocols import BUILTIN, ParamError, load_protocol

_COMMENT = re.compile(r'^\s*["\'](\w+)["\']\s*:\s*[^#]*#\s*(.+?)\s*$')
HUGE = 10**9


def summary(cls) -> str:
    """The first line of the class's own docstring, else of its module's."""
    doc = cls.__dict__.get("__doc__") or inspect.getmodule(cls).__doc__ or ""
    lines = [l.strip() for l in doc.strip().splitlines() if l.strip()]
    return lines[0] if lines else ""


def param_comments(cls) -> dict[str, str]:
    """``# comments`` after each entry of ``params = {...}`` in the class (or a base)'s source."""
    out: dict[str, str] = {}
    for klass in cls.__mro__:
        if "params" not in klass.__dict__:
            continue
        try:
            source = inspect.getsource(klass)
        except (OSError, TypeError):
            continue
        for line in source.splitlines():
            m = _COMMENT.match(line)
            if m and m.group(1) in klass.__dict__["params"]:
                out.setdefault(m.group(1), m.group(2))
    return out


def default_servers(cls) -> int:
    n = max(3, cls.min_servers)
    return n if cls.max_servers is None else min(n, cls.max_servers)


def _accepts(cls, key: str, value: Any, n: int) -> Optional[str]:
    """None if ``key = value`` is valid for ``n`` servers, else the problem (without
    its ", got VALUE" tail); a problem another key reports counts as valid here."""
    try:
        cls.check_params({key: value}, n)
    except ParamError as exc:
        return re.sub(r",? got .*$", "", exc.problem) if exc.key == key else None
    return None


def valid_range(cls, key: str, default: Any, n: int) -> str:
    """The values ``key`` accepts, as the protocol checks them (for ``n`` servers)."""
    if isinstance(default, bool):
        return "true or false"
    if not isinstance(default, (int, float)):
        return f"a {type(default).__name__}" if default is not None else "any"
    kind = "whole number" if isinstance(default, int) else "number"
    if _accepts(cls, key, -1, n) is None:
        low = "any " + kind
    elif _accepts(cls, key, 0, n) is None:
        low = f"{kind} >= 0"
    else:
        low = f"{kind} > 0"
    high = _accepts(cls, key, HUGE, n)
    return low if high is None else f"{low}; {high}"


def quorums(cls, sizes=(1, 2, 3, 4, 5, 6, 7)) -> list[dict[str, Any]]:
    """Per cluster size the protocol runs with: the quorum a request needs (judged for
    liveness) and, for Paxos and its variants, the promise and learn quorums."""
    out = []
    allowed = [n for n in sizes if n >= cls.min_servers and (cls.max_servers is None or n <= cls.max_servers)]
    if len(allowed) > 3:
        allowed = [n for n in allowed if n % 2] or allowed   # 2f+1 servers: f = 0, 1, 2, 3
    for n in allowed:
        row: dict[str, Any] = {"servers": n, "quorum": cls.quorum(n)}
        if hasattr(cls, "promise_quorum") or hasattr(cls, "learn_quorum"):
            try:
                servers = [f"S{i}" for i in range(1, n + 1)]
                r = cls(servers[0], servers, cls.check_params({}, n))
                for hook, name in (("promise_quorum", "promise"), ("learn_quorum", "learn")):
                    if hasattr(r, hook):
                        row[name] = getattr(r, hook)()
            except Exception:  # a protocol whose defaults do not fit n: its own check says so elsewhere
                pass
        out.append(row)
    return out


def figures_using(name: str) -> list[str]:
    """The figure scenarios shipped with paxsim whose protocol is ``name``."""
    from .figures import SCENARIO_DIR, figure_files

    out = []
    for path in figure_files(SCENARIO_DIR):
        try:
            proto = tomllib.loads(path.read_text(encoding="utf-8")).get("protocol")
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if proto == name:
            out.append(path.stem)
    return out


def describe(name: str) -> dict[str, Any]:
    """Everything :mod:`paxsim.catalog` tells about protocol ``name`` (JSON-ready)."""
    cls = load_protocol(name)
    n = default_servers(cls)
    comments = param_comments(cls)
    params = []
    for key, default in cls.params.items():
        params.append({"name": key, "default": default, "type": type(default).__name__,
                       "valid": valid_range(cls, key, default, n), "help": comments.get(key, "")})
    return {
        "name": name,
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "builtin": name in BUILTIN,
        "summary": summary(cls),
        "params": params,
        "client_mode": cls.client_mode,
        "min_servers": cls.min_servers,
        "max_servers": cls.max_servers,
        "catch_up": cls.catch_up,
        "quorums": quorums(cls),
        "figures": figures_using(name),
    }


def quorum_text(rows: list[dict[str, Any]]) -> str:
    parts = []
    for r in rows:
        extra = [f"{k} {r[k]}" for k in ("promise", "learn") if k in r]
        parts.append(f"n={r['servers']}: {r['quorum']}" + (f" ({', '.join(extra)})" if extra else ""))
    return "; ".join(parts)


def servers_text(d: dict[str, Any]) -> str:
    lo, hi = d["min_servers"], d["max_servers"]
    if hi is None:
        return f"{lo} or more"
    return f"exactly {lo}" if hi == lo else f"{lo} to {hi}"


def lines(d: dict[str, Any]) -> list[str]:
    """``describe``'s result as text lines."""
    head = d["name"] if d["builtin"] else f"{d['name']}"
    out = [f"{head}  ({d['class']})" if d["class"] != d["name"] else head, f"  {d['summary']}"]
    mode = "every server" if d["client_mode"] == "all" else "one server (the next one on a timeout)"
    out.append(f"  servers: {servers_text(d)}; clients send to {mode}")
    out.append(f"  quorum: {quorum_text(d['quorums'])}")
    if d["params"]:
        out.append("  params:")
        for p in d["params"]:
            text = f"    {p['name']} = {p['default']!r}  ({p['valid']})"
            if p["help"]:
                text += f"  {p['help']}"
            out.append(text)
    else:
        out.append("  params: none")
    out.append(f"  figures: {', '.join(d['figures']) or '-'}")
    return out


__all__ = ["describe", "figures_using", "lines", "param_comments", "quorums", "summary", "valid_range"]
