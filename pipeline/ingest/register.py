"""The geosite register: one row per geosite, placed, named and in its district.

Each row is placed and validated on the shared path
(:func:`pipeline.ingest.places.validated`); its declared district must be an
official one, and two geosites at the same place are a warning or both
rejected (``ingest.same_place``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import Config
from pipeline.contracts import Rejection
from pipeline.ingest.core import as_layer, file_label
from pipeline.ingest.places import Surroundings, validated
from pipeline.progress import Progress, no_progress
from pipeline.vntext import TextChange, match_name
from pipeline.vocabulary import heritage_type

#: The register's optional file fields (schemas/geosites.schema.json), carried
#: unchanged to the GeoPackage and PostGIS for the dossiers.
DOSSIER_FIELDS = [
    "commune",
    "village",
    "elevation_m",
    "formation",
    "geological_age",
    "lithology",
    "description_vi",
    "description_en",
    "photos",
    "photo_captions",
    "photo_credits",
    "access",
    "threats",
    "protection_status",
    "land_tenure",
    "references",
    "compiler",
    "compiled_on",
]


def _same_place(
    sites: gpd.GeoDataFrame, cfg: Config, file: str, notes: list[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Geosites closer together than ``same_place_distance_m``: warn or reject both."""
    limit = cfg.ingest.same_place_distance_m
    if len(sites) < 2:
        return sites, []
    geoms = sites.geometry.values
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=limit)
    first = left < right
    left, right = left[first], right[first]
    distances = shapely.distance(geoms[left], geoms[right])
    rejections: list[Rejection] = []
    drop = np.zeros(len(sites), dtype=bool)
    for a, b, dist in zip(left, right, distances, strict=True):
        ca, cb = sites["geosite_code"].iloc[a], sites["geosite_code"].iloc[b]
        text_en = f"geosites {ca} and {cb} are {dist:.1f} m apart (same place: under {limit:g} m)"
        text_vi = (
            f"điểm di sản {ca} và {cb} cách nhau {dist:.1f} m (trùng vị trí: dưới {limit:g} m)"
        )
        if cfg.ingest.same_place == "warn":
            notes.append(f"CẢNH BÁO / WARNING: {text_vi} / {text_en}")
            continue
        for i, other in ((a, cb), (b, ca)):
            drop[i] = True
            rejections.append(
                Rejection(
                    file,
                    int(sites["_row"].iloc[i]),
                    "lat/lon",
                    f"{dist:.1f} m from {other}",
                    f"geosites at least {limit:g} m apart (ingest.same_place_distance_m)",
                    text_vi,
                    text_en,
                    record_id=str(sites["geosite_code"].iloc[i]),
                    x=float(shapely.get_x(geoms[i])),
                    y=float(shapely.get_y(geoms[i])),
                )
            )
    return sites.loc[~drop], rejections


def ingest_geosites(
    cfg: Config,
    admin: pd.DataFrame,
    where: Surroundings,
    notes: list[str],
    changes: list[TextChange],
    progress: Progress = no_progress,
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Read the geosite register; valid geosites in the working CRS and rejected rows."""
    spec = cfg.inputs.geosites
    sites, rejections = validated(spec, cfg, "geosite_code", where, notes, changes, progress)
    official = dict(zip(admin["district_code"], admin["district_name"], strict=True))
    names = [None if pd.isna(d) else str(d) for d in sites["district"]]
    by_name = {name: match_name(name, official) for name in set(names)}  # a dozen distinct
    matches = [by_name[name] for name in names]
    ok = np.array([m.code is not None for m in matches], dtype=bool)
    file = file_label(spec.path, cfg)
    unknown = sites.loc[~ok]
    for number, district, code in zip(
        unknown["_row"], unknown["district"], unknown["geosite_code"], strict=True
    ):
        rejections.append(
            Rejection(
                file=file,
                row=int(number),
                field="district",
                value=str(district),
                expected="a district of the official list: " + ", ".join(official.values()),
                message_vi="tên huyện không có trong danh mục chính thức",
                message_en="district name not in the official list",
                record_id=str(code),
            )
        )
    sites = sites.loc[ok].copy()
    sites["declared_district_code"] = [m.code for m in matches if m.code is not None]
    sites["declared_district"] = [m.official for m in matches if m.code is not None]
    sites, near = _same_place(sites, cfg, file, notes)
    rejections += near
    sites["source_file"] = file
    sites["heritage_type"] = [
        heritage_type(str(c), None if pd.isna(t) else str(t))
        for c, t in zip(sites["category"], sites["heritage_type"], strict=True)
    ]
    if "compiled_on" in sites:
        sites["compiled_on"] = [None if pd.isna(d) else str(d) for d in sites["compiled_on"]]
    sites = sites.rename(columns={"_row": "source_row"})
    keep = [
        "geosite_code",
        "name_vi",
        "name_en",
        "category",
        "heritage_type",
        "significance",
        "cluster_code",
        "declared_district",
        "declared_district_code",
        "location_quality",
        "description",
        *DOSSIER_FIELDS,
        "x_vn2000",
        "y_vn2000",
        "lon",
        "lat",
        "source_file",
        "source_row",
    ]
    return as_layer(sites, keep, "geosite_code", cfg), rejections
