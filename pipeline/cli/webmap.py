"""``geopark webmap``: the interactive web map ``maps/geopark.html`` from the GeoPackage."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.common import config_option, fails_well, out, say
from pipeline.config import load_config
from pipeline.webmap import (
    build_webmap,
    layer_counts,
    read_webmap_layers,
    render_webmap,
    write_webmap,
)


@click.command("webmap")
@config_option
@click.option(
    "--no-tiles",
    is_flag=True,
    help="Nền trơn, không cần mạng / no base tiles: a plain background, fully offline.",
)
@click.option(
    "--output",
    "-o",
    "output",
    type=click.Path(readable=False, path_type=Path),
    default=None,
    help="Tệp HTML ghi ra / HTML file to write (default: [webmap] output).",
)
@fails_well
def webmap_command(config_path: Path, no_tiles: bool, output: Path | None) -> None:
    """Bản đồ tương tác (HTML) từ GeoPackage / the interactive web map from the GeoPackage.

    Reads the layers written by `geopark zones` and writes one self-contained
    HTML page (Leaflet inlined); only the base tiles, unless --no-tiles, come
    from the network. The file is replaced atomically.
    """
    cfg = load_config(config_path)
    gpkg = cfg.output_path("geopackage")
    target = output or cfg.webmap.output
    say(f"Đọc {gpkg}", f"Reading {gpkg}")
    layers = read_webmap_layers(gpkg)
    say("Dựng bản đồ tương tác", "Building the web map" + (" (no tiles)" if no_tiles else ""))
    page = render_webmap(build_webmap(layers, cfg, tiles=not no_tiles, gpkg=gpkg))
    write_webmap(page, target)
    counts = ", ".join(f"{name} {n}" for name, n in layer_counts(layers).items())
    out.print(f"Đối tượng / features: {counts}", markup=False)
    out.print(f"Đã ghi / written: {target}", markup=False)
