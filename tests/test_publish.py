"""``geopark publish`` against a real PostgreSQL 15 + PostGIS 3 server started
by the test suite (tests/postgis.py). No mocks of the database."""

from __future__ import annotations

import csv
import itertools
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyogrio
import pytest

from pipeline.config import load_config
from pipeline.db import migrate, models, views
from pipeline.db.connection import Target, resolve
from pipeline.db.publish import publish
from pipeline.outputs import GPKG_LAYERS
from tests.postgis import (
    Server,
    create_geopark_database,
    postgis_available,
    running_server,
    wait_for,
)

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.skipif(not postgis_available(), reason="PostgreSQL 15 + PostGIS not installed"),
    pytest.mark.timeout(600),
]

ROOT = Path(__file__).resolve().parents[1]
PIPELINE_LOGIN = "pipeline_login"  # member of the owner role
VIEWER_LOGIN = "viewer_login"
EDITOR_LOGIN = "editor_login"
_db_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg() -> Iterator[Server]:
    with running_server() as server:
        yield server


@pytest.fixture
def dbname(pg: Server, sample_run) -> str:
    """A fresh database set up with the README's administrator SQL, and three logins."""
    cfg, _ = sample_run
    return create_geopark_database(
        pg,
        cfg.database,
        f"geopark_t{next(_db_numbers)}",
        {
            PIPELINE_LOGIN: cfg.database.owner_role,
            VIEWER_LOGIN: cfg.database.viewer_role,
            EDITOR_LOGIN: cfg.database.editor_role,
        },
    )


def target_for(pg: Server, dbname: str, user: str = PIPELINE_LOGIN) -> Target:
    return resolve(
        load_config(ROOT / "geopark.toml").database, environ={"DATABASE_URL": pg.url(dbname, user)}
    )


def layer_counts(conn: psycopg.Connection, schema: str = "geopark") -> dict[str, int]:
    return {
        t.name: conn.execute(f'SELECT count(*) FROM "{schema}"."{t.name}"').fetchone()[0]
        for t in models.LAYER_TABLES
    }


def gpkg_counts(gpkg: Path) -> dict[str, int]:
    present = {name for name, _ in pyogrio.list_layers(gpkg)}
    return {
        t.name: (pyogrio.read_info(gpkg, layer=t.name)["features"] if t.name in present else 0)
        for t in models.LAYER_TABLES
    }


def table_oids(conn: psycopg.Connection, schema: str = "geopark") -> dict[str, int]:
    rows = conn.execute(
        "SELECT c.relname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'v')",
        (schema,),
    ).fetchall()
    return dict(rows)


def publish_cli(pg: Server, dbname: str, config: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": pg.url(dbname, PIPELINE_LOGIN), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "publish", "--config", str(config), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# --------------------------------------------------------------------------- tests


def test_first_publish_loads_every_layer_with_types_keys_and_comments(
    pg, dbname, sample_run, sample_gpkg
):
    cfg, _ = sample_run
    result = publish(cfg, target_for(pg, dbname))
    assert result.status == "published"
    with pg.connect(dbname) as conn:
        assert layer_counts(conn) == gpkg_counts(sample_gpkg)
        assert layer_counts(conn)["geosites"] > 0
        # geometry columns: the GeoPackage's geometry type and SRID, each with a GiST index
        spatial = {name: kind for name, kind in GPKG_LAYERS.items() if kind != "None"}
        assert set(spatial) <= {t.name for t in models.LAYER_TABLES}
        for name, kind in spatial.items():
            declared = conn.execute(
                "SELECT type, srid FROM geometry_columns WHERE f_table_schema = 'geopark' "
                "AND f_table_name = %s AND f_geometry_column = 'geom'",
                (name,),
            ).fetchone()
            assert declared == (kind.upper(), 9215), name
            gist = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'geopark' AND tablename = %s "
                "AND indexdef ILIKE '%%USING gist (geom)%%'",
                (name,),
            ).fetchone()[0]
            assert gist == 1, name
        # primary keys everywhere; foreign keys to the geosite code
        no_pk = conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('geopark', 'records') AND c.relkind = 'r' AND NOT EXISTS "
            "(SELECT FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'p')"
        ).fetchall()
        assert no_pk == []
        fk_tables = {
            r[0]
            for r in conn.execute(
                "SELECT conrelid::regclass::text FROM pg_constraint WHERE contype = 'f' "
                "AND confrelid = 'geopark.geosites'::regclass"
            )
        }
        assert {"geopark.zone_i", "geopark.zone_ii", "geopark.survey_points"} <= fk_tables
        # every table, view and column commented in Vietnamese and English ("vi / en")
        missing = conn.execute(
            "SELECT c.relname, a.attname, col_description(c.oid, a.attnum), obj_description(c.oid) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname IN ('geopark', 'records') AND c.relkind IN ('r', 'v') "
            "AND c.relname <> 'alembic_version'"
        ).fetchall()
        assert missing
        for table, column, col_comment, table_comment in missing:
            assert col_comment and " / " in col_comment, f"{table}.{column}"
            assert table_comment and " / " in table_comment, table
        log = conn.execute(
            "SELECT status, published_by, inputs, counts, pipeline_version, sample_data "
            "FROM geopark.publish_log"
        ).fetchall()
        assert len(log) == 1
        status, by, inputs, counts, version, sample = log[0]
        assert (status, by, sample) == ("published", PIPELINE_LOGIN, True)
        manifest_inputs = __import__("json").loads(cfg.output_path("manifest").read_text())[
            "inputs"
        ]
        assert inputs == manifest_inputs and all(len(i["sha256"]) == 64 for i in inputs)
        assert counts == gpkg_counts(sample_gpkg)
        assert version == __import__("pipeline").__version__
        # objects belong to the owner role
        owners = {
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('geopark', 'records')"
            )
        }
        assert owners == {cfg.database.owner_role}
        assert conn.execute("SELECT to_regnamespace('geopark_staging')").fetchone()[0] is None


