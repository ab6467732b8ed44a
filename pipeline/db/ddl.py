"""DDL shared by the migrations and the publish: the layer tables, views and grants."""

from __future__ import annotations

from sqlalchemy import Connection, text

from pipeline.config import Database
from pipeline.db import models, roles, views


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def translated(conn: Connection, schema: str, records_schema: str) -> Connection:
    """``conn`` with the model placeholders mapped to real schema names."""
    return conn.execution_options(schema_translate_map=models.schema_map(schema, records_schema))


def create_layer_tables(conn: Connection, schema: str, records_schema: str) -> None:
    """Create every layer table (constraints, GiST indexes, comments) in ``schema``."""
    models.metadata.create_all(
        translated(conn, schema, records_schema), tables=list(models.LAYER_TABLES)
    )


def drop_layer_tables(conn: Connection, schema: str) -> None:
    """Drop the layer tables of ``schema``, children first. No CASCADE: a view
    somebody else built on a layer makes the publish stop rather than vanish."""
    for table in reversed(models.LAYER_TABLES):
        conn.execute(text(f"DROP TABLE IF EXISTS {quote(conn, schema)}.{quote(conn, table.name)}"))


def apply_grants(
    conn: Connection, db: Database, editable: tuple[str, ...] = roles.EDITABLE_INSPECTION_COLUMNS
) -> None:
    for statement in roles.grant_sql(db, editable=editable):
        conn.execute(text(statement))


def create_views(conn: Connection, db: Database) -> None:
    views.create_views(conn, db.schema_, db.records_schema)


def set_owner_role(conn: Connection, db: Database) -> None:
    """Act as the owner role, so that everything created belongs to it."""
    conn.execute(text(f"SET ROLE {quote(conn, db.owner_role)}"))
