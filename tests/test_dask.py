"""The same sweep on a Dask cluster (a LocalCluster on loopback) gives the same rows."""

from __future__ import annotations

import json
import os

import pytest

from paxsim.cli import main as cli_main
from paxsim.sweep import experiment_from_flags, read_rows, run_sweep

distributed = pytest.importorskip("distributed")  # a test dependency (pyproject [test])


def test_dask_cluster_rows_equal_local_rows(tmp_path, capsys):
    exp = experiment_from_flags("d", {"protocols": "uncoordinated,send_accept", "servers": "2,3",
                                      "loss": "0,0.05", "crash_rate": "1", "seeds": "4"})
    local = str(tmp_path / "local.sqlite")
    remote = str(tmp_path / "dask.sqlite")
    run_sweep(exp, local, workers=1, progress=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp", host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        rc = cli_main(["sweep", "--protocols", "uncoordinated,send_accept", "--servers", "2,3", "--loss", "0,0.05",
                       "--crash-rate", "1", "--seeds", "4", "--name", "d", "--db", remote,
                       "--scheduler", cluster.scheduler_address, "--no-progress"])
    assert rc == 0
    assert "32 runs done, 0 already stored" in capsys.readouterr().out
    a, b = read_rows(local), read_rows(remote)
    assert len(a) == 32
    assert a == b


def test_bad_scheduler_address_exits_2_and_writes_nothing(tmp_path):
    # In a process of its own, as a user runs it: a Client that fails to connect can
    # leave distributed's shared event-loop runner unusable for later Clients of the
    # same process (seen in CI: the next test's Client failed to start its loop).
    import subprocess
    import sys
    from pathlib import Path

    db = tmp_path / "r.sqlite"
    root = Path(__file__).resolve().parent.parent
    p = subprocess.run([sys.executable, "-m", "paxsim", "sweep", "--protocols", "uncoordinated", "--seeds", "2",
                        "--db", str(db), "--scheduler", "nonsense://x"], capture_output=True, text=True,
                       cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)}, timeout=120)
    assert p.returncode == 2
    assert "--scheduler: cannot connect to nonsense://x" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert not db.exists()


USER_MODULE = '''"""A user's protocol module, in a folder the Dask workers know nothing about."""
from paxsim.protocols.paxos import Paxos


class HalfQuorumPaxos(Paxos):
    """Paxos with its learn quorum as a parameter (0: a majority)."""

    name = "half_quorum_paxos"
    params = {**Paxos.params, "lq": 0}

    def learn_quorum(self):
        return self.p["lq"] or super().learn_quorum()
'''


@pytest.fixture
def cluster(tmp_path):
    """A real scheduler and two worker processes on 127.0.0.1, started here. The
    workers run in an empty folder with only paxsim on their path."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(root)
    env["DASK_DISTRIBUTED__WORKER__DAEMON"] = "False"
    where = tmp_path / "cluster"
    where.mkdir()
    sfile = where / "scheduler.json"
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(sfile)],
                              cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not sfile.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(sfile.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for i in range(2):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(sfile), "--host",
                 "127.0.0.1", "--nthreads", "1", "--no-dashboard", "--no-nanny", "--name", f"w{i}",
                 "--local-directory", str(where / f"w{i}")],
                cwd=where, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with distributed.Client(address, timeout=30) as c:
            c.wait_for_workers(2, timeout=60)
            assert set(c.run(lambda: __import__("importlib.util").util.find_spec("dask_user_mod")).values()) == {None}
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_a_users_module_is_shipped_to_real_workers_and_gives_the_local_rows(tmp_path, monkeypatch, cluster):
    user = tmp_path / "user"
    user.mkdir()
    (user / "dask_user_mod.py").write_text(USER_MODULE)
    monkeypatch.chdir(user)                # found from the current folder, as python -m would
    exp = experiment_from_flags("u", {"protocols": "paxos,dask_user_mod:HalfQuorumPaxos,"
                                                   "examples.flexible_paxos:FlexiblePaxos",
                                      "servers": "3", "crash_rate": "1", "seeds": "4"},
                                param_grid={"lq": [0, 3], "q2": [3]})
    local, remote = str(tmp_path / "local.sqlite"), str(tmp_path / "dask.sqlite")
    run_sweep(exp, local, workers=1, progress=False)
    stats = run_sweep(exp, remote, scheduler=cluster, progress=False)
    assert stats.ran == 16
    with distributed.Client(cluster, timeout=30) as c:
        where = c.run(lambda: __import__("dask_user_mod").__file__)
    assert len(where) == 2 and all(str(user) not in f for f in where.values())   # the shipped copies
    a, b = read_rows(local), read_rows(remote)
    assert len(a) == 16 and a == b
