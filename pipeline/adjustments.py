"""Adjustments that survive every run: hand-drawn boundaries replacing proposals.

A geologist adjusts a proposed zone to features that can be found on the
ground. The adjustments live in the edits GeoPackage (``[edits] geopackage``
in geopark.toml, by default ``data/edits/zone_adjustments.gpkg``), outside the
generated outputs, which no run ever writes or deletes:

* layer :data:`LAYER` (contract ``schemas/zone_adjustments.schema.json``): one
  MultiPolygon (EPSG:9215) per ``unit_code`` and ``zone_class``, with
  ``author``, ``adjusted_on``, ``reason`` and the proposal it started from
  (``proposal_sha256``, ``proposal_area_ha``). For Zone I the geometry is the
  core; for Zone II it is the unit's whole footprint (Zone I and Zone II, no
  hole): the published Zone II is the footprint minus Zone I, so the two can be
  adjusted independently and never overlap;
* layer :data:`PROPOSALS_LAYER`: the proposed boundary at the time of copying,
  to show where a later proposal differs.

:func:`adjust_unit` (``geopark adjust``) copies the current proposal into the
layer; :func:`read_adjustments` validates it like any input;
:func:`apply_adjustments` replaces the proposals in the zoning result and
recomputes everything derived from them (areas, district pieces, clusters);
:func:`pipeline.checks.check_adjustments` checks them.

Other columns of the layer are carried through untouched, so the approval of
a unit (status, decision number and date) can live beside its adjustment.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from pipeline.config import Config
from pipeline.contracts import Rejection, load_schema, validate_table
from pipeline.errors import InputError
from pipeline.zoning import (
    ZoningResult,
    _areas_ha,
    _as_multipolygons,
    _attach_districts,
    _district_pieces,
)

#: The adjustments layer and the layer of the proposals they started from.
LAYER = "zone_adjustments"
PROPOSALS_LAYER = "zone_proposals"

#: The contract of :data:`LAYER`.
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "zone_adjustments.schema.json"

KEYS = ["unit_code", "zone_class"]

#: Coordinates are compared at this precision (metres) when hashing a proposal.
HASH_GRID_M = 0.001


@dataclass
class Adjustments:
    """The valid adjustments, the proposals they started from, and rejected features."""

    file: str
    features: gpd.GeoDataFrame  # one row per unit_code and zone_class, with ``fid``
    proposals: gpd.GeoDataFrame  # unit_code, zone_class, geometry (possibly empty)
    rejections: list[Rejection] = field(default_factory=list)


@dataclass
class Applied:
    """What applying the adjustments did: one row per adjustment (see :func:`apply_adjustments`)."""

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    footprints: dict[str, shapely.Geometry] = field(default_factory=dict)  # unit -> final footprint


def geometry_sha256(geom: shapely.Geometry) -> str:
    """SHA-256 of a boundary, independent of vertex order and sub-millimetre noise."""
    if geom is None or shapely.is_empty(geom):
        return hashlib.sha256(b"").hexdigest()
    snapped = shapely.normalize(shapely.set_precision(geom, HASH_GRID_M))
    return hashlib.sha256(shapely.to_wkb(snapped, byte_order=1)).hexdigest()


def proposals(zones: ZoningResult) -> gpd.GeoDataFrame:
    """The proposed boundary of each unit and zone class, as an adjustment holds it.

    Zone I: the unit's core. Zone II: the unit's footprint (Zone I ∪ Zone II).
    """
    pz = zones.protection_zones
    units = sorted(pz["unit_code"].unique())
    core = pz.loc[pz["zone_class"] == "I"].set_index("unit_code").geometry
    by_unit = pz.dissolve("unit_code").geometry
    empty = shapely.from_wkt("MULTIPOLYGON EMPTY")
    rows = []
    for unit in units:
        rows.append((unit, "I", core.get(unit, empty)))
        rows.append((unit, "II", by_unit.get(unit, empty)))
    frame = pd.DataFrame(rows, columns=[*KEYS, "geometry"])
    geoms = _as_multipolygons(frame["geometry"].to_numpy())
    return gpd.GeoDataFrame(frame[KEYS], geometry=geoms, crs=pz.crs)


# --------------------------------------------------------------------------- reading


def _empty(crs: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({k: pd.Series(dtype=object) for k in KEYS}, geometry=[], crs=crs)


def _layers(path: Path) -> set[str]:
    try:
        return {name for name, _ in pyogrio.list_layers(path)}
    except Exception as exc:
        raise InputError(
            "không mở được GeoPackage chỉnh sửa",
            f"the edits GeoPackage cannot be opened: {exc}",
            file=str(path),
            fix="restore the file from a backup, or move it away to start again with "
            "`geopark adjust`",
            fix_vi="khôi phục tệp từ bản sao lưu, hoặc chuyển tệp đi để làm lại bằng "
            "`geopark adjust`",
        ) from None


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = series.dt.strftime("%Y-%m-%d").astype("string")
        else:
            out[col] = series.map(
                lambda v: (
                    None
                    if v is None or (isinstance(v, float) and np.isnan(v))
                    else (v.isoformat() if isinstance(v, date) else str(v))
                ),
                na_action="ignore",
            ).astype("string")
    return out


def _geometry_problems(geoms: np.ndarray) -> list[tuple[str, str] | None]:
    """Why each geometry cannot be an adjustment at all (None when it can)."""
    out: list[tuple[str, str] | None] = []
    for geom in geoms:
        if geom is None or shapely.is_empty(geom):
            out.append(("đối tượng không có hình học", "the feature has no geometry"))
        elif shapely.get_type_id(geom) not in (3, 6):
            out.append(
                (
                    f"hình học {geom.geom_type}, cần vùng (polygon)",
                    f"geometry is a {geom.geom_type}, a polygon is needed",
                )
            )
        else:
            out.append(None)
    return out


def read_adjustments(cfg: Config) -> Adjustments | None:
    """Read and validate the adjustments layer of the edits GeoPackage.

    Returns
    -------
    Adjustments or None
        None when the GeoPackage or its :data:`LAYER` does not exist (nothing
        adjusted yet). Features that break the contract are rejected (with
        the file, the feature's ``fid``, the field and what was expected), as
        are two features for the same unit and zone class.

    Raises
    ------
    InputError
        When the file cannot be opened, or the layer misses a required field.
    """
    path = cfg.edits.geopackage
    file = cfg.relative(path)
    if not path.exists():
        return None
    present = _layers(path)
    if LAYER not in present:
        return None
    table = pyogrio.read_dataframe(path, layer=LAYER, fid_as_index=True)
    if table.crs is not None and not table.crs.equals(cfg.working_crs):
        raise InputError(
            f"lớp {LAYER} không ở hệ tọa độ {cfg.working_crs}",
            f"layer {LAYER} is not in {cfg.working_crs} (it is {table.crs.to_string()})",
            file=file,
            field="geometry",
            fix=f"save the layer in {cfg.working_crs} (QGIS: Export > Save Features As, CRS "
            f"{cfg.working_crs}), or recreate it with `geopark adjust`",
            fix_vi=f"lưu lớp ở hệ {cfg.working_crs}, hoặc tạo lại bằng `geopark adjust`",
        )
    attrs = _as_strings(pd.DataFrame(table.drop(columns=table.geometry.name)))
    attrs["_row"] = table.index.astype(int)
    rejections: list[Rejection] = []
    problems = _geometry_problems(table.geometry.values)
    for (fid, row), problem in zip(attrs.iterrows(), problems, strict=True):
        if problem is not None:
            rejections.append(
                Rejection(
                    file=f"{file} ({LAYER})",
                    row=int(fid),
                    field="geometry",
                    value="",
                    expected="a polygon or multipolygon in EPSG:9215",
                    message_vi=problem[0],
                    message_en=problem[1],
                    record_id=f"{row.get('unit_code')} {row.get('zone_class')}",
                )
            )
    usable = attrs.loc[[p is None for p in problems]]
    valid, more = validate_table(usable, load_schema(SCHEMA), file=f"{file} ({LAYER})")
    rejections += more
    twice = valid.duplicated(KEYS, keep=False)
    for fid, row in valid.loc[twice].iterrows():
        rejections.append(
            Rejection(
                file=f"{file} ({LAYER})",
                row=int(fid),
                field="unit_code, zone_class",
                value=f"{row['unit_code']} {row['zone_class']}",
                expected="one adjustment per unit and zone class",
                message_vi="đơn vị và cấp vùng này có nhiều hơn một điều chỉnh; xóa bớt, giữ một",
                message_en="this unit and zone class has more than one adjustment; "
                "delete all but one",
                record_id=f"{row['unit_code']} {row['zone_class']}",
            )
        )
    valid = valid.loc[~twice]
    features = gpd.GeoDataFrame(
        valid.drop(columns="_row").assign(fid=valid.index.astype(int)),
        geometry=_as_multipolygons(table.geometry.values[table.index.get_indexer(valid.index)]),
        crs=cfg.working_crs,
    )
    features["adjusted_on"] = pd.to_datetime(features["adjusted_on"]).dt.date
    if "proposal_area_ha" in features:
        features["proposal_area_ha"] = pd.to_numeric(features["proposal_area_ha"])
    features = features.sort_values(KEYS).reset_index(drop=True)
    stored = _empty(cfg.working_crs)
    if PROPOSALS_LAYER in present:
        stored = pyogrio.read_dataframe(path, layer=PROPOSALS_LAYER)
        stored = stored.drop_duplicates(KEYS, keep="last")[[*KEYS, stored.geometry.name]]
    return Adjustments(file=file, features=features, proposals=stored, rejections=rejections)


# --------------------------------------------------------------------------- applying


def usable_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    """A geometry overlays can work with (an invalid one is reported by the checks)."""
    if shapely.is_valid(geom):
        return geom
    return _as_multipolygons(np.array([shapely.make_valid(geom)], dtype=object))[0]


def _stale(row: pd.Series, proposal: shapely.Geometry, stored: dict) -> dict:
    """Whether the proposal changed since the adjustment was copied, by how much, and where."""
    recorded = row.get("proposal_sha256")
    now_hash = geometry_sha256(proposal)
    now_ha = float(shapely.area(proposal)) / 1e4
    before = stored.get((row["unit_code"], row["zone_class"]))
    if recorded is None or pd.isna(recorded):
        return {"review": "no_proposal", "proposal_area_ha": now_ha}
    if recorded == now_hash:
        return {"review": None, "proposal_area_ha": now_ha}
    was_ha = row.get("proposal_area_ha")
    was_ha = float(shapely.area(before)) / 1e4 if pd.isna(was_ha) and before is not None else was_ha
    out = {
        "review": "proposal_changed",
        "proposal_area_ha": now_ha,
        "previous_area_ha": None if pd.isna(was_ha) else float(was_ha),
        "location": shapely.point_on_surface(row.geometry),
        "changed_area_ha": None,
    }
    if before is not None and not shapely.is_empty(before):
        changed = shapely.symmetric_difference(usable_geometry(before), proposal)
        out["changed_area_ha"] = float(shapely.area(changed)) / 1e4
        if not shapely.is_empty(changed):
            out["location"] = shapely.point_on_surface(changed)
    return out


def _unit_rows(
    protection: gpd.GeoDataFrame, unit: str, core: shapely.Geometry, footprint: shapely.Geometry
) -> gpd.GeoDataFrame:
    """The unit's two rows of ``protection_zones`` with their final geometries."""
    rows = protection.loc[protection["unit_code"] == unit]
    template = rows.iloc[[0]].drop(columns=["district_codes", "district_names"], errors="ignore")
    ring = shapely.difference(footprint, core)
    geoms = _as_multipolygons(np.array([core, ring], dtype=object))
    frame = pd.concat([template, template], ignore_index=True)
    frame["zone_class"] = ["I", "II"]
    frame["area_ha"] = _areas_ha(geoms)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=protection.crs)


