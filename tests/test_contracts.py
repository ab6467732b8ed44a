"""Schema rejections carry file, row number, field, value and expectation."""

from __future__ import annotations

import pandas as pd

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
