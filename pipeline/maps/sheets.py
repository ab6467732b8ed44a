"""The three kinds of sheet: park overview, district distribution map, zoning map.

Each renderer is a function of the GeoPackage layers and the configuration
that writes one PDF (one or more pages) and returns what it drew. The map
frame's size on paper and its ground extent are fixed first (see
:mod:`pipeline.maps.scale`), so the stated scale is true on paper.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from pipeline.config import Config, SheetPaper
from pipeline.errors import ConfigError, InputError
from pipeline.maps import furniture, style
from pipeline.maps.base import BaseDrawn, draw_base, relief_dem
from pipeline.maps.fonts import rc_params
from pipeline.maps.hillshade import hillshade_for_extent
from pipeline.maps.labels import LabelSpec, Placement, place_labels, point_obstacles
from pipeline.maps.paper import GAP_MM, Box, Layout, layout_for, page_for
from pipeline.maps.scale import (
    MapExtent,
    choose_scale,
    extent_at_scale,
    format_scale,
    format_scale_en,
    grid_interval,
)
from pipeline.maps.vertices import Marker, format_metres, unit_markers
from pipeline.numbers import bilingual_number
from pipeline.outputs import run_geopackage_layers
from pipeline.report import SAMPLE_NOTE
from pipeline.vocabulary import UNIT_STATUS_VI

#: Layers a sheet needs from the GeoPackage.
LAYERS = (
    "park_extent",
    "districts",
    "geosites",
    "survey_points",
    "protection_zones",
    "boundary_markers",
)

PANEL_MM = {"overview": 92.0, "district": 92.0, "zoning": 128.0}
TABLE_COL_MM = 60.0
TABLE_HEADS = ("Mốc\nNo.", "X (m)\nbắc / northing", "Y (m)\nđông / easting")
ROW_MM = 3.3
#: Raster resolution of the drawing canvas used to measure text while laying out.
LAYOUT_DPI = 150


@dataclass
class SheetResult:
    """What a sheet shows and where it went: the index entry of one sheet."""

    kind: str
    code: str
    title_vi: str
    title_en: str
    denominator: int
    paper: str
    page_width_mm: float
    page_height_mm: float
    map_frame_mm: tuple[float, float, float, float]
    extent: tuple[float, float, float, float]
    grid_m: int
    pages: int
    pdf: Path
    png: Path | None = None
    legend: list[str] = field(default_factory=list)
    labels_dropped: list[str] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    hillshade: bool = False
    enlargements: list[Enlargement] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "title_vi": self.title_vi,
            "title_en": self.title_en,
            "scale": f"1:{self.denominator}",
            "denominator": self.denominator,
            "paper": self.paper,
            "page_mm": [self.page_width_mm, self.page_height_mm],
            "map_frame_mm": list(self.map_frame_mm),
            "extent_m": list(self.extent),
            "grid_m": self.grid_m,
            "pages": self.pages,
            "pdf": str(self.pdf),
            "png": str(self.png) if self.png else None,
            "legend": self.legend,
            "labels_dropped": self.labels_dropped,
            "n_markers": len(self.markers),
            "hillshade": self.hillshade,
            "enlargements": [e.as_dict() for e in self.enlargements],
        }


@dataclass
class Enlargement:
    """A larger-scale page of a zoning sheet, for markers too crowded at the sheet's scale."""

    page: int  # 1-based page of the sheet's PDF
    denominator: int
    extent: tuple[float, float, float, float]
    map_frame_mm: tuple[float, float, float, float]
    numbered: list[str]  # marker labels numbered on this page

    def as_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "scale": f"1:{self.denominator}",
            "denominator": self.denominator,
            "extent_m": list(self.extent),
            "map_frame_mm": list(self.map_frame_mm),
            "numbered": self.numbered,
        }


#: Layers drawn when the GeoPackage has them (threat layers, when threats are configured).
OPTIONAL_LAYERS = ("threat_areas", "threat_lines", "threat_points")


def load_layers(gpkg: Path) -> dict[str, gpd.GeoDataFrame]:
    """The layers the sheets draw, read from the run's GeoPackage (threat layers if any)."""
    run_geopackage_layers(gpkg, LAYERS)
    layers = {name: gpd.read_file(gpkg, layer=name) for name in LAYERS}
    present = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    layers.update(
        {name: gpd.read_file(gpkg, layer=name) for name in OPTIONAL_LAYERS if name in present}
    )
    return layers


# ---------------------------------------------------------------- helpers


def _within(frame: gpd.GeoDataFrame, extent: MapExtent) -> gpd.GeoDataFrame:
    xmin, ymin, xmax, ymax = extent.bounds
    return frame[frame.intersects(shapely.box(xmin, ymin, xmax, ymax))]


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _area(value: float) -> tuple[str, str]:
    """Hectares: Vietnamese (1.234,56) and English (1,234.56)."""
    return bilingual_number(value, 2)


@dataclass
class _Canvas:
    fig: Figure
    canvas: FigureCanvasAgg
    page: Axes
    layout: Layout

    @property
    def renderer(self):
        return self.canvas.get_renderer()


def _new_canvas(paper: SheetPaper, kind: str) -> _Canvas:
    page = page_for(paper)
    panel = PANEL_MM[kind] if page.width_mm >= page.height_mm else 78.0
    layout = layout_for(page, panel)
    fig = Figure(figsize=page.figsize_in, dpi=LAYOUT_DPI)
    canvas = FigureCanvasAgg(fig)
    return _Canvas(fig, canvas, furniture.page_axes(fig, layout), layout)


