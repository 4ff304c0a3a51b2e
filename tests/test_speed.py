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


def test_trace_lines_are_json_dumps_of_each_record_byte_for_byte():
    """The fast encoder of Trace.lines writes what json.dumps(record, sort_keys=True)
    writes, for every event of the golden runs (figures, random schedules)."""
    import json

    from paxsim.driver import run_scenario
    from tests.trace_golden import cases

    n = 0
    for name, sc in cases():
        trace = run_scenario(sc).trace
        ref = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in trace.records()]
        assert list(trace.lines()) == ref, name
        n += len(ref)
    assert n > 10_000


def test_a_label_with_braces_or_a_clashing_field_is_encoded_as_json_dumps_would():
    import json
    from dataclasses import dataclass
    from typing import ClassVar

    from paxsim.sim.trace import Trace
    from paxsim.types import Message

    @dataclass(frozen=True)
    class Odd(Message):
        kind: ClassVar[str] = "O{0}%sD"
        x: object = None

        def label(self) -> str:
            return "{1} <é> }{ %s %%"

        def fields(self) -> dict:
            return {"x": self.x, "a": {"z": 1, "b": [1.5, None]}}

    @dataclass(frozen=True)
    class Clash(Message):
        kind: ClassVar[str] = "C"

        def fields(self) -> dict:
            return {"src": "spoofed", "mid": 99}

    t = Trace()
    t.events += [(0, "send", "A", "B", 0, Odd("{q}")), (0.1 + 0.2, "deliver", "A", "B", 0, Odd("{q}")),
                 (1.0, "send", "B", "A", 1, Clash()), (float("inf"), "send", "B", "A", 2, Odd(3))]
    t.add(2.5, "timer", "A", info={"timer": "hb"})
    t.add(3, "send", "A%s", "B", 3, Odd(1))
    assert list(t.lines()) == [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in t.records()]


