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


# ---------------------------------------------------------------- topographic base
# After the national topographic base maps: blue hydrography, roads black or red by
# class, settlements as black dots with upright names, brown contours, black peaks.
WATER_LINE = "#1f78b4"
WATER_FILL = "#c6e2f5"
WATER_LABEL = "#1f5f99"
ROAD_MAJOR = "#d7191c"  # national and provincial roads: red with a black casing
ROAD_CASING = "#000000"
ROAD_MINOR = "#000000"
SETTLEMENT = "#000000"
CONTOUR = "#a6611a"
PEAK = "#000000"
CAVE = "#000000"
ADMIN_LINE = "#7b3294"
BORDER_LINE = "#4d004b"
# the base lies under the park layers: zorder between the hillshade and the fills
Z_BASE_FILL, Z_BASE_LINE, Z_BASE_POINT = 0.5, 0.8, 5.5

# ---------------------------------------------------------------- threats (issue 14)
#: Threat kind -> (colour, hatch) for areas and lines; points are squares of the colour.
THREAT_STYLE: dict[str, tuple[str, str]] = {
    "mining_licence": ("#6a3d9a", "////"),
    "quarry": ("#6a3d9a", "xxxx"),
    "road": ("#252525", ""),
    "hydropower": ("#1f78b4", "\\\\"),
    "reservoir": ("#1f78b4", "----"),
    "construction": ("#b15928", "\\\\"),
    "land_use_plan": ("#b15928", "...."),
    "tourism_works": ("#b15928", "++"),
    "landslide": ("#8c510a", "oo"),
    "collapse": ("#8c510a", "OO"),
}
THREAT_DEFAULT = ("#525252", "////")
Z_THREAT = 4.6


def threat_style(kind: str) -> tuple[str, str]:
    """(colour, hatch) of a threat kind."""
    return THREAT_STYLE.get(kind, THREAT_DEFAULT)
