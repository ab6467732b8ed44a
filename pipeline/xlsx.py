"""Excel workbooks of one table, written straight as SpreadsheetML.

The marker tables of a national inventory hold hundreds of thousands of
rows. The Python writers build every cell as an object and stream it through
a template (pyexcelerate, the fastest of them, spends about 12 µs a cell,
ten seconds for 150,000 markers); a table whose columns are known is one
string per row. What is written is the small part of ECMA-376 such a table
needs: one worksheet, text as inline strings (never a formula, whatever it
starts with), numbers with a number format per column, a bold header row
kept in view, column widths. The files are byte-for-byte reproducible (fixed
zip timestamps, no creation date).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Column", "sheet_name", "write_table"]


@dataclass(frozen=True)
class Column:
    """A column of the sheet: its header, its width (characters) and, for numbers,
    its number format (``None``: text)."""

    header: str
    width: float
    number_format: str | None = None


#: What a worksheet's name may hold here: Excel forbids ``[]:*?/\\`` and 31+ characters.
_UNSAFE_SHEET_NAME = re.compile(r"[^A-Za-z0-9_.-]")

#: Characters XML 1.0 cannot hold at all (a broken export can carry them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)

_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)

_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)

_MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RELS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def sheet_name(name: str) -> str:
    """A worksheet name from ``name``: anything unusual replaced by ``_``, at most 31 characters."""
    return _UNSAFE_SHEET_NAME.sub("_", name)[:31] or "Sheet1"


def _text(value: object) -> str:
    """A value as XML character data (escaped; characters XML cannot hold dropped)."""
    text = _NOT_XML.sub("", str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # a reader turns a raw carriage return into a line feed; a reference keeps it
    return text.replace("\r", "&#13;")


def _column_letters(n: int) -> list[str]:
    letters = []
    for index in range(1, n + 1):
        name = ""
        while index:
            index, rest = divmod(index - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _styles(formats: list[str]) -> str:
    """Cell formats: 0 plain, 1 bold (the header), 2 text, 3… each number format."""
    num_fmts = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode="{_text(code)}"/>'
        for i, code in enumerate(formats)
    )
    number_xfs = "".join(
        f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for i in range(len(formats))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<styleSheet {_MAIN}>"
        f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{3 + len(formats)}">'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        f"{number_xfs}</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


#: Stands for the row number in a cell's reference until the row is assembled. Escaped
#: text never holds a "<", so the placeholder is found only where this module put it.
_ROW = "<R>"


def _cells(values: Sequence[object], letter: str, style: int, number: bool) -> np.ndarray:
    """Each value of a column as its ``<c>`` element, the row number left as :data:`_ROW`."""
    if number:
        numbers = np.asarray(values, dtype=float)
        finite = np.isfinite(numbers)
        return np.array(
            [
                f'<c r="{letter}{_ROW}" s="{style}"><v>{v!r}</v></c>' if ok else ""
                for v, ok in zip(numbers.tolist(), finite.tolist(), strict=True)
            ],
            dtype=object,
        )
    return np.array(
        [
            ""
            if v is None
            else f'<c r="{letter}{_ROW}" s="{style}" t="inlineStr">'
            f'<is><t xml:space="preserve">{_text(v)}</t></is></c>'
            for v in values
        ],
        dtype=object,
    )


def write_table(
    path: Path, sheet: str, columns: Sequence[Column], values: Sequence[Sequence[object]]
) -> None:
    """Write one sheet named ``sheet``: the header row, then ``values`` (column by column).

    Text columns take any text (it stays text); number columns take numbers
    (a missing or non-finite one leaves its cell empty).
    """
    letters = _column_letters(len(columns))
    formats = sorted({c.number_format for c in columns if c.number_format is not None})
    style_of = {code: 3 + i for i, code in enumerate(formats)}
    n_rows = len(values[0]) if len(values) else 0
    body = [
        _cells(
            column_values,
            letter,
            2 if column.number_format is None else style_of[column.number_format],
            column.number_format is not None,
        )
        for column, letter, column_values in zip(columns, letters, values, strict=True)
    ]
    header = "".join(
        f'<c r="{letter}1" s="1" t="inlineStr"><is><t xml:space="preserve">{_text(c.header)}'
        "</t></is></c>"
        for c, letter in zip(columns, letters, strict=True)
    )
    rows = [f'<row r="1">{header}</row>']
    if n_rows:
        joined = body[0].copy()
        for column in body[1:]:
            joined = joined + column
        rows += [
            f'<row r="{r}">' + cells.replace(_ROW, str(r)) + "</row>"
            for r, cells in enumerate(joined.tolist(), start=2)
        ]
    widths = "".join(
        f'<col min="{i}" max="{i}" width="{c.width:g}" customWidth="1"/>'
        for i, c in enumerate(columns, start=1)
    )
    worksheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<worksheet {_MAIN} {_RELS}>"
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
        "</sheetView></sheetViews>"
        '<sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{widths}</cols>"
        f"<sheetData>{''.join(rows)}</sheetData>"
        "</worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f"<workbook {_MAIN} {_RELS}>"
        f'<sheets><sheet name="{_text(sheet_name(sheet))}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _ROOT_RELS,
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
        "xl/styles.xml": _styles(formats),
        "xl/worksheets/sheet1.xml": worksheet,
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.encode("utf-8"), compresslevel=1)
