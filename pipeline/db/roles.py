"""Roles and privileges of the heritage database.

Three group roles (names in ``[database]`` of ``geopark.toml``):

* the **owner** (the pipeline's role) owns the published schema, the records
  schema and everything in them;
* the **viewer** (QGIS viewers) may SELECT the published layers and the
  records, nothing else;
* the **editor** (field staff) may in addition INSERT and UPDATE field
  records, and nothing else (no DELETE: records are never lost).

People log in with their own login roles that are members of these groups.
:func:`admin_sql` is the SQL an administrator runs once (README, "Roles");
:func:`grant_sql` is what the migrations and every publish apply.
"""

from __future__ import annotations

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


#: Columns an editor may fill in and change in an adjustment (records.zone_adjustments).
EDITABLE_ADJUSTMENT_COLUMNS = (
    "unit_code",
    "zone_class",
    "author",
    "adjusted_on",
    "reason",
    "proposal_sha256",
    "proposal_area_ha",
    "geom",
)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def grant_sql(
    db: Database, *, editable: tuple[str, ...] = EDITABLE_INSPECTION_COLUMNS
) -> list[str]:
    """GRANT statements for the viewer and editor on the published and the records
    schemas. Idempotent; run by the owner. ``editable``: the inspection columns an
    editor may fill in and change (a migration passes those of its revision)."""
    published = _q(db.schema_)
    records = _q(db.records_schema)
    viewer, editor = _q(db.viewer_role), _q(db.editor_role)
    readers = f"{viewer}, {editor}"
    columns = ", ".join(editable)
    return [
        f"REVOKE ALL ON SCHEMA {published}, {records} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {published}, {records} TO {readers}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {published} TO {readers}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {records} TO {readers}",
        f'GRANT INSERT ({columns}), UPDATE ({columns}) ON {records}."inspections" TO {editor}',
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {records} TO {editor}",
    ]


def adjustment_grant_sql(db: Database) -> list[str]:
    """GRANT statements on ``<records>.zone_adjustments``: the viewer reads it, the
    editor reads, adds and edits it (not its id, nor who/when entered it; no delete)."""
    table = f'{_q(db.records_schema)}."zone_adjustments"'
    viewer, editor = _q(db.viewer_role), _q(db.editor_role)
    columns = ", ".join(EDITABLE_ADJUSTMENT_COLUMNS)
    return [
        f"GRANT SELECT ON {table} TO {viewer}, {editor}",
        f"GRANT INSERT ({columns}), UPDATE ({columns}) ON {table} TO {editor}",
        f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {_q(db.records_schema)} TO {editor}",
    ]


def admin_sql(db: Database, database: str = "geopark") -> str:
    """The SQL an administrator (a superuser) runs once per database.

    Creates the three group roles if missing, PostGIS with EPSG:9215 (which
    PostGIS 3.3 does not ship), lets the owner create schemas, and removes the
    default right of every user to create temporary tables, so that the viewer
    really cannot write anything. Login roles are then made members.
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
        "CREATE EXTENSION IF NOT EXISTS postgis;",
        spatial_ref_sys_insert(9215),
        f"REVOKE CREATE, TEMPORARY ON DATABASE {_q(database)} FROM PUBLIC;",
        f"GRANT CONNECT, CREATE ON DATABASE {_q(database)} TO {owner};",
        f"GRANT CONNECT ON DATABASE {_q(database)} TO {viewer}, {editor};",
        "-- QGIS keeps layer styles in public.layer_styles: the owner writes them.",
        f"GRANT USAGE, CREATE ON SCHEMA public TO {owner};",
        "-- Then one login per person or service, member of one group, e.g.:",
        f"-- CREATE ROLE pipeline LOGIN PASSWORD '...' IN ROLE {owner};",
        f"-- CREATE ROLE nguyen_van_an LOGIN PASSWORD '...' IN ROLE {editor};",
        f"-- CREATE ROLE tran_thi_binh LOGIN PASSWORD '...' IN ROLE {viewer};",
    ]
    return "\n".join(lines) + "\n"
