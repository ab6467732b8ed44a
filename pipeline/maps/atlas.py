"""The atlas's front matter: a cover, a contents page and a sheet index map.

The atlas is ``cover, contents (one or more pages), index map, then every
sheet``. The contents give each sheet's number, code, titles and the atlas
page it starts on; the index map outlines each sheet's frame on the park and
numbers it as the contents do.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from pipeline.config import Config
from pipeline.maps import furniture, style
from pipeline.maps.fonts import rc_params
from pipeline.maps.labels import LabelSpec, place_labels
from pipeline.maps.paper import GAP_MM, Box, page_for
from pipeline.report import SAMPLE_NOTE

TITLE_VI = "TẬP BẢN ĐỒ DI SẢN ĐỊA CHẤT VÀ KHOANH VÙNG BẢO VỆ"
TITLE_EN = "Atlas of geoheritage and protection zoning"
KIND_VI = {"overview": "Tổng quan", "district": "Huyện", "zoning": "Khoanh vùng"}
KIND_EN = {"overview": "Overview", "district": "District", "zoning": "Zoning"}
CONTENTS_ROW_MM = 5.2
CONTENTS_HEAD_MM = 34.0
#: Sheet frame colours on the index map, by kind (from the park's symbology).
FRAME_COLOUR = {
    "overview": style.GRID,
    "district": style.DISTRICT_EDGE,
    "zoning": style.ZONE_I_EDGE,
}


def contents_pages(n_sheets: int, page_height_mm: float) -> int:
    """How many pages the contents of ``n_sheets`` sheets take."""
    per_page = max(int((page_height_mm - CONTENTS_HEAD_MM - 20) // CONTENTS_ROW_MM), 1)
    return max(-(-n_sheets // per_page), 1)


def start_pages(sheets: list[dict[str, Any]], front_pages: int) -> list[int]:
    """The atlas page (1-based) on which each sheet starts, after ``front_pages``."""
    starts, page = [], front_pages + 1
    for sheet in sheets:
        starts.append(page)
        page += int(sheet["pages"])
    return starts


def _figure(cfg: Config):
    page = page_for(cfg.maps.overview)
    fig = Figure(figsize=page.figsize_in, dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, page.width_mm)
    ax.set_ylim(0, page.height_mm)
    ax.set_axis_off()
    return fig, ax, page


def _cover(cfg: Config, n_sheets: int, n_pages: int) -> Figure:
    fig, ax, page = _figure(cfg)
    w, h = page.width_mm, page.height_mm
    ax.add_patch(Rectangle((10, 10), w - 20, h - 20, fill=False, lw=1.5, ec=style.PARK_EDGE))
    ax.text(w / 2, h * 0.78, cfg.park.name_vi.upper(), fontsize=20, ha="center", va="center")
    furniture.fit_text(
        ax, w / 2, h * 0.62, TITLE_VI, w - 60, 26, 14, ha="center", va="center", fontweight="bold"
    )
    ax.text(
        w / 2,
        h * 0.54,
        f"{TITLE_EN} — {cfg.park.name_en}",
        fontsize=16,
        ha="center",
        va="center",
        fontstyle="italic",
    )
    ax.text(
        w / 2,
        h * 0.40,
        f"{n_sheets} tờ bản đồ, {n_pages} trang / {n_sheets} sheets, {n_pages} pages\n"
        "Hệ tọa độ VN-2000 / TM-3 107°15′, k = 0,9999 / "
        "Coordinate system VN-2000 / TM-3 107°15′, k = 0.9999",
        fontsize=11,
        ha="center",
        va="center",
        linespacing=1.6,
    )
    ax.text(
        w / 2,
        h * 0.22,
        f"Ngày lập / Date: {date.today():%d/%m/%Y}"
        + (f"\n{cfg.park.legal_basis}" if cfg.park.legal_basis else ""),
        fontsize=10,
        ha="center",
        va="center",
        linespacing=1.5,
    )
    if cfg.park.sample_data:
        ax.text(
            w / 2,
            h * 0.12,
            SAMPLE_NOTE,
            fontsize=9,
            ha="center",
            va="center",
            color=style.SAMPLE_NOTE_COLOUR,
            fontweight="bold",
        )
    return fig


def _contents(cfg: Config, sheets: list[dict[str, Any]], starts: list[int]) -> list[Figure]:
    figs: list[Figure] = []
    _, _, page = _figure(cfg)
    n_pages = contents_pages(len(sheets), page.height_mm)
    per_page = -(-len(sheets) // n_pages)
    for p in range(n_pages):
        fig, ax, page = _figure(cfg)
        w, h = page.width_mm, page.height_mm
        head = "MỤC LỤC / Contents" + (f" ({p + 1}/{n_pages})" if n_pages > 1 else "")
        ax.text(15, h - 15, head, fontsize=16, fontweight="bold", va="top")
        y = h - CONTENTS_HEAD_MM + 8
        for label, x, ha in (
            ("Số / No.", 15, "left"),
            ("Tờ / Sheet", 32, "left"),
            ("Tên tờ bản đồ / Sheet title", 62, "left"),
            ("Trang / Page", w - 15, "right"),
        ):
            ax.text(x, y, label, fontsize=8, fontweight="bold", va="top", ha=ha)
        ax.plot([15, w - 15], [y - 4.5, y - 4.5], lw=0.6, color="black")
        y -= 6.5
        for i in range(p * per_page, min((p + 1) * per_page, len(sheets))):
            s = sheets[i]
            ax.text(15, y, f"{i + 1}", fontsize=8, va="top")
            ax.text(32, y, s["code"], fontsize=8, va="top")
            furniture.fit_text(
                ax, 62, y, f"{s['title_vi']} / {s['title_en']}", w - 62 - 40, 7.5, 6, va="top"
            )
            ax.text(w - 15, y, f"{starts[i]}", fontsize=8, va="top", ha="right")
            y -= CONTENTS_ROW_MM
        figs.append(fig)
    return figs


def _index_map(
    cfg: Config, sheets: list[dict[str, Any]], layers: dict[str, gpd.GeoDataFrame]
) -> Figure:
    fig, ax, page = _figure(cfg)
    w, h = page.width_mm, page.height_mm
    ax.text(15, h - 12, "SƠ ĐỒ CHẮP TỜ / Sheet index map", fontsize=16, fontweight="bold", va="top")
    ax.text(
        15,
        h - 20,
        "Khung của mỗi tờ bản đồ và số thứ tự của tờ trong mục lục / "
        "The frame of every sheet, numbered as in the contents",
        fontsize=8,
        va="top",
    )
    frame = Box(15, 15, w - 30, h - 15 - 28 - GAP_MM)
    districts, park = layers["districts"], layers["park_extent"]
    boxes = [shapely.box(*s["extent_m"]) for s in sheets if s["kind"] != "overview"]
    minx, miny, maxx, maxy = shapely.union_all([*park.geometry, *boxes]).bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    gw, gh = (maxx - minx) * 1.06, (maxy - miny) * 1.06
    if gw / gh > frame.w / frame.h:
        gh = gw * frame.h / frame.w
    else:
        gw = gh * frame.w / frame.h
    map_ax = fig.add_axes([frame.x / w, frame.y / h, frame.w / w, frame.h / h])
    map_ax.set_xlim(cx - gw / 2, cx + gw / 2)
    map_ax.set_ylim(cy - gh / 2, cy + gh / 2)
    map_ax.set_aspect("auto")
    map_ax.set_xticks([])
    map_ax.set_yticks([])
    districts.plot(ax=map_ax, facecolor="white", edgecolor=style.DISTRICT_EDGE, lw=0.4)
    park.plot(ax=map_ax, facecolor=style.PARK_FILL, edgecolor=style.PARK_EDGE, lw=1.0)
    specs = []
    for i, s in enumerate(sheets, start=1):
        if s["kind"] == "overview":
            continue  # the overview covers the whole park: it is the index map's own extent
        x0, y0, x1, y1 = s["extent_m"]
        colour = FRAME_COLOUR[s["kind"]]
        lw = 0.9 if s["kind"] == "zoning" else 0.6
        map_ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec=colour, lw=lw))
        specs.append(
            LabelSpec(
                x0,
                y1,
                str(i),
                size=9 if s["kind"] == "zoning" else 11,
                weight="bold",
                color=colour,
                priority=5 if s["kind"] == "zoning" else 8,
                radii_pt=(2.0, 8.0, 16.0, 26.0, 40.0, 60.0),
            )
        )
    map_ax.set_xlabel("")
    map_ax.set_ylabel("")
    placed = place_labels(map_ax, fig.canvas.get_renderer(), specs)
    note = "Tờ 1 (tổng quan) phủ toàn bộ công viên / Sheet 1 (overview) covers the whole park"
    if placed.dropped:
        note += f"; không ghi được số / numbers not shown: {', '.join(placed.dropped)}"
    ax.text(15, 10, note, fontsize=7, va="bottom")
    return fig


def render_front_matter(
    cfg: Config,
    sheets: list[dict[str, Any]],
    layers: dict[str, gpd.GeoDataFrame],
    pdf: Path,
) -> tuple[int, list[int]]:
    """Cover, contents and index map into ``pdf``; returns (its pages, each sheet's start page).

    ``sheets`` are the index entries (:meth:`SheetResult.as_dict`) in atlas order.
    """
    page = page_for(cfg.maps.overview)
    front = 1 + contents_pages(len(sheets), page.height_mm) + 1
    starts = start_pages(sheets, front)
    total = front + sum(int(s["pages"]) for s in sheets)
    with rc_context(rc_params()):
        figs = [_cover(cfg, len(sheets), total), *_contents(cfg, sheets, starts)]
        figs.append(_index_map(cfg, sheets, layers))
        meta = {"Title": f"{TITLE_VI} / {TITLE_EN}", "Creator": "langson-geopark pipeline"}
        with PdfPages(pdf, metadata=meta) as out:
            for fig in figs:
                out.savefig(fig)
    return front, starts