def test_republish_of_same_outputs_changes_nothing_but_the_log(pg, dbname, sample_run, sample_gpkg):
    cfg, _ = sample_run
    target = target_for(pg, dbname)
    first = publish(cfg, target)
    with pg.connect(dbname) as conn:
        before = table_oids(conn)
        data_before = conn.execute(
            "SELECT geosite_code, ST_AsEWKB(geom) FROM geopark.geosites ORDER BY 1"
        ).fetchall()
    second = publish(cfg, target)
    assert (first.status, second.status) == ("published", "unchanged")
    assert second.fingerprint == first.fingerprint
    with pg.connect(dbname) as conn:
        assert table_oids(conn) == before  # not one table or view replaced
        assert conn.execute(
            "SELECT status FROM geopark.publish_log ORDER BY publish_id"
        ).fetchall() == [("published",), ("unchanged",)]
    # a forced republish replaces the rows with the same content, in the same tables
    third = publish(cfg, target, force=True)
    assert third.status == "published"
    with pg.connect(dbname) as conn:
        assert table_oids(conn) == before  # tables are permanent: rows are replaced
        assert layer_counts(conn) == gpkg_counts(sample_gpkg)
        assert (
            conn.execute(
                "SELECT geosite_code, ST_AsEWKB(geom) FROM geopark.geosites ORDER BY 1"
            ).fetchall()
            == data_before
        )
        assert (
            conn.execute(
                "SELECT count(*) FROM geopark.publish_log WHERE status = 'published'"
            ).fetchone()[0]
            == 2
        )


def _blocked_in_replace(pg: Server, dbname: str) -> bool:
    with pg.connect(dbname) as conn:
        return (
            conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geopark-publish' "
                "AND wait_event_type = 'Lock' AND query ILIKE 'DELETE FROM%%'"
            ).fetchone()[0]
            == 1
        )


def _hold_layers(pg: Server, dbname: str) -> psycopg.Connection:
    """A superuser transaction holding SHARE locks on the layers: the publish's
    DELETE waits for it (readers cannot do this: it needs write privileges)."""
    holder = pg.connect(dbname)
    holder.execute(
        "LOCK TABLE "
        + ", ".join(f"geopark.{t.name}" for t in models.LAYER_TABLES)
        + " IN SHARE MODE"
    )
    return holder


