"""Boundary markers: the legal boundary contains its zone, states its own area,
is numbered clockwise from the north, keeps its numbers, freezes on approval,
and every run reports what changed since the previous outputs."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from openpyxl import load_workbook
from pyproj import Geod, Transformer
from shapely.geometry import MultiPolygon, Point, Polygon

from pipeline.checks import check_no_overlap
from pipeline.cli.main import cli
from pipeline.config import Markers, load_config
from pipeline.marker_tables import TABLE_COLUMNS, _write_xlsx, sheet_name
from pipeline.markers import (
    generalise_outward,
    generalise_outward_many,
    legal_boundaries,
    markers_table,
    polygon_from_markers,
    zone_markers,
)
from pipeline.numbers import both_numbers
from pipeline.run import run_zones
from tests.conftest import RAW

# ------------------------------------------------------------------ hand-made shapes

SHAPES = {
    "circle": Point(0, 0).buffer(100, quad_segs=16),
    # a U: concave, thin arms
    "concave": Polygon(
        [(0, 0), (400, 0), (400, 400), (300, 400), (300, 100), (100, 100), (100, 400), (0, 400)]
    ).buffer(5, quad_segs=16),
    "with_hole": Point(0, 0).buffer(500, quad_segs=16).difference(Point(30, 0).buffer(200)),
    "multi_part": MultiPolygon([Point(0, 0).buffer(100), Point(500, 40).buffer(80)]),
}


@pytest.mark.parametrize("name", SHAPES)
def test_marker_polygon_contains_the_zone_and_states_its_own_area(name):
    zone = SHAPES[name]
    legal = generalise_outward(zone, 10.0)
    assert legal.is_valid
    assert shapely.area(shapely.difference(zone, legal)) < 1e-6, "never cuts inside the zone"
    # outward by at most the tolerance (plus the centimetre rounding), anywhere along the
    # chords between markers, not only at the markers
    along = shapely.points(shapely.get_coordinates(shapely.segmentize(legal.boundary, 0.25)))
    assert shapely.distance(along, zone).max() <= 10.0 + 0.02
    assert shapely.get_num_coordinates(legal) < shapely.get_num_coordinates(zone)
    # the polygon drawn through the numbered markers is the legal polygon
    markers = zone_markers("U", "I", legal, None, 0.5)
    through = polygon_from_markers(markers)
    assert through.equals(legal)
    assert through.area == pytest.approx(legal.area, abs=1e-6)
    assert len(markers) == shapely.get_num_coordinates(legal) - len(
        [r for p in getattr(legal, "geoms", [legal]) for r in [p.exterior, *p.interiors]]
    )
    # markers are stated to the centimetre
    assert np.allclose(markers["x_vn2000"], markers["x_vn2000"].round(2), atol=1e-9)


def test_holes_and_parts_keep_their_rings():
    legal = generalise_outward(SHAPES["with_hole"], 10.0)
    assert len(legal.interiors) == 1 and legal.interiors[0].is_ring
    parts = generalise_outward(SHAPES["multi_part"], 10.0)
    assert len(parts.geoms) == 2
    markers = zone_markers("U", "I", legal, None, 0.5)
    assert set(markers["ring_kind"]) == {"outer", "hole"}


def test_growth_stays_inside_the_allowed_area():
    zone = Point(0, 0).buffer(100, quad_segs=16)
    park = shapely.box(-1000, -1000, 1000, 100.0)  # the zone touches the park edge at the top
    legal = generalise_outward(zone, 10.0, allowed=park)
    assert shapely.covers(shapely.buffer(park, 0.02), legal)
    assert shapely.area(shapely.difference(zone, legal)) < 1e-6


def _clockwise(xy: np.ndarray) -> bool:
    x, y = xy[:, 0], xy[:, 1]
    return float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) < 0  # negative shoelace


def test_numbered_clockwise_from_the_northernmost_per_ring():
    legal = generalise_outward(SHAPES["with_hole"], 10.0)
    markers = zone_markers("U", "II", legal, None, 0.5)
    assert list(markers["number"]) == list(range(1, len(markers) + 1))
    assert markers["label"].iloc[0] == "II-1"
    for _, ring in markers.groupby("ring"):
        ring = ring.sort_values("seq")
        xy = ring[["y_vn2000", "x_vn2000"]].to_numpy()
        assert _clockwise(xy)
        assert ring["x_vn2000"].iloc[0] == ring["x_vn2000"].max(), "starts at the northernmost"
    outer = markers[markers["ring_kind"] == "outer"]
    hole = markers[markers["ring_kind"] == "hole"]
    assert outer["number"].max() < hole["number"].min(), "outer ring first, then holes"


def test_numbers_stay_where_the_boundary_did_not_move():
    legal = generalise_outward(SHAPES["circle"], 10.0)
    first = zone_markers("U", "I", legal, None, 0.5)
    again = zone_markers("U", "I", legal, first, 0.5)
    assert list(again["label"]) == list(first["label"])
    # move one stretch of the boundary: a dent pushed out on the east side
    moved = shapely.union(legal, shapely.box(95, -20, 140, 20))
    changed = zone_markers("U", "I", moved, first, 0.5)
    old = first.set_index("label")[["x_vn2000", "y_vn2000"]]
    kept = changed[changed["label"].isin(old.index)]
    assert len(kept) >= len(first) - 2
    for row in kept.itertuples():  # a kept number names the same place
        assert abs(old.loc[row.label, "x_vn2000"] - row.x_vn2000) <= 0.5
        assert abs(old.loc[row.label, "y_vn2000"] - row.y_vn2000) <= 0.5
    new = changed[~changed["label"].isin(old.index)]
    assert len(new) and new["number"].min() > first["number"].max(), "new markers: next numbers"


# ------------------------------------------------------------------ the sample run


def _layer(path: Path, name: str):
    return pyogrio.read_dataframe(path, layer=name)


def test_sample_areas_are_the_marker_polygons(sample_run, sample_gpkg):
    zones = _layer(sample_gpkg, "protection_zones")
    detailed = _layer(sample_gpkg, "protection_zones_detailed")
    markers = _layer(sample_gpkg, "boundary_markers")
    for row in zones.itertuples():
        assert row.area_ha == pytest.approx(row.geometry.area / 1e4, abs=1e-4)
        unit_markers = markers[markers["unit_code"] == row.unit_code]
        core = polygon_from_markers(unit_markers[unit_markers["zone_class"] == "I"])
        if row.zone_class == "I":
            assert shapely.equals(core, shapely.union_all(list(row.geometry.geoms)))
        else:
            footprint = polygon_from_markers(unit_markers[unit_markers["zone_class"] == "II"])
            ring = shapely.difference(footprint, core)
            assert ring.area / 1e4 == pytest.approx(row.area_ha, abs=1e-3)
    # the marker polygons contain the detailed zones: Zone I its Zone I, the unit its footprint
    for unit, legal in zones.groupby("unit_code"):
        detail = detailed[detailed["unit_code"] == unit]
        for zone_class, part in (("I", legal[legal.zone_class == "I"]), ("all", legal)):
            inner = detail if zone_class == "all" else detail[detail.zone_class == "I"]
            outside = shapely.difference(inner.union_all(), part.union_all())
            assert shapely.area(outside) < 1e-3, (unit, zone_class)
    # the example: Zone I of LS-CL-03 states the area its markers enclose
    cl03 = zones[(zones["unit_code"] == "LS-CL-03") & (zones["zone_class"] == "I")].iloc[0]
    cl03_markers = markers[(markers["unit_code"] == "LS-CL-03") & (markers["zone_class"] == "I")]
    assert polygon_from_markers(cl03_markers).area / 1e4 == pytest.approx(cl03.area_ha, abs=1e-4)
    # same totals in the QA report and district table as in the layer
    _cfg, result = sample_run
    park = result.report["totals"]["park"]
    assert park["zone_i_ha"] == pytest.approx(
        zones[zones.zone_class == "I"].area_ha.sum(), abs=0.01
    )
    by_district = _layer(sample_gpkg, "zone_district_areas")
    assert by_district["area_ha"].sum() == pytest.approx(zones["area_ha"].sum(), abs=0.01)


def test_marker_tables_for_the_annex(sample_run, sample_gpkg):
    cfg, _ = sample_run
    markers = _layer(sample_gpkg, "boundary_markers")
    folder = cfg.outputs.directory / cfg.outputs.markers
    units = sorted(markers["unit_code"].unique())
    assert sorted(p.stem for p in folder.glob("*.csv")) == units
    assert sorted(p.stem for p in folder.glob("*.xlsx")) == units
    transformer = Transformer.from_crs("EPSG:9215", "EPSG:4326", always_xy=True)
    geod = Geod(ellps="WGS84")
    unit = "LS-CL-03"
    expected = markers[markers["unit_code"] == unit].sort_values(["zone_class", "ring", "seq"])
    with open(folder / f"{unit}.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == [head for _, head, _ in TABLE_COLUMNS]
    assert "northing" in rows[0][2] and "easting" in rows[0][3]  # X northing, then Y easting
    assert [r[1] for r in rows[1:]] == list(expected["label"])
    for row, marker in zip(rows[1:], expected.itertuples(), strict=True):
        x, y, lat, lon = (float(v) for v in row[2:6])
        assert x == pytest.approx(marker.geometry.y, abs=0.005)  # X = northing
        assert y == pytest.approx(marker.geometry.x, abs=0.005)  # Y = easting
        ref_lon, ref_lat = transformer.transform(marker.geometry.x, marker.geometry.y)
        _, _, metres = geod.inv(lon, lat, ref_lon, ref_lat)
        assert metres < 1.0
    sheet = load_workbook(folder / f"{unit}.xlsx").active
    assert sheet.title == unit and sheet.freeze_panes == "A2"  # the header stays in view
    assert all(cell.font.b for cell in sheet[1])
    assert [sheet.cell(2, c).number_format for c in (3, 4, 5, 6)] == [
        "0.00",
        "0.00",
        "0.0000000",
        "0.0000000",
    ]
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == rows[0]
    assert [v[1] for v in values[1:]] == [r[1] for r in rows[1:]]
    assert all(isinstance(v[2], (int, float)) and isinstance(v[4], float) for v in values[1:])
    assert values[1][2] == pytest.approx(float(rows[1][2]), abs=0.005)
    manifest = json.loads((cfg.outputs.directory / cfg.outputs.manifest).read_text("utf-8"))
    assert f"markers/{unit}.csv" in manifest["outputs"]
    assert "change_report.md" in manifest["outputs"]


def test_marker_workbook_keeps_hostile_text_as_text(tmp_path):
    """A unit code or a cell an attacker chose cannot break the workbook's XML or run as a formula."""
    path = tmp_path / "unit.xlsx"
    columns = [
        ["I", '=HYPERLINK("http://x")'],
        ["I-1", '<x a="1">&amp;</x>'],
        [2374000.126, 1.0],
        [480000.0, 2.0],
        [21.4567891, 3.0],
        [106.1234567, 4.0],
    ]
    _write_xlsx(columns, path, 'KS-1]"/><x>*?')
    sheet = load_workbook(path).active
    assert sheet.title == sheet_name('KS-1]"/><x>*?') == "KS-1_____x___"
    rows = list(sheet.iter_rows(min_row=2))
    assert [c.value for c in rows[1][:2]] == ['=HYPERLINK("http://x")', '<x a="1">&amp;</x>']
    assert rows[1][0].data_type == "s"  # text, never a formula
    assert rows[0][2].value == pytest.approx(2374000.126)


