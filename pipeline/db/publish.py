"""Publish the outputs of ``geopark zones`` to PostGIS, without disturbing readers.

The published layer tables are permanent; a publish replaces their *rows*,
never the tables, so that QGIS users (even one idle in a transaction, even in
REPEATABLE READ) and a ``pg_dump`` running at the same time neither block it
nor are blocked or broken by it: every snapshot sees the complete old or the
complete new version (row-level MVCC). One publish is one transaction:

1. lock: ``LOCK TABLE <schema>.publish_lock IN EXCLUSIVE MODE`` (only the owner
   role can; a second publish waits up to ``lock_wait_s``, then refuses). The
   lock conflicts with nothing a reader or ``pg_dump`` takes;
2. the schema migrations (Alembic), if any;
3. unchanged? If the content (the rows of every layer, the schema revision and
   the pipeline version) is the same as the last publish, only a line
   ``unchanged`` is added to ``publish_log``;
4. stage: a staging schema of this transaction gets the layer tables from the
   models; COPY every layer into it (parents first, so foreign keys and CHECK
   constraints are enforced while loading);
5. verify: counts against the GeoPackage and the run manifest, geometry
   validity and SRID;
6. ensure: a live layer table whose definition differs from the staging one
   (the model changed) is recreated, views whose definition changed are
   replaced, grants reapplied; only then is an exclusive lock taken, under
   ``swap_lock_timeout_s`` and with a clear error if readers hold it;
7. replace: ``DELETE`` + ``INSERT ... SELECT`` from staging (RowExclusiveLock:
   no conflict with readers' AccessShareLock nor with ``pg_dump``); upsert the
   geosites' last known locations (``records.geosite_locations``); store the
   QGIS styles and project; write ``publish_log``; drop the staging schema;
8. commit.

Until the commit nobody sees anything new; if the process fails or is killed
at any moment, PostgreSQL rolls the transaction back and the previous version
stays complete and readable. The persistent tables (``publish_log``,
``qgis_projects``, and the ``records`` schema) are never dropped or rewritten.

The session runs with the safe search path and names every object in its
schema (:mod:`pipeline.db.connection`), so nothing a user planted runs with the
owner's privileges. No message carries a password (:meth:`Target.redact`).
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
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError

import pipeline
from pipeline import failures
from pipeline.config import Config
from pipeline.db import ddl, migrate, models
from pipeline.db.connection import Target, engine_for, postgis_schema
from pipeline.db.load import LayerRows, fingerprint, read_geopackage
from pipeline.errors import DatabaseError, InputError
from pipeline.numbers import en_number, vi_number
from pipeline.outputs import sha256, verify_set
from pipeline.progress import Progress, no_progress
from pipeline.report import SAMPLE_NOTE

log = logging.getLogger(__name__)


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
    have no table; refuse a set whose files do not match its manifest, or a run
    that did not pass.

    The GeoPackage is read from the very version folder that was verified, so a
    ``geopark zones`` finishing meanwhile cannot slip other data under this
    manifest's input checksums.
    """
    manifest_path = cfg.output_path("manifest")
    verified = verify_set(
        manifest_path,
        fix="run `make zones` (geopark zones) again, then publish",
        fix_vi="chạy lại `make zones` (geopark zones) rồi xuất bản",
    )
    manifest = verified.manifest
    if manifest.get("status") != "pass" or manifest.get("published") is False:
        raise InputError(
            "kết quả chạy gần nhất không đạt kiểm tra chất lượng",
            "the outputs come from a run whose QA failed",
            file=str(manifest_path),
            field="status",
            fix="fix the QA errors (qa_report.md) and run `geopark zones` again",
            fix_vi="sửa các lỗi QA (qa_report.md) rồi chạy lại `geopark zones`",
        )
    gpkg = verified.path(cfg.outputs.geopackage)
    if cfg.outputs.geopackage not in manifest["outputs"]:
        raise InputError(
            f"run_manifest.json không liệt kê GeoPackage {cfg.outputs.geopackage}",
            f"run_manifest.json does not list the GeoPackage {cfg.outputs.geopackage}",
            file=str(manifest_path),
            field="outputs",
            fix="run `make zones` (geopark zones) again, then publish",
            fix_vi="chạy lại `make zones` (geopark zones) rồi xuất bản",
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

_ADMIN = "run the administrator SQL of the README ('Roles'): geopark publish --admin-sql"
_ADMIN_VI = "chạy đoạn SQL quản trị trong README (mục 'Roles'): geopark publish --admin-sql"


def _reason(exc: BaseException, target: Target) -> str:
    """The first line of a driver error, without the password."""
    orig = getattr(exc, "orig", None) or exc
    text_ = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    return target.redact(text_)


def _connect(target: Target) -> Connection:
    try:
        return engine_for(target).connect()
    except (OperationalError, DBAPIError) as exc:
        raise DatabaseError(
            f"không kết nối được cơ sở dữ liệu ({target.describe()})",
            f"cannot connect to the database ({target.describe()}): {_reason(exc, target)}",
            field=target.source,
            fix="set DATABASE_URL, a pg_service.conf service (--service / PGSERVICE) or PGHOST/PGDATABASE/"
            "PGUSER; keep the password in ~/.pgpass",
            fix_vi="đặt DATABASE_URL, tên dịch vụ pg_service.conf (--service / PGSERVICE) hoặc PGHOST/"
            "PGDATABASE/PGUSER; mật khẩu để trong ~/.pgpass",
        ) from None


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _lock(conn: Connection, cfg: Config, wait_s: float, progress: Progress) -> None:
    """Begin the publish transaction by locking ``publish_lock``: wait up to
    ``wait_s`` for another publish, then refuse. Only the owner role may take this
    lock (it needs UPDATE on the table); readers' locks do not conflict with it."""
    db = cfg.database
    for attempt in range(2):  # two first publishes may race to create the table
        try:
            ddl.create_publish_lock(conn, db.schema_)
            conn.commit()
            break
        except (IntegrityError, ProgrammingError):
            conn.rollback()
            if attempt:
                raise
    table = f"{ddl.quote(conn, db.schema_)}.publish_lock"
    try:
        conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE NOWAIT"))
        return
    except OperationalError as exc:
        if _sqlstate(exc) != "55P03":
            raise
        conn.rollback()
    if wait_s > 0:
        progress(
            f"Đang có lần xuất bản khác; chờ tối đa {vi_number(wait_s, None)} s",
            f"Another publish is running; waiting up to {en_number(wait_s, None)} s",
        )
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(wait_s * 1000)}ms'"))
        try:
            conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            return
        except OperationalError as exc:
            if _sqlstate(exc) != "55P03":
                raise
            conn.rollback()
    raise DatabaseError(
        "một lần xuất bản khác đang chạy trên lược đồ này",
        f"another publish of schema {db.schema_!r} is running",
        field="database.lock_wait_s",
        fix="wait for it to finish and run again (or raise --wait / database.lock_wait_s)",
        fix_vi="đợi lần kia xong rồi chạy lại (hoặc tăng --wait / database.lock_wait_s)",
    )


