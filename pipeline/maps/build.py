"""The whole map set: every sheet, its PNG preview, the atlas, written atomically.

Layout of the output folder (``[maps] directory``, default ``maps/``)::

    overview.pdf / overview.png
    districts/<district_code>.pdf / .png    one per district with park_membership full or partial
    zoning/<unit_code>.pdf / .png           one per zoning unit (cluster or lone geosite)
    atlas.pdf                               all sheets, with bookmarks
    index.json                              what each sheet shows (scale, paper, extent, legend...)

Everything is rendered into a staging folder first and moved into place only
when all of it exists; a failure leaves the previous map set as it was.
Other files in the folder (the web map, the README) are left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
from pypdf import PdfReader, PdfWriter

from pipeline.config import Config
from pipeline.errors import GeoparkError
from pipeline.maps.sheets import (
    SheetResult,
    load_layers,
    render_district_sheet,
    render_overview_sheet,
    render_zoning_sheet,
)
from pipeline.outputs import dump_json, staged_outputs
from pipeline.progress import Progress, no_progress


@dataclass
class MapPaths:
    """Where the map set's files are (or will be) for a configuration."""

    directory: Path
    overview_pdf: Path
    overview_png: Path
    districts: dict[int, tuple[Path, Path]] = field(default_factory=dict)
    zoning: dict[str, tuple[Path, Path]] = field(default_factory=dict)
    atlas: Path = Path()
    index: Path = Path()


def park_districts(layers: dict[str, gpd.GeoDataFrame]) -> list[int]:
    """District codes with a sheet: those wholly or partly in the park."""
    d = layers["districts"]
    return sorted(
        int(c) for c in d.loc[d["park_membership"].isin(["full", "partial"]), "district_code"]
    )


def zoning_units(layers: dict[str, gpd.GeoDataFrame]) -> list[str]:
    """unit_code of every zoning unit (cluster or lone geosite)."""
    return sorted(str(u) for u in layers["protection_zones"]["unit_code"].dropna().unique())


def sheet_paths(
    cfg: Config, layers: dict[str, gpd.GeoDataFrame] | None = None, directory: Path | None = None
) -> MapPaths:
    """The paths of every sheet of the map set for ``cfg``.

    Parameters
    ----------
    cfg
        The configuration.
    layers
        The GeoPackage layers; read from the run's GeoPackage when not given.
    directory
        Override of ``cfg.maps.directory``.
    """
    if layers is None:
        layers = load_layers(cfg.outputs.directory / cfg.outputs.geopackage)
    root = directory or cfg.maps.directory
    return MapPaths(
        directory=root,
        overview_pdf=root / "overview.pdf",
        overview_png=root / "overview.png",
        districts={
            c: (root / "districts" / f"{c}.pdf", root / "districts" / f"{c}.png")
            for c in park_districts(layers)
        },
        zoning={
            u: (root / "zoning" / f"{u}.pdf", root / "zoning" / f"{u}.png")
            for u in zoning_units(layers)
        },
        atlas=root / "atlas.pdf",
        index=root / "index.json",
    )


