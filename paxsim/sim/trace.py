"""The trace of a run: every send, delivery, drop, timer, crash and execution.

Events are kept as compact tuples while the run goes ``(time, kind, src, dst, mid,
msg_or_info)``; they are turned into JSON Lines only when written or digested, so
recording costs one append. The digest is a BLAKE2b of the JSON Lines bytes:
same scenario and seed, same bytes, same digest.

The JSON Lines are canonical: each line is ``json.dumps(record, sort_keys=True,
separators=(",", ":"))`` of :meth:`Trace.records`. :meth:`Trace.lines` writes the
same bytes without building a dict or calling ``json.dumps`` for the events that
carry a message (most of a trace): it encodes each message's part of the line
once, as a template, and fills in time, sender, receiver and message id.
"""

from __future__ import annotations

import json
from hashlib import blake2b
from typing import Any, Iterable, Iterator

from ..types import Message

# Event kinds
SEND, DELIVER, DROP, DUPLICATE = "send", "deliver", "drop", "duplicate"
TIMER, CRASH, RECOVER, PARTITION, HEAL = "timer", "crash", "recover", "partition", "heal"
EXECUTE, INVOKE, END, LOG = "execute", "invoke", "end", "log"


class Trace:
    __slots__ = ("events", "_digest")

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self._digest: tuple[int, str] = (-1, "")  # (events digested, digest): digest() or write() made it

    def __len__(self) -> int:
        return len(self.events)

    def add(self, time: float, kind: str, src: Any = None, dst: Any = None, mid: int = -1, info: Any = None) -> int:
        self.events.append((time, kind, src, dst, mid, info))
        return len(self.events) - 1

    def records(self) -> Iterator[dict[str, Any]]:
        for i, event in enumerate(self.events):
            yield _record(i, event)

    def lines(self) -> Iterator[str]:
        """The canonical JSON line of each record (see the module's docstring)."""
        templates: dict[int, str] = {}  # id(info) -> its line's template, "" for none (infos outlive this loop)
        get = templates.get
        names = _Names()  # process id or event kind -> its JSON string
        for i, event in enumerate(self.events):
            time, kind, src, dst, mid, info = event
            tmpl = get(id(info))
            if tmpl is None:
                tmpl = templates[id(info)] = _template(info) if isinstance(info, Message) else ""
            if tmpl and mid >= 0 and type(src) is str and type(dst) is str:
                t = round(time, 9)
                if t - t == 0:  # finite: JSON writes the number as repr does
                    yield tmpl % (names[dst], names[kind], i, mid, names[src], t)  # sorted: dst ev i mid src t
                    continue
            yield _encode(_record(i, event))

    def digest(self) -> str:
        n, d = self._digest
        if n != len(self.events):
            d = digest_lines(self.lines())
            self._digest = (len(self.events), d)
        return d

    def write(self, path: str) -> str:
        """Write the JSON Lines to ``path``; return their digest (computed on the way)."""
        h = blake2b(digest_size=16)
        with open(path, "w", encoding="utf-8") as fh:
            for chunk in _chunks(self.lines()):
                fh.write(chunk)
                h.update(chunk.encode())
        self._digest = (len(self.events), h.hexdigest())
        return self._digest[1]


def _record(i: int, event: tuple) -> dict[str, Any]:
    time, kind, src, dst, mid, info = event
    rec: dict[str, Any] = {"i": i, "t": round(time, 9), "ev": kind}
    if src is not None:
        rec["src"] = src
    if dst is not None:
        rec["dst"] = dst
    if mid >= 0:
        rec["mid"] = mid
    if isinstance(info, Message):
        rec["type"] = info.kind
        rec["label"] = info.label()
        rec.update(info.fields())
    elif isinstance(info, dict):
        rec.update(info)
    elif info is not None:
        rec["info"] = info
    return rec


_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode  # json.dumps(x, sort_keys=True, ...)
_KEYS: dict[str, str] = {}  # a key's JSON string, escaped for %-formatting

_FIXED = ("i", "t", "ev", "src", "dst", "mid")  # the record's own keys (a template takes them sorted)


def _literal(value: Any) -> str:
    """``value`` as JSON (as inside a canonical line), escaped for %-formatting."""
    return _encode(value).replace("%", "%%")


def _template(msg: Message) -> str:
    """The line of an event carrying ``msg``, as a %-template of ``_FIXED``'s values
    ("" if the message's fields would clash with the record's own keys)."""
    parts = {"type": _literal(msg.kind), "label": _literal(msg.label())}
    for k, v in msg.fields().items():
        if k in parts or k in _FIXED:
            return ""
        parts[k] = _literal(v)
    for k in _FIXED:
        parts[k] = "%s"  # str() of an int or a finite float is what JSON writes
    keys = _KEYS
    for k in parts:
        if k not in keys:
            keys[k] = _literal(k)
    return "{" + ",".join(f"{keys[k]}:{parts[k]}" for k in sorted(parts)) + "}"


class _Names(dict):
    """A process id or event kind as JSON (a value for a template), encoded once."""

    def __missing__(self, name: str) -> str:
        text = self[name] = _encode(name)
        return text


def _chunks(lines: Iterable[str], size: int = 512) -> Iterator[str]:
    """Lines joined, each ending in a newline, ``size`` at a time."""
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        if len(buf) == size:
            buf.append("")
            yield "\n".join(buf)
            buf = []
    if buf:
        buf.append("")
        yield "\n".join(buf)


def read_trace(path: str) -> list[dict[str, Any]]:
    """Read a JSON Lines trace written by :meth:`Trace.write`."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def digest_lines(lines: Iterable[str]) -> str:
    """BLAKE2b of the lines, each followed by a newline: the digest of the file they make."""
    h = blake2b(digest_size=16)
    for chunk in _chunks(lines):
        h.update(chunk.encode())
    return h.hexdigest()
