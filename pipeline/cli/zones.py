"""``geopark zones``: the whole job, from raw survey data to checked zones."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.changes import summary_lines as change_lines
from pipeline.cli.common import EXIT_QA_FAILED, StageProgress, config_option, fails_well, out
from pipeline.config import load_config
from pipeline.report import summary_lines
from pipeline.run import run_zones


@click.command("zones")
@config_option
@fails_well
def zones_command(config_path: Path) -> None:
    """Toàn bộ quy trình: đọc, khoanh vùng, kiểm tra, xuất GeoPackage.

    The whole job: ingest, zone, check, and write the GeoPackage, web GeoJSON,
    QA report and run manifest.
    """
    cfg = load_config(config_path)
    result = run_zones(cfg, progress=StageProgress())
    for line in summary_lines(result.report):
        out.print(line, markup=False)
    for line in change_lines(result.changes):
        out.print(line, markup=False)
    if result.published:
        out.print(f"Đã ghi / written: {cfg.outputs.directory}", markup=False)
    else:
        out.print(
            f"KHÔNG cập nhật kết quả; bản chạy lỗi ở / outputs NOT updated; failed run in: "
            f"{cfg.outputs.failed_directory}",
            markup=False,
        )
        sys.exit(EXIT_QA_FAILED)