def _map_axes(c: _Canvas, extent: MapExtent) -> Axes:
    """The map frame with its VN-2000 metre grid and labelled ticks (X northing, Y easting)."""
    ax = c.fig.add_axes(c.layout.page.fraction(c.layout.map))
    ax.set_xlim(extent.xmin, extent.xmax)
    ax.set_ylim(extent.ymin, extent.ymax)
    ax.set_aspect("auto")  # the limits are already in the frame's proportions
    step = grid_interval(extent.denominator)
    xs = np.arange(math.ceil(extent.xmin / step) * step, extent.xmax, step)
    ys = np.arange(math.ceil(extent.ymin / step) * step, extent.ymax, step)
    for x in xs:
        ax.axvline(x, color=style.GRID, lw=0.3, zorder=2.5)
    for y in ys:
        ax.axhline(y, color=style.GRID, lw=0.3, zorder=2.5)
    ax.set_xticks(xs, [f"{int(v)}" for v in xs])
    ax.set_yticks(ys, [f"{int(v)}" for v in ys])
    ax.tick_params(
        which="both",
        direction="out",
        length=2.5,
        width=0.5,
        labelsize=6,
        pad=1.5,
        top=True,
        labeltop=True,
        right=True,
        labelright=True,
    )
    ax.tick_params(axis="y", labelrotation=90)
    for lbl in ax.get_yticklabels():
        lbl.set_verticalalignment("center")
    for spine in ax.spines.values():
        spine.set_linewidth(0.9)
    ax.set_facecolor("white")
    m = c.layout.map
    c.page.text(
        m.x - 1.5, m.top + 1.5, "X,Y (m)", fontsize=6, ha="right", va="bottom", color="#333333"
    )
    return ax


def _hillshade(ax: Axes, cfg: Config, extent: MapExtent) -> bool:
    dem = relief_dem(cfg.maps, extent.denominator)
    if dem is None:
        return False
    shade = hillshade_for_extent(
        dem[0],
        extent.bounds,
        cfg.working_crs,
        azimuth=cfg.maps.hillshade_azimuth,
        altitude=cfg.maps.hillshade_altitude,
        field=dem[1],
    )
    if shade is None:
        return False
    ax.imshow(
        np.ma.masked_invalid(shade),
        extent=(extent.xmin, extent.xmax, extent.ymin, extent.ymax),
        origin="upper",
        cmap="gray",
        vmin=0,
        vmax=1,
        alpha=0.5,
        zorder=style.Z_HILLSHADE,
        interpolation="bilinear",
    )
    return True


class _Legend:
    """Collects the legend entries of exactly what has been drawn."""

    def __init__(self) -> None:
        self.handles: list[Any] = []
        self.labels: list[str] = []

    def add(self, handle: Any, vi: str, en: str) -> None:
        label = f"{vi}\n{en}"
        if label not in self.labels:
            self.handles.append(handle)
            self.labels.append(label)


@dataclass
class _Map:
    """A sheet's page and its map frame at the chosen scale, with what has been drawn in it."""

    c: _Canvas
    extent: MapExtent
    ax: Axes
    legend: _Legend
    hillshade: bool
    base: BaseDrawn = field(default_factory=BaseDrawn)


def _open_map(
    cfg: Config,
    paper: SheetPaper,
    kind: str,
    bounds: tuple[float, float, float, float],
    *,
    margin: float,
    min_margin_m: float = 0.0,
    series: Sequence[int] | None = None,
) -> _Map:
    """A new sheet whose map frame shows ``bounds`` at the largest scale that fits.

    The scale is taken from ``series`` (default ``maps.scales``).
    """
    c = _new_canvas(paper, kind)
    n = choose_scale(
        bounds,
        c.layout.map,
        cfg.maps.scales if series is None else series,
        margin=margin,
        min_margin_m=min_margin_m,
    )
    extent = extent_at_scale(bounds, c.layout.map, n)
    ax = _map_axes(c, extent)
    shade = _hillshade(ax, cfg, extent)
    return _Map(
        c, extent, ax, _Legend(), shade, draw_base(ax, cfg.maps.base, extent, cfg.working_crs)
    )


def _hillshade_entry(m: _Map) -> None:
    """The base's and the hillshade's legend entries (last in the legend), when drawn."""
    for handle, vi, en in m.base.legend:
        m.legend.add(handle, vi, en)
    if m.hillshade:
        m.legend.add(
            Patch(facecolor="#9e9e9e", edgecolor="none"), "Bóng địa hình (DEM)", "Hillshade (DEM)"
        )


def _draw_context(
    m: _Map,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    focus: shapely.Geometry | None = None,
    focus_vi: str = "",
    focus_en: str = "",
) -> None:
    """Districts, the park extent, and grey over everything outside ``focus``."""
    ax, extent, legend = m.ax, m.extent, m.legend
    xmin, ymin, xmax, ymax = extent.bounds
    window = shapely.box(xmin, ymin, xmax, ymax)
    outside = window.difference(focus) if focus is not None else None
    if outside is not None and not outside.is_empty:
        gpd.GeoSeries([outside]).plot(
            ax=ax, facecolor=style.NEIGHBOUR_FILL, edgecolor="none", alpha=0.6, zorder=style.Z_FILL
        )
        legend.add(
            Patch(facecolor=style.NEIGHBOUR_FILL, edgecolor="none", alpha=0.6), focus_vi, focus_en
        )
    districts = _within(layers["districts"], extent)
    if len(districts):
        districts.boundary.plot(
            ax=ax,
            color=style.DISTRICT_EDGE,
            lw=0.6,
            linestyle=(0, (6, 2, 1, 2)),
            zorder=style.Z_BOUNDARY,
        )
        legend.add(
            Line2D([], [], color=style.DISTRICT_EDGE, lw=0.6, linestyle=(0, (6, 2, 1, 2))),
            "Ranh giới huyện, thành phố",
            "District boundary",
        )
    park = _within(layers["park_extent"], extent)
    if len(park) and park.boundary.intersects(window).any():
        park.boundary.plot(ax=ax, color=style.PARK_EDGE, lw=1.6, zorder=style.Z_BOUNDARY + 0.2)
        legend.add(
            Line2D([], [], color=style.PARK_EDGE, lw=1.6),
            "Ranh giới Công viên địa chất",
            "Geopark boundary",
        )


def _draw_zones(
    m: _Map, layers: dict[str, gpd.GeoDataFrame], areas: dict[str, float] | None = None
) -> None:
    zones = _within(layers["protection_zones"], m.extent)
    for zone_class, fill, edge, vi, en in (
        ("II", style.ZONE_II_FILL, style.ZONE_II_EDGE, "Vùng II – vùng đệm", "Zone II – buffer"),
        (
            "I",
            style.ZONE_I_FILL,
            style.ZONE_I_EDGE,
            "Vùng I – bảo vệ nghiêm ngặt",
            "Zone I – strict protection",
        ),
    ):
        part = zones[zones["zone_class"] == zone_class]
        if not len(part):
            continue
        part.plot(ax=m.ax, facecolor=fill, edgecolor=edge, lw=0.6, alpha=0.75, zorder=style.Z_ZONE)
        if areas and zone_class in areas:
            ha_vi, ha_en = _area(areas[zone_class])
            vi, en = f"{vi} ({ha_vi} ha)", f"{en} ({ha_en} ha)"
        m.legend.add(Patch(facecolor=fill, edgecolor=edge, lw=0.6, alpha=0.75), vi, en)


