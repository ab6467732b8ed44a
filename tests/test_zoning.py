"""Zoning rules on hand-made geometries whose right answer is known."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box

from pipeline.config import Clusters, Zoning
from pipeline.zoning import zone

CRS = "EPSG:9215"
QUAD = 16


def regular_polygon_area(radius: float, quad_segs: int = QUAD) -> float:
    """Area of the polygon GEOS uses for a circle: 4*quad_segs vertices on the circle."""
    n = 4 * quad_segs
    return 0.5 * n * radius**2 * math.sin(2 * math.pi / n)


def zoning(touch: float = 0.0) -> Zoning:
    return Zoning(
        quad_segs=QUAD,
        zone_i_distance_m={"cave": 100.0, "geomorphological": 200.0},
        zone_ii_distance_m={"national": 500.0, "local": 150.0},
        clusters=Clusters(touch_distance_m=touch),
    )


def sites(rows: list[tuple]) -> gpd.GeoDataFrame:
    codes, cats, sigs, clusters, xs, ys = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "geosite_code": codes,
            "name_vi": codes,
            "name_en": codes,
            "category": cats,
            "significance": sigs,
            "cluster_code": [c or None for c in clusters],
        },
        geometry=shapely.points(xs, ys),
        crs=CRS,
    )


def points(rows: list[tuple[str, float, float]]) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({"geosite_code": []}, geometry=[], crs=CRS)
    codes, xs, ys = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"geosite_code": codes}, geometry=shapely.points(xs, ys), crs=CRS)


def world(width: float = 100_000) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Two districts side by side (split at x = 450,000) and a park covering both."""
    west = box(400_000, 2_400_000, 450_000, 2_450_000)
    east = box(450_000, 2_400_000, 400_000 + width, 2_450_000)
    districts = gpd.GeoDataFrame(
        {"district_code": [1, 2], "district_name": ["Tây", "Đông"]},
        geometry=[west, east],
        crs=CRS,
    )
    park = gpd.GeoDataFrame(geometry=[shapely.union(west, east)], crs=CRS)
    return districts, park


def test_zone_i_of_a_lone_point_is_the_category_circle() -> None:
    districts, park = world()
    result = zone(
        sites([("A", "cave", "local", "", 420_000, 2_420_000)]),
        points([]),
        districts,
        park,
        zoning(),
    )
    zi = result.zone_i.iloc[0]
    assert zi["area_ha"] == pytest.approx(regular_polygon_area(100) / 1e4, abs=1e-4)
    assert zi["zone_class"] == "I"


def test_zone_i_covers_every_survey_point_and_the_register_location() -> None:
    districts, park = world()
    survey = [("A", 420_300, 2_420_000), ("A", 420_150, 2_420_400), ("A", 419_900, 2_419_800)]
    result = zone(
        sites([("A", "cave", "local", "", 420_000, 2_420_000)]),
        points(survey),
        districts,
        park,
        zoning(),
    )
    core = result.zone_i.geometry.iloc[0]
    every = shapely.points([(420_000, 2_420_000)] + [(x, y) for _, x, y in survey])
    assert shapely.contains(core, every).all()
    # Every point lies at least the Zone I distance inside the edge, up to the
    # error of approximating arcs by chords (well under 1 m at 16 segments).
    assert (shapely.distance(every, core.boundary) >= 99.5).all()


def test_zone_ii_is_a_ring_that_excludes_zone_i() -> None:
    districts, park = world()
    result = zone(
        sites([("A", "cave", "national", "", 420_000, 2_420_000)]),
        points([]),
        districts,
        park,
        zoning(),
    )
    core = result.zone_i.geometry.iloc[0]
    ring = result.zone_ii.geometry.iloc[0]
    assert shapely.area(shapely.intersection(core, ring)) == pytest.approx(0, abs=1e-6)
    expected = regular_polygon_area(600) - regular_polygon_area(100)
    assert shapely.area(ring) == pytest.approx(expected, rel=1e-6)
    assert shapely.covers(shapely.union(core, ring), Point(420_590, 2_420_000))
    assert not shapely.intersects(ring, Point(420_000, 2_420_000))