def test_killed_publish_leaves_the_previous_version_complete(
    pg, dbname, sample_run, sample_gpkg, tmp_path
):
    cfg, _ = sample_run
    publish(cfg, target_for(pg, dbname))
    expected = gpkg_counts(sample_gpkg)
    # The publish loads and verifies its staging copy and starts replacing rows
    # (deleting the old ones in its transaction); a SHARE lock makes it wait
    # there, and we kill it in the middle.
    holder = _hold_layers(pg, dbname)
    proc = publish_cli(pg, dbname, cfg.source, "--force")
    try:
        wait_for(lambda: _blocked_in_replace(pg, dbname), what="the publish to reach the replace")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        holder.rollback()
        holder.close()
    assert proc.returncode == -signal.SIGKILL
    # autocommit: pg_stat_activity is read once per transaction, so polling it inside
    # one would keep seeing the killed session that was there at the first look
    with pg.connect(dbname, autocommit=True) as conn:
        wait_for(
            lambda: (
                conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'geopark-publish'"
                ).fetchone()[0]
                == 0
            ),
            what="the killed session to end",
        )
        assert layer_counts(conn) == expected
        assert (
            conn.execute("SELECT count(*) FROM geopark.geosite_overview").fetchone()[0]
            == expected["geosites"]
        )
        assert conn.execute("SELECT count(*) FROM geopark.publish_log").fetchone()[0] == 1
        assert conn.execute("SELECT to_regnamespace('geopark_staging')").fetchone()[0] is None
    # and the next publish works (the advisory lock went with the killed session)
    assert publish(cfg, target_for(pg, dbname), force=True, wait_s=0).status == "published"


def test_two_publishes_at_once_wait_or_refuse_cleanly(pg, dbname, sample_run, sample_gpkg):
    cfg, _ = sample_run
    publish(cfg, target_for(pg, dbname))
    holder = _hold_layers(pg, dbname)
    first = publish_cli(pg, dbname, cfg.source, "--force")
    try:
        wait_for(lambda: _blocked_in_replace(pg, dbname), what="the first publish to hold the lock")
        refused = publish_cli(pg, dbname, cfg.source, "--force", "--wait", "0")
        _, refused_err = refused.communicate(timeout=120)
        waiting = publish_cli(pg, dbname, cfg.source, "--wait", "300")

        def waits_for_publish_lock() -> bool:
            with pg.connect(dbname) as conn:
                return (
                    conn.execute(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'relation' AND NOT granted "
                        "AND relation = 'geopark.publish_lock'::regclass"
                    ).fetchone()[0]
                    == 1
                )

        wait_for(waits_for_publish_lock, what="the third publish to wait")
    finally:
        holder.rollback()
        holder.close()
    _, first_err = first.communicate(timeout=300)
    waiting_out, waiting_err = waiting.communicate(timeout=300)
    assert refused.returncode == 2
    assert "another publish" in refused_err and "một lần xuất bản khác" in refused_err
    assert "Traceback" not in refused_err
    assert first.returncode == 0, first_err
    assert waiting.returncode == 0, waiting_err
    assert "unchanged" in waiting_out  # it waited, then found the first one's content
    with pg.connect(dbname) as conn:
        assert layer_counts(conn) == gpkg_counts(sample_gpkg)
        assert conn.execute(
            "SELECT status FROM geopark.publish_log ORDER BY publish_id"
        ).fetchall() == [("published",), ("published",), ("unchanged",)]


def _denied(conn: psycopg.Connection, statement: str) -> bool:
    try:
        conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        conn.rollback()
        return True
    conn.rollback()
    return False


def _insert_inspection(conn: psycopg.Connection, code: str, geom: str | None = None) -> int:
    return conn.execute(
        "INSERT INTO records.inspections (geosite_code, inspected_on, inspector, condition, threats, geom) "
        "VALUES (%s, '2025-03-01', 'Nguyễn Văn An', 'fair', 'xói mòn / erosion', "
        "ST_GeomFromText(%s, 9215)) RETURNING inspection_id",
        (code, geom),
    ).fetchone()[0]


