"""The topographic base under the sheets: roads, water, places, relief, boundaries.

Each ``[[maps.base]]`` entry of the configuration names a GDAL source (any
vector format; a GeoTIFF for ``kind = "dem"``), the layer inside it and what it
shows (its ``kind``). For every sheet the features inside the sheet's window
are read (a bounding-box filter in the source's own CRS), transformed to the
working CRS through :mod:`pipeline.crs`, clipped to the map frame and drawn in
the style of a national topographic base (:mod:`pipeline.maps.style`). Names
go to the collision-free label placer (:mod:`pipeline.maps.labels`) with a low
priority, so the park's own labels win. A user's detailed base (e.g. the
province's 1:10,000 topographic database) drops in by configuration only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from pipeline.config import BaseLayer, Maps
from pipeline.crs import to_crs, transform_xy
from pipeline.errors import InputError
from pipeline.maps import style
from pipeline.maps.hillshade import elevation_for_extent
from pipeline.maps.labels import LabelSpec
from pipeline.maps.scale import MapExtent, format_scale, format_scale_en
from pipeline.numbers import en_number, vi_number

#: Default (Vietnamese, English) legend names of each kind.
KIND_NAMES: dict[str, tuple[str, str]] = {
    "water": ("Sông, hồ", "River, lake"),
    "rivers": ("Sông, suối", "River, stream"),
    "roads": ("Đường giao thông", "Road"),
    "places": ("Điểm dân cư", "Settlement"),
    "contours": ("Đường bình độ", "Contour"),
    "dem": ("Đường bình độ (từ DEM)", "Contour (from the DEM)"),
    "peaks": ("Đỉnh núi", "Peak"),
    "caves": ("Cửa hang", "Cave entrance"),
    "boundaries": ("Ranh giới hành chính", "Administrative boundary"),
    "border": ("Biên giới quốc gia", "National border"),
}
#: Road classes drawn red with a black casing (national and provincial roads); others black.
MAJOR_ROAD_CLASSES = frozenset(
    {
        "motorway",
        "trunk",
        "primary",
        "secondary",
        "national",
        "provincial",
        "quốc lộ",
        "tỉnh lộ",
        "ql",
        "đt",
        "cao tốc",
    }
)
#: Contour interval (m) by the sheet's scale, as on the national topographic series.
CONTOUR_INTERVAL_M = ((10_000, 5.0), (25_000, 10.0), (50_000, 20.0), (100_000, 40.0))
_CAVE_MARKER = MplPath.arc(0, 180)  # an open arch: the cave-entrance sign
_BORDER_DASH = (0, (7, 2, 1, 2, 1, 2))
_ADMIN_DASH = (0, (5, 2, 1, 2))


@dataclass
class BaseDrawn:
    """What the base put on one sheet: legend entries, labels, obstacles, credits."""

    legend: list[tuple[Any, str, str]] = field(default_factory=list)
    labels: list[LabelSpec] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    attributions: list[str] = field(default_factory=list)
    coarse: list[tuple[str, str, int]] = field(default_factory=list)  # (name_vi, name_en, N)
    kinds: list[str] = field(default_factory=list)

    def notes(self) -> list[str]:
        """The footer lines: attribution, and a warning when the base is coarser than the sheet."""
        lines = []
        if self.attributions:
            credits = "; ".join(dict.fromkeys(self.attributions))
            lines.append(f"Nền địa hình / Topographic base: {credits}.")
        if self.coarse:
            worst = max(n for _, _, n in self.coarse)
            names_vi = ", ".join(dict.fromkeys(v for v, _, _ in self.coarse))
            names_en = ", ".join(dict.fromkeys(e for _, e, _ in self.coarse))
            lines.append(
                f"Nền sơ lược: {names_vi.lower()} có tỷ lệ nguồn đến {format_scale(worst)}, "
                "nhỏ hơn tỷ lệ tờ bản đồ; vị trí chỉ để tham khảo, không dùng để đo. / "
                f"Coarse base: {names_en.lower()} at source scales down to "
                f"{format_scale_en(worst)}, smaller than this sheet's; positions are "
                "approximate, not for measuring."
            )
        return lines


def _names(layer: BaseLayer) -> tuple[str, str]:
    vi, en = KIND_NAMES[layer.kind]
    return layer.name_vi or vi, layer.name_en or en


def _applies(layer: BaseLayer, denominator: int) -> bool:
    if layer.min_denominator is not None and denominator < layer.min_denominator:
        return False
    return layer.max_denominator is None or denominator <= layer.max_denominator


def _source_error(layer: BaseLayer, vi: str, en: str, fix: str, fix_vi: str, **kw) -> InputError:
    return InputError(vi, en, file=str(layer.path), fix=fix, fix_vi=fix_vi, **kw)


def _window_in(crs: pyproj.CRS, extent: MapExtent, working_crs: str) -> tuple[float, ...]:
    """The sheet's window as a bounding box in ``crs`` (edges densified, a little margin)."""
    xmin, ymin, xmax, ymax = extent.bounds
    t = np.linspace(0.0, 1.0, 9)
    xs = np.concatenate([xmin + (xmax - xmin) * t, np.full(9, xmax), xmax - (xmax - xmin) * t])
    ys = np.concatenate([np.full(9, ymin), ymin + (ymax - ymin) * t, np.full(9, ymax)])
    xs = np.concatenate([xs, np.full(9, xmin)])
    ys = np.concatenate([ys, ymax - (ymax - ymin) * t])
    x, y = transform_xy(xs, ys, working_crs, crs)
    dx, dy = (np.max(x) - np.min(x)) * 0.02, (np.max(y) - np.min(y)) * 0.02
    return (np.min(x) - dx, np.min(y) - dy, np.max(x) + dx, np.max(y) + dy)


