"""The database schema, defined once: SQLAlchemy + GeoAlchemy2 tables.

Two kinds of tables live here.

* **Layer tables** (:data:`LAYER_TABLES`): one per GeoPackage layer. They are
  permanent: a publish replaces their *rows* (``DELETE`` + ``INSERT ... SELECT``
  in one transaction, so readers and ``pg_dump`` are never disturbed) and
  changes a table itself only when its definition here changed (the publish's
  *ensure* step compares the live table with a fresh one built from these
  definitions). Adding a layer = declaring its table here and adding it to
  :data:`LAYER_TABLES`; no migration needed.
* **Persistent tables** (in :data:`persistent`): ``publish_log``, ``qgis_projects``,
  ``publish_lock`` (in the published schema) and the records schema: the
  user-owned field records (``records.inspections``, their history, and the last
  known location of every geosite ever published). A publish never drops,
  truncates or rewrites them; their changes go through Alembic migrations in
  ``schemas/migrations``. A table the editor role may write declares
  ``info={"editable": (columns...)}`` (see :func:`editable_tables`); with
  ``"audited": True`` it also gets ``created_*``/``updated_*`` stamped by a
  trigger and a ``<name>_history`` table (:func:`history_table`) that keeps
  every previous version.

Schema names are configurable, so tables are declared in the placeholder
schemas :data:`PUBLISHED` and :data:`RECORDS`, mapped to the real names with
SQLAlchemy's ``schema_translate_map`` (:func:`schema_map`). Every table and
column carries a comment in Vietnamese and English, written to the database
with ``COMMENT ON``. PostGIS types and functions are named in the placeholder
schema :data:`~pipeline.db.connection.POSTGIS` (see that module).
"""

from __future__ import annotations

import geoalchemy2
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from pipeline.db.connection import POSTGIS
from pipeline.vocabulary import HERITAGE_TYPE_VI, UNIT_STATUS_VI

#: Placeholder schema names, translated to the configured ones at run time.
PUBLISHED = "__published__"
RECORDS = "__records__"

SRID = 9215  # VN-2000 / TM-3 107°15′


class Geometry(geoalchemy2.Geometry):
    """GeoAlchemy2's geometry type, named in PostGIS's own schema (the placeholder
    :data:`~pipeline.db.connection.POSTGIS`): the pipeline's sessions do not have
    PostGIS on their search path (see :mod:`pipeline.db.connection`)."""

    cache_ok = True

    def get_col_spec(self) -> str:
        return f"{POSTGIS}.{super().get_col_spec()}"


def st(function: str) -> str:
    """A PostGIS function named in PostGIS's schema, for SQL in the models and migrations."""
    return f"{POSTGIS}.{function}"


# Allowed values, as in the input contracts (schemas/*.schema.json; a test
# keeps them in step).
CATEGORIES = (
    "geomorphological",
    "cave",
    "paleontological",
    "stratigraphic",
    "hydrogeological",
    "archaeological",
    "cultural",
)
HERITAGE_TYPES = tuple(HERITAGE_TYPE_VI)
SIGNIFICANCES = ("international", "national", "provincial", "local")
MEMBERSHIPS = ("full", "partial", "none")
LOCATION_QUALITIES = ("surveyed", "gps", "approximate")
ZONE_CLASSES = ("I", "II")
SEVERITIES = ("error", "warning", "info")
THREAT_STATUSES = ("existing", "licensed", "planned")
CONDITIONS = ("good", "fair", "poor", "critical")
ASSESSMENT_CLASSES = ("low", "moderate", "high")

metadata = MetaData(
    naming_convention={
        "ck": "%(table_name)s_%(constraint_name)s_check",
        "fk": "%(table_name)s_%(column_0_name)s_fkey",
        "pk": "%(table_name)s_pkey",
        "uq": "%(table_name)s_%(column_0_name)s_key",
        "ix": "%(table_name)s_%(column_0_name)s_idx",
    }
)


def schema_map(schema: str, records_schema: str) -> dict[str, str]:
    """``schema_translate_map`` from the placeholders to the configured schemas."""
    return {PUBLISHED: schema, RECORDS: records_schema}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _geom(kind: str, comment: str, *, nullable: bool = False) -> Column:
    return Column(
        "geom",
        Geometry(kind, srid=SRID, spatial_index=False),
        nullable=nullable,
        comment=comment,
    )


def _valid_geometry(table: str, *, nullable: bool = False) -> list:
    """CHECK: valid, non-empty geometry; a GiST index on it."""
    condition = f"{st('ST_IsValid')}(geom) AND NOT {st('ST_IsEmpty')}(geom)"
    if nullable:
        condition = f"geom IS NULL OR ({condition})"
    return [
        CheckConstraint(condition, name="geom_valid"),
        Index(f"{table}_geom_gist", "geom", postgresql_using="gist"),
    ]


def _fid(
    *,
    key: bool = True,
    comment: str = "Số hiệu đối tượng (fid của GeoPackage) / Feature id (the GeoPackage fid)",
) -> Column:
    """The GeoPackage fid: the primary key, or (``key=False``) a unique, required column."""
    if key:
        return Column("fid", Integer, primary_key=True, autoincrement=False, comment=comment)
    return Column("fid", Integer, nullable=False, unique=True, comment=comment)


def _geosite_fk(
    *, nullable: bool = False, primary_key: bool = False, comment: str | None = None
) -> Column:
    return Column(
        "geosite_code",
        Text,
        ForeignKey(f"{PUBLISHED}.geosites.geosite_code"),
        nullable=nullable,
        primary_key=primary_key,
        comment=comment or "Mã điểm di sản (geosites) / Geosite code (geosites)",
    )


def _area() -> list:
    """``area_ha``, required and not negative."""
    return [
        Column(
            "area_ha",
            Float,
            nullable=False,
            comment="Diện tích (ha, phẳng EPSG:9215) / Area (ha, planar in EPSG:9215)",
        ),
        CheckConstraint("area_ha >= 0", name="area_ha"),
    ]


