"""Write the products of a run: GeoPackage, web GeoJSON, QA report, manifest.

Nothing is half-written. Every file of a run is first written into a staging
folder beside the outputs; only when all of them exist are they moved into
place with :func:`os.replace` (atomic on one file system), the manifest last.
A run that fails or is interrupted before that leaves the previous outputs as
they were, and removes its staging folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from pipeline.crs import to_crs

#: Layers of the GeoPackage, in the order they are written, with their geometry type.
GPKG_LAYERS: dict[str, str] = {
    "park_extent": "MultiPolygon",
    "districts": "MultiPolygon",
    "geosites": "Point",
    "survey_points": "Point",
    "zone_i": "MultiPolygon",
    "zone_ii": "MultiPolygon",
    "protection_zones": "MultiPolygon",
    "clusters": "MultiPolygon",
    "zone_district_areas": "MultiPolygon",
    "qa_findings": "Point",
    "quarantine": "Point",
    # threat layers and their conflicts with the zones
    "threat_areas": "MultiPolygon",
    "threat_lines": "MultiLineString",
    "threat_points": "MultiPoint",
    "conflicts": "Point",
    # non-spatial (GeoPackage attributes tables): the Brilha (2016) assessment
    "geosite_assessment": "None",
    "geosite_assessment_criteria": "None",
    "geosite_risk_computed": "None",
}


def _for_gdal(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Column types GDAL writes cleanly (dates as dates, no Python objects)."""
    out = frame.copy()
    geometry = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geometry:
            continue
        series = out[col]
        if series.dtype == object:
            sample = series.dropna()
            if len(sample) and all(
                hasattr(v, "isoformat") and not isinstance(v, str) for v in sample
            ):
                out[col] = pd.to_datetime(series, errors="coerce").astype("datetime64[ms]")
            else:
                out[col] = series.astype("string")
        elif str(series.dtype) == "string":
            out[col] = series.astype(object).where(series.notna(), None)
    return out


def write_geopackage(layers: Mapping[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write ``layers`` into a new GeoPackage at ``path`` (which must not exist)."""
    for name, frame in layers.items():
        geometry_type = GPKG_LAYERS.get(name, "Unknown")
        frame = _for_gdal(frame)
        if not isinstance(frame, gpd.GeoDataFrame):
            # a table without geometry: GDAL writes it as a GeoPackage attributes table
            pyogrio.write_dataframe(
                frame, path, layer=name, driver="GPKG", layer_options={"FID": "fid"}
            )
            continue
        pyogrio.write_dataframe(
            frame,
            path,
            layer=name,
            driver="GPKG",
            geometry_type=geometry_type,
            promote_to_multi=geometry_type.startswith("Multi"),
            layer_options={"SPATIAL_INDEX": "YES", "FID": "fid"},
        )


def write_geojson_wgs84(frame: gpd.GeoDataFrame, path: Path) -> None:
    """RFC 7946 GeoJSON in WGS 84, transformed through the EPSG operation."""
    out = _for_gdal(to_crs(frame, "EPSG:4326"))
    pyogrio.write_dataframe(
        out,
        path,
        driver="GeoJSON",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": "7", "WRITE_NAME": "NO"},
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value)}")


def dump_json(data: Any, path: Path) -> None:
    path.write_text(
        json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n", "utf-8"
    )


@contextlib.contextmanager
def staged_outputs(directory: Path) -> Iterator[Path]:
    """A staging folder inside ``directory``, removed whatever happens."""
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=directory))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def commit_outputs(staging: Path, directory: Path, order: list[str]) -> list[Path]:
    """Move the staged files into ``directory``, in ``order`` (manifest last)."""
    moved = []
    for name in order:
        source = staging / name
        if source.exists():
            target = directory / name
            os.replace(source, target)
            moved.append(target)
    return moved


def replace_directory(staging: Path, target: Path) -> None:
    """Swap a whole folder into place (used for the failed-run folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(target.name + ".old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    shutil.copytree(staging, target)
    if old.exists():
        shutil.rmtree(old)


def run_geopackage_layers(path: Path, required: list[str] | tuple[str, ...]) -> set[str]:
    """The layer names of a run's GeoPackage, after checking it has ``required``.

    Raises
    ------
    InputError
        When the GeoPackage does not exist or lacks a required layer: both mean
        ``geopark zones`` has to run (again) first.
    """
    from pipeline.errors import InputError

    if not path.exists():
        raise InputError(
            f"chưa có GeoPackage {path}",
            f"the GeoPackage {path} does not exist yet",
            file=str(path),
            fix="run `geopark zones` (make zones) first",
            fix_vi="chạy `geopark zones` (make zones) trước",
        )
    present = {name for name, _ in pyogrio.list_layers(path)}
    missing = [name for name in required if name not in present]
    if missing:
        raise InputError(
            f"GeoPackage thiếu lớp {', '.join(missing)}",
            f"the GeoPackage lacks layer(s) {', '.join(missing)}",
            file=str(path),
            field=", ".join(missing),
            fix="run `geopark zones` again with this version of the pipeline",
            fix_vi="chạy lại `geopark zones` với phiên bản này của quy trình",
        )
    return present
