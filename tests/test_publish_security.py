"""Roles and secrets of the heritage database, against the suite's real
PostgreSQL 15 + PostGIS server: objects planted in an open ``public`` never
run as the owner, every write a role should not have is denied (counted), the
inspections keep an audit trail, and no password is ever printed or stored."""

# ruff: noqa: F811  (the fixtures pg and dbname come from tests.test_publish)

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from pipeline.db import models
from pipeline.db.publish import publish
from pipeline.db.roles import admin_sql
from tests.postgis import pg_bin
from tests.test_publish import (  # noqa: F401  (fixtures)
    EDITOR_LOGIN,
    PIPELINE_LOGIN,
    ROOT,
    VIEWER_LOGIN,
    _insert_inspection,
    dbname,
    pg,
    target_for,
)

pytestmark = [pytest.mark.postgis, pytest.mark.timeout(900)]

# --------------------------------------------------------------------------- planted objects

#: A viewer's traps in ``public``: each records that it ran, and with whose
#: privileges, and tries to delete every inspection.
TRAP = """
CREATE TABLE public.trap_hits (who text, what text);
GRANT INSERT, SELECT ON public.trap_hits TO PUBLIC;
CREATE FUNCTION public.trap(what text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.trap_hits VALUES (current_user, what);
    BEGIN
        DELETE FROM records.inspections;
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    RETURN true;
END $$;
"""

#: Functions and operators shadowing what the publish, the views, the CHECK
#: constraints and the QGIS hooks call, each a better match than the real one
#: for some argument types.
PLANTED = [
    "CREATE FUNCTION public.st_isvalid(text) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('st_isvalid') $$",
    "CREATE FUNCTION public.st_srid(text) RETURNS integer LANGUAGE sql AS $$ SELECT public.trap('st_srid')::int $$",
    "CREATE FUNCTION public.st_xmin(public.geometry) RETURNS float8 LANGUAGE sql AS $$ SELECT public.trap('st_xmin')::int::float8 $$",
    "CREATE FUNCTION public.st_asewkb(text) RETURNS bytea LANGUAGE sql AS $$ SELECT public.trap('st_asewkb')::text::bytea $$",
    "CREATE FUNCTION public.count(text) RETURNS bigint LANGUAGE sql AS $$ SELECT public.trap('count')::int::bigint $$",
    "CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql AS $$ SELECT public.trap('lower')::text $$",
    "CREATE FUNCTION public.to_regclass(varchar) RETURNS regclass LANGUAGE sql AS $$ SELECT NULL::regclass WHERE public.trap('to_regclass') $$",
    "CREATE FUNCTION public.trap_ge(float8, integer) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('>=') $$",
    "CREATE OPERATOR public.>= (LEFTARG = float8, RIGHTARG = integer, FUNCTION = public.trap_ge)",
    "CREATE FUNCTION public.trap_eq(text, varchar) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('=') $$",
    "CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = varchar, FUNCTION = public.trap_eq)",
    "CREATE FUNCTION public.trap_ne(integer, bigint) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('<>') $$",
    "CREATE OPERATOR public.<> (LEFTARG = integer, RIGHTARG = bigint, FUNCTION = public.trap_ne)",
    "CREATE FUNCTION public.trap_overlap(public.geometry, text) RETURNS boolean LANGUAGE sql AS $$ SELECT public.trap('&&') $$",
    "CREATE OPERATOR public.&& (LEFTARG = public.geometry, RIGHTARG = text, FUNCTION = public.trap_overlap)",
    "CREATE TABLE public.publish_log (x int)",
    "CREATE TABLE public.geosites (x int)",
]
#: What a viewer cannot plant even in an open public (casts between types it does not own).
NOT_PLANTABLE = [
    "CREATE CAST (text AS public.geometry) WITH INOUT AS IMPLICIT",
    "CREATE CAST (integer AS text) WITH INOUT AS IMPLICIT",
]


def _open_public(pg, dbname: str) -> None:
    """What a database created by PostgreSQL 14 or older gives everybody."""
    with pg.connect(dbname, autocommit=True) as su:
        su.execute("GRANT CREATE ON SCHEMA public TO PUBLIC")


