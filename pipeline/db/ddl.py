"""DDL shared by the migrations and the publish: the layer tables, views, grants
and the audit triggers.

Everything here runs as the owner with the safe search path of
:mod:`pipeline.db.connection`: names are schema-qualified, PostGIS objects are
named in PostGIS's schema.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import CheckConstraint, Connection, MetaData, Table, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.naming import conv

from pipeline.config import Database
from pipeline.db import models, roles, views
from pipeline.db.connection import postgis_named, postgis_schema


def quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def literal(value: str) -> str:
    """``value`` as an SQL string literal (for statements that take no parameters)."""
    return "'" + value.replace("'", "''") + "'"


def translated(conn: Connection, schema: str, records_schema: str) -> Connection:
    """``conn`` with the model placeholders mapped to real schema names."""
    return conn.execution_options(schema_translate_map=models.schema_map(schema, records_schema))


def create_tables(
    conn: Connection, tables: list[Table], schema: str, records_schema: str, metadata=None
) -> None:
    """Create ``tables`` (constraints, GiST indexes, comments) from the models, with
    ``schema`` for the published placeholder."""
    with postgis_named(conn):
        (metadata or tables[0].metadata).create_all(
            translated(conn, schema, records_schema), tables=tables, checkfirst=False
        )


def create_layer_tables(conn: Connection, schema: str, records_schema: str) -> None:
    """Create every layer table (constraints, GiST indexes, comments) in ``schema``."""
    create_tables(conn, list(models.LAYER_TABLES), schema, records_schema, models.metadata)


def with_children(names: set[str]) -> list[Table]:
    """The layer tables named, and every layer table referring to them (foreign
    keys, transitively), in load order."""
    chosen = set(names)
    for table in models.LAYER_TABLES:  # parents come first
        if any(fk.column.table.name in chosen for fk in table.foreign_keys):
            chosen.add(table.name)
    return [t for t in models.LAYER_TABLES if t.name in chosen]


def recreate_layer_tables(conn: Connection, db: Database, names: set[str]) -> list[str]:
    """Recreate the layer tables ``names`` (and their children) from the models,
    empty, dropping the views first (:func:`ensure_views` puts them back). No
    CASCADE: a view somebody else built on a layer makes the publish stop rather
    than vanish. Returns the names recreated."""
    tables = with_children(names)
    drop_views(conn, db)
    for table in reversed(tables):
        conn.execute(
            text(f"DROP TABLE IF EXISTS {quote(conn, db.schema_)}.{quote(conn, table.name)}")
        )
    create_tables(conn, tables, db.schema_, db.records_schema, models.metadata)
    return [t.name for t in tables]


def apply_grants(
    conn: Connection, db: Database, editable: Mapping[str, tuple[str, ...]] | None = None
) -> None:
    for statement in roles.grant_sql(db, editable=editable):
        conn.execute(text(statement))


# --------------------------------------------------------------------------- shapes


def table_shape(conn: Connection, schema: str, table: str) -> tuple | None:
    """Everything that defines a table (columns, types, defaults, constraints,
    indexes, comments), with its schema written as ``@``, or ``None`` when the
    table does not exist. Two tables built from the same model have equal shapes."""
    qualified = f"{quote(conn, schema)}.{quote(conn, table)}"
    oid = conn.execute(
        text("SELECT pg_catalog.to_regclass(:t)::pg_catalog.oid"), {"t": qualified}
    ).scalar()
    if oid is None:
        return None
    key = {"oid": oid}
    columns = conn.execute(
        text(
            "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_catalog.pg_get_expr(d.adbin, d.adrelid), pg_catalog.col_description(a.attrelid, a.attnum) "
            "FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef d "
            "ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = :oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
        ),
        key,
    ).all()
    constraints = conn.execute(
        text(
            "SELECT conname, contype, pg_catalog.pg_get_constraintdef(oid) "
            "FROM pg_catalog.pg_constraint WHERE conrelid = :oid ORDER BY conname"
        ),
        key,
    ).all()
    indexes = conn.execute(
        text(
            "SELECT c.relname, pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i "
            "JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = :oid "
            "ORDER BY c.relname"
        ),
        key,
    ).all()
    comment = conn.execute(
        text("SELECT pg_catalog.obj_description(:oid, 'pg_class')"), key
    ).scalar()
    shape = (tuple(map(tuple, columns)), tuple(map(tuple, constraints)), tuple(map(tuple, indexes)))
    prefix = quote(conn, schema) + "."
    return (repr(shape).replace(prefix, "@.").replace(schema + ".", "@."), comment)


# --------------------------------------------------------------------------- views


def _view_name(conn: Connection, db: Database, view: views.View, schema: str | None = None) -> str:
    home = schema or models.schema_map(db.schema_, db.records_schema)[view.schema]
    return f"{quote(conn, home)}.{quote(conn, view.name)}"


def _view_sql(conn: Connection, db: Database, view: views.View) -> str:
    s, r = quote(conn, db.schema_), quote(conn, db.records_schema)
    return view.sql.format(s=s, r=r, p=postgis_schema(conn))


def drop_views(conn: Connection, db: Database) -> None:
    """Drop the convenience views (before the tables they read are recreated)."""
    for view in reversed(views.VIEWS):
        conn.execute(text(f"DROP VIEW IF EXISTS {_view_name(conn, db, view)}"))


def _view_definition(conn: Connection, name: str) -> str | None:
    return conn.execute(
        text(
            "SELECT pg_catalog.pg_get_viewdef(c.oid) || COALESCE("
            "pg_catalog.obj_description(c.oid, 'pg_class'), '') FROM pg_catalog.pg_class c "
            "WHERE c.oid = pg_catalog.to_regclass(:n)"
        ),
        {"n": name},
    ).scalar()


def _write_view(conn: Connection, name: str, sql: str, view: views.View) -> None:
    conn.execute(text(f"CREATE OR REPLACE VIEW {name} AS {sql}"))
    conn.execute(text(f"COMMENT ON VIEW {name} IS {literal(view.comment)}"))
    for column, comment in view.columns.items():
        conn.execute(text(f"COMMENT ON COLUMN {name}.{quote(conn, column)} IS {literal(comment)}"))


def ensure_views(conn: Connection, db: Database, scratch: str) -> list[str]:
    """Make every view of :mod:`pipeline.db.views` match its definition, touching
    (and locking) only those that differ; ``scratch`` is a schema of this
    transaction where the wanted definitions are built to compare. Returns the
    names of the views (re)created."""
    changed = []
    for view in views.VIEWS:
        name = _view_name(conn, db, view)
        sql = _view_sql(conn, db, view)
        wanted_name = _view_name(conn, db, view, scratch)
        _write_view(conn, wanted_name, sql, view)
        if _view_definition(conn, wanted_name) == _view_definition(conn, name):
            continue
        try:
            with conn.begin_nested():
                _write_view(conn, name, sql, view)
        except DBAPIError:  # columns renamed or removed: CREATE OR REPLACE cannot do it
            conn.execute(text(f"DROP VIEW IF EXISTS {name}"))
            _write_view(conn, name, sql, view)
        changed.append(view.name)
    return changed


# --------------------------------------------------------------------------- audit

#: The trigger functions of audited tables (``info["audited"]`` in the models),
#: formatted with the quoted records schema ``r``. ``stamp`` sets who (the login,
#: ``session_user``, not the group role after SET ROLE) and when, whatever the
#: client sent; ``keep_history`` copies the whole previous row into
#: ``<table>_history`` (as the owner: editors cannot write the history
#: themselves); ``append_only`` refuses to change or delete the history.
AUDIT_FUNCTIONS = """
CREATE OR REPLACE FUNCTION {r}.stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := pg_catalog.now();
        NEW.created_by := SESSION_USER;
    ELSE
        NEW.created_at := OLD.created_at;
        NEW.created_by := OLD.created_by;
    END IF;
    NEW.updated_at := pg_catalog.now();
    NEW.updated_by := SESSION_USER;
    RETURN NEW;
