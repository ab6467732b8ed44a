"""Ingest: read, validate and transform the raw inputs into the working CRS.

The stage takes the configuration and returns an :class:`IngestResult`:
the geosite register, the survey points, the official districts and the park
extent, all in the working CRS (EPSG:9215), plus every rejected row. A row
that breaks its contract goes to quarantine with its file, row, field and
value; a file that cannot be used at all raises :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import Config, DistrictsInput, InputFile
from pipeline.contracts import Rejection, load_schema, validate_table
from pipeline.crs import crs_key, transform_geometries, transform_xy
from pipeline.errors import InputError
from pipeline.readers import read_table
from pipeline.vntext import match_name, to_nfc

VN2000_NORTHING_RANGE = (2.0e6, 2.7e6)  # northern Vietnam, metres
VN2000_EASTING_RANGE = (1.0e5, 9.0e5)


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


def _rel(path: Path, cfg: Config) -> str:
    base = cfg.source.parent if cfg.source else Path.cwd()
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def _points_from_columns(
    table: pd.DataFrame, spec: InputFile, file: str, target: str, id_field: str
) -> tuple[pd.DataFrame, np.ndarray, list[Rejection]]:
    """Parse the coordinate columns and build points in ``target``."""
    x_col, y_col = spec.coordinate_columns  # type: ignore[misc]
    missing = [c for c in (x_col, y_col) if c not in table.columns]
    if missing:
        raise InputError(
            f"thiếu cột tọa độ {', '.join(missing)}",
            f"missing coordinate column(s) {', '.join(missing)}",
            file=file,
            row=1,
            field=", ".join(missing),
            fix="rename the columns or set lon_column/lat_column (or easting_column/"
            "northing_column) for this file in geopark.toml",
            fix_vi="đổi tên cột hoặc khai báo lon_column/lat_column (hoặc easting_column/"
            "northing_column) cho tệp này trong geopark.toml",
        )
    rejections: list[Rejection] = []
    geographic = spec.lon_column is not None
    values = {}
    bad = pd.Series(False, index=table.index)
    for col, axis in ((x_col, "x"), (y_col, "y")):
        raw = table[col].astype("string").str.strip().str.replace(",", ".", regex=False)
        num = pd.to_numeric(raw, errors="coerce")
        if geographic:
            limit = 180 if axis == "x" else 90
            expected = f"decimal degrees in [-{limit}, {limit}]"
            invalid = num.isna() | (num.abs() > limit)
        else:
            expected = "metres (a number)"
            invalid = num.isna()
        for idx in table.index[invalid & ~bad]:
            rejections.append(
                Rejection(
                    file=file,
                    row=int(table.at[idx, "_row"]),
                    field=col,
                    value=str(table.at[idx, col]),
                    expected=expected,
                    message_vi="tọa độ không hợp lệ",
                    message_en="invalid coordinate",
                    record_id=str(table.at[idx, id_field]) if id_field in table else "",
                )
            )
        bad |= invalid
        values[axis] = num
    if not geographic and crs_key(spec.crs).startswith("EPSG:"):
        east, north = values["x"], values["y"]
        swapped = (
            ~bad
            & east.between(*VN2000_NORTHING_RANGE)
            & north.between(*VN2000_EASTING_RANGE)
        )
        for idx in table.index[swapped]:
            rejections.append(
                Rejection(
                    file=file,
                    row=int(table.at[idx, "_row"]),
                    field=f"{spec.northing_column}/{spec.easting_column}",
                    value=f"{north[idx]}/{east[idx]}",
                    expected=f"{spec.northing_column} = northing (~2.4 million m), "
                    f"{spec.easting_column} = easting (~0.4-0.5 million m)",
                    message_vi="X và Y có vẻ bị đổi chỗ (X là tọa độ Bắc, Y là tọa độ Đông)",
                    message_en="X and Y look swapped (Vietnamese X = northing, Y = easting)",
                    record_id=str(table.at[idx, id_field]) if id_field in table else "",
                )
            )
        bad |= swapped
    x, y = transform_xy(values["x"].to_numpy(), values["y"].to_numpy(), spec.crs, target)
    finite = np.isfinite(x) & np.isfinite(y)
    for idx in table.index[~finite & ~bad.to_numpy()]:
        rejections.append(
            Rejection(
                file=file,
                row=int(table.at[idx, "_row"]),
                field=f"{x_col}/{y_col}",
                value=f"{table.at[idx, x_col]}/{table.at[idx, y_col]}",
                expected=f"a position the transformation {spec.crs} -> {target} can handle",
                message_vi="không chuyển được tọa độ",
                message_en="the coordinate cannot be transformed",
            )
        )
    bad |= ~finite
    keep = ~bad.to_numpy()
    lonlat = transform_xy(values["x"].to_numpy(), values["y"].to_numpy(), spec.crs, "EPSG:4326")
    out = table.loc[keep].copy()
    out["lon"] = lonlat[0][keep]
    out["lat"] = lonlat[1][keep]
    out["x_vn2000"] = y[keep]  # Vietnamese X = northing
    out["y_vn2000"] = x[keep]  # Vietnamese Y = easting
    return out, shapely.points(x[keep], y[keep]), rejections


def _read_points(
    spec: InputFile, cfg: Config, id_field: str
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    file = _rel(spec.path, cfg)
    table = read_table(spec.path, layer=spec.layer, encoding=spec.encoding)
    target = cfg.working_crs
    if isinstance(table, gpd.GeoDataFrame) and spec.coordinate_columns is None:
        geoms = table.geometry.values
        kinds = set(shapely.get_type_id(geoms[~shapely.is_missing(geoms)]))
        if kinds - {0}:
            raise InputError(
                "tệp không chứa điểm",
                "the file holds lines or polygons where points were expected",
                file=file,
                fix="give a point layer (set 'layer' for multi-layer files)",
                fix_vi="cung cấp lớp điểm (khai báo 'layer' với tệp nhiều lớp)",
            )
        source = spec.crs or table.crs
        if source is None:
            raise InputError(
                "tệp không có hệ tọa độ",
                "the file has no CRS",
                file=file,
                field="crs",
                fix="set 'crs' for this file in geopark.toml",
                fix_vi="khai báo 'crs' cho tệp trong geopark.toml",
            )
        rejections = [
            Rejection(file, int(r), "geometry", "", "a point", "thiếu hình học", "missing geometry")
            for r in table.loc[shapely.is_missing(geoms) | shapely.is_empty(geoms), "_row"]
        ]
        table = table.loc[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        pts = transform_geometries(table.geometry.values, source, target)
        ll = transform_geometries(table.geometry.values, source, "EPSG:4326")
        frame = pd.DataFrame(table.drop(columns=table.geometry.name))
        frame = frame.astype({c: "string" for c in frame.columns if c != "_row"})
        frame["lon"], frame["lat"] = shapely.get_x(ll), shapely.get_y(ll)
        frame["x_vn2000"], frame["y_vn2000"] = shapely.get_y(pts), shapely.get_x(pts)
        return gpd.GeoDataFrame(frame, geometry=pts, crs=target), rejections
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
    frame, pts, rejections = _points_from_columns(
        pd.DataFrame(table), spec, file, target, id_field
    )
    return gpd.GeoDataFrame(frame, geometry=pts, crs=target), rejections


def _validated(
    spec: InputFile, cfg: Config, id_field: str
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    points, rejections = _read_points(spec, cfg, id_field)
    schema = load_schema(spec.schema_) if spec.schema_ else {"fields": []}
    valid, more = validate_table(points, schema, file=_rel(spec.path, cfg), id_field=id_field)
    valid = gpd.GeoDataFrame(valid, geometry=points.geometry.name, crs=points.crs)
    return valid, rejections + more


def ingest_admin_units(cfg: Config) -> pd.DataFrame:
    spec = cfg.inputs.admin_units
    table = read_table(spec.path, encoding=spec.encoding)
    schema = load_schema(spec.schema_) if spec.schema_ else {"fields": []}
    valid, rejections = validate_table(pd.DataFrame(table), schema, file=_rel(spec.path, cfg))
    if rejections:
        r = rejections[0]
        raise InputError(
            "danh mục đơn vị hành chính có lỗi",
            f"the official unit list is invalid: {r.message_en} ({r.value!r}, expected {r.expected})",
            file=r.file,
            row=r.row,
            field=r.field,
            fix="correct the official list; it is the reference every name is matched to",
            fix_vi="sửa danh mục chính thức; mọi tên đều được đối chiếu với nó",
        )
    valid["district_code"] = valid["district_code"].astype(int)
    valid["province_code"] = valid["province_code"].astype(int)
    return valid.drop(columns="_row").reset_index(drop=True)


def _polygons(spec: InputFile, cfg: Config) -> gpd.GeoDataFrame:
    file = _rel(spec.path, cfg)
    table = read_table(spec.path, layer=spec.layer, encoding=spec.encoding)
    if not isinstance(table, gpd.GeoDataFrame) or table.geometry.isna().all():
        raise InputError(
            "tệp không có hình học",
            "the file has no geometries",
            file=file,
            fix="give a polygon layer (GeoJSON, GeoPackage, Shapefile, ...)",
            fix_vi="cung cấp lớp vùng (GeoJSON, GeoPackage, Shapefile, ...)",
        )
    geoms = table.geometry.values
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    not_poly = ~bad & ~np.isin(shapely.get_type_id(geoms), [3, 6])
    for mask, what_en, what_vi in (
        (bad, "empty or missing geometry", "hình học rỗng"),
        (not_poly, "not a polygon", "không phải vùng (polygon)"),
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
    source = spec.crs or table.crs
    if source is None:
        raise InputError(
            "tệp không có hệ tọa độ",
            "the file has no CRS",
            file=file,
            field="crs",
            fix="set 'crs' for this file in geopark.toml",
            fix_vi="khai báo 'crs' cho tệp trong geopark.toml",
        )
    out = table.copy()
    geom = transform_geometries(table.geometry.values, source, cfg.working_crs)
    out = out.set_geometry(gpd.GeoSeries(geom, index=table.index), crs=cfg.working_crs)
    invalid = ~shapely.is_valid(out.geometry.values)
    if invalid.any():
        out.loc[invalid, out.geometry.name] = shapely.make_valid(out.geometry.values[invalid])
    return out


def ingest_districts(
    spec: DistrictsInput, cfg: Config, admin: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read district polygons and give each its official GSO name and code."""
    file = _rel(spec.path, cfg)
    table = _polygons(spec, cfg)
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
    matches = [
        match_name(name, official, alternates=[alt] if alt else [])
        for name, alt in zip(
            table[spec.name_field],
            table[spec.alt_name_field] if spec.alt_name_field in table else [None] * len(table),
            strict=True,
        )
    ]
    notes = []
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
    out = out[[*cols, "geometry"]].sort_values("district_code").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=cfg.working_crs), notes


