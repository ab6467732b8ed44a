"""``geopark adjust``: copy a unit's proposed zone into the adjustments layer, ready to edit."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.adjustments import LAYER, adjust_unit
from pipeline.cli.common import config_option, fails_well, out
from pipeline.config import load_config


@click.command("adjust")
@click.argument("unit_code")
@click.option(
    "--zone",
    "zone_class",
    type=click.Choice(["I", "II"]),
    default="I",
    show_default=True,
    help="Vùng I (lõi) hoặc II (toàn bộ ranh giới ngoài) / Zone I (core) or II (the whole footprint).",
)
@click.option("--author", required=True, help="Người điều chỉnh / who adjusts it.")
@click.option("--reason", required=True, help="Lý do / why (the feature the boundary follows).")
@click.option(
    "--replace",
    "replace_existing",
    is_flag=True,
    help="Thay điều chỉnh đã có bằng đề xuất hiện tại / start over from the current proposal.",
)
@config_option
@fails_well
def adjust_command(
    unit_code: str,
    zone_class: str,
    author: str,
    reason: str,
    replace_existing: bool,
    config_path: Path,
) -> None:
    """Chép đề xuất hiện tại của một đơn vị vào lớp điều chỉnh, sẵn sàng sửa trong QGIS.

    Copy the current proposal of UNIT_CODE (a cluster or lone geosite of
    protection_zones) from the latest outputs into the adjustments layer of the
    edits GeoPackage, ready to edit in QGIS. Zone II is the unit's whole
    footprint (Zone I and II). Every later run applies the edited boundary.
    """
    cfg = load_config(config_path)
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
        f"{verb}: {copied.unit_code} vùng / Zone {copied.zone_class}, {copied.area_ha:,.4f} ha "
        f"-> {cfg.relative(copied.path)} ({LAYER})",
        markup=False,
    )
    out.print(
        "Sửa ranh giới trong QGIS (dự án geopark.qgz, nhóm Chỉnh sửa), rồi chạy `geopark zones`. / "
        "Edit the boundary in QGIS (project geopark.qgz, group Edits), then run `geopark zones`.",
        markup=False,
    )
