"""Read what the documents are made from: the GeoPackage and, optionally, PostGIS.

The GeoPackage is the contract between ``geopark zones`` and the documents;
the database only adds field inspections (``records.inspections``, built by
``geopark publish``). Without a database every document is still complete.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import pandas as pd
import pyogrio

from pipeline.config import Config
from pipeline.errors import GeoparkError
from pipeline.outputs import run_geopackage_layers

#: Layers the documents need (the assessment tables are optional).
REQUIRED_LAYERS = (
    "park_extent",
    "districts",
    "geosites",
    "survey_points",
    "zone_i",
    "zone_ii",
    "protection_zones",
    "zone_district_areas",
)
OPTIONAL_TABLES = ("geosite_assessment", "geosite_assessment_criteria", "geosite_risk_computed")
#: Optional layers: the threat conflicts (issue 14) and the boundary markers.
OPTIONAL_LAYERS = ("conflicts", "boundary_markers")

INSPECTION_COLUMNS = [
    "inspection_id",
    "geosite_code",
    "inspected_on",
    "inspector",
    "condition",
    "threats",
    "notes",
]


@dataclass
class Heritage:
    """The GeoPackage layers the documents use, in EPSG:9215."""

    park_extent: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    geosites: gpd.GeoDataFrame
    survey_points: gpd.GeoDataFrame
    zone_i: gpd.GeoDataFrame
    zone_ii: gpd.GeoDataFrame
    protection_zones: gpd.GeoDataFrame
    zone_district_areas: gpd.GeoDataFrame
    assessment: pd.DataFrame | None = None
    criteria: pd.DataFrame | None = None
    risk_computed: pd.DataFrame | None = None
    conflicts: gpd.GeoDataFrame | None = None
    boundary_markers: gpd.GeoDataFrame | None = None
    source: Path | None = None


def load_heritage(path: Path) -> Heritage:
    """Read the GeoPackage written by ``geopark zones``.

    Raises
    ------
    InputError
        When the file or one of the needed layers is missing.
    """
    present = run_geopackage_layers(path, REQUIRED_LAYERS)
    layers = {name: pyogrio.read_dataframe(path, layer=name) for name in REQUIRED_LAYERS}
    optional = {
        name: pyogrio.read_dataframe(path, layer=name) if name in present else None
        for name in OPTIONAL_LAYERS
    }
    tables = {
        name: pd.DataFrame(pyogrio.read_dataframe(path, layer=name, read_geometry=False))
        if name in present
        else None
        for name in OPTIONAL_TABLES
    }
    return Heritage(
        **layers,
        assessment=tables["geosite_assessment"],
        criteria=tables["geosite_assessment_criteria"],
        risk_computed=tables["geosite_risk_computed"],
        conflicts=optional["conflicts"],
        boundary_markers=optional["boundary_markers"],
        source=path,
    )


def database_url(cfg: Config) -> str | None:
    """The SQLAlchemy URL of the heritage database, if one is configured.

    ``$DATABASE_URL`` (the variable named by ``dossiers.database_url_env``) wins;
    otherwise the ``pg_service.conf`` service of ``[database] service`` or
    ``$PGSERVICE``, as ``geopark publish`` uses them.
    """
    url = os.environ.get(cfg.dossiers.database_url_env, "").strip()
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        from pipeline.db.connection import parse_database_url

        # a password with @ : / % written as is is understood, and never printed
        return parse_database_url(url).render_as_string(hide_password=False)
    service = cfg.database.service or os.environ.get("PGSERVICE", "").strip()
    if service:
        return f"postgresql+psycopg:///?service={quote(service)}"
    return None


def read_inspections(url: str, records_schema: str = "records") -> pd.DataFrame:
    """Field inspection records from ``<records_schema>.inspections``.

    ``records_schema`` is ``[database] records_schema`` (a validated SQL name).

    Raises
    ------
    GeoparkError
        When the database cannot be reached or has no inspection table.
    """
    import sqlalchemy as sa

    query = sa.text(
        f"SELECT {', '.join(INSPECTION_COLUMNS)} FROM {records_schema}.inspections "
        "ORDER BY geosite_code, inspected_on, inspection_id"
    )
    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            frame = pd.read_sql(query, conn)
        engine.dispose()
    except Exception as exc:  # any driver or SQL error means "cannot read inspections"
        from pipeline.db.connection import redact

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = redact(first, {str(sa.engine.make_url(url).password or "")})
        raise GeoparkError(
            "không đọc được biên bản kiểm tra thực địa từ cơ sở dữ liệu",
            f"cannot read field inspections from the database: {first}",
            field=f"{records_schema}.inspections",
            fix="check DATABASE_URL/PGSERVICE and run `geopark publish`, or unset them "
            "to write the dossiers without inspections",
            fix_vi="kiểm tra DATABASE_URL/PGSERVICE và chạy `geopark publish`, hoặc bỏ "
            "các biến đó để lập hồ sơ không kèm kiểm tra thực địa",
        ) from None
    return frame
