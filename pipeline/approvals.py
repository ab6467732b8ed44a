"""Approval of zoning units by decision, kept in the geologists' edits GeoPackage.

A unit's status is ``proposed`` (as zoned), ``adjusted`` (a hand adjustment
exists in the ``zone_adjustments`` layer) or ``approved`` (a row in
``unit_approvals``). Approving a unit freezes its current legal boundary: the
``protection_zones`` rows and ``boundary_markers`` of the published outputs are
copied into the edits GeoPackage (layers ``approved_zones``,
``approved_markers``, and the geosites' locations at approval in
``approved_geosites``), and every later run uses them exactly as they are.

Layers of the edits GeoPackage written here (a run never writes any of them):

* ``unit_approvals`` (attributes table): ``unit_code``, ``status``,
  ``decision``, ``decision_date``, ``approved_at`` (UTC), ``approved_by``;
* ``approved_zones`` (MultiPolygon): the frozen ``protection_zones`` rows;
* ``approved_markers`` (Point): the frozen ``boundary_markers`` rows;
* ``approved_geosites`` (Point): ``unit_code``, ``geosite_code`` where each
  geosite was when the unit was approved.
"""

from __future__ import annotations

import getpass
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.outputs import edited_copy, run_geopackage_layers, write_geopackage
from pipeline.vocabulary import UNIT_STATUS_VI

APPROVALS = "unit_approvals"
APPROVED_ZONES = "approved_zones"
APPROVED_MARKERS = "approved_markers"
APPROVED_GEOSITES = "approved_geosites"
ADJUSTMENTS = "zone_adjustments"  # the adjustments layer (see README, "Adjustments")

STATUSES = tuple(UNIT_STATUS_VI)

#: Geometry types of the approval layers of the edits GeoPackage.
APPROVAL_LAYERS = {
    APPROVALS: "None",
    APPROVED_ZONES: "MultiPolygon",
    APPROVED_MARKERS: "Point",
    APPROVED_GEOSITES: "Point",
}

#: A decision number as Vietnamese authorities write it: 123/QĐ-UBND.
_DECISION = re.compile(r"^\s*\S+/\S+\s*$")


@dataclass
class Approvals:
    """What the edits GeoPackage says about approved units."""

    table: pd.DataFrame  # unit_approvals
    zones: gpd.GeoDataFrame | None  # approved_zones
    markers: gpd.GeoDataFrame | None  # approved_markers
    geosites: gpd.GeoDataFrame | None  # approved_geosites
    adjusted_units: set[str]

    @property
    def approved_units(self) -> set[str]:
        return set(self.table["unit_code"]) if len(self.table) else set()

    def status(self, units: list[str] | set[str]) -> dict[str, str]:
        """``unit_code`` -> status for ``units`` (and every approved unit)."""
        out = {u: "adjusted" if u in self.adjusted_units else "proposed" for u in units}
        out.update({u: "approved" for u in self.approved_units})
        return out


def _layers(path: Path) -> set[str]:
    if not path.exists():
        return set()
    return {str(name) for name, _ in pyogrio.list_layers(path)}


def read_approvals(path: Path, crs: str) -> Approvals:
    """Read the approval layers of the edits GeoPackage ``path`` (absent: nothing approved)."""
    present = _layers(path)
    table = (
        pd.DataFrame(pyogrio.read_dataframe(path, layer=APPROVALS, read_geometry=False))
        if APPROVALS in present
        else pd.DataFrame(columns=["unit_code", "status", "decision", "decision_date"])
    )

    _require(path, APPROVALS, table, ["unit_code", "decision", "decision_date"])

    def spatial(layer: str, columns: list[str]) -> gpd.GeoDataFrame | None:
        if layer not in present:
            return None
        frame = pyogrio.read_dataframe(path, layer=layer)
        _require(path, layer, frame, columns)
        return frame.to_crs(crs) if frame.crs is not None and frame.crs != crs else frame

    adjusted: set[str] = set()
    if ADJUSTMENTS in present:
        adjustments = pyogrio.read_dataframe(
            path, layer=ADJUSTMENTS, columns=["unit_code"], read_geometry=False
        )
        adjusted = set(adjustments["unit_code"].dropna().astype(str))
    return Approvals(
        table=table,
        zones=spatial(APPROVED_ZONES, ["unit_code", "zone_class"]),
        markers=spatial(
            APPROVED_MARKERS,
            "unit_code zone_class part ring ring_kind seq number label x_vn2000 y_vn2000".split(),
        ),
        geosites=spatial(APPROVED_GEOSITES, ["unit_code", "geosite_code"]),
        adjusted_units=adjusted,
    )


def _require(path: Path, layer: str, frame: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InputError(
            f"lớp {layer} của GeoPackage chỉnh sửa thiếu trường {', '.join(missing)}",
            f"layer {layer} of the edits GeoPackage lacks the field(s) {', '.join(missing)}",
            file=str(path),
            field=missing[0],
            fix=f"restore the layer {layer} (it is written by `geopark approve`; do not "
            "rename or delete its fields)",
            fix_vi=f"khôi phục lớp {layer} (do lệnh `geopark approve` ghi; không đổi tên hay "
            "xóa trường của nó)",
        )


def _parse_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"ngày quyết định không hợp lệ: {value!r}",
            f"invalid decision date: {value!r}",
            field="--date",
            fix="give the date as YYYY-MM-DD, e.g. 2026-11-20",
            fix_vi="ghi ngày theo dạng NNNN-TT-NN, vd. 2026-11-20",
        ) from None


