"""The network model does what the scenario says: loss, duplication, delays,
FIFO, partitions, crashes and targeted faults, measured over many seeded messages."""

from __future__ import annotations

import simpy
import pytest

from paxsim.sim.network import Link, Network, Pattern, Targeted, make_delay
from paxsim.sim.rng import stream
from paxsim.sim.trace import Trace
from paxsim.types import Heartbeat, Message


class Sink:
    def __init__(self, pid):
        self.pid = pid
        self.up = True
        self.replica = None
        self.got: list[tuple[float, str, Message]] = []
        self.env = None

    def receive(self, src, msg):
        self.got.append((self.env.now, src, msg))


def make(loss=0.0, dup=0.0, fifo=True, delay=None, seed=1):
    env = simpy.Environment()
    trace = Trace()
    net = Network(env, trace)
    a, b = Sink("A"), Sink("B")
    for s in (a, b):
        s.env = env
        net.add_node(s)
    spec = delay or {"dist": "constant", "value": 1.0}
    for x, y in (("A", "B"), ("B", "A")):
        net.set_link(x, y, Link(make_delay(spec, stream(seed, x, y, "d")), loss, dup, fifo,
                                stream(seed, x, y, "l"), stream(seed, x, y, "u")))
    return env, net, a, b, trace


def blast(env, net, n, gap=0.0):
    for i in range(n):
        env.process(_send_at(env, net, i * gap, Heartbeat(upto=i))) if gap else net.send("A", "B", Heartbeat(upto=i))
    net.run()


def _send_at(env, net, t, msg):
    yield env.timeout(t)
    net.send("A", "B", msg)


def test_loss_probability_is_respected_over_many_messages():
    env, net, a, b, _ = make(loss=0.3)
    blast(env, net, 5000)
    lost = 5000 - len(b.got)
    assert 0.27 * 5000 < lost < 0.33 * 5000
    assert net.dropped["HB"] == lost


def test_no_loss_delivers_everything_exactly_once():
    env, net, a, b, _ = make()
    blast(env, net, 1000)
    assert sorted(m.upto for _, _, m in b.got) == list(range(1000))


def test_duplication_probability_is_respected():
    env, net, a, b, _ = make(dup=0.2)
    blast(env, net, 5000)
    dups = len(b.got) - 5000
    assert 0.17 * 5000 < dups < 0.23 * 5000
    assert net.duplicated["HB"] == dups


def test_uniform_delays_lie_in_range_and_vary():
    env, net, a, b, _ = make(delay={"dist": "uniform", "low": 2.0, "high": 5.0}, fifo=False)
    blast(env, net, 2000)
    times = [t for t, _, _ in b.got]
    assert min(times) >= 2.0 and max(times) <= 5.0
    assert max(times) - min(times) > 2.5


def test_exponential_delays_have_the_given_mean():
    env, net, a, b, _ = make(delay={"dist": "exponential", "mean": 3.0}, fifo=False)
    blast(env, net, 5000)
    mean = sum(t for t, _, _ in b.got) / len(b.got)
    assert 2.8 < mean < 3.2


def test_fifo_link_never_reorders_and_reordering_link_does():
    for fifo, expect_sorted in ((True, True), (False, False)):
        env, net, a, b, _ = make(delay={"dist": "uniform", "low": 0.1, "high": 10.0}, fifo=fifo)
        blast(env, net, 300, gap=0.5)
        order = [m.upto for _, _, m in b.got]
        assert (order == sorted(order)) is expect_sorted


def test_partition_drops_across_groups_and_heal_restores():
    env, net, a, b, trace = make()
    net.partition((("A",), ("B",)))
    net.send("A", "B", Heartbeat(upto=1))
    net.run()
    assert b.got == [] and net.dropped["HB"] == 1
    net.heal()
    net.send("A", "B", Heartbeat(upto=2))
    net.run()
    assert [m.upto for _, _, m in b.got] == [2]
    kinds = [e[1] for e in trace.events]
    assert "partition" in kinds and "heal" in kinds


