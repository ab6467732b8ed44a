"""``geopark adjust``: copy a unit's proposed zone into the adjustments layer, ready to edit."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.adjustments import LAYER, adjust_unit, pull_adjustments
from pipeline.cli.common import config_option, fails_well, out
from pipeline.config import Config, load_config
from pipeline.numbers import both_numbers


@click.command("adjust")
@click.argument("unit_code", required=False)
@click.option(
    "--zone",
    "zone_class",
    type=click.Choice(["I", "II"]),
    default="I",
    show_default=True,
    help="Vùng I (lõi) hoặc II (toàn bộ ranh giới ngoài) / Zone I (core) or II (the whole footprint).",
)
@click.option("--author", help="Người điều chỉnh / who adjusts it (required with UNIT_CODE).")
@click.option("--reason", help="Lý do / why: the feature the boundary follows (with UNIT_CODE).")
@click.option(
    "--from-db",
    is_flag=True,
    help="Lấy các điều chỉnh từ cơ sở dữ liệu về GeoPackage / pull the database's adjustments "
    "into the GeoPackage.",
)
@click.option("--service", help="Dịch vụ pg_service.conf / pg_service.conf service (--from-db).")
@click.option(
    "--replace",
    "replace_existing",
    is_flag=True,
    help="Thay điều chỉnh đã có bằng đề xuất hiện tại / start over from the current proposal.",
)
@config_option
@fails_well
def adjust_command(
    unit_code: str | None,
    zone_class: str,
    author: str | None,
    reason: str | None,
    from_db: bool,
    service: str | None,
    replace_existing: bool,
    config_path: Path,
) -> None:
    """Chép đề xuất hiện tại của một đơn vị vào lớp điều chỉnh, sẵn sàng sửa trong QGIS.

    Copy the current proposal of UNIT_CODE (a cluster or lone geosite of
    protection_zones) from the latest outputs into the adjustments layer of the
    edits GeoPackage, ready to edit in QGIS. Zone II is the unit's whole
    footprint (Zone I and II). Every later run applies the edited boundary.

    With --from-db: copy the adjustments drafted in the shared database
    (records.zone_adjustments) into the GeoPackage, the source of every run.
    """
    cfg = load_config(config_path)
    if from_db:
        _pull(cfg, service, replace_existing)
        return
    if not (unit_code and author and reason):
        raise click.UsageError(
            "cần UNIT_CODE, --author và --reason (hoặc --from-db) / "
            "give UNIT_CODE, --author and --reason (or --from-db)"
        )
    copied = adjust_unit(
        cfg,
        unit_code,
        zone_class,
        author=author,
        reason=reason,
        replace_existing=replace_existing,
    )
    verb = "thay / replaced" if copied.replaced else "thêm / added"
    out.print(
        f"{verb}: {copied.unit_code} vùng / Zone {copied.zone_class}, "
        f"{both_numbers(copied.area_ha, 4, 'ha')} "
        f"-> {cfg.relative(copied.path)} ({LAYER})",
        markup=False,
    )
    out.print(
        "Sửa ranh giới trong QGIS (dự án geopark.qgz, nhóm Chỉnh sửa), rồi chạy `geopark zones`. / "
        "Edit the boundary in QGIS (project geopark.qgz, group Edits), then run `geopark zones`.",
        markup=False,
    )


def _pull(cfg: Config, service: str | None, replace_existing: bool) -> None:
    from pipeline.db.connection import engine_for, resolve

    engine = engine_for(resolve(cfg.database, service=service))
    try:
        with engine.connect() as connection:
            pulled = pull_adjustments(cfg, connection, replace_existing=replace_existing)
    finally:
        engine.dispose()
    for label, items in (
        ("thêm / added", pulled.added),
        ("thay / replaced", pulled.replaced),
        ("giữ nguyên / unchanged", pulled.unchanged),
    ):
        out.print(f"{label}: {', '.join(items) or '-'}", markup=False)
    out.print(f"-> {cfg.relative(pulled.path)} ({LAYER})", markup=False)
