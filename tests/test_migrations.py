"""The Alembic migrations build exactly the schema the models define.

One database is migrated to head (schemas/migrations), another is built straight
from the models (pipeline/db/models.py, pipeline/db/ddl.py); every table
(columns, types, defaults, constraints, indexes, comments) and every trigger
must be the same in both. A real PostgreSQL + PostGIS server (tests/postgis.py).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

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
VERSIONS = migrate.MIGRATIONS / "versions"


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
    assert from_migrations[0] == from_models[0]
    assert from_migrations[1] == from_models[1]
    assert {name for name, _, _ in from_migrations[1]} >= {
        "inspections",
        "inspections_history",
        "zone_adjustments",
        "zone_adjustments_history",
    }


def check_names(conn: Connection, db) -> set[str]:
    return set(
        conn.execute(
            text(
                "SELECT c.conname FROM pg_catalog.pg_constraint c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.connamespace "
                "WHERE c.contype = 'c' AND n.nspname IN (:s, :r)"
            ),
            {"s": db.schema_, "r": db.records_schema},
        ).scalars()
    )


def test_migration_0005_renames_the_doubly_named_checks_both_ways(pg, db):
    """Databases migrated before 0005 have the naming convention applied twice;
    0005 gives them the models' names, and its downgrade restores the old ones."""
    spec = importlib.util.spec_from_file_location("m0005", next(VERSIONS.glob("0005_*.py")))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    renames = {old: new for _, old, new in module.RENAMES}
    with owner_session(pg, db, "renamed") as conn:
        migrate.upgrade(conn, db, "0004")
        before = check_names(conn, db)
        assert set(renames) <= before
        migrate.upgrade(conn, db)
        after = check_names(conn, db)
        assert after == {renames.get(name, name) for name in before}
        assert not any(name.count("_check") > 1 for name in after)
        # what they check is unchanged, and a refused row now names the models' constraint
        conn.execute(text("SAVEPOINT bad_row"))
        with pytest.raises(IntegrityError, match="inspections_condition_check"):
            conn.execute(
                text(
                    f"INSERT INTO {ddl.quote(conn, db.records_schema)}.inspections "
                    "(geosite_code, inspected_on, inspector, condition) "
                    "VALUES ('X', current_date, 'a', 'splendid')"
                )
            )
        conn.execute(text("ROLLBACK TO SAVEPOINT bad_row"))
        command.downgrade(migrate.alembic_config(db, conn), "0004")
        assert check_names(conn, db) == before
