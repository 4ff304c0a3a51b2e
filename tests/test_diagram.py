"""Message sequence diagrams: every figure scenario drawn as SVG/PNG/text, readable.

Each figure is run and drawn once per session (matplotlib is slow); the tests then
look at the layout model, the SVG it produced and the drawn text extents.
"""

from __future__ import annotations

import os
import struct
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pytest

from paxsim import load_scenario, run_scenario, scenario_from_dict
from paxsim.cli import main as cli_main
from paxsim.diagram import DiagramError, as_text, build, save, svg
from paxsim.diagram.model import _overlap, readable_states
from paxsim.figures import SCENARIO_DIR, figure_files

FIGURES = figure_files(SCENARIO_DIR)
SVGNS = "{http://www.w3.org/2000/svg}"


@dataclass
class Drawn:
    name: str
    result: object
    records: list
    diagram: object
    svg: str
    drawn_boxes: list      # display extents of labels and execution boxes, as drawn by matplotlib


def _drawn_extents(d) -> list:
    from paxsim.diagram.mpl import figure

    fig = figure(d)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    out = []
    for artist in fig.axes[0].get_children():
        gid = artist.get_gid() or ""
        if gid.startswith("label-") or gid.startswith("exec-"):
            bb = artist.get_window_extent(renderer)
            out.append((gid, (bb.x0, bb.y0, bb.x1, bb.y1)))
    return out


@pytest.fixture(scope="session")
def drawn() -> dict[str, Drawn]:
    out = {}
    for path in FIGURES:
        sc = load_scenario(path)
        r = run_scenario(sc)
        d = build(r, title=f"{sc.name}: {sc.description}")
        out[sc.name] = Drawn(sc.name, r, list(r.trace.records()), d, svg(d), _drawn_extents(d))
    return out


def _texts(svg_text: str) -> list[str]:
    root = ET.fromstring(svg_text.encode())
    return ["".join(t.itertext()) for t in root.iter(f"{SVGNS}text")]


def _ids(svg_text: str) -> list[str]:
    root = ET.fromstring(svg_text.encode())
    return [e.get("id", "") for e in root.iter() if e.get("id")]


def _visible_drops(records, shown=None) -> int:
    return sum(1 for r in records if r["ev"] == "drop" and r.get("type") != "HB"
               and (shown is None or (r["src"] in shown and r["dst"] in shown)))


def test_figures_exist():
    names = [p.stem for p in FIGURES]
    assert "fig01" in names and "fig02" in names


@pytest.mark.parametrize("path", FIGURES, ids=[p.stem for p in FIGURES])
def test_figure_svg_is_xml_with_the_tutorials_labels(drawn, path):
    f = drawn[path.stem]
    texts = _texts(f.svg)
    joined = "\n".join(texts)
    sc = f.result.scenario
    for p in sc.processes:                         # one lane per client and server
        assert p in texts, f"lane {p} missing"
    for a in f.diagram.arrows:                     # every message labeled as in the tutorial
        assert a.label in joined
    types = {r.get("type") for r in f.records if r["ev"] == "deliver"}
    for kind in ("ACC", "LRN", "PREP", "PROM"):
        if kind in types:
            assert f"<{kind}," in joined, kind
    for r in readable_states(f.records):
        if r["ev"] == "execute":                   # the state after each execution, in its box
            assert r["state"] in texts
    ids = _ids(f.svg)
    assert sum(i.startswith("lost-") for i in ids) == _visible_drops(f.records)
    assert sum(i.startswith("crash-") for i in ids) == sum(r["ev"] == "crash" for r in f.records)
    assert sum(i.startswith("partition-") for i in ids) == sum(r["ev"] == "partition" for r in f.records)
    assert f"outcome {f.result.outcome}" in joined
    loud = [v for v in f.result.verdict.safety_violations if not v.latent]
    if loud:                                       # conflicting replies in the warning colour, caption names them
        assert any(i.endswith("-warn") for i in ids)
        assert loud[0].invariant in joined
        warned = {a.i for a in f.diagram.arrows if a.warn}
        assert warned <= set(p for v in loud for p in v.positions)
        assert warned
    else:
        assert not any(i.endswith("-warn") for i in ids)


@pytest.mark.parametrize("path", FIGURES, ids=[p.stem for p in FIGURES])
def test_labels_do_not_overlap(drawn, path):
    f = drawn[path.stem]
    rects = f.diagram.label_rects()
    assert len(rects) >= len(f.diagram.arrows)
    for k, a in enumerate(rects):
        for b in rects[k + 1:]:
            assert not _overlap(a, b, 0.0), (a, b)
    # and as matplotlib actually drew them (text extents in pixels)
    ext = f.drawn_boxes
    assert len(ext) == len(rects)
    for k, (ga, a) in enumerate(ext):
        for gb, b in ext[k + 1:]:
            assert not _overlap(a, b, -0.5), (ga, gb)


