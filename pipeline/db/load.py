"""Read the GeoPackage into rows ready for COPY, and fingerprint them.

Each layer becomes a list of tuples in the order of its table's columns,
with Python values psycopg's COPY understands (geometry as hex EWKB). The
fingerprint hashes exactly these rows, so publishing the same outputs twice
is recognised whatever the GeoPackage file's own timestamps say.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio
import shapely
from sqlalchemy import Boolean, Date, Float, Integer, Table

from pipeline.db import models
from pipeline.errors import InputError


@dataclass
class LayerRows:
    name: str
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _values(series: pd.Series, column) -> list[Any]:
    kind = column.type
    if isinstance(kind, Date):
        stamps = pd.to_datetime(series, errors="coerce")
        return [None if pd.isna(v) else v.date() for v in stamps]
    if isinstance(kind, Boolean):
        return [None if pd.isna(v) else bool(v) for v in series]
    if isinstance(kind, Integer):
        return [None if pd.isna(v) else int(v) for v in series]
    if isinstance(kind, Float):
        return [None if pd.isna(v) else float(v) for v in series]
    return [
        None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in series
    ]


def read_layer(gpkg: Path, table: Table, present: set[str]) -> LayerRows:
    """The rows of ``table``'s layer (empty when the GeoPackage has no such layer)."""
    columns = [c.name for c in table.columns]
    if table.name not in present:
        return LayerRows(table.name, columns, [])
    frame = pyogrio.read_dataframe(gpkg, layer=table.name, fid_as_index=True)
    if "geom" in columns:
        crs = frame.crs  # a pyproj CRS, or None
        if crs is None or crs.to_epsg() != models.SRID:
            raise InputError(
                f"lớp {table.name} không ở hệ EPSG:{models.SRID}",
                f"layer {table.name} is not in EPSG:{models.SRID} (found {crs.to_string() if crs else 'none'})",
                file=str(gpkg),
                field=table.name,
                fix="run `geopark zones` again to rebuild the GeoPackage",
                fix_vi="chạy lại `geopark zones` để tạo lại GeoPackage",
            )
    attributes = [c for c in frame.columns if c != "geometry"]
    unknown = [c for c in attributes if c not in columns]
    if unknown:
        raise InputError(
            f"lớp {table.name} có cột mà lược đồ cơ sở dữ liệu không có: {', '.join(unknown)}",
            f"layer {table.name} has columns the database schema does not know: {', '.join(unknown)}",
            file=str(gpkg),
            field=f"{table.name}.{unknown[0]}",
            fix="add them to pipeline/db/models.py (layer tables need no migration)",
            fix_vi="thêm chúng vào pipeline/db/models.py (bảng lớp không cần migration)",
        )
    data: dict[str, list[Any]] = {}
    for column in table.columns:
        if column.name == "fid":
            data["fid"] = [int(v) for v in frame.index]
        elif column.name == "geom":
            geoms = shapely.set_srid(frame.geometry.values, models.SRID)
            data["geom"] = list(shapely.to_wkb(geoms, hex=True, include_srid=True))
        elif column.name in frame.columns:
            data[column.name] = _values(frame[column.name], column)
        elif not column.nullable:
            raise InputError(
                f"lớp {table.name} thiếu cột bắt buộc {column.name}",
                f"layer {table.name} lacks the required column {column.name}",
                file=str(gpkg),
                field=f"{table.name}.{column.name}",
                fix="run `geopark zones` again with this version of the pipeline",
                fix_vi="chạy lại `geopark zones` với phiên bản quy trình này",
            )
        else:
            data[column.name] = [None] * len(frame)
    rows = list(zip(*(data[c] for c in columns), strict=True))
    return LayerRows(table.name, columns, rows)


def read_geopackage(gpkg: Path) -> tuple[list[LayerRows], list[str]]:
    """Every published layer of ``gpkg``, in load order (parents first), and the
    names of the layers that have no table (and are not published)."""
    present = {name for name, _ in pyogrio.list_layers(gpkg)}
    known = {t.name for t in models.LAYER_TABLES} | {"layer_styles"}
    layers = [read_layer(gpkg, table, present) for table in models.LAYER_TABLES]
    return layers, sorted(present - known)


def fingerprint(layers: list[LayerRows], *extra: str) -> str:
    """SHA-256 of the rows of every layer (and ``extra`` strings such as the schema revision)."""
    digest = hashlib.sha256()
    for value in extra:
        digest.update(value.encode() + b"\0")
    for layer in layers:
        digest.update(json.dumps([layer.name, layer.columns], ensure_ascii=False).encode())
        for row in layer.rows:
            digest.update(json.dumps(row, ensure_ascii=False, default=str).encode() + b"\n")
    return digest.hexdigest()
