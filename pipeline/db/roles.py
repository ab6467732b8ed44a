"""Roles and privileges of the heritage database.

Three group roles (names in ``[database]`` of ``geopark.toml``):

* the **owner** (the pipeline's role) owns the published schema, the records
  schema and everything in them;
* the **viewer** (QGIS viewers) may SELECT the published layers and the
  records, nothing else;
* the **editor** (field staff) may in addition INSERT rows into the persistent
  tables that declare editable columns and UPDATE those columns
  (``info["editable"]`` in :mod:`pipeline.db.models`), and nothing else (no
  DELETE: records are never lost; no history changes). INSERT is granted on the
  whole table because QGIS offers adding features only then; the stamp trigger
  sets who and when whatever the client sends.

People log in with their own login roles that are members of these groups.
:func:`admin_sql` is the SQL an administrator runs once (README, "Roles");
:func:`grant_sql` is what the migrations and the publish apply.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipeline.config import Database

#: Columns an editor may change in an inspection (not its id, nor who/when entered it).
EDITABLE_INSPECTION_COLUMNS = (
    "geosite_code",
    "inspected_on",
    "inspector",
    "condition",
    "threats",
    "notes",
    "geom",
)

#: Built-in functions that write large objects: nobody but the owner of a large
#: object should write one, and nobody here needs to create one.
LARGE_OBJECT_WRITERS = (
    "lo_create(oid)",
    "lo_creat(integer)",
    "lo_import(text)",
    "lo_import(text, oid)",
    "lo_from_bytea(oid, bytea)",
    "lo_put(oid, bigint, bytea)",
    "lowrite(integer, bytea)",
    "lo_truncate(integer, integer)",
    "lo_truncate64(integer, bigint)",
    "lo_unlink(oid)",
)

#: Advisory locks: a lock any user can take is a lock any user can hold forever.
ADVISORY_LOCKS = tuple(
    f"pg_{try_}advisory_{xact}lock{shared}({args})"
    for try_ in ("", "try_")
    for xact in ("", "xact_")
    for shared in ("", "_shared")
    for args in ("bigint", "integer, integer")
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_sql(db: Database, *, editable: Mapping[str, tuple[str, ...]] | None = None) -> list[str]:
    """GRANT statements for the viewer and editor on the published and the records
    schemas. Idempotent; run by the owner. ``editable``: table name -> the columns an
    editor may fill in and change (default: the models' ``info["editable"]``; a
    migration passes those of its revision)."""
    from pipeline.db import models

    if editable is None:
        editable = {t.name: t.info["editable"] for t in models.editable_tables()}
    published = _q(db.schema_)
    records = _q(db.records_schema)
    viewer, editor = _q(db.viewer_role), _q(db.editor_role)
    readers = f"{viewer}, {editor}"
    statements = [
        f"REVOKE ALL ON SCHEMA {published}, {records} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {published}, {records} TO {readers}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {published} TO {readers}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {records} TO {readers}",
        # identity columns need no sequence privilege: nobody else touches sequences
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {published}, {records} FROM PUBLIC, {readers}",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {published}, {records} FROM PUBLIC, {readers}",
        f"DO $$ BEGIN IF pg_catalog.to_regclass('{published}.publish_lock') IS NOT NULL THEN "
        f"REVOKE ALL ON {published}.publish_lock FROM PUBLIC, {readers}; END IF; END $$",
    ]
    for table, columns in editable.items():
        names = ", ".join(_q(c) for c in columns)
        # INSERT on the whole table: QGIS offers "add feature" only when
        # has_table_privilege(..., 'INSERT') holds, and a column grant does not make it
        # hold. Nothing is given away: the stamp trigger sets created_*/updated_* whatever
        # the client sends, and the key is an identity column. UPDATE stays per column.
        statements.append(f"GRANT INSERT, UPDATE ({names}) ON {records}.{_q(table)} TO {editor}")
    return statements


def admin_sql(db: Database, database: str = "geopark") -> str:
    """The SQL an administrator (a superuser) runs once per database.

    Creates the three group roles if missing, PostGIS with EPSG:9215 (which
    PostGIS 3.3 does not ship), lets the owner create schemas, and takes from
    PUBLIC (every user) what PostgreSQL gives it by default and nobody here
    needs: creating objects in ``public`` (the default before PostgreSQL 15)
    and in the database, temporary tables, writing large objects and taking
    advisory locks. Login roles are then made members.
    """
    from pipeline.db.srs import spatial_ref_sys_insert

    owner, viewer, editor = _q(db.owner_role), _q(db.viewer_role), _q(db.editor_role)
    lines = [
        "-- Run once as a superuser, connected to the database (psql -d " + database + ").",
        "-- Chạy một lần bằng tài khoản quản trị, khi đã kết nối vào cơ sở dữ liệu.",
        "DO $$ BEGIN",
    ]
    for role in (db.owner_role, db.viewer_role, db.editor_role):
        lines.append(
            f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') "
            f"THEN CREATE ROLE {_q(role)} NOLOGIN; END IF;"
        )
    lines += [
        "END $$;",
        "-- Nobody may plant objects in public (open to all before PostgreSQL 15).",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        "CREATE EXTENSION IF NOT EXISTS postgis;",
        spatial_ref_sys_insert(9215),
        f"REVOKE CREATE, TEMPORARY ON DATABASE {_q(database)} FROM PUBLIC;",
        f"GRANT CONNECT, CREATE ON DATABASE {_q(database)} TO {owner};",
        f"GRANT CONNECT ON DATABASE {_q(database)} TO {viewer}, {editor};",
        "-- QGIS keeps layer styles in public.layer_styles: the owner writes them.",
        f"GRANT USAGE, CREATE ON SCHEMA public TO {owner};",
        "-- No large objects (they bypass table privileges and fill the disk),",
        "-- no advisory locks (any user could hold one forever).",
        "REVOKE EXECUTE ON FUNCTION "
        + ", ".join(f"pg_catalog.{f}" for f in LARGE_OBJECT_WRITERS)
        + " FROM PUBLIC;",
        "REVOKE EXECUTE ON FUNCTION "
        + ", ".join(f"pg_catalog.{f}" for f in ADVISORY_LOCKS)
        + " FROM PUBLIC;",
        "-- Then one login per person or service, member of one group, e.g.:",
        f"-- CREATE ROLE pipeline LOGIN PASSWORD '...' IN ROLE {owner};",
        f"-- CREATE ROLE nguyen_van_an LOGIN PASSWORD '...' IN ROLE {editor};",
        f"-- CREATE ROLE tran_thi_binh LOGIN PASSWORD '...' IN ROLE {viewer};",
    ]
    return "\n".join(lines) + "\n"
