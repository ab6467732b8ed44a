"""Helpers of the test suite around the throw-away PostgreSQL + PostGIS server
(:mod:`pipeline.db.throwaway`, shared with the benchmark)."""

from __future__ import annotations

import time

from pipeline.db.throwaway import (  # re-exported for the tests
    Server,
    pg_bin,
    postgis_available,
    running_server,
)

__all__ = [
    "Server",
    "create_geopark_database",
    "pg_bin",
    "postgis_available",
    "running_server",
    "wait_for",
]


def wait_for(predicate, *, deadline_s: float = 120.0, what: str = "condition") -> None:
    """Poll ``predicate`` until it is true; fail (not a timing assertion) after a generous deadline."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


def create_geopark_database(
    pg: Server, database_cfg, name: str, logins: dict[str, str] | None = None
) -> str:
    """A fresh database set up with the README's administrator SQL.

    ``logins`` maps a login name to the role it is a member of; each is created
    once per server (roles are cluster-wide) and reused by later databases.
    """
    from pipeline.db.roles import admin_sql

    with pg.connect(autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with pg.connect(name, autocommit=True) as conn:
        conn.execute(admin_sql(database_cfg, name))
        for login, role in (logins or {}).items():
            conn.execute(
                f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{login}') "
                f"THEN CREATE ROLE {login} LOGIN IN ROLE {role}; END IF; END $$"
            )
    return name
