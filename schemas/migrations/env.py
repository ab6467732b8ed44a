"""Alembic environment for the heritage database.

Run by ``geopark publish`` (which passes its connection and the ``[database]``
settings in ``config.attributes``) or by hand::

    DATABASE_URL=postgresql://pipeline@host/geopark alembic -c schemas/alembic.ini upgrade head

By hand, the settings come from ``geopark.toml`` (``-x config=PATH`` for
another file) and the connection from DATABASE_URL / PGSERVICE / PG*.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from pipeline.db import ddl, models
from pipeline.db.connection import postgis_named, secure
from pipeline.db.migrate import VERSION_TABLE

config = context.config


def _database():
    db = config.attributes.get("database")
    if db is None:
        from pipeline.config import load_config

        db = load_config(
            context.get_x_argument(as_dictionary=True).get("config", "geopark.toml")
        ).database
        config.attributes["database"] = db
    return db


def _run(connection) -> None:
    db = _database()
    # the safe search path; PostGIS names in SQL from the models translated
    secure(connection)
    connection.execute(text(f"CREATE SCHEMA IF NOT EXISTS {ddl.quote(connection, db.schema_)}"))
    context.configure(
        connection=connection,
        target_metadata=models.persistent,
        version_table=VERSION_TABLE,
        version_table_schema=db.schema_,
        transactional_ddl=True,
    )
    with postgis_named(connection), context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from pipeline.db.connection import engine_for, resolve

    db = _database()
    with engine_for(resolve(db)).connect() as connection:
        ddl.set_owner_role(connection, db)
        _run(connection)
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported / không hỗ trợ chế độ offline")
run_migrations_online()
