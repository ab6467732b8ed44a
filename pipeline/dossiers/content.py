"""Plain data for the templates: one dossier per geosite, and the summary.

Functions here take the :class:`~pipeline.dossiers.data.Heritage` layers and
return dicts and lists of numbers and strings; nothing is read or written.
Areas are planar hectares in EPSG:9215, as in the GeoPackage.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from pipeline.assessment import (
    CLASS_COLUMNS,
    CRITERIA,
    MAX_VALUE,
    VALUE_COLUMNS,
    VALUES,
    class_vi,
    criterion_name_vi,
)
from pipeline.dossiers.data import Heritage
from pipeline.vocabulary import CATEGORY_VI, SIGNIFICANCE_VI

#: Vietnamese names of ``records.inspections.condition`` (see pipeline.db.models.CONDITIONS).
CONDITION_VI = {"good": "tốt", "fair": "khá", "poor": "kém", "critical": "nguy cấp"}


def _text(value: Any) -> str:
    return (
        ""
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA
        else str(value)
    )


def bilingual(table: dict[str, str], key: str) -> str:
    """``key`` with its Vietnamese name: 'hang động / cave'."""
    return f"{table.get(key, key)} / {key}" if key else ""


def district_names(heritage: Heritage) -> dict[int, str]:
    return dict(
        zip(
            heritage.districts["district_code"].astype(int),
            heritage.districts["district_name"],
            strict=True,
        )
    )


def _codes(text: Any) -> list[int]:
    return [int(c) for c in _text(text).split(";") if c.strip()]


def zone_areas_by_district(
    zone: gpd.GeoDataFrame, districts: gpd.GeoDataFrame
) -> list[dict[str, Any]]:
    """Area (ha) of one geosite's zone in each district it touches, largest first."""
    if zone.empty:
        return []
    geom = shapely.union_all(zone.geometry.values)
    rows = []
    for _, d in districts.iterrows():
        area = shapely.area(shapely.intersection(geom, d.geometry)) / 1e4
        if area > 0.0001:
            rows.append(
                {
                    "district_code": int(d["district_code"]),
                    "district_name": d["district_name"],
                    "area_ha": area,
                }
            )
    return sorted(rows, key=lambda r: -r["area_ha"])


def location_districts(heritage: Heritage) -> pd.DataFrame:
    """The district each geosite's register location falls in (point in polygon)."""
    joined = gpd.sjoin(
        heritage.geosites[["geosite_code", "geometry"]],
        heritage.districts[["district_code", "district_name", "geometry"]],
        how="left",
        predicate="within",
    )
    joined = joined.drop_duplicates("geosite_code")
    return pd.DataFrame(joined[["geosite_code", "district_code", "district_name"]])


def assessment_for(heritage: Heritage, code: str) -> dict[str, Any] | None:
    """The four values, classes and criteria table of one geosite, or None."""
    if heritage.assessment is None or heritage.criteria is None:
        return None
    rows = heritage.assessment.loc[heritage.assessment["geosite_code"] == code]
    if rows.empty:
        return None
    row = rows.iloc[0]
    crit = heritage.criteria.loc[heritage.criteria["geosite_code"] == code]
    values = []
    for key, (vi, en) in VALUES.items():
        klass = _text(row[CLASS_COLUMNS[key]])
        part = crit.loc[crit["value"] == key]
        values.append(
            {
                "key": key,
                "name_vi": vi,
                "name_en": en,
                "total": float(row[VALUE_COLUMNS[key]]),
                "max": MAX_VALUE,
                "class": klass,
                "class_vi": class_vi(klass),
                "criteria": [
                    {
                        "name_en": c["criterion"],
                        "name_vi": criterion_name_vi(key, c["criterion"]),
                        "score": int(c["score"]),
                        "weight": int(c["weight"]),
                        "product": int(c["score"]) * int(c["weight"]),
                    }
                    for _, c in part.iterrows()
                ],
            }
        )
    return {"illustrative": bool(row["illustrative"]), "results": values}


