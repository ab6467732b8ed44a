"""The same zoning written by others: PostGIS SQL and naive geopandas.

Both follow the README's rules (hull of register point and survey points,
buffers per category and significance, clipped to the park, clusters by
touching footprints and declared codes, dissolved per unit, cut by district)
so that their Zone I and Zone II areas can be compared with the project's.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pipeline.config import Zoning

#: The zoning as a GIS analyst who knows PostGIS well would write it: one
#: clustering window function for the touch test (``ST_ClusterDBSCAN`` with
#: eps = touch distance, minpoints 1; PostGIS 3.3 has no
#: ``ST_ClusterIntersectingWin``), a recursive walk for the declared codes, a
#: district join driven by the eleven districts over an indexed zone table
#: (prepared-geometry cache), and overlays only where a zone crosses a
#: boundary, against the part of the district near it.
ZONING_SQL = [
    """
    CREATE TEMP TABLE hull AS
    SELECT s.geosite_code, ST_ConvexHull(ST_Collect(s.geom, p.pts)) AS geom
    FROM geosites s
    LEFT JOIN (SELECT geosite_code, ST_Collect(geom) AS pts FROM survey_points
               GROUP BY geosite_code) p USING (geosite_code)
    """,
    """
    CREATE TEMP TABLE raw AS
    SELECT s.geosite_code, NULLIF(s.cluster_code, '') AS cluster_code,
           ST_Buffer(h.geom, c.d, %(quad)s) AS core,
           ST_Buffer(h.geom, c.d + g.d, %(quad)s) AS outer_
    FROM geosites s JOIN hull h USING (geosite_code)
    JOIN zone_i_distance c ON c.category = s.category
    JOIN zone_ii_distance g ON g.significance = s.significance
    """,
    """
    CREATE TEMP TABLE site AS
    SELECT r.geosite_code, r.cluster_code,
           CASE WHEN ST_ContainsProperly(p.geom, r.core) THEN r.core
                ELSE ST_Intersection(r.core, p.geom) END AS core,
           CASE WHEN ST_ContainsProperly(p.geom, r.outer_) THEN r.outer_
                ELSE ST_Intersection(r.outer_, p.geom) END AS outer_
    FROM raw r, (SELECT ST_Union(geom) AS geom FROM park_extent) p
    """,
    """
    CREATE TEMP TABLE site_ring AS
    SELECT geosite_code, ST_Difference(outer_, core) AS ring FROM site
    """,
    """
    CREATE TEMP TABLE site_touch AS
    SELECT geosite_code,
           ST_ClusterDBSCAN(outer_, eps := %(touch)s, minpoints := 1) OVER () AS touch
    FROM site
    """,
    "CREATE INDEX ON site_touch (geosite_code)",
    """
    CREATE TEMP TABLE site_t AS
    SELECT s.*, t.touch, r.ring FROM site s JOIN site_touch t USING (geosite_code)
    JOIN site_ring r USING (geosite_code)
    """,
    """
    CREATE TEMP TABLE unit_of AS
    WITH RECURSIVE edge AS (
        SELECT DISTINCT a.touch AS a, b.touch AS b FROM site_t a
        JOIN site_t b ON a.cluster_code = b.cluster_code AND %(by_code)s
    ), walk(node, root) AS (
        SELECT DISTINCT touch, touch FROM site_t
        UNION
        SELECT e.b, w.root FROM walk w JOIN edge e ON e.a = w.node
    )
    SELECT node AS touch, min(root) AS unit FROM walk GROUP BY node
    """,
    """
    CREATE TEMP TABLE unit AS
    SELECT u.unit, 'I' AS zone_class, ST_Union(s.core) AS geom
    FROM site_t s JOIN unit_of u USING (touch) GROUP BY u.unit
    """,
    """
    CREATE TEMP TABLE unit_outer AS
    SELECT u.unit, ST_Union(s.outer_) AS geom
    FROM site_t s JOIN unit_of u USING (touch) GROUP BY u.unit
    """,
    """
    INSERT INTO unit
    SELECT o.unit, 'II', ST_Difference(o.geom, c.geom)
    FROM unit_outer o JOIN unit c ON c.unit = o.unit AND c.zone_class = 'I'
    """,
    """
    CREATE TEMP TABLE zone_all AS
    SELECT 'unit' AS kind, unit::text AS id, zone_class, geom FROM unit
    UNION ALL SELECT 'site', geosite_code, 'I', core FROM site_t
    UNION ALL SELECT 'site', geosite_code, 'II', ring FROM site_t
    """,
    "CREATE INDEX ON zone_all USING gist (geom)",
    "ANALYZE zone_all",
    # districts drive the loop, so each one is prepared once for its many zones;
    # a crossing zone meets only the part of the district around it
    """
    CREATE TEMP TABLE district_piece AS
    SELECT z.kind, z.id, z.zone_class, d.district_code,
           CASE WHEN ST_Contains(d.geom, z.geom) THEN z.geom
                ELSE ST_Intersection(z.geom, ST_ClipByBox2D(d.geom, ST_Expand(z.geom::box2d, 1)))
           END AS geom
    FROM districts d JOIN zone_all z ON ST_Intersects(d.geom, z.geom)
    """,
]

AREAS_SQL = """
    SELECT zone_class, sum(ST_Area(geom)) FROM unit
    WHERE ST_Area(geom) >= %(min_area)s GROUP BY zone_class ORDER BY zone_class
