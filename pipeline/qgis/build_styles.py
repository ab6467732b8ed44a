"""Regenerate the QGIS styles in ``pipeline/styles/`` (maintainer tool, needs PyQGIS).

The ``.qml``/``.sld`` files are committed, so neither ``make zones`` nor a
publish needs QGIS: they only copy these files into ``layer_styles`` tables and
the project. This script is how the files were made, by QGIS itself, so they
are exactly what QGIS writes. Run it with Debian's Python, which has PyQGIS::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 pipeline/qgis/build_styles.py [LAYER ...]

It does not import the ``pipeline`` package (whose dependencies live in the
project's virtual environment); the category lists come from the input
contracts in ``schemas/`` and the QA severities are listed below.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsFillSymbol,
    QgsLinePatternFillSymbolLayer,
    QgsLineSymbol,
    QgsMapLayer,
    QgsMarkerLineSymbolLayer,
    QgsMarkerSymbol,
    QgsPalLayerSettings,
    QgsReadWriteContext,
    QgsRendererCategory,
    QgsSimpleLineSymbolLayer,
    QgsSingleSymbolRenderer,
    QgsTemplatedLineSymbolLayerBase,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtGui import QColor, QFont
from qgis.PyQt.QtXml import QDomDocument

ROOT = Path(__file__).resolve().parents[2]
STYLES = ROOT / "pipeline" / "styles"

#: The park's one symbology (pipeline/symbology.json), read directly: this script
#: runs under Debian's Python, without the project's packages.
SYMBOLOGY = json.loads((ROOT / "pipeline" / "symbology.json").read_text("utf-8"))


def rgb(colour: str, alpha: int = 255) -> str:
    """``#RRGGBB`` as QGIS's ``r,g,b,a``."""
    return ",".join(str(int(colour[i : i + 2], 16)) for i in (1, 3, 5)) + f",{alpha}"


def qgis_shape(name: str) -> str:
    return SYMBOLOGY["shapes"][name]["qgis"]


#: QA severities, as in pipeline.checks.SEVERITIES: (value, label, colour, marker, size mm)
SEVERITIES = [
    (value, look["label"], look["colour"], qgis_shape(look["shape"]), look["size_mm"])
    for value, look in SYMBOLOGY["severities"].items()
]

#: Geosite categories: label, colour, marker shape. Values come from the contract.
CATEGORY_LOOK = {
    category: (look["label"], look["colour"], qgis_shape(look["shape"]))
    for category, look in SYMBOLOGY["categories"].items()
}

#: Threat kinds (as in pipeline.vocabulary.THREAT_KIND_VI): label and colour. Areas are
#: hatched, lines dashed, points drawn as squares, so they never read as zones.
THREAT_LOOK = {kind: (look["label"], look["colour"]) for kind, look in SYMBOLOGY["threats"].items()}

ZONES = SYMBOLOGY["zones"]
ZONE_LABELS = {zone: look["label"] for zone, look in ZONES.items()}
PARK = SYMBOLOGY["boundaries"]["park"]
DISTRICT = SYMBOLOGY["boundaries"]["district"]
BOUNDARY_MARKER = SYMBOLOGY["boundary_markers"]
MARKER_STROKE = rgb(SYMBOLOGY["other"]["marker_edge"])


def contract_enum(schema: str, field: str) -> list[str]:
    fields = json.loads((ROOT / "schemas" / schema).read_text("utf-8"))["fields"]
    return next(f for f in fields if f["name"] == field)["constraints"]["enum"]


def zone_i_symbol(alpha: int | None = None) -> QgsFillSymbol:
    """Zone I: a strong red fill with a dark outline."""
    look = ZONES["I"]
    alpha = round(255 * look["fill_opacity"]) if alpha is None else alpha
    return QgsFillSymbol.createSimple(
        {
            "color": rgb(look["fill"], alpha),
            "outline_color": rgb(look["outline"]),
            "outline_width": str(look["outline_width_mm"]),
            "outline_width_unit": "MM",
            "style": "solid",
        }
    )