# ------------------------------------------------------------------ runs on a modified campaign


@pytest.fixture
def campaign(tmp_path, write_config):
    """A copy of the sample campaign in tmp: its own survey points and edits GeoPackage."""
    points = tmp_path / "survey_points_vn2000.csv"
    shutil.copy(RAW / "survey_points_vn2000.csv", points)

    def edit(raw, **zoning):
        raw["inputs"]["survey_points"][1]["path"] = str(points)
        raw["edits"] = {"geopackage": str(tmp_path / "edits" / "zone_adjustments.gpkg")}
        for key, value in zoning.items():
            raw["zoning"]["zone_i_distance_m"][key] = value

    def config(**zoning):
        return load_config(write_config(lambda raw: edit(raw, **zoning)))

    return config, points


def test_change_report_and_stable_numbers_across_runs(campaign):
    config, _ = campaign
    cfg = config()
    first = run_zones(cfg)
    assert first.published and not first.changes["compared"]
    gpkg = cfg.outputs.directory / cfg.outputs.geopackage
    before = _layer(gpkg, "boundary_markers")
    second = run_zones(cfg)
    assert second.changes["compared"] and not any(second.changes["summary"].values())
    after = _layer(gpkg, "boundary_markers")
    pd.testing.assert_frame_equal(
        before.drop(columns="geometry"), after.drop(columns="geometry"), check_dtype=False
    )
    # a new campaign: caves get a wider Zone I
    changed_cfg = config(cave=180)
    third = run_zones(changed_cfg)
    report = third.changes
    # every unit with a cave changed; the sample's caves are LS-TP-01/02, LS-HL-02, LS-VQ-02
    sites = _layer(gpkg, "geosites")
    cave_units = set(sites.loc[sites["category"] == "cave", "unit_code"])
    assert len(cave_units) >= 3
    changed_units = {c["unit_code"] for c in report["area_changes"]}
    assert cave_units <= changed_units | set(report["units_removed"])
    for change in report["area_changes"]:
        assert change["change_ha"] == pytest.approx(
            change["after_ha"] - change["before_ha"], abs=1e-3
        )
    assert report["markers_moved"] or report["markers_added"]
    # units the change did not reach keep every marker and number
    untouched = set(before["unit_code"]) - changed_units - set(report["units_removed"])
    assert untouched
    newest = _layer(gpkg, "boundary_markers")
    for unit in untouched:
        a = before[before["unit_code"] == unit].sort_values(["zone_class", "number"])
        b = newest[newest["unit_code"] == unit].sort_values(["zone_class", "number"])
        assert list(a["label"]) == list(b["label"])
        assert np.allclose(a["x_vn2000"], b["x_vn2000"]) and np.allclose(
            a["y_vn2000"], b["y_vn2000"]
        )
    md = (cfg.outputs.directory / cfg.outputs.changes_markdown).read_text("utf-8")
    assert "Zones whose area changed" in md and "Vùng thay đổi diện tích" in md
    for change in report["area_changes"]:  # each number the Vietnamese way, then the English
        assert f"| {both_numbers(change['after_ha'], None)} |" in md
    qa = (cfg.outputs.directory / cfg.outputs.qa_markdown).read_text("utf-8")
    assert f"]({cfg.outputs.changes_markdown})" in qa
    saved = json.loads((cfg.outputs.directory / cfg.outputs.changes_json).read_text("utf-8"))
    assert saved["summary"] == report["summary"]
    result = CliRunner().invoke(cli, ["zones", "--config", str(changed_cfg.source)])
    assert result.exit_code == 0, result.output
    assert "Changes" in result.output


