"""``geopark ingest``: read and validate the inputs; report what would be rejected."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape

from pipeline.cli.common import EXIT_QA_FAILED, StageProgress, config_option, fails_well, out
from pipeline.config import load_config
from pipeline.run import compute


def print_rejections(rejections) -> None:
    for r in rejections:
        out.print(
            "  [red]✗[/] "
            + escape(
                f"{r.file} dòng/row {r.row}, {r.field} = {r.value!r}: "
                f"{r.message_vi} / {r.message_en} (cần/expected: {r.expected})"
            )
        )


@click.command("ingest")
@config_option
@fails_well
def ingest_command(config_path: Path) -> None:
    """Đọc và kiểm tra dữ liệu đầu vào / read and validate the inputs."""
    cfg = load_config(config_path)
    result = compute(cfg, until="ingest", progress=StageProgress())
    ing = result.ingested
    out.print(
        f"Điểm di sản / geosites: {len(ing.geosites)}, điểm khảo sát / survey points: "
        f"{len(ing.survey_points)}, huyện / districts: {len(ing.districts)}, "
        f"bị loại / rejected: {len(ing.rejections)}"
    )
    for note in ing.notes:
        out.print(f"  [dim]ghi chú/note:[/] {escape(note)}")
    print_rejections(ing.rejections)
    if ing.rejections:
        sys.exit(EXIT_QA_FAILED)
