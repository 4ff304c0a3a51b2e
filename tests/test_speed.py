"""The speed work keeps every run as it was: lazy random streams draw what eager
ones drew, the network's own event loop keeps SimPy's order, and ``run --json``
pays for a trace only when one is asked for."""

from __future__ import annotations

from paxsim.bench import workload
from paxsim.scenario import from_dict
from paxsim.sim.rng import LazyStream, stream
from paxsim.sim.world import World


def test_a_lazy_stream_draws_what_the_stream_draws():
    eager = stream(7, "link", "S1", "S2", "delay")
    lazy = LazyStream(7, "link", "S1", "S2", "delay")
    early = lazy.random  # taken before the first draw, as a delay sampler does
    assert lazy.rng is None
    got = [early(), lazy.random(), early(), lazy.expovariate(2.0), lazy.random()]
    assert got == [eager.random(), eager.random(), eager.random(), eager.expovariate(2.0), eager.random()]


def test_a_world_makes_only_the_streams_it_draws_from():
    w = World(from_dict(workload("paxos", 5, 4, 3), source="<test>", name="t"), record_trace=False)
    links = list(w.net.links.values())
    assert all(l.loss_rng.rng is None and l.dup_rng.rng is None for l in links)
    assert all(l.lazy_rand.__self__.rng is None for l in links if l.dist == 1)
    w.run()
    used = [l for l in links if l.dist == 1 and l.lazy_rand.__self__.rng is not None]
    assert 0 < len(used) < len(links)  # clients never send to each other
    assert all(l.loss_rng.rng is None for l in links)  # no loss: never drawn
