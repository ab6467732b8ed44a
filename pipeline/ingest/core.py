"""The shared ingest path: read a configured input, map its columns, give its text.

Every input kind (register, survey points, boundaries, assessment) goes
through the same steps: :func:`read` the file as configured (format,
layer, sheet, encoding), copy the configured source columns to their
contract names (:func:`map_columns`), and turn attribute values into text
(:func:`as_text`) before the contract validates them. Placing rows in the
working CRS is in :mod:`pipeline.ingest.places` (points) and
:mod:`pipeline.ingest.boundaries` (polygons).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from pipeline.config import Config, InputFile
from pipeline.contracts import Rejection, load_schema
from pipeline.errors import InputError
from pipeline.ingest.crs_checks import check_declared_crs
from pipeline.progress import Advance, Progress, counted, no_advance, no_progress
from pipeline.readers import ReadResult, read_input
from pipeline.vntext import TextChange, all_text, normalise_cells

#: Local time of the field teams, for dates taken from GPS timestamps.
LOCAL_TZ = "Asia/Ho_Chi_Minh"


def file_label(path: Path, cfg: Config) -> str:
    """The file name used in messages: relative to the configuration when possible."""
    base = cfg.source.parent if cfg.source else Path.cwd()
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path)


def record_id(table: pd.DataFrame, idx: object, id_field: str) -> str:
    """The identifier of one row, for rejections ("" when the table has none)."""
    if id_field not in table:
        return ""
    value = table.at[idx, id_field]
    return "" if pd.isna(value) else str(value)


def read(spec: InputFile, cfg: Config, progress: Progress = no_progress) -> tuple[str, ReadResult]:
    """Read one configured input; the file name for messages and what was read.

    The text of every column the input uses (its contract's fields, the
    columns mapped to them, a district name field) is normalised on the way
    (:data:`pipeline.vntext.NORMALISERS`); each changed cell is a
    :class:`~pipeline.vntext.TextChange` in ``ReadResult.changes``.
    """
    file = file_label(spec.path, cfg)
    result = read_input(
        spec.path,
        layer=spec.layer,
        encoding=spec.encoding,
        sheet=spec.sheet,
        header_row=spec.header_row,
        label=file,
        progress=progress,
    )
    result.frame = match_truncated_names(result.frame, spec, file, result.notes)
    columns = used_columns(spec, result.frame)
    with counted(
        progress,
        f"Chuẩn hoá văn bản {file}",
        f"Normalising the text of {file}",
        len(result.frame) * len(columns),
        "ô/cells",
    ) as advance:
        result.changes += normalise_text(result.frame, columns, file, advance)
    return file, result


def used_columns(spec: InputFile, table: pd.DataFrame) -> list[str]:
    """The columns of ``table`` an input's contract and configuration use."""
    wanted = [f["name"] for f in schema_of(spec).get("fields", [])]
    wanted += list(spec.columns.values())
    wanted += [getattr(spec, key, None) for key in ("name_field", "alt_name_field")]
    return [c for c in dict.fromkeys(wanted) if c in table.columns]


def normalise_text(
    table: pd.DataFrame, columns: list[str], file: str, advance: Advance = no_advance
) -> list[TextChange]:
    """Normalise the text cells of ``columns`` in place; every changed cell, listed.

    ``advance(n)`` is told of every ``n`` cells done (a column at a time).
    """
    changes: list[TextChange] = []
    for col in columns:
        advance(len(table))
        series = table[col]
        if not (series.dtype == object or pd.api.types.is_string_dtype(series)):
            continue
        values = series.to_numpy(dtype=object)
        if not all_text(values):
            values = [None if v is None or v is pd.NA else v for v in values]
        new, changed = normalise_cells(values, table["_row"].tolist(), file=file, field=str(col))
        if changed:
            table[col] = pd.Series(new, index=table.index, dtype=series.dtype)
            changes += changed
    return changes


#: Longest field name a shapefile (dBASE) can hold; longer names are cut.
DBF_NAME_LENGTH = 10


