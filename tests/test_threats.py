"""Threat layers: conflicts with the zones and Brilha's distance criteria,
on hand-made geometries whose answers are worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from pipeline.config import BrilhaDistances, ThreatSeverity
from pipeline.threats import (
    accessibility_score,
    computed_degradation_criteria,
    find_conflicts,
    proximity_score,
)

CRS = "EPSG:9215"
X0, Y0 = 450_000.0, 2_400_000.0  # easting, northing inside Lạng Sơn


def _threats(rows: list[dict]) -> gpd.GeoDataFrame:
    base = {
        "threat_layer": "sample",
        "status": "existing",
        "name": None,
        "owner": None,
        "threat_date": None,
        "illustrative": False,
    }
    frame = pd.DataFrame([{**base, **r} for r in rows])
    return gpd.GeoDataFrame(
        frame.drop(columns="geometry"), geometry=list(frame["geometry"]), crs=CRS
    )


@pytest.fixture
def unit():
    """One unit: Zone I a 200 m square, Zone II the ring out to a 600 m square."""
    core = box(X0, Y0, X0 + 200, Y0 + 200)
    outer = box(X0 - 200, Y0 - 200, X0 + 400, Y0 + 400)
    zones = gpd.GeoDataFrame(
        {"unit_code": ["U1", "U1"], "zone_class": ["I", "II"]},
        geometry=[core, outer.difference(core)],
        crs=CRS,
    )
    sites = gpd.GeoDataFrame(
        {"geosite_code": ["G1"], "unit_code": ["U1"]},
        geometry=[Point(X0 + 100, Y0 + 100)],
        crs=CRS,
    )
    return zones, sites


def test_licence_polygon_overlapping_zone_ii_only(unit):
    zones, sites = unit
    # 100 m x 100 m licence in the ring's north-east corner: 1 ha in Zone II
    licence = box(X0 + 300, Y0 + 300, X0 + 400, Y0 + 400)
    threats = _threats([{"threat_id": "L1", "kind": "mining_licence", "geometry": licence}])
    found = find_conflicts(threats, zones, sites, near_distance_m=500, severity=ThreatSeverity())
    assert list(found["relation"]) == ["inside_zone_ii"]
    row = found.iloc[0]
    assert row["severity"] == "warning"
    assert row["overlap_area_ha"] == pytest.approx(1.0)
    # nearest corner (X0+300, Y0+300) to the site (X0+100, Y0+100): 200·√2
    assert row["distance_m"] == pytest.approx(200 * np.sqrt(2), abs=0.1)
    assert row["geosite_codes"] == "G1"


@pytest.mark.parametrize(("status", "severity"), [("existing", "error"), ("planned", "warning")])
def test_road_through_zone_i_with_lengths(unit, status, severity):
    zones, sites = unit
    # east-west road at northing Y0+150 across the whole 600 m footprint and beyond
    road = LineString([(X0 - 1000, Y0 + 150), (X0 + 1000, Y0 + 150)])
    threats = _threats([{"threat_id": "R1", "kind": "road", "status": status, "geometry": road}])
    found = find_conflicts(threats, zones, sites, near_distance_m=500, severity=ThreatSeverity())
    by_relation = found.set_index("relation")
    # an existing activity inside strict protection is an error; a planned one is
    # a warning to settle before it is built ([threats.severity])
    assert by_relation.loc["inside_zone_i", "severity"] == severity
    assert by_relation.loc["inside_zone_ii", "severity"] == "warning"
    assert by_relation.loc["inside_zone_i", "overlap_length_m"] == pytest.approx(200)
    assert by_relation.loc["inside_zone_ii", "overlap_length_m"] == pytest.approx(400)
    assert by_relation.loc["inside_zone_i", "distance_m"] == pytest.approx(50)
    assert "near" not in by_relation.index  # touching features are not "near"
    assert set(found["status"]) == {status}


def test_feature_near_but_outside(unit):
    zones, sites = unit
    # a quarry point 300 m east of the footprint's edge (X0+400)
    threats = _threats(
        [
            {"threat_id": "Q1", "kind": "quarry", "geometry": Point(X0 + 700, Y0 + 100)},
            {"threat_id": "Q2", "kind": "quarry", "geometry": Point(X0 + 2000, Y0 + 100)},
        ]
    )
    found = find_conflicts(threats, zones, sites, near_distance_m=500, severity=ThreatSeverity())
    assert list(found["threat_id"]) == ["Q1"]  # Q2 is 1.6 km away: not listed
    assert found.iloc[0]["relation"] == "near"
    assert found.iloc[0]["severity"] == "info"
    assert found.iloc[0]["distance_m"] == pytest.approx(600)  # to the site itself
    assert shapely.get_x(found.geometry.iloc[0]) == pytest.approx(X0 + 700)


def test_no_threats_gives_an_empty_layer(unit):
    zones, sites = unit
    empty = _threats([{"threat_id": "x", "kind": "quarry", "geometry": Point(0, 0)}]).iloc[:0]
    found = find_conflicts(empty, zones, sites, near_distance_m=500, severity=ThreatSeverity())
    assert found.empty and found.crs == zones.crs


@pytest.mark.parametrize(
    ("distance", "score"),
    [(0, 4), (49.9, 4), (50, 3), (199, 3), (200, 2), (499, 2), (500, 1), (999, 1), (1000, 0)],
)
def test_proximity_classes(distance, score):
    assert proximity_score(np.array([float(distance)]), BrilhaDistances())[0] == score


def test_accessibility_picks_the_highest_indicator():
    limits = BrilhaDistances()
    inf = np.inf
    got = accessibility_score(
        np.array([50.0, inf, inf, inf, inf]),  # paved with bus parking
        np.array([50.0, 400.0, 800.0, inf, inf]),  # paved
        np.array([inf, inf, 50.0, 300.0, inf]),  # gravel
        np.array([50.0, 400.0, 50.0, 300.0, 1500.0]),  # any road
        limits,
    )
    assert list(got) == [4, 3, 2, 1, 0]


def test_computed_criteria_beside_hand_scores():
    sites = gpd.GeoDataFrame(
        {"geosite_code": ["A", "B"]},
        geometry=[Point(X0, Y0), Point(X0 + 5000, Y0)],
        crs=CRS,
    )
    threats = _threats(
        [
            # quarry 120 m from A: proximity 3; 4,880 m from B: 0
            {"threat_id": "Q", "kind": "quarry", "geometry": Point(X0 + 120, Y0)},
            # paved road 300 m north of A (score 3), 300 m north of B too
            {
                "threat_id": "R",
                "kind": "road",
                "surface": "paved",
                "bus_parking": False,
                "geometry": LineString([(X0 - 100, Y0 + 300), (X0 + 5100, Y0 + 300)]),
            },
        ]
    )
    hand = pd.DataFrame(
        {
            "geosite_code": ["A", "A", "B"],
            "criterion": [
                "dr_proximity_to_degrading_activities",
                "dr_accessibility",
                "dr_proximity_to_degrading_activities",
            ],
            "score": [1, 3, 0],
        }
    )
    out = computed_degradation_criteria(
        sites, threats, ["quarry", "mining_licence"], ["road"], BrilhaDistances(), hand
    ).set_index(["geosite_code", "criterion"])
    a_prox = out.loc[("A", "dr_proximity_to_degrading_activities")]
    assert a_prox["computed_score"] == 3 and a_prox["hand_score"] == 1 and a_prox["disagrees"]
    assert a_prox["distance_m"] == pytest.approx(120)
    assert a_prox["source_layers"] == "sample"
    a_acc = out.loc[("A", "dr_accessibility")]
    assert a_acc["computed_score"] == 3 and not a_acc["disagrees"]
    b_prox = out.loc[("B", "dr_proximity_to_degrading_activities")]
    assert b_prox["computed_score"] == 0 and not b_prox["disagrees"]
    b_acc = out.loc[("B", "dr_accessibility")]
    assert pd.isna(b_acc["hand_score"]) and not b_acc["disagrees"]


def test_criteria_need_their_layers():
    sites = gpd.GeoDataFrame({"geosite_code": ["A"]}, geometry=[Point(X0, Y0)], crs=CRS)
    threats = _threats([{"threat_id": "H", "kind": "hydropower", "geometry": Point(X0, Y0)}])
    out = computed_degradation_criteria(sites, threats, ["quarry"], ["road"], BrilhaDistances())
    assert out.empty  # neither a degrading-activity layer nor a road layer


@pytest.mark.parametrize(("complete", "flagged"), [(False, False), (True, True)])
def test_incomplete_layers_give_a_lower_bound(complete, flagged):
    """Nothing within 1 km scores 0; a hand score of 2 contradicts that only when
    the layers are known to hold every feature (else a quarry may be missing)."""
    sites = gpd.GeoDataFrame({"geosite_code": ["A"]}, geometry=[Point(X0, Y0)], crs=CRS)
    threats = _threats([{"threat_id": "Q", "kind": "quarry", "geometry": Point(X0 + 5000, Y0)}])
    hand = pd.DataFrame(
        {"geosite_code": ["A"], "criterion": ["dr_proximity_to_degrading_activities"], "score": [2]}
    )
    out = computed_degradation_criteria(
        sites,
        threats,
        ["quarry"],
        ["road"],
        BrilhaDistances(),
        hand,
        complete_kinds=["quarry"] if complete else [],
    )
    assert out.loc[0, "computed_score"] == 0
    assert bool(out.loc[0, "complete"]) is complete
    assert bool(out.loc[0, "disagrees"]) is flagged


def test_planned_roads_give_no_access():
    sites = gpd.GeoDataFrame({"geosite_code": ["A"]}, geometry=[Point(X0, Y0)], crs=CRS)
    road = LineString([(X0 - 500, Y0 + 50), (X0 + 500, Y0 + 50)])
    threats = _threats(
        [
            {
                "threat_id": "R",
                "kind": "road",
                "status": "planned",
                "surface": "paved",
                "geometry": road,
            }
        ]
    )
    out = computed_degradation_criteria(sites, threats, ["quarry"], ["road"], BrilhaDistances())
    assert out.empty  # the only road is planned: accessibility cannot be computed


# --------------------------------------------------------------------------- the whole job


def _threat_layer(path, features: list[dict]) -> None:
    frame = gpd.GeoDataFrame(
        [{k: v for k, v in f.items() if k != "geometry"} for f in features],
        geometry=[f["geometry"] for f in features],
        crs=CRS,
    )
    frame.to_file(path, layer="works", driver="GPKG", engine="pyogrio")


def test_the_job_reports_conflicts_and_which_are_new(write_config, tmp_path) -> None:
    """A quarry licensed inside a sample unit's Zone I is a QA error in the run;
    a second run with another feature lists it as new and the removed one as gone."""
    import json

    from pipeline.config import load_config
    from pipeline.run import run_zones

    layer = tmp_path / "works.gpkg"

    def with_works(raw: dict) -> None:
        raw["inputs"]["threats"] = [
            {
                "path": str(layer),
                "layer": "works",
                "schema": raw["inputs"]["threats"][0]["schema"],
                "kind": "quarry",
            }
        ]

    cfg = load_config(write_config(with_works))
    # first run without features near anything, to find a unit's Zone I
    _threat_layer(layer, [{"threat_id": "FAR", "geometry": Point(X0 - 60_000, Y0)}])
    first = run_zones(cfg)
    zones = first.layers["protection_zones"]
    core = zones.loc[(zones["unit_code"] == "TAMTHANH") & (zones["zone_class"] == "I")]
    inside = shapely.point_on_surface(core.geometry.iloc[0])
    assert "conflicts" not in first.layers or first.layers["conflicts"].empty

    _threat_layer(
        layer,
        [{"threat_id": "Q-IN", "status": "licensed", "name": "Mỏ thử", "geometry": inside}],
    )
    second = run_zones(cfg)
    assert second.status == "fail"  # a licensed quarry inside strict protection
    errors = [f for f in second.qa.findings if f.check == "threat_inside_zone_i"]
    assert [(f.severity, f.subject) for f in errors] == [("error", "TAMTHANH")]
    assert "Q-IN" in errors[0].message and "«Mỏ thử»" in errors[0].message_vi
    conflicts = second.layers["conflicts"]
    assert list(conflicts["threat_id"]) == ["Q-IN"]
    report = second.changes
    assert [c["threat_id"] for c in report["conflicts_new"]] == ["Q-IN"]
    assert report["conflicts_resolved"] == []
    # the failed run's report is written where failed runs go
    failed = cfg.outputs.failed_directory
    written = json.loads((failed / cfg.outputs.qa_json).read_text("utf-8"))
    assert [c["threat_id"] for c in written["conflicts"]] == ["Q-IN"]
    assert "Q-IN" in (failed / cfg.outputs.changes_markdown).read_text("utf-8")


def test_conflict_sentences_use_each_language_s_numbers():
    from pipeline.threats import conflict_messages

    row = pd.Series(
        {
            "relation": "inside_zone_ii",
            "kind": "mining_licence",
            "status": "licensed",
            "threat_id": "GP-1",
            "name": "Mỏ Na Dương",
            "unit_code": "NADUONG",
            "overlap_area_ha": 1234.5,
            "overlap_length_m": 0.0,
            "distance_m": 10.0,
            "illustrative": True,
        }
    )
    vi, en = conflict_messages(row)
    assert "chồng lấn 1.234,50 ha" in vi and "[dữ liệu minh họa]" in vi
    assert "overlapping 1,234.50 ha" in en and "[illustrative data]" in en
    assert "«Mỏ Na Dương»" in vi and "trong vùng II của NADUONG" in vi
