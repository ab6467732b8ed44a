"""Declared CRS against the numbers: the two mislabellings that shift data ~200 m.

VN-2000 and WGS 84 differ by about 200 m in Lạng Sơn, so a file whose CRS
label is wrong is never transformed silently:

- a file that declares a geographic CRS (WGS 84, ...) but holds metres, as
  VN-2000 TM-3 or UTM coordinates do, is refused with the CRS that fits its
  numbers;
- a file that declares a Transverse Mercator on the WGS 84 datum with the
  parameters of a VN-2000 TM-3 zone (central meridian such as 107°15′, scale
  0.9999, false easting 500 km) — the label ArcGIS often writes for VN-2000
  data — is refused: its coordinates are almost always VN-2000, and the
  message names the EPSG code to declare.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyproj
from pyproj.database import query_crs_info

from pipeline.config import Config
from pipeline.crs import describe_crs, transform_xy
from pipeline.errors import InputError

#: Projected CRSs whose metres a Lạng Sơn file may hold, tried in this order.
METRE_CANDIDATES = ("EPSG:9215", "EPSG:3405", "EPSG:32648")


@cache
def vn2000_tm3_zones() -> dict[float, str]:
    """Central meridian -> EPSG code of every VN-2000 / TM-3 CRS in PROJ's database."""
    zones = {}
    for info in query_crs_info(auth_name="EPSG", pj_types="PROJECTED_CRS"):
        if info.name.startswith("VN-2000 / TM-3"):
            crs = pyproj.CRS.from_epsg(int(info.code))
            params = {p.name: p.value for p in crs.coordinate_operation.params}
            zones.setdefault(round(params["Longitude of natural origin"], 6), f"EPSG:{info.code}")
    return zones


def _dms(degrees: float) -> str:
    whole = int(degrees)
    minutes = round((degrees - whole) * 60)
    return f"{whole}°{minutes:02d}′" if minutes else f"{whole}°"


def _on_wgs84_datum(crs: pyproj.CRS) -> bool:
    """The datum (not only the ellipsoid, which VN-2000 shares) is WGS 84."""
    name = (crs.datum.name if crs.datum else "").upper().replace("_", " ")
    return ("WGS" in name and "84" in name) or "WORLD GEODETIC SYSTEM 1984" in name


def check_declared_crs(crs: object, file: str) -> None:
    """Refuse a Transverse Mercator on WGS 84 whose parameters are VN-2000 TM-3's."""
    c = pyproj.CRS.from_user_input(crs)
    if not c.is_projected or c.coordinate_operation is None:
        return
    if not _on_wgs84_datum(c):
        return
    if "transverse mercator" not in c.coordinate_operation.method_name.lower():
        return
    params = {p.name: p.value for p in c.coordinate_operation.params}
    meridian = round(params.get("Longitude of natural origin", np.nan), 6)
    scale = params.get("Scale factor at natural origin")
    zone = vn2000_tm3_zones().get(meridian)
    if zone is None or scale is None or abs(scale - 0.9999) > 1e-9:
        return
    raise InputError(
        f"tệp khai báo Transverse Mercator {_dms(meridian)} k=0,9999 trên datum WGS 84: đó là "
        "tham số của VN-2000 TM-3 (ArcGIS hay ghi như vậy cho dữ liệu VN-2000); hiểu theo nhãn "
        "này mọi điểm sẽ lệch khoảng 200 m",
        f"the file declares a Transverse Mercator {_dms(meridian)} k=0.9999 on the WGS 84 "
        "datum: those are VN-2000 TM-3's parameters (a label ArcGIS often writes for VN-2000 "
        "data); taken at its word, every point would move about 200 m",
        file=file,
        field="crs",
        fix=f'if the coordinates are VN-2000 (the usual case), set crs = "{zone}" '
        f"({describe_crs(zone)}) for this file in geopark.toml; if they really are on WGS 84, "
        'set crs = "+proj=tmerc +lon_0=... +k=0.9999 +x_0=500000 +datum=WGS84" to say so',
        fix_vi=f'nếu tọa độ là VN-2000 (thường gặp), khai báo crs = "{zone}" cho tệp này trong '
        "geopark.toml; nếu thật sự là WGS 84, khai báo crs bằng chuỗi +proj=tmerc ... "
        "+datum=WGS84",
    )


def check_numbers(
    x: np.ndarray, y: np.ndarray, crs: object, file: str, cfg: Config, *, columns: bool = False
) -> None:
    """Refuse a geographic CRS whose numbers are metres, naming the CRS that fits them.

    ``columns``: the numbers come from lon/lat columns (the fix then names the
    easting/northing column settings too).
    """
    if not pyproj.CRS.from_user_input(crs).is_geographic:
        return
    x, y = np.asarray(x, float), np.asarray(y, float)
    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.any():
        return
    metres = (np.abs(x[finite]) > 360) | (np.abs(y[finite]) > 360)
    if metres.mean() < 0.5:
        return
    mx, my = float(np.median(x[finite][metres])), float(np.median(y[finite][metres]))
    (lon0, lon1), (lat0, lat1) = cfg.ingest.plausible_lon, cfg.ingest.plausible_lat
    fits = []
    for candidate in METRE_CANDIDATES:
        for ex, ny in ((mx, my), (my, mx)):  # X = northing in Vietnamese tables
            lon, lat = transform_xy(np.array([ex]), np.array([ny]), candidate, "EPSG:4326")
            if lon0 <= lon[0] <= lon1 and lat0 <= lat[0] <= lat1:
                fits.append(candidate)
    looks = (
        f"like {describe_crs(fits[0])} in Lạng Sơn"
        if fits
        else "but not like any CRS used in Lạng Sơn"
    )
    fix = (
        f'set crs = "{fits[0]}" ({describe_crs(fits[0])}) for this file in geopark.toml'
        if fits
        else "set crs to the projected CRS the coordinates were measured in"
    )
    if columns:
        fix += (
            ", with easting_column/northing_column in place of lon_column/lat_column "
            "(VN-2000: northing = X, easting = Y)"
        )
    raise InputError(
        f"tệp khai báo {describe_crs(crs)} (độ) nhưng các số là mét (vd. {mx:,.0f} / {my:,.0f})",
        f"the file declares {describe_crs(crs)} (degrees) but its numbers are metres "
        f"(e.g. {mx:,.0f} / {my:,.0f}), {looks}",
        file=file,
        field="crs",
        fix=fix,
        fix_vi=f'khai báo crs = "{fits[0]}" cho tệp này trong geopark.toml'
        if fits
        else "khai báo crs là hệ tọa độ phẳng đã dùng để đo",
    )