def apply_adjustments(
    zones: ZoningResult,
    adjustments: Adjustments | None,
    districts: gpd.GeoDataFrame,
    *,
    min_area_m2: float = 1.0,
) -> tuple[ZoningResult, Applied]:
    """Replace the proposals by the adjusted boundaries, and everything derived.

    For each unit with an adjustment: Zone I is the adjusted core (else the
    proposed one), the footprint is the adjusted Zone II footprint (else the
    proposed one), Zone II is the footprint minus Zone I. Their areas, district
    pieces (``zone_district_areas``, ``district_codes``/``district_names``) and
    the ``clusters`` layer follow; ``protection_zones.status`` says
    ``adjusted``. An adjustment whose unit the zoning no longer produces is kept
    aside (``unit_missing``) and reported by the checks.

    Returns
    -------
    (zones, applied)
        The zoning with the adjustments in, and one row per adjustment:
        ``fid``, ``unit_code``, ``zone_class``, ``author``, ``adjusted_on``,
        ``reason``, ``applied`` (bool), ``review`` (None, ``proposal_changed``
        or ``no_proposal``), ``proposal_area_ha`` (now), ``previous_area_ha``,
        ``changed_area_ha`` and ``location`` (where the proposal changed),
        ``adjusted_area_ha`` and ``geometry`` (as drawn).
    """
    protection = zones.protection_zones.copy()
    protection["status"] = "proposed"
    proposed = replace(
        zones, protection_zones=protection, clusters=zones.clusters.assign(status="proposed")
    )
    if adjustments is None or not len(adjustments.features):
        return proposed, Applied()
    current = proposals(zones).set_index(KEYS).geometry
    stored = {
        (r.unit_code, r.zone_class): r.geometry
        for r in adjustments.proposals.itertuples()
        if r.geometry is not None
    }
    records = []
    by_unit: dict[str, dict[str, shapely.Geometry]] = {}
    for _, row in adjustments.features.iterrows():
        key = (row["unit_code"], row["zone_class"])
        record = {
            "fid": row["fid"],
            **{k: row[k] for k in (*KEYS, "author", "adjusted_on", "reason")},
            "adjusted_area_ha": float(shapely.area(row.geometry)) / 1e4,
            "geometry": row.geometry,
            "applied": key in current.index,
        }
        if record["applied"]:
            record.update(_stale(row, current.loc[key], stored))
            by_unit.setdefault(row["unit_code"], {})[row["zone_class"]] = usable_geometry(
                row.geometry
            )
        records.append(record)
    table = pd.DataFrame(records)
    if not by_unit:
        return proposed, Applied(table)

    footprints = {}
    replaced = []
    for unit, drawn in by_unit.items():
        core = drawn.get("I", current.loc[(unit, "I")])
        footprint = drawn.get("II", current.loc[(unit, "II")])
        footprints[unit] = footprint
        replaced.append(_unit_rows(protection, unit, core, footprint))
    new_rows = pd.concat(replaced, ignore_index=True)
    new_rows["status"] = "adjusted"
    keys = ["unit_code", "zone_class"]
    pieces = _district_pieces(new_rows, districts, keys, min_area_m2)
    new_rows = _attach_districts(new_rows, pieces, keys)
    keep = ~protection["unit_code"].isin(by_unit)
    protection = pd.concat([protection.loc[keep], new_rows[protection.columns]], ignore_index=True)
    protection = protection.loc[
        shapely.area(protection.geometry.values) >= min_area_m2
    ].sort_values(keys)
    protection = gpd.GeoDataFrame(protection.reset_index(drop=True), geometry="geometry")

    zda = zones.zone_district_areas
    lookup = new_rows[["unit_code", "zone_class", "cluster_code", "geosite_code"]]
    new_pieces = pieces.merge(lookup, on=keys)[zda.columns]
    zda = pd.concat([zda.loc[~zda["unit_code"].isin(by_unit)], new_pieces], ignore_index=True)
    zda = gpd.GeoDataFrame(
        zda.sort_values([*keys, "district_code"]).reset_index(drop=True),
        geometry="geometry",
        crs=zones.zone_district_areas.crs,
    )
    clusters = protection.loc[protection["cluster_code"].notna()].drop(columns="geosite_code")
    clusters = gpd.GeoDataFrame(clusters.reset_index(drop=True), geometry="geometry")
    result = replace(zones, protection_zones=protection, zone_district_areas=zda, clusters=clusters)
    return result, Applied(table, footprints)


