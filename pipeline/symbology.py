"""The park's one symbology, read from ``pipeline/symbology.json``.

The print sheets (:mod:`pipeline.maps.style`), the web map (:mod:`pipeline.webmap`)
and the QGIS styles (``pipeline/qgis/build_styles.py``, which reads the JSON file
itself because it runs under Debian's Python without the project's packages) all
derive their colours and marker shapes from this one definition, so a category
looks the same on paper, in QGIS and in a browser: shape and colour both code
the category, and the category colours are checked for colour-blind safety by
``tests/test_symbology.py``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SYMBOLOGY_FILE = Path(__file__).with_name("symbology.json")


@cache
def symbology() -> dict[str, Any]:
    """The definition as read from :data:`SYMBOLOGY_FILE` (do not mutate it)."""
    return json.loads(SYMBOLOGY_FILE.read_text("utf-8"))


def category_look(category: str) -> dict[str, Any]:
    """Label, colour and shape of a geosite category (the *unknown* look for others)."""
    definition = symbology()
    return definition["categories"].get(category, definition["unknown_category"])


def shape(name: str) -> dict[str, str]:
    """A marker shape's spellings: ``matplotlib`` marker, ``qgis`` marker name, ``svg`` path."""
    return symbology()["shapes"][name]


def threat_look(kind: str) -> dict[str, Any]:
    """Label and colour of a threat kind (grey for a kind the definition lacks)."""
    return symbology()["threats"].get(kind, {"label": kind, "colour": "#7F7F7F"})


def severity_look(severity: str) -> dict[str, Any]:
    """Label, colour, shape and size of a QA severity (grey circle for an unknown one)."""
    return symbology()["severities"].get(
        severity, {"label": severity, "colour": "#7F7F7F", "shape": "circle", "size_mm": 2.6}
    )


def significance_scale(significance: Any) -> float:
    """How much larger a geosite marker is drawn for its significance (1 when unknown)."""
    look = symbology()["significance"].get(str(significance))
    return float(look["scale"]) if look else 1.0


__all__ = [
    "SYMBOLOGY_FILE",
    "category_look",
    "severity_look",
    "shape",
    "significance_scale",
    "symbology",
    "threat_look",
]