def test_objects_planted_in_an_open_public_never_run_as_the_owner(pg, dbname, sample_run):
    cfg, _ = sample_run
    target = target_for(pg, dbname)
    # planted before the first publish: the migrations, the CHECK constraints,
    # the views, the load, the ensure step and the QGIS hooks all meet them
    _open_public(pg, dbname)
    with pg.connect(dbname, VIEWER_LOGIN, autocommit=True) as viewer:
        viewer.execute(TRAP)
        for statement in PLANTED:
            viewer.execute(statement)
        for statement in NOT_PLANTABLE:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                viewer.execute(statement)
    assert publish(cfg, target).status == "published"
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        _insert_inspection(editor, "LS-TP-01")
        editor.commit()
    with pg.connect(dbname, PIPELINE_LOGIN) as owner:  # the traps do work on a careless session
        owner.execute(f"SET ROLE {cfg.database.owner_role}")
        owner.execute("SELECT 1.5::float8 >= 1").fetchone()
        assert owner.execute("SELECT count(*) FROM public.trap_hits").fetchone()[0] == 1
        owner.rollback()

    # a forced publish (every step runs again) and an unchanged one
    assert publish(cfg, target, force=True).status == "published"
    assert publish(cfg, target).status == "unchanged"
    with pg.connect(dbname) as su:
        assert su.execute("SELECT who, what FROM public.trap_hits").fetchall() == []
        assert su.execute("SELECT count(*) FROM records.inspections").fetchone()[0] == 1
        # nothing of ours depends on a viewer's object
        foreign = su.execute(
            "SELECT DISTINCT d.classid::regclass::text, d.objid, d.refobjid FROM pg_depend d "
            "JOIN pg_proc p ON d.refclassid = 'pg_proc'::regclass AND p.oid = d.refobjid "
            "WHERE pg_get_userbyid(p.proowner) = %s "
            "UNION ALL SELECT DISTINCT d.classid::regclass::text, d.objid, d.refobjid FROM pg_depend d "
            "JOIN pg_operator o ON d.refclassid = 'pg_operator'::regclass AND o.oid = d.refobjid "
            "WHERE pg_get_userbyid(o.oprowner) = %s",
            (VIEWER_LOGIN, VIEWER_LOGIN),
        ).fetchall()
        assert [f for f in foreign if f[0] not in ("pg_proc", "pg_operator")] == []
        # the owner's connection ran with the safe search path
        assert su.execute("SELECT count(*) FROM geopark.geosites").fetchone()[0] > 0
    # and the administrator SQL closes public again
    with pg.connect(dbname, autocommit=True) as su:
        su.execute(admin_sql(cfg.database, dbname))
    with pg.connect(dbname, VIEWER_LOGIN) as viewer:
        assert not viewer.execute("SELECT has_schema_privilege('public', 'CREATE')").fetchone()[0]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            viewer.execute("CREATE TABLE public.again (x int)")


# --------------------------------------------------------------------------- every write, per role


