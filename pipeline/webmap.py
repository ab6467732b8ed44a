"""The interactive web map: one self-contained HTML page.

The page shows the park extent, the districts, Zone I and Zone II (from the
non-overlapping ``protection_zones`` layer), the geosites (one overlay per
category) and the QA findings, with a layer control, bilingual popups, a
legend, a scale and a title that says when the data are approximate.

Two rules shape this module:

* **Text from the data is data, never code or markup.** The page is rendered
  once from one template, ``webmap_assets/webmap.html.j2``, with Jinja's
  autoescape on; no text read from an input (or from the configuration) is
  ever used as template source. Popups and tooltips travel as plain text in
  one JSON document inside ``<script type="application/json">`` (``<``, ``>``,
  ``&``, U+2028 and U+2029 written as ``\\uXXXX``, so no ``</script>`` or
  ``<!--`` can end or change the element) and the page's script puts them in
  the DOM as text nodes (``textContent``), never as HTML. The only HTML
  strings Leaflet receives are the layer-control labels, which are escaped
  here. (folium is not used: it renders each layer's data through Jinja a
  second time, so a name holding ``{{ ... }}`` ran as a template.)
* **It opens without a network.** Leaflet alone is inlined from the vendored
  copy in ``pipeline/webmap_assets`` (images inlined as ``data:`` URIs). The
  only external resource is the optional base-tile layer.

Geometries go from the working CRS to WGS 84 through :func:`pipeline.crs.to_crs`
(the EPSG operation) after being generalised in metres, with tolerances from
the ``[webmap]`` section of ``geopark.toml``.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
import xyzservices
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from pipeline import outputs
from pipeline.config import Config
from pipeline.crs import to_crs
from pipeline.errors import ConfigError
from pipeline.numbers import en_number, vi_number
from pipeline.report import SAMPLE_NOTE
from pipeline.symbology import (
    category_look,
    severity_look,
    shape,
    significance_scale,
    symbology,
    threat_look,
)
from pipeline.threats import RELATION_VI
from pipeline.vocabulary import (
    CATEGORY_VI,
    MEMBERSHIP_VI,
    SEVERITY_VI,
    SIGNIFICANCE_VI,
    THREAT_KIND_VI,
    THREAT_STATUS_VI,
)

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

#: Optional GeoPackage layers, drawn when the run has them (threats and their conflicts).
THREAT_LAYERS = ("threat_areas", "threat_lines", "threat_points", "conflicts")

SYMBOLOGY = symbology()
ZONE_LABELS = {
    "I": ("Vùng I (bảo vệ nghiêm ngặt)", "Zone I (core)"),
    "II": ("Vùng II (vùng đệm)", "Zone II (buffer)"),
}
#: Screen pixels per millimetre of the print symbology (96 dpi), for line widths and markers.
PX_PER_MM = 96 / 25.4


def _px(mm: float) -> float:
    return round(mm * PX_PER_MM, 1)


def boundary_style(which: str) -> dict[str, Any]:
    """Leaflet path style of the park or district boundary, from the symbology."""
    look = SYMBOLOGY["boundaries"][which]
    style: dict[str, Any] = {"color": look["colour"], "weight": max(_px(look["width_mm"]), 1.2)}
    if look["dash"]:
        style["dashArray"] = " ".join(str(int(v)) for v in look["dash"])
    if which == "park":
        style["fill"] = False
    else:
        style.update({"fillColor": "#ffffff", "fillOpacity": 0.05})
    return style


def zone_style(zone: str) -> dict[str, Any]:
    """Leaflet path style of Zone I or II, from the symbology."""
    look = SYMBOLOGY["zones"][zone]
    return {
        "color": look["outline"],
        "weight": max(_px(look["outline_width_mm"]), 1.0),
        "fillColor": look["fill"],
        "fillOpacity": look["fill_opacity"],
    }


def marker_symbol(shape_name: str, fill: str, size_mm: float, stroke: str) -> dict[str, Any]:
    """A point symbol the page draws as inline SVG: path (20×20 box), fill, stroke, size in px."""
    return {
        "path": shape(shape_name)["svg"],
        "fill": fill,
        "stroke": stroke,
        "size": round(max(size_mm * PX_PER_MM, 10.0), 1),
    }


def geosite_symbol(category: str, significance: Any = None) -> dict[str, Any]:
    """A geosite's marker: its category's shape and colour, sized by significance."""
    look = category_look(category)
    marker = SYMBOLOGY["geosite_marker"]
    return marker_symbol(
        look["shape"],
        look["colour"],
        marker["size_mm"] * significance_scale(significance),
        marker["outline"],
    )


def severity_symbol(severity: Any, enlarge_mm: float = 0.0) -> dict[str, Any]:
    look = severity_look(str(severity))
    return marker_symbol(
        look["shape"],
        look["colour"],
        look["size_mm"] + enlarge_mm,
        SYMBOLOGY["other"]["marker_edge"],
    )


STYLE_EXTENT = boundary_style("park")
STYLE_DISTRICTS = boundary_style("district")
STYLE_ZONE = {zone: zone_style(zone) for zone in ("I", "II")}
STYLE_POINTS: dict[str, Any] = {}


# ---------------------------------------------------------------- reading


def read_webmap_layers(gpkg: Path) -> dict[str, gpd.GeoDataFrame]:
    """Read the layers the web map needs from the run's GeoPackage.

    The threat layers and their conflicts (:data:`THREAT_LAYERS`) are read when
    the GeoPackage has them.

    Raises
    ------
    InputError
        When the GeoPackage or one of its layers is missing.
    """
    outputs.run_geopackage_layers(gpkg, WEBMAP_LAYERS)
    present = {str(name) for name, _ in pyogrio.list_layers(gpkg)}
    wanted = [*WEBMAP_LAYERS, *(name for name in THREAT_LAYERS if name in present)]
    return {name: gpd.read_file(gpkg, layer=name, engine="pyogrio") for name in wanted}


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

#: A popup's content: a title and (label_vi, label_en, value) rows, where a value
#: is a text, a list of lines, or a number written both ways (``{"vi", "en"}``,
#: see :func:`number`). Plain text throughout; the page shows it as text.
Popup = dict[str, Any]


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return bool(value is pd.NA or value is pd.NaT) or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    """The text of a value; an em dash for a missing one."""
    if _blank(value):
        return "—"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def coded(value: Any, labels: Mapping[str, str]) -> str:
    """A coded value in Vietnamese with the English code alongside."""
    if _blank(value):
        return "—"
    vi = labels.get(str(value))
    return f"{vi} / {value}" if vi else text(value)


def number(value: Any, digits: int, unit: str = "") -> str | dict[str, str]:
    """A number for a popup: ``{"vi": "1.234,56 ha", "en": "1,234.56 ha"}``.

    The page shows the Vietnamese form, with the English form beneath it; an
    em dash for a missing value, one text when both forms are the same.
    """
    if _blank(value):
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return text(value)
    tail = f" {unit}" if unit else ""
    vi, en = f"{vi_number(x, digits)}{tail}", f"{en_number(x, digits)}{tail}"
    return vi if vi == en else {"vi": vi, "en": en}


def hectares(value: Any) -> str | dict[str, str]:
    return number(value, 2, "ha")


def list_text(value: Any) -> str:
    """A ';'-joined list from the GeoPackage, spaced for reading."""
    if _blank(value):
        return "—"
    return "; ".join(part.strip() for part in str(value).split(";") if part.strip())


def popup_table(title: str, rows: Iterable[tuple[str, str, str | list[str]]]) -> Popup:
    """A popup: ``title`` over (label_vi, label_en, value) rows."""
    return {"title": title, "rows": [[vi, en, value] for vi, en, value in rows]}


def _str(value: Any) -> str:
    return "" if _blank(value) else str(value)


def script_json(value: Any) -> Markup:
    """``value`` as JSON that can stand inside a ``<script>`` element of an HTML page.

    ``<``, ``>`` and ``&`` are written as ``\u003c``, ``\u003e``, ``\u0026``, so
    no ``</script>``, ``<!--`` or character reference from the data can end or
    change the element; U+2028 and U+2029 as escapes too, for older JavaScript
    parsers. JSON.parse reads the escapes back as the original characters.
    """
    encoded = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        encoded = encoded.replace(raw, escaped)
    return Markup(encoded)


# ---------------------------------------------------------------- popups per layer


def extent_popup(row: Mapping[str, Any]) -> Popup:
    return popup_table(
        f"{_str(row.get('name'))} / {_str(row.get('name_en'))}",
        [
            ("Tên", "Name", text(row.get("name"))),
            ("Tên tiếng Anh", "English name", text(row.get("name_en"))),
            ("Căn cứ pháp lý", "Legal basis", text(row.get("legal_basis"))),
            ("Diện tích công bố", "Declared area", number(row.get("declared_area_km2"), 2, "km²")),
            (
                "Diện tích tính (phẳng)",
                "Computed area (planar)",
                number(row.get("area_km2_planar"), 2, "km²"),
            ),
        ],
    )


def district_popup(row: Mapping[str, Any]) -> Popup:
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


def zone_popup(row: Mapping[str, Any], names: Mapping[str, str]) -> Popup:
    zone_vi, zone_en = ZONE_LABELS.get(str(row.get("zone_class")), (str(row.get("zone_class")), ""))
    codes = [c for c in _str(row.get("geosite_codes")).split(";") if c]
    sites = [f"{code} — {names[code]}" if names.get(code) else code for code in codes] or "—"
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


def geosite_popup(row: Mapping[str, Any], zone_i_ha: Any, zone_ii_ha: Any) -> Popup:
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
                _xy(row.get("x_vn2000"), row.get("y_vn2000")),
            ),
            ("Độ tin cậy vị trí", "Location quality", text(row.get("location_quality"))),
        ],
    )


def _xy(x: Any, y: Any) -> str | dict[str, str]:
    if _blank(x) or _blank(y):
        return "—"
    x, y = float(x), float(y)
    return {
        "vi": f"X {vi_number(x, 1)} m, Y {vi_number(y, 1)} m",
        "en": f"X {en_number(x, 1)} m, Y {en_number(y, 1)} m",
    }


def finding_popup(row: Mapping[str, Any]) -> Popup:
    return popup_table(
        f"QA: {_str(row.get('check'))}",
        [
            ("Mức độ", "Severity", coded(row.get("severity"), SEVERITY_VI)),
            ("Kiểm tra", "Check", text(row.get("check"))),
            ("Đối tượng", "Subject", text(row.get("subject"))),
            ("Nội dung", "Message (Vietnamese)", text(row.get("message_vi"))),
            ("Nội dung tiếng Anh", "Message", text(row.get("message"))),
            ("Giá trị", "Value", number(row.get("value"), None)),
            ("Diện tích (m²)", "Area (m²)", number(row.get("area_m2"), 2)),
        ],
    )


def threat_popup(row: Mapping[str, Any]) -> Popup:
    illustrative = "có (dữ liệu minh họa) / yes (illustrative)" if row.get("illustrative") else "—"
    return popup_table(
        f"{coded(row.get('kind'), THREAT_KIND_VI)}: {_str(row.get('name'))}",
        [
            ("Loại tác động", "Kind", coded(row.get("kind"), THREAT_KIND_VI)),
            ("Tình trạng", "Status", coded(row.get("status"), THREAT_STATUS_VI)),
            ("Tên", "Name", text(row.get("name"))),
            ("Mã", "Identifier", text(row.get("threat_id"))),
            ("Dữ liệu minh họa", "Illustrative data", illustrative),
        ],
    )


def conflict_popup(row: Mapping[str, Any]) -> Popup:
    return popup_table(
        f"{coded(row.get('severity'), SEVERITY_VI)}: {_str(row.get('unit_code'))}",
        [
            ("Mức độ", "Severity", coded(row.get("severity"), SEVERITY_VI)),
            ("Quan hệ", "Relation", coded(row.get("relation"), RELATION_VI)),
            ("Đơn vị khoanh vùng", "Zoning unit", text(row.get("unit_code"))),
            ("Loại tác động", "Threat kind", coded(row.get("kind"), THREAT_KIND_VI)),
            ("Tình trạng", "Status", coded(row.get("status"), THREAT_STATUS_VI)),
            ("Tên", "Name", text(row.get("name"))),
            ("Điểm di sản", "Geosites", list_text(row.get("geosite_codes"))),
            ("Chồng lấn (ha)", "Overlap (ha)", number(row.get("overlap_area_ha"), 2)),
            (
                "Chiều dài trong vùng (m)",
                "Length inside (m)",
                number(row.get("overlap_length_m"), 0),
            ),
            ("Khoảng cách (m)", "Distance (m)", number(row.get("distance_m"), 1)),
        ],
    )


# ---------------------------------------------------------------- GeoJSON


def feature_collection(
    frame: gpd.GeoDataFrame, ids: Iterable[str], popups: Iterable[Popup], tooltips: Iterable[str]
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection whose properties are only the popup and the tooltip text."""
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
    """The layer-control label (escaped HTML: Leaflet shows it as HTML) of every overlay."""
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
    names["threat_areas"] = "Tác động: vùng / Threats: areas"
    names["threat_lines"] = "Tác động: tuyến / Threats: lines"
    names["threat_points"] = "Tác động: điểm / Threats: points"
    names["conflicts"] = "Xung đột với vùng bảo vệ / Conflicts with the zones"
    return {key: html.escape(label) for key, label in names.items()}