def _replace_layers(path: Path, layers: dict[str, pd.DataFrame]) -> None:
    """Rewrite ``layers`` of the GeoPackage ``path`` atomically, keeping its other layers.

    The GeoPackage is copied beside itself, the layers are overwritten in the
    copy (GDAL replaces a layer written under an existing name), and the copy
    replaces the original in one :func:`os.replace`.
    """
    with edited_copy(path, ".approve-") as copy:
        for name, frame in layers.items():
            write_geopackage({name: frame}, copy, APPROVAL_LAYERS)


def approve(
    cfg: Config,
    unit_code: str,
    decision: str,
    decision_date: str,
    *,
    replace: bool = False,
    approved_by: str | None = None,
) -> dict[str, object]:
    """Freeze ``unit_code``'s current legal boundary and markers as approved by ``decision``.

    Reads the published outputs' GeoPackage (``protection_zones``,
    ``boundary_markers``, ``geosites``) and writes the approval layers of the
    edits GeoPackage atomically.

    Returns
    -------
    dict
        ``unit_code``, ``decision``, ``decision_date``, ``zones`` and ``markers`` counts.

    Raises
    ------
    InputError
        When the outputs are missing, the unit is unknown, the decision or date
        malformed, or the unit already approved (unless ``replace``).
    """
    when = _parse_date(decision_date)
    if not _DECISION.match(decision or ""):
        raise InputError(
            f"số quyết định không hợp lệ: {decision!r}",
            f"invalid decision number: {decision!r}",
            field="--decision",
            fix='give the number as written on the decision, e.g. "123/QĐ-UBND"',
            fix_vi='ghi số như trên quyết định, vd. "123/QĐ-UBND"',
        )
    gpkg = cfg.outputs.directory / cfg.outputs.geopackage
    run_geopackage_layers(gpkg, ("protection_zones", "boundary_markers", "geosites"))
    zones = pyogrio.read_dataframe(gpkg, layer="protection_zones")
    unit_zones = zones[zones["unit_code"] == unit_code]
    if unit_zones.empty:
        raise InputError(
            f"không có đơn vị khoanh vùng {unit_code} trong {cfg.relative(gpkg)}",
            f"no zoning unit {unit_code} in {cfg.relative(gpkg)}",
            file=cfg.relative(gpkg),
            field="unit_code",
            fix="use a unit_code of the protection_zones layer (geopark zone lists them)",
            fix_vi="dùng một unit_code của lớp protection_zones (lệnh geopark zone liệt kê)",
        )
    markers = pyogrio.read_dataframe(gpkg, layer="boundary_markers")
    unit_markers = markers[markers["unit_code"] == unit_code]
    sites = pyogrio.read_dataframe(gpkg, layer="geosites", columns=["geosite_code", "unit_code"])
    unit_sites = sites[sites["unit_code"] == unit_code][["unit_code", "geosite_code", "geometry"]]

    path = cfg.edits.geopackage
    current = read_approvals(path, cfg.working_crs)
    if unit_code in current.approved_units and not replace:
        row = current.table[current.table["unit_code"] == unit_code].iloc[0]
        raise InputError(
            f"đơn vị {unit_code} đã được phê duyệt theo quyết định {row['decision']}",
            f"unit {unit_code} is already approved by decision {row['decision']}",
            file=cfg.relative(path),
            field="unit_code",
            fix="add --replace to supersede the approval with the new decision",
            fix_vi="thêm --replace để thay phê duyệt bằng quyết định mới",
        )

    def keep_others(frame: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
        if frame is None or frame.empty:
            return new
        return pd.concat([frame[frame["unit_code"] != unit_code], new], ignore_index=True)

    table_row = pd.DataFrame(
        [
            {
                "unit_code": unit_code,
                "status": "approved",
                "decision": decision.strip(),
                "decision_date": when.isoformat(),
                "approved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "approved_by": approved_by or getpass.getuser(),
            }
        ]
    )
    frozen_zones = unit_zones.assign(
        status="approved", decision=decision.strip(), decision_date=when.isoformat()
    )
    frozen_markers = unit_markers.assign(status="approved")
    crs = cfg.working_crs
    _replace_layers(
        path,
        {
            APPROVALS: keep_others(current.table, table_row),
            APPROVED_ZONES: gpd.GeoDataFrame(
                keep_others(current.zones, frozen_zones), geometry="geometry", crs=crs
            ),
            APPROVED_MARKERS: gpd.GeoDataFrame(
                keep_others(current.markers, frozen_markers), geometry="geometry", crs=crs
            ),
            APPROVED_GEOSITES: gpd.GeoDataFrame(
                keep_others(current.geosites, unit_sites), geometry="geometry", crs=crs
            ),
        },
    )
    return {
        "unit_code": unit_code,
        "decision": decision.strip(),
        "decision_date": when.isoformat(),
        "zones": len(unit_zones),
        "markers": len(unit_markers),
        "path": path,
    }
