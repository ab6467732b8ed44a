"""The interactive web map: one self-contained HTML page built with folium.

The page shows the park extent, the districts, Zone I and Zone II (from the
non-overlapping ``protection_zones`` layer), the geosites (one overlay per
category) and the QA findings, with a layer control, bilingual popups, a
legend, a scale and a title that says when the data are approximate.

Two rules shape this module:

* **Nothing from the data is trusted as HTML.** Every value that reaches the
  page (names, codes, messages, even the configured park name) is escaped with
  :func:`html.escape` in Python; popups and tooltips carry only that escaped
  text, and the GeoJSON is embedded through Jinja's ``tojson`` (which escapes
  ``<``, ``>`` and ``&``), so a name such as ``<img src=x onerror=...>`` shows
  as text and never runs.
* **It opens without a network.** folium loads Leaflet, jQuery and Bootstrap
  from CDNs by default; here the map uses Leaflet alone, inlined from the
  vendored copy in ``pipeline/webmap_assets`` (images inlined as ``data:``
  URIs). The only external resource is the optional base-tile layer.

Geometries go from the working CRS to WGS 84 through :func:`pipeline.crs.to_crs`
(the EPSG operation) after being generalised in metres, with tolerances from
the ``[webmap]`` section of ``geopark.toml``.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xyzservices
from branca.element import Element, MacroElement
from folium.utilities import JsCode
from jinja2 import Template

from pipeline import outputs
from pipeline.config import Config
from pipeline.crs import to_crs
from pipeline.errors import ConfigError
from pipeline.report import SAMPLE_NOTE
from pipeline.vocabulary import CATEGORY_VI, MEMBERSHIP_VI, SEVERITY_VI, SIGNIFICANCE_VI

ASSETS = Path(__file__).with_name("webmap_assets")

#: GeoPackage layers the web map reads.
WEBMAP_LAYERS = (
    "park_extent",
    "districts",
    "protection_zones",
    "zone_i",
    "zone_ii",
    "geosites",
    "qa_findings",
)

CATEGORY_COLOURS: dict[str, str] = {
    "geomorphological": "#8c510a",
    "cave": "#542788",
    "paleontological": "#1b7837",
    "stratigraphic": "#e08214",
    "hydrogeological": "#2166ac",
    "archaeological": "#c51b7d",
    "cultural": "#35978f",
}
OTHER_COLOUR = "#555555"
SEVERITY_COLOURS = {"error": "#d7191c", "warning": "#f07d00", "info": "#2b83ba"}
ZONE_LABELS = {
    "I": ("Vùng I (bảo vệ nghiêm ngặt)", "Zone I (core)"),
    "II": ("Vùng II (vùng đệm)", "Zone II (buffer)"),
}

STYLE_EXTENT = {"color": "#1a9641", "weight": 3, "fill": False, "dashArray": "8 4"}
STYLE_DISTRICTS = {"color": "#666666", "weight": 1.2, "fillColor": "#ffffff", "fillOpacity": 0.05}
STYLE_ZONE = {
    "I": {"color": "#b10026", "weight": 1.5, "fillColor": "#e31a1c", "fillOpacity": 0.5},
    "II": {"color": "#e6550d", "weight": 1, "fillColor": "#fdae6b", "fillOpacity": 0.35},
}

# Bind the escaped popup/tooltip HTML prepared in Python; nothing else from the
# data is turned into markup in the browser.
_BIND_POPUP = JsCode(
    """function (feature, layer) {
        // keep an opened popup clear of the title block
        layer.bindPopup(feature.properties.popup, {
            maxWidth: 420, autoPanPaddingTopLeft: [10, 120]
        });
        layer.bindTooltip(feature.properties.tooltip, {sticky: true});
    }"""
)

_PAGE_CSS = """
.leaflet-container { background: #f2f1ec; }
.leaflet-container, .gp-title, .gp-legend {
  font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; }
.leaflet-control-layers { font-size: 12px; line-height: 1.3; }
/* metric scale only: the second line of Leaflet's scale is in miles and feet */
.leaflet-control-scale-line:nth-child(2) { display: none; }
.gp-title { position: fixed; top: 10px; left: 56px; z-index: 1000;
  max-width: calc(100% - 440px); min-width: 260px;
  background: rgba(255,255,255,0.93); padding: 6px 12px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); }
