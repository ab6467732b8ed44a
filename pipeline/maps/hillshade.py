"""Relief shading from a DEM (GeoTIFF), resampled onto the sheet's window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import from_bounds
from rasterio.warp import reproject

from pipeline.errors import ConfigError, InputError


def hillshade(
    elevation: np.ndarray, cell_x: float, cell_y: float, azimuth: float, altitude: float
) -> np.ndarray:
    """Horn's hillshade of an elevation grid (north up), values 0..1.

    Parameters
    ----------
    elevation
        Heights in metres; NaN where unknown.
    cell_x, cell_y
        Cell size in metres.
    azimuth, altitude
        Direction of the light (degrees from north, clockwise) and its height
        above the horizon (degrees).
    """
    z = np.pad(elevation, 1, mode="edge")
    # Horn (1981) 3x3 gradients; rows run north -> south
    dzdx = (
        (z[:-2, 2:] + 2 * z[1:-1, 2:] + z[2:, 2:]) - (z[:-2, :-2] + 2 * z[1:-1, :-2] + z[2:, :-2])
    ) / (8 * cell_x)
    dzdy = (
        (z[:-2, :-2] + 2 * z[:-2, 1:-1] + z[:-2, 2:]) - (z[2:, :-2] + 2 * z[2:, 1:-1] + z[2:, 2:])
    ) / (8 * cell_y)
    slope = np.arctan(np.hypot(dzdx, dzdy))
    aspect = np.arctan2(-dzdx, -dzdy)  # direction the slope faces, from north clockwise
    zenith = np.radians(90.0 - altitude)
    az = np.radians(azimuth)
    shade = np.cos(zenith) * np.cos(slope) + np.sin(zenith) * np.sin(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def hillshade_for_extent(
    dem_path: Path,
    bounds: tuple[float, float, float, float],
    crs: str,
    *,
    max_cells: int = 1200,
    azimuth: float = 315.0,
    altitude: float = 45.0,
    field: str = "maps.dem",
) -> np.ndarray | None:
    """The hillshade of ``dem_path`` over ``bounds`` (in ``crs``), or None if they do not overlap.

    The DEM is resampled (bilinear) through rasterio onto a north-up grid of at
    most ``max_cells`` cells along the longer side, in the sheet's CRS.
    """
    dst = elevation_for_extent(dem_path, bounds, crs, max_cells=max_cells, field=field)
    if dst is None:
        return None
    rows, cols = dst.shape
    known = np.isfinite(dst)
    filled = np.where(known, dst, np.nanmean(dst[known]))
    width, height = bounds[2] - bounds[0], bounds[3] - bounds[1]
    shade = hillshade(filled, width / cols, height / rows, azimuth, altitude)
    return np.where(known, shade, np.nan)


def elevation_for_extent(
    dem_path: Path,
    bounds: tuple[float, float, float, float],
    crs: str,
    *,
    max_cells: int = 1200,
    field: str = "maps.dem",
) -> np.ndarray | None:
    """``dem_path`` resampled (bilinear) onto a north-up grid over ``bounds`` (in ``crs``).

    Rows run north to south; NaN where the DEM has no data; None when the DEM
    does not overlap ``bounds``. ``field`` names the setting in error messages.
    """
    if not dem_path.exists():
        raise ConfigError(
            f"không tìm thấy DEM {dem_path}",
            f"DEM not found: {dem_path}",
            field=field,
            fix=f"correct {field} (relative to the configuration file) or remove it",
            fix_vi=f"sửa {field} (tương đối so với tệp cấu hình) hoặc bỏ khóa này",
        )
    minx, miny, maxx, maxy = bounds
    width = maxx - minx
    height = maxy - miny
    cell = max(width, height) / max_cells
    cols, rows = max(round(width / cell), 2), max(round(height / cell), 2)
    dst = np.full((rows, cols), np.nan, dtype="float64")
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
            src_nodata = src.nodata
            reproject(
                source=rasterio.band(src, 1),
                destination=dst,
                src_nodata=src_nodata,
                dst_transform=from_bounds(minx, miny, maxx, maxy, cols, rows),
                dst_crs=CRS.from_user_input(crs),
                dst_nodata=np.nan,
                resampling=Resampling.bilinear,
            )
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(
            "không đọc được DEM",
            f"cannot read the DEM: {exc}",
            file=str(dem_path),
            field=field,
            fix="give a GeoTIFF readable by GDAL",
            fix_vi="dùng tệp GeoTIFF mà GDAL đọc được",
        ) from None
    return dst if np.isfinite(dst).any() else None