def _attempts(conn: psycopg.Connection, cfg) -> list[tuple[str, str]]:
    """(kind, statement) of every write a viewer or an editor must not make."""
    tables = conn.execute(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
        "AND (n.nspname IN ('geopark', 'records') OR c.oid = 'public.layer_styles'::regclass) "
        "ORDER BY 1"
    ).fetchall()
    attempts: list[tuple[str, str]] = []
    editable = {f"records.{t.name}" for t in models.editable_tables()}
    for (table,) in tables:
        kind = (
            "layer_styles"
            if "layer_styles" in table
            else "stored project"
            if "qgis_projects" in table
            else "table"
        )
        column = conn.execute(
            "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attnum > 0 AND NOT attisdropped AND attidentity = '' ORDER BY attnum LIMIT 1",
            (table,),
        ).fetchone()[0]
        attempts += [
            (kind, f"DELETE FROM {table}"),
            (kind, f"TRUNCATE {table}"),
            (kind, f"ALTER TABLE {table} ADD COLUMN intruder int"),
            (kind, f"DROP TABLE {table}"),
            (kind, f"LOCK TABLE {table} IN SHARE MODE"),
            (
                kind,
                f"CREATE TRIGGER intruder BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION records.stamp()",
            ),
        ]
        if table not in editable:  # the editor's own columns: tested in test_publish
            attempts += [
                (kind, f"INSERT INTO {table} DEFAULT VALUES"),
                (kind, f"UPDATE {table} SET {column} = {column}"),
            ]
    attempts += [
        ("table", "UPDATE records.inspections SET created_by = 'someone else'"),
        ("table", "UPDATE records.inspections SET updated_at = now()"),
        ("table", "UPDATE records.inspections SET inspection_id = inspection_id"),
        # an INSERT naming created_by is allowed (INSERT is table-wide, as QGIS needs) but
        # cannot forge the author: test_publish checks the stamp trigger overrides it
    ]
    sequences = conn.execute(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' "
        "AND n.nspname IN ('geopark', 'records', 'public') ORDER BY 1"
    ).fetchall()
    assert sequences
    for (sequence,) in sequences:
        attempts += [
            ("sequence", f"SELECT nextval('{sequence}')"),
            ("sequence", f"SELECT setval('{sequence}', 1000000)"),
            ("sequence", f"ALTER SEQUENCE {sequence} RESTART"),
        ]
    for schema in ("public", "geopark", "records"):
        attempts += [
            (
                "function",
                f"CREATE FUNCTION {schema}.intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
            ),
            (
                "operator",
                f"CREATE OPERATOR {schema}.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq)",
            ),
            ("schema", f"CREATE TABLE {schema}.intruder (x int)"),
            ("schema", f"CREATE VIEW {schema}.intruder AS SELECT 1"),
            ("schema", f"CREATE TYPE {schema}.intruder AS (x int)"),
            ("schema", f"DROP SCHEMA {schema} CASCADE"),
            ("schema", f"ALTER SCHEMA {schema} RENAME TO intruder"),
        ]
    attempts += [
        (
            "function",
            "CREATE OR REPLACE FUNCTION records.stamp() RETURNS trigger "
            "LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
        ),
        ("function", "DROP FUNCTION records.keep_history()"),
        ("schema", "CREATE SCHEMA intruder"),
        ("schema", "CREATE TEMP TABLE intruder (x int)"),
        ("schema", "COMMENT ON SCHEMA geopark IS 'x'"),
        ("large object", "SELECT lo_create(0)"),
        ("large object", "SELECT lo_creat(-1)"),
        ("large object", "SELECT lo_from_bytea(0, '\\x00'::bytea)"),
        ("large object", "SELECT lo_import('/etc/hostname')"),
        ("large object", "SELECT lo_put((SELECT min(oid) FROM pg_largeobject_metadata), 0, 'x')"),
        ("large object", "SELECT lo_unlink((SELECT min(oid) FROM pg_largeobject_metadata))"),
        (
            "large object",
            "SELECT lowrite(lo_open((SELECT min(oid) FROM pg_largeobject_metadata), 131072), 'x')",
        ),
        ("advisory lock", "SELECT pg_advisory_lock(1)"),
        ("advisory lock", "SELECT pg_advisory_lock(7321001, hashtext('geopark'))"),
        ("advisory lock", "SELECT pg_try_advisory_lock(1)"),
        ("advisory lock", "SELECT pg_advisory_lock_shared(1)"),
        ("advisory lock", "SELECT pg_advisory_xact_lock(1)"),
        ("advisory lock", "SELECT pg_try_advisory_xact_lock_shared(1, 2)"),
        ("table", "LOCK TABLE geopark.publish_lock IN EXCLUSIVE MODE"),
        ("table", "SELECT * FROM geopark.publish_lock FOR UPDATE"),
        ("table", "SELECT * FROM geopark.geosites FOR SHARE"),
    ]
    return attempts


def test_every_write_a_role_should_not_have_is_denied(pg, dbname, sample_run):
    cfg, _ = sample_run
    publish(cfg, target_for(pg, dbname))
    with pg.connect(dbname, autocommit=True) as su:  # a large object somebody else owns
        su.execute("SELECT lo_from_bytea(0, 'secret'::bytea)")
        attempts = _attempts(su, cfg)
    with pg.connect(dbname, EDITOR_LOGIN) as editor:  # there is a record to write over
        _insert_inspection(editor, "LS-TP-01")
        editor.commit()
    tally: dict[str, Counter] = {}
    allowed: list[tuple[str, str, str]] = []
    for login in (VIEWER_LOGIN, EDITOR_LOGIN):
        counts = tally.setdefault(login, Counter())
        with pg.connect(dbname, login) as conn:
            for kind, statement in attempts:
                counts[f"{kind}: attempts"] += 1
                try:
                    conn.execute(statement)
                except psycopg.errors.InsufficientPrivilege:
                    counts[f"{kind}: denied"] += 1
                except psycopg.Error as exc:
                    allowed.append((login, statement, f"{type(exc).__name__}: {exc}"))
                else:
                    allowed.append((login, statement, "succeeded"))
                conn.rollback()
    print({login: dict(sorted(c.items())) for login, c in tally.items()})
    assert allowed == []
    for login, counts in tally.items():
        kinds = {k.split(":")[0] for k in counts}
        assert kinds == {
            "table",
            "sequence",
            "function",
            "operator",
            "schema",
            "large object",
            "advisory lock",
            "layer_styles",
            "stored project",
        }, login
        for kind in kinds:
            assert counts[f"{kind}: denied"] == counts[f"{kind}: attempts"] > 0, (login, kind)
    # what an editor may do still works, and nothing above blocked the publish
    with pg.connect(dbname, EDITOR_LOGIN) as editor:
        new = _insert_inspection(editor, "LS-TP-01")
        editor.execute(
            "UPDATE records.inspections SET notes = 'x' WHERE inspection_id = %s", (new,)
        )
        editor.commit()
    with pg.connect(dbname, VIEWER_LOGIN) as viewer:
        viewer.execute("SELECT count(*) FROM geopark.geosites, geopark.publish_log").fetchone()
        assert publish(cfg, target_for(pg, dbname), force=True, wait_s=0).status == "published"
        viewer.rollback()


