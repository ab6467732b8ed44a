"""QGIS reading the PostGIS database: default styles and the stored project.

A real PostgreSQL + PostGIS server (tests/postgis.py) gets the sample
GeoPackage's layers as tables with a ``geom`` column, a read-only role, our
styles in ``public.layer_styles`` and the project in QGIS's project storage.
Real PyQGIS then connects through a ``pg_service.conf`` service as the
read-only role, as a viewer in the park office would, and must see every
layer valid with its features and our style, and open the stored project.

The load here is deliberately minimal (the publish command is tested on its
own); what is under test is the QGIS side.
"""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
import shapely
import sqlalchemy as sa

from pipeline.db.srs import spatial_ref_sys_insert
from pipeline.outputs import GPKG_LAYERS
from pipeline.qgis.project import GROUPS, store_project_in_postgres
from pipeline.qgis.styles import STYLE_NAME, write_postgres_styles
from tests.postgis import postgis_available, running_server
from tests.qgis_helpers import ROOT, assert_style_is_published, pyqgis_available, run_qgis

pytestmark = [
    pytest.mark.qgis,
    pytest.mark.postgis,
    pytest.mark.skipif(
        not pyqgis_available(), reason="PyQGIS (Debian python3-qgis) is not installed"
    ),
    pytest.mark.skipif(not postgis_available(), reason="PostgreSQL + PostGIS are not installed"),
]

EDIT_SCRIPT = ROOT / "tests" / "qgis_scripts" / "edit_adjustment.py"
DATABASE = "geopark_qgis"
SCHEMA = "geopark"
READER = "geopark_viewer_test"
SERVICE = "geopark_test"


def _spatial_layers(gpkg: Path) -> list[str]:
    return [str(n) for n, g in pyogrio.list_layers(gpkg) if g is not None and str(n) in GPKG_LAYERS]


def _load(engine: sa.Engine, gpkg: Path) -> None:
    """Each GeoPackage layer as <schema>.<layer> with geometry(<type>, 9215) ``geom`` and a key."""
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS postgis"))
        connection.execute(sa.text(spatial_ref_sys_insert(9215)))  # PostGIS 3.3 lacks it
        connection.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
    for name in _spatial_layers(gpkg):
        frame = pyogrio.read_dataframe(gpkg, layer=name).rename_geometry("geom")
        frame.to_postgis(name, engine, schema=SCHEMA, index=False)
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    f"ALTER TABLE {SCHEMA}.{name} ALTER COLUMN geom TYPE "
                    f"geometry({GPKG_LAYERS[name]}, 9215) "
                    f"USING geom::geometry({GPKG_LAYERS[name]}, 9215)"
                )
            )
            connection.execute(
                sa.text(f"ALTER TABLE {SCHEMA}.{name} ADD COLUMN fid serial PRIMARY KEY")
            )


@pytest.fixture(scope="module")
def database(sample_gpkg: Path, tmp_path_factory: pytest.TempPathFactory):
    with running_server() as server:
        with server.connect(autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DATABASE}")
            admin.execute(f"CREATE ROLE {READER} LOGIN")
        engine = sa.create_engine(server.url(DATABASE))
        _load(engine, sample_gpkg)
        layers = _spatial_layers(sample_gpkg)
        with engine.begin() as connection:
            # a style a QGIS user saved as their own default before the publish
            connection.execute(
                sa.text(
                    "CREATE TABLE public.layer_styles (id serial PRIMARY KEY, "
                    "f_table_catalog varchar, "
                    "f_table_schema varchar, f_table_name varchar, f_geometry_column varchar, "
                    "stylename text, styleqml xml, stylesld xml, useasdefault boolean, "
                    "description text, "
                    "owner varchar(63) DEFAULT CURRENT_USER, ui xml, "
                    # an old QGIS's table: no type column
                    "update_time timestamp DEFAULT CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                sa.text(
                    "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, "
                    "f_table_name, "
                    "f_geometry_column, stylename, styleqml, useasdefault) VALUES "
                    f"('{DATABASE}', '{SCHEMA}', 'geosites', 'geom', 'mine', "
                    "XMLPARSE(DOCUMENT '<qgis/>'), true)"
                )
            )
            styled = write_postgres_styles(connection, SCHEMA, layers, database=DATABASE)
            store_project_in_postgres(connection, SCHEMA, database=DATABASE, service=SERVICE)
        first = _snapshot(engine)
        with engine.begin() as connection:  # the same publish again
            again = write_postgres_styles(connection, SCHEMA, layers, database=DATABASE)
            store_project_in_postgres(connection, SCHEMA, database=DATABASE, service=SERVICE)
        second = _snapshot(engine)
        with engine.begin() as connection:
            for statement in (
                f"GRANT CONNECT ON DATABASE {DATABASE} TO {READER}",
                f"GRANT USAGE ON SCHEMA {SCHEMA} TO {READER}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {READER}",
                f"GRANT SELECT ON public.layer_styles TO {READER}",
            ):
                connection.execute(sa.text(statement))
        work = tmp_path_factory.mktemp("qgis_pg")
        service_file = work / "pg_service.conf"
        service_file.write_text(
            f"[{SERVICE}]\nhost={server.host}\nport={server.port}\ndbname={DATABASE}\nuser={READER}\n",
            "utf-8",
        )
        yield {
            "server": server,
            "engine": engine,
            "layers": layers,
            "styled": (styled, again),
            "snapshots": (first, second),
            "work": work,
            "service_file": service_file,
            "gpkg": sample_gpkg,
        }
        engine.dispose()


