"""The whole job: ingest -> zone -> check -> publish outputs.

Library API behind the command line. Each stage is a plain function of data
and configuration; this module only sequences them, times them, and hands the
result to :mod:`pipeline.outputs` at the edge.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

import pipeline
from pipeline import failures, outputs
from pipeline.adjustments import Applied, apply_adjustments, proposal_layer, read_adjustments
from pipeline.approvals import Approvals, read_approvals
from pipeline.assessment import assess
from pipeline.changes import Previous, change_markdown, compare, read_previous
from pipeline.checks import QAResult, check, check_approved, findings_layer
from pipeline.config import Config, input_files
from pipeline.ingest import IngestResult, ingest
from pipeline.ingest.extents import extent_outlines
from pipeline.marker_tables import write_marker_tables
from pipeline.markers import LegalBoundaries, legal_boundaries
from pipeline.outputs import sha256
from pipeline.parallel import alongside, second_process
from pipeline.progress import Progress, counted, no_progress
from pipeline.qgis.project import write_geopackage_project
from pipeline.qgis.styles import write_geopackage_styles
from pipeline.report import qa_json, qa_markdown
from pipeline.threats import threat_layers
from pipeline.zoning import ZoningResult, unit_layers, zone


@dataclass
class RunResult:
    ingested: IngestResult
    zones: ZoningResult | None = None
    qa: QAResult | None = None
    proposals: gpd.GeoDataFrame | None = None  # every unit's proposal, before adjustments
    adjustments: Applied | None = None  # what the hand adjustments did
    timings: dict[str, float] = field(default_factory=dict)
    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)
    published: bool = False
    legal: LegalBoundaries | None = None
    previous: Previous | None = None
    approvals: Approvals | None = None
    #: hand adjustments whose proposal changed since they were made (listed in the change report)
    adjustments_review: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[str, Any] = field(default_factory=dict)

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
    assert zones is not None and qa is not None and result.legal is not None
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
        "protection_zones_detailed": result.legal.detailed,
        "boundary_markers": result.legal.markers,
        "clusters": zones.clusters,
        "zone_district_areas": zones.zone_district_areas,
        "zone_proposals": result.proposals,
        "qa_findings": findings_layer(qa, cfg.working_crs),
        "quarantine": quarantine_layer(ing, cfg.working_crs),
    }
    if ing.extents is not None:
        layers["geosite_extents"] = extent_outlines(ing.extents)
    if len(ing.threats):
        layers |= threat_layers(ing.threats)
        layers["conflicts"] = qa.conflicts
    if ing.assessment is not None:
        # non-spatial tables beside the geosites (GeoPackage attributes tables)
        layers["geosite_assessment"], layers["geosite_assessment_criteria"] = assess(ing.assessment)
    if qa.computed_risk is not None and len(qa.computed_risk):
        layers["geosite_risk_computed"] = qa.computed_risk
    return layers


def adjustments_needing_review(applied: Applied) -> list[dict[str, Any]]:
    """Hand adjustments whose proposal changed since they were made, for the change report."""
    table = applied.table
    if not len(table) or "review" not in table:
        return []
    stale = table.loc[table["review"].notna()]
    columns = [
        c
        for c in (
            "unit_code",
            "zone_class",
            "author",
            "adjusted_on",
            "review",
            "previous_area_ha",
            "proposal_area_ha",
            "changed_area_ha",
        )
        if c in stale
    ]
    rows = stale[columns].astype(object).where(stale[columns].notna(), None)
    out = rows.to_dict("records")
    if "location" in stale:
        for record, location in zip(out, stale["location"], strict=True):
            if location is not None and not shapely.is_empty(location):
                record["x_vn2000"] = round(shapely.get_y(location), 2)
                record["y_vn2000"] = round(shapely.get_x(location), 2)
    return out


def finalise_zones(
    zones: ZoningResult,
    ingested: IngestResult,
    cfg: Config,
    previous: Previous,
    approvals: Approvals,
    progress: Progress = no_progress,
) -> tuple[LegalBoundaries, ZoningResult]:
    """The legal boundaries of the final zones, and the zoning layers redone from them.

    ``protection_zones`` becomes the marker polygons (approved units frozen as
    approved), and its districts, ``zone_district_areas`` and ``clusters``
    follow, so every stated area is a marker polygon's area.
    """
    park = shapely.union_all(ingested.park_extent.geometry.values)
    units = set(zones.protection_zones["unit_code"])
    status = approvals.status(units)
    if "status" in zones.protection_zones:  # set by the adjustments stage: keep its word
        given = zones.protection_zones.groupby("unit_code")["status"].first().dropna()
        status.update({u: s for u, s in given.items() if status.get(u) != "approved"})
    with counted(
        progress,
        "Mốc giới: ranh giới pháp lý",
        "Boundary markers: the legal boundaries",
        len(units),
        "đơn vị/units",
    ) as advance:
        legal = legal_boundaries(
            zones.protection_zones,
            park,
            cfg.zoning.markers,
            previous_markers=previous.boundary_markers,
            approved_zones=approvals.zones,
            approved_markers=approvals.markers,
            status=status,
            advance=advance,
        )
    protection, by_district, clusters = unit_layers(
        legal.zones, ingested.districts, cfg.checks.min_zone_area_m2
    )
    legal.zones = protection
    final = replace(
        zones, protection_zones=protection, zone_district_areas=by_district, clusters=clusters
    )
    return legal, final


def compute(
    cfg: Config,
    *,
    until: str = "check",
    progress: Progress = no_progress,
    ingested_hook: Callable[[IngestResult], None] | None = None,
) -> RunResult:
    """Run the stages up to ``until`` (``ingest``, ``zone`` or ``check``) in memory.

    ``ingested_hook`` is called with the inputs once they are read (to start
    writing what depends on them only).
    """
    timings: dict[str, float] = {}
    with _timed(timings, "ingest"):
        ingested = ingest(cfg, progress)
        edits = read_adjustments(cfg)
        if edits is not None:
            ingested.rejections += edits.rejections
    if ingested_hook is not None:
        ingested_hook(ingested)
    result = RunResult(ingested=ingested, timings=timings)
    if until == "ingest":
        return result
    with _timed(timings, "zone"):
        result.zones = zone(
            ingested.geosites,
            ingested.survey_points,
            ingested.districts,
            ingested.park_extent,
            cfg.zoning,
            min_area_m2=cfg.checks.min_zone_area_m2,
            extents=ingested.extents,
            progress=progress,
        )
        # the geologists' hand adjustments replace the proposals (pipeline.adjustments)
        result.proposals = proposal_layer(result.zones)
        result.zones, result.adjustments = apply_adjustments(
            result.zones, edits, ingested.districts, min_area_m2=cfg.checks.min_zone_area_m2
        )
        result.adjustments_review = adjustments_needing_review(result.adjustments)
    with _timed(timings, "markers"):
        result.previous = read_previous(cfg.output_path("geopackage"))
        result.approvals = read_approvals(cfg.edits.geopackage, cfg.working_crs)
        result.legal, result.zones = finalise_zones(
            result.zones, ingested, cfg, result.previous, result.approvals, progress
        )
    if until == "zone":
        return result
    progress("Kiểm tra theo ranh giới công viên", "Checking against the park extent")
    with _timed(timings, "check"):
        approved = check_approved(
            result.approvals,
            ingested.geosites,
            ingested.survey_points,
            result.zones.geosite_clusters,
            result.legal.pending,
            cfg.zoning.markers.approved_tolerance_m,
        )
        result.qa = check(
            ingested, result.zones, cfg, adjustments=result.adjustments, extra=approved
        )
    result.layers = build_layers(result, cfg)
    result.changes = compare(
        result.previous,
        result.layers["protection_zones"],
        result.layers["geosites"],
        result.layers["boundary_markers"],
        cfg.zoning.markers,
        adjustments_review=result.adjustments_review,
        conflicts=result.layers.get("conflicts"),
    )
    counts = {name: len(layer) for name, layer in result.layers.items()}
    result.report = qa_json(
        result.qa, cfg, ingested.rejections, counts, ingested.notes, ingested.text_changes
    )
    result.report["change_report"] = {
        "json": cfg.outputs.changes_json,
        "markdown": cfg.outputs.changes_markdown,
        "summary": result.changes["summary"],
    }
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
    result: RunResult, cfg: Config, started: datetime, staging: Path, target: Path
) -> dict[str, Any]:
    """The run manifest: inputs, configuration, versions, and every file of the set.

    ``staging`` holds the set's files, to become visible in ``target``; ``outputs``
    lists each of them (relative path inside the set) with its SHA-256, as
    :func:`pipeline.outputs.verify_set` checks them.
    """

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
    if cfg.edits.geopackage.exists():
        inputs.append(entry("edits.geopackage", "edits", cfg.edits.geopackage))
    files = outputs.set_files(staging, exclude=(cfg.outputs.manifest,))
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
            name: {"path": cfg.relative(target / name), **checked}
            for name, checked in files.items()
        },
    }


def early_layers(ingested: IngestResult) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage layers that are the inputs as read (see :func:`build_layers`)."""
    return {"survey_points": ingested.survey_points}


