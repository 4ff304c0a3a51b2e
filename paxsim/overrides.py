"""``--protocol NAME`` and ``--param KEY=VALUE`` on the command line, shared by
``paxsim run``, ``fuzz``, ``sweep`` and ``check``.

A value is read as a TOML value (``2`` a whole number, ``2.5`` a number, ``true``
a boolean, ``"x"`` a string); anything that is not TOML is taken as a string.
Parameters are then validated by the protocol exactly like a scenario's
``[params]`` (:meth:`paxsim.protocols.base.Replica.check_params`), and a problem is
one line naming the flag and the key::

    from paxsim.overrides import add_param_option, parse_params, check_params
    add_param_option(parser)                       # --param KEY=VALUE, repeatable
    given = parse_params(args.param)               # {"q2": 2}
    merged = check_params(cls, given, n_servers)   # defaults + given, or UsageError
    grid = parse_param_grid(["q2=2,3"])            # {"q2": [2, 3]} (sweeps)
"""

from __future__ import annotations

import tomllib
from typing import Any, Mapping, Optional, Sequence

from .cli import UsageError

FLAG = "--param"


def add_param_option(parser, help: Optional[str] = None) -> None:
    """Add ``--param KEY=VALUE`` (repeatable) to an argparse parser, stored as ``args.param``."""
    parser.add_argument(FLAG, action="append", default=None, metavar="KEY=VALUE", dest="param",
                        help=help or "set a protocol parameter, validated like a scenario's [params] "
                                     "(repeat for more; `paxsim protocols` lists them)")


def parse_value(text: str) -> Any:
    """``text`` as a TOML value; a string if it is not one."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def split_param(text: str, flag: str = FLAG) -> tuple[str, str]:
    """``"KEY=VALUE"`` -> ``(KEY, VALUE text)``; a UsageError naming ``flag`` if malformed."""
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq or not key or not value.strip():
        raise UsageError(f"{flag} {text!r}: give KEY=VALUE, e.g. {flag} q2=2")
    if not key.replace("_", "a").isalnum() or key[0].isdigit():
        raise UsageError(f"{flag} {text!r}: {key!r} is not a parameter name")
    return key, value.strip()


def _pairs(items: Optional[Sequence[str]], flag: str, hint: str = "") -> list[tuple[str, str]]:
    """``(KEY, VALUE text)`` of each item; a key given twice is an error."""
    out: list[tuple[str, str]] = []
    for text in items or ():
        key, value = split_param(text, flag)
        if any(k == key for k, _ in out):
            raise UsageError(f"{flag} {key}: given twice{hint}")
        out.append((key, value))
    return out


def parse_params(items: Optional[Sequence[str]], flag: str = FLAG) -> dict[str, Any]:
    """Each ``KEY=VALUE`` of ``items`` parsed; a key given twice is an error."""
    return {key: parse_value(value) for key, value in _pairs(items, flag)}


def parse_param_grid(items: Optional[Sequence[str]], flag: str = FLAG) -> dict[str, list]:
    """Each ``KEY=V1,V2,...`` of ``items`` as a list of values (a grid dimension)."""
    out: dict[str, list] = {}
    for key, value in _pairs(items, flag, " (list the values once: KEY=V1,V2)"):
        values = [v.strip() for v in value.split(",")]
        if any(not v for v in values):
            raise UsageError(f"{flag} {key}: empty value in {value!r} (give values separated by commas)")
        parsed: list = []
        for v in values:
            x = parse_value(v)
            if x not in parsed:
                parsed.append(x)
        out[key] = parsed
    return out


def check_params(cls, given: Mapping[str, Any], n_servers: int, flag: str = FLAG,
                 base: Optional[Mapping[str, Any]] = None, servers_flag: Optional[str] = None) -> dict[str, Any]:
    """``base`` (e.g. a scenario's own [params]) updated with ``given``, validated by
    protocol ``cls`` for ``n_servers``; the parameters with defaults filled in.
    A problem with a key from ``given`` names ``flag``; one from ``base`` says so."""
    from .protocols import ParamError

    merged = dict(base or {})
    merged.update(given)
    try:
        return cls.check_params(merged, n_servers)
    except ParamError as exc:
        if exc.key == "servers":
            raise UsageError(f"{servers_flag or flag}: {exc.problem}") from None
        if exc.key in given:
            raise UsageError(f"{flag} {exc.key}: {exc.problem}") from None
        raise UsageError(f"params.{exc.key}: {exc.problem}") from None


def load_scenario(path, protocol: Optional[str] = None, params: Optional[Mapping[str, Any]] = None):
    """Load scenario file ``path`` (a shipped ``scenarios/...`` path works from any
    folder, see :func:`paxsim.data.resolve`) with ``--protocol`` / ``--param``
    overrides; ``(scenario, overridden)``, where ``overridden`` says what changed::

        {"protocol": {"from": "paxos", "to": "flex:Flex"}, "params": {"q2": {"from": None, "to": 2}}}

    The file is validated as it is first; the scenario's own ``[params]`` carry over
    to the new protocol and must be known to it; the result is validated again as
    a whole, exactly like a scenario file."""
    from pathlib import Path

    from .data import resolve
    from .protocols import UnknownProtocol, load_protocol
    from .scenario import from_dict, load, read_toml

    path = resolve(path) if str(path) else path  # an empty name stays empty: load names it
    original = load(path)
    if protocol is None and not params:
        return original, {}
    params = dict(params or {})
    name = protocol or original.protocol
    try:
        cls = load_protocol(name, near=path)
    except UnknownProtocol as exc:
        raise UsageError(f"--protocol: {exc}") from None
    raw = read_toml(path)
    own = dict(raw.get("params", {}))
    if protocol is not None:
        for key in sorted(own):
            if key not in cls.params and key not in params:
                raise UsageError(f"--protocol {protocol}: {path} sets params.{key}, which {name} does not take "
                                 f"(it takes: {', '.join(sorted(cls.params)) or 'none'})")
    check_params(cls, params, len(original.servers), base=own, servers_flag="--protocol")
    raw["protocol"] = name
    raw["params"] = {**own, **params}
    sc = from_dict(raw, source=str(path), name=Path(path).stem)
    overridden: dict[str, Any] = {}
    if name != original.protocol:
        overridden["protocol"] = {"from": original.protocol, "to": name}
    if params:
        overridden["params"] = {k: {"from": original.params.get(k), "to": sc.params[k]} for k in sorted(params)}
    return sc, overridden


__all__ = ["FLAG", "add_param_option", "check_params", "load_scenario", "parse_param_grid", "parse_params",
           "parse_value", "split_param"]
