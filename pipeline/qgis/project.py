"""The QGIS project: every layer grouped and styled, for the GeoPackage and for PostGIS.

The project is QGIS's own XML (``.qgs``) zipped into a ``.qgz``, written here
without QGIS: a small document whose map layers carry the same style
elements as the ``.qml`` files in ``pipeline/styles`` (a layer in a project
holds exactly what its QML holds). QGIS fills in the rest (fields, extents)
from the data when it opens the project; the tests prove it opens.

* :func:`write_geopackage_project` writes ``geopark.qgz`` beside the
  GeoPackage, with paths relative to it, so the pair can be copied anywhere.
* :func:`store_project_in_postgres` stores the project in QGIS's project
  storage in PostgreSQL (``<schema>.qgis_projects``: the ``.qgz`` bytes and
  QGIS's metadata JSON), its layers reading the PostGIS tables through a
  ``pg_service.conf`` service or the database name, so that no credentials are
  stored in it. QGIS users open it with *Project ▸ Open From ▸ PostgreSQL*.

The output is deterministic: the same layers give the same bytes, so a
republish of the same outputs leaves the stored project untouched.
"""

from __future__ import annotations

import io
import json
import sqlite3
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import pyproj

from pipeline.config import Config
from pipeline.outputs import GPKG_LAYERS
from pipeline.qgis.styles import POSTGIS_GEOMETRY_COLUMN, gpkg_geometry_columns, layer_style
from pipeline.report import SAMPLE_NOTE

if TYPE_CHECKING:  # SQLAlchemy is loaded by the PostGIS functions only, not by `geopark zones`
    from sqlalchemy.engine import Connection

PROJECT_CRS = "EPSG:9215"
QGIS_VERSION = "3.22.16-Białowieża"  # the version the templates are checked against

TITLE_VI = "Công viên địa chất Lạng Sơn — vùng bảo vệ di sản địa chất"
TITLE_EN = "Lạng Sơn Geopark — geoheritage protection zones"

#: Layer tree: (group name, [(layer, visible)]), top of the legend first.
GROUPS: list[tuple[str, list[tuple[str, bool]]]] = [
    ("Kiểm tra / QA", [("qa_findings", True), ("quarantine", False)]),
    # the geologists' edits (data/edits, editable) over the proposals they start from
    (
        "Chỉnh sửa / Edits",
        [("zone_adjustments", True), ("zone_proposals", False)],
    ),
    (
        "Di sản / Geosites",
        [("geosites", True), ("survey_points", False), ("geosite_extents", True)],
    ),
    (
        "Đe dọa / Threats",
        [
            ("conflicts", True),
            ("threat_points", True),
            ("threat_lines", True),
            ("threat_areas", True),
        ],
    ),
    (
        "Vùng bảo vệ / Protection zones",
        [
            ("boundary_markers", True),
            ("protection_zones", True),
            ("protection_zones_detailed", False),
            ("clusters", False),
            ("zone_i", False),
            ("zone_ii", False),
            ("zone_district_areas", False),
        ],
    ),
    ("Ranh giới / Boundaries", [("districts", True), ("park_extent", True)]),
]

#: Legend names of the layers, Vietnamese / English.
LAYER_TITLES = {
    "conflicts": "Xung đột với vùng bảo vệ / Conflicts with the zones",
    "threat_points": "Yếu tố đe dọa (điểm) / Threats (points)",
    "threat_lines": "Yếu tố đe dọa (tuyến) / Threats (lines)",
    "threat_areas": "Yếu tố đe dọa (vùng) / Threats (areas)",
    "qa_findings": "Kết quả kiểm tra / QA findings",
    "quarantine": "Dòng bị loại / Quarantined rows",
    "geosites": "Điểm di sản / Geosites",
    "survey_points": "Điểm khảo sát / Survey points",
    "protection_zones": "Vùng bảo vệ / Protection zones",
    "boundary_markers": "Mốc giới / Boundary markers",
    "protection_zones_detailed": "Vùng bảo vệ chi tiết (trước khi cắm mốc) / Detailed zones (before markers)",
    "clusters": "Cụm di sản / Geosite clusters",
    "zone_i": "Vùng I theo điểm / Zone I per geosite",
    "zone_ii": "Vùng II theo điểm / Zone II per geosite",
    "zone_district_areas": "Vùng bảo vệ theo huyện / Zones by district",
    "districts": "Huyện, thành phố / Districts",
    "park_extent": "Ranh giới công viên / Park extent",
    "zone_adjustments": "Điều chỉnh ranh giới (sửa được) / Zone adjustments (editable)",
    "zone_proposals": "Ranh giới đề xuất / Proposed boundaries",
    "geosite_extents": "Phạm vi điểm di sản / Geosite extents",
}

