"""Summaries, paired comparisons and plots: statistics on hand-made numbers, nothing
pooled, the compare command end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from paxsim.cli import main as cli_main
from paxsim.sweep import experiment_from_flags, mean_ci, read_rows, run_sweep, summarize
from paxsim.sweep import plots
from paxsim.sweep.summary import BOOTSTRAP_MIN, group_stat, paired

FLEX = "examples.flexible_paxos:FlexiblePaxos"


def test_mean_ci_on_hand_made_numbers():
    s = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0], "latency_mean")
    assert s.n == 5 and s.mean == 3.0 and s.method == "t"
    # sample sd = sqrt(2.5); t(0.975, 4) = 2.7764
    half = 2.7764451 * math.sqrt(2.5 / 5)
    assert s.low == pytest.approx(3.0 - half) and s.high == pytest.approx(3.0 + half)
    assert s.half == pytest.approx(half)
    assert s.p99 == 5.0


def test_mean_ci_edge_cases():
    assert mean_ci([]).n == 0 and mean_ci([]).mean is None
    one = mean_ci([None, 4.0])          # None: a run without a value (nothing completed)
    assert (one.n, one.mean, one.low, one.high, one.p99) == (1, 4.0, None, None, 4.0)
    same = mean_ci([2.0] * 10, "latency_mean")
    assert same.low == same.high == 2.0


def test_an_interval_never_goes_below_the_metrics_floor():
    xs = [0.0, 0.0, 0.0, 12.0]                    # unavailable time: mostly 0, one long outage
    raw = mean_ci(xs)                             # no metric: no floor, the t interval dips below 0
    assert raw.low < 0
    s = mean_ci(xs, "unavailable_time")
    assert s.low == 0.0 and s.method == "t, clipped at 0" and s.high == raw.high
    many = [0.0] * 30 + [15.0, 40.0]              # enough runs: a bootstrap of the mean
    b = mean_ci(many, "unavailable_time")
    assert b.method == "bootstrap" and 0.0 <= b.low < b.mean < b.high
    assert mean_ci(many, "unavailable_time") == b   # a fixed generator: reproducible
    t = mean_ci(many, "latency_mean")             # not a skewed metric: t, clipped
    assert t.method.startswith("t")
    assert len(many) >= BOOTSTRAP_MIN


def rows_for(tmp_path, name="cmp"):
    db = str(tmp_path / "r.sqlite")
    exp = experiment_from_flags(name, {"protocols": "single_server,uncoordinated", "servers": "1,2",
                                       "loss": "0,0.1", "crash_rate": "0,1", "seeds": "4"})
    run_sweep(exp, db, workers=1, progress=False)
    return db, read_rows(db)


def test_summaries_group_by_configuration(tmp_path):
    db, rows = rows_for(tmp_path)
    ss = summarize(rows)
    assert len(ss) == 12 and all(s.runs == 4 for s in ss)
    assert [s.dims["protocol"] for s in ss][:4] == ["single_server"] * 4   # tutorial order
    s = next(s for s in ss if s.dims["protocol"] == "single_server" and s.dims["loss"] == 0.0
             and s.dims["crash_rate"] == 0.0)
    mine = [r for r in rows if r["config"] == s.config]
    assert s.stat("latency_mean").mean == pytest.approx(sum(r["latency_mean"] for r in mine) / 4)
    assert s.stat("messages_per_request").mean == 2.0    # no loss, no crash: REQ + REPLY
    assert sum(s.outcomes.values()) == 4
    assert s.violation_rate == s.outcomes.get("UNSAFE", 0) / 4


def test_group_stat_refuses_to_pool_over_a_dimension_that_varies(tmp_path):
    _, rows = rows_for(tmp_path)
    with pytest.raises(ValueError, match="n, crash/h also vary"):
        group_stat(rows, ("protocol", "loss"), "latency_mean")
    one = [r for r in rows if r["servers"] == 1 and r["crash_rate"] == 0.0]
    pooled = group_stat(one, ("protocol", "loss"), "latency_mean")
    assert set(pooled) == {("single_server", 0.0), ("single_server", 0.1), ("uncoordinated", 0.0),
                           ("uncoordinated", 0.1)}
    assert all(s.n == 4 for s in pooled.values())


def flex_rows(tmp_path, seeds="4"):
    db = str(tmp_path / "f.sqlite")
    exp = experiment_from_flags("flex", {"protocols": f"paxos,{FLEX}", "servers": "3", "crash_rate": "1",
                                         "seeds": seeds}, param_grid={"q2": [2, 3]})
    run_sweep(exp, db, workers=1, progress=False)
    return db, read_rows(db)


def test_two_settings_of_a_parameter_are_never_pooled(tmp_path, capsys):
    db, rows = flex_rows(tmp_path)
    assert len(rows) == 12                        # paxos, flex q2=2, flex q2=3: 4 seeds each
    ss = summarize(rows)
    assert sorted(str(s.dims.get("param:q2")) for s in ss) == ["2", "3", "None"]
    assert cli_main(["compare", "--db", db, "--no-plots"]) == 0
    out = capsys.readouterr().out
    header = next(l for l in out.splitlines() if "protocol" in l and "runs" in l)
    assert "q2" in header
    assert "code: " in out                        # the protocols' code digests are shown


def test_paired_differences_by_seed(tmp_path):
    _, rows = flex_rows(tmp_path)
    ps = paired(rows)
    same = [p for p in ps if p.other.endswith("q2=2")]   # a majority of 3 is 2: the same protocol as paxos
    assert same and all(p.pairs == 4 for p in same)
    assert all(p.diff.mean == 0 and p.better == p.worse == 0 for p in same)
    q3 = next(p for p in ps if p.other.endswith("q2=3") and p.metric == "latency_mean")
    base = {r["seed"]: r["latency_mean"] for r in rows if r["protocol"] == "paxos"}
    other = {r["seed"]: r["latency_mean"] for r in rows if r["params"] == {"q2": 3}}
    diffs = [other[s] - base[s] for s in sorted(base)]
    assert q3.diff.mean == pytest.approx(np.mean(diffs))
    assert q3.diff.low <= q3.diff.mean <= q3.diff.high
    assert q3.base == "paxos q2=default"


def test_plots_draw_a_line_or_a_panel_per_varying_dimension_or_refuse(tmp_path):
    _, rows = rows_for(tmp_path)
    one = [r for r in rows if r["servers"] == 1]
    fig = plots.latency_vs_loss(one)          # protocol x crash_rate: 4 lines, nothing pooled
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert len(labels) == 4 and "single_server, crash/h=0" in labels
    fig = plots.latency_vs_loss(rows)         # + servers: a panel per n
    assert len(fig.axes) == 2
    with pytest.raises(plots.NotDrawn, match="n has one value"):
        plots.messages_vs_servers(one)
    wide = [dict(r, loss=r["loss"], duplicate=d) for d in (0.0, 0.01, 0.02, 0.03, 0.04) for r in rows]
    with pytest.raises(plots.NotDrawn, match="too many groups.*dup"):
        plots.latency_vs_loss(wide)


def test_compare_prints_table_writes_plots_and_csv(tmp_path, capsys):
    db, rows = rows_for(tmp_path)
    out = tmp_path / "plots"
    csv = tmp_path / "rows.csv"
    assert cli_main(["compare", "--db", db, "--out", str(out), "--csv", str(csv)]) == 0
    text = capsys.readouterr().out
    assert "cmp: mean [95% interval] over seeds" in text
    assert "paired by seed" in text
    assert "single_server" in text and "uncoordinated" in text
    assert "wrote 48 rows" in text
    for name in ("latency_vs_loss", "messages_vs_servers", "unavailability_vs_crash_rate",
                 "violations_per_stage"):
        png, svg = out / f"{name}.png", out / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in svg.read_text()
    assert len(csv.read_text().splitlines()) == 49


def test_compare_keeps_experiments_apart_and_selects_rows(tmp_path, capsys):
    db, _ = rows_for(tmp_path, "a")
    exp = experiment_from_flags("b", {"protocols": "uncoordinated", "servers": "2", "loss": "0,0.1",
                                      "seeds": "3"})
    run_sweep(exp, db, workers=1, progress=False)
    out = tmp_path / "plots"
    assert cli_main(["compare", "--db", db, "--out", str(out), "--where", "servers=2"]) == 0
    text = capsys.readouterr().out
    assert "a: mean" in text and "b: mean" in text
    assert (out / "a" / "latency_vs_loss.png").exists() and (out / "b" / "latency_vs_loss.png").exists()
    assert "not drawn: b: messages_vs_servers: " in text and "n has one value (2)" in text
    assert cli_main(["compare", "--db", db, "--no-plots", "--where", "colour=red"]) == 2
    assert "--where colour: not a dimension" in capsys.readouterr().err


def test_compare_json_lines(tmp_path, capsys):
    db, rows = rows_for(tmp_path)
    assert cli_main(["compare", "--db", db, "--no-plots", "--json", "--experiment", "cmp"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    configs = [x for x in lines if x["kind"] == "config"]
    assert len(configs) == 12
    assert {"config", "runs", "outcomes", "violation_rate", "stats"} <= set(configs[0])
    assert set(configs[0]["stats"]["latency_mean"]) == {"n", "mean", "ci95", "p99", "method"}
    pairs = [x for x in lines if x["kind"] == "paired"]
    assert pairs and {p["base"] for p in pairs} == {"single_server"}
    assert all(p["servers"] == 1 for p in pairs)   # single_server runs with n=1 only: pairs exist there


def test_compare_bad_input_exits_2(tmp_path, capsys):
    assert cli_main(["compare", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert "--db:" in capsys.readouterr().err
    db, _ = rows_for(tmp_path)
    assert cli_main(["compare", "--db", db, "--experiment", "nope", "--no-plots"]) == 2
    err = capsys.readouterr().err
    assert "--experiment: no experiment 'nope'" in err and "cmp" in err


def test_plots_are_byte_for_byte_reproducible(tmp_path):
    from paxsim.sweep.plots import write_plots

    _, rows = rows_for(tmp_path)
    a = write_plots(rows, str(tmp_path / "a"), ["violations_per_stage"])
    b = write_plots(rows, str(tmp_path / "b"), ["violations_per_stage"])
    assert [p.rsplit("/", 1)[1] for p in a] == ["violations_per_stage.png", "violations_per_stage.svg"]
    for x, y in zip(a, b):
        assert open(x, "rb").read() == open(y, "rb").read()


def test_rows_of_one_protocol_made_by_different_code_are_told_apart(tmp_path, capsys):
    db, rows = flex_rows(tmp_path)
    stale = [dict(r, code="0123456789ab", config=r["config"] + "-old") for r in rows if r["protocol"] == "paxos"]
    with pytest.raises(ValueError, match="code also vary"):
        group_stat(rows + stale, ("protocol", "param:q2"), "latency_mean")
    ss = summarize(rows + stale)
    assert len(ss) == 4
    from paxsim.sweep.summary import varying

    assert "code" in varying([s.dims for s in ss]) and "code" not in varying([s.dims for s in summarize(rows)])
