"""Warnings of the reading libraries (GDAL via pyogrio, openpyxl) in the user's terms.

A library warning is written for the library's programmers ("Normalized/
laundered field name", "Workbook contains no default style, apply openpyxl's
default"). Readers catch them all (:func:`pipeline.readers.read_input`) and
pass them here: a known one becomes a bilingual note saying what it means for
the data, or is dropped when it says nothing about the data (the reason is
in :data:`KNOWN`); an unknown one becomes a note quoting it, so that it is
in the QA report rather than on the console.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass


@dataclass(frozen=True)
class KnownWarning:
    """A library warning recognised by its text, and what it means for the user."""

    pattern: re.Pattern[str]
    message_vi: str | None  # None: dropped, see ``reason``
    message_en: str | None
    reason: str = ""


KNOWN: tuple[KnownWarning, ...] = (
    KnownWarning(
        re.compile(r"no (default style|stylesheet)", re.I),
        None,
        None,
        "cell formatting only: the values are read unchanged",
    ),
    KnownWarning(
        re.compile(r"(Data Validation|Conditional Formatting|extension is not supported)", re.I),
        None,
        None,
        "drop-down lists and conditional formats are not data: the values are read unchanged",
    ),
    KnownWarning(
        re.compile(r"Unknown (type|extension)|header or footer", re.I),
        None,
        None,
        "page layout of the workbook: the values are read unchanged",
    ),
    KnownWarning(
        re.compile(r"Measured \(M\) geometry types are not supported", re.I),
        "các giá trị M (đo) của hình học bị bỏ qua; chỉ dùng tọa độ X, Y",
        "measured (M) values of the geometries are ignored; only X and Y are used",
    ),
    KnownWarning(
        re.compile(r"non conformant|not conformant|invalid.*(date|time)", re.I),
        "có giá trị không đúng định dạng của tệp; các dòng liên quan được kiểm tra theo lược đồ",
        "some values do not follow the file format; the rows are checked against the contract",
    ),
)


def translate(message: str, label: str) -> str | None:
    """The note for one library warning about the file ``label`` (None: dropped)."""
    text = " ".join(message.split())
    for known in KNOWN:
        if known.pattern.search(text):
            if known.message_en is None:
                return None
            return f"{label}: {known.message_vi} / {known.message_en}"
    return (
        f"{label}: thư viện đọc tệp báo / the reading library reported: {text[:300]} "
        "(kiểm tra dữ liệu của tệp / check the file's data)"
    )


def translate_warnings(caught: list[warnings.WarningMessage], label: str) -> list[str]:
    """Notes for every caught warning, each said once."""
    notes = [translate(str(w.message), label) for w in caught]
    return list(dict.fromkeys(n for n in notes if n))
