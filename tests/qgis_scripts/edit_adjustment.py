"""Open the project in real QGIS, report how its layers can be edited and snapped,
and move one vertex of an adjustment the way a geologist does, then save.

Run by the tests with Debian's Python (PyQGIS) and ``QT_QPA_PLATFORM=offscreen``::

    /usr/bin/python3 tests/qgis_scripts/edit_adjustment.py REQUEST.json RESULT.json

REQUEST is ``{"project": path, "layer_id": id, "unit_code": ..., "zone_class": ...,
"vertex": index, "dx": metres, "dy": metres}``; or, to draw a new adjustment,
``{"project": path_or_uri, "add": {"layer_id": id, "wkt": ..., "attributes":
{field: value}}}``: the feature is made as QGIS's add-feature tool makes it
(the provider's default-value clauses for the fields not given) and saved.
The script only reports; the tests decide what is right.
"""

from __future__ import annotations

import json
import sys
import traceback

from qgis.core import (
    QgsApplication,
    QgsFeatureRequest,
    QgsGeometry,
    QgsProject,
    QgsSnappingConfig,
    QgsVectorDataProvider,
    QgsVectorLayerUtils,
)


def layer_report(project: QgsProject) -> dict:
    config = project.snappingConfig()
    individual = config.individualLayerSettings()
    out = {
        "snapping": {
            "enabled": config.enabled(),
            "advanced": config.mode() == QgsSnappingConfig.AdvancedConfiguration,
            "layers": {},
        },
        "layers": {},
    }
    for layer_id, layer in project.mapLayers().items():
        caps = layer.dataProvider().capabilities() if layer.isValid() else 0
        out["layers"][layer_id] = {
            "valid": layer.isValid(),
            "read_only": layer.readOnly(),
            "can_change_geometry": bool(caps & QgsVectorDataProvider.ChangeGeometries),
            "can_add_features": bool(caps & QgsVectorDataProvider.AddFeatures),
            "provider": layer.providerType() if layer.isValid() else None,
            "source": layer.source(),
            "renderer": layer.renderer().type() if layer.renderer() else None,
        }
        setting = individual.get(layer)
        if setting is not None:
            flags = int(setting.typeFlag())
            out["snapping"]["layers"][layer_id] = {
                "enabled": setting.enabled(),
                "vertex": bool(flags & int(QgsSnappingConfig.VertexFlag)),
                "segment": bool(flags & int(QgsSnappingConfig.SegmentFlag)),
            }
    return out


def move_vertex(project: QgsProject, request: dict) -> dict:
    layer = project.mapLayer(request["layer_id"])
    expression = (
        f"\"unit_code\" = '{request['unit_code']}' AND \"zone_class\" = '{request['zone_class']}'"
    )
    features = list(layer.getFeatures(QgsFeatureRequest().setFilterExpression(expression)))
    if len(features) != 1:
        return {"moved": False, "error": f"{len(features)} features match {expression}"}
    feature = features[0]
    index = request["vertex"]
    before = feature.geometry().vertexAt(index)
    x, y = before.x() + request["dx"], before.y() + request["dy"]
    started = layer.startEditing()
    moved = layer.moveVertex(x, y, feature.id(), index)
    committed = layer.commitChanges()
    after = next(layer.getFeatures(QgsFeatureRequest(feature.id()))).geometry().vertexAt(index)
    return {
        "moved": bool(started and moved),
        "committed": bool(committed),
        "errors": layer.commitErrors(),
        "before": [before.x(), before.y()],
        "after": [after.x(), after.y()],
    }


def add_feature(project: QgsProject, request: dict) -> dict:
    layer = project.mapLayer(request["layer_id"])
    fields = layer.fields()
    values = {fields.indexOf(name): value for name, value in request["attributes"].items()}
    feature = QgsVectorLayerUtils.createFeature(
        layer, QgsGeometry.fromWkt(request["wkt"]), values, layer.createExpressionContext()
    )
    started = layer.startEditing()
    added = layer.addFeature(feature)
    committed = layer.commitChanges()
    return {
        "started": bool(started),
        "added": bool(added),
        "committed": bool(committed),
        "errors": layer.commitErrors(),
        "count_after": layer.featureCount(),
    }


def main(request_path: str, result_path: str) -> int:
    request = json.load(open(request_path, encoding="utf-8"))
    app = QgsApplication([], False)
    app.initQgis()
    result: dict = {}
    try:
        project = QgsProject.instance()
        result["read"] = bool(project.read(request["project"]))
        result.update(layer_report(project))
        if "layer_id" in request:
            result["edit"] = move_vertex(project, request)
        if "add" in request:
            result["add"] = add_feature(project, request["add"])
    except Exception:  # report, so that the test shows what QGIS said
        result["exception"] = traceback.format_exc()
    json.dump(result, open(result_path, "w", encoding="utf-8"), ensure_ascii=False)
    app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