def _located_and_sourced() -> list[Column]:
    """Coordinates in VN-2000 and WGS 84, and where the row came from."""
    return [
        Column("x_vn2000", Float, comment="X VN-2000 (hướng bắc, m) / VN-2000 X (northing, m)"),
        Column("y_vn2000", Float, comment="Y VN-2000 (hướng đông, m) / VN-2000 Y (easting, m)"),
        Column("lon", Float, comment="Kinh độ WGS 84 / WGS 84 longitude"),
        Column("lat", Float, comment="Vĩ độ WGS 84 / WGS 84 latitude"),
        Column("source_file", Text, comment="Tệp nguồn / Source file"),
        Column("source_row", Integer, comment="Dòng trong tệp nguồn / Row in the source file"),
    ]


def _district_lists() -> list[Column]:
    return [
        Column(
            "district_codes",
            Text,
            comment="Mã các huyện chứa vùng, cách nhau bởi ';' / "
            "Codes of the districts the zone lies in, separated by ';'",
        ),
        Column(
            "district_names",
            Text,
            comment="Tên các huyện chứa vùng / Names of the districts the zone lies in",
        ),
    ]


def _zone_class() -> list:
    """``zone_class``, I or II."""
    return [
        Column(
            "zone_class",
            Text,
            nullable=False,
            comment="Cấp vùng: I (lõi, bảo vệ nghiêm ngặt) hoặc II (đệm) / "
            "Zone class: I (core, strict protection) or II (buffer)",
        ),
        CheckConstraint(_in("zone_class", ZONE_CLASSES), name="zone_class"),
    ]


# --------------------------------------------------------------------------- layers

park_extent = Table(
    "park_extent",
    metadata,
    _fid(),
    Column("name", Text, nullable=False, comment="Tên công viên / Park name (Vietnamese)"),
    Column("name_en", Text, comment="Tên tiếng Anh / Park name in English"),
    Column("legal_basis", Text, comment="Căn cứ pháp lý / Legal basis"),
    Column("declared_area_km2", Float, comment="Diện tích công bố (km²) / Declared area (km²)"),
    Column(
        "area_km2_planar",
        Float,
        comment="Diện tích phẳng EPSG:9215 (km²) / Planar area in EPSG:9215 (km²)",
    ),
    Column(
        "area_km2_ellipsoidal",
        Float,
        comment="Diện tích trên ellipsoid (km²) / Ellipsoidal area (km²)",
    ),
    _geom("MULTIPOLYGON", "Ranh giới pháp lý của công viên / The park's legal extent"),
    *_valid_geometry("park_extent"),
    schema=PUBLISHED,
    comment="Ranh giới Công viên địa chất Lạng Sơn / Extent of the Lạng Sơn Geopark",
)

districts = Table(
    "districts",
    metadata,
    _fid(),
    Column(
        "district_code",
        Integer,
        nullable=False,
        unique=True,
        comment="Mã huyện (GSO) / District code (GSO)",
    ),
    Column(
        "district_name",
        Text,
        nullable=False,
        comment="Tên huyện chính thức / Official district name",
    ),
    Column(
        "district_type", Text, comment="Loại đơn vị (huyện, thành phố) / Unit type (district, city)"
    ),
    Column("province_code", Integer, comment="Mã tỉnh (GSO) / Province code (GSO)"),
    Column("province_name", Text, comment="Tên tỉnh / Province name"),
    Column(
        "park_membership",
        Text,
        nullable=False,
        comment="Thuộc công viên: full (toàn bộ), partial (một phần), none (không) / "
        "Park membership: full, partial or none",
    ),
    Column("source_name", Text, comment="Tên trong tệp nguồn / Name as spelt in the source file"),
    Column(
        "name_match",
        Text,
        comment="Cách khớp tên với danh mục GSO / How the name matched the GSO list",
    ),
    Column("area_ha", Float, comment="Diện tích (ha, EPSG:9215) / Area (ha, EPSG:9215)"),
    _geom("MULTIPOLYGON", "Ranh giới huyện / District boundary"),
    CheckConstraint(_in("park_membership", MEMBERSHIPS), name="park_membership"),
    *_valid_geometry("districts"),
    schema=PUBLISHED,
    comment="Huyện, thành phố của tỉnh Lạng Sơn / Districts and the city of Lạng Sơn province",
)

