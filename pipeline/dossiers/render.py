"""Render the dossiers and the summary to HTML (Jinja2) and PDF (WeasyPrint).

Everything is first written to a staging folder and swapped into place only
when complete, so a failure leaves the previous documents intact. PDFs use
the fonts vendored in ``pipeline/fonts`` (Noto Sans, DejaVu Sans), which
cover Vietnamese.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

import pipeline
from pipeline import outputs
from pipeline.assessment import VALUES, class_vi
from pipeline.config import Config
from pipeline.dossiers import charts
from pipeline.dossiers.content import NOT_RECORDED, dossier_context, summary_data
from pipeline.dossiers.data import Heritage, database_url, load_heritage, read_inspections
from pipeline.dossiers.elevation import sample_dem
from pipeline.dossiers.figure import draw_dossier_map
from pipeline.errors import GeoparkError, InputError
from pipeline.maps.base import relief_dem
from pipeline.maps.build import MAP_MANIFEST, data_set, map_set
from pipeline.maps.scale import format_scale, format_scale_en
from pipeline.maps.vertices import unit_markers
from pipeline.numbers import both_numbers, en_number, vi_number
from pipeline.outputs import VerifiedSet
from pipeline.progress import Progress, no_progress
from pipeline.report import SAMPLE_NOTE

FONTS = Path(pipeline.__file__).parent / "fonts"
SUMMARY_NAME = "tong_hop_di_san"  # the heritage summary: tong_hop_di_san.html/.pdf/.json

ILLUSTRATIVE_NOTE = (
    "Điểm đánh giá MINH HỌA cho dữ liệu mẫu, không phải đánh giá thực của chuyên gia. / "
    "ILLUSTRATIVE assessment scores for the sample data, not a real expert assessment."
)


@dataclass
class DossierRun:
    """What ``write_dossiers`` did."""

    directory: Path
    dossiers: list[Path] = field(default_factory=list)
    summary: list[Path] = field(default_factory=list)
    missing_sheets: list[str] = field(default_factory=list)
    inspections: int | None = None  # None: no database configured


def _number(value: float, digits: int = 2) -> str:
    """A number in a Vietnamese text: decimal comma, dot between thousands."""
    return vi_number(value, digits)


def css_string(value: Any) -> Markup:
    """``value`` as a quoted CSS string, safe inside a ``<style>`` element.

    Every character other than a letter, a digit or a space is written as a CSS
    escape (``\\22 `` for ``"``), so no quote, backslash, ``</style>`` or line
    break from the text can end the string or the element.
    """
    escaped = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in str(value))
    return Markup(f'"{escaped}"')


def environment() -> Environment:
    """The dossiers' templates: only the files in ``templates``, every value escaped.

    Text from the data and the configuration is only ever passed to the
    templates as values; autoescape makes it HTML text in the page, and
    :func:`css_string` a CSS string in the stylesheet.
    """
    env = Environment(
        loader=PackageLoader("pipeline.dossiers", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    env.filters["num_en"] = en_number
    env.filters["both"] = both_numbers
    env.filters["css_string"] = css_string
    env.globals["class_vi"] = class_vi
    # the words for an empty field, wherever a template is rendered from
    env.globals["not_recorded"] = NOT_RECORDED
    return env


def font_faces() -> list[dict[str, str]]:
    """@font-face entries for the vendored fonts that are present."""
    faces = []
    for name, weight, style in (
        ("NotoSans-Regular.ttf", "normal", "normal"),
        ("NotoSans-Bold.ttf", "bold", "normal"),
        ("NotoSans-Italic.ttf", "normal", "italic"),
        ("NotoSans-BoldItalic.ttf", "bold", "italic"),
    ):
        path = FONTS / name
        if path.exists():
            faces.append(
                {"family": "Geopark Sans", "url": path.as_uri(), "weight": weight, "style": style}
            )
    return faces


def find_sheet(folder: Path, unit_code: str) -> tuple[Path, Path | None]:
    """The zoning map sheet of a zoning unit (``<folder>/<unit_code>.png/.pdf``).

    Returns the PNG's path (whether it exists or not) and the PDF's, if it exists.
    """
    pdf = folder / f"{unit_code}.pdf"
    return folder / f"{unit_code}.png", pdf if pdf.exists() else None


def write_pdf(html: str, base: Path, target: Path) -> None:
    from weasyprint import HTML

    HTML(string=html, base_url=str(base)).write_pdf(target)


def _common(cfg: Config, generated: str) -> dict[str, Any]:
    return {
        "park": cfg.park,
        "sample_note": SAMPLE_NOTE if cfg.park.sample_data else "",
        "illustrative_note": ILLUSTRATIVE_NOTE,
        "fonts": font_faces(),
        "generated": generated,
        "version": pipeline.__version__,
        "values": VALUES,
    }


def write_dossiers(
    cfg: Config,
    *,
    only: list[str] | None = None,
    pdf: bool | None = None,
    progress: Progress = no_progress,
) -> DossierRun:
    """Write one dossier per geosite and the heritage summary.

    Parameters
    ----------
    cfg
        The configuration (GeoPackage path, ``[dossiers]`` settings).
    only
        Geosite codes to write (default: every geosite); the summary is always written.
    pdf
        Write PDFs too (default: ``dossiers.pdf``).

    Returns
    -------
    DossierRun
        The files written, the zoning sheets that were missing, and the number of
        inspection records read (None without a database).
    """
    data = data_set(cfg)
    heritage = load_heritage(data.path(cfg.outputs.geopackage))
    sheets = verified_sheet_folder(cfg, data)
    pdf = cfg.dossiers.pdf if pdf is None else pdf
    url = database_url(cfg)
    inspections: pd.DataFrame | None = (
        read_inspections(url, cfg.database.records_schema) if url else None
    )
    target = cfg.dossiers.directory
    run = DossierRun(
        directory=target, inspections=None if inspections is None else len(inspections)
    )
    codes = list(heritage.geosites.sort_values("geosite_code")["geosite_code"])
    if only:
        unknown = sorted(set(only) - set(codes))
        if unknown:
            raise GeoparkError(
                f"không có điểm di sản {', '.join(unknown)} trong GeoPackage",
                f"no geosite {', '.join(unknown)} in the GeoPackage",
                field="--geosite",
                fix=f"use one of: {', '.join(codes)}",
                fix_vi="dùng một mã có trong danh mục",
            )
        codes = [c for c in codes if c in only]
    env = environment()
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    common = _common(cfg, generated)
    target.parent.mkdir(parents=True, exist_ok=True)
    with outputs.staged_outputs(target.parent) as staging:
        out = staging / target.name
        if only and target.exists():
            # a partial run keeps the other geosites' dossiers
            shutil.copytree(target, out)
        (out / "sheets").mkdir(parents=True, exist_ok=True)
        (out / "charts").mkdir(exist_ok=True)
        elevations = dem_elevations(cfg, heritage)
        register_dir = cfg.inputs.geosites.path.parent
        for code in codes:
            progress(f"Hồ sơ {code}", f"Dossier {code}")
            unit = str(
                heritage.geosites.loc[heritage.geosites["geosite_code"] == code, "unit_code"].iloc[
                    0
                ]
            )
            png, sheet_pdf = find_sheet(sheets, unit)
            if not png.exists():
                if unit not in run.missing_sheets:
                    run.missing_sheets.append(unit)
                sheet_ctx = {"unit_code": unit, "image": None, "pdf": None, "expected": str(png)}
            else:
                copied = out / "sheets" / f"{unit}.png"
                if not copied.exists():
                    shutil.copyfile(png, copied)
                sheet_ctx = {
                    "unit_code": unit,
                    "image": f"sheets/{unit}.png",
                    "pdf": sheet_pdf.as_uri() if sheet_pdf else None,
                    "expected": str(png),
                }
            ctx = dossier_context(
                heritage,
                code,
                sheet=sheet_ctx,
                inspections=inspections,
                database=url is not None,
                register_dir=register_dir,
                dem_elevation_m=elevations.get(code),
                dem_configured=relief_dem(cfg.maps) is not None,
                dossier_map=dossier_map(cfg, heritage, code, unit, out),
            )
            copy_photos(ctx["photos"], out / "photos" / code, f"photos/{code}")
            html = env.get_template("dossier.html.j2").render(site=ctx, **common)
            html_path = out / f"{code}.html"
            html_path.write_text(html, "utf-8")
            written = [html_path]
            if pdf:
                write_pdf(html, out, out / f"{code}.pdf")
                written.append(out / f"{code}.pdf")
            run.dossiers += [target / p.name for p in written]
        progress("Báo cáo tổng hợp di sản", "Heritage summary")
        summary = summary_data(heritage)
        dpi = cfg.dossiers.chart_dpi
        figures = {
            "counts": charts.counts_chart(summary, out / "charts" / "geosites.png", dpi),
            "areas": charts.district_areas_chart(
                summary, out / "charts" / "protected_areas.png", dpi
            ),
        }
        if summary["ranking"]:
            figures["ranking"] = charts.ranking_chart(
                summary, out / "charts" / "assessment_ranking.png", dpi
            )
        html = env.get_template("summary.html.j2").render(
            summary=summary,
            figures={k: f"charts/{p.name}" for k, p in figures.items()},
            missing_sheets=run.missing_sheets,
            **common,
        )
        (out / f"{SUMMARY_NAME}.html").write_text(html, "utf-8")
        outputs.dump_json(summary, out / f"{SUMMARY_NAME}.json")
        run.summary = [target / f"{SUMMARY_NAME}.html", target / f"{SUMMARY_NAME}.json"]
        if pdf:
            write_pdf(html, out, out / f"{SUMMARY_NAME}.pdf")
            run.summary.append(target / f"{SUMMARY_NAME}.pdf")
        (out / "manifest.json").write_text(
            json.dumps(
                {
                    "generated_utc": generated,
                    "geopackage": str(heritage.source),
                    "geosites": codes,
                    "missing_zoning_sheets": run.missing_sheets,
                    "inspections_read": run.inspections,
                    "sample_data": cfg.park.sample_data,
                },
                ensure_ascii=False,
                indent=2,
            )
            + "\n",
            "utf-8",
        )
        outputs.replace_directory(out, target)
    return run


def dem_elevations(cfg: Config, heritage: Heritage) -> dict[str, float]:
    """Each geosite's elevation from the DEM (empty without a DEM).

    The DEM is ``[maps] dem``, or else the first ``dem`` layer of ``[[maps.base]]``.
    """
    dem = relief_dem(cfg.maps)
    if dem is None or heritage.geosites.empty:
        return {}
    geoms = heritage.geosites.geometry
    values = sample_dem(
        dem[0],
        geoms.x.to_numpy(),
        geoms.y.to_numpy(),
        str(heritage.geosites.crs),
        field=dem[1],
    )
    return {
        str(c): v
        for c, v in zip(heritage.geosites["geosite_code"], values, strict=True)
        if v is not None
    }


def dossier_map(
    cfg: Config, heritage: Heritage, code: str, unit: str, out: Path
) -> dict[str, Any] | None:
    """Draw the dossier map of ``code`` (its unit's zones) into ``out/maps``."""
    pz = heritage.protection_zones
    zones = pz.loc[pz["unit_code"] == unit]
    if zones.empty:
        return None
    sites = heritage.geosites.loc[heritage.geosites["unit_code"] == unit]
    layer = heritage.boundary_markers
    markers = unit_markers(layer, unit) if layer is not None else []
    drawn = draw_dossier_map(
        code=code,
        geosites=sites,
        zone_i=zones.loc[zones["zone_class"] == "I"],
        zone_ii=zones.loc[zones["zone_class"] == "II"],
        markers=markers,
        scales=cfg.maps.scales,
        png=out / "maps" / f"{code}.png",
        pdf=out / "maps" / f"{code}.pdf",
    )
    return {
        "image": f"maps/{code}.png",
        "pdf": f"maps/{code}.pdf",
        "denominator": drawn.denominator,
        "scale_vi": format_scale(drawn.denominator),
        "scale_en": format_scale_en(drawn.denominator),
        "width_mm": drawn.width_mm,
        "height_mm": drawn.height_mm,
        "width_vi": vi_number(drawn.width_mm, 0),
        "width_en": en_number(drawn.width_mm, 0),
        "bar_ground_m": drawn.bar_ground_m,
        "bar_paper_mm": drawn.bar_paper_mm,
        "markers": [{"label": m.label, "x": m.x_northing, "y": m.y_easting} for m in markers],
    }


def copy_photos(photos: list[dict[str, Any]], folder: Path, href: str) -> None:
    """Copy the photographs that exist next to the dossier; set each one's ``image``."""
    for i, photo in enumerate(photos, start=1):
        photo["image"] = None
        source = photo.pop("source", None)
        if source is None:
            continue
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{i:02d}{source.suffix.lower()}"
        shutil.copyfile(source, folder / name)
        photo["image"] = f"{href}/{name}"


def verified_sheet_folder(cfg: Config, data: VerifiedSet) -> Path:
    """The zoning sheets the dossiers use, from a map set that is whole and current.

    With ``dossiers.zoning_sheets`` set, that folder as it is. Otherwise the map
    set of ``geopark maps``: refused when its files do not match its manifest,
    when sheets are missing from it, or when it was made from another data set
    than ``data`` (the message says to run ``make maps``). With no map set at
    all, the dossiers say which sheets are missing, as before.

    Raises
    ------
    InputError
        When the map set is incomplete, damaged or stale.
    """
    if cfg.dossiers.zoning_sheets is not None:
        return cfg.dossiers.zoning_sheets
    folder = cfg.maps.directory
    if not os.path.lexists(folder / MAP_MANIFEST) and not os.path.lexists(folder / "zoning"):
        return folder / "zoning"
    maps = map_set(cfg)
    manifest_path = folder / MAP_MANIFEST
    if maps.manifest.get("data_set", {}).get("manifest_sha256") != data.manifest_sha256:
        raise InputError(
            "bộ bản đồ được lập từ một bộ dữ liệu khác với GeoPackage hiện tại",
            "the map set was made from another data set than the current GeoPackage "
            f"({cfg.outputs.manifest} has changed since `geopark maps` ran)",
            file=str(manifest_path),
            field="data_set.manifest_sha256",
            fix="run `make maps` (geopark maps), then `geopark dossiers` again",
            fix_vi="chạy `make maps` (geopark maps) rồi chạy lại `geopark dossiers`",
        )
    if not maps.manifest.get("complete"):
        missing = ", ".join(maps.manifest.get("missing_sheets", [])) or "?"
        raise InputError(
            f"bộ bản đồ không đầy đủ (chỉ vẽ một phần), thiếu: {missing}",
            f"the map set is incomplete (a partial render), missing: {missing}",
            file=str(manifest_path),
            field="complete",
            fix="run `make maps` (geopark maps without --unit/--district), then "
            "`geopark dossiers` again",
            fix_vi="chạy `make maps` (geopark maps không có --unit/--district) rồi "
            "chạy lại `geopark dossiers`",
        )
    return maps.path("zoning")


def zoning_sheet_folder(cfg: Config) -> Path:
    """Where ``geopark maps`` writes the zoning sheets (``dossiers.zoning_sheets``)."""
    return cfg.dossiers.zoning_sheets or cfg.maps.directory / "zoning"


__all__ = ["DossierRun", "Heritage", "write_dossiers"]
