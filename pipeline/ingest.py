"""Ingest: read, validate and transform the raw inputs into the working CRS.

The stage takes the configuration and returns an :class:`IngestResult`:
the geosite register, the survey points, the official districts and the park
extent, all in the working CRS (EPSG:9215), plus every rejected row. A row
that breaks its contract goes to quarantine with its file, row, field and
value; a file that cannot be used at all raises :class:`InputError`.

Real-world field data is judged by the rules in ``[ingest]`` of
geopark.toml: coordinates in any notation (:mod:`pipeline.coordinates`),
swapped columns, points outside the province, duplicate identifiers, two
geosites at the same place, survey points far from their geosite, and
boundary polygons that need a repair. Every conversion, repair and warning
is a note in :attr:`IngestResult.notes`, which the QA report lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.assessment import ingest_assessment
from pipeline.config import Config, DistrictsInput, InputFile
from pipeline.contracts import Rejection, load_schema, validate_table
from pipeline.coordinates import parse_column
from pipeline.crs import transform_geometries, transform_xy
from pipeline.errors import InputError
from pipeline.readers import ReadResult, read_input
from pipeline.vntext import match_name, to_nfc

#: Local time of the field teams, for dates taken from GPS timestamps.
LOCAL_TZ = "Asia/Ho_Chi_Minh"


@dataclass
class IngestResult:
    """Everything ingest produced, in the working CRS."""

    geosites: gpd.GeoDataFrame
    survey_points: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    park_extent: gpd.GeoDataFrame
    admin_units: pd.DataFrame
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    assessment: pd.DataFrame | None = None  # validated Brilha (2016) sheet, when configured


@dataclass(frozen=True)
class Surroundings:
    """What points are checked against: the province (all districts) and the park."""

    province: shapely.Geometry
    park: shapely.Geometry


def _rel(path: Path, cfg: Config) -> str:
    base = cfg.source.parent if cfg.source else Path.cwd()
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def _record_id(table: pd.DataFrame, idx: object, id_field: str) -> str:
    if id_field not in table:
        return ""
    value = table.at[idx, id_field]
    return "" if pd.isna(value) else str(value)


def _read(spec: InputFile, cfg: Config) -> tuple[str, ReadResult]:
    """Read one configured input; the file name for messages and what was read."""
    file = _rel(spec.path, cfg)
    read = read_input(
        spec.path, layer=spec.layer, encoding=spec.encoding, sheet=spec.sheet, label=file
    )
    return file, read


def _schema(spec: InputFile) -> dict:
    return load_schema(spec.schema_) if spec.schema_ else {"fields": []}


def _source_crs(spec: InputFile, table: pd.DataFrame, file: str) -> object:
    """The CRS of a vector input: as configured, else as the file declares it."""
    source = spec.crs or getattr(table, "crs", None)
    if source is None:
        raise InputError(
            "tệp không có hệ tọa độ",
            "the file has no CRS",
            file=file,
            field="crs",
            fix="set 'crs' for this file in geopark.toml (e.g. EPSG:4326, EPSG:9215, EPSG:32648)",
            fix_vi="khai báo 'crs' cho tệp trong geopark.toml "
            "(vd. EPSG:4326, EPSG:9215, EPSG:32648)",
        )
    return source


def _layer(frame: pd.DataFrame, columns: list[str], sort_by: str, cfg: Config) -> gpd.GeoDataFrame:
    """An ingested layer: its columns and geometry, sorted, in the working CRS."""
    out = frame[[*columns, "geometry"]].sort_values(sort_by).reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=cfg.working_crs)


# --- columns and text -------------------------------------------------------


def _map_columns(table: pd.DataFrame, spec: InputFile, file: str, notes: list[str]) -> pd.DataFrame:
    """Copy each configured source column to its contract name (``columns`` in geopark.toml)."""
    if not spec.columns:
        return table
    available = [
        str(c)
        for c in table.columns
        if c != "_row" and c != getattr(table, "_geometry_column_name", None)
    ]
    missing = {t: s for t, s in spec.columns.items() if s not in table.columns}
    if missing:
        target, source = next(iter(missing.items()))
        raise InputError(
            f"không có cột '{source}' (ánh xạ cho trường {target})",
            f"no column {source!r} (mapped to field "
            f"{target!r}); the file has: {', '.join(available)}",
            file=file,
            row=1,
            field=f"columns.{target}",
            fix="correct 'columns' for this file in geopark.toml; "
            f"available columns: {', '.join(available)}",
            fix_vi=f"sửa 'columns' của tệp trong geopark.toml; các cột có: {', '.join(available)}",
        )
    out = table.copy()
    for target, source in spec.columns.items():
        out[target] = table[source]
    notes.append(
        f"{file}: ánh xạ cột / column mapping "
        + ", ".join(f"{s} -> {t}" for t, s in spec.columns.items())
    )
    return out


def _as_text(table: pd.DataFrame, schema: dict, file: str, notes: list[str]) -> pd.DataFrame:
    """Attribute values as strings; GPS timestamps become local dates for date fields."""
    date_fields = {f["name"] for f in schema.get("fields", []) if f.get("type") == "date"}
    geom = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    out = table.copy()
    for col in out.columns:
        if col in ("_row", geom):
            continue
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            if col in date_fields:
                if getattr(series.dt, "tz", None) is not None:
                    series = series.dt.tz_convert(LOCAL_TZ)
                    notes.append(
                        f"{file}: {col}: thời điểm GPS đổi sang ngày giờ "
                        f"Việt Nam / GPS times taken as dates in {LOCAL_TZ}"
                    )
                out[col] = series.dt.strftime("%Y-%m-%d").astype("string")
            else:
                out[col] = series.astype("string")
        elif not pd.api.types.is_string_dtype(series):
            out[col] = series.map(
                lambda v: (
                    None
                    if pd.isna(v)
                    else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                ),
                na_action="ignore",
            ).astype("string")
        else:
            out[col] = series.astype("string")
    return out


# --- coordinates ------------------------------------------------------------


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
    table: pd.DataFrame, spec: InputFile, file: str, cfg: Config, id_field: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[Rejection]]:
    """Parse the coordinate columns, detect swapped ones, build points in the working CRS."""
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
                record_id=_record_id(table, index[i], id_field),
            )
        )

    raw_x = table[x_col].tolist()
    raw_y = table[y_col].tolist()
    pending = np.zeros(n, dtype=bool)  # latitudes beyond ±90: a swap, or out of range
    if geographic:
        px, py = parse_column(raw_x, "lon"), parse_column(raw_y, "lat")
        # a longitude typed in the latitude column is > 90: read it as a longitude
        # so that the swap test below can recognise it
        loose = parse_column(raw_y, "lon")
        for i, reason in enumerate(py.reasons):
            if reason is not None and reason.kind == "range" and loose.reasons[i] is None:
                pending[i] = True
                py.values[i] = loose.values[i]
        expected = {
            x_col: "a longitude: decimal degrees (106.75) or DMS (106°45'E)",
            y_col: "a latitude: decimal degrees (21.85) or DMS (21°50'48\"N)",
        }
    else:
        px, py = parse_column(raw_x, "metres"), parse_column(raw_y, "metres")
        expected = {x_col: "metres (a number)", y_col: "metres (a number)"}
    x = np.asarray(px.values, float)
    y = np.asarray(py.values, float)
    swapped_letter = np.zeros(n, dtype=bool)
    for i in range(n):
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
    outside = shapely.distance(geoms, where.province) > cfg.ingest.province_tolerance_m
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
                record_id=_record_id(frame, frame.index[i], id_field),
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
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    file, read = _read(spec, cfg)
    notes += read.notes
    table = _as_text(_map_columns(read.frame, spec, file, notes), schema, file, notes)
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
        source = _source_crs(spec, table, file)
        rejections += [
            Rejection(
                file,
                int(r),
                "geometry",
                "",
                "a point",
                "thiếu hình học",
                "missing geometry",
                record_id=_record_id(table, i, id_field),
            )
            for i, r in table.loc[~present, "_row"].items()
        ]
        table = table.loc[present]
        geoms = table.geometry.values
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
                    record_id=_record_id(table, table.index[i], id_field),
                )
            )
        table = table.loc[~swapped]
        pts = transform_geometries(table.geometry.values, source, target)
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
        frame, wx, wy, more = _points_from_columns(plain, spec, file, cfg, id_field)
        rejections += more
        pts = shapely.points(wx, wy)
    frame["x_vn2000"] = shapely.get_y(pts)  # Vietnamese X = northing
    frame["y_vn2000"] = shapely.get_x(pts)  # Vietnamese Y = easting
    points = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(pts, index=frame.index), crs=target)
    points, outside = _check_surroundings(points, file, id_field, where, cfg)
    return points, rejections + outside


def _validated(
    spec: InputFile, cfg: Config, id_field: str, where: Surroundings, notes: list[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    schema = _schema(spec)
    points, rejections = _read_points(spec, schema, cfg, id_field, where, notes)
    valid, more = validate_table(
        points,
        schema,
        file=_rel(spec.path, cfg),
        id_field=id_field,
        keep_first=cfg.ingest.duplicates == "keep_first",
    )
    valid = gpd.GeoDataFrame(valid, geometry=points.geometry.name, crs=points.crs)
    return valid, rejections + more


def ingest_admin_units(cfg: Config) -> pd.DataFrame:
    spec = cfg.inputs.admin_units
    file, read = _read(spec, cfg)
    schema = _schema(spec)
    table = _as_text(
        pd.DataFrame(read.frame).drop(columns="geometry", errors="ignore"), schema, file, []
    )
    valid, rejections = validate_table(table, schema, file=file)
    if rejections:
        r = rejections[0]
        raise InputError(
            "danh mục đơn vị hành chính có lỗi",
            f"the official unit list is invalid: {r.message_en} "
            f"({r.value!r}, expected {r.expected})",
            file=r.file,
            row=r.row,
            field=r.field,
            fix="correct the official list; it is the reference every name is matched to",
            fix_vi="sửa danh mục chính thức; mọi tên đều được đối chiếu với nó",
        )
    valid["district_code"] = valid["district_code"].astype(int)
    valid["province_code"] = valid["province_code"].astype(int)
    return valid.drop(columns="_row").reset_index(drop=True)


# --- polygons ---------------------------------------------------------------


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of a geometry (make_valid may add lines or points)."""
    parts = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _repair(table: gpd.GeoDataFrame, file: str, cfg: Config, notes: list[str]) -> gpd.GeoDataFrame:
    """Repair invalid polygons only when the area changes less than the configured share."""
    geoms = table.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if not invalid.any():
        return table
    limit = cfg.ingest.repair_max_area_change_pct
    fixed = geoms.copy()
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        before = float(shapely.area(geoms[i]))
        repaired = _polygonal(
            shapely.make_valid(geoms[i], method="structure", keep_collapsed=False)
        )
        after = float(shapely.area(repaired))
        change = abs(after - before) / max(after, before, 1e-9) * 100
        row = int(table["_row"].iloc[i])
        if shapely.is_empty(repaired) or change > limit:
            raise InputError(
                f"đối tượng {row}: vùng không hợp lệ ({reason}); sửa tự động sẽ làm diện tích "
                f"thay đổi {change:.3g} % (giới hạn {limit:g} %)",
                f"feature {row}: invalid polygon ({reason}); an automatic repair would change its "
                f"area by {change:.3g} % (limit {limit:g} %), so it is refused",
                file=file,
                row=row,
                field="geometry",
                fix="fix the polygon in QGIS (Vector > Geometry "
                "Tools > Check Validity, then redraw the "
                "crossing edges) and export again; or raise "
                "ingest.repair_max_area_change_pct if the "
                "repair is acceptable",
                fix_vi="sửa vùng trong QGIS (Vector > Geometry "
                "Tools > Check Validity, vẽ lại các cạnh "
                "cắt nhau) rồi xuất lại; hoặc tăng ingest.repair_max_area_change_pct nếu chấp nhận",
            )
        fixed[i] = repaired
        notes.append(
            f"{file} đối tượng/feature {row}: vùng không "
            "hợp lệ đã được sửa / invalid polygon repaired "
            f"({reason}); diện tích thay đổi / area changed by {change:.4f} % "
            f"({before / 1e4:,.2f} ha -> {after / 1e4:,.2f} ha)"
        )
    out = table.copy()
    out[table.geometry.name] = gpd.GeoSeries(fixed, index=table.index, crs=table.crs)
    return out