def _write_geopackage(
    result: RunResult,
    cfg: Config,
    staging: Path,
    progress: Progress,
    ahead: outputs.LayersInAdvance | None = None,
) -> None:
    """The GeoPackage with QGIS's default styles inside, and the QGIS project beside it.

    Layers ``ahead`` has been writing since the inputs were read are taken from it.
    """
    gpkg = staging / cfg.outputs.geopackage
    features = sum(len(layer) for layer in result.layers.values())
    with counted(
        progress, "Ghi các lớp", "Writing the layers", features, "đối tượng/features"
    ) as advance:
        layers = result.layers if ahead is None else ahead.take(result.layers, gpkg, advance)
        outputs.write_geopackage(layers, gpkg, advance=advance)
    write_geopackage_styles(gpkg, list(result.layers))
    # the project is opened from the user-visible folder, so its path to the
    # edits GeoPackage is relative to that folder, not to the staging one
    home = cfg.outputs.directory if result.status == "pass" else cfg.outputs.failed_directory
    write_geopackage_project(
        gpkg, staging / cfg.outputs.project, cfg=cfg, edits=cfg.edits.geopackage, home=home
    )


def _write_web(result: RunResult, cfg: Config, staging: Path, progress: Progress) -> None:
    outputs.write_geojson_wgs84(result.layers["protection_zones"], staging / cfg.outputs.web_zones)
    outputs.write_geojson_wgs84(result.layers["geosites"], staging / cfg.outputs.web_geosites)


