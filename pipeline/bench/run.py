"""Run the benchmark: engines in child processes, a table, ``build/bench.json``."""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import psutil
import shapely

from pipeline.bench import peers
from pipeline.bench.registers import REGISTERS, SEED, write_survey_csvs
from pipeline.config import Config, dump_config, load_config
from pipeline.errors import GeoparkError

ENGINES = ["project", "postgis", "geopandas"]
AGREEMENT = 1e-4  # 0.01 %


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _boundaries(cfg: Config) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from pipeline.ingest import ingest_admin_units, ingest_districts, ingest_park_extent

    admin = ingest_admin_units(cfg)
    districts, _ = ingest_districts(cfg.inputs.districts, cfg, admin)
    return districts, ingest_park_extent(cfg)


def make_workload(cfg: Config, kind: str, n_points: int, path: Path) -> dict[str, Any]:
    """Generate a register with the real districts and park extent; pickle it to ``path``."""
    districts, extent = _boundaries(cfg)
    park = shapely.union_all(extent.geometry.values)
    geosites, points = REGISTERS[kind](
        sorted(cfg.zoning.zone_i_distance_m),
        sorted(cfg.zoning.zone_ii_distance_m),
        n_points,
        park,
        cfg.working_crs,
    )
    with open(path, "wb") as handle:
        pickle.dump((geosites, points, districts, extent), handle)
    return {"geosites": len(geosites), "points": len(points)}


def _protection_areas(result) -> dict[str, float]:
    zones = result.protection_zones
    areas = shapely.area(zones.geometry.values)
    return {c: float(areas[(zones["zone_class"] == c).to_numpy()].sum()) for c in ("I", "II")}


def run_engine(engine: str, data: Path, cfg: Config, conninfo: str | None) -> dict[str, Any]:
    """One engine on one workload, in this (child) process."""
    with open(data, "rb") as handle:
        geosites, points, districts, extent = pickle.load(handle)
    min_area = cfg.checks.min_zone_area_m2
    row: dict[str, Any] = {"engine": engine}
    if engine == "project":
        from pipeline.zoning import zone

        start = time.perf_counter()
        result = zone(geosites, points, districts, extent, cfg.zoning, min_area_m2=min_area)
        row["seconds"] = time.perf_counter() - start
        row["areas_m2"] = _protection_areas(result)
        row["protection_zones"] = len(result.protection_zones)
        row["clusters"] = int(result.clusters["cluster_code"].nunique())
        row["peak_mb"] = _peak_rss_mb()
    elif engine == "geopandas":
        start = time.perf_counter()
        row["areas_m2"] = peers.geopandas_zoning(
            geosites, points, districts, extent, cfg.zoning, min_area
        )
        row["seconds"] = time.perf_counter() - start
        row["peak_mb"] = _peak_rss_mb()
    else:
        import psycopg

        gpkg = data.with_suffix(".gpkg")
        peers.write_layers(
            gpkg,
            {
                "geosites": geosites,
                "survey_points": points,
                "districts": districts[["district_code", "geometry"]],
                "park_extent": extent[["geometry"]],
            },
        )
        start = time.perf_counter()
        peers.load_postgis(gpkg, conninfo)
        row["load_seconds"] = time.perf_counter() - start
        with psycopg.connect(conninfo, autocommit=True) as conn:
            pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            row["seconds"], row["areas_m2"] = peers.postgis_zoning(conn, cfg.zoning, min_area)
            row["peak_mb"] = _backend_peak_mb(pid)
    return row


def _backend_peak_mb(pid: int) -> float | None:
    """Peak resident memory of a PostgreSQL backend (VmHWM), when readable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _tree_pss_mb(pid: int) -> float:
    """Memory of ``pid`` and its descendants, each shared page counted once (PSS, MB).

    A run forks writer processes that share the parent's pages: adding their
    resident sizes would count those pages twice, their largest alone would
    leave their own pages out.
    """
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for member in members:
        try:
            total += member.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):  # ended meanwhile
            continue
    return total / 2**20


class _TreeMemory(threading.Thread):
    """Samples :func:`_tree_pss_mb` of a process every 50 ms; ``peak_mb`` is the largest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_mb = pid, 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.05):
            self.peak_mb = max(self.peak_mb, _tree_pss_mb(self.pid))

    def stop(self) -> float:
        self._done.set()
        self.join()
        return self.peak_mb