# --------------------------------------------------------------------------- geopark adjust


@dataclass(frozen=True)
class Copied:
    """What :func:`adjust_unit` wrote."""

    path: Path
    unit_code: str
    zone_class: str
    area_ha: float
    replaced: bool


def proposal_layer(zones: ZoningResult) -> gpd.GeoDataFrame:
    """The output layer ``zone_proposals``: every unit's proposal, with its hash and area."""
    layer = proposals(zones)
    layer["area_ha"] = _areas_ha(layer.geometry.values)
    layer["proposal_sha256"] = [geometry_sha256(g) for g in layer.geometry.values]
    return layer[[*KEYS, "area_ha", "proposal_sha256", "geometry"]]


def _latest_proposal(cfg: Config, unit: str, zone_class: str) -> gpd.GeoDataFrame:
    """The unit's proposal in the latest outputs (layer ``zone_proposals``)."""
    gpkg = cfg.output_path("geopackage")
    if not gpkg.exists() or PROPOSALS_LAYER not in _layers(gpkg):
        raise InputError(
            "chưa có kết quả khoanh vùng",
            f"no zoning outputs yet: {cfg.relative(gpkg)} (layer {PROPOSALS_LAYER}) is missing",
            file=cfg.relative(gpkg),
            fix="run `geopark zones` (make zones) first",
            fix_vi="chạy `geopark zones` (make zones) trước",
        )
    layer = pyogrio.read_dataframe(gpkg, layer=PROPOSALS_LAYER)
    found = layer.loc[(layer["unit_code"] == unit) & (layer["zone_class"] == zone_class)]
    if found.empty:
        known = ", ".join(sorted(layer["unit_code"].unique()))
        raise InputError(
            f"không có đơn vị khoanh vùng '{unit}' vùng {zone_class}",
            f"no zoning unit {unit!r} Zone {zone_class} in the latest outputs",
            file=cfg.relative(gpkg),
            field="unit_code",
            fix=f"give a unit_code of protection_zones: {known}",
            fix_vi=f"dùng một unit_code của protection_zones: {known}",
        )
    return found.iloc[[0]]