# --------------------------------------------------------------------------- audit trail


def test_inspections_keep_who_when_and_every_previous_version(pg, dbname, sample_run):
    cfg, _ = sample_run
    publish(cfg, target_for(pg, dbname))
    with pg.connect(dbname, autocommit=True) as su:
        su.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'editor_two') "
            f"THEN CREATE ROLE editor_two LOGIN IN ROLE {cfg.database.editor_role}; END IF; END $$"
        )
    with pg.connect(dbname, EDITOR_LOGIN) as first:
        first.execute(f"SET ROLE {cfg.database.editor_role}")  # acting as the group
        record = _insert_inspection(first, "LS-TP-01")
        first.commit()
    with pg.connect(dbname, "editor_two") as second:
        second.execute(f"SET ROLE {cfg.database.editor_role}")
        second.execute(
            "UPDATE records.inspections SET condition = 'critical', notes = 'sạt lở' "
            "WHERE inspection_id = %s",
            (record,),
        )
        second.commit()
        row = second.execute(
            "SELECT created_by, updated_by, condition, created_at <= updated_at "
            "FROM records.inspections WHERE inspection_id = %s",
            (record,),
        ).fetchone()
        assert row == (EDITOR_LOGIN, "editor_two", "critical", True)
        history = second.execute(
            "SELECT inspection_id, operation, old_row->>'condition', old_row->>'created_by', "
            "old_row->>'updated_by', changed_by FROM records.inspections_history"
        ).fetchall()
        assert history == [(record, "UPDATE", "fair", EDITOR_LOGIN, EDITOR_LOGIN, "editor_two")]
        for statement in (
            "DELETE FROM records.inspections_history",
            "UPDATE records.inspections_history SET changed_by = 'nobody'",
            "TRUNCATE records.inspections_history",
            "INSERT INTO records.inspections_history (inspection_id, operation, old_row) "
            "VALUES (1, 'UPDATE', '{}')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                second.execute(statement)
            second.rollback()
    # not even the owner can change or delete the history; its own deletes are kept
    with pg.connect(dbname, PIPELINE_LOGIN) as owner:
        owner.execute(f"SET ROLE {cfg.database.owner_role}")
        for statement in (
            "DELETE FROM records.inspections_history",
            "TRUNCATE records.inspections_history",
            "UPDATE records.inspections_history SET changed_by = 'nobody'",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                owner.execute(statement)
            owner.rollback()
        owner.execute(
            "INSERT INTO records.inspections (geosite_code, inspected_on, inspector, condition, "
            "created_by, created_at) VALUES ('LS-TP-01', '2025-01-01', 'x', 'good', 'forged', "
            "'2000-01-01')"
        )
        forged = owner.execute(
            "SELECT created_by, created_at > '2020-01-01' FROM records.inspections "
            "WHERE inspector = 'x'"
        ).fetchone()
        assert forged == (PIPELINE_LOGIN, True)  # stamped with the login and now, whatever was sent
        owner.execute("DELETE FROM records.inspections WHERE inspection_id = %s", (record,))
        owner.commit()
        kept = owner.execute(
            "SELECT operation, old_row->>'condition', old_row->>'notes', changed_by "
            "FROM records.inspections_history ORDER BY history_id"
        ).fetchall()
        assert kept == [
            ("UPDATE", "fair", None, "editor_two"),
            ("DELETE", "critical", "sạt lở", PIPELINE_LOGIN),
        ]


# --------------------------------------------------------------------------- passwords

PASSWORD = "Xq7@Zk9:Wm4/Rt6%Yp2"
PIECES = ("Xq7", "Zk9", "Wm4", "Rt6", "Yp2")
SECRET_LOGIN = "secret_login"


def _require_password(pg, dbname: str, cfg) -> None:
    """A login that must give its password (SCRAM), whatever the suite's trust rules."""
    with pg.connect(dbname, autocommit=True) as su:
        su.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'secret_login') "
            f"THEN CREATE ROLE secret_login LOGIN IN ROLE {cfg.database.owner_role}; END IF; END $$"
        )
        su.execute("SET password_encryption = 'scram-sha-256'")
        su.execute(f"ALTER ROLE {SECRET_LOGIN} PASSWORD %s".replace("%s", "'" + PASSWORD + "'"))
        hba = Path(su.execute("SHOW hba_file").fetchone()[0])
        rules = hba.read_text()
        line = f"host all {SECRET_LOGIN} 127.0.0.1/32 scram-sha-256\n"
        if line not in rules:
            hba.write_text(line + rules)
        su.execute("SELECT pg_reload_conf()")


