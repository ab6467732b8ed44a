"""The web map without a browser: geometry for the browser, escaping, a
self-contained page, the ``[webmap]`` settings and the ``geopark webmap`` command.
The page in a real headless Chromium is tested in ``test_webmap_browser.py``."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.crs import to_crs
from pipeline.report import SAMPLE_NOTE
from pipeline.webmap import (
    build_webmap,
    conflict_popup,
    for_browser,
    geosite_popup,
    read_webmap_layers,
    render_webmap,
)

MARKUP = '<img src=x onerror="window.__xss=1"></script><script>window.__xss=2</script>'


class _Resources(HTMLParser):
    """Collects every URL the page would load by itself (script, stylesheet, image...)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "video", "audio") and attributes.get("src"):
            self.urls.append(attributes["src"] or "")
        if tag == "link" and attributes.get("href"):
            self.urls.append(attributes["href"] or "")


def _resources(page: str) -> list[str]:
    parser = _Resources()
    parser.feed(page)
    css_urls = re.findall(r"url\(\s*['\"]?([^'\")]+)", page)
    return parser.urls + [u for u in css_urls if not u.startswith(("data:", "#"))]


@pytest.fixture(scope="module")
def sample_layers(sample_gpkg: Path):
    return read_webmap_layers(sample_gpkg)


def test_points_go_to_wgs84_through_the_epsg_operation(sample_run, sample_layers) -> None:
    cfg, _ = sample_run
    geosites = sample_layers["geosites"]
    browser = for_browser(geosites, 0.0, 7)
    xy = shapely.get_coordinates(browser.geometry.values)
    # lon/lat in the GeoPackage come from the register through the same EPSG
    # operation (the ~200 m VN-2000 datum shift included); the page must agree.
    assert np.abs(xy[:, 0] - geosites["lon"].to_numpy()).max() < 2e-7
    assert np.abs(xy[:, 1] - geosites["lat"].to_numpy()).max() < 2e-7
    assert cfg.working_crs == "EPSG:9215"


def test_generalisation_stays_within_the_tolerance(sample_layers) -> None:
    districts = sample_layers["districts"]
    tolerance = 50.0
    browser = for_browser(districts, tolerance, 7)
    before = shapely.get_num_coordinates(districts.geometry.values).sum()
    after = shapely.get_num_coordinates(browser.geometry.values).sum()
    assert after < before / 2
    back = to_crs(browser, districts.crs)
    # Hausdorff distance in metres between each district and its generalised
    # form: never more than the tolerance (plus the 1e-7 degree rounding).
    distances = shapely.hausdorff_distance(districts.geometry.values, back.geometry.values)
    assert distances.max() <= tolerance + 0.1
    assert shapely.is_valid(back.geometry.values).all()


def test_popup_keeps_markup_as_plain_text() -> None:
    popup = geosite_popup(
        {
            "geosite_code": "LS-XX-01",
            "name_vi": MARKUP,
            "name_en": "<b>bold</b>",
            "category": "cave",
        },
        12.5,
        None,
    )
    # the popup is text, not HTML: the page puts every piece in the DOM as a text node
    values = {vi: value for vi, _en, value in popup["rows"]}
    assert popup["title"] == f"LS-XX-01 — {MARKUP}"
    assert values["Tên"] == MARKUP and values["Tên tiếng Anh"] == "<b>bold</b>"
    # bilingual labels and the area in hectares
    labels = {(vi, en) for vi, en, _ in popup["rows"]}
    assert ("Tên tiếng Anh", "English name") in labels
    assert values["Loại hình"] == "hang động / cave"
    # numbers both ways: Vietnamese (decimal comma, dot thousands), English beneath
    assert values["Diện tích vùng I"] == {"vi": "12,50 ha", "en": "12.50 ha"}
    assert values["Diện tích vùng II"] == "—"


def test_popup_numbers_follow_each_language() -> None:
    popup = geosite_popup(
        {"geosite_code": "LS-XX-02", "x_vn2000": 2412345.678, "y_vn2000": 456789.01},
        1234.567,
        7,
    )
    values = {vi: value for vi, _en, value in popup["rows"]}
    assert values["Diện tích vùng I"] == {"vi": "1.234,57 ha", "en": "1,234.57 ha"}
    assert values["Diện tích vùng II"] == {"vi": "7,00 ha", "en": "7.00 ha"}
    xy = values["Tọa độ VN-2000 (X bắc, Y đông)"]
    assert xy == {
        "vi": "X 2.412.345,7 m, Y 456.789,0 m",
        "en": "X 2,412,345.7 m, Y 456,789.0 m",
    }
    conflict = conflict_popup(
        {"unit_code": "U", "overlap_area_ha": 12.3456, "overlap_length_m": 1500.0, "distance_m": 0}
    )
    values = {vi: value for vi, _en, value in conflict["rows"]}
    assert values["Chồng lấn (ha)"] == {"vi": "12,35", "en": "12.35"}
    assert values["Chiều dài trong vùng (m)"] == {"vi": "1.500", "en": "1,500"}
    assert values["Khoảng cách (m)"] == {"vi": "0,0", "en": "0.0"}


