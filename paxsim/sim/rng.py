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


class LazyStream:
    """``stream(seed, *names)``, made on its first draw: the same generator, so the
    same draws, as if made at once. A world names three streams per link (delay,
    loss, duplication) and draws from few: a link without loss never draws for
    loss, and most worlds never use some links. After the first draw, ``random``
    and ``expovariate`` are the generator's own (no indirection left)."""

    def __init__(self, seed: int, *names: object):
        self.names = (seed,) + names
        self.rng: random.Random | None = None

    def get(self) -> random.Random:
        rng = self.rng
        if rng is None:
            rng = self.rng = stream(*self.names)
            self.random = rng.random  # shadows the methods below from now on
            self.expovariate = rng.expovariate
        return rng

    def random(self) -> float:
        return self.get().random()

    def expovariate(self, lambd: float) -> float:
        return self.get().expovariate(lambd)