geosites = Table(
    "geosites",
    metadata,
    _fid(key=False),
    Column(
        "geosite_code",
        Text,
        primary_key=True,
        comment="Mã điểm di sản (ổn định) / Geosite code (stable)",
    ),
    Column("name_vi", Text, nullable=False, comment="Tên tiếng Việt / Name in Vietnamese"),
    Column("name_en", Text, comment="Tên tiếng Anh / Name in English"),
    Column("category", Text, nullable=False, comment="Loại di sản / Category"),
    Column(
        "heritage_type",
        Text,
        comment="Điểm di sản địa chất hay di sản văn hóa / Geosite or cultural site",
    ),
    Column("significance", Text, nullable=False, comment="Tầm quan trọng / Significance"),
    Column(
        "declared_cluster_code", Text, comment="Mã cụm theo danh mục / Cluster code in the register"
    ),
    Column("declared_district", Text, comment="Huyện theo danh mục / District in the register"),
    Column(
        "declared_district_code",
        Integer,
        comment="Mã huyện theo danh mục / District code in the register",
    ),
    Column("location_quality", Text, comment="Chất lượng vị trí / Location quality"),
    Column("description", Text, comment="Mô tả / Description"),
    Column("commune", Text, comment="Xã, phường / Commune"),
    Column("village", Text, comment="Thôn, bản / Village"),
    Column(
        "elevation_m", Float, comment="Độ cao theo danh mục (m) / Elevation in the register (m)"
    ),
    Column("formation", Text, comment="Hệ tầng / Geological formation"),
    Column("geological_age", Text, comment="Tuổi địa chất / Geological age"),
    Column("lithology", Text, comment="Thạch học / Lithology"),
    Column("description_vi", Text, comment="Mô tả tiếng Việt / Description in Vietnamese"),
    Column("description_en", Text, comment="Mô tả tiếng Anh / Description in English"),
    Column("photos", Text, comment="Ảnh (đường dẫn, ';') / Photographs (paths, ';')"),
    Column("photo_captions", Text, comment="Chú thích ảnh (';') / Photo captions (';')"),
    Column("photo_credits", Text, comment="Tác giả ảnh (';') / Photo credits (';')"),
    Column("access", Text, comment="Đường tiếp cận / Access"),
    Column("threats", Text, comment="Đe dọa ghi nhận / Recorded threats"),
    Column("protection_status", Text, comment="Tình trạng bảo vệ pháp lý / Legal protection"),
    Column("land_tenure", Text, comment="Quyền sử dụng đất / Land tenure"),
    Column("references", Text, comment="Tài liệu tham khảo / References"),
    Column("compiler", Text, comment="Người lập / Compiler"),
    Column("compiled_on", Date, comment="Ngày lập / Date compiled"),
    *_located_and_sourced(),
    Column(
        "unit_code",
        Text,
        comment="Mã đơn vị khoanh vùng (cụm hoặc điểm) / Zoning unit code (cluster or site)",
    ),
    Column("cluster_code", Text, comment="Mã cụm sau khoanh vùng / Cluster code after zoning"),
    _geom("POINT", "Vị trí điểm di sản / Geosite location"),
    CheckConstraint(_in("category", CATEGORIES), name="category"),
    CheckConstraint(_in("significance", SIGNIFICANCES), name="significance"),
    CheckConstraint(
        f"heritage_type IS NULL OR {_in('heritage_type', HERITAGE_TYPES)}", name="heritage_type"
    ),
    CheckConstraint(
        f"location_quality IS NULL OR {_in('location_quality', LOCATION_QUALITIES)}",
        name="location_quality",
    ),
    *_valid_geometry("geosites"),
    schema=PUBLISHED,
    comment="Điểm di sản địa chất / Geosites",
)

survey_points = Table(
    "survey_points",
    metadata,
    _fid(key=False),
    Column("point_id", Text, primary_key=True, comment="Mã điểm khảo sát / Survey point id"),
    _geosite_fk(),
    Column("observation", Text, comment="Quan sát / Observation"),
    Column("survey_date", Date, comment="Ngày khảo sát / Survey date"),
    Column("team", Text, comment="Nhóm khảo sát / Survey team"),
    *_located_and_sourced(),
    _geom("POINT", "Vị trí điểm khảo sát / Survey point location"),
    *_valid_geometry("survey_points"),
    schema=PUBLISHED,
    comment="Điểm khảo sát thực địa / Field survey points",
)


def _zone_table(name: str, comment: str) -> Table:
    return Table(
        name,
        metadata,
        _fid(),
        _geosite_fk(),
        Column("name_vi", Text, comment="Tên điểm di sản / Geosite name (Vietnamese)"),
        Column("name_en", Text, comment="Tên tiếng Anh / Geosite name in English"),
        Column("category", Text, comment="Loại di sản / Category"),
        Column("significance", Text, comment="Tầm quan trọng / Significance"),
        Column("cluster_code", Text, comment="Mã cụm / Cluster code"),
        Column("unit_code", Text, comment="Mã đơn vị khoanh vùng / Zoning unit code"),
        *_zone_class(),
        *_area(),
        *_district_lists(),
        _geom("MULTIPOLYGON", "Ranh giới vùng / Zone boundary"),
        CheckConstraint(f"category IS NULL OR {_in('category', CATEGORIES)}", name="category"),
        CheckConstraint(
            f"significance IS NULL OR {_in('significance', SIGNIFICANCES)}", name="significance"
        ),
        *_valid_geometry(name),
        schema=PUBLISHED,
        comment=comment,
    )


zone_i = _zone_table(
    "zone_i",
    "Vùng I (lõi, bảo vệ nghiêm ngặt) của từng điểm di sản / "
    "Zone I (core, strict protection) of each geosite",
)
zone_ii = _zone_table(
    "zone_ii", "Vùng II (đệm) của từng điểm di sản / Zone II (buffer) of each geosite"
)


def _unit_columns(*, lone_geosite: bool) -> list[Column]:
    """The zoning unit's codes; ``lone_geosite``: and the geosite code of a lone site."""
    columns = [
        Column(
            "unit_code",
            Text,
            nullable=False,
            comment="Mã đơn vị khoanh vùng (mã cụm hoặc mã điểm đơn lẻ) / "
            "Zoning unit code (the cluster code or the lone geosite's code)",
        ),
        Column(
            "cluster_code",
            Text,
            comment="Mã cụm (trống với điểm đơn lẻ) / Cluster code (empty for lone sites)",
        ),
    ]
    if lone_geosite:
        columns.append(
            _geosite_fk(
                nullable=True,
                comment="Mã điểm di sản (chỉ với điểm đơn lẻ) / Geosite code (lone sites only)",
            )
        )
    return columns


def _unit_members() -> list[Column]:
    return [
        Column(
            "geosite_codes",
            Text,
            comment="Mã các điểm di sản, cách nhau bởi ';' / "
            "Codes of the geosites, separated by ';'",
        ),
        Column("n_geosites", Integer, comment="Số điểm di sản / Number of geosites"),
    ]


#: Status of a zoning unit.
UNIT_STATUSES = tuple(UNIT_STATUS_VI)


def _approval() -> list:
    """``status``, ``decision`` and ``decision_date`` of a zoning unit."""
    return [
        Column(
            "status",
            Text,
            nullable=False,
            comment="Trạng thái: proposed (đề xuất), adjusted (đã hiệu chỉnh), approved (đã phê "
            "duyệt) / Status: proposed, adjusted or approved",
        ),
        Column("decision", Text, comment="Số quyết định phê duyệt / Approving decision number"),
        Column("decision_date", Text, comment="Ngày quyết định / Decision date (YYYY-MM-DD)"),
        CheckConstraint(_in("status", UNIT_STATUSES), name="status"),
    ]