def test_page_escapes_markup_everywhere(sample_run, sample_layers) -> None:
    cfg, _ = sample_run
    layers = dict(sample_layers)
    geosites = layers["geosites"].copy()
    geosites.loc[geosites.index[0], "name_vi"] = MARKUP
    layers["geosites"] = geosites
    page = render_webmap(build_webmap(layers, cfg, tiles=False))
    # neither the tag nor a closing </script> from the data reaches the page raw:
    # the name travels in the JSON data with < written as \u003c
    assert "<img src=x" not in page
    assert "window.__xss=2</script>" not in page
    assert page.count("<script") == page.count("</script>")
    assert "\\u003cimg src=x" in page


def test_page_needs_no_network_without_tiles(sample_run, sample_layers) -> None:
    cfg, _ = sample_run
    page = render_webmap(build_webmap(sample_layers, cfg, tiles=False))
    assert _resources(page) == []
    assert "L.tileLayer" not in page
    assert not re.search(r"https?://[^\"'\s]*(cdn|jsdelivr|cloudflare|jquery)", page)
    assert "L.control.scale" in page and 'class="gp-legend"' in page
    assert SAMPLE_NOTE in page


def test_page_with_tiles_loads_only_the_tiles(sample_run, sample_layers) -> None:
    import xyzservices

    cfg, _ = sample_run
    page = render_webmap(build_webmap(sample_layers, cfg, tiles=True))
    assert _resources(page) == []
    tile_url = xyzservices.providers.query_name(cfg.webmap.tiles).build_url()
    assert page.count("L.tileLayer(") == 1
    assert f'"{tile_url}"' in page


def test_title_says_sample_data_only_when_it_is(sample_run, sample_layers) -> None:
    cfg, _ = sample_run
    real = cfg.model_copy(update={"park": cfg.park.model_copy(update={"sample_data": False})})
    page = render_webmap(build_webmap(sample_layers, real, tiles=False))
    assert SAMPLE_NOTE not in page
    assert cfg.park.name_vi in page and cfg.park.name_en in page


def _gpkg_of(config: Path) -> Path:
    cfg = load_config(config)
    return cfg.outputs.directory / cfg.outputs.geopackage


def test_command_writes_the_page_and_fails_well(write_config, sample_gpkg: Path, tmp_path) -> None:
    config = write_config()
    gpkg = _gpkg_of(config)
    gpkg.parent.mkdir(parents=True)
    pyogrio_layers = [row[0] for row in pyogrio.list_layers(sample_gpkg)]
    assert "geosites" in pyogrio_layers
    gpkg.write_bytes(sample_gpkg.read_bytes())
    target = tmp_path / "maps" / "geopark.html"
    runner = CliRunner()

    done = runner.invoke(cli, ["webmap", "--config", str(config), "--no-tiles"])
    assert done.exit_code == 0, done.output
    assert target.exists() and "geoparkWebmap" in target.read_text("utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["geopark.html"]  # no staging left
    before = target.read_bytes()

    gpkg.unlink()
    failed = runner.invoke(cli, ["webmap", "--config", str(config), "--no-tiles"])
    assert failed.exit_code == 2
    assert "Traceback" not in failed.output
    assert "chưa có GeoPackage" in failed.output and "does not exist yet" in failed.output
    assert "geopark zones" in failed.output
    assert target.read_bytes() == before  # the previous page is intact


def test_unknown_tile_provider_is_a_config_error(write_config, sample_gpkg: Path) -> None:
    def edit(raw):
        raw["webmap"] = {"tiles": "NoSuch.Provider"}

    config = write_config(edit)
    gpkg = _gpkg_of(config)
    gpkg.parent.mkdir(parents=True)
    gpkg.write_bytes(sample_gpkg.read_bytes())
    result = CliRunner().invoke(cli, ["webmap", "--config", str(config)])
    assert result.exit_code == 2
    assert "webmap.tiles" in result.output and "NoSuch.Provider" in result.output
    # without tiles the same configuration works
    ok = CliRunner().invoke(cli, ["webmap", "--config", str(config), "--no-tiles"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    ("section", "key"),
    [({"zone_simplify_m": -1}, "webmap.zone_simplify_m"), ({"simplify": 3}, "webmap.simplify")],
)
def test_webmap_settings_are_validated(write_config, section, key) -> None:
    config = write_config(lambda raw: raw.__setitem__("webmap", section))
    result = CliRunner().invoke(cli, ["webmap", "--config", str(config)])
    assert result.exit_code == 2
    assert key in result.output