def _snapshot(engine: sa.Engine) -> dict:
    with engine.connect() as connection:
        styles = connection.execute(
            sa.text(
                "SELECT id, f_table_name, stylename, useasdefault, update_time, type, "
                "f_geometry_column, f_table_catalog, f_table_schema "
                "FROM public.layer_styles ORDER BY id"
            )
        ).all()
        projects = connection.execute(
            sa.text(f"SELECT name, metadata, content FROM {SCHEMA}.qgis_projects")
        ).all()
    return {"styles": [tuple(r) for r in styles], "projects": [tuple(r) for r in projects]}


@pytest.fixture(scope="module")
def qgis_view(database):
    request = {
        "layers": [
            {
                "name": name,
                "provider": "postgres",
                "uri": f"service='{SERVICE}' key='fid' srid=9215 type={GPKG_LAYERS[name]} "
                f'table="{SCHEMA}"."{name}" (geom)',
            }
            for name in database["layers"]
        ],
        "projects": [f"postgresql:///?service={SERVICE}&schema={SCHEMA}&project=geopark"],
    }
    env = {"PGSERVICEFILE": str(database["service_file"])}
    return run_qgis(request, database["work"], env)


def test_styles_table_has_one_default_per_layer(database):
    first, _ = database["snapshots"]
    layers = database["layers"]
    assert database["styled"] == (len(layers), len(layers))
    ours = [row for row in first["styles"] if row[2] == STYLE_NAME]
    assert sorted(row[1] for row in ours) == sorted(layers)
    for row in ours:
        assert row[3] is True
        base = GPKG_LAYERS[row[1]].removeprefix("Multi")
        assert row[5] == {"Point": "Point", "LineString": "Line"}.get(base, "Polygon")
        assert row[6:] == ("geom", DATABASE, SCHEMA)
    theirs = [row for row in first["styles"] if row[2] == "mine"]
    assert len(theirs) == 1 and theirs[0][3] is False  # kept, no longer the default


def test_republishing_the_same_styles_and_project_changes_nothing(database):
    first, second = database["snapshots"]
    assert first == second  # same ids, update times, metadata and bytes


def test_every_layer_opens_from_postgis_as_the_read_only_role(database, qgis_view):
    seen = {layer["name"]: layer for layer in qgis_view["layers"]}
    for name in database["layers"]:
        layer = seen[name]
        assert layer["valid"], layer
        assert layer["crs"] == "EPSG:9215"
        expected = pyogrio.read_info(database["gpkg"], layer=name)["features"]
        assert layer["feature_count"] == expected, name
        assert layer["features_read"] == expected, name


def test_every_layer_has_our_default_style_from_postgis(database, qgis_view):
    seen = {layer["name"]: layer for layer in qgis_view["layers"]}
    for name in database["layers"]:
        layer = seen[name]
        assert layer["default_style_loaded"], (name, layer["default_style_message"])
        assert_style_is_published(name, layer["on_open"])
        assert_style_is_published(name, layer["default"])
        assert STYLE_NAME in layer["database_styles"]


