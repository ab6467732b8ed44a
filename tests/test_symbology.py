"""One symbology: the definition is colour-blind safe, and the print styles, the QGIS
styles and the web map all carry exactly what ``pipeline/symbology.json`` says.

Expected values are read from the JSON file itself (not through the module under
test); the products are read as a user gets them: the style module's public names,
the committed ``.qml`` files (parsed as XML) and the JSON embedded in the web page.
"""

from __future__ import annotations

import itertools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = json.loads((ROOT / "pipeline" / "symbology.json").read_text("utf-8"))
STYLES = ROOT / "pipeline" / "styles"

#: Smallest CAM02-UCS distance allowed between two category colours, for normal
#: vision and under each simulated colour-vision deficiency (full severity).
#: About 10 ΔE is where two small symbols stop being confused at a glance.
MIN_DELTA_E = 10.0
CVD_TYPES = ("deuteranomaly", "protanomaly", "tritanomaly")

#: The web map's category colours before the one symbology: archaeological (#c51b7d)
#: and cultural (#35978f) come within ΔE 7.3 under deuteranopia. The check must reject them.
OLD_WEB_PALETTE = {
    "geomorphological": "#8c510a",
    "cave": "#542788",
    "paleontological": "#1b7837",
    "stratigraphic": "#e08214",
    "hydrogeological": "#2166ac",
    "archaeological": "#c51b7d",
    "cultural": "#35978f",
}