def _write_qa_report(result: RunResult, cfg: Config, staging: Path, progress: Progress) -> None:
    outputs.dump_json(result.report, staging / cfg.outputs.qa_json)
    (staging / cfg.outputs.qa_markdown).write_text(qa_markdown(result.report, cfg), "utf-8")


def _write_changes(result: RunResult, cfg: Config, staging: Path, progress: Progress) -> None:
    outputs.dump_json(result.changes, staging / cfg.outputs.changes_json)
    (staging / cfg.outputs.changes_markdown).write_text(change_markdown(result.changes), "utf-8")


def _write_marker_tables(result: RunResult, cfg: Config, staging: Path, progress: Progress) -> None:
    write_marker_tables(result.layers["boundary_markers"], staging / cfg.outputs.markers)


#: A step that writes some of the set's files into the staging folder.
SetWriter = Callable[[RunResult, Config, Path, Progress], None]

#: Everything ``geopark zones`` writes: (progress in Vietnamese, in English, the
#: writer). Each writer puts its files into the staging folder it is given
#: (sub-folders allowed). The manifest then lists every file found there with
#: its SHA-256, and each top-level name becomes a user-visible path: adding a
#: product to the set is adding a writer here. The first, the GeoPackage, is
#: written by this process with its progress bar; the others at the same time,
#: in a forked one (GDAL holds the GIL, so threads would wait on each other).
SET_WRITERS: list[tuple[str, str, SetWriter]] = [
    (
        "Ghi GeoPackage và dự án QGIS",
        "Writing the GeoPackage and the QGIS project",
        _write_geopackage,
    ),
    ("GeoJSON cho web", "the web GeoJSON", _write_web),
    ("báo cáo QA", "the QA report", _write_qa_report),
    ("báo cáo thay đổi", "the change report", _write_changes),
    ("bảng mốc giới", "the boundary-marker tables", _write_marker_tables),
]


