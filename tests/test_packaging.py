"""A built wheel carries everything the README's commands need: installed in a
fresh virtual environment, every command works from an empty folder.

The wheel is built offline from a copy of the source (no build isolation, no
download); the fresh environment reuses this interpreter's dependencies through a
``.pth`` file, so nothing is fetched, but paxsim itself comes only from the wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ("paxsim", "scenarios", "examples", "experiments", "setup.py", "pyproject.toml", "README.md",
          "MANIFEST.in")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    for name in SOURCE:
        p = ROOT / name
        if p.is_dir():
            shutil.copytree(p, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(p, src / name)
    dist = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                        "--no-index", "-w", str(dist), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (whl,) = dist.glob("paxsim-*.whl")
    return whl


def test_the_wheel_carries_every_module_and_the_data(wheel):
    from paxsim import __version__

    names = set(zipfile.ZipFile(wheel).namelist())
    assert wheel.name.startswith(f"paxsim-{__version__}-")
    code = {str(p.relative_to(ROOT)) for p in (ROOT / "paxsim").rglob("*.py") if "__pycache__" not in p.parts}
    assert code - names == set()              # namespace packages (no __init__.py) included
    assert "paxsim/py.typed" in names
    for folder, pattern in (("scenarios", "*.toml"), ("examples", "*.py"), ("examples", "*.toml"),
                            ("experiments", "*.toml")):
        files = {f"paxsim/data/{folder}/{p.name}" for p in (ROOT / folder).glob(pattern)}
        assert files and files <= names, folder
    meta = zipfile.ZipFile(wheel).read(f"paxsim-{__version__}.dist-info/METADATA").decode()
    for line in ("Provides-Extra: pandas", "Provides-Extra: notebooks", "Project-URL: Source",
                 "Classifier: Typing :: Typed"):
        assert line in meta


@pytest.fixture(scope="module")
def fresh(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies (simpy, numpy, ...) of this environment, without downloading them
    (Path(purelib) / "paxsim-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps",
                        "--no-index", str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return venv


FLEX = (ROOT / "examples" / "flexible_paxos.py").read_text()


def test_every_command_works_from_an_empty_folder(fresh, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}

    def paxsim(*args, rc=0):
        r = subprocess.run([str(fresh / "bin" / "paxsim"), *args], cwd=empty, env=env, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == rc, (args, r.stdout[-2000:], r.stderr[-2000:])
        return r.stdout

    where = subprocess.run([str(fresh / "bin" / "python"), "-c", "import paxsim; print(paxsim.__file__)"],
                           cwd=empty, env=env, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(fresh))      # the installed wheel, not the source tree
    assert "figures behave as the tutorial says" in paxsim("figures")
    listing = paxsim("protocols")
    assert "paxos  (paxsim.protocols.paxos:Paxos)" in listing and "figures: fig12b" in listing
    assert "fig05: retrans_accept_fallback" in paxsim("run", "scenarios/fig05.toml", "--events", "0")
    # a user's Flexible Paxos, next to nothing else
    (empty / "myflex.py").write_text(FLEX)
    run = json.loads(paxsim("run", "scenarios/fig12b.toml", "--protocol", "myflex:FlexiblePaxos",
                            "--param", "q1=4", "--param", "q2=2", "--json"))
    assert run["outcome"] == "SAFE" and run["protocol"] == "myflex:FlexiblePaxos"
    assert run["overridden"]["params"]["q2"] == {"from": None, "to": 2}
    # a two-parameter sweep (servers x q2) with a --param grid, then compare
    summary = json.loads(paxsim("sweep", "--protocols", "paxos,myflex:FlexiblePaxos", "--servers", "3,5",
                                "--param", "q2=2,3", "--seeds", "3", "--workers", "1", "--quiet", "--json"))
    assert summary["ran"] == 15 and summary["total"] == 15    # flex q2=2 with 5 servers is left out
    table = paxsim("compare", "--out", "plots")
    header = next(l for l in table.splitlines() if "protocol" in l and "runs" in l)
    assert " n " in header and " q2 " in header                # every varying dimension is a column
    assert "paired by seed" in table and (empty / "plots" / "messages_vs_servers.png").exists()
    # shipped experiments and examples resolve from here too
    assert "runs done" in paxsim("sweep", "experiments/crashes.toml", "--seeds", "1", "--workers", "1",
                                 "--db", "crashes.sqlite", "--quiet")
    assert "nothing found" in paxsim("fuzz", "--protocol", "examples.leader_only:LeaderOnly",
                                     "--budget-examples", "3")
