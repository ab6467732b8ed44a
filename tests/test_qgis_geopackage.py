"""The GeoPackage and its project as QGIS sees them (real PyQGIS, offscreen).

The sample run (``make zones``) writes the park's styles into the
GeoPackage's ``layer_styles`` and ``geopark.qgz`` beside it; QGIS must open
every layer valid, in EPSG:9215, with every feature, styled by default with
exactly the style we published, and open the project from wherever the pair is
copied to.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from PIL import Image

from pipeline.qgis.project import GROUPS
from pipeline.qgis.styles import STYLE_NAME, write_geopackage_styles
from tests.qgis_helpers import (
    assert_style_is_published,
    published_style,
    pyqgis_available,
    run_qgis,
)

pytestmark = [
    pytest.mark.qgis,
    pytest.mark.skipif(
        not pyqgis_available(), reason="PyQGIS (Debian python3-qgis) is not installed"
    ),
]


def _spatial_layers(gpkg: Path) -> list[str]:
    return [str(name) for name, geometry in pyogrio.list_layers(gpkg) if geometry is not None]


def _ogr(gpkg: Path, layer: str) -> dict[str, str]:
    return {"name": layer, "uri": f"{gpkg}|layername={layer}", "provider": "ogr"}


@pytest.fixture(scope="module")
def qgis_view(sample_run, sample_gpkg: Path, tmp_path_factory: pytest.TempPathFactory):
    """One QGIS session over the sample outputs: layers, the project (in place and
    moved elsewhere), a copy without styles as a control, and a rendered map."""
    cfg, _ = sample_run
    work = tmp_path_factory.mktemp("qgis_gpkg")
    qgz = cfg.outputs.directory / cfg.outputs.project
    moved = work / "moved"
    moved.mkdir()
    shutil.copy2(sample_gpkg, moved / sample_gpkg.name)
    shutil.copy2(qgz, moved / qgz.name)
    bare = work / "bare.gpkg"  # the same data without layer_styles: QGIS's plain default
    shutil.copy2(sample_gpkg, bare)
    with sqlite3.connect(bare) as db:
        db.execute("DROP TABLE layer_styles")
        db.execute("DELETE FROM gpkg_contents WHERE table_name = 'layer_styles'")
    db.close()
    png = work / "protection_zones.png"
    # zoomed on the largest zoning unit, so that Zone I and Zone II are seen
    zones = pyogrio.read_dataframe(sample_gpkg, layer="protection_zones")
    unit = zones.dissolve("unit_code").area.idxmax()
    xmin, ymin, xmax, ymax = zones[zones["unit_code"] == unit].total_bounds
    pad = 0.15 * max(xmax - xmin, ymax - ymin)
    request = {
        "layers": [_ogr(sample_gpkg, name) for name in _spatial_layers(sample_gpkg)]
        + [
            {**_ogr(bare, "geosites"), "name": "bare_geosites"},
            {**_ogr(bare, "protection_zones"), "name": "bare_protection_zones"},
        ],
        "projects": [str(qgz), str(moved / qgz.name)],
        "render": {
            "layers": [_ogr(sample_gpkg, "geosites"), _ogr(sample_gpkg, "protection_zones")],
            "png": str(png),
            "extent": [xmin - pad, ymin - pad, xmax + pad, ymax + pad],
            "width": 900,
            "height": 700,
        },
    }
    result = run_qgis(request, work)
    keep = Path(__file__).resolve().parents[1] / ".cache" / "qgis_render_protection_zones.png"
    keep.parent.mkdir(exist_ok=True)
    if png.exists():
        shutil.copy2(png, keep)  # for a person to look at
    return {"cfg": cfg, "gpkg": sample_gpkg, "result": result, "png": png}


def test_layer_styles_table_is_the_one_qgis_reads(sample_gpkg: Path):
    layers = _spatial_layers(sample_gpkg)
    with sqlite3.connect(sample_gpkg) as db:
        rows = db.execute(
            'SELECT "f_table_schema", "f_table_name", "f_geometry_column", "styleName", '
            '"useAsDefault" '
            "FROM layer_styles"
        ).fetchall()
        geometry_columns = dict(
            db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
        )
        registered = db.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    db.close()
    assert registered == ("attributes",)
    assert sorted(r[1] for r in rows) == sorted(layers)
    for schema, table, geometry_column, name, default in rows:
        assert (schema, name, default) == ("", STYLE_NAME, 1)
        assert geometry_column == geometry_columns[table]
    # GDAL still sees the GeoPackage's layers, and the styles as a plain table
    assert "layer_styles" in [str(n) for n, _ in pyogrio.list_layers(sample_gpkg)]


def test_rewriting_styles_keeps_one_default_per_layer(sample_gpkg: Path, tmp_path: Path):
    copy = tmp_path / "again.gpkg"
    shutil.copy2(sample_gpkg, copy)
    with sqlite3.connect(copy) as db:  # a style a user saved as their default
        db.execute(
            'INSERT INTO layer_styles ("f_table_catalog", "f_table_schema", "f_table_name", '
            '"f_geometry_column", "styleName", "styleQML", "useAsDefault") '
            "VALUES ('', '', 'geosites', 'geom', 'mine', '<qgis/>', 1)"
        )
    db.close()
    write_geopackage_styles(copy, ["geosites", "districts"])
    with sqlite3.connect(copy) as db:
        rows = db.execute(
            'SELECT "styleName", "useAsDefault" FROM layer_styles WHERE "f_table_name" = ? '
            'ORDER BY "styleName"',
            ("geosites",),
        ).fetchall()
        total = db.execute("SELECT count(*) FROM layer_styles").fetchone()[0]
    db.close()
    assert rows == [("geopark", 1), ("mine", 0)]
    assert total == len(_spatial_layers(sample_gpkg)) + 1


def test_every_layer_opens_in_qgis_with_its_features_and_crs(qgis_view):
    gpkg = qgis_view["gpkg"]
    seen = {layer["name"]: layer for layer in qgis_view["result"]["layers"]}
    for name in _spatial_layers(gpkg):
        layer = seen[name]
        assert layer["valid"], layer
        assert layer["crs"] == "EPSG:9215", name
        expected = pyogrio.read_info(gpkg, layer=name)["features"]
        assert layer["feature_count"] == expected, name
        assert layer["features_read"] == expected, name


def test_every_layer_has_our_style_by_default(qgis_view):
    gpkg = qgis_view["gpkg"]
    seen = {layer["name"]: layer for layer in qgis_view["result"]["layers"]}
    for name in _spatial_layers(gpkg):
        layer = seen[name]
        assert layer["default_style_loaded"], (name, layer["default_style_message"])
        assert_style_is_published(name, layer["on_open"])  # what a user sees on adding it
        assert_style_is_published(name, layer["default"])  # and after "restore default"
        assert STYLE_NAME in layer["database_styles"], name


def test_the_symbology_is_the_parks(qgis_view):
    """Zones by class, geosites by category, QA by severity; labels where they belong."""
    seen = {layer["name"]: layer["on_open"] for layer in qgis_view["result"]["layers"]}
    zones = seen["protection_zones"]
    assert zones["attribute"] == "zone_class"
    assert [c["value"] for c in zones["categories"]] == ["I", "II"]
    zone_i, zone_ii = zones["categories"]
    assert zone_i["symbol_layers"] == ["SimpleFill"]  # a solid fill
    assert "LinePatternFill" in zone_ii["symbol_layers"]  # a hatch
    for layer in ("protection_zones", "clusters"):
        assert "unit_code" in seen[layer]["label_field"]
    assert seen["districts"]["label_field"] == "district_name"
    categories = seen["geosites"]["categories"]
    assert seen["geosites"]["attribute"] == "category"
    assert {c["value"] for c in categories} == {
        "geomorphological",
        "cave",
        "paleontological",
        "stratigraphic",
        "hydrogeological",
        "archaeological",
        "cultural",
    }
    assert len({c["color"] for c in categories}) == len(categories)  # each category looks different
    assert [c["value"] for c in seen["qa_findings"]["categories"]] == ["error", "warning", "info"]


def test_without_our_table_qgis_shows_its_plain_default(qgis_view):
    """The control: the same layers without layer_styles are not styled by category."""
    seen = {layer["name"]: layer for layer in qgis_view["result"]["layers"]}
    assert published_style("geosites")["type"] == "categorizedSymbol"
    assert seen["bare_geosites"]["valid"] and seen["bare_protection_zones"]["valid"]
    assert seen["bare_geosites"]["on_open"]["type"] == "singleSymbol"
    assert seen["bare_protection_zones"]["on_open"]["type"] == "singleSymbol"


def test_project_opens_with_every_layer_grouped_and_styled(qgis_view):
    gpkg, cfg = qgis_view["gpkg"], qgis_view["cfg"]
    spatial = _spatial_layers(gpkg)
    for project in qgis_view["result"]["projects"]:  # in place, then copied elsewhere
        assert project["read"], project["error"]
        assert project["crs"] == "EPSG:9215"
        assert cfg.park.name_vi in project["title"] and cfg.park.name_en in project["title"]
        assert "SAMPLE DATA" in project["title"] and "approximate" in project["abstract"]
        assert list(project["groups"]) == [name for name, _ in GROUPS]
        grouped = [layer_id for ids in project["groups"].values() for layer_id in ids]
        assert sorted(grouped) == sorted(f"geopark_{name}" for name in spatial)
        folder = str(Path(project["uri"]).parent)
        for layer in project["layers"]:
            assert layer["valid"], layer
            assert layer["provider"] == "ogr"
            assert layer["source"].startswith(folder), layer["source"]  # relative to the project
            assert layer["crs"] == "EPSG:9215"
            table = layer["id"].removeprefix("geopark_")
            assert layer["feature_count"] == pyogrio.read_info(gpkg, layer=table)["features"]
            assert_style_is_published(table, layer["renderer"])


def test_a_styled_layer_renders(qgis_view):
    render = qgis_view["result"]["render"]
    assert render["saved"] and not render["errors"]
    pixels = np.asarray(Image.open(qgis_view["png"]).convert("RGB")).astype(int)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    # Zone I's red-ochre fill over white, and Zone II's orange hatch lines
    red_ochre = (r > 170) & (g > 60) & (g < 130) & (b > 50) & (b < 120)
    orange = (r > 200) & (g > 100) & (g < 160) & (b < 70)
    assert red_ochre.sum() > 100
    assert orange.sum() > 100
