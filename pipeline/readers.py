"""Read input files into tables of raw values, whatever their format.

Supported: delimited text (CSV/TSV/TXT, any of ``, ; TAB |``), Excel
workbooks (``.xlsx``, one sheet), and every vector format GDAL reads through
pyogrio: GeoPackage, GeoJSON, Shapefile (with or without ``.cpg``), GPX
(waypoints by default), KML/KMZ (every folder), MapInfo TAB, ...

Text and Excel values are kept as strings (the contracts decide what is
valid); vector attributes keep GDAL's types. Each table gets a ``_row``
column with the row number a person would look up: the spreadsheet row for
text and Excel (header = row 1), the feature number (from 1) otherwise.

Text in legacy Vietnamese encodings (TCVN3, VNI, Windows-1258) is detected and
converted to Unicode NFC; each conversion is returned as a note for the QA
report. A file that cannot be used raises :class:`InputError` naming the file
and what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from pipeline import legacy_encodings as enc
from pipeline.contracts import HEADER_ROWS
from pipeline.errors import InputError

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
#: Layers read when none is configured (GPX: the handheld's waypoints).
DEFAULT_LAYERS = {".gpx": "waypoints"}
MULTI_LAYER_SUFFIXES = {".kml", ".kmz"}
DELIMITERS = ",;\t|"
#: GDAL's name for the 1:1 byte<->character code page used to get at raw .dbf bytes.
SHAPE_LATIN1 = "ISO-8859-1"


@dataclass
class ReadResult:
    """A table as read, and what was converted on the way."""

    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    encoding: str | None = None


def _fail(path: Path | str, vi: str, en: str, fix: str, fix_vi: str, **kw: Any) -> InputError:
    return InputError(vi, en, file=str(path), fix=fix, fix_vi=fix_vi, **kw)


def _check_file(path: Path, label: str) -> None:
    if path.is_dir():
        raise _fail(
            label,
            "đường dẫn là một thư mục, không phải tệp",
            "the path is a folder, not a file",
            "point 'path' in geopark.toml at the file itself (e.g. .../points.shp, not the folder)",
            "trỏ 'path' trong geopark.toml tới chính tệp (vd. .../points.shp, không phải thư mục)",
            field="path",
        )
    if not path.exists():
        raise _fail(
            label, "không tìm thấy tệp", "file not found", "correct the path", "sửa đường dẫn"
        )
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise _fail(
            label,
            "không mở được tệp",
            f"cannot open the file: {exc.strerror or exc}",
            "check the file's permissions and that no other program locks it",
            "kiểm tra quyền đọc tệp và không có chương trình khác đang khóa tệp",
        ) from None
    if size == 0:
        raise _fail(
            label,
            "tệp rỗng (0 byte)",
            "the file is empty (0 bytes)",
            "export the data again; the file has no content",
            "xuất lại dữ liệu; tệp không có nội dung",
        )


# --- delimited text ---------------------------------------------------------


def _decode(data: bytes, encoding: str | None, label: str) -> tuple[str, str]:
    if enc.looks_binary(data):
        raise _fail(
            label,
            "tệp không phải bảng văn bản (có vẻ là tệp nhị phân)",
            "the file is not a text table (it looks binary)",
            "export the table as CSV (UTF-8), or give the "
            "file its real extension (.xlsx, .gpkg, ...)",
            "xuất bảng dưới dạng CSV (UTF-8), hoặc đặt đúng phần mở rộng (.xlsx, .gpkg, ...)",
            field="encoding",
        )
    if encoding:
        try:
            return enc.decode(data, encoding), encoding
        except (UnicodeDecodeError, LookupError, ValueError) as exc:
            raise _fail(
                label,
                f"không đọc được tệp với bảng mã {encoding}",
                f"cannot decode the file as {encoding}: {exc}",
                "set the right encoding in geopark.toml (utf-8, cp1258, tcvn3, vni) or remove it "
                "to let the pipeline detect it",
                "khai báo đúng bảng mã trong geopark.toml "
                "(utf-8, cp1258, tcvn3, vni) hoặc bỏ đi để "
                "chương trình tự nhận",
                field="encoding",
            ) from None
    return enc.decode_guess(data)


def _sniff(lines: list[str]) -> str:
    header = lines[0]
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _field_count_error(label: str, delimiter: str, vi: str, en: str, row: int | None) -> InputError:
    """A row whose fields do not line up with the header (the fix names the decimal comma)."""
    hint = (
        " A comma inside a number (21,84) splits it in two: use a point, quote the value, "
        "or save with ';' as separator."
        if delimiter == ","
        else ""
    )
    return _fail(
        label,
        vi,
        en,
        "make every row have as many fields as the header; close every quote." + hint,
        "mỗi dòng phải có đủ số cột như dòng tiêu đề; đóng mọi dấu ngoặc kép. Dấu phẩy trong "
        "số (21,84) làm tách cột: dùng dấu chấm, đặt giá trị trong ngoặc kép hoặc lưu với "
        "dấu ';'.",
        row=row,
    )


def _records(
    text: str, delimiter: str, label: str
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and each record with its line number, parsed once.

    A record may end with empty extra fields (a trailing ``,,`` from a
    spreadsheet export); extra fields holding a value are refused, since a
    reader that shifted them would misplace every value after them.
    """
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    try:
        header = next(reader)
        records = []
        for record in reader:
            if len(record) > len(header) and any(v.strip() for v in record[len(header) :]):
                row = reader.line_num
                raise _field_count_error(
                    label,
                    delimiter,
                    f"dòng {row} có {len(record)} cột, dòng tiêu đề có {len(header)}",
                    f"row {row} has {len(record)} fields, the header has {len(header)}",
                    row,
                )
            records.append((reader.line_num, record))
    except csv.Error as exc:
        raise _fail(
            label,
            "không đọc được bảng",
            f"cannot parse the table: {exc}",
            "check that quotes are closed and the file is a plain text table",
            "kiểm tra các dấu ngoặc kép đã đóng và tệp là bảng văn bản thuần",
        ) from None
    return header, records