.gp-title h1 { font-size: 16px; margin: 0; }
.gp-title .en { font-size: 13px; color: #444; margin: 0; }
.gp-title .meta { font-size: 11px; color: #555; margin: 2px 0 0; }
.gp-title .sample { font-size: 12px; color: #a50026; font-weight: bold; margin: 4px 0 0; }
.gp-legend { position: fixed; bottom: 28px; right: 10px; z-index: 1000;
  max-height: 60%; overflow-y: auto;
  background: rgba(255,255,255,0.93); padding: 6px 10px; border-radius: 4px; font-size: 12px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.4); }
.gp-legend h2 { font-size: 13px; margin: 0 0 4px; }
.gp-legend h3 { font-size: 12px; margin: 6px 0 2px; }
.gp-legend ul { list-style: none; margin: 0; padding: 0; }
.gp-legend li { margin: 2px 0; white-space: nowrap; }
.gp-legend .sym { display: inline-block; width: 18px; height: 12px; vertical-align: middle;
  margin-right: 6px; box-sizing: border-box; }
.gp-legend .dot { width: 12px; height: 12px; border-radius: 50%; margin: 0 9px 0 3px; }
.gp-popup { border-collapse: collapse; font-size: 12px; }
.gp-popup caption { font-weight: bold; text-align: left; font-size: 13px; padding-bottom: 4px; }
.gp-popup th { text-align: left; vertical-align: top; padding: 2px 8px 2px 0; font-weight: 600;
  white-space: nowrap; }
.gp-popup th .en { font-weight: normal; color: #555; }
.gp-popup td { vertical-align: top; padding: 2px 0; }
"""


# ---------------------------------------------------------------- reading


def read_webmap_layers(gpkg: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read the layers the web map needs from the run's GeoPackage.

    Raises
    ------
    InputError
        When the GeoPackage or one of its layers is missing.
    """
    outputs.run_geopackage_layers(gpkg, WEBMAP_LAYERS)
    return {name: gpd.read_file(gpkg, layer=name, engine="pyogrio") for name in WEBMAP_LAYERS}


# ---------------------------------------------------------------- geometry


def mappable(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows that have a non-empty geometry (only those can be drawn)."""
    geoms = frame.geometry.values
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return frame.loc[keep]


def for_browser(frame: gpd.GeoDataFrame, tolerance_m: float, decimals: int) -> gpd.GeoDataFrame:
    """Generalise in metres, transform to WGS 84 (EPSG operation), round the degrees.

    Parameters
    ----------
    frame
        A layer in the (projected) working CRS.
    tolerance_m
        Douglas-Peucker tolerance in metres (0 keeps every vertex); topology is
        preserved so a polygon never collapses or crosses itself.
    decimals
        Decimal places kept in the degrees (6 is about 0.1 m).
    """
    frame = mappable(frame)
    if tolerance_m > 0:
        simplified = shapely.simplify(frame.geometry.values, tolerance_m, preserve_topology=True)
        frame = frame.set_geometry(gpd.GeoSeries(simplified, index=frame.index, crs=frame.crs))
    wgs84 = to_crs(frame, "EPSG:4326")
    rounded = shapely.transform(wgs84.geometry.values, lambda xy: np.round(xy, decimals))
    return wgs84.set_geometry(gpd.GeoSeries(rounded, index=wgs84.index, crs="EPSG:4326"))


# ---------------------------------------------------------------- text


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(value is pd.NA or value is pd.NaT) or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """Escaped text of a value; an em dash for a missing one."""
    if _blank(value):
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return html.escape(str(value), quote=True)


def bilingual(vi: str, en: str) -> str:
    """``vi`` with ``en`` beneath (both escaped)."""
    return f'{html.escape(vi)}<br><span class="en">{html.escape(en)}</span>'


def coded(value: Any, labels: Mapping[str, str]) -> str:
    """A coded value in Vietnamese with the English code alongside, escaped."""
    if _blank(value):
        return "—"
    vi = labels.get(str(value))
    return text(f"{vi} / {value}" if vi else value)


def hectares(value: Any) -> str:
    if _blank(value):
        return "—"
    return text(f"{float(value):,.2f} ha")


def list_text(value: Any) -> str:
    """A ';'-joined list from the GeoPackage, spaced for reading."""
    if _blank(value):
        return "—"
    return text("; ".join(part.strip() for part in str(value).split(";") if part.strip()))


def popup_table(title: str, rows: Iterable[tuple[str, str, str]]) -> str:
    """An HTML table of (label_vi, label_en, escaped value) rows under an escaped title."""
    body = "".join(
        f"<tr><th>{bilingual(vi, en)}</th><td>{value}</td></tr>" for vi, en, value in rows
    )
    return f'<table class="gp-popup"><caption>{html.escape(title)}</caption>{body}</table>'


def _str(value: Any) -> str:
    return "" if _blank(value) else str(value)


# ---------------------------------------------------------------- popups per layer


def extent_popup(row: Mapping[str, Any]) -> str:
    return popup_table(
        f"{_str(row.get('name'))} / {_str(row.get('name_en'))}",
        [
            ("Tên", "Name", text(row.get("name"))),
            ("Tên tiếng Anh", "English name", text(row.get("name_en"))),
            ("Căn cứ pháp lý", "Legal basis", text(row.get("legal_basis"))),
            ("Diện tích công bố", "Declared area", text(f"{row['declared_area_km2']:,.2f} km²")),
            (
                "Diện tích tính (phẳng)",
                "Computed area (planar)",
                text(f"{row['area_km2_planar']:,.2f} km²"),
            ),
        ],
    )


def district_popup(row: Mapping[str, Any]) -> str:
    membership = coded(row.get("park_membership"), MEMBERSHIP_VI)
    return popup_table(
        _str(row.get("district_name")),
        [
            ("Tên huyện", "District", text(row.get("district_name"))),
            ("Mã (TCTK)", "Code (GSO)", text(row.get("district_code"))),
            ("Loại", "Type", text(row.get("district_type"))),
            ("Thuộc công viên", "In the park", membership),
            ("Diện tích", "Area", hectares(row.get("area_ha"))),
        ],
    )


def zone_popup(row: Mapping[str, Any], names: Mapping[str, str]) -> str:
    zone_vi, zone_en = ZONE_LABELS.get(str(row.get("zone_class")), (str(row.get("zone_class")), ""))
    codes = [c for c in _str(row.get("geosite_codes")).split(";") if c]
    sites = "<br>".join(
        text(f"{code} — {names[code]}" if names.get(code) else code) for code in codes
    )
    sites = sites or "—"
    return popup_table(
        f"{zone_vi} / {zone_en}: {_str(row.get('unit_code'))}",
        [
            ("Vùng", "Zone", text(f"{zone_vi} / {zone_en}")),
            ("Mã đơn vị khoanh vùng", "Zoning unit code", text(row.get("unit_code"))),
            ("Cụm điểm di sản", "Geosite cluster", text(row.get("cluster_code"))),
            ("Điểm di sản", "Geosites", sites),
            ("Diện tích", "Area", hectares(row.get("area_ha"))),
            ("Huyện", "Districts", list_text(row.get("district_names"))),
            ("Mã huyện", "District codes", list_text(row.get("district_codes"))),
        ],
    )


def geosite_popup(row: Mapping[str, Any], zone_i_ha: Any, zone_ii_ha: Any) -> str:
    return popup_table(
        f"{_str(row.get('geosite_code'))} — {_str(row.get('name_vi'))}",
        [
            ("Mã điểm di sản", "Geosite code", text(row.get("geosite_code"))),
            ("Tên", "Name (Vietnamese)", text(row.get("name_vi"))),
            ("Tên tiếng Anh", "English name", text(row.get("name_en"))),
            ("Loại hình", "Category", coded(row.get("category"), CATEGORY_VI)),
            ("Giá trị", "Significance", coded(row.get("significance"), SIGNIFICANCE_VI)),
            ("Cụm", "Cluster", text(row.get("cluster_code"))),
            ("Huyện (khai báo)", "District (declared)", text(row.get("declared_district"))),
            ("Diện tích vùng I", "Zone I area", hectares(zone_i_ha)),
            ("Diện tích vùng II", "Zone II area", hectares(zone_ii_ha)),
            ("Mô tả", "Description", text(row.get("description"))),
            (
                "Tọa độ VN-2000 (X bắc, Y đông)",
                "VN-2000 (X northing, Y easting)",
                text(_xy(row.get("x_vn2000"), row.get("y_vn2000"))),
            ),
            ("Độ tin cậy vị trí", "Location quality", text(row.get("location_quality"))),
        ],
    )


def _xy(x: Any, y: Any) -> str | None:
    if _blank(x) or _blank(y):
        return None
    return f"X {float(x):,.1f} m, Y {float(y):,.1f} m"


def finding_popup(row: Mapping[str, Any]) -> str:
    return popup_table(
        f"QA: {_str(row.get('check'))}",
        [
            ("Mức độ", "Severity", coded(row.get("severity"), SEVERITY_VI)),
            ("Kiểm tra", "Check", text(row.get("check"))),
            ("Đối tượng", "Subject", text(row.get("subject"))),
            ("Nội dung", "Message (Vietnamese)", text(row.get("message_vi"))),
            ("Nội dung tiếng Anh", "Message", text(row.get("message"))),
            ("Giá trị", "Value", text(row.get("value"))),
            ("Diện tích (m²)", "Area (m²)", text(row.get("area_m2"))),
        ],
    )


# ---------------------------------------------------------------- GeoJSON


def feature_collection(
    frame: gpd.GeoDataFrame, ids: Iterable[str], popups: Iterable[str], tooltips: Iterable[str]
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection whose properties are only the escaped popup and tooltip."""
    features = [
        {
            "type": "Feature",
            "id": str(fid),
            "geometry": shapely.geometry.mapping(geom),
            "properties": {"popup": popup, "tooltip": tooltip},
        }
        for geom, fid, popup, tooltip in zip(
            frame.geometry.values, ids, popups, tooltips, strict=True
        )
    ]
    return {"type": "FeatureCollection", "features": features}


def _records(frame: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return frame.drop(columns=frame.geometry.name).to_dict("records")


# ---------------------------------------------------------------- page parts


def overlay_names(categories: Iterable[str]) -> dict[str, str]:
    """The layer-control label (escaped HTML) of every overlay, keyed by layer id."""
    names = {
        "park_extent": "Ranh giới công viên / Park extent",
        "districts": "Huyện / Districts",
        "zone_ii": " / ".join(ZONE_LABELS["II"]),
        "zone_i": " / ".join(ZONE_LABELS["I"]),
    }
    for category in categories:
        vi = CATEGORY_VI.get(category, category)
        names[f"geosites:{category}"] = f"Điểm di sản: {vi} / Geosites: {category}"
    names["qa_findings"] = "Phát hiện kiểm tra / QA findings"
    return {key: html.escape(label) for key, label in names.items()}


def _ordered(values: Iterable[Any], known: Iterable[str]) -> list[str]:
    """The distinct values present: those of ``known`` in its order, then the others sorted."""
    present = {str(v) for v in values if not _blank(v)}
    first = [k for k in known if k in present]
    return first + sorted(present - set(first))


def title_html(cfg: Config, gpkg: Path, made: date) -> str:
    park = cfg.park
    lines = [
        f"<h1>{html.escape(park.name_vi)} — Bản đồ di sản địa chất và vùng bảo vệ</h1>",
        f'<p class="en">{html.escape(park.name_en)} — geoheritage and protection zones</p>',
        f'<p class="meta">Dữ liệu / Data: {html.escape(gpkg.name)} '
        f"({html.escape(cfg.working_crs)} → WGS 84); lập ngày / made {made.isoformat()}</p>",
    ]
    if park.sample_data:
        lines.append(f'<p class="sample">{html.escape(SAMPLE_NOTE)}</p>')
    return f'<div class="gp-title" id="gp-title">{"".join(lines)}</div>'


def legend_html(categories: Iterable[str], severities: Iterable[str]) -> str:
    def swatch(style: Mapping[str, Any]) -> str:
        fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
        opacity = style.get("fillOpacity", 0.2) if style.get("fill", True) else 0
        border = "dashed" if style.get("dashArray") else "solid"
        return (
            f'<span class="sym" style="border:2px {border} {style["color"]};'
            f'background:{_rgba(fill, opacity)}"></span>'
        )

    def dot(fill: str, stroke: str, ring: bool = False) -> str:
        background, width = ("#ffffff", 3) if ring else (fill, 1)
        style = f"background:{background};border:{width}px solid {stroke}"
        return f'<span class="sym dot" style="{style}"></span>'

    items = [
        "<h2>Chú giải / Legend</h2><ul>",
        f"<li>{swatch(STYLE_EXTENT)}Ranh giới công viên / Park extent</li>",
        f"<li>{swatch(STYLE_DISTRICTS)}Ranh giới huyện / District boundary</li>",
        *(
            f"<li>{swatch(STYLE_ZONE[cls])}{html.escape(' / '.join(ZONE_LABELS[cls]))}</li>"
            for cls in ("I", "II")
        ),
        "</ul><h3>Điểm di sản theo loại hình / Geosites by category</h3><ul>",
    ]
    for category in categories:
        colour = CATEGORY_COLOURS.get(category, OTHER_COLOUR)
        vi = CATEGORY_VI.get(category, category)
        items.append(f"<li>{dot(colour, '#222222')}{html.escape(f'{vi} / {category}')}</li>")
    severities = list(severities)
    if severities:
        items.append("</ul><h3>Phát hiện kiểm tra / QA findings</h3><ul>")
        for severity in severities:
            colour = SEVERITY_COLOURS.get(severity, OTHER_COLOUR)
            label = f"{SEVERITY_VI.get(severity, severity)} / {severity}"
            items.append(f"<li>{dot(colour, colour, ring=True)}{html.escape(label)}</li>")
    items.append("</ul>")
    return f'<div class="gp-legend" id="gp-legend">{"".join(items)}</div>'


def _rgba(colour: str, opacity: float) -> str:
    if not colour.startswith("#") or len(colour) != 7:
        return colour
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{opacity})"


class _Register(MacroElement):
    """Publishes the map, its layer control and its overlays as ``window.geoparkWebmap``.

    Gives a reader's browser console (and the browser tests) a handle on the
    Leaflet objects, whose folium names are generated.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.geoparkWebmap = {
            map: {{ this.map_name }},
            layerControl: {{ this.control_name }},
            overlays: {
            {%- for key, name in this.overlays.items() %}
                {{ key|tojson }}: {{ name }},
            {%- endfor %}
            }
        };
        {% endmacro %}
        """
    )

    def __init__(self, map_name: str, control_name: str, overlays: Mapping[str, str]) -> None:
        super().__init__()
        self._name = "GeoparkRegister"
        self.map_name = map_name
        self.control_name = control_name
        self.overlays = dict(overlays)


# ---------------------------------------------------------------- the map


def tile_provider(name: str) -> xyzservices.TileProvider:
    """The configured base tiles, or a :class:`ConfigError` naming ``webmap.tiles``."""
    try:
        return xyzservices.providers.query_name(name)
    except ValueError:
        raise ConfigError(
            f"không biết nguồn nền bản đồ '{name}'",
            f"unknown base-tile provider '{name}'",
            field="webmap.tiles",
            fix="use an xyzservices provider name such as 'OpenStreetMap.Mapnik', "
            "or run with --no-tiles",
            fix_vi="dùng tên nguồn của xyzservices, vd. 'OpenStreetMap.Mapnik', "
            "hoặc chạy với --no-tiles",
        ) from None


def build_webmap(
    layers: Mapping[str, gpd.GeoDataFrame],
    cfg: Config,
    *,
    tiles: bool = True,
    gpkg: Path | None = None,
    made: date | None = None,
) -> folium.Map:
    """Build the folium map from the GeoPackage layers.

    Parameters
    ----------
    layers
        The layers named in :data:`WEBMAP_LAYERS`, in the working CRS.
    cfg
        The configuration (``[park]`` for the title, ``[webmap]`` for tiles and
        generalisation).
    tiles
        Add the configured base tiles (the only external resource); without
        them the map lies on a plain neutral background.
    gpkg, made
        The GeoPackage's path and the date, for the title's source line.
    """
    settings = cfg.webmap
    gpkg = gpkg or cfg.output_path("geopackage")
    made = made or date.today()

    def prepare(name: str, tolerance: float = 0.0) -> gpd.GeoDataFrame:
        return for_browser(layers[name], tolerance, settings.coordinate_decimals)

    extent = prepare("park_extent", settings.boundary_simplify_m)
    districts = prepare("districts", settings.boundary_simplify_m)
    zones = prepare("protection_zones", settings.zone_simplify_m)
    geosites = prepare("geosites")
    findings = prepare("qa_findings")

    names = {str(r["geosite_code"]): _str(r.get("name_vi")) for r in _records(layers["geosites"])}
    zone_areas = {
        cls: dict(zip(layers[key]["geosite_code"].astype(str), layers[key]["area_ha"], strict=True))
        for cls, key in (("I", "zone_i"), ("II", "zone_ii"))
    }
    categories = _ordered(geosites["category"], CATEGORY_VI)
    severities = _ordered(findings["severity"].astype(str), SEVERITY_COLOURS)
    labels = overlay_names(categories)

    fmap = folium.Map(location=None, tiles=None, control_scale=True, zoom_start=9)
    # Leaflet alone, inlined: no jQuery, Bootstrap or icon fonts from CDNs. Added
    # to <head> before folium's own header items so L exists when the map is made.
    fmap.default_js = []
    fmap.default_css = []
    leaflet_js, leaflet_css = leaflet_assets()
    root = fmap.get_root()
    root.header.add_child(Element(f"<style>{leaflet_css}</style>"), name="leaflet_css")
    root.header.add_child(Element(f"<script>{leaflet_js}</script>"), name="leaflet_js")
    root.header.add_child(Element(f"<style>{_PAGE_CSS}</style>"), name="geopark_css")
    if tiles:
        provider = tile_provider(settings.tiles)
        folium.TileLayer(
            tiles=provider.build_url(),
            attr=provider.html_attribution,
            name=html.escape(provider.name),
            max_zoom=provider.get("max_zoom", 19),
            overlay=False,
            control=True,
        ).add_to(fmap)

    overlays: dict[str, folium.GeoJson] = {}

    def add(key: str, data: dict[str, Any], style: Mapping[str, Any], marker: Any = None) -> None:
        layer = folium.GeoJson(
            data,
            name=labels[key],
            style_function=lambda _feature, s=dict(style): s,
            on_each_feature=_BIND_POPUP,
            marker=marker,
            overlay=True,
            control=True,
            show=True,
        )
        layer.add_to(fmap)
        overlays[key] = layer

    district_rows = _records(districts)
    add(
        "districts",
        feature_collection(
            districts,
            (f"district-{r['district_code']}" for r in district_rows),
            (district_popup(r) for r in district_rows),
            (text(r.get("district_name")) for r in district_rows),
        ),
        STYLE_DISTRICTS,
    )
    extent_rows = _records(extent)
    add(
        "park_extent",
        feature_collection(
            extent,
            (f"extent-{i}" for i in range(len(extent_rows))),
            (extent_popup(r) for r in extent_rows),
            (text(r.get("name")) for r in extent_rows),
        ),
        STYLE_EXTENT,
    )
    for cls, key in (("II", "zone_ii"), ("I", "zone_i")):
        part = zones[zones["zone_class"].astype(str) == cls]
        rows = _records(part)
        add(
            key,
            feature_collection(
                part,
                (f"zone-{cls}-{r['unit_code']}" for r in rows),
                (zone_popup(r, names) for r in rows),
                (text(f"{ZONE_LABELS[cls][1]}: {r['unit_code']}") for r in rows),
            ),
            STYLE_ZONE[cls],
        )
    for category in categories:
        part = geosites[geosites["category"].astype(str) == category]
        rows = _records(part)
        colour = CATEGORY_COLOURS.get(category, OTHER_COLOUR)
        style = {"color": "#222222", "weight": 1, "fillColor": colour, "fillOpacity": 0.95}
        add(
            f"geosites:{category}",
            feature_collection(
                part,
                (f"geosite-{r['geosite_code']}" for r in rows),
                (
                    geosite_popup(
                        r,
                        zone_areas["I"].get(str(r["geosite_code"])),
                        zone_areas["II"].get(str(r["geosite_code"])),
                    )
                    for r in rows
                ),
                (text(f"{r['geosite_code']} — {_str(r.get('name_vi'))}") for r in rows),
            ),
            style,
            marker=folium.CircleMarker(radius=7, **style),
        )
    finding_rows = _records(findings)
    qa_layer_data = feature_collection(
        findings,
        (f"qa-{i}" for i in range(len(finding_rows))),
        (finding_popup(r) for r in finding_rows),
        (text(f"QA {r.get('severity')}: {_str(r.get('check'))}") for r in finding_rows),
    )
    for feature, row in zip(qa_layer_data["features"], finding_rows, strict=True):
        feature["properties"]["colour"] = SEVERITY_COLOURS.get(
            str(row.get("severity")), OTHER_COLOUR
        )
    qa_layer = folium.GeoJson(
        qa_layer_data,
        name=labels["qa_findings"],
        # the severity colour of each finding is a property set in Python, not from the data
        style_function=lambda feature: {
            "color": feature["properties"]["colour"],
            "weight": 3,
            "fillColor": "#ffffff",
            "fillOpacity": 1,
        },
        on_each_feature=_BIND_POPUP,
        marker=folium.CircleMarker(radius=6),
        overlay=True,
        control=True,
    )
    qa_layer.add_to(fmap)
    overlays["qa_findings"] = qa_layer

    # collapsed (opens on hover or tap) so that it never hides an open popup
    control = folium.LayerControl(collapsed=True, position="topright")
    control.add_to(fmap)
    names_js = {key: layer.get_name() for key, layer in overlays.items()}
    fmap.add_child(_Register(fmap.get_name(), control.get_name(), names_js))

    bounds = extent.total_bounds if len(extent) else geosites.total_bounds
    fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])

    root.title = html.escape(f"{cfg.park.name_vi} / {cfg.park.name_en}")
    root.html.add_child(Element(title_html(cfg, gpkg, made)), name="geopark_title")
    root.html.add_child(Element(legend_html(categories, severities)), name="geopark_legend")
    return fmap


# ---------------------------------------------------------------- the page


def _inline_css(css: str, base: Path) -> str:
    """Replace ``url(images/...)`` in Leaflet's CSS by ``data:`` URIs."""

    def data_uri(match: re.Match[str]) -> str:
        path = base / match.group(1)
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    return re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, css)


