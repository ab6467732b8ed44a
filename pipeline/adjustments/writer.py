"""``geopark adjust``: copy a unit's proposal into the edits GeoPackage, or pull
the adjustments drafted in PostGIS; the only writer of that file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from pipeline.adjustments.layer import (
    KEYS,
    LAYER,
    PROPOSALS_LAYER,
    geometry_sha256,
    layer_names,
)
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.geometry import as_multipolygons
from pipeline.outputs import edited_copy

# --------------------------------------------------------------------------- geopark adjust


@dataclass(frozen=True)
class Copied:
    """What :func:`adjust_unit` wrote."""

    path: Path
    unit_code: str
    zone_class: str
    area_ha: float
    replaced: bool


def _latest_proposal(cfg: Config, unit: str, zone_class: str) -> gpd.GeoDataFrame:
    """The unit's proposal in the latest outputs (layer ``zone_proposals``)."""
    gpkg = cfg.output_path("geopackage")
    if not gpkg.exists() or PROPOSALS_LAYER not in layer_names(gpkg):
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
    if not path.exists() or layer not in layer_names(path):
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
    proposal = as_multipolygons(found.geometry.values)[0]
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
    from pipeline.qgis.styles import write_geopackage_styles

    with edited_copy(path, ".adjust-") as copy:
        yield copy
        write_geopackage_styles(copy, [LAYER, PROPOSALS_LAYER])


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
    if path.exists() and LAYER in layer_names(path):
        local = pyogrio.read_dataframe(path, layer=LAYER)
    known = {(r.unit_code, r.zone_class): r for r in local.itertuples()}
    added, replaced, unchanged, conflicts = [], [], [], []
    frames = []
    for row in rows:
        geom = as_multipolygons(np.array([shapely.from_wkb(bytes(row.wkb))], dtype=object))[0]
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
    exists = path.exists() and layer in layer_names(path)
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