def read_base_layer(layer: BaseLayer, extent: MapExtent, working_crs: str) -> gpd.GeoDataFrame:
    """The features of a vector base layer inside the sheet, in the working CRS, clipped.

    Raises
    ------
    InputError
        The source cannot be read, has no CRS, or lacks a configured field.
    """
    fix = "correct maps.base path/layer in geopark.toml (ogrinfo FILE lists the layers)"
    fix_vi = "sửa path/layer của maps.base trong geopark.toml (ogrinfo TỆP liệt kê các lớp)"
    if not layer.path.exists():
        raise _source_error(layer, "không tìm thấy lớp nền", "base layer not found", fix, fix_vi)
    try:
        info = pyogrio.read_info(layer.path, layer=layer.layer)
    except Exception as exc:  # pyogrio raises several GDAL error types
        raise _source_error(
            layer,
            f"không đọc được lớp nền {layer.layer or ''}".strip(),
            f"cannot read base layer {layer.layer or ''}: {exc}".strip(),
            fix,
            fix_vi,
        ) from None
    if not info.get("crs"):
        raise _source_error(
            layer,
            "lớp nền không có hệ tọa độ",
            "the base layer has no coordinate reference system",
            "assign its CRS (e.g. ogr2ogr -a_srs EPSG:4326 out.gpkg in.shp)",
            "gán hệ tọa độ cho lớp (ví dụ ogr2ogr -a_srs EPSG:4326 out.gpkg in.shp)",
        )
    wanted = [
        f for f in (layer.label_field, layer.class_field, layer.elevation_field) if f is not None
    ]
    for name in wanted:
        if name not in list(info["fields"]):
            raise _source_error(
                layer,
                f"lớp nền thiếu trường {name}",
                f"the base layer has no field {name}",
                f"name one of its fields: {', '.join(map(str, info['fields']))}",
                f"dùng một trong các trường: {', '.join(map(str, info['fields']))}",
                field=name,
            )
    source_crs = pyproj.CRS.from_user_input(info["crs"])
    frame = gpd.read_file(
        layer.path,
        layer=layer.layer,
        bbox=_window_in(source_crs, extent, working_crs),
        columns=wanted,
        engine="pyogrio",
    )
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if not len(frame):
        return frame.set_crs(working_crs, allow_override=True)
    frame = to_crs(frame, working_crs)
    clipped = shapely.clip_by_rect(frame.geometry.values, *extent.bounds)
    frame = frame.set_geometry(gpd.GeoSeries(clipped, index=frame.index, crs=frame.crs))
    return frame[~frame.geometry.is_empty]