def test_zone_i_wins_over_another_sites_zone_ii() -> None:
    districts, park = world()
    # A's Zone II (500 m) reaches over B's Zone I (B 400 m away).
    result = zone(
        sites(
            [
                ("A", "cave", "national", "", 420_000, 2_420_000),
                ("B", "cave", "local", "", 420_400, 2_420_000),
            ]
        ),
        points([]),
        districts,
        park,
        zoning(),
    )
    pz = result.protection_zones
    assert len(pz) == 2  # one unit (they touch), one Zone I and one Zone II
    core = pz.loc[pz.zone_class == "I"].geometry.iloc[0]
    ring = pz.loc[pz.zone_class == "II"].geometry.iloc[0]
    b_core = result.zone_i.set_index("geosite_code").geometry["B"]
    assert shapely.area(shapely.difference(b_core, core)) == pytest.approx(0, abs=1e-3)
    assert shapely.area(shapely.intersection(core, ring)) == pytest.approx(0, abs=1e-3)
    # Nothing lost: the combined zones cover both footprints exactly.
    outer = shapely.union_all(
        [
            shapely.union(a, b)
            for a, b in zip(result.zone_i.geometry, result.zone_ii.geometry, strict=True)
        ]
    )
    assert shapely.area(core) + shapely.area(ring) == pytest.approx(shapely.area(outer), rel=1e-9)


def test_protection_zones_never_overlap() -> None:
    districts, park = world()
    rng = np.random.default_rng(7)
    xy = rng.uniform([410_000, 2_410_000], [430_000, 2_430_000], size=(30, 2))
    rows = [
        (
            f"S{i:02d}",
            "cave" if i % 2 else "geomorphological",
            "national" if i % 3 else "local",
            "",
            x,
            y,
        )
        for i, (x, y) in enumerate(xy)
    ]
    pz = zone(sites(rows), points([]), districts, park, zoning()).protection_zones
    geoms = pz.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    assert (
        shapely.area(shapely.intersection(geoms[left[keep]], geoms[right[keep]])).max(initial=0)
        < 1e-3
    )


def test_clusters_by_code_and_by_touching_zones() -> None:
    districts, park = world()
    rows = [
        ("A", "cave", "local", "K1", 410_000, 2_410_000),
        ("B", "cave", "local", "K1", 440_000, 2_440_000),  # far away, same code
        ("C", "cave", "local", "", 410_400, 2_410_000),  # touches A's zones
        ("D", "cave", "local", "", 460_000, 2_420_000),  # alone
        ("E", "cave", "local", "", 470_000, 2_420_000),  # touches F
        ("F", "cave", "local", "", 470_450, 2_420_000),
    ]
    result = zone(sites(rows), points([]), districts, park, zoning())
    member = result.geosite_clusters.set_index("geosite_code")
    assert member.loc[["A", "B", "C"], "cluster_code"].tolist() == ["K1"] * 3
    assert member.loc["D", "cluster_code"] is None
    assert member.loc["D", "unit_code"] == "D"
    assert member.loc[["E", "F"], "cluster_code"].tolist() == ["CL-E", "CL-E"]
    assert sorted(result.clusters["cluster_code"].unique()) == ["CL-E", "K1"]
    lone = result.protection_zones.query("unit_code == 'D'")
    assert lone["geosite_code"].tolist() == ["D", "D"]


def test_touch_distance_merges_nearby_sites() -> None:
    districts, park = world()
    # Zone II outer radius 250 m each: 600 m apart leaves a 100 m gap.
    rows = [
        ("A", "cave", "local", "", 420_000, 2_420_000),
        ("B", "cave", "local", "", 420_600, 2_420_000),
    ]
    apart = zone(sites(rows), points([]), districts, park, zoning(touch=0)).geosite_clusters
    merged = zone(sites(rows), points([]), districts, park, zoning(touch=150)).geosite_clusters
    assert apart["cluster_code"].isna().all()
    assert merged["cluster_code"].tolist() == ["CL-A", "CL-A"]


