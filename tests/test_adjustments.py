"""Adjustments that survive: applied on every run, checked, reported when stale."""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from pipeline.adjustments import LAYER, PROPOSALS_LAYER, adjust_unit
from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.run import compute, run_zones

UNIT = "LS-CG-04"  # a lone stratigraphic section (Zone I 50 m, Zone II 300 m)


def gpkg_blob(geom: shapely.Geometry, srs_id: int = 9215) -> bytes:
    """A GeoPackage geometry blob (header without envelope, then little-endian WKB)."""
    return b"GP" + bytes([0, 0b00000001]) + struct.pack("<i", srs_id) + shapely.to_wkb(geom)


def set_geometry(path: Path, unit: str, zone_class: str, geom: shapely.Geometry) -> None:
    """Redraw an adjustment, as an edit in QGIS does."""
    with sqlite3.connect(path) as db:
        changed = db.execute(
            f'UPDATE "{LAYER}" SET geom = ? WHERE unit_code = ? AND zone_class = ?',
            (gpkg_blob(shapely.MultiPolygon(shapely.get_parts(geom))), unit, zone_class),
        ).rowcount
    db.close()
    assert changed == 1


def adjustment(path: Path, zone_class: str = "I") -> gpd.GeoDataFrame:
    layer = pyogrio.read_dataframe(path, layer=LAYER)
    return layer.loc[(layer["unit_code"] == UNIT) & (layer["zone_class"] == zone_class)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def unit_rows(result, unit: str = UNIT) -> gpd.GeoDataFrame:
    """The unit's zones as drawn: before their outward generalisation to boundary markers."""
    pz = result.legal.detailed
    return pz.loc[pz["unit_code"] == unit].set_index("zone_class")


@pytest.fixture
def adjusted(write_config):
    """A sample run, then LS-CG-04 Zone I copied into the adjustments layer."""
    cfg = load_config(write_config())
    first = run_zones(cfg)
    assert first.status == "pass"
    copied = adjust_unit(cfg, UNIT, "I", author="Nguyễn Văn An", reason="theo mép đường")
    return cfg, first, copied.path


def assert_legal_boundary_of(legal, drawn, cfg) -> None:
    """``legal`` is the marker polygon of ``drawn``: it contains it, within the offset."""
    assert shapely.difference(drawn, legal).area < 1e-3
    assert shapely.hausdorff_distance(legal, drawn) <= cfg.zoning.markers.max_offset_m + 1e-6


def test_an_adjustment_is_applied_and_kept_across_two_runs(adjusted) -> None:
    cfg, first, edits = adjusted
    proposal = unit_rows(first)
    drawn = shapely.buffer(adjustment(edits).geometry.iloc[0], 20.0)
    set_geometry(edits, UNIT, "I", drawn)
    before = sha256(edits)
    for _ in range(2):
        result = run_zones(cfg)
        assert result.status == "pass", [
            f.message for f in result.qa.findings if f.severity == "error"
        ]
        rows = unit_rows(result)
        assert rows.loc["I", "status"] == "adjusted"
        # the published zone is the legal one: the marker polygon through the
        # drawn boundary, which contains it and strays at most max_offset_m outside
        assert_legal_boundary_of(rows.geometry["I"], drawn, cfg)
        assert rows.loc["I", "area_ha"] == pytest.approx(rows.geometry["I"].area / 1e4, abs=1e-4)
        # Zone II is what remains of the (unchanged) footprint: the total is kept
        footprint = shapely.union(rows.geometry["I"], rows.geometry["II"]).area
        proposed = shapely.union(proposal.geometry["I"], proposal.geometry["II"]).area
        assert footprint == pytest.approx(proposed, rel=1e-6)
        assert rows.loc["II", "area_ha"] < proposal.loc["II", "area_ha"]
        pieces = result.zones.zone_district_areas
        mine = pieces.loc[(pieces["unit_code"] == UNIT) & (pieces["zone_class"] == "I")]
        legal = result.zones.protection_zones.set_index(["unit_code", "zone_class"])
        assert mine["area_ha"].sum() == pytest.approx(legal.loc[(UNIT, "I"), "area_ha"], abs=1e-3)
        # the legal boundary contains the adjusted zone
        legal_i = legal.loc[(UNIT, "I")].geometry
        assert shapely.area(shapely.difference(rows.geometry["I"], legal_i)) < 1e-3
        assert result.qa.totals["park"]["zone_i_ha"] > first.qa.totals["park"]["zone_i_ha"]
        assert sha256(edits) == before  # no run writes the edits
        assert not [f for f in result.qa.findings if f.check.startswith("adjustment_")]
    published = pyogrio.read_dataframe(cfg.output_path("geopackage"), layer="protection_zones")
    mine = published.loc[published["unit_code"] == UNIT].set_index("zone_class")
    assert mine.loc["I", "status"] == "adjusted"
    proposals = pyogrio.read_dataframe(cfg.output_path("geopackage"), layer=PROPOSALS_LAYER)
    kept = proposals.loc[(proposals["unit_code"] == UNIT) & (proposals["zone_class"] == "I")]
    # the proposal as the rules drew it (before the legal generalisation to markers)
    drawn_by_rules = first.proposals.set_index(["unit_code", "zone_class"]).loc[(UNIT, "I")]
    assert kept["area_ha"].iloc[0] == pytest.approx(drawn_by_rules["area_ha"], abs=1e-4)


def test_a_failing_adjustment_is_a_qa_error_naming_the_unit(adjusted) -> None:
    cfg, _, edits = adjusted
    proposed = adjustment(edits).geometry.iloc[0]
    x0, y0, x1, y1 = proposed.bounds
    half = shapely.clip_by_rect(proposed, x0, y0, (x0 + x1) / 2, y1)  # cuts the section in two
    set_geometry(edits, UNIT, "I", half)
    result = compute(cfg)
    errors = [f for f in result.qa.findings if f.severity == "error"]
    coverage = [f for f in errors if f.check == "adjustment_zone_i_coverage"]
    assert len(coverage) == 1 and coverage[0].subject == f"{UNIT} zone I"
    assert UNIT in coverage[0].message and "survey point" in coverage[0].message
    assert "vùng I không còn bao" in coverage[0].message_vi
    assert coverage[0].location is not None
    assert result.status == "fail"

    set_geometry(edits, UNIT, "I", shapely.buffer(proposed, 400.0))  # beyond Zone II
    result = compute(cfg)
    beyond = [f for f in result.qa.findings if f.check == "adjustment_zone_i_outside_footprint"]
    assert len(beyond) == 1 and beyond[0].severity == "error" and UNIT in beyond[0].message
    layer = result.layers["qa_findings"]
    assert (layer["check"] == "adjustment_zone_i_outside_footprint").sum() == 1


def test_an_invalid_or_overlapping_adjustment_is_reported(adjusted) -> None:
    cfg, first, edits = adjusted
    proposed = adjustment(edits).geometry.iloc[0]
    x0, y0, x1, y1 = proposed.bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    set_geometry(edits, UNIT, "I", bowtie)
    result = compute(cfg)
    invalid = [f for f in result.qa.findings if f.check == "adjustment_invalid"]
    assert invalid and invalid[0].severity == "error" and UNIT in invalid[0].subject

    # Zone II footprint pushed over a neighbour unit
    adjust_unit(cfg, UNIT, "II", author="B", reason="test")
    pz = first.zones.protection_zones
    others = pz.loc[pz["unit_code"] != UNIT]
    nearest = others.iloc[others.distance(proposed).argmin()]
    set_geometry(edits, UNIT, "I", proposed)  # Zone I as proposed: only the overlap remains
    footprint = adjustment(edits, "II").geometry.iloc[0]
    grown = shapely.convex_hull(shapely.union(footprint, nearest.geometry))
    set_geometry(edits, UNIT, "II", grown)
    result = compute(cfg)
    overlaps = [f for f in result.qa.findings if f.check == "adjustment_overlap"]
    assert overlaps and overlaps[0].severity == "error"
    assert nearest["unit_code"] in overlaps[0].message and overlaps[0].subject == f"{UNIT} zone II"
    assert not [f for f in result.qa.findings if f.check == "adjustment_invalid"]


def test_a_stale_adjustment_is_kept_and_reported_with_the_area_difference(
    adjusted, write_config
) -> None:
    _, _, edits = adjusted
    drawn = adjustment(edits).geometry.iloc[0]

    def wider(raw: dict) -> None:
        raw["zoning"]["zone_i_distance_m"]["stratigraphic"] = 80

    cfg2 = load_config(write_config(wider))
    assert cfg2.edits.geopackage == edits
    result = compute(cfg2)
    stale = [f for f in result.qa.findings if f.check == "adjustment_needs_review"]
    assert len(stale) == 1 and stale[0].severity == "warning"
    assert stale[0].subject == f"{UNIT} zone I"
    new_proposal = result.proposals.set_index(["unit_code", "zone_class"]).loc[(UNIT, "I")]
    expected = new_proposal["area_ha"] - drawn.area / 1e4
    assert stale[0].value == pytest.approx(expected, abs=1e-3) and stale[0].value > 0
    assert f"+{expected:,.4f} ha" in stale[0].message or f"+{expected:,.3f}" in stale[0].message
    assert stale[0].location is not None
    # where: on the ring the proposal gained, outside the adjusted boundary
    assert not drawn.contains(stale[0].location)
    assert new_proposal.geometry.contains(stale[0].location)
    # the adjustment is kept
    rows = unit_rows(result)
    assert_legal_boundary_of(rows.geometry["I"], drawn, cfg2)
    assert result.status == "pass"


def test_bad_adjustment_features_are_rejected_naming_file_feature_and_field(
    write_config, tmp_path: Path
) -> None:
    cfg = load_config(write_config())
    edits = cfg.edits.geopackage
    edits.parent.mkdir(parents=True)
    square = shapely.MultiPolygon([shapely.box(430000, 2395000, 430100, 2395100)])
    frame = gpd.GeoDataFrame(
        {
            "unit_code": [UNIT, UNIT, "LS-CL-03", "LS-CL-03"],
            "zone_class": ["III", "I", "I", "I"],
            "author": ["A", None, "B", "C"],
            "adjusted_on": ["2024-05-01", "2024-05-01", "2024-05-01", "2024-05-02"],
            "reason": ["r", "r", "r", "r"],
        },
        geometry=[square] * 4,
        crs="EPSG:9215",
    )
    pyogrio.write_dataframe(frame, edits, layer=LAYER)
    result = compute(cfg)
    held = {r.row: r for r in result.ingested.rejections if LAYER in r.file}
    assert held[1].field == "zone_class" and held[1].value == "III"
    assert held[2].field == "author"
    assert held[3].field == held[4].field == "unit_code, zone_class"
    assert "more than one adjustment" in held[3].message_en
    assert all(r.file.startswith("data/edits/zone_adjustments.gpkg") for r in held.values())
    assert result.status == "fail"
    assert len(result.layers["quarantine"].query("file.str.contains('zone_adjustments')")) == 4


def test_geopark_adjust_copies_refuses_and_replaces(write_config) -> None:
    path = write_config()
    cfg = load_config(path)
    runner = CliRunner()
    common = ["--author", "Trần Thị Bình", "--reason", "theo suối", "--config", str(path)]
    done = runner.invoke(cli, ["adjust", UNIT, *common])
    assert done.exit_code == 2 and "geopark zones" in done.output  # no outputs yet
    run_zones(cfg)
    done = runner.invoke(cli, ["adjust", UNIT, "--zone", "II", *common])
    assert done.exit_code == 0, done.output
    feature = adjustment(cfg.edits.geopackage, "II")
    assert feature["author"].iloc[0] == "Trần Thị Bình"
    with sqlite3.connect(cfg.edits.geopackage) as db:
        declared = dict(
            (r[1], r[2]) for r in db.execute(f'PRAGMA table_info("{LAYER}")').fetchall()
        )
    db.close()
    assert declared["adjusted_on"] == "DATE"
    again = runner.invoke(cli, ["adjust", UNIT, "--zone", "II", *common])
    assert again.exit_code == 2 and "--replace" in again.output and "Traceback" not in again.output
    unknown = runner.invoke(cli, ["adjust", "LS-NO-99", *common])
    assert unknown.exit_code == 2 and "LS-NO-99" in unknown.output
    replaced = runner.invoke(cli, ["adjust", UNIT, "--zone", "II", "--replace", *common])
    assert (
        replaced.exit_code == 0
        and len(pyogrio.read_dataframe(cfg.edits.geopackage, layer=LAYER)) == 1
    )
