"""Marker tables for a decision's annex: one CSV and one XLSX per zoning unit.

Rows follow each boundary (Zone I, then Zone II; ring by ring, clockwise from
the northernmost marker); columns: zone, marker, X (northing) and Y (easting)
in VN-2000 metres, latitude and longitude in WGS 84 degrees. The header is
bilingual; the CSV is UTF-8 with a byte-order mark so spreadsheet programs
show the Vietnamese correctly.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.xlsx import Column, sheet_name, write_table

#: (column of boundary_markers, header, decimals)
TABLE_COLUMNS: list[tuple[str, str, int | None]] = [
    ("zone_class", "Vùng / Zone", None),
    ("label", "Số hiệu mốc / Marker", None),
    ("x_vn2000", "X (m) VN-2000 – bắc / northing", 2),
    ("y_vn2000", "Y (m) VN-2000 – đông / easting", 2),
    ("lat", "Vĩ độ / Latitude (WGS 84, °)", 7),
    ("lon", "Kinh độ / Longitude (WGS 84, °)", 7),
]


def _unit_rows(markers: pd.DataFrame) -> pd.DataFrame:
    return markers.sort_values(["unit_code", "zone_class", "ring", "seq"], kind="stable")


def _text_columns(rows: pd.DataFrame) -> list[list[str]]:
    """The table's cells as text, column by column (decimals fixed per column)."""
    return [
        rows[col].astype(str).tolist()
        if digits is None
        else [f"{v:.{digits}f}" for v in rows[col].to_numpy(float)]
        for col, _, digits in TABLE_COLUMNS
    ]


def _value_columns(rows: pd.DataFrame) -> list[list[object]]:
    """The table's cells as spreadsheet values: text, or numbers rounded per column."""
    return [
        rows[col].astype(str).tolist()
        if digits is None
        else rows[col].to_numpy(float).round(digits).tolist()
        for col, _, digits in TABLE_COLUMNS
    ]


def write_unit_csv(markers: pd.DataFrame, path: Path) -> None:
    """The marker table of one unit as CSV (``markers``: its rows of ``boundary_markers``)."""
    _write_csv(_text_columns(_unit_rows(markers)), path)


def _write_csv(columns: list[list[str]], path: Path) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([head for _, head, _ in TABLE_COLUMNS])
        writer.writerows(zip(*columns, strict=True))


def write_unit_xlsx(markers: pd.DataFrame, path: Path, unit_code: str) -> None:
    """The marker table of one unit as an Excel workbook (numbers stay numbers)."""
    _write_xlsx(_value_columns(_unit_rows(markers)), path, unit_code)


#: The workbook's columns (:data:`TABLE_COLUMNS`): text, or numbers shown to their decimals.
_SHEET_COLUMNS = [
    Column(head, max(12, len(head) + 2), None if digits is None else "0." + "0" * digits)
    for _, head, digits in TABLE_COLUMNS
]


def _write_xlsx(columns: list[list[object]], path: Path, unit_code: str) -> None:
    # text stays text: a value starting with "=" is never made a formula
    write_table(path, sheet_name(unit_code), _SHEET_COLUMNS, columns)


def write_marker_tables(markers: pd.DataFrame, directory: Path) -> list[Path]:
    """``<unit_code>.csv`` and ``<unit_code>.xlsx`` for every unit in ``markers``.

    Written in one process: ``geopark zones`` already writes them alongside the
    GeoPackage (:func:`pipeline.parallel.alongside`), and 150,000 markers take
    about three seconds.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rows = _unit_rows(markers).reset_index(drop=True)
    units = rows["unit_code"].astype(str).to_numpy()
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]]) if len(units) else []
    ends = np.r_[starts[1:], len(units)] if len(units) else []
    text, values = _text_columns(rows), _value_columns(rows)
    tables = [
        (str(units[lo]), [c[lo:hi] for c in text], [c[lo:hi] for c in values])
        for lo, hi in zip(starts, ends, strict=True)
    ]
    for unit, unit_text, unit_values in tables:
        _write_csv(unit_text, directory / f"{unit}.csv")
        _write_xlsx(unit_values, directory / f"{unit}.xlsx", unit)
    return [directory / f"{unit}{suffix}" for unit, _, _ in tables for suffix in (".csv", ".xlsx")]
