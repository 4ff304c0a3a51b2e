"""``paxsim check``: exhaustive bounded search over the protocols' own replicas.

Claims tested here, each able to fail:
- the state counts of small spaces, computed by hand;
- breadth-first search returns a shortest counterexample;
- a counterexample written as a scenario replays in the simulator to the same
  violation (so the diagrams and traces are the simulator's own);
- the same bounds give the same counts and the same counterexample, in another
  process and under another PYTHONHASHSEED;
- the reductions are exact: with them the search reaches the same verdicts and
  counterexamples as without;
- bad input is refused with one line and exit code 2, before anything runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib

import pytest

from paxsim.cli import main as cli
from paxsim.driver import run_scenario
from paxsim.explore import Bounds, Setup, explore
from paxsim.explore.counterexample import scenario_dict
from paxsim.protocols import load_protocol
from paxsim.scenario import ScenarioError, from_dict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NONE = dict(drops=0, dups=0, crashes=0, recoveries=0, timeouts=0)


def setup(protocol: str, servers: int = 1, clients: int = 1, requests: int = 1, params=None, retry=0.0, mode=None):
    proto = load_protocol(protocol)
    names = tuple(f"S{i}" for i in range(1, servers + 1))
    return Setup(proto, names, tuple(f"C{i}" for i in range(1, clients + 1)), requests,
                 proto.check_params(params or {}, servers), retry=retry, mode=mode or proto.client_mode)


# ---------------------------------------------------------------- hand-counted spaces ---

@pytest.mark.parametrize("bounds, states", [
    # one request to one server: in flight, executed (reply in flight), reply seen
    (NONE, 3),
    # ... and either message may be lost instead: two more
    ({**NONE, "drops": 1}, 5),
    # a crash: before the request arrives (it is then lost there: not a new state),
    # with the reply in flight (the reply still arrives), after the reply: the two
    # crashed ends are one state
    ({**NONE, "crashes": 1}, 6),
    # ... and a recovery from each of the three crashed states, then what follows
    ({**NONE, "crashes": 1, "recoveries": 1}, 11),
])
def test_single_server_one_request_state_counts(bounds, states):
    out = explore(setup("single_server"), Bounds(**bounds))
    assert out.outcome == "SAFE" and out.complete
    assert out.stats.states == states


def test_single_server_two_clients_counts_every_order_and_every_reply():
    # executions () ; (m1) or (m2) with its reply in flight or seen ; (m1 m2) or
    # (m2 m1) with each of the two replies in flight or seen: 1 + 2 + 2 + 4 + 4
    out = explore(setup("single_server", clients=2), Bounds(**NONE))
    assert out.complete and out.stats.states == 13


def test_closed_loop_client_sends_its_next_request_on_the_reply():
    out = explore(setup("single_server", requests=2), Bounds(**NONE))
    assert out.complete and out.stats.states == 5


# ------------------------------------------------------------------ shortest paths ---

RETRANS = dict(protocol="retrans_accept_fallback", servers=2, clients=2, params={"suspect": 1.0})


def test_bfs_finds_a_shortest_counterexample():
    sp = setup(**RETRANS)
    bounds = Bounds(**{**NONE, "timeouts": 2})
    found = explore(sp, bounds)
    assert found.outcome == "UNSAFE"
    n = len(found.path)
    # nothing shorter exists: the space cut one step earlier is complete and safe
    shorter = explore(sp, Bounds(**{**NONE, "timeouts": 2, "depth": n - 1}))
    assert shorter.outcome == "SAFE" and shorter.complete and shorter.stats.depth_cut > 0
    deep = explore(sp, bounds, strategy="dfs")
    assert deep.outcome == "UNSAFE" and len(deep.path) >= n


# ---------------------------------------------------------------------- replaying ---

STAGES = [
    # protocol, servers, clients, params, bounds: the smallest that break each stage
    ("uncoordinated", 2, 2, {}, {}),
    ("retrans_accept_fallback", 2, 2, {"suspect": 1.0}, {"timeouts": 2}),
    ("wait_for_learn_fallback", 2, 2, {"suspect": 1.0}, {"timeouts": 2}),
]


@pytest.mark.parametrize("protocol, servers, clients, params, extra", STAGES)
def test_counterexample_replays_in_the_simulator_to_the_same_violation(protocol, servers, clients, params, extra):
    sp = setup(protocol, servers, clients, params=params)
    found = explore(sp, Bounds(**{**NONE, **extra}))
    assert found.outcome == "UNSAFE"
    d = scenario_dict(sp, found.path, "found by check", protocol)
    result = run_scenario(from_dict(d, "<check>"))
    assert result.outcome == "UNSAFE"
    assert ({v.invariant for v in result.verdict.safety_violations}
            == {v.invariant for v in found.verdict.safety_violations})
    # the replay is the simulator's own: every step of the path is in its trace
    delivered = [e for e in result.trace.events if e[1] == "deliver"]
    assert len(delivered) == sum(1 for a in found.path if a.kind == "deliver")


def test_a_schedule_that_does_not_belong_to_the_protocol_is_refused_while_replaying():
    from paxsim.sim.replay import ReplayError

    sp = setup("uncoordinated", 2, 2)
    found = explore(sp, Bounds(**NONE))
    d = scenario_dict(sp, found.path, "x", "uncoordinated")
    d["schedule"][1]["msg"] = 'REQ {"m":"m9"}'
    with pytest.raises(ReplayError, match="not in flight"):
        run_scenario(from_dict(d, "<check>"))


def test_schedule_is_validated_like_every_other_key():
    sp = setup("uncoordinated", 2, 2)
    d = scenario_dict(sp, explore(sp, Bounds(**NONE)).path, "x", "uncoordinated")
    bad = [
        ({"at": 0.0, "deliver": "C1->S9", "msg": "REQ {}"}, "unknown process 'S9'"),
        ({"at": -1.0, "crash": "S1"}, "finite time"),
        ({"at": 0.0, "crash": "S1", "recover": "S1"}, "exactly one step"),
        ({"at": 0.0, "timer": "S1"}, "name: is required"),
        ({"at": 0.0, "crash": "C1"}, "unknown server"),
    ]
    for step, problem in bad:
        with pytest.raises(ScenarioError, match=problem):
            from_dict({**d, "schedule": [step]}, "f.toml")
    with pytest.raises(ScenarioError, match="time order"):
        from_dict({**d, "schedule": [{"at": 2.0, "crash": "S1"}, {"at": 1.0, "recover": "S1"}]}, "f.toml")


# -------------------------------------------------------------------- exactness ---

def test_reductions_change_no_verdict():
    """Leaving out deliveries that change nothing and judging each summary once
    give the same outcomes and counterexample lengths as the plain search."""
    from paxsim.explore import model

    cases = [(setup("uncoordinated", 2, 2), Bounds(**NONE)),
             (setup(**RETRANS), Bounds(**{**NONE, "timeouts": 2})),
             (setup("paxos", 3, 1), Bounds(**{**NONE, "crashes": 1, "recoveries": 1}))]
    reduced = [explore(sp, b) for sp, b in cases]
    original = model.System.deliver

    def every_delivery(self, st, env):  # deliver, and never say "changes nothing"
        got = original(self, st, env)
        if got is not None:
            return got
        src, dst, msg = self.envs[env]
        new = self._child(st, model.Action("deliver", src=src, dst=dst, msg=msg, time=st.now))
        self._take(new, env)
        return new

    model.System.deliver = every_delivery
    try:
        plain = [explore(sp, b) for sp, b in cases]
    finally:
        model.System.deliver = original
    for r, p in zip(reduced, plain):
        assert r.outcome == p.outcome and r.complete == p.complete
        assert len(r.path) == len(p.path)
        assert r.stats.states <= p.stats.states
    assert reduced[2].stats.states < plain[2].stats.states  # and it does reduce


def test_paxos_small_space_is_complete_and_safe():
    out = explore(setup("paxos", 3, 1), Bounds(**{**NONE, "crashes": 1, "recoveries": 1}))
    assert out.outcome == "SAFE" and out.complete and out.stats.states > 1000


# ------------------------------------------------------------------ determinism ---

def _check_json(tmp_path, seed: str, *argv: str) -> tuple[dict, str]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": ROOT}
    out = tmp_path / f"out{seed}"
    p = subprocess.run([sys.executable, "-m", "paxsim", "check", *argv, "--json", "--out", str(out)],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert p.returncode in (0, 1), p.stderr
    d = json.loads(p.stdout)
    text = (out / os.path.basename(d["counterexample"])).read_text() if d["counterexample"] else ""
    for k in ("seconds", "cpu_seconds", "states_per_s", "counterexample"):
        d.pop(k)
    return d, text


def test_same_bounds_same_counts_and_counterexample_in_any_process(tmp_path):
    argv = ("--protocol", "wait_for_learn_fallback", "--servers", "2", "--max-drops", "0", "--max-crashes", "1",
            "--max-timeouts", "2", "--param", "suspect=1")
    a, ta = _check_json(tmp_path, "1", *argv)
    b, tb = _check_json(tmp_path, "2", *argv)
    assert a == b and ta == tb and a["outcome"] == "UNSAFE" and ta
    safe = ("--protocol", "paxos", "--clients", "1", "--max-drops", "0", "--max-crashes", "1", "--max-timeouts", "0")
    assert _check_json(tmp_path, "3", *safe) == _check_json(tmp_path, "4", *safe)


# --------------------------------------------------------------------- the command ---

def test_check_command_writes_a_scenario_that_paxsim_run_replays(tmp_path, capsys):
    out = tmp_path / "cx"
    rc = cli(["check", "--protocol", "uncoordinated", "--servers", "2", "--max-drops", "0", "--max-crashes", "0",
              "--max-timeouts", "0", "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 1
    assert "UNSAFE: a path of 2 steps" in text and "replayed in the simulator: UNSAFE" in text
    (path,) = list(out.glob("*.toml"))
    page = path.with_suffix(".html").read_text()
    assert page.startswith("<!DOCTYPE html")
    blob = re.search(r'<script id="run" type="application/json">(.*?)</script>', page, re.S).group(1)
    assert sorted(json.loads(blob)["states"]) == ["S1", "S2"]  # the view replays the schedule: replica state too
    assert path.read_text().startswith("# Found by: paxsim check --protocol uncoordinated")
    assert tomllib.loads(path.read_text())["expected"] == "UNSAFE"
    assert cli(["run", str(path), "--events", "0"]) == 0  # outcome matches the expected UNSAFE


def test_first_servers_named_per_client_start_the_search_and_the_replay(tmp_path, capsys):
    # LearnQuorumF (a server executes after f learns) with C1 sending first to S2 and
    # C2 to S1: one start, and the written scenario's clients try their servers in
    # that order (the replay would not break otherwise: the path delivers C1's request to S2)
    rc = cli(["check", "--protocol", "tests.mutants.paxos_mutants:LearnQuorumF", "--clocks", "per-process",
              "--max-timeouts", "2", "--max-drops", "0", "--max-crashes", "0", "--first-server", "S2,S1",
              "--param", "heartbeat=2", "--param", "suspect=3", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert rc == 1 and "first request to S2,S1" in text and "replayed in the simulator: UNSAFE" in text, text
    (path,) = tmp_path.glob("*.toml")
    assert "--first-server S2,S1" in path.read_text().splitlines()[0]
    d = tomllib.loads(path.read_text())
    assert [c["servers"] for c in d["clients"]] == [["S2", "S3", "S1"], ["S1", "S2", "S3"]]
    assert "start" not in text


def test_check_json_reports_the_search(capsys, tmp_path):
    rc = cli(["check", "--protocol", "single_server", "--servers", "1", "--clients", "1", "--max-drops", "1",
              "--max-crashes", "0", "--max-timeouts", "0", "--json", "--out", str(tmp_path)])
    d = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert d["outcome"] == "SAFE" and d["complete"] is True and d["states"] == 5 and d["transitions"] == 4
    assert d["bounds"]["drops"] == 1 and d["bounds"]["partitions"] == 0
    assert d["counterexample"] is None and d["violations"] == []
    assert d["first_server"] == "first"
    for key in ("protocol", "servers", "clients", "requests", "strategy", "max_depth", "seconds", "states_per_s"):
        assert key in d


@pytest.mark.parametrize("argv, problem", [
    (["--protocol", "nope"], "unknown protocol"),
    (["--protocol", "paxos", "--max-drops", "-1"], "--max-drops"),
    (["--protocol", "paxos", "--servers", "0"], "--servers"),
    (["--protocol", "paxos", "--max-depth", "none"], "may never end"),
    (["--protocol", "paxos", "--max-depth", "abc"], "--max-depth"),
    (["--protocol", "paxos", "--budget-seconds", "0"], "--budget-seconds"),
    (["--protocol", "paxos", "--param", "nope=1"], "--param nope"),
    (["--protocol", "paxos", "--param", "suspect"], "KEY=VALUE"),
    (["--protocol", "paxos", "--retry", "nan"], "--retry"),
    (["--protocol", "paxos", "--max-delays", "some"], "--max-delays: must be a whole number or 'any'"),
    (["--protocol", "paxos", "--max-delays", "-1"], "--max-delays"),
    (["--protocol", "paxos", "--first-server", "S1,S9"], "--first-server: 'S9' is not a server"),
    (["--protocol", "paxos", "--first-server", "S1"], "one server per client (2)"),
    (["--protocol", "uncoordinated", "--first-server", "any"], "give --client-mode one"),
    (["--protocol", "paxos", "--client-mode", "all", "--first-server", "S1,S2"], "give --client-mode one"),
    (["--protocol", "paxos", "--max-partitions", "1"], "--max-partitions: a cut loses"),
    (["--protocol", "paxos", "--max-partitions", "-1", "--max-delays", "0"], "--max-partitions"),
])
def test_bad_input_is_one_line_and_exit_2(argv, problem, capsys, tmp_path):
    rc = cli(["check", *argv, "--out", str(tmp_path / "never")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert problem in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "never").exists()


class Ticker(__import__("paxsim").protocols.Replica):
    """Two periodic timers, one every 1 and one every 2 time units; ignores messages."""

    name = "ticker"

    def on_start(self, now):
        from paxsim.types import SetTimer

        return [SetTimer("a", 1.0), SetTimer("b", 2.0)]

    def on_timer(self, now, name):
        from paxsim.types import SetTimer

        return [SetTimer(name, 1.0 if name == "a" else 2.0)]


def test_timers_fire_in_deadline_order_and_time_never_goes_back():
    """Start: a due at 1, b at 2. Only a may fire first (t=1); then a and b are both
    due at 2, in either order: 4 states within two firings, and no path where b fires
    before a has fired at 1."""
    sp = Setup(Ticker, ("S1",), ("C1",), 1, {}, mode="one")
    out = explore(sp, Bounds(**{**NONE, "timeouts": 2}))
    assert out.complete and out.stats.states == 4
    from paxsim.explore.model import System

    system = System(sp, Bounds(**{**NONE, "timeouts": 1}))
    (first,) = [s for s in system.successors(system.initial()) if s.action.kind == "timer"]
    assert first.action.timer == "a" and first.now == 1.0


def test_per_process_clocks_let_one_server_time_out_alone_and_replay_with_its_own_clock():
    """With per-process clocks only the Ticker's own timers order its firings: S2's
    timer a fires twice (S2's clock reaches 2) while S1's clock stays at 0, which one
    clock forbids (S1's a is due at 1 too). The replay gives each process its clock
    back: the schedule's times go back (S2 at 2, then S1 at 1) and every firing is
    carried out at its own deadline."""
    sp = Setup(Ticker, ("S1", "S2"), ("C1",), 1, {}, mode="one")
    local = Bounds(**{**NONE, "timeouts": 3, "clocks": "per-process"})
    from paxsim.explore.model import System

    system = System(sp, local)
    st = system.initial()
    for pid in ("S2", "S2", "S1"):
        (st,) = [s for s in system.successors(st)
                 if s.action.kind == "timer" and s.action.process == pid and s.action.timer == "a"]
    assert [a.time for a in st.path()] == [1.0, 2.0, 1.0]
    one_clock = System(sp, Bounds(**{**NONE, "timeouts": 3}))
    g = one_clock.initial()
    for _ in range(2):
        g = [s for s in one_clock.successors(g) if s.action.process == "S2" and s.action.timer == "a"]
        if not g:
            break
        (g,) = g
    assert g == []  # with one clock S1's a (due at 1) must fire before S2's second a (due at 2)
    d = scenario_dict(sp, st.path(), "x", "tests.test_check:Ticker")
    d["expected"] = "SAFE"
    result = run_scenario(from_dict(d, "<check>"))
    fired = [(e[0], e[2]) for e in result.trace.events if e[1] == "timer"]
    assert fired == [(1.0, "S2"), (2.0, "S2"), (2.0, "S1")]  # drawn at the latest clock so far
    assert explore(sp, local).stats.states > explore(sp, Bounds(**{**NONE, "timeouts": 3})).stats.states


def _paxos_resending_clients():
    """Paxos, 2 clients x 2 requests that resend after 1."""
    return setup("paxos", 3, 2, 2, retry=1.0, mode="one")


def test_with_per_process_clocks_the_history_follows_the_path_and_real_time_is_judged_on_it():
    """C2's resend timer moves its clock to 1; it is answered and invokes m4 at 1;
    m4 is ordered before C1's late m1, and C1 gets <s^341> at its own clock 0. That
    reply came after m4's invocation (the path says so): correct Paxos, no real-time
    violation, in the explorer and in the replay. (Recorded at each process's own
    clock, the reply looked earlier than the invocation it holds: a false UNSAFE.)"""
    from paxsim.explore.model import System

    sp = _paxos_resending_clients()
    system = System(sp, Bounds(drops=0, dups=0, crashes=0, recoveries=0, timeouts=1, delays=2,
                               clocks="per-process"))
    st = system.initial()
    for pick in ["deliver S1->S2", "deliver S1->S3", "hold C1->S1", "hold C2->S1", "deliver", "deliver",
                 "C2 timer"] + ["deliver"] * 28:
        st = next(s for s in system.successors(st) if pick in str(s.action))
    assert str(st.action) == "t=0 deliver S1->C1 <s^341>" and st.records is not None
    h = st.records.history()
    assert [(o.time, o.request.id) for o in h.replies][-1] == (1.0, "m1")
    assert [(i.time, i.request.id) for i in h.invocations][2] == (1.0, "m4")
    from paxsim.checker import check

    assert check(h).outcome == "SAFE", check(h)
    d = scenario_dict(sp, st.path(), "x", "paxos")
    d["expected"] = "SAFE"
    replayed = run_scenario(from_dict(d, "<check>"))
    assert replayed.verdict.outcome == "SAFE" and replayed.history.replies[-1].time == 1.0, replayed.verdict


def test_with_per_process_clocks_record_times_never_go_back_along_any_path():
    from paxsim.explore.model import System

    system = System(_paxos_resending_clients(), Bounds(drops=1, dups=0, crashes=0, recoveries=0, timeouts=1,
                                                       delays=0, clocks="per-process"))
    todo = system.initials()
    seen = {s.key() for s in todo}
    while todo:
        st = todo.pop()
        node, times = st.records, []
        while node is not None:
            times.append(node.record.time)
            node = node.parent
        assert times == sorted(times, reverse=True), st.path()
        for child in system.successors(st):
            if child.key() not in seen:
                seen.add(child.key())
                todo.append(child)
    assert len(seen) > 500


@pytest.mark.parametrize("clocks", ["global", "per-process"])
def test_crashes_after_own_steps_and_recoveries_before_them_change_no_verdict(clocks):
    """Offering a crash only right after the server's own step (and, with
    per-process clocks, a recovery only right before one) finds the same verdicts
    and counterexample lengths as crashing and recovering at every state, with
    fewer transitions (and, with per-process clocks, fewer states: a server that
    recovered and has not acted yet is no state of its own)."""
    from paxsim.explore import model

    cases = [(setup("uncoordinated", 2, 2), {"crashes": 1, "recoveries": 1}),
             (setup(**RETRANS), {"timeouts": 2, "crashes": 1, "recoveries": 1}),
             (setup("wait_for_learn_majority", 3, 2), {"crashes": 1, "recoveries": 1}),
             (setup("paxos", 3, 1), {"crashes": 1, "recoveries": 1})]
    original = model.System.__init__

    def plain(self, *a, **k):
        original(self, *a, **k)
        self.canonical_faults = False

    for sp, extra in cases:
        b = Bounds(**{**NONE, **extra, "clocks": clocks})
        reduced = explore(sp, b)
        model.System.__init__ = plain
        try:
            every = explore(sp, b)
        finally:
            model.System.__init__ = original
        assert (reduced.outcome, reduced.complete) == (every.outcome, every.complete), sp.protocol
        assert len(reduced.path) == len(every.path)
        if every.complete:
            assert reduced.stats.transitions < every.stats.transitions
            assert (reduced.stats.states < every.stats.states if clocks == "per-process"
                    else reduced.stats.states == every.stats.states)


def _reachable(sp, bounds, canonical: bool) -> set:
    """Every state key within the bounds (no judging, no stop at a violation)."""
    from paxsim.explore.model import System

    system = System(sp, bounds)
    system.canonical_faults = canonical
    first = system.initial()
    seen, todo = {first.key(): 0}, [first]
    while todo:
        st = todo.pop()
        if st.depth >= bounds.depth:
            continue
        for child in system.successors(st):
            k = child.key()
            if seen.get(k, bounds.depth + 1) > child.depth:  # new, or reached in fewer steps
                seen[k] = child.depth
                todo.append(child)
    frozen = {rid: f for f, rid in system.ids.items()}  # replica ids are per search: compare what they stand for
    return {k[:2] + (tuple((frozen.get(s[0]),) + s[1:] for s in k[2]),) + k[3:] for k in seen}


@pytest.mark.parametrize("sp, extra", [
    (setup(**RETRANS), {"timeouts": 2}),
    (setup("wait_for_learn_majority", 3, 1), {"timeouts": 1}),
    (setup("paxos", 2, 1), {"timeouts": 2}),
])
def test_crash_placement_reaches_exactly_the_states_of_crashing_anywhere(sp, extra):
    """With one clock, crashing only right after a server's own step reaches the
    very same states as crashing at every state; with per-process clocks, a subset
    (no state where a recovered server has not acted yet) with the same verdicts."""
    b = Bounds(**{**NONE, **extra, "crashes": 1, "recoveries": 1, "depth": 7})
    assert _reachable(sp, b, True) == _reachable(sp, b, False)
    local = Bounds(**{**NONE, **extra, "crashes": 1, "recoveries": 1, "depth": 7, "clocks": "per-process"})
    reduced, every = _reachable(sp, local, True), _reachable(sp, local, False)
    assert reduced < every
    for k in every - reduced:  # each one a server right after its recovery, before its next step
        assert any(s[0] == _fresh(sp, i, k[1][i], s[1]) for i, s in enumerate(k[2])), k


def _fresh(sp, i, clock, store):
    """The frozen state of server ``i`` just recovered at ``clock`` with ``store``."""
    from paxsim.explore.freeze import freeze

    replica = sp.protocol(sp.servers[i], sp.servers, sp.params)
    replica.on_recover(clock, dict(store))
    return freeze(replica)


# ---------------------------------------------------------------- --max-delays ---

def test_no_delays_and_no_faults_leave_one_path():
    """With every message in send order and nothing else allowed, the world runs
    one way only: each state has one successor, so states = steps + 1."""
    sp = setup("paxos", 3, 2)
    out = explore(sp, Bounds(**{**NONE, "delays": 0}))
    assert out.complete and out.outcome == "SAFE"
    assert out.stats.states == out.stats.max_depth + 1 == out.stats.transitions + 1


def test_held_messages_are_bounded_and_left_out_of_the_replayed_schedule():
    """wait_for_learn_majority breaks with one crash and recovery, and one accept
    overtaken by a later one (in send order throughout, it is safe); the count of
    held messages on the path never exceeds the bound, and the schedule the replay
    runs names only what happens (a held message simply waits)."""
    sp = setup("wait_for_learn_majority", 3, 2)
    assert explore(sp, Bounds(**{**NONE, "crashes": 1, "recoveries": 1, "delays": 0})).outcome == "SAFE"
    for k in (1, 2):
        found = explore(sp, Bounds(**{**NONE, "crashes": 1, "recoveries": 1, "delays": k}))
        assert found.outcome == "UNSAFE"
        assert sum(a.kind == "hold" for a in found.path) <= k
        d = scenario_dict(sp, found.path, "x", "wait_for_learn_majority")
        assert len(d["schedule"]) == sum(a.kind != "hold" for a in found.path)
        assert run_scenario(from_dict(d, "<check>")).outcome == "UNSAFE"


@pytest.mark.parametrize("protocol, servers, clients, params, extra", STAGES)
def test_enough_delays_find_what_any_order_finds(protocol, servers, clients, params, extra):
    """With as many held messages as a path can hold, messages may arrive in any
    order: the same verdict as the any-order network."""
    sp = setup(protocol, servers, clients, params=params)
    anyorder = explore(sp, Bounds(**{**NONE, **extra}))
    held = explore(sp, Bounds(**{**NONE, **extra, "delays": 6}))
    assert held.outcome == anyorder.outcome == "UNSAFE"


def test_a_timer_waits_until_every_message_not_held_has_arrived():
    sp = setup(**RETRANS)
    from paxsim.explore.model import System

    system = System(sp, Bounds(**{**NONE, "timeouts": 1, "delays": 0}))
    st = system.initial()
    while st.queue:
        assert all(s.action.kind != "timer" for s in system.successors(st))
        (st,) = [s for s in system.successors(st) if s.action.kind == "deliver"]
    assert any(s.action.kind == "timer" for s in system.successors(st))


def test_a_held_message_arrives_only_when_the_network_is_otherwise_quiet():
    sp = setup(**RETRANS)
    from paxsim.explore.model import System

    system = System(sp, Bounds(**{**NONE, "delays": 1}))
    (st,) = [s for s in system.successors(system.initial()) if s.action.kind == "hold"]
    held = next(iter(st.inflight))
    while st.queue:
        assert not [s for s in system.successors(st) if s.action.kind == "deliver" and s.inflight == {}]
        (st,) = [s for s in system.successors(st) if s.action.kind == "deliver" and held in s.inflight]
    late = [s for s in system.successors(st) if s.action.kind == "deliver" and held not in s.inflight]
    assert len(late) == 1 and (late[0].action.src, late[0].action.dst, late[0].action.msg) == system.envs[held]


def test_a_replay_world_can_be_disposed_of_like_any_world():
    sp = setup("uncoordinated", 2, 2)
    found = explore(sp, Bounds(**NONE))
    result = run_scenario(from_dict(scenario_dict(sp, found.path, "x", "uncoordinated"), "<check>"))
    assert result.outcome == "UNSAFE"
    result.world.dispose()
    assert result.world.net.nodes == {}


def _expanded(system, limit: int):
    """Each state a depth-first walk expands, with its successors, until ``limit`` states are seen."""
    todo, seen = [system.initial()], set()
    while todo and len(seen) < limit:
        st = todo.pop()
        children = list(system.successors(st))
        yield st, children
        for c in children:
            if c.key() not in seen:
                seen.add(c.key())
                todo.append(c)


def _ignored(st, delivered) -> bool:
    """Does delivering the head of ``st``'s queue end in ``st``'s world, the head gone?"""
    was, now = st.key(), delivered.key()  # (now, clocks, servers, clients, in flight, queue, used, summary, cut)
    return now[:5] + now[7:] == was[:5] + was[7:] and now[5] == st.queue[1:]


def test_in_send_order_a_message_its_receiver_ignores_is_delivered_not_dropped():
    """A drop that ends where the delivery of the same message ends (its receiver
    ignores it, or is down) only spends a drop: the search offers the delivery
    alone. Any other message at the head may be lost. And no verdict changes: the
    tutorial's Fig. 12-promise bug is found with exactly the drops it needs."""
    from paxsim.explore.model import System

    sp = setup("paxos", 3, 2, params={"heartbeat": 2, "suspect": 3})
    system = System(sp, Bounds(**{**NONE, "drops": 2, "timeouts": 2, "crashes": 1, "delays": 0,
                                  "clocks": "per-process"}))
    ignored = lost = 0
    for st, children in _expanded(system, 20_000):
        delivered = [c for c in children if c.action.kind == "deliver" and st.queue]
        dropped = [c for c in children if c.action.kind == "drop"]
        for c in delivered:
            if _ignored(st, c):
                ignored += 1
                assert not dropped, (st.path(), c.action)
            elif st.used[0] < 2:
                lost += 1
                assert len(dropped) == 1
    assert ignored > 100 and lost > 1000, (ignored, lost)


@pytest.mark.parametrize("delays", [0, 1])
def test_a_cut_off_server_loses_every_message_to_or_from_it_until_the_cut_heals(delays):
    """A cut begins with the first message it loses, loses every later one to or
    from that server (clients' too) that reaches the head of the queue, and heals
    only right before one of them arrives; the bound counts cuts per path, and a
    replay names each lost message as a drop."""
    from paxsim.explore.counterexample import steps
    from paxsim.explore.model import System

    sp = setup("paxos", 3, 2, params={"heartbeat": 2, "suspect": 3})
    system = System(sp, Bounds(**{**NONE, "timeouts": 2, "delays": delays, "cuts": 1, "clocks": "per-process"}))
    cuts = lost = 0
    for st, children in _expanded(system, 20_000):
        kinds = {c.action.kind for c in children}
        if st.cut >= 0:
            assert "cut" not in kinds
            cut = sp.servers[st.cut]
            if st.queue and cut in system.envs[st.queue[0]][:2]:
                held = {"hold"} if st.used[5] < delays else set()  # or it arrives once the cut heals
                assert kinds == {"drop", "heal"} | held
                lost += 1
            else:
                waiting = not st.queue and any(cut in system.envs[e][:2] for e in st.inflight)
                assert ("heal" in kinds) == waiting and "drop" not in kinds
        else:
            assert "heal" not in kinds
        if st.queue and st.used[6] == 0:
            src, dst, _ = system.envs[st.queue[0]]
            if not (st.cut >= 0 and sp.servers[st.cut] in (src, dst)):
                assert sorted(c.action.process for c in children if c.action.kind == "cut") == sorted(
                    p for p in (src, dst) if p in sp.servers)
                cuts += 1
        for c in children:
            if c.action.kind == "cut":
                assert c.cut == sp.servers.index(c.action.process) and c.queue == st.queue[1:]
                assert [s.kind for s in steps([c.action])] == ["drop"]
    assert cuts > 20 and lost > 100, (cuts, lost)


def test_in_send_order_a_copy_arrives_right_after_its_message():
    """A duplicate's copy takes its place in the send order right behind the
    original (to be delivered, lost or, within --max-delays, held back like any
    message); a message its receiver ignores is not copied unless the copy could
    still be held back (it would arrive, ignored, right after it)."""
    from paxsim.explore.model import System

    sp = setup("paxos", 3, 2, params={"heartbeat": 2, "suspect": 3})
    for delays in (0, 1):
        system = System(sp, Bounds(**{**NONE, "dups": 2, "timeouts": 2, "delays": delays, "clocks": "per-process"}))
        copies = ignored = 0
        for st, children in _expanded(system, 10_000):
            dups = [c for c in children if c.action.kind == "duplicate"]
            for c in dups:
                assert c.queue == (st.queue[0],) + st.queue and c.inflight == st.inflight
                copies += 1
            if st.queue and st.used[1] < 2:
                (delivered,) = [c for c in children if c.action.kind == "deliver"]
                if _ignored(st, delivered):
                    ignored += 1
                    assert len(dups) == (1 if st.used[5] < delays else 0)
                else:
                    assert len(dups) == 1
        assert copies > 100 and ignored > 20, (delays, copies, ignored)


def test_two_cuts_reach_every_world_that_cuts_healing_at_any_moment_reach():
    """A cut heals only when something to or from its server arrives, or when the
    next cut begins: exact, for a cut that heals earlier changes nothing until
    then. Checked against a model where every cut may heal at any step, with two
    cuts: the same worlds (replicas, storage, timers, clients, history summary).
    Red when a second cut may begin only after the first has healed."""
    from collections import deque

    from paxsim.explore.freeze import freeze
    from paxsim.explore.model import System

    class HealsAnytime(System):
        def _fifo_successors(self, st):
            healed = False
            for new in super()._fifo_successors(st):
                healed = healed or new.action.kind == "heal"
                yield new
            if st.cut >= 0 and not healed:
                yield self._heal(st)

    sp = setup("paxos", 3, 1, params={"heartbeat": 2, "suspect": 3})
    bounds = Bounds(**{**NONE, "timeouts": 2, "delays": 0, "cuts": 2, "clocks": "per-process", "depth": 24})

    def worlds(cls) -> set:
        system = cls(sp, bounds)
        first = system.initial()
        seen, todo, out = {first.key()}, deque([first]), set()
        while todo:
            st = todo.popleft()
            if st.depth >= bounds.depth:
                continue
            for c in system.successors(st):
                if c.key() not in seen:
                    seen.add(c.key())
                    todo.append(c)
                    out.add((tuple((freeze(system.replicas[s.rid]) if s.rid >= 0 else None, s.frozen()[1:])
                                   for s in c.servers), tuple(x.frozen() for x in c.clients), c.summary))
        return out

    ours, anytime = worlds(System), worlds(HealsAnytime)
    assert ours == anytime and len(ours) > 1500
