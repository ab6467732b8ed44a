"""The publish's settings, connection resolution and documentation (no server needed)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from pipeline.config import Database, load_config
from pipeline.db import models
from pipeline.db.connection import resolve
from pipeline.db.roles import admin_sql

ROOT = Path(__file__).resolve().parents[1]


def test_model_values_follow_the_input_contracts():
    fields = {
        f["name"]: f
        for f in json.loads((ROOT / "schemas/geosites.schema.json").read_text())["fields"]
    }
    assert set(models.CATEGORIES) == set(fields["category"]["constraints"]["enum"])
    assert set(models.SIGNIFICANCES) == set(fields["significance"]["constraints"]["enum"])
    assert set(models.LOCATION_QUALITIES) == set(fields["location_quality"]["constraints"]["enum"])
    units = {
        f["name"]: f
        for f in json.loads((ROOT / "schemas/admin_units.schema.json").read_text())["fields"]
    }
    assert set(models.MEMBERSHIPS) == set(units["park_membership"]["constraints"]["enum"])


def test_connection_order_and_no_password_in_what_is_printed():
    db = Database()
    url = "postgresql://pipeline:s3cret@db.example:5433/geopark"
    chosen = resolve(db, environ={"DATABASE_URL": url, "PGSERVICE": "other"})
    assert chosen.source == "DATABASE_URL" and chosen.url.drivername == "postgresql+psycopg"
    assert "s3cret" not in chosen.describe() and "db.example" in chosen.describe()
    by_option = resolve(db, service="geopark", environ={"DATABASE_URL": url})
    assert (
        by_option.url.query == {"service": "geopark"} and by_option.describe() == "service=geopark"
    )
    assert resolve(db, environ={"PGSERVICE": "field"}).service == "field"
    assert resolve(Database(service="cfg"), environ={"PGSERVICE": "env"}).service == "cfg"
    libpq = resolve(db, environ={})
    assert libpq.source == "PG* variables" and libpq.url.host is None


def test_readme_shows_the_administrator_sql_we_generate():
    readme = (ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", readme, flags=re.S)
    cfg = load_config(ROOT / "geopark.toml")
    assert admin_sql(cfg.database, "geopark") in blocks


def test_publish_without_a_reachable_database_fails_well(sample_run, write_config):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    env = {**os.environ, "DATABASE_URL": f"postgresql://someone:hunter2@127.0.0.1:{port}/geopark"}

    def publish(config: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "pipeline", "publish", "--config", str(config)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    # nothing produced yet: told to run `make zones` first
    nothing = publish(write_config())
    assert nothing.returncode == 2 and "make zones" in nothing.stderr
    # outputs there, database unreachable: told so, without the password
    cfg, _ = sample_run
    done = publish(cfg.source)
    assert done.returncode == 2, done.stderr
    assert "không kết nối được" in done.stderr and "cannot connect" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
