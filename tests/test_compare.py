"""Summaries and plots: statistics on hand-made numbers, the compare command end to end."""

from __future__ import annotations

import json
import math

import pytest

from paxsim.cli import main as cli_main
from paxsim.sweep import experiment_from_flags, mean_ci, read_rows, run_sweep, summarize
from paxsim.sweep.summary import group_stat, t975


def test_mean_ci_on_hand_made_numbers():
    s = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert s.n == 5 and s.mean == 3.0
    # sample sd = sqrt(2.5); t(0.975, 4) = 2.776
    assert s.half == pytest.approx(2.776 * math.sqrt(2.5 / 5))
    assert s.low == pytest.approx(3.0 - s.half) and s.high == pytest.approx(3.0 + s.half)
    assert s.p99 == 5.0


def test_mean_ci_edge_cases():
    assert mean_ci([]).n == 0 and mean_ci([]).mean is None
    one = mean_ci([None, 4.0])          # None: a run without a value (nothing completed)
    assert (one.n, one.mean, one.half, one.p99) == (1, 4.0, None, 4.0)
    same = mean_ci([2.0] * 10)
    assert same.half == 0.0
    assert t975(1) == 12.706 and t975(35) == 2.042 and t975(10_000) == 1.96


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
    s = next(s for s in ss if s.dims == {"protocol": "single_server", "servers": 1, "loss": 0.0, "duplicate": 0.0,
                                          "delay": "0.5-1.5", "crash_rate": 0.0, "partition_rate": 0.0,
                                          "workload": "2x3"})
    mine = [r for r in rows if r["config"] == s.config]
    assert s.stat("latency_mean").mean == pytest.approx(sum(r["latency_mean"] for r in mine) / 4)
    assert s.stat("messages_per_request").mean == 2.0    # no loss, no crash: REQ + REPLY
    assert sum(s.outcomes.values()) == 4
    assert s.violation_rate == s.outcomes.get("UNSAFE", 0) / 4
    pooled = group_stat(rows, ("protocol", "loss"), "latency_mean")
    assert set(pooled) == {("single_server", 0.0), ("single_server", 0.1), ("uncoordinated", 0.0),
                           ("uncoordinated", 0.1)}
    assert pooled[("uncoordinated", 0.0)].n == 16


def test_compare_prints_table_writes_plots_and_csv(tmp_path, capsys):
    db, rows = rows_for(tmp_path)
    out = tmp_path / "plots"
    csv = tmp_path / "rows.csv"
    assert cli_main(["compare", "--db", db, "--out", str(out), "--csv", str(csv)]) == 0
    text = capsys.readouterr().out
    assert "cmp: mean ±95% CI over seeds" in text
    assert "single_server" in text and "uncoordinated" in text
    assert "wrote 48 rows" in text
    for name in ("latency_vs_loss", "messages_vs_servers", "unavailability_vs_crash_rate",
                 "violations_per_stage"):
        png, svg = out / f"{name}.png", out / f"{name}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert "<svg" in svg.read_text()
    assert len(csv.read_text().splitlines()) == 49


def test_compare_json_lines(tmp_path, capsys):
    db, rows = rows_for(tmp_path)
    assert cli_main(["compare", "--db", db, "--no-plots", "--json", "--experiment", "cmp"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 12
    assert {"config", "runs", "outcomes", "violation_rate", "stats"} <= set(lines[0])
    assert set(lines[0]["stats"]["latency_mean"]) == {"n", "mean", "ci95", "p99"}


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
