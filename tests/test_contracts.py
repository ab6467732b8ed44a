"""Schema rejections carry file, row number, field, value and expectation."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import load_config
from pipeline.contracts import load_schema, validate_table
from pipeline.ingest import ingest

from .conftest import ROOT


def test_rejections_name_row_field_value_and_expectation() -> None:
    schema = load_schema(ROOT / "schemas" / "geosites.schema.json")
    table = pd.DataFrame(
        {
            "geosite_code": ["LS-TP-01", "LS-TP-02", "bad code", "LS-TP-01"],
            "name_vi": ["Động Tam Thanh", "Động Nhị Thanh", "X", "Trùng"],
            "category": ["cave", "volcano", "cave", "cave"],
            "significance": ["national", "national", "", "local"],
            "district": ["Lạng Sơn"] * 4,
        }
    )
    table.insert(0, "_row", table.index + 2)
    valid, rejections = validate_table(table, schema, file="geosites.csv", id_field="geosite_code")
    found = {(r.row, r.field) for r in rejections}
    assert (3, "category") in found  # volcano
    assert (4, "geosite_code") in found  # pattern
    assert (4, "significance") in found  # required
    assert (2, "geosite_code") in found and (5, "geosite_code") in found  # duplicates
    volcano = next(r for r in rejections if r.field == "category")
    assert volcano.value == "volcano" and "cave" in volcano.expected
    assert valid.empty


def test_survey_point_with_unknown_geosite_goes_to_quarantine(write_config, tmp_path) -> None:
    source = ROOT / "data" / "raw" / "survey_points_wgs84.csv"
    lines = source.read_text("utf-8").splitlines()
    lines[3] = lines[3].replace("LS-TP-01,", "LS-XX-99,", 1)
    lines[5] = lines[5].replace(",21.", ",abc", 1)
    bad = tmp_path / "points.csv"
    bad.write_text("\n".join(lines) + "\n", "utf-8")

    def edit(raw):
        raw["inputs"]["survey_points"][0]["path"] = str(bad)

    result = ingest(load_config(write_config(edit)))
    by_row = {r.row: r for r in result.rejections}
    assert by_row[4].field == "geosite_code" and by_row[4].value == "LS-XX-99"
    assert "register" in by_row[4].message_en
    assert by_row[6].field == "lat"
    from_file = result.survey_points["source_file"].str.endswith("points.csv")
    assert from_file.sum() == len(lines) - 1 - 2  # header and the two rejected rows


# ------------------------------------------------ distinct values checked once, rows alike

#: A contract with every kind of check, on a few columns.
_SCHEMA = {
    "fields": [
        {
            "name": "code",
            "constraints": {"required": True, "unique": True, "pattern": "^[A-Z]{2}-\\d$"},
        },
        {"name": "kind", "constraints": {"enum": ["cave", "peak"], "maxLength": 4}},
        {"name": "depth", "type": "number", "constraints": {"minimum": 0, "maximum": 100}},
        {"name": "count", "type": "integer", "constraints": {"required": True}},
        {
            "name": "day",
            "type": "date",
            "format": "%Y-%m-%d",
            "constraints": {"minimum": "2000-01-01"},
        },
    ]
}

_VALUES = {
    "code": [None, "", "LS-1", "LS-2", "ls-1", "LS-12", "Đ-1", "LS-1 "],
    "kind": [None, "", "cave", "peak", "Cave", "caves", "ca\u0301ve"],
    "depth": [None, "", "1", "1,5", "2.5", "-1", "101", "x", "1e2", "nan"],
    "count": [None, "", "3", "3.0", "3.5", "-2", "a", "1,0"],
    "day": [None, "", "2024-06-01", "1999-12-31", "2024-13-01", "01/06/2024", "2024-06-01x"],
}


def _reference(table: pd.DataFrame, keep_first: bool) -> tuple[set, dict]:
    """The contract checked cell by cell in plain Python: (row, field) of each rejection."""
    import datetime
    import math
    import re

    from pipeline.vntext import to_nfc as nfc  # the cell-by-cell normaliser

    rejected: set[tuple[int, str]] = set()
    values: dict[tuple[int, str], object] = {}
    for spec in _SCHEMA["fields"]:
        name, cons, kind = spec["name"], spec.get("constraints", {}), spec.get("type", "string")
        cells = [nfc(v) for v in table[name]]
        seen: dict[str, list[int]] = {}
        for i, v in enumerate(cells):
            row = int(table["_row"].iloc[i])
            blank = v is None or v == ""
            failed = cons.get("required") and blank
            value: object = None if blank else v
            if not failed and not blank and kind in ("number", "integer"):
                try:
                    number = float(v.replace(",", "."))
                    failed = math.isnan(number) or (kind == "integer" and number % 1 != 0)
                    value = number
                except ValueError:
                    failed = True
            if not failed and not blank and kind == "date":
                try:
                    value = datetime.datetime.strptime(v, spec["format"])
                except ValueError:
                    failed = True
            if not failed and not blank and "enum" in cons:
                failed = v not in cons["enum"]
            if not failed and not blank and "pattern" in cons:
                failed = re.fullmatch(cons["pattern"], v) is None
            if not failed and not blank and "maxLength" in cons:
                failed = len(v) > cons["maxLength"]
            for bound, outside in (("minimum", float.__lt__), ("maximum", float.__gt__)):
                if not failed and not blank and bound in cons and value is not None:
                    if kind == "date":
                        limit = datetime.datetime.fromisoformat(cons[bound])
                        failed = value < limit if bound == "minimum" else value > limit
                    else:
                        failed = outside(float(value), float(cons[bound]))
            if failed:
                rejected.add((row, name))
            elif not blank:
                seen.setdefault(v, []).append(row)
            if kind == "date" and isinstance(value, datetime.datetime):
                value = value.date()
            values[(row, name)] = value
        if cons.get("unique"):
            for rows in seen.values():
                for row in rows[1:] if keep_first else rows if len(rows) > 1 else []:
                    rejected.add((row, name))
    return rejected, values


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _VALUES.items()}),
        min_size=0,
        max_size=25,
    ),
    st.booleans(),
)
def test_validation_by_distinct_values_matches_cell_by_cell(rows, keep_first) -> None:
    table = pd.DataFrame(rows, columns=list(_VALUES), dtype=object)
    table.insert(0, "_row", np.arange(len(table)) + 2)
    valid, rejections = validate_table(table, _SCHEMA, file="t.csv", keep_first=keep_first)
    expected, values = _reference(table, keep_first)
    # one value has one verdict: duplicates are counted among the rows that passed
    found = {(r.row, r.field) for r in rejections}
    assert found == expected
    assert sorted(valid["_row"]) == sorted(set(table["_row"]) - {row for row, _ in expected})
    for _, record in valid.iterrows():
        for name in _VALUES:
            got, want = record[name], values[(int(record["_row"]), name)]
            if want is None:
                assert got is None or pd.isna(got)
            else:
                assert got == want


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["a\x00", "a", "Đ", "Ð", "é"])),
        max_size=30,
    )
)
def test_layers_sort_their_text_as_python_does(values) -> None:
    """Identifiers sort by code point as Python sorts them, ties kept in place and
    missing ones last, whichever way (numpy's or pandas') the text is sorted."""
    from pipeline.ingest.core import text_order

    series = pd.Series(values, dtype=object, index=np.arange(len(values)) * 3)
    order = text_order(series)
    expected = sorted(range(len(values)), key=lambda i: (values[i] is None, values[i] or ""))
    assert order.tolist() == expected
