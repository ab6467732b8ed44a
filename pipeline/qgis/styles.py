"""Default QGIS styles in ``layer_styles`` tables, the way QGIS itself stores them.

QGIS looks for a layer's default style in a ``layer_styles`` table of the
layer's own database: ``public.layer_styles`` for PostGIS (the table and
columns of QGIS's PostgreSQL provider) and a ``layer_styles`` attributes table
in a GeoPackage (the table QGIS's OGR provider creates). A row matches a layer
by table name and geometry column (and, in PostgreSQL, database and schema);
among matching rows QGIS takes the one with ``useAsDefault`` true. So writing
our row there is all it takes for a QGIS user who adds the layer to see the
park's symbology.

Our rows are named :data:`STYLE_NAME`; a style a user saved under another name
is kept (only its default flag is cleared, as QGIS does when another style
becomes the default). Re-writing identical styles changes nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pipeline
from pipeline.outputs import EDITS_LAYERS, GPKG_LAYERS

if TYPE_CHECKING:  # SQLAlchemy is loaded by the PostGIS function only, not by `geopark zones`
    from sqlalchemy.engine import Connection

#: Folder of the QGIS style files, one ``<layer>.qml`` (and ``.sld``) per layer.
STYLE_DIR = Path(__file__).resolve().parent.parent / "styles"

#: ``styleName`` of the pipeline's rows.
STYLE_NAME = "geopark"

#: ``description`` of the pipeline's rows.
STYLE_DESCRIPTION = (
    "Kiểu hiển thị mặc định của Công viên địa chất Lạng Sơn / "
    "Lạng Sơn Geopark default style (pipeline {version})"
)

#: Geometry column name in the PostGIS tables.
POSTGIS_GEOMETRY_COLUMN = "geom"

#: QGIS's own DDL for ``layer_styles`` (PostgreSQL provider, QGIS 3.22), schema-qualified.
PG_LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS public.layer_styles (
    id SERIAL PRIMARY KEY,
    f_table_catalog varchar,
    f_table_schema varchar,
    f_table_name varchar,
    f_geometry_column varchar,
    stylename text,
    styleqml xml,
    stylesld xml,
    useasdefault boolean,
    description text,
    owner varchar(63) DEFAULT CURRENT_USER,
    ui xml,
    update_time timestamp DEFAULT CURRENT_TIMESTAMP,
    type varchar
)
"""

#: The table QGIS's OGR provider creates in a GeoPackage (through GDAL, FID ``id``).
GPKG_LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS "layer_styles" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "f_table_catalog" TEXT(256),
    "f_table_schema" TEXT(256),
    "f_table_name" TEXT(256),
    "f_geometry_column" TEXT(256),
    "styleName" TEXT(30),
    "styleQML" TEXT,
    "styleSLD" TEXT,
    "useAsDefault" BOOLEAN,
    "description" TEXT,
    "owner" TEXT(30),
    "ui" TEXT(30),
    "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)
"""


@dataclass(frozen=True)
class LayerStyle:
    """One layer's published style."""

    layer: str
    qml: str
    sld: str
    geometry_type: str  # QGIS's geometry kind for the ``type`` column: Point, Line, Polygon

    @property
    def description(self) -> str:
        return STYLE_DESCRIPTION.format(version=pipeline.__version__)


def _geometry_kind(geometry_type: str) -> str:
    """QGIS's ``QgsWkbTypes::geometryDisplayString`` of a geometry type name."""
    base = geometry_type.removeprefix("Multi")
    return {"Point": "Point", "LineString": "Line", "Polygon": "Polygon"}.get(
        base, "Unknown geometry"
    )


@cache
def layer_style(layer: str) -> LayerStyle | None:
    """The published style of ``layer``, or ``None`` for a layer without one."""
    qml = STYLE_DIR / f"{layer}.qml"
    if not qml.exists():
        return None
    sld = STYLE_DIR / f"{layer}.sld"
    return LayerStyle(
        layer=layer,
        qml=qml.read_text("utf-8"),
        sld=sld.read_text("utf-8") if sld.exists() else "",
        geometry_type=_geometry_kind((GPKG_LAYERS | EDITS_LAYERS).get(layer, "Unknown")),
    )


def styled_layers(layers: list[str]) -> list[LayerStyle]:
    """The styles of those ``layers`` that have one, in the given order."""
    return [style for name in layers if (style := layer_style(name)) is not None]


# --------------------------------------------------------------------------- PostgreSQL


