"""The whole map set: every sheet, its PNG preview, the atlas, written atomically.

Layout of the output folder (``[maps] directory``, default ``maps/``)::

    overview.pdf / overview.png
    districts/<district_code>.pdf / .png    one per district with park_membership full or partial
    zoning/<unit_code>.pdf / .png           one per zoning unit (cluster or lone geosite)
    atlas.pdf                               all sheets, with bookmarks
    index.json                              what each sheet shows (scale, paper, extent, legend...)
    map_manifest.json                       every file with its SHA-256, and the data set used

Everything is rendered into a staging folder first and made visible by one
rename (:class:`pipeline.outputs.OutputSet`: these names are symbolic links
through ``.sets/current``); a failure or a kill leaves the previous map set as
it was. Other files in the folder (the web map, the README) are left alone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
from pypdf import PdfReader, PdfWriter

import pipeline
from pipeline.config import Config
from pipeline.errors import GeoparkError, InputError
from pipeline.maps.atlas import render_front_matter
from pipeline.maps.sheets import (
    SheetResult,
    load_layers,
    render_district_sheet,
    render_overview_sheet,
    render_zoning_sheet,
)
from pipeline.outputs import OutputSet, VerifiedSet, dump_json, set_files, verify_set
from pipeline.progress import Progress, no_progress

#: The map set's manifest: its files with their SHA-256 and the data set it was made from.
MAP_MANIFEST = "map_manifest.json"


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


def assemble_atlas(
    sheets: list[dict[str, Any]],
    atlas: Path,
    front: Path | None = None,
) -> int:
    """One PDF: the front matter (cover, contents, index map), then all sheets in order.

    ``sheets`` are index entries (:meth:`SheetResult.as_dict`) whose ``pdf`` is
    where the sheet's PDF is now; ``front`` is the front matter's PDF
    (:func:`pipeline.maps.atlas.render_front_matter`). A bookmark marks each
    sheet and each front page. Returns the atlas's page count.
    """
    writer = PdfWriter()
    if front is not None:
        names = ["Bìa / Cover"]
        pages = PdfReader(front).pages
        names += ["Mục lục / Contents"] * (len(pages) - 2) + ["Sơ đồ chắp tờ / Sheet index map"]
        for page, name in zip(pages, names, strict=True):
            writer.add_page(page)
            if name not in {o.title for o in writer.outline}:
                writer.add_outline_item(title=name, page_number=len(writer.pages) - 1)
    for sheet in sheets:
        start = len(writer.pages)
        for page in PdfReader(sheet["pdf"]).pages:
            writer.add_page(page)
        writer.add_outline_item(
            title=f"{sheet['code']} — {sheet['title_vi']} / {sheet['title_en']}",
            page_number=start,
        )
    writer.add_metadata(
        {"/Title": "Tập bản đồ Công viên địa chất Lạng Sơn / Lạng Sơn Geopark map set"}
    )
    with open(atlas, "wb") as handle:
        writer.write(handle)
    return len(writer.pages)


def data_set(cfg: Config) -> VerifiedSet:
    """The output set of ``geopark zones``, checked against its manifest."""
    return verify_set(
        cfg.output_path("manifest"),
        fix="run `geopark zones` (make zones) first",
        fix_vi="chạy `geopark zones` (make zones) trước",
    )


def map_set(cfg: Config) -> VerifiedSet:
    """The map set in ``[maps] directory``, checked against its manifest."""
    return verify_set(
        cfg.maps.directory / MAP_MANIFEST,
        fix="run `make maps` (geopark maps) again",
        fix_vi="chạy lại `make maps` (geopark maps)",
    )


def _expected(paths: MapPaths) -> list[tuple[str, str, Path, Path]]:
    """(kind, code, pdf, png) of every sheet of a whole map set, in atlas order."""
    return [
        ("overview", "overview", paths.overview_pdf, paths.overview_png),
        *(("district", str(c), pdf, png) for c, (pdf, png) in paths.districts.items()),
        *(("zoning", u, pdf, png) for u, (pdf, png) in paths.zoning.items()),
    ]


def _carried(
    cfg: Config, data: VerifiedSet, staging: Path, layers: dict[str, gpd.GeoDataFrame]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Sheets of the visible map set that a partial render keeps, linked into ``staging``.

    Only a map set made from the same data set is reused; otherwise a partial
    render starts from nothing (and is marked incomplete).
    """
    try:
        visible = map_set(cfg)
    except InputError:
        return {}
    if visible.manifest.get("data_set", {}).get("manifest_sha256") != data.manifest_sha256:
        return {}
    index = json.loads(visible.path("index.json").read_text("utf-8"))
    entries = {(e["kind"], e["code"]): e for e in index.get("sheets", [])}
    old = sheet_paths(cfg, layers, directory=visible.directory)
    new = sheet_paths(cfg, layers, directory=staging)
    kept = {}
    for (kind, code, pdf, png), (_, _, to_pdf, to_png) in zip(
        _expected(old), _expected(new), strict=True
    ):
        if (kind, code) in entries and pdf.exists() and png.exists():
            os.link(pdf, to_pdf)
            os.link(png, to_png)
            kept[kind, code] = {**entries[kind, code], "pdf": str(to_pdf), "png": str(to_png)}
    return kept


