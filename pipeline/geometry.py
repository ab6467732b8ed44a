"""Geometry helpers shared by the zoning and the hand adjustments: polygonal
parts as MultiPolygons, areas in hectares, zones cut by the districts they lie
in. Plain functions of arrays and frames, in the working CRS (EPSG:9215)."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.parallel import threaded


def areas_ha(geoms: np.ndarray) -> np.ndarray:
    """Areas in hectares, rounded to 1 m²."""
    return np.round(shapely.area(geoms) / 1e4, 4)


def as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Keep only polygonal parts, as MultiPolygons (one geometry type per GIS layer)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.array([shapely.from_wkt("MULTIPOLYGON EMPTY")] * len(geoms), dtype=object)
    kind = shapely.get_type_id(geoms)
    empty = shapely.is_empty(geoms)
    # Most zones are one polygon or already a MultiPolygon: wrapped or kept as
    # they are, not taken apart and rebuilt (two copies of every vertex).
    multi = (kind == 6) & ~empty
    out[multi] = geoms[multi]
    single = (kind == 3) & ~empty
    out[single] = shapely.multipolygons(geoms[single][:, np.newaxis])
    mixed = np.flatnonzero(kind == 7)
    parts, index = shapely.get_parts(geoms[mixed], return_index=True)
    # make_valid nests: a collection of a MultiPolygon and the lines it dropped
    while (nested := np.isin(shapely.get_type_id(parts), (6, 7))).any():
        inner, inner_index = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        index = np.concatenate([index[~nested], index[nested][inner_index]])
    order = np.argsort(index, kind="stable")
    parts, index = parts[order], index[order]
    polygonal = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    if polygonal.any():
        present, dense = np.unique(index[polygonal], return_inverse=True)
        out[mixed[present]] = shapely.multipolygons(parts[polygonal], indices=dense)
    return out


def own_geometries(geoms: Any) -> Any:
    """New geometry objects equal to ``geoms`` to the bit (through WKB); one or an array.

    For a thread that prepares them: GEOS' prepared geometries are not safe
    to share between threads, and ``copy()`` keeps the same geometry objects.
    """
    return shapely.from_wkb(shapely.to_wkb(geoms))


def near(small: np.ndarray, large: np.ndarray) -> np.ndarray:
    """Each of ``large`` cut to a rectangle just around its partner in ``small``.

    GEOS' rectangle clipping is linear and cheap, so an overlay with the cut
    piece only sees the few boundary vertices near the small geometry. The
    rectangle lies outside the small geometry, so any overlay of the two gives
    the same result as with the whole of ``large``.
    """
    margin = 1.0
    boxes = np.add(shapely.bounds(small), [-margin, -margin, margin, margin])
    return np.array(
        [
            shapely.clip_by_rect(geom, *box) if np.isfinite(box).all() else geom
            for geom, box in zip(large, boxes, strict=True)
        ],
        dtype=object,
    )


def intersect_local(small: np.ndarray, large: np.ndarray) -> np.ndarray:
    """``small ∩ large`` pairwise, for small zones against large boundaries (:func:`near`)."""
    return threaded(shapely.intersection, small, near(small, large))


def difference_local(small: np.ndarray, large: shapely.Geometry) -> np.ndarray:
    """``small - large`` for each of ``small``, against one large boundary (:func:`near`)."""
    return threaded(shapely.difference, small, near(small, np.full(len(small), large)))


def district_pieces(
    zones: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, keys: list[str], min_area_m2: float
) -> gpd.GeoDataFrame:
    """Each zone cut by the districts it lies in (one row per zone and district)."""
    zone_geoms = zones.geometry.values
    district_geoms = np.asarray(districts.geometry.values, dtype=object)
    shapely.prepare(district_geoms)
    # The few large districts, prepared, query an index of the many small zones.
    d, z = shapely.STRtree(zone_geoms).query(district_geoms, predicate="intersects")
    order = np.lexsort((d, z))
    z, d = z[order], d[order]
    pieces = np.array(zone_geoms[z], dtype=object)
    inside = shapely.contains(district_geoms[d], pieces)
    if (~inside).any():
        pieces[~inside] = intersect_local(pieces[~inside], district_geoms[d[~inside]])
    frame = zones.iloc[z][keys].reset_index(drop=True)
    frame["district_code"] = districts["district_code"].to_numpy()[d]
    frame["district_name"] = districts["district_name"].to_numpy()[d]
    pieces = as_multipolygons(pieces)
    keep = shapely.area(pieces) >= max(min_area_m2, 1e-6)
    frame = frame.loc[keep].reset_index(drop=True)
    out = gpd.GeoDataFrame(frame, geometry=pieces[keep], crs=zones.crs)
    out["area_ha"] = areas_ha(out.geometry.values)
    return out


def join_runs(values: pd.Series, starts: np.ndarray) -> list[str]:
    """``';'.join`` of ``values`` over runs beginning at ``starts`` (one C-level reduce)."""
    text = (";" + values.astype(str)).to_numpy(dtype=object)
    return [joined[1:] for joined in np.add.reduceat(text, starts)]


def attach_districts(
    zones: gpd.GeoDataFrame, pieces: gpd.GeoDataFrame, keys: list[str]
) -> gpd.GeoDataFrame:
    """Add ``district_codes``/``district_names`` ('178;183') to each zone from its pieces."""
    pieces = pieces.sort_values([*keys, "district_code"]).reset_index(drop=True)
    starts = np.flatnonzero(~pieces.duplicated(keys).to_numpy())
    agg = pieces.loc[starts, keys].reset_index(drop=True)
    if len(starts):
        agg["district_codes"] = join_runs(pieces["district_code"], starts)
        agg["district_names"] = join_runs(pieces["district_name"], starts)
    else:
        agg["district_codes"] = agg["district_names"] = pd.Series(dtype=object)
    out = zones.merge(agg, on=keys, how="left")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=zones.crs)
