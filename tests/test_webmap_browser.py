"""The web map as a person opens it: ``maps/geopark.html`` in Debian's headless
Chromium (driven by Selenium through Debian's chromedriver), from a file:// URL
with every network request sent to a dead proxy.

Expected numbers come from the GeoPackage (read with pyogrio), never from the
page or the web-map module.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from PIL import Image

from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.report import SAMPLE_NOTE
from pipeline.run import run_zones

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = pytest.mark.browser

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    if os.environ.get("CI"):
        raise RuntimeError(
            "Chromium and chromedriver are required on CI (scripts/install-system-deps.sh)"
        )
    pytest.skip("Debian chromium/chromium-driver not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

MARKUP_NAME = 'Hang <img src=x onerror="window.__xss=1"> <b>đậm</b>'

# Installed before any page script runs: every uncaught error, failed resource
# and console.error lands in window.__geoparkErrors.
ERROR_COLLECTOR = """
window.__geoparkErrors = [];
window.addEventListener('error', function (e) {
    var t = e.target, where = t && t !== window ? (t.src || t.href || t.tagName) : '';
    window.__geoparkErrors.push([e.message || e.type, e.filename || '', where].join(' '));
}, true);
window.addEventListener('unhandledrejection', function (e) {
    window.__geoparkErrors.push('unhandled rejection: ' + e.reason);
});
(function () {
    var original = console.error;
    console.error = function () {
        window.__geoparkErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
        return original.apply(console, arguments);
    };
})();
"""

COUNT_FEATURES = """
function leaves(layer) {
    if (!layer.getLayers) return 1;
    return layer.getLayers().reduce(function (n, l) { return n + leaves(l); }, 0);
}
var counts = {};
var overlays = window.geoparkWebmap.overlays;
Object.keys(overlays).forEach(function (key) {
    counts[key] = window.geoparkWebmap.map.hasLayer(overlays[key]) ? leaves(overlays[key]) : -1;
});
return counts;
"""


class Page:
    """One loaded page: the driver plus what the browser logged and requested."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self.driver = driver
        self._requests: list[str] = []

    def js(self, script: str, *args):
        return self.driver.execute_script(script, *args)

    def errors(self) -> list[str]:
        """Everything the page reported as an error: collected in-page and by Chromium's log."""
        collected = self.js("return window.__geoparkErrors || ['collector missing'];")
        logged = [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]
        return list(collected) + logged

    def requests(self) -> list[str]:
        """URLs of every network request the page made so far (Chromium's DevTools log)."""
        for entry in self.driver.get_log("performance"):  # the log is drained on reading
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                self._requests.append(message["params"]["request"]["url"])
        return list(self._requests)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
        # no network: every request that is not a file goes to a closed port
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ERROR_COLLECTOR})
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver: webdriver.Chrome, path: Path) -> Page:
    driver.get("about:blank")
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get_log("performance")
    driver.get(path.resolve().as_uri())
    WebDriverWait(driver, 60).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && !!window.geoparkWebmap;"
        )
    )
    return Page(driver)


def build_page(config: Path, *extra: str) -> Path:
    result = CliRunner().invoke(cli, ["webmap", "--config", str(config), *extra])
    assert result.exit_code == 0, result.output
    return load_config(config).webmap.output


def expected_counts(gpkg: Path) -> dict[str, int]:
    """Features each overlay should draw, straight from the GeoPackage."""

    def drawn(layer: str):
        frame = pyogrio.read_dataframe(gpkg, layer=layer)
        geoms = frame.geometry.values
        return frame[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]

    zones = drawn("protection_zones")
    counts = {
        "park_extent": len(drawn("park_extent")),
        "districts": len(drawn("districts")),
        "zone_i": int((zones["zone_class"] == "I").sum()),
        "zone_ii": int((zones["zone_class"] == "II").sum()),
        "qa_findings": len(drawn("qa_findings")),
    }
    for category, n in drawn("geosites")["category"].value_counts().items():
        counts[f"geosites:{category}"] = int(n)
    return counts