def dossier_context(
    heritage: Heritage,
    code: str,
    *,
    sheet: dict[str, Any],
    inspections: pd.DataFrame | None,
    database: bool,
) -> dict[str, Any]:
    """Everything the dossier template shows for geosite ``code``."""
    site = heritage.geosites.loc[heritage.geosites["geosite_code"] == code].iloc[0]
    names = district_names(heritage)
    points = heritage.survey_points.loc[heritage.survey_points["geosite_code"] == code].sort_values(
        "point_id"
    )
    zone_i = heritage.zone_i.loc[heritage.zone_i["geosite_code"] == code]
    zone_ii = heritage.zone_ii.loc[heritage.zone_ii["geosite_code"] == code]
    unit = _text(site["unit_code"])
    unit_zones = heritage.protection_zones.loc[heritage.protection_zones["unit_code"] == unit]
    lone = unit == code
    if lone:
        # a lone geosite's zones are its unit's: state the legal (marker polygon) areas
        zone_i = unit_zones.loc[unit_zones["zone_class"] == "I"]
        zone_ii = unit_zones.loc[unit_zones["zone_class"] == "II"]
    zone_codes = sorted(
        {
            c
            for t in pd.concat([zone_i["district_codes"], zone_ii["district_codes"]])
            for c in _codes(t)
        }
    )
    here = location_districts(heritage).set_index("geosite_code").loc[code]
    records = []
    if inspections is not None:
        mine = inspections.loc[inspections["geosite_code"] == code]
        records = [{k: _text(v) for k, v in r.items()} for r in mine.to_dict("records")]
        for record in records:
            record["condition"] = bilingual(CONDITION_VI, record["condition"])
    return {
        "code": code,
        "name_vi": _text(site["name_vi"]),
        "name_en": _text(site["name_en"]),
        "category": bilingual(CATEGORY_VI, _text(site["category"])),
        "significance": bilingual(SIGNIFICANCE_VI, _text(site["significance"])),
        "cluster_code": _text(site["cluster_code"]),
        "declared_cluster_code": _text(site["declared_cluster_code"]),
        "unit_code": unit,
        "declared_district": (
            f"{_text(site['declared_district'])} ({int(site['declared_district_code'])})"
        ),
        "location_district": f"{_text(here['district_name'])} ({int(here['district_code'])})"
        if pd.notna(here["district_code"])
        else "",
        "zone_districts": [{"code": c, "name": names.get(c, "")} for c in zone_codes],
        "description": _text(site["description"]),
        "location_quality": _text(site["location_quality"]),
        "observations": [
            {
                "point_id": _text(p["point_id"]),
                "survey_date": _text(p["survey_date"])[:10],
                "team": _text(p["team"]),
                "observation": _text(p["observation"]),
                "x": float(p["x_vn2000"]),
                "y": float(p["y_vn2000"]),
            }
            for _, p in points.iterrows()
        ],
        "x_vn2000": float(site["x_vn2000"]),
        "y_vn2000": float(site["y_vn2000"]),
        "lon": float(site["lon"]),
        "lat": float(site["lat"]),
        "zones_are_legal": lone,
        "zone_i_ha": float(zone_i["area_ha"].sum()),
        "zone_ii_ha": float(zone_ii["area_ha"].sum()),
        "zone_i_districts": zone_areas_by_district(zone_i, heritage.districts),
        "zone_ii_districts": zone_areas_by_district(zone_ii, heritage.districts),
        "unit_zones": [
            {
                "zone_class": _text(z["zone_class"]),
                "area_ha": float(z["area_ha"]),
                "geosite_codes": _text(z["geosite_codes"]),
            }
            for _, z in unit_zones.sort_values("zone_class").iterrows()
        ],
        "sheet": sheet,
        "assessment": assessment_for(heritage, code),
        "database": database,
        "inspections": records,
    }


def _counts(series: pd.Series, names_vi: dict[str, str]) -> list[dict[str, Any]]:
    """Count per value, in the vocabulary's order, each with its bilingual label."""
    counts = series.value_counts()
    keys = [k for k in names_vi if k in counts.index]
    keys += sorted(k for k in counts.index if k not in names_vi)
    return [{"key": k, "label": bilingual(names_vi, k), "count": int(counts[k])} for k in keys]


def summary_data(heritage: Heritage) -> dict[str, Any]:
    """The heritage summary's numbers: counts, protected areas, assessment ranking."""
    sites = heritage.geosites
    located = location_districts(heritage)
    names = district_names(heritage)
    by_district = []
    for code in sorted(names):
        n = int((located["district_code"] == code).sum())
        by_district.append({"district_code": code, "district_name": names[code], "count": n})
    zda = heritage.zone_district_areas
    areas = []
    for code in sorted(names):
        part = zda.loc[zda["district_code"].astype(int) == code]
        zi = float(part.loc[part["zone_class"] == "I", "area_ha"].sum())
        zii = float(part.loc[part["zone_class"] == "II", "area_ha"].sum())
        areas.append(
            {
                "district_code": code,
                "district_name": names[code],
                "zone_i_ha": zi,
                "zone_ii_ha": zii,
                "total_ha": zi + zii,
            }
        )
    pz = heritage.protection_zones
    park_zone_i = float(pz.loc[pz["zone_class"] == "I", "area_ha"].sum())
    park_zone_ii = float(pz.loc[pz["zone_class"] == "II", "area_ha"].sum())
    park_area_ha = float(
        shapely.area(shapely.union_all(heritage.park_extent.geometry.values)) / 1e4
    )
    ranking = []
    illustrative = False
    if heritage.assessment is not None and not heritage.assessment.empty:
        table = heritage.assessment.merge(
            sites[["geosite_code", "name_vi", "name_en"]], on="geosite_code", how="left"
        )
        table = table.sort_values(
            ["scientific_value", "educational_value", "geosite_code"],
            ascending=[False, False, True],
        )
        illustrative = bool(table["illustrative"].astype(bool).any())
        for rank, (_, r) in enumerate(table.iterrows(), start=1):
            ranking.append(
                {
                    "rank": rank,
                    "geosite_code": r["geosite_code"],
                    "name_vi": _text(r["name_vi"]),
                    "name_en": _text(r["name_en"]),
                    **{VALUE_COLUMNS[k]: float(r[VALUE_COLUMNS[k]]) for k in VALUES},
                    **{CLASS_COLUMNS[k]: _text(r[CLASS_COLUMNS[k]]) for k in VALUES},
                    "illustrative": bool(r["illustrative"]),
                }
            )
    return {
        "n_geosites": len(sites),
        "by_category": _counts(sites["category"], CATEGORY_VI),
        "by_significance": _counts(sites["significance"], SIGNIFICANCE_VI),
        "by_district": by_district,
        "areas_by_district": areas,
        "park": {
            "zone_i_ha": park_zone_i,
            "zone_ii_ha": park_zone_ii,
            "total_ha": park_zone_i + park_zone_ii,
            "park_area_ha": park_area_ha,
            "protected_share_pct": 100 * (park_zone_i + park_zone_ii) / park_area_ha
            if park_area_ha
            else 0.0,
        },
        "n_units": int(pz["unit_code"].nunique()),
        "ranking": ranking,
        "assessment_illustrative": illustrative,
        "criteria_weights": {
            k: [(c.name_en, c.name_vi, c.weight) for c in CRITERIA[k]] for k in VALUES
        },
    }