@pytest.mark.parametrize("path", FIGURES, ids=[p.stem for p in FIGURES])
def test_simultaneous_arrows_stay_apart(drawn, path):
    arrows = drawn[path.stem].diagram.arrows
    ends = [(round(a.x0, 1), round(a.y0, 1), round(a.x1, 1), round(a.y1, 1)) for a in arrows]
    assert len(set(ends)) == len(ends)
    heads = [(round(a.x1, 1), round(a.y1, 1)) for a in arrows if a.head]
    assert len(set(heads)) == len(heads)           # two deliveries never end at one point


def test_png_has_a_sensible_size(drawn, tmp_path):
    d = drawn["fig02"].diagram
    out = tmp_path / "fig02.png"
    save(d, str(out))
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert abs(width - d.width * 2) <= 2 and abs(height - d.height * 2) <= 2   # 144 dpi
    assert 300 < width < 5000 and 300 < height < 5000
    assert os.listdir(tmp_path) == ["fig02.png"]   # no temporary file left behind


def test_pdf_and_svg_files(drawn, tmp_path):
    d = drawn["fig02"].diagram
    save(d, str(tmp_path / "a.pdf"))
    save(d, str(tmp_path / "a.svg"))
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")
    ET.parse(tmp_path / "a.svg")
    assert (tmp_path / "a.svg").read_text() == drawn["fig02"].svg      # same diagram, same bytes


def test_notebook_display_is_svg(drawn):
    s = drawn["fig01"].diagram._repr_svg_()
    assert s == drawn["fig01"].svg and "<svg" in s


# ---- text, faults, cutting ----------------------------------------------------------------

FAULTY = {
    "description": "a targeted drop, a duplicate, a crash and a recovery, a partition",
    "protocol": "uncoordinated",
    "servers": 2,
    "seed": 1,
    "network": {"delay": 1.0, "duplicate": 0.3},
    "clients": [{"name": "C1", "requests": [{"id": "m1", "at": 0.0}, {"id": "m3", "at": 4.0}]},
                {"name": "C2", "requests": [{"id": "m2", "at": 0.5}]}],
    "faults": [{"drop": {"type": "REQ", "from": "C1", "to": "S2"}},
               {"at": 2.2, "crash": "S2"}, {"at": 6.0, "recover": "S2"},
               {"at": 3.0, "partition": [["S1", "C1"], ["S2", "C2"]], "until": 5.0}],
}


@pytest.fixture(scope="module")
def faulty():
    return run_scenario(scenario_from_dict(FAULTY))


def test_text_shows_lost_message_and_crash(drawn):
    f = drawn["fig05"]           # Fig. 5: <ACC, m1, 1> is lost, then S1 crashes
    out = as_text(f.diagram)
    lines = out.splitlines()
    assert lines[0].split()[1:] == [l.name for l in f.diagram.lanes]
    assert any("x" in l and "lost: targeted" in l and "<ACC, m1, 1>" in l for l in lines)
    crash = next(k for k, l in enumerate(lines) if " X " in l and "S1 crashes" in l)
    col = lines[crash].index(" X ") + 1
    assert all(len(l) <= col or l[col] != "|" for l in lines[crash + 1:])    # S1's timeline ends there
    assert "prefix_chain" in out and "!! conflicting reply" in out


def test_text_of_a_faulty_run(faulty):
    d = build(faulty)
    out = as_text(d)
    assert "lost: targeted" in out and "lost: partition" in out
    assert "S2 crashes" in out and "S2 recovers" in out
    assert "partition S1,C1 | S2,C2" in out and "partition heals" in out
    assert " dup" in out                                     # a duplicated message shows twice
    dups = [a for a in d.arrows if a.dup]
    assert dups and all(any(b.i != a.i and b.label == a.label and not b.dup for b in d.arrows) for a in dups)
    s = svg(d)
    ids = _ids(s)
    assert sum(i.startswith("lost-") for i in ids) == _visible_drops(list(faulty.trace.records())) == 2
    assert sum(i.startswith("recover-") for i in ids) == 1
    # the crashed lane has a gap: it ends at the crash and restarts at the recovery
    s2 = next(l for l in d.lanes if l.name == "S2")
    assert len(s2.segments) == 2 and s2.segments[0][1] < s2.segments[1][0]


def test_only_cuts_processes(faulty):
    d = build(faulty, only=["S1", "C1"])
    assert [l.name for l in d.lanes] == ["C1", "S1"]
    assert d.arrows and all({a.src, a.dst} <= {"S1", "C1"} for a in d.arrows)
    assert all(b.lane == "S1" for b in d.boxes)
    assert "S2" not in as_text(d).splitlines()[0]
    with pytest.raises(DiagramError, match="unknown process S7"):
        build(faulty, only=["S1", "S7"])


