"""Checks against the park extent: the QA stage.

Each check is a small function from layers to :class:`Finding` objects, so a
new rule is a new function. Severities: ``error`` fails the run (non-zero
exit), ``warning`` is reported and lets the run publish, ``info`` records
measurements (areas, totals) for the report.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from pipeline.adjustments import Applied, usable_geometry
from pipeline.approvals import Approvals
from pipeline.config import Config
from pipeline.contracts import Rejection
from pipeline.crs import transform_geometries
from pipeline.ingest import IngestResult
from pipeline.numbers import en_number, vi_number
from pipeline.parallel import threaded
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
                message=f"{kind} area {en_number(value, 2)} km² vs declared {en_number(declared, 2)} km² "
                f"({en_number(diff_pct, 3, signed=True)} %, tolerance ±{en_number(tol, None)} %)",
                message_vi=f"diện tích {kind_vi} {vi_number(value, 2)} km² so với công bố {vi_number(declared, 2)} km² "
                f"({vi_number(diff_pct, 3, signed=True)} %, dung sai ±{vi_number(tol, None)} %)",
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
        invalid = ~missing & ~threaded(shapely.is_valid, geoms)
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
                    + (f" ({en_number(dist, 0)} m away)" if dist > 0 else ""),
                    f"{name} {layer[id_col].iloc[i]} nằm ngoài ranh giới công viên"
                    + (f" (cách {vi_number(dist, 0)} m)" if dist > 0 else ""),
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
                    f"{en_number(shapely.area(piece) / 1e4, 2)} ha of {row['district_name']} (declared full "
                    "member) lie outside the park extent",
                    f"{vi_number(shapely.area(piece) / 1e4, 2)} ha của {row['district_name']} (thuộc toàn "
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
                f"gap of {en_number(shapely.area(piece) / 1e4, 2)} ha: part of the park lies in no member district",
                f"khoảng hở {vi_number(shapely.area(piece) / 1e4, 2)} ha: phần công viên không thuộc huyện thành viên nào",
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
                    f"{en_number(shapely.area(piece) / 1e4, 2)} ha of non-member {row['district_name']} lie inside the park",
                    f"{vi_number(shapely.area(piece) / 1e4, 2)} ha của {row['district_name']} (không thuộc công viên) nằm trong ranh giới",
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
                    f"{en_number(shapely.area(piece) / 1e4, 2)} ha",
                    f"{a['district_name']} và {b['district_name']} chồng lấn "
                    f"{vi_number(shapely.area(piece) / 1e4, 2)} ha",
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
    geoms = np.asarray(protection.geometry.values, dtype=object)
    # the pairs whose boxes meet, then which of them meet (what the tree's "intersects"
    # predicate gives, in threads)
    left, right = shapely.STRtree(geoms).query(geoms)
    keep = left < right
    keep[keep] = threaded(shapely.intersects, geoms[left[keep]], geoms[right[keep]])
    if not keep.any():
        return []
    # most pairs are a unit's two zones, which share an edge: tens of thousands of vertices
    overlaps = threaded(shapely.intersection, geoms[left[keep]], geoms[right[keep]])
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
                    f"protection zones overlap by {en_number(area, 2)} m²",
                    f"các vùng bảo vệ chồng lấn {vi_number(area, 2)} m²",
                    area_m2=area,
                    location=shapely.point_on_surface(geom),
                )
            )
    return findings


def _unit_members(zones: ZoningResult, unit: str) -> list[str]:
    gc = zones.geosite_clusters
    return sorted(gc.loc[gc["unit_code"] == unit, "geosite_code"])


def _what_zone_i_covers(
    unit_sites: list[str], ingested: IngestResult
) -> list[tuple[str, shapely.Geometry]]:
    """What a unit's Zone I must cover: its geosites, their survey points and extents."""
    items = []
    sites = ingested.geosites.loc[ingested.geosites["geosite_code"].isin(unit_sites)]
    items += [
        (f"geosite {c}", g)
        for c, g in zip(sites["geosite_code"], sites.geometry.values, strict=True)
    ]
    points = ingested.survey_points.loc[ingested.survey_points["geosite_code"].isin(unit_sites)]
    items += [
        (f"survey point {p}", g)
        for p, g in zip(points["point_id"], points.geometry.values, strict=True)
    ]
    if ingested.extents is not None:
        ext = ingested.extents.loc[ingested.extents["geosite_code"].isin(unit_sites)]
        items += [
            (f"extent of {r.geosite_code} ({r.source_file} feature {r.source_row})", r.geometry)
            for r in ext.itertuples()
        ]
    return items


