"""``make bench``: zoning time and peak memory on synthetic surveys.

A synthetic survey has N points around N/4 geosites scattered over the park
(deterministic seed), with the real park extent and districts. Each size runs
in its own process so the peak resident memory of one does not hide in the
other's; the parent prints a table and writes ``build/bench.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from pipeline.config import Config, load_config
from pipeline.ingest import ingest_admin_units, ingest_districts, ingest_park_extent
from pipeline.zoning import zone

SEED = 20211216  # the park's founding date


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


def synthetic_survey(
    cfg: Config, n_points: int, park: shapely.Geometry, seed: int = SEED
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """N survey points around N/4 geosites, deterministic for a seed."""
    rng = np.random.default_rng(seed)
    n_sites = max(1, n_points // 4)
    sites_xy = random_points_in(park, n_sites, rng)
    categories = sorted(cfg.zoning.zone_i_distance_m)
    significances = sorted(cfg.zoning.zone_ii_distance_m)
    codes = np.char.add("SY-", np.char.zfill(np.arange(n_sites).astype(str), 6))
    cluster = np.where(
        rng.random(n_sites) < 0.1, np.char.add("K", (np.arange(n_sites) // 5).astype(str)), ""
    )
    geosites = gpd.GeoDataFrame(
        {
            "geosite_code": codes,
            "name_vi": codes,
            "name_en": codes,
            "category": rng.choice(categories, n_sites),
            "significance": rng.choice(significances, n_sites),
            "cluster_code": [c or None for c in cluster],
        },
        geometry=sites_xy,
        crs=cfg.working_crs,
    )
    owner = rng.integers(0, n_sites, n_points)
    offsets = rng.normal(0, 150, size=(n_points, 2))
    xy = shapely.get_coordinates(sites_xy)[owner] + offsets
    points = gpd.GeoDataFrame(
        {"geosite_code": codes[owner]}, geometry=shapely.points(xy), crs=cfg.working_crs
    )
    return geosites, points


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_child(config: Path, n_points: int) -> dict[str, float]:
    cfg = load_config(config)
    admin = ingest_admin_units(cfg)
    districts, _ = ingest_districts(cfg.inputs.districts, cfg, admin)
    extent = ingest_park_extent(cfg)
    park = shapely.union_all(extent.geometry.values)
    geosites, points = synthetic_survey(cfg, n_points, park)
    baseline = _peak_rss_mb()
    start = time.perf_counter()
    result = zone(
        geosites, points, districts, extent, cfg.zoning, min_area_m2=cfg.checks.min_zone_area_m2
    )
    seconds = time.perf_counter() - start
    return {
        "points": n_points,
        "geosites": len(geosites),
        "zoning_seconds": round(seconds, 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "rss_before_zoning_mb": round(baseline, 1),
        "protection_zones": len(result.protection_zones),
        "clusters": int(result.clusters["cluster_code"].nunique()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Zoning benchmark / đo hiệu năng khoanh vùng")
    parser.add_argument("--points", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--config", type=Path, default=Path("geopark.toml"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=Path("build/bench.json"))
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_child(args.config, args.child)))
        return 0
    rows = []
    print(
        f"{'điểm/points':>12} {'di sản/sites':>12} {'giây/s':>9} {'RAM đỉnh/peak MB':>17} {'vùng/zones':>10}"
    )
    for n in args.points:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline.bench",
                "--child",
                str(n),
                "--config",
                str(args.config),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{row['points']:>12,} {row['geosites']:>12,} {row['zoning_seconds']:>9.2f} "
            f"{row['peak_rss_mb']:>17,.0f} {row['protection_zones']:>10,}"
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"seed": SEED, "results": rows}, indent=2) + "\n", "utf-8")
    print(f"→ {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
