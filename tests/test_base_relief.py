"""The relief of the topographic base: a ``dem`` and a ``contours`` layer of ``[[maps.base]]``.

A synthetic hill (a Gaussian of 900 m over a 250 m plain, its summit 1,150 m)
is written as a GeoTIFF in VN-2000 (EPSG:9215) and, separately, in WGS 84
(EPSG:4326, each cell's height computed at its VN-2000 position through
pipeline.crs, so the reprojection is exercised), and its contours as a line
layer. Configured as base layers, they give a sheet contours with labelled
index contours, a hillshade, and the dossiers' DEM elevation.
"""

from __future__ import annotations

import subprocess

import geopandas as gpd
import numpy as np
import pdfplumber
import pytest
import rasterio
import shapely
from PIL import Image
from rasterio.transform import from_origin

from pipeline.config import BaseLayer
from pipeline.crs import transform_xy
from pipeline.dossiers.data import load_heritage
from pipeline.dossiers.render import dem_elevations
from pipeline.maps import load_layers, render_zoning_sheet
from pipeline.maps.base import relief_dem
from pipeline.maps.hillshade import elevation_for_extent
from pipeline.numbers import vi_number

UNIT = "LS-CG-03"
PLAIN, HEIGHT, SIGMA = 250.0, 900.0, 700.0
PT_PER_MM = 72 / 25.4


def surface(easting, northing, centre):
    """The hill's height (m) at VN-2000 positions."""
    r2 = (np.asarray(easting) - centre[0]) ** 2 + (np.asarray(northing) - centre[1]) ** 2
    return PLAIN + HEIGHT * np.exp(-r2 / (2 * SIGMA**2))


@pytest.fixture(scope="module")
def relief(sample_run, tmp_path_factory):
    cfg, _ = sample_run
    tmp = tmp_path_factory.mktemp("relief")
    gpkg = cfg.outputs.directory / cfg.outputs.geopackage
    layers = load_layers(gpkg)
    site = layers["geosites"].set_index("geosite_code").geometry[UNIT]
    centre = (site.x + 400.0, site.y + 300.0)  # the summit north-east of the geosite
    # VN-2000 DEM: 10 m cells over 8 x 8 km
    cell, half = 10.0, 4000.0
    west, north = centre[0] - half, centre[1] + half
    n = int(2 * half / cell)
    e = west + cell * (np.arange(n) + 0.5)
    nn = north - cell * (np.arange(n) + 0.5)
    ee, nnn = np.meshgrid(e, nn)
    vn = tmp / "dem_vn2000.tif"
    _write(vn, surface(ee, nnn, centre), from_origin(west, north, cell, cell), "EPSG:9215")
    # WGS 84 DEM: the same hill, each cell's height taken at its VN-2000 position
    lon, lat = transform_xy(
        np.array([west, west + 2 * half]),
        np.array([north - 2 * half, north]),
        "EPSG:9215",
        "EPSG:4326",
    )
    step = 0.0001
    cols = int((lon[1] - lon[0]) / step)
    rows = int((lat[1] - lat[0]) / step)
    lons = lon[0] + step * (np.arange(cols) + 0.5)
    lats = lat[1] - step * (np.arange(rows) + 0.5)
    glon, glat = np.meshgrid(lons, lats)
    ge, gn = transform_xy(glon.ravel(), glat.ravel(), "EPSG:4326", "EPSG:9215")
    wgs = tmp / "dem_wgs84.tif"
    _write(
        wgs,
        surface(ge, gn, centre).reshape(glon.shape),
        from_origin(lon[0], lat[1], step, step),
        "EPSG:4326",
    )
    # contours of the hill every 50 m, as circles (the Gaussian's level sets)
    levels = np.arange(300.0, PLAIN + HEIGHT, 50.0)
    radii = SIGMA * np.sqrt(-2 * np.log((levels - PLAIN) / HEIGHT))
    lines = [
        shapely.LineString(shapely.Point(centre).buffer(r, quad_segs=32).exterior.coords)
        for r in radii
    ]
    contours = tmp / "contours.gpkg"
    gpd.GeoDataFrame({"elev": levels}, geometry=lines, crs="EPSG:9215").to_file(
        contours, layer="contours"
    )
    return cfg, layers, gpkg, centre, vn, wgs, contours, levels


def _write(path, heights, transform, crs) -> None:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=heights.shape[1],
        height=heights.shape[0],
        count=1,
        dtype="float32",
        crs=crs,
        transform=transform,
        nodata=-9999.0,
    ) as dst:
        dst.write(heights.astype("float32"), 1)


def _with_base(cfg, *base: BaseLayer):
    return cfg.model_copy(
        update={"maps": cfg.maps.model_copy(update={"base": list(base), "dem": None})}
    )


def _dem_layer(path) -> BaseLayer:
    return BaseLayer(path=path, kind="dem", attribution="Synthetic test DEM", contour_interval_m=25)


def _contour_layer(path) -> BaseLayer:
    return BaseLayer(
        path=path,
        layer="contours",
        kind="contours",
        elevation_field="elev",
        index_every=2,
        attribution="Synthetic test contours",
    )


