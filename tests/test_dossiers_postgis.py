"""Dossier field inspections and the notebook's PostGIS cells against a real
PostgreSQL 15 + PostGIS server started by the test suite (tests/postgis.py).

The sample run is published with ``geopark publish``; the editor role records
field inspections in ``records.inspections``; the documents then read them as
the read-only viewer role, exactly as a geologist's workstation would.
"""

from __future__ import annotations

import html as html_lib
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pyogrio
import pytest
from nbclient import NotebookClient

from pipeline.config import dump_config, load_config
from pipeline.db.connection import resolve
from pipeline.db.publish import publish
from tests.conftest import _absolute, project_config_dict
from tests.postgis import Server, create_geopark_database, postgis_available, running_server

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.skipif(not postgis_available(), reason="PostgreSQL 15 + PostGIS not installed"),
    pytest.mark.timeout(600),
]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "geopark_start.ipynb"
PIPELINE_LOGIN = "dossier_pipeline_login"
VIEWER_LOGIN = "dossier_viewer_login"
EDITOR_LOGIN = "dossier_editor_login"
STRANGER_LOGIN = "dossier_stranger_login"  # may connect, holds no geopark role
ORPHAN_CODE = "LS-XX-99"
_db_numbers = itertools.count(1)

# Two inspections of one geosite, entered out of date order; Vietnamese text on purpose.
RECORDS = [
    {
        "inspected_on": "2025-04-18",
        "inspector": "Hoàng Thị Lan",
        "condition": "poor",
        "threats": "sạt lở taluy / slope failure",
        "notes": "cần rào chắn / needs a fence",
    },
    {
        "inspected_on": "2024-11-05",
        "inspector": "Nguyễn Văn An",
        "condition": "good",
        "threats": None,
        "notes": "không có gì bất thường / nothing unusual",
    },
]
ORPHAN_RECORD = {
    "inspected_on": "2025-01-09",
    "inspector": "Đặng Quốc Bảo",
    "condition": "critical",
    "threats": "khai thác đá / quarrying",
    "notes": "mã không có trong danh mục / code not in the register",
}


@pytest.fixture(scope="module")
def pg() -> Iterator[Server]:
    with running_server() as server:
        yield server


