"""Geodesy: the VN-2000 X/Y convention and EPSG transformations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from pyproj._crs import CoordinateOperation

from pipeline.config import load_config
from pipeline.crs import transform_xy, transformer
from pipeline.errors import InputError
from pipeline.ingest import ingest

from .conftest import RAW

# EPSG:6960 "VN-2000 to WGS 84 (2)", the 7-parameter Helmert transformation.
VN2000_TO_WGS84 = 6960


def vn2000_points() -> pd.DataFrame:
    return pd.read_csv(RAW / "survey_points_vn2000.csv")


def test_vn2000_to_wgs84_matches_epsg_operation_within_1m() -> None:
    pts = vn2000_points()
    # Our path: X = northing, Y = easting; EPSG:9215 -> EPSG:4326.
    lon, lat = transform_xy(pts["Y"], pts["X"], "EPSG:9215", "EPSG:4326")

    # Independent path: undo the TM-3 projection onto VN-2000 geographic
    # (EPSG:4756, same datum), then apply EPSG:6960 built from its own code.
    unproject = Transformer.from_crs("EPSG:9215", "EPSG:4756", always_xy=True)
    lon0, lat0 = unproject.transform(pts["Y"].to_numpy(), pts["X"].to_numpy())
    helmert = Transformer.from_pipeline(CoordinateOperation.from_epsg(VN2000_TO_WGS84).to_proj4())
    lat_ref, lon_ref = helmert.transform(lat0, lon0)  # EPSG:4756/4326 are lat, lon

    # Compare on the ground, in metres, in the projected grid.
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    x1, y1 = to_grid.transform(lon, lat)
    x2, y2 = to_grid.transform(lon_ref, lat_ref)
    assert np.max(np.hypot(x1 - x2, y1 - y2)) < 1.0


def test_transformation_is_not_a_relabelling() -> None:
    """VN-2000 and WGS 84 differ by ~200 m here: a relabelled CRS would be off."""
    pts = vn2000_points()
    lon, lat = transform_xy(pts["Y"], pts["X"], "EPSG:9215", "EPSG:4326")
    relabel_lon, relabel_lat = Transformer.from_crs(
        "EPSG:9215", "EPSG:4756", always_xy=True
    ).transform(pts["Y"].to_numpy(), pts["X"].to_numpy())
    to_grid = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    x1, y1 = to_grid.transform(lon, lat)
    x2, y2 = to_grid.transform(relabel_lon, relabel_lat)
    shift = np.hypot(x1 - x2, y1 - y2)
    assert 150 < shift.min() and shift.max() < 300


def test_operation_used_is_the_epsg_helmert() -> None:
    t = transformer("EPSG:4326", "EPSG:9215")
    assert "VN-2000 to WGS 84" in t.description
    assert "ballpark" not in t.description.lower()


def test_ballpark_only_transformation_is_refused() -> None:
    # Hong Kong 1963 -> VN-2000 has no direct EPSG operation: only a ballpark.
    with pytest.raises(InputError):
        transformer("EPSG:4739", "EPSG:9215")


def test_vn2000_x_is_northing_y_is_easting(write_config) -> None:
    cfg = load_config(write_config())
    result = ingest(cfg)
    pts = vn2000_points().set_index("point_id")
    ours = result.survey_points.set_index("point_id").loc[pts.index]
    # Same CRS in and out: the geometry must be exactly (easting=Y, northing=X).
    np.testing.assert_allclose(ours.geometry.x, pts["Y"], atol=1e-6)
    np.testing.assert_allclose(ours.geometry.y, pts["X"], atol=1e-6)
    np.testing.assert_allclose(ours["x_vn2000"], pts["X"], atol=1e-6)
    np.testing.assert_allclose(ours["y_vn2000"], pts["Y"], atol=1e-6)


def test_swapped_vn2000_columns_are_rejected_with_a_message(write_config) -> None:
    def swap(raw):
        raw["inputs"]["survey_points"][1]["northing_column"] = "Y"
        raw["inputs"]["survey_points"][1]["easting_column"] = "X"

    cfg = load_config(write_config(swap))
    result = ingest(cfg)
    swapped = [r for r in result.rejections if "swapped" in r.message_en]
    assert len(swapped) == len(vn2000_points())
    assert all(r.file.endswith("survey_points_vn2000.csv") for r in swapped)
