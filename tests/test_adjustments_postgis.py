"""The shared adjustments table in PostGIS (records.zone_adjustments): the editor
adds and edits, the viewer only reads, a publish never touches it, and
`geopark adjust --from-db` brings the rows into the GeoPackage that runs use."""

from __future__ import annotations

import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from pipeline.adjustments import LAYER
from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.db.publish import publish
from pipeline.run import compute, run_zones
from tests.postgis import postgis_available
from tests.test_publish import (  # noqa: F401 - the server and database fixtures
    EDITOR_LOGIN,
    PIPELINE_LOGIN,
    VIEWER_LOGIN,
    _denied,
    dbname,
    pg,
    target_for,
)

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.skipif(not postgis_available(), reason="PostgreSQL 15 + PostGIS not installed"),
    pytest.mark.timeout(600),
]

TABLE = "records.zone_adjustments"
UNIT = "LS-CG-04"


def _insert(conn, unit: str, wkt: str) -> int:
    return conn.execute(
        f"INSERT INTO {TABLE} (unit_code, zone_class, author, adjusted_on, reason, geom) "
        "VALUES (%s, 'I', 'Lê Văn Cường', '2025-04-02', 'theo bờ suối / along the stream', "
        "ST_Multi(ST_GeomFromText(%s, 9215))) RETURNING adjustment_id",
        (unit, wkt),
    ).fetchone()[0]


def test_editor_may_add_and_edit_adjustments_and_the_viewer_may_not(pg, dbname, sample_run):  # noqa: F811
    cfg, result = sample_run
    publish(cfg, target_for(pg, dbname))
    zone_i = result.zones.protection_zones.query("unit_code == @UNIT and zone_class == 'I'")
    wkt = shapely.to_wkt(zone_i.geometry.iloc[0])
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        new_id = _insert(editor, UNIT, wkt)
        editor.execute(f"UPDATE {TABLE} SET reason = 'theo taluy' WHERE adjustment_id = {new_id}")
        editor.commit()
        row = editor.execute(
            f"SELECT reason, created_by, ST_SRID(geom) FROM {TABLE} WHERE adjustment_id = {new_id}"
        ).fetchone()
        assert row == ("theo taluy", EDITOR_LOGIN, 9215)
        assert _denied(editor, f"DELETE FROM {TABLE}")
        assert _denied(editor, f"UPDATE {TABLE} SET created_by = 'someone else'")
        assert _denied(editor, f"TRUNCATE {TABLE}")
    with pg.connect(dbname, VIEWER_LOGIN) as viewer:
        assert viewer.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] == 1
        assert _denied(viewer, f"UPDATE {TABLE} SET reason = 'x'")
        assert _denied(viewer, f"DELETE FROM {TABLE}")
        with pytest.raises(Exception) as caught:
            _insert(viewer, "LS-CL-03", wkt)
        assert "permission denied" in str(caught.value)
    # a second publish (forced: a full table swap) leaves the table as it was
    publish(cfg, target_for(pg, dbname), force=True)
    with pg.connect(dbname, VIEWER_LOGIN) as viewer:
        assert viewer.execute(f"SELECT reason FROM {TABLE}").fetchall() == [("theo taluy",)]


def test_adjust_from_db_brings_the_database_rows_into_the_runs(
    pg,  # noqa: F811
    dbname,  # noqa: F811
    sample_run,
    write_config,
    monkeypatch,
):
    sample_cfg, _ = sample_run
    publish(sample_cfg, target_for(pg, dbname))
    path = write_config()
    cfg = load_config(path)
    first = run_zones(cfg)
    zone_i = first.zones.protection_zones.query("unit_code == @UNIT and zone_class == 'I'")
    drawn = shapely.buffer(zone_i.geometry.iloc[0], 10.0)
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        _insert(editor, UNIT, shapely.to_wkt(drawn))
        editor.commit()
    monkeypatch.setenv("DATABASE_URL", pg.url(dbname, VIEWER_LOGIN))  # reading is enough
    runner = CliRunner()
    done = runner.invoke(cli, ["adjust", "--from-db", "--config", str(path)])
    assert done.exit_code == 0, done.output
    assert f"{UNIT} I" in done.output
    local = pyogrio.read_dataframe(cfg.edits.geopackage, layer=LAYER)
    assert list(local["unit_code"]) == [UNIT] and local["author"][0] == "Lê Văn Cường"
    applied = compute(cfg).legal.detailed.query("unit_code == @UNIT")  # as drawn
    core = applied.set_index("zone_class").geometry["I"]
    assert shapely.symmetric_difference(core, drawn).area < 1e-3
    # pulling again changes nothing; a differing row needs --replace
    again = runner.invoke(cli, ["adjust", "--from-db", "--config", str(path)])
    assert again.exit_code == 0 and "unchanged: " + f"{UNIT} I" in again.output.replace(
        "giữ nguyên / ", ""
    )
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        editor.execute(f"UPDATE {TABLE} SET reason = 'đổi / changed'")
        editor.commit()
    refused = runner.invoke(cli, ["adjust", "--from-db", "--config", str(path)])
    assert refused.exit_code == 2 and "--replace" in refused.output and UNIT in refused.output
    taken = runner.invoke(cli, ["adjust", "--from-db", "--replace", "--config", str(path)])
    assert taken.exit_code == 0
    assert pyogrio.read_dataframe(cfg.edits.geopackage, layer=LAYER)["reason"][0] == "đổi / changed"
