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
from pipeline.numbers import en_number, vi_number
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
    present = {name for name, _ in pyogrio.list_layers(gpkg)}
    for layer in ("threat_areas", "threat_lines", "threat_points"):
        if layer in present:
            counts[layer] = -1  # off by default: the threats are context
    if "conflicts" in present:
        counts["conflicts"] = len(drawn("conflicts"))
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
    threats = ["Threats: areas", "Threats: lines", "Threats: points"]
    wanted += [*threats, "Conflicts with the zones"]
    assert len(labels) == len(wanted)
    for english in wanted:
        matching = [label for label in labels if label.endswith(english)]
        assert len(matching) == 1, (english, labels)
        assert " / " in matching[0]  # Vietnamese first, English alongside
    checked = page.js(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(function (l) { return [l.textContent.trim(), l.querySelector('input').checked]; });"
    )
    for label, on in checked:
        # threats are off by default, everything else (conflicts too) is on
        assert on == (not any(label.endswith(t) for t in threats)), label


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
    ):
        assert expected in text, (expected, text)
    # the area the Vietnamese way (decimal comma, dot thousands), the English way beneath
    forms = page.js(
        """
        var td = null;
        document.querySelectorAll('.leaflet-popup-content .gp-popup tr').forEach(function (tr) {
            if (tr.querySelector('th').firstChild.nodeValue === 'Diện tích vùng I') td = tr.cells[1];
        });
        return [td.querySelector('.vi').textContent, td.querySelector('.en').textContent];
        """
    )
    assert forms == [f"{vi_number(area, 2)} ha", f"{en_number(area, 2)} ha"], forms
    assert "," in forms[0] and "." in forms[1]
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


# ---------------------------------------------------------------- phone and desktop widths

RECT = "var r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom];"


def emulate(driver: webdriver.Chrome, width: int, height: int) -> None:
    """Show pages as a screen of ``width`` × ``height`` CSS pixels (a phone: touch, mobile)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


@pytest.fixture
def phone(browser) -> Iterator[webdriver.Chrome]:
    emulate(browser, 400, 800)
    try:
        yield browser
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def rect(page: Page, element_id: str) -> list[float]:
    return page.js(RECT, page.driver.find_element("id", element_id))


def open_first_geosite_popup(page: Page) -> list[float]:
    """Open a geosite's popup (the longest one: a description), wait for the map to pan."""
    page.js(
        """
        var best = null, size = -1, overlays = window.geoparkWebmap.overlays;
        Object.keys(overlays).forEach(function (key) {
            if (key.indexOf('geosites:') !== 0) return;
            overlays[key].eachLayer(function (l) {
                var n = JSON.stringify(l.feature.properties.popup).length;
                if (n > size) { size = n; best = l; }
            });
        });
        best.openPopup();
        window.__openedPopup = best.getPopup();
        """
    )
    WebDriverWait(page.driver, 10).until(
        lambda d: d.execute_script(
            "var m = window.geoparkWebmap.map; return !m._panAnim || !m._panAnim._inProgress;"
        )
    )
    import time

    time.sleep(0.6)  # the pan animation ends (0.25 s) before the box is measured
    return page.js(RECT, page.js("return window.__openedPopup.getElement();"))


