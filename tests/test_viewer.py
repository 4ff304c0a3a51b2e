"""The interactive view's data, the replicas' inspect(), the overview and the lane fix
(no browser here: tests/test_browser.py drives headless Chromium)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from paxsim import load_scenario, run_scenario
from paxsim.cli import main as cli_main
from paxsim.diagram import as_text, build, processes
from paxsim.diagram.html import StateRecorder, replay_states, write_view
from paxsim.diagram.overview import build_overview
from paxsim.figures import SCENARIO_DIR

from paxsim.protocols import BUILTIN, load_protocol
from paxsim.sim.world import World

# "fig12b" in these tests: the old, busy Fig. 12b (12 requests, 3 clients), kept as test data
BUSY = Path(__file__).parent / "data" / "busy5.toml"

DIAGRAM = Path(__file__).resolve().parent.parent / "paxsim" / "diagram"


def _run(name: str):
    return run_scenario(load_scenario(BUSY if name == "fig12b" else SCENARIO_DIR / f"{name}.toml"))


def _page_data(path: Path) -> dict:
    text = path.read_text()
    blob = re.search(r'<script id="run" type="application/json">(.*?)</script>', text, re.S).group(1)
    assert "<" not in blob                 # nothing in the data can end the script element
    return json.loads(blob)


def test_forwarding_servers_are_servers_not_clients():
    r = _run("fig12b")
    recs = list(r.trace.records())
    assert any(x["ev"] == "send" and x.get("type") == "REQ" and x["src"].startswith("S") for x in recs)
    assert processes(recs) == (["C1", "C2", "C3"], ["S1", "S2", "S3", "S4", "S5"])
    assert processes(recs, ["S1", "S2", "S3", "S4", "S5"]) == (["C1", "C2", "C3"], ["S1", "S2", "S3", "S4", "S5"])
    d = build(r)
    assert [(l.name, l.kind) for l in d.lanes] == [("C1", "client")] + [(f"S{k}", "server") for k in range(1, 6)] \
        + [("C2", "client"), ("C3", "client")]


def test_diagram_model_imports_no_renderer():
    for name in ("model.py", "overview.py"):
        tree = ast.parse((DIAGRAM / name).read_text())
        imported = set()
        for n in ast.walk(tree):
            if isinstance(n, ast.ImportFrom):
                imported |= {n.module} if n.module else {a.name for a in n.names}     # from .x / from . import x
            elif isinstance(n, ast.Import):
                imported |= {a.name.split(".")[0] for a in n.names}
        assert not imported & {"mpl", "text", "html", "matplotlib"}, (name, imported)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_stage_inspects_plain_data(name):
    cls = load_protocol(name)
    servers = ("S1",) if cls.max_servers == 1 else ("S1", "S2", "S3") if (cls.max_servers or 3) >= 3 else ("S1", "S2")
    params = cls.check_params({}, len(servers))
    rep = cls("S1", servers, params)
    rep.on_start(0.0)
    state = rep.inspect(0.0)
    assert isinstance(state, dict) and "executed" in state
    json.dumps(state)                      # plain data
    assert rep.inspect(0.0) == state       # looking changes nothing


def test_observing_replicas_changes_nothing_and_costs_nothing_unasked(monkeypatch):
    sc = load_scenario(BUSY)
    plain = run_scenario(sc)
    world = World(sc, record_trace=True)
    rec = StateRecorder()
    rec.attach(world)
    world.run()
    end = plain.trace.events[:-1]          # the driver appends the verdict
    assert world.trace.events == end
    assert set(rec.changes) == set(sc.servers) and all(rec.changes.values())
    # an ordinary run never calls inspect()
    cls = load_protocol(sc.protocol)

    def boom(self, now):
        raise AssertionError("inspect() called in an ordinary run")

    monkeypatch.setattr(cls, "inspect", boom)
    assert run_scenario(sc).trace.digest() == plain.trace.digest()


def test_states_at_the_violation_match_the_trace(tmp_path):
    r = _run("fig05")
    out = tmp_path / "fig05.html"
    write_view(r, str(out))
    data = _page_data(out)
    v = next(v for v in data["violations"] if v["invariant"] == "prefix_chain")
    recs = list(r.trace.records())
    for pos in v["positions"]:
        srv = recs[pos]["src"]
        executed = [x["state"] for x in recs if x["ev"] == "execute" and x["src"] == srv and x["i"] <= pos]
        state = {}
        for k, key, value in data["states"][srv]:
            if k <= pos:
                state[key] = value
        crashed = any(x["ev"] == "crash" and x["src"] == srv and x["i"] <= pos for x in recs)
        if not crashed:
            assert state["executed"] == executed[-1], (srv, pos)
    # the two conflicting replies are marked, every message of the trace is there
    warned = {e["i"] for e in data["events"] if e.get("warn")}
    assert set(v["positions"]) <= warned
    assert sum(e["ev"] in ("deliver", "drop") for e in data["events"]) == \
        sum(x["ev"] in ("deliver", "drop") for x in recs)
    assert data["clients"] == ["C1", "C2"] and data["servers"] == ["S1", "S2"]
    assert data["meta"]["claim"].startswith("Fig. 5") and data["meta"]["outcome"] == "UNSAFE"


@pytest.mark.parametrize("name", ["fig05", "fig09a", "fig12b"])
def test_recorded_state_follows_every_input(name):
    """Just before each input a server handles, the state recorded for it is what its
    last execution in the trace reached (until it first crashes)."""
    r = _run(name)
    recs = list(r.trace.records())
    states = replay_states(r.scenario, r.seed, len(recs))
    checked = 0
    for srv in r.scenario.servers:
        down = min([x["i"] for x in recs if x["ev"] == "crash" and x["src"] == srv], default=len(recs))
        inputs = [x["i"] for x in recs if x["i"] < down and ((x["ev"] == "deliver" and x["dst"] == srv)
                  or (x["ev"] == "timer" and x["src"] == srv))]
        changes = states[srv]
        for b in inputs[1:]:
            executed = [v for k, key, v in changes if k < b and key == "executed"][-1]
            done = [x["state"] for x in recs if x["ev"] == "execute" and x["src"] == srv and x["i"] < b]
            assert executed == (done[-1] if done else "s^()"), (srv, b)
            checked += bool(done)
    assert checked


def test_a_bare_trace_gives_a_view_without_replica_state(tmp_path):
    r = _run("fig02")
    trace = tmp_path / "t.jsonl"
    r.trace.write(str(trace))
    assert cli_main(["draw", str(trace), "--html", str(tmp_path / "v.html")]) == 0
    data = _page_data(tmp_path / "v.html")
    assert data["states"] is None and len(data["events"]) > 0
    assert not list(tmp_path.glob(".paxsim-*"))


def test_view_page_is_self_contained(tmp_path):
    write_view(_run("fig03"), str(tmp_path / "v.html"))
    text = (tmp_path / "v.html").read_text()
    assert "<script src" not in text and "<link" not in text
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text)


def test_replay_refuses_a_different_trace():
    sc = load_scenario(SCENARIO_DIR / "fig05.toml")
    r = run_scenario(sc)
    n = len(list(r.trace.records()))
    assert replay_states(sc, r.seed, n) is not None
    assert replay_states(sc, r.seed, n + 1) is None


def test_run_html_and_figures_html(tmp_path, capsys):
    assert cli_main(["run", str(SCENARIO_DIR / "fig05.toml"), "--html", str(tmp_path / "f.html"), "--events", "0"]) == 0
    assert _page_data(tmp_path / "f.html")["states"]
    figs = tmp_path / "figs"
    figs.mkdir()
    src = tmp_path / "sc"
    src.mkdir()
    for name in ("fig01", "fig05"):
        (src / f"{name}.toml").write_text((SCENARIO_DIR / f"{name}.toml").read_text())
    assert cli_main(["figures", "--dir", str(src), "--html", str(figs)]) == 0
    index = (figs / "index.html").read_text()
    for name in ("fig01", "fig05"):
        assert f'href="{name}.html"' in index and (figs / f"{name}.html").exists()
    assert "UNSAFE" in index and "yes" in index
    assert cli_main(["run", str(SCENARIO_DIR / "fig05.toml"), "--html", str(tmp_path / "no" / "f.html")]) == 2


def test_big_runs_default_to_an_overview(tmp_path, capsys):
    r = _run("fig12b")
    o = build_overview(r)
    assert [row.m for row in o.rows][:3] == ["m1", "m5", "m9"] and len(o.rows) == 12
    assert all(len({s for _, s, _ in row.executions}) == 5 for row in o.rows)
    png = tmp_path / "o.png"
    assert cli_main(["run", str(BUSY), "--png", str(png), "--events", "0"]) == 0
    import struct

    w, h = struct.unpack(">II", png.read_bytes()[16:24])
    assert h < 2000 and w < 2500                  # one row per request, not 17,000 px of arrows
    assert cli_main(["run", str(BUSY), "--diagram", "--events", "0"]) == 0
    text = capsys.readouterr().out
    assert "overview: one row per request" in text and "--full" in text
    assert cli_main(["run", str(BUSY), "--diagram", "--full", "--events", "0"]) == 0
    assert "overview" not in capsys.readouterr().out
    small = as_text(build(_run("fig05")))
    assert "overview" not in small


def test_state_labels_stay_unambiguous_past_nine_requests(tmp_path):
    r = _run("fig12b")                            # m1..m12: "s^1596" could be m15, m9, m6
    raw = [x["state"] for x in r.trace.records() if x["ev"] == "execute"]
    assert "s^1596" in raw
    d = build(r)
    shown = [b.label for b in d.boxes]
    assert "s^(1,5,9,6)" in shown and not any(re.fullmatch(r"s\^\d{2,}", x) for x in shown)
    write_view(r, str(tmp_path / "v.html"))
    data = _page_data(tmp_path / "v.html")
    states = [e["state"] for e in data["events"] if "state" in e]
    states += [v for rows in data["states"].values() for _, key, v in rows if key == "executed"]
    assert "s^(1,5,9,6)" in states and not any(re.fullmatch(r"s\^\d{2,}", x) for x in states)
    replies = [row.replies for row in build_overview(r).rows]
    assert not any(re.fullmatch(r"s\^\d{2,}", st) for rs in replies for _, _, st, _ in rs)
    small = build(_run("fig02"))                  # two requests: the tutorial's s^21 stays
    assert "s^21" in [b.label for b in small.boxes]


def test_linear_time_axis_is_proportional():
    from paxsim.diagram.model import PX_PER_T

    r = _run("fig12b")

    def rows(d):                   # (time between two ticked rows, points between them)
        return [(t2 - t1, y2 - y1) for (y1, t1), (y2, t2) in zip(d.ticks, d.ticks[1:])]

    linear = rows(build(r, linear=True, t_from=20, t_to=60))
    assert all(dy >= dt * PX_PER_T - 1e-6 for dt, dy in linear)      # a gap is never shortened
    fig05 = _run("fig05")                                               # idle from t=2 to t=7
    assert any(dy < dt * PX_PER_T - 1.0 for dt, dy in rows(build(fig05)))     # the default shrinks it
    assert all(dy >= dt * PX_PER_T - 1e-6 for dt, dy in rows(build(fig05, linear=True)))


def test_tall_pictures_repeat_lane_headers():
    d = build(_run("fig12b"))
    assert len(d.headers) > 3
    small = build(_run("fig05"))
    assert small.headers == small.headers[:1]


def test_fuzz_writes_a_view_beside_the_counterexample(tmp_path, capsys):
    out = tmp_path / "cx"
    code = cli_main(["fuzz", "--protocol", "uncoordinated", "--servers", "2", "--seed", "1",
                     "--budget-examples", "30", "--out", str(out)])
    assert code == 1
    toml, = out.glob("*.toml")
    view = toml.with_suffix(".html")
    data = _page_data(view)
    assert data["meta"]["outcome"] == "UNSAFE" and data["violations"] and data["states"]
    assert str(view) in capsys.readouterr().out


def test_text_diagram_keeps_state_labels_whole():
    r = _run("fig12b")
    text = as_text(build(r, only=["S1", "S5"], t_from=40, t_to=50))
    boxes = [b.label for b in build(r, only=["S1", "S5"], t_from=40, t_to=50).boxes]
    assert any(len(b) > 26 for b in boxes)        # wider than a text column
    for label in boxes:                            # every box, on every lane (also the last one)
        assert text.count(f"[{label}]") == boxes.count(label), label


def test_a_window_keeps_the_view_of_a_long_run_small(tmp_path):
    r = _run("fig12b")                    # S1 down from 10 to 35, S2 cut off from 26 to 45
    assert cli_main(["run", str(BUSY), "--html", str(tmp_path / "w.html"),
                     "--from", "30", "--to", "40", "--only", "S1,S2,S3,C1", "--events", "0"]) == 0
    data = _page_data(tmp_path / "w.html")
    whole = _page_data(_view(r, tmp_path / "all.html"))
    assert len(data["events"]) < len(whole["events"]) / 3
    for e in data["events"]:
        if "t0" in e:                     # a message crossing the window
            assert e["t0"] <= 40 and e["t"] >= 30
        else:
            assert 30 <= e["t"] <= 40, e
    assert data["down"] == ["S1"] and data["only"] == ["S1", "S2", "S3", "C1"]
    cut = [e for e in data["events"] if e["ev"] == "partition"]
    assert cut and cut[0]["t"] == 30 and cut[0]["groups"][0] == ["S2"]
    assert data["states"] == whole["states"]


def _view(r, path):
    write_view(r, str(path))
    return path