def _cli(env_url: str, cfg, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(DATABASE_URL=env_url, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "publish", "--config", str(cfg.source), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def _leaks(text: str) -> list[str]:
    return [piece for piece in PIECES if piece in text]


def test_no_password_in_any_output_log_or_row(pg, dbname, sample_run, tmp_path):
    cfg, _ = sample_run
    _require_password(pg, dbname, cfg)
    with pytest.raises(psycopg.OperationalError):  # the password is really required
        psycopg.connect(f"host={pg.host} port={pg.port} dbname={dbname} user={SECRET_LOGIN}")
    base = f"postgresql://{SECRET_LOGIN}:{PASSWORD}@{pg.host}"
    # written as is, with @ : / % in it: understood, the publish succeeds
    done = _cli(f"{base}:{pg.port}/{dbname}", cfg)
    assert done.returncode == 0, done.stderr
    assert _leaks(done.stdout + done.stderr) == []
    assert f"{SECRET_LOGIN}:***@" in done.stderr
    # percent-encoded, as SQLAlchemy documents it: the same
    from urllib.parse import quote

    encoded = f"postgresql://{SECRET_LOGIN}:{quote(PASSWORD, safe='')}@{pg.host}:{pg.port}/{dbname}"
    again = _cli(encoded, cfg, "--force")
    assert again.returncode == 0, again.stderr
    assert _leaks(again.stdout + again.stderr) == []
    # failures: a missing database, a wrong password, nobody listening, a bad URL
    failures = [
        _cli(f"{base}:{pg.port}/no_such_database", cfg),
        _cli(f"postgresql://{SECRET_LOGIN}:{PASSWORD}x@{pg.host}:{pg.port}/{dbname}", cfg),
        _cli(f"{base}:1/{dbname}", cfg),
        _cli(f"{base}:notaport/{dbname}", cfg),
        _cli(f"mysql://{SECRET_LOGIN}:{PASSWORD}@{pg.host}/{dbname}", cfg),
    ]
    for failed in failures:
        assert failed.returncode == 2, failed.stderr
        assert "Traceback" not in failed.stderr
        assert _leaks(failed.stdout + failed.stderr) == [], failed.stderr
    # nothing stored in the database holds it either (the QGIS project unzipped)
    with pg.connect(dbname, autocommit=True) as su:
        projects = su.execute("SELECT content FROM geopark.qgis_projects").fetchall()
        assert projects
        for (content,) in projects:
            with zipfile.ZipFile(io.BytesIO(bytes(content))) as archive:
                for name in archive.namelist():
                    assert _leaks(archive.read(name).decode("utf-8", "replace")) == [], name
    dump = subprocess.run(
        [
            str(pg_bin() / "pg_dump"),
            "-h",
            pg.host,
            "-p",
            str(pg.port),
            "-U",
            pg.superuser,
            "-d",
            dbname,
            "--data-only",
            "--inserts",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "publish_log" in dump and _leaks(dump) == []
    logs = [
        p
        for p in (cfg.outputs.directory).rglob("*")
        if p.is_file() and p.suffix in {".log", ".json", ".md", ".txt", ".csv", ".html"}
    ]
    for path in logs:
        assert _leaks(path.read_text("utf-8", "replace")) == [], path
    assert models.publish_log.c.published_by is not None