def test_message_in_flight_when_partition_starts_is_lost():
    env, net, a, b, _ = make(delay={"dist": "constant", "value": 5.0})
    net.send("A", "B", Heartbeat(upto=1))
    net.run(until=1.0)
    net.partition((("A",), ("B",)))
    net.run()
    assert b.got == []


def test_process_outside_every_group_reaches_everyone():
    env, net, a, b, _ = make()
    net.partition((("A",), ("X",)))
    net.send("A", "B", Heartbeat(upto=1))
    net.run()
    assert len(b.got) == 1


def test_message_to_a_crashed_process_is_dropped():
    env, net, a, b, trace = make()
    b.up = False
    net.send("A", "B", Heartbeat(upto=1))
    net.run()
    assert b.got == []
    assert any(e[1] == "drop" and e[5]["reason"] == "crashed" for e in trace.events)


def test_targeted_drop_hits_exactly_the_nth_match():
    env, net, a, b, _ = make()
    net.add_targeted(Targeted(Pattern(type="HB", src="A", dst="B"), 3, "drop"))
    blast(env, net, 6)
    assert sorted(m.upto for _, _, m in b.got) == [0, 1, 3, 4, 5]


def test_targeted_delay_adds_to_the_delay():
    env, net, a, b, _ = make(fifo=False)
    net.add_targeted(Targeted(Pattern(type="HB"), 1, "delay", by=4.0))
    blast(env, net, 2)
    times = {m.upto: t for t, _, m in b.got}
    assert times == {0: 5.0, 1: 1.0}


def test_crash_after_send_crashes_the_sender_after_the_message_left():
    env, net, a, b, _ = make()
    crashed = []
    net.crash = crashed.append
    net.add_targeted(Targeted(Pattern(type="HB", src="A"), 2, "crash_after_send"))
    blast(env, net, 3)
    assert crashed == ["A"]
    assert len(b.got) == 3  # the matching message itself was sent


def test_crash_after_receive_crashes_the_receiver():
    env, net, a, b, _ = make()
    crashed = []
    net.crash = crashed.append
    net.add_targeted(Targeted(Pattern(type="HB", dst="B"), 1, "crash_after_receive"))
    blast(env, net, 2)
    assert crashed == ["B"]


def test_per_link_streams_are_independent():
    """Changing the loss on one link must not change the delays on another."""
    env1, net1, *_ = make(delay={"dist": "uniform", "low": 0.0, "high": 9.0}, seed=3)
    env2, net2, *_ = make(delay={"dist": "uniform", "low": 0.0, "high": 9.0}, seed=3)
    net2.links[("B", "A")].loss = 0.5
    d1 = [net1.links[("A", "B")].delay() for _ in range(50)]
    d2 = [net2.links[("A", "B")].delay() for _ in range(50)]
    assert d1 == d2


def test_unknown_delay_distribution_is_refused():
    with pytest.raises(ValueError):
        make_delay({"dist": "pareto"}, stream(1, "x"))


def test_fifo_link_holds_later_messages_behind_a_delayed_one():
    env, net, a, b, _ = make(fifo=True)
    net.add_targeted(Targeted(Pattern(type="HB"), 1, "delay", by=4.0))
    blast(env, net, 2)
    assert [(t, m.upto) for t, _, m in b.got] == [(5.0, 0), (5.0, 1)]


def test_delivered_counts_equal_the_messages_that_arrived_with_loss_dup_and_in_flight():
    env, net, a, b, _ = make(loss=0.2, dup=0.3, delay={"dist": "uniform", "low": 1.0, "high": 9.0}, fifo=False)
    for i in range(2000):
        net.send("A", "B", Heartbeat(upto=i))
    net.run(until=5.0)  # some still in flight
    assert 0 < len(b.got) < 2000
    assert net.delivered == {"HB": len(b.got)}
    net.run()
    assert net.delivered == {"HB": len(b.got)}
    assert len(b.got) == 2000 - net.dropped["HB"] + net.duplicated["HB"]


def test_delivered_counts_messages_lost_to_a_crash_as_dropped():
    env, net, a, b, _ = make()
    for i in range(10):
        net.send("A", "B", Heartbeat(upto=i))
    b.up = False
    net.run()
    assert net.delivered == {} and net.dropped["HB"] == 10