def _label_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _line_anchor(geom: shapely.Geometry) -> tuple[float, float]:
    longest = max(getattr(geom, "geoms", [geom]), key=lambda g: g.length)
    p = longest.interpolate(0.5, normalized=True)
    return p.x, p.y


def _draw_lines(ax: Axes, geoms, colour: str, lw: float, z: float, **kw) -> None:
    gpd.GeoSeries(geoms).plot(ax=ax, color=colour, lw=lw, zorder=z, **kw)


def _contour_levels(elevations: np.ndarray) -> tuple[float, float]:
    """(interval, index interval) guessed from the contours' elevations."""
    values = np.unique(np.round(elevations[np.isfinite(elevations)], 3))
    steps = np.diff(values)
    interval = float(steps[steps > 0].min()) if (steps > 0).any() else 10.0
    return interval, interval


def _draw_vector(ax: Axes, layer: BaseLayer, frame: gpd.GeoDataFrame, drawn: BaseDrawn) -> bool:
    vi, en = _names(layer)
    geoms = frame.geometry
    kind = layer.kind
    dims = shapely.get_dimensions(geoms.values)
    labels = (
        [_label_text(v) for v in frame[layer.label_field]]
        if layer.label_field
        else [""] * len(frame)
    )
    if kind in ("water", "rivers"):
        areas, lines = geoms[dims == 2], geoms[dims == 1]
        if len(areas):
            gpd.GeoSeries(areas).plot(
                ax=ax,
                facecolor=style.WATER_FILL,
                edgecolor=style.WATER_LINE,
                lw=0.4,
                zorder=style.Z_BASE_FILL,
            )
            drawn.legend.append(
                (Patch(facecolor=style.WATER_FILL, edgecolor=style.WATER_LINE, lw=0.4), vi, en)
            )
        if len(lines):
            _draw_lines(ax, lines, style.WATER_LINE, 0.8, style.Z_BASE_LINE)
            drawn.legend.append((Line2D([], [], color=style.WATER_LINE, lw=0.8), vi, en))
        for geom, text in zip(geoms, labels, strict=True):
            if text:
                x, y = (
                    _line_anchor(geom)
                    if geom.geom_type.endswith("LineString")
                    else (
                        geom.representative_point().x,
                        geom.representative_point().y,
                    )
                )
                drawn.labels.append(
                    LabelSpec(x, y, text, size=6.5, style="italic", color=style.WATER_LABEL)
                )
    elif kind == "roads":
        classes = (
            frame[layer.class_field].astype(str).str.strip().str.lower()
            if layer.class_field
            else None
        )
        major = classes.isin(MAJOR_ROAD_CLASSES).to_numpy() if classes is not None else None
        minor_geoms = geoms[~major] if major is not None else geoms
        if major is not None and major.any():
            _draw_lines(ax, geoms[major], style.ROAD_CASING, 2.0, style.Z_BASE_LINE)
            _draw_lines(ax, geoms[major], style.ROAD_MAJOR, 1.2, style.Z_BASE_LINE + 0.01)
            drawn.legend.append(
                (
                    Line2D([], [], color=style.ROAD_MAJOR, lw=1.2),
                    f"{vi} – quốc lộ, tỉnh lộ",
                    f"{en} – national, provincial",
                )
            )
        if len(minor_geoms):
            _draw_lines(ax, minor_geoms, style.ROAD_MINOR, 0.6, style.Z_BASE_LINE)
            drawn.legend.append(
                (
                    Line2D([], [], color=style.ROAD_MINOR, lw=0.6),
                    f"{vi} – khác" if major is not None else vi,
                    f"{en} – other" if major is not None else en,
                )
            )
    elif kind in ("places", "peaks", "caves"):
        pts = [g.representative_point() if g.geom_type != "Point" else g for g in geoms]
        xs, ys = [p.x for p in pts], [p.y for p in pts]
        marker, colour, size = {
            "places": ("o", style.SETTLEMENT, 3.0),
            "peaks": ("^", style.PEAK, 4.0),
            "caves": (_CAVE_MARKER, style.CAVE, 5.0),
        }[kind]
        ax.scatter(
            xs,
            ys,
            marker=marker,
            s=size**2,
            c=colour if kind != "caves" else "none",
            edgecolors=colour,
            linewidths=0.9 if kind == "caves" else 0.3,
            zorder=style.Z_BASE_POINT,
        )
        drawn.legend.append(
            (
                Line2D(
                    [],
                    [],
                    marker=marker,
                    color=colour,
                    markerfacecolor=colour if kind != "caves" else "none",
                    markersize=size,
                    linestyle="none",
                ),
                vi,
                en,
            )
        )
        drawn.points += list(zip(xs, ys, strict=True))
        heights = (
            frame[layer.elevation_field].to_numpy()
            if layer.elevation_field
            else [None] * len(frame)
        )
        for x, y, text, h in zip(xs, ys, labels, heights, strict=True):
            if h is not None and np.isfinite(float(h)):
                text = f"{text} {vi_number(float(h))}".strip()
            if text:
                drawn.labels.append(
                    LabelSpec(
                        x,
                        y,
                        text,
                        size=7.0 if kind == "places" else 6.0,
                        style="normal" if kind == "places" else "italic",
                        color=colour,
                        priority=2 if kind == "places" else 1,
                        radii_pt=(3.0, 8.0),
                    )
                )
    elif kind == "contours":
        if layer.elevation_field is None:
            raise _source_error(
                layer,
                "lớp đường bình độ cần elevation_field",
                "a contours layer needs elevation_field",
                "set elevation_field to the field holding the height in metres",
                "đặt elevation_field là trường chứa độ cao (mét)",
            )
        z = frame[layer.elevation_field].astype(float).to_numpy()
        interval, _ = _contour_levels(z)
        index = np.isclose(np.mod(z, interval * layer.index_every), 0.0)
        _draw_contours(ax, geoms[~index], geoms[index], z[index], drawn, vi, en)
    elif kind in ("boundaries", "border"):
        colour, lw, dash = (
            (style.BORDER_LINE, 1.4, _BORDER_DASH)
            if kind == "border"
            else (style.ADMIN_LINE, 0.6, _ADMIN_DASH)
        )
        _draw_lines(ax, geoms, colour, lw, style.Z_BASE_LINE + 0.02, linestyle=dash)
        drawn.legend.append((Line2D([], [], color=colour, lw=lw, linestyle=dash), vi, en))
    return len(frame) > 0


