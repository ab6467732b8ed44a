"""Checks against the park extent: the QA stage.

Each check is a small function from layers to :class:`Finding` objects, so a
new rule is a new function. Severities: ``error`` fails the run (non-zero
exit), ``warning`` is reported and lets the run publish, ``info`` records
measurements (areas, totals) for the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from pipeline.config import Config
from pipeline.contracts import Rejection
from pipeline.crs import transform_geometries
from pipeline.ingest import IngestResult
from pipeline.threats import computed_degradation_criteria, conflict_messages, find_conflicts
from pipeline.zoning import ZoningResult

SEVERITIES = ("error", "warning", "info")


@dataclass
class Finding:
    """One QA finding, placed on the map by ``location`` when it has one."""

    severity: str
    check: str
    subject: str
    message: str
    message_vi: str
    value: float | None = None
    area_m2: float | None = None
    location: Any = None  # a shapely Point in the working CRS

    def as_dict(self) -> dict[str, Any]:
        out = {
            "severity": self.severity,
            "check": self.check,
            "subject": self.subject,
            "message": self.message,
            "message_vi": self.message_vi,
        }
        if self.value is not None:
            out["value"] = round(float(self.value), 6)
        if self.area_m2 is not None:
            out["area_m2"] = round(float(self.area_m2), 2)
        if self.location is not None and not shapely.is_empty(self.location):
            out["x_vn2000"] = round(shapely.get_y(self.location), 2)
            out["y_vn2000"] = round(shapely.get_x(self.location), 2)
        return out


@dataclass
class QAResult:
    """Findings plus the measurements the report shows."""

    findings: list[Finding]
    park_area_km2: float
    park_area_ellipsoidal_km2: float
    declared_area_km2: float
    totals: dict[str, Any] = field(default_factory=dict)
    #: threat features inside or near the zones (pipeline.threats.find_conflicts)
    conflicts: gpd.GeoDataFrame | None = None
    #: Brilha's distance criteria of degradation risk computed from the threat layers
    computed_risk: pd.DataFrame | None = None

    @property
    def status(self) -> str:
        return "fail" if any(f.severity == "error" for f in self.findings) else "pass"

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}


def ellipsoidal_area_km2(geom: shapely.Geometry, crs: str) -> float:
    """Geodesic area on the VN-2000 ellipsoid (WGS 84 axes) of a projected polygon."""
    crs_obj = pyproj.CRS.from_user_input(crs)
    geographic = crs_obj.geodetic_crs
    lonlat = transform_geometries(np.array([geom]), crs, geographic.to_epsg() or geographic)[0]
    geod = geographic.get_geod()
    area, _ = geod.geometry_area_perimeter(lonlat)
    return abs(area) / 1e6


def check_park_area(extent: gpd.GeoDataFrame, cfg: Config) -> tuple[list[Finding], float, float]:
    geom = shapely.union_all(extent.geometry.values)
    planar = shapely.area(geom) / 1e6
    ellipsoidal = ellipsoidal_area_km2(geom, cfg.working_crs)
    declared = cfg.park.declared_area_km2
    tol = cfg.park.area_tolerance_pct
    findings = []
    for kind, kind_vi, value, severity_if_off in (
        ("planar", "phẳng", planar, "error"),
        ("ellipsoidal", "trên ellipsoid", ellipsoidal, "warning"),
    ):
        diff_pct = 100 * (value - declared) / declared
        ok = abs(diff_pct) <= tol
        findings.append(
            Finding(
                severity="info" if ok else severity_if_off,
                check=f"park_area_{kind}",
                subject="park_extent",
                message=f"{kind} area {value:,.2f} km² vs declared {declared:,.2f} km² "
                f"({diff_pct:+.3f} %, tolerance ±{tol} %)",
                message_vi=f"diện tích {kind_vi} {value:,.2f} km² so với công bố {declared:,.2f} km² "
                f"({diff_pct:+.3f} %, dung sai ±{tol} %)",
                value=value,
                location=shapely.point_on_surface(geom),
            )
        )
    return findings, planar, ellipsoidal


def check_validity(layers: dict[str, gpd.GeoDataFrame], crs: str) -> list[Finding]:
    findings = []
    for name, layer in layers.items():
        if layer.crs is None or not layer.crs.equals(pyproj.CRS.from_user_input(crs)):
            findings.append(
                Finding("error", "crs", name, f"layer is not in {crs}", f"lớp không ở hệ {crs}")
            )
        geoms = layer.geometry.values
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        invalid = ~missing & ~shapely.is_valid(geoms)
        for mask, en, vi in (
            (missing, "empty or missing geometry", "hình học rỗng"),
            (invalid, "invalid geometry", "hình học không hợp lệ"),
        ):
            for i in np.flatnonzero(mask):
                reason = shapely.is_valid_reason(geoms[i]) if not missing[i] else ""
                findings.append(
                    Finding(
                        "error",
                        "geometry_valid",
                        f"{name}#{i + 1}",
                        f"{en} {reason}".strip(),
                        f"{vi} {reason}".strip(),
                        location=None if missing[i] else shapely.point_on_surface(geoms[i]),
                    )
                )
    return findings


def check_inside_park(
    layers: dict[str, tuple[gpd.GeoDataFrame, str]], park: shapely.Geometry
) -> list[Finding]:
    """Every feature of every layer lies inside the park (within 1 cm)."""
    findings = []
    tolerant = shapely.buffer(park, 0.01)
    shapely.prepare(tolerant)
    for name, (layer, id_col) in layers.items():
        geoms = layer.geometry.values
        inside = shapely.covers(tolerant, geoms) | shapely.is_empty(geoms)
        for i in np.flatnonzero(~inside):
            outside_part = shapely.difference(geoms[i], park)
            dist = shapely.distance(geoms[i], park)
            findings.append(
                Finding(
                    "error",
                    "inside_park",
                    f"{name} {layer[id_col].iloc[i]}",
                    f"{name} {layer[id_col].iloc[i]} lies outside the park extent"
                    + (f" ({dist:,.0f} m away)" if dist > 0 else ""),
                    f"{name} {layer[id_col].iloc[i]} nằm ngoài ranh giới công viên"
                    + (f" (cách {dist:,.0f} m)" if dist > 0 else ""),
                    value=dist,
                    area_m2=shapely.area(outside_part) or None,
                    location=shapely.point_on_surface(outside_part),
                )
            )
    return findings


def _pieces(geom: shapely.Geometry, min_area: float) -> np.ndarray:
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3]
    return parts[shapely.area(parts) > min_area]


def check_district_coverage(
    districts: gpd.GeoDataFrame, park: shapely.Geometry, sliver: float
) -> list[Finding]:
    findings = []
    full = districts.loc[districts["park_membership"] == "full"]
    for _, row in full.iterrows():
        for piece in _pieces(shapely.difference(row.geometry, park), sliver):
            findings.append(
                Finding(
                    "error",
                    "full_district_inside_park",
                    f"district {row['district_code']} {row['district_name']}",
                    f"{shapely.area(piece) / 1e4:,.2f} ha of {row['district_name']} (declared full "
                    "member) lie outside the park extent",
                    f"{shapely.area(piece) / 1e4:,.2f} ha của {row['district_name']} (thuộc toàn "
                    "phần) nằm ngoài ranh giới công viên",
                    area_m2=shapely.area(piece),
                    location=shapely.point_on_surface(piece),
                )
            )
    members = districts.loc[districts["park_membership"].isin(["full", "partial"])]
    gap = shapely.difference(park, shapely.union_all(members.geometry.values))
    for piece in _pieces(gap, sliver):
        findings.append(
            Finding(
                "error",
                "extent_covered_by_members",
                "park_extent",
                f"gap of {shapely.area(piece) / 1e4:,.2f} ha: part of the park lies in no member district",
                f"khoảng hở {shapely.area(piece) / 1e4:,.2f} ha: phần công viên không thuộc huyện thành viên nào",
                area_m2=shapely.area(piece),
                location=shapely.point_on_surface(piece),
            )
        )
    for _, row in districts.loc[districts["park_membership"] == "none"].iterrows():
        for piece in _pieces(shapely.intersection(row.geometry, park), sliver):
            findings.append(
                Finding(
                    "error",
                    "non_member_in_park",
                    f"district {row['district_code']} {row['district_name']}",
                    f"{shapely.area(piece) / 1e4:,.2f} ha of non-member {row['district_name']} lie inside the park",
                    f"{shapely.area(piece) / 1e4:,.2f} ha của {row['district_name']} (không thuộc công viên) nằm trong ranh giới",
                    area_m2=shapely.area(piece),
                    location=shapely.point_on_surface(piece),
                )
            )
    geoms = districts.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="overlaps")
    keep = left < right
    for i, j in zip(left[keep], right[keep], strict=True):
        overlap = shapely.intersection(geoms[i], geoms[j])
        for piece in _pieces(overlap, sliver):
            a, b = districts.iloc[i], districts.iloc[j]
            findings.append(
                Finding(
                    "warning",
                    "district_overlap",
                    f"districts {a['district_code']}/{b['district_code']}",
                    f"{a['district_name']} and {b['district_name']} overlap by "
                    f"{shapely.area(piece) / 1e4:,.2f} ha",
                    f"{a['district_name']} và {b['district_name']} chồng lấn "
                    f"{shapely.area(piece) / 1e4:,.2f} ha",
                    area_m2=shapely.area(piece),
                    location=shapely.point_on_surface(piece),
                )
            )
    return findings


def check_declared_districts(
    geosites: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> list[Finding]:
    """Compare each geosite's declared district with the one its point falls in."""
    joined = gpd.sjoin(
        geosites[["geosite_code", "declared_district", "declared_district_code", "geometry"]],
        districts[["district_code", "district_name", "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined[~joined.index.duplicated(keep="first")]
    findings = []
    mismatch = joined["district_code"].notna() & (
        joined["district_code"] != joined["declared_district_code"]
    )
    for _, row in joined.loc[mismatch].iterrows():
        findings.append(
            Finding(
                "warning",
                "declared_district",
                f"geosite {row['geosite_code']}",
                f"{row['geosite_code']} is declared in {row['declared_district']} but its "
                f"location falls in {row['district_name']}",
                f"{row['geosite_code']} khai báo thuộc {row['declared_district']} nhưng vị trí "
                f"nằm trong {row['district_name']}",
                location=row.geometry,
            )
        )
    for _, row in joined.loc[joined["district_code"].isna()].iterrows():
        findings.append(
            Finding(
                "warning",
                "declared_district",
                f"geosite {row['geosite_code']}",
                f"{row['geosite_code']} falls in no district polygon",
                f"{row['geosite_code']} không nằm trong ranh giới huyện nào",
                location=row.geometry,
            )
        )
    return findings


def check_no_overlap(protection: gpd.GeoDataFrame, tolerance_m2: float) -> list[Finding]:
    geoms = protection.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    keep = left < right
    if not keep.any():
        return []
    overlaps = shapely.intersection(geoms[left[keep]], geoms[right[keep]])
    areas = shapely.area(overlaps)
    findings = []
    for i, j, geom, area in zip(left[keep], right[keep], overlaps, areas, strict=True):
        if area > tolerance_m2:
            a, b = protection.iloc[i], protection.iloc[j]
            findings.append(
                Finding(
                    "error",
                    "protection_zones_overlap",
                    f"{a['unit_code']} {a['zone_class']} / {b['unit_code']} {b['zone_class']}",
                    f"protection zones overlap by {area:,.2f} m²",
                    f"các vùng bảo vệ chồng lấn {area:,.2f} m²",
                    area_m2=area,
                    location=shapely.point_on_surface(geom),
                )
            )
    return findings


def findings_for_rejections(rejections: list[Rejection]) -> list[Finding]:
    return [
        Finding(
            "error",
            "rejected_row",
            f"{r.file} row {r.row}",
            f"{r.file} row {r.row}, field {r.field} = {r.value!r}: {r.message_en} "
            f"(expected {r.expected})",
            f"{r.file} dòng {r.row}, trường {r.field} = {r.value!r}: {r.message_vi} "
            f"(cần: {r.expected})",
            location=shapely.points(r.x, r.y) if r.x is not None and r.y is not None else None,
        )
        for r in rejections
    ]


def totals(
    zones: ZoningResult, districts: gpd.GeoDataFrame, park_area_km2: float
) -> dict[str, Any]:
    """Zone I and Zone II area per district and park-wide, and the protected share."""
    pieces = zones.zone_district_areas
    table = (
        pieces.pivot_table(
            index=["district_code", "district_name"],
            columns="zone_class",
            values="area_ha",
            aggfunc="sum",
            fill_value=0.0,
        )
        .reindex(columns=["I", "II"], fill_value=0.0)
        .reset_index()
    )
    members = districts.loc[
        districts["park_membership"] != "none", ["district_code", "district_name"]
    ]
    table = members.merge(table, on=["district_code", "district_name"], how="outer").fillna(
        {"I": 0.0, "II": 0.0}
    )
    per_district = [
        {
            "district_code": int(r.district_code),
            "district_name": r.district_name,
            "zone_i_ha": round(float(r.I), 2),
            "zone_ii_ha": round(float(r.II), 2),
        }
        for r in table.sort_values("district_code").itertuples()
    ]
    zi = float(zones.protection_zones.loc[lambda d: d.zone_class == "I", "area_ha"].sum())
    zii = float(zones.protection_zones.loc[lambda d: d.zone_class == "II", "area_ha"].sum())
    park_ha = park_area_km2 * 100
    return {
        "per_district": per_district,
        "park": {
            "zone_i_ha": round(zi, 2),
            "zone_ii_ha": round(zii, 2),
            "protected_ha": round(zi + zii, 2),
            "park_ha": round(park_ha, 2),
            "protected_share_pct": round(100 * (zi + zii) / park_ha, 4) if park_ha else None,
        },
    }


def check_contradictions(
    geosites: gpd.GeoDataFrame, points: gpd.GeoDataFrame, cfg: Config
) -> list[Finding]:
    """Put on the map what ingest let through with a warning: two geosites at
    the same place, and survey points far from their geosite."""
    rules = cfg.ingest
    findings = []
    if rules.same_place == "warn" and len(geosites) > 1:
        geoms = geosites.geometry.values
        left, right = shapely.STRtree(geoms).query(
            geoms, predicate="dwithin", distance=rules.same_place_distance_m
        )
        keep = left < right
        codes = geosites["geosite_code"].to_numpy()
        for a, b in zip(left[keep], right[keep], strict=True):
            dist = float(shapely.distance(geoms[a], geoms[b]))
            findings.append(
                Finding(
                    "warning",
                    "same_place",
                    f"geosites {codes[a]}/{codes[b]}",
                    f"geosites {codes[a]} and {codes[b]} are {dist:.1f} m apart",
                    f"điểm di sản {codes[a]} và {codes[b]} cách nhau {dist:.1f} m",
                    value=dist,
                    location=geoms[a],
                )
            )
    if rules.far_point == "warn" and len(points):
        owner = geosites.set_index("geosite_code").geometry.reindex(points["geosite_code"]).values
        dist = shapely.distance(points.geometry.values, owner)
        for i in np.flatnonzero(dist > rules.max_point_distance_m):
            pid, code = points["point_id"].iloc[i], points["geosite_code"].iloc[i]
            findings.append(
                Finding(
                    "warning",
                    "far_survey_point",
                    f"survey point {pid}",
                    f"survey point {pid} is {dist[i]:,.0f} m from its geosite {code}",
                    f"điểm khảo sát {pid} cách điểm di sản {code} {dist[i]:,.0f} m",
                    value=float(dist[i]),
                    location=points.geometry.values[i],
                )
            )
    return findings


def complete_threat_kinds(cfg: Config) -> list[str]:
    """Threat kinds all of whose configured layers say they are complete."""
    kinds: dict[str, bool] = {}
    for spec in cfg.inputs.threats:
        kinds[spec.kind] = kinds.get(spec.kind, True) and spec.complete
    return [k for k, complete in kinds.items() if complete]


def check_threats(
    ingested: IngestResult, zones: ZoningResult, cfg: Config
) -> tuple[list[Finding], gpd.GeoDataFrame, pd.DataFrame]:
    """Threat features inside or near the zones, and the computed risk criteria."""
    units = zones.geosite_clusters[["geosite_code", "unit_code"]]
    sites = ingested.geosites[["geosite_code", "geometry"]].merge(units, on="geosite_code")
    conflicts = find_conflicts(
        ingested.threats,
        zones.protection_zones,
        sites,
        cfg.threats.near_distance_m,
        cfg.threats.severity,
    )
    findings = []
    for row, location in zip(conflicts.itertuples(index=False), conflicts.geometry, strict=True):
        vi, en = conflict_messages(pd.Series(row._asdict()))
        findings.append(
            Finding(
                row.severity,
                f"threat_{row.relation}",
                row.unit_code,
                en,
                vi,
                value=row.distance_m,
                area_m2=row.overlap_area_ha * 1e4 if row.overlap_area_ha else None,
                location=location,
            )
        )
    hand = None
    if ingested.assessment is not None:
        hand = ingested.assessment.drop(columns="illustrative", errors="ignore").melt(
            id_vars="geosite_code", var_name="criterion", value_name="score"
        )
    risk = computed_degradation_criteria(
        sites[["geosite_code", "geometry"]],
        ingested.threats,
        cfg.threats.degrading_kinds,
        cfg.threats.road_kinds,
        cfg.threats.brilha,
        hand,
        cfg.threats.disagreement_points,
        complete_kinds=complete_threat_kinds(cfg),
    )
    for row in risk.loc[risk["disagrees"]].itertuples():
        nearest_en = (
            f"nearest at {row.distance_m:,.0f} m"
            if pd.notna(row.distance_m)
            else "none in the layers"
        )
        nearest_vi = (
            f"gần nhất cách {row.distance_m:,.0f} m"
            if pd.notna(row.distance_m)
            else "không có trong lớp"
        )
        findings.append(
            Finding(
                "warning",
                "risk_score_disagrees",
                row.geosite_code,
                f"{row.criterion}: the hand-entered score {row.hand_score} differs from "
                f"{row.computed_score} computed from {row.source_layers} "
                f"({nearest_en})",
                f"{row.criterion}: điểm nhập tay {row.hand_score} khác điểm {row.computed_score} "
                f"tính từ {row.source_layers} ({nearest_vi})",
                value=row.distance_m,
            )
        )
    return findings, conflicts, risk


def check(ingested: IngestResult, zones: ZoningResult, cfg: Config) -> QAResult:
    """Run every check against the park extent.

    Parameters
    ----------
    ingested, zones
        Results of the ingest and zone stages.
    cfg
        Tolerances and the declared area.

    Returns
    -------
    QAResult
    """
    park = shapely.union_all(ingested.park_extent.geometry.values)
    findings, planar, ellipsoidal = check_park_area(ingested.park_extent, cfg)
    findings += findings_for_rejections(ingested.rejections)
    layers = {
        "park_extent": ingested.park_extent,
        "districts": ingested.districts,
        "geosites": ingested.geosites,
        "survey_points": ingested.survey_points,
        "zone_i": zones.zone_i,
        "zone_ii": zones.zone_ii,
        "protection_zones": zones.protection_zones,
    }
    findings += check_validity(layers, cfg.working_crs)
    findings += check_inside_park(
        {
            "geosite": (ingested.geosites, "geosite_code"),
            "survey_point": (ingested.survey_points, "point_id"),
            "protection_zone": (zones.protection_zones, "unit_code"),
        },
        park,
    )
    for row in zones.clipped.itertuples():
        findings.append(
            Finding(
                "warning",
                "zone_clipped",
                f"{row.geosite_code} zone {row.zone_class}",
                f"Zone {row.zone_class} of {row.geosite_code} was clipped to the park extent: "
                f"{row.clipped_area_m2 / 1e4:,.2f} ha removed",
                f"Vùng {row.zone_class} của {row.geosite_code} bị cắt theo ranh giới công viên: "
                f"bỏ {row.clipped_area_m2 / 1e4:,.2f} ha",
                area_m2=row.clipped_area_m2,
                location=row.location,
            )
        )
    findings += check_district_coverage(ingested.districts, park, cfg.checks.sliver_area_m2)
    findings += check_declared_districts(ingested.geosites, ingested.districts)
    findings += check_contradictions(ingested.geosites, ingested.survey_points, cfg)
    findings += check_no_overlap(zones.protection_zones, cfg.checks.overlap_tolerance_m2)
    threat_findings, conflicts, computed_risk = check_threats(ingested, zones, cfg)
    findings += threat_findings
    summary = totals(zones, ingested.districts, planar)
    park_totals = summary["park"]
    findings.append(
        Finding(
            "info",
            "protected_share",
            "park",
            f"Zone I {park_totals['zone_i_ha']:,.2f} ha, Zone II {park_totals['zone_ii_ha']:,.2f} ha: "
            f"{park_totals['protected_share_pct']:.3f} % of the park under protection",
            f"Vùng I {park_totals['zone_i_ha']:,.2f} ha, vùng II {park_totals['zone_ii_ha']:,.2f} ha: "
            f"{park_totals['protected_share_pct']:.3f} % diện tích công viên được bảo vệ",
            value=park_totals["protected_share_pct"],
        )
    )
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.check, f.subject))
    return QAResult(
        findings=findings,
        park_area_km2=planar,
        park_area_ellipsoidal_km2=ellipsoidal,
        declared_area_km2=cfg.park.declared_area_km2,
        totals=summary,
        conflicts=conflicts,
        computed_risk=computed_risk,
    )


def findings_layer(qa: QAResult, crs: str) -> gpd.GeoDataFrame:
    """The ``qa_findings`` point layer: every finding that has a place."""
    rows = [f.as_dict() for f in qa.findings]
    frame = pd.DataFrame(
        rows,
        columns=["severity", "check", "subject", "message", "message_vi", "value", "area_m2"],
    )
    geoms = [
        f.location if f.location is not None and not shapely.is_empty(f.location) else None
        for f in qa.findings
    ]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