protection_zones = Table(
    "protection_zones",
    metadata,
    _fid(),
    *_unit_columns(lone_geosite=True),
    *_unit_members(),
    *_zone_class(),
    *_area(),
    *_approval(),
    *_district_lists(),
    _geom(
        "MULTIPOLYGON",
        "Ranh giới pháp lý: đa giác qua các mốc giới / Legal boundary: the boundary-marker polygon",
    ),
    *_valid_geometry("protection_zones"),
    schema=PUBLISHED,
    comment="Vùng bảo vệ không chồng lấn theo cụm hoặc điểm đơn lẻ (vùng I thắng vùng II); hình "
    "là đa giác qua các mốc giới, diện tích là diện tích của nó / "
    "Non-overlapping protection zones per cluster or lone geosite (Zone I wins over Zone II); "
    "the geometry is the boundary-marker polygon and the area its area",
)

protection_zones_detailed = Table(
    "protection_zones_detailed",
    metadata,
    _fid(),
    *_unit_columns(lone_geosite=True),
    *_unit_members(),
    *_zone_class(),
    *_area(),
    *_district_lists(),
    Column(
        "status",
        Text,
        comment="Trạng thái: proposed (đề xuất), adjusted (đã hiệu chỉnh), approved (đã phê "
        "duyệt) / Status: proposed, adjusted or approved",
    ),
    CheckConstraint(f"status IS NULL OR {_in('status', UNIT_STATUSES)}", name="status"),
    _geom("MULTIPOLYGON", "Ranh giới chi tiết / Detailed outline"),
    *_valid_geometry("protection_zones_detailed"),
    schema=PUBLISHED,
    comment="Vùng bảo vệ chi tiết (đề xuất hoặc hiệu chỉnh) trước khi khái quát hóa thành mốc "
    "giới / Detailed protection zones (proposal or adjustment) before generalisation to markers",
)

boundary_markers = Table(
    "boundary_markers",
    metadata,
    _fid(),
    Column("unit_code", Text, nullable=False, comment="Mã đơn vị khoanh vùng / Zoning unit code"),
    *_zone_class(),
    Column("part", Integer, nullable=False, comment="Phần của vùng / Part of the zone"),
    Column("ring", Integer, nullable=False, comment="Vòng ranh giới / Boundary ring"),
    Column(
        "ring_kind", Text, nullable=False, comment="outer (ngoài) hoặc hole (lỗ) / outer or hole"
    ),
    Column("seq", Integer, nullable=False, comment="Thứ tự dọc vòng / Order along the ring"),
    Column("number", Integer, nullable=False, comment="Số hiệu mốc / Marker number"),
    Column("label", Text, nullable=False, comment="Ký hiệu mốc (I-1, II-3) / Marker label"),
    Column("x_vn2000", Float, nullable=False, comment="X VN-2000 (hướng bắc, m) / X (northing, m)"),
    Column("y_vn2000", Float, nullable=False, comment="Y VN-2000 (hướng đông, m) / Y (easting, m)"),
    Column("lon", Float, nullable=False, comment="Kinh độ WGS 84 / WGS 84 longitude"),
    Column("lat", Float, nullable=False, comment="Vĩ độ WGS 84 / WGS 84 latitude"),
    Column("status", Text, nullable=False, comment="Trạng thái đơn vị / Status of the zoning unit"),
    _geom("POINT", "Vị trí mốc giới / Boundary marker location"),
    CheckConstraint(_in("ring_kind", ("outer", "hole")), name="ring_kind"),
    CheckConstraint(_in("status", UNIT_STATUSES), name="status"),
    UniqueConstraint("unit_code", "zone_class", "number", name="marker_number"),
    *_valid_geometry("boundary_markers"),
    schema=PUBLISHED,
    comment="Mốc giới: ranh giới pháp lý của các vùng bảo vệ / "
    "Boundary markers: the legal boundary of the protection zones",
)

clusters = Table(
    "clusters",
    metadata,
    _fid(),
    *_unit_columns(lone_geosite=False),
    *_unit_members(),
    *_zone_class(),
    *_area(),
    *_district_lists(),
    *_approval(),
    _geom("MULTIPOLYGON", "Ranh giới vùng của cụm / Cluster zone boundary"),
    *_valid_geometry("clusters"),
    schema=PUBLISHED,
    comment="Vùng bảo vệ của các cụm điểm di sản / Protection zones of geosite clusters",
)

zone_district_areas = Table(
    "zone_district_areas",
    metadata,
    _fid(),
    *_unit_columns(lone_geosite=True),
    *_zone_class(),
    Column(
        "district_code",
        Integer,
        ForeignKey(f"{PUBLISHED}.districts.district_code"),
        nullable=False,
        comment="Mã huyện (GSO) / District code (GSO)",
    ),
    Column("district_name", Text, comment="Tên huyện / District name"),
    *_area(),
    _geom("MULTIPOLYGON", "Phần vùng nằm trong huyện / Zone piece inside the district"),
    *_valid_geometry("zone_district_areas"),
    schema=PUBLISHED,
    comment="Diện tích từng vùng theo huyện / Each zone piece per district, with its area",
)

qa_findings = Table(
    "qa_findings",
    metadata,
    _fid(),
    Column(
        "severity",
        Text,
        nullable=False,
        comment="Mức độ: error, warning, info / Severity: error, warning, info",
    ),
    Column("check", Text, nullable=False, comment="Phép kiểm tra / Check"),
    Column("subject", Text, comment="Đối tượng / Subject"),
    Column("message", Text, comment="Thông báo (tiếng Anh) / Message (English)"),
    Column("message_vi", Text, comment="Thông báo (tiếng Việt) / Message (Vietnamese)"),
    Column("value", Float, comment="Giá trị đo / Measured value"),
    Column("area_m2", Float, comment="Diện tích liên quan (m²) / Area concerned (m²)"),
    _geom(
        "POINT",
        "Vị trí phát hiện (có thể trống) / Where the finding is (may be empty)",
        nullable=True,
    ),
    CheckConstraint(_in("severity", SEVERITIES), name="severity"),
    *_valid_geometry("qa_findings", nullable=True),
    schema=PUBLISHED,
    comment="Kết quả kiểm tra chất lượng / QA findings",
)


