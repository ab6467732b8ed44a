"""EPSG:9215 for PostGIS.

PostGIS 3.3 (Debian 12) ships a ``spatial_ref_sys`` without EPSG:9215
(VN-2000 / TM-3 107°15′), and a ``geometry(..., 9215)`` column needs it. The
row is built from pyproj's EPSG database, so it is the same definition the
pipeline computes with.
"""

from __future__ import annotations

import warnings

import pyproj


def spatial_ref_sys_insert(epsg: int) -> str:
    """``INSERT INTO spatial_ref_sys`` for ``EPSG:<epsg>``, doing nothing if it is there."""
    crs = pyproj.CRS.from_epsg(epsg)
    wkt = crs.to_wkt(pyproj.enums.WktVersion.WKT1_GDAL).replace("'", "''")
    with warnings.catch_warnings():  # the PROJ string is only a fallback; PostGIS uses EPSG:9215
        warnings.simplefilter("ignore", UserWarning)
        proj4 = crs.to_proj4().replace("'", "''")
    return (
        "INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid, srtext, proj4text) "
        f"VALUES ({epsg}, 'EPSG', {epsg}, '{wkt}', '{proj4}') ON CONFLICT (srid) DO NOTHING;"
    )
