"""notebooks/compare.ipynb runs top to bottom on a small grid and shows its tables and plots."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "compare.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_compare_notebook_runs_on_a_small_grid(monkeypatch, tmp_path):
    monkeypatch.setenv("PAXSIM_NOTEBOOK_SEEDS", "3")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "3 seeds per configuration" in text
    assert "18 runs" in text          # 2 protocols x 3 crash rates x 3 seeds
    assert "27 runs" in text          # 3 sizes x 3 loss rates x 3 seeds
    assert "messages per request without loss" in text
    assert "[('crashes', 18), ('sizes', 27)]" in text
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) == 4
