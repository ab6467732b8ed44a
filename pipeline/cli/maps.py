"""``geopark maps``: the printable map set (PDF sheets, PNG previews, atlas)."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import StageProgress, config_option, fails_well, out
from pipeline.config import load_config


@click.command("maps")
@config_option
@click.option(
    "--district",
    "districts",
    multiple=True,
    type=int,
    help="Chỉ tờ của huyện này (mã GSO) / only this district's sheet (repeatable).",
)
@click.option(
    "--unit",
    "units",
    multiple=True,
    help="Chỉ tờ khoanh vùng này (unit_code) / only this zoning unit's sheet (repeatable).",
)
@fails_well
def maps_command(config_path: Path, districts: tuple[int, ...], units: tuple[str, ...]) -> None:
    """Bộ bản đồ in: tờ tổng quan, tờ huyện, tờ khoanh vùng, tập bản đồ.

    The printable map set from the run's GeoPackage: an overview sheet, one
    sheet per district of the park, one zoning sheet per cluster or lone
    geosite (with its boundary-marker table), each as PDF and PNG, and the
    atlas PDF. Run `geopark zones` first.
    """
    from pipeline.maps import render_all
    from pipeline.maps.scale import format_scale, format_scale_en

    cfg = load_config(config_path)
    only = bool(districts or units)
    sheets = render_all(
        cfg,
        districts=list(districts) if only else None,
        units=list(units) if only else None,
        progress=StageProgress(),
    )
    for s in sheets:
        scale = f"{format_scale(s.denominator)} / {format_scale_en(s.denominator)}"
        out.print(
            f"  {s.kind:9s} {s.code:14s} {scale:22s} {s.paper:22s} {s.pages} tr./p.  {s.pdf}",
            markup=False,
        )
    out.print(
        f"Đã ghi {len(sheets)} tờ và tập bản đồ / wrote {len(sheets)} sheets and the atlas: "
        f"{cfg.maps.directory / 'atlas.pdf'}",
        markup=False,
    )
