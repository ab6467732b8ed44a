"""Quantitative assessment of geosites after Brilha (2016).

Method
------
Brilha, J. (2016). Inventory and Quantitative Assessment of Geosites and
Geodiversity Sites: a Review. *Geoheritage* 8:119–134.
doi:10.1007/s12371-014-0139-3 (published online 15 January 2015).

Brilha assesses each site for four things, each a weighted sum of criteria.
Every criterion is scored from 0 to 4 (Brilha's indicators give 1–4; 0 is
kept for "absent / not applicable", as GEOSSIT does) and every weight is a
percentage, the weights of one value summing to 100 %. The value is therefore

    value = Σ weight_i × score_i,   on a scale of 0 to 400.

The weights below are the ones of Brilha's weight tables for the scientific
value (SV), the potential educational use (PEU), the potential touristic use
(PTU) and the degradation risk (DR). They were checked against two public
reproductions of those tables: the criteria/weight table of the Cunco
(Araucanía, Chile) inventory, "Tabla 3.3 … Modificado de Brilha (2016)", and
the GEOSSIT application of the Geological Survey of Brazil
(https://sgb.gov.br/geossit), which uses Brilha (2016) with the same
thresholds. PEU and PTU share ten criteria with the same indicators, so the
assessment sheet scores them once (columns ``pu_*``).

Classes
-------
Brilha (2016) classes the degradation risk by its total: < 200 low, 201–300
moderate, 301–400 high. The same cut-offs class SV, PEU and PTU here, as
GEOSSIT does (SV ≥ 200: geosite of national relevance, SV > 300:
international; PEU/PTU ≥ 200: of national interest). A total of exactly 200
is *moderate* and of exactly 300 *moderate*, closing the gaps of the printed
ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: The four assessed values, in the order documents show them.
VALUES: dict[str, tuple[str, str]] = {
    "SV": ("Giá trị khoa học", "Scientific value"),
    "PEU": ("Tiềm năng sử dụng giáo dục", "Potential educational use"),
    "PTU": ("Tiềm năng sử dụng du lịch", "Potential touristic use"),
    "DR": ("Nguy cơ suy thoái", "Degradation risk"),
}

#: Output column of each value in the ``geosite_assessment`` layer.
VALUE_COLUMNS: dict[str, str] = {
    "SV": "scientific_value",
    "PEU": "educational_value",
    "PTU": "touristic_value",
    "DR": "degradation_risk",
}
CLASS_COLUMNS: dict[str, str] = {
    "SV": "scientific_class",
    "PEU": "educational_class",
    "PTU": "touristic_class",
    "DR": "degradation_risk_class",
}

#: Highest score of one criterion; the highest value is 100 % × 4 = 400.
MAX_SCORE = 4
MAX_VALUE = 100 * MAX_SCORE

#: Class cut-offs (Brilha 2016 for DR; GEOSSIT's use of the same for SV/PEU/PTU).
LOW_BELOW = 200.0
HIGH_ABOVE = 300.0

CLASS_LABELS: dict[str, tuple[str, str]] = {
    "low": ("thấp", "low"),
    "moderate": ("trung bình", "moderate"),
    "high": ("cao", "high"),
}


@dataclass(frozen=True)
class Criterion:
    """One criterion of one value: the sheet column, names, and weight (%)."""

    value: str
    column: str
    name_en: str
    name_vi: str
    weight: int


#: Criteria PEU and PTU share (same indicators in Brilha 2016), scored once in the
#: sheet: (column, English name, Vietnamese name, weight % in PEU, weight % in PTU).
_SHARED_PU: tuple[tuple[str, str, str, int, int], ...] = (
    ("pu_vulnerability", "Vulnerability", "Tính dễ bị tổn thương", 10, 10),
    ("pu_accessibility", "Accessibility", "Khả năng tiếp cận", 10, 10),
    ("pu_use_limitations", "Use limitations", "Hạn chế sử dụng", 5, 5),
    ("pu_safety", "Safety", "An toàn", 10, 10),
    ("pu_logistics", "Logistics", "Hậu cần (lưu trú, ăn uống)", 5, 5),
    ("pu_density_of_population", "Density of population", "Mật độ dân số", 5, 5),
    (
        "pu_association_with_other_values",
        "Association with other values",
        "Gắn với các giá trị khác",
        5,
        5,
    ),
    ("pu_scenery", "Scenery", "Cảnh quan", 5, 15),
    ("pu_uniqueness", "Uniqueness", "Tính độc đáo", 5, 10),
    ("pu_observation_conditions", "Observation conditions", "Điều kiện quan sát", 10, 5),
)


def _shared_pu(value: str) -> tuple[Criterion, ...]:
    """The shared criteria with their weights in ``value`` (``PEU`` or ``PTU``)."""
    return tuple(
        Criterion(value, column, en, vi, peu if value == "PEU" else ptu)
        for column, en, vi, peu, ptu in _SHARED_PU
    )


#: Brilha (2016) criteria and weights (%), per value.
CRITERIA: dict[str, tuple[Criterion, ...]] = {
    "SV": (
        Criterion("SV", "sv_representativeness", "Representativeness", "Tính đại diện", 30),
        Criterion("SV", "sv_key_locality", "Key locality", "Địa điểm then chốt", 20),
        Criterion(
            "SV", "sv_scientific_knowledge", "Scientific knowledge", "Mức độ nghiên cứu khoa học", 5
        ),
        Criterion("SV", "sv_integrity", "Integrity", "Tính toàn vẹn", 15),
        Criterion("SV", "sv_geological_diversity", "Geological diversity", "Đa dạng địa chất", 5),
        Criterion("SV", "sv_rarity", "Rarity", "Tính hiếm", 15),
        Criterion("SV", "sv_use_limitations", "Use limitations", "Hạn chế sử dụng", 10),
    ),
    "PEU": (
        *_shared_pu("PEU"),
        Criterion("PEU", "peu_didactic_potential", "Didactic potential", "Tiềm năng giảng dạy", 20),
        Criterion(
            "PEU", "peu_geological_diversity", "Geological diversity", "Đa dạng địa chất", 10
        ),
    ),
    "PTU": (
        *_shared_pu("PTU"),
        Criterion(
            "PTU",
            "ptu_interpretative_potential",
            "Interpretative potential",
            "Tiềm năng diễn giải",
            10,
        ),
        Criterion("PTU", "ptu_economic_level", "Economic level", "Mức sống kinh tế địa phương", 5),
        Criterion(
            "PTU",
            "ptu_proximity_of_recreational_areas",
            "Proximity of recreational areas",
            "Gần khu vui chơi giải trí",
            5,
        ),
    ),
    "DR": (
        Criterion(
            "DR",
            "dr_deterioration_of_geological_elements",
            "Deterioration of geological elements",
            "Suy giảm các yếu tố địa chất",
            35,
        ),
        Criterion(
            "DR",
            "dr_proximity_to_degrading_activities",
            "Proximity to areas/activities with potential to cause degradation",
            "Gần khu vực/hoạt động có thể gây suy thoái",
            20,
        ),
        Criterion("DR", "dr_legal_protection", "Legal protection", "Bảo vệ pháp lý", 20),
        Criterion("DR", "dr_accessibility", "Accessibility", "Khả năng tiếp cận", 15),
        Criterion("DR", "dr_density_of_population", "Density of population", "Mật độ dân số", 10),
    ),
}


def score_columns() -> list[str]:
    """Every criterion column of the assessment sheet, each once, in sheet order."""
    seen: dict[str, None] = {}
    for criteria in CRITERIA.values():
        for c in criteria:
            seen.setdefault(c.column, None)
    return list(seen)


def classify(value: float) -> str:
    """``low`` below 200, ``moderate`` from 200 to 300, ``high`` above 300."""
    if value < LOW_BELOW:
        return "low"
    if value <= HIGH_ABOVE:
        return "moderate"
    return "high"


def class_vi(klass: str) -> str:
    """The Vietnamese name of a class (``low``/``moderate``/``high``); other text as is."""
    return CLASS_LABELS.get(klass, (klass, klass))[0]


def weighted_value(scores: dict[str, float], value: str) -> float:
    """Σ weight × score of one value for one site's sheet row (a mapping column -> score)."""
    return float(sum(c.weight * float(scores[c.column]) for c in CRITERIA[value]))


