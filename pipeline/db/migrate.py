"""Apply the schema migrations (Alembic, ``schemas/migrations``) to a database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from pipeline.config import Database

MIGRATIONS = Path(__file__).resolve().parents[2] / "schemas" / "migrations"
VERSION_TABLE = "alembic_version"


def alembic_config(db: Database, connection: Connection) -> AlembicConfig:
    """An Alembic configuration running on ``connection``; the migrations read
    ``attributes['database']`` (``schemas/migrations/env.py``)."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database"] = db
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection, db: Database) -> str | None:
    context = MigrationContext.configure(
        conn, opts={"version_table_schema": db.schema_, "version_table": VERSION_TABLE}
    )
    return context.get_current_revision()


def upgrade(conn: Connection, db: Database, revision: str = "head") -> None:
    """Upgrade the schema on ``conn`` (inside the caller's transaction)."""
    command.upgrade(alembic_config(db, conn), revision)
