"""Geosite extents: Zone I grown from the extent as it is (known answers), and the input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from pipeline.config import load_config
from pipeline.errors import InputError
from pipeline.ingest import ingest
from pipeline.zoning import zone
from tests.test_zoning import CRS, QUAD, points, regular_polygon_area, sites, world, zoning

X0, Y0 = 420_000.0, 2_420_000.0


def extents(rows: list[tuple[str, shapely.Geometry]]) -> gpd.GeoDataFrame:
    codes, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"geosite_code": codes}, geometry=list(geoms), crs=CRS)


def cap_error(r: float) -> float:
    """What GEOS's polygonal round caps miss of π r² (the quadrant-segment error)."""
    return math.pi * r**2 - regular_polygon_area(r, QUAD)


def test_a_straight_line_of_length_l_buffered_by_r_has_area_2rl_plus_pi_r2() -> None:
    districts, park = world()
    length, r, d2 = 800.0, 100.0, 150.0  # cave: Zone I 100 m; local: Zone II 150 m
    line = LineString([(X0, Y0), (X0 + length, Y0)])
    result = zone(
        sites([("A", "cave", "local", "", X0, Y0)]),
        points([("A", X0 + 400, Y0), ("A", X0 + length, Y0)]),
        districts,
        park,
        zoning(),
        extents=extents([("A", line)]),
    )
    zi = result.zone_i.geometry.iloc[0]
    expected = 2 * r * length + math.pi * r**2
    assert expected - cap_error(r) - 1e-6 <= zi.area <= expected + 1e-6
    assert zi.area == pytest.approx(2 * r * length + regular_polygon_area(r), rel=1e-9)
    outer = shapely.union(zi, result.zone_ii.geometry.iloc[0])
    expected_outer = 2 * (r + d2) * length + regular_polygon_area(r + d2)
    assert outer.area == pytest.approx(expected_outer, rel=1e-9)
    assert zi.covers(line)


def test_a_winding_cave_line_is_buffered_as_it_is_not_as_its_hull() -> None:
    districts, park = world()
    r = 100.0
    # a zig-zag cave centreline 2.4 km long within a 1 km x 1.6 km box
    cave = LineString([(X0, Y0), (X0 + 1000, Y0 + 400), (X0, Y0 + 800), (X0 + 1000, Y0 + 1200)])
    survey = [("A", *xy) for xy in list(cave.coords)[1:]]
    result = zone(
        sites([("A", "cave", "local", "", X0, Y0)]),
        points(survey),
        districts,
        park,
        zoning(),
        extents=extents([("A", cave)]),
    )
    zi = result.zone_i.geometry.iloc[0]
    along = shapely.buffer(cave, r, quad_segs=QUAD)
    # the survey points' circles at the bends differ from the joins' arcs only by
    # their polygonisation: a few m² of half a km²
    assert shapely.symmetric_difference(zi, along).area < 1e-4 * along.area
    hull_zone = shapely.buffer(shapely.convex_hull(cave), r, quad_segs=QUAD)
    assert zi.area < 0.6 * hull_zone.area  # the hull rule would take the whole meander
    assert zi.area <= 2 * r * cave.length + math.pi * r**2  # joins only lose area


def test_a_polygon_extent_is_grown_by_the_category_distance() -> None:
    districts, park = world()
    landform = box(X0, Y0, X0 + 600, Y0 + 300)
    r = 200.0  # geomorphological
    result = zone(
        sites([("L", "geomorphological", "local", "", X0 + 300, Y0 + 150)]),
        points([("L", X0 + 100, Y0 + 100)]),
        districts,
        park,
        zoning(),
        extents=extents([("L", landform)]),
    )
    zi = result.zone_i.geometry.iloc[0]
    # Steiner: area + perimeter * r + π r² for a convex polygon
    expected = landform.area + landform.length * r + regular_polygon_area(r)
    assert zi.area == pytest.approx(expected, rel=1e-9)


def test_survey_points_off_the_extent_are_covered_each_as_a_point() -> None:
    districts, park = world()
    line = LineString([(X0, Y0), (X0 + 500, Y0)])
    far = (X0 + 250, Y0 + 600)  # a survey point 600 m off the line: its own circle
    result = zone(
        sites([("A", "cave", "local", "", X0, Y0)]),
        points([("A", *far)]),
        districts,
        park,
        zoning(),
        extents=extents([("A", line)]),
    )
    zi = result.zone_i.geometry.iloc[0]
    expected = 2 * 100 * 500 + regular_polygon_area(100) + regular_polygon_area(100)
    assert zi.area == pytest.approx(expected, rel=1e-9)  # two parts, no hull between them
    assert len(shapely.get_parts(zi)) == 2
    assert zi.covers(Point(far)) and zi.covers(line)