def _threat_columns() -> list:
    """What a threat feature is (``[[inputs.threats]]``, pipeline.ingest.threats)."""
    return [
        Column("threat_id", Text, nullable=False, comment="Mã đối tượng / Feature id"),
        Column("threat_layer", Text, nullable=False, comment="Lớp nguồn / Source layer"),
        Column(
            "kind", Text, nullable=False, comment="Loại (mỏ, đường, ...) / Kind (quarry, road, ...)"
        ),
        Column(
            "status",
            Text,
            comment="Hiện trạng: existing, licensed, planned / Status: existing, licensed, planned",
        ),
        Column("name", Text, comment="Tên / Name"),
        Column("owner", Text, comment="Chủ sở hữu, chủ đầu tư / Owner, licence holder or investor"),
        Column("threat_date", Date, comment="Ngày giấy phép, quy hoạch / Date of licence or plan"),
        Column(
            "illustrative",
            Boolean,
            comment="Dữ liệu minh họa, không phải giấy phép thật / Illustrative, not real data",
        ),
        CheckConstraint(_in("status", THREAT_STATUSES), name="status"),
    ]


def _threat_table(name: str, kind: str, comment: str) -> Table:
    return Table(
        name,
        metadata,
        _fid(),
        *_threat_columns(),
        Column("surface", Text, comment="Mặt đường: paved, gravel, track / Road surface"),
        Column("bus_parking", Boolean, comment="Có chỗ đỗ xe buýt / Bus parking"),
        _geom(kind, comment),
        *_valid_geometry(name),
        schema=PUBLISHED,
        comment=comment,
    )


threat_areas = _threat_table(
    "threat_areas",
    "MULTIPOLYGON",
    "Yếu tố đe dọa dạng vùng (giấy phép khai thác, quy hoạch, vùng trượt lở) / "
    "Threats as areas (licences, plans, landslide zones)",
)
threat_lines = _threat_table(
    "threat_lines",
    "MULTILINESTRING",
    "Yếu tố đe dọa dạng tuyến (đường giao thông) / Threats as lines (roads)",
)
threat_points = _threat_table(
    "threat_points",
    "MULTIPOINT",
    "Yếu tố đe dọa dạng điểm (mỏ đá, công trình) / Threats as points (quarries, works)",
)

conflicts = Table(
    "conflicts",
    metadata,
    _fid(),
    Column("unit_code", Text, nullable=False, comment="Mã đơn vị khoanh vùng / Zoning unit code"),
    Column(
        "zone_class",
        Text,
        comment="Cấp vùng (I/II; trống khi ở ngoài) / Zone class (empty when outside)",
    ),
    Column(
        "relation",
        Text,
        nullable=False,
        comment="inside_zone_i, inside_zone_ii hoặc near (gần, ngoài vùng) / "
        "inside_zone_i, inside_zone_ii or near (outside, within the set distance)",
    ),
    Column("severity", Text, nullable=False, comment="Mức độ / Severity"),
    *_threat_columns(),
    Column("geosite_codes", Text, comment="Các điểm di sản của đơn vị / The unit's geosites"),
    Column("overlap_area_ha", Float, comment="Diện tích chồng lấn (ha) / Overlapping area (ha)"),
    Column("overlap_length_m", Float, comment="Chiều dài trong vùng (m) / Length inside (m)"),
    Column(
        "distance_m",
        Float,
        comment="Khoảng cách ngắn nhất tới điểm di sản (m) / Shortest distance to a geosite (m)",
    ),
    _geom("POINT", "Vị trí xung đột / Where the conflict is"),
    CheckConstraint(_in("relation", ("inside_zone_i", "inside_zone_ii", "near")), name="relation"),
    CheckConstraint(_in("severity", SEVERITIES), name="severity"),
    *_valid_geometry("conflicts"),
    schema=PUBLISHED,
    comment="Yếu tố đe dọa trong và gần vùng bảo vệ / Threat features inside and near the zones",
)

geosite_risk_computed = Table(
    "geosite_risk_computed",
    metadata,
    _fid(),
    _geosite_fk(),
    Column("criterion", Text, nullable=False, comment="Tiêu chí (Brilha 2016) / Criterion"),
    Column(
        "computed_score", Integer, nullable=False, comment="Điểm tính từ dữ liệu / Computed score"
    ),
    Column("hand_score", Integer, comment="Điểm nhập tay / Hand-entered score"),
    Column("distance_m", Float, comment="Khoảng cách gần nhất (m) / Nearest distance (m)"),
    Column("source_layers", Text, comment="Lớp dùng để tính / Layers it was computed from"),
    Column(
        "complete",
        Boolean,
        comment="Lớp đầy đủ (nếu không: cận dưới) / Complete layers (else a lower bound)",
    ),
    Column("disagrees", Boolean, comment="Khác điểm nhập tay / Differs from the hand score"),
    CheckConstraint("computed_score BETWEEN 0 AND 4", name="computed_score"),
    schema=PUBLISHED,
    comment="Tiêu chí rủi ro suy thoái tính từ dữ liệu (Brilha 2016) / "
    "Degradation-risk criteria computed from data (Brilha 2016)",
)