def _draw_contours(ax, ordinary, index, index_z, drawn: BaseDrawn, vi: str, en: str) -> None:
    if len(ordinary):
        _draw_lines(ax, ordinary, style.CONTOUR, 0.3, style.Z_BASE_LINE)
    if len(index):
        _draw_lines(ax, index, style.CONTOUR, 0.7, style.Z_BASE_LINE)
        for geom, z in zip(index, index_z, strict=True):
            x, y = _line_anchor(geom)
            drawn.labels.append(LabelSpec(x, y, vi_number(z), size=6.0, color=style.CONTOUR))
    drawn.legend.append((Line2D([], [], color=style.CONTOUR, lw=0.3), vi, en))
    if len(index):
        drawn.legend.append(
            (
                Line2D([], [], color=style.CONTOUR, lw=0.7),
                "Đường bình độ cái (có ghi độ cao)",
                "Index contour (labelled)",
            )
        )


def contour_interval(denominator: int) -> float:
    """The national series' contour interval (m) for a sheet at 1:``denominator``."""
    for limit, interval in CONTOUR_INTERVAL_M:
        if denominator <= limit:
            return interval
    return 100.0


def _draw_dem(
    ax: Axes, layer: BaseLayer, extent: MapExtent, working_crs: str, drawn: BaseDrawn
) -> bool:
    grid = elevation_for_extent(
        layer.path, extent.bounds, working_crs, max_cells=600, field="maps.base.path"
    )
    if grid is None:
        return False
    interval = layer.contour_interval_m or contour_interval(extent.denominator)
    lo, hi = np.nanmin(grid), np.nanmax(grid)
    levels = np.arange(math.ceil(lo / interval) * interval, hi + interval / 2, interval)
    if not len(levels):
        return False
    rows, cols = grid.shape
    xs = np.linspace(extent.xmin, extent.xmax, cols)
    ys = np.linspace(extent.ymax, extent.ymin, rows)
    major = interval * layer.index_every
    is_index = np.isclose(np.mod(levels, major), 0.0)
    vi, en = _names(layer)
    ordinary = levels[~is_index]
    if len(ordinary):
        ax.contour(
            xs,
            ys,
            grid,
            levels=ordinary,
            colors=style.CONTOUR,
            linewidths=0.3,
            zorder=style.Z_BASE_LINE,
        )
    if is_index.any():
        cs = ax.contour(
            xs,
            ys,
            grid,
            levels=levels[is_index],
            colors=style.CONTOUR,
            linewidths=0.7,
            zorder=style.Z_BASE_LINE,
        )
        for level, segs in zip(cs.levels, cs.allsegs, strict=True):
            for seg in segs:
                if len(seg) > 10:
                    x, y = seg[len(seg) // 2]
                    drawn.labels.append(
                        LabelSpec(x, y, vi_number(level), size=6.0, color=style.CONTOUR)
                    )
    drawn.legend.append(
        (
            Line2D([], [], color=style.CONTOUR, lw=0.3),
            f"{vi}, khoảng cao đều {vi_number(interval, None)} m",
            f"{en}, interval {en_number(interval, None)} m",
        )
    )
    if is_index.any():
        drawn.legend.append(
            (
                Line2D([], [], color=style.CONTOUR, lw=0.7),
                "Đường bình độ cái (có ghi độ cao)",
                "Index contour (labelled)",
            )
        )
    return True


def draw_base(ax: Axes, layers: list[BaseLayer], extent: MapExtent, working_crs: str) -> BaseDrawn:
    """Draw the base layers that apply at the sheet's scale; returns what was drawn.

    Parameters
    ----------
    ax
        The map frame (working CRS, limits final).
    layers
        ``cfg.maps.base``, bottom first.
    extent
        The sheet's window and scale.
    working_crs
        The working CRS of the sheet.
    """
    drawn = BaseDrawn()
    for layer in layers:
        if not _applies(layer, extent.denominator):
            continue
        if layer.kind == "dem":
            shown = _draw_dem(ax, layer, extent, working_crs, drawn)
        else:
            frame = read_base_layer(layer, extent, working_crs)
            shown = len(frame) > 0 and _draw_vector(ax, layer, frame, drawn)
        if shown:
            drawn.kinds.append(layer.kind)
            drawn.attributions.append(layer.attribution)
            if layer.source_denominator and layer.source_denominator > extent.denominator:
                drawn.coarse.append((*_names(layer), layer.source_denominator))
    return drawn


def relief_dem(maps: Maps, denominator: int | None = None) -> tuple[Path, str] | None:
    """The DEM that gives the relief (hillshade) and the geosites' elevations.

    ``[maps] dem`` when set; otherwise the first ``[[maps.base]]`` layer of
    kind ``dem`` (that applies at 1:``denominator``, when given), so a DEM
    configured once as a base layer draws contours and hillshade and feeds the
    dossiers. Returns the path and the setting that names it (for messages),
    or None without a DEM.
    """
    if maps.dem is not None:
        return maps.dem, "maps.dem"
    for layer in maps.base:
        if layer.kind == "dem" and (denominator is None or _applies(layer, denominator)):
            return layer.path, "maps.base.path"
    return None