def render_all(
    cfg: Config,
    *,
    layers: dict[str, gpd.GeoDataFrame] | None = None,
    districts: list[int] | None = None,
    units: list[str] | None = None,
    progress: Progress = no_progress,
) -> list[SheetResult]:
    """Render the map set into ``cfg.maps.directory``; one rename makes it visible.

    The set is built in a staging folder, with its manifest
    (:data:`MAP_MANIFEST`: every file with its SHA-256, the data set it was made
    from, whether every sheet is there) and becomes visible at once through
    :class:`pipeline.outputs.OutputSet`. A partial render (``districts`` or
    ``units``) keeps the other sheets of the visible set when that set was made
    from the same data set.

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
        Every sheet rendered, overview first, then districts, then zoning sheets.
    """
    data = data_set(cfg)
    if layers is None:
        layers = load_layers(data.path(cfg.outputs.geopackage))
    final = cfg.maps.directory
    dpi = cfg.maps.png_dpi
    partial = districts is not None or units is not None
    sheets: list[SheetResult] = []
    output_set = OutputSet(final)
    with output_set.staging() as staging:
        paths = sheet_paths(cfg, layers, directory=staging)
        (staging / "districts").mkdir()
        (staging / "zoning").mkdir()
        kept = _carried(cfg, data, staging, layers) if partial else {}
        progress("Tờ tổng quan", "Overview sheet")
        kept.pop(("overview", "overview"), None)
        paths.overview_pdf.unlink(missing_ok=True)
        paths.overview_png.unlink(missing_ok=True)
        sheets.append(render_overview_sheet(layers, cfg, paths.overview_pdf))
        for code, (pdf, png) in paths.districts.items():
            if districts is None or code in districts:
                progress(f"Tờ huyện {code}", f"District sheet {code}")
                _unlink(kept.pop(("district", str(code)), None), pdf, png)
                sheets.append(render_district_sheet(code, layers, cfg, pdf))
        for unit, (pdf, png) in paths.zoning.items():
            if units is None or unit in units:
                progress(f"Tờ khoanh vùng {unit}", f"Zoning sheet {unit}")
                _unlink(kept.pop(("zoning", unit), None), pdf, png)
                sheets.append(render_zoning_sheet(unit, layers, cfg, pdf))
        progress("Ảnh xem trước PNG và tập bản đồ", "PNG previews and the atlas")
        for sheet in sheets:
            sheet.png = png_preview(sheet.pdf, sheet.pdf.with_suffix(".png"), dpi)
        rendered = {(s.kind, s.code): s.as_dict() for s in sheets}
        entries = [
            rendered.get((kind, code)) or kept[kind, code]
            for kind, code, _, _ in _expected(paths)
            if (kind, code) in rendered or (kind, code) in kept
        ]
        missing = [
            f"{kind}:{code}"
            for kind, code, _, _ in _expected(paths)
            if (kind, code) not in rendered and (kind, code) not in kept
        ]
        front_pdf = staging / ".atlas_front.pdf"
        front_pages, starts = render_front_matter(cfg, entries, layers, front_pdf)
        atlas_pages = assemble_atlas(entries, paths.atlas, front_pdf)
        front_pdf.unlink()
        for entry, start in zip(entries, starts, strict=True):
            entry["atlas_page"] = start
        for entry in entries:
            for key in ("pdf", "png"):
                entry[key] = str(final / Path(entry[key]).relative_to(staging))
        sheets = [_relocate(s, staging, final) for s in sheets]
        dump_json(
            {
                "atlas": str(final / "atlas.pdf"),
                "atlas_pages": atlas_pages,
                "atlas_front_pages": front_pages,
                "sample_data": cfg.park.sample_data,
                "sheets": entries,
            },
            paths.index,
        )
        dump_json(
            {
                "pipeline_version": pipeline.__version__,
                "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "data_set": {
                    "manifest": cfg.relative(cfg.output_path("manifest")),
                    "version": data.directory.name,
                    "manifest_sha256": data.manifest_sha256,
                    "geopackage_sha256": data.manifest["outputs"]
                    .get(cfg.outputs.geopackage, {})
                    .get("sha256"),
                },
                "complete": not missing,
                "missing_sheets": missing,
                "outputs": {
                    name: {"path": cfg.relative(final / name), **checked}
                    for name, checked in set_files(staging).items()
                },
            },
            staging / MAP_MANIFEST,
        )
        progress("Hoán đổi sang bộ bản đồ mới", "Switching to the new map set")
        output_set.commit(staging)
    return sheets


def _unlink(carried: dict[str, Any] | None, *files: Path) -> None:
    """Drop a carried sheet's files before rendering it again."""
    if carried is not None:
        for path in files:
            path.unlink(missing_ok=True)


def _relocate(sheet: SheetResult, staging: Path, final: Path) -> SheetResult:
    """The sheet with its PDF and PNG paths where the commit puts them."""
    sheet.pdf = final / sheet.pdf.relative_to(staging)
    if sheet.png is not None:
        sheet.png = final / sheet.png.relative_to(staging)
    return sheet
