"""The starter notebook runs from top to bottom on the sample GeoPackage."""

from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from tests.conftest import ROOT

NOTEBOOK = ROOT / "notebooks" / "geopark_start.ipynb"


def test_notebook_executes_on_the_sample_geopackage(sample_gpkg, monkeypatch):
    # the kernel is a child of this (venv) interpreter and inherits this environment
    monkeypatch.setenv("GEOPARK_GPKG", str(sample_gpkg))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PGSERVICE", raising=False)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(
        o.get("text", "")
        if o.get("output_type") == "stream"
        else str(o.get("data", {}).get("text/plain", ""))
        for o in outputs
    )
    assert "EPSG" in text and "9215" in text
    assert "illustrative / minh họa: True" in text
    assert "no database configured" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the zone plots
