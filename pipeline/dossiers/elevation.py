"""Elevations of the geosites read from the DEM (``[maps] dem`` or a ``dem`` base layer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio

from pipeline.crs import transform_xy
from pipeline.errors import ConfigError, InputError


def sample_dem(
    dem_path: Path,
    eastings: np.ndarray,
    northings: np.ndarray,
    crs: str,
    *,
    field: str = "maps.dem",
) -> list[float | None]:
    """The DEM's value (m) under each point, None outside it or on no-data.

    Parameters
    ----------
    dem_path
        A GeoTIFF (any CRS with an EPSG code).
    eastings, northings
        The points in ``crs`` (the working CRS: x easting, y northing).
    field
        The setting that names the DEM, for messages (``maps.dem`` or
        ``maps.base.path``).

    Raises
    ------
    ConfigError
        When the DEM file does not exist.
    InputError
        When GDAL cannot read it or it has no CRS.
    """
    if not dem_path.exists():
        raise ConfigError(
            f"không tìm thấy DEM {dem_path}",
            f"DEM not found: {dem_path}",
            field=field,
            fix=f"correct {field} (relative to the configuration file) or remove it",
            fix_vi=f"sửa {field} (tương đối so với tệp cấu hình) hoặc bỏ khóa này",
        )
    try:
        with rasterio.open(dem_path) as src:
            if src.crs is None:
                raise InputError(
                    "DEM không có hệ tọa độ",
                    "the DEM has no coordinate reference system",
                    file=str(dem_path),
                    field=field,
                    fix="assign its CRS (e.g. gdal_edit.py -a_srs EPSG:9215 dem.tif)",
                    fix_vi="gán hệ tọa độ cho DEM (ví dụ gdal_edit.py -a_srs EPSG:9215 dem.tif)",
                )
            xs, ys = transform_xy(eastings, northings, crs, src.crs.to_wkt())
            values = [v[0] for v in src.sample(zip(xs, ys, strict=True), masked=True)]
            left, bottom, right, top = src.bounds
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(
            "không đọc được DEM",
            f"cannot read the DEM: {exc}",
            file=str(dem_path),
            field=field,
            fix="give a GeoTIFF readable by GDAL",
            fix_vi="dùng tệp GeoTIFF mà GDAL đọc được",
        ) from None
    out: list[float | None] = []
    for x, y, v in zip(xs, ys, values, strict=True):
        inside = left <= x <= right and bottom <= y <= top
        masked = np.ma.is_masked(v)
        out.append(float(v) if inside and not masked and np.isfinite(float(v)) else None)
    return out
