"""Synthetic geosite registers and surveys for the benchmarks (deterministic per seed).

Two workloads:

* ``karst``: what a national inventory looks like. Geosites gather in
  limestone massifs (about one massif per 83 sites, 300 for 25,000 sites)
  whose size and weight are lognormal; a few sites stand alone; categories
  and significance follow a realistic mix; some massifs declare a cluster
  code; every site has several survey points spread around it.
* ``dense``: the original stress test, N/4 geosites scattered uniformly over
  the park, whose zones merge into one park-wide cluster at 100,000 points.
"""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from pipeline import crs as crs_ops

SEED = 20211216  # the park's founding date
MAX_SITES = 25_000
SITES_PER_MASSIF = 83
LONE_SHARE = 0.03
DECLARING_MASSIF_SHARE = 0.12

#: share of each category and significance in a karst geopark's register
CATEGORY_MIX = {
    "cave": 0.30,
    "geomorphological": 0.30,
    "hydrogeological": 0.10,
    "stratigraphic": 0.10,
    "paleontological": 0.07,
    "archaeological": 0.07,
    "cultural": 0.06,
}
SIGNIFICANCE_MIX = {"local": 0.50, "provincial": 0.35, "national": 0.13, "international": 0.02}


def random_points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniformly random points inside ``polygon`` (rejection sampling, vectorised)."""
    minx, miny, maxx, maxy = polygon.bounds
    shapely.prepare(polygon)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform([minx, miny], [maxx, maxy], size=(max(2 * (n - count), 64), 2))
        pts = shapely.points(xy)
        inside = pts[shapely.contains(polygon, pts)]
        found.append(inside)
        count += len(inside)
    return np.concatenate(found)[:n]


def _mix(names: list[str], shares: dict[str, float], n: int, rng: np.random.Generator):
    """``n`` draws from ``names`` weighted by ``shares`` (names not in ``shares`` weigh little)."""
    weights = np.array([shares.get(name, 0.02) for name in names])
    return rng.choice(np.array(names, dtype=object), n, p=weights / weights.sum())


def _codes(prefix: str, n: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(np.arange(n).astype(str), 6)).astype(object)


def _geosites(codes, xy, categories, significances, clusters, working_crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "geosite_code": codes,
            "name_vi": codes,
            "name_en": codes,
            "category": categories,
            "significance": significances,
            "cluster_code": clusters,
        },
        geometry=shapely.points(xy),
        crs=working_crs,
    )


def karst_register(
    categories: list[str],
    significances: list[str],
    n_points: int,
    park: shapely.Geometry,
    working_crs: str,
    seed: int = SEED,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Geosites in clustered massifs and ``n_points`` survey points around them.

    ``min(25,000, n_points / 4)`` geosites; every site has at least one survey
    point, the rest are spread over the sites at random.
    """
    rng = np.random.default_rng(seed)
    n_sites = max(1, min(MAX_SITES, n_points // 4))
    n_massifs = max(1, round(n_sites / SITES_PER_MASSIF))
    centres = shapely.get_coordinates(random_points_in(park, n_massifs, rng))
    weights = rng.lognormal(0.0, 0.8, n_massifs)
    spread = rng.lognormal(np.log(600.0), 0.5, n_massifs)  # metres
    n_lone = round(n_sites * LONE_SHARE)
    shapely.prepare(park)

    xy = np.empty((0, 2))
    massif = np.empty(0, dtype=int)
    while len(xy) < n_sites - n_lone:
        want = n_sites - n_lone - len(xy)
        pick = rng.choice(n_massifs, int(want * 1.3) + 16, p=weights / weights.sum())
        cand = centres[pick] + rng.normal(0.0, 1.0, (len(pick), 2)) * spread[pick, None]
        inside = shapely.contains_xy(park, cand[:, 0], cand[:, 1])
        xy = np.concatenate([xy, cand[inside]])[: n_sites - n_lone]
        massif = np.concatenate([massif, pick[inside]])[: n_sites - n_lone]
    lone = shapely.get_coordinates(random_points_in(park, n_lone, rng))
    xy = np.concatenate([xy, lone])
    massif = np.concatenate([massif, np.full(n_lone, -1)])

    declaring = rng.random(n_massifs) < DECLARING_MASSIF_SHARE
    declares = (massif >= 0) & declaring[np.maximum(massif, 0)] & (rng.random(n_sites) < 0.5)
    clusters = np.where(declares, np.char.add("KM", np.maximum(massif, 0).astype(str)), "")
    codes = _codes("KS-", n_sites)
    geosites = _geosites(
        codes,
        xy,
        _mix(categories, CATEGORY_MIX, n_sites, rng),
        _mix(significances, SIGNIFICANCE_MIX, n_sites, rng),
        [c or None for c in clusters],
        working_crs,
    )

    extent = rng.lognormal(np.log(60.0), 0.7, n_sites)  # how far a site's features reach
    owner = np.concatenate(
        [np.arange(min(n_sites, n_points)), rng.integers(0, n_sites, max(0, n_points - n_sites))]
    )
    points_xy = xy[owner] + rng.normal(0.0, 1.0, (len(owner), 2)) * extent[owner, None]
    # a surveyed feature lies in the park: one that would not is logged at its site
    outside = ~shapely.contains_xy(park, points_xy[:, 0], points_xy[:, 1])
    points_xy[outside] = xy[owner[outside]]
    points = gpd.GeoDataFrame(
        {"geosite_code": codes[owner]}, geometry=shapely.points(points_xy), crs=working_crs
    )
    return geosites, points


def dense_register(
    categories: list[str],
    significances: list[str],
    n_points: int,
    park: shapely.Geometry,
    working_crs: str,
    seed: int = SEED,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """N survey points around N/4 geosites scattered uniformly over the park."""
    rng = np.random.default_rng(seed)
    n_sites = max(1, n_points // 4)
    sites_xy = random_points_in(park, n_sites, rng)
    codes = _codes("SY-", n_sites)
    cluster = np.where(
        rng.random(n_sites) < 0.1, np.char.add("K", (np.arange(n_sites) // 5).astype(str)), ""
    )
    geosites = _geosites(
        codes,
        shapely.get_coordinates(sites_xy),
        rng.choice(sorted(categories), n_sites),
        rng.choice(sorted(significances), n_sites),
        [c or None for c in cluster],
        working_crs,
    )
    owner = rng.integers(0, n_sites, n_points)
    offsets = rng.normal(0, 150, size=(n_points, 2))
    xy = shapely.get_coordinates(sites_xy)[owner] + offsets
    points = gpd.GeoDataFrame(
        {"geosite_code": codes[owner]}, geometry=shapely.points(xy), crs=working_crs
    )
    return geosites, points


REGISTERS = {"karst": karst_register, "dense": dense_register}


def write_survey_csvs(
    geosites: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
    district_names,
    geosites_csv: Path,
    points_csv: Path,
) -> None:
    """The register and survey as the field team's WGS 84 CSV files (as in data/raw).

    ``district_names``: each geosite's declared district, aligned with ``geosites``.
    """
    lon, lat = crs_ops.transform_xy(
        geosites.geometry.x.to_numpy(), geosites.geometry.y.to_numpy(), geosites.crs, "EPSG:4326"
    )
    with open(geosites_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            "geosite_code,name_vi,name_en,category,significance,cluster_code,"
            "district,lat,lon,location_quality,description".split(",")
        )
        for row in zip(
            geosites["geosite_code"],
            geosites["name_vi"],
            geosites["name_en"],
            geosites["category"],
            geosites["significance"],
            geosites["cluster_code"].fillna(""),
            np.round(lat, 6),
            np.round(lon, 6),
            district_names,
            strict=True,
        ):
            writer.writerow([*row[:6], row[8], row[6], row[7], "gps", ""])
    plon, plat = crs_ops.transform_xy(
        points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), points.crs, "EPSG:4326"
    )
    ids = np.char.add("P", np.arange(len(points)).astype(str))
    with open(points_csv, "w", newline="", encoding="utf-8") as handle:
        handle.write("point_id,geosite_code,lat,lon,observation,survey_date,team\n")
        lines = (
            ids.astype(object)
            + ","
            + points["geosite_code"].to_numpy(dtype=object)
            + ","
            + np.char.mod("%.6f", plat).astype(object)
            + ","
            + np.char.mod("%.6f", plon).astype(object)
            + ",outcrop,2024-06-01,\n"
        )
        handle.writelines(lines)
