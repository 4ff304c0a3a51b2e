"""A host's timers are flat entries on the queue (``Network.timer``) that fire only
while they are the live setting of their name: not once reset, cancelled, or set
before a crash (a crash clears the timers and generations only grow)."""

from __future__ import annotations

import simpy

from paxsim.history import History
from paxsim.sim.host import Host
from paxsim.sim.network import Network
from paxsim.types import CancelTimer, SetTimer


class Ticker:
    """Sets the timers it is told to on start and recovery, logs what fires."""

    def __init__(self, log: list, plan: list) -> None:
        self.log = log
        self.plan = plan

    def on_start(self, now):
        return list(self.plan)

    def on_recover(self, now, stored):
        return list(self.plan)

    def on_timer(self, now, name):
        self.log.append((now, name))
        return []

    def on_message(self, now, src, msg):
        return []


def host_with(plan: list) -> tuple[simpy.Environment, Network, Host, list]:
    env = simpy.Environment()
    net = Network(env, None)
    log: list = []
    host = Host(env, net, History(), None, "S1", lambda: Ticker(log, plan))
    net.add_node(host)
    host.start()
    return env, net, host, log


def test_a_timer_fires_once_at_its_time():
    env, net, host, log = host_with([SetTimer("a", 2.0), SetTimer("b", 1.0)])
    net.run()
    assert log == [(1.0, "b"), (2.0, "a")]
    assert host.timers == {}


def test_a_reset_timer_fires_only_at_its_new_time_and_a_cancelled_one_never():
    env, net, host, log = host_with([SetTimer("a", 5.0), SetTimer("b", 1.0), SetTimer("c", 1.0)])
    net.timer(0.0, host, "none", 99)  # a generation never set: ignored
    net.run(until=0.5)
    # at 0.5: a is due at 1.5 instead of 5, c at 3 instead of 1, b never
    host.apply([SetTimer("a", 1.0), CancelTimer("b"), SetTimer("c", 2.5)])
    net.run()
    assert log == [(1.5, "a"), (3.0, "c")]


def test_a_timer_set_before_a_crash_never_fires_after_the_recovery():
    env, net, host, log = host_with([SetTimer("a", 3.0)])
    net.run(until=1.0)
    host.crash()
    net.run(until=2.0)
    host.recover()  # sets "a" again, due at 5: the entry due at 3 is from before the crash
    net.run()
    assert log == [(5.0, "a")]
    env2, net2, h2, log2 = host_with([SetTimer("a", 3.0)])
    net2.run(until=1.0)
    h2.crash()
    h2.factory = lambda: Ticker(log2, [])  # recovers without setting any timer
    h2.recover()
    net2.run()
    assert log2 == []
