"""The Vietnamese names of categories and significance levels come from the one
symbology's labels (pipeline/symbology.json) and cover exactly what the
register's contract allows."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from pipeline.symbology import symbology
from pipeline.vocabulary import CATEGORY_VI, SIGNIFICANCE_VI

ROOT = Path(__file__).resolve().parents[1]


def allowed(field: str) -> list[str]:
    contract = json.loads((ROOT / "schemas" / "geosites.schema.json").read_text("utf-8"))
    spec = next(f for f in contract["fields"] if f["name"] == field)
    return spec["constraints"]["enum"]


def test_names_cover_exactly_what_the_register_allows():
    assert sorted(CATEGORY_VI) == sorted(allowed("category"))
    assert list(SIGNIFICANCE_VI) == ["international", "national", "provincial", "local"]
    assert sorted(SIGNIFICANCE_VI) == sorted(allowed("significance"))


def test_names_are_the_vietnamese_half_of_the_symbology_labels_in_running_text():
    assert CATEGORY_VI["cave"] == "hang động"
    assert CATEGORY_VI["hydrogeological"] == "địa chất thủy văn"
    assert SIGNIFICANCE_VI["provincial"] == "cấp tỉnh"
    for group, names in (("categories", CATEGORY_VI), ("significance", SIGNIFICANCE_VI)):
        assert list(names) == list(symbology()[group])
        for key, name in names.items():
            label = symbology()[group][key]["label"]
            assert label.lower().startswith(name + " / ")
            assert unicodedata.is_normalized("NFC", name) and "\u00d0" not in name
