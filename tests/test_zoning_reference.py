"""The fast zoning gives the same zones as a plain reference implementation.

The reference below follows the README's rules as directly as possible: every
zone clipped by an overlay, every pair of footprints tested with ``dwithin``,
every unit dissolved with geopandas, every zone cut by every district it
meets. Hypothesis draws random registers on a grid whose spacing makes zones
touch exactly at a point or along an edge, with declared clusters, sites cut
by the park boundary and zones straddling the district border.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import box

from pipeline.config import Clusters, Zoning
from pipeline.zoning import build_site_zones, site_hulls, zone

CRS = "EPSG:9215"
X0, Y0 = 440_000.0, 2_420_000.0


def reference_zone(geosites, survey_points, districts, park_extent, zoning, min_area_m2=1.0):
    """Zone I/II per site, clusters, units and district pieces, the plain way.

    Returns ``(membership, site_areas, unit_areas, district_areas, clipped)``,
    the areas in m² keyed by the layer's natural keys.
    """
    sites = geosites.sort_values("geosite_code").reset_index(drop=True)
    park = shapely.union_all(park_extent.geometry.values)
    core_raw, outer_raw = build_site_zones(sites, survey_points, zoning)
    core = shapely.intersection(core_raw, park)
    outer = shapely.intersection(outer_raw, park)
    ring = shapely.difference(outer, core)

    n = len(sites)
    left, right = [], []
    for i in range(n):
        for j in range(n):
            if shapely.dwithin(outer[i], outer[j], zoning.clusters.touch_distance_m):
                left.append(i)
                right.append(j)
    declared = sites["cluster_code"].fillna("").to_numpy()
    if zoning.clusters.by_code:
        for i in range(n):
            for j in range(n):
                if declared[i] and declared[i] == declared[j]:
                    left.append(i)
                    right.append(j)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    membership = {}
    for label in set(labels):
        members = sorted(sites["geosite_code"][labels == label])
        codes = sorted({declared[i] for i in np.flatnonzero(labels == label) if declared[i]})
        if codes:
            cluster = "+".join(codes)
        elif len(members) > 1:
            cluster = zoning.clusters.generated_prefix + members[0]
        else:
            cluster = None
        for code in members:
            membership[code] = (cluster, cluster or code)

    def polygonal_area(geom) -> float:
        parts = shapely.get_parts(geom)
        return float(shapely.area(parts[shapely.get_type_id(parts) == 3]).sum())

    site_areas = {}
    for i, code in enumerate(sites["geosite_code"]):
        site_areas[(code, "I")] = polygonal_area(core[i])
        site_areas[(code, "II")] = polygonal_area(ring[i])

    units = gpd.GeoDataFrame(
        {"unit_code": [membership[c][1] for c in sites["geosite_code"]]},
        geometry=core,
        crs=CRS,
    )
    unit_core = units.dissolve("unit_code").geometry
    unit_outer = units.set_geometry(outer).dissolve("unit_code").geometry
    unit_geoms = {}
    for unit in unit_core.index:
        unit_geoms[(unit, "I")] = unit_core[unit]
        unit_geoms[(unit, "II")] = shapely.difference(unit_outer[unit], unit_core[unit])
    unit_areas = {
        key: polygonal_area(g) for key, g in unit_geoms.items() if polygonal_area(g) >= min_area_m2
    }
    district_areas = {}
    for key, geom in unit_geoms.items():
        if key not in unit_areas:
            continue
        for code, district in zip(districts["district_code"], districts.geometry, strict=True):
            area = polygonal_area(shapely.intersection(geom, district))
            if area >= max(min_area_m2, 1e-6):
                district_areas[(*key, code)] = area

    clipped = {}
    for i, code in enumerate(sites["geosite_code"]):
        cut_core = shapely.area(core_raw[i]) - shapely.area(core[i])
        cut_ring = shapely.area(outer_raw[i]) - shapely.area(outer[i]) - cut_core
        for zone_class, cut in (("I", cut_core), ("II", cut_ring)):
            if cut > min_area_m2:
                clipped[(code, zone_class)] = cut
    return membership, site_areas, unit_areas, district_areas, clipped


def world() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Two districts split at x = X0 + 1000; the park cuts the north-east corner off."""
    west = box(X0 - 5000, Y0 - 5000, X0 + 1000, Y0 + 5000)
    east = box(X0 + 1000, Y0 - 5000, X0 + 7000, Y0 + 5000)
    districts = gpd.GeoDataFrame(
        {"district_code": [1, 2], "district_name": ["Tây", "Đông"]},
        geometry=[west, east],
        crs=CRS,
    )
    park = shapely.difference(
        shapely.union(west, east), box(X0 + 2500, Y0 + 1500, X0 + 9000, Y0 + 9000)
    )
    return districts, gpd.GeoDataFrame(geometry=[park], crs=CRS)


ZONING_DISTANCES = dict(
    quad_segs=4,
    # radii 100+150 = 250 and 200+300 = 500: sites 500 or 750 m apart on the
    # grid touch at exactly one vertex of their polygons, or along an edge
    zone_i_distance_m={"cave": 100.0, "geomorphological": 200.0},
    zone_ii_distance_m={"local": 150.0, "provincial": 300.0},
)

site_rows = st.lists(
    st.tuples(
        st.integers(-6, 14),  # grid x, 250 m steps
        st.integers(-6, 10),  # grid y
        st.sampled_from(["cave", "geomorphological"]),
        st.sampled_from(["local", "provincial"]),
        st.sampled_from(["", "", "", "K1", "K2"]),
        st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), max_size=3),  # 50 m steps
    ),
    min_size=1,
    max_size=14,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=site_rows, touch=st.sampled_from([0.0, 0.0, 120.0]), by_code=st.booleans())
