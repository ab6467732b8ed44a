"""``geopark dossiers``: one dossier per geosite and the heritage summary (HTML, PDF)."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from pipeline.cli.common import StageProgress, config_option, console, fails_well, out
from pipeline.config import load_config
from pipeline.dossiers import write_dossiers
from pipeline.dossiers.render import zoning_sheet_folder


@click.command("dossiers")
@config_option
@click.option(
    "--geosite",
    "geosites",
    multiple=True,
    metavar="CODE",
    help="Chỉ lập hồ sơ cho điểm này (lặp lại được) / only this geosite (repeatable).",
)
@click.option("--no-pdf", is_flag=True, help="Chỉ HTML / HTML only, no PDF.")
@fails_well
def dossiers_command(config_path: Path, geosites: tuple[str, ...], no_pdf: bool) -> None:
    """Hồ sơ điểm di sản và báo cáo tổng hợp di sản (HTML, PDF).

    Geosite dossiers and the heritage summary, from the GeoPackage of
    `geopark zones`, the zoning sheets of `geopark maps` and, when DATABASE_URL
    or PGSERVICE is set, the field inspections in the database.
    """
    cfg = load_config(config_path)
    run = write_dossiers(
        cfg, only=list(geosites) or None, pdf=False if no_pdf else None, progress=StageProgress()
    )
    n = len({p.stem for p in run.dossiers})
    out.print(
        f"Đã lập {n} hồ sơ điểm di sản / wrote {n} geosite dossiers: {run.directory}", markup=False
    )
    out.print(
        f"Báo cáo tổng hợp / heritage summary: {', '.join(p.name for p in run.summary)}",
        markup=False,
    )
    if run.inspections is None:
        out.print(
            "Không cấu hình cơ sở dữ liệu: hồ sơ không kèm biên bản kiểm tra thực địa. / "
            "No database configured: dossiers without field inspections.",
            markup=False,
        )
    else:
        out.print(
            f"Biên bản kiểm tra đã đọc / inspection records read: {run.inspections}", markup=False
        )
    if run.missing_sheets:
        console.print(
            "[yellow]Cảnh báo / warning:[/] thiếu tờ bản đồ khoanh vùng / "
            "zoning map sheets missing "
            + escape(f"in {zoning_sheet_folder(cfg)}: {', '.join(run.missing_sheets)}.")
            + "\n"
            "  Chạy `geopark maps` (make maps) rồi `geopark dossiers` lại. / "
            "Run `geopark maps` (make maps), then `geopark dossiers` again.",
            soft_wrap=True,
        )
