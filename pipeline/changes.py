"""What changed since the last campaign: this run's zones against the previous outputs.

Every run reads the published GeoPackage before replacing it
(:func:`read_previous`) and compares (:func:`compare`): units added or
removed, zones whose area changed (ha and %), geosites that changed cluster,
boundary markers that moved more than ``[zoning.markers] report_moved_m`` (or
appeared, or went), and hand adjustments needing review. The report is written
as ``change_report.json`` and ``change_report.md`` beside the QA report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from pipeline.config import Markers
from pipeline.numbers import both_numbers, en_number, vi_number

_LAYERS = ("protection_zones", "geosites", "boundary_markers")


@dataclass
class Previous:
    """The layers of the previous outputs that a run compares with (None: absent)."""

    path: Path | None
    protection_zones: gpd.GeoDataFrame | None = None
    geosites: pd.DataFrame | None = None
    boundary_markers: pd.DataFrame | None = None
    conflicts: pd.DataFrame | None = None


def read_previous(path: Path) -> Previous:
    """Read what the comparison needs from the previous GeoPackage (missing file: empty).

    A GeoPackage that cannot be read is treated as absent: the previous outputs
    are a reference, not an input, and a damaged one must not stop a run.
    """
    if not path.exists():
        return Previous(None)
    try:
        present = {str(name) for name, _ in pyogrio.list_layers(path)}
        out = Previous(path)
        if "protection_zones" in present:
            out.protection_zones = pyogrio.read_dataframe(path, layer="protection_zones")
        if "geosites" in present:
            out.geosites = pd.DataFrame(
                pyogrio.read_dataframe(path, layer="geosites", read_geometry=False)
            )
        if "conflicts" in present:
            out.conflicts = pd.DataFrame(
                pyogrio.read_dataframe(path, layer="conflicts", read_geometry=False)
            )
        if "boundary_markers" in present:
            out.boundary_markers = pd.DataFrame(
                pyogrio.read_dataframe(path, layer="boundary_markers", read_geometry=False)
            )
        return out
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return Previous(None)


def _area_changes(before: pd.DataFrame, after: pd.DataFrame, threshold_ha: float) -> list[dict]:
    keys = ["unit_code", "zone_class"]
    merged = before[[*keys, "area_ha"]].merge(
        after[[*keys, "area_ha"]], on=keys, how="outer", suffixes=("_before", "_after")
    )
    merged = merged.fillna({"area_ha_before": 0.0, "area_ha_after": 0.0})
    merged["change_ha"] = merged["area_ha_after"] - merged["area_ha_before"]
    merged = merged.loc[merged["change_ha"].abs() > threshold_ha].sort_values(keys)
    rows = []
    for r in merged.itertuples(index=False):
        pct = 100 * r.change_ha / r.area_ha_before if r.area_ha_before else None
        rows.append(
            {
                "unit_code": r.unit_code,
                "zone_class": r.zone_class,
                "before_ha": round(float(r.area_ha_before), 4),
                "after_ha": round(float(r.area_ha_after), 4),
                "change_ha": round(float(r.change_ha), 4),
                "change_pct": None if pct is None else round(float(pct), 2),
            }
        )
    return rows


def _cluster_changes(before: pd.DataFrame, after: pd.DataFrame) -> list[dict]:
    cols = ["geosite_code", "unit_code"]
    merged = before[cols].merge(after[cols], on="geosite_code", suffixes=("_before", "_after"))
    changed = merged.loc[merged["unit_code_before"] != merged["unit_code_after"]]
    return [
        {"geosite_code": r.geosite_code, "before": r.unit_code_before, "after": r.unit_code_after}
        for r in changed.sort_values("geosite_code").itertuples(index=False)
    ]


def _marker_changes(
    before: pd.DataFrame, after: pd.DataFrame, moved_m: float
) -> tuple[list[dict], list[dict], list[dict]]:
    keys = ["unit_code", "zone_class", "number"]
    cols = [*keys, "label", "x_vn2000", "y_vn2000"]
    merged = before[cols].merge(
        after[cols], on=keys, how="outer", suffixes=("_before", "_after"), indicator=True
    )
    both = merged.loc[merged["_merge"] == "both"].copy()
    both["distance_m"] = np.hypot(
        both["x_vn2000_after"] - both["x_vn2000_before"],
        both["y_vn2000_after"] - both["y_vn2000_before"],
    )
    moved = [
        {
            "unit_code": r.unit_code,
            "zone_class": r.zone_class,
            "label": r.label_after,
            "distance_m": round(float(r.distance_m), 2),
            "x_before": round(float(r.x_vn2000_before), 2),
            "y_before": round(float(r.y_vn2000_before), 2),
            "x_after": round(float(r.x_vn2000_after), 2),
            "y_after": round(float(r.y_vn2000_after), 2),
        }
        for r in both.loc[both["distance_m"] > moved_m].sort_values(keys).itertuples(index=False)
    ]

    def listed(side: str, suffix: str) -> list[dict]:
        part = merged.loc[merged["_merge"] == side].sort_values(keys)
        return [
            {
                "unit_code": r["unit_code"],
                "zone_class": r["zone_class"],
                "label": r[f"label{suffix}"],
                "x_vn2000": round(float(r[f"x_vn2000{suffix}"]), 2),
                "y_vn2000": round(float(r[f"y_vn2000{suffix}"]), 2),
            }
            for _, r in part.iterrows()
        ]

    return moved, listed("right_only", "_after"), listed("left_only", "_before")


#: What identifies a conflict between runs: the unit, where the feature lies, the feature.
CONFLICT_KEY = ["unit_code", "relation", "threat_id"]


def _conflict_changes(
    before: pd.DataFrame | None, after: pd.DataFrame | None
) -> tuple[list[dict], list[dict]]:
    """Conflicts new in this run, and those of the previous run that are gone."""
    columns = [*CONFLICT_KEY, "severity", "kind", "status", "name"]

    def rows(frame: pd.DataFrame | None) -> pd.DataFrame:
        if frame is None or not len(frame):
            return pd.DataFrame(columns=columns)
        frame = pd.DataFrame(frame)
        return frame[[c for c in columns if c in frame]].astype(object)

    old, new = rows(before), rows(after)
    old_keys = set(map(tuple, old[CONFLICT_KEY].to_numpy()))
    new_keys = set(map(tuple, new[CONFLICT_KEY].to_numpy()))

    def listed(frame: pd.DataFrame, keys: set) -> list[dict]:
        mask = [tuple(k) in keys for k in frame[CONFLICT_KEY].to_numpy()]
        picked = frame.loc[mask].sort_values(CONFLICT_KEY)
        return picked.where(picked.notna(), None).to_dict("records")

    return listed(new, new_keys - old_keys), listed(old, old_keys - new_keys)


def compare(
    previous: Previous,
    zones: pd.DataFrame,
    geosites: pd.DataFrame,
    markers: pd.DataFrame,
    settings: Markers,
    *,
    adjustments_review: list[dict[str, Any]] | None = None,
    conflicts: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The change report of this run against ``previous``.

    Parameters
    ----------
    previous
        From :func:`read_previous`.
    zones, geosites, markers
        This run's ``protection_zones``, ``geosites`` and ``boundary_markers``.
    settings
        ``[zoning.markers]``: the thresholds for areas and markers.
    adjustments_review
        Hand adjustments whose proposal changed since they were made (each a
        dict with at least ``unit_code``, ``zone_class``), listed as they are.
    conflicts
        This run's ``conflicts`` (threat features in or near the zones): those
        the previous run did not have are new, those it had and this one has
        not are resolved.
    """
    report: dict[str, Any] = {
        "previous": str(previous.path) if previous.path else None,
        "compared": previous.protection_zones is not None,
        "units_added": [],
        "units_removed": [],
        "area_changes": [],
        "cluster_changes": [],
        "markers_moved": [],
        "markers_added": [],
        "markers_removed": [],
        "adjustments_review": list(adjustments_review or []),
        "conflicts_new": [],
        "conflicts_resolved": [],
        "thresholds": {
            "area_change_ha": settings.report_area_change_ha,
            "marker_moved_m": settings.report_moved_m,
        },
    }
    if previous.protection_zones is not None:
        before_units = set(previous.protection_zones["unit_code"])
        after_units = set(zones["unit_code"])
        report["units_added"] = sorted(after_units - before_units)
        report["units_removed"] = sorted(before_units - after_units)
        report["area_changes"] = _area_changes(
            pd.DataFrame(previous.protection_zones),
            pd.DataFrame(zones),
            settings.report_area_change_ha,
        )
    if previous.geosites is not None and "unit_code" in previous.geosites:
        report["cluster_changes"] = _cluster_changes(previous.geosites, pd.DataFrame(geosites))
    if previous.boundary_markers is not None and len(markers):
        moved, added, removed = _marker_changes(
            previous.boundary_markers, pd.DataFrame(markers), settings.report_moved_m
        )
        report["markers_moved"], report["markers_added"], report["markers_removed"] = (
            moved,
            added,
            removed,
        )
    if previous.protection_zones is not None:
        report["conflicts_new"], report["conflicts_resolved"] = _conflict_changes(
            previous.conflicts, conflicts
        )
    report["summary"] = {
        key: len(report[key])
        for key in (
            "units_added",
            "units_removed",
            "area_changes",
            "cluster_changes",
            "markers_moved",
            "markers_added",
            "markers_removed",
            "adjustments_review",
            "conflicts_new",
            "conflicts_resolved",
        )
    }
    return report