def test_fast_zoning_matches_the_reference(rows, touch: float, by_code: bool) -> None:
    zoning = Zoning(**ZONING_DISTANCES, clusters=Clusters(touch_distance_m=touch, by_code=by_code))
    codes = [f"LS-T-{i:02d}" for i in range(len(rows))]
    xs = [X0 + 250.0 * r[0] for r in rows]
    ys = [Y0 + 250.0 * r[1] for r in rows]
    geosites = gpd.GeoDataFrame(
        {
            "geosite_code": codes,
            "name_vi": codes,
            "name_en": codes,
            "category": [r[2] for r in rows],
            "significance": [r[3] for r in rows],
            "cluster_code": [r[4] or None for r in rows],
        },
        geometry=shapely.points(xs, ys),
        crs=CRS,
    )
    point_rows = [
        (code, x + 50.0 * dx, y + 50.0 * dy)
        for code, x, y, r in zip(codes, xs, ys, rows, strict=True)
        for dx, dy in r[5]
    ]
    survey = gpd.GeoDataFrame(
        {"geosite_code": [p[0] for p in point_rows]},
        geometry=shapely.points([p[1] for p in point_rows], [p[2] for p in point_rows])
        if point_rows
        else [],
        crs=CRS,
    )
    districts, park = world()

    fast = zone(geosites, survey, districts, park, zoning)
    membership, site_areas, unit_areas, district_areas, clipped = reference_zone(
        geosites, survey, districts, park, zoning
    )

    got_membership = {
        row.geosite_code: (row.cluster_code, row.unit_code)
        for row in fast.geosite_clusters.itertuples()
    }
    assert got_membership == membership

    def areas(frame: pd.DataFrame, keys: list[str]) -> dict:
        return {
            tuple(k): float(a)
            for k, a in zip(
                frame[keys].itertuples(index=False),
                shapely.area(frame.geometry.values),
                strict=True,
            )
        }

    def assert_same(got: dict, want: dict) -> None:
        assert got.keys() == want.keys()
        for key, area in want.items():
            assert abs(got[key] - area) <= 1e-6 * max(1.0, area), key

    assert_same(
        {
            **areas(fast.zone_i, ["geosite_code", "zone_class"]),
            **areas(fast.zone_ii, ["geosite_code", "zone_class"]),
        },
        site_areas,
    )
    assert_same(areas(fast.protection_zones, ["unit_code", "zone_class"]), unit_areas)
    assert_same(
        areas(fast.zone_district_areas, ["unit_code", "zone_class", "district_code"]),
        district_areas,
    )
    assert_same(
        {(r.geosite_code, r.zone_class): r.clipped_area_m2 for r in fast.clipped.itertuples()},
        clipped,
    )
    zoned_units = {unit for unit, _ in unit_areas}
    assert set(fast.clusters["cluster_code"]) == {
        c for c, unit in membership.values() if c and unit in zoned_units
    }


def test_grid_sites_touch_at_exactly_one_point() -> None:
    """The grid above really produces zones that meet in a single point."""
    zoning = Zoning(**ZONING_DISTANCES)
    geosites = gpd.GeoDataFrame(
        {
            "geosite_code": ["LS-T-00", "LS-T-01"],
            "category": ["cave", "cave"],
            "significance": ["local", "local"],
        },
        geometry=shapely.points([X0, X0 + 500.0], [Y0, Y0]),
        crs=CRS,
    )
    survey = gpd.GeoDataFrame({"geosite_code": []}, geometry=[], crs=CRS)
    _, outer = build_site_zones(geosites, survey, zoning)
    meet = shapely.intersection(outer[0], outer[1])
    assert shapely.get_type_id(meet) == 0  # a Point


# Survey points on a coarse grid: duplicates, collinear runs and points lying
# exactly on the edges of the octagon that site_hulls uses to drop points.
grid_points = st.lists(
    st.tuples(st.integers(0, 3), st.integers(-4, 4), st.integers(-4, 4)), max_size=120
)
float_points = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.floats(-500.0, 500.0, allow_nan=False),
        st.floats(-500.0, 500.0, allow_nan=False),
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(points=st.one_of(grid_points, float_points), step=st.sampled_from([1.0, 0.1, 37.5]))
def test_site_hulls_match_the_hull_of_every_point(points, step: float) -> None:
    """Dropping the points inside each site's octagon leaves GEOS the very same hull."""
    codes = [f"LS-H-{i:02d}" for i in range(4)]
    geosites = gpd.GeoDataFrame(
        {"geosite_code": codes},
        geometry=shapely.points(np.full(4, X0), np.full(4, Y0)),
        crs=CRS,
    )
    site = np.array([p[0] for p in points], dtype=int)
    x = X0 + np.array([p[1] for p in points], dtype=float) * step
    y = Y0 + np.array([p[2] for p in points], dtype=float) * step
    survey = gpd.GeoDataFrame(
        {"geosite_code": np.array(codes, dtype=object)[site]},
        geometry=shapely.points(x, y),
        crs=CRS,
    )
    fast = site_hulls(geosites, survey)
    for i, code in enumerate(codes):
        mine = survey.geometry.values[site == i]
        everything = shapely.multipoints(np.concatenate([[geosites.geometry.values[i]], mine]))
        assert shapely.to_wkb(fast[i]) == shapely.to_wkb(shapely.convex_hull(everything)), code