def test_viewer_reads_everything_and_is_denied_every_write(pg, dbname, sample_run):
    cfg, _ = sample_run
    publish(cfg, target_for(pg, dbname))
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        _insert_inspection(editor, "LS-TP-01")
        editor.commit()
    with pg.connect(dbname, VIEWER_LOGIN) as viewer:
        relations = viewer.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('geopark', 'records') AND c.relkind IN ('r', 'v') "
            "AND c.relname <> 'publish_lock' ORDER BY 1, 2"
        ).fetchall()
        assert len(relations) >= len(models.LAYER_TABLES) + len(views.VIEWS) + 3
        assert _denied(viewer, "SELECT * FROM geopark.publish_lock")  # only the owner locks it
        for schema, name, kind in relations:
            table = f'"{schema}"."{name}"'
            viewer.execute(f"SELECT * FROM {table} LIMIT 1").fetchall()  # reading works
            column = viewer.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum DESC LIMIT 1",
                (table,),
            ).fetchone()[0]
            for privilege in ("INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"):
                assert not viewer.execute(
                    "SELECT has_table_privilege(%s, %s)", (table, privilege)
                ).fetchone()[0], (table, privilege)
            if kind == "r":  # and trying for real
                assert _denied(viewer, f"DELETE FROM {table}"), table
                assert _denied(viewer, f'UPDATE {table} SET "{column}" = "{column}"'), table
                assert _denied(viewer, f"INSERT INTO {table} DEFAULT VALUES"), table
                assert _denied(viewer, f"TRUNCATE {table}"), table
                assert _denied(viewer, f"DROP TABLE {table}"), table
                assert _denied(viewer, f"ALTER TABLE {table} ADD COLUMN x int"), table
        for schema in ("geopark", "records", "public"):
            assert _denied(viewer, f"CREATE TABLE {schema}.intruder (x int)"), schema
        assert _denied(viewer, "CREATE TEMP TABLE intruder (x int)")
        assert _denied(viewer, "CREATE SCHEMA intruder")
        assert _denied(viewer, "UPDATE public.layer_styles SET useasdefault = false")


def test_editor_adds_and_edits_records_but_cannot_touch_published_layers(pg, dbname, sample_run):
    cfg, _ = sample_run
    publish(cfg, target_for(pg, dbname))
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        new_id = _insert_inspection(editor, "LS-TP-01", "POINT(500000 2400000)")
        editor.execute(
            "UPDATE records.inspections SET condition = 'poor', notes = 'sạt lở' "
            "WHERE inspection_id = %s",
            (new_id,),
        )
        editor.commit()
        row = editor.execute(
            "SELECT condition, created_by FROM records.inspections WHERE inspection_id = %s",
            (new_id,),
        ).fetchone()
        assert row == ("poor", EDITOR_LOGIN)
        # records are never lost, nor their authorship rewritten
        assert _denied(editor, f"DELETE FROM records.inspections WHERE inspection_id = {new_id}")
        assert _denied(editor, "TRUNCATE records.inspections")
        assert _denied(editor, "UPDATE records.inspections SET created_by = 'someone else'")
        # INSERT is granted on the whole table (QGIS offers "add feature" only then), yet
        # the author and time a client sends are replaced by the stamp trigger's
        forged = editor.execute(
            "INSERT INTO records.inspections (geosite_code, inspected_on, inspector, condition, "
            "created_by, created_at) VALUES ('LS-TP-01', '2025-01-01', 'x', 'good', "
            "'someone else', '2000-01-01') RETURNING created_by, created_at"
        ).fetchone()
        assert forged[0] == EDITOR_LOGIN and forged[1].year > 2000
        editor.rollback()
        # the CHECK constraint refuses an unknown condition
        with pytest.raises(psycopg.errors.CheckViolation):
            editor.execute("UPDATE records.inspections SET condition = 'excellent'")
        editor.rollback()
        for table in models.LAYER_TABLES:
            name = f"geopark.{table.name}"
            assert _denied(editor, f"DELETE FROM {name}"), name
            assert _denied(editor, f"INSERT INTO {name} DEFAULT VALUES"), name
            assert _denied(editor, f"UPDATE {name} SET fid = fid"), name
        for name in ("geopark.publish_log", "geopark.qgis_projects"):
            assert _denied(editor, f"DELETE FROM {name}"), name
        assert _denied(editor, "CREATE TABLE records.mine (x int)")


def _register_without(write_config, code: str, tmp_path: Path) -> Path:
    """A configuration whose inputs lack geosite ``code`` (register, survey points, assessment)."""

    def drop_code(raw: dict) -> None:
        specs = [raw["inputs"][k] for k in raw["inputs"] if isinstance(raw["inputs"][k], dict)]
        specs += [
            s for k in raw["inputs"] if isinstance(raw["inputs"][k], list) for s in raw["inputs"][k]
        ]
        for n, spec in enumerate(specs):
            source = Path(spec["path"])
            if source.suffix != ".csv":
                continue
            with open(source, newline="", encoding="utf-8") as handle:
                rows = list(csv.DictReader(handle))
            if not rows or "geosite_code" not in rows[0]:
                continue
            kept = [r for r in rows if r["geosite_code"] != code]
            target = tmp_path / f"input_{n}_{source.name}"
            with open(target, "w", newline="", encoding="utf-8") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(kept)
            spec["path"] = str(target)

    return write_config(drop_code)


