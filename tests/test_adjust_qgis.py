"""The adjustment round trip end to end with real QGIS (PyQGIS, offscreen):
`geopark adjust`, open the project, move a vertex of the adjustment, save,
`geopark zones`: the zone follows the edit, and a second run keeps it."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from pipeline.adjustments import LAYER
from pipeline.cli.main import cli
from pipeline.config import load_config
from tests.qgis_helpers import ROOT, pyqgis_available, run_qgis

pytestmark = pytest.mark.skipif(not pyqgis_available(), reason="PyQGIS is not installed")

EDIT_SCRIPT = ROOT / "tests" / "qgis_scripts" / "edit_adjustment.py"
UNIT = "LS-CG-04"
SNAPPED = ("geopark_protection_zones", "geopark_districts", "geopark_geosite_extents")


def zones_of(cfg, layer: str = "protection_zones_detailed") -> dict[str, shapely.Geometry]:
    """The unit's zones as drawn (the detailed layer; ``protection_zones`` holds the
    boundary-marker polygons generalised outward from them)."""
    frame = pyogrio.read_dataframe(cfg.output_path("geopackage"), layer=layer)
    mine = frame.loc[frame["unit_code"] == UNIT]
    legal = pyogrio.read_dataframe(cfg.output_path("geopackage"), layer="protection_zones")
    return dict(zip(mine["zone_class"], mine.geometry, strict=True)) | {
        "status": legal.loc[legal["unit_code"] == UNIT, "status"].iloc[0]
    }


def geopark(*args: str) -> None:
    done = CliRunner().invoke(cli, list(args))
    assert done.exit_code == 0, done.output


def test_an_edit_in_qgis_becomes_the_zone_and_survives_the_next_run(
    write_config, tmp_path: Path
) -> None:
    path = write_config()
    cfg = load_config(path)
    config = ["--config", str(path)]
    geopark("zones", *config)
    proposed = zones_of(cfg)["I"]
    geopark("adjust", UNIT, "--author", "Nguyễn Văn An", "--reason", "theo mép taluy", *config)
    geopark("zones", *config)  # the project now shows the edits layer
    qgz = cfg.outputs.directory / cfg.outputs.project

    # a vertex on the far side of the zone from the section, moved 15 m outward
    ring = shapely.get_exterior_ring(shapely.get_parts(proposed)[0])
    coords = shapely.get_coordinates(ring)
    centre = shapely.centroid(proposed)
    index = 5
    vx, vy = coords[index]
    length = ((vx - centre.x) ** 2 + (vy - centre.y) ** 2) ** 0.5
    dx, dy = 15 * (vx - centre.x) / length, 15 * (vy - centre.y) / length
    answer = run_qgis(
        {
            "project": str(qgz),
            "layer_id": f"geopark_{LAYER}",
            "unit_code": UNIT,
            "zone_class": "I",
            "vertex": index,
            "dx": dx,
            "dy": dy,
        },
        tmp_path / "qgis",
        script=EDIT_SCRIPT,
    )
    assert answer["read"]
    layers = answer["layers"]
    edits = layers[f"geopark_{LAYER}"]
    assert edits["valid"] and not edits["read_only"] and edits["can_change_geometry"]
    assert "edits/zone_adjustments.gpkg" in edits["source"]
    assert edits["renderer"] == "categorizedSymbol"  # styled by zone class
    assert layers["geopark_protection_zones"]["read_only"]  # generated layers are not edited
    snapping = answer["snapping"]
    assert snapping["enabled"] and snapping["advanced"]
    for layer_id in (*SNAPPED, f"geopark_{LAYER}"):
        setting = snapping["layers"][layer_id]
        assert setting["enabled"] and setting["vertex"] and setting["segment"], layer_id
    assert not snapping["layers"]["geopark_qa_findings"]["enabled"]
    edit = answer["edit"]
    assert edit["moved"] and edit["committed"], edit
    moved = shapely.Point(edit["after"])
    assert moved.distance(shapely.Point(vx + dx, vy + dy)) < 1e-6

    for _ in range(2):  # the zone follows the edit, and a second run keeps it
        geopark("zones", *config)
        zones = zones_of(cfg)
        assert zones["status"] == "adjusted"
        assert shapely.distance(shapely.boundary(zones["I"]), moved) < 1e-6
        assert zones["I"].area > proposed.area
        assert not proposed.covers(moved)
        # the legal boundary (marker polygon) contains the adjusted zone, the moved vertex too
        legal = zones_of(cfg, "protection_zones")["I"]
        assert shapely.area(shapely.difference(zones["I"], legal)) < 1e-3
        assert shapely.covers(legal, moved)
    drawn = pyogrio.read_dataframe(cfg.edits.geopackage, layer=LAYER)
    assert len(drawn) == 1 and shapely.distance(shapely.boundary(drawn.geometry[0]), moved) < 1e-6