def match_truncated_names(
    table: pd.DataFrame, spec: InputFile, file: str, notes: list[str]
) -> pd.DataFrame:
    """Give contract fields cut to 10 characters (``survey_dat``) their full name.

    A column is renamed only when its name is the first 10 characters of
    exactly one contract field that the table lacks and ``columns`` does not
    map; each renaming is a note for the QA report.
    """
    fields = [f["name"] for f in schema_of(spec).get("fields", [])]
    missing = [
        f
        for f in fields
        if f not in table.columns and f not in spec.columns and len(f) > DBF_NAME_LENGTH
    ]
    renames = {}
    for col in table.columns:
        name = str(col)
        if len(name) != DBF_NAME_LENGTH or name in fields:
            continue
        hits = [f for f in missing if f[:DBF_NAME_LENGTH].lower() == name.lower()]
        if len(hits) == 1:
            renames[col] = hits[0]
    if not renames:
        return table
    notes.append(
        f"{file}: tên trường bị cắt còn 10 ký tự được ghép với lược đồ / field names cut to "
        "10 characters matched to the contract: "
        + ", ".join(f"{a} -> {b}" for a, b in renames.items())
    )
    return table.rename(columns=renames)


def schema_of(spec: InputFile) -> dict:
    """The input's contract (an empty one when none is configured)."""
    return load_schema(spec.schema_) if spec.schema_ else {"fields": []}


def source_crs(spec: InputFile, table: pd.DataFrame, file: str) -> object:
    """The CRS of a vector input: as configured, else as the file declares it."""
    source = spec.crs or getattr(table, "crs", None)
    if source is None and spec.path.suffix.lower() == ".shp":
        raise InputError(
            f"shapefile thiếu tệp {spec.path.stem}.prj (hệ tọa độ)",
            f"the shapefile lacks its {spec.path.stem}.prj file (its CRS)",
            file=file,
            field="crs",
            fix=f"copy {spec.path.stem}.prj next to {spec.path.name}, or set 'crs' for this file "
            'in geopark.toml (e.g. crs = "EPSG:9215" for VN-2000 / TM-3 107°15′)',
            fix_vi=f"chép {spec.path.stem}.prj vào cùng thư mục, hoặc khai báo 'crs' cho tệp "
            'trong geopark.toml (vd. crs = "EPSG:9215" cho VN-2000 / TM-3 107°15′)',
        )
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
    if spec.crs is None:
        check_declared_crs(source, file)
    return source


def text_order(values: pd.Series) -> np.ndarray:
    """The positions that sort ``values`` (text) by code point, ties in their order.

    A GPS log has a million point identifiers: numpy sorts them as fixed-width
    text three times faster than pandas sorts Python strings. Text numpy
    cannot hold faithfully (a NUL character, which it drops at the end) and
    missing values take pandas' way, which gives the same order.
    """
    cells = values.to_numpy(dtype=object)
    plain = pd.api.types.infer_dtype(cells, skipna=False) == "string"
    if plain and not any("\x00" in v for v in cells):
        return np.argsort(np.asarray(cells, dtype=str), kind="stable")
    return np.asarray(values.reset_index(drop=True).sort_values(kind="stable").index)


def as_layer(
    frame: pd.DataFrame, columns: list[str], sort_by: str, cfg: Config
) -> gpd.GeoDataFrame:
    """An ingested layer: its columns and geometry, sorted, in the working CRS."""
    out = frame[[*columns, "geometry"]]
    out = out.iloc[text_order(out[sort_by])].reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=cfg.working_crs)


def map_columns(table: pd.DataFrame, spec: InputFile, file: str, notes: list[str]) -> pd.DataFrame:
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


def as_text(table: pd.DataFrame, schema: dict, file: str, notes: list[str]) -> pd.DataFrame:
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


def unknown_geosite(
    file: str,
    row: int,
    code: object,
    record: str,
    register_file: str,
    held: dict[str, str],
    **where: float,
) -> Rejection:
    """A row naming a geosite the register lacks, or whose register row was rejected.

    In the second case the row is a consequence of that rejection: its
    ``cause`` names the register row (``held[code]``), under which the QA
    report lists it.
    """
    cause = held.get(str(code), "")
    return Rejection(
        file=file,
        row=row,
        field="geosite_code",
        value=str(code),
        expected=f"a geosite_code of the register {register_file}",
        message_vi=f"hệ quả: dòng đăng ký của điểm di sản {code} bị loại ({cause})"
        if cause
        else "mã điểm di sản không có trong danh mục",
        message_en=f"consequence: the register row of geosite {code} was rejected ({cause})"
        if cause
        else "geosite code not in the register",
        record_id=record,
        cause=cause,
        **where,
    )
