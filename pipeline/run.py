"""The whole job: ingest -> zone -> check -> publish outputs.

Library API behind the command line. Each stage is a plain function of data
and configuration; this module only sequences them, times them, and hands the
result to :mod:`pipeline.outputs` at the edge.
"""

from __future__ import annotations

import hashlib
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

import pipeline
from pipeline import outputs
from pipeline.assessment import assess
from pipeline.checks import QAResult, check, findings_layer
from pipeline.config import Config, input_files
from pipeline.ingest import IngestResult, ingest
from pipeline.progress import Progress, no_progress
from pipeline.qgis.project import write_geopackage_project
from pipeline.qgis.styles import write_geopackage_styles
from pipeline.report import qa_json, qa_markdown
from pipeline.threats import threat_layers
from pipeline.zoning import ZoningResult, zone


@dataclass
class RunResult:
    ingested: IngestResult
    zones: ZoningResult | None = None
    qa: QAResult | None = None
    timings: dict[str, float] = field(default_factory=dict)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    published: bool = False

    @property
    def status(self) -> str:
        if self.qa is not None:
            return self.qa.status
        return "fail" if self.ingested.rejections else "pass"


@contextmanager
def _timed(timings: dict[str, float], name: str):
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 3)


def sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def quarantine_layer(ingested: IngestResult, crs: str) -> gpd.GeoDataFrame:
    rows = [r.as_dict() for r in ingested.rejections]
    frame = pd.DataFrame(
        rows,
        columns=[
            "file",
            "row",
            "field",
            "value",
            "expected",
            "message_vi",
            "message_en",
            "record_id",
        ],
    )
    geoms = [
        shapely.points(r.x, r.y) if r.x is not None and r.y is not None else None
        for r in ingested.rejections
    ]
    frame["row"] = pd.array(frame["row"], dtype="Int64")
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)