def test_approved_boundary_is_frozen_and_misfits_are_reported(campaign):
    config, points = campaign
    cfg = config()
    run_zones(cfg)
    gpkg = cfg.outputs.directory / cfg.outputs.geopackage
    unit = "LS-CG-03"
    result = CliRunner().invoke(
        cli,
        [
            "approve",
            unit,
            "--decision",
            "123/QĐ-UBND",
            "--date",
            "2026-11-20",
            "--config",
            str(cfg.source),
        ],
    )
    assert result.exit_code == 0, result.output
    zones_before = _layer(gpkg, "protection_zones")
    markers_before = _layer(gpkg, "boundary_markers")
    frozen = zones_before[zones_before["unit_code"] == unit]
    core = frozen[frozen["zone_class"] == "I"].geometry.iloc[0]
    # a new survey point of LS-CG-03, 80 m north of its approved Zone I
    minx, _miny, maxx, maxy = core.bounds
    with open(points, "a", encoding="utf-8") as handle:
        handle.write(
            f"LS-CG-03-NEW,{unit},{maxy + 80:.2f},{(minx + maxx) / 2:.2f},outcrop,2026-12-01,Đội mới\n"
        )
    again = run_zones(config())
    assert again.published
    zones_after = _layer(gpkg, "protection_zones")
    markers_after = _layer(gpkg, "boundary_markers")
    now = zones_after[zones_after["unit_code"] == unit]
    assert set(now["status"]) == {"approved"} and set(now["decision"]) == {"123/QĐ-UBND"}
    for zone_class in ("I", "II"):
        a = frozen[frozen["zone_class"] == zone_class].geometry.iloc[0]
        b = now[now["zone_class"] == zone_class].geometry.iloc[0]
        assert shapely.equals_exact(a, b, 1e-6), zone_class
    a = markers_before[markers_before["unit_code"] == unit].sort_values("label")
    b = markers_after[markers_after["unit_code"] == unit].sort_values("label")
    assert list(a["label"]) == list(b["label"])
    assert np.allclose(a["x_vn2000"], b["x_vn2000"]) and set(b["status"]) == {"approved"}
    findings = again.report["findings"]
    outside = [
        f for f in findings if f["check"] == "approved_zone_i" and "LS-CG-03-NEW" in f["subject"]
    ]
    assert outside and unit in outside[0]["message"] and "123/QĐ-UBND" in outside[0]["message"]
    new_point = shapely.Point((minx + maxx) / 2, maxy + 80)
    assert outside[0]["value"] == pytest.approx(shapely.distance(core, new_point), abs=0.01)
    assert outside[0]["value"] >= 80
    differs = [f for f in findings if f["check"] == "approved_proposal_differs"]
    assert any(unit in f["subject"] for f in differs)
    # approving again needs --replace
    refused = CliRunner().invoke(
        cli,
        [
            "approve",
            unit,
            "--decision",
            "9/QĐ-UBND",
            "--date",
            "2026-12-01",
            "--config",
            str(cfg.source),
        ],
    )
    assert refused.exit_code == 2 and "--replace" in refused.output


