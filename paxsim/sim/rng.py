"""Independent, named random streams derived from one seed.

``stream(seed, "link", "S1", "S2", "delay")`` always gives the same generator for
the same names, in any process and under any PYTHONHASHSEED (the derivation uses
blake2b, never Python's ``hash``). Each link and purpose has its own stream, so
adding a fault or a process does not reshuffle every other delay.
"""

from __future__ import annotations

import random
from hashlib import blake2b


def derive(seed: int, *names: object) -> int:
    text = repr((int(seed),) + tuple(str(n) for n in names)).encode()
    return int.from_bytes(blake2b(text, digest_size=8).digest(), "big")


def stream(seed: int, *names: object) -> random.Random:
    return random.Random(derive(seed, *names))
