"""Choosing a sheet's nominal scale and its ground extent.

A sheet states 1:N and measures 1:N on its paper: the map frame's ground
extent in metres divided by its size on paper in metres is N exactly, in
both directions. N is taken from the configured standard series: the largest
scale (smallest N) at which the content fits the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.errors import ConfigError
from pipeline.maps.paper import Box
from pipeline.numbers import en_number, vi_number

#: Grid intervals (metres) a sheet may use.
GRID_INTERVALS_M = (
    50,
    100,
    200,
    250,
    500,
    1_000,
    2_000,
    2_500,
    5_000,
    10_000,
    20_000,
    25_000,
    50_000,
    100_000,
)
#: The grid lines are at least this far apart on paper.
MIN_GRID_SPACING_MM = 20.0


@dataclass(frozen=True)
class MapExtent:
    """The ground window of a map frame (metres, EPSG:9215) and its scale."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    denominator: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        return self.xmin, self.ymin, self.xmax, self.ymax


def choose_scale(
    bounds: tuple[float, float, float, float],
    frame: Box,
    series: Sequence[int],
    *,
    margin: float = 0.05,
    min_margin_m: float = 0.0,
) -> int:
    """The smallest denominator of ``series`` at which ``bounds`` fit ``frame``.

    Parameters
    ----------
    bounds
        Content (minx, miny, maxx, maxy) in metres.
    frame
        The map frame on paper (mm).
    series
        Standard scale denominators.
    margin
        Room to leave around the content, as a share of its size on each side.
    min_margin_m
        ...and at least this many metres on each side.

    Raises
    ------
    ConfigError
        When no denominator of the series is large enough.
    """
    minx, miny, maxx, maxy = bounds
    dx = maxx - minx
    dy = maxy - miny
    pad_x = max(dx * margin, min_margin_m)
    pad_y = max(dy * margin, min_margin_m)
    need = max((dx + 2 * pad_x) / (frame.w / 1000.0), (dy + 2 * pad_y) / (frame.h / 1000.0))
    for n in sorted(series):
        if n >= need:
            return int(n)
    raise ConfigError(
        f"không tỷ lệ nào trong maps.scales đủ nhỏ cho nội dung (cần ≥ 1:{vi_number(need)})",
        f"no scale in maps.scales fits the content (needs at least 1:{en_number(need)})",
        field="maps.scales",
        fix=f"add a denominator of at least {en_number(need)} to maps.scales, or use larger paper",
        fix_vi=f"thêm mẫu số tỷ lệ ≥ {vi_number(need)} vào maps.scales, hoặc dùng khổ giấy lớn hơn",
    )


def extent_at_scale(
    bounds: tuple[float, float, float, float], frame: Box, denominator: int
) -> MapExtent:
    """The ground window centred on ``bounds`` that fills ``frame`` at 1:``denominator``."""
    minx, miny, maxx, maxy = bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    half_w = frame.w / 1000.0 * denominator / 2
    half_h = frame.h / 1000.0 * denominator / 2
    # whole metres at the centre keep the window's corners tidy numbers
    cx, cy = round(cx), round(cy)
    return MapExtent(cx - half_w, cy - half_h, cx + half_w, cy + half_h, denominator)


def grid_interval(denominator: int, min_spacing_mm: float = MIN_GRID_SPACING_MM) -> int:
    """The smallest standard grid interval at least ``min_spacing_mm`` apart on paper."""
    for step in GRID_INTERVALS_M:
        if step * 1000.0 / denominator >= min_spacing_mm:
            return step
    return GRID_INTERVALS_M[-1]


def format_scale(denominator: int) -> str:
    """``1:50.000`` — the Vietnamese way of writing a scale (dot thousands)."""
    return "1:" + vi_number(denominator)


def format_scale_en(denominator: int) -> str:
    """``1:50,000`` — the English way."""
    return "1:" + en_number(denominator)
