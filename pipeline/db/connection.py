"""Where the database is: ``DATABASE_URL``, a ``pg_service.conf`` service, or ``PG*``.

No credentials ever live in code, in ``geopark.toml`` or in logs. In order:

1. a service name given on the command line (``--service``);
2. ``DATABASE_URL``, an SQLAlchemy URL (``postgresql://user@host/db``; the
   driver is set to psycopg 3);
3. the service in ``[database] service`` of ``geopark.toml``, or ``PGSERVICE``;
4. the standard libpq variables (``PGHOST``, ``PGPORT``, ``PGDATABASE``,
   ``PGUSER``, ``PGPASSWORD``/``~/.pgpass``).

Passwords belong in ``~/.pgpass``, ``pg_service.conf`` or the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pipeline.config import Database
from pipeline.errors import ConfigError

APPLICATION_NAME = "geopark-publish"


@dataclass(frozen=True)
class Target:
    """A resolved connection: the URL to use and how to describe it without secrets."""

    url: URL
    source: str  # "DATABASE_URL", "service", "PG* variables"
    service: str | None = None

    def describe(self) -> str:
        """Printable description: never the password."""
        if self.service:
            return f"service={self.service}"
        if self.source == "PG* variables":
            return "PG* variables (libpq)"
        return self.url.render_as_string(hide_password=True)


def _psycopg(url: URL) -> URL:
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            "DATABASE_URL không phải PostgreSQL",
            f"DATABASE_URL is not a PostgreSQL URL (backend {url.get_backend_name()!r})",
            field="DATABASE_URL",
            fix="use postgresql://user@host:5432/database (password in ~/.pgpass)",
            fix_vi="dùng postgresql://user@host:5432/database (mật khẩu trong ~/.pgpass)",
        )
    return url.set(drivername="postgresql+psycopg")


def resolve(
    db: Database, *, service: str | None = None, environ: Mapping[str, str] | None = None
) -> Target:
    """Pick the connection as documented in the module docstring."""
    env = os.environ if environ is None else environ
    if service:
        return _service_target(service)
    if env.get("DATABASE_URL"):
        try:
            url = make_url(env["DATABASE_URL"])
        except ArgumentError:
            raise ConfigError(
                "DATABASE_URL không đọc được",
                "DATABASE_URL cannot be parsed as an SQLAlchemy URL",
                field="DATABASE_URL",
                fix="use postgresql://user@host:5432/database",
                fix_vi="dùng postgresql://user@host:5432/database",
            ) from None
        return Target(_psycopg(url), "DATABASE_URL")
    if db.service or env.get("PGSERVICE"):
        return _service_target(db.service or env["PGSERVICE"])
    return Target(URL.create("postgresql+psycopg"), "PG* variables")


def _service_target(name: str) -> Target:
    return Target(URL.create("postgresql+psycopg", query={"service": name}), "service", name)


def engine_for(target: Target) -> Engine:
    """An engine without pooling (one publish, one connection)."""
    from sqlalchemy.pool import NullPool

    return create_engine(
        target.url,
        poolclass=NullPool,
        connect_args={"application_name": APPLICATION_NAME},
    )