"""


def write_layers(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """The benchmark's inputs as one GeoPackage, for ogr2ogr."""
    for name, frame in layers.items():
        pyogrio.write_dataframe(frame, path, layer=name, promote_to_multi=False)


def load_postgis(gpkg: Path, conninfo: str) -> None:
    """Load every layer of ``gpkg`` into PostGIS with ogr2ogr (spatial indexes built)."""
    subprocess.run(
        [
            "ogr2ogr",
            "-f",
            "PostgreSQL",
            f"PG:{conninfo}",
            str(gpkg),
            "-lco",
            "GEOMETRY_NAME=geom",
            "-lco",
            "FID=fid",
            "-nlt",
            "PROMOTE_TO_MULTI",
            "-overwrite",
            "--config",
            "PG_USE_COPY",
            "YES",
        ],
        check=True,
        capture_output=True,
    )


def postgis_zoning(conn, zoning: Zoning, min_area_m2: float) -> tuple[float, dict[str, float]]:
    """Run the SQL zoning on loaded tables; seconds and total area per zone class."""
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE zone_i_distance (category text, d float8)")
        cur.executemany(
            "INSERT INTO zone_i_distance VALUES (%s, %s)", list(zoning.zone_i_distance_m.items())
        )
        cur.execute("CREATE TEMP TABLE zone_ii_distance (significance text, d float8)")
        cur.executemany(
            "INSERT INTO zone_ii_distance VALUES (%s, %s)",
            list(zoning.zone_ii_distance_m.items()),
        )
        cur.execute("CREATE INDEX ON survey_points (geosite_code)")
        cur.execute("ANALYZE")
        params = {
            "quad": f"quad_segs={zoning.quad_segs}",
            "touch": zoning.clusters.touch_distance_m,
            "by_code": zoning.clusters.by_code,
            "min_area": min_area_m2,
        }
        start = time.perf_counter()
        for statement in ZONING_SQL:
            cur.execute(statement, params)
        cur.execute(AREAS_SQL, params)
        areas = {zone_class: float(area) for zone_class, area in cur.fetchall()}
        seconds = time.perf_counter() - start
    return seconds, areas


def geopandas_zoning(
    geosites: gpd.GeoDataFrame,
    survey_points: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    park_extent: gpd.GeoDataFrame,
    zoning: Zoning,
    min_area_m2: float,
) -> dict[str, float]:
    """The zoning written plainly with geopandas' high-level operations.

    Returns the total protection Zone I and Zone II area (m²).
    """
    crs = geosites.crs
    members = pd.concat(
        [geosites[["geosite_code", "geometry"]], survey_points[["geosite_code", "geometry"]]]
    )
    hulls = members.dissolve("geosite_code").convex_hull
    sites = geosites.set_index("geosite_code").loc[hulls.index].reset_index()
    d_core = sites["category"].map(zoning.zone_i_distance_m).to_numpy(float)
    d_ring = sites["significance"].map(zoning.zone_ii_distance_m).to_numpy(float)
    park = park_extent.union_all()
    core = gpd.GeoDataFrame(
        sites[["geosite_code", "cluster_code"]],
        geometry=hulls.buffer(d_core, quad_segs=zoning.quad_segs).intersection(park).to_numpy(),
        crs=crs,
    )
    outer = core.set_geometry(
        hulls.buffer(d_core + d_ring, quad_segs=zoning.quad_segs).intersection(park).to_numpy(),
        crs=crs,
    )
    ring = core.set_geometry(outer.geometry.difference(core.geometry), crs=crs)
    left, right = outer.sindex.query(
        outer.geometry, predicate="dwithin", distance=zoning.clusters.touch_distance_m
    )
    n = len(outer)
    if zoning.clusters.by_code:
        codes = outer["cluster_code"].fillna("")
        first = pd.Series(np.arange(n)).groupby(codes.to_numpy()).transform("first").to_numpy()
        has = (codes != "").to_numpy()
        left = np.concatenate([left, np.arange(n)[has]])
        right = np.concatenate([right, first[has]])
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    unit = connected_components(graph, directed=False)[1]
    core_units = core.assign(unit=unit).dissolve("unit")
    outer_units = outer.assign(unit=unit).dissolve("unit")
    ring_units = core_units.set_geometry(
        outer_units.geometry.difference(core_units.geometry, align=True)
    )
    # the district tables the project writes, the geopandas way
    for layer in (core, ring, core_units, ring_units):
        gpd.overlay(layer.reset_index()[["geometry"]], districts[["district_code", "geometry"]])
    area_i = shapely.area(core_units.geometry.to_numpy())
    area_ii = shapely.area(ring_units.geometry.to_numpy())
    return {
        "I": float(area_i[area_i >= min_area_m2].sum()),
        "II": float(area_ii[area_ii >= min_area_m2].sum()),
    }
