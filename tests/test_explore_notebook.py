"""The docs notebook (docs/notebooks/explore.ipynb) runs, and its last cell shows the explorer inline."""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "explore.ipynb"


def test_notebook_shows_the_explorer_inline(tmp_path, monkeypatch):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    repo = str(NOTEBOOK.parents[2])  # the kernel imports tinygraph from this checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH")) if p))
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    outputs = nb.cells[-1].outputs
    shown = [
        o for o in outputs if o.get("output_type") == "execute_result" and "text/html" in o.get("data", {})
    ]
    assert shown, outputs
    frame = shown[0]["data"]["text/html"]
    assert frame.startswith("<iframe") and 'sandbox="allow-scripts"' in frame
    page = html.unescape(re.search(r'srcdoc="(.*?)"', frame, re.S).group(1))
    data = json.loads(re.search(r'id="tinygraph-graph">(.*?)</script>', page, re.S).group(1))
    assert data["title"] == "one training step of a 2-4-2 network"
    assert any(n["name"] == "0.weight" for n in data["nodes"]) and data["steps"]
