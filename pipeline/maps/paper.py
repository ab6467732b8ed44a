"""Paper sizes and the layout of a sheet, all in millimetres on paper.

Everything that must be true on paper (the map frame's size, hence the
scale) is decided here in millimetres, then turned into figure fractions.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.config import SheetPaper

MM_PER_INCH = 25.4

#: ISO 216 sizes, portrait (width, height) in mm.
PAPER_MM = {"A4": (210.0, 297.0), "A3": (297.0, 420.0)}

MARGIN_MM = 10.0
TITLE_MM = 26.0
FOOTER_MM = 20.0  # sample note, projection, sources, base credits and coarse note, date
GRID_LABEL_MM = 7.0  # room for grid labels around the map frame
GAP_MM = 5.0


@dataclass(frozen=True)
class Box:
    """A rectangle on the page: left and bottom edge, width, height (mm)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def top(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w


@dataclass(frozen=True)
class Page:
    """A sheet of paper of a given size and orientation."""

    name: str
    width_mm: float
    height_mm: float

    @property
    def figsize_in(self) -> tuple[float, float]:
        return self.width_mm / MM_PER_INCH, self.height_mm / MM_PER_INCH

    def fraction(self, box: Box) -> list[float]:
        """``box`` as matplotlib figure fractions [left, bottom, width, height]."""
        return [
            box.x / self.width_mm,
            box.y / self.height_mm,
            box.w / self.width_mm,
            box.h / self.height_mm,
        ]

    @property
    def label(self) -> str:
        orient = "ngang / landscape" if self.width_mm > self.height_mm else "dọc / portrait"
        return f"{self.name} {orient}"


def page_for(paper: SheetPaper) -> Page:
    """The page of a configured paper size and orientation."""
    w, h = PAPER_MM[paper.paper]
    if paper.orientation == "landscape":
        w, h = h, w
    return Page(paper.paper, w, h)


@dataclass(frozen=True)
class Layout:
    """Where each part of a sheet goes.

    ``map`` is the map frame (its size on paper fixes the scale); ``panel`` holds
    the locator, legend, scale and (zoning sheets) the vertex table, to the
    right of the map on landscape paper and below it on portrait paper.
    """

    page: Page
    title: Box
    footer: Box
    map: Box
    panel: Box

    @property
    def panel_is_side(self) -> bool:
        return self.panel.h > self.panel.w


def layout_for(page: Page, panel_mm: float) -> Layout:
    """Split ``page`` into title block, map frame, panel and footer.

    Parameters
    ----------
    page
        The paper.
    panel_mm
        Width of the side panel (landscape) or height of the bottom panel (portrait).
    """
    inner_w = page.width_mm - 2 * MARGIN_MM
    title = Box(MARGIN_MM, page.height_mm - MARGIN_MM - TITLE_MM, inner_w, TITLE_MM)
    footer = Box(MARGIN_MM, MARGIN_MM, inner_w, FOOTER_MM)
    body_bottom = footer.top + GAP_MM
    body_top = title.y - GAP_MM
    g = GRID_LABEL_MM
    if page.width_mm >= page.height_mm:
        panel = Box(
            page.width_mm - MARGIN_MM - panel_mm, body_bottom, panel_mm, body_top - body_bottom
        )
        map_box = Box(
            MARGIN_MM + g,
            body_bottom + g,
            panel.x - GAP_MM - g - (MARGIN_MM + g),
            body_top - g - (body_bottom + g),
        )
    else:
        panel = Box(MARGIN_MM, body_bottom, inner_w, panel_mm)
        map_box = Box(
            MARGIN_MM + g,
            panel.top + GAP_MM + g,
            inner_w - 2 * g,
            body_top - g - (panel.top + GAP_MM + g),
        )
    # whole tenths of a millimetre keep the stated scale exact in the PDF's own units
    map_box = Box(*(round(v, 1) for v in (map_box.x, map_box.y, map_box.w, map_box.h)))
    return Layout(page, title, footer, map_box, panel)
