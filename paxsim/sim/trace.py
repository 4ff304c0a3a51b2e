"""The trace of a run: every send, delivery, drop, timer, crash and execution.

Events are kept as compact tuples while the run goes ``(time, kind, src, dst, mid,
msg_or_info)``; they are turned into JSON Lines only when written or digested, so
recording costs one append. The digest is a BLAKE2b of the JSON Lines bytes:
same scenario and seed, same bytes, same digest.
"""

from __future__ import annotations

import json
from hashlib import blake2b
from typing import Any, Iterable, Iterator, Optional

from ..types import Message

# Event kinds
SEND, DELIVER, DROP, DUPLICATE = "send", "deliver", "drop", "duplicate"
TIMER, CRASH, RECOVER, PARTITION, HEAL = "timer", "crash", "recover", "partition", "heal"
EXECUTE, INVOKE, END, LOG = "execute", "invoke", "end", "log"


class Trace:
    __slots__ = ("events",)

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def __len__(self) -> int:
        return len(self.events)

    def add(self, time: float, kind: str, src: Any = None, dst: Any = None, mid: int = -1, info: Any = None) -> int:
        self.events.append((time, kind, src, dst, mid, info))
        return len(self.events) - 1

    def records(self) -> Iterator[dict[str, Any]]:
        for i, (time, kind, src, dst, mid, info) in enumerate(self.events):
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
            yield rec

    def lines(self) -> Iterator[str]:
        for rec in self.records():
            yield json.dumps(rec, sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        h = blake2b(digest_size=16)
        for line in self.lines():
            h.update(line.encode())
            h.update(b"\n")
        return h.hexdigest()

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            for line in self.lines():
                fh.write(line)
                fh.write("\n")


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
    h = blake2b(digest_size=16)
    for line in lines:
        h.update(line.encode())
        h.update(b"\n")
    return h.hexdigest()
