"""Input contracts: Frictionless Table Schema files in ``schemas/``.

A contract lists each field with its type and constraints (``required``,
``unique``, ``enum``, ``pattern``, ``minimum``/``maximum``, ``maxLength``).
:func:`validate_table` checks a table of raw strings against it, column by
column (vectorised with pandas), and returns the typed rows that pass and a
:class:`Rejection` for every value that does not: nothing is dropped silently.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from pipeline.progress import Advance, no_advance
from pipeline.vntext import nfc_codes

#: Offset from a 0-based data index to the spreadsheet row number (header = row 1).
HEADER_ROWS = 2


@dataclass(frozen=True)
class Rejection:
    """One rejected row: where it is, what is wrong, and what was expected."""

    file: str
    row: int | None
    field: str
    value: str
    expected: str
    message_vi: str
    message_en: str
    record_id: str = ""
    x: float | None = None
    y: float | None = None
    #: the rejected row this one follows from ("geosites.csv row 5"), if any
    cause: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "value": self.value,
            "expected": self.expected,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
            "record_id": self.record_id,
            "cause": self.cause,
        }


def _schema_error(path: str, what_vi: str, what_en: str, **where: Any) -> InputError:
    return InputError(
        f"tệp hợp đồng dữ liệu (lược đồ) {path} {what_vi}",
        f"the data contract (schema) {path} {what_en}",
        file=path,
        fix="correct the file (compare with the same file in schemas/ of the pipeline's "
        "release, or restore it with git checkout), then run again",
        fix_vi="sửa tệp (so với tệp cùng tên trong schemas/ của bản phát hành quy trình, "
        "hoặc khôi phục bằng git checkout), rồi chạy lại",
        **where,
    )


@cache
def _load(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _schema_error(
            path,
            f"không phải UTF-8 (byte {exc.start})",
            f"is not UTF-8 (byte {exc.start})",
        ) from None
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _schema_error(
            path,
            f"không phải JSON hợp lệ: dòng {exc.lineno}, cột {exc.colno}",
            f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            row=exc.lineno,
        ) from None
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        raise _schema_error(
            path,
            'không phải Table Schema: cần một đối tượng JSON có danh sách "fields"',
            'is not a Table Schema: a JSON object with a "fields" list is expected',
            field="fields",
        )
    return schema


def load_schema(path: str | Path) -> dict[str, Any]:
    """Read a Table Schema file (cached).

    Raises
    ------
    InputError
        When the file is not UTF-8 JSON holding an object with a ``fields`` list,
        naming the line and column of a syntax error.
    """
    return _load(str(Path(path).resolve()))


def field_names(schema: dict[str, Any]) -> list[str]:
    return [f["name"] for f in schema.get("fields", [])]


def _per_row(codes: np.ndarray, verdicts: np.ndarray, missing: object = False) -> np.ndarray:
    """A verdict per distinct value (:func:`~pipeline.vntext.nfc_codes`) spread over
    the rows; ``missing`` where the value is missing."""
    if not len(verdicts):
        return np.full(len(codes), missing)
    return np.where(codes >= 0, verdicts[np.maximum(codes, 0)], missing)


def validate_table(
    table: pd.DataFrame,
    schema: dict[str, Any],
    *,
    file: str,
    id_field: str | None = None,
    keep_first: bool = False,
    advance: Advance = no_advance,
) -> tuple[pd.DataFrame, list[Rejection]]:
    """Check ``table`` (all strings) against ``schema``.

    ``advance(n)`` is told of every ``n`` cells checked (a field at a time).

    Parameters
    ----------
    table
        Raw values as read (strings or missing), with a ``_row`` column holding
        each row's number in the file.
    schema
        A Table Schema dict.
    file
        The file name to put in rejections.
    id_field
        Field whose value identifies a row in messages (e.g. ``point_id``).
    keep_first
        For ``unique`` fields: keep the first row of each duplicated value and
        reject the later ones (``ingest.duplicates = "keep_first"``); by
        default every row sharing the value is rejected.

    Returns
    -------
    (valid, rejections)
        ``valid`` holds the rows with no rejection, typed and NFC-normalised;
        every other row yields at least one :class:`Rejection`.

    Raises
    ------
    InputError
        When a required column is missing altogether.
    """
    fields = schema.get("fields", [])
    missing = [
        f["name"]
        for f in fields
        if f.get("constraints", {}).get("required") and f["name"] not in table.columns
    ]
    if missing:
        raise InputError(
            f"thiếu cột bắt buộc {', '.join(missing)}",
            f"missing required column(s) {', '.join(missing)}",
            file=file,
            row=1,
            field=", ".join(missing),
            fix=f"add the column(s) to the header row, or map an existing column to it with "
            f'columns = {{ {missing[0]} = "..." }} for this file in geopark.toml; expected '
            f"columns: {', '.join(field_names(schema))}; the file has: "
            f"{', '.join(str(c) for c in table.columns if c not in ('_row', 'geometry'))}",
            fix_vi=f"thêm cột vào dòng tiêu đề, hoặc ánh xạ một cột có sẵn bằng columns = {{ "
            f'{missing[0]} = "..." '
            f"}} trong geopark.toml; các cột cần có: {', '.join(field_names(schema))}",
        )
    out = table.copy()
    bad = pd.Series(False, index=out.index)
    rejections: list[Rejection] = []
    ids = out[id_field].astype("string") if id_field and id_field in out else None

    def reject(mask: pd.Series, name: str, expected: str, vi: str, en: str) -> None:
        nonlocal bad
        mask = mask.fillna(False).astype(bool) & ~bad_field.get(
            name, pd.Series(False, index=out.index)
        )
        for idx in out.index[mask]:
            value = out.at[idx, name] if name in out else ""
            rejections.append(
                Rejection(
                    file=file,
                    row=int(out.at[idx, "_row"]),
                    field=name,
                    value="" if pd.isna(value) else str(value),
                    expected=expected,
                    message_vi=vi,
                    message_en=en,
                    record_id="" if ids is None or pd.isna(ids[idx]) else str(ids[idx]),
                )
            )
        bad_field[name] = bad_field.get(name, pd.Series(False, index=out.index)) | mask
        bad = bad | mask

    bad_field: dict[str, pd.Series] = {}
    for spec in fields:
        advance(len(out))
        name = spec["name"]
        cons = spec.get("constraints", {})
        if name not in out:
            out[name] = pd.NA
            continue
        # each distinct value is checked once: a GPS log repeats its codes, dates and
        # teams a million times (the rows take their value's verdict through ``codes``)
        codes, uniques = nfc_codes(out[name])
        text = pd.Series(
            pd.array(_per_row(codes, uniques, None), dtype="string"),
            index=out.index,
        )
        empty_unique = uniques == ""  # normalised text has no edge spaces

        blank = pd.Series(_per_row(codes, empty_unique, True).astype(bool), index=out.index)
        text = text.mask(blank, pd.NA)
        if cons.get("required"):
            reject(
                blank,
                name,
                "a value (required)",
                "thiếu giá trị bắt buộc",
                "required value is empty",
            )
        kind = spec.get("type", "string")
        if kind in ("number", "integer"):
            unique_numbers = pd.to_numeric(
                pd.Series(uniques, dtype=object).str.replace(",", ".", regex=False),
                errors="coerce",
            ).to_numpy(float)
            numbers = pd.Series(
                _per_row(codes, unique_numbers, np.nan).astype(float), index=out.index
            )
            numbers = numbers.mask(blank, np.nan)
            not_number = ~blank & numbers.isna()
            if kind == "integer":
                not_number |= ~blank & numbers.notna() & (numbers % 1 != 0)
            reject(not_number, name, f"a {kind}", f"không phải số ({kind})", f"not a {kind}")
            value: pd.Series = numbers
        elif kind == "date":
            fmt = spec.get("format", "%Y-%m-%d")
            unique_dates = pd.to_datetime(
                pd.Series(uniques, dtype=object), format=fmt, errors="coerce"
            )
            dates = pd.Series(
                _per_row(codes, unique_dates.to_numpy(), unique_dates.dtype.type("NaT", "ns")),
                index=out.index,
                dtype=unique_dates.dtype,
            ).mask(blank)
            reject(
                ~blank & dates.isna(),
                name,
                f"a date {fmt.replace('%Y', 'YYYY').replace('%m', 'MM').replace('%d', 'DD')}",
                "ngày không hợp lệ",
                "not a valid date",
            )
            unique_days = unique_dates.dt.date.astype(object).where(unique_dates.notna(), None)
            value = pd.Series(
                _per_row(codes, unique_days.to_numpy(object), None), index=out.index, dtype=object
            ).where(~blank, None)
        else:
            value = text
        if "enum" in cons:
            allowed = cons["enum"]
            listed = np.isin(uniques, np.asarray(allowed, dtype=object))
            reject(
                ~blank & ~pd.Series(_per_row(codes, listed).astype(bool), index=out.index),
                name,
                "one of: " + ", ".join(map(str, allowed)),
                "giá trị không thuộc danh mục cho phép",
                "value not in the allowed list",
            )
        if "pattern" in cons:
            pattern = re.compile(cons["pattern"])
            fits = np.array([pattern.fullmatch(u) is not None for u in uniques], dtype=bool)
            ok = pd.Series(_per_row(codes, fits).astype(bool), index=out.index)
            example = spec.get("example")
            reject(
                ~blank & ~ok,
                name,
                f"text like {example}" if example else "text in the format the contract describes",
                f"sai định dạng (cần dạng như {example})" if example else "sai định dạng",
                f"wrong format (expected something like {example})" if example else "wrong format",
            )
        if "maxLength" in cons:
            lengths = np.fromiter((len(u) for u in uniques), dtype=np.int64, count=len(uniques))
            reject(
                pd.Series(
                    _per_row(codes, lengths > cons["maxLength"]).astype(bool), index=out.index
                ),
                name,
                f"at most {cons['maxLength']} characters",
                "quá dài",
                "too long",
            )
        for bound, op, word_vi, word_en in (
            ("minimum", np.less, "nhỏ hơn giá trị tối thiểu", "below the minimum"),
            ("maximum", np.greater, "lớn hơn giá trị tối đa", "above the maximum"),
        ):
            if bound in cons and kind in ("number", "integer", "date"):
                limit = cons[bound]
                if kind == "date":  # compared as timestamps, before they became dates
                    outside = pd.Series(
                        op(dates, pd.Timestamp(limit)).fillna(False).to_numpy(bool),
                        index=out.index,
                    )
                else:
                    outside = op(value, limit)
                reject(outside, name, f"{bound} {cons[bound]}", word_vi, word_en)
        if cons.get("unique"):
            # duplicates among the distinct values' numbers, not among the strings
            dup = (
                pd.Series(codes, index=out.index).duplicated(keep="first" if keep_first else False)
                & ~blank
            )
            if keep_first:
                rows = out["_row"].groupby(text.fillna("")).transform("first")
                for idx in out.index[dup.fillna(False).astype(bool)]:
                    reject(
                        pd.Series(out.index == idx, index=out.index),
                        name,
                        "a value used by no other row",
                        f"giá trị bị trùng; giữ dòng đầu tiên (dòng {rows[idx]})",
                        f"duplicate value; the first row (row {rows[idx]}) is kept",
                    )
            else:
                reject(
                    dup,
                    name,
                    "a value used by no other row",
                    "giá trị bị trùng với dòng khác",
                    "duplicate value (used by another row)",
                )
        out[name] = value
    return out.loc[~bad].copy(), rejections
