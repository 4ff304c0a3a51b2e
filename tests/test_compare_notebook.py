"""notebooks/compare.ipynb runs top to bottom on a small grid and shows its tables and
plots; it is stored with the outputs of a full run, so that they show when browsing."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "compare.ipynb"


def outputs_of(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def text_of(outputs) -> str:
    """Printed text and rich's tables (shown as display data in a notebook)."""
    return "".join(o.get("text", "") if o.output_type == "stream" else o.get("data", {}).get("text/plain", "")
                   for o in outputs)


def test_notebook_is_stored_with_the_outputs_of_a_full_run():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs and c.execution_count for c in code)
    outputs = outputs_of(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    text = text_of(outputs)
    assert "40 seeds per configuration" in text and "[('crashes', 240), ('flex', 120), ('sizes', 360)]" in text


def test_compare_notebook_runs_on_a_small_grid(monkeypatch, tmp_path):
    monkeypatch.setenv("PAXSIM_NOTEBOOK_SEEDS", "3")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs = []
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = outputs_of(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    text = text_of(outputs)
    assert "3 seeds per configuration" in text
    assert "18 runs" in text          # 2 protocols x 3 crash rates x 3 seeds
    assert "27 runs" in text          # 3 sizes x 3 loss rates x 3 seeds
    assert "9 runs" in text           # paxos, flexible q2=2, q2=3 x 3 seeds
    assert "messages per request without loss" in text
    assert text.count("paired by seed") == 2
    assert "[('crashes', 18), ('flex', 9), ('sizes', 27)]" in text
    images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert len(images) == 4