def _child(args: list[str]) -> tuple[dict[str, Any], float, int]:
    """Run ``args`` as a child process; its JSON line, wall seconds, peak memory (MB) and status.

    The peak memory is the larger of the child's own peak resident size and the
    sampled peak of it with its worker processes (:func:`_tree_pss_mb`).
    """
    # Files, not pipes: a run that prints more than a pipe holds would wait for a reader
    # while we wait for it (wait4 is what gives the child's own peak memory).
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True)
        tree = _TreeMemory(proc.pid)
        tree.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        tree_peak = tree.stop()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if proc.returncode not in (0, 1) or (args[1] == "-m" and not lines):
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    row = json.loads(lines[-1]) if lines else {}
    return row, seconds, max(usage.ru_maxrss / 1024, tree_peak), proc.returncode


def end_to_end(cfg_path: Path, kind: str, n_points: int, work: Path) -> dict[str, Any]:
    """``geopark zones`` on the register written as the field team's CSV files."""
    cfg = load_config(cfg_path)
    districts, extent = _boundaries(cfg)
    park = shapely.union_all(extent.geometry.values)
    start = time.perf_counter()
    geosites, points = REGISTERS[kind](
        sorted(cfg.zoning.zone_i_distance_m),
        sorted(cfg.zoning.zone_ii_distance_m),
        n_points,
        park,
        cfg.working_crs,
    )
    located = gpd.sjoin_nearest(geosites, districts[["district_name", "geometry"]], how="left")
    located = located[~located.index.duplicated()]
    sites_csv, points_csv = work / "geosites.csv", work / "survey_points.csv"
    write_survey_csvs(geosites, points, located["district_name"], sites_csv, points_csv)
    generate_seconds = time.perf_counter() - start
    config = _bench_config(cfg_path, sites_csv, points_csv, work)
    _, seconds, peak, status = _child(
        [str(Path(sys.executable).with_name("geopark")), "zones", "--config", str(config)]
    )
    written = work / ("out" if status == 0 else "failed")
    manifest = json.loads((written / "run_manifest.json").read_text("utf-8"))
    return {
        "points": n_points,
        "geosites": len(geosites),
        "csv_generation_seconds": round(generate_seconds, 2),
        "seconds": round(seconds, 2),
        "peak_mb": round(peak, 1),
        "exit_status": status,
        "stage_seconds": manifest.get("timings_s", {}),
    }


def _bench_config(cfg_path: Path, sites_csv: Path, points_csv: Path, work: Path) -> Path:
    """The project's configuration with the synthetic CSVs as inputs, outputs in ``work``."""
    raw = tomllib.loads(cfg_path.read_text("utf-8"))
    base = cfg_path.resolve().parent
    inputs = raw["inputs"]
    # the sample's assessment and extents describe the sample's geosites only, and its
    # threat layers are illustrative shapes drawn around the sample's zones
    inputs.pop("assessment", None)
    inputs.pop("geosite_extents", None)
    inputs.pop("threats", None)
    specs = [v for v in inputs.values() if isinstance(v, dict)]
    specs += [s for v in inputs.values() if isinstance(v, list) for s in v]  # threats, ...
    specs += raw.get("maps", {}).get("base", [])
    for spec in specs:
        for key in ("path", "schema"):
            if key in spec:
                spec[key] = str(base / spec[key])
    inputs["geosites"]["path"] = str(sites_csv)
    inputs["survey_points"] = [
        {
            "path": str(points_csv),
            "schema": str(base / "schemas/survey_points.schema.json"),
            "crs": "EPSG:4326",
            "lon_column": "lon",
            "lat_column": "lat",
        }
    ]
    raw["outputs"]["directory"] = str(work / "out")
    raw["outputs"]["failed_directory"] = str(work / "failed")
    if "edits" in raw:
        raw["edits"]["geopackage"] = str(work / "edits.gpkg")
    path = work / "geopark.toml"
    path.write_text(dump_config(raw), "utf-8")
    return path


