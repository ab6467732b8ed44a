"""``geopark``: the command group. Each command lives in its own module."""

from __future__ import annotations

import click

import pipeline
from pipeline.cli.adjust import adjust_command
from pipeline.cli.approve import approve_command
from pipeline.cli.check import check_command
from pipeline.cli.dossiers import dossiers_command
from pipeline.cli.ingest import ingest_command
from pipeline.cli.maps import maps_command
from pipeline.cli.publish import publish_command
from pipeline.cli.webmap import webmap_command
from pipeline.cli.zone import zone_command
from pipeline.cli.zones import zones_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(pipeline.__version__, prog_name="geopark")
@click.option("--debug", is_flag=True, help="Hiện traceback khi lỗi nội bộ / show tracebacks.")
def cli(debug: bool) -> None:
    """Công viên địa chất Lạng Sơn: khoanh vùng bảo vệ di sản địa chất.

    Lạng Sơn Geopark: geosite protection zoning, heritage database and maps.
    """


cli.add_command(ingest_command)
cli.add_command(zone_command)
cli.add_command(check_command)
cli.add_command(zones_command)
cli.add_command(maps_command)
cli.add_command(publish_command)
cli.add_command(webmap_command)
cli.add_command(dossiers_command)
cli.add_command(adjust_command)
cli.add_command(approve_command)
