"""Boundaries: the official unit list, the district polygons and the park extent.

District polygons are matched by name to the official GSO list
(``admin_units``), whatever the spelling or encoding of the source; invalid
polygons are repaired only when the repair barely changes their area.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import Config, DistrictsInput, InputFile
from pipeline.contracts import validate_table
from pipeline.crs import transform_geometries
from pipeline.errors import InputError
from pipeline.ingest.core import (
    as_layer,
    as_text,
    file_label,
    map_columns,
    read,
    schema_of,
    source_crs,
)
from pipeline.ingest.crs_checks import check_numbers
from pipeline.vntext import TextChange, match_name, to_nfc


def ingest_admin_units(cfg: Config, changes: list[TextChange] | None = None) -> pd.DataFrame:
    """The official GSO unit list every district name is matched to."""
    spec = cfg.inputs.admin_units
    file, result = read(spec, cfg)
    if changes is not None:
        changes += result.changes
    schema = schema_of(spec)
    table = as_text(
        pd.DataFrame(result.frame).drop(columns="geometry", errors="ignore"), schema, file, []
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


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Only the polygon parts of a geometry (make_valid may add lines or points)."""
    parts = [g for g in shapely.get_parts(geom) if shapely.get_type_id(g) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _feature(table: pd.DataFrame, row: int, spec: InputFile) -> tuple[str, str]:
    """A feature as the user knows it: by its name when it has one, with its number."""
    column = getattr(spec, "name_field", None) or "name"
    if column in table.columns:
        value = table.loc[table["_row"] == row, column].iloc[0]
        if isinstance(value, str) and value.strip():
            return f"'{value}' (đối tượng {row})", f"'{value}' (feature {row})"
    return f"đối tượng {row}", f"feature {row}"


def _repair(
    table: gpd.GeoDataFrame, file: str, cfg: Config, notes: list[str], spec: InputFile
) -> gpd.GeoDataFrame:
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
        name_vi, name_en = _feature(table, row, spec)
        if shapely.is_empty(repaired) or change > limit:
            raise InputError(
                f"{name_vi}: vùng không hợp lệ ({reason}); sửa tự động sẽ làm diện tích "
                f"thay đổi {change:.3g} % (giới hạn {limit:g} %)",
                f"{name_en}: invalid polygon ({reason}); an automatic repair would change its "
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
            f"{file} {name_vi} / {name_en}: vùng không "
            "hợp lệ đã được sửa / invalid polygon repaired "
            f"({reason}); diện tích thay đổi / area changed by {change:.4f} % "
            f"({before / 1e4:,.2f} ha -> {after / 1e4:,.2f} ha)"
        )
    out = table.copy()
    out[table.geometry.name] = gpd.GeoSeries(fixed, index=table.index, crs=table.crs)
    return out


def _polygons(
    spec: InputFile,
    cfg: Config,
    notes: list[str] | None = None,
    changes: list[TextChange] | None = None,
) -> gpd.GeoDataFrame:
    """Read a polygon input, refuse what is not a polygon, repair and place it."""
    notes = [] if notes is None else notes
    file, result = read(spec, cfg)
    notes += result.notes
    if changes is not None:
        changes += result.changes
    table = map_columns(result.frame, spec, file, notes)
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
            name_vi, name_en = _feature(table, row, spec)
            raise InputError(
                f"{name_vi}: {what_vi}",
                f"{name_en}: {what_en}",
                file=file,
                row=row,
                field="geometry",
                fix="fix or remove the feature in QGIS and export again",
                fix_vi="sửa hoặc xóa đối tượng trong QGIS rồi xuất lại",
            )
    source = source_crs(spec, table, file)
    xy = shapely.get_coordinates(geoms)
    check_numbers(xy[:, 0], xy[:, 1], source, file, cfg)
    out = table.copy()
    geom = transform_geometries(table.geometry.values, source, cfg.working_crs)
    out = out.set_geometry(gpd.GeoSeries(geom, index=table.index), crs=cfg.working_crs)
    return _repair(out, file, cfg, notes, spec)


def ingest_districts(
    spec: DistrictsInput,
    cfg: Config,
    admin: pd.DataFrame,
    changes: list[TextChange] | None = None,
) -> tuple[gpd.GeoDataFrame, list[str]]:
    """Read district polygons and give each its official GSO name and code."""
    file = file_label(spec.path, cfg)
    notes: list[str] = []
    table = _polygons(spec, cfg, notes, changes)
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
    return as_layer(out, cols, "district_code", cfg), notes


def ingest_park_extent(
    cfg: Config, notes: list[str] | None = None, changes: list[TextChange] | None = None
) -> gpd.GeoDataFrame:
    """The park extent as one (multi)polygon in the working CRS."""
    table = _polygons(cfg.inputs.park_extent, cfg, notes, changes)
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