def _draw_geosites(m: _Map, layers: dict[str, gpd.GeoDataFrame], size: float) -> gpd.GeoDataFrame:
    sites = _within(layers["geosites"], m.extent)
    order = list(style.CATEGORY_SYMBOL)
    for category in sorted(
        sites["category"].unique(), key=lambda c: order.index(c) if c in order else 99
    ):
        marker, colour, vi, en = style.category_style(category)
        part = sites[sites["category"] == category]
        ms = size * (1.5 if marker == "*" else 1.0)
        m.ax.scatter(
            part.geometry.x,
            part.geometry.y,
            marker=marker,
            s=ms**2,
            c=colour,
            edgecolors="white",
            linewidths=0.6,
            zorder=style.Z_POINT + 0.5,
        )
        m.legend.add(
            Line2D(
                [],
                [],
                marker=marker,
                color=colour,
                markeredgecolor="white",
                markersize=7 * (1.4 if marker == "*" else 1),
                linestyle="none",
            ),
            f"Di sản địa chất – {vi}",
            f"Geosite – {en}",
        )
    return sites


def _draw_distribution(
    m: _Map,
    layers: dict[str, gpd.GeoDataFrame],
    *,
    focus: shapely.Geometry,
    focus_vi: str,
    focus_en: str,
    size: float,
) -> gpd.GeoDataFrame:
    """A distribution map: context greyed outside ``focus``, zones, geosites (returned)."""
    _draw_context(m, layers, focus=focus, focus_vi=focus_vi, focus_en=focus_en)
    _draw_zones(m, layers)
    sites = _draw_geosites(m, layers, size=size)
    _hillshade_entry(m)
    return sites


def _site_obstacles(m: _Map, sites: gpd.GeoDataFrame, radius_pt: float) -> list:
    """Boxes around the geosite and base point symbols, so labels do not cover them."""
    return point_obstacles(
        m.ax, shapely.get_coordinates(sites.geometry), radius_pt
    ) + point_obstacles(m.ax, m.base.points, 2.0)


#: The projection as the sheets state it, Vietnamese (decimal comma) and English.
PROJECTION_VI = "VN-2000 / TM-3 107°15′, k = 0,9999"
PROJECTION_EN = "VN-2000 / TM-3 107°15′, k = 0.9999"


def _sheet_text(cfg: Config, notes: list[str] = ()) -> tuple[list[str], str | None]:
    today = date.today()
    lines = [
        f"Hệ tọa độ {PROJECTION_VI} ({cfg.working_crs}), múi chiếu 3°; "
        "lưới ô vuông tính bằng mét: X – tọa độ bắc (nhãn cạnh đứng), "
        f"Y – tọa độ đông (nhãn cạnh ngang). / Coordinate system {PROJECTION_EN}; "
        "metre grid: X northing (side labels), Y easting (top/bottom labels).",
        f"Nguồn dữ liệu: {cfg.maps.sources_vi}. / Data sources: {cfg.maps.sources_en}.",
        *notes,
        f"Ngày lập / Date: {today:%d/%m/%Y} — {cfg.park.name_vi} / {cfg.park.name_en}"
        + (f" — {cfg.park.legal_basis}" if cfg.park.legal_basis else ""),
    ]
    return lines, (SAMPLE_NOTE if cfg.park.sample_data else None)


def _finish_page(
    c: _Canvas,
    cfg: Config,
    title_vi: str,
    title_en: str,
    subtitle: str,
    extent: MapExtent,
    code: str,
    page_no: int | None = None,
    pages: int | None = None,
    base: BaseDrawn | None = None,
) -> None:
    paper = c.layout.page.label
    right = [
        f"TỶ LỆ / SCALE {format_scale(extent.denominator)}",
        f"Khổ giấy / Paper: {paper}",
        f"Tờ / Sheet: {code}",
    ]
    if page_no is not None and pages and pages > 1:
        right.append(f"Trang / Page {page_no}/{pages}")
    for ax in c.fig.axes:  # geopandas names the axes after the CRS; the grid labels say it all
        ax.set_xlabel("")
        ax.set_ylabel("")
    furniture.title_block(c.page, c.layout.title, title_vi, title_en, subtitle, right)
    lines, note = _sheet_text(cfg, base.notes() if base else [])
    furniture.footer(c.page, c.layout.footer, lines, note)


def _panel_furniture(m: _Map, layers, cfg: Config, lists: list[tuple[str, list[str]]]) -> Box:
    """Scale, locator, legend and lists in the panel; returns the panel space left (mm)."""
    c, extent, legend = m.c, m.extent, m.legend
    p = c.layout.panel
    r = c.renderer
    if c.layout.panel_is_side:
        top = p.top
        used = furniture.scale_block(c.page, p.x, top, min(p.w, 92.0), extent, cfg.working_crs)
        top -= used
        loc_w = min(p.w, 92.0)
        loc_h = loc_w * 0.62
        furniture.locator(
            c.fig,
            c.layout,
            Box(p.x, top - loc_h, loc_w, loc_h),
            layers["districts"],
            layers["park_extent"],
            extent,
            c.page,
        )
        top -= loc_h + GAP_MM
        ncol = 2 if p.w >= 120 else 1
        top -= furniture.legend_block(c.page, p.x, top, legend.handles, legend.labels, r, ncol=ncol)
        for title, lines in lists:
            top -= furniture.text_list(c.page, p.x, top, title, lines, r)
        return Box(p.x, p.y, p.w, top - p.y)
    # portrait: blocks side by side along the bottom panel
    col_w = 68.0
    x = p.x
    furniture.scale_block(c.page, x, p.top, col_w, extent, cfg.working_crs)
    furniture.locator(
        c.fig,
        c.layout,
        Box(x, p.y, col_w, p.h - 34),
        layers["districts"],
        layers["park_extent"],
        extent,
        c.page,
    )
    x += col_w + GAP_MM
    furniture.legend_block(c.page, x, p.top, legend.handles, legend.labels, r)
    x += col_w + 12
    top = p.top
    for title, lines in lists:
        top -= furniture.text_list(c.page, x, top, title, lines, r)
    return Box(x, p.y, p.right - x, top - p.y)


