"""Brilha (2016) assessment: published weights, a worked example by hand, the
assessment sheet's contract, and the non-spatial GeoPackage tables."""

from __future__ import annotations

import csv
import sqlite3

import pandas as pd
import pyogrio
import pytest

from pipeline.assessment import CRITERIA, assess, classify, score_columns
from pipeline.config import load_config
from pipeline.run import compute

ASSESSMENT_COLUMNS = [
    "geosite_code",
    "scientific_value",
    "educational_value",
    "touristic_value",
    "degradation_risk",
    "scientific_class",
    "educational_class",
    "touristic_class",
    "degradation_risk_class",
    "illustrative",
]


def test_weights_of_each_value_sum_to_100_percent():
    for value, criteria in CRITERIA.items():
        assert sum(c.weight for c in criteria) == 100, value
    assert [len(CRITERIA[v]) for v in ("SV", "PEU", "PTU", "DR")] == [7, 12, 13, 5]


def test_worked_example_by_hand_equals_the_code():
    # One site's sheet: scores 0-4 per criterion.
    row = {
        "geosite_code": "LS-XX-01",
        "illustrative": True,
        # scientific value
        "sv_representativeness": 4,
        "sv_key_locality": 3,
        "sv_scientific_knowledge": 2,
        "sv_integrity": 3,
        "sv_geological_diversity": 1,
        "sv_rarity": 4,
        "sv_use_limitations": 2,
        # shared by PEU and PTU
        "pu_vulnerability": 3,
        "pu_accessibility": 4,
        "pu_use_limitations": 2,
        "pu_safety": 3,
        "pu_logistics": 1,
        "pu_density_of_population": 2,
        "pu_association_with_other_values": 4,
        "pu_scenery": 3,
        "pu_uniqueness": 2,
        "pu_observation_conditions": 4,
        "peu_didactic_potential": 3,
        "peu_geological_diversity": 1,
        "ptu_interpretative_potential": 2,
        "ptu_economic_level": 1,
        "ptu_proximity_of_recreational_areas": 0,
        # degradation risk
        "dr_deterioration_of_geological_elements": 2,
        "dr_proximity_to_degrading_activities": 3,
        "dr_legal_protection": 4,
        "dr_accessibility": 3,
        "dr_density_of_population": 1,
    }
    # Brilha (2016) weights (%), written out from the published tables:
    # SV: representativeness 30, key locality 20, scientific knowledge 5,
    #     integrity 15, geological diversity 5, rarity 15, use limitations 10
    sv = 30 * 4 + 20 * 3 + 5 * 2 + 15 * 3 + 5 * 1 + 15 * 4 + 10 * 2
    assert sv == 120 + 60 + 10 + 45 + 5 + 60 + 20 == 320
    # PEU: vulnerability 10, accessibility 10, use limitations 5, safety 10,
    #      logistics 5, density of population 5, association with other values 5,
    #      scenery 5, uniqueness 5, observation conditions 10, didactic potential 20,
    #      geological diversity 10
    peu = (
        10 * 3
        + 10 * 4
        + 5 * 2
        + 10 * 3
        + 5 * 1
        + 5 * 2
        + 5 * 4
        + 5 * 3
        + 5 * 2
        + 10 * 4
        + 20 * 3
        + 10 * 1
    )
    assert peu == 30 + 40 + 10 + 30 + 5 + 10 + 20 + 15 + 10 + 40 + 60 + 10 == 280
    # PTU: vulnerability 10, accessibility 10, use limitations 5, safety 10,
    #      logistics 5, density of population 5, association with other values 5,
    #      scenery 15, uniqueness 10, observation conditions 5,
    #      interpretative potential 10, economic level 5, proximity of recreational areas 5
    ptu = (
        10 * 3
        + 10 * 4
        + 5 * 2
        + 10 * 3
        + 5 * 1
        + 5 * 2
        + 5 * 4
        + 15 * 3
        + 10 * 2
        + 5 * 4
        + 10 * 2
        + 5 * 1
        + 5 * 0
    )
    assert ptu == 30 + 40 + 10 + 30 + 5 + 10 + 20 + 45 + 20 + 20 + 20 + 5 + 0 == 255
    # DR: deterioration of geological elements 35, proximity to areas/activities
    #     with potential to cause degradation 20, legal protection 20,
    #     accessibility 15, density of population 10
    dr = 35 * 2 + 20 * 3 + 20 * 4 + 15 * 3 + 10 * 1
    assert dr == 70 + 60 + 80 + 45 + 10 == 265

    result, criteria = assess(pd.DataFrame([row]))
    got = result.iloc[0]
    assert got["scientific_value"] == sv
    assert got["educational_value"] == peu
    assert got["touristic_value"] == ptu
    assert got["degradation_risk"] == dr
    # classes: < 200 low, 200-300 moderate, > 300 high
    assert got["scientific_class"] == "high"
    assert got["educational_class"] == "moderate"
    assert got["touristic_class"] == "moderate"
    assert got["degradation_risk_class"] == "moderate"
    assert bool(got["illustrative"]) is True
    assert list(result.columns) == ASSESSMENT_COLUMNS
    # the criteria table gives back every score and weight
    assert list(criteria.columns) == ["geosite_code", "value", "criterion", "score", "weight"]
    assert len(criteria) == 7 + 12 + 13 + 5
    for value, total in (("SV", sv), ("PEU", peu), ("PTU", ptu), ("DR", dr)):
        part = criteria[criteria["value"] == value]
        assert int((part["score"] * part["weight"]).sum()) == total


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "low"),
        (199.99, "low"),
        (200, "moderate"),
        (300, "moderate"),
        (300.01, "high"),
        (400, "high"),
    ],
)
def test_classes_follow_brilha_ranges(value, expected):
    assert classify(value) == expected


