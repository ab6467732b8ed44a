"""Placing point rows: coordinates from columns or geometries, into the working CRS.

Both point inputs (the register and the survey points) go through
:func:`validated`: read and map columns (:mod:`pipeline.ingest.core`), place
each row (parsed coordinate columns in any notation, with swapped columns
detected, or the file's point geometries), reject points outside the
province, then validate the attributes against the contract.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import Config, InputFile
from pipeline.contracts import Rejection, validate_table
from pipeline.coordinates import parse_column, plain_decimals
from pipeline.crs import transform_geometries, transform_xy
from pipeline.errors import InputError
from pipeline.ingest.core import (
    as_text,
    file_label,
    map_columns,
    read,
    record_id,
    schema_of,
    source_crs,
)
from pipeline.ingest.crs_checks import check_numbers
from pipeline.progress import Advance, Progress, counted, no_advance, no_progress
from pipeline.vntext import TextChange


@dataclass(frozen=True)
class Surroundings:
    """What points are checked against: the province (all districts) and the park."""

    province: shapely.Geometry
    park: shapely.Geometry


#: What spreadsheets and exports write in a cell that has no value.
NO_VALUE_MARKS = frozenset(
    {"", "nan", "#n/a", "n/a", "na", "-", "--", "—", "–", "null", "none", "#value!", "?"}
)


def is_no_value(value: object) -> bool:
    """True for an empty cell or a missing-value mark (``NaN``, ``#N/A``, ``-``, ``n/a``)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return True
    return isinstance(value, str) and value.strip().lower() in NO_VALUE_MARKS


def _in_box(lon: np.ndarray, lat: np.ndarray, cfg: Config) -> np.ndarray:
    (x0, x1), (y0, y1) = cfg.ingest.plausible_lon, cfg.ingest.plausible_lat
    with np.errstate(invalid="ignore"):
        return (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)


def _expected_ranges(spec: InputFile, cfg: Config) -> str:
    """The plausible box in the file's own CRS, for messages."""
    (x0, x1), (y0, y1) = cfg.ingest.plausible_lon, cfg.ingest.plausible_lat
    if spec.lon_column:
        return (
            f"{spec.lat_column} = latitude {y0:g}..{y1:g}, "
            f"{spec.lon_column} = longitude {x0:g}..{x1:g}"
        )
    lon = np.array([x0, x1, x0, x1, (x0 + x1) / 2, (x0 + x1) / 2])
    lat = np.array([y0, y0, y1, y1, y0, y1])
    e, n = transform_xy(lon, lat, "EPSG:4326", spec.crs)
    return (
        f"{spec.northing_column} = northing "
        f"{np.nanmin(n) / 1e6:.2f}-{np.nanmax(n) / 1e6:.2f} million m, "
        f"{spec.easting_column} = easting "
        f"{np.nanmin(e) / 1e6:.2f}-{np.nanmax(e) / 1e6:.2f} million m"
    )


def _points_from_columns(
    table: pd.DataFrame,
    spec: InputFile,
    file: str,
    cfg: Config,
    id_field: str,
    advance: Advance = no_advance,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[Rejection]]:
    """Parse the coordinate columns, detect swapped ones, build points in the working CRS.

    ``advance`` counts the values done: each column's cells as it is parsed,
    then the points as they are transformed.
    """
    x_col, y_col = spec.coordinate_columns  # type: ignore[misc]
    missing = [c for c in (x_col, y_col) if c not in table.columns]
    if missing:
        available = [str(c) for c in table.columns if c != "_row"]
        raise InputError(
            f"thiếu cột tọa độ {', '.join(missing)}",
            f"missing coordinate column(s) {', '.join(missing)}; "
            f"the file has: {', '.join(available)}",
            file=file,
            row=1,
            field=", ".join(missing),
            fix="rename the columns or set lon_column/lat_column (or easting_column/"
            "northing_column) for this file in geopark.toml",
            fix_vi="đổi tên cột hoặc khai báo lon_column/lat_column (hoặc easting_column/"
            "northing_column) cho tệp này trong geopark.toml",
        )
    geographic = spec.lon_column is not None
    rejections: list[Rejection] = []
    n = len(table)
    bad = np.zeros(n, dtype=bool)
    index = list(table.index)

    def reject(i: int, field: str, value: str, expected: str, vi: str, en: str) -> None:
        bad[i] = True
        rejections.append(
            Rejection(
                file=file,
                row=int(table.at[index[i], "_row"]),
                field=field,
                value=value,
                expected=expected,
                message_vi=vi,
                message_en=en,
                record_id=record_id(table, index[i], id_field),
            )
        )

    raw_x = table[x_col].tolist()
    raw_y = table[y_col].tolist()
    plain_x, plain_y = plain_decimals(raw_x), plain_decimals(raw_y)  # found once, used twice
    if geographic:
        check_numbers(
            np.asarray(parse_column(raw_x, "metres", plain_x).values),
            np.asarray(parse_column(raw_y, "metres", plain_y).values),
            spec.crs,
            file,
            cfg,
            columns=True,
        )
    pending = np.zeros(n, dtype=bool)  # latitudes beyond ±90: a swap, or out of range
    if geographic:
        px = parse_column(raw_x, "lon", plain_x)
        advance(n)
        py = parse_column(raw_y, "lat", plain_y)
        advance(n)
        # a longitude typed in the latitude column is > 90: read it as a longitude
        # so that the swap test below can recognise it
        beyond = [i for i in py.failed if py.reasons[i].kind == "range"]
        loose = parse_column([raw_y[i] for i in beyond], "lon")
        for k, i in enumerate(beyond):
            if loose.reasons[k] is None:
                pending[i] = True
                py.values[i] = loose.values[k]
        expected = {
            x_col: "a longitude: decimal degrees (106.75) or DMS (106°45'E)",
            y_col: "a latitude: decimal degrees (21.85) or DMS (21°50'48\"N)",
        }
    else:
        px = parse_column(raw_x, "metres", plain_x)
        advance(n)
        py = parse_column(raw_y, "metres", plain_y)
        advance(n)
        expected = {x_col: "metres (a number)", y_col: "metres (a number)"}
    # Only a cell that could not be read can be empty or a missing-value mark.
    unread = np.union1d(px.failed, py.failed).astype(int)
    for i in unread:
        for col, raw in ((x_col, raw_x), (y_col, raw_y)):
            if not bad[i] and is_no_value(raw[i]):
                reject(
                    i,
                    col,
                    "" if raw[i] is None or pd.isna(raw[i]) else str(raw[i]),
                    "a coordinate",
                    "không có tọa độ (ô trống hoặc ghi chú thiếu số liệu)",
                    "no coordinate (the cell is empty or marks a missing value)",
                )
    x = np.asarray(px.values, float)
    y = np.asarray(py.values, float)
    swapped_letter = np.zeros(n, dtype=bool)
    for i in unread:
        for col, parsed, raw in ((x_col, px, raw_x), (y_col, py, raw_y)):
            reason = parsed.reasons[i]
            if reason is None or bad[i] or (parsed is py and pending[i]):
                continue
            if reason.kind == "swapped":
                swapped_letter[i] = True
                continue
            reject(
                i,
                col,
                "" if raw[i] is None or pd.isna(raw[i]) else str(raw[i]),
                expected[col],
                f"tọa độ không hợp lệ: {reason.message_vi}",
                f"invalid coordinate: {reason.message_en}",
            )
    # lon/lat as given and with the columns swapped
    if geographic:
        lon, lat = x, y
        slon, slat = y, x
    else:
        lon, lat = transform_xy(x, y, spec.crs, "EPSG:4326")
        slon, slat = transform_xy(y, x, spec.crs, "EPSG:4326")
    plausible = _in_box(lon, lat, cfg)
    swapped = np.flatnonzero(((~plausible & _in_box(slon, slat, cfg)) | swapped_letter) & ~bad)
    ranges = _expected_ranges(spec, cfg) if len(swapped) else ""
    for i in swapped:
        if geographic:
            reject(
                i,
                f"{y_col}/{x_col}",
                f"{raw_y[i]}/{raw_x[i]}",
                ranges,
                f"vĩ độ và kinh độ có vẻ bị đổi chỗ (cột {y_col} "
                "chứa kinh độ); đổi lại lat_column/lon_column",
                f"latitude and longitude look swapped ({y_col} holds a longitude); "
                "swap the values or lat_column/lon_column in geopark.toml",
            )
        else:
            reject(
                i,
                f"{spec.northing_column}/{spec.easting_column}",
                f"{y[i]}/{x[i]}",
                ranges,
                "X và Y có vẻ bị đổi chỗ (X là tọa độ Bắc, Y là tọa độ Đông)",
                "X and Y look swapped (Vietnamese X = northing, Y = easting)",
            )
    if geographic:  # latitudes beyond ±90 that are not a swap
        for i in np.flatnonzero(pending & ~bad):
            reason = py.reasons[i]
            if reason is not None:
                reject(
                    i,
                    y_col,
                    str(raw_y[i]),
                    expected[y_col],
                    f"tọa độ không hợp lệ: {reason.message_vi}",
                    f"invalid coordinate: {reason.message_en}",
                )
    wx, wy = transform_xy(x, y, spec.crs, cfg.working_crs)
    advance(n)
    for i in np.flatnonzero(~bad & ~(np.isfinite(wx) & np.isfinite(wy))):
        reject(
            i,
            f"{x_col}/{y_col}",
            f"{raw_x[i]}/{raw_y[i]}",
            f"a position the transformation {spec.crs} -> {cfg.working_crs} can handle",
            "không chuyển được tọa độ",
            "the coordinate cannot be transformed",
        )
    keep = ~bad
    out = table.loc[keep].copy()
    out["lon"] = np.asarray(lon)[keep]
    out["lat"] = np.asarray(lat)[keep]
    return out, wx[keep], wy[keep], rejections


def _check_surroundings(
    frame: gpd.GeoDataFrame, file: str, id_field: str, where: Surroundings, cfg: Config
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Reject points outside the province (beyond the tolerance), giving their distance to the park."""
    geoms = frame.geometry.values
    if not len(frame):
        return frame, []
    # most points lie in the province: a prepared point-in-polygon test settles
    # them; only the others need a distance to its boundary of many vertices
    shapely.prepare(where.province)
    outside = ~shapely.intersects(where.province, geoms)
    outside[outside] = (
        shapely.distance(geoms[outside], where.province) > cfg.ingest.province_tolerance_m
    )
    index = np.flatnonzero(outside)
    rejections = []
    for i, dist_park in zip(index, shapely.distance(geoms[index], where.park), strict=True):
        row = frame.iloc[i]
        rejections.append(
            Rejection(
                file=file,
                row=int(row["_row"]),
                field="geometry",
                value=f"lon {row['lon']:.6f}, lat {row['lat']:.6f}",
                expected="a point in Lạng Sơn province (within "
                f"{cfg.ingest.province_tolerance_m:g} m)",
                message_vi="điểm nằm ngoài tỉnh Lạng Sơn, cách "
                f"công viên {dist_park / 1000:,.1f} km; "
                "kiểm tra hệ tọa độ (crs) và các cột tọa độ",
                message_en="point outside Lạng Sơn province, "
                f"{dist_park / 1000:,.1f} km from the park; "
                "check the file's crs and coordinate columns",
                record_id=record_id(frame, frame.index[i], id_field),
                x=float(shapely.get_x(geoms[i])),
                y=float(shapely.get_y(geoms[i])),
            )
        )
    return frame.loc[~outside], rejections


def _read_points(
    spec: InputFile,
    schema: dict,
    cfg: Config,
    id_field: str,
    where: Surroundings,
    notes: list[str],
    changes: list[TextChange],
    progress: Progress,
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    file, result = read(spec, cfg, progress)
    notes += result.notes
    changes += result.changes
    table = as_text(map_columns(result.frame, spec, file, notes), schema, file, notes)
    target = cfg.working_crs
    rejections: list[Rejection] = []
    has_geometry = isinstance(table, gpd.GeoDataFrame) and table.geometry.notna().any()
    if has_geometry and spec.coordinate_columns is None:
        geoms = table.geometry.values
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        kinds = set(shapely.get_type_id(geoms[present]))
        if kinds - {0}:
            names = {
                1: "lines",
                2: "lines",
                3: "polygons",
                4: "multipoints",
                5: "lines",
                6: "polygons",
            }
            found = ", ".join(sorted({names.get(int(k), "geometries") for k in kinds - {0}}))
            first = int(table.loc[present & (shapely.get_type_id(geoms) != 0), "_row"].iloc[0])
            raise InputError(
                "tệp không chứa điểm",
                f"the file holds {found} where points were expected (first at feature {first})",
                file=file,
                row=first,
                field="geometry",
                fix="give a point layer (set 'layer' for multi-layer files); polygons belong in "
                "inputs.districts or inputs.park_extent",
                fix_vi="cung cấp lớp điểm (khai báo 'layer' với tệp nhiều lớp); lớp vùng thuộc "
                "inputs.districts hoặc inputs.park_extent",
            )
        source = source_crs(spec, table, file)
        rejections += [
            Rejection(
                file,
                int(r),
                "geometry",
                "",
                "a point",
                "thiếu hình học",
                "missing geometry",
                record_id=record_id(table, i, id_field),
            )
            for i, r in table.loc[~present, "_row"].items()
        ]
        table = table.loc[present]
        geoms = table.geometry.values
        check_numbers(shapely.get_x(geoms), shapely.get_y(geoms), source, file, cfg)
        ll = transform_geometries(geoms, source, "EPSG:4326")
        lon, lat = shapely.get_x(ll), shapely.get_y(ll)
        plausible = _in_box(lon, lat, cfg)
        swapped = ~plausible & _in_box(lat, lon, cfg)
        for i in np.flatnonzero(swapped):
            rejections.append(
                Rejection(
                    file,
                    int(table["_row"].iloc[i]),
                    "geometry",
                    f"x {lon[i]:.6f}, y {lat[i]:.6f}",
                    "x = longitude, y = latitude",
                    "kinh độ và vĩ độ của hình học bị đổi chỗ",
                    "the geometry's longitude and latitude are swapped (x must be the longitude)",
                    record_id=record_id(table, table.index[i], id_field),
                )
            )
        table = table.loc[~swapped]
        pts = transform_geometries(table.geometry.values, source, target)
        wx, wy = shapely.get_x(pts), shapely.get_y(pts)
        frame = pd.DataFrame(table.drop(columns=table.geometry.name))
        frame["lon"], frame["lat"] = lon[~swapped], lat[~swapped]
    else:
        if spec.coordinate_columns is None:
            raise InputError(
                "không biết cột tọa độ",
                "the table has no geometry and no coordinate columns are configured",
                file=file,
                field="lon_column/lat_column",
                fix="set lon_column and lat_column (or easting_column and northing_column) "
                "and crs for this file in geopark.toml",
                fix_vi="khai báo lon_column và lat_column (hoặc easting_column và northing_column) "
                "cùng crs cho tệp này trong geopark.toml",
            )
        plain = pd.DataFrame(
            table.drop(columns=table.geometry.name)
            if isinstance(table, gpd.GeoDataFrame)
            else table
        )
        with counted(
            progress,
            f"Đọc tọa độ {file}, chuyển sang {target}",
            f"Reading the coordinates of {file} into {target}",
            3 * len(plain),
            "giá trị/values",
        ) as advance:
            frame, wx, wy, more = _points_from_columns(plain, spec, file, cfg, id_field, advance)
            rejections += more
            pts = shapely.points(wx, wy)
    frame["x_vn2000"] = wy  # Vietnamese X = northing
    frame["y_vn2000"] = wx  # Vietnamese Y = easting
    points = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(pts, index=frame.index), crs=target)
    points, outside = _check_surroundings(points, file, id_field, where, cfg)
    return points, rejections + outside


def validated(
    spec: InputFile,
    cfg: Config,
    id_field: str,
    where: Surroundings,
    notes: list[str],
    changes: list[TextChange],
    progress: Progress = no_progress,
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Read, map, place and validate one point input; valid rows and every rejection.

    ``progress`` shows a bar for reading a text table, normalising its text and
    checking its fields (a GPS log of millions of rows takes seconds for each).
    """
    schema = schema_of(spec)
    points, rejections = _read_points(spec, schema, cfg, id_field, where, notes, changes, progress)
    file = file_label(spec.path, cfg)
    with counted(
        progress,
        f"Kiểm tra các trường {file}",
        f"Checking the fields of {file}",
        len(points) * len(schema.get("fields", [])),
        "ô/cells",
    ) as advance:
        valid, more = validate_table(
            points,
            schema,
            file=file,
            id_field=id_field,
            keep_first=cfg.ingest.duplicates == "keep_first",
            advance=advance,
        )
    valid = gpd.GeoDataFrame(valid, geometry=points.geometry.name, crs=points.crs)
    return valid, rejections + more