#: Layers the edits snap to (vertices and segments): the zones, districts and extents.
SNAP_TO = (
    "zone_adjustments",
    "zone_proposals",
    "protection_zones",
    "zone_i",
    "zone_ii",
    "districts",
    "park_extent",
    "geosite_extents",
)
SNAP_TOLERANCE_PX = 12

_ZIP_DATE = (2021, 12, 16, 0, 0, 0)  # fixed, so the same project gives the same bytes


@dataclass(frozen=True)
class ProjectLayer:
    """One layer of the project and where QGIS reads it from."""

    name: str
    provider: str  # "ogr" or "postgres"
    source: str
    geometry_type: str  # e.g. "MultiPolygon"
    editable: bool = False  # generated layers are read-only; the edits are not


@dataclass(frozen=True)
class ProjectInfo:
    title: str
    abstract: str


def project_info(cfg: Config | None = None) -> ProjectInfo:
    """Bilingual title and abstract, saying so when the data are approximate samples."""
    title_vi, title_en = TITLE_VI, TITLE_EN
    abstract = f"{TITLE_VI}. / {TITLE_EN}."
    if cfg is not None:
        title_vi = f"{cfg.park.name_vi} — vùng bảo vệ di sản địa chất"
        title_en = f"{cfg.park.name_en} — geoheritage protection zones"
        abstract = f"{title_vi} ({cfg.park.legal_basis}). / {title_en}."
    title = f"{title_vi} / {title_en}"
    if cfg is not None and cfg.park.sample_data:
        title += " — DỮ LIỆU MẪU, GẦN ĐÚNG / SAMPLE DATA, APPROXIMATE"
        abstract += " " + SAMPLE_NOTE
    return ProjectInfo(title=title, abstract=abstract)


# --------------------------------------------------------------------------- XML


@cache
def _crs_element_xml(authid: str) -> str:
    crs = pyproj.CRS.from_user_input(authid)
    ellipsoid_id = (crs.ellipsoid.to_json_dict().get("id") or {}) if crs.ellipsoid else {}
    with warnings.catch_warnings():  # PROJ strings are lossy; QGIS reads the WKT first
        warnings.simplefilter("ignore", UserWarning)
        proj4 = crs.to_proj4()
    srs = ET.Element("spatialrefsys", {"nativeFormat": "Wkt"})
    values = {
        "wkt": crs.to_wkt(pyproj.enums.WktVersion.WKT2_2019),
        "proj4": proj4,
        "srid": str(crs.to_epsg() or ""),
        "authid": authid,
        "description": crs.name,
        "projectionacronym": "tmerc"
        if "Transverse Mercator"
        in (crs.coordinate_operation.method_name if crs.coordinate_operation else "")
        else "",
        "ellipsoidacronym": f"EPSG:{ellipsoid_id['code']}" if "code" in ellipsoid_id else "",
        "geographicflag": "true" if crs.is_geographic else "false",
    }
    for tag, value in values.items():
        ET.SubElement(srs, tag).text = value
    return ET.tostring(srs, encoding="unicode")


def _crs_element(authid: str = PROJECT_CRS) -> ET.Element:
    return ET.fromstring(_crs_element_xml(authid))


def _style_root(layer: str) -> ET.Element:
    style = layer_style(layer)
    assert style is not None, f"no style for {layer}"
    return ET.fromstring(
        style.qml.split("\n", 1)[1] if style.qml.startswith("<!DOCTYPE") else style.qml
    )