def _result(
    kind: str,
    code: str,
    title_vi: str,
    title_en: str,
    m: _Map,
    pdf: Path,
    dropped: list[str],
    pages: int = 1,
    markers: list[Marker] | None = None,
    enlargements: list[Enlargement] | None = None,
) -> SheetResult:
    c, extent, frame = m.c, m.extent, m.c.layout.map
    return SheetResult(
        kind=kind,
        code=code,
        title_vi=title_vi,
        title_en=title_en,
        denominator=extent.denominator,
        paper=c.layout.page.label,
        page_width_mm=c.layout.page.width_mm,
        page_height_mm=c.layout.page.height_mm,
        map_frame_mm=(frame.x, frame.y, frame.w, frame.h),
        extent=extent.bounds,
        grid_m=grid_interval(extent.denominator),
        pages=pages,
        pdf=pdf,
        legend=[lbl.replace("\n", " / ") for lbl in m.legend.labels],
        labels_dropped=dropped,
        markers=markers or [],
        hillshade=m.hillshade,
        enlargements=enlargements or [],
    )


def _save(figs: list[Figure], pdf: Path, title: str, cfg: Config) -> None:
    pdf.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "Title": title,
        "Author": f"{cfg.park.name_vi} / {cfg.park.name_en}",
        "Subject": "VN-2000 (EPSG:9215)",
        "Creator": "langson-geopark pipeline (geopark maps)",
    }
    with PdfPages(pdf, metadata=meta) as out:
        for fig in figs:
            out.savefig(fig)


def _site_line(row: pd.Series) -> str:
    _, _, vi, en = style.category_style(row["category"])
    return f"{row['geosite_code']}  {_text(row['name_vi'])} ({vi} / {en})"


# ---------------------------------------------------------------- sheets


def render_overview_sheet(
    layers: dict[str, gpd.GeoDataFrame], cfg: Config, pdf: Path
) -> SheetResult:
    """The whole park: extent, districts, zones, geosites by category, clusters labelled."""
    park = layers["park_extent"]
    with rc_context(rc_params()):
        m = _open_map(cfg, cfg.maps.overview, "overview", tuple(park.total_bounds), margin=0.03)
        sites = _draw_distribution(
            m,
            layers,
            focus=park.union_all(),
            focus_vi="Ngoài công viên",
            focus_en="Outside the geopark",
            size=6,
        )
        specs = _district_labels(layers, m.extent, focus_code=None)
        units = layers["protection_zones"].dissolve(by="unit_code", as_index=False)
        for _, u in units.iterrows():
            b = u.geometry.bounds
            specs.append(
                LabelSpec(
                    (b[0] + b[2]) / 2,
                    b[3],
                    u["unit_code"],
                    size=6.5,
                    weight="bold",
                    color="#7f2704",
                    priority=5,
                    radii_pt=(3.0, 10.0, 18.0, 28.0),
                )
            )
        placed = place_labels(
            m.ax, m.c.renderer, specs + m.base.labels, _site_obstacles(m, sites, 3.5)
        )
        title_vi = "BẢN ĐỒ PHÂN BỐ DI SẢN ĐỊA CHẤT CÔNG VIÊN ĐỊA CHẤT LẠNG SƠN"
        title_en = f"Geoheritage distribution map of the {cfg.park.name_en}"
        subtitle = (
            f"{len(sites)} điểm di sản, {len(units)} đơn vị khoanh vùng (cụm, điểm đơn lẻ) / "
            f"{len(sites)} geosites, {len(units)} zoning units (clusters and lone geosites); "
            "nhãn: mã đơn vị / labels: unit codes"
        )
        _panel_furniture(m, layers, cfg, [])
        _finish_page(m.c, cfg, title_vi, title_en, subtitle, m.extent, "overview", base=m.base)
        _save([m.c.fig], pdf, f"{title_vi} / {title_en}", cfg)
    return _result("overview", "overview", title_vi, title_en, m, pdf, placed.dropped)


def _district_labels(layers, extent: MapExtent, focus_code: int | None) -> list[LabelSpec]:
    window = shapely.box(*extent.bounds)
    specs = []
    for _, d in _within(layers["districts"], extent).iterrows():
        focus = d["district_code"] == focus_code
        visible = d.geometry.intersection(window)
        if visible.area < 0.02 * window.area and not focus:
            continue
        p = visible.representative_point()
        if focus and window.contains(whole := d.geometry.representative_point()):
            p = whole  # the sheet's own district: labelled where its whole shape puts it
        specs.append(
            LabelSpec(
                p.x,
                p.y,
                str(d["district_name"]).upper(),
                size=10 if focus else 8,
                style="italic",
                weight="bold" if focus else "normal",
                color="#252525" if focus else "#636363",
                priority=10 if focus else 8,
                area=True,
            )
        )
    return specs


