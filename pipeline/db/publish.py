"""Publish the outputs of ``geopark zones`` to PostGIS, atomically.

One publish is one session holding a PostgreSQL advisory lock (a second
publish waits up to ``lock_wait_s``, then refuses) and, after the schema
migrations, **one transaction**:

1. create a staging schema and the layer tables in it (from the models);
2. COPY every layer into it (psycopg 3 COPY, parents first, so foreign keys
   and CHECK constraints are enforced while loading);
3. verify: counts against the GeoPackage and the run manifest, geometry
   validity and SRID;
4. swap: drop the published layer tables, move the staging ones in
   (``ALTER TABLE ... SET SCHEMA``), recreate the views, grant, store the QGIS
   styles and project, write ``publish_log``, drop the staging schema;
5. commit.

Until the commit nobody sees anything new; if the process fails or is killed
at any moment, PostgreSQL rolls the transaction back and the previous version
stays complete and readable. The persistent tables (``publish_log``,
``qgis_projects``, and the ``records`` schema) are never dropped or rewritten.

If the content (the rows of every layer, the schema revision and the pipeline
version) is the same as the last publish, nothing is replaced and only a line
``unchanged`` is added to ``publish_log``.
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, OperationalError

import pipeline
from pipeline.config import Config
from pipeline.db import ddl, migrate, models
from pipeline.db.connection import Target, engine_for
from pipeline.db.load import LayerRows, fingerprint, read_geopackage
from pipeline.errors import DatabaseError, InputError
from pipeline.progress import Progress, no_progress
from pipeline.report import SAMPLE_NOTE
from pipeline.run import sha256

log = logging.getLogger(__name__)

#: First key of the advisory lock (the second is the hash of the schema name).
LOCK_CLASS = 7_321_001


@dataclass
class PublishResult:
    status: str  # "published" or "unchanged"
    fingerprint: str
    counts: dict[str, int]
    schema_revision: str
    publish_id: int
    notes: list[str] = field(default_factory=list)


def staging_schema(schema: str) -> str:
    return f"{schema}_staging"


# --------------------------------------------------------------------------- inputs


def read_outputs(cfg: Config) -> tuple[Path, dict[str, Any], list[LayerRows], list[str]]:
    """The GeoPackage, its run manifest, its rows and the names of its layers that
    have no table; refuse a run that did not pass."""
    gpkg = cfg.output_path("geopackage")
    manifest_path = cfg.output_path("manifest")
    for path in (gpkg, manifest_path):
        if not path.exists():
            raise InputError(
                f"chưa có kết quả để xuất bản: thiếu {path.name}",
                f"nothing to publish yet: {path.name} is missing",
                file=str(path),
                fix="run `make zones` (geopark zones) first",
                fix_vi="chạy `make zones` (geopark zones) trước",
            )
    manifest = json.loads(manifest_path.read_text("utf-8"))
    if manifest.get("status") != "pass" or manifest.get("published") is False:
        raise InputError(
            "kết quả chạy gần nhất không đạt kiểm tra chất lượng",
            "the outputs come from a run whose QA failed",
            file=str(manifest_path),
            field="status",
            fix="fix the QA errors (qa_report.md) and run `geopark zones` again",
            fix_vi="sửa các lỗi QA (qa_report.md) rồi chạy lại `geopark zones`",
        )
    layers, unpublished = read_geopackage(gpkg)
    expected = manifest.get("counts", {})
    for layer in layers:
        if layer.name in expected and expected[layer.name] != len(layer.rows):
            raise InputError(
                f"GeoPackage không khớp run_manifest.json ở lớp {layer.name}",
                f"the GeoPackage does not match run_manifest.json for layer {layer.name}: "
                f"{len(layer.rows)} features, manifest says {expected[layer.name]}",
                file=str(gpkg),
                field=layer.name,
                fix="run `geopark zones` again so that both come from the same run",
                fix_vi="chạy lại `geopark zones` để cả hai cùng một lần chạy",
            )
    return gpkg, manifest, layers, unpublished


# --------------------------------------------------------------------------- session


def _connect(target: Target) -> Connection:
    try:
        return engine_for(target).connect()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise DatabaseError(
            f"không kết nối được cơ sở dữ liệu ({target.describe()})",
            f"cannot connect to the database ({target.describe()}): {reason}",
            field=target.source,
            fix="set DATABASE_URL, a pg_service.conf service (--service / PGSERVICE) or PGHOST/PGDATABASE/"
            "PGUSER; keep the password in ~/.pgpass",
            fix_vi="đặt DATABASE_URL, tên dịch vụ pg_service.conf (--service / PGSERVICE) hoặc PGHOST/"
            "PGDATABASE/PGUSER; mật khẩu để trong ~/.pgpass",
        ) from None


def _lock(conn: Connection, schema: str, wait_s: float, progress: Progress) -> None:
    """Take the session advisory lock of ``schema``: wait up to ``wait_s``, then refuse."""
    key = {"k": LOCK_CLASS, "s": schema}
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(:s))"), key).scalar()
    if not got and wait_s > 0:
        progress(
            f"Đang có lần xuất bản khác; chờ tối đa {wait_s:g} s",
            f"Another publish is running; waiting up to {wait_s:g} s",
        )
        conn.execute(text(f"SET lock_timeout = '{int(wait_s * 1000)}ms'"))
        try:
            conn.execute(text("SELECT pg_advisory_lock(:k, hashtext(:s))"), key)
            got = True
        except OperationalError as exc:
            if not isinstance(exc.orig, psycopg.errors.LockNotAvailable):
                raise
            conn.rollback()
        conn.execute(text("RESET lock_timeout"))
    conn.commit()
    if not got:
        raise DatabaseError(
            "một lần xuất bản khác đang chạy trên lược đồ này",
            f"another publish of schema {schema!r} is running",
            field="database.lock_wait_s",
            fix="wait for it to finish and run again (or raise --wait / database.lock_wait_s)",
            fix_vi="đợi lần kia xong rồi chạy lại (hoặc tăng --wait / database.lock_wait_s)",
        )


def _prepare(conn: Connection, cfg: Config) -> None:
    """Check what the administrator sets up once (README, 'Roles') and act as the owner."""
    db = cfg.database
    admin = "run the administrator SQL of the README ('Roles'): geopark publish --admin-sql"
    admin_vi = "chạy đoạn SQL quản trị trong README (mục 'Roles'): geopark publish --admin-sql"
    has_postgis = conn.execute(
        text("SELECT count(*) FROM pg_extension WHERE extname = 'postgis'")
    ).scalar()
    if not has_postgis:
        raise DatabaseError(
            "cơ sở dữ liệu chưa có PostGIS",
            "the database has no PostGIS extension",
            field="postgis",
            fix=admin,
            fix_vi=admin_vi,
        )
    has_srid = conn.execute(
        text("SELECT count(*) FROM spatial_ref_sys WHERE srid = :s"), {"s": models.SRID}
    ).scalar()
    if not has_srid:
        raise DatabaseError(
            f"spatial_ref_sys chưa có EPSG:{models.SRID}",
            f"spatial_ref_sys lacks EPSG:{models.SRID}",
            field="spatial_ref_sys",
            fix=admin,
            fix_vi=admin_vi,
        )
    try:
        ddl.set_owner_role(conn, db)
    except DBAPIError:
        conn.rollback()
        raise DatabaseError(
            f"không dùng được vai trò {db.owner_role}",
            f"cannot act as the owner role {db.owner_role!r} (missing, or this login is not a member)",
            field="database.owner_role",
            fix=admin,
            fix_vi=admin_vi,
        ) from None
    conn.commit()


# --------------------------------------------------------------------------- load, verify, swap


def _copy(conn: Connection, schema: str, layer: LayerRows) -> None:
    raw: psycopg.Connection = conn.connection.driver_connection  # type: ignore[assignment]
    statement = sql.SQL("COPY {}.{} ({}) FROM STDIN").format(
        sql.Identifier(schema),
        sql.Identifier(layer.name),
        sql.SQL(", ").join(sql.Identifier(c) for c in layer.columns),
    )
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in layer.rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        diag = exc.diag
        line = None
        if diag.context and "line" in diag.context:
            digits = diag.context.split("line", 1)[1].split(",")[0].split(":")[0].strip()
            line = int(digits) if digits.isdigit() else None
        key = layer.rows[line - 1][0] if line and line <= len(layer.rows) else None
        raise InputError(
            f"lớp {layer.name} vi phạm ràng buộc của cơ sở dữ liệu ({diag.constraint_name or diag.sqlstate})",
            f"layer {layer.name} breaks a database constraint: {diag.message_primary}",
            field=f"{layer.name}.{diag.column_name or diag.constraint_name or ''}".rstrip("."),
            row=f"feature {layer.columns[0]}={key}" if key is not None else None,
            fix="correct the input so that `geopark zones` produces valid data, then publish again",
            fix_vi="sửa dữ liệu đầu vào để `geopark zones` tạo dữ liệu hợp lệ, rồi xuất bản lại",
        ) from None


def _verify(conn: Connection, schema: str, layers: list[LayerRows]) -> None:
    q = ddl.quote
    for layer in layers:
        table = f"{q(conn, schema)}.{q(conn, layer.name)}"
        loaded = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
        if loaded != len(layer.rows):
            raise DatabaseError(
                f"số đối tượng lớp {layer.name} sau khi nạp không khớp",
                f"layer {layer.name}: {loaded} rows loaded, {len(layer.rows)} expected",
                field=layer.name,
                fix="run the publish again; report it if it repeats",
                fix_vi="xuất bản lại; báo lỗi nếu lặp lại",
            )
        if "geom" in layer.columns:
            bad = conn.execute(
                text(
                    f"SELECT count(*) FROM {table} WHERE geom IS NOT NULL "
                    f"AND (NOT ST_IsValid(geom) OR ST_SRID(geom) <> {models.SRID})"
                )
            ).scalar_one()
            if bad:
                raise DatabaseError(
                    f"lớp {layer.name} có {bad} hình học không hợp lệ",
                    f"layer {layer.name} has {bad} invalid geometries",
                    field=f"{layer.name}.geom",
                    fix="check the QA report and the inputs",
                    fix_vi="xem báo cáo QA và dữ liệu đầu vào",
                )


def _qgis_hooks(
    conn: Connection,
    cfg: Config,
    layers: list[str],
    database: str,
    service: str | None,
    progress: Progress,
) -> list[str]:
    """Store the QGIS default styles and project, in the publish transaction.

    The functions live in :mod:`pipeline.qgis` and take this SQLAlchemy
    connection; the publish commits. When they are not installed the publish
    goes on without them and says so.
    """
    notes: list[str] = []
    db = cfg.database
    try:
        styles = importlib.import_module("pipeline.qgis.styles")
    except ModuleNotFoundError as exc:
        notes.append(f"QGIS styles skipped: {exc.name} is not available")
    else:
        n = styles.write_postgres_styles(conn, db.schema_, layers, database=database)
        progress(f"Đã lưu {n} kiểu hiển thị QGIS mặc định", f"Stored {n} QGIS default styles")
        conn.execute(
            text(
                "DO $$ BEGIN IF to_regclass('public.layer_styles') IS NOT NULL THEN "
                f"EXECUTE 'GRANT SELECT ON public.layer_styles TO {ddl.quote(conn, db.viewer_role)}, "
                f"{ddl.quote(conn, db.editor_role)}'; END IF; END $$"
            )
        )
    try:
        project = importlib.import_module("pipeline.qgis.project")
    except ModuleNotFoundError as exc:
        notes.append(f"QGIS project skipped: {exc.name} is not available")
    else:
        project.store_project_in_postgres(
            conn,
            db.schema_,
            database=database,
            service=service,
            project_name=db.project_name,
            cfg=cfg,
        )
        progress("Đã lưu dự án QGIS vào cơ sở dữ liệu", "Stored the QGIS project in the database")
    for note in notes:
        progress(f"Bỏ qua: {note}", note)
    return notes


def _swap(conn: Connection, cfg: Config) -> None:
    db = cfg.database
    q = ddl.quote
    staging = staging_schema(db.schema_)
    conn.execute(text(f"SET LOCAL lock_timeout = '{int(db.swap_lock_timeout_s * 1000)}ms'"))
    ddl.drop_views(conn, db)
    ddl.drop_layer_tables(conn, db.schema_)
    for table in models.LAYER_TABLES:
        conn.execute(
            text(
                f"ALTER TABLE {q(conn, staging)}.{q(conn, table.name)} "
                f"SET SCHEMA {q(conn, db.schema_)}"
            )
        )
    conn.execute(text(f"DROP SCHEMA {q(conn, staging)}"))
    ddl.create_views(conn, db)
    ddl.apply_grants(conn, db)
    note = f"{cfg.park.name_vi} / {cfg.park.name_en}: các lớp đã xuất bản / published layers"
    if cfg.park.sample_data:
        note += ". " + SAMPLE_NOTE
    conn.execute(text(f"COMMENT ON SCHEMA {q(conn, db.schema_)} IS {ddl.literal(note)}"))


def _log(
    conn: Connection,
    cfg: Config,
    status: str,
    print_: str,
    manifest: dict[str, Any],
    gpkg_sha: str,
    counts: dict[str, int],
    revision: str,
) -> int:
    table = f"{ddl.quote(conn, cfg.database.schema_)}.publish_log"
    return conn.execute(
        text(
            f"INSERT INTO {table} (status, fingerprint, geopackage_sha256, inputs, counts, "
            "pipeline_version, schema_revision, sample_data) VALUES (:status, :fp, :gpkg, "
            "CAST(:inputs AS jsonb), CAST(:counts AS jsonb), :version, :revision, :sample) "
            "RETURNING publish_id"
        ),
        {
            "status": status,
            "fp": print_,
            "gpkg": gpkg_sha,
            "inputs": json.dumps(manifest.get("inputs", []), ensure_ascii=False),
            "counts": json.dumps(counts),
            "version": pipeline.__version__,
            "revision": revision,
            "sample": cfg.park.sample_data,
        },
    ).scalar_one()


def _last_fingerprint(conn: Connection, cfg: Config) -> str | None:
    table = f"{ddl.quote(conn, cfg.database.schema_)}.publish_log"
    return conn.execute(
        text(
            f"SELECT fingerprint FROM {table} WHERE status = 'published' ORDER BY publish_id DESC LIMIT 1"
        )
    ).scalar()


def publish(
    cfg: Config,
    target: Target,
    *,
    force: bool = False,
    wait_s: float | None = None,
    progress: Progress = no_progress,
) -> PublishResult:
    """Publish the outputs of ``cfg`` to the database ``target``.

    Parameters
    ----------
    cfg
        The configuration (outputs to read, ``[database]`` settings).
    target
        Where to publish (:func:`pipeline.db.connection.resolve`).
    force
        Replace the published layers even if the content is unchanged.
    wait_s
        How long to wait for another publish (default ``database.lock_wait_s``).

    Returns
    -------
    PublishResult
        ``status`` is ``"published"`` or ``"unchanged"``.
    """
    db = cfg.database
    progress("Đọc GeoPackage và run_manifest.json", "Reading the GeoPackage and run_manifest.json")
    gpkg, manifest, layers, unpublished = read_outputs(cfg)
    notes = [f"not published (no table): {name}" for name in unpublished]
    gpkg_sha = sha256(gpkg)
    revision = migrate.head_revision()
    content = fingerprint(layers, revision, pipeline.__version__)
    counts = {layer.name: len(layer.rows) for layer in layers}
    progress(f"Kết nối {target.describe()}", f"Connecting to {target.describe()}")
    conn = _connect(target)
    try:
        _lock(conn, db.schema_, db.lock_wait_s if wait_s is None else wait_s, progress)
        _prepare(conn, cfg)
        progress("Cập nhật lược đồ (Alembic)", "Upgrading the schema (Alembic)")
        migrate.upgrade(conn, db)
        conn.commit()
        if not force and _last_fingerprint(conn, cfg) == content:
            publish_id = _log(conn, cfg, "unchanged", content, manifest, gpkg_sha, counts, revision)
            conn.commit()
            progress(
                "Dữ liệu không đổi: không thay gì, chỉ ghi nhật ký",
                "Content unchanged: nothing replaced, logged only",
            )
            return PublishResult("unchanged", content, counts, revision, publish_id, notes)

        staging = staging_schema(db.schema_)
        progress(
            f"Nạp vào lược đồ tạm {staging} (COPY)",
            f"Loading into the staging schema {staging} (COPY)",
        )
        conn.execute(text(f"DROP SCHEMA IF EXISTS {ddl.quote(conn, staging)} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {ddl.quote(conn, staging)}"))
        ddl.create_layer_tables(conn, staging, db.records_schema)
        for layer in layers:
            _copy(conn, staging, layer)
        progress(
            "Kiểm tra số lượng, hình học, ràng buộc", "Verifying counts, geometries, constraints"
        )
        _verify(conn, staging, layers)
        progress(
            "Hoán đổi vào lược đồ xuất bản", f"Swapping into the published schema {db.schema_}"
        )
        _swap(conn, cfg)
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        notes += _qgis_hooks(
            conn, cfg, [t.name for t in models.LAYER_TABLES], database, target.service, progress
        )
        publish_id = _log(conn, cfg, "published", content, manifest, gpkg_sha, counts, revision)
        conn.commit()
        progress("Đã xuất bản", "Published")
        return PublishResult("published", content, counts, revision, publish_id, notes)
    except OperationalError as exc:
        conn.rollback()
        if isinstance(exc.orig, psycopg.errors.LockNotAvailable):
            raise DatabaseError(
                "bảng đang bị người đọc giữ quá lâu; chưa thay gì",
                "readers kept the published tables busy too long; nothing was replaced",
                field="database.swap_lock_timeout_s",
                fix="run again later (or raise database.swap_lock_timeout_s)",
                fix_vi="chạy lại sau (hoặc tăng database.swap_lock_timeout_s)",
            ) from None
        raise
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