def _polygons(spec: InputFile, cfg: Config, notes: list[str] | None = None) -> gpd.GeoDataFrame:
    notes = [] if notes is None else notes
    file, read = _read(spec, cfg)
    notes += read.notes
    table = _map_columns(read.frame, spec, file, notes)
    if not isinstance(table, gpd.GeoDataFrame) or table.geometry.isna().all():
        raise InputError(
            "tệp không có hình học",
            "the file has no geometries (a table where polygons were expected)",
            file=file,
            fix="give a polygon layer (GeoPackage, GeoJSON, Shapefile, MapInfo TAB, KML, ...)",
            fix_vi="cung cấp lớp vùng (GeoPackage, GeoJSON, Shapefile, MapInfo TAB, KML, ...)",
        )
    geoms = table.geometry.values
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    not_poly = ~bad & ~np.isin(shapely.get_type_id(geoms), [3, 6])
    for mask, what_en, what_vi in (
        (bad, "empty or missing geometry", "hình học rỗng"),
        (
            not_poly,
            "not a polygon (points or lines where polygons were expected)",
            "không phải vùng (polygon)",
        ),
    ):
        if mask.any():
            row = int(table.loc[mask, "_row"].iloc[0])
            raise InputError(
                f"đối tượng {row}: {what_vi}",
                f"feature {row}: {what_en}",
                file=file,
                row=row,
                field="geometry",
                fix="fix or remove the feature in QGIS and export again",
                fix_vi="sửa hoặc xóa đối tượng trong QGIS rồi xuất lại",
            )
    source = _source_crs(spec, table, file)
    out = table.copy()
    geom = transform_geometries(table.geometry.values, source, cfg.working_crs)
    out = out.set_geometry(gpd.GeoSeries(geom, index=table.index), crs=cfg.working_crs)
    return _repair(out, file, cfg, notes)