def _frame_grey(pdf, sheet, tmp):
    """The map frame of page 1 rendered by pdftoppm, as greyscale values."""
    png = tmp / "page"
    subprocess.run(
        ["pdftoppm", "-r", "60", "-f", "1", "-l", "1", "-png", "-gray", str(pdf), str(png)],
        check=True,
    )
    image = np.asarray(Image.open(next(tmp.glob("page*.png"))).convert("L"), dtype=float)
    for f in tmp.glob("page*.png"):
        f.unlink()
    x, y, w, h = (v * 60 / 25.4 for v in sheet.map_frame_mm)
    top = image.shape[0] - (y + h)
    return image[int(top) + 3 : int(top + h) - 3, int(x) + 3 : int(x + w) - 3]


@pytest.mark.parametrize("which", ["vn2000", "wgs84"])
def test_dem_and_contour_layers_draw_relief_with_labels(relief, which, tmp_path) -> None:
    cfg, layers, _gpkg, _centre, vn, wgs, contours, levels = relief
    dem = vn if which == "vn2000" else wgs
    with_relief = _with_base(cfg, _dem_layer(dem), _contour_layer(contours))
    pdf = tmp_path / "relief.pdf"
    sheet = render_zoning_sheet(UNIT, layers, with_relief, pdf)
    assert sheet.hillshade  # the base's DEM lights the relief too
    legend = " | ".join(sheet.legend)
    assert "Bóng địa hình (DEM)" in legend
    assert (
        "Đường bình độ (từ DEM), khoảng cao đều 25 m / Contour (from the DEM), interval 25 m"
        in legend
    )
    assert "Đường bình độ / Contour" in legend
    assert "Đường bình độ cái (có ghi độ cao)" in legend
    with pdfplumber.open(pdf) as doc:
        page = doc.pages[0]
        x0, y0, w, h = (v * PT_PER_MM for v in sheet.map_frame_mm)
        inside = page.crop((x0, page.height - y0 - h, x0 + w, page.height - y0))
        words = {wd["text"] for wd in inside.extract_words()}
        text = page.extract_text()
    # index contours labelled with their heights the Vietnamese way (1.000 m: dot thousands)
    index_levels = [z for z in levels if z % 100 == 0]
    labelled = {vi_number(z) for z in index_levels} & words
    assert len(labelled) >= 2, words
    assert "Synthetic test DEM" in text and "Synthetic test contours" in text
    # the hillshade: the frame is shaded grey where, without the DEM, it is white paper
    plain = tmp_path / "plain.pdf"
    render_zoning_sheet(UNIT, layers, _with_base(cfg), plain)
    shaded = _frame_grey(pdf, sheet, tmp_path)
    white = _frame_grey(plain, sheet, tmp_path)
    assert (white > 250).mean() > 0.5
    assert (shaded < 235).mean() > (white < 235).mean() + 0.3


def test_wgs84_dem_is_reprojected_onto_the_vn2000_ground(relief) -> None:
    cfg, _layers, _gpkg, centre, vn, wgs, _contours, _levels = relief
    bounds = (centre[0] - 1500, centre[1] - 1500, centre[0] + 1500, centre[1] + 1500)
    for dem in (vn, wgs):
        grid = elevation_for_extent(dem, bounds, cfg.working_crs, max_cells=150)
        rows, cols = grid.shape
        cx = bounds[0] + (np.arange(cols) + 0.5) * (bounds[2] - bounds[0]) / cols
        cy = bounds[3] - (np.arange(rows) + 0.5) * (bounds[3] - bounds[1]) / rows
        truth = surface(*np.meshgrid(cx, cy), centre)
        # a 200 m datum slip would be over 100 m of height on these slopes
        assert np.nanmax(np.abs(grid - truth)) < 5.0, (dem.name, np.nanmax(np.abs(grid - truth)))


@pytest.mark.parametrize("which", ["vn2000", "wgs84"])
def test_the_dossier_elevation_comes_from_a_base_dem(relief, which) -> None:
    cfg, _layers, gpkg, centre, vn, wgs, _contours, _levels = relief
    dem = vn if which == "vn2000" else wgs
    without = _with_base(cfg)
    assert relief_dem(without.maps) is None
    heritage = load_heritage(gpkg)
    assert dem_elevations(without, heritage) == {}
    configured = _with_base(cfg, _dem_layer(dem))
    assert relief_dem(configured.maps) == (dem, "maps.base.path")
    elevations = dem_elevations(configured, heritage)
    site = heritage.geosites.set_index("geosite_code").geometry[UNIT]
    expected = float(surface(site.x, site.y, centre))
    assert elevations[UNIT] == pytest.approx(expected, abs=2.0)
    # sites off the DEM have none rather than a made-up height
    far = [
        code
        for code, g in zip(
            heritage.geosites["geosite_code"], heritage.geosites.geometry, strict=True
        )
        if max(abs(g.x - centre[0]), abs(g.y - centre[1])) > 4500
    ]
    assert far and not set(far) & set(elevations)
    # [maps] dem, when set, wins over the base layer
    both = configured.model_copy(update={"maps": configured.maps.model_copy(update={"dem": vn})})
    assert relief_dem(both.maps) == (vn, "maps.dem")
