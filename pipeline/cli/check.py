"""``geopark check``: ingest, zone and check against the park extent."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pipeline.cli.common import EXIT_QA_FAILED, StageProgress, config_option, fails_well, out
from pipeline.config import load_config
from pipeline.report import summary_lines
from pipeline.run import compute


@click.command("check")
@config_option
@fails_well
def check_command(config_path: Path) -> None:
    """Kiểm tra theo ranh giới công viên (không ghi tệp) / run the QA checks (writes nothing)."""
    cfg = load_config(config_path)
    result = compute(cfg, until="check", progress=StageProgress())
    for line in summary_lines(result.report):
        out.print(line, markup=False)
    if result.status != "pass":
        sys.exit(EXIT_QA_FAILED)