def _write_quietly(
    result: RunResult, cfg: Config, staging: Path, writers: list[tuple[str, str, SetWriter]]
) -> None:
    for _, _, write in writers:
        write(result, cfg, staging, no_progress)


def write_outputs(
    result: RunResult,
    cfg: Config,
    started: datetime,
    progress: Progress = no_progress,
    ahead: outputs.LayersInAdvance | None = None,
) -> list[Path]:
    """Write the run's set and make it visible in one rename; on a failed QA, as the failed-run folder.

    The set becomes ``cfg.outputs.directory``'s files (a passing run) or the
    whole ``cfg.outputs.failed_directory`` (a failing one, which leaves the
    published set untouched); see :class:`pipeline.outputs.OutputSet`.
    ``ahead`` holds GeoPackage layers already being written (:func:`run_zones`).

    Returns the user-visible paths written.
    """
    out = cfg.outputs
    published = result.status == "pass"
    target = out.directory if published else out.failed_directory
    output_set = outputs.OutputSet(target, whole_folder=not published)
    write_started = time.perf_counter()
    (gpkg_vi, gpkg_en, write_gpkg), *others = SET_WRITERS
    with output_set.staging() as staging, failures.writing_to(out.directory):
        with counted(
            progress, "Ghi bộ kết quả", "Writing the output set", len(SET_WRITERS), "phần/parts"
        ) as advance:
            at_once = second_process()  # else they are written first, then the GeoPackage
            progress(
                ("Ghi song song: " if at_once else "Ghi: ") + ", ".join(vi for vi, _, _ in others),
                ("Writing alongside: " if at_once else "Writing: ")
                + ", ".join(en for _, en, _ in others),
            )
            with alongside(_write_quietly, result, cfg, staging, others):
                progress(gpkg_vi, gpkg_en)
                write_gpkg(result, cfg, staging, progress, ahead)
                advance(1)
            advance(len(others))
        result.timings["write"] = round(time.perf_counter() - write_started, 3)
        record = manifest(result, cfg, started, staging, target)
        outputs.dump_json(record, staging / out.manifest)
        progress("Hoán đổi sang bộ kết quả mới", "Switching to the new output set")
        output_set.commit(staging)
    result.written = [target / name for name in record["outputs"]] + [target / out.manifest]
    result.published = published
    return result.written


def run_zones(cfg: Config, progress: Progress = no_progress) -> RunResult:
    """The whole job: compute every stage, then write the outputs.

    The survey points are written into the GeoPackage, in a forked process,
    while the zones are computed (:func:`early_layers`).
    """
    started = datetime.now(UTC)
    store = outputs.OutputSet(cfg.outputs.directory).store
    with ExitStack() as stack:
        with failures.writing_to(cfg.outputs.directory):
            ahead = stack.enter_context(outputs.layers_in_advance(store, cfg.outputs.geopackage))

        def write_ahead(ingested: IngestResult) -> None:
            if ahead.start(early_layers(ingested)):
                progress(
                    "Ghi điểm khảo sát vào GeoPackage song song",
                    "Writing the survey points into the GeoPackage alongside",
                )

        result = compute(cfg, until="check", progress=progress, ingested_hook=write_ahead)
        write_outputs(result, cfg, started, progress, ahead)
    return result
