"""The sheet furniture drawn on the page in millimetres: title block, footer,
scale statement and scale bar, north arrow, locator inset, legend, lists.

All of it lives on one "page axes" spanning the whole sheet whose data units
are millimetres on paper, so a scale bar of L metres on the ground is drawn
exactly L / N metres long on paper.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import pyproj
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch
from matplotlib.patches import Rectangle

from pipeline.crs import transform_xy
from pipeline.maps import style
from pipeline.maps.paper import MM_PER_INCH, Box, Layout
from pipeline.maps.scale import MapExtent, format_scale, format_scale_en
from pipeline.numbers import en_number, vi_number


def page_axes(fig: Figure, layout: Layout) -> Axes:
    """An invisible axes over the whole page, in millimetres."""
    ax = fig.add_axes([0, 0, 1, 1], zorder=-1)
    ax.set_xlim(0, layout.page.width_mm)
    ax.set_ylim(0, layout.page.height_mm)
    ax.set_axis_off()
    return ax


def height_mm(artist: Artist, renderer: RendererBase) -> float:
    box = artist.get_window_extent(renderer)
    return box.height * MM_PER_INCH / artist.figure.dpi


def _width_mm(artist: Artist, renderer: RendererBase) -> float:
    return artist.get_window_extent(renderer).width * MM_PER_INCH / artist.figure.dpi


def fit_text(
    ax: Axes, x: float, y: float, text: str, width_mm: float, size: float, min_size: float, **kw
):
    """``text`` at ``size`` pt, shrunk down to ``min_size`` and then wrapped to fit ``width_mm``.

    Never cut: a text too long for one line at ``min_size`` goes onto several.
    """
    renderer = ax.figure.canvas.get_renderer()
    t = ax.text(x, y, text, fontsize=size, **kw)
    while _width_mm(t, renderer) > width_mm and size - 0.5 >= min_size:
        size -= 0.5
        t.set_fontsize(size)
    if _width_mm(t, renderer) <= width_mm:
        return t
    lines: list[str] = []
    for word in text.split(" "):
        trial = f"{lines[-1]} {word}" if lines else word
        t.set_text(trial)
        if lines and _width_mm(t, renderer) <= width_mm:
            lines[-1] = trial
        elif not lines:
            lines.append(word)
        else:
            lines.append(word)
    t.set_text("\n".join(lines))
    return t


def title_block(
    ax: Axes, box: Box, title_vi: str, title_en: str, subtitle: str, right_lines: list[str]
) -> None:
    """Vietnamese title, the English beneath, a subtitle; scale and date at the right.

    Long titles shrink (Vietnamese down to 10 pt, English 8 pt, subtitle 6 pt)
    and then wrap; they are never cut off.
    """
    renderer = ax.figure.canvas.get_renderer()
    ax.add_patch(Rectangle((box.x, box.y), box.w, box.h, fill=False, lw=0.8, ec="black"))
    right_w = 0.0
    for i, line in enumerate(right_lines):
        t = ax.text(
            box.right - 4,
            box.top - 4 - i * 5,
            line,
            fontsize=8.5 if i else 10,
            fontweight="bold" if i == 0 else "normal",
            ha="right",
            va="top",
        )
        right_w = max(right_w, _width_mm(t, renderer))
    width = box.w - 8 - right_w - 6
    y = box.top - 3
    vi = fit_text(ax, box.x + 4, y, title_vi, width, 14, 10, fontweight="bold", va="top")
    y -= height_mm(vi, renderer) + 1.2
    en = fit_text(ax, box.x + 4, y, title_en, width, 10, 8, fontstyle="italic", va="top")
    y -= height_mm(en, renderer) + 1.0
    fit_text(
        ax,
        box.x + 4,
        max(y, box.y + 2),
        subtitle,
        width,
        8,
        6,
        va="top",
        color="#333333",
        linespacing=1.1,
    )


def footer(ax: Axes, box: Box, lines: list[str], sample_note: str | None) -> None:
    """Coordinate system, sources and date; the sample-data note in red when it applies."""
    ax.plot([box.x, box.right], [box.top, box.top], lw=0.5, color="black")
    y = box.top - 1.5
    if sample_note:
        ax.text(
            box.x,
            y,
            sample_note,
            fontsize=7,
            va="top",
            fontweight="bold",
            color=style.SAMPLE_NOTE_COLOUR,
        )
        y -= 3.3
    for line in lines:
        ax.text(box.x, y, line, fontsize=6, va="top", color="#222222")
        y -= 3.0


@dataclass(frozen=True)
class ScaleBar:
    """A scale bar: its ground length, segment count, and the unit it is labelled in."""

    ground_m: float
    segments: int
    unit: str  # "km" or "m"

    def paper_mm(self, denominator: int) -> float:
        return self.ground_m * 1000.0 / denominator


def choose_scale_bar(denominator: int, max_mm: float) -> ScaleBar:
    """The longest round ground length (1, 2 or 5 x 10^k m) whose bar fits ``max_mm``."""
    best = None
    for exp in range(0, 7):
        for mant, segs in ((1, 5), (2, 4), (5, 5)):
            ground = mant * 10**exp
            if ground * 1000.0 / denominator <= max_mm:
                best = (ground, segs)
    ground, segs = best or (1, 5)
    return ScaleBar(float(ground), segs, "km" if ground >= 1000 else "m")


def _unit_value(value_m: float, unit: str) -> str:
    v = value_m / 1000.0 if unit == "km" else value_m
    return vi_number(v, 0 if float(v).is_integer() else 1)


def scale_block(
    ax: Axes,
    x: float,
    top: float,
    width: float,
    extent: MapExtent,
    crs: str,
) -> float:
    """Scale statement, scale bar and north arrow; returns the height used (mm)."""
    n = extent.denominator
    ax.text(x, top, f"TỶ LỆ {format_scale(n)}", fontsize=11, fontweight="bold", va="top")
    ax.text(x, top - 5.2, f"Scale {format_scale_en(n)}", fontsize=8, fontstyle="italic", va="top")
    bar = choose_scale_bar(n, max_mm=width - 28)
    length = bar.paper_mm(n)
    seg = length / bar.segments
    y0, h = top - 15.5, 1.8
    for i in range(bar.segments):
        ax.add_patch(
            Rectangle(
                (x + i * seg, y0), seg, h, lw=0.4, ec="black", fc="black" if i % 2 == 0 else "white"
            )
        )
    for i in range(bar.segments + 1):
        label = _unit_value(i * bar.ground_m / bar.segments, bar.unit)
        if i == bar.segments:
            label = f"{label} {bar.unit}"
        ax.text(x + i * seg, y0 - 1.0, label, fontsize=6.5, ha="center", va="top")
    north_arrow(ax, x + width - 9, top - 2, extent, crs)
    gamma = convergence_deg(extent, crs)
    vi, en = convergence_note(gamma)
    ax.text(x, y0 - 5.0, f"{vi}\n{en}.", fontsize=6, va="top", color="#333333", linespacing=1.15)
    return 30.0


def convergence_deg(extent: MapExtent, crs: str) -> float:
    """Meridian convergence at the sheet centre: the grid bearing of true north, degrees.

    Positive when true north lies east of grid north (the sheet west of the
    central meridian), negative when it lies west.
    """
    proj_crs = pyproj.CRS.from_user_input(crs)
    cx, cy = (extent.xmin + extent.xmax) / 2, (extent.ymin + extent.ymax) / 2
    lon, lat = transform_xy(cx, cy, proj_crs, proj_crs.geodetic_crs)
    # a step along the meridian, measured on the grid: its bearing is true north's
    x2, y2 = transform_xy(lon, lat + 0.01, proj_crs.geodetic_crs, proj_crs)
    return math.degrees(math.atan2(float(x2) - cx, float(y2) - cy))


def convergence_note(gamma: float) -> tuple[str, str]:
    """Where true north lies from grid north, in Vietnamese and English."""
    side_vi, side_en = ("đông", "east") if gamma >= 0 else ("tây", "west")
    return (
        f"Bắc thực lệch {vi_number(abs(gamma), 2)}° về phía {side_vi} so với bắc lưới",
        f"true north is {en_number(abs(gamma), 2)}° {side_en} of grid north",
    )


def north_arrow(ax: Axes, cx: float, top: float, extent: MapExtent, crs: str) -> None:
    """A two-tone arrow to grid north."""
    h, w = 12.0, 3.2
    base = top - 4 - h
    tip = (cx, base + h)
    ax.add_patch(
        PolygonPatch(
            [tip, (cx - w, base), (cx, base + 3)], closed=True, fc="black", ec="black", lw=0.5
        )
    )
    ax.add_patch(
        PolygonPatch(
            [tip, (cx + w, base), (cx, base + 3)], closed=True, fc="white", ec="black", lw=0.5
        )
    )
    ax.text(cx, top, "B / N", fontsize=8, fontweight="bold", ha="center", va="top")
    ax.text(
        cx,
        base - 1,
        "Bắc lưới\ngrid north",
        fontsize=6,
        ha="center",
        va="top",
        color="#333333",
        linespacing=1.1,
    )


def locator(
    fig: Figure,
    layout: Layout,
    box: Box,
    districts: gpd.GeoDataFrame,
    park: gpd.GeoDataFrame,
    extent: MapExtent,
    ax_page: Axes,
) -> Axes:
    """The locator inset: the province's districts, the park, and this sheet's window in red."""
    ax_page.text(
        box.x, box.top, "SƠ ĐỒ VỊ TRÍ / Location", fontsize=7.5, fontweight="bold", va="top"
    )
    inner = Box(box.x, box.y, box.w, box.h - 5)
    ax = fig.add_axes(layout.page.fraction(inner))
    districts.plot(ax=ax, facecolor="white", edgecolor="#969696", linewidth=0.3)
    park.plot(ax=ax, facecolor=style.PARK_FILL, edgecolor=style.PARK_EDGE, linewidth=0.6)
    ax.add_patch(
        Rectangle(
            (extent.xmin, extent.ymin),
            extent.xmax - extent.xmin,
            extent.ymax - extent.ymin,
            fill=False,
            ec="#e31a1c",
            lw=1.0,
            zorder=5,
        )
    )
    minx, miny, maxx, maxy = districts.total_bounds
    minx, miny = min(minx, extent.xmin), min(miny, extent.ymin)
    maxx, maxy = max(maxx, extent.xmax), max(maxy, extent.ymax)
    # widen the window to the inset's proportions so the inset is true to shape
    cx, cy, w, h = (minx + maxx) / 2, (miny + maxy) / 2, (maxx - minx) * 1.04, (maxy - miny) * 1.04
    if w / h > inner.w / inner.h:
        h = w * inner.h / inner.w
    else:
        w = h * inner.w / inner.h
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)
    ax.set_aspect("auto")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_linewidth(0.5)
    return ax


def legend_block(
    ax: Axes,
    x: float,
    top: float,
    handles: list,
    labels: list[str],
    renderer: RendererBase,
    title: str = "CHÚ GIẢI / Legend",
    ncol: int = 1,
) -> float:
    """The legend of what is drawn on this sheet; returns the height used (mm)."""
    ax.text(x, top, title, fontsize=7.5, fontweight="bold", va="top")
    leg = ax.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(x, top - 3.5),
        bbox_transform=ax.transData,
        frameon=False,
        fontsize=6.5,
        handlelength=2.2,
        handleheight=1.6,
        labelspacing=0.55,
        borderaxespad=0,
        borderpad=0,
        ncol=ncol,
        columnspacing=1.2,
    )
    return 3.5 + height_mm(leg, renderer) + 3


def text_list(
    ax: Axes,
    x: float,
    top: float,
    title: str,
    lines: list[str],
    renderer: RendererBase,
    size: float = 6.5,
) -> float:
    """A titled list of lines (e.g. geosite codes and names); returns the height used (mm)."""
    ax.text(x, top, title, fontsize=7.5, fontweight="bold", va="top")
    body = ax.text(x, top - 4, "\n".join(lines), fontsize=size, va="top", linespacing=1.35)
    return 4 + height_mm(body, renderer) + 3