def read_text_table(
    path: Path, encoding: str | None = None, label: str | None = None
) -> tuple[pd.DataFrame, str]:
    """Read a delimited text file with every value as a string.

    Returns
    -------
    (frame, encoding)
        The table (with ``_row``) and the encoding used.
    """
    label = label or str(path)
    text, used = _decode(path.read_bytes(), encoding, label)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise _fail(
            label,
            "tệp rỗng",
            "the file is empty",
            "export the table again, with its header row",
            "xuất lại bảng, kèm dòng tiêu đề",
        )
    delimiter = _sniff(lines)
    header, records = _records(text, delimiter, label)
    width = len(header)
    frame = pd.DataFrame(
        [record[:width] + [None] * (width - len(record)) for _, record in records],
        columns=[str(c).strip() for c in header],
        dtype=object,
    )
    if len(frame.columns) == 1 and re.search(r"\S\s+\S", frame.columns[0]):
        raise _fail(
            label,
            "chỉ đọc được một cột: không nhận ra dấu phân cách",
            f"only one column ({frame.columns[0]!r}): the separator was not recognised",
            "separate the columns with a comma, semicolon, tab or '|' (spaces are not separators)",
            "phân tách các cột bằng dấu phẩy, chấm phẩy, tab "
            "hoặc '|' (dấu cách không phải dấu phân tách)",
            row=1,
        )
    frame.insert(0, "_row", [line for line, _ in records])
    values = frame.drop(columns="_row")
    empty = (values.apply(lambda col: col.fillna("").str.strip() == "")).all(axis=1)
    return frame.loc[~empty].copy(), used


# --- Excel ------------------------------------------------------------------