def _prepare(conn: Connection, cfg: Config) -> str:
    """Check what the administrator sets up once (README, 'Roles'), act as the
    owner, and return the quoted schema of PostGIS."""
    db = cfg.database
    has_postgis = conn.execute(
        text("SELECT pg_catalog.count(*) FROM pg_catalog.pg_extension WHERE extname = 'postgis'")
    ).scalar()
    if not has_postgis:
        raise DatabaseError(
            "cơ sở dữ liệu chưa có PostGIS",
            "the database has no PostGIS extension",
            field="postgis",
            fix=_ADMIN,
            fix_vi=_ADMIN_VI,
        )
    postgis = postgis_schema(conn)
    has_srid = conn.execute(
        text(f"SELECT pg_catalog.count(*) FROM {postgis}.spatial_ref_sys WHERE srid = :s"),
        {"s": models.SRID},
    ).scalar()
    if not has_srid:
        raise DatabaseError(
            f"spatial_ref_sys chưa có EPSG:{models.SRID}",
            f"spatial_ref_sys lacks EPSG:{models.SRID}",
            field="spatial_ref_sys",
            fix=_ADMIN,
            fix_vi=_ADMIN_VI,
        )
    try:
        ddl.set_owner_role(conn, db)
    except DBAPIError:
        conn.rollback()
        raise DatabaseError(
            f"không dùng được vai trò {db.owner_role}",
            f"cannot act as the owner role {db.owner_role!r} (missing, or this login is not a member)",
            field="database.owner_role",
            fix=_ADMIN,
            fix_vi=_ADMIN_VI,
        ) from None
    conn.commit()
    return postgis


