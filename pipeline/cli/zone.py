"""``geopark zone``: ingest and zone; print the zones per unit."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import StageProgress, config_option, fails_well, out
from pipeline.config import load_config
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
    out.print("đơn vị/unit            vùng/zone   ha       huyện/districts")
    for row in table.itertuples():
        out.print(
            f"{row.unit_code:<22} {row.zone_class:<6} {row.area_ha:>10,.2f}   {row.district_names}",
            markup=False,
        )
