"""The Alembic migrations build exactly the schema the models define.

One database is migrated to head (schemas/migrations), another is built straight
from the models (pipeline/db/models.py, pipeline/db/ddl.py); every table
(columns, types, defaults, constraints, indexes, comments) and every trigger
must be the same in both. A real PostgreSQL + PostGIS server (tests/postgis.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from pipeline.config import load_config
from pipeline.db import ddl, migrate, models
from pipeline.db.connection import engine_for, resolve
from tests.postgis import Server, create_geopark_database, postgis_available, running_server

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.skipif(not postgis_available(), reason="PostgreSQL 15 + PostGIS not installed"),
    pytest.mark.timeout(300),
]

ROOT = Path(__file__).resolve().parents[1]
LOGIN = "migrations_login"


@pytest.fixture(scope="module")
def pg() -> Iterator[Server]:
    with running_server() as server:
        yield server


@pytest.fixture(scope="module")
def db():
    return load_config(ROOT / "geopark.toml").database


def owner_session(pg: Server, db, name: str) -> Connection:
    create_geopark_database(pg, db, name, {LOGIN: db.owner_role})
    target = resolve(db, environ={"DATABASE_URL": pg.url(name, LOGIN)})
    conn = engine_for(target).connect()
    ddl.set_owner_role(conn, db)
    return conn


#: The CHECK constraints the migrations named with the naming convention applied
#: twice (a full name passed where the convention expects a short one), as every
#: database migrated so far has them: (migrated name, the models' name).
LEGACY_CHECK_NAMES = [
    ("publish_log_publish_log_status_check_check", "publish_log_status_check"),
    ("inspections_inspections_condition_check_check", "inspections_condition_check"),
    ("inspections_inspections_geom_valid_check_check", "inspections_geom_valid_check"),
    (
        "inspections_history_inspections_history_operation_check_check",
        "inspections_history_operation_check",
    ),
    (
        "zone_adjustments_zone_adjustments_geom_valid_check_check",
        "zone_adjustments_geom_valid_check",
    ),
    (
        "zone_adjustments_zone_adjustments_zone_class_check_check",
        "zone_adjustments_zone_class_check",
    ),
    (
        "zone_adjustments_history_zone_adjustments_history_opera_02bc",
        "zone_adjustments_history_operation_check",
    ),
]


def legacy_names_replaced(shape: tuple, renamed: dict[str, str]) -> tuple:
    """A table shape (:func:`ddl.table_shape`) with the legacy constraint names
    replaced by the models', constraints in name order again."""
    columns_etc, comment = shape
    columns, constraints, indexes = ast.literal_eval(columns_etc)
    constraints = tuple(sorted(((renamed.get(name, name), *rest) for name, *rest in constraints)))
    return (repr((columns, constraints, indexes)), comment)


def every_table(conn: Connection, db) -> dict[str, tuple | None]:
    names = {db.schema_: [], db.records_schema: []}
    for table in [*models.metadata.tables.values(), *models.persistent.tables.values()]:
        schema = models.schema_map(db.schema_, db.records_schema)[table.schema]
        names[schema].append(table.name)
    return {
        f"{schema}.{name}": ddl.table_shape(conn, schema, name)
        for schema, tables in names.items()
        for name in tables
    }


def triggers(conn: Connection, db) -> list[tuple]:
    return [
        tuple(row)
        for row in conn.execute(
            text(
                "SELECT c.relname, t.tgname, pg_catalog.pg_get_triggerdef(t.oid) "
                "FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE NOT t.tgisinternal AND n.nspname IN (:s, :r) ORDER BY 1, 2"
            ),
            {"s": db.schema_, "r": db.records_schema},
        )
    ]


def test_migrated_schema_equals_the_models(pg, db):
    with owner_session(pg, db, "migrated") as migrated:
        migrate.upgrade(migrated, db)
        migrated.commit()
        from_migrations = every_table(migrated, db), triggers(migrated, db)
    with owner_session(pg, db, "from_models") as built:
        for schema in (db.schema_, db.records_schema):
            built.execute(text(f"CREATE SCHEMA {ddl.quote(built, schema)}"))
        ddl.create_layer_tables(built, db.schema_, db.records_schema)
        persistent = [t for t in models.persistent.tables.values() if t.name != "publish_lock"]
        ddl.create_tables(built, persistent, db.schema_, db.records_schema)
        ddl.create_publish_lock(built, db.schema_)
        for table in persistent:
            if table.info.get("audited"):
                ddl.create_audit(built, db, table)
        built.commit()
        from_models = every_table(built, db), triggers(built, db)
    assert all(shape is not None for shape in from_models[0].values())
    renamed = dict(LEGACY_CHECK_NAMES)
    assert {
        name: legacy_names_replaced(shape, renamed) for name, shape in from_migrations[0].items()
    } == from_models[0]
    assert from_migrations[1] == from_models[1]
    assert {name for name, _, _ in from_migrations[1]} >= {
        "inspections",
        "inspections_history",
        "zone_adjustments",
        "zone_adjustments_history",
    }
    # every legacy name is really there (a fix migration would empty the list)
    found = repr(from_migrations[0])
    assert all(legacy in found for legacy, _ in LEGACY_CHECK_NAMES)
