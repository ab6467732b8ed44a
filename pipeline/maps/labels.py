"""Label placement that avoids collisions.

A greedy placer in the cartographic tradition: labels are placed in order of
priority; each tries candidate positions around its anchor (right-above
first, the way map makers prefer), then further out with a leader line. A
position is taken only if the label's box lies inside the map frame and
overlaps no symbol and no label placed before. A label with nowhere to go is
left out and counted, never printed over another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.text import Annotation
from matplotlib.transforms import Bbox

from pipeline.maps.style import Z_LABEL

# (dx, dy) unit directions with the text alignment that keeps the text on that side
_DIRECTIONS = [
    ((1, 1), "left", "bottom"),
    ((1, 0), "left", "center"),
    ((1, -1), "left", "top"),
    ((-1, 1), "right", "bottom"),
    ((-1, 0), "right", "center"),
    ((-1, -1), "right", "top"),
    ((0, 1), "center", "bottom"),
    ((0, -1), "center", "top"),
]
_LEADER = {"arrowstyle": "-", "lw": 0.4, "color": "#404040", "shrinkA": 1, "shrinkB": 2.5}


@dataclass
class LabelSpec:
    """A label to place at a data position ``(x, y)``."""

    x: float
    y: float
    text: str
    size: float = 7.0
    weight: str = "normal"
    style: str = "normal"
    color: str = "black"
    priority: int = 0
    area: bool = False  # an area name: centred on the anchor, nudged if needed
    radii_pt: tuple[float, ...] = (3.5, 12.0, 22.0)  # later radii draw a leader line


@dataclass
class Placement:
    placed: list[str] = field(default_factory=list)
    with_leader: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    boxes: list[Bbox] = field(default_factory=list)


def point_obstacles(ax: Axes, xy: list[tuple[float, float]], radius_pt: float) -> list[Bbox]:
    """Boxes around point symbols, so labels do not cover them."""
    px = radius_pt * ax.figure.dpi / 72.0
    out = []
    for x, y in xy:
        cx, cy = ax.transData.transform((x, y))
        out.append(Bbox([[cx - px, cy - px], [cx + px, cy + px]]))
    return out


def _overlaps(box: Bbox, others: list[Bbox]) -> bool:
    return any(box.overlaps(o) for o in others)


def _annotate(
    ax: Axes, spec: LabelSpec, offset: tuple[float, float], ha: str, va: str, **kw: Any
) -> Annotation:
    """``spec``'s text ``offset`` points from its anchor (colour, zorder... in ``kw``)."""
    return ax.annotate(
        spec.text,
        xy=(spec.x, spec.y),
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=spec.size,
        fontweight=spec.weight,
        fontstyle=spec.style,
        annotation_clip=False,
        **kw,
    )


def place_labels(
    ax: Axes,
    renderer: RendererBase,
    specs: list[LabelSpec],
    obstacles: list[Bbox] | None = None,
) -> Placement:
    """Place ``specs`` on ``ax`` without collisions; returns what went where.

    The axes limits must be final: positions are computed on the page.
    """
    frame = ax.get_window_extent(renderer)
    taken: list[Bbox] = list(obstacles or [])
    result = Placement()
    halo = [patheffects.Stroke(linewidth=2.2, foreground="white")]
    pad = 1.5 * ax.figure.dpi / 72.0  # keep 1.5 pt clear around every label
    for spec in sorted(specs, key=lambda s: -s.priority):
        if spec.area:
            candidates = [((0, 0), "center", "center", 0.0, False)]
            candidates += [
                ((dx, dy), "center", "center", r, False)
                for r in (8.0, 16.0)
                for (dx, dy), _, _ in _DIRECTIONS
            ]
        else:
            candidates = [
                ((dx, dy), ha, va, r, i > 0)
                for i, r in enumerate(spec.radii_pt)
                for (dx, dy), ha, va in _DIRECTIONS
            ]
        for (dx, dy), ha, va, r, leader in candidates:
            norm = (dx * dx + dy * dy) ** 0.5 or 1.0
            offset = (dx / norm * r, dy / norm * r)
            text = _annotate(ax, spec, offset, ha, va, color=spec.color, zorder=Z_LABEL)
            raw = text.get_window_extent(renderer)
            box = Bbox([[raw.x0 - pad, raw.y0 - pad / 2], [raw.x1 + pad, raw.y1 + pad / 2]])
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not _overlaps(box, taken):
                # the white halo is a copy drawn underneath as outlines; the label itself stays
                # real text in the PDF (searchable, extractable), which a path effect would not
                _annotate(
                    ax, spec, offset, ha, va, color="white", zorder=Z_LABEL - 0.1, path_effects=halo
                )
                if leader:
                    # measured without the leader (an arrow would grow the box); drawn with it
                    text.remove()
                    _annotate(
                        ax,
                        spec,
                        offset,
                        ha,
                        va,
                        color=spec.color,
                        zorder=Z_LABEL,
                        arrowprops=dict(_LEADER),
                    )
                    result.with_leader.append(spec.text)
                taken.append(box)
                result.boxes.append(box)
                result.placed.append(spec.text)
                break
            text.remove()
        else:  # nowhere to go
            result.dropped.append(spec.text)
    return result