def _srgb1(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255.0


def closest_pair(palette: dict[str, str], cvd: str | None) -> tuple[float, str, str]:
    """The smallest CAM02-UCS ΔE between two colours of ``palette`` as seen with ``cvd``."""
    colorspacious = pytest.importorskip("colorspacious")
    seen = {}
    for name, colour in palette.items():
        rgb = _srgb1(colour)
        if cvd:
            space = {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}
            rgb = np.clip(colorspacious.cspace_convert(rgb, space, "sRGB1"), 0, 1)
        seen[name] = rgb
    return min(
        (float(colorspacious.deltaE(seen[a], seen[b], input_space="sRGB1")), a, b)
        for a, b in itertools.combinations(palette, 2)
    )


def category_palette() -> dict[str, str]:
    return {name: look["colour"] for name, look in DEFINITION["categories"].items()}


def same_colour(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def rgba_to_hex(value: str) -> str:
    r, g, b = (int(v) for v in value.split(",")[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


# ---------------------------------------------------------------- the definition


@pytest.mark.parametrize("cvd", [None, *CVD_TYPES])
def test_category_colours_stay_apart_with_colour_blindness(cvd) -> None:
    distance, a, b = closest_pair(category_palette(), cvd)
    assert distance >= MIN_DELTA_E, f"{a} and {b}: ΔE {distance:.1f} under {cvd or 'normal'}"


def test_the_check_rejects_the_old_web_palette() -> None:
    distance, a, b = closest_pair(OLD_WEB_PALETTE, "deuteranomaly")
    assert distance < MIN_DELTA_E, (a, b, distance)


def test_every_category_has_its_own_shape_and_colour() -> None:
    from pipeline.vocabulary import CATEGORY_VI, THREAT_KIND_VI

    categories = DEFINITION["categories"]
    assert set(categories) == set(CATEGORY_VI)
    assert len({look["shape"] for look in categories.values()}) == len(categories)
    assert len({look["colour"].lower() for look in categories.values()}) == len(categories)
    for look in [*categories.values(), *DEFINITION["severities"].values()]:
        assert look["shape"] in DEFINITION["shapes"]
    assert set(DEFINITION["threats"]) == set(THREAT_KIND_VI)
    contract = json.loads((ROOT / "schemas" / "geosites.schema.json").read_text("utf-8"))
    enum = next(f for f in contract["fields"] if f["name"] == "category")["constraints"]["enum"]
    assert set(enum) == set(categories)


# ---------------------------------------------------------------- print styles


def test_print_styles_follow_the_definition() -> None:
    from pipeline.maps import style

    shapes = DEFINITION["shapes"]
    for category, look in DEFINITION["categories"].items():
        marker, colour, vi, en = style.category_style(category)
        assert marker == shapes[look["shape"]]["matplotlib"]
        assert same_colour(colour, look["colour"])
        assert en == category and vi
    assert set(style.CATEGORY_SYMBOL) == set(DEFINITION["categories"])
    zones, bounds = DEFINITION["zones"], DEFINITION["boundaries"]
    for value, expected in (
        (style.ZONE_I_FILL, zones["I"]["fill"]),
        (style.ZONE_I_EDGE, zones["I"]["outline"]),
        (style.ZONE_II_FILL, zones["II"]["fill"]),
        (style.ZONE_II_EDGE, zones["II"]["outline"]),
        (style.PARK_EDGE, bounds["park"]["colour"]),
        (style.DISTRICT_EDGE, bounds["district"]["colour"]),
    ):
        assert same_colour(value, expected)


# ---------------------------------------------------------------- QGIS styles


def qml_symbols(layer: str) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """(category value -> symbol name, symbol name -> its symbol layers' options)."""
    root = ET.parse(STYLES / f"{layer}.qml").getroot()
    renderer = root.find("renderer-v2")
    assert renderer is not None
    values = {c.get("value"): c.get("symbol") for c in renderer.iter("category")}
    symbols = {}
    for symbol in renderer.find("symbols"):
        layers = []
        for symbol_layer in symbol.findall("layer"):
            options = {o.get("name"): o.get("value") for o in symbol_layer.iter("Option")}
            options.update({p.get("k"): p.get("v") for p in symbol_layer.iter("prop")})
            options["class"] = symbol_layer.get("class")
            layers.append(options)
        symbols[symbol.get("name")] = layers
    return values, symbols


def test_qgis_geosite_style_follows_the_definition() -> None:
    values, symbols = qml_symbols("geosites")
    assert set(values) == set(DEFINITION["categories"])
    for category, look in DEFINITION["categories"].items():
        (marker,) = symbols[values[category]]
        assert marker["class"] == "SimpleMarker"
        assert marker["name"] == DEFINITION["shapes"][look["shape"]]["qgis"]
        assert same_colour(rgba_to_hex(marker["color"]), look["colour"]), category


def test_qgis_severity_and_threat_styles_follow_the_definition() -> None:
    for layer in ("qa_findings", "conflicts"):
        values, symbols = qml_symbols(layer)
        for severity, look in DEFINITION["severities"].items():
            marker = symbols[values[severity]][0]
            assert marker["name"] == DEFINITION["shapes"][look["shape"]]["qgis"]
            assert same_colour(rgba_to_hex(marker["color"]), look["colour"])
    values, symbols = qml_symbols("threat_points")
    for kind, look in DEFINITION["threats"].items():
        assert same_colour(rgba_to_hex(symbols[values[kind]][0]["color"]), look["colour"])


def test_qgis_zone_and_boundary_styles_follow_the_definition() -> None:
    zones = DEFINITION["zones"]
    _, symbols = qml_symbols("zone_i")
    (fill,) = next(iter(symbols.values()))
    assert same_colour(rgba_to_hex(fill["color"]), zones["I"]["fill"])
    assert same_colour(rgba_to_hex(fill["outline_color"]), zones["I"]["outline"])
    _, symbols = qml_symbols("zone_ii")
    hatch, outline = next(iter(symbols.values()))
    assert hatch["class"] == "LinePatternFill"
    assert same_colour(rgba_to_hex(outline["line_color"]), zones["II"]["outline"])
    for layer, which in (("park_extent", "park"), ("districts", "district")):
        _, symbols = qml_symbols(layer)
        (line,) = next(iter(symbols.values()))
        assert same_colour(
            rgba_to_hex(line["outline_color"]), DEFINITION["boundaries"][which]["colour"]
        )


# ---------------------------------------------------------------- the web map


@pytest.fixture(scope="module")
def page_html(sample_run, tmp_path_factory: pytest.TempPathFactory) -> str:
    from pipeline.cli.main import cli

    cfg, _ = sample_run
    output = tmp_path_factory.mktemp("symbology") / "geopark.html"
    result = CliRunner().invoke(
        cli, ["webmap", "--config", str(cfg.source), "--no-tiles", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    return output.read_text("utf-8")


def test_web_map_follows_the_definition(page_html: str) -> None:
    match = re.search(
        r'<script type="application/json" id="geopark-data">(.*?)</script>', page_html, re.S
    )
    data = json.loads(match.group(1))
    layers = {layer["key"]: layer for layer in data["layers"]}
    shapes = DEFINITION["shapes"]
    geosite_layers = [key for key in layers if key.startswith("geosites:")]
    assert geosite_layers
    for key in geosite_layers:
        look = DEFINITION["categories"][key.split(":", 1)[1]]
        for feature in layers[key]["features"]["features"]:
            symbol = feature["properties"]["symbol"]
            assert same_colour(symbol["fill"], look["colour"])
            assert symbol["path"] == shapes[look["shape"]]["svg"]
    for cls, key in (("I", "zone_i"), ("II", "zone_ii")):
        assert same_colour(layers[key]["style"]["fillColor"], DEFINITION["zones"][cls]["fill"])
        assert same_colour(layers[key]["style"]["color"], DEFINITION["zones"][cls]["outline"])
    assert same_colour(
        layers["park_extent"]["style"]["color"], DEFINITION["boundaries"]["park"]["colour"]
    )
    for feature in layers["qa_findings"]["features"]["features"]:
        assert feature["properties"]["symbol"]["path"] in {
            shapes[look["shape"]]["svg"] for look in DEFINITION["severities"].values()
        }
    # the legend draws the same shapes in the same colours
    legend = re.search(r'<details class="gp-legend".*?</details>', page_html, re.S).group(0)
    drawn = set(re.findall(r'<path d="([^"]+)" fill="([^"]+)"', legend))
    for key in geosite_layers:
        look = DEFINITION["categories"][key.split(":", 1)[1]]
        assert (shapes[look["shape"]]["svg"], look["colour"]) in drawn, key