def zone_ii_symbol(color: str | None = None, outline_style: str = "solid") -> QgsFillSymbol:
    """Zone II: a transparent hatch (diagonal lines) with an orange outline."""
    look = ZONES["II"]
    color = color or rgb(look["outline"]).rsplit(",", 1)[0]
    hatch = QgsLinePatternFillSymbolLayer()
    hatch.setLineAngle(45)
    hatch.setDistance(1.6)
    hatch.setDistanceUnit(QgsUnitTypes.RenderMillimeters)
    hatch.setSubSymbol(QgsLineSymbol.createSimple({"color": f"{color},255", "width": "0.3"}))
    outline = QgsSimpleLineSymbolLayer(
        QColor(*[int(c) for c in color.split(",")]), look["outline_width_mm"]
    )
    outline.setPenStyle({"solid": 1, "dash": 2}[outline_style])
    symbol = QgsFillSymbol()
    symbol.changeSymbolLayer(0, hatch)
    symbol.appendSymbolLayer(outline)
    return symbol


def adjustment_symbol(outline_style: str, fill_alpha: int) -> QgsFillSymbol:
    """An adjusted boundary: a magenta outline with its vertices marked."""
    symbol = QgsFillSymbol.createSimple(
        {
            "color": f"197,27,125,{fill_alpha}",
            "outline_color": "142,1,82,255",
            "outline_width": "0.7",
            "outline_style": outline_style,
        }
    )
    vertices = QgsMarkerLineSymbolLayer()
    vertices.setPlacement(QgsTemplatedLineSymbolLayerBase.Vertex)
    vertices.setSubSymbol(marker("square", "142,1,82,255", 1.2, stroke="255,255,255,255"))
    symbol.appendSymbolLayer(vertices)
    return symbol


def by_zone_class(zone_i: QgsFillSymbol, zone_ii: QgsFillSymbol) -> QgsCategorizedSymbolRenderer:
    categories = [
        QgsRendererCategory("I", zone_i, ZONE_LABELS["I"]),
        QgsRendererCategory("II", zone_ii, ZONE_LABELS["II"]),
    ]
    return QgsCategorizedSymbolRenderer("zone_class", categories)


def outline(color: str, width: float, style: str = "solid") -> QgsSingleSymbolRenderer:
    return QgsSingleSymbolRenderer(
        QgsFillSymbol.createSimple(
            {
                "color": "0,0,0,0",
                "style": "no",
                "outline_color": color,
                "outline_width": str(width),
                "outline_style": style,
            }
        )
    )


def marker(name: str, color: str, size: float, stroke: str = MARKER_STROKE) -> QgsMarkerSymbol:
    return QgsMarkerSymbol.createSimple(
        {
            "name": name,
            "color": color,
            "size": str(size),
            "outline_color": stroke,
            "outline_width": "0.2",
        }
    )


def labels(
    expression: str, *, is_expression: bool, size: float, color: str, bold: bool, polygon: bool
) -> QgsVectorLayerSimpleLabeling:
    settings = QgsPalLayerSettings()
    settings.fieldName = expression
    settings.isExpression = is_expression
    if polygon:
        settings.placement = QgsPalLayerSettings.OverPoint
    fmt = QgsTextFormat()
    font = QFont("DejaVu Sans")
    font.setBold(bold)
    fmt.setFont(font)
    fmt.setSize(size)
    fmt.setColor(QColor(color))
    buffer = QgsTextBufferSettings()
    buffer.setEnabled(True)
    buffer.setSize(0.8)
    buffer.setColor(QColor("white"))
    fmt.setBuffer(buffer)
    settings.setFormat(fmt)
    return QgsVectorLayerSimpleLabeling(settings)


def unit_labels() -> QgsVectorLayerSimpleLabeling:
    """The zoning unit's code on its Zone I (a new object per layer: a layer owns its labeling)."""
    return labels(
        'CASE WHEN "zone_class" = \'I\' THEN "unit_code" END',
        is_expression=True,
        size=8,
        color="#5b1a12",
        bold=True,
        polygon=True,
    )