def _agreement(rows: list[dict[str, Any]]) -> None:
    """Add each peer's ratio to the project and whether their areas agree."""
    project = next(r for r in rows if r["engine"] == "project")
    for row in rows:
        diffs = [
            abs(row["areas_m2"][c] - project["areas_m2"][c]) / max(project["areas_m2"][c], 1.0)
            for c in ("I", "II")
        ]
        row["max_area_difference_pct"] = round(100 * max(diffs), 6)
        row["agrees"] = max(diffs) <= AGREEMENT
        row["project_over_engine"] = round(project["seconds"] / row["seconds"], 3)


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'tải/workload':<14} {'điểm/points':>11} {'máy/engine':<10} {'giây/s':>8} "
        f"{'nạp/load s':>10} {'RAM MB':>8} {'dự án/peer':>10} {'khớp/agree':>10}"
    )
    for r in rows:
        load = f"{r['load_seconds']:.1f}" if "load_seconds" in r else ""
        peak = f"{r['peak_mb']:,.0f}" if r.get("peak_mb") else "?"
        ratio = "" if r["engine"] == "project" else f"{r['project_over_engine']:.2f}"
        print(
            f"{r['workload']:<14} {r['points']:>11,} {r['engine']:<10} {r['seconds']:>8.2f} "
            f"{load:>10} {peak:>8} {ratio:>10} {'✓' if r['agrees'] else '✗':>10}"
        )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Zoning benchmark / đo hiệu năng khoanh vùng")
    parser.add_argument("--points", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--dense", type=int, nargs="*", default=[100_000])
    parser.add_argument(
        "--end-to-end", type=int, nargs="*", default=[10_000, 100_000, 1_000_000, 2_000_000]
    )
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=ENGINES)
    parser.add_argument(
        "--naive-max", type=int, default=100_000, help="largest size for the geopandas engine"
    )
    parser.add_argument(
        "--quick", action="store_true", help="10,000 points only (karst, dense, end to end)"
    )
    parser.add_argument("--config", type=Path, default=Path("geopark.toml"))
    parser.add_argument("--output", type=Path, default=Path("build/bench.json"))
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "DATA", "CONNINFO"))
    args = parser.parse_args(argv)
    if args.quick:
        args.points, args.dense, args.end_to_end = [10_000], [10_000], [10_000]
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.child:
        engine, data, conninfo = args.child
        row = run_engine(engine, Path(data), load_config(args.config), conninfo)
        print(json.dumps(row))
        return 0
    cfg = load_config(args.config)
    workloads = [("karst", n) for n in args.points] + [("dense", n) for n in args.dense]
    rows: list[dict[str, Any]] = []
    e2e: list[dict[str, Any]] = []
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="geopark-bench-")))
        server = None
        if "postgis" in args.engines:
            from pipeline.db.throwaway import postgis_available, running_server

            if not postgis_available():
                missing = GeoparkError(
                    "chưa cài PostgreSQL 15 + PostGIS để so sánh",
                    "PostgreSQL 15 + PostGIS, the bench's peer, is not installed",
                    field="--engines",
                    fix="make system-deps, or --engines project geopandas",
                    fix_vi="make system-deps, hoặc --engines project geopandas",
                )
                print(missing.render(), file=sys.stderr)
                return missing.exit_code
            server = stack.enter_context(running_server())
        for i, (kind, n) in enumerate(workloads):
            data = work / f"{kind}-{n}.pkl"
            sizes = make_workload(cfg, kind, n, data)
            engines = [e for e in args.engines if e != "geopandas" or n <= args.naive_max]
            shift = i % len(engines)
            group = []
            for engine in engines[shift:] + engines[:shift]:
                conninfo = "-"
                if engine == "postgis":
                    dbname = f"bench_{kind}_{n}"
                    with server.connect(autocommit=True) as conn:
                        conn.execute(f"CREATE DATABASE {dbname}")
                    with server.connect(dbname, autocommit=True) as conn:
                        conn.execute("CREATE EXTENSION postgis")
                    conninfo = server.conninfo(dbname)
                command = [sys.executable, "-m", "pipeline.bench", "--config", str(args.config)]
                row, _, child_peak, _ = _child([*command, "--child", engine, str(data), conninfo])
                if engine != "postgis":
                    row["peak_mb"] = child_peak
                group.append({"workload": kind, **sizes, **row})
            group.sort(key=lambda r: ENGINES.index(r["engine"]))
            if "project" in args.engines:
                _agreement(group)
            rows.extend(group)
            data.unlink()
        for r in rows:
            r["seconds"] = round(r["seconds"], 3)
            r["peak_mb"] = round(r["peak_mb"], 1) if r.get("peak_mb") else None
        _print_table(rows)
        for n in args.end_to_end:
            folder = work / f"e2e-{n}"
            folder.mkdir()
            e2e.append(end_to_end(args.config, "karst", n, folder))
    if e2e:
        print(
            f"\n{'geopark zones':<14} {'điểm/points':>11} {'giây/s':>8} {'RAM MB':>8} {'mã/exit':>8}"
        )
        for r in e2e:
            print(
                f"{'':<14} {r['points']:>11,} {r['seconds']:>8.1f} {r['peak_mb']:>8,.0f} "
                f"{r['exit_status']:>8}"
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "seed": SEED,
        "cpu_count": os.cpu_count(),
        "load_average_at_end": list(os.getloadavg()),
        "zoning": rows,
        "end_to_end": e2e,
    }
    args.output.write_text(json.dumps(report, indent=2, default=_json_default) + "\n", "utf-8")
    print(f"→ {args.output}")
    return 0 if all(r.get("agrees", True) for r in rows) else 1


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value))