def _ordered(values: Iterable[Any], known: Iterable[str]) -> list[str]:
    """The distinct values present: those of ``known`` in its order, then the others sorted."""
    present = {str(v) for v in values if not _blank(v)}
    first = [k for k in known if k in present]
    return first + sorted(present - set(first))


def title_context(cfg: Config, gpkg: Path, made: date) -> dict[str, str]:
    """The title block's text (the template escapes it)."""
    park = cfg.park
    return {
        "name_vi": park.name_vi,
        "name_en": park.name_en,
        "source": gpkg.name,
        "crs": cfg.working_crs,
        "made": made.isoformat(),
        "sample_note": SAMPLE_NOTE if park.sample_data else "",
    }


def legend_context(
    categories: Iterable[str], severities: Iterable[str], threat_kinds: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The legend's sections: a heading and items (a swatch's CSS or a marker's SVG, a label)."""

    def swatch(style: Mapping[str, Any]) -> dict[str, Any]:
        fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
        opacity = style.get("fillOpacity", 0.2) if style.get("fill", True) else 0
        border = "dashed" if style.get("dashArray") else "solid"
        return {
            "css_style": f"border:2px {border} {style['color']};background:{_rgba(fill, opacity)}"
        }

    def item(symbol: dict[str, Any], label: str) -> dict[str, Any]:
        return {"css_style": "", "symbol": None, **symbol, "label": label}

    sections = [
        {
            "heading": "",
            "items": [
                item(swatch(STYLE_EXTENT), SYMBOLOGY["boundaries"]["park"]["label"]),
                item(swatch(STYLE_DISTRICTS), SYMBOLOGY["boundaries"]["district"]["label"]),
                *(item(swatch(STYLE_ZONE[c]), " / ".join(ZONE_LABELS[c])) for c in ("I", "II")),
            ],
        },
        {
            "heading": "Điểm di sản theo loại hình / Geosites by category",
            "items": [
                item({"symbol": geosite_symbol(c)}, f"{CATEGORY_VI.get(c, c)} / {c}")
                for c in categories
            ],
        },
    ]
    severities = list(severities)
    if severities:
        sections.append(
            {
                "heading": "Phát hiện kiểm tra, xung đột / QA findings, conflicts",
                "items": [
                    item({"symbol": severity_symbol(s)}, f"{SEVERITY_VI.get(s, s)} / {s}")
                    for s in severities
                ],
            }
        )
    threat_kinds = list(threat_kinds)
    if threat_kinds:
        sections.append(
            {
                "heading": "Tác động (vùng gạch, tuyến đứt, điểm vuông) / "
                "Threats (hatched areas, dashed lines, square points)",
                "items": [
                    item(
                        {
                            "symbol": marker_symbol(
                                "square", threat_look(k)["colour"], 3.2, "#222222"
                            )
                        },
                        threat_look(k)["label"],
                    )
                    for k in threat_kinds
                ],
            }
        )
    return sections


def _rgba(colour: str, opacity: float) -> str:
    if not colour.startswith("#") or len(colour) != 7:
        return colour
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{opacity})"