quarantine = Table(
    "quarantine",
    metadata,
    _fid(),
    Column("file", Text, comment="Tệp / File"),
    Column("row", Integer, comment="Dòng (tiêu đề là dòng 1) / Row (the header is row 1)"),
    Column("field", Text, comment="Trường / Field"),
    Column("value", Text, comment="Giá trị / Value"),
    Column("expected", Text, comment="Giá trị mong đợi / Expected"),
    Column("message_vi", Text, comment="Thông báo (tiếng Việt) / Message (Vietnamese)"),
    Column("message_en", Text, comment="Thông báo (tiếng Anh) / Message (English)"),
    Column("record_id", Text, comment="Mã bản ghi / Record id"),
    _geom(
        "POINT",
        "Vị trí của dòng bị loại (nếu có) / Location of the rejected row (if any)",
        nullable=True,
    ),
    *_valid_geometry("quarantine", nullable=True),
    schema=PUBLISHED,
    comment="Các dòng dữ liệu bị loại / Rejected input rows",
)

_value_comment = "thang 0–400 / scale 0–400"
geosite_assessment = Table(
    "geosite_assessment",
    metadata,
    _geosite_fk(primary_key=True),
    _fid(
        key=False, comment="Số hiệu bản ghi (fid của GeoPackage) / Record id (the GeoPackage fid)"
    ),
    Column(
        "scientific_value",
        Float,
        comment=f"Giá trị khoa học, {_value_comment} / Scientific value, {_value_comment}",
    ),
    Column(
        "educational_value",
        Float,
        comment=f"Tiềm năng giáo dục, {_value_comment} / Educational value, {_value_comment}",
    ),
    Column(
        "touristic_value",
        Float,
        comment=f"Tiềm năng du lịch, {_value_comment} / Touristic value, {_value_comment}",
    ),
    Column(
        "degradation_risk",
        Float,
        comment=f"Nguy cơ suy thoái, {_value_comment} / Degradation risk, {_value_comment}",
    ),
    Column("scientific_class", Text, comment="Hạng giá trị khoa học / Scientific value class"),
    Column("educational_class", Text, comment="Hạng tiềm năng giáo dục / Educational value class"),
    Column("touristic_class", Text, comment="Hạng tiềm năng du lịch / Touristic value class"),
    Column(
        "degradation_risk_class", Text, comment="Hạng nguy cơ suy thoái / Degradation risk class"
    ),
    Column(
        "illustrative",
        Boolean,
        comment="Điểm minh họa, không phải đánh giá thật / Illustrative scores, not a real assessment",
    ),
    *[
        CheckConstraint(f"{c} IS NULL OR {c} BETWEEN 0 AND 400", name=c)
        for c in ("scientific_value", "educational_value", "touristic_value", "degradation_risk")
    ],
    schema=PUBLISHED,
    comment="Đánh giá định lượng điểm di sản (Brilha 2016) / Quantitative geosite assessment (Brilha 2016)",
)

geosite_assessment_criteria = Table(
    "geosite_assessment_criteria",
    metadata,
    _fid(),
    _geosite_fk(),
    Column(
        "value",
        Text,
        comment="Giá trị đánh giá (SV, PEU, PTU, DR) / Assessed value (SV, PEU, PTU, DR)",
    ),
    Column("criterion", Text, comment="Tiêu chí / Criterion"),
    Column("score", Integer, comment="Điểm 0–4 / Score 0–4"),
    Column("weight", Integer, comment="Trọng số (%) / Weight (%)"),
    CheckConstraint("score IS NULL OR score BETWEEN 0 AND 4", name="score"),
    schema=PUBLISHED,
    comment="Điểm từng tiêu chí đánh giá (Brilha 2016) / Score of each assessment criterion (Brilha 2016)",
)


zone_proposals = Table(
    "zone_proposals",
    metadata,
    _fid(),
    Column(
        "unit_code",
        Text,
        nullable=False,
        comment="Mã đơn vị khoanh vùng / Zoning unit code",
    ),
    *_zone_class(),
    *_area(),
    Column(
        "proposal_sha256",
        Text,
        nullable=False,
        comment="Mã băm SHA-256 của ranh giới đề xuất / SHA-256 of the proposed boundary",
    ),
    _geom(
        "MULTIPOLYGON",
        "Ranh giới đề xuất (vùng I: lõi; vùng II: toàn bộ ranh giới ngoài) / "
        "Proposed boundary (Zone I: the core; Zone II: the whole footprint)",
    ),
    *_valid_geometry("zone_proposals"),
    schema=PUBLISHED,
    comment="Ranh giới đề xuất theo quy tắc của mỗi đơn vị, trước điều chỉnh thủ công / "
    "Each unit's boundary as the rules propose it, before hand adjustments",
)

geosite_extents = Table(
    "geosite_extents",
    metadata,
    _fid(),
    _geosite_fk(),
    Column("extent_kind", Text, comment="Loại phạm vi / Kind of extent"),
    Column("source", Text, comment="Nguồn ranh giới / Where the delineation comes from"),
    Column("source_file", Text, comment="Tệp nguồn / Source file"),
    Column("source_row", Integer, comment="Đối tượng trong tệp nguồn / Feature in the source file"),
    _geom(
        "MULTILINESTRING",
        "Đường bao hoặc tuyến của phạm vi / Outline or trace of the extent",
    ),
    *_valid_geometry("geosite_extents"),
    schema=PUBLISHED,
    comment="Phạm vi điểm di sản (đường bao của vùng, tuyến hang, mặt cắt) / "
    "Geosite extents (polygon outlines, cave lines, sections)",
)


#: Published layers, parents before children (the load order).
LAYER_TABLES: tuple[Table, ...] = (
    park_extent,
    districts,
    geosites,
    survey_points,
    zone_i,
    zone_ii,
    protection_zones,
    protection_zones_detailed,
    boundary_markers,
    clusters,
    zone_district_areas,
    zone_proposals,
    geosite_extents,
    qa_findings,
    quarantine,
    geosite_assessment,
    geosite_assessment_criteria,
    threat_areas,
    threat_lines,
    threat_points,
    conflicts,
    geosite_risk_computed,
)

# --------------------------------------------------------------------------- persistent

persistent = MetaData(naming_convention=metadata.naming_convention)