# --------------------------------------------------------------------------- stage, verify


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


def _verify(
    conn: Connection, schema: str, layers: list[LayerRows], manifest: dict[str, Any], postgis: str
) -> None:
    q = ddl.quote
    expected = manifest.get("counts", {})
    for layer in layers:
        table = f"{q(conn, schema)}.{q(conn, layer.name)}"
        loaded = conn.execute(text(f"SELECT pg_catalog.count(*) FROM {table}")).scalar_one()
        wanted = expected.get(layer.name, len(layer.rows))
        if loaded != len(layer.rows) or loaded != wanted:
            raise DatabaseError(
                f"số đối tượng lớp {layer.name} sau khi nạp không khớp",
                f"layer {layer.name}: {loaded} rows loaded, {len(layer.rows)} in the GeoPackage, "
                f"{wanted} in the run manifest",
                field=layer.name,
                fix="run the publish again; report it if it repeats",
                fix_vi="xuất bản lại; báo lỗi nếu lặp lại",
            )
        if "geom" in layer.columns:
            bad = conn.execute(
                text(
                    f"SELECT pg_catalog.count(*) FROM {table} WHERE geom IS NOT NULL "
                    f"AND (NOT {postgis}.ST_IsValid(geom) OR {postgis}.ST_SRID(geom) <> {models.SRID})"
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


# --------------------------------------------------------------------------- ensure, replace


def _ensure(
    conn: Connection, cfg: Config, staging: str, migrated: bool, progress: Progress
) -> None:
    """Bring the live layer tables, views, grants and schema comment in step with
    the models, touching (and locking) only what differs."""
    db = cfg.database
    q = ddl.quote
    changed = [
        t.name
        for t in models.LAYER_TABLES
        if ddl.table_shape(conn, db.schema_, t.name) != ddl.table_shape(conn, staging, t.name)
    ]
    if changed:
        recreated = ", ".join(ddl.recreate_layer_tables(conn, db, set(changed)))
        progress(
            f"Định nghĩa bảng đã đổi ({', '.join(changed)}): đã tạo lại {recreated}",
            f"Table definitions changed ({', '.join(changed)}): recreated {recreated}",
        )
    views_changed = ddl.ensure_views(conn, db, staging)
    if changed or views_changed or migrated:
        ddl.apply_grants(conn, db)
    note = f"{cfg.park.name_vi} / {cfg.park.name_en}: các lớp đã xuất bản / published layers"
    if cfg.park.sample_data:
        note += ". " + SAMPLE_NOTE
    current = conn.execute(
        text("SELECT pg_catalog.obj_description(pg_catalog.to_regnamespace(:s), 'pg_namespace')"),
        {"s": q(conn, db.schema_)},
    ).scalar()
    if current != note:
        conn.execute(text(f"COMMENT ON SCHEMA {q(conn, db.schema_)} IS {ddl.literal(note)}"))


def _replace_rows(conn: Connection, cfg: Config, staging: str, postgis: str) -> None:
    """Replace the rows of every layer table by the staged ones (children deleted
    first, parents inserted first), and remember every geosite's location."""
    db = cfg.database
    q = ddl.quote
    live, stage = q(conn, db.schema_), q(conn, staging)
    for table in reversed(models.LAYER_TABLES):
        conn.execute(text(f"DELETE FROM {live}.{q(conn, table.name)}"))
    for table in models.LAYER_TABLES:
        columns = ", ".join(q(conn, c.name) for c in table.columns)
        conn.execute(
            text(
                f"INSERT INTO {live}.{q(conn, table.name)} ({columns}) "
                f"SELECT {columns} FROM {stage}.{q(conn, table.name)}"
            )
        )
    records = q(conn, db.records_schema)
    conn.execute(
        text(
            f"INSERT INTO {records}.geosite_locations AS l (geosite_code, name_vi, name_en, geom) "
            f"SELECT geosite_code, name_vi, name_en, geom FROM {live}.geosites "
            "ON CONFLICT (geosite_code) DO UPDATE SET name_vi = EXCLUDED.name_vi, "
            "name_en = EXCLUDED.name_en, geom = EXCLUDED.geom, updated_at = pg_catalog.now() "
            "WHERE l.name_vi IS DISTINCT FROM EXCLUDED.name_vi "
            "OR l.name_en IS DISTINCT FROM EXCLUDED.name_en "
            f"OR {postgis}.ST_AsEWKB(l.geom) IS DISTINCT FROM {postgis}.ST_AsEWKB(EXCLUDED.geom)"
        )
    )


def _styles_table_is_ours(conn: Connection, cfg: Config) -> str | None:
    """``None`` when ``public.layer_styles`` is missing or belongs to the owner role;
    else who owns it (a table somebody else created could run their triggers)."""
    owner = conn.execute(
        text(
            "SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class "
            "WHERE oid = pg_catalog.to_regclass('public.layer_styles')"
        )
    ).scalar()
    return None if owner in (None, cfg.database.owner_role) else owner


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
        stranger = _styles_table_is_ours(conn, cfg)
        if stranger:
            notes.append(
                f"QGIS styles skipped: public.layer_styles belongs to {stranger}, not to "
                f"{db.owner_role}; an administrator should check it and give it to {db.owner_role}"
            )
        else:
            n = styles.write_postgres_styles(conn, db.schema_, layers, database=database)
            progress(f"Đã lưu {n} kiểu hiển thị QGIS mặc định", f"Stored {n} QGIS default styles")
            readers = [db.viewer_role, db.editor_role]
            missing = [
                role
                for role in readers
                if not conn.execute(
                    text(
                        "SELECT pg_catalog.has_table_privilege(:r, 'public.layer_styles', 'SELECT')"
                    ),
                    {"r": role},
                ).scalar()
            ]
            if missing:
                conn.execute(
                    text(
                        "GRANT SELECT ON public.layer_styles TO "
                        + ", ".join(ddl.quote(conn, r) for r in missing)
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
            records_schema=db.records_schema,
        )
        progress("Đã lưu dự án QGIS vào cơ sở dữ liệu", "Stored the QGIS project in the database")
    for note in notes:
        progress(f"Bỏ qua: {note}", note)
    return notes


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
            "CAST(:inputs AS pg_catalog.jsonb), CAST(:counts AS pg_catalog.jsonb), :version, "
            ":revision, :sample) RETURNING publish_id"
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
            f"SELECT fingerprint FROM {table} WHERE status = 'published' "
            "ORDER BY publish_id DESC LIMIT 1"
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
        Replace the published rows even if the content is unchanged.
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
        postgis = _prepare(conn, cfg)
        _lock(conn, cfg, db.lock_wait_s if wait_s is None else wait_s, progress)
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(db.swap_lock_timeout_s * 1000)}ms'"))
        before = migrate.current_revision(conn, db)
        if before != revision:
            progress("Cập nhật lược đồ (Alembic)", "Upgrading the schema (Alembic)")
            migrate.upgrade(conn, db)
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
        _verify(conn, staging, layers, manifest, postgis)
        _ensure(conn, cfg, staging, before != revision, progress)
        progress(
            f"Thay các dòng trong {db.schema_} (một giao dịch)",
            f"Replacing the rows in {db.schema_} (one transaction)",
        )
        _replace_rows(conn, cfg, staging, postgis)
        conn.execute(text(f"DROP SCHEMA {ddl.quote(conn, staging)} CASCADE"))
        database = conn.execute(text("SELECT pg_catalog.current_database()")).scalar_one()
        notes += _qgis_hooks(
            conn, cfg, [t.name for t in models.LAYER_TABLES], database, target.service, progress
        )
        publish_id = _log(conn, cfg, "published", content, manifest, gpkg_sha, counts, revision)
        conn.commit()
        progress("Đã xuất bản", "Published")
        return PublishResult("published", content, counts, revision, publish_id, notes)
    except DBAPIError as exc:
        conn.rollback()
        known = failures.target_error(exc, target, failures.PUBLISH)
        if known is None:
            raise
        raise known from None
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