@pytest.fixture(scope="module")
def published(pg: Server, sample_run) -> dict:
    """A database set up with the README's administrator SQL, the sample run
    published into it and three inspections entered by the editor."""
    cfg, _ = sample_run
    name = create_geopark_database(
        pg,
        cfg.database,
        f"geopark_dossiers_t{next(_db_numbers)}",
        {
            PIPELINE_LOGIN: cfg.database.owner_role,
            VIEWER_LOGIN: cfg.database.viewer_role,
            EDITOR_LOGIN: cfg.database.editor_role,
        },
    )
    with pg.connect(name, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {STRANGER_LOGIN} LOGIN")
    target = resolve(cfg.database, environ={"DATABASE_URL": pg.url(name, PIPELINE_LOGIN)})
    assert publish(cfg, target).status == "published"

    codes = sorted(
        pyogrio.read_dataframe(
            cfg.output_path("geopackage"), layer="geosites", read_geometry=False
        )["geosite_code"]
    )
    assert ORPHAN_CODE not in codes and len(codes) > 2
    inspected = codes[len(codes) // 2]
    with pg.connect(name, EDITOR_LOGIN) as editor:
        for code, record in [(inspected, r) for r in RECORDS] + [(ORPHAN_CODE, ORPHAN_RECORD)]:
            editor.execute(
                "INSERT INTO records.inspections "
                "(geosite_code, inspected_on, inspector, condition, threats, notes) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (
                    code,
                    record["inspected_on"],
                    record["inspector"],
                    record["condition"],
                    record["threats"],
                    record["notes"],
                ),
            )
        editor.commit()
    return {"dbname": name, "codes": codes, "inspected": inspected}


def _dossier_config(sample_run, folder: Path) -> Path:
    """The sample run's configuration, with its dossiers written to ``folder``."""
    cfg, _ = sample_run
    raw = _absolute(project_config_dict())
    raw["outputs"]["directory"] = str(cfg.outputs.directory)
    raw["outputs"]["failed_directory"] = str(cfg.outputs.directory / "failed_run")
    raw["dossiers"]["directory"] = str(folder / "dossiers")
    raw["dossiers"]["zoning_sheets"] = str(folder / "no_sheets")  # sheets are not the point here
    path = folder / "geopark.toml"
    path.write_text(dump_config(raw), "utf-8")
    return path


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("PG")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def _dossiers_cli(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "dossiers", "--config", str(config), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _inspection_section(page: str) -> str:
    found = re.search(r'<section id="inspections">(.*?)</section>', page, re.S)
    assert found, "no inspections section"
    return found.group(1)


def _table_rows(section: str) -> list[list[str]]:
    """The data rows of the section's table, cell text unescaped."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        if cells:
            rows.append([html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return rows


def test_dossiers_list_the_inspections_read_as_the_viewer(pg, published, sample_run, tmp_path):
    config = _dossier_config(sample_run, tmp_path)
    env = _clean_env(
        DATABASE_URL=pg.url(published["dbname"], VIEWER_LOGIN).replace(
            "postgresql+psycopg://", "postgresql://"
        )
    )  # the plain libpq form users paste
    done = _dossiers_cli(config, env, "--no-pdf")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    total = len(RECORDS) + 1
    assert f"inspection records read: {total}" in done.stdout
    folder = tmp_path / "dossiers"
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    assert manifest["inspections_read"] == total

    inspected = published["inspected"]
    section = _inspection_section((folder / f"{inspected}.html").read_text("utf-8"))
    assert "No database configured" not in section
    assert "no inspection recorded" not in section
    rows = _table_rows(section)
    expected = sorted(RECORDS, key=lambda r: r["inspected_on"])  # oldest first
    assert len(rows) == len(expected)
    for row, record in zip(rows, expected, strict=True):
        joined = " | ".join(row)
        assert record["inspected_on"] in row, joined
        assert record["inspector"] in row, joined
        condition = row[3]  # the controlled value, with its Vietnamese name first
        vi, _, en = condition.partition(" / ")
        assert en == record["condition"] and vi and vi != en, joined
        assert any(record["notes"] in cell for cell in row), joined
        if record["threats"]:
            assert any(record["threats"] in cell for cell in row), joined
        assert "None" not in row and "nan" not in row, joined

    others = [c for c in published["codes"] if c != inspected]
    for code in others:
        other = _inspection_section((folder / f"{code}.html").read_text("utf-8"))
        assert "no inspection recorded in the database yet" in other, code
        assert "No database configured" not in other, code
        assert _table_rows(other) == [], code
        for record in [*RECORDS, ORPHAN_RECORD]:
            assert record["inspector"] not in other, code
    # the orphaned record (code not in the register) gets no dossier of its own
    assert not (folder / f"{ORPHAN_CODE}.html").exists()
    assert sorted(p.stem for p in folder.glob("LS-*.html")) == published["codes"]


def test_every_inspection_condition_has_a_vietnamese_name():
    from pipeline.db.models import CONDITIONS
    from pipeline.dossiers.content import CONDITION_VI

    assert set(CONDITION_VI) == set(CONDITIONS)
    assert all(CONDITION_VI.values())


def test_dossier_pdf_carries_the_inspections(pg, published, sample_run, tmp_path):
    from pipeline.dossiers import write_dossiers

    cfg = load_config(_dossier_config(sample_run, tmp_path))
    inspected = published["inspected"]
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("DATABASE_URL", pg.url(published["dbname"], VIEWER_LOGIN))
        mp.delenv("PGSERVICE", raising=False)
        run = write_dossiers(cfg, only=[inspected], pdf=True)
    finally:
        mp.undo()
    assert run.inspections == len(RECORDS) + 1
    pdf = cfg.dossiers.directory / f"{inspected}.pdf"
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for record in RECORDS:
        assert record["inspector"] in text
        assert record["inspected_on"] in text


def test_a_login_without_the_viewer_role_fails_clearly_and_keeps_previous_dossiers(
    pg, published, sample_run, tmp_path
):
    config = _dossier_config(sample_run, tmp_path)
    good = _dossiers_cli(
        config, _clean_env(DATABASE_URL=pg.url(published["dbname"], VIEWER_LOGIN)), "--no-pdf"
    )
    assert good.returncode == 0, good.stderr
    page = tmp_path / "dossiers" / f"{published['inspected']}.html"
    before = page.read_text("utf-8")
    denied = _dossiers_cli(
        config, _clean_env(DATABASE_URL=pg.url(published["dbname"], STRANGER_LOGIN)), "--no-pdf"
    )
    assert denied.returncode != 0
    assert "Traceback" not in denied.stderr
    assert "records.inspections" in denied.stderr
    assert "permission denied" in denied.stderr
    assert page.read_text("utf-8") == before


def test_notebook_queries_postgis_through_a_service(
    pg, published, sample_run, sample_gpkg, tmp_path
):
    """The notebook, executed with ``PGSERVICE`` as the viewer, shows database output."""
    service_file = tmp_path / "pg_service.conf"
    service_file.write_text(
        f"[heritage]\nhost={pg.host}\nport={pg.port}\ndbname={published['dbname']}\n"
        f"user={VIEWER_LOGIN}\n"
    )
    mp = pytest.MonkeyPatch()
    try:
        # the kernel is a child of this (venv) interpreter and inherits this environment
        for key in [k for k in os.environ if k == "DATABASE_URL" or k.startswith("PG")]:
            mp.delenv(key)
        mp.setenv("GEOPARK_GPKG", str(sample_gpkg))
        mp.setenv("PGSERVICEFILE", str(service_file))
        mp.setenv("PGSERVICE", "heritage")
        nb = nbformat.read(NOTEBOOK, as_version=4)
        NotebookClient(
            nb,
            timeout=300,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        ).execute()
    finally:
        mp.undo()
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [o for c in code_cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    db_cells = [c for c in code_cells if "sqlalchemy" in c.source or "PGSERVICE" in c.source]
    assert db_cells, "no PostGIS cell in the notebook"
    db_text = "\n".join(
        o.get("text", "")
        if o.get("output_type") == "stream"
        else str(o.get("data", {}).get("text/plain", ""))
        for c in db_cells
        for o in c.get("outputs", [])
    )
    assert "no database configured" not in db_text
    # the published tables, listed by the database itself
    for table in ("geosites", "protection_zones", "inspections"):
        assert table in db_text, table
    # zone areas computed by PostGIS (ST_Area), checked against the GeoPackage's geometries
    zones = pyogrio.read_dataframe(sample_gpkg, layer="protection_zones")
    expected = {
        cls: (round(group.geometry.area.sum() / 10_000, 2), len(group))
        for cls, group in zones.groupby("zone_class")
    }
    db_rows = {
        m.group(1): (float(m.group(2)), int(m.group(3)))
        for m in re.finditer(r"^\d+\s+(I|II)\s+([\d.]+)\s+(\d+)\s+[\d.]+\s*$", db_text, re.M)
    }
    assert set(db_rows) == {"I", "II"}, db_text
    for cls, (area, units) in db_rows.items():
        assert units == expected[cls][1], cls
        assert area == pytest.approx(expected[cls][0], abs=0.011), cls
    # inspections per geosite, as entered by the editor
    counts = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"(LS-[A-Z]+-\d+)\s+(\d+)\s*$", db_text, re.M)
    }
    assert counts.get(published["inspected"]) == len(RECORDS), db_text
    assert counts.get(ORPHAN_CODE) == 1, db_text


def test_dossiers_use_the_configured_service_and_records_schema(
    pg, sample_run, write_config, tmp_path, monkeypatch
):
    """``[database] service`` and ``records_schema`` from geopark.toml, no DATABASE_URL."""
    from pipeline.dossiers import write_dossiers

    base, _ = sample_run

    def edit(raw: dict) -> None:
        raw["outputs"]["directory"] = str(base.outputs.directory)
        raw["dossiers"]["directory"] = str(tmp_path / "dossiers")
        raw["dossiers"]["zoning_sheets"] = str(tmp_path / "no_sheets")
        raw["database"]["service"] = "fieldwork"
        raw["database"]["records_schema"] = "field_records"

    cfg = load_config(write_config(edit))
    name = create_geopark_database(pg, cfg.database, f"geopark_dossiers_t{next(_db_numbers)}")
    service_file = tmp_path / "pg_service.conf"
    service_file.write_text(
        f"[fieldwork]\nhost={pg.host}\nport={pg.port}\ndbname={name}\nuser={pg.superuser}\n"
    )
    for key in [k for k in os.environ if k == "DATABASE_URL" or k.startswith("PG")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PGSERVICEFILE", str(service_file))
    assert publish(cfg, resolve(cfg.database)).status == "published"
    code = sorted(
        pyogrio.read_dataframe(
            cfg.output_path("geopackage"), layer="geosites", read_geometry=False
        )["geosite_code"]
    )[0]
    with pg.connect(name, autocommit=True) as conn:
        conn.execute(f"SET ROLE {cfg.database.editor_role}")
        conn.execute(
            "INSERT INTO field_records.inspections "
            "(geosite_code, inspected_on, inspector, condition) "
            "VALUES (%s, '2025-02-14', 'Lường Văn Tâm', 'fair')",
            (code,),
        )
        assert conn.execute("SELECT to_regclass('records.inspections')").fetchone()[0] is None
    run = write_dossiers(cfg, only=[code], pdf=False)
    assert run.inspections == 1
    rows = _table_rows(_inspection_section((cfg.dossiers.directory / f"{code}.html").read_text()))
    assert len(rows) == 1 and "Lường Văn Tâm" in rows[0] and "2025-02-14" in rows[0]
