"""Ingest: read, validate and transform the raw inputs into the working CRS.

The stage takes the configuration and returns an :class:`IngestResult`:
the geosite register, the survey points, the official districts and the park
extent, all in the working CRS (EPSG:9215), plus every rejected row. A row
that breaks its contract goes to quarantine with its file, row, field and
value; a file that cannot be used at all raises :class:`InputError`.

Real-world field data is judged by the rules in ``[ingest]`` of
geopark.toml: coordinates in any notation (:mod:`pipeline.coordinates`),
swapped columns, points outside the province, duplicate identifiers, two
geosites at the same place, survey points far from their geosite, and
boundary polygons that need a repair. Every conversion, repair and warning
is a note in :attr:`IngestResult.notes`, which the QA report lists.

Modules, one per input kind around the shared path:

- :mod:`~pipeline.ingest.core`: read a configured input, map its columns, text;
- :mod:`~pipeline.ingest.places`: place point rows in the working CRS and validate;
- :mod:`~pipeline.ingest.boundaries`: official units, districts, park extent;
- :mod:`~pipeline.ingest.register`: the geosite register;
- :mod:`~pipeline.ingest.survey`: the survey points;
- :mod:`~pipeline.ingest.assessment`: the Brilha (2016) assessment sheet;
- :mod:`~pipeline.ingest.extents`: the geosite extents (polygons, lines, points);
- :mod:`~pipeline.ingest.threats`: the threat layers (quarries, licences, roads, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd
import shapely

from pipeline.config import Config
from pipeline.contracts import Rejection
from pipeline.ingest.assessment import ingest_assessment
from pipeline.ingest.boundaries import ingest_admin_units, ingest_districts, ingest_park_extent
from pipeline.ingest.core import file_label
from pipeline.ingest.extents import ingest_extents
from pipeline.ingest.places import Surroundings
from pipeline.ingest.register import ingest_geosites
from pipeline.ingest.survey import ingest_survey_points
from pipeline.ingest.threats import ingest_threats
from pipeline.progress import Progress, counted, no_progress
from pipeline.vntext import TextChange

__all__ = [
    "IngestResult",
    "Surroundings",
    "ingest",
    "ingest_admin_units",
    "ingest_assessment",
    "ingest_districts",
    "ingest_extents",
    "ingest_geosites",
    "ingest_park_extent",
    "ingest_survey_points",
    "ingest_threats",
]


@dataclass
class IngestResult:
    """Everything ingest produced, in the working CRS."""

    geosites: gpd.GeoDataFrame
    survey_points: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    park_extent: gpd.GeoDataFrame
    admin_units: pd.DataFrame
    rejections: list[Rejection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    assessment: pd.DataFrame | None = None  # validated Brilha (2016) sheet, when configured
    #: every cell whose text ingest changed (normalisation, legacy encodings)
    text_changes: list[TextChange] = field(default_factory=list)
    extents: gpd.GeoDataFrame | None = None  # geosite extents (ingest.extents), when configured
    threats: gpd.GeoDataFrame | None = None  # every threat layer (pipeline.ingest.threats)


def ingest(cfg: Config, progress: Progress = no_progress) -> IngestResult:
    """Run the ingest stage.

    Parameters
    ----------
    cfg
        The validated configuration.
    progress
        Reporter; ingest counts the input files read, validated and transformed.

    Returns
    -------
    IngestResult
        Valid features in the working CRS, the rejected rows, and notes on
        every conversion, repair and warning.
    """
    # admin units, districts, park extent, register, survey files, assessment, extents, threats
    optional = (cfg.inputs.assessment, cfg.inputs.geosite_extents)
    files = (
        4
        + len(cfg.inputs.survey_points)
        + len(cfg.inputs.threats)
        + sum(spec is not None for spec in optional)
    )
    with counted(
        progress,
        "Đọc và kiểm tra dữ liệu đầu vào",
        "Reading and validating inputs",
        files,
        "tệp/files",
    ) as advance:
        changes: list[TextChange] = []
        admin = ingest_admin_units(cfg, changes)
        districts, notes = ingest_districts(cfg.inputs.districts, cfg, admin, changes)
        extent = ingest_park_extent(cfg, notes, changes)
        advance(3)
        where = Surroundings(
            shapely.union_all(districts.geometry.values), shapely.union_all(extent.geometry.values)
        )
        geosites, rejections = ingest_geosites(cfg, admin, where, notes, changes, progress)
        advance(1)
        held = held_codes(rejections, set(geosites["geosite_code"]))
        points, more = ingest_survey_points(cfg, geosites, held, where, notes, changes, progress)
        advance(len(cfg.inputs.survey_points))
        assessment = None
        if cfg.inputs.assessment is not None:
            assessment, dependent = ingest_assessment(
                cfg.inputs.assessment, cfg, set(geosites["geosite_code"]), held, notes, changes
            )
            more += dependent
            advance(1)
        extents = None
        if cfg.inputs.geosite_extents is not None:
            spec = cfg.inputs.geosite_extents
            extents, held_extents = ingest_extents(
                spec,
                file_label(spec.path, cfg),
                cfg.working_crs,
                set(geosites["geosite_code"]),
                held,
                file_label(cfg.inputs.geosites.path, cfg),
                notes,
            )
            more += held_extents
            advance(1)
        threats, rejected_threats = ingest_threats(cfg, notes)
        more += rejected_threats
        advance(len(cfg.inputs.threats))
    return IngestResult(
        geosites=geosites,
        survey_points=points,
        districts=districts,
        park_extent=extent,
        admin_units=admin,
        rejections=rejections + more,
        notes=notes,
        assessment=assessment,
        text_changes=changes,
        extents=extents,
        threats=threats,
    )


def held_codes(rejections: list[Rejection], kept: set[str]) -> dict[str, str]:
    """Geosite codes whose register row was rejected, each with its first such row."""
    held: dict[str, str] = {}
    for r in rejections:
        if r.record_id and r.record_id not in kept:
            held.setdefault(r.record_id, f"{r.file} row/dòng {r.row}")
    return held