def test_records_survive_republish_and_orphans_are_kept(
    pg, dbname, sample_run, write_config, tmp_path
):
    from pipeline.run import run_zones

    cfg, _ = sample_run
    target = target_for(pg, dbname)
    publish(cfg, target)
    with open(cfg.inputs.geosites.path, newline="", encoding="utf-8") as handle:
        register = list(csv.DictReader(handle))
    lone = [r["geosite_code"] for r in register if not r.get("cluster_code")]
    gone, stays = lone[-1], lone[0]
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        ids = {_insert_inspection(editor, gone): gone, _insert_inspection(editor, stays): stays}
        editor.commit()
        before = editor.execute(
            "SELECT * FROM records.inspections ORDER BY inspection_id"
        ).fetchall()

    smaller = load_config(_register_without(write_config, gone, tmp_path))
    assert run_zones(smaller).published
    assert publish(smaller, target).status == "published"
    with pg.connect(dbname, VIEWER_LOGIN) as viewer:
        assert (
            viewer.execute(
                "SELECT count(*) FROM geopark.geosites WHERE geosite_code = %s", (gone,)
            ).fetchone()[0]
            == 0
        )
        assert (
            viewer.execute("SELECT * FROM records.inspections ORDER BY inspection_id").fetchall()
            == before
        )
        status = dict(
            viewer.execute(
                "SELECT inspection_id, orphaned FROM records.inspections_status"
            ).fetchall()
        )
        assert status == {i: code == gone for i, code in ids.items()}
        # an orphan still shows where its geosite last was, with its last known name
        orphan = viewer.execute(
            "SELECT s.name_vi, ST_AsEWKB(s.geom) = ST_AsEWKB(l.geom) FROM records.inspections_status s "
            "JOIN records.geosite_locations l USING (geosite_code) WHERE s.orphaned"
        ).fetchall()
        assert len(orphan) == 1 and orphan[0][0] and orphan[0][1] is True
    # publishing the full register again: the record is no longer orphaned
    publish(cfg, target)
    with pg.connect(dbname, VIEWER_LOGIN) as viewer:
        assert (
            viewer.execute("SELECT bool_or(orphaned) FROM records.inspections_status").fetchone()[0]
            is False
        )
        assert (
            viewer.execute("SELECT * FROM records.inspections ORDER BY inspection_id").fetchall()
            == before
        )


def test_schema_upgrade_from_an_older_revision_keeps_the_data(pg, dbname, sample_run, sample_gpkg):
    from sqlalchemy import create_engine, text

    cfg, _ = sample_run
    db = cfg.database
    engine = create_engine(pg.url(dbname, PIPELINE_LOGIN))
    with engine.connect() as conn:
        conn.execute(text(f"SET ROLE {db.owner_role}"))
        migrate.upgrade(conn, db, "0001")
        conn.commit()
        assert migrate.current_revision(conn, db) == "0001"
        columns = {
            r[0]
            for r in conn.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'records' AND table_name = 'inspections'"
                )
            )
        }
        assert "geom" not in columns  # the old shape
        conn.execute(
            text(
                "INSERT INTO records.inspections (geosite_code, inspected_on, inspector, condition, notes) "
                "VALUES ('LS-TP-01', '2024-11-05', 'Hoàng Thị Lan', 'good', 'trước nâng cấp / before upgrade'), "
                "('LS-XX-99', '2024-11-06', 'Hoàng Thị Lan', 'critical', NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO geopark.publish_log (status, fingerprint, pipeline_version) "
                "VALUES ('published', 'old', '0.0.1')"
            )
        )
        conn.commit()
    engine.dispose()
    # the publish upgrades the schema first, then publishes
    result = publish(cfg, target_for(pg, dbname))
    assert result.status == "published" and result.schema_revision == migrate.head_revision()
    with pg.connect(dbname) as conn:
        rows = conn.execute(
            "SELECT geosite_code, inspected_on::text, inspector, condition, notes, geom, "
            "created_by FROM records.inspections ORDER BY inspection_id"
        ).fetchall()
        assert [r[:5] for r in rows] == [
            ("LS-TP-01", "2024-11-05", "Hoàng Thị Lan", "good", "trước nâng cấp / before upgrade"),
            ("LS-XX-99", "2024-11-06", "Hoàng Thị Lan", "critical", None),
        ]
        assert all(r[5] is None and r[6] for r in rows)
        assert conn.execute(
            "SELECT fingerprint FROM geopark.publish_log ORDER BY publish_id"
        ).fetchall() == [("old",), (result.fingerprint,)]
        assert dict(
            conn.execute("SELECT geosite_code, orphaned FROM records.inspections_status").fetchall()
        ) == {"LS-TP-01": False, "LS-XX-99": True}
        # at head, the persistent tables have exactly the models' columns
        for table in (models.publish_log, models.qgis_projects, models.inspections):
            schema = "records" if table.schema == models.RECORDS else "geopark"
            found = dict(
                conn.execute(
                    "SELECT column_name, is_nullable FROM information_schema.columns "
                    "WHERE table_schema = %s AND table_name = %s",
                    (schema, table.name),
                ).fetchall()
            )
            assert found == {c.name: ("YES" if c.nullable else "NO") for c in table.columns}, (
                table.name
            )
        assert layer_counts(conn) == gpkg_counts(sample_gpkg)