def png_preview(pdf: Path, png: Path, dpi: int) -> Path:
    """The first page of ``pdf`` as a PNG, rendered by poppler's ``pdftoppm``."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise GeoparkError(
            "thiếu chương trình pdftoppm (gói poppler-utils)",
            "pdftoppm is missing (Debian package poppler-utils)",
            fix="run scripts/install-system-deps.sh (or apt-get install poppler-utils)",
            fix_vi="chạy scripts/install-system-deps.sh (hoặc apt-get install poppler-utils)",
        )
    subprocess.run(
        [
            exe,
            "-png",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(png.with_suffix("")),
        ],
        check=True,
        capture_output=True,
    )
    return png


def assemble_atlas(sheets: list[SheetResult], atlas: Path) -> int:
    """One PDF of all sheets, in order, with a bookmark per sheet; returns its page count."""
    writer = PdfWriter()
    for sheet in sheets:
        start = len(writer.pages)
        for page in PdfReader(sheet.pdf).pages:
            writer.add_page(page)
        writer.add_outline_item(
            title=f"{sheet.code} — {sheet.title_vi} / {sheet.title_en}", page_number=start
        )
    writer.add_metadata(
        {"/Title": "Tập bản đồ Công viên địa chất Lạng Sơn / Lạng Sơn Geopark map set"}
    )
    with open(atlas, "wb") as handle:
        writer.write(handle)
    return len(writer.pages)


def _relocate(sheet: SheetResult, staging: Path, final: Path) -> SheetResult:
    """The sheet with its PDF and PNG paths where the commit puts them."""
    sheet.pdf = final / sheet.pdf.relative_to(staging)
    if sheet.png is not None:
        sheet.png = final / sheet.png.relative_to(staging)
    return sheet


def _commit(staging: Path, final: Path, *, whole: bool) -> None:
    """Move the staged map set into ``final``.

    A whole map set swaps the sub-folders whole (sheets of units that no longer
    exist disappear); a partial one replaces only the sheets it rendered.
    """
    for sub in ("districts", "zoning"):
        new, old = staging / sub, final / f".{sub}.old"
        target = final / sub
        if not whole:
            target.mkdir(parents=True, exist_ok=True)
            for item in sorted(new.iterdir()):
                os.replace(item, target / item.name)
            continue
        if old.exists():
            shutil.rmtree(old)
        if target.exists():
            os.replace(target, old)
        os.replace(new, target)
        shutil.rmtree(old, ignore_errors=True)
    for name in ("overview.pdf", "overview.png", "atlas.pdf", "index.json"):
        os.replace(staging / name, final / name)


def render_all(
    cfg: Config,
    *,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    districts: list[int] | None = None,
    units: list[str] | None = None,
    progress: Progress = no_progress,
) -> list[SheetResult]:
    """Render the map set into ``cfg.maps.directory`` (atomically).

    Parameters
    ----------
    cfg
        The configuration.
    layers
        The GeoPackage layers; read from the run's GeoPackage when not given.
    districts, units
        Render only these districts / zoning units (default: all of them).
    progress
        Called with (Vietnamese, English) before each sheet.

    Returns
    -------
    list of SheetResult
        Every sheet, overview first, then districts, then zoning sheets.
    """
    if layers is None:
        layers = load_layers(cfg.outputs.directory / cfg.outputs.geopackage)
    final = cfg.maps.directory
    dpi = cfg.maps.png_dpi
    sheets: list[SheetResult] = []
    with staged_outputs(final) as staging:
        paths = sheet_paths(cfg, layers, directory=staging)
        (staging / "districts").mkdir()
        (staging / "zoning").mkdir()
        progress("Tờ tổng quan", "Overview sheet")
        sheets.append(render_overview_sheet(layers, cfg, paths.overview_pdf))
        for code, (pdf, _) in paths.districts.items():
            if districts is None or code in districts:
                progress(f"Tờ huyện {code}", f"District sheet {code}")
                sheets.append(render_district_sheet(code, layers, cfg, pdf))
        for unit, (pdf, _) in paths.zoning.items():
            if units is None or unit in units:
                progress(f"Tờ khoanh vùng {unit}", f"Zoning sheet {unit}")
                sheets.append(render_zoning_sheet(unit, layers, cfg, pdf))
        progress("Ảnh xem trước PNG và tập bản đồ", "PNG previews and the atlas")
        for sheet in sheets:
            sheet.png = png_preview(sheet.pdf, sheet.pdf.with_suffix(".png"), dpi)
        atlas_pages = assemble_atlas(sheets, paths.atlas)
        sheets = [_relocate(s, staging, final) for s in sheets]
        dump_json(
            {
                "atlas": str(final / "atlas.pdf"),
                "atlas_pages": atlas_pages,
                "sample_data": cfg.park.sample_data,
                "sheets": [s.as_dict() for s in sheets],
            },
            paths.index,
        )
        _commit(staging, final, whole=districts is None and units is None)
    return sheets