def render_district_sheet(
    district_code: int, layers: dict[str, gpd.GeoDataFrame], cfg: Config, pdf: Path
) -> SheetResult:
    """One district of the park: its geosites and zones, the neighbouring area greyed."""
    districts = layers["districts"]
    row = districts[districts["district_code"] == district_code]
    if not len(row):
        raise InputError(
            f"không có huyện mã {district_code}",
            f"no district with code {district_code}",
            field="district_code",
            fix="use a district_code of the districts layer",
            fix_vi="dùng một district_code của lớp districts",
        )
    d = row.iloc[0]
    with rc_context(rc_params()):
        m = _open_map(cfg, cfg.maps.district, "district", d.geometry.bounds, margin=0.04)
        sites = _draw_distribution(
            m,
            layers,
            focus=d.geometry,
            focus_vi="Ngoài huyện (vùng lân cận)",
            focus_en="Outside the district (neighbouring area)",
            size=7,
        )
        specs = _district_labels(layers, m.extent, focus_code=district_code)
        inside = sites[sites.within(d.geometry)]
        inside_codes = set(inside["geosite_code"])
        for _, s in sites.iterrows():
            specs.append(
                LabelSpec(
                    s.geometry.x,
                    s.geometry.y,
                    s["geosite_code"],
                    size=6.5,
                    priority=6 if s["geosite_code"] in inside_codes else 4,
                    radii_pt=(4.0, 12.0, 22.0, 32.0),
                )
            )
        placed = place_labels(
            m.ax, m.c.renderer, specs + m.base.labels, _site_obstacles(m, sites, 4.0)
        )
        kind_vi = _text(d.get("district_type")) or "Huyện"
        name = _text(d["district_name"])
        kind_en = "city" if kind_vi.lower().startswith("thành") else "district"
        title_vi = f"BẢN ĐỒ PHÂN BỐ DI SẢN ĐỊA CHẤT – {kind_vi.upper()} {name.upper()}"
        title_en = f"Geoheritage distribution map — {name} ({kind_en})"
        membership = {
            "full": ("toàn bộ thuộc công viên", "wholly in the geopark"),
            "partial": ("một phần thuộc công viên", "partly in the geopark"),
        }.get(_text(d.get("park_membership")), ("", ""))
        subtitle = (
            f"{cfg.park.name_vi} / {cfg.park.name_en} — mã GSO / GSO code {district_code}"
            + (f" — {membership[0]} / {membership[1]}" if membership[0] else "")
        )
        lines = [_site_line(s) for _, s in inside.sort_values("geosite_code").iterrows()]
        others = sites[~sites["geosite_code"].isin(inside_codes)]
        lines += [_site_line(s) + " *" for _, s in others.sort_values("geosite_code").iterrows()]
        if len(others):
            lines.append("* ngoài huyện / outside the district")
        lists = [("ĐIỂM DI SẢN / Geosites", lines or ["(không có / none)"])]
        _panel_furniture(m, layers, cfg, lists)
        _finish_page(
            m.c, cfg, title_vi, title_en, subtitle, m.extent, str(district_code), base=m.base
        )
        _save([m.c.fig], pdf, f"{title_vi} / {title_en}", cfg)
    return _result("district", str(district_code), title_vi, title_en, m, pdf, placed.dropped)


def _status_line(zone: pd.Series) -> str:
    """'Trạng thái / Status: ...' of a unit, with its decision when approved."""
    status = _text(zone.get("status")) or "proposed"
    line = f"Trạng thái / Status: {UNIT_STATUS_VI.get(status, status)} / {status}"
    if status == "approved":
        line += (
            f" — QĐ / Decision {_text(zone.get('decision'))}, {_text(zone.get('decision_date'))}"
        )
    return line


def _table_rows(markers: list[Marker]) -> list[tuple]:
    rows: list[tuple] = []
    rings = {(m.zone_class, m.ring) for m in markers}
    last = None
    for m in markers:
        key = (m.zone_class, m.ring)
        if key != last:
            head = "Vùng I / Zone I" if m.zone_class == "I" else "Vùng II / Zone II"
            if sum(1 for k in rings if k[0] == m.zone_class) > 1:
                head += f" – vòng / ring {m.ring}"
            rows.append(("group", head))
            last = key
        rows.append(("row", m.label, format_metres(m.x_northing), format_metres(m.y_easting)))
    return rows