def test_publish_through_a_pg_service_name(pg, dbname, sample_run, tmp_path):
    cfg, _ = sample_run
    service_file = tmp_path / "pg_service.conf"
    service_file.write_text(
        f"[heritage]\nhost={pg.host}\nport={pg.port}\ndbname={dbname}\nuser={PIPELINE_LOGIN}\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PGSERVICEFILE"] = str(service_file)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipeline",
            "publish",
            "--config",
            str(cfg.source),
            "--service",
            "heritage",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "service=heritage" in done.stderr
    with pg.connect(dbname) as conn:
        assert conn.execute("SELECT status, published_by FROM geopark.publish_log").fetchall() == [
            ("published", PIPELINE_LOGIN)
        ]


def test_a_changed_table_definition_is_applied_only_then_and_never_waits_silently(
    pg, dbname, sample_run, sample_gpkg, tmp_path
):
    cfg, _ = sample_run
    target = target_for(pg, dbname)
    publish(cfg, target)
    with pg.connect(dbname) as conn:
        before = table_oids(conn)
    # the live table no longer matches its model (as after a model change)
    with pg.connect(dbname, autocommit=True) as su:
        su.execute("ALTER TABLE geopark.quarantine ADD COLUMN stray integer")
    # a reader keeps it open: the publish must not wait silently, nor change anything
    reader = pg.connect(dbname, VIEWER_LOGIN)
    reader.execute("SELECT count(*) FROM geopark.quarantine").fetchone()
    impatient = tmp_path / "impatient.toml"
    impatient.write_text(
        cfg.source.read_text("utf-8").replace(
            "swap_lock_timeout_s = 60", "swap_lock_timeout_s = 0.5"
        ),
        "utf-8",
    )
    assert "swap_lock_timeout_s = 0.5" in impatient.read_text("utf-8")
    refused = publish_cli(pg, dbname, impatient, "--force")
    _, err = refused.communicate(timeout=300)
    reader.rollback()
    reader.close()
    assert refused.returncode == 2, err
    assert "swap_lock_timeout_s" in err and "Traceback" not in err
    assert "bảng đang bị giữ" in err and "kept busy" in err
    with pg.connect(dbname) as conn:
        assert table_oids(conn) == before
        assert layer_counts(conn) == gpkg_counts(sample_gpkg)
    # without the reader, the table is recreated from its model; the others stay
    assert publish(cfg, target, force=True).status == "published"
    with pg.connect(dbname) as conn:
        after = table_oids(conn)
        replaced = {name for name in after if after[name] != before.get(name)}
        assert replaced - {v.name for v in views.VIEWS} == {"quarantine"}
        assert {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'geopark' AND table_name = 'quarantine'"
            )
        } == {c.name for c in models.quarantine.columns}
        assert layer_counts(conn) == gpkg_counts(sample_gpkg)
    # and a further forced publish changes no table or view at all
    assert publish(cfg, target, force=True).status == "published"
    with pg.connect(dbname) as conn:
        assert table_oids(conn) == after