def _existing_fid(path: Path, layer: str, unit: str, zone_class: str) -> list[int]:
    if not path.exists() or layer not in _layers(path):
        return []
    with sqlite3.connect(path) as db:
        rows = db.execute(
            f'SELECT fid FROM "{layer}" WHERE unit_code = ? AND zone_class = ?',
            (unit, zone_class),
        ).fetchall()
    db.close()
    return [r[0] for r in rows]


def adjust_unit(
    cfg: Config,
    unit_code: str,
    zone_class: str,
    *,
    author: str,
    reason: str,
    replace_existing: bool = False,
    on: date | None = None,
) -> Copied:
    """Copy the current proposal of a unit's zone into the adjustments layer, ready to edit.

    The proposal comes from the latest outputs (layer ``zone_proposals``,
    which holds the proposals even of adjusted units). The edits GeoPackage is
    changed on a copy moved into place at the end, so a kill leaves it as it was.

    Raises
    ------
    InputError
        When the unit is unknown, or an adjustment exists and ``replace_existing``
        is false.
    """
    path = cfg.edits.geopackage
    existing = _existing_fid(path, LAYER, unit_code, zone_class)
    if existing and not replace_existing:
        raise InputError(
            f"đơn vị {unit_code} vùng {zone_class} đã có điều chỉnh",
            f"{unit_code} Zone {zone_class} already has an adjustment (fid {existing[0]})",
            file=cfg.relative(path),
            row=existing[0],
            field="unit_code, zone_class",
            fix="edit that feature in QGIS, or run again with --replace to start over from "
            "the current proposal (the drawn boundary is lost)",
            fix_vi="sửa đối tượng đó trong QGIS, hoặc chạy lại với --replace để bắt đầu lại "
            "từ đề xuất hiện tại (ranh giới đã vẽ sẽ mất)",
        )
    found = _latest_proposal(cfg, unit_code, zone_class)
    proposal = _as_multipolygons(found.geometry.values)[0]
    area_ha = round(float(shapely.area(proposal)) / 1e4, 4)
    feature = gpd.GeoDataFrame(
        {
            "unit_code": [unit_code],
            "zone_class": [zone_class],
            "author": [author],
            "adjusted_on": [on or date.today()],
            "reason": [reason],
            "proposal_sha256": [geometry_sha256(proposal)],
            "proposal_area_ha": [area_ha],
        },
        geometry=[proposal],
        crs=cfg.working_crs,
    )
    copied = feature[["unit_code", "zone_class", "proposal_sha256", "geometry"]].assign(
        copied_on=feature["adjusted_on"]
    )
    with _editing(path) as tmp:
        # the proposals first: the GeoPackage and its CRS exist before the typed layer
        for layer, frame in ((PROPOSALS_LAYER, copied), (LAYER, feature)):
            _put(tmp, layer, frame, unit_code, zone_class)
    return Copied(path, unit_code, zone_class, area_ha, bool(existing))


