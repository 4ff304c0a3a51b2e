"""A world: one scenario's network, hosts, clients and fault schedule on SimPy.

``World(scenario).run()`` carries the scenario out and leaves a
:class:`~paxsim.history.History` and (optionally) a trace. It is the one place
that turns scenario data into SimPy objects.
"""

from __future__ import annotations

import gc
from typing import Optional

import simpy
from simpy.events import Timeout

from ..history import FinalWorld, History
from ..protocols import load_protocol
from ..scenario import Scenario
from . import trace as T
from .clients import Client, ClientMetrics
from .host import Host
from .network import Link, Network, Pattern, Targeted, make_delay
from .rng import LazyStream


SELF_DELAY = {"dist": "constant", "value": 0.0}
"""A server's link to itself delivers at once."""


class World:
    def __init__(self, scenario: Scenario, *, record_trace: bool = True, stream: bool = False):
        self.scenario = sc = scenario
        self.env = env = simpy.Environment()
        self.trace: Optional[T.Trace] = T.Trace() if record_trace else None
        if stream:  # judge records as they come and keep none (paxsim.streaming)
            from ..checker.stream import StreamChecker

            self.history = History.streaming(StreamChecker())
        else:
            self.history = History()
        self.net = net = self.make_network()
        self.client_metrics = ClientMetrics()
        self.protocol = proto = load_protocol(sc.protocol)
        params = dict(sc.params)
        servers = sc.servers
        self.hosts: dict[str, Host] = {}
        for pid in servers:
            host = Host(env, net, self.history, self.trace, pid,
                        lambda pid=pid: proto(pid, servers, params))
            self.hosts[pid] = host
            net.add_node(host)
        self.clients: list[Client] = []
        for c in sc.clients:
            mode = c.mode or proto.client_mode
            targets = c.servers or servers
            client = Client(env, net, self.history, self.trace, c.name, c.requests, targets, mode, c.retry,
                            self.client_metrics)
            self.clients.append(client)
            net.add_node(client)
        net.crash = self._crash
        net.fire = self._fire
        self._build_links()
        self._last_targeted: Optional[Targeted] = None
        for f in sc.faults:
            self._schedule_fault(f)

    # ---- construction ---------------------------------------------------------------
    def make_network(self) -> Network:
        """The network the hosts and clients talk through (a replay has its own)."""
        return Network(self.env, self.trace)

    def _build_links(self) -> None:
        """One link per ordered pair of processes (a server's link to itself too): the
        network's delay, loss, duplication and FIFO order, later overrides winning."""
        sc = self.scenario
        net = sc.network
        procs = sc.processes
        servers = frozenset(sc.servers)
        seed = sc.seed
        base = (net.delay, net.loss, net.duplicate, net.fifo)
        overrides = [(frozenset(l.src), frozenset(l.dst), l) for l in net.links]
        set_link = self.net.set_link
        for a in procs:
            for b in procs:
                if a == b and a not in servers:
                    continue
                delay, loss, dup, fifo = base
                for src, dst, l in overrides:  # later overrides win
                    if (not src or a in src) and (not dst or b in dst):
                        delay = l.delay if l.delay is not None else delay
                        loss = l.loss if l.loss is not None else loss
                        dup = l.duplicate if l.duplicate is not None else dup
                        fifo = l.fifo if l.fifo is not None else fifo
                if a == b:
                    delay, loss, dup = SELF_DELAY, 0.0, 0.0
                set_link(a, b, Link(make_delay(delay, LazyStream(seed, "link", a, b, "delay")), loss, dup, fifo,
                                    LazyStream(seed, "link", a, b, "loss"), LazyStream(seed, "link", a, b, "dup")))

    def _at(self, t: float, fn) -> None:
        Timeout(self.env, t, fn).callbacks.append(lambda ev: ev._value())

    def _schedule_fault(self, f) -> None:
        if f.kind == "crash":
            self._at(f.at, lambda: self._crash(f.target))
        elif f.kind == "recover":
            self._at(f.at, lambda: self.hosts[f.target].recover())
        elif f.kind == "partition":
            handle: list[int] = []  # this partition's own lifetime: its until ends it alone
            self._at(f.at, lambda: handle.append(self.net.partition(f.groups)))
            if f.until is not None:
                self._at(f.until, lambda: self.net.heal(handle[0]))
        elif f.kind == "heal":
            self._at(f.at, self.net.heal)
        else:
            m = f.match or {}
            pat = Pattern(m.get("type"), m.get("from"), m.get("to"), m.get("request"))
            t = Targeted(pat, f.nth, f.kind, f.by, lasting=f.lasting, until_sends=f.until_sends,
                         after=self._last_targeted if f.chained else None)
            self._last_targeted = t
            self.net.add_targeted(t)

    def _fire(self, pid: str, t: Targeted) -> None:
        """A targeted fault hit: crash ``pid`` (or cut it off from the other servers),
        undone ``t.lasting`` later if set; an isolation with ``until_sends`` ends instead
        as ``pid`` sends a message of that kind, the first one ``t.lasting`` (or 0) later."""
        if t.action.startswith("isolate"):
            handle = self.net.partition(((pid,), tuple(s for s in self.scenario.servers if s != pid)))
            undo = lambda: self.net.heal(handle)   # this isolation only, not the other partitions
            if t.until_sends is not None:
                self.net.rejoin.append((pid, t.until_sends, self.env.now + (t.lasting or 0.0), undo))
                return
        else:
            self._crash(pid)
            undo = self.hosts[pid].recover if pid in self.hosts else None
        if t.lasting is not None and undo is not None:
            self._at(t.lasting, undo)

    def _crash(self, pid: str) -> None:
        host = self.hosts.get(pid)
        if host is not None:
            host.crash()

    def dispose(self) -> None:
        """Let go of a world that has run and been looked at: it can no longer run,
        but it is freed at once, by reference counting. A search that runs thousands
        of worlds a second spends noticeably less time collecting garbage."""
        self.net.dispose()

    # ---- running --------------------------------------------------------------------
    def run(self, until: Optional[float] = None) -> History:
        """Run to ``until`` (or the scenario's ``until``); by default, run past the
        last scheduled request or fault until nothing has completed for ``settle``."""
        sc = self.scenario
        for pid in sc.servers:
            self.hosts[pid].start()
        for c in self.clients:
            c.start()
        if until is None and sc.until is not None:
            until = sc.until
        # A run allocates many short-lived objects and almost no reference cycles:
        # collect the young generation less often while it runs (restored after).
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
        try:
            self._run(until)
        finally:
            gc.set_threshold(*thresholds)
        end = self.env.now
        self.client_metrics.close(end)
        if self.trace is not None:
            self.trace.add(end, T.END)
        self.history.final = self._final(end)
        return self.history

    def _final(self, end: float) -> FinalWorld:
        """The world at the end, for the liveness rule (see paxsim.checker.core)."""
        sc = self.scenario
        net = self.net
        procs = sc.processes
        cut = frozenset((a, b) for a in procs for b in procs if a != b and (
            not net.connected(a, b) or net.links[(a, b)].loss >= 1.0))
        last_fault = max(net.last_fault_time, net.last_targeted)
        contacts, tries, loss = {}, {}, {}
        for c in self.clients:
            contacts[c.pid] = c.targets
            if c.current is not None and c.invoked:  # sends strictly after the last fault, if any
                tries[c.pid] = (c.current.id, c.tries_since(last_fault) if last_fault else len(c.sends))
            pairs = [(c.pid, s) for s in c.targets] + [(s, c.pid) for s in c.targets]
            pairs += [(s, t) for s in sc.servers for t in sc.servers if s != t]
            loss[c.pid] = max((net.links[p].loss for p in pairs if p not in cut), default=0.0)
        server_pairs = [(s, t) for s in sc.servers for t in sc.servers if s != t and (s, t) not in cut]
        return FinalWorld(
            end_time=end,
            servers=sc.servers,
            up=tuple(s for s in sc.servers if self.hosts[s].up),
            quorum=self.protocol.quorum(len(sc.servers)),
            settled=end - net.last_fault_time >= sc.settle * 0.999,
            catch_up=self.protocol.catch_up,
            cut=cut,
            contacts=contacts,
            tries=tries,
            loss=loss,
            last_fault=last_fault,
            server_loss=max((net.links[p].loss for p in server_pairs), default=0.0),
            round_trip=2 * max((_mean_delay(net.links[p]) for p in server_pairs), default=0.0),
        )

    def _run(self, until: Optional[float]) -> None:
        sc = self.scenario
        if until is not None:
            if until <= self.env.now:
                self.env.run(until=until)  # SimPy's own error
            self.net.run(until=until)
        else:
            stop = self.env.event()
            settle = sc.settle
            metrics = self.client_metrics

            def watchdog(ev) -> None:
                quiet_since = max(metrics.last_completion, self.net.last_fault_time)
                if self.env.now >= quiet_since + settle * 0.999:
                    stop.succeed()
                else:
                    Timeout(self.env, quiet_since + settle - self.env.now).callbacks.append(watchdog)

            Timeout(self.env, sc.end_time()).callbacks.append(watchdog)
            self.net.run(stop=stop)
            watchdog = None  # noqa: F841  (its own closure cell: no cycle keeps the world alive)


def _mean_delay(link: Link) -> float:
    """The mean of a link's delay distribution (constant, uniform or exponential)."""
    kind, a, b, _rand = link.delay.inline
    return a if kind == 0 else a + b / 2 if kind == 1 else a + 1.0 / b
