"""The tutorial notebook runs from top to bottom, and is committed without outputs.

The kernel is this interpreter (sys.executable): a kernelspec named ``python3`` is
written to a temporary JUPYTER_PATH folder first, so the test works in a fresh venv
whatever kernels the machine has installed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "tutorial.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    for c in code:
        assert c.outputs == [] and c.execution_count is None


@pytest.fixture
def own_kernel(tmp_path, monkeypatch):
    import ipykernel  # noqa: F401  - the kernel must be importable by this interpreter

    spec = tmp_path / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (paxsim tests)",
        "language": "python",
    }))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return "python3"


def test_tutorial_notebook_runs(own_kernel):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(nb, kernel_name=own_kernel, timeout=300,
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()          # raises CellExecutionError if any cell (or assert in it) fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    svgs = [o for o in outputs if o.get("output_type") == "display_data" and "image/svg+xml" in o.get("data", {})]
    from paxsim.figures import figure_files

    assert len(svgs) >= len(figure_files())          # a diagram for every figure (plus the changed runs)
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    assert "fig02: UNSAFE (the tutorial says UNSAFE)" in text
    assert "prefix_chain" in text
