"""``geopark publish``: write the outputs of ``geopark zones`` to PostGIS."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import StageProgress, config_option, fails_well, out
from pipeline.config import load_config


@click.command("publish")
@config_option
@click.option(
    "--service",
    default=None,
    metavar="NAME",
    help="Dịch vụ trong pg_service.conf / pg_service.conf service name "
    "(default: DATABASE_URL, then [database] service or PGSERVICE, then PG* variables).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Xuất bản lại dù dữ liệu không đổi / republish even if the content is unchanged.",
)
@click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Chờ lần xuất bản khác tối đa / wait this long for another publish "
    "(default [database] lock_wait_s).",
)
@click.option(
    "--admin-sql",
    is_flag=True,
    help="In đoạn SQL quản trị chạy một lần / print the SQL an administrator runs once, and stop.",
)
@click.option(
    "--database-name",
    default="geopark",
    show_default=True,
    help="Tên cơ sở dữ liệu trong --admin-sql / database name used by --admin-sql.",
)
@fails_well
def publish_command(
    config_path: Path,
    service: str | None,
    force: bool,
    wait_s: float | None,
    admin_sql: bool,
    database_name: str,
) -> None:
    """Xuất bản cơ sở dữ liệu di sản lên PostGIS (nguyên tử, không mất hồ sơ thực địa).

    Publish the heritage database to PostGIS: atomically, idempotently, never
    touching the field records. The connection comes from --service,
    DATABASE_URL, a pg_service.conf service or the PG* variables; never put a
    password on the command line.
    """
    cfg = load_config(config_path)
    if admin_sql:
        from pipeline.db.roles import admin_sql as make_sql

        out.print(make_sql(cfg.database, database_name), markup=False, end="")
        return
    from pipeline.db.connection import resolve
    from pipeline.db.publish import publish
    from pipeline.failures import on_server

    target = resolve(cfg.database, service=service)
    with on_server(target):
        result = publish(cfg, target, force=force, wait_s=wait_s, progress=StageProgress())
    for note in result.notes:
        out.print(f"  - {note}", markup=False)
    if result.status == "unchanged":
        out.print(
            f"Không đổi, không thay gì (nhật ký #{result.publish_id}) / "
            f"unchanged, nothing replaced (log #{result.publish_id})",
            markup=False,
        )
    else:
        counts = ", ".join(f"{name} {n}" for name, n in result.counts.items())
        out.print(
            f"Đã xuất bản vào {cfg.database.schema_} (nhật ký #{result.publish_id}) / "
            f"published to {cfg.database.schema_} (log #{result.publish_id}): {counts}",
            markup=False,
        )
    if cfg.park.sample_data:
        from pipeline.report import SAMPLE_NOTE

        out.print(SAMPLE_NOTE, markup=False)