def _map_layer(layer: ProjectLayer, layer_id: str) -> ET.Element:
    """A ``<maplayer>``: the data source plus the QML's style elements."""
    style = _style_root(layer.name)
    attrs = {k: v for k, v in style.attrib.items() if k not in ("version", "styleCategories")}
    kind = {"Point": "Point", "LineString": "Line"}.get(
        layer.geometry_type.removeprefix("Multi"), "Polygon"
    )
    element = ET.Element(
        "maplayer",
        {
            **attrs,
            "readOnly": "0" if layer.editable else "1",
            "type": "vector",
            "geometry": kind,
            "wkbType": layer.geometry_type,
            "autoRefreshEnabled": "0",
            "autoRefreshTime": "0",
            "refreshOnNotifyEnabled": "0",
            "refreshOnNotifyMessage": "",
            "styleCategories": "AllStyleCategories",
        },
    )
    ET.SubElement(element, "id").text = layer_id
    ET.SubElement(element, "datasource").text = layer.source
    ET.SubElement(element, "layername").text = LAYER_TITLES.get(layer.name, layer.name)
    srs = ET.SubElement(element, "srs")
    srs.append(_crs_element())
    ET.SubElement(element, "provider", {"encoding": "UTF-8"}).text = layer.provider
    element.extend(list(style))
    return element


def _snapping(layers: Sequence[ProjectLayer]) -> ET.Element:
    """Snapping on, to vertices and segments of the zones, districts and extents
    (QGIS's advanced configuration: one setting per layer)."""
    # QgsSnappingConfig: mode 3 = advanced (per layer); type 3 = vertex | segment
    # flags; units 1 = pixels.
    settings = ET.Element(
        "snapping-settings",
        {
            "enabled": "1",
            "mode": "3",
            "type": "3",
            "tolerance": str(SNAP_TOLERANCE_PX),
            "unit": "1",
            "intersection-snapping": "0",
            "self-snapping": "0",
            "scaleDependencyMode": "0",
            "minScale": "0",
            "maxScale": "0",
        },
    )
    per_layer = ET.SubElement(settings, "individual-layer-settings")
    for layer in layers:
        ET.SubElement(
            per_layer,
            "layer-setting",
            {
                "id": f"geopark_{layer.name}",
                "enabled": "1" if layer.name in SNAP_TO else "0",
                "type": "3",
                "tolerance": str(SNAP_TOLERANCE_PX),
                "units": "1",
                "minScale": "0",
                "maxScale": "0",
            },
        )
    return settings


