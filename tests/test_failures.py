"""Everyday failures are not bugs (issue 9): each gives exit code 2, a bilingual
message naming the path, key or server and the fix, and leaves the previous
outputs and the database as they were. Exit code 3 stays for real bugs.

Everything runs for real: the command line in a subprocess, a tmpfs that is
really full or really read-only, permissions really enforced (root's
DAC-override capabilities dropped with ``setpriv``), a real PostgreSQL server
whose publish backend is really terminated, deadlocked or timed out.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import hashlib
import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import dump_config, load_config
from pipeline.db.connection import resolve
from pipeline.db.publish import publish
from tests.postgis import (
    Server,
    create_geopark_database,
    postgis_available,
    running_server,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")

pytestmark = pytest.mark.timeout(600)


# --------------------------------------------------------------------------- helpers


def geopark(
    *args: str, env: dict[str, str] | None = None, unprivileged: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run ``geopark`` in a subprocess; ``unprivileged`` drops root's power to
    ignore file permissions, so that they apply as to any user."""
    command = [sys.executable, "-m", "pipeline", *args]
    if unprivileged and IS_ROOT:
        command = [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search,-fowner", *command]
    return subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_everyday(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """Exit 2 with a bilingual what and fix naming each of ``names``; no traceback,
    no usage line, no SQL. Returns the message."""
    message = result.stderr
    assert result.returncode == 2, (result.returncode, result.stdout, message)
    for bad in ("Traceback", "Usage:", "Internal error", "[SQL", "INSERT INTO", "SELECT "):
        assert bad not in message + result.stdout, (bad, message)
    for label in ("Lỗi:", "Error:", "Cách sửa:", "Fix:"):
        assert label in message, (label, message)
    for name in names:
        assert name in message, (name, message)
    return message


def checksums(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) with its SHA-256."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real tmpfs of ``size`` mounted at ``where``; skip if mounting is not permitted."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount rights): {mounted.stderr}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def previous_outputs(sample_run, directory: Path) -> dict[str, str]:
    """Put a complete previous set of outputs (the sample run's) into ``directory``."""
    cfg, _ = sample_run
    # as it is on disk: user paths are links into the versioned sets (pipeline.outputs)
    shutil.copytree(cfg.outputs.directory, directory, symlinks=True, dirs_exist_ok=True)
    return checksums(directory)


@pytest.fixture
def outputs_config(write_config, tmp_path):
    """A configuration whose outputs go to ``tmp_path/disk/processed``."""

    def make(directory: Path) -> Path:
        def edit(raw):
            raw["outputs"]["directory"] = str(directory)
            raw["outputs"]["failed_directory"] = str(directory / "failed_run")

        return write_config(edit)

    return make


# --------------------------------------------------------------------------- configuration


def test_config_path_that_is_a_folder(tmp_path):
    result = geopark("ingest", "--config", str(tmp_path))
    message = assert_everyday(result, str(tmp_path), "--config")
    assert "thư mục" in message and "folder" in message


@pytest.mark.skipif(IS_ROOT and SETPRIV is None, reason="setpriv is needed to drop root's rights")
def test_config_file_that_cannot_be_read(write_config):
    path = write_config()
    path.chmod(0)
    result = geopark("ingest", "--config", str(path), unprivileged=True)
    message = assert_everyday(result, str(path))
    assert "không có quyền truy cập" in message and "permission denied" in message


def test_config_with_a_byte_order_mark_is_read(write_config, tmp_path):
    plain = write_config()
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    assert load_config(bom).zoning == load_config(plain).zoning
    result = geopark("ingest", "--config", str(bom))
    assert result.returncode == 0, result.stderr


def test_config_that_is_not_utf8_names_the_line(write_config):
    path = write_config()
    lines = path.read_bytes().split(b"\n")
    lines[2] = b'# "L\xe1ng S\xf4n" saved in Windows-1252'
    path.write_bytes(b"\n".join(lines))
    message = assert_everyday(geopark("ingest", "--config", str(path)), str(path), "line 3")
    assert "UTF-8" in message


def test_duplicate_key_names_the_key_and_line(write_config):
    path = write_config()
    lines = path.read_text("utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("declared_area_km2"))
    lines.insert(at + 1, "declared_area_km2 = 1.0")
    path.write_text("\n".join(lines) + "\n", "utf-8")
    message = assert_everyday(
        geopark("ingest", "--config", str(path)), str(path), "park.declared_area_km2"
    )
    assert f"line {at + 2}" in message and f"dòng {at + 2}" in message
    assert "twice" in message and "hai lần" in message


def test_duplicate_table_names_the_table(write_config):
    path = write_config()
    with path.open("a", encoding="utf-8") as handle:
        handle.write('\n[park]\nname_vi = "again"\n')
    assert_everyday(geopark("ingest", "--config", str(path)), str(path), "'park'")


@pytest.mark.parametrize("contract", ["geosites", "survey_points"])
def test_schema_file_that_is_not_json(write_config, tmp_path, contract):
    schemas = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", schemas)
    broken = schemas / f"{contract}.schema.json"
    broken.write_text('{\n  "fields": [\n    {"name": "x",}\n  ]\n}\n', "utf-8")

    def edit(raw):
        specs = raw["inputs"][contract]
        for spec in specs if isinstance(specs, list) else [specs]:
            spec["schema"] = str(broken)

    path = write_config(edit)
    message = assert_everyday(geopark("ingest", "--config", str(path)), str(broken))
    assert "line 3" in message and "dòng 3" in message


# --------------------------------------------------------------------------- output folder


def test_output_folder_that_is_not_writable(sample_run, outputs_config, tmp_path):
    if IS_ROOT and SETPRIV is None:
        pytest.skip("setpriv is needed to drop root's rights")
    directory = tmp_path / "processed"
    before = previous_outputs(sample_run, directory)
    config = outputs_config(directory)
    # the folder and the versioned sets inside it, where a new set is staged
    folders = [directory, directory / ".sets"]
    for folder in folders:
        folder.chmod(0o555)
    try:
        result = geopark("zones", "--config", str(config), unprivileged=True)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    message = assert_everyday(result, str(directory))
    assert "permission denied" in message
    assert checksums(directory) == before


def test_read_only_file_system(sample_run, outputs_config, tmp_path):
    with tmpfs(tmp_path / "disk", "64m") as disk:
        directory = disk / "processed"
        before = previous_outputs(sample_run, directory)
        config = outputs_config(directory)
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        result = geopark("zones", "--config", str(config))
        message = assert_everyday(result, str(directory))
        assert "read-only" in message and "chỉ cho đọc" in message
        assert checksums(directory) == before


@pytest.mark.parametrize("free_kib", [300, 1200])
def test_full_disk_during_the_write(sample_run, outputs_config, tmp_path, free_kib):
    with tmpfs(tmp_path / "disk", "16m") as disk:
        directory = disk / "processed"
        before = previous_outputs(sample_run, directory)
        config = outputs_config(directory)
        stats = os.statvfs(disk)
        filler = stats.f_bavail * stats.f_frsize - free_kib * 1024
        with open(disk / "filler", "wb") as handle:
            handle.truncate(0)
            for _ in range(filler // (1 << 20)):
                handle.write(b"\0" * (1 << 20))
            handle.write(b"\0" * (filler % (1 << 20)))
        result = geopark("zones", "--config", str(config))
        message = assert_everyday(result, str(directory))
        assert "disk is full" in message and "ổ đĩa đã đầy" in message
        assert checksums(directory) == before  # no staging folder left either


# --------------------------------------------------------------------------- real bugs stay bugs


def test_a_genuine_bug_is_still_an_internal_error(monkeypatch, write_config):
    def broken(cfg, progress=None):
        raise RuntimeError("a bug in a stage")

    monkeypatch.setattr("pipeline.cli.zones.run_zones", broken)
    result = CliRunner().invoke(cli, ["zones", "--config", str(write_config())])
    assert result.exit_code == 3
    assert "Internal error" in result.output and "RuntimeError" in result.output


def test_missing_file_and_errors_raised_while_handling_one_stay_bugs(monkeypatch, write_config):
    """ENOENT can be a bug (a file the pipeline should have made), and an error
    raised while handling a PermissionError is not that PermissionError."""

    def missing(cfg, progress=None):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/nowhere/x.gpkg")

    def during(cfg, progress=None):
        try:
            raise PermissionError(errno.EACCES, "Permission denied", "/etc/shadow")
        except PermissionError:
            raise KeyError("a bug while handling it")  # noqa: B904 (the context is the point)

    for stage in (missing, during):
        monkeypatch.setattr("pipeline.cli.zones.run_zones", stage)
        result = CliRunner().invoke(cli, ["zones", "--config", str(write_config())])
        assert result.exit_code == 3, (stage.__name__, result.output)


def test_a_library_error_while_writing_with_room_to_spare_stays_a_bug(
    monkeypatch, write_config, tmp_path
):
    import pyogrio.errors

    def broken(layers, path, **options):
        raise pyogrio.errors.DataSourceError("a bug: bad layer options")

    monkeypatch.setattr("pipeline.outputs.write_geopackage", broken)
    result = CliRunner().invoke(cli, ["zones", "--config", str(write_config())])
    assert result.exit_code == 3, result.output
    assert "DataSourceError" in result.output


# --------------------------------------------------------------------------- database

needs_postgis = pytest.mark.skipif(
    not postgis_available(), reason="PostgreSQL 15 + PostGIS not installed"
)
LOGIN = "failures_login"
_db_numbers = itertools.count(1)
PASSWORD = "Never-Print-Me-9"


@pytest.fixture(scope="module")
def pg() -> Iterator[Server]:
    if not postgis_available():
        pytest.skip("PostgreSQL 15 + PostGIS not installed")
    with running_server() as server:
        yield server


@pytest.fixture(scope="module")
def published(pg, sample_run) -> str:
    """A database holding one publish of the sample run; returns its name. Shared:
    each test checks that it leaves the database as it found it."""
    cfg, _ = sample_run
    name = create_geopark_database(
        pg, cfg.database, f"failures_{next(_db_numbers)}", {LOGIN: cfg.database.owner_role}
    )
    url = pg.url(name, LOGIN)
    publish(cfg, resolve(cfg.database, environ={"DATABASE_URL": url}))
    return name


def database_state(pg: Server, dbname: str) -> dict[str, str]:
    """A checksum of every row of every table of the published and records schemas."""
    with pg.connect(dbname) as conn:
        tables = conn.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
            "AND n.nspname IN ('geopark', 'records') ORDER BY 1"
        ).fetchall()
        return {
            table: conn.execute(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' "
                f"ORDER BY t::text)), '') FROM {table} t"
            ).fetchone()[0]
            for (table,) in tables
        }


@pytest.fixture(scope="module")
def sample_config(sample_run) -> Path:
    cfg, _ = sample_run
    return cfg.source


@pytest.fixture(scope="module")
def impatient_config(sample_run, tmp_path_factory) -> Path:
    """The sample run's configuration, waiting at most 1.5 s for any lock, so that a
    lock held elsewhere ends the publish soon whatever lock it waits for."""
    cfg, _ = sample_run
    raw = copy.deepcopy(cfg.raw)
    raw["database"] = {**raw.get("database", {}), "lock_wait_s": 1.5, "swap_lock_timeout_s": 1.5}
    path = tmp_path_factory.mktemp("impatient") / "geopark.toml"
    path.write_text(dump_config(raw), "utf-8")
    return path


def publish_in_background(pg: Server, dbname: str, config: Path, **env: str) -> subprocess.Popen:
    host_url = f"postgresql://{LOGIN}:{PASSWORD}@{pg.host}:{pg.port}/{dbname}"
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "publish", "--config", str(config), "--force"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": host_url, "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def waiting_publish(admin: psycopg.Connection, dbname: str) -> int | None:
    """The pid of the publish backend while it waits for a lock."""
    row = admin.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = %s "
        "AND wait_event_type = 'Lock'",
        (dbname, LOGIN),
    ).fetchone()
    return row[0] if row else None


def finished(process: subprocess.Popen) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


@contextlib.contextmanager
def blocking_publish_log(pg: Server, dbname: str) -> Iterator[psycopg.Connection]:
    """A session holding an exclusive lock on ``publish_log`` (which every publish
    reads and writes) until the block ends."""
    holder = pg.connect(dbname)
    holder.execute("SET deadlock_timeout = '10min'")  # the publish, not this session, is chosen
    holder.execute("LOCK TABLE geopark.publish_log IN ACCESS EXCLUSIVE MODE")
    try:
        yield holder
    finally:
        with contextlib.suppress(psycopg.Error):
            holder.rollback()
        holder.close()


def server_of(pg: Server, dbname: str) -> str:
    return f"{pg.host}:{pg.port}/{dbname}"


@needs_postgis
def test_database_going_away_mid_publish(pg, published, sample_config):
    before = database_state(pg, published)
    with pg.connect(autocommit=True) as admin, blocking_publish_log(pg, published):
        process = publish_in_background(pg, published, sample_config)
        wait_for(lambda: waiting_publish(admin, published), what="the publish to wait")
        pid = waiting_publish(admin, published)
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        result = finished(process)
    message = assert_everyday(result, server_of(pg, published))
    assert "connection" in message and "kết nối" in message
    assert PASSWORD not in message + result.stdout
    assert database_state(pg, published) == before


@needs_postgis
def test_deadlock_during_publish(pg, published, sample_config):
    before = database_state(pg, published)
    # connected to the published database: its relations are named in its pg_class
    with (
        pg.connect(published, autocommit=True) as admin,
        blocking_publish_log(pg, published) as holder,
    ):
        process = publish_in_background(pg, published, sample_config)
        wait_for(lambda: waiting_publish(admin, published), what="the publish to wait")
        pid = waiting_publish(admin, published)
        # ask for what the waiting publish holds: a lock cycle, a real deadlock
        held = admin.execute(
            "SELECT l.locktype, l.classid, l.objid, l.objsubid, "
            "quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_locks l "
            "LEFT JOIN pg_class c ON c.oid = l.relation "
            "LEFT JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE l.pid = %s AND l.granted AND (l.locktype = 'advisory' "
            "OR (l.locktype = 'relation' AND n.nspname = 'geopark' AND c.relkind = 'r')) "
            "ORDER BY c.relname = 'publish_lock' DESC",
            (pid,),
        ).fetchall()
        assert held, "the publish holds no lock another session could ask for"
        kind, classid, objid, objsubid, relation = held[0]
        if kind == "advisory":
            signed = [k - (1 << 32) if k >= 1 << 31 else k for k in (int(classid), int(objid))]
            statement = (
                f"SELECT pg_advisory_lock({signed[0]}::int4, {signed[1]}::int4)"
                if objsubid == 2
                else f"SELECT pg_advisory_lock({(int(classid) << 32) | int(objid)}::int8)"
            )
        else:
            statement = f"LOCK TABLE {relation} IN ACCESS EXCLUSIVE MODE"
        failed: list[BaseException] = []

        def ask() -> None:
            try:
                holder.execute(statement)
            except psycopg.Error as exc:
                failed.append(exc)

        asking = threading.Thread(target=ask, daemon=True)
        asking.start()
        result = finished(process)
        asking.join(timeout=60)
        assert not failed, failed  # this session got its lock: the publish was the victim
    message = assert_everyday(result, server_of(pg, published))
    assert "deadlock" in message
    assert PASSWORD not in message + result.stdout
    assert database_state(pg, published) == before


@needs_postgis
@pytest.mark.parametrize(
    ("setting", "impatient", "words"),
    [("lock_timeout", True, "lock"), ("statement_timeout", False, "cancelled")],
)
def test_lock_or_statement_timeout_during_publish(
    pg, published, sample_config, impatient_config, setting, impatient, words
):
    """A lock not granted in time (the configuration's own waits are short, so it
    ends there whatever lock the publish waits for) or a statement cancelled by
    the server's ``statement_timeout`` (the configuration's waits are long)."""
    before = database_state(pg, published)
    config = impatient_config if impatient else sample_config
    with blocking_publish_log(pg, published):
        process = publish_in_background(pg, published, config, PGOPTIONS=f"-c {setting}=1500")
        result = finished(process)
    message = assert_everyday(result, server_of(pg, published))
    assert words in message.lower()
    assert PASSWORD not in message + result.stdout
    assert database_state(pg, published) == before