def _cell_text(value: Any) -> Any:
    """An Excel cell as the text a person sees (dates as YYYY-MM-DD)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value).strip()


def read_excel_table(path: Path, sheet: str | None, label: str | None = None) -> pd.DataFrame:
    """Read one sheet of an ``.xlsx`` workbook, every value as text."""
    import openpyxl

    label = label or str(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise _fail(
            label,
            "không mở được sổ tính Excel",
            f"cannot open the Excel workbook: {type(exc).__name__}: {exc}",
            "open it in Excel/LibreOffice and save it again as .xlsx",
            "mở bằng Excel/LibreOffice rồi lưu lại dưới dạng .xlsx",
        ) from None
    try:
        names = book.sheetnames
        if sheet is not None and sheet not in names:
            raise _fail(
                label,
                f"không có trang tính '{sheet}'",
                f"the workbook has no sheet {sheet!r} (sheets: {', '.join(names)})",
                f"set 'sheet' in geopark.toml to one of: {', '.join(names)}",
                f"khai báo 'sheet' trong geopark.toml là một trong: {', '.join(names)}",
                field="sheet",
            )
        ws = book[sheet] if sheet is not None else book[names[0]]
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    while rows and all(_cell_text(v) == "" for v in rows[-1]):
        rows.pop()
    if not rows:
        raise _fail(
            label,
            f"trang tính '{ws.title}' trống",
            f"sheet {ws.title!r} is empty",
            "put the header in row 1 and one record per row below it, or choose another 'sheet'",
            "đặt dòng tiêu đề ở dòng 1 và mỗi bản ghi một dòng, hoặc chọn 'sheet' khác",
            field="sheet",
        )
    header = [_cell_text(h) for h in rows[0]]
    while header and header[-1] == "":
        header.pop()
    if not header or any(h == "" for h in header):
        raise _fail(
            label,
            f"dòng tiêu đề của trang '{ws.title}' thiếu tên cột",
            f"the header row of sheet {ws.title!r} has empty column names",
            "put one name per column in row 1 (no merged or blank header cells)",
            "đặt tên cho mỗi cột ở dòng 1 (không gộp ô, không để trống)",
            row=1,
        )
    body = [[_cell_text(v) for v in (r + [None] * len(header))[: len(header)]] for r in rows[1:]]
    frame = pd.DataFrame(body, columns=header, dtype="object").astype("string")
    frame.insert(0, "_row", np.arange(len(frame)) + HEADER_ROWS)
    empty = (frame.drop(columns="_row").fillna("") == "").all(axis=1)
    return frame.loc[~empty].copy()


# --- GDAL vector sources ----------------------------------------------------


def _cpg(path: Path) -> Path | None:
    for suffix in (".cpg", ".CPG"):
        candidate = path.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def _gdal(path: Path, label: str, **kw: Any) -> gpd.GeoDataFrame:
    try:
        return pyogrio.read_dataframe(path, force_2d=True, **kw)
    except Exception as exc:  # GDAL raises many kinds; all mean "cannot read"
        layer = kw.get("layer")
        raise _fail(
            label,
            "GDAL không đọc được tệp",
            f"GDAL cannot read the file: {exc}",
            "check the file opens in QGIS; for multi-layer files set 'layer' in geopark.toml",
            "kiểm tra tệp mở được trong QGIS; với tệp nhiều lớp hãy khai báo 'layer'",
            field=f"layer {layer}" if layer else None,
        ) from None


def _layers(path: Path, label: str) -> list[str]:
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise _fail(
            label,
            "GDAL không đọc được tệp",
            f"GDAL cannot read the file: {exc}",
            "check the file opens in QGIS (or Google Earth for KML/KMZ)",
            "kiểm tra tệp mở được trong QGIS (hoặc Google Earth với KML/KMZ)",
        ) from None


def _string_columns(frame: pd.DataFrame) -> list[str]:
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    return [
        c
        for c in frame.columns
        if c not in ("_row", geom)
        and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]))
    ]


def _shapefile_legacy(
    path: Path, label: str, layer: str | None, encoding: str | None
) -> tuple[gpd.GeoDataFrame, list[str], str]:
    """Read a .shp's .dbf as raw bytes and decode its text in ``encoding``.

    With no ``encoding`` (nobody declared one: no .cpg, nothing in geopark.toml)
    the encoding is guessed from all non-ASCII values together, and a note says so.
    """
    frame = _gdal(path, label, layer=layer, encoding=SHAPE_LATIN1)
    texts = _string_columns(frame)
    raw = {
        c: [
            v.encode("latin-1") if isinstance(v, str) and not v.isascii() else None
            for v in frame[c]
        ]
        for c in texts
    }
    notes: list[str] = []
    if encoding is None:
        found = [b for values in raw.values() for b in values if b is not None]
        if not found:
            return frame, [], "ascii"
        _, encoding = enc.decode_guess(b"\n".join(found))
        notes.append(
            f"{label}: không có tệp .cpg; bảng thuộc tính được nhận là / no .cpg file; the "
            f"attribute table was detected as {enc.LABELS.get(encoding, encoding)} and converted "
            f"to Unicode NFC (columns: {', '.join(texts)}); add a .cpg file to make this explicit"
        )
    for c in texts:
        frame[c] = [
            v if b is None else enc.decode(b, encoding)
            for v, b in zip(frame[c], raw[c], strict=True)
        ]
    return frame, notes, encoding


def _kml_from_kmz(path: Path, tmp: Path, label: str) -> Path:
    try:
        with zipfile.ZipFile(path) as archive:
            docs = [n for n in archive.namelist() if n.lower().endswith(".kml")]
            if not docs:
                raise _fail(
                    label,
                    "tệp KMZ không chứa tài liệu KML",
                    "the KMZ archive holds no KML document",
                    "export the layer again from Google Earth "
                    "(File > Save > Save Place As... .kmz)",
                    "xuất lại lớp từ Google Earth (File > Save > Save Place As... .kmz)",
                )
            main = "doc.kml" if "doc.kml" in docs else docs[0]
            target = tmp / "doc.kml"
            target.write_bytes(archive.read(main))
            return target
    except zipfile.BadZipFile:
        raise _fail(
            label,
            "tệp KMZ bị hỏng (không phải tệp nén zip)",
            "the KMZ file is damaged (not a zip archive)",
            "export the layer again from Google Earth",
            "xuất lại lớp từ Google Earth",
        ) from None


def read_vector(
    path: Path, layer: str | None = None, *, encoding: str | None = None, label: str | None = None
) -> ReadResult:
    """Read a GDAL vector source; values stay as GDAL typed them."""
    label = label or str(path)
    suffix = path.suffix.lower()
    notes: list[str] = []
    used = None
    legacy = enc.legacy_name(encoding)
    if suffix == ".shp" and (legacy or (encoding is None and _cpg(path) is None)):
        frame, notes, used = _shapefile_legacy(path, label, layer, legacy)
    elif suffix == ".kmz":
        # GDAL's LIBKML reader drops typed ExtendedData (SchemaData) inside a KMZ,
        # so read the archive's KML document itself
        with tempfile.TemporaryDirectory() as tmp:
            kml = _kml_from_kmz(path, Path(tmp), label)
            result = read_vector(kml, layer, encoding=encoding, label=label)
        return result
    elif layer is None and suffix in MULTI_LAYER_SUFFIXES:
        names = _layers(path, label)
        layers = [_gdal(path, label, layer=name) for name in names]
        parts = [p for p in layers if len(p)]
        if not parts:
            frame = layers[0] if layers else gpd.GeoDataFrame()
        else:
            frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
        if len(parts) > 1:
            notes.append(
                f"{label}: đọc gộp {len(parts)} thư mục / read "
                f"{len(parts)} folders together: {', '.join(names)}"
            )
    else:
        kw: dict[str, Any] = {"layer": layer or DEFAULT_LAYERS.get(suffix)}
        if encoding:
            kw["encoding"] = encoding
        frame = _gdal(path, label, **kw)
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return ReadResult(frame, notes, used)


def _repair_text(frame: pd.DataFrame, label: str) -> list[str]:
    columns = [
        (c, list(frame[c].astype(object).where(frame[c].notna(), None)))
        for c in _string_columns(frame)
    ]
    fixed, conversions = enc.repair_columns(columns)
    for name, values in fixed.items():
        frame[name] = pd.Series(values, index=frame.index, dtype=frame[name].dtype)
    return [c.describe(label) for c in conversions]


def read_input(
    path: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    label: str | None = None,
) -> ReadResult:
    """Read any supported file as a table, converting legacy text to Unicode.

    Parameters
    ----------
    path
        The file.
    layer, encoding, sheet
        As configured for the input (all optional).
    label
        The file name to use in messages (e.g. relative to the configuration).

    Returns
    -------
    ReadResult
        The table (a GeoDataFrame for vector formats) with ``_row``, and the
        conversions made.

    Raises
    ------
    InputError
        When the file cannot be read, is empty, or holds no rows.
    """
    label = label or str(path)
    path = Path(path)
    _check_file(path, label)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        frame, used = read_text_table(path, encoding, label)
        result = ReadResult(frame, [], used)
        if used not in ("utf-8", "utf-8-sig", "ascii", None) or (encoding and used != encoding):
            result.notes.append(
                f"{label}: tệp văn bản được đọc với bảng mã / text file read as "
                f"{enc.LABELS.get(used, used)} and converted to Unicode NFC"
            )
    elif suffix in EXCEL_SUFFIXES:
        result = ReadResult(read_excel_table(path, sheet, label))
    elif suffix == ".xls":
        raise _fail(
            label,
            "định dạng Excel cũ (.xls) không được hỗ trợ",
            "old Excel format (.xls) is not supported",
            "open it in Excel/LibreOffice and save it as .xlsx (or CSV UTF-8)",
            "mở bằng Excel/LibreOffice rồi lưu dưới dạng .xlsx (hoặc CSV UTF-8)",
        )
    else:
        result = read_vector(path, layer, encoding=encoding, label=label)
    result.notes += _repair_text(result.frame, label)
    if len(result.frame) == 0:
        raise _fail(
            label,
            "tệp không có dòng dữ liệu nào (chỉ có dòng tiêu đề hoặc lớp rỗng)",
            "the file holds no data rows (only a header, or an empty layer)",
            "export the data again with its rows; for "
            "multi-layer files or workbooks check 'layer'/'sheet'",
            "xuất lại dữ liệu kèm các dòng; với tệp nhiều "
            "lớp hoặc sổ tính hãy kiểm tra 'layer'/'sheet'",
            row=2 if suffix in TEXT_SUFFIXES | EXCEL_SUFFIXES else None,
        )
    return result


def read_table(
    path: Path, *, layer: str | None = None, encoding: str | None = None, sheet: str | None = None
) -> pd.DataFrame:
    """Read ``path`` as a table (with a geometry column when the format has one)."""
    return read_input(path, layer=layer, encoding=encoding, sheet=sheet).frame