_TITLES = {
    "units_added": ("Đơn vị mới", "Units added"),
    "units_removed": ("Đơn vị bị bỏ", "Units removed"),
    "area_changes": ("Vùng thay đổi diện tích", "Zones whose area changed"),
    "cluster_changes": ("Điểm di sản đổi cụm", "Geosites that changed cluster"),
    "markers_moved": ("Mốc giới dịch chuyển", "Boundary markers moved"),
    "markers_added": ("Mốc giới mới", "Boundary markers added"),
    "markers_removed": ("Mốc giới bị bỏ", "Boundary markers removed"),
    "adjustments_review": ("Hiệu chỉnh cần xem lại", "Adjustments needing review"),
    "conflicts_new": ("Xung đột mới với yếu tố đe dọa", "New conflicts with threats"),
    "conflicts_resolved": ("Xung đột không còn", "Conflicts no longer found"),
}


def summary_lines(report: dict[str, Any]) -> list[str]:
    """One line per kind of change, for the command line."""
    if not report.get("compared"):
        return [
            "Thay đổi / Changes: lần chạy đầu, không có kết quả trước để so sánh / first run, nothing to compare"
        ]
    counts = report["summary"]
    if not any(counts.values()):
        return [
            "Thay đổi / Changes: không có thay đổi so với lần trước / none since the previous outputs"
        ]
    lines = ["Thay đổi so với lần trước / Changes since the previous outputs:"]
    for key, (vi, en) in _TITLES.items():
        if counts[key]:
            lines.append(f"  {vi} / {en}: {counts[key]}")
    return lines


