"""The printable map set: overview, district and zoning sheets, atlas.

Library API (used by ``geopark maps`` and by the dossiers):

- :func:`render_all` — the whole map set into ``[maps] directory``;
- :func:`sheet_paths` — where each sheet's PDF and PNG go for a configuration;
- :func:`render_overview_sheet`, :func:`render_district_sheet`,
  :func:`render_zoning_sheet` — one sheet into a given PDF;
- :func:`png_preview` — a PDF's first page as PNG (pdftoppm);
- :func:`load_layers` — the GeoPackage layers the sheets draw.
"""

from pipeline.maps.build import MapPaths, assemble_atlas, png_preview, render_all, sheet_paths
from pipeline.maps.sheets import (
    SheetResult,
    load_layers,
    render_district_sheet,
    render_overview_sheet,
    render_zoning_sheet,
)

__all__ = [
    "MapPaths",
    "SheetResult",
    "assemble_atlas",
    "load_layers",
    "png_preview",
    "render_all",
    "render_district_sheet",
    "render_overview_sheet",
    "render_zoning_sheet",
    "sheet_paths",
]