def test_approve_refuses_bad_input_in_both_languages(sample_run):
    cfg, _ = sample_run
    runner = CliRunner()
    args = ["--config", str(cfg.source)]
    unknown = runner.invoke(
        cli, ["approve", "NO-SUCH", "--decision", "1/QĐ-UBND", "--date", "2026-11-20", *args]
    )
    assert unknown.exit_code == 2 and "NO-SUCH" in unknown.output and "Lỗi" in unknown.output
    bad_date = runner.invoke(
        cli, ["approve", "LS-CL-03", "--decision", "1/QĐ-UBND", "--date", "20/11/2026", *args]
    )
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    assert "Traceback" not in unknown.output + bad_date.output


def test_neighbouring_units_never_overlap_after_generalisation():
    """Two units 12 m apart, both allowed to grow 10 m: their marker polygons do not meet."""
    a = Point(0, 0).buffer(100, quad_segs=16)
    b = Point(212, 0).buffer(100, quad_segs=16)
    zones = gpd.GeoDataFrame(
        {"unit_code": ["A", "B"], "zone_class": ["I", "I"]}, geometry=[a, b], crs="EPSG:9215"
    )
    legal = legal_boundaries(zones, shapely.box(-1000, -1000, 1000, 1000), Markers())
    pa, pb = legal.zones.geometry.values
    assert shapely.area(shapely.intersection(pa, pb)) < 1e-6
    assert shapely.area(shapely.difference(a, pa)) < 1e-6
    assert shapely.area(shapely.difference(b, pb)) < 1e-6
    assert check_no_overlap(legal.zones, 0.01) == []
    # and the QA names both units when zones do overlap
    overlapping = legal.zones.assign(geometry=[pa, shapely.buffer(pb, 20)])
    (finding,) = check_no_overlap(overlapping, 0.01)
    assert finding.severity == "error" and "A I" in finding.subject and "B I" in finding.subject


