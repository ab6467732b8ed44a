"""Convenience views for QGIS users, defined once and kept in step by every
publish (:func:`pipeline.db.ddl.ensure_views`: a view is replaced only when its
definition here changed).

Each view has a comment in Vietnamese and English on the view and every column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.db import models

_NAME_VI = "Tên điểm di sản / Geosite name (Vietnamese)"
_NAME_EN = "Tên tiếng Anh / Geosite name in English"


def _column_comments(table, names: list[str]) -> dict[str, str]:
    return {name: table.c[name].comment for name in names}


@dataclass(frozen=True)
class View:
    """A view: ``sql`` is formatted with the quoted schema names ``s`` (published),
    ``r`` (records) and ``p`` (PostGIS); PostGIS functions take exactly typed
    arguments (see :mod:`pipeline.db.connection`)."""

    schema: str  # models.PUBLISHED or models.RECORDS
    name: str
    sql: str
    comment: str
    columns: dict[str, str] = field(default_factory=dict)


GEOSITE_OVERVIEW = View(
    models.PUBLISHED,
    "geosite_overview",
    """
    SELECT g.geosite_code, g.name_vi, g.name_en, g.category, g.significance,
           g.cluster_code, g.unit_code, d.district_code, d.district_name,
           zi.area_ha AS zone_i_area_ha, zii.area_ha AS zone_ii_area_ha,
           (SELECT count(*) FROM {s}.survey_points sp
             WHERE sp.geosite_code = g.geosite_code)::integer AS n_survey_points,
           li.inspected_on AS last_inspected_on, li.condition AS last_condition,
           g.geom
      FROM {s}.geosites g
      LEFT JOIN LATERAL (
            SELECT dd.district_code, dd.district_name FROM {s}.districts dd
             WHERE {p}.ST_Intersects(dd.geom, g.geom) ORDER BY dd.district_code LIMIT 1) d ON true
      LEFT JOIN {s}.zone_i zi ON zi.geosite_code = g.geosite_code
      LEFT JOIN {s}.zone_ii zii ON zii.geosite_code = g.geosite_code
      LEFT JOIN LATERAL (
            SELECT i.inspected_on, i.condition FROM {r}.inspections i
             WHERE i.geosite_code = g.geosite_code
             ORDER BY i.inspected_on DESC, i.inspection_id DESC LIMIT 1) li ON true
    """,
    "Điểm di sản kèm huyện, diện tích vùng I/II, số điểm khảo sát và lần kiểm tra gần nhất / "
    "Geosites with their district, Zone I/II areas, survey point count and latest inspection",
    {
        **_column_comments(
            models.geosites,
            [
                "geosite_code",
                "name_vi",
                "name_en",
                "category",
                "significance",
                "cluster_code",
                "unit_code",
            ],
        ),
        "district_code": "Mã huyện chứa điểm (GSO) / Code of the district the site lies in (GSO)",
        "district_name": "Tên huyện chứa điểm / Name of the district the site lies in",
        "zone_i_area_ha": "Diện tích vùng I (ha) / Zone I area (ha)",
        "zone_ii_area_ha": "Diện tích vùng II (ha) / Zone II area (ha)",
        "n_survey_points": "Số điểm khảo sát / Number of survey points",
        "last_inspected_on": "Ngày kiểm tra gần nhất / Date of the latest inspection",
        "last_condition": "Tình trạng ở lần kiểm tra gần nhất / Condition at the latest inspection",
        "geom": "Vị trí điểm di sản / Geosite location",
    },
)

PROTECTION_ZONES_NAMED = View(
    models.PUBLISHED,
    "protection_zones_named",
    """
    SELECT pz.fid, pz.unit_code, pz.cluster_code, pz.zone_class, pz.n_geosites, pz.geosite_codes,
           (SELECT string_agg(g.name_vi, '; ' ORDER BY g.geosite_code) FROM {s}.geosites g
             WHERE g.geosite_code = ANY (string_to_array(pz.geosite_codes, ';'))) AS geosite_names_vi,
           (SELECT string_agg(g.name_en, '; ' ORDER BY g.geosite_code) FROM {s}.geosites g
             WHERE g.geosite_code = ANY (string_to_array(pz.geosite_codes, ';'))) AS geosite_names_en,
           pz.area_ha, pz.district_codes, pz.district_names, pz.geom
      FROM {s}.protection_zones pz
    """,
    "Vùng bảo vệ kèm tên các điểm di sản và các huyện / "
    "Protection zones with the names of their geosites and districts",
    {
        **_column_comments(
            models.protection_zones,
            [
                "fid",
                "unit_code",
                "cluster_code",
                "zone_class",
                "n_geosites",
                "geosite_codes",
                "area_ha",
                "district_codes",
                "district_names",
                "geom",
            ],
        ),
        "geosite_names_vi": "Tên các điểm di sản trong vùng / Names of the zone's geosites (Vietnamese)",
        "geosite_names_en": "Tên tiếng Anh các điểm di sản / Names of the zone's geosites (English)",
    },
)

INSPECTIONS_STATUS = View(
    models.RECORDS,
    "inspections_status",
    """
    SELECT i.inspection_id, i.geosite_code,
           COALESCE(g.name_vi, l.name_vi) AS name_vi, COALESCE(g.name_en, l.name_en) AS name_en,
           i.inspected_on, i.inspector,
           i.condition, i.threats, i.notes, (g.geosite_code IS NULL) AS orphaned,
           (i.geom IS NOT NULL) AS located_by_record, i.created_at, i.created_by,
           CAST(COALESCE(i.geom, g.geom, l.geom) AS {p}.geometry(Point, 9215)) AS geom,
           i.updated_at, i.updated_by
      FROM {r}.inspections i
      LEFT JOIN {s}.geosites g ON g.geosite_code = i.geosite_code
      LEFT JOIN {r}.geosite_locations l ON l.geosite_code = i.geosite_code
    """,
    "Các lần kiểm tra kèm tên điểm di sản; orphaned = điểm không còn trong dữ liệu đã xuất bản "
    "(vẫn hiện ở vị trí cuối cùng đã biết) / "
    "Inspections with the geosite names; orphaned = the geosite is no longer published "
    "(still shown where it last was)",
    {
        **_column_comments(
            models.inspections,
            [
                "inspection_id",
                "geosite_code",
                "inspected_on",
                "inspector",
                "condition",
                "threats",
                "notes",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
            ],
        ),
        "name_vi": _NAME_VI + " (hoặc tên cuối cùng đã biết / or the last known one)",
        "name_en": _NAME_EN + " (hoặc tên cuối cùng đã biết / or the last known one)",
        "orphaned": "Đúng khi mã điểm không còn trong lớp geosites đã xuất bản (bản ghi vẫn được giữ) / "
        "True when the geosite code is no longer in the published geosites (the record is kept)",
        "located_by_record": "Đúng khi vị trí lấy từ bản ghi, sai khi lấy vị trí điểm di sản / "
        "True when the location is the record's own, false when it is the geosite's",
        "geom": "Vị trí kiểm tra, hoặc vị trí điểm di sản (vị trí cuối cùng đã biết nếu điểm đã rời "
        "danh mục) khi bản ghi không có / Where it was inspected, or else the geosite's location "
        "(its last known one if it left the register)",
    },
)

VIEWS: tuple[View, ...] = (GEOSITE_OVERVIEW, PROTECTION_ZONES_NAMED, INSPECTIONS_STATUS)
