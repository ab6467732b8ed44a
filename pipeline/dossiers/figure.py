"""The dossier's own map: drawn for an A4 portrait page, true to its scale there.

The zoning sheets are A3 and shrink to less than half their size on a dossier
page, so their stated scale is no longer true and their text is too small.
The dossier map is drawn at the size it is printed (:data:`FIGURE_MM`, the
width of the A4 page's text block): its map frame measures exactly
1:N at that size, with N from ``[maps] scales`` (the largest scale at which
the unit's zones fit), its scale bar, legend and boundary-marker numbers at
6 pt or more. The dossier shows it at exactly :data:`FIGURE_MM`; the marker
coordinates are listed in a table of the dossier's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib
import shapely

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from pipeline.maps import style
from pipeline.maps.furniture import choose_scale_bar
from pipeline.maps.labels import LabelSpec, place_labels, point_obstacles
from pipeline.maps.paper import Box
from pipeline.maps.scale import (
    MapExtent,
    choose_scale,
    extent_at_scale,
    format_scale,
    format_scale_en,
)
from pipeline.maps.vertices import Marker
from pipeline.numbers import en_number, vi_number

MM_PER_INCH = 25.4
#: The printed size of the dossier map (mm): the text block of A4 portrait
#: with 14 mm side margins (pipeline/dossiers/templates/base.html.j2).
FIGURE_MM = (180.0, 170.0)
#: The map frame inside the figure (mm from the figure's bottom-left corner).
MAP_FRAME = Box(0.0, 40.0, 180.0, 130.0)
#: The smallest text on the dossier map (pt).
MIN_TEXT_PT = 6.5
#: Scale-bar segments are drawn with this gid so a test can find them.
SCALE_BAR_GID = "scale-bar"


@dataclass(frozen=True)
class DossierMap:
    """What :func:`draw_dossier_map` drew: the files, the scale and the bar."""

    png: Path
    pdf: Path
    denominator: int
    bar_ground_m: float
    bar_paper_mm: float
    width_mm: float
    height_mm: float
    labels_dropped: tuple[str, ...] = ()


def _mm_axes(fig: plt.Figure, box: Box) -> plt.Axes:
    w, h = FIGURE_MM
    return fig.add_axes((box.x / w, box.y / h, box.w / w, box.h / h))


def _scale_label(value_m: float, unit: str, vi: bool) -> str:
    v = value_m / 1000.0 if unit == "km" else value_m
    digits = 0 if float(v).is_integer() else 1
    return vi_number(v, digits) if vi else en_number(v, digits)


def draw_dossier_map(
    *,
    code: str,
    geosites: gpd.GeoDataFrame,
    zone_i: gpd.GeoDataFrame,
    zone_ii: gpd.GeoDataFrame,
    markers: Sequence[Marker],
    scales: Sequence[int],
    png: Path,
    pdf: Path,
    dpi: int = 200,
) -> DossierMap:
    """Draw the dossier map of geosite ``code`` (its unit's zones and geosites).

    Parameters
    ----------
    code
        The dossier's geosite (drawn larger, labelled).
    geosites
        The unit's geosites (EPSG:9215), with ``geosite_code`` and ``category``.
    zone_i, zone_ii
        The unit's legal Zone I and Zone II polygons.
    markers
        The unit's boundary markers (numbers drawn on the map).
    scales
        The standard scale denominators (``[maps] scales``).
    png, pdf
        Where to write the figure (PNG for the page, PDF at print size).
    """
    geoms = [*zone_ii.geometry.values, *zone_i.geometry.values, *geosites.geometry.values]
    bounds = tuple(shapely.total_bounds(shapely.union_all(geoms)))
    frame = MAP_FRAME
    denominator = choose_scale(bounds, frame, scales, min_margin_m=50.0)
    extent: MapExtent = extent_at_scale(bounds, frame, denominator)
    width_mm, height_mm = FIGURE_MM
    with matplotlib.rc_context(
        {"text.parse_math": False, "text.usetex": False, "pdf.fonttype": 42}
    ):
        fig = plt.figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH))
        ax = _mm_axes(fig, frame)
        ax.set_xlim(extent.xmin, extent.xmax)
        ax.set_ylim(extent.ymin, extent.ymax)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
        if len(zone_ii):
            zone_ii.plot(
                ax=ax, facecolor=style.ZONE_II_FILL, edgecolor=style.ZONE_II_EDGE, lw=0.9, alpha=0.6
            )
        if len(zone_i):
            zone_i.plot(
                ax=ax, facecolor=style.ZONE_I_FILL, edgecolor=style.ZONE_I_EDGE, lw=0.9, alpha=0.6
            )
        ax.set_xlabel("")
        ax.set_ylabel("")
        specs = []
        for _, site in geosites.iterrows():
            marker, colour, _, _ = style.category_style(str(site["category"]))
            own = site["geosite_code"] == code
            ax.plot(
                site.geometry.x,
                site.geometry.y,
                marker=marker,
                color=colour,
                markeredgecolor="white" if own else "black",
                markersize=11 if own else 7,
                linestyle="none",
                zorder=style.Z_POINT,
            )
            specs.append(
                LabelSpec(
                    site.geometry.x,
                    site.geometry.y,
                    str(site["geosite_code"]),
                    size=8 if own else 7,
                    weight="bold" if own else "normal",
                    priority=100 if own else 50,
                )
            )
        for mk in markers:
            ax.plot(
                mk.y_easting,
                mk.x_northing,
                marker="o",
                markerfacecolor="white",
                markeredgecolor=style.MARKER_EDGE,
                markersize=3.5,
                linestyle="none",
                zorder=style.Z_POINT,
            )
            specs.append(
                LabelSpec(mk.y_easting, mk.x_northing, mk.label, size=MIN_TEXT_PT, color="#333333")
            )
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        obstacles = point_obstacles(
            ax, [(g.x, g.y) for g in geosites.geometry.values], 5.0
        ) + point_obstacles(ax, [(mk.y_easting, mk.x_northing) for mk in markers], 1.8)
        placement = place_labels(ax, renderer, specs, obstacles)
        # the furniture strip below the map, in millimetres of the page
        strip = fig.add_axes((0, 0, 1, (frame.y - 2) / height_mm))
        strip.set_xlim(0, width_mm)
        strip.set_ylim(0, frame.y - 2)
        strip.axis("off")
        strip.text(
            0,
            frame.y - 5,
            f"TỶ LỆ {format_scale(denominator)}",
            fontsize=10,
            fontweight="bold",
            va="top",
        )
        strip.text(
            0,
            frame.y - 10,
            f"Scale {format_scale_en(denominator)}",
            fontsize=8,
            fontstyle="italic",
            va="top",
        )
        bar = choose_scale_bar(denominator, max_mm=70.0)
        length = bar.paper_mm(denominator)
        seg = length / bar.segments
        y0 = frame.y - 19
        for i in range(bar.segments):
            strip.add_patch(
                Rectangle(
                    (2 + i * seg, y0),
                    seg,
                    1.8,
                    lw=0.4,
                    ec="black",
                    fc="black" if i % 2 == 0 else "white",
                    gid=SCALE_BAR_GID,
                )
            )
        for i in range(bar.segments + 1):
            ground = i * bar.ground_m / bar.segments
            label = _scale_label(ground, bar.unit, vi=True)
            if i == bar.segments:
                label = f"{label} {bar.unit}"
            strip.text(2 + i * seg, y0 - 1.2, label, fontsize=7, ha="center", va="top")
        strip.text(
            0,
            6,
            "VN-2000 / TM-3 107°15′, k = 0,9999 (EPSG:9215)",
            fontsize=7,
            va="bottom",
        )
        hidden = len(placement.dropped)
        strip.text(
            0,
            1.5,
            "Số mốc giới: bảng tọa độ trong hồ sơ / marker numbers: coordinate table in the dossier"
            + (
                f" ({hidden} số không đủ chỗ trên bản đồ / {hidden} not shown for lack of room)"
                if hidden
                else ""
            ),
            fontsize=MIN_TEXT_PT,
            va="bottom",
            color="#333333",
        )
        handles = [
            Patch(fc=style.ZONE_I_FILL, ec=style.ZONE_I_EDGE, alpha=0.6, label="Vùng I / Zone I"),
            Patch(
                fc=style.ZONE_II_FILL, ec=style.ZONE_II_EDGE, alpha=0.6, label="Vùng II / Zone II"
            ),
            Line2D(
                [],
                [],
                marker="o",
                markerfacecolor="white",
                markeredgecolor="black",
                linestyle="none",
                label="Mốc giới / boundary marker",
            ),
        ]
        for category in sorted(set(geosites["category"].astype(str))):
            marker, colour, vi, en = style.category_style(category)
            handles.append(
                Line2D([], [], marker=marker, color=colour, linestyle="none", label=f"{vi} / {en}")
            )
        strip.legend(
            handles=handles,
            loc="upper right",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=7,
            ncols=2,
            frameon=False,
            title="Chú giải / Legend",
            title_fontsize=8,
        )
        png.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(png, dpi=dpi)
        fig.savefig(pdf)
        plt.close(fig)
    return DossierMap(
        png=png,
        pdf=pdf,
        denominator=denominator,
        bar_ground_m=bar.ground_m,
        bar_paper_mm=length,
        width_mm=width_mm,
        height_mm=height_mm,
        labels_dropped=tuple(placement.dropped),
    )
