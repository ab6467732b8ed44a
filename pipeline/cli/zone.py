"""``geopark zone``: ingest and zone; print the zones per unit."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import StageProgress, config_option, fails_well, out
from pipeline.config import load_config
from pipeline.numbers import en_number, vi_number
from pipeline.run import compute


@click.command("zone")
@config_option
@fails_well
def zone_command(config_path: Path) -> None:
    """Khoanh vùng I/II và cụm / compute Zone I, Zone II and clusters."""
    cfg = load_config(config_path)
    result = compute(cfg, until="zone", progress=StageProgress())
    assert result.zones is not None
    table = result.zones.protection_zones
    out.print(
        f"{'đơn vị/unit':<22} {'vùng/zone':<9} {'ha (vi)':>12} {'ha (en)':>12}   huyện/districts",
        markup=False,
    )
    for row in table.itertuples():
        out.print(
            f"{row.unit_code:<22} {row.zone_class:<9} {vi_number(row.area_ha, 2):>12} "
            f"{en_number(row.area_ha, 2):>12}   {row.district_names}",
            markup=False,
        )