def write_postgres_styles(
    connection: Connection, schema: str, layers: list[str], *, database: str
) -> int:
    """Make our style the default of each layer in ``public.layer_styles``.

    Creates QGIS's ``public.layer_styles`` if it is missing, then for each
    layer with a style inserts (or updates, if it changed) the row named
    :data:`STYLE_NAME` with ``useasdefault`` true and clears the default flag
    of any other style of that layer. Runs in the caller's transaction.

    Parameters
    ----------
    connection
        An SQLAlchemy connection; the caller commits.
    schema
        The schema QGIS users read the layers from (``f_table_schema``).
    layers
        Table names; those without a style in ``pipeline/styles`` are skipped.
    database
        The database name (``f_table_catalog``), as QGIS users connect to it.

    Returns
    -------
    int
        The number of layers that have our default style.
    """
    from sqlalchemy import text

    connection.execute(text(PG_LAYER_STYLES_DDL))
    # Tables made by QGIS before 3.16 lack ``type``; QGIS adds it the same way.
    # Only then: ALTER TABLE locks out every reader (and pg_dump) until the commit.
    has_type = connection.execute(
        text(
            "SELECT pg_catalog.count(*) FROM pg_catalog.pg_attribute "
            "WHERE attrelid = pg_catalog.to_regclass('public.layer_styles') "
            "AND attname = 'type' AND NOT attisdropped"
        )
    ).scalar()
    if not has_type:
        connection.execute(text("ALTER TABLE public.layer_styles ADD COLUMN type varchar"))
    styles = styled_layers(layers)
    for style in styles:
        key = {
            "catalog": database,
            "schema": schema,
            "table": style.layer,
            "geom": POSTGIS_GEOMETRY_COLUMN,
            "name": STYLE_NAME,
        }
        connection.execute(
            text(
                "UPDATE public.layer_styles SET useasdefault = false "
                "WHERE f_table_catalog = :catalog AND f_table_schema = :schema "
                "AND f_table_name = :table AND f_geometry_column = :geom "
                "AND stylename IS DISTINCT FROM :name AND useasdefault"
            ),
            key,
        )
        values = {
            **key,
            "qml": style.qml,
            "sld": style.sld or None,
            "description": style.description,
            "type": style.geometry_type,
        }
        current = connection.execute(
            text(
                "SELECT id, styleqml::text = :qml AND stylesld::text IS NOT DISTINCT FROM :sld "
                "AND useasdefault AND description = :description "
                "AND type IS NOT DISTINCT FROM :type AS same "
                "FROM public.layer_styles "
                "WHERE f_table_catalog = :catalog AND f_table_schema = :schema "
                "AND f_table_name = :table AND f_geometry_column = :geom AND stylename = :name "
                "ORDER BY id"
            ),
            values,
        ).all()
        if current and current[0].same and len(current) == 1:
            continue
        if current:
            connection.execute(
                text("DELETE FROM public.layer_styles WHERE id = ANY(CAST(:ids AS integer[]))"),
                {"ids": [row.id for row in current[1:]]},
            )
            connection.execute(
                text(
                    "UPDATE public.layer_styles SET styleqml = XMLPARSE(DOCUMENT :qml), "
                    "stylesld = XMLPARSE(DOCUMENT :sld), useasdefault = true, "
                    "description = :description, type = :type, update_time = now() "
                    "WHERE id = :id"
                ),
                {**values, "id": current[0].id},
            )
        else:
            connection.execute(
                text(
                    "INSERT INTO public.layer_styles (f_table_catalog, f_table_schema, "
                    "f_table_name, f_geometry_column, stylename, styleqml, stylesld, "
                    "useasdefault, description, type) "
                    "VALUES (:catalog, :schema, :table, :geom, :name, XMLPARSE(DOCUMENT :qml), "
                    "XMLPARSE(DOCUMENT :sld), true, :description, :type)"
                ),
                values,
            )
    return len(styles)


# --------------------------------------------------------------------------- GeoPackage


def gpkg_geometry_columns(connection: sqlite3.Connection) -> dict[str, str]:
    """Table name -> geometry column name, from ``gpkg_geometry_columns``."""
    rows = connection.execute(
        "SELECT table_name, column_name FROM gpkg_geometry_columns"
    ).fetchall()
    return dict(rows)


def write_geopackage_styles(gpkg_path: Path, layers: list[str]) -> None:
    """Store our styles as the default styles in the GeoPackage's ``layer_styles``.

    The table is the one QGIS creates (an attributes table registered in
    ``gpkg_contents``); each styled layer present in the GeoPackage gets one
    row with ``useAsDefault`` true, ``f_table_schema`` empty and
    ``f_geometry_column`` the layer's geometry column, which is how QGIS looks
    it up.
    """
    with sqlite3.connect(gpkg_path) as db:
        geometry_columns = gpkg_geometry_columns(db)
        db.execute(GPKG_LAYER_STYLES_DDL)
        db.execute(
            "INSERT INTO gpkg_contents "
            "(table_name, data_type, identifier, description, last_change) "
            "SELECT 'layer_styles', 'attributes', 'layer_styles', "
            "'QGIS layer styles / kiểu hiển thị QGIS', strftime('%Y-%m-%dT%H:%M:%fZ','now') "
            "WHERE NOT EXISTS (SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles')"
        )
        for style in styled_layers([name for name in layers if name in geometry_columns]):
            key = (style.layer, geometry_columns[style.layer])
            db.execute(
                'UPDATE layer_styles SET "useAsDefault" = 0 WHERE "f_table_schema" = \'\' '
                'AND "f_table_name" = ? AND "f_geometry_column" = ?',
                key,
            )
            db.execute(
                'DELETE FROM layer_styles WHERE "f_table_schema" = \'\' AND "f_table_name" = ? '
                'AND "f_geometry_column" = ? AND "styleName" = ?',
                (*key, STYLE_NAME),
            )
            db.execute(
                'INSERT INTO layer_styles ("f_table_catalog", "f_table_schema", "f_table_name", '
                '"f_geometry_column", "styleName", "styleQML", "styleSLD", "useAsDefault", '
                "\"description\", \"owner\") VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '')",
                (*key, STYLE_NAME, style.qml, style.sld, style.description),
            )
    # sqlite3's context manager commits but does not close
    db.close()