def project_xml(
    layers: Sequence[ProjectLayer],
    info: ProjectInfo,
    extent: tuple[float, float, float, float] | None,
) -> bytes:
    """The ``.qgs`` document for ``layers`` (those not in :data:`GROUPS` are left out)."""
    by_name = {layer.name: layer for layer in layers}
    root = ET.Element("qgis", {"projectname": info.title, "version": QGIS_VERSION})
    ET.SubElement(root, "homePath", {"path": ""})
    ET.SubElement(root, "title").text = info.title
    ET.SubElement(root, "autotransaction", {"active": "0"})
    ET.SubElement(root, "evaluateDefaultValues", {"active": "0"})
    ET.SubElement(root, "trust", {"active": "0"})
    ET.SubElement(root, "projectFlags", {"set": ""})
    ET.SubElement(root, "projectCrs").append(_crs_element())

    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    project_layers = ET.Element("projectlayers")
    order = ET.Element("layerorder")
    for group_name, members in GROUPS:
        present = [(by_name[name], visible) for name, visible in members if name in by_name]
        if not present:
            continue
        group = ET.SubElement(
            tree,
            "layer-tree-group",
            {"name": group_name, "checked": "Qt::Checked", "expanded": "1"},
        )
        ET.SubElement(group, "customproperties")
        for layer, visible in present:
            layer_id = f"geopark_{layer.name}"
            node = ET.SubElement(
                group,
                "layer-tree-layer",
                {
                    "id": layer_id,
                    "name": LAYER_TITLES.get(layer.name, layer.name),
                    "source": layer.source,
                    "providerKey": layer.provider,
                    "checked": "Qt::Checked" if visible else "Qt::Unchecked",
                    "expanded": "0",
                    "legend_exp": "",
                },
            )
            ET.SubElement(node, "customproperties")
            project_layers.append(_map_layer(layer, layer_id))
            ET.SubElement(order, "layer", {"id": layer_id})
    ET.SubElement(tree, "custom-order", {"enabled": "0"})

    if extent is not None:
        canvas = ET.SubElement(
            root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"}
        )
        ET.SubElement(canvas, "units").text = "meters"
        box = ET.SubElement(canvas, "extent")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), extent, strict=True):
            ET.SubElement(box, tag).text = repr(float(value))
        ET.SubElement(canvas, "rotation").text = "0"
        ET.SubElement(canvas, "destinationsrs").append(_crs_element())
        ET.SubElement(canvas, "rendermaptile").text = "0"
    root.append(project_layers)
    root.append(order)
    root.append(_snapping([layer for layer in layers if layer.name in by_name]))

    properties = ET.SubElement(root, "properties")
    # QGIS reads <projectCrs> only when the project says it is projected.
    srs = ET.SubElement(properties, "SpatialRefSys")
    ET.SubElement(srs, "ProjectionsEnabled", {"type": "int"}).text = "1"
    ET.SubElement(srs, "ProjectCrs", {"type": "QString"}).text = PROJECT_CRS
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", {"type": "bool"}).text = "false"
    measure = ET.SubElement(properties, "Measurement")
    ET.SubElement(measure, "DistanceUnits", {"type": "QString"}).text = "meters"
    ET.SubElement(measure, "AreaUnits", {"type": "QString"}).text = "ha"
    metadata = ET.SubElement(root, "projectMetadata")
    ET.SubElement(metadata, "identifier").text = "langson-geopark"
    ET.SubElement(metadata, "parentidentifier")
    ET.SubElement(metadata, "language").text = "vi"
    ET.SubElement(metadata, "type").text = "dataset"
    ET.SubElement(metadata, "title").text = info.title
    ET.SubElement(metadata, "abstract").text = info.abstract
    ET.SubElement(metadata, "author").text = "Lạng Sơn Geopark pipeline"
    ET.indent(root, space=" ")
    body = ET.tostring(root, encoding="unicode")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n").encode(
        "utf-8"
    )


