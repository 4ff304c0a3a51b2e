"""Sweeps: the grid, the rows they write, resuming after an interruption, bad input."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paxsim.cli import main as cli_main
from paxsim.sweep import (Experiment, GridError, ResultsDB, experiment_from_flags, load_experiment, protocol_code,
                          read_rows, run_sweep)
from paxsim.sweep import runner as runner_mod
from paxsim.sweep.db import COLUMNS, export_csv, to_dataframe

ROOT = Path(__file__).resolve().parent.parent


def small() -> Experiment:
    return experiment_from_flags("small", {"protocols": "single_server,uncoordinated", "servers": "1,2",
                                           "loss": "0,0.1", "crash_rate": "0,1", "seeds": "3"})


def keys(rows):
    return [(r["experiment"], r["config"], r["seed"]) for r in rows]


# ---- the grid ------------------------------------------------------------------------------

def test_grid_from_flags_leaves_out_what_a_protocol_cannot_run():
    exp = small()
    cfgs = exp.configs()
    # single_server: n=1 only (4 configs); uncoordinated: n=1,2 (8 configs)
    assert len(cfgs) == 12
    assert exp.skipped == ["single_server with 2 servers (it runs with exactly 1)"]
    assert len({c.key() for c in cfgs}) == 12
    assert exp.seeds == [0, 1, 2]
    c = cfgs[0]
    assert c.key() == ("single_server n=1 loss=0 dup=0 delay=0.5-1.5 crash=0 part=0 wl=2x3 h=60 recover=yes "
                       f"thr=10 code={protocol_code('single_server')}")
    assert len(protocol_code("single_server")) == 12 and protocol_code("paxos") != protocol_code("single_server")


def test_flag_values_parse():
    exp = experiment_from_flags("x", {"protocols": "uncoordinated", "delay": "2,0.1:0.3", "seeds": "5:8",
                                      "workload": "1x4", "crash_rate": "0.5"})
    assert exp.delay == [(1.0, 3.0), (0.1, 0.3)]
    assert exp.seeds == [5, 6, 7]
    assert exp.workload == [(1, 4)]
    assert exp.crash_rate == [0.5]
    assert experiment_from_flags("x", {"protocols": "uncoordinated", "seeds": "4,9"}).seeds == [4, 9]


@pytest.mark.parametrize("flags, message", [
    ({"protocols": "nope"}, "--protocols: unknown protocol 'nope'"),
    ({"protocols": "uncoordinated", "loss": "0,abc"}, "--loss: 'abc' is not a number"),
    ({"protocols": "uncoordinated", "loss": "1.5"}, "--loss: must be <= 1, got 1.5"),
    ({"protocols": "uncoordinated", "servers": "0"}, "--servers: must be >= 1, got 0"),
    ({"protocols": "uncoordinated", "seeds": "9:3"}, "--seeds: empty seed range '9:3'"),
    ({"protocols": "uncoordinated", "workload": "2by3"}, "--workload: a workload is CLIENTSxREQUESTS"),
    ({"protocols": "uncoordinated", "delay": "2:1"}, "--delay: delay range high (1) is below low (2)"),
    ({"loss": "0"}, "--protocols: is required"),
    ({"protocols": "uncoordinated", "servers": "3,,5"}, "--servers: empty value in '3,,5'"),
    ({"protocols": "uncoordinated", "seeds": ""}, "--seeds: empty value"),
])
def test_bad_flags_name_the_flag(flags, message):
    with pytest.raises(GridError) as info:
        experiment_from_flags("x", flags)
    assert str(info.value).startswith(message)


def write(tmp_path, text: str, name: str = "exp.toml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_experiment_file_with_flag_override(tmp_path):
    path = write(tmp_path, 'protocols = ["uncoordinated"]\nservers = [2, 3]\nloss = 0.05\nseeds = [1, 2]\n'
                           'delay = [[0.5, 1.5], 2.0]\nworkload = [{clients = 1, requests = 2}]\n')
    exp = load_experiment(path, {"servers": "4"})
    assert exp.name == "exp"
    assert exp.servers == [4] and exp.loss == [0.05] and exp.seeds == [1, 2]
    assert exp.delay == [(0.5, 1.5), (1.0, 3.0)]
    assert exp.workload == [(1, 2)]


@pytest.mark.parametrize("text, message", [
    ('protocols = ["uncoordinated"]\nlosses = [0.1]\n', "exp.toml: losses: unknown key"),
    ('protocols = ["uncoordinated"]\nservers = "three"\n', "exp.toml: servers: 'three' is not a whole number"),
    ('protocols = ["uncoordinated"]\nloss = [true]\n', "exp.toml: loss: must be a number, not True"),
    ('protocols = ["uncoordinated"]\nrecover = 1\n', "exp.toml: recover: must be true or false"),
    ('servers = [3]\n', "exp.toml: protocols: is required"),
    ('protocols = ["uncoordinated"]\n[params.paxos]\nx = 1\n', "exp.toml: params.paxos: protocol 'paxos' is not in"),
    ('protocols = ["uncoordinated"\n', "exp.toml: not valid TOML"),
])
def test_malformed_experiment_file_exits_2_naming_file_and_key(tmp_path, capsys, text, message):
    path = write(tmp_path, text)
    db = tmp_path / "r.sqlite"
    rc = cli_main(["sweep", path, "--db", str(db)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("paxsim: error: ")
    assert message in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not db.exists()   # nothing half-written


def test_bad_cli_flags_exit_2(tmp_path, capsys):
    db = tmp_path / "r.sqlite"
    assert cli_main(["sweep", "--protocols", "uncoordinated", "--workers", "0", "--db", str(db)]) == 2
    assert "--workers: must be at least 1" in capsys.readouterr().err
    assert cli_main(["sweep", "--protocols", "single_server", "--servers", "3", "--db", str(db)]) == 2
    assert "the grid is empty" in capsys.readouterr().err
    assert not db.exists()


# ---- rows ------------------------------------------------------------------------------------

def test_sweep_writes_one_row_per_config_and_seed(tmp_path):
    db = str(tmp_path / "r.sqlite")
    exp = small()
    stats = run_sweep(exp, db, workers=1, progress=False)
    assert (stats.total, stats.skipped, stats.ran) == (36, 0, 36)
    rows = read_rows(db)
    assert len(rows) == 36
    assert keys(rows) == sorted(keys(rows))
    expected = sorted(("small", c.key(), s) for c in exp.configs() for s in exp.seeds)
    assert keys(rows) == expected
    r = rows[0]
    assert set(COLUMNS) <= set(r)
    assert r["protocol"] == "single_server" and r["servers"] == 1
    assert r["requests_sent"] == 6                     # workload 2x3
    assert r["outcome"] in ("SAFE", "UNSAFE", "STUCK")
    assert r["sent_by_type"]["REQ"] >= 6
    # crash rate 1 draws exactly one crash per run
    assert {x["crashes"] for x in rows if x["crash_rate"] == 1.0} == {1}
    assert {x["crashes"] for x in rows if x["crash_rate"] == 0.0} == {0}
    # a run is fixed by its seed: the same as running it alone
    cfg = exp.configs()[5]
    alone = runner_mod.run_one("small", cfg, 2)
    stored = next(x for x in rows if x["config"] == cfg.key() and x["seed"] == 2)
    for k in ("latency_mean", "messages_sent", "unavailable_time", "outcome", "sent_by_type"):
        assert stored[k] == alone[k]


def test_fractional_crash_rate_is_an_average():
    counts = [runner_mod.fault_count(0.5, seed, "crashes") for seed in range(400)]
    assert set(counts) == {0, 1}
    assert 150 < sum(counts) < 250
    assert [runner_mod.fault_count(2.0, s, "crashes") for s in range(5)] == [2] * 5


def test_workers_two_gives_the_same_rows_as_one(tmp_path):
    exp = small()
    a, b = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    run_sweep(exp, a, workers=1, progress=False)
    run_sweep(exp, b, workers=2, progress=False)
    assert read_rows(a) == read_rows(b)


class Stop(KeyboardInterrupt):
    pass


@pytest.mark.parametrize("workers", [1, 2])
def test_interrupted_sweep_resumes_without_duplicates_or_gaps(tmp_path, monkeypatch, workers):
    db = str(tmp_path / "r.sqlite")
    exp = small()
    seen = []

    def interrupt(rows):
        seen.extend(rows)
        if len(seen) >= 7:
            raise Stop()

    with pytest.raises(Stop):
        run_sweep(exp, db, workers=workers, progress=False, on_rows=interrupt)
    saved = read_rows(db)
    assert 7 <= len(saved) < 36
    assert {(r["config"], r["seed"]) for r in seen} <= {(r["config"], r["seed"]) for r in saved}

    # rerun: count executions of run_one (in this process with workers=1)
    calls = []
    real = runner_mod.run_one
    monkeypatch.setattr(runner_mod, "run_one", lambda *a: calls.append(a[1:]) or real(*a))
    stats = run_sweep(exp, db, workers=1, progress=False)
    assert stats.skipped == len(saved)
    assert stats.ran == len(calls) == 36 - len(saved)
    assert not {(c.key(), s) for c, s in calls} & {(r["config"], r["seed"]) for r in saved}
    rows = read_rows(db)
    assert keys(rows) == sorted(("small", c.key(), s) for c in exp.configs() for s in exp.seeds)
    # and a third run does nothing
    calls.clear()
    assert run_sweep(exp, db, workers=1, progress=False).ran == 0 and calls == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT config || seed) FROM runs").fetchone() == (36, 36)


def test_ctrl_c_on_the_command_saves_finished_runs_and_a_rerun_resumes(tmp_path):
    db = tmp_path / "r.sqlite"
    cmd = [sys.executable, "-m", "paxsim", "sweep", "--protocols", "wait_for_learn_majority", "--servers", "3",
           "--crash-rate", "1", "--seeds", "300", "--workers", "2", "--db", str(db)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        n = 0
        deadline = time.monotonic() + 60
        while n == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            if db.exists():
                try:
                    with sqlite3.connect(db) as conn:
                        n = conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
                except sqlite3.OperationalError:
                    n = 0
        os.killpg(proc.pid, signal.SIGINT)   # Ctrl-C at a terminal: the whole process group
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert "finished runs are saved" in err
    saved = len(read_rows(str(db)))
    assert 0 < saved < 300
    again = subprocess.run(cmd + ["--no-progress"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"{saved} of 300 runs already in" in again.stderr
    assert f"{300 - saved} runs done, {saved} already stored" in again.stdout
    rows = read_rows(str(db))
    assert len(rows) == 300 and sorted(r["seed"] for r in rows) == list(range(300))


# ---- export -----------------------------------------------------------------------------------

def test_csv_export_spreads_message_kinds(tmp_path):
    import csv

    db = str(tmp_path / "r.sqlite")
    run_sweep(experiment_from_flags("e", {"protocols": "send_accept", "servers": "2", "seeds": "2"}), db,
              workers=1, progress=False)
    out = str(tmp_path / "rows.csv")
    assert export_csv(db, out) == 2
    with open(out) as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    assert int(rows[0]["sent_ACC"]) >= 1 and int(rows[0]["sent_REQ"]) == 12
    assert "sent_by_type" not in rows[0]
    assert [int(r["seed"]) for r in rows] == [0, 1]


def test_to_dataframe_needs_pandas_or_gives_a_frame(tmp_path):
    db = str(tmp_path / "r.sqlite")
    run_sweep(experiment_from_flags("e", {"protocols": "single_server", "servers": "1", "seeds": "2"}), db,
              workers=1, progress=False)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="to_dataframe needs pandas"):
            to_dataframe(db)
    else:
        df = to_dataframe(db)
        assert len(df) == 2 and "sent_REQ" in df.columns


def test_other_files_are_refused(tmp_path):
    bad = tmp_path / "notdb.sqlite"
    bad.write_text("hello, this is not sqlite" * 100)
    with pytest.raises(Exception, match="not a paxsim results database"):
        ResultsDB(str(bad))


def test_a_killed_worker_stops_the_sweep_and_a_rerun_completes_it(tmp_path, monkeypatch):
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        pytest.fail("this test patches the worker function before the pool forks")
    db = str(tmp_path / "r.sqlite")
    exp = small()
    real = runner_mod.run_one

    def dies_on_seed_2(experiment, cfg, seed):
        if seed == 2 and cfg.protocol == "uncoordinated" and cfg.servers == 2:
            os._exit(9)   # the worker process dies (as if killed)
        return real(experiment, cfg, seed)

    monkeypatch.setattr(runner_mod, "run_one", dies_on_seed_2)
    with pytest.raises(runner_mod.SweepAborted, match="a worker process died"):
        run_sweep(exp, db, workers=2, progress=False)
    saved = read_rows(db)
    assert len(saved) < 36
    assert not [r for r in saved if r["seed"] == 2 and r["protocol"] == "uncoordinated" and r["servers"] == 2]
    monkeypatch.setattr(runner_mod, "run_one", real)
    stats = run_sweep(exp, db, workers=2, progress=False)
    assert stats.skipped == len(saved) and stats.ran == 36 - len(saved)
    assert len(read_rows(db)) == 36


def test_progress_bar_and_plain_lines():
    import io

    plain = io.StringIO()
    p = runner_mod.Progress("exp", 10, 4, enabled=False, stream=plain)
    p.advance(6)
    p.close()
    assert plain.getvalue().startswith("exp: 10/10 runs")
    fancy = io.StringIO()
    p = runner_mod.Progress("exp", 10, 4, enabled=True, stream=fancy)
    p.advance(3)
    p.close()
    assert "exp" in fancy.getvalue() and "7/10" in fancy.getvalue()


# ---- protocol parameters as dimensions; the protocol's code in the key -------------------------

FLEX = "examples.flexible_paxos:FlexiblePaxos"


def test_param_grid_from_flags_and_file(tmp_path):
    exp = experiment_from_flags("g", {"protocols": f"paxos,{FLEX}", "servers": "3,5", "seeds": "2"},
                                param_grid={"q2": [2, 3]})
    cfgs = exp.configs()
    # paxos does not take q2: once per n; flex: q2=2,3 for n=3, only q2=3 for n=5 (q1 + q2 > n)
    got = sorted((c.protocol, c.servers, dict(c.params).get("q2")) for c in cfgs)
    assert got == sorted([("paxos", 3, None), ("paxos", 5, None), (FLEX, 3, 2), (FLEX, 3, 3), (FLEX, 5, 3)])
    assert any("q2=2, 5 servers (q2: q1 + q2 must exceed" in n for n in exp.skipped)
    path = write(tmp_path, f'protocols = ["{FLEX}"]\nservers = [5]\nseeds = 2\n[params."{FLEX}"]\nq1 = 4\n'
                           'q2 = [2, 3]\n')
    exp = load_experiment(path)
    assert sorted(dict(c.params)["q2"] for c in exp.configs()) == [2, 3]
    assert all(dict(c.params)["q1"] == 4 for c in exp.configs())
    with pytest.raises(GridError, match="--param: q2: no protocol of the grid takes it"):
        experiment_from_flags("g", {"protocols": "paxos"}, param_grid={"q2": [2]})
    with pytest.raises(GridError, match="--param: q2: must be a whole number"):
        experiment_from_flags("g", {"protocols": FLEX}, param_grid={"q2": ["x"]})


def test_an_edited_protocol_supersedes_its_stored_rows(tmp_path):
    """Rows are keyed by a digest of the protocol's source: after an edit, the same
    sweep reruns it (and says so) instead of reporting stale rows."""
    (tmp_path / "mymod.py").write_text(
        "from paxsim.protocols.uncoordinated import Uncoordinated\n\n"
        "class Mine(Uncoordinated):\n    name = 'mine'\n")
    db = tmp_path / "r.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "paxsim", "sweep", "--protocols", "mymod:Mine,uncoordinated", "--servers", "2",
           "--seeds", "3", "--workers", "1", "--db", str(db), "--json"]

    def sweep():
        r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout), r.stderr

    first, _ = sweep()
    assert (first["ran"], first["already_stored"], first["superseded"]) == (6, 0, {})
    again, err = sweep()
    assert (again["ran"], again["already_stored"]) == (0, 6)
    codes = {r["protocol"]: r["code"] for r in read_rows(str(db))}
    with open(tmp_path / "mymod.py", "a") as fh:
        fh.write("\n# an edit: any change to the source counts\n")
    edited, err = sweep()
    assert (edited["ran"], edited["already_stored"], edited["superseded"]) == (3, 3, {"mymod:Mine": 3})
    assert "3 stored runs of mymod:Mine in sweep were made by other code of mymod:Mine" in err
    rows = read_rows(str(db))
    assert len(rows) == 6
    assert {r["protocol"]: r["code"] for r in rows}["uncoordinated"] == codes["uncoordinated"]
    assert {r["protocol"]: r["code"] for r in rows}["mymod:Mine"] != codes["mymod:Mine"]


def test_library_errors_are_library_exceptions_and_quiet_is_quiet(tmp_path, capsys):
    from paxsim.cli import UsageError
    from paxsim.sweep import SweepError

    db = str(tmp_path / "r.sqlite")
    with pytest.raises(SweepError, match="the grid is empty") as info:
        run_sweep(experiment_from_flags("e", {"protocols": "single_server", "servers": "3"}), db)
    assert not isinstance(info.value, UsageError)
    stats = run_sweep(experiment_from_flags("e", {"protocols": "single_server", "servers": "1", "seeds": "2"}),
                      db, workers=1, progress=False, log=open(os.devnull, "w"))
    assert stats.ran == 2
    assert capsys.readouterr().err == ""
    assert cli_main(["sweep", "--protocols", "single_server,uncoordinated", "--servers", "1,2", "--seeds", "2",
                     "--name", "e", "--db", db, "--quiet", "--json", "--workers", "1"]) == 0
    out = capsys.readouterr()
    assert out.err == ""
    summary = json.loads(out.out)
    assert summary["ran"] == 4 and summary["already_stored"] == 2 and summary["total"] == 6
    assert summary["notes"] == ["single_server with 2 servers (it runs with exactly 1)"]


def test_runs_go_to_workers_in_batches_that_shrink_towards_the_end():
    tasks = list(range(1000))
    batches = runner_mod.chunks(tasks, 2)
    assert [t for b in batches for t in b] == tasks               # every run once, in order
    sizes = [len(b) for b in batches]
    assert sizes[0] == runner_mod.MAX_CHUNK and len(batches) < 40  # few hand-offs for many short runs
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] <= runner_mod.MIN_CHUNK
    assert [len(b) for b in runner_mod.chunks(list(range(5)), 4)] == [4, 1]