# ---------------------------------------------------------------- the map


@dataclass
class WebMap:
    """Everything the page shows: the map data (one JSON document) and the page text."""

    data: dict[str, Any]
    title: dict[str, str]
    legend: list[dict[str, Any]]
    page_title: str
    tiles: bool


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
) -> WebMap:
    """Build the web map from the GeoPackage layers.

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
    severities = _ordered(findings["severity"].astype(str), SYMBOLOGY["severities"])
    labels = overlay_names(categories)

    overlays: list[dict[str, Any]] = []

    def add(
        key: str, features: dict[str, Any], style: Mapping[str, Any], visible: bool = True
    ) -> None:
        overlays.append(
            {
                "key": key,
                "label": labels[key],
                "style": dict(style),
                "visible": visible,
                "features": features,
            }
        )

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
                (f"{ZONE_LABELS[cls][1]}: {r['unit_code']}" for r in rows),
            ),
            STYLE_ZONE[cls],
        )
    for category in categories:
        part = geosites[geosites["category"].astype(str) == category]
        rows = _records(part)
        collection = feature_collection(
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
            (f"{r['geosite_code']} — {_str(r.get('name_vi'))}" for r in rows),
        )
        for feature, row in zip(collection["features"], rows, strict=True):
            # the symbol is chosen from the symbology by category and significance, never
            # taken from the data
            feature["properties"]["symbol"] = geosite_symbol(category, row.get("significance"))
        add(f"geosites:{category}", collection, STYLE_POINTS)
    finding_rows = _records(findings)
    qa_features = feature_collection(
        findings,
        (f"qa-{i}" for i in range(len(finding_rows))),
        (finding_popup(r) for r in finding_rows),
        (f"QA {r.get('severity')}: {_str(r.get('check'))}" for r in finding_rows),
    )
    for feature, row in zip(qa_features["features"], finding_rows, strict=True):
        feature["properties"]["symbol"] = severity_symbol(row.get("severity"))
    add("qa_findings", qa_features, STYLE_POINTS)

    threat_kinds: list[str] = []
    conflict_severities: list[str] = []
    for key in THREAT_LAYERS:
        if key not in layers:
            continue
        frame = prepare(key)
        rows = _records(frame)
        if key == "conflicts":
            collection = feature_collection(
                frame,
                (f"conflict-{i}" for i in range(len(rows))),
                (conflict_popup(r) for r in rows),
                (f"{text(r.get('unit_code'))}: {text(r.get('severity'))}" for r in rows),
            )
            for feature, row in zip(collection["features"], rows, strict=True):
                feature["properties"]["symbol"] = severity_symbol(row.get("severity"), 0.6)
            conflict_severities += [str(r.get("severity")) for r in rows]
            add(key, collection, STYLE_POINTS, visible=True)
            continue
        collection = feature_collection(
            frame,
            (f"{key}-{i}" for i in range(len(rows))),
            (threat_popup(r) for r in rows),
            (f"{coded(r.get('kind'), THREAT_KIND_VI)}: {_str(r.get('name'))}" for r in rows),
        )
        geometry = SYMBOLOGY["threat_geometry"]
        for feature, row in zip(collection["features"], rows, strict=True):
            colour = threat_look(str(row.get("kind")))["colour"]
            if key == "threat_points":
                feature["properties"]["symbol"] = marker_symbol(
                    "square", colour, geometry["point_size_mm"], SYMBOLOGY["other"]["marker_edge"]
                )
            else:
                feature["properties"]["style"] = {"color": colour, "fillColor": colour}
        threat_kinds += [str(r.get("kind")) for r in rows]
        style = {
            "threat_areas": {"weight": 2, "fillOpacity": 0.25, "dashArray": "2 4"},
            "threat_lines": {"weight": _px(geometry["line_width_mm"]) + 1, "dashArray": "8 5"},
            "threat_points": STYLE_POINTS,
        }[key]
        # threats are context: off by default, so that the zones stay readable
        add(key, collection, style, visible=False)

    bounds = extent.total_bounds if len(extent) else geosites.total_bounds
    data: dict[str, Any] = {
        "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
        "layers": overlays,
    }
    if tiles:
        provider = tile_provider(settings.tiles)
        data["tiles"] = {
            "name": html.escape(provider.name),  # a layer-control label: Leaflet reads HTML
            "url": provider.build_url(),
            "attribution": provider.html_attribution,
            "maxZoom": provider.get("max_zoom", 19),
        }
    return WebMap(
        data=data,
        title=title_context(cfg, gpkg, made),
        legend=legend_context(
            categories,
            _ordered([*severities, *conflict_severities], SYMBOLOGY["severities"]),
            _ordered(threat_kinds, SYMBOLOGY["threats"]),
        ),
        page_title=f"{cfg.park.name_vi} / {cfg.park.name_en}",
        tiles=tiles,
    )


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


def page_environment() -> Environment:
    """The Jinja environment of the page: autoescape on, templates only from ``webmap_assets``."""
    env = Environment(
        loader=FileSystemLoader(ASSETS),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["script_json"] = script_json
    return env


def render_webmap(webmap: WebMap) -> str:
    """The map as one self-contained HTML page."""
    leaflet_js, leaflet_css = leaflet_assets()
    return (
        page_environment()
        .get_template("webmap.html.j2")
        .render(
            # the vendored files, checked by leaflet_assets, are the only raw markup
            leaflet_js=Markup(leaflet_js),
            leaflet_css=Markup(leaflet_css),
            page_title=webmap.page_title,
            title=webmap.title,
            legend=webmap.legend,
            tiles=webmap.tiles,
            data=webmap.data,
        )
    )


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
        **{key: len(mappable(layers[key])) for key in THREAT_LAYERS if key in layers},
    }


__all__ = [
    "THREAT_LAYERS",
    "WEBMAP_LAYERS",
    "WebMap",
    "build_webmap",
    "for_browser",
    "layer_counts",
    "read_webmap_layers",
    "render_webmap",
    "script_json",
    "write_webmap",
]