def test_window_cuts_time(faulty):
    full = build(faulty)
    d = build(faulty, t_from=1.2, t_to=3.5)
    assert 0 < len(d.arrows) < len(full.arrows)
    for a in d.arrows:                                       # each arrow overlaps the window
        assert a.t1 >= 1.2 and a.t0 <= 3.5
    assert all(1.2 <= b.t <= 3.5 for b in d.boxes)
    assert all(1.2 <= m.t <= 3.5 for m in d.marks)
    assert any(a.clipped_start for a in d.arrows)            # sent before 1.2, delivered after
    assert "m3" not in as_text(d)                               # sent at t=4
    with pytest.raises(DiagramError):
        build(faulty, t_from=3.0, t_to=1.0)
    with pytest.raises(DiagramError, match="nothing to draw"):
        build(faulty, t_from=100.0, t_to=200.0)


def test_heartbeats_hidden_unless_asked(drawn):
    with_hb = [f for f in drawn.values() if any(r.get("type") == "HB" for r in f.records)]
    assert with_hb, "no figure uses heartbeats any more; pick another check"
    f = with_hb[0]
    assert not [a for a in f.diagram.arrows if a.type == "HB"]
    shown = build(f.result, heartbeats=True)
    assert len([a for a in shown.arrows if a.type == "HB"]) == sum(
        1 for r in f.records if r["ev"] in ("deliver", "drop") and r.get("type") == "HB")


# ---- command line ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trace_file(tmp_path_factory, faulty):
    p = tmp_path_factory.mktemp("tr") / "faulty.jsonl"
    faulty.trace.write(str(p))
    return p


def test_draw_command(trace_file, tmp_path, capsys):
    svgf, png = tmp_path / "d.svg", tmp_path / "d.png"
    assert cli_main(["draw", str(trace_file), "--svg", str(svgf), "--png", str(png), "--only", "S1,C1,C2",
                     "--from", "0", "--to", "5"]) == 0
    texts = _texts(svgf.read_text())
    assert "S1" in texts and "S2" not in texts
    assert png.read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert cli_main(["draw", str(trace_file)]) == 0         # no file asked for: text
    assert "S2 crashes" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["d.png", "d.svg"]


@pytest.mark.parametrize("argv,msg", [
    (["MISSING"], "no such trace file"),
    (["NOTJSON"], "line 1: not JSON"),
    (["TRACE", "--only", "S1,S9"], "--only: unknown process S9"),
    (["TRACE", "--from", "4", "--to", "2"], "--from 4 is after --to 2"),
    (["TRACE", "--svg", "OUT/nofolder/x.svg"], "does not exist"),
    (["TRACE", "--png", "OUT/x.png", "--pdf", "OUT/nofolder/x.pdf"], "does not exist"),
])
def test_draw_bad_input(trace_file, tmp_path, capsys, argv, msg):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("description = 'a scenario, not a trace'\n")
    subst = {"MISSING": str(tmp_path / "missing.jsonl"), "NOTJSON": str(bad), "TRACE": str(trace_file)}
    argv = [subst.get(a, a.replace("OUT", str(tmp_path))) for a in argv]
    assert cli_main(["draw"] + argv) == 2
    err = capsys.readouterr().err
    assert msg in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == ["bad.jsonl"]    # nothing written, not even half


def test_run_draws_one_scenario(tmp_path, capsys):
    out = tmp_path / "f.svg"
    f1 = str(SCENARIO_DIR / "fig01.toml")
    f2 = str(SCENARIO_DIR / "fig02.toml")
    assert cli_main(["run", f2, "--events", "0", "--svg", str(out)]) == 0
    assert "<s^12>" in _texts(out.read_text())
    assert cli_main(["run", f1, f2, "--svg", str(tmp_path / "g.svg")]) == 2
    assert "exactly one scenario" in capsys.readouterr().err
    assert not (tmp_path / "g.svg").exists()
    assert cli_main(["run", f2, "--events", "0", "--diagram", "--only", "C1,S1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(l for l in lines if l.split()[:1] == ["t"])
    assert header.split() == ["t", "C1", "S1"]
    assert any("<s^1>" in l for l in lines)
    assert cli_main(["run", f2, "--diagram", "--only", "Z1"]) == 2


def test_figures_svg_dir(tmp_path, capsys):
    assert cli_main(["figures", "--svg", str(tmp_path)]) == 0
    assert sorted(os.listdir(tmp_path)) == sorted(f"{p.stem}.svg" for p in figure_files(SCENARIO_DIR))
    for p in tmp_path.iterdir():
        ET.parse(p)
    assert cli_main(["figures", "--svg", str(tmp_path / "none")]) == 2
