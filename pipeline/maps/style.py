"""How things look on the sheets: colours, symbols and their bilingual names."""

from __future__ import annotations

from pipeline.vocabulary import CATEGORY_VI

#: Geosite symbol per category: (marker, face colour).
CATEGORY_SYMBOL: dict[str, tuple[str, str]] = {
    "geomorphological": ("^", "#8c510a"),
    "cave": ("o", "#252525"),
    "paleontological": ("s", "#1b7837"),
    "stratigraphic": ("D", "#762a83"),
    "hydrogeological": ("p", "#2166ac"),
    "archaeological": ("*", "#b35806"),
    "cultural": ("X", "#c51b7d"),
}
UNKNOWN_CATEGORY = ("o", "#737373", "khác", "other")

PARK_EDGE = "#1a7f37"
PARK_FILL = "#e5f5e0"
DISTRICT_EDGE = "#636363"
NEIGHBOUR_FILL = "#d9d9d9"
ZONE_I_FILL = "#d7301f"
ZONE_I_EDGE = "#99000d"
ZONE_II_FILL = "#fdae6b"
ZONE_II_EDGE = "#d94801"
SURVEY_POINT = "#3f007d"
GRID = "#4d4d4d"
MARKER_EDGE = "#000000"
SAMPLE_NOTE_COLOUR = "#b2182b"

# zorder: hillshade < fills < boundaries < zones < points < labels
Z_HILLSHADE, Z_FILL, Z_BOUNDARY, Z_ZONE, Z_POINT, Z_LABEL = 0, 1, 3, 4, 6, 8


def category_style(category: str) -> tuple[str, str, str, str]:
    """(marker, colour, Vietnamese name, English name) of a geosite category."""
    if category not in CATEGORY_SYMBOL:
        return UNKNOWN_CATEGORY
    return (*CATEGORY_SYMBOL[category], CATEGORY_VI[category], category)
