"""``geopark``: the command group. Each command lives in its own module.

Commands are imported when they run (click's documented lazy group), so
``geopark zones`` does not pay for loading matplotlib and the dossier
templates, and a broken optional part does not stop the other commands.
"""

from __future__ import annotations

import importlib

import click

import pipeline

#: command name -> "module:attribute" of its click command
COMMANDS = {
    "ingest": "pipeline.cli.ingest:ingest_command",
    "zone": "pipeline.cli.zone:zone_command",
    "check": "pipeline.cli.check:check_command",
    "zones": "pipeline.cli.zones:zones_command",
    "maps": "pipeline.cli.maps:maps_command",
    "publish": "pipeline.cli.publish:publish_command",
    "webmap": "pipeline.cli.webmap:webmap_command",
    "dossiers": "pipeline.cli.dossiers:dossiers_command",
    "adjust": "pipeline.cli.adjust:adjust_command",
    "approve": "pipeline.cli.approve:approve_command",
}


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command) and command.name == cmd_name
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(pipeline.__version__, prog_name="geopark")
@click.option("--debug", is_flag=True, help="Hiện traceback khi lỗi nội bộ / show tracebacks.")
def cli(debug: bool) -> None:
    """Công viên địa chất Lạng Sơn: khoanh vùng bảo vệ di sản địa chất.

    Lạng Sơn Geopark: geosite protection zoning, heritage database and maps.
    """
    from pipeline.parallel import limit_malloc_arenas

    limit_malloc_arenas()
