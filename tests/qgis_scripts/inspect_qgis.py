"""Open layers and projects with real QGIS and report what QGIS sees, as JSON.

Run by the tests with Debian's Python (PyQGIS lives there, not in the
project's virtual environment) and ``QT_QPA_PLATFORM=offscreen``::

    /usr/bin/python3 tests/qgis_scripts/inspect_qgis.py REQUEST.json RESULT.json

REQUEST is ``{"layers": [{"name", "uri", "provider"}...], "projects": [uri...],
"render": {"layers": [...], "png": path, "width": px, "height": px}}``; every
part is optional. The script only reports; the tests decide what is right.
"""

from __future__ import annotations

import json
import sys
import traceback

from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def renderer_info(layer: QgsVectorLayer) -> dict:
    renderer = layer.renderer()
    info = {"type": renderer.type() if renderer else None}
    if isinstance(renderer, QgsCategorizedSymbolRenderer):
        info["attribute"] = renderer.classAttribute()
        info["categories"] = [
            {
                "value": str(c.value()),
                "label": c.label(),
                "color": c.symbol().color().name(),
                "symbol_layers": [sl.layerType() for sl in c.symbol().symbolLayers()],
            }
            for c in renderer.categories()
        ]
    elif renderer is not None and hasattr(renderer, "symbol") and renderer.symbol() is not None:
        symbol = renderer.symbol()
        info["color"] = symbol.color().name()
        info["symbol_layers"] = [sl.layerType() for sl in symbol.symbolLayers()]
    labeling = layer.labeling()
    info["labels_enabled"] = bool(layer.labelsEnabled())
    if labeling is not None and labeling.type() == "simple":
        settings = labeling.settings()
        info["label_field"] = settings.fieldName
        info["label_is_expression"] = bool(settings.isExpression)
    return info


def inspect_layer(spec: dict) -> dict:
    layer = QgsVectorLayer(spec["uri"], spec["name"], spec["provider"])
    out = {"name": spec["name"], "valid": layer.isValid()}
    if not layer.isValid():
        out["error"] = layer.error().summary()
        return out
    out["crs"] = layer.crs().authid()
    out["feature_count"] = layer.featureCount()
    # Count by iterating too: featureCount() may be an estimate for some providers.
    out["features_read"] = sum(1 for _ in layer.getFeatures())
    out["geometry_type"] = layer.geometryType()
    # What QGIS applied on opening (its default style lookup), then explicitly again.
    out["on_open"] = renderer_info(layer)
    message, ok = layer.loadDefaultStyle()
    out["default_style_loaded"] = bool(ok)
    out["default_style_message"] = message
    out["default"] = renderer_info(layer)
    styles = layer.listStylesInDatabase()
    out["database_styles"] = list(styles[2]) if styles[0] >= 0 else []
    out["database_styles_related"] = styles[0]
    return out


def inspect_project(uri: str) -> dict:
    project = QgsProject.instance()
    project.clear()
    ok = project.read(uri)
    out = {"uri": uri, "read": bool(ok), "error": project.error() if not ok else ""}
    out["title"] = project.title()
    out["crs"] = project.crs().authid()
    out["abstract"] = project.metadata().abstract()
    root = project.layerTreeRoot()
    out["groups"] = {
        group.name(): [child.layerId() for child in group.findLayers()]
        for group in root.findGroups()
    }
    out["layers"] = []
    for layer_id, layer in project.mapLayers().items():
        info = {
            "id": layer_id,
            "name": layer.name(),
            "valid": layer.isValid(),
            "source": layer.source(),
            "provider": layer.providerType(),
            "crs": layer.crs().authid(),
            "visible": root.findLayer(layer_id).isVisible() if root.findLayer(layer_id) else None,
        }
        if layer.isValid():
            info["feature_count"] = layer.featureCount()
            info["renderer"] = renderer_info(layer)
        out["layers"].append(info)
    return out


def render(spec: dict) -> dict:
    layers = [QgsVectorLayer(s["uri"], s["name"], s["provider"]) for s in spec["layers"]]
    settings = QgsMapSettings()
    settings.setLayers(layers)  # first drawn on top
    settings.setDestinationCrs(layers[-1].crs())
    if "extent" in spec:  # xmin, ymin, xmax, ymax in the layers' CRS
        extent = QgsRectangle(*spec["extent"])
    else:
        extent = layers[-1].extent()
        extent.scale(1.05)
    settings.setExtent(extent)
    settings.setOutputSize(QSize(spec.get("width", 1000), spec.get("height", 800)))
    settings.setBackgroundColor(QColor("white"))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    saved = image.save(spec["png"], "PNG")
    return {
        "saved": bool(saved),
        "errors": [e.message for e in job.errors()],
        "width": image.width(),
        "height": image.height(),
    }


def main(request_path: str, result_path: str) -> int:
    request = json.load(open(request_path, encoding="utf-8"))
    app = QgsApplication([], False)
    app.initQgis()
    result: dict = {"qgis_version": __import__("qgis.core").core.Qgis.QGIS_VERSION}
    try:
        result["layers"] = [inspect_layer(spec) for spec in request.get("layers", [])]
        result["projects"] = [inspect_project(uri) for uri in request.get("projects", [])]
        if "render" in request:
            result["render"] = render(request["render"])
    except Exception:  # reported to the test, which fails with it
        result["exception"] = traceback.format_exc()
    with open(result_path, "w", encoding="utf-8") as handle:
        json.dump(result, handle, ensure_ascii=False, indent=1)
    QgsProject.instance().clear()
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
