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
import warnings
import zipfile
from collections.abc import Callable
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
from pipeline.library_warnings import translate_warnings
from pipeline.progress import Advance, Progress, counted, no_progress
from pipeline.vntext import TextChange, all_text

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
    #: every cell whose text was changed (legacy encodings, normalisation)
    changes: list[TextChange] = field(default_factory=list)


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


def _utf16(data: bytes) -> str | None:
    """The codec of UTF-16 text (Excel's "Unicode Text"), with or without BOM."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    sample = data[:4096]
    if len(sample) >= 4 and len(sample) % 2 == 0:
        even, odd = sample[0::2], sample[1::2]
        # ASCII text in UTF-16 has a NUL in every other byte
        if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return None


def _decode(data: bytes, encoding: str | None, label: str) -> tuple[str, str]:
    wide = _utf16(data)
    if wide and not encoding:
        try:
            return data.decode(wide), wide
        except UnicodeDecodeError:
            pass
    if enc.looks_binary(data) and not (encoding or "").lower().replace("_", "-").startswith(
        "utf-16"
    ):
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


def _first_lines(text: str, n: int) -> list[str]:
    """The first ``n`` non-blank lines of ``text`` (enough to find the separator and header)."""
    lines = []
    for line in io.StringIO(text, newline=None):  # any line ending, as str.splitlines
        if line.strip():
            lines.append(line.rstrip("\r\n"))
            if len(lines) == n:
                break
    return lines


def _sniff(lines: list[str]) -> str:
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        pass
    # the separator found on most of the first lines (a title line may have none)
    counts = {d: sum(1 for ln in lines[:20] if d in ln) for d in DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], lines[0].count(d)))
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


def _records(text: str, delimiter: str, label: str) -> list[list[str]]:
    """Every record of the table, one per spreadsheet row (a quoted cell may span lines)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    try:
        return list(reader)
    except csv.Error as exc:
        raise _fail(
            label,
            "không đọc được bảng",
            f"cannot parse the table: {exc}",
            "check that quotes are closed and the file is a plain text table",
            "kiểm tra các dấu ngoặc kép đã đóng và tệp là bảng văn bản thuần",
            row=reader.line_num,
        ) from None


#: Rows searched for a header that is not on the first row.
HEADER_SEARCH_ROWS = 20


def _looks_like_header(cells: list[str]) -> bool:
    """Distinct names, none of them a number: column names rather than data."""
    names = [c.strip() for c in cells if c.strip()]
    numeric = re.compile(r"^[-+]?[\d\s.,°'\"]+[NSEW]?$")
    return len(set(names)) == len(names) and not any(numeric.match(n) for n in names)


def find_header(
    rows: list[list[str]], header_row: int | None, label: str, field: str = "header_row"
) -> tuple[int, str | None]:
    """The 0-based index of the header row, and a note when it was found below row 1.

    The first row is the header when it is as wide as the widest of the first
    rows. Otherwise the first full row that looks like column names is the
    header when everything above it is blank or a one-cell title; anything
    else is ambiguous and refused, naming the row that looks like the header
    and the ``header_row`` setting.
    """
    if header_row is not None:
        if header_row > len(rows):
            raise _fail(
                label,
                f"header_row = {header_row} nhưng tệp chỉ có {len(rows)} dòng",
                f"header_row = {header_row}, but the file has only {len(rows)} rows",
                "set header_row to the spreadsheet row number of the column names",
                "khai báo header_row là số dòng chứa tên cột",
                field=field,
            )
        return header_row - 1, None
    widths = [sum(1 for c in r if str(c).strip()) for r in rows[:HEADER_SEARCH_ROWS]]
    if not widths or widths[0] >= max(widths):
        return 0, None
    full = max(widths)
    candidate = widths.index(full)
    if not _looks_like_header(rows[candidate]):
        return 0, None
    if all(w <= 1 for w in widths[:candidate]):
        return candidate, (
            f"{label}: dòng tiêu đề là dòng {candidate + 1} (các dòng trên là tiêu đề bảng) / "
            f"the header is row {candidate + 1} (the rows above it are a title); set "
            f"header_row = {candidate + 1} to make this explicit"
        )
    raise _fail(
        label,
        f"dòng 1 không phải dòng tiêu đề; dòng {candidate + 1} có vẻ là dòng tên cột",
        f"row 1 is not the header; row {candidate + 1} looks like the column names "
        f"({', '.join(c for c in rows[candidate] if c.strip())})",
        f"set header_row = {candidate + 1} for this file in geopark.toml (or delete the rows "
        "above the column names)",
        f"khai báo header_row = {candidate + 1} cho tệp này trong geopark.toml (hoặc xóa các "
        "dòng phía trên dòng tên cột)",
        row=candidate + 1,
        field=field,
    )


