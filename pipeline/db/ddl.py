"""DDL shared by the migrations and the publish: the layer tables, views and grants."""

from __future__ import annotations

from sqlalchemy import Connection, text

from pipeline.config import Database
from pipeline.db import models, roles, views


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def literal(value: str) -> str:
    """``value`` as an SQL string literal (for statements that take no parameters)."""
    return "'" + value.replace("'", "''") + "'"


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


def _view_name(conn: Connection, db: Database, view: views.View) -> str:
    schema = models.schema_map(db.schema_, db.records_schema)[view.schema]
    return f"{quote(conn, schema)}.{quote(conn, view.name)}"


def drop_views(conn: Connection, db: Database) -> None:
    """Drop the convenience views (they are recreated after the tables change)."""
    for view in reversed(views.VIEWS):
        conn.execute(text(f"DROP VIEW IF EXISTS {_view_name(conn, db, view)}"))


def create_views(conn: Connection, db: Database) -> None:
    """(Re)create every view of :mod:`pipeline.db.views` with its comments, in the
    caller's transaction."""
    s, r = quote(conn, db.schema_), quote(conn, db.records_schema)
    for view in views.VIEWS:
        name = _view_name(conn, db, view)
        conn.execute(text(f"CREATE OR REPLACE VIEW {name} AS {view.sql.format(s=s, r=r)}"))
        conn.execute(text(f"COMMENT ON VIEW {name} IS {literal(view.comment)}"))
        for column, comment in view.columns.items():
            conn.execute(
                text(f"COMMENT ON COLUMN {name}.{quote(conn, column)} IS {literal(comment)}")
            )


def set_owner_role(conn: Connection, db: Database) -> None:
    """Act as the owner role, so that everything created belongs to it."""
    conn.execute(text(f"SET ROLE {quote(conn, db.owner_role)}"))