def test_phone_title_and_legend_start_collapsed_and_expand_on_tap(
    phone, sample_page: Path, tmp_path: Path
) -> None:
    page = open_page(phone, sample_page)
    assert page.js("return [window.innerWidth, window.innerHeight];") == [400, 800]
    title, legend = rect(page, "gp-title"), rect(page, "gp-legend")
    # folded, the title still says the locations are sample data, on screen
    assert page.js("return document.getElementById('gp-title').open;") is False
    flag = rect(page, "gp-sample-flag")
    assert flag[2] > flag[0] and flag[0] >= 0 and flag[2] <= 400 and flag[3] <= 800, flag
    assert "Sample data" in page.js("return document.getElementById('gp-sample-flag').innerText;")
    assert page.js("return document.getElementById('gp-legend').open;") is False
    covered = (title[2] - title[0]) * (title[3] - title[1])
    covered += (legend[2] - legend[0]) * (legend[3] - legend[1])
    assert covered < 0.25 * 400 * 800, (title, legend)
    for box in (title, legend):
        assert box[0] >= 0 and box[1] >= 0 and box[2] <= 400 and box[3] <= 800, box
    # a tap on the legend's heading opens it, inside the screen
    phone.find_element("css selector", "#gp-legend summary").click()
    assert page.js("return document.getElementById('gp-legend').open;") is True
    opened = rect(page, "gp-legend")
    assert opened[3] - opened[1] > 2 * (legend[3] - legend[1])
    assert opened[0] >= 0 and opened[1] >= 0 and opened[2] <= 400 and opened[3] <= 800, opened
    assert "Zone I" in page.js("return document.getElementById('gp-legend').innerText;")
    phone.find_element("css selector", "#gp-title summary").click()
    assert SAMPLE_NOTE in page.js("return document.getElementById('gp-title').innerText;").replace(
        "\n", " "
    )
    assert page.errors() == []
    keep = os.environ.get("GEOPARK_KEEP_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        phone.save_screenshot(str(Path(keep) / "webmap_phone_legend.png"))


@pytest.mark.parametrize("size", [(400, 800), (1400, 1000)], ids=["phone", "desktop"])
def test_an_opened_popup_fits_the_screen(browser, sample_page: Path, size, tmp_path) -> None:
    width, height = size
    emulate(browser, width, height)
    try:
        page = open_page(browser, sample_page)
        box = open_first_geosite_popup(page)
        assert box[0] >= 0 and box[1] >= 0, box
        assert box[2] <= width and box[3] <= height, box
        content = page.js(
            "return window.__openedPopup.getElement()"
            ".querySelector('.leaflet-popup-content-wrapper').innerText;"
        )
        assert "Category" in content
        # a tall popup scrolls inside itself instead of running off the screen
        scroller = page.js(
            "var c = window.__openedPopup.getElement().querySelector('.leaflet-popup-content');"
            "return [c.scrollHeight, c.clientHeight, getComputedStyle(c).overflowY];"
        )
        if scroller[0] > scroller[1]:
            assert scroller[2] == "auto"
        shot = tmp_path / "popup.png"
        browser.save_screenshot(str(shot))
        assert Image.open(shot).size == (width, height)
        assert page.errors() == []
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("size", [(400, 800), (1400, 1000)], ids=["phone", "desktop"])
def test_scale_bar_is_readable_and_on_screen(browser, sample_page: Path, size) -> None:
    width, height = size
    emulate(browser, width, height)
    try:
        page = open_page(browser, sample_page)
        line = page.driver.find_element("css selector", ".leaflet-control-scale-line")
        box = page.js(RECT, line)
        assert box[0] >= 0 and box[2] <= width and box[3] <= height, box
        assert (
            float(page.js("return parseFloat(getComputedStyle(arguments[0]).fontSize);", line))
            >= 12
        )
        assert box[2] - box[0] >= 40  # a bar, not a speck
        # the legend (open or not) does not cover the scale bar
        legend = rect(page, "gp-legend")
        overlap_x = min(box[2], legend[2]) - max(box[0], legend[0])
        overlap_y = min(box[3], legend[3]) - max(box[1], legend[1])
        assert overlap_x <= 0 or overlap_y <= 0
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_geosites_are_told_apart_by_shape(browser, sample_page: Path) -> None:
    """Each category's markers carry that category's SVG shape, as the legend shows it."""
    page = open_page(browser, sample_page)
    shapes = page.js(
        """
        var out = {}, overlays = window.geoparkWebmap.overlays;
        Object.keys(overlays).forEach(function (key) {
            if (key.indexOf('geosites:') !== 0) return;
            var paths = {};
            overlays[key].eachLayer(function (l) {
                paths[l.getElement().querySelector('svg path').getAttribute('d')] = 1;
            });
            out[key] = Object.keys(paths);
        });
        return out;
        """
    )
    legend_paths = page.js(
        "return Array.from(document.querySelectorAll('#gp-legend svg path'))"
        ".map(function (p) { return p.getAttribute('d'); });"
    )
    assert len(shapes) >= 2
    assert all(len(paths) == 1 for paths in shapes.values()), shapes
    distinct = {paths[0] for paths in shapes.values()}
    assert len(distinct) == len(shapes)  # one shape per category
    assert distinct <= set(legend_paths)


def test_threat_overlays_toggle_and_open_text_popups(
    browser, sample_page: Path, sample_gpkg: Path
) -> None:
    present = {name for name, _ in pyogrio.list_layers(sample_gpkg)}
    assert {"threat_areas", "conflicts"} <= present  # the sample run has threats
    page = open_page(browser, sample_page)
    state = page.js(
        """
        var w = window.geoparkWebmap, out = {};
        ['threat_areas', 'threat_lines', 'threat_points', 'conflicts'].forEach(function (k) {
            if (w.overlays[k]) out[k] = w.map.hasLayer(w.overlays[k]);
        });
        w.map.addLayer(w.overlays.threat_areas);
        var leaf = w.overlays.threat_areas.getLayers()[0];
        leaf.openPopup(leaf.getBounds().getCenter());
        out.popup = leaf.getPopup().getElement().innerText;
        out.shown = w.map.hasLayer(w.overlays.threat_areas);
        return out;
        """
    )
    assert state["conflicts"] is True and state["threat_areas"] is False
    assert state["shown"] is True
    for words in ("Loại tác động", "Kind", "Status", "Illustrative data"):
        assert words in state["popup"], state["popup"]
    legend = page.js("return document.getElementById('gp-legend').innerText;")
    assert "Threats" in legend
    assert page.errors() == []
