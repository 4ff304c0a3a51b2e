"""The same sweep on a Dask cluster (a LocalCluster on loopback) gives the same rows."""

from __future__ import annotations

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


def test_bad_scheduler_address_exits_2_and_writes_nothing(tmp_path, capsys):
    db = tmp_path / "r.sqlite"
    rc = cli_main(["sweep", "--protocols", "uncoordinated", "--seeds", "2", "--db", str(db),
                   "--scheduler", "nonsense://x"])
    assert rc == 2
    assert "--scheduler: cannot connect to nonsense://x" in capsys.readouterr().err
    assert not db.exists()
