"""Read input files into tables of raw values, whatever their format.

CSV/TXT go through pandas with every value kept as text (the contracts decide
what is valid); any other vector format goes through GDAL via pyogrio. Each
table gets a ``_row`` column with the row number a person would look up: the
spreadsheet row for delimited text (header = row 1), the feature number
(from 1) otherwise.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from pipeline.contracts import HEADER_ROWS
from pipeline.errors import InputError

TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
#: Encodings tried in order when a text file does not say (Windows-1258 is
#: the Vietnamese Windows code page; latin-1 never fails and comes last).
FALLBACK_ENCODINGS = ("utf-8-sig", "cp1258")


def _decode(path: Path, encoding: str | None) -> tuple[str, str]:
    data = path.read_bytes()
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(
                f"không đọc được tệp với bảng mã {encoding}",
                f"cannot decode the file as {encoding}: {exc}",
                file=str(path),
                field="encoding",
                fix="set the right encoding in geopark.toml (utf-8, cp1258, ...)",
                fix_vi="khai báo đúng bảng mã trong geopark.toml (utf-8, cp1258, ...)",
            ) from None
    for enc in FALLBACK_ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise InputError(
        "không nhận ra bảng mã của tệp",
        "cannot tell the file's text encoding",
        file=str(path),
        field="encoding",
        fix="save the file as UTF-8, or set 'encoding' for it in geopark.toml",
        fix_vi="lưu tệp dưới dạng UTF-8, hoặc khai báo 'encoding' trong geopark.toml",
    )


def read_text_table(path: Path, encoding: str | None = None) -> tuple[pd.DataFrame, str]:
    """Read a delimited text file with every value as a string."""
    text, used = _decode(path, encoding)
    if not text.strip():
        raise InputError(
            "tệp rỗng",
            "the file is empty",
            file=str(path),
            fix="export the table again, with its header row",
            fix_vi="xuất lại bảng, kèm dòng tiêu đề",
        )
    sample = text[:20000]
    try:
        delimiter = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            na_values=[],
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(
            "không đọc được bảng",
            f"cannot parse the table: {exc}",
            file=str(path),
            fix="check that every row has as many fields as the header and quotes are closed",
            fix_vi="kiểm tra mỗi dòng có đủ số cột như dòng tiêu đề và dấu ngoặc kép đã đóng",
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.insert(0, "_row", frame.index + HEADER_ROWS)
    return frame, used


def read_vector(path: Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read any GDAL vector source; values stay as GDAL typed them."""
    try:
        frame = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:  # GDAL raises many kinds; all mean "cannot read"
        raise InputError(
            "GDAL không đọc được tệp",
            f"GDAL cannot read the file: {exc}",
            file=str(path),
            field=f"layer {layer}" if layer else None,
            fix="check the file opens in QGIS; for multi-layer files set 'layer' in geopark.toml",
            fix_vi="kiểm tra tệp mở được trong QGIS; với tệp nhiều lớp hãy khai báo 'layer'",
        ) from None
    frame.insert(0, "_row", range(1, len(frame) + 1))
    return frame


def read_table(path: Path, *, layer: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read ``path`` as a table (with a geometry column when the format has one)."""
    if path.suffix.lower() in TEXT_SUFFIXES:
        frame, _ = read_text_table(path, encoding)
        return frame
    return read_vector(path, layer)