def _zones_and_markers(zones, park):
    """The marker polygons (in unit and zone order) and the markers of ``zones``."""
    legal = legal_boundaries(zones, park, Markers())
    return legal.zones.sort_values(["unit_code", "zone_class"]), legal.markers


def test_crowded_units_in_waves_give_what_one_by_one_gives(monkeypatch):
    """Units near each other are generalised a wave at a time (threads); each still keeps
    off what the units before it took and the detailed footprints of those after it,
    exactly as one unit after the other in unit order does."""
    from pipeline import markers

    # a chain of units 12 m apart (10 m of growth allowed), codes out of chain order;
    # their marker polygons' corners point at each other across the gaps
    codes = ["C", "A", "E", "B", "D", "G", "F"]
    zones = gpd.GeoDataFrame(
        {"unit_code": codes, "zone_class": ["I", "II"] * 3 + ["I"]},
        geometry=[Point(212 * k, 0).buffer(100, quad_segs=16) for k in range(len(codes))],
        crs="EPSG:9215",
    )
    park = shapely.box(-1000, -1000, 3000, 1000)

    def legal_with(waves):
        monkeypatch.setattr(markers, "_waves", waves)
        return _zones_and_markers(zones, park)

    used = []
    real = markers._waves

    def recorded(*args):
        used.append([list(w) for w in real(*args)])
        return real(*args)

    in_waves, markers_in_waves = legal_with(recorded)
    assert max(len(w) for w in used[0]) > 1  # the chain does run in waves
    one_by_one, markers_one_by_one = legal_with(
        lambda crowded, a, b: [np.array([i]) for i in np.flatnonzero(crowded)]
    )
    assert list(shapely.to_wkb(in_waves.geometry.values)) == list(
        shapely.to_wkb(one_by_one.geometry.values)
    )
    pd.testing.assert_frame_equal(markers_in_waves, markers_one_by_one)
    # (all at once would not do: neighbours would grow into the same gap)
    at_once, _ = legal_with(lambda crowded, a, b: [np.flatnonzero(crowded)])
    assert list(shapely.to_wkb(at_once.geometry.values)) != list(
        shapely.to_wkb(one_by_one.geometry.values)
    )
    assert check_no_overlap(in_waves, 0.01) == []


