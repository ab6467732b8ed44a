"""Where the database is: ``DATABASE_URL``, a ``pg_service.conf`` service, or ``PG*``,
and how every connection of the pipeline is made safe.

No credentials ever live in code, in ``geopark.toml`` or in logs. In order:

1. a service name given on the command line (``--service``);
2. ``DATABASE_URL``, an SQLAlchemy URL (``postgresql://user@host/db``; the
   driver is set to psycopg 3). A password is best percent-encoded; one written
   as is, with ``@ : / % ? #`` in it, is understood too (the user information
   runs to the last ``@``);
3. the service in ``[database] service`` of ``geopark.toml``, or ``PGSERVICE``;
4. the standard libpq variables (``PGHOST``, ``PGPORT``, ``PGDATABASE``,
   ``PGUSER``, ``PGPASSWORD``/``~/.pgpass``).

Passwords belong in ``~/.pgpass``, ``pg_service.conf`` or the environment.
Every message that may hold connection details goes through :func:`redact`.

Planted objects
---------------
Where ``public`` lets everybody create objects (PostgreSQL 14 and older), a
user can plant a function or operator there that a better-matching call would
run with the pipeline's privileges. So every connection runs with
``search_path = pg_catalog, pg_temp`` (:data:`SAFE_SEARCH_PATH`): unqualified
names resolve to built-ins only, tables are always schema-qualified, and
PostGIS objects are named in their own schema (:func:`postgis_schema`), always
with exactly typed arguments so that PostGIS's own function is the exact match.
SQL that comes from the models names PostGIS objects in the placeholder schema
:data:`POSTGIS`, translated to the real one by :func:`postgis_named`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pipeline.config import Database
from pipeline.errors import ConfigError

APPLICATION_NAME = "geopark-publish"

#: The search path of every pipeline connection: built-ins first, temporary objects last.
SAFE_SEARCH_PATH = "pg_catalog, pg_temp"

#: Placeholder schema for PostGIS objects in SQL generated from the models.
POSTGIS = "__postgis__"

_MASK = "***"


def redact(message: str, secrets: Iterable[str] = ()) -> str:
    """``message`` without any of ``secrets`` nor the passwords of the environment
    (``DATABASE_URL``, ``PGPASSWORD``), in any of their spellings."""
    hidden = set(secrets) | environment_secrets()
    for secret in sorted(hidden, key=len, reverse=True):
        if secret:
            message = message.replace(secret, _MASK)
    return message


def _spellings(password: str) -> set[str]:
    return {password, quote(password, safe=""), quote(password), unquote(password)} - {""}


def environment_secrets(environ: Mapping[str, str] | None = None) -> set[str]:
    """Every spelling of the passwords in ``DATABASE_URL`` and ``PGPASSWORD``."""
    env = os.environ if environ is None else environ
    found: set[str] = set()
    if env.get("PGPASSWORD"):
        found |= _spellings(env["PGPASSWORD"])
    raw = env.get("DATABASE_URL", "")
    if raw:
        found |= _url_password_spellings(raw)
    return found


def _userinfo(raw: str) -> tuple[str, str, str] | None:
    """``(scheme, userinfo, rest)`` of a URL, the user information running to the last ``@``."""
    scheme, sep, rest = raw.partition("://")
    if not sep or "@" not in rest:
        return None
    at = rest.rfind("@")
    return scheme, rest[:at], rest[at + 1 :]


def _url_password_spellings(raw: str) -> set[str]:
    parts = _userinfo(raw)
    if parts is None:
        return set()
    _, userinfo, _ = parts
    _user, colon, password = userinfo.partition(":")
    return _spellings(password) if colon else set()


_ENCODED = re.compile(r"(%[0-9A-Fa-f]{2}|[^%@/?#])*")


def parse_database_url(raw: str) -> URL:
    """``raw`` as an SQLAlchemy URL, accepting a password written without
    percent-encoding (``postgresql://an:p@ss/w%rd@host/db``)."""
    parts = _userinfo(raw)
    if parts is None:
        return make_url(raw)
    scheme, userinfo, rest = parts
    user, colon, password = userinfo.partition(":")
    if _ENCODED.fullmatch(password) and _ENCODED.fullmatch(user):
        password, user = unquote(password), unquote(user)
    url = make_url(f"{scheme}://{rest}")
    return url.set(username=user or None, password=password if colon else None)


@dataclass(frozen=True)
class Target:
    """A resolved connection: the URL to use and how to describe it without secrets."""

    url: URL
    source: str  # "DATABASE_URL", "service", "PG* variables"
    service: str | None = None
    secrets: frozenset[str] = field(default=frozenset(), repr=False)

    def describe(self) -> str:
        """Printable description: never the password."""
        if self.service:
            return f"service={self.service}"
        if self.source == "PG* variables":
            return "PG* variables (libpq)"
        return self.redact(self.url.render_as_string(hide_password=True))

    def redact(self, message: str) -> str:
        """``message`` without this target's password."""
        return redact(message, self.secrets)

    def __repr__(self) -> str:  # a Target in a traceback or log shows no password
        return f"Target({self.describe()!r}, source={self.source!r})"


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
            url = parse_database_url(env["DATABASE_URL"])
        except (ArgumentError, ValueError):
            raise ConfigError(
                "DATABASE_URL không đọc được",
                "DATABASE_URL cannot be parsed as an SQLAlchemy URL",
                field="DATABASE_URL",
                fix="use postgresql://user@host:5432/database",
                fix_vi="dùng postgresql://user@host:5432/database",
            ) from None
        secrets = _url_password_spellings(env["DATABASE_URL"])
        if url.password:
            secrets |= _spellings(str(url.password))
        return Target(_psycopg(url), "DATABASE_URL", secrets=frozenset(secrets))
    if db.service or env.get("PGSERVICE"):
        return _service_target(db.service or env["PGSERVICE"])
    return Target(URL.create("postgresql+psycopg"), "PG* variables")


def _service_target(name: str) -> Target:
    return Target(URL.create("postgresql+psycopg", query={"service": name}), "service", name)


def engine_for(target: Target) -> Engine:
    """An engine without pooling (one publish, one connection) whose sessions
    start with the safe search path."""
    from sqlalchemy.pool import NullPool

    # libpq's ``options`` replaces PGOPTIONS: keep the administrator's settings
    # there (statement_timeout, ...), with the safe search path last so it wins
    options = " ".join(
        part
        for part in (os.environ.get("PGOPTIONS", "").strip(), "-c search_path=pg_catalog,pg_temp")
        if part
    )
    return create_engine(
        target.url,
        poolclass=NullPool,
        connect_args={"application_name": APPLICATION_NAME, "options": options},
    )


def secure(conn: Connection) -> None:
    """Give ``conn`` the safe search path (for connections not made by :func:`engine_for`)."""
    conn.execute(text(f"SELECT pg_catalog.set_config('search_path', '{SAFE_SEARCH_PATH}', false)"))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def postgis_schema(conn: Connection) -> str:
    """The quoted name of the schema PostGIS is installed in."""
    name = conn.execute(
        text(
            "SELECT n.nspname FROM pg_catalog.pg_extension e "
            "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'postgis'"
        )
    ).scalar()
    if name is None:
        from pipeline.errors import GeoparkError

        raise GeoparkError(
            "cơ sở dữ liệu chưa có PostGIS",
            "the database has no PostGIS extension",
            field="postgis",
            fix="run the administrator SQL of the README ('Roles'): geopark publish --admin-sql",
            fix_vi="chạy đoạn SQL quản trị trong README (mục 'Roles'): geopark publish --admin-sql",
        )
    return quote_ident(name)


@contextlib.contextmanager
def postgis_named(conn: Connection) -> Iterator[None]:
    """While inside, statements on ``conn`` have the placeholder :data:`POSTGIS`
    replaced by PostGIS's real schema (SQL generated from the models)."""
    real = postgis_schema(conn)
    placeholders = (quote_ident(POSTGIS), POSTGIS)

    def translate(_conn, _cursor, statement, parameters, _context, _executemany):
        for placeholder in placeholders:
            statement = statement.replace(placeholder, real)
        return statement, parameters

    event.listen(conn, "before_cursor_execute", translate, retval=True)
    try:
        yield
    finally:
        event.remove(conn, "before_cursor_execute", translate)