def test_zones_are_clipped_to_the_park_and_the_cut_is_reported() -> None:
    districts, _ = world()
    park = gpd.GeoDataFrame(geometry=[box(400_000, 2_400_000, 420_000, 2_450_000)], crs=CRS)
    # Site on the park's eastern edge: half of each zone lies outside.
    result = zone(
        sites([("A", "cave", "national", "", 420_000, 2_420_000)]),
        points([]),
        districts,
        park,
        zoning(),
    )
    core = result.zone_i.geometry.iloc[0]
    assert shapely.covers(park.geometry.iloc[0], core)
    assert shapely.area(core) == pytest.approx(regular_polygon_area(100) / 2, rel=1e-6)
    cut = result.clipped.set_index("zone_class")["clipped_area_m2"]
    assert cut["I"] == pytest.approx(regular_polygon_area(100) / 2, rel=1e-6)
    assert cut["II"] == pytest.approx(
        (regular_polygon_area(600) - regular_polygon_area(100)) / 2, rel=1e-6
    )


def test_zone_pieces_are_attributed_to_each_district() -> None:
    districts, park = world()
    # On the district boundary x = 450,000: each district gets half.
    result = zone(
        sites([("A", "cave", "local", "", 450_000, 2_420_000)]),
        points([]),
        districts,
        park,
        zoning(),
    )
    pieces = result.zone_district_areas.query("zone_class == 'I'").set_index("district_code")
    half = regular_polygon_area(100) / 2 / 1e4
    assert pieces.loc[1, "area_ha"] == pytest.approx(half, rel=1e-4)
    assert pieces.loc[2, "area_ha"] == pytest.approx(half, rel=1e-4)
    zi = result.protection_zones.query("zone_class == 'I'").iloc[0]
    assert zi["district_codes"] == "1;2"
    assert zi["district_names"] == "Tây;Đông"


def test_same_inputs_give_the_same_zones() -> None:
    districts, park = world()
    rng = np.random.default_rng(11)
    xy = rng.uniform([410_000, 2_410_000], [430_000, 2_430_000], size=(15, 2))
    rows = [(f"S{i:02d}", "cave", "national", "", x, y) for i, (x, y) in enumerate(xy)]
    first = zone(sites(rows), points([]), districts, park, zoning()).protection_zones
    again = zone(sites(rows[::-1]), points([]), districts, park, zoning()).protection_zones
    assert first.drop(columns="geometry").equals(again.drop(columns="geometry"))
    assert all(
        shapely.equals_exact(a, b, 1e-9)
        for a, b in zip(first.geometry, again.geometry, strict=True)
    )


def test_zone_without_polygonal_part_becomes_empty_not_an_error() -> None:
    from pipeline.zoning import _as_multipolygons

    geoms = np.array(
        [box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)]), box(2, 2, 3, 3)], dtype=object
    )
    out = _as_multipolygons(geoms)
    assert [g.geom_type for g in out] == ["MultiPolygon"] * 3
    assert out[1].is_empty and out[2].area == 1


def test_multipolygons_keep_every_polygonal_part_and_nothing_else() -> None:
    from pipeline.geometry import as_multipolygons

    two = shapely.MultiPolygon([box(0, 0, 1, 1), box(5, 5, 7, 7)])
    mixed = shapely.GeometryCollection(
        [box(0, 0, 1, 1), shapely.LineString([(0, 0), (9, 9)]), two, shapely.Point(3, 3)]
    )
    geoms = np.array(
        [
            box(0, 0, 2, 2),
            two,
            mixed,
            shapely.Point(1, 1),
            shapely.from_wkt("POLYGON EMPTY"),
            shapely.from_wkt("GEOMETRYCOLLECTION EMPTY"),
            None,
        ],
        dtype=object,
    )
    out = as_multipolygons(geoms)
    assert [g.geom_type for g in out] == ["MultiPolygon"] * len(geoms)
    assert [len(g.geoms) for g in out] == [1, 2, 3, 0, 0, 0, 0]
    assert out[0].equals(box(0, 0, 2, 2)) and out[1].equals(two)
    assert shapely.area(out).tolist() == [4, 5, 6, 0, 0, 0, 0]
    # a hand-drawn bow tie with a spike, repaired: its two triangles are kept
    drawn = shapely.from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0, 0 -1, 0 0))")
    repaired = as_multipolygons(np.array([shapely.make_valid(drawn)], dtype=object))[0]
    assert len(repaired.geoms) == 2 and repaired.area == 2