def ingest_districts(
    spec: DistrictsInput, cfg: Config, admin: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read district polygons and give each its official GSO name and code."""
    file = _rel(spec.path, cfg)
    notes: list[str] = []
    table = _polygons(spec, cfg, notes)
    if spec.name_field not in table:
        raise InputError(
            f"không có trường tên {spec.name_field}",
            f"no name field {spec.name_field!r}",
            file=file,
            field=spec.name_field,
            fix=f"set inputs.districts.name_field to one of: {', '.join(map(str, table.columns))}",
            fix_vi="khai báo đúng inputs.districts.name_field",
        )
    official = dict(zip(admin["district_code"], admin["district_name"], strict=True))
    names = [None if pd.isna(v) else str(v) for v in table[spec.name_field]]
    alts = (
        [None if pd.isna(v) else str(v) for v in table[spec.alt_name_field]]
        if spec.alt_name_field in table
        else [None] * len(table)
    )
    matches = [
        match_name(name, official, alternates=[alt] if alt else [])
        for name, alt in zip(names, alts, strict=True)
    ]
    for row, m in zip(table["_row"], matches, strict=True):
        if m.code is None:
            cands = f" (candidates: {', '.join(m.candidates)})" if m.candidates else ""
            raise InputError(
                f"không khớp được tên huyện '{m.source}' với danh mục chính thức",
                f"district '{m.source}' matches no official unit{cands}",
                file=file,
                row=int(row),
                field=spec.name_field,
                fix="correct the name in the boundary file, or add the unit to the official "
                "list admin_units_gso.csv",
                fix_vi="sửa tên trong tệp ranh giới, hoặc bổ sung đơn vị vào danh mục chính thức",
            )
        if m.method != "exact":
            notes.append(f"{file} row {row}: '{m.source}' -> '{m.official}' ({m.method})")
    codes = [m.code for m in matches]
    dup = pd.Series(codes).duplicated(keep=False)
    if dup.any():
        rows = table["_row"].to_numpy()[dup.to_numpy()]
        raise InputError(
            "hai đối tượng ranh giới cùng khớp một huyện",
            f"several boundary features match the same official unit "
            f"({', '.join(matches[i].official or '' for i in np.flatnonzero(dup.to_numpy()))})",
            file=file,
            row=", ".join(map(str, rows)),
            field=spec.name_field,
            fix="merge the features into one per district, or correct the names",
            fix_vi="gộp các đối tượng thành một cho mỗi huyện, hoặc sửa tên",
        )
    out = gpd.GeoDataFrame(
        {
            "district_code": np.asarray(codes, dtype=int),
            "source_name": [to_nfc(m.source) for m in matches],
            "name_match": [m.method for m in matches],
        },
        geometry=table.geometry.values,
        crs=cfg.working_crs,
    )
    out = out.merge(admin, on="district_code", how="left")
    out["area_ha"] = shapely.area(out.geometry.values) / 1e4
    cols = [
        "district_code",
        "district_name",
        "district_type",
        "province_code",
        "province_name",
        "park_membership",
        "source_name",
        "name_match",
        "area_ha",
    ]
    return _layer(out, cols, "district_code", cfg), notes


def ingest_park_extent(cfg: Config, notes: list[str] | None = None) -> gpd.GeoDataFrame:
    """The park extent as one (multi)polygon in the working CRS."""
    table = _polygons(cfg.inputs.park_extent, cfg, notes)
    union = shapely.union_all(table.geometry.values)
    attrs = {}
    for col in ("name", "name_en", "legal_basis"):
        if col in table and table[col].notna().any():
            attrs[col] = [to_nfc(str(table[col].dropna().iloc[0]))]
    attrs.setdefault("name", [cfg.park.name_vi])
    attrs.setdefault("name_en", [cfg.park.name_en])
    attrs.setdefault("legal_basis", [cfg.park.legal_basis])
    attrs["declared_area_km2"] = [cfg.park.declared_area_km2]
    return gpd.GeoDataFrame(attrs, geometry=[union], crs=cfg.working_crs)


# --- contradictions -----------------------------------------------------------


def _same_place(
    sites: gpd.GeoDataFrame, cfg: Config, file: str, notes: list[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Geosites closer together than ``same_place_distance_m``: warn or reject both."""
    limit = cfg.ingest.same_place_distance_m
    if len(sites) < 2:
        return sites, []
    geoms = sites.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=limit)
    first = left < right
    left, right = left[first], right[first]
    distances = shapely.distance(geoms[left], geoms[right])
    rejections: list[Rejection] = []
    drop = np.zeros(len(sites), dtype=bool)
    for a, b, dist in zip(left, right, distances, strict=True):
        ca, cb = sites["geosite_code"].iloc[a], sites["geosite_code"].iloc[b]
        text_en = f"geosites {ca} and {cb} are {dist:.1f} m apart (same place: under {limit:g} m)"
        text_vi = (
            f"điểm di sản {ca} và {cb} cách nhau {dist:.1f} m (trùng vị trí: dưới {limit:g} m)"
        )
        if cfg.ingest.same_place == "warn":
            notes.append(f"CẢNH BÁO / WARNING: {text_vi} / {text_en}")
            continue
        for i, other in ((a, cb), (b, ca)):
            drop[i] = True
            rejections.append(
                Rejection(
                    file,
                    int(sites["_row"].iloc[i]),
                    "lat/lon",
                    f"{dist:.1f} m from {other}",
                    f"geosites at least {limit:g} m apart (ingest.same_place_distance_m)",
                    text_vi,
                    text_en,
                    record_id=str(sites["geosite_code"].iloc[i]),
                    x=float(shapely.get_x(geoms[i])),
                    y=float(shapely.get_y(geoms[i])),
                )
            )
    return sites.loc[~drop], rejections


