"""A publish never disturbs readers or backups, and they never disturb it.

Against the suite's real PostgreSQL 15 + PostGIS server: while two different
versions of the outputs are published again and again, QGIS-like readers read
in READ COMMITTED and REPEATABLE READ (one started before the publishes and
reading after them), one viewer sits idle in an open transaction, and
``pg_dump`` runs in a loop. Every read must be exactly the old or the new
version, nothing may fail, and the publish must never wait for a reader.
"""

# ruff: noqa: F811  (the fixtures pg and dbname come from tests.test_publish)

from __future__ import annotations

import subprocess
import threading

import pytest

from pipeline.config import load_config
from pipeline.db.publish import publish
from pipeline.run import run_zones
from tests.postgis import pg_bin
from tests.test_publish import (  # noqa: F401  (fixtures)
    VIEWER_LOGIN,
    _register_without,
    dbname,
    pg,
    target_for,
)

pytestmark = [
    pytest.mark.postgis,
    pytest.mark.timeout(1200),
]

#: Layers read together in one statement, each as a digest of all its rows.
LAYERS = (
    "geosites",
    "survey_points",
    "zone_i",
    "zone_ii",
    "protection_zones",
    "geosite_assessment",
)
VERSION_QUERY = "SELECT " + ", ".join(
    f"(SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
    f"FROM geopark.{name} t)"
    for name in LAYERS
)
PUBLISHES = 4


def _version(conn) -> tuple[str, ...]:
    return tuple(conn.execute(VERSION_QUERY).fetchone())


def test_readers_and_pg_dump_during_repeated_publishes(
    pg, dbname, sample_run, write_config, tmp_path
):
    full, _ = sample_run
    with open(full.inputs.geosites.path, encoding="utf-8") as handle:
        codes = [line.split(",")[0] for line in handle.read().splitlines()[1:]]
    smaller_path = _register_without(write_config, codes[-1], tmp_path)
    text = smaller_path.read_text("utf-8").replace(
        "swap_lock_timeout_s = 60\n", "swap_lock_timeout_s = 0.5\n"
    )
    assert "swap_lock_timeout_s = 0.5" in text  # a publish that waited for a reader would fail
    smaller_path.write_text(text, "utf-8")
    smaller = load_config(smaller_path)
    assert run_zones(smaller).published
    versions = [smaller, full]
    target = target_for(pg, dbname)

    # the two versions, as readers will see them
    expected = []
    for cfg in (full, smaller):
        assert publish(cfg, target, force=True).status == "published"
        with pg.connect(dbname, VIEWER_LOGIN) as conn:
            expected.append(_version(conn))
    assert expected[0] != expected[1]
    assert all(int(d.split(":")[0]) > 0 for d in expected[0] + expected[1])
    publish(full, target, force=True)  # readers start on the full version
    old = expected[0]

    stop = threading.Event()
    errors: list[str] = []
    reads: list[tuple[str, tuple[str, ...]]] = []
    dumps: list[int] = []
    publish_waits: list[tuple] = []

    def guarded(name, body):
        def run():
            try:
                body()
            except Exception as exc:  # every failure is a finding
                errors.append(f"{name}: {type(exc).__name__}: {exc}")

        return threading.Thread(target=run, name=name)

    def read_committed():
        with pg.connect(dbname, VIEWER_LOGIN) as conn:
            while not stop.is_set():
                reads.append(("read committed", _version(conn)))
                conn.commit()

    def repeatable_read_fresh():
        with pg.connect(dbname, VIEWER_LOGIN) as conn:
            conn.isolation_level = 3  # psycopg.IsolationLevel.REPEATABLE_READ
            while not stop.is_set():
                first = _version(conn)
                stop.wait(0.3)
                again = _version(conn)
                reads.append(("repeatable read", first))
                if again != first:
                    errors.append("repeatable read: the snapshot changed inside a transaction")
                conn.commit()

    def dump_loop():
        binary = str(pg_bin() / "pg_dump")
        while not stop.is_set():
            done = subprocess.run(
                [
                    binary,
                    "-h",
                    pg.host,
                    "-p",
                    str(pg.port),
                    "-U",
                    pg.superuser,
                    "-d",
                    dbname,
                    "-f",
                    "/dev/null",
                ],
                capture_output=True,
                text=True,
            )
            dumps.append(done.returncode)
            if done.returncode != 0:
                errors.append(f"pg_dump: {done.stderr.strip()}")

    def watch_publish_locks():
        with pg.connect(dbname, autocommit=True) as conn:
            while not stop.is_set():
                publish_waits.extend(
                    conn.execute(
                        "SELECT l.locktype, l.mode, l.relation::regclass::text "
                        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE a.application_name = 'geopark-publish' AND NOT l.granted"
                    ).fetchall()
                )
                stop.wait(0.05)

    # a REPEATABLE READ transaction that began before the publishes, read after each
    early = pg.connect(dbname, VIEWER_LOGIN)
    early.isolation_level = 3
    assert _version(early) == old
    # a viewer idle in its transaction, holding its locks, the whole time
    idle = pg.connect(dbname, VIEWER_LOGIN)
    idle.execute("SELECT count(*) FROM " + ", ".join(f"geopark.{n}" for n in LAYERS[:2]))
    idle.execute("SELECT * FROM geopark.geosite_overview").fetchall()

    threads = [
        guarded("read committed", read_committed),
        guarded("repeatable read", repeatable_read_fresh),
        guarded("pg_dump", dump_loop),
        guarded("lock watch", watch_publish_locks),
    ]
    for thread in threads:
        thread.start()
    results = []
    try:
        for n in range(PUBLISHES):
            cfg = versions[n % 2]
            results.append(publish(cfg, target, force=True).status)
            reads.append(("repeatable read, begun before", _version(early)))
            if _version(early) != old:
                errors.append("repeatable read begun before the publishes: snapshot changed")
        stop.wait(1.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=300)
        still_idle = idle.execute(
            "SELECT state FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()
        idle.rollback()
        idle.close()
        early.rollback()
        early.close()

    assert results == ["published"] * PUBLISHES
    assert errors == []
    assert still_idle is not None  # the idle viewer's transaction was open throughout
    assert publish_waits == [], publish_waits  # the publish never waited for anybody
    assert dumps and all(code == 0 for code in dumps)
    kinds = {kind for kind, _ in reads}
    assert kinds == {"read committed", "repeatable read", "repeatable read, begun before"}
    partial = [(kind, v) for kind, v in reads if v not in expected]
    assert partial == [], partial[:3]  # every read is exactly the old or the new version
    seen = {v for _, v in reads}
    assert seen == set(expected)  # and the readers did see both
    with pg.connect(dbname, VIEWER_LOGIN) as conn:
        assert _version(conn) == expected[1 if PUBLISHES % 2 else 0]