def _fmt(value: Any) -> str:
    """A table cell; a number the Vietnamese way, then the English way (to 4 decimals)."""
    if value is None:
        return "—"
    if isinstance(value, float | np.floating):
        return both_numbers(round(float(value), 4), None)
    return str(value).replace("|", "\\|")


def _table(rows: list[dict], columns: list[tuple[str, str]]) -> list[str]:
    head = "| " + " | ".join(title for _, title in columns) + " |"
    rule = "|" + "---|" * len(columns)
    body = ["| " + " | ".join(_fmt(r.get(key)) for key, _ in columns) + " |" for r in rows]
    return [head, rule, *body]


def change_markdown(report: dict[str, Any]) -> str:
    """The change report as Markdown, Vietnamese with English."""
    lines = ["# Báo cáo thay đổi / Change report", ""]
    if not report.get("compared"):
        lines += [
            "Lần chạy đầu: không có kết quả trước để so sánh. / "
            "First run: no previous outputs to compare with.",
            "",
        ]
    else:
        lines += [f"So với / Compared with: `{report['previous']}`", ""]
        area_ha = float(report["thresholds"]["area_change_ha"])
        moved_m = float(report["thresholds"]["marker_moved_m"])
        lines += [
            f"Ngưỡng: diện tích > {vi_number(area_ha, None)} ha; mốc > {vi_number(moved_m, None)} m"
            f" / thresholds: area > {en_number(area_ha, None)} ha; "
            f"markers > {en_number(moved_m, None)} m",
            "",
        ]
    area_cols = [
        ("unit_code", "Đơn vị / Unit"),
        ("zone_class", "Vùng / Zone"),
        ("before_ha", "Trước / Before (ha)"),
        ("after_ha", "Sau / After (ha)"),
        ("change_ha", "Thay đổi / Change (ha)"),
        ("change_pct", "%"),
    ]
    marker_cols = [
        ("unit_code", "Đơn vị / Unit"),
        ("label", "Mốc / Marker"),
        ("distance_m", "Dịch chuyển / Moved (m)"),
        ("x_before", "X trước / before"),
        ("y_before", "Y trước / before"),
        ("x_after", "X sau / after"),
        ("y_after", "Y sau / after"),
    ]
    point_cols = [
        ("unit_code", "Đơn vị / Unit"),
        ("label", "Mốc / Marker"),
        ("x_vn2000", "X (m)"),
        ("y_vn2000", "Y (m)"),
    ]
    conflict_cols = [
        ("unit_code", "Đơn vị / Unit"),
        ("relation", "Vị trí / Where"),
        ("severity", "Mức / Severity"),
        ("kind", "Loại / Kind"),
        ("status", "Hiện trạng / Status"),
        ("threat_id", "Mã / Id"),
        ("name", "Tên / Name"),
    ]
    cluster_cols = [
        ("geosite_code", "Điểm di sản / Geosite"),
        ("before", "Trước / Before"),
        ("after", "Sau / After"),
    ]
    for key, (vi, en) in _TITLES.items():
        items = report[key]
        lines += [f"## {vi} / {en} ({len(items)})", ""]
        if not items:
            lines += ["Không có. / None.", ""]
            continue
        if key in ("units_added", "units_removed"):
            lines += [", ".join(f"`{u}`" for u in items), ""]
        elif key == "area_changes":
            lines += [*_table(items, area_cols), ""]
        elif key == "cluster_changes":
            lines += [*_table(items, cluster_cols), ""]
        elif key == "markers_moved":
            lines += [*_table(items, marker_cols), ""]
        elif key in ("markers_added", "markers_removed"):
            lines += [*_table(items, point_cols), ""]
        elif key in ("conflicts_new", "conflicts_resolved"):
            lines += [*_table(items, conflict_cols), ""]
        else:
            columns = sorted({k for item in items for k in item})
            lines += [*_table(items, [(c, c) for c in columns]), ""]
    return "\n".join(lines)