def ingest_park_extent(cfg: Config) -> gpd.GeoDataFrame:
    """The park extent as one (multi)polygon in the working CRS."""
    table = _polygons(cfg.inputs.park_extent, cfg)
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


def ingest_geosites(
    cfg: Config, admin: pd.DataFrame
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    spec = cfg.inputs.geosites
    sites, rejections = _validated(spec, cfg, "geosite_code")
    official = dict(zip(admin["district_code"], admin["district_name"], strict=True))
    matches = [match_name(d, official) for d in sites["district"]]
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
    sites = sites[[*keep, "geometry"]].sort_values("geosite_code").reset_index(drop=True)
    return gpd.GeoDataFrame(sites, geometry="geometry", crs=cfg.working_crs), rejections


def ingest_survey_points(
    cfg: Config, geosites: gpd.GeoDataFrame, rejected_codes: set[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    frames, rejections = [], []
    known = set(geosites["geosite_code"])
    for spec in cfg.inputs.survey_points:
        points, rej = _validated(spec, cfg, "point_id")
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
                    expected=f"a geosite_code of the register {_rel(cfg.inputs.geosites.path, cfg)}",
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
    dup = points["point_id"].duplicated(keep=False)
    for _, row in points.loc[dup].iterrows():
        rejections.append(
            Rejection(
                file=row["source_file"],
                row=int(row["source_row"]),
                field="point_id",
                value=str(row["point_id"]),
                expected="a point_id used in no other survey file",
                message_vi="mã điểm khảo sát bị trùng giữa các tệp",
                message_en="point_id duplicated across survey files",
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
    points = points[[*keep, "geometry"]].sort_values("point_id").reset_index(drop=True)
    return gpd.GeoDataFrame(points, geometry="geometry", crs=cfg.working_crs), rejections


def ingest(cfg: Config) -> IngestResult:
    """Run the ingest stage.

    Parameters
    ----------
    cfg
        The validated configuration.

    Returns
    -------
    IngestResult
        Valid features in the working CRS and the rejected rows.
    """
    admin = ingest_admin_units(cfg)
    districts, notes = ingest_districts(cfg.inputs.districts, cfg, admin)
    extent = ingest_park_extent(cfg)
    geosites, rejections = ingest_geosites(cfg, admin)
    rejected_codes = {r.record_id for r in rejections if r.record_id}
    points, more = ingest_survey_points(cfg, geosites, rejected_codes)
    return IngestResult(
        geosites=geosites,
        survey_points=points,
        districts=districts,
        park_extent=extent,
        admin_units=admin,
        rejections=rejections + more,
        notes=notes,
    )
