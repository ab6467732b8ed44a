"""Geosite extents: the real outline of a geosite, as geologists delineate it.

The optional input ``[inputs.geosite_extents]`` (any GDAL vector format,
contract ``schemas/geosite_extents.schema.json``) gives, per ``geosite_code``,
polygons (a karst landform, an outcrop, a cave plan), lines (a stratigraphic
section, a cave survey centreline, a gorge) and points; several features per
geosite. The zoning stage buffers them as they are (README, "Zoning rules").

A feature that breaks the contract (no code, a code the register does not
have, no geometry, an invalid polygon) is rejected with its file, feature,
field and fix, like a row of any other input; a file that cannot be used at
all raises :class:`~pipeline.errors.InputError`.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import InputFile
from pipeline.contracts import Rejection, load_schema, validate_table
from pipeline.crs import transform_geometries
from pipeline.errors import InputError
from pipeline.ingest.core import as_text, map_columns, source_crs, unknown_geosite
from pipeline.readers import read_input

#: Columns of the ingested extents (plus the geometry, in the working CRS).
COLUMNS = ["geosite_code", "extent_kind", "source", "source_file", "source_row"]

#: Shapely type ids of the geometries an extent may have (points, lines, polygons, multi-).
ACCEPTED_TYPES = (0, 1, 3, 4, 5, 6)


def _geometry_rejections(
    table: gpd.GeoDataFrame, file: str, codes: pd.Series
) -> tuple[np.ndarray, list[Rejection]]:
    """Features without a usable geometry: missing, empty, of another kind, or invalid."""
    geoms = table.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    kinds = np.where(missing, -1, shapely.get_type_id(geoms))
    wrong = ~missing & ~np.isin(kinds, ACCEPTED_TYPES)
    invalid = ~missing & ~wrong & ~shapely.is_valid(geoms)
    rejections = []
    for i in np.flatnonzero(missing | wrong | invalid):
        if missing[i]:
            value, vi, en = "", "đối tượng không có hình học", "the feature has no geometry"
        elif wrong[i]:
            value = str(geoms[i].geom_type)
            vi = f"kiểu hình học {value} không được chấp nhận"
            en = f"geometry type {value} is not accepted"
        else:
            value = shapely.is_valid_reason(geoms[i])
            vi = f"vùng không hợp lệ ({value}); sửa trong QGIS (Vector > Geometry Tools > Check Validity)"
            en = f"invalid polygon ({value}); fix it in QGIS (Vector > Geometry Tools > Check Validity)"
        rejections.append(
            Rejection(
                file=file,
                row=int(table["_row"].iloc[i]),
                field="geometry",
                value=value,
                expected="a valid polygon, line or point (or a multi- one)",
                message_vi=vi,
                message_en=en,
                record_id="" if pd.isna(codes.iloc[i]) else str(codes.iloc[i]),
            )
        )
    return missing | wrong | invalid, rejections


def ingest_extents(
    spec: InputFile,
    file: str,
    working_crs: str,
    known_codes: set[str],
    held: dict[str, str],
    register_file: str,
    notes: list[str] | None = None,
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Read and validate the geosite extents against their contract.

    Parameters
    ----------
    spec
        The ``[inputs.geosite_extents]`` entry.
    file
        The file name to quote in messages (relative to the configuration).
    working_crs
        The CRS the extents are transformed into.
    known_codes
        Geosite codes of the validated register.
    held
        Codes whose register row was rejected, with that row (their extents are held too).
    register_file
        The register's file name, for messages.
    notes
        Conversions made on reading (text repairs, column mapping) are added here.

    Returns
    -------
    (extents, rejections)
        Valid features with ``geosite_code``, ``extent_kind``, ``source``,
        ``source_file``, ``source_row`` in the working CRS, and a
        :class:`Rejection` for every feature that breaks the contract.
    """
    read = read_input(
        spec.path, layer=spec.layer, encoding=spec.encoding, sheet=spec.sheet, label=file
    )
    table = read.frame
    if not isinstance(table, gpd.GeoDataFrame) or table.geometry.isna().all():
        raise InputError(
            "tệp phạm vi điểm di sản không có hình học",
            "the geosite extents file has no geometries",
            file=file,
            field="geometry",
            fix="give a vector layer (GeoPackage, GeoJSON, Shapefile, KML, ...) of polygons, "
            "lines or points, each with its geosite_code",
            fix_vi="cung cấp lớp vector (GeoPackage, GeoJSON, Shapefile, KML, ...) gồm vùng, "
            "đường hoặc điểm, mỗi đối tượng có geosite_code",
        )
    notes = [] if notes is None else notes
    notes += read.notes
    table = map_columns(table, spec, file, notes)
    crs = source_crs(spec, table, file)
    schema = load_schema(spec.schema_) if spec.schema_ else {"fields": []}
    attrs = pd.DataFrame(as_text(table, schema, file, notes).drop(columns=table.geometry.name))
    bad_geometry, rejections = _geometry_rejections(
        table, file, attrs.get("geosite_code", pd.Series([None] * len(table)))
    )
    valid, more = validate_table(attrs.loc[~bad_geometry], schema, file=file)
    rejections += more
    unknown = ~valid["geosite_code"].isin(known_codes)
    rejections += [
        unknown_geosite(
            file,
            int(row["_row"]),
            row["geosite_code"],
            str(row["geosite_code"]),
            register_file,
            held,
        )
        for _, row in valid.loc[unknown].iterrows()
    ]
    valid = valid.loc[~unknown]
    positions = table.index.get_indexer(valid.index)
    geoms = transform_geometries(table.geometry.values[positions], crs, working_crs)
    out = pd.DataFrame(
        {
            "geosite_code": valid["geosite_code"].astype(object).to_numpy(),
            "extent_kind": valid["extent_kind"].astype(object).to_numpy()
            if "extent_kind" in valid
            else None,
            "source": valid["source"].astype(object).to_numpy() if "source" in valid else None,
            "source_file": file,
            "source_row": valid["_row"].astype(int).to_numpy(),
        }
    )
    out = out.replace({pd.NA: None})
    extents = gpd.GeoDataFrame(out, geometry=np.asarray(geoms), crs=working_crs)
    extents = extents.sort_values(["geosite_code", "source_row"], kind="stable")
    return extents.reset_index(drop=True), rejections


def extent_outlines(extents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The extents as lines, one layer of one geometry type for GIS: polygon
    rings and lines as they are (point extents are left out; they show as points
    in the survey and are covered by Zone I all the same)."""
    geoms = extents.geometry.values
    lines = np.where(np.isin(shapely.get_type_id(geoms), (3, 6)), shapely.boundary(geoms), geoms)
    keep = np.isin(shapely.get_type_id(lines), (1, 2, 5))
    parts, index = shapely.get_parts(lines[keep], return_index=True)
    multi = shapely.multilinestrings(parts, indices=index)
    frame = extents.loc[keep].drop(columns=extents.geometry.name).reset_index(drop=True)
    return gpd.GeoDataFrame(frame, geometry=np.asarray(multi), crs=extents.crs)