def test_run_json_keeps_no_trace_unless_a_digest_or_a_file_is_asked_for(tmp_path, capsys):
    import json

    from paxsim.cli import main
    from paxsim.sim.trace import digest_lines

    fig = "scenarios/fig05.toml"
    assert main(["run", fig, "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["trace_digest"] is None
    assert main(["run", fig, "--json", "--digest"]) == 0
    asked = json.loads(capsys.readouterr().out)
    out = tmp_path / "t.jsonl"
    assert main(["run", fig, "--json", "--trace", str(out)]) == 0
    written = json.loads(capsys.readouterr().out)
    assert asked["trace_digest"] == written["trace_digest"] == digest_lines(out.read_text().splitlines())
    assert plain["outcome"] == asked["outcome"] and len(plain["violations"]) == len(asked["violations"])


def test_digest_is_not_computed_twice_and_follows_new_events(tmp_path):
    from paxsim.sim.trace import Trace

    t = Trace()
    t.add(0.0, "timer", "S1", info={"timer": "hb"})
    d1 = t.write(str(tmp_path / "a.jsonl"))
    t.events[0] = (0.0, "timer", "S2", None, -1, {"timer": "hb"})  # same length: the digest of the write stands
    assert t.digest() == d1
    t.events[0] = (0.0, "timer", "S1", None, -1, {"timer": "hb"})
    t.add(1.0, "crash", "S1")
    assert t.digest() != d1  # a cached digest is only reused for the same events


def test_bench_reports_the_ratio_spread_world_construction_and_run_json_against_stream():
    from paxsim.bench import measure, run_json_vs_stream

    r = measure("paxos", 3, 2, 30, repeat=2)
    sp = r["ratio_spread"]
    assert 0 < sp["min"] <= sp["median"] <= sp["max"] and r["world_ms"] > 0
    assert sp["min"] <= r["ratio"] * 1.0001  # best over best is at least the worst pair
    p = run_json_vs_stream("paxos", 3, 2, 20, repeat=1)
    assert set(p["seconds"]) == {"json", "digest", "stream"} and min(p["seconds"].values()) > 0
    assert p["requests"] == 40 and p["json_over_stream"] > 0 and set(p["json_over_stream_spread"]) == {
        "min", "median", "max"}


def simpy_run(net, until=float("inf"), stop=None):
    """The queue carried out by SimPy's own ``env.run`` (its stop at ``until`` or
    ``stop``, its ``env.step`` for every event), only the messages and the hosts'
    timers, which are no SimPy events, handed to ``Network.deliver`` and the host
    as they come up: the reference that ``Network.run`` (its own loop, the common
    delivery inlined) must match."""
    from heapq import heappop

    from paxsim.sim.network import MESSAGE_ENTRY, TIMER_ENTRY

    env = net.env
    step = env.step

    def step_or_deliver():
        queue = env._queue
        if queue and len(queue[0]) in (MESSAGE_ENTRY, TIMER_ENTRY):
            item = heappop(queue)
            env._now = item[0]
            if len(item) == MESSAGE_ENTRY:
                net.deliver(item[3:])
            else:
                item[3].fire(item[4], item[5])
        else:
            step()

    env.step = step_or_deliver
    try:
        env.run(until=stop if stop is not None else until)
    finally:
        del env.step


def test_the_network_loop_runs_events_in_simpys_own_order(monkeypatch):
    """Network.run against SimPy's env.run on the same worlds: the same trace, the
    same exact end time, with a trace and without (figures with a fixed end time,
    with targeted faults, and random schedules with loss, copies and crashes)."""
    from paxsim.driver import run_scenario
    from paxsim.sim.network import Network
    from tests.trace_golden import cases

    picked = [sc for name, sc in cases() if name in ("fig03", "fig09a", "fig11", "fig12b")
              or name.startswith("random-paxos-n5") or name.startswith("random-uncoordinated")]
    assert len(picked) >= 14
    ours = [(run_scenario(sc).trace.digest(), run_scenario(sc, record_trace=False).world.env.now) for sc in picked]
    monkeypatch.setattr(Network, "run", simpy_run)
    theirs = [(run_scenario(sc).trace.digest(), run_scenario(sc, record_trace=False).world.env.now) for sc in picked]
    assert ours == theirs


def test_the_network_loop_stops_before_what_is_due_at_until_as_simpy_does():
    import simpy

    from paxsim.sim.network import Link, Network, make_delay
    from paxsim.sim.rng import stream
    from paxsim.types import Heartbeat

    def world():
        env = simpy.Environment()
        net = Network(env, None)
        got = []

        class Sink:
            up, replica = True, None

            def __init__(self, pid):
                self.pid = pid

            def receive(self, src, msg):
                got.append((env.now, msg.upto))

        for p in ("A", "B"):
            net.add_node(Sink(p))
        net.set_link("A", "B", Link(make_delay({"dist": "constant", "value": 5.0}, stream(1, "d")), 0.0, 0.0,
                                    True, stream(1, "l"), stream(1, "u")))
        fired = []
        net.later(2.0, lambda ev: fired.append((env.now, ev._value)), "t")
        net.send("A", "B", Heartbeat(upto=1))  # due at exactly 5.0
        return env, net, got, fired

    env, net, got, fired = world()
    net.run(until=5.0)
    assert (env.now, got, fired) == (5.0, [], [(2.0, "t")])  # the delivery due at 5 waits
    net.run(until=6.0)
    assert (env.now, got) == (6.0, [(5.0, 1)])
    env2, net2, got2, fired2 = world()
    simpy_run(net2, until=5.0)  # SimPy itself, on the same events
    assert (env2.now, got2, fired2) == (5.0, [], [(2.0, "t")])
    simpy_run(net2, until=6.0)
    assert got2 == [(5.0, 1)]


def test_replies_below_a_checkpoint_are_the_main_chains_own_nodes(monkeypatch):
    # Paxos compacting its log every 10 slots: the main chain, continued below each
    # snapshot node with the first reply's state there, is made of the nodes the
    # replies hold, so no reply needs the exact walk (OnChain) to be placed on it
    # (continued with the first execution's state, a follower's, 190 of 200 did).
    from paxsim.checker import check
    from paxsim.checker.core import OnChain

    spec = workload("paxos", 3, 2, 100, params={"compact": 10})
    history = World(from_dict(spec, source="<test>", name="test"), record_trace=False).run()
    walks = []
    real = OnChain.__call__
    monkeypatch.setattr(OnChain, "__call__", lambda self, state: walks.append(state) or real(self, state))
    assert check(history).outcome == "SAFE"
    assert len(history.replies) == 200 and not walks


def test_replicas_that_agree_share_one_state_node_per_position():
    # Five replicas executing the same requests in the same order: one node per
    # position (then), also across checkpoints every 3 slots (trimmed(1)); a
    # node per replica and position (5 x 120) without the sharing.
    spec = workload("paxos", 5, 2, 60, params={"compact": 3})
    history = World(from_dict(spec, source="<test>", name="test"), record_trace=False).run()
    positions = {e.state.length for e in history.executions}
    assert len(positions) == 120 and len(history.executions) == 600
    assert len({id(e.state) for e in history.executions}) == 120


def test_a_shared_state_node_is_the_node_then_would_make():
    import copy
    import pickle
    import weakref

    from paxsim.types import EMPTY, Request, State, chain_digest

    r1, r2 = Request("m1", "C1", 1), Request("m2", "C1", 2)
    a = EMPTY.then(r1)
    assert EMPTY.then(r1) is a  # the same request object in the same state: the same node
    fresh = State(1, chain_digest(0, r1.key), r1, EMPTY)
    assert (a.length, a.digest, a.request, a.parent) == (fresh.length, fresh.digest, r1, EMPTY) and a == fresh
    b = EMPTY.then(r2)  # another request: its own node, never the one made for r1
    assert b.request is r2 and b != a
    c = EMPTY.then(Request("m1", "C1", 1))  # an equal request, another object: an equal node
    assert c == a and c.request is not r1
    x = a.then(r2).then(Request("m3", "C2", 1))
    assert x.trimmed(1) is x.trimmed(1) and x.trimmed(1) == x and x.trimmed(2) == x
    assert x.trimmed(1).parent.request is None and x.trimmed(2).parent.parent.request is None
    for clone in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x), copy.copy(x)):
        assert clone == x and clone._made is None
    assert not hasattr(State, "__post_init__")  # then() stores the fields without calling State(...)
    made = weakref.ref(State(5, 7).then(r1))
    assert made() is None  # the cache holds its node weakly: gone with its last holder
