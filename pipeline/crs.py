"""Coordinate transformations through pyproj's EPSG operations.

VN-2000 and WGS 84 differ by about 200 m on the ground in Lạng Sơn, so a CRS
is never relabelled: every change of CRS goes through the best operation
PROJ knows between the two (for EPSG:4326 -> EPSG:9215 that is EPSG's
"VN-2000 to WGS 84 (2)" Helmert transformation), and a run refuses to go on
with a "ballpark" operation that would silently ignore the datum shift.
"""

from __future__ import annotations

from functools import cache

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj import Transformer

from pipeline.errors import InputError


def describe_crs(crs: object) -> str:
    """A CRS in a few words for messages: its EPSG code and name, never its WKT."""
    try:
        c = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return "an unknown CRS"
    epsg = c.to_epsg()
    return f"EPSG:{epsg} ({c.name})" if epsg else f"'{c.name}' (no EPSG code)"


@cache
def transformer(source: str, target: str) -> Transformer:
    """The best EPSG operation from ``source`` to ``target`` (x/y = east/north order).

    Raises
    ------
    InputError
        When PROJ only has a ballpark operation (no datum transformation).
    """
    t = Transformer.from_crs(source, target, always_xy=True, only_best=True)
    if "ballpark" in t.description.lower():
        raise InputError(
            f"không có phép chuyển đổi chính xác từ {describe_crs(source)} sang "
            f"{describe_crs(target)}",
            f"no accurate transformation from {describe_crs(source)} to {describe_crs(target)}: "
            "PROJ knows only an approximate one that ignores the datum shift (about 200 m here)",
            field="crs",
            fix="declare the input's true CRS by its EPSG code (e.g. EPSG:4326 or EPSG:9215)",
            fix_vi="khai báo đúng hệ tọa độ của tệp bằng mã EPSG (vd. EPSG:4326 hoặc EPSG:9215)",
        )
    return t


def crs_key(crs: object) -> str:
    """A hashable text form of a CRS (its EPSG code when it has one)."""
    c = pyproj.CRS.from_user_input(crs)
    epsg = c.to_epsg()
    return f"EPSG:{epsg}" if epsg else c.to_wkt()


def transform_xy(
    x: np.ndarray, y: np.ndarray, source: object, target: object
) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays (easting/longitude, northing/latitude)."""
    src, dst = crs_key(source), crs_key(target)
    if src == dst:
        return np.asarray(x, float), np.asarray(y, float)
    tx, ty = transformer(src, dst).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(tx), np.asarray(ty)


def transform_geometries(geoms: np.ndarray, source: object, target: object) -> np.ndarray:
    """Transform an array of shapely geometries, vectorised over all vertices."""
    src, dst = crs_key(source), crs_key(target)
    if src == dst:
        return np.asarray(geoms)
    t = transformer(src, dst)

    def apply(coords: np.ndarray) -> np.ndarray:
        tx, ty = t.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([tx, ty])

    return shapely.transform(np.asarray(geoms), apply)


def to_crs(frame: gpd.GeoDataFrame, target: object) -> gpd.GeoDataFrame:
    """Return ``frame`` in ``target`` through the EPSG operation."""
    if frame.crs is None:
        raise ValueError("frame has no CRS")
    geoms = transform_geometries(frame.geometry.values, frame.crs, target)
    out = frame.copy()
    out[frame.geometry.name] = gpd.GeoSeries(geoms, index=frame.index, crs=target)
    return out.set_crs(target, allow_override=True)