def test_point_only_geosites_keep_the_hull_rule_beside_a_site_with_an_extent() -> None:
    districts, park = world()
    tri = [("B", X0 + 20_000, Y0), ("B", X0 + 20_300, Y0), ("B", X0 + 20_000, Y0 + 400)]
    result = zone(
        sites(
            [
                ("A", "cave", "local", "", X0, Y0),
                ("B", "cave", "local", "", X0 + 20_000, Y0),
            ]
        ),
        points(tri),
        districts,
        park,
        zoning(),
        extents=extents([("A", LineString([(X0, Y0), (X0 + 500, Y0)]))]),
    )
    zb = result.zone_i.set_index("geosite_code").geometry["B"]
    hull = Polygon([(X0 + 20_000, Y0), (X0 + 20_300, Y0), (X0 + 20_000, Y0 + 400)])
    assert shapely.symmetric_difference(zb, shapely.buffer(hull, 100, quad_segs=QUAD)).area < 1e-6
    steiner = hull.area + hull.length * 100 + math.pi * 100**2
    assert zb.area == pytest.approx(steiner, abs=2 * cap_error(100))  # arcs cut at odd angles


# --------------------------------------------------------------------------- the input


def test_sample_extents_are_read_and_zone_i_covers_them(sample_run) -> None:
    _, result = sample_run
    ext = result.ingested.extents
    assert set(ext["geosite_code"]) >= {"LS-HL-02", "LS-TP-03"}
    kinds = dict(zip(ext["geosite_code"], ext.geometry.geom_type, strict=True))
    assert kinds["LS-HL-02"] == "LineString" and kinds["LS-TP-03"] == "Polygon"
    zi = result.zones.zone_i.set_index("geosite_code").geometry
    for code, geom in zip(ext["geosite_code"], ext.geometry, strict=True):
        assert zi[code].covers(geom), code
    cave = ext.set_index("geosite_code").geometry["LS-HL-02"]
    assert 300 < cave.length < 1000  # a plausible cave centreline of a few hundred metres
    layers = result.layers
    assert "geosite_extents" in layers and len(layers["geosite_extents"]) == len(ext)


def _with_extents(write_config, tmp_path: Path, features: list[dict]) -> Path:
    path = tmp_path / "extents.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")

    def edit(raw: dict) -> None:
        raw["inputs"]["geosite_extents"]["path"] = str(path)

    return write_config(edit)


def feature(code: str | None, geometry: dict | None) -> dict:
    return {"type": "Feature", "properties": {"geosite_code": code}, "geometry": geometry}


def test_bad_extent_features_are_rejected_naming_file_feature_and_field(
    write_config, tmp_path: Path
) -> None:
    line = {"type": "LineString", "coordinates": [[106.3478, 21.6928], [106.3470, 21.6915]]}
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [[106.34, 21.69], [106.35, 21.70], [106.35, 21.69], [106.34, 21.70], [106.34, 21.69]]
        ],
    }
    cfg = load_config(
        _with_extents(
            write_config,
            tmp_path,
            [
                feature("LS-HL-02", line),
                feature("LS-XX-99", line),
                feature(None, line),
                feature("LS-HL-01", bowtie),
            ],
        )
    )
    result = ingest(cfg)
    assert list(result.extents["geosite_code"]) == ["LS-HL-02"]
    held = [r for r in result.rejections if r.file.endswith("extents.geojson")]
    by_row = {r.row: r for r in held}
    # vector features are numbered from 1 in file order
    assert by_row[2].field == "geosite_code" and "register" in by_row[2].message_en
    assert by_row[3].field == "geosite_code" and "required" in by_row[3].message_en
    assert by_row[4].field == "geometry" and "invalid polygon" in by_row[4].message_en
    assert "không hợp lệ" in by_row[4].message_vi and by_row[4].record_id == "LS-HL-01"


def test_an_extents_file_without_geometries_is_refused(write_config, tmp_path: Path) -> None:
    path = tmp_path / "extents.csv"
    path.write_text("geosite_code\nLS-HL-02\n", "utf-8")

    def edit(raw: dict) -> None:
        raw["inputs"]["geosite_extents"]["path"] = str(path)

    cfg = load_config(write_config(edit))
    with pytest.raises(InputError) as caught:
        ingest(cfg)
    assert caught.value.file and caught.value.file.endswith("extents.csv")
    assert "no geometries" in caught.value.message_en