def test_the_stored_project_opens_with_every_layer(database, qgis_view):
    (project,) = qgis_view["projects"]
    assert project["read"], project["error"]
    assert project["crs"] == "EPSG:9215"
    assert list(project["groups"]) == [name for name, _ in GROUPS]
    assert sorted(layer["id"] for layer in project["layers"]) == sorted(
        f"geopark_{name}" for name in database["layers"]
    )
    for layer in project["layers"]:
        assert layer["valid"], layer
        assert layer["provider"] == "postgres"
        assert f"service='{SERVICE}'" in layer["source"]
        assert "password" not in layer["source"] and "user=" not in layer["source"]
        table = layer["id"].removeprefix("geopark_")
        assert (
            layer["feature_count"] == pyogrio.read_info(database["gpkg"], layer=table)["features"]
        )
        assert_style_is_published(table, layer["renderer"])


def test_project_metadata_is_what_qgis_writes(database):
    first, _ = database["snapshots"]
    ((name, metadata, content),) = first["projects"]
    assert name == "geopark"
    assert set(metadata) == {"last_modified_time", "last_modified_user"}
    assert metadata["last_modified_user"] == database["server"].superuser
    assert bytes(content[:2]) == b"PK"  # a .qgz (zip)


# --------------------------------------------------------------------------- with `geopark publish`

PUBLISHED_DB = "geopark_published"
PUBLISHER = "qgis_test_publisher"
VIEWER = "qgis_test_viewer"


def _pg_env(server, login: str) -> dict[str, str]:
    """The standard PG* variables a QGIS user's connection to the published database reads."""
    return {
        "PGHOST": server.host,
        "PGPORT": str(server.port),
        "PGUSER": login,
        "PGDATABASE": PUBLISHED_DB,
    }