def build_layers(result: RunResult, cfg: Config) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers, in their published order."""
    ing, zones, qa = result.ingested, result.zones, result.qa
    assert zones is not None and qa is not None
    extent = ing.park_extent.copy()
    extent["area_km2_planar"] = round(qa.park_area_km2, 4)
    extent["area_km2_ellipsoidal"] = round(qa.park_area_ellipsoidal_km2, 4)
    # The register's cluster_code is what was declared; the zoning's is what holds.
    geosites = ing.geosites.rename(columns={"cluster_code": "declared_cluster_code"}).merge(
        zones.geosite_clusters[["geosite_code", "unit_code", "cluster_code"]], on="geosite_code"
    )
    layers = {
        "park_extent": extent,
        "districts": ing.districts,
        "geosites": geosites,
        "survey_points": ing.survey_points,
        "zone_i": zones.zone_i,
        "zone_ii": zones.zone_ii,
        "protection_zones": zones.protection_zones,
        "clusters": zones.clusters,
        "zone_district_areas": zones.zone_district_areas,
        "qa_findings": findings_layer(qa, cfg.working_crs),
        "quarantine": quarantine_layer(ing, cfg.working_crs),
    }
    if len(ing.threats):
        layers |= threat_layers(ing.threats)
        layers["conflicts"] = qa.conflicts
    if ing.assessment is not None:
        # non-spatial tables beside the geosites (GeoPackage attributes tables)
        layers["geosite_assessment"], layers["geosite_assessment_criteria"] = assess(ing.assessment)
    if qa.computed_risk is not None and len(qa.computed_risk):
        layers["geosite_risk_computed"] = qa.computed_risk
    return layers


def compute(cfg: Config, *, until: str = "check", progress: Progress = no_progress) -> RunResult:
    """Run the stages up to ``until`` (``ingest``, ``zone`` or ``check``) in memory."""
    timings: dict[str, float] = {}
    progress("Đọc và kiểm tra dữ liệu đầu vào", "Reading and validating inputs")
    with _timed(timings, "ingest"):
        ingested = ingest(cfg)
    result = RunResult(ingested=ingested, timings=timings)
    if until == "ingest":
        return result
    progress("Khoanh vùng bảo vệ (vùng I, vùng II, cụm)", "Zoning (Zone I, Zone II, clusters)")
    with _timed(timings, "zone"):
        result.zones = zone(
            ingested.geosites,
            ingested.survey_points,
            ingested.districts,
            ingested.park_extent,
            cfg.zoning,
            min_area_m2=cfg.checks.min_zone_area_m2,
        )
    if until == "zone":
        return result
    progress("Kiểm tra theo ranh giới công viên", "Checking against the park extent")
    with _timed(timings, "check"):
        result.qa = check(ingested, result.zones, cfg)
    result.layers = build_layers(result, cfg)
    counts = {name: len(layer) for name, layer in result.layers.items()}
    result.report = qa_json(result.qa, cfg, ingested.rejections, counts, ingested.notes)
    return result


def _versions() -> dict[str, str]:
    import numpy
    import pyogrio
    import pyproj

    return {
        "pipeline": pipeline.__version__,
        "python": platform.python_version(),
        "geopandas": gpd.__version__,
        "pandas": pd.__version__,
        "numpy": numpy.__version__,
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "pyproj": pyproj.__version__,
        "proj": pyproj.proj_version_str,
        "pyogrio": pyogrio.__version__,
        "gdal": pyogrio.__gdal_version_string__,
    }


def manifest(
    result: RunResult, cfg: Config, started: datetime, files: dict[str, Path], target: Path
) -> dict[str, Any]:
    """The run manifest; ``files`` are the staged outputs, to be moved into ``target``."""

    def entry(key: str, kind: str, path: Path) -> dict[str, Any]:
        return {
            "key": key,
            "kind": kind,
            "path": cfg.relative(path),
            "sha256": sha256(path),
            "bytes": path.stat().st_size,
        }

    inputs = [
        entry(key, kind, path)
        for key, spec in input_files(cfg)
        for kind, path in (("data", spec.path), ("schema", spec.schema_))
        if path is not None
    ]
    if cfg.source:
        inputs.append(entry("config", "config", cfg.source))
    return {
        "pipeline_version": pipeline.__version__,
        "started_utc": started.isoformat(timespec="seconds"),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": result.status,
        "published": result.status == "pass",
        "inputs": inputs,
        "configuration": cfg.raw,
        "versions": _versions(),
        "counts": {name: len(layer) for name, layer in result.layers.items()},
        "timings_s": result.timings,
        "outputs": {
            name: {"path": cfg.relative(target / name), "sha256": sha256(path)}
            for name, path in files.items()
        },
    }


def write_outputs(
    result: RunResult, cfg: Config, started: datetime, progress: Progress = no_progress
) -> list[Path]:
    """Write the run's files atomically; on a failed QA, into the failed-run folder.

    Returns the paths written.
    """
    out = cfg.outputs
    published = result.status == "pass"
    target = out.directory if published else out.failed_directory
    names = [
        out.geopackage,
        out.project,
        out.web_zones,
        out.web_geosites,
        out.qa_json,
        out.qa_markdown,
        out.manifest,
    ]
    write_started = time.perf_counter()
    with outputs.staged_outputs(out.directory) as staging:
        progress("Ghi GeoPackage", "Writing the GeoPackage")
        outputs.write_geopackage(result.layers, staging / out.geopackage)
        # QGIS: default styles inside the GeoPackage and a project beside it
        write_geopackage_styles(staging / out.geopackage, list(result.layers))
        write_geopackage_project(staging / out.geopackage, staging / out.project, cfg=cfg)
        zones_web = result.layers["protection_zones"]
        outputs.write_geojson_wgs84(zones_web, staging / out.web_zones)
        outputs.write_geojson_wgs84(result.layers["geosites"], staging / out.web_geosites)
        outputs.dump_json(result.report, staging / out.qa_json)
        (staging / out.qa_markdown).write_text(qa_markdown(result.report, cfg), "utf-8")
        files = {n: staging / n for n in names[:-1]}
        result.timings["write"] = round(time.perf_counter() - write_started, 3)
        outputs.dump_json(manifest(result, cfg, started, files, target), staging / out.manifest)
        if published:
            result.written = outputs.commit_outputs(staging, target, names)
        else:
            outputs.replace_directory(staging, target)
            result.written = [target / n for n in names]
    result.published = published
    return result.written


def run_zones(cfg: Config, progress: Progress = no_progress) -> RunResult:
    """The whole job: compute every stage, then write the outputs."""
    started = datetime.now(UTC)
    result = compute(cfg, until="check", progress=progress)
    write_outputs(result, cfg, started, progress)
    return result