#: The adjustments table as it is created (GeoPackage, SQLite): typed columns
#: (``adjusted_on`` a DATE), the contract's required fields NOT NULL, one
#: feature per unit and zone class, so QGIS refuses to save a second one.
ADJUSTMENTS_DDL = f"""
CREATE TABLE "{LAYER}" (
    "fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "geom" MULTIPOLYGON,
    "unit_code" TEXT NOT NULL,
    "zone_class" TEXT NOT NULL CHECK ("zone_class" IN ('I', 'II')),
    "author" TEXT NOT NULL,
    "adjusted_on" DATE NOT NULL,
    "reason" TEXT NOT NULL,
    "proposal_sha256" TEXT,
    "proposal_area_ha" REAL,
    UNIQUE ("unit_code", "zone_class")
)
"""


def _create_adjustments_layer(path: Path, srs_id: int) -> None:
    """Register an empty :data:`LAYER` in an existing GeoPackage (see :data:`ADJUSTMENTS_DDL`)."""
    with sqlite3.connect(path) as db:
        db.execute(ADJUSTMENTS_DDL)
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
            "VALUES (?, 'features', ?, ?, ?)",
            (
                LAYER,
                LAYER,
                "Điều chỉnh ranh giới vùng bảo vệ / Zone adjustments (geopark adjust)",
                srs_id,
            ),
        )
        db.execute(
            "INSERT INTO gpkg_geometry_columns "
            "(table_name, column_name, geometry_type_name, srs_id, z, m) "
            "VALUES (?, 'geom', 'MULTIPOLYGON', ?, 0, 0)",
            (LAYER, srs_id),
        )
    db.close()