@pytest.fixture(scope="module")
def sample_page(sample_run, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web map of the sample run, without tiles (fully offline)."""
    cfg, _ = sample_run
    config = cfg.source
    assert config is not None
    output = tmp_path_factory.mktemp("webmap") / "geopark.html"
    result = CliRunner().invoke(
        cli, ["webmap", "--config", str(config), "--no-tiles", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    return output


def test_opens_offline_without_errors(browser, sample_page: Path) -> None:
    page = open_page(browser, sample_page)
    assert page.errors() == []
    external = [u for u in page.requests() if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    assert external == []
    assert page.js("return typeof L === 'object' && L.version;")


def test_every_layer_draws_every_feature(browser, sample_page: Path, sample_gpkg: Path) -> None:
    page = open_page(browser, sample_page)
    assert page.js(COUNT_FEATURES) == expected_counts(sample_gpkg)


def test_layer_control_lists_the_overlays(browser, sample_page: Path, sample_gpkg: Path) -> None:
    page = open_page(browser, sample_page)
    labels = page.js(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(function (l) { return l.textContent.trim(); });"
    )
    categories = sorted(set(pyogrio.read_dataframe(sample_gpkg, layer="geosites")["category"]))
    wanted = ["Park extent", "Districts", "Zone I (core)", "Zone II (buffer)", "QA findings"]
    wanted += [f"Geosites: {c}" for c in categories]
    assert len(labels) == len(wanted)
    for english in wanted:
        matching = [label for label in labels if label.endswith(english)]
        assert len(matching) == 1, (english, labels)
        assert " / " in matching[0]  # Vietnamese first, English alongside
    checked = page.js(
        "return Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays input')).every(function (i) { return i.checked; });"
    )
    assert checked


def test_popups_are_bilingual_with_areas(browser, sample_page: Path, sample_gpkg: Path) -> None:
    geosites = pyogrio.read_dataframe(sample_gpkg, layer="geosites")
    zone_i = pyogrio.read_dataframe(sample_gpkg, layer="zone_i")
    site = geosites.iloc[0]
    area = float(zone_i.loc[zone_i["geosite_code"] == site["geosite_code"], "area_ha"].iloc[0])
    page = open_page(browser, sample_page)
    text = page.js(
        """
        var key = 'geosites:' + arguments[0], id = 'geosite-' + arguments[1], found = null;
        window.geoparkWebmap.overlays[key].eachLayer(function (l) {
            if (l.feature.id === id) found = l;
        });
        found.openPopup();
        return found.getPopup().getElement().innerText;
        """,
        site["category"],
        site["geosite_code"],
    )
    for expected in (
        site["geosite_code"],
        site["name_vi"],
        site["name_en"],
        "Tên tiếng Anh",
        "English name",
        "Loại hình",
        "Category",
        "Significance",
        f"{area:,.2f} ha",
    ):
        assert expected in text, (expected, text)
    zone_text = page.js(
        """
        var out = null;
        window.geoparkWebmap.overlays['zone_i'].eachLayer(function (l) {
            if (out !== null) return;
            l.openPopup();
            out = l.getPopup().getElement().innerText;
        });
        return out;
        """
    )
    assert "Diện tích" in zone_text and "Area" in zone_text and " ha" in zone_text
    assert "Huyện" in zone_text and "Districts" in zone_text
    assert page.errors() == []


def test_title_legend_and_scale(browser, sample_page: Path, tmp_path: Path) -> None:
    page = open_page(browser, sample_page)
    title = page.js("return document.getElementById('gp-title').innerText;")
    assert SAMPLE_NOTE in title.replace("\n", " ")
    legend = page.js("return document.getElementById('gp-legend').innerText;")
    assert "Chú giải / Legend" in legend and "Zone I" in legend and "Zone II" in legend
    scale = page.js("return document.querySelector('.leaflet-control-scale').innerText;")
    assert "km" in scale or " m" in scale
    shot = tmp_path / "webmap.png"
    browser.save_screenshot(str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 200  # a drawn map, not a blank page
    # the Zone I and geosite symbols are there: some strongly saturated pixels
    saturation = pixels.max(axis=1).astype(int) - pixels.min(axis=1).astype(int)
    assert (saturation > 120).sum() > 200
    keep = os.environ.get("GEOPARK_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "webmap_overview.png")


def test_tiles_are_the_only_external_resource(
    browser, sample_run, tmp_path: Path, sample_gpkg: Path
) -> None:
    import xyzservices

    cfg, _ = sample_run
    output = tmp_path / "tiles.html"
    result = CliRunner().invoke(
        cli, ["webmap", "--config", str(cfg.source), "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    tile_host = urlparse(xyzservices.providers.query_name(cfg.webmap.tiles).build_url()).hostname
    page = open_page(browser, output)
    WebDriverWait(browser, 30).until(lambda _: any(tile_host in u for u in page.requests()))
    external = [u for u in page.requests() if urlparse(u).scheme in ("http", "https", "ws", "wss")]
    assert {urlparse(u).hostname for u in external} == {tile_host}
    # with the network cut, only the tiles may fail
    assert [e for e in page.errors() if tile_host not in e] == []
    assert page.js(COUNT_FEATURES) == expected_counts(sample_gpkg)


def test_a_name_with_markup_is_shown_as_text(browser, write_config, tmp_path: Path) -> None:
    register = tmp_path / "geosites.csv"
    source = Path(__file__).resolve().parents[1] / "data" / "raw" / "geosites.csv"
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    target = rows[0]
    target["name_vi"] = MARKUP_NAME
    with open(register, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    def edit(raw):
        raw["inputs"]["geosites"]["path"] = str(register)

    config = write_config(edit)
    result = run_zones(load_config(config))
    assert result.published, result.report.get("findings")
    output = build_page(config, "--no-tiles")
    assert output == tmp_path / "maps" / "geopark.html"  # [webmap] output, relative to the config

    page = open_page(browser, output)
    state = page.js(
        """
        var code = arguments[0], found = null, key;
        for (key in window.geoparkWebmap.overlays) {
            window.geoparkWebmap.overlays[key].eachLayer(function (l) {
                if (l.feature && l.feature.id === 'geosite-' + code) found = l;
            });
        }
        found.openPopup();
        found.openTooltip();
        var popup = found.getPopup().getElement();
        var tooltip = found.getTooltip().getElement();
        return {
            popupText: popup.innerText,
            tooltipText: tooltip.innerText,
            injected: document.querySelectorAll(
                '.leaflet-popup-content img, .leaflet-popup-content b, '
                + '.leaflet-tooltip img, .leaflet-tooltip b'
            ).length,
            anyImage: document.querySelectorAll('img[src="x"]').length
        };
        """,
        target["geosite_code"],
    )
    # no element was made from the name, so its onerror handler can never run
    assert state["injected"] == 0 and state["anyImage"] == 0
    assert MARKUP_NAME in state["popupText"]
    assert MARKUP_NAME in state["tooltipText"]
    assert page.js("return typeof window.__xss;") == "undefined"
    assert page.errors() == []