def _adjustment_error(
    findings: list[Finding], row: Any, where: Any, check: str, en: str, vi: str, **kw: Any
) -> None:
    """Add an error about the adjustment ``row`` (named by unit, zone, fid and author)."""
    unit, zc = row.unit_code, row.zone_class
    findings.append(
        Finding(
            "error",
            check,
            f"{unit} zone {zc}",
            f"adjustment of {unit} Zone {zc} (fid {row.fid}, {row.author}): {en}",
            f"điều chỉnh {unit} vùng {zc} (fid {row.fid}, {row.author}): {vi}",
            **{"location": where, **kw},
        )
    )


def check_adjustments(
    applied: pd.DataFrame,
    footprints: dict[str, shapely.Geometry],
    ingested: IngestResult,
    zones: ZoningResult,
    park: shapely.Geometry,
    tolerance_m2: float,
) -> list[Finding]:
    """The hand adjustments (pipeline.adjustments): each failing check is an error
    naming the unit; a proposal changed since the adjustment is a warning to review.

    Checks: the adjusted unit still exists; its geometry is valid; Zone I
    covers the geosites' register locations, survey points and extents; Zone I
    lies inside the unit's Zone II footprint; the adjusted zone lies inside the
    park and overlaps no other unit.
    """
    if applied is None or not len(applied):
        return []
    findings = []
    tolerant_park = shapely.buffer(park, 0.01)
    pz = zones.protection_zones
    final = pz.dissolve("unit_code").geometry
    core = pz.loc[pz["zone_class"] == "I"].set_index("unit_code").geometry
    tree_units = final.index.to_numpy()
    tree = shapely.STRtree(final.to_numpy())
    for row in applied.itertuples():
        unit, zc = row.unit_code, row.zone_class
        subject = f"{unit} zone {zc}"
        geom = row.geometry
        where = shapely.point_on_surface(geom) if not shapely.is_empty(geom) else None

        error = functools.partial(_adjustment_error, findings, row, where)

        if not row.applied:
            error(
                "adjustment_unit_missing",
                "the zoning no longer produces this unit (cluster renamed, geosite removed); "
                "the adjustment is kept but not applied: re-create it for the new unit with "
                "`geopark adjust`, then delete this feature",
                "khoanh vùng không còn đơn vị này (cụm đổi tên, điểm bị xóa); điều chỉnh được giữ "
                "nhưng không áp dụng: tạo lại cho đơn vị mới bằng `geopark adjust` rồi xóa đối tượng",
            )
            continue
        if not shapely.is_valid(geom):
            reason = shapely.is_valid_reason(geom)
            geom = usable_geometry(geom)  # the other checks look at its repaired form
            error(
                "adjustment_invalid",
                f"invalid geometry ({reason}); fix it in QGIS (Vector > Geometry Tools > "
                "Check Validity)",
                f"hình học không hợp lệ ({reason}); sửa trong QGIS (Vector > Geometry Tools > "
                "Check Validity)",
            )
        if zc == "I":
            uncovered = [
                (label, g)
                for label, g in _what_zone_i_covers(_unit_members(zones, unit), ingested)
                if not shapely.covers(shapely.buffer(core.get(unit), 0.01), g)
            ]
            if uncovered:
                names = ", ".join(label for label, _ in uncovered[:5])
                more = f" (+{len(uncovered) - 5})" if len(uncovered) > 5 else ""
                error(
                    "adjustment_zone_i_coverage",
                    f"Zone I no longer covers {names}{more}",
                    f"vùng I không còn bao {names}{more}",
                    location=shapely.point_on_surface(
                        shapely.difference(uncovered[0][1], core.get(unit))
                    ),
                )
        unit_core = core.get(unit)
        footprint = footprints.get(unit)
        if unit_core is not None and footprint is not None:
            outside = shapely.difference(unit_core, shapely.buffer(footprint, 0.01))
            if shapely.area(outside) > tolerance_m2:
                error(
                    "adjustment_zone_i_outside_footprint",
                    f"Zone I reaches {en_number(shapely.area(outside), 1)} m² beyond the unit's Zone II "
                    "footprint: move the Zone II boundary out, or Zone I in",
                    f"vùng I vượt ra ngoài ranh giới vùng II của đơn vị {vi_number(shapely.area(outside), 1)} "
                    "m²: nới ranh giới vùng II, hoặc thu vùng I",
                    area_m2=shapely.area(outside),
                    location=shapely.point_on_surface(outside),
                )
        outside_park = shapely.difference(geom, park)
        if not shapely.covers(tolerant_park, geom) and shapely.area(outside_park) > tolerance_m2:
            error(
                "adjustment_outside_park",
                f"{en_number(shapely.area(outside_park) / 1e4, 4)} ha lie outside the park extent",
                f"{vi_number(shapely.area(outside_park) / 1e4, 4)} ha nằm ngoài ranh giới công viên",
                area_m2=shapely.area(outside_park),
                location=shapely.point_on_surface(outside_park),
            )
        for j in tree.query(geom, predicate="intersects"):
            other = tree_units[j]
            if other == unit:
                continue
            overlap = shapely.intersection(geom, final.iloc[j])
            if shapely.area(overlap) > tolerance_m2:
                error(
                    "adjustment_overlap",
                    f"overlaps unit {other} by {en_number(shapely.area(overlap), 1)} m²",
                    f"chồng lấn đơn vị {other} {vi_number(shapely.area(overlap), 1)} m²",
                    area_m2=shapely.area(overlap),
                    location=shapely.point_on_surface(overlap),
                )
        if row.review == "proposal_changed" and pd.isna(row.previous_area_ha):
            findings.append(
                Finding(
                    "warning",
                    "adjustment_needs_review",
                    subject,
                    f"the proposal for {unit} Zone {zc} changed since the adjustment of "
                    f"{row.adjusted_on} by {row.author} (now {en_number(row.proposal_area_ha, 4)} ha; "
                    "the earlier area was not recorded): compare the adjustment with layer "
                    "zone_proposals",
                    f"đề xuất của {unit} vùng {zc} đã thay đổi từ lần điều chỉnh ngày "
                    f"{row.adjusted_on} của {row.author} (nay {vi_number(row.proposal_area_ha, 4)} ha; "
                    "không ghi diện tích trước): so sánh với lớp zone_proposals",
                    location=row.location,
                )
            )
        elif row.review == "proposal_changed":
            diff = row.proposal_area_ha - row.previous_area_ha
            known = row.changed_area_ha is not None and not pd.isna(row.changed_area_ha)
            changed = f"; {en_number(row.changed_area_ha, 4)} ha changed" if known else ""
            changed_vi = f"; {vi_number(row.changed_area_ha, 4)} ha thay đổi" if known else ""
            findings.append(
                Finding(
                    "warning",
                    "adjustment_needs_review",
                    subject,
                    f"the proposal for {unit} Zone {zc} changed since the adjustment of "
                    f"{row.adjusted_on} by {row.author} ({en_number(row.previous_area_ha, 4)} ha -> "
                    f"{en_number(row.proposal_area_ha, 4)} ha, {en_number(diff, 4, signed=True)} ha{changed}); the adjustment "
                    "is kept: compare it with layer zone_proposals and adjust it, or start over "
                    "with `geopark adjust --replace`",
                    f"đề xuất của {unit} vùng {zc} đã thay đổi từ lần điều chỉnh ngày "
                    f"{row.adjusted_on} của {row.author} ({vi_number(row.previous_area_ha, 4)} ha -> "
                    f"{vi_number(row.proposal_area_ha, 4)} ha, {vi_number(diff, 4, signed=True)} ha{changed_vi}); điều chỉnh "
                    "được giữ: so với lớp zone_proposals rồi sửa, hoặc làm lại bằng "
                    "`geopark adjust --replace`",
                    value=diff,
                    area_m2=None if not changed else row.changed_area_ha * 1e4,
                    location=row.location,
                )
            )
        elif row.review == "no_proposal":
            findings.append(
                Finding(
                    "warning",
                    "adjustment_needs_review",
                    subject,
                    f"the adjustment of {unit} Zone {zc} records no proposal "
                    "(proposal_sha256): whether the proposal changed cannot be told",
                    f"điều chỉnh {unit} vùng {zc} không ghi đề xuất gốc (proposal_sha256): "
                    "không biết đề xuất có thay đổi không",
                    location=where,
                )
            )
    return findings