def _draw_table(ax: Axes, region: Box, rows: list[tuple]) -> list[tuple]:
    """Fill ``region`` with table columns; returns the rows that did not fit."""
    if region.h < 4 * ROW_MM or region.w < TABLE_COL_MM - 2:
        return rows
    ncols = max(int((region.w + 4) // (TABLE_COL_MM + 4)), 1)
    capacity = int((region.h - 2 * ROW_MM) // ROW_MM)
    remaining = list(rows)
    for col in range(ncols):
        if not remaining:
            break
        x = region.x + col * (TABLE_COL_MM + 4)
        top = region.top
        columns = (x + 9, x + 33, x + TABLE_COL_MM - 1)  # right edges: number, X, Y
        for cx, head in zip(columns, TABLE_HEADS, strict=True):
            ax.text(
                cx, top, head, fontsize=6, fontweight="bold", ha="right", va="top", linespacing=1.0
            )
        y = top - 2 * ROW_MM
        ax.plot([x, x + TABLE_COL_MM], [y + 0.6, y + 0.6], lw=0.5, color="black")
        for _ in range(capacity):
            if not remaining:
                break
            row = remaining.pop(0)
            if row[0] == "group":
                ax.text(
                    x,
                    y - 0.4,
                    row[1],
                    fontsize=6,
                    fontweight="bold",
                    va="top",
                    color=style.ZONE_I_EDGE if row[1].startswith("Vùng I ") else style.ZONE_II_EDGE,
                )
            else:
                for cx, value in zip(columns, row[1:], strict=True):
                    ax.text(cx, y - 0.4, value, fontsize=6, ha="right", va="top")
            y -= ROW_MM
        ax.plot([x, x + TABLE_COL_MM], [y + 0.4, y + 0.4], lw=0.3, color="#808080")
    return remaining


def _zoning_titles(unit_code: str, is_cluster: bool, sites: gpd.GeoDataFrame) -> tuple[str, str]:
    """The zoning sheet's titles, naming the unit by its geosites' Vietnamese names."""
    names_vi = [_text(n) for n in sites["name_vi"] if _text(n)]
    names_en = [_text(n) for n in sites["name_en"] if _text(n)] if "name_en" in sites else []
    if len(names_vi) > 3:
        more = len(names_vi) - 2
        named_vi = " – ".join(names_vi[:2]) + f" và {more} điểm khác"
        named_en = " – ".join(names_en[:2]) + f" and {more} more" if names_en else ""
    else:
        named_vi, named_en = " – ".join(names_vi), " – ".join(names_en)
    head_vi = "BẢN ĐỒ KHOANH VÙNG BẢO VỆ DI SẢN ĐỊA CHẤT"
    head_en = "Geosite protection zoning map"
    if is_cluster:
        vi = f"{head_vi} – CỤM {named_vi.upper()} ({unit_code})"
        en = f"{head_en} — cluster {named_en} ({unit_code})"
    else:
        vi = f"{head_vi} – {named_vi.upper()} ({unit_code})"
        en = f"{head_en} — {named_en} ({unit_code})"
    return vi, en


def _draw_threats(m: _Map, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Threat areas hatched, lines dashed, points as squares, by kind; 'illustrative' noted."""
    from pipeline.vocabulary import THREAT_KIND_VI

    for name in ("threat_areas", "threat_lines", "threat_points"):
        if name not in layers:
            continue
        features = _within(layers[name], m.extent)
        for kind in sorted(features["kind"].dropna().unique()) if len(features) else []:
            part = features[features["kind"] == kind]
            colour, hatch = style.threat_style(kind)
            illustrative = (
                "illustrative" in part and part["illustrative"].fillna(False).astype(bool).any()
            )
            vi = f"Đe dọa: {THREAT_KIND_VI.get(kind, kind)}"
            en = f"Threat: {kind.replace('_', ' ')}"
            if illustrative:
                vi, en = f"{vi} (minh họa)", f"{en} (illustrative)"
            if name == "threat_areas":
                part.plot(
                    ax=m.ax,
                    facecolor="none",
                    edgecolor=colour,
                    hatch=hatch or "////",
                    lw=0.8,
                    zorder=style.Z_THREAT,
                )
                handle = Patch(facecolor="none", edgecolor=colour, hatch=hatch or "////", lw=0.8)
            elif name == "threat_lines":
                part.plot(
                    ax=m.ax, color=colour, lw=1.2, linestyle=(0, (4, 2)), zorder=style.Z_THREAT
                )
                handle = Line2D([], [], color=colour, lw=1.2, linestyle=(0, (4, 2)))
            else:
                xy = shapely.get_coordinates(part.geometry.values)
                m.ax.scatter(
                    xy[:, 0],
                    xy[:, 1],
                    marker="s",
                    s=30,
                    c=colour,
                    edgecolors="white",
                    linewidths=0.6,
                    zorder=style.Z_THREAT + 1,
                )
                handle = Line2D(
                    [], [], marker="s", color=colour, markeredgecolor="white", linestyle="none"
                )
            m.legend.add(handle, vi, en)


def _draw_zoning_map(
    m: _Map,
    layers: dict[str, gpd.GeoDataFrame],
    codes: list[str],
    areas: dict[str, float],
    markers: list[Marker],
    numbered: set[str] | None = None,
    frames: Sequence[tuple[float, float, float, float]] = (),
) -> Placement:
    """A zoning map in ``m``: context, zones, threats, survey points, geosites, markers, labels.

    Marker numbers (of the ``numbered`` labels; default all), geosite codes and
    the numbers of the enlargement ``frames`` (outlined on the map) are placed
    without collisions; what could not be placed is in the result's ``dropped``.
    """
    ax, extent, legend = m.ax, m.extent, m.legend
    _draw_context(m, layers)
    _draw_zones(m, layers, areas=areas)
    _draw_threats(m, layers)
    visible_points = _within(layers["survey_points"], extent)
    if len(visible_points):
        ax.scatter(
            visible_points.geometry.x,
            visible_points.geometry.y,
            s=7,
            c=style.SURVEY_POINT,
            marker="o",
            linewidths=0,
            zorder=style.Z_POINT,
        )
        legend.add(
            Line2D([], [], marker="o", color=style.SURVEY_POINT, markersize=2.6, linestyle="none"),
            "Điểm khảo sát thực địa",
            "Field survey point",
        )
    visible_sites = _draw_geosites(m, layers, size=9)
    if markers:
        ax.scatter(
            [mk.y_easting for mk in markers],
            [mk.x_northing for mk in markers],
            s=10,
            facecolors="white",
            edgecolors=style.MARKER_EDGE,
            linewidths=0.7,
            zorder=style.Z_POINT + 1,
        )
        legend.add(
            Line2D(
                [],
                [],
                marker="o",
                markerfacecolor="white",
                markeredgecolor=style.MARKER_EDGE,
                markersize=3.2,
                linestyle="none",
            ),
            "Mốc giới và số hiệu (ranh giới pháp lý)",
            "Boundary marker and number (legal boundary)",
        )
    _hillshade_entry(m)
    specs = _district_labels(layers, extent, focus_code=None)
    for spec in specs:
        spec.priority = 1  # district names give way to the zoning content here
    for _, s in visible_sites.iterrows():
        specs.append(
            LabelSpec(
                s.geometry.x,
                s.geometry.y,
                s["geosite_code"],
                size=7,
                weight="bold",
                priority=9 if s["geosite_code"] in codes else 3,
                radii_pt=(5.0, 14.0, 24.0, 36.0),
            )
        )
    for mk in markers:
        if numbered is not None and mk.label not in numbered:
            continue
        specs.append(
            LabelSpec(
                mk.y_easting,
                mk.x_northing,
                mk.label,
                size=6.0,
                priority=7,
                color="#000000",
                radii_pt=(2.5, 7.0, 12.0, 18.0, 26.0, 36.0, 48.0, 64.0, 80.0),
            )
        )
    obstacles = _site_obstacles(m, visible_sites, 4.5)
    obstacles += point_obstacles(ax, [(mk.y_easting, mk.x_northing) for mk in markers], 2.0)
    for i, frame in enumerate(frames, start=1):
        specs.append(_frame_on_map(m, frame, i))
    placed = place_labels(ax, m.c.renderer, specs + m.base.labels, obstacles)
    return placed


#: Characters of a 6.5 pt line that fit the zoning sheet's panel.
PANEL_LINE_CHARS = 90
#: Two marker symbols closer than this on paper (pt) touch: both go to an enlargement.
MARKER_CLEARANCE_PT = 4.0
#: At most this many enlargement pages per zoning sheet.
MAX_ENLARGEMENTS = 6


def _crowded_markers(ax: Axes, markers: list[Marker], placed: Placement) -> list[Marker]:
    """Markers whose number could not be placed, or whose symbol touches another's."""
    dropped = set(placed.dropped)
    crowded = {mk.label for mk in markers if mk.label in dropped}
    if len(markers) > 1:
        xy = ax.transData.transform([(mk.y_easting, mk.x_northing) for mk in markers])
        limit = MARKER_CLEARANCE_PT * ax.figure.dpi / 72.0
        tree = shapely.STRtree(shapely.points(xy))
        left, right = tree.query(shapely.points(xy), predicate="dwithin", distance=limit)
        for i, j in zip(left, right, strict=True):
            a, b = markers[i], markers[j]
            # Zone I and Zone II markers on a shared edge are one marker with two numbers
            same_point = math.hypot(a.y_easting - b.y_easting, a.x_northing - b.x_northing) < 0.01
            if i != j and not same_point:
                crowded.update((a.label, b.label))
    return [mk for mk in markers if mk.label in crowded]


def _marker_bounds(markers: list[Marker]) -> tuple[float, float, float, float]:
    xs = [mk.y_easting for mk in markers]
    ys = [mk.x_northing for mk in markers]
    return min(xs), min(ys), max(xs), max(ys)


def _enlarge(
    cfg: Config,
    layers: dict[str, gpd.GeoDataFrame],
    codes: list[str],
    areas: dict[str, float],
    markers: list[Marker],
    crowded: list[Marker],
    denominator: int,
) -> list[tuple[_Map, list[str]]]:
    """Larger-scale pages on which the ``crowded`` markers are numbered without overlap.

    Each page shows the crowded markers still unnumbered at the largest scale of
    ``maps.enlargement_scales`` (larger than the sheet's) that holds them, and
    numbers every marker in its frame; markers still crowded there go to the
    next page, at a larger scale when the page numbered none of them.
    Returns each page's map and the marker labels it numbered.
    """
    series = sorted(n for n in cfg.maps.enlargement_scales if n < denominator)
    pages: list[tuple[_Map, list[str]]] = []
    remaining = list(crowded)
    while remaining and series and len(pages) < MAX_ENLARGEMENTS:
        bounds = _marker_bounds(remaining)
        probe = _new_canvas(cfg.maps.zoning, "zoning").layout.map
        try:
            n = choose_scale(bounds, probe, series, margin=0.15, min_margin_m=5.0)
        except ConfigError:  # too spread for the largest enlargement: its part around the first
            n = series[-1]
            first = remaining[0]
            half = probe.w / 1000.0 * n / 2.5
            bounds = (
                first.y_easting - half,
                first.x_northing - half,
                first.y_easting + half,
                first.x_northing + half,
            )
        m = _open_map(cfg, cfg.maps.zoning, "zoning", bounds, margin=0.0, series=[n])
        xmin, ymin, xmax, ymax = m.extent.bounds
        inside = [
            mk for mk in markers if xmin <= mk.y_easting <= xmax and ymin <= mk.x_northing <= ymax
        ]
        placed = _draw_zoning_map(m, layers, codes, areas, inside)
        still = {mk.label for mk in _crowded_markers(m.ax, inside, placed)}
        numbered = [mk.label for mk in inside if mk.label not in still]
        pages.append((m, numbered))
        before = len(remaining)
        remaining = [mk for mk in remaining if mk.label not in set(numbered)]
        if len(remaining) == before:  # no progress at this scale: go larger
            series = [s for s in series if s < n]
    return pages


def _label_ranges(labels: list[str]) -> str:
    """Marker labels in short: consecutive numbers as ranges, ``I-1–12, I-15, II-1–8``."""
    by_zone: dict[str, list[int]] = {}
    for label in labels:
        zone, _, number = label.rpartition("-")
        by_zone.setdefault(zone, []).append(int(number))
    parts = []
    for zone, numbers in by_zone.items():
        numbers = sorted(set(numbers))
        start = prev = numbers[0]
        for n in [*numbers[1:], None]:
            if n is not None and n == prev + 1:
                prev = n
                continue
            parts.append(f"{zone}-{start}" if start == prev else f"{zone}-{start}–{prev}")
            if n is not None:
                start = prev = n
    return ", ".join(parts)


def _frame_on_map(m: _Map, extent: tuple[float, float, float, float], number: int) -> LabelSpec:
    """The outline of enlargement ``number`` on the sheet's map and its legend entry;
    returns its number's label, to be placed with the others."""
    xmin, ymin, xmax, ymax = extent
    m.ax.add_patch(
        Rectangle(
            (xmin, ymin),
            xmax - xmin,
            ymax - ymin,
            fill=False,
            lw=0.9,
            ls=(0, (4, 2)),
            ec=style.MARKER_EDGE,
            zorder=style.Z_LABEL - 1,
        )
    )
    m.legend.add(
        Line2D([], [], color=style.MARKER_EDGE, lw=0.9, ls=(0, (4, 2))),
        "Khung trang phóng to (số thứ tự; mốc dày)",
        "Enlargement frame (its number; crowded markers)",
    )
    return LabelSpec(
        xmin,
        ymax,
        f"[{number}]",
        size=6.5,
        weight="bold",
        color=style.MARKER_EDGE,
        priority=10,
        radii_pt=(2.0, 6.0, 12.0, 20.0),
    )


def render_zoning_sheet(
    unit_code: str, layers: dict[str, gpd.GeoDataFrame], cfg: Config, pdf: Path
) -> SheetResult:
    """The zoning sheet of one cluster or lone geosite.

    Zone I and Zone II with their areas, the survey points, and the numbered
    boundary markers of both zones drawn on the map and listed in a table of
    VN-2000 coordinates (X northing, Y easting, metres). A table longer than
    the sheet continues on further pages of the same PDF.

    Parameters
    ----------
    unit_code
        The ``unit_code`` of ``protection_zones`` (cluster code or lone geosite code).
    layers
        The GeoPackage layers (see :func:`load_layers`).
    cfg
        The configuration (``[maps]`` settings).
    pdf
        Where to write the sheet.
    """
    zones = layers["protection_zones"]
    unit = zones[zones["unit_code"] == unit_code]
    if not len(unit):
        raise InputError(
            f"không có đơn vị khoanh vùng {unit_code}",
            f"no zoning unit {unit_code}",
            field="unit_code",
            fix="use a unit_code of the protection_zones layer",
            fix_vi="dùng một unit_code của lớp protection_zones",
        )
    parts = {zc: unit[unit["zone_class"] == zc] for zc in ("I", "II")}
    parts = {zc: part for zc, part in parts.items() if len(part)}
    areas = {zc: float(part["area_ha"].sum()) for zc, part in parts.items()}
    # the legal boundary: protection_zones is the polygon through these markers
    markers = unit_markers(layers["boundary_markers"], unit_code)
    zone_area = unit.union_all()
    codes = [s for s in str(unit.iloc[0]["geosite_codes"]).split(";") if s]
    sites = layers["geosites"][layers["geosites"]["geosite_code"].isin(codes)]
    sites = sites.sort_values("geosite_code")
    points = layers["survey_points"][layers["survey_points"]["geosite_code"].isin(codes)]
    content = shapely.union_all([zone_area, *sites.geometry, *points.geometry])
    unit_districts = layers["districts"][layers["districts"].intersects(zone_area)]
    with rc_context(rc_params()):
        m = _open_map(cfg, cfg.maps.zoning, "zoning", content.bounds, margin=0.08, min_margin_m=100)
        placed = _draw_zoning_map(m, layers, codes, areas, markers)
        crowded = _crowded_markers(m.ax, markers, placed)
        enlarged = _enlarge(cfg, layers, codes, areas, markers, crowded, m.extent.denominator)
        if enlarged:
            # drawn again: the markers numbered on an enlargement keep only their symbol here,
            # so the sheet's map is not a tangle of leader lines around a small unit
            elsewhere = {label for _, labels in enlarged for label in labels}
            m = _open_map(
                cfg, cfg.maps.zoning, "zoning", content.bounds, margin=0.08, min_margin_m=100
            )
            keep = {mk.label for mk in markers} - {
                mk.label for mk in crowded if mk.label in elsewhere
            }
            frames = [e.extent.bounds for e, _ in enlarged]
            placed = _draw_zoning_map(
                m, layers, codes, areas, markers, numbered=keep, frames=frames
            )
        cluster_code = unit.iloc[0].get("cluster_code")
        is_cluster = isinstance(cluster_code, str) and cluster_code != ""
        names = ", ".join(f"{s['geosite_code']} {_text(s['name_vi'])}" for _, s in sites.iterrows())
        title_vi, title_en = _zoning_titles(unit_code, is_cluster, sites)
        district_names = ", ".join(unit_districts["district_name"].astype(str))
        subtitle = f"{names} — {district_names}"
        site_lines = [_site_line(s) for _, s in sites.iterrows()]
        site_lines += [f"{len(points)} điểm khảo sát / survey points; {len(markers)} mốc / markers"]
        site_lines += [_status_line(unit.iloc[0])]
        numbered_later = {label for _, labels in enlarged for label in labels}
        for i, (big, labels) in enumerate(enlarged):
            # the enlargements follow page 1, before any continuation of the table
            site_lines += textwrap.wrap(
                f"Mốc dày: phóng to {i + 1}, tỷ lệ {format_scale(big.extent.denominator)}, "
                f"trang {i + 2} ({_label_ranges(labels)})",
                PANEL_LINE_CHARS,
            )
            site_lines += [
                f"crowded markers: enlargement {i + 1}, "
                f"scale {format_scale_en(big.extent.denominator)}, page {i + 2}"
            ]
        unlabelled = [
            mk.label
            for mk in crowded
            if mk.label not in numbered_later and mk.label in set(placed.dropped)
        ]
        if unlabelled:  # too dense to number without overlap: say so, the table has them all
            site_lines += [
                f"Mốc chưa ghi số trên bản đồ (quá dày) / markers not numbered on the map "
                f"(too dense), see the table: {', '.join(unlabelled)}"
            ]
        left = _panel_furniture(m, layers, cfg, [("ĐIỂM DI SẢN / Geosites", site_lines)])
        rows = _table_rows(markers)
        c = m.c
        table_title = "TỌA ĐỘ MỐC RANH GIỚI (VN-2000) / Boundary marker coordinates"
        c.page.text(left.x, left.top, table_title, fontsize=7.5, fontweight="bold", va="top")
        rest = _draw_table(c.page, Box(left.x, left.y, left.w, left.h - 5), rows)
        extra: list[_Canvas] = []
        while rest:
            e = _new_canvas(cfg.maps.zoning, "zoning")
            body = Box(
                e.layout.title.x,
                e.layout.footer.top + GAP_MM,
                e.layout.title.w,
                e.layout.title.y - GAP_MM - (e.layout.footer.top + GAP_MM),
            )
            e.page.text(
                body.x,
                body.top,
                table_title + " (tiếp theo / continued)",
                fontsize=8,
                fontweight="bold",
                va="top",
            )
            before = len(rest)
            rest = _draw_table(e.page, Box(body.x, body.y, body.w, body.h - 6), rest)
            if len(rest) == before:  # cannot happen with sane paper sizes; never loop forever
                break
            extra.append(e)
        for i, (big, labels) in enumerate(enlarged):
            _hillshade_entry(big)
            _panel_furniture(
                big,
                layers,
                cfg,
                [
                    (
                        f"PHÓNG TO {i + 1} / ENLARGEMENT {i + 1}",
                        [
                            f"Tỷ lệ trang này {format_scale(big.extent.denominator)}, "
                            f"tờ chính {format_scale(m.extent.denominator)} / this page "
                            f"{format_scale_en(big.extent.denominator)}, main sheet "
                            f"{format_scale_en(m.extent.denominator)}",
                            *textwrap.wrap(
                                "Mốc đánh số / markers numbered: " + _label_ranges(labels),
                                PANEL_LINE_CHARS,
                            ),
                            "Tọa độ mốc: bảng ở trang 1 / marker coordinates: table on page 1",
                        ],
                    )
                ],
            )
        enlargements = [
            Enlargement(
                page=i + 2,
                denominator=big.extent.denominator,
                extent=big.extent.bounds,
                map_frame_mm=(
                    big.c.layout.map.x,
                    big.c.layout.map.y,
                    big.c.layout.map.w,
                    big.c.layout.map.h,
                ),
                numbered=labels,
            )
            for i, (big, labels) in enumerate(enlarged)
        ]
        pages = [(c, m.extent), *((big.c, big.extent) for big, _ in enlarged)]
        pages += [(page, m.extent) for page in extra]
        canvases = [page for page, _ in pages]
        for i, (page, page_extent) in enumerate(pages, start=1):
            _finish_page(
                page,
                cfg,
                title_vi if page_extent is m.extent else f"{title_vi} — phóng to",
                title_en if page_extent is m.extent else f"{title_en} — enlargement",
                subtitle,
                page_extent,
                unit_code,
                i,
                len(pages),
                base=m.base,
            )
        _save([page.fig for page in canvases], pdf, f"{title_vi} / {title_en}", cfg)
    return _result(
        "zoning",
        unit_code,
        title_vi,
        title_en,
        m,
        pdf,
        placed.dropped,
        pages=len(canvases),
        markers=markers,
        enlargements=enlargements,
    )
