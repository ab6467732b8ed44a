"""``geopark approve UNIT``: freeze a unit's legal boundary and markers as approved by decision."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.approvals import approve
from pipeline.cli.common import config_option, fails_well, out
from pipeline.config import load_config


@click.command("approve")
@click.argument("unit_code")
@click.option(
    "--decision",
    required=True,
    help='Số quyết định / decision number, e.g. "123/QĐ-UBND".',
)
@click.option(
    "--date",
    "decision_date",
    required=True,
    help="Ngày quyết định / decision date, YYYY-MM-DD.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Thay phê duyệt trước / supersede an earlier approval of the unit.",
)
@config_option
@fails_well
def approve_command(
    unit_code: str, decision: str, decision_date: str, replace: bool, config_path: Path
) -> None:
    """Phê duyệt đơn vị: giữ nguyên ranh giới và mốc giới hiện tại.

    Approve a zoning unit by decision: its current legal boundary and boundary
    markers (from the published outputs) are frozen in the edits GeoPackage;
    later runs use them unchanged and report what no longer fits.
    """
    cfg = load_config(config_path)
    done = approve(cfg, unit_code, decision, decision_date, replace=replace)
    out.print(
        f"Đã phê duyệt / approved: {done['unit_code']} — QĐ / decision {done['decision']} "
        f"({done['decision_date']}); {done['zones']} vùng / zones, {done['markers']} mốc / markers "
        f"→ {cfg.relative(done['path'])}",
        markup=False,
    )