def leaflet_assets() -> tuple[str, str]:
    """The vendored Leaflet JavaScript and CSS (images inlined), ready to inline."""
    js = (ASSETS / "leaflet.js").read_text("utf-8")
    css = _inline_css((ASSETS / "leaflet.css").read_text("utf-8"), ASSETS)
    for name, body in (("leaflet.js", js), ("leaflet.css", css)):
        # inlined as element content, so a closing tag inside would end it early
        if re.search(r"</(script|style)", body, re.IGNORECASE):
            raise ValueError(f"the vendored {name} contains a closing tag and cannot be inlined")
    return js, css


def render_webmap(fmap: folium.Map) -> str:
    """The map as one self-contained HTML page."""
    return fmap.get_root().render()


def write_webmap(page: str, path: Path) -> Path:
    """Write the page atomically: staged beside ``path``, then moved into place."""
    path = Path(path)
    with outputs.staged_outputs(path.parent) as staging:
        (staging / path.name).write_text(page, "utf-8")
        outputs.commit_outputs(staging, path.parent, [path.name])
    return path


def layer_counts(layers: Mapping[str, gpd.GeoDataFrame]) -> dict[str, int]:
    """How many features each overlay draws (rows with a geometry), for the command's summary."""
    zones = mappable(layers["protection_zones"])
    return {
        "park_extent": len(mappable(layers["park_extent"])),
        "districts": len(mappable(layers["districts"])),
        "zone_i": int((zones["zone_class"].astype(str) == "I").sum()),
        "zone_ii": int((zones["zone_class"].astype(str) == "II").sum()),
        "geosites": len(mappable(layers["geosites"])),
        "qa_findings": len(mappable(layers["qa_findings"])),
    }


__all__ = [
    "WEBMAP_LAYERS",
    "build_webmap",
    "for_browser",
    "layer_counts",
    "read_webmap_layers",
    "render_webmap",
    "write_webmap",
]