def findings_for_rejections(rejections: list[Rejection]) -> list[Finding]:
    """One error per rejected row; rows that only follow from another are listed under it."""
    causes = {f"{r.file} row/dòng {r.row}" for r in rejections if not r.cause}
    following: dict[str, list[Rejection]] = {}
    for r in rejections:
        if r.cause in causes:
            following.setdefault(r.cause, []).append(r)
    findings = []
    for r in rejections:
        if r.cause in causes:
            continue
        key = f"{r.file} row/dòng {r.row}"
        then = following.pop(key, [])
        listed = "; ".join(
            f"{c.file} row {c.row}" + (f" ({c.record_id})" if c.record_id else "") for c in then
        )
        findings.append(
            Finding(
                "error",
                "rejected_row",
                f"{r.file} row {r.row}",
                f"{r.file} row {r.row}, field {r.field} = {r.value!r}: {r.message_en} "
                f"(expected {r.expected})" + (f"; held as a consequence: {listed}" if then else ""),
                f"{r.file} dòng {r.row}, trường {r.field} = {r.value!r}: {r.message_vi} "
                f"(cần: {r.expected})"
                + (
                    f"; các dòng bị giữ lại theo: {listed.replace(' row ', ' dòng ')}"
                    if then
                    else ""
                ),
                location=shapely.points(r.x, r.y) if r.x is not None and r.y is not None else None,
            )
        )
    return findings


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
                    f"geosites {codes[a]} and {codes[b]} are {en_number(dist, 1)} m apart",
                    f"điểm di sản {codes[a]} và {codes[b]} cách nhau {vi_number(dist, 1)} m",
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
                    f"survey point {pid} is {en_number(dist[i], 0)} m from its geosite {code}",
                    f"điểm khảo sát {pid} cách điểm di sản {code} {vi_number(dist[i], 0)} m",
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
            f"nearest at {en_number(row.distance_m, 0)} m"
            if pd.notna(row.distance_m)
            else "none in the layers"
        )
        nearest_vi = (
            f"gần nhất cách {vi_number(row.distance_m, 0)} m"
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


def check(
    ingested: IngestResult,
    zones: ZoningResult,
    cfg: Config,
    *,
    adjustments: Applied | None = None,
    extra: list[Finding] | tuple[Finding, ...] = (),
) -> QAResult:
    """Run every check against the park extent.

    Parameters
    ----------
    ingested, zones
        Results of the ingest and zone stages.
    cfg
        Tolerances and the declared area.
    adjustments
        What :func:`pipeline.adjustments.apply_adjustments` did, when it ran.
    extra
        Findings of other stages (approved boundaries, marker overlaps), sorted in.

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
                f"{en_number(row.clipped_area_m2 / 1e4, 2)} ha removed",
                f"Vùng {row.zone_class} của {row.geosite_code} bị cắt theo ranh giới công viên: "
                f"bỏ {vi_number(row.clipped_area_m2 / 1e4, 2)} ha",
                area_m2=row.clipped_area_m2,
                location=row.location,
            )
        )
    findings += check_district_coverage(ingested.districts, park, cfg.checks.sliver_area_m2)
    findings += check_declared_districts(ingested.geosites, ingested.districts)
    findings += check_contradictions(ingested.geosites, ingested.survey_points, cfg)
    findings += check_no_overlap(zones.protection_zones, cfg.checks.overlap_tolerance_m2)
    if adjustments is not None:
        findings += check_adjustments(
            adjustments.table,
            adjustments.footprints,
            ingested,
            zones,
            park,
            cfg.checks.overlap_tolerance_m2,
        )
    findings += list(extra)
    threat_findings, conflicts, computed_risk = check_threats(ingested, zones, cfg)
    findings += threat_findings
    summary = totals(zones, ingested.districts, planar)
    park_totals = summary["park"]
    findings.append(
        Finding(
            "info",
            "protected_share",
            "park",
            f"Zone I {en_number(park_totals['zone_i_ha'], 2)} ha, Zone II {en_number(park_totals['zone_ii_ha'], 2)} ha: "
            f"{en_number(park_totals['protected_share_pct'], 3)} % of the park under protection",
            f"Vùng I {vi_number(park_totals['zone_i_ha'], 2)} ha, vùng II {vi_number(park_totals['zone_ii_ha'], 2)} ha: "
            f"{vi_number(park_totals['protected_share_pct'], 3)} % diện tích công viên được bảo vệ",
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


def check_approved(
    approvals: Approvals,
    geosites: gpd.GeoDataFrame,
    survey_points: gpd.GeoDataFrame,
    membership: pd.DataFrame,
    proposals: dict[tuple[str, str], shapely.Geometry],
    tolerance_m: float,
) -> list[Finding]:
    """What no longer fits an approved (frozen) boundary, as warnings naming the unit.

    Parameters
    ----------
    approvals
        The edits GeoPackage's approvals (frozen zones and geosite locations).
    geosites, survey_points
        This run's geosites and survey points.
    membership
        ``geosite_code`` -> ``unit_code`` of this run's zoning.
    proposals
        (``unit_code``, ``zone_class``) -> the marker polygon this run would have
        published for an approved unit had it not been frozen.
    tolerance_m
        A geosite moved, or a proposal differing, by more than this is reported.
    """
    if approvals.zones is None or not approvals.approved_units:
        return []
    findings: list[Finding] = []
    decisions = dict(zip(approvals.table["unit_code"], approvals.table["decision"], strict=True))

    def warn(check_name: str, subject: str, en: str, vi: str, **kw: Any) -> None:
        findings.append(Finding("warning", check_name, subject, en, vi, **kw))

    approved_sites = approvals.geosites if approvals.geosites is not None else gpd.GeoDataFrame()
    for unit in sorted(approvals.approved_units):
        decision = decisions.get(unit, "")
        zones = approvals.zones[approvals.zones["unit_code"] == unit]
        core = shapely.union_all(zones.loc[zones["zone_class"] == "I"].geometry.values)
        tolerant = shapely.buffer(core, 0.01)
        current = set(membership.loc[membership["unit_code"] == unit, "geosite_code"])
        before = (
            set(approved_sites.loc[approved_sites["unit_code"] == unit, "geosite_code"])
            if len(approved_sites)
            else current
        )
        if unit not in set(membership["unit_code"]):
            warn(
                "approved_unit_gone",
                unit,
                f"approved unit {unit} (decision {decision}) is no longer formed by the zoning; "
                "its approved boundary is kept",
                f"đơn vị đã phê duyệt {unit} (quyết định {decision}) không còn trong kết quả "
                "khoanh vùng; ranh giới đã phê duyệt được giữ nguyên",
                location=shapely.point_on_surface(core) if not core.is_empty else None,
            )
        for code in sorted(current - before):
            warn(
                "approved_unit_members",
                f"{unit} {code}",
                f"geosite {code} now belongs to approved unit {unit} (decision {decision})",
                f"điểm di sản {code} nay thuộc đơn vị đã phê duyệt {unit} (quyết định {decision})",
            )
        for code in sorted(before - current):
            warn(
                "approved_unit_members",
                f"{unit} {code}",
                f"geosite {code} no longer belongs to approved unit {unit} (decision {decision})",
                f"điểm di sản {code} không còn thuộc đơn vị đã phê duyệt {unit} "
                f"(quyết định {decision})",
            )
        sites = geosites[geosites["geosite_code"].isin(current | before)]
        for row in sites.itertuples():
            if not shapely.covers(tolerant, row.geometry):
                warn(
                    "approved_zone_i",
                    f"{unit} {row.geosite_code}",
                    f"geosite {row.geosite_code} lies outside approved Zone I of {unit} "
                    f"(decision {decision}), {en_number(shapely.distance(core, row.geometry), 1)} m away",
                    f"điểm di sản {row.geosite_code} nằm ngoài vùng I đã phê duyệt của {unit} "
                    f"(quyết định {decision}), cách {vi_number(shapely.distance(core, row.geometry), 1)} m",
                    value=shapely.distance(core, row.geometry),
                    location=row.geometry,
                )
        if len(approved_sites):
            was = approved_sites[approved_sites["unit_code"] == unit].merge(
                pd.DataFrame({"geosite_code": sites["geosite_code"], "now": sites.geometry.values}),
                on="geosite_code",
            )
            for row in was.itertuples():
                moved = shapely.distance(row.geometry, row.now)
                if moved > tolerance_m:
                    warn(
                        "approved_geosite_moved",
                        f"{unit} {row.geosite_code}",
                        f"geosite {row.geosite_code} moved {en_number(moved, 1)} m since unit {unit} "
                        f"was approved (decision {decision})",
                        f"điểm di sản {row.geosite_code} đã dịch chuyển {vi_number(moved, 1)} m kể từ khi "
                        f"đơn vị {unit} được phê duyệt (quyết định {decision})",
                        value=moved,
                        location=row.now,
                    )
        points = survey_points[survey_points["geosite_code"].isin(current | before)]
        outside = ~shapely.covers(tolerant, points.geometry.values)
        for row in points.loc[outside].itertuples():
            dist = shapely.distance(core, row.geometry)
            warn(
                "approved_zone_i",
                f"{unit} {row.point_id}",
                f"survey point {row.point_id} ({row.geosite_code}) lies outside approved Zone I "
                f"of {unit} (decision {decision}), {en_number(dist, 1)} m away",
                f"điểm khảo sát {row.point_id} ({row.geosite_code}) nằm ngoài vùng I đã phê duyệt "
                f"của {unit} (quyết định {decision}), cách {vi_number(dist, 1)} m",
                value=dist,
                location=row.geometry,
            )
        for zone_class in ("I", "II"):
            proposal = proposals.get((unit, zone_class))
            frozen = zones.loc[zones["zone_class"] == zone_class]
            if proposal is None or frozen.empty:
                continue
            approved = shapely.union_all(frozen.geometry.values)
            gap = shapely.hausdorff_distance(proposal.boundary, approved.boundary)
            if gap > tolerance_m:
                diff = shapely.symmetric_difference(proposal, approved)
                warn(
                    "approved_proposal_differs",
                    f"{unit} {zone_class}",
                    f"this run's proposal for Zone {zone_class} of {unit} differs from the "
                    f"approved boundary (decision {decision}) by up to {en_number(gap, 1)} m "
                    f"({en_number(shapely.area(diff) / 1e4, 2)} ha); the approved boundary is kept",
                    f"đề xuất lần này cho vùng {zone_class} của {unit} khác ranh giới đã phê duyệt "
                    f"(quyết định {decision}) tới {vi_number(gap, 1)} m ({vi_number(shapely.area(diff) / 1e4, 2)} ha); "
                    "giữ nguyên ranh giới đã phê duyệt",
                    value=gap,
                    area_m2=shapely.area(diff),
                    location=shapely.point_on_surface(diff) if not diff.is_empty else None,
                )
    return findings