publish_log = Table(
    "publish_log",
    persistent,
    Column(
        "publish_id",
        BigInteger,
        Identity(always=True),
        primary_key=True,
        comment="Số thứ tự lần xuất bản / Publish number",
    ),
    Column(
        "published_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=text("now()"),
        comment="Thời điểm / When",
    ),
    Column(
        "published_by",
        Text,
        nullable=False,
        server_default=text("session_user"),
        comment="Người dùng cơ sở dữ liệu đã xuất bản / Database user who published",
    ),
    Column(
        "status",
        Text,
        nullable=False,
        comment="published (đã thay dữ liệu) hoặc unchanged (dữ liệu giống lần trước, không thay) / "
        "published (data replaced) or unchanged (same data as before, nothing replaced)",
    ),
    Column(
        "fingerprint",
        Text,
        nullable=False,
        comment="SHA-256 của nội dung đã nạp / SHA-256 of the loaded content",
    ),
    Column(
        "geopackage_sha256",
        Text,
        comment="SHA-256 của tệp GeoPackage / SHA-256 of the GeoPackage file",
    ),
    Column(
        "inputs",
        JSONB,
        comment="Dữ liệu đầu vào với SHA-256 (từ run_manifest.json) / "
        "Inputs with their SHA-256 (from run_manifest.json)",
    ),
    Column("counts", JSONB, comment="Số đối tượng mỗi lớp / Feature count per layer"),
    Column("pipeline_version", Text, comment="Phiên bản quy trình / Pipeline version"),
    Column(
        "schema_revision", Text, comment="Phiên bản lược đồ (Alembic) / Schema revision (Alembic)"
    ),
    Column(
        "sample_data",
        Boolean,
        comment="Dữ liệu mẫu, vị trí gần đúng / Sample data, approximate locations",
    ),
    CheckConstraint("status IN ('published', 'unchanged')", name="status"),
    schema=PUBLISHED,
    comment="Nhật ký xuất bản cơ sở dữ liệu / Log of every publish",
)

qgis_projects = Table(
    "qgis_projects",
    persistent,
    Column("name", Text, primary_key=True, comment="Tên dự án QGIS / QGIS project name"),
    Column("metadata", JSONB, comment="Siêu dữ liệu QGIS / QGIS metadata"),
    Column("content", LargeBinary, comment="Tệp dự án (.qgz) / Project file (.qgz)"),
    schema=PUBLISHED,
    comment="Dự án QGIS lưu trong cơ sở dữ liệu (bộ lưu dự án PostgreSQL của QGIS) / "
    "QGIS projects stored in the database (QGIS's PostgreSQL project storage)",
)


def _stamps() -> list[Column]:
    """Who (the login, ``session_user``) created and last changed a row, and when:
    set by a trigger (``ddl.AUDIT_FUNCTIONS``), whatever the client sends."""
    return [
        Column(
            "created_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=text("now()"),
            comment="Thời điểm nhập / When it was entered",
        ),
        Column(
            "created_by",
            Text,
            nullable=False,
            server_default=text("session_user"),
            comment="Tài khoản đăng nhập đã nhập / Login that entered it",
        ),
        Column(
            "updated_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=text("now()"),
            comment="Thời điểm sửa gần nhất / When it was last changed",
        ),
        Column(
            "updated_by",
            Text,
            nullable=False,
            server_default=text("session_user"),
            comment="Tài khoản đăng nhập đã sửa gần nhất / Login that last changed it",
        ),
    ]


inspections = Table(
    "inspections",
    persistent,
    Column(
        "inspection_id",
        BigInteger,
        Identity(always=False),
        primary_key=True,
        comment="Số hiệu lần kiểm tra / Inspection id",
    ),
    Column(
        "geosite_code",
        Text,
        nullable=False,
        comment="Mã điểm di sản (ổn định; giữ lại cả khi điểm bị xóa khỏi danh mục) / "
        "Geosite code (stable; kept even if the geosite leaves the register)",
    ),
    Column("inspected_on", Date, nullable=False, comment="Ngày kiểm tra / Date of the inspection"),
    Column("inspector", Text, nullable=False, comment="Người kiểm tra / Inspector"),
    Column(
        "condition",
        Text,
        nullable=False,
        comment="Tình trạng: good (tốt), fair (khá), poor (kém), critical (nguy cấp) / "
        "Condition: good, fair, poor, critical",
    ),
    Column("threats", Text, comment="Mối đe dọa / Threats"),
    Column("notes", Text, comment="Ghi chú / Notes"),
    Column(
        "geom",
        Geometry("POINT", srid=SRID, spatial_index=False),
        nullable=True,
        comment="Vị trí quan sát (không bắt buộc) / Where it was observed (optional)",
    ),
    *_stamps(),
    CheckConstraint(_in("condition", CONDITIONS), name="condition"),
    CheckConstraint(f"geom IS NULL OR {st('ST_IsValid')}(geom)", name="geom_valid"),
    Index("inspections_geom_gist", "geom", postgresql_using="gist"),
    Index("inspections_geosite_code_idx", "geosite_code"),
    schema=RECORDS,
    comment="Hồ sơ kiểm tra thực địa điểm di sản (do người dùng nhập, không bao giờ bị xóa khi xuất bản) / "
    "Field inspections of geosites (entered by users, never removed by a publish)",
    info={
        "editable": (
            "geosite_code",
            "inspected_on",
            "inspector",
            "condition",
            "threats",
            "notes",
            "geom",
        ),
        "audited": True,
    },
)


