"""The one-table Excel writer (pipeline/xlsx.py), read back by two independent readers."""

from __future__ import annotations

import math
import zipfile
from xml.etree import ElementTree

import pyogrio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from pipeline.xlsx import Column, sheet_name, write_table

COLUMNS = [
    Column("Vùng / Zone", 14),
    Column("Số hiệu mốc / Marker", 22),
    Column("X (m) VN-2000", 16, "0.00"),
    Column("Vĩ độ / Latitude (°)", 20, "0.0000000"),
]


def _values() -> list[list[object]]:
    return [
        ["I", "I", "II"],
        ["I-1", "I-2", "II-1"],
        [2374000.126, 2374010.5, 2374999.99],
        [21.4567891, 21.4567999, 21.46],
    ]


def test_openpyxl_reads_header_numbers_formats_and_the_frozen_row(tmp_path) -> None:
    path = tmp_path / "t.xlsx"
    write_table(path, "LS-CL-03", COLUMNS, _values())
    sheet = load_workbook(path).active
    assert sheet.title == "LS-CL-03" and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [c.header for c in COLUMNS]
    assert [list(r) for r in rows[1:]] == [list(r) for r in zip(*_values(), strict=True)]
    assert all(cell.font.b for cell in sheet[1])
    assert [sheet.cell(2, c).number_format for c in (1, 3, 4)] == ["@", "0.00", "0.0000000"]
    assert sheet.column_dimensions["B"].width == pytest.approx(22)


def test_gdal_reads_the_same_table(tmp_path) -> None:
    """GDAL's XLSX driver, a second reader written apart from openpyxl, sees the same cells."""
    path = tmp_path / "t.xlsx"
    write_table(path, "LS-CL-03", COLUMNS, _values())
    pyogrio.set_gdal_config_options({"OGR_XLSX_HEADERS": "FORCE"})
    try:
        frame = pyogrio.read_dataframe(path, layer="LS-CL-03")
    finally:
        pyogrio.set_gdal_config_options({"OGR_XLSX_HEADERS": None})
    assert list(frame.columns) == [c.header for c in COLUMNS]
    assert frame.iloc[:, 1].tolist() == _values()[1]
    assert frame.iloc[:, 2].tolist() == pytest.approx(_values()[2])
    assert frame.iloc[:, 3].tolist() == pytest.approx(_values()[3])


def test_every_part_is_well_formed_xml_and_the_file_is_reproducible(tmp_path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_table(first, "x", COLUMNS, _values())
    write_table(second, "x", COLUMNS, _values())
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            ElementTree.fromstring(archive.read(name))  # raises on malformed XML


def test_hostile_text_stays_text_and_cannot_reach_the_markup(tmp_path) -> None:
    """Text an attacker chose: formulas, markup, the writer's own row placeholder, format
    fields, characters XML cannot hold. All of it comes back as text, none of it acts."""
    hostile = [
        '=HYPERLINK("http://x")',
        '<x a="1">&amp;</x>',
        "<R>",
        "{row}{0.__class__}",
        "a\x00b\x1fc",
        "  edge spaces  ",
    ]
    path = tmp_path / "t.xlsx"
    write_table(
        path,
        'KS-1]"/><x>*?',
        [Column("text", 10), Column("n", 8, "0.00")],
        [hostile, [1.0] * len(hostile)],
    )
    sheet = load_workbook(path).active
    assert sheet.title == sheet_name('KS-1]"/><x>*?') == "KS-1_____x___"
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [*hostile[:4], "abc", "  edge spaces  "]
    assert all(c.data_type == "s" for c in cells)  # never a formula
    assert [row[0].row for row in sheet.iter_rows(min_row=2)] == list(range(2, 8))


def test_missing_and_non_finite_numbers_leave_the_cell_empty(tmp_path) -> None:
    path = tmp_path / "t.xlsx"
    write_table(
        path,
        "s",
        [Column("t", 5), Column("n", 5, "0.00")],
        [["a", None, "c"], [1.5, math.nan, math.inf]],
    )
    rows = list(load_workbook(path).active.iter_rows(min_row=2, values_only=True))
    assert [list(r) for r in rows] == [["a", 1.5], [None, None], ["c", None]]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(codec="utf-8"), max_size=12),
            st.floats(allow_nan=False, allow_infinity=False, width=64),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_any_text_and_number_round_trip(tmp_path_factory, rows) -> None:
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    texts, numbers = [t for t, _ in rows], [n for _, n in rows]
    write_table(path, "s", [Column("t", 5), Column("n", 5, "0.00")], [texts, numbers])
    read = list(load_workbook(path).active.iter_rows(min_row=2, max_row=len(rows) + 1))
    for (text, number), (t_cell, n_cell) in zip(rows, read, strict=True):
        kept = "".join(
            ch
            for ch in text
            if not (
                (ord(ch) < 0x20 and ch not in "\t\n\r")
                or 0xD800 <= ord(ch) <= 0xDFFF
                or ch in "\ufffe\uffff"
            )
        )
        assert (t_cell.value or "") == kept  # an empty text cell reads as empty
        assert n_cell.value == number