END $f$;

CREATE OR REPLACE FUNCTION {r}.keep_history() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
    EXECUTE pg_catalog.format(
        'INSERT INTO %I.%I (%I, operation, old_row, changed_by) '
        'SELECT (pg_catalog.jsonb_populate_record(NULL::%I.%I, $1)).%I, $2, $1, $3',
        TG_TABLE_SCHEMA, TG_TABLE_NAME || '_history', TG_ARGV[0],
        TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_ARGV[0])
    USING pg_catalog.to_jsonb(OLD), TG_OP, SESSION_USER::text;
    RETURN NULL;
END $f$;

CREATE OR REPLACE FUNCTION {r}.append_only() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
    RAISE EXCEPTION 'lịch sử không được sửa hay xóa / history is never changed or deleted: %.%',
        TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $f$;
"""


def create_audit(conn: Connection, db: Database, table: Table) -> None:
    """Stamp and history triggers on ``table`` (an audited persistent table in the
    records schema), whose history table must exist. Idempotent."""
    r = quote(conn, db.records_schema)
    conn.execute(text(AUDIT_FUNCTIONS.format(r=r)))
    name = f"{r}.{quote(conn, table.name)}"
    history = f"{r}.{quote(conn, table.name + '_history')}"
    key = next(iter(table.primary_key.columns)).name
    for statement in (
        f"DROP TRIGGER IF EXISTS stamp ON {name}",
        f"CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION {r}.stamp()",
        f"DROP TRIGGER IF EXISTS keep_history ON {name}",
        f"CREATE TRIGGER keep_history AFTER UPDATE OR DELETE ON {name} "
        f"FOR EACH ROW EXECUTE FUNCTION {r}.keep_history({literal(key)})",
        f"DROP TRIGGER IF EXISTS append_only ON {history}",
        f"CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {history} "
        f"FOR EACH ROW EXECUTE FUNCTION {r}.append_only()",
        f"DROP TRIGGER IF EXISTS append_only_truncate ON {history}",
        f"CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON {history} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {r}.append_only()",
        f"REVOKE ALL ON FUNCTION {r}.stamp(), {r}.keep_history(), {r}.append_only() FROM PUBLIC",
    ):
        conn.execute(text(statement))


def history_of(table: Table) -> Table:
    """The ``<name>_history`` table the models declare for the audited ``table``
    (:func:`pipeline.db.models.history_table`)."""
    return table.metadata.tables[f"{table.schema}.{table.name}_history"]


def create_history(
    conn: Connection, db: Database, table: Table, *, doubled_names: bool = False
) -> None:
    """The append-only history of the audited ``table`` as the models define it
    (columns, key, check, index, comments), then its stamp and history triggers
    (:func:`create_audit`). For the migration that creates an audited table.

    ``doubled_names`` is for migrations 0003 and 0004 only: they named the CHECK
    constraints with the naming convention applied twice
    (``<history>_<history>_operation_check_check``, cut to 63 characters), and
    migration 0005 renames those; a migration replayed must build what it built.
    """
    history = history_of(table)
    copy = history.to_metadata(MetaData(naming_convention=history.metadata.naming_convention))
    if doubled_names:
        for constraint in copy.constraints:
            if isinstance(constraint, CheckConstraint):
                constraint.name = conv(f"{history.name}_{constraint.name}_check")
    create_tables(conn, [copy], db.schema_, db.records_schema)
    create_audit(conn, db, table)


def create_publish_lock(conn: Connection, schema: str) -> None:
    """The published schema and its ``publish_lock`` table, if missing (the table
    every publish locks; see :mod:`pipeline.db.publish`)."""
    s = quote(conn, schema)
    if conn.execute(text("SELECT pg_catalog.to_regclass(:t)"), {"t": f"{s}.publish_lock"}).scalar():
        return  # (nothing else: a COMMENT would wait for the running publish's lock)
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {s}"))
    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {s}.publish_lock "
            "(id integer CONSTRAINT publish_lock_pkey PRIMARY KEY)"
        )
    )
    lock = models.publish_lock
    conn.execute(text(f"COMMENT ON TABLE {s}.publish_lock IS {literal(lock.comment)}"))
    conn.execute(text(f"COMMENT ON COLUMN {s}.publish_lock.id IS {literal(lock.c.id.comment)}"))


def set_owner_role(conn: Connection, db: Database) -> None:
    """Act as the owner role, so that everything created belongs to it."""
    conn.execute(text(f"SET ROLE {quote(conn, db.owner_role)}"))