@pytest.fixture(scope="module")
def published(database, sample_run):
    """The real publish (README's administrator SQL, then ``publish``) into a fresh database."""
    from pipeline.db.connection import resolve
    from pipeline.db.publish import publish
    from pipeline.db.roles import admin_sql

    cfg, _ = sample_run
    server = database["server"]
    with server.connect(autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{PUBLISHED_DB}"')
    with server.connect(PUBLISHED_DB, autocommit=True) as admin:
        admin.execute(admin_sql(cfg.database, PUBLISHED_DB))
        admin.execute(f"CREATE ROLE {PUBLISHER} LOGIN IN ROLE {cfg.database.owner_role}")
        admin.execute(f"CREATE ROLE {VIEWER} LOGIN IN ROLE {cfg.database.viewer_role}")
    target = resolve(cfg.database, environ={"DATABASE_URL": server.url(PUBLISHED_DB, PUBLISHER)})
    publish(cfg, target)
    schema = cfg.database.schema_
    # a viewer's connection from the standard PG* variables, as the project expects
    env = _pg_env(server, VIEWER)
    request = {
        "layers": [
            {
                "name": name,
                "provider": "postgres",
                "uri": f"dbname='{PUBLISHED_DB}' srid=9215 type={GPKG_LAYERS[name]} "
                f'table="{schema}"."{name}" (geom)',
            }
            for name in database["layers"]
        ],
        "projects": [
            f"postgresql:///?dbname={PUBLISHED_DB}&schema={schema}&project={cfg.database.project_name}"
        ],
    }
    work = database["work"] / "published"
    return {
        "cfg": cfg,
        "result": run_qgis(request, work, env),
        "gpkg": database["gpkg"],
        "layers": database["layers"],
    }


def test_published_layers_open_as_the_viewer_with_our_styles(published):
    seen = {layer["name"]: layer for layer in published["result"]["layers"]}
    for name in published["layers"]:
        layer = seen[name]
        assert layer["valid"], layer
        assert layer["crs"] == "EPSG:9215"
        expected = pyogrio.read_info(published["gpkg"], layer=name)["features"]
        assert layer["features_read"] == expected, name
        assert_style_is_published(name, layer["on_open"])


def test_published_project_opens_as_the_viewer(published):
    (project,) = published["result"]["projects"]
    assert project["read"], project["error"]
    assert project["crs"] == "EPSG:9215"
    assert "SAMPLE DATA" in project["title"]  # the sample run's data are approximate
    # every published layer, and the shared adjustments table of the field records
    assert sorted(layer["id"] for layer in project["layers"]) == sorted(
        [f"geopark_{name}" for name in published["layers"]] + ["geopark_zone_adjustments"]
    )
    for layer in project["layers"]:
        assert layer["valid"], layer
        assert f"dbname='{PUBLISHED_DB}'" in layer["source"]
        assert_style_is_published(layer["id"].removeprefix("geopark_"), layer["renderer"])
    (adjustments,) = [x for x in project["layers"] if x["id"] == "geopark_zone_adjustments"]
    records = published["cfg"].database.records_schema
    assert f'table="{records}"."zone_adjustments" (geom)' in adjustments["source"]
    assert "key='adjustment_id'" in adjustments["source"]


EDITOR = "qgis_test_editor"
ADJUSTED_UNIT = "LS-CG-04"


def _draw_adjustment_as(login: str, published, database, wkt: str, **attributes) -> dict:
    """Open the stored project in PyQGIS as ``login`` (PG* variables), add an adjustment
    the way QGIS's add-feature tool does, save; returns what QGIS reported."""
    cfg, server = published["cfg"], database["server"]
    env = _pg_env(server, login)
    request = {
        "project": f"postgresql:///?dbname={PUBLISHED_DB}&schema={cfg.database.schema_}"
        f"&project={cfg.database.project_name}",
        "add": {
            "layer_id": "geopark_zone_adjustments",
            "wkt": wkt,
            "attributes": {"adjusted_on": "2026-03-14", **attributes},
        },
    }
    return run_qgis(request, database["work"] / f"edit_{login}", env, script=EDIT_SCRIPT)


def _adjustment_rows(published, database) -> list[tuple]:
    records = published["cfg"].database.records_schema
    with database["server"].connect(PUBLISHED_DB, autocommit=True) as admin:
        return admin.execute(
            "SELECT unit_code, zone_class, author, reason, created_by, ST_SRID(geom), "
            f"ST_Area(geom) FROM {records}.zone_adjustments"
        ).fetchall()


def test_stored_project_edits_the_shared_adjustments_as_the_editor(published, database):
    """The editor opens the stored project in QGIS, draws an adjustment and saves it:
    the row lands in records.zone_adjustments, stamped by the database with the login."""
    cfg = published["cfg"]
    with database["server"].connect(PUBLISHED_DB, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {EDITOR} LOGIN IN ROLE {cfg.database.editor_role}")
    zones = pyogrio.read_dataframe(published["gpkg"], layer="protection_zones")
    zone_i = zones[(zones["unit_code"] == ADJUSTED_UNIT) & (zones["zone_class"] == "I")]
    drawn = zone_i.geometry.iloc[0].buffer(5.0)  # the geologist moves the boundary out 5 m
    seen = _draw_adjustment_as(
        EDITOR,
        published,
        database,
        shapely.to_wkt(shapely.MultiPolygon([drawn]) if drawn.geom_type == "Polygon" else drawn),
        unit_code=ADJUSTED_UNIT,
        zone_class="I",
        author="Nguyễn Văn An",
        reason="theo mép taluy đường / along the road cut",
    )
    assert seen["read"]
    layer = seen["layers"]["geopark_zone_adjustments"]
    assert layer["valid"] and layer["provider"] == "postgres"
    assert not layer["read_only"] and layer["can_add_features"] and layer["can_change_geometry"]
    snap = seen["snapping"]
    assert snap["enabled"] and snap["advanced"]
    assert snap["layers"]["geopark_zone_adjustments"] == {
        "enabled": True,
        "vertex": True,
        "segment": True,
    }
    # the generated layers stay read-only in the project
    assert seen["layers"]["geopark_protection_zones"]["read_only"]
    added = seen["add"]
    assert added["started"] and added["added"], added
    assert added["committed"], added["errors"]
    rows = _adjustment_rows(published, database)
    assert len(rows) == 1
    unit, zone_class, author, reason, created_by, srid, area = rows[0]
    assert (unit, zone_class, author, srid) == (ADJUSTED_UNIT, "I", "Nguyễn Văn An", 9215)
    assert reason.startswith("theo mép taluy") and created_by == EDITOR
    assert area == pytest.approx(drawn.area, rel=1e-6)


def test_the_viewer_cannot_edit_the_shared_adjustments(published, database):
    """The same project opened by a viewer: QGIS shows the layer, the database refuses the row."""
    before = _adjustment_rows(published, database)
    seen = _draw_adjustment_as(
        VIEWER,
        published,
        database,
        "MULTIPOLYGON(((0 0,10 0,10 10,0 10,0 0)))",
        unit_code="LS-CL-03",
        zone_class="II",
        author="x",
        reason="x",
    )
    assert seen["layers"]["geopark_zone_adjustments"]["valid"]
    assert not seen["add"]["committed"]
    assert _adjustment_rows(published, database) == before