def renderers() -> dict[str, tuple[str, object, object]]:
    """layer -> (geometry type, renderer, labeling or None)."""
    geosite_categories = [
        QgsRendererCategory(
            value,
            marker(
                CATEGORY_LOOK[value][2],
                CATEGORY_LOOK[value][1],
                SYMBOLOGY["geosite_marker"]["size_mm"],
            ),
            CATEGORY_LOOK[value][0],
        )
        for value in contract_enum("geosites.schema.json", "category")
    ]
    severity_categories = [
        QgsRendererCategory(value, marker(shape, color, size, stroke="0,0,0,255"), label)
        for value, label, color, shape, size in SEVERITIES
    ]
    quarantine = marker("x", "255,0,255,255", 4.0, stroke="255,0,255,255")
    zda_i = QgsFillSymbol.createSimple(
        {
            "color": rgb(ZONES["I"]["fill"], 60),
            "outline_color": rgb(ZONES["I"]["outline"]),
            "outline_width": "0.2",
            "outline_style": "dot",
        }
    )
    zda_ii = QgsFillSymbol.createSimple(
        {
            "color": rgb(ZONES["II"]["fill"], 40),
            "outline_color": rgb(ZONES["II"]["outline"]),
            "outline_width": "0.2",
            "outline_style": "dot",
        }
    )

    def hatched(color: str) -> QgsFillSymbol:
        symbol = QgsFillSymbol.createSimple(
            {"color": "0,0,0,0", "outline_color": color, "outline_width": "0.5"}
        )
        hatch = QgsLinePatternFillSymbolLayer()
        hatch.setLineAngle(45)
        hatch.setDistance(1.6)
        hatch.setColor(QColor(color))
        symbol.appendSymbolLayer(hatch)
        return symbol

    def dashed(color: str) -> QgsLineSymbol:
        return QgsLineSymbol.createSimple(
            {
                "line_color": color,
                "line_width": str(SYMBOLOGY["threat_geometry"]["line_width_mm"]),
                "line_style": "dash",
            }
        )

    def by_kind(make) -> QgsCategorizedSymbolRenderer:
        return QgsCategorizedSymbolRenderer(
            "kind",
            [
                QgsRendererCategory(kind, make(color), label)
                for kind, (label, color) in THREAT_LOOK.items()
            ],
        )

    conflict_categories = [
        QgsRendererCategory(value, marker(shape, color, size + 0.6, stroke="0,0,0,255"), label)
        for value, label, color, shape, size in SEVERITIES
    ]
    return {
        "threat_areas": ("MultiPolygon", by_kind(hatched), None),
        "threat_lines": ("MultiLineString", by_kind(dashed), None),
        "threat_points": (
            "MultiPoint",
            by_kind(lambda c: marker("square", c, SYMBOLOGY["threat_geometry"]["point_size_mm"])),
            None,
        ),
        "conflicts": (
            "Point",
            QgsCategorizedSymbolRenderer("severity", conflict_categories),
            labels(
                "unit_code", is_expression=False, size=8, color="#202020", bold=True, polygon=False
            ),
        ),
        "park_extent": ("MultiPolygon", outline(rgb(PARK["colour"]), PARK["width_mm"]), None),
        "districts": (
            "MultiPolygon",
            outline(rgb(DISTRICT["colour"]), DISTRICT["width_mm"], "dash"),
            labels(
                "district_name",
                is_expression=False,
                size=9,
                color="#404040",
                bold=False,
                polygon=True,
            ),
        ),
        "geosites": ("Point", QgsCategorizedSymbolRenderer("category", geosite_categories), None),
        "survey_points": (
            "Point",
            QgsSingleSymbolRenderer(marker("cross", "0,0,0,255", 2.0, stroke="0,0,0,255")),
            None,
        ),
        "zone_i": ("MultiPolygon", QgsSingleSymbolRenderer(zone_i_symbol()), None),
        "zone_ii": ("MultiPolygon", QgsSingleSymbolRenderer(zone_ii_symbol()), None),
        "protection_zones": (
            "MultiPolygon",
            by_zone_class(zone_i_symbol(), zone_ii_symbol()),
            unit_labels(),
        ),
        "protection_zones_detailed": (
            "MultiPolygon",
            by_zone_class(
                QgsFillSymbol.createSimple(
                    {
                        "style": "no",
                        "outline_color": rgb(ZONES["I"]["outline"]),
                        "outline_width": "0.25",
                        "outline_style": "dash",
                    }
                ),
                QgsFillSymbol.createSimple(
                    {
                        "style": "no",
                        "outline_color": rgb(ZONES["II"]["outline"]),
                        "outline_width": "0.25",
                        "outline_style": "dash",
                    }
                ),
            ),
            None,
        ),
        "boundary_markers": (
            "Point",
            QgsSingleSymbolRenderer(
                marker(
                    qgis_shape(BOUNDARY_MARKER["shape"]),
                    rgb(BOUNDARY_MARKER["fill"]),
                    BOUNDARY_MARKER["size_mm"],
                    stroke=rgb(BOUNDARY_MARKER["outline"]),
                )
            ),
            labels(
                "label", is_expression=False, size=7, color="#202020", bold=False, polygon=False
            ),
        ),
        "clusters": (
            "MultiPolygon",
            by_zone_class(zone_i_symbol(150), zone_ii_symbol(outline_style="dash")),
            unit_labels(),
        ),
        "zone_district_areas": ("MultiPolygon", by_zone_class(zda_i, zda_ii), None),
        "qa_findings": (
            "Point",
            QgsCategorizedSymbolRenderer("severity", severity_categories),
            None,
        ),
        "quarantine": ("Point", QgsSingleSymbolRenderer(quarantine), None),
        "geosite_extents": (
            "MultiLineString",
            QgsSingleSymbolRenderer(
                QgsLineSymbol.createSimple({"color": "102,51,0,255", "width": "0.6"})
            ),
            None,
        ),
        "zone_proposals": (
            "MultiPolygon",
            by_zone_class(
                QgsFillSymbol.createSimple(
                    {
                        "style": "no",
                        "outline_color": "90,90,90,255",
                        "outline_width": "0.35",
                        "outline_style": "dot",
                    }
                ),
                QgsFillSymbol.createSimple(
                    {
                        "style": "no",
                        "outline_color": "150,150,150,255",
                        "outline_width": "0.35",
                        "outline_style": "dot",
                    }
                ),
            ),
            None,
        ),
        # the geologists' edits: bold magenta outlines that stand out from the zones,
        # every vertex marked, so that the boundary being edited is obvious
        "zone_adjustments": (
            "MultiPolygon",
            by_zone_class(adjustment_symbol("solid", 40), adjustment_symbol("dash", 0)),
            labels(
                '"unit_code" || \' \' || "zone_class" || \' — \' || "author"',
                is_expression=True,
                size=8,
                color="#8e0152",
                bold=True,
                polygon=True,
            ),
        ),
    }


CATEGORIES = QgsMapLayer.StyleCategories(
    QgsMapLayer.Symbology | QgsMapLayer.Labeling | QgsMapLayer.Rendering
)


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    STYLES.mkdir(parents=True, exist_ok=True)
    wanted = set(sys.argv[1:])  # layer names to rebuild; all when none are given
    for name, (geometry, renderer, labeling) in renderers().items():
        if wanted and name not in wanted:
            continue
        layer = QgsVectorLayer(f"{geometry}?crs=EPSG:9215", name, "memory")
        layer.setRenderer(renderer)
        if labeling is not None:
            layer.setLabeling(labeling)
            layer.setLabelsEnabled(True)
        doc = QDomDocument()
        error = layer.exportNamedStyle(doc, QgsReadWriteContext(), CATEGORIES)
        if error:
            print(f"{name}: {error}", file=sys.stderr)
            return 1
        (STYLES / f"{name}.qml").write_text(doc.toString(1), "utf-8")
        sld = QDomDocument()
        layer.exportSldStyle(sld, "")
        (STYLES / f"{name}.sld").write_text(sld.toString(1), "utf-8")
        print(f"wrote {name}.qml, {name}.sld")
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
