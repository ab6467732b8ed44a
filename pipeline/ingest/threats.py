"""Threat layers (``[[inputs.threats]]``): quarries, licences, roads, plans, hazards.

Each configured layer is read through the shared path (any GDAL vector
format), its attributes validated against ``schemas/threats.schema.json``
(rows that break it are quarantined like any other input), and its
geometries placed in the working CRS through the EPSG operation. The layer's
``kind`` comes from the configuration unless a feature's own ``kind`` column
says otherwise; an empty ``status`` means ``existing``.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import Config, ThreatInput
from pipeline.contracts import Rejection, validate_table
from pipeline.crs import transform_geometries
from pipeline.errors import InputError
from pipeline.ingest.assessment import TRUE_WORDS
from pipeline.ingest.core import as_text, map_columns, read, schema_of, source_crs
from pipeline.threats import FEATURE_COLUMNS

#: Columns of the ingested threat layer, in order.
THREAT_COLUMNS = [*FEATURE_COLUMNS, "surface", "bus_parking"]


def empty_threats(crs: str) -> gpd.GeoDataFrame:
    """The threat layer of a configuration that has none."""
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in THREAT_COLUMNS},
        geometry=gpd.GeoSeries([], crs=crs),
        crs=crs,
    )


def _one_layer(
    spec: ThreatInput, cfg: Config, notes: list[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    file, result = read(spec, cfg)
    notes += result.notes
    table = map_columns(result.frame, spec, file, notes)
    if not isinstance(table, gpd.GeoDataFrame) or table.geometry.isna().all():
        raise InputError(
            "lớp đe dọa không có hình học",
            "the threat layer has no geometries (a table where features were expected)",
            file=file,
            fix="give a vector layer (GeoPackage, GeoJSON, Shapefile, KML, ...) of "
            "polygons, lines or points",
            fix_vi="cung cấp lớp véc-tơ (GeoPackage, GeoJSON, Shapefile, KML, ...) "
            "dạng vùng, đường hoặc điểm",
        )
    schema = schema_of(spec)
    valid, rejections = validate_table(
        as_text(table, schema, file, notes), schema, file=file, id_field="threat_id"
    )
    geoms = table.geometry.loc[valid.index].values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for idx in valid.index[missing]:
        rejections.append(
            Rejection(
                file=file,
                row=int(valid.at[idx, "_row"]),
                field="geometry",
                value="",
                expected="a polygon, line or point",
                message_vi="đối tượng không có hình học",
                message_en="the feature has no geometry",
                record_id=str(valid.at[idx, "threat_id"])
                if "threat_id" in valid and pd.notna(valid.at[idx, "threat_id"])
                else "",
            )
        )
    valid, geoms = valid.loc[~missing], geoms[~missing]
    layer_name = spec.layer or spec.path.stem
    out = pd.DataFrame(index=valid.index)
    rows = valid["_row"].astype(int).astype(str)
    given = valid.get("threat_id", pd.Series(index=valid.index, dtype=object))
    out["threat_id"] = given.where(
        given.notna() & given.astype(str).ne(""), layer_name + "-" + rows
    )
    out["threat_layer"] = layer_name
    kind = valid.get("kind", pd.Series(index=valid.index, dtype=object))
    out["kind"] = kind.where(kind.notna(), spec.kind)
    status = valid.get("status", pd.Series(index=valid.index, dtype=object))
    out["status"] = status.where(status.notna(), "existing")
    for column, source in (("name", "name"), ("owner", "owner"), ("threat_date", "date")):
        out[column] = valid[source] if source in valid else None
    out["surface"] = valid["surface"] if "surface" in valid else None
    parking = valid.get("bus_parking", pd.Series(index=valid.index, dtype=object))
    out["bus_parking"] = parking.astype("string").str.strip().str.lower().isin(TRUE_WORDS)
    out["illustrative"] = spec.illustrative
    placed = transform_geometries(geoms, source_crs(spec, table, file), cfg.working_crs)
    frame = gpd.GeoDataFrame(
        out.reset_index(drop=True),
        geometry=gpd.GeoSeries(np.asarray(placed), crs=cfg.working_crs),
        crs=cfg.working_crs,
    )
    notes.append(
        f"{file}: lớp đe dọa / threat layer {layer_name} ({spec.kind}): {len(frame)} đối tượng / features"
        + (" — MINH HỌA / ILLUSTRATIVE" if spec.illustrative else "")
    )
    return frame, rejections


def ingest_threats(cfg: Config, notes: list[str]) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Every configured threat layer as one GeoDataFrame in the working CRS.

    Returns
    -------
    (threats, rejections)
        The features with :data:`THREAT_COLUMNS` (an empty layer when none is
        configured), and the rows that broke the contract.
    """
    frames, rejections = [], []
    for spec in cfg.inputs.threats:
        frame, rejected = _one_layer(spec, cfg, notes)
        frames.append(frame)
        rejections += rejected
    if not frames:
        return empty_threats(cfg.working_crs), rejections
    threats = pd.concat(frames, ignore_index=True)
    duplicated = threats["threat_id"].duplicated(keep=False)
    # the same identifier in two layers: keep both, but tell them apart
    threats.loc[duplicated, "threat_id"] = (
        threats.loc[duplicated, "threat_layer"] + ":" + threats.loc[duplicated, "threat_id"]
    )
    return gpd.GeoDataFrame(threats, geometry="geometry", crs=cfg.working_crs), rejections