def assess(sheet: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute SV, PEU, PTU and DR with their classes for every row of a sheet.

    Parameters
    ----------
    sheet
        Validated assessment sheet: ``geosite_code``, ``illustrative`` (bool)
        and one 0–4 score column per criterion (see :func:`score_columns`).

    Returns
    -------
    (assessment, criteria)
        ``assessment``: one row per geosite with ``geosite_code``, the four
        values (0–400), their classes and ``illustrative``. ``criteria``: one row
        per geosite, value and criterion with ``score`` and ``weight`` (%).
    """
    rows, crit_rows = [], []
    for record in sheet.to_dict("records"):
        row: dict[str, object] = {"geosite_code": record["geosite_code"]}
        for value, column in VALUE_COLUMNS.items():
            total = weighted_value(record, value)
            row[column] = total
            row[CLASS_COLUMNS[value]] = classify(total)
            crit_rows += [
                {
                    "geosite_code": record["geosite_code"],
                    "value": value,
                    "criterion": c.name_en,
                    "score": int(record[c.column]),
                    "weight": c.weight,
                }
                for c in CRITERIA[value]
            ]
        row["illustrative"] = bool(record["illustrative"])
        rows.append(row)
    columns = [
        "geosite_code",
        *VALUE_COLUMNS.values(),
        *CLASS_COLUMNS.values(),
        "illustrative",
    ]
    assessment = pd.DataFrame(rows, columns=columns)
    for col in VALUE_COLUMNS.values():
        assessment[col] = assessment[col].astype(float)
    assessment["illustrative"] = assessment["illustrative"].astype(bool)
    criteria = pd.DataFrame(
        crit_rows, columns=["geosite_code", "value", "criterion", "score", "weight"]
    )
    criteria["score"] = criteria["score"].astype("int32")
    criteria["weight"] = criteria["weight"].astype("int32")
    return (
        assessment.sort_values("geosite_code").reset_index(drop=True),
        criteria.reset_index(drop=True),
    )


def criterion_name_vi(value: str, name_en: str) -> str:
    """The Vietnamese name of a criterion given its value code and English name."""
    for c in CRITERIA[value]:
        if c.name_en == name_en:
            return c.name_vi
    return name_en
