"""How things look on the sheets: colours, symbols and their bilingual names.

Every value is computed from the park's one symbology (:mod:`pipeline.symbology`),
so the sheets, QGIS and the web map agree.
"""

from __future__ import annotations

from pipeline.symbology import category_look, shape, symbology, threat_look
from pipeline.vocabulary import CATEGORY_VI

_LOOK = symbology()

#: Geosite symbol per category: (marker, face colour).
CATEGORY_SYMBOL: dict[str, tuple[str, str]] = {
    category: (shape(look["shape"])["matplotlib"], look["colour"])
    for category, look in _LOOK["categories"].items()
}
UNKNOWN_CATEGORY = (
    shape(_LOOK["unknown_category"]["shape"])["matplotlib"],
    _LOOK["unknown_category"]["colour"],
    "khác",
    "other",
)

PARK_EDGE = _LOOK["boundaries"]["park"]["colour"]
PARK_FILL = _LOOK["boundaries"]["park"]["fill"]
DISTRICT_EDGE = _LOOK["boundaries"]["district"]["colour"]
NEIGHBOUR_FILL = _LOOK["boundaries"]["district"]["fill"]
ZONE_I_FILL = _LOOK["zones"]["I"]["fill"]
ZONE_I_EDGE = _LOOK["zones"]["I"]["outline"]
ZONE_II_FILL = _LOOK["zones"]["II"]["fill"]
ZONE_II_EDGE = _LOOK["zones"]["II"]["outline"]
SURVEY_POINT = _LOOK["other"]["survey_point"]
GRID = _LOOK["other"]["grid"]
MARKER_EDGE = _LOOK["other"]["marker_edge"]
SAMPLE_NOTE_COLOUR = _LOOK["other"]["sample_note"]

# zorder: hillshade < fills < boundaries < zones < points < labels
Z_HILLSHADE, Z_FILL, Z_BOUNDARY, Z_ZONE, Z_POINT, Z_LABEL = 0, 1, 3, 4, 6, 8


def category_style(category: str) -> tuple[str, str, str, str]:
    """(marker, colour, Vietnamese name, English name) of a geosite category."""
    if category not in CATEGORY_SYMBOL:
        return UNKNOWN_CATEGORY
    look = category_look(category)
    return (shape(look["shape"])["matplotlib"], look["colour"], CATEGORY_VI[category], category)


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
#: Threat kind -> hatch for areas on the sheets; the colour is the one symbology's.
THREAT_HATCH: dict[str, str] = {
    "mining_licence": "////",
    "quarry": "xxxx",
    "road": "",
    "hydropower": "\\\\",
    "reservoir": "----",
    "construction": "\\\\",
    "land_use_plan": "....",
    "tourism_works": "++",
    "landslide": "oo",
    "collapse": "OO",
}
THREAT_DEFAULT = ("#525252", "////")
Z_THREAT = 4.6


def threat_style(kind: str) -> tuple[str, str]:
    """(colour, hatch) of a threat kind."""
    if kind not in THREAT_HATCH:
        return THREAT_DEFAULT
    return threat_look(kind)["colour"], THREAT_HATCH[kind]
