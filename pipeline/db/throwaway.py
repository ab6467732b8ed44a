"""A throw-away PostgreSQL 15 + PostGIS server, for the test suite and the benchmark.

PostgreSQL refuses to run as root, and the tests run as root on CI. So the
server runs as an unprivileged OS user (``postgres`` when we are root, else
ourselves): ``initdb`` into a fresh folder owned by that user under ``/tmp``
(pytest's own tmp folder is private to root), a Unix socket in that folder and
a free 127.0.0.1 port. Authentication is ``trust`` for local connections:
the server only lives for the test session and listens on loopback only.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

PG_BIN_CANDIDATES = [Path("/usr/lib/postgresql/15/bin")]


def pg_bin() -> Path | None:
    """The folder with ``initdb``/``pg_ctl``, or ``None`` when PostgreSQL is missing."""
    env = os.environ.get("GEOPARK_PG_BIN")
    for candidate in ([Path(env)] if env else []) + PG_BIN_CANDIDATES:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    found = shutil.which("pg_ctl")
    return Path(found).parent if found else None


def postgis_available() -> bool:
    bin_dir = pg_bin()
    if bin_dir is None:
        return False
    sharedir = (
        subprocess.run(
            [str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        or "/usr/share/postgresql/15"
    )
    return (Path(sharedir) / "extension" / "postgis.control").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    host: str
    port: int
    superuser: str

    def url(self, dbname: str, user: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3 driver) for ``dbname`` as ``user``."""
        return f"postgresql+psycopg://{user or self.superuser}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str, user: str | None = None) -> str:
        return f"host={self.host} port={self.port} dbname={dbname} user={user or self.superuser}"

    def connect(
        self, dbname: str = "postgres", user: str | None = None, **kwargs
    ) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(dbname, user), **kwargs)


def _as_server_user(cmd: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    """Start a PostgreSQL server in a temporary folder; stop and remove it afterwards."""
    bin_dir = pg_bin()
    assert bin_dir is not None, "PostgreSQL binaries not found"
    run_as = "postgres" if os.geteuid() == 0 else None
    base = Path(tempfile.mkdtemp(prefix="geopark-pg-"))
    data = base / "data"
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    os.chmod(base, 0o755)
    port = _free_port()
    superuser = run_as or pwd.getpwuid(os.geteuid()).pw_name
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                superuser,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
            run_as,
        ),
        check=True,
        capture_output=True,
        env=env,
        cwd=base,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} -c fsync=off"
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(base / "server.log"),
                "-o",
                options,
                "-w",
                "start",
            ],
            run_as,
        ),
        check=True,
        capture_output=True,
        env=env,
        cwd=base,
    )
    server = Server(host="127.0.0.1", port=port, superuser=superuser)
    try:
        yield server
    finally:
        subprocess.run(
            _as_server_user(
                [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], run_as
            ),
            capture_output=True,
            env=env,
            cwd=base,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)
