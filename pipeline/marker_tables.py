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

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

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
    return markers.sort_values(["zone_class", "ring", "seq"])


def write_unit_csv(markers: pd.DataFrame, path: Path) -> None:
    """The marker table of one unit as CSV (``markers``: its rows of ``boundary_markers``)."""
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([head for _, head, _ in TABLE_COLUMNS])
        for _, row in _unit_rows(markers).iterrows():
            writer.writerow(
                [
                    row[col] if digits is None else f"{float(row[col]):.{digits}f}"
                    for col, _, digits in TABLE_COLUMNS
                ]
            )


def write_unit_xlsx(markers: pd.DataFrame, path: Path, unit_code: str) -> None:
    """The marker table of one unit as an Excel workbook (numbers stay numbers)."""
    book = Workbook()
    sheet = book.active
    sheet.title = unit_code[:31]
    sheet.append([head for _, head, _ in TABLE_COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for _, row in _unit_rows(markers).iterrows():
        sheet.append(
            [
                str(row[col]) if digits is None else round(float(row[col]), digits)
                for col, _, digits in TABLE_COLUMNS
            ]
        )
    for index, (_, head, digits) in enumerate(TABLE_COLUMNS, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(head) + 2)
        if digits is not None:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0." + "0" * digits
    sheet.freeze_panes = "A2"
    book.save(path)


def write_marker_tables(markers: pd.DataFrame, directory: Path) -> list[Path]:
    """``<unit_code>.csv`` and ``<unit_code>.xlsx`` for every unit in ``markers``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for unit, rows in markers.groupby("unit_code", sort=True):
        csv_path, xlsx_path = directory / f"{unit}.csv", directory / f"{unit}.xlsx"
        write_unit_csv(rows, csv_path)
        write_unit_xlsx(rows, xlsx_path, str(unit))
        written += [csv_path, xlsx_path]
    return written