def test_many_zones_at_once_give_what_each_gives_alone():
    """The vectorised generalisation and numbering equal the one-zone results, zone by zone."""
    zones = np.array(list(SHAPES.values()), dtype=object)
    together = generalise_outward_many(zones, 10.0)
    for zone, legal in zip(zones, together, strict=True):
        assert shapely.equals_exact(legal, generalise_outward(zone, 10.0), 0.0)
    units = np.array([f"U{k}" for k in range(len(zones))], dtype=object)
    classes = np.array(["I", "II", "I", "II"], dtype=object)
    table = markers_table(units, classes, together, {}, 0.5)
    for unit, zone_class, legal in zip(units, classes, together, strict=True):
        alone = zone_markers(unit, zone_class, legal, None, 0.5)
        mine = table[table["unit_code"] == unit].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone)
    assert list(table["label"][:2]) == ["I-1", "I-2"]


def test_empty_parts_and_zones_have_no_markers():
    """An empty polygon among the parts (an overlay can leave one) numbers nothing."""
    circle = SHAPES["circle"]
    with_empty = MultiPolygon([circle, Polygon()])
    table = markers_table(
        np.array(["A", "B", "C"], dtype=object),
        np.array(["I", "I", "I"], dtype=object),
        np.array([with_empty, Polygon(), circle], dtype=object),
        {},
        0.5,
    )
    assert set(table["unit_code"]) == {"A", "C"}
    a, c = table[table["unit_code"] == "A"], table[table["unit_code"] == "C"]
    assert list(a[["x_vn2000", "y_vn2000"]].to_numpy().ravel()) == list(
        c[["x_vn2000", "y_vn2000"]].to_numpy().ravel()
    )


def _numbers_all_pairs(xy, previous, within_m):
    """The numbering rule written plainly: every pair's distance, closest first."""
    old = previous[["y_vn2000", "x_vn2000"]].to_numpy(float)
    dist = np.hypot(xy[:, None, 0] - old[None, :, 0], xy[:, None, 1] - old[None, :, 1])
    numbers = np.zeros(len(xy), dtype=int)
    taken = set()
    order = sorted(
        ((dist[i, j], i, j) for i in range(len(xy)) for j in range(len(old))),
    )
    for d, i, j in order:
        if d > within_m:
            break
        if numbers[i] or j in taken:
            continue
        numbers[i] = int(previous["number"].iloc[j])
        taken.add(j)
    if not numbers.any():
        return np.arange(1, len(xy) + 1)
    next_free = int(previous["number"].max()) + 1
    for i in np.flatnonzero(numbers == 0):
        numbers[i] = next_free
        next_free += 1
    return numbers