@contextmanager
def _editing(path: Path) -> Iterator[Path]:
    """A copy of the edits GeoPackage to change, moved into place only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".adjust-", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if path.exists():
            shutil.copy2(path, tmp)
        else:
            tmp.unlink()
        yield tmp
        from pipeline.qgis.styles import write_geopackage_styles

        write_geopackage_styles(tmp, [LAYER, PROPOSALS_LAYER])
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class Pulled:
    """What :func:`pull_adjustments` did."""

    path: Path
    added: list[str]
    replaced: list[str]
    unchanged: list[str]


def pull_adjustments(cfg: Config, connection: Any, *, replace_existing: bool = False) -> Pulled:
    """Copy the adjustments of the shared database into the edits GeoPackage.

    The GeoPackage is the source of truth for every run; the database's
    ``<records>.zone_adjustments`` is where editors draft adjustments together.
    A row whose unit and zone class the GeoPackage lacks is added; one that
    differs from the GeoPackage's replaces it only with ``replace_existing``
    (else nothing is written and the units are named); identical ones are left.

    Parameters
    ----------
    connection
        A SQLAlchemy connection to the heritage database.
    """
    from sqlalchemy import text

    from pipeline.db.connection import postgis_schema, quote_ident

    # the search path holds built-ins only (pipeline.db.connection): qualify everything
    schema = quote_ident(cfg.database.records_schema)
    postgis = postgis_schema(connection)
    rows = connection.execute(
        text(
            "SELECT unit_code, zone_class, author, adjusted_on, reason, proposal_sha256, "
            f"proposal_area_ha, {postgis}.ST_AsBinary(geom) AS wkb FROM {schema}.zone_adjustments "
            "ORDER BY unit_code, zone_class"
        )
    ).all()
    path = cfg.edits.geopackage
    local = pd.DataFrame(columns=KEYS)
    if path.exists() and LAYER in _layers(path):
        local = pyogrio.read_dataframe(path, layer=LAYER)
    known = {(r.unit_code, r.zone_class): r for r in local.itertuples()}
    added, replaced, unchanged, conflicts = [], [], [], []
    frames = []
    for row in rows:
        geom = _as_multipolygons(np.array([shapely.from_wkb(bytes(row.wkb))], dtype=object))[0]
        label = f"{row.unit_code} {row.zone_class}"
        mine = known.get((row.unit_code, row.zone_class))
        same = mine is not None and (
            geometry_sha256(mine.geometry) == geometry_sha256(geom)
            and (mine.author, mine.reason) == (row.author, row.reason)
        )
        if same:
            unchanged.append(label)
            continue
        if mine is not None and not replace_existing:
            conflicts.append(label)
            continue
        (replaced if mine is not None else added).append(label)
        frames.append(
            gpd.GeoDataFrame(
                {
                    "unit_code": [row.unit_code],
                    "zone_class": [row.zone_class],
                    "author": [row.author],
                    "adjusted_on": [row.adjusted_on],
                    "reason": [row.reason],
                    "proposal_sha256": [row.proposal_sha256],
                    "proposal_area_ha": [row.proposal_area_ha],
                },
                geometry=[geom],
                crs=cfg.working_crs,
            )
        )
    if conflicts:
        raise InputError(
            "điều chỉnh trong cơ sở dữ liệu khác với GeoPackage: " + ", ".join(conflicts),
            "the database's adjustments differ from the GeoPackage's for: " + ", ".join(conflicts),
            file=cfg.relative(path),
            field="unit_code, zone_class",
            fix="run again with --replace to take the database's version (the GeoPackage's "
            "is lost), or settle the difference in QGIS first",
            fix_vi="chạy lại với --replace để lấy bản trong cơ sở dữ liệu (bản GeoPackage sẽ "
            "mất), hoặc thống nhất trong QGIS trước",
        )
    if frames:
        with _editing(path) as tmp:
            for frame in frames:
                _put(tmp, LAYER, frame, frame["unit_code"][0], frame["zone_class"][0])
    return Pulled(path, added, replaced, unchanged)


def _put(path: Path, layer: str, frame: gpd.GeoDataFrame, unit: str, zone_class: str) -> None:
    """Replace the feature of ``unit``/``zone_class`` in ``layer`` (creating the layer)."""
    exists = path.exists() and layer in _layers(path)
    if not exists and layer == LAYER:
        if not path.exists():  # a GeoPackage (with its CRS registered) to add the table to
            empty = frame.iloc[:0][[*KEYS, "proposal_sha256", frame.geometry.name]]
            pyogrio.write_dataframe(
                empty, path, layer=PROPOSALS_LAYER, driver="GPKG", geometry_type="MultiPolygon"
            )
        _create_adjustments_layer(path, int(frame.crs.to_epsg()))
        exists = True
    if exists:
        with sqlite3.connect(path) as db:
            db.execute(
                f'DELETE FROM "{layer}" WHERE unit_code = ? AND zone_class = ?',
                (unit, zone_class),
            )
        db.close()
    pyogrio.write_dataframe(
        frame,
        path,
        layer=layer,
        driver="GPKG",
        append=exists,
        promote_to_multi=True,
        geometry_type="MultiPolygon",
    )