def _table_records(
    text: str, delimiter: str, label: str, header_row: int | None, notes: list[str] | None
) -> tuple[list[str], list[list[str]], list[int], int]:
    """The header, the non-blank records (short ones filled with ``""``), their
    spreadsheet row numbers, and the header's 0-based row, record by record."""
    rows = _records(text, delimiter, label)
    at, note = find_header(rows, header_row, label)
    if note and notes is not None:
        notes.append(note)
    header = rows[at]
    width = len(header)
    numbers, records = [], []
    for number, record in enumerate(rows[at + 1 :], start=at + 2):
        if len(record) != width:
            if len(record) > width and any(v.strip() for v in record[width:]):
                raise _field_count_error(
                    label,
                    delimiter,
                    f"dòng {number} có {len(record)} cột, dòng tiêu đề có {width}",
                    f"row {number} has {len(record)} fields, the header (row {at + 1}) has {width}",
                    number,
                )
            record = record[:width] + [""] * (width - len(record))
        if "".join(record).strip():  # a row of empty cells is no record
            numbers.append(number)
            records.append(record)
    return header, records, numbers, at


_LONE_CARRIAGE_RETURN = re.compile(r"\r(?!\n)")


class _KilobyteCounter:
    """Turns a reader's position in the text into ``advance`` calls in whole kB."""

    def __init__(self, advance: Advance, total_kb: int) -> None:
        self.advance, self.total_kb, self.done_kb = advance, total_kb, 0

    def at(self, position: int) -> None:
        kb = min(self.total_kb, -(-position // 1024))
        if kb > self.done_kb:
            self.advance(kb - self.done_kb)
            self.done_kb = kb


class _ReportingText(io.StringIO):
    """The text as a file whose reader reports how far it has read (pandas reads in chunks)."""

    def __init__(self, text: str, report: Callable[[int], None]) -> None:
        super().__init__(text)
        self._report = report

    def read(self, size: int | None = -1) -> str:
        chunk = super().read(size)
        self._report(self.tell())
        return chunk


def _arrow_cells(text: str, delimiter: str) -> pd.DataFrame | None:
    """The cells of ``text`` as pandas' C parser reads them (below), by pyarrow's
    multi-threaded CSV reader: a GPS log of a million rows in half the time.

    ``None`` for a text the two could read differently, which pandas then reads:
    a cell starting with a space or a tab (pandas skips them), a blank line,
    any quote character, a row wider or narrower than the first, a single
    column, text that is not UTF-8 (a lone surrogate).
    """
    # Quotes are left to pandas: the two part ways on a quote left open after a
    # quote inside a cell, and a GPS log has none
    if text[:1] in (" ", "\t", "\r", "\n", "\ufeff") or '"' in text:
        return None
    first_line = text.partition("\n")[0]
    width = first_line.count(delimiter) + 1
    if width < 2:
        return None
    if "\n\n" in text or "\n\r\n" in text:
        return None
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    # pyarrow is imported here: only a text table's reading needs it
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    try:
        arrow = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, use_threads=True),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char=False,
                escape_char=False,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                null_values=[],
                true_values=[],
                false_values=[],
                auto_dict_encode=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    for column in arrow.columns:
        # pandas skips the spaces that start a cell (skipinitialspace); pyarrow keeps them
        if any(pc.any(pc.starts_with(column, space)).as_py() for space in (" ", "\t")):
            return None
    return pd.DataFrame(
        {i: column.to_numpy(zero_copy_only=False) for i, column in enumerate(arrow.columns)}
    )


def _pandas_cells(
    text: str, delimiter: str, report: Callable[[int], None] = lambda position: None
) -> pd.DataFrame | None:
    """The cells of ``text`` (every one text, none missing) by pandas' C parser;
    ``None`` when it refuses the text. ``report`` is told how far it has read."""
    try:
        return pd.read_csv(
            _ReportingText(text, report),
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            engine="c",
            quotechar='"',
            doublequote=True,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None


def _parse_with_header_on_row_1(
    text: str, delimiter: str, report: Callable[[int], None] = lambda position: None
) -> tuple[list[str], pd.DataFrame, np.ndarray] | None:
    """:func:`_table_records` by pandas' C parser, for the common table: the header on
    row 1 and no row wider than it. ``None`` for anything else (a title above the
    header, a row too wide, a broken quote, a NUL), which the record-by-record
    reader then reads or explains.

    A GPS log of millions of rows is parsed in a second instead of a minute; both
    readers give the same frame (``tests/test_ingest_fast_paths.py`` compares
    them). ``report`` is told how many characters have been parsed, as it goes.
    """
    if "\x00" in text or _LONE_CARRIAGE_RETURN.search(text):
        return None
    table = _arrow_cells(text, delimiter)
    if table is not None:
        report(len(text))
    else:
        table = _pandas_cells(text, delimiter, report)
    if table is None or not len(table):
        return None
    head = [list(r) for r in table.head(HEADER_SEARCH_ROWS).itertuples(index=False)]
    try:
        at, _ = find_header(head, None, "")
    except InputError:
        return None
    if at != 0:
        return None
    header = list(table.iloc[0])
    body = table.iloc[1:]
    kept = np.zeros(len(body), dtype=bool)
    for column in body.columns:  # most rows are proven records by their first cell
        undecided = np.flatnonzero(~kept)
        if not len(undecided):
            break
        cells = body[column].to_numpy(object)[undecided]
        filled = cells != ""
        if filled.any():
            # a cell of spaces or tabs alone does not make the row a record
            filled[filled] = ~np.strings.isspace(cells[filled].astype(str))
        kept[undecided[filled]] = True
    body = body.loc[kept].reset_index(drop=True)
    body.columns = range(len(header))
    numbers = np.flatnonzero(kept) + 2  # the header is row 1
    return header, body.astype(object), numbers


def read_text_table(
    path: Path,
    encoding: str | None = None,
    label: str | None = None,
    header_row: int | None = None,
    notes: list[str] | None = None,
    progress: Progress = no_progress,
) -> tuple[pd.DataFrame, str]:
    """Read a delimited text file with every value as a string (``progress``: a bar in kB).

    ``_row`` is the spreadsheet row number (as Excel shows the file): a record
    whose quoted cell holds a line break is still one row.

    Returns
    -------
    (frame, encoding)
        The table (with ``_row``) and the encoding used.
    """
    label = label or str(path)
    text, used = _decode(path.read_bytes(), encoding, label)
    lines = _first_lines(text, HEADER_SEARCH_ROWS + 20)
    if not lines:
        raise _fail(
            label,
            "tệp rỗng",
            "the file is empty",
            "export the table again, with its header row",
            "xuất lại bảng, kèm dòng tiêu đề",
        )
    delimiter = _sniff(lines)
    size_kb = -(-len(text) // 1024)
    with counted(progress, f"Đọc {label}", f"Reading {label}", size_kb, "kB") as advance:
        read_kb = _KilobyteCounter(advance, size_kb)
        fast = None
        if header_row in (None, 1):
            fast = _parse_with_header_on_row_1(text, delimiter, read_kb.at)
        if fast is not None:
            header, frame, numbers = fast
            at = 0
        else:
            header, records, numbers, at = _table_records(text, delimiter, label, header_row, notes)
            frame = pd.DataFrame(records, dtype=object, columns=range(len(header)))
        read_kb.at(len(text))
    frame.columns = [str(c).strip() for c in header]
    if len(frame.columns) == 1 and re.search(r"\S\s+\S", frame.columns[0]):
        raise _fail(
            label,
            "chỉ đọc được một cột: không nhận ra dấu phân cách",
            f"only one column ({frame.columns[0]!r}): the separator was not recognised",
            "separate the columns with a comma, semicolon, tab or '|' (spaces are not separators)",
            "phân tách các cột bằng dấu phẩy, chấm phẩy, tab "
            "hoặc '|' (dấu cách không phải dấu phân tách)",
            row=at + 1,
        )
    frame.insert(0, "_row", numbers)
    return frame, used


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


def read_excel_table(
    path: Path,
    sheet: str | None,
    label: str | None = None,
    header_row: int | None = None,
    notes: list[str] | None = None,
) -> pd.DataFrame:
    """Read one sheet of an ``.xlsx`` workbook, every value as text (``_row``: Excel's row)."""
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
    at, note = find_header([[_cell_text(v) for v in r] for r in rows], header_row, label)
    if note and notes is not None:
        notes.append(note)
    header = [_cell_text(h) for h in rows[at]]
    while header and header[-1] == "":
        header.pop()
    if not header or any(h == "" for h in header):
        raise _fail(
            label,
            f"dòng tiêu đề của trang '{ws.title}' thiếu tên cột",
            f"the header row (row {at + 1}) of sheet {ws.title!r} has empty column names",
            f"put one name per column in row {at + 1} (no merged or blank header cells), or "
            "set header_row to the row holding the column names",
            f"đặt tên cho mỗi cột ở dòng {at + 1} (không gộp ô, không để trống), hoặc khai báo "
            "header_row là dòng chứa tên cột",
            row=at + 1,
        )
    body = [
        [_cell_text(v) for v in (r + [None] * len(header))[: len(header)]] for r in rows[at + 1 :]
    ]
    frame = pd.DataFrame(body, columns=header, dtype="object").astype("string")
    frame.insert(0, "_row", np.arange(len(frame)) + at + HEADER_ROWS)
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


def _sidecar(path: Path, suffix: str) -> Path | None:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return None


#: The files that make a shapefile, and what each holds (for messages).
SHAPEFILE_PARTS = {
    ".shp": ("hình học", "the geometries"),
    ".shx": ("chỉ mục hình học", "the geometry index"),
    ".dbf": ("bảng thuộc tính", "the attribute table"),
}


def _check_shapefile(path: Path, label: str) -> None:
    """Every part of a shapefile present and not empty (.prj and .cpg may be absent)."""
    for suffix, (what_vi, what_en) in SHAPEFILE_PARTS.items():
        part = _sidecar(path, suffix)
        if part is None:
            raise _fail(
                label,
                f"shapefile thiếu tệp {path.stem}{suffix} ({what_vi})",
                f"the shapefile lacks its {path.stem}{suffix} file ({what_en})",
                f"copy {path.stem}{suffix} next to {path.name} (a shapefile is several files "
                "with the same name: .shp, .shx, .dbf, .prj, .cpg), or export the layer again "
                "as a GeoPackage",
                f"chép {path.stem}{suffix} vào cùng thư mục với {path.name} (shapefile gồm "
                "nhiều tệp cùng tên: .shp, .shx, .dbf, .prj, .cpg), hoặc xuất lại lớp dạng "
                "GeoPackage",
                field=suffix,
            )
    for suffix in (*SHAPEFILE_PARTS, ".prj", ".cpg"):
        part = _sidecar(path, suffix)
        if part is not None and part.stat().st_size == 0:
            raise _fail(
                label,
                f"tệp {part.name} của shapefile rỗng (0 byte)",
                f"the shapefile's {part.name} is empty (0 bytes)",
                f"copy the complete {part.name} again (the copy was cut off), delete it if it is "
                "a .prj or .cpg you can declare in geopark.toml (crs, encoding), or export the "
                "layer again",
                f"chép lại đầy đủ {part.name} (bản chép bị cắt), xóa nếu là .prj hoặc .cpg có "
                "thể khai báo trong geopark.toml (crs, encoding), hoặc xuất lại lớp",
                field=suffix,
            )


#: Tables QGIS keeps in a GeoPackage beside the data (styles, projects): never a choice.
METADATA_LAYERS = frozenset({"layer_styles", "qgis_projects"})


def _only_layer(path: Path, label: str) -> str | None:
    """Refuse to guess among several layers: name them and the setting that picks one."""
    names = [n for n in _layers(path, label) if n not in METADATA_LAYERS]
    if len(names) > 1:
        listed = ", ".join(f'"{n}"' for n in names)
        raise _fail(
            label,
            f"tệp có {len(names)} lớp: {listed}; chưa chọn lớp nào",
            f"the file holds {len(names)} layers: {listed}; none is chosen",
            f'set layer = "..." for this file in geopark.toml, e.g. layer = "{names[0]}"',
            f'khai báo layer = "..." cho tệp này trong geopark.toml, vd. layer = "{names[0]}"',
            field="layer",
        )
    return names[0] if names else None


def _gpx_without_waypoints(path: Path, label: str) -> InputError:
    """A GPX whose waypoint layer is empty: say what it holds instead."""
    counts = {str(name): 0 for name, _ in pyogrio.list_layers(path)}
    for name in counts:
        try:
            counts[name] = int(
                pyogrio.read_info(path, layer=name, force_feature_count=True)["features"]
            )
        except Exception:  # a layer GDAL cannot count holds nothing usable here
            counts[name] = 0
    held = {n: c for n, c in counts.items() if c > 0}
    found = ", ".join(f"{n} ({c})" for n, c in held.items()) or "nothing"
    return _fail(
        label,
        f"tệp GPX không có điểm đánh dấu (waypoint); tệp chỉ có: {found}",
        f"the GPX file has no waypoints; it holds: {found}",
        "mark the survey points as waypoints on the GPS unit and export again; a track or "
        'route is a line, not survey points (layer = "track_points" reads every logged '
        "position, rarely what is wanted)",
        "đánh dấu các điểm khảo sát là waypoint trên máy GPS rồi xuất lại; track/route là "
        'đường đi, không phải điểm khảo sát (layer = "track_points" đọc mọi vị trí đã ghi)',
        field="layer",
    )


def read_vector(
    path: Path, layer: str | None = None, *, encoding: str | None = None, label: str | None = None
) -> ReadResult:
    """Read a GDAL vector source; values stay as GDAL typed them."""
    label = label or str(path)
    suffix = path.suffix.lower()
    notes: list[str] = []
    used = None
    legacy = enc.legacy_name(encoding)
    if suffix == ".shp":
        _check_shapefile(path, label)
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
        if layer is None and suffix not in DEFAULT_LAYERS:
            layer = _only_layer(path, label)
        kw: dict[str, Any] = {"layer": layer or DEFAULT_LAYERS.get(suffix)}
        if encoding:
            kw["encoding"] = encoding
        frame = _gdal(path, label, **kw)
        if suffix == ".gpx" and layer is None and not len(frame):
            raise _gpx_without_waypoints(path, label)
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return ReadResult(frame, notes, used)


def _cells_or_none(column: pd.Series) -> list[object]:
    """A column's cells, missing ones as ``None`` (a text file's column has none)."""
    cells = column.to_numpy(dtype=object)
    if all_text(cells):
        return cells.tolist()
    return list(column.astype(object).where(column.notna(), None))


def _repair_text(frame: pd.DataFrame, label: str) -> tuple[list[str], list[TextChange]]:
    """Re-decode columns read through the wrong code page; a note per column, a change per cell."""
    columns = [(c, _cells_or_none(frame[c])) for c in _string_columns(frame)]
    fixed, conversions = enc.repair_columns(columns)
    before = dict(columns)
    changes = []
    for conversion in conversions:
        name, code = conversion.column, enc.LABELS.get(conversion.encoding, conversion.encoding)
        changes += [
            TextChange(
                label,
                int(row),
                str(name),
                str(old),
                str(new),
                f"chuyển từ bảng mã {code} sang Unicode",
                f"converted from {code} to Unicode",
            )
            for row, old, new in zip(frame["_row"], before[name], fixed[name], strict=True)
            if old != new
        ]
    for name, values in fixed.items():
        frame[name] = pd.Series(values, index=frame.index, dtype=frame[name].dtype)
    return [c.describe(label) for c in conversions], changes


def read_input(
    path: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    label: str | None = None,
    progress: Progress = no_progress,
) -> ReadResult:
    """Read any supported file as a table, converting legacy text to Unicode.

    Warnings of the libraries underneath (GDAL through pyogrio, openpyxl) are
    caught here and become notes in the user's terms (:mod:`pipeline.library_warnings`).

    Parameters
    ----------
    path
        The file.
    layer, encoding, sheet, header_row
        As configured for the input (all optional).
    label
        The file name to use in messages (e.g. relative to the configuration).
    progress
        Shows a bar while a text table is parsed.

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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _read_any(path, layer, encoding, sheet, header_row, label, progress)
    result.notes += translate_warnings(caught, label)
    return result


def _read_any(
    path: Path,
    layer: str | None,
    encoding: str | None,
    sheet: str | None,
    header_row: int | None,
    label: str,
    progress: Progress = no_progress,
) -> ReadResult:
    _check_file(path, label)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        notes: list[str] = []
        frame, used = read_text_table(path, encoding, label, header_row, notes, progress)
        result = ReadResult(frame, notes, used)
        if used not in ("utf-8", "utf-8-sig", "ascii", None) or (encoding and used != encoding):
            result.notes.append(
                f"{label}: tệp văn bản được đọc với bảng mã / text file read as "
                f"{enc.LABELS.get(used, used)} and converted to Unicode NFC"
            )
    elif suffix in EXCEL_SUFFIXES:
        notes = []
        result = ReadResult(read_excel_table(path, sheet, label, header_row, notes), notes)
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
    repaired, changes = _repair_text(result.frame, label)
    result.notes += repaired
    result.changes += changes
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