@pytest.mark.parametrize("seed", range(20))
def test_kept_numbers_are_the_closest_pairs_first(seed):
    from pipeline.markers import _numbers

    rng = np.random.default_rng(seed)
    old = rng.uniform(0, 40, (rng.integers(1, 30), 2)).round(1)
    new = np.vstack(
        [
            old[: len(old) // 2] + rng.normal(0, 0.3, (len(old) // 2, 2)),
            rng.uniform(0, 40, (rng.integers(0, 15), 2)),
        ]
    )
    previous = pd.DataFrame(
        {"y_vn2000": old[:, 0], "x_vn2000": old[:, 1], "number": rng.permutation(len(old)) + 1}
    )
    expected = _numbers_all_pairs(new, previous, 0.5)
    assert _numbers(new, previous, 0.5).tolist() == expected.tolist()


def test_renumbering_a_massif_of_markers_stays_small_in_memory():
    """A re-run over 6,000 markers of one zone: all pairs would take 288 MB per array."""
    import tracemalloc

    from pipeline.markers import _numbers

    rng = np.random.default_rng(1)
    old = rng.uniform(0, 6_000, (6_000, 2))
    previous = pd.DataFrame(
        {"y_vn2000": old[:, 0], "x_vn2000": old[:, 1], "number": np.arange(1, 6_001)}
    )
    tracemalloc.start()
    numbers = _numbers(old + 0.01, previous, 0.5)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert numbers.tolist() == list(range(1, 6_001))
    assert peak < 100 * 2**20


def test_free_and_crowded_units_side_by_side_give_what_one_after_the_other_gives(monkeypatch):
    """Lone units and crowded ones are generalised in two threads at once; the boundaries
    and markers are those of either one running after the other."""
    from pipeline import markers

    crowded = [Point(212 * k, 0).buffer(100, quad_segs=16) for k in range(4)]
    lone = [Point(600 * k, 900).buffer(60 + 20 * k, quad_segs=16) for k in range(4)]
    codes = ["C", "A", "D", "B", "L2", "L4", "L1", "L3"]
    zones = gpd.GeoDataFrame(
        {"unit_code": codes, "zone_class": ["I", "II"] * 4},
        geometry=crowded + lone,
        crs="EPSG:9215",
    )
    # the last lone unit runs along the park boundary: its growth is cut back to the park
    park = shapely.box(-1000, -1000, 1900, 960)

    def legal_with(run_jobs):
        monkeypatch.setattr(markers, "map_threads", run_jobs)
        return _zones_and_markers(zones, park)

    side_by_side, markers_side_by_side = legal_with(markers.map_threads)
    for order in (list, lambda jobs: list(jobs)[::-1]):
        one_after_other, markers_one_after_other = legal_with(
            lambda func, jobs, order=order: [func(job) for job in order(jobs)]
        )
        assert list(shapely.to_wkb(side_by_side.geometry.values)) == list(
            shapely.to_wkb(one_after_other.geometry.values)
        )
        pd.testing.assert_frame_equal(markers_side_by_side, markers_one_after_other)
    assert check_no_overlap(side_by_side, 0.01) == []


def test_progress_is_full_only_once_every_unit_has_its_markers(monkeypatch):
    """The bar is full only once every unit's markers are numbered: the crowded units'
    last wave is counted after their marker tables are made, not when its polygons are."""
    from pipeline import markers

    tabled = []
    real_table = markers.markers_table

    def recorded_table(units, *args, **kwargs):
        tabled.extend(units)
        return real_table(units, *args, **kwargs)

    monkeypatch.setattr(markers, "markers_table", recorded_table)
    # one thread, so the count read at each call is this side's own
    monkeypatch.setattr(markers, "map_threads", lambda func, jobs: [func(job) for job in jobs])
    codes = ["C", "A", "E", "B", "D"]
    zones = gpd.GeoDataFrame(
        {"unit_code": codes, "zone_class": ["I"] * len(codes)},
        geometry=[Point(212 * k, 0).buffer(100, quad_segs=16) for k in range(len(codes))],
        crs="EPSG:9215",
    )
    counted, tabled_when_counted = 0, []

    def advance(n):
        nonlocal counted
        counted += n
        tabled_when_counted.append((counted, len(set(tabled))))

    legal_boundaries(zones, shapely.box(-1000, -1000, 2000, 1000), Markers(), advance=advance)
    assert counted == len(codes)
    full = [units_tabled for done, units_tabled in tabled_when_counted if done == len(codes)]
    assert full and set(full) == {len(codes)}