def qgz_bytes(qgs: bytes, name: str) -> bytes:
    """A ``.qgz``: the zip QGIS writes, with the project as ``<name>.qgs``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{name}.qgs", date_time=_ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        archive.writestr(info, qgs)
    return buffer.getvalue()


# --------------------------------------------------------------------------- GeoPackage


def _gpkg_extent(db: sqlite3.Connection, table: str) -> tuple[float, float, float, float] | None:
    row = db.execute(
        "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?", (table,)
    ).fetchone()
    return tuple(row) if row and None not in row else None  # type: ignore[return-value]


def write_geopackage_project(
    gpkg_path: Path,
    qgz_path: Path,
    *,
    cfg: Config | None = None,
    edits: Path | None = None,
    home: Path | None = None,
) -> None:
    """Write a ``.qgz`` showing every styled layer of ``gpkg_path``, with relative paths.

    Parameters
    ----------
    gpkg_path
        The GeoPackage; the project refers to it relative to ``qgz_path``'s folder,
        so the two must stay side by side (as in ``data/processed``).
    qgz_path
        Where to write the project.
    cfg
        The run's configuration: the park's names and whether the data are samples.
    edits
        The edits GeoPackage (``[edits] geopackage``): when it has the adjustments
        layer, the project shows it editable, relative to ``home``.
    home
        The folder the project will finally live in (default: ``qgz_path``'s), when
        it is written elsewhere first (a staging folder).
    """
    relative = Path(_relative_path(gpkg_path, qgz_path.parent))
    with sqlite3.connect(gpkg_path) as db:
        geometry_columns = gpkg_geometry_columns(db)
        extent = _gpkg_extent(db, "park_extent")
    db.close()
    layers = [
        ProjectLayer(name, "ogr", f"./{relative.as_posix()}|layername={name}", GPKG_LAYERS[name])
        for name in geometry_columns
        if name in GPKG_LAYERS and layer_style(name) is not None
    ]
    layers += _edits_layers(edits, home or qgz_path.parent)
    qgs = project_xml(layers, project_info(cfg), extent)
    qgz_path.write_bytes(qgz_bytes(qgs, qgz_path.stem))


def _edits_layers(edits: Path | None, home: Path) -> list[ProjectLayer]:
    """The editable adjustments layer of the edits GeoPackage, if it has one."""
    from pipeline.adjustments import LAYER

    if edits is None or not edits.exists():
        return []
    with sqlite3.connect(edits) as db:
        present = gpkg_geometry_columns(db)
    db.close()
    if LAYER not in present:
        return []
    relative = Path(_relative_path(edits, home)).as_posix()
    source = f"{relative if relative.startswith('.') else './' + relative}|layername={LAYER}"
    return [ProjectLayer(LAYER, "ogr", source, "MultiPolygon", editable=True)]


def _relative_path(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target.resolve(), start.resolve())


# --------------------------------------------------------------------------- PostgreSQL


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _uri_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def postgres_source(
    *,
    service: str | None,
    database: str,
    schema: str,
    table: str,
    geometry_column: str,
    geometry_type: str,
    key: str | None,
) -> str:
    """A QGIS PostgreSQL data source: by service when given, else by database name.

    No host, user or password: those come from the user's ``pg_service.conf``
    or ``PG*`` variables, never from the project.
    """
    parts = [f"service={_uri_value(service)}"] if service else [f"dbname={_uri_value(database)}"]
    if key:
        parts.append(f"key={_uri_value(key)}")
    parts += [
        "srid=9215",
        f"type={geometry_type}",
        "checkPrimaryKeyUnicity='0'",
        f"table={_quote_ident(schema)}.{_quote_ident(table)} ({geometry_column})",
    ]
    return " ".join(parts)


def _postgres_layers(
    connection: Connection, schema: str, source_schema: str, *, service: str | None, database: str
) -> list[ProjectLayer]:
    from sqlalchemy import text

    from pipeline.db.connection import postgis_schema

    rows = connection.execute(
        text(
            "SELECT f_table_name, f_geometry_column "
            f"FROM {postgis_schema(connection)}.geometry_columns WHERE f_table_schema = :schema"
        ),
        {"schema": schema},
    ).all()
    present = {row.f_table_name: row.f_geometry_column for row in rows}
    keys = dict(
        connection.execute(
            text(
                "SELECT c.relname, min(a.attname) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE i.indisprimary AND n.nspname = :schema "
                "GROUP BY c.relname HAVING count(*) = 1"
            ),
            {"schema": schema},
        ).all()
    )
    layers = []
    for name, geometry_type in GPKG_LAYERS.items():
        if name not in present or layer_style(name) is None:
            continue
        source = postgres_source(
            service=service,
            database=database,
            schema=source_schema,
            table=name,
            geometry_column=present[name] or POSTGIS_GEOMETRY_COLUMN,
            geometry_type=geometry_type,
            key=keys.get(name),
        )
        layers.append(ProjectLayer(name, "postgres", source, geometry_type))
    return layers


def _postgres_edits_layers(
    connection: Connection, records_schema: str, *, service: str | None, database: str
) -> list[ProjectLayer]:
    """The editable ``<records_schema>.zone_adjustments`` table, if the database has it."""
    from sqlalchemy import text

    from pipeline.adjustments import LAYER
    from pipeline.db.connection import postgis_schema

    column = connection.execute(
        text(
            "SELECT f_geometry_column FROM "
            f"{postgis_schema(connection)}.geometry_columns "
            "WHERE f_table_schema = :schema AND f_table_name = :table"
        ),
        {"schema": records_schema, "table": LAYER},
    ).scalar()
    if column is None:
        return []
    source = postgres_source(
        service=service,
        database=database,
        schema=records_schema,
        table=LAYER,
        geometry_column=column,
        geometry_type="MultiPolygon",
        key="adjustment_id",
    )
    return [ProjectLayer(LAYER, "postgres", source, "MultiPolygon", editable=True)]


def _postgres_extent(connection: Connection, schema: str, table: str = "park_extent"):
    from sqlalchemy import text

    from pipeline.db.connection import postgis_schema

    # PostGIS named in its schema, with exactly typed arguments: the pipeline's
    # sessions do not search it (pipeline.db.connection, "Planted objects")
    p = postgis_schema(connection)
    exists = connection.execute(
        text(f"SELECT 1 FROM {p}.geometry_columns WHERE f_table_schema = :s AND f_table_name = :t"),
        {"s": schema, "t": table},
    ).first()
    if not exists:
        return None
    row = connection.execute(
        text(
            f"SELECT {p}.ST_XMin(e), {p}.ST_YMin(e), {p}.ST_XMax(e), {p}.ST_YMax(e) FROM "
            f"(SELECT CAST({p}.ST_Extent({POSTGIS_GEOMETRY_COLUMN}) AS {p}.box3d) AS e "
            f"FROM {_quote_ident(schema)}.{_quote_ident(table)}) AS x"
        )
    ).first()
    return tuple(row) if row and None not in row else None


def store_project_in_postgres(
    connection: Connection,
    schema: str,
    *,
    database: str,
    service: str | None,
    project_name: str = "geopark",
    cfg: Config | None = None,
    layers_schema: str | None = None,
    records_schema: str | None = None,
) -> None:
    """Store the QGIS project in QGIS's PostgreSQL project storage.

    Creates ``<schema>.qgis_projects`` (QGIS's table) if missing and upserts
    the project ``project_name``: ``content`` the ``.qgz`` bytes, ``metadata``
    QGIS's JSON (last modified time and user). Left untouched when the stored
    project is already the same, so a republish of the same outputs changes
    nothing. Runs in the caller's transaction.

    Parameters
    ----------
    connection
        An SQLAlchemy connection to the database; the caller commits.
    schema
        Where the layers' tables are now, and where ``qgis_projects`` goes.
    database
        The database name, used in the layers' data sources when no service is given.
    service
        A ``pg_service.conf`` service name for the data sources (preferred:
        the project then holds no connection details at all).
    project_name
        The project's name in QGIS's *Open From ▸ PostgreSQL* list.
    cfg
        The run's configuration: the park's names and whether the data are samples.
    layers_schema
        The schema the data sources name, when the tables will be read from
        another schema than where they are now (e.g. a staging schema renamed
        into place); default ``schema``.
    records_schema
        The schema of the field records (``[database] records_schema``): when it
        has ``zone_adjustments``, the project shows that table **editable** in
        the group *Chỉnh sửa / Edits*, with snapping on, as the GeoPackage
        project shows the edits GeoPackage (the database decides who may edit:
        the editor role).
    """
    from sqlalchemy import text

    source_schema = layers_schema or schema
    layers = _postgres_layers(connection, schema, source_schema, service=service, database=database)
    if records_schema is not None:
        layers += _postgres_edits_layers(
            connection, records_schema, service=service, database=database
        )
    qgs = project_xml(layers, project_info(cfg), _postgres_extent(connection, schema))
    content = qgz_bytes(qgs, project_name)
    table = f"{_quote_ident(schema)}.qgis_projects"
    connection.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {table} "
            "(name TEXT PRIMARY KEY, metadata JSONB, content BYTEA)"
        )
    )
    stored = connection.execute(
        text(f"SELECT content FROM {table} WHERE name = :name"), {"name": project_name}
    ).first()
    if stored is not None and bytes(stored.content) == content:
        return
    user = connection.execute(text("SELECT current_user")).scalar_one()
    metadata = {
        "last_modified_time": datetime.now().replace(microsecond=0).isoformat(),
        "last_modified_user": user,
    }
    connection.execute(
        text(
            f"INSERT INTO {table} (name, metadata, content) "
            "VALUES (:name, CAST(:metadata AS jsonb), :content) "
            "ON CONFLICT (name) DO UPDATE "
            "SET content = EXCLUDED.content, metadata = EXCLUDED.metadata"
        ),
        {"name": project_name, "metadata": json.dumps(metadata), "content": content},
    )
