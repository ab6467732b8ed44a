"""Survey points: observations in the field, each tied to a geosite of the register.

Every survey file is placed and validated on the shared path
(:func:`pipeline.ingest.places.validated`); a point must name a geosite the
register holds, keep its ``point_id`` unique across files, and lie within
``ingest.max_point_distance_m`` of its geosite.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from pipeline.config import Config
from pipeline.contracts import Rejection
from pipeline.ingest.core import as_layer, file_label, unknown_geosite
from pipeline.ingest.places import Surroundings, validated
from pipeline.progress import Progress, no_progress
from pipeline.vntext import TextChange


def _far_points(
    points: gpd.GeoDataFrame, geosites: gpd.GeoDataFrame, cfg: Config, notes: list[str]
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Survey points farther from their geosite than ``max_point_distance_m``."""
    if not len(points):
        return points, []
    site_geom = pd.Series(geosites.geometry.values, index=geosites["geosite_code"])
    limit = cfg.ingest.max_point_distance_m
    dist = shapely.distance(
        points.geometry.values, site_geom.loc[points["geosite_code"]].to_numpy()
    )
    far = dist > limit
    rejections = []
    for i in np.flatnonzero(far):
        row = points.iloc[i]
        pid, code = row["point_id"], row["geosite_code"]
        en = f"survey point {pid} is {dist[i]:,.0f} m from its geosite {code} (limit {limit:g} m)"
        vi = f"điểm khảo sát {pid} cách điểm di sản {code} {dist[i]:,.0f} m (giới hạn {limit:g} m)"
        if cfg.ingest.far_point == "warn":
            notes.append(
                f"CẢNH BÁO / WARNING: {row['source_file']} row {row['source_row']}: {vi} / {en}"
            )
        else:
            rejections.append(
                Rejection(
                    row["source_file"],
                    int(row["source_row"]),
                    "geosite_code",
                    str(row["geosite_code"]),
                    f"a survey point within {limit:g} m of its "
                    "geosite (ingest.max_point_distance_m)",
                    vi,
                    en,
                    record_id=str(row["point_id"]),
                    x=row.geometry.x,
                    y=row.geometry.y,
                )
            )
    if cfg.ingest.far_point == "warn":
        return points, []
    return points.loc[~far], rejections


def ingest_survey_points(
    cfg: Config,
    geosites: gpd.GeoDataFrame,
    held: dict[str, str],
    where: Surroundings,
    notes: list[str],
    changes: list[TextChange],
    progress: Progress = no_progress,
) -> tuple[gpd.GeoDataFrame, list[Rejection]]:
    """Read every survey file; valid points of known geosites and rejected rows."""
    frames, rejections = [], []
    known = set(geosites["geosite_code"])
    for spec in cfg.inputs.survey_points:
        points, rej = validated(spec, cfg, "point_id", where, notes, changes, progress)
        rejections += rej
        file = file_label(spec.path, cfg)
        unknown = ~points["geosite_code"].isin(known)
        register = file_label(cfg.inputs.geosites.path, cfg)
        rejections += [
            unknown_geosite(
                file,
                int(row["_row"]),
                row["geosite_code"],
                str(row["point_id"]),
                register,
                held,
                x=row.geometry.x,
                y=row.geometry.y,
            )
            for _, row in points.loc[unknown].iterrows()
        ]
        points = points.loc[~unknown].copy()
        points["source_file"] = file
        frames.append(points.rename(columns={"_row": "source_row"}))
    points = pd.concat(frames, ignore_index=True)
    keep_first = cfg.ingest.duplicates == "keep_first"
    dup = points["point_id"].duplicated(keep="first" if keep_first else False)
    first_of = points.drop_duplicates("point_id").set_index("point_id")
    for _, row in points.loc[dup].iterrows():
        first = first_of.loc[row["point_id"]]
        rejections.append(
            Rejection(
                file=row["source_file"],
                row=int(row["source_row"]),
                field="point_id",
                value=str(row["point_id"]),
                expected="a point_id used in no other survey file",
                message_vi="mã điểm khảo sát bị trùng giữa các tệp"
                + (
                    f"; giữ bản đầu tiên ({first['source_file']} dòng {first['source_row']})"
                    if keep_first
                    else ""
                ),
                message_en="point_id duplicated across survey files"
                + (
                    f"; the first one is kept ({first['source_file']} row {first['source_row']})"
                    if keep_first
                    else ""
                ),
                record_id=str(row["point_id"]),
            )
        )
    points = points.loc[~dup]
    keep = [
        "point_id",
        "geosite_code",
        "observation",
        "survey_date",
        "team",
        "x_vn2000",
        "y_vn2000",
        "lon",
        "lat",
        "source_file",
        "source_row",
    ]
    points = gpd.GeoDataFrame(points, geometry="geometry", crs=cfg.working_crs)
    points, far = _far_points(points, geosites, cfg, notes)
    rejections += far
    return as_layer(points, keep, "point_id", cfg), rejections