def test_sample_sheet_is_labelled_illustrative_and_covers_the_register(write_config):
    from tests.conftest import RAW

    with open(RAW / "assessment_sample.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    with open(RAW / "geosites.csv", encoding="utf-8") as handle:
        codes = {r["geosite_code"] for r in csv.DictReader(handle)}
    assert {r["geosite_code"] for r in rows} == codes
    assert all(r["illustrative"] == "true" for r in rows)
    assert set(score_columns()) <= set(rows[0])


def test_bad_rows_go_to_quarantine(write_config, tmp_path):
    from tests.conftest import RAW

    frame = pd.read_csv(RAW / "assessment_sample.csv", dtype=str)
    frame.loc[0, "sv_rarity"] = "5"  # above the maximum 4 (row 2)
    frame.loc[1, "geosite_code"] = "LS-ZZ-99"  # not in the register (row 3)
    frame.loc[2, "pu_safety"] = "high"  # not an integer (row 4)
    bad = tmp_path / "assessment_bad.csv"
    frame.to_csv(bad, index=False)

    def edit(raw):
        raw["inputs"]["assessment"]["path"] = str(bad)

    cfg = load_config(write_config(edit))
    result = compute(cfg, until="ingest")
    found = {(r.row, r.field): r for r in result.ingested.rejections}
    assert found[(2, "sv_rarity")].file.endswith("assessment_bad.csv")
    assert found[(2, "sv_rarity")].expected == "maximum 4"
    assert found[(3, "geosite_code")].message_en == "geosite code not in the register"
    assert found[(4, "pu_safety")].expected == "a integer"
    assert len(result.ingested.assessment) == len(frame) - 3
    assert result.status == "fail"


def test_missing_criterion_column_is_a_clear_error(write_config, tmp_path):
    from pipeline.errors import InputError
    from tests.conftest import RAW

    frame = pd.read_csv(RAW / "assessment_sample.csv", dtype=str).drop(
        columns="dr_legal_protection"
    )
    bad = tmp_path / "assessment_short.csv"
    frame.to_csv(bad, index=False)

    def edit(raw):
        raw["inputs"]["assessment"]["path"] = str(bad)

    cfg = load_config(write_config(edit))
    with pytest.raises(InputError) as err:
        compute(cfg, until="ingest")
    assert "dr_legal_protection" in err.value.render()


def test_assessment_is_optional(write_config):
    def edit(raw):
        del raw["inputs"]["assessment"]

    cfg = load_config(write_config(edit))
    result = compute(cfg, until="check")
    assert "geosite_assessment" not in result.layers


def test_geopackage_has_the_assessment_as_attributes_tables(sample_gpkg):
    with sqlite3.connect(sample_gpkg) as conn:
        kinds = dict(conn.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    assert kinds["geosite_assessment"] == "attributes"
    assert kinds["geosite_assessment_criteria"] == "attributes"
    table = pyogrio.read_dataframe(sample_gpkg, layer="geosite_assessment", read_geometry=False)
    assert list(table.columns) == ASSESSMENT_COLUMNS
    sites = pyogrio.read_dataframe(sample_gpkg, layer="geosites", read_geometry=False)
    assert sorted(table["geosite_code"]) == sorted(sites["geosite_code"])
    assert table["illustrative"].astype(bool).all()
    crit = pyogrio.read_dataframe(
        sample_gpkg, layer="geosite_assessment_criteria", read_geometry=False
    )
    # each stored value is the weighted sum of its stored criteria
    sums = (crit["score"] * crit["weight"]).groupby([crit["geosite_code"], crit["value"]]).sum()
    for _, row in table.iterrows():
        assert sums[(row["geosite_code"], "SV")] == row["scientific_value"]
        assert sums[(row["geosite_code"], "DR")] == row["degradation_risk"]
        assert row["degradation_risk_class"] == classify(row["degradation_risk"])