def _far_points(
    points: gpd.GeoDataFrame, geosites: gpd.GeoDataFrame, cfg: Config, notes: list[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Survey points farther from their geosite than ``max_point_distance_m``."""
    if not len(points):
        return points, []
    site_geom = pd.Series(geosites.geometry.values, index=geosites["geosite_code"])
    limit = cfg.ingest.max_point_distance_m
    dist = shapely.distance(
        points.geometry.values, site_geom.loc[points["geosite_code"]].to_numpy()
    )
    far = dist > limit
    rejections = []
    for i in np.flatnonzero(far):
        row = points.iloc[i]
        pid, code = row["point_id"], row["geosite_code"]
        en = f"survey point {pid} is {dist[i]:,.0f} m from its geosite {code} (limit {limit:g} m)"
        vi = f"điểm khảo sát {pid} cách điểm di sản {code} {dist[i]:,.0f} m (giới hạn {limit:g} m)"
        if cfg.ingest.far_point == "warn":
            notes.append(
                f"CẢNH BÁO / WARNING: {row['source_file']} row {row['source_row']}: {vi} / {en}"
            )
        else:
            rejections.append(
                Rejection(
                    row["source_file"],
                    int(row["source_row"]),
                    "geosite_code",
                    str(row["geosite_code"]),
                    f"a survey point within {limit:g} m of its "
                    "geosite (ingest.max_point_distance_m)",
                    vi,
                    en,
                    record_id=str(row["point_id"]),
                    x=row.geometry.x,
                    y=row.geometry.y,
                )
            )
    if cfg.ingest.far_point == "warn":
        return points, []
    return points.loc[~far], rejections


def ingest_geosites(
    cfg: Config, admin: pd.DataFrame, where: Surroundings, notes: list[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    spec = cfg.inputs.geosites
    sites, rejections = _validated(spec, cfg, "geosite_code", where, notes)
    official = dict(zip(admin["district_code"], admin["district_name"], strict=True))
    matches = [match_name(None if pd.isna(d) else str(d), official) for d in sites["district"]]
    ok = np.array([m.code is not None for m in matches], dtype=bool)
    file = _rel(spec.path, cfg)
    for (_, row), m in zip(sites.iterrows(), matches, strict=True):
        if m.code is None:
            rejections.append(
                Rejection(
                    file=file,
                    row=int(row["_row"]),
                    field="district",
                    value=str(row["district"]),
                    expected="a district of the official list: " + ", ".join(official.values()),
                    message_vi="tên huyện không có trong danh mục chính thức",
                    message_en="district name not in the official list",
                    record_id=str(row["geosite_code"]),
                )
            )
    sites = sites.loc[ok].copy()
    sites["declared_district_code"] = [m.code for m in matches if m.code is not None]
    sites["declared_district"] = [m.official for m in matches if m.code is not None]
    sites, near = _same_place(sites, cfg, file, notes)
    rejections += near
    sites["source_file"] = file
    sites = sites.rename(columns={"_row": "source_row"})
    keep = [
        "geosite_code",
        "name_vi",
        "name_en",
        "category",
        "significance",
        "cluster_code",
        "declared_district",
        "declared_district_code",
        "location_quality",
        "description",
        "x_vn2000",
        "y_vn2000",
        "lon",
        "lat",
        "source_file",
        "source_row",
    ]
    return _layer(sites, keep, "geosite_code", cfg), rejections


def ingest_survey_points(
    cfg: Config,
    geosites: gpd.GeoDataFrame,
    rejected_codes: set[str],
    where: Surroundings,
    notes: list[str],
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    frames, rejections = [], []
    known = set(geosites["geosite_code"])
    for spec in cfg.inputs.survey_points:
        points, rej = _validated(spec, cfg, "point_id", where, notes)
        rejections += rej
        file = _rel(spec.path, cfg)
        unknown = ~points["geosite_code"].isin(known)
        for _, row in points.loc[unknown].iterrows():
            code = row["geosite_code"]
            held = code in rejected_codes
            rejections.append(
                Rejection(
                    file=file,
                    row=int(row["_row"]),
                    field="geosite_code",
                    value=str(code),
                    expected="a geosite_code of the register "
                    f"{_rel(cfg.inputs.geosites.path, cfg)}",
                    message_vi="điểm di sản này đang bị cách ly (dòng đăng ký bị loại)"
                    if held
                    else "mã điểm di sản không có trong danh mục",
                    message_en="its geosite's register row was rejected"
                    if held
                    else "geosite code not in the register",
                    record_id=str(row["point_id"]),
                    x=row.geometry.x,
                    y=row.geometry.y,
                )
            )
        points = points.loc[~unknown].copy()
        points["source_file"] = file
        frames.append(points.rename(columns={"_row": "source_row"}))
    points = pd.concat(frames, ignore_index=True)
    keep_first = cfg.ingest.duplicates == "keep_first"
    dup = points["point_id"].duplicated(keep="first" if keep_first else False)
    first_of = points.drop_duplicates("point_id").set_index("point_id")
    for _, row in points.loc[dup].iterrows():
        first = first_of.loc[row["point_id"]]
        rejections.append(
            Rejection(
                file=row["source_file"],
                row=int(row["source_row"]),
                field="point_id",
                value=str(row["point_id"]),
                expected="a point_id used in no other survey file",
                message_vi="mã điểm khảo sát bị trùng giữa các tệp"
                + (
                    f"; giữ bản đầu tiên ({first['source_file']} dòng {first['source_row']})"
                    if keep_first
                    else ""
                ),
                message_en="point_id duplicated across survey files"
                + (
                    f"; the first one is kept ({first['source_file']} row {first['source_row']})"
                    if keep_first
                    else ""
                ),
                record_id=str(row["point_id"]),
            )
        )
    points = points.loc[~dup]
    keep = [
        "point_id",
        "geosite_code",
        "observation",
        "survey_date",
        "team",
        "x_vn2000",
        "y_vn2000",
        "lon",
        "lat",
        "source_file",
        "source_row",
    ]
    points = gpd.GeoDataFrame(points, geometry="geometry", crs=cfg.working_crs)
    points, far = _far_points(points, geosites, cfg, notes)
    rejections += far
    return _layer(points, keep, "point_id", cfg), rejections


def ingest(cfg: Config) -> IngestResult:
    """Run the ingest stage.

    Parameters
    ----------
    cfg
        The validated configuration.

    Returns
    -------
    IngestResult
        Valid features in the working CRS, the rejected rows, and notes on
        every conversion, repair and warning.
    """
    admin = ingest_admin_units(cfg)
    districts, notes = ingest_districts(cfg.inputs.districts, cfg, admin)
    extent = ingest_park_extent(cfg, notes)
    where = Surroundings(
        shapely.union_all(districts.geometry.values), shapely.union_all(extent.geometry.values)
    )
    geosites, rejections = ingest_geosites(cfg, admin, where, notes)
    rejected_codes = {r.record_id for r in rejections if r.record_id}
    points, more = ingest_survey_points(cfg, geosites, rejected_codes, where, notes)
    assessment = None
    if cfg.inputs.assessment is not None:
        spec = cfg.inputs.assessment
        assessment, held = ingest_assessment(
            spec,
            _rel(spec.path, cfg),
            set(geosites["geosite_code"]),
            rejected_codes,
            _rel(cfg.inputs.geosites.path, cfg),
        )
        more += held
    return IngestResult(
        geosites=geosites,
        survey_points=points,
        districts=districts,
        park_extent=extent,
        admin_units=admin,
        rejections=rejections + more,
        notes=notes,
        assessment=assessment,
    )