def history_table(table: Table) -> Table:
    """The history of an audited table: every previous version of its rows, whole
    (``old_row``, JSON), with who replaced or deleted it and when. Append-only:
    nobody may change or delete it (triggers refuse, even the owner)."""
    key = next(iter(table.primary_key.columns))
    name = f"{table.name}_history"
    return Table(
        name,
        table.metadata,
        Column(
            "history_id",
            BigInteger,
            Identity(always=True),
            primary_key=True,
            comment="Số thứ tự phiên bản cũ / Number of the old version",
        ),
        Column(key.name, key.type, nullable=False, comment=key.comment),
        Column(
            "operation",
            Text,
            nullable=False,
            comment="UPDATE (bị sửa) hoặc DELETE (bị xóa) / UPDATE (changed) or DELETE (deleted)",
        ),
        Column(
            "old_row",
            JSONB,
            nullable=False,
            comment="Toàn bộ dòng trước khi sửa hoặc xóa / The whole row before the change or deletion",
        ),
        Column(
            "changed_at",
            DateTime(timezone=True),
            nullable=False,
            server_default=text("now()"),
            comment="Thời điểm sửa hoặc xóa / When it was changed or deleted",
        ),
        Column(
            "changed_by",
            Text,
            nullable=False,
            server_default=text("session_user"),
            comment="Tài khoản đăng nhập đã sửa hoặc xóa / Login that changed or deleted it",
        ),
        CheckConstraint("operation IN ('UPDATE', 'DELETE')", name="operation"),
        Index(f"{name}_{key.name}_idx", key.name),
        schema=table.schema,
        comment=f"Lịch sử các phiên bản cũ của {table.name} (chỉ thêm, không sửa, không xóa) / "
        f"Previous versions of {table.name} (append-only: never changed, never deleted)",
    )


inspections_history = history_table(inspections)

geosite_locations = Table(
    "geosite_locations",
    persistent,
    Column(
        "geosite_code",
        Text,
        primary_key=True,
        comment="Mã điểm di sản / Geosite code",
    ),
    Column("name_vi", Text, comment="Tên tiếng Việt gần nhất / Latest name in Vietnamese"),
    Column("name_en", Text, comment="Tên tiếng Anh gần nhất / Latest name in English"),
    Column(
        "geom",
        Geometry("POINT", srid=SRID, spatial_index=False),
        nullable=False,
        comment="Vị trí đã xuất bản gần nhất / Last published location",
    ),
    Column(
        "updated_at",
        DateTime(timezone=True),
        nullable=False,
        server_default=text("now()"),
        comment="Lần xuất bản đổi vị trí hoặc tên / When a publish last changed the location or names",
    ),
    schema=RECORDS,
    comment="Vị trí cuối cùng đã biết của mọi điểm di sản từng xuất bản (xuất bản chỉ thêm/sửa, "
    "không bao giờ xóa), để hồ sơ của điểm đã rời danh mục vẫn hiện trên bản đồ / "
    "Last known location of every geosite ever published (a publish adds and updates, never "
    "deletes), so records of a geosite that left the register stay on the map",
)

publish_lock = Table(
    "publish_lock",
    persistent,
    Column("id", Integer, primary_key=True, comment="Không dùng / Unused"),
    schema=PUBLISHED,
    comment="Khóa xuất bản: mỗi lần xuất bản khóa bảng này (LOCK TABLE, chỉ vai trò chủ sở hữu làm "
    "được) / The publish lock: each publish locks this table (LOCK TABLE, which only the owner "
    "role can do)",
)


zone_adjustments = Table(
    "zone_adjustments",
    persistent,
    Column(
        "adjustment_id",
        BigInteger,
        Identity(always=True),
        primary_key=True,
        comment="Số hiệu điều chỉnh / Adjustment id",
    ),
    Column(
        "unit_code",
        Text,
        nullable=False,
        comment="Mã đơn vị khoanh vùng (mã cụm hoặc mã điểm đơn lẻ) / "
        "Zoning unit code (the cluster code or the lone geosite's code)",
    ),
    Column(
        "zone_class",
        Text,
        nullable=False,
        comment="Cấp vùng: I (lõi) hoặc II (toàn bộ ranh giới ngoài của đơn vị) / "
        "Zone class: I (the core) or II (the unit's whole footprint)",
    ),
    Column("author", Text, nullable=False, comment="Người điều chỉnh / Who adjusted it"),
    Column("adjusted_on", Date, nullable=False, comment="Ngày điều chỉnh / Date of the adjustment"),
    Column("reason", Text, nullable=False, comment="Lý do / Why the boundary was moved"),
    Column(
        "proposal_sha256",
        Text,
        comment="SHA-256 của ranh giới đề xuất khi sao chép / "
        "SHA-256 of the proposed boundary when it was copied",
    ),
    Column(
        "proposal_area_ha",
        Float,
        comment="Diện tích đề xuất khi sao chép (ha) / Proposal area when it was copied (ha)",
    ),
    Column(
        "geom",
        Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False),
        nullable=False,
        comment="Ranh giới đã điều chỉnh / The adjusted boundary",
    ),
    *_stamps(),
    CheckConstraint(_in("zone_class", ZONE_CLASSES), name="zone_class"),
    CheckConstraint(
        f"{st('ST_IsValid')}(geom) AND NOT {st('ST_IsEmpty')}(geom)", name="geom_valid"
    ),
    UniqueConstraint("unit_code", "zone_class", name="zone_adjustments_unit_zone_key"),
    Index("zone_adjustments_geom_gist", "geom", postgresql_using="gist"),
    schema=RECORDS,
    comment="Điều chỉnh thủ công ranh giới vùng bảo vệ (bản dùng chung; nguồn chính là "
    "data/edits/zone_adjustments.gpkg, lấy về bằng geopark adjust --from-db) / "
    "Hand adjustments of protection zones (the shared copy; the source of truth is "
    "data/edits/zone_adjustments.gpkg, pulled in with geopark adjust --from-db)",
    info={
        "editable": (
            "unit_code",
            "zone_class",
            "author",
            "adjusted_on",
            "reason",
            "proposal_sha256",
            "proposal_area_ha",
            "geom",
        ),
        "audited": True,
    },
)

zone_adjustments_history = history_table(zone_adjustments)


def editable_tables() -> list[Table]:
    """Persistent tables the editor role may write (``info["editable"]``)."""
    return [t for t in persistent.sorted_tables if t.info.get("editable")]


def audited_tables() -> list[Table]:
    """Persistent tables with stamps and a history (``info["audited"]``)."""
    return [t for t in persistent.sorted_tables if t.info.get("audited")]
