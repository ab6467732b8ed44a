"""The printable map set, checked the way a reader would: the text on the
sheets, the scale measured on the page, the previews, the hillshade."""

from __future__ import annotations

import functools
import itertools
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pdfplumber
import pytest
import shapely
from click.testing import CliRunner
from matplotlib import image as mpimg
from pypdf import PdfReader

from pipeline.cli.main import cli
from pipeline.maps import load_layers, render_all, render_zoning_sheet, sheet_paths
from pipeline.markers import zone_markers
from pipeline.vocabulary import CATEGORY_VI

PT_PER_MM = 72 / 25.4
DISTRICT = 178  # Lạng Sơn city: a small district sheet
UNITS = ["TAMTHANH", "LS-CG-03"]  # a cluster (table runs onto page 2) and a lone geosite


def _with_maps(cfg, **changes):
    return cfg.model_copy(update={"maps": cfg.maps.model_copy(update=changes)})


@pytest.fixture(scope="module")
def map_set(sample_run, tmp_path_factory):
    cfg, _ = sample_run
    cfg = _with_maps(cfg, directory=tmp_path_factory.mktemp("maps"))
    layers = load_layers(cfg.outputs.directory / cfg.outputs.geopackage)
    sheets = render_all(cfg, layers=layers, districts=[DISTRICT], units=UNITS)
    return cfg, layers, sheets


@functools.cache
def _text(pdf: Path) -> str:
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in PdfReader(pdf).pages))


def _stated_scale(text: str) -> int:
    found = {int(m.replace(".", "")) for m in re.findall(r"TỶ LỆ 1:([\d.]+)", text)}
    assert len(found) == 1, found
    return found.pop()


# ------------------------------------------------------------------ files


def test_files_follow_the_naming_convention(map_set):
    cfg, layers, sheets = map_set
    root = cfg.maps.directory
    paths = sheet_paths(cfg, layers)
    assert paths.overview_pdf == root / "overview.pdf"
    assert paths.districts[DISTRICT] == (
        root / "districts" / f"{DISTRICT}.pdf",
        root / "districts" / f"{DISTRICT}.png",
    )
    # one district sheet per district wholly or partly in the park, one zoning sheet per unit
    members = layers["districts"].query("park_membership in ['full', 'partial']")["district_code"]
    assert sorted(paths.districts) == sorted(int(c) for c in members)
    assert sorted(paths.zoning) == sorted(layers["protection_zones"]["unit_code"].unique())
    expected = [root / "overview.pdf", root / "districts" / f"{DISTRICT}.pdf"] + [
        root / "zoning" / f"{u}.pdf" for u in sorted(UNITS)
    ]
    assert [s.pdf for s in sheets] == expected
    for s in sheets:
        assert s.pdf.exists() and s.png.exists() and s.png == s.pdf.with_suffix(".png")
    index = json.loads((root / "index.json").read_text("utf-8"))
    assert [Path(s["pdf"]) for s in index["sheets"]] == expected
    assert not list(root.glob(".staging-*")), "the staging folder is cleaned up"


def test_page_counts_and_atlas(map_set):
    cfg, _, sheets = map_set
    counts = [len(PdfReader(s.pdf).pages) for s in sheets]
    assert counts == [s.pages for s in sheets]
    assert counts[0] == 1 and counts[1] == 1
    atlas = PdfReader(cfg.maps.directory / "atlas.pdf")
    index = json.loads((cfg.maps.directory / "index.json").read_text("utf-8"))
    front = index["atlas_front_pages"]
    assert front == 3  # cover, one contents page, the index map
    assert len(atlas.pages) == front + sum(counts) == index["atlas_pages"]
    titles = [o.title for o in atlas.outline]
    assert titles[:3] == ["Bìa / Cover", "Mục lục / Contents", "Sơ đồ chắp tờ / Sheet index map"]
    assert [t.split(" — ")[0] for t in titles[3:]] == [s.code for s in sheets]
    # the atlas pages are the sheets' pages, in order (same paper, same words)
    first_zoning = front + sum(counts[:2])
    assert "LS-CG-03" in atlas.pages[first_zoning].extract_text()
    assert "TAMTHANH" in atlas.pages[first_zoning + 1].extract_text()


def test_atlas_opens_with_cover_contents_and_sheet_index(map_set):
    cfg, _, sheets = map_set
    atlas = cfg.maps.directory / "atlas.pdf"
    with pdfplumber.open(atlas) as pdf:
        pages = [unicodedata.normalize("NFC", p.extract_text()) for p in pdf.pages]
        cover, contents, index_map = pages[:3]
        assert "TẬP BẢN ĐỒ" in cover and "Atlas of geoheritage" in cover
        assert "TỶ LỆ" not in cover, "page 1 is a cover, no longer a copy of the overview"
        assert "MỤC LỤC / Contents" in contents
        # each sheet's line names it and the atlas page it starts on; that page is the sheet
        lines = contents.splitlines()
        for number, s in enumerate(sheets, start=1):
            line = next(ln for ln in lines if ln.split()[:2] == [str(number), s.code])
            page = int(line.split()[-1])
            assert f"Tờ / Sheet: {s.code}" in pages[page - 1]
            assert "Trang / Page 2/" not in pages[page - 1]  # the sheet's first page
        # the index map numbers every sheet frame but the overview's (the whole park)
        assert "SƠ ĐỒ CHẮP TỜ / Sheet index map" in index_map
        words = {w["text"] for w in pdf.pages[2].extract_words()}
        assert {str(n) for n in range(2, len(sheets) + 1)} <= words
        frames = [r for r in pdf.pages[2].rects if r["width"] < pdf.pages[2].width * 0.8]
        assert len(frames) >= len(sheets) - 1


# ------------------------------------------------------------------ text a reader expects


def _visible_categories(layers, extent) -> set[str]:
    sites = layers["geosites"]
    return set(sites[sites.intersects(shapely.box(*extent))]["category"])


def test_every_sheet_has_its_titles_scale_note_and_sources(map_set):
    cfg, _, sheets = map_set
    for s in sheets:
        text = _text(s.pdf)
        assert "BẢN ĐỒ" in text and "map" in text
        first = unicodedata.normalize("NFC", PdfReader(s.pdf).pages[0].extract_text())
        assert _stated_scale(first) == s.denominator
        # enlargement pages (crowded markers) state their own, larger scales
        stated = {int(m.replace(".", "")) for m in re.findall(r"TỶ LỆ 1:([\d.]+)", text)}
        assert stated == {s.denominator, *(e.denominator for e in s.enlargements)}
        assert s.denominator in cfg.maps.scales
        assert f"Scale 1:{s.denominator:,}" in text
        assert "Sample data: locations are approximate" in text  # cfg.park.sample_data is true
        assert "Data sources" in text and "Nguồn dữ liệu" in text
        assert "Ngày lập / Date" in text
        assert "CHÚ GIẢI / Legend" in text and "SƠ ĐỒ VỊ TRÍ / Location" in text
        assert "B / N" in text  # north arrow
        assert "\u00d0" not in text, "Đ must be U+0110, never the look-alike Ð"


def test_titles_name_the_subject(map_set):
    _, layers, sheets = map_set
    overview, district, *zoning = sheets
    assert "CÔNG VIÊN ĐỊA CHẤT LẠNG SƠN" in _text(overview.pdf)
    assert "Geoheritage distribution map of the Lạng Sơn Geopark" in _text(overview.pdf)
    name = layers["districts"].set_index("district_code").loc[DISTRICT, "district_name"]
    text = _text(district.pdf)
    assert f"THÀNH PHỐ {name.upper()}" in text and f"Geoheritage distribution map — {name}" in text
    # the unit is named by its geosites' Vietnamese names (wrapped or shrunk, never cut)
    tam = " ".join(_text(zoning[1].pdf).split())
    assert "BẢN ĐỒ KHOANH VÙNG BẢO VỆ DI SẢN ĐỊA CHẤT – CỤM ĐỘNG TAM THANH" in tam
    assert "(TAMTHANH)" in tam and "Geosite protection zoning map — cluster Tam Thanh Cave" in tam
    lone = " ".join(_text(zoning[0].pdf).split())
    site = layers["geosites"].set_index("geosite_code").loc["LS-CG-03"]
    assert f"{site['name_vi'].upper()} (LS-CG-03)" in lone
    assert f"{site['name_en']} (LS-CG-03)" in lone


def test_legend_lists_what_is_drawn_and_nothing_else(map_set):
    _, layers, sheets = map_set
    for s in sheets:
        text = _text(s.pdf)
        present = _visible_categories(layers, s.extent)
        for category, vi in CATEGORY_VI.items():
            entry = f"Geosite – {category}"
            assert (entry in text) == (category in present), (s.code, category)
            if category in present:
                assert f"Di sản địa chất – {vi}" in text
        assert "Zone I – strict protection" in text and "Zone II – buffer" in text
        assert "Hillshade" not in text  # no DEM configured
    zoning_text = _text(sheets[-1].pdf)
    assert "Field survey point" in zoning_text and "Boundary marker" in zoning_text
    assert "Field survey point" not in _text(sheets[0].pdf)


_ZONE_ENTRIES = {
    "I": ("Vùng I – bảo vệ nghiêm ngặt", "Zone I – strict protection"),
    "II": ("Vùng II – vùng đệm", "Zone II – buffer"),
}


def test_zoning_legend_gives_the_zone_areas(map_set):
    _, layers, sheets = map_set
    zones = layers["protection_zones"]
    for s in sheets[2:]:
        text = _text(s.pdf)
        for zone_class, (vi, en) in _ZONE_ENTRIES.items():
            area = zones[(zones["unit_code"] == s.code) & (zones["zone_class"] == zone_class)][
                "area_ha"
            ].sum()
            # each zone's own entry carries its area: 1,234.56 in English, 1.234,56 in Vietnamese
            area_en = f"{area:,.2f}"
            area_vi = area_en.translate(str.maketrans(",.", ".,"))
            assert f"{en} ({area_en} ha)" in text, (s.code, zone_class)
            assert f"{vi} ({area_vi} ha)" in text, (s.code, zone_class)


# ------------------------------------------------------------------ vertex table


_ROW = re.compile(r"(?<!\S)(I{1,2}-\d+) (\d{7},\d{2}) (\d{6},\d{2})(?!\S)")


def _table(pdf: Path) -> list[tuple[str, float, float]]:
    rows = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            for line in page.extract_text_lines():
                for m in _ROW.finditer(line["text"]):  # table columns side by side share a line
                    rows.append(
                        (m[1], float(m[2].replace(",", ".")), float(m[3].replace(",", ".")))
                    )
    return sorted(rows)


def _check_table(pdf: Path, unit_code: str, layers) -> list[tuple[str, float, float]]:
    rows = _table(pdf)
    markers = layers["boundary_markers"]
    markers = markers[markers["unit_code"] == unit_code]
    # every marker of the unit listed once, with the layer's coordinates to the centimetre
    assert sorted(r[0] for r in rows) == sorted(markers["label"]), "each marker listed once"
    by_label = markers.set_index("label")
    zones = layers["protection_zones"]
    boundary = zones[zones["unit_code"] == unit_code].boundary.union_all()
    for label, x_northing, y_easting in rows:
        assert abs(by_label.loc[label, "x_vn2000"] - x_northing) < 0.005 + 1e-9, label
        assert abs(by_label.loc[label, "y_vn2000"] - y_easting) < 0.005 + 1e-9, label
        # X is the northing, Y the easting: the marker is a vertex of the legal boundary
        assert boundary.distance(shapely.Point(y_easting, x_northing)) < 1e-6, label
    return rows


def _map_pages(s) -> list[tuple[int, tuple[float, float, float, float]]]:
    """(page number, map frame mm) of a sheet's maps: page 1 and its enlargements."""
    return [(1, s.map_frame_mm), *((e.page, e.map_frame_mm) for e in s.enlargements)]


def test_vertex_table_lists_boundary_markers_in_vn2000(map_set):
    _, layers, sheets = map_set
    for s in sheets[2:]:
        rows = _check_table(s.pdf, s.code, layers)
        assert len(rows) == len(s.markers) >= 4
        text = _text(s.pdf)
        assert "X (m)" in text and "bắc / northing" in text and "đông / easting" in text
        # the same numbers are drawn on a map, next to the markers: on page 1, or on an
        # enlargement when they are too crowded at the sheet's scale
        on_map = set()
        with pdfplumber.open(s.pdf) as doc:
            for number, frame_mm in _map_pages(s):
                page = doc.pages[number - 1]
                x0, y0, w, h = (v * PT_PER_MM for v in frame_mm)
                frame = page.crop((x0, page.height - y0 - h, x0 + w, page.height - y0))
                # labels of neighbouring markers may sit 2 pt apart: read lines tightly
                on_map |= {wd["text"] for wd in frame.extract_words(x_tolerance=1, y_tolerance=1)}
        assert {str(r[0]) for r in rows} <= on_map


def test_long_table_continues_on_another_page(sample_run, tmp_path):
    cfg, _ = sample_run
    layers = load_layers(cfg.outputs.directory / cfg.outputs.geopackage)
    # many markers: every vertex of the zones, densified and on the centimetre grid
    zones = layers["protection_zones"]

    def dense(geom):
        return shapely.set_precision(shapely.segmentize(geom, 40), 0.01)

    unit = zones[zones["unit_code"] == "TAMTHANH"]
    layers["boundary_markers"] = pd.concat(
        [
            zone_markers("TAMTHANH", z, dense(g), None, 0.5)
            for z, g in zip(unit["zone_class"], unit.geometry, strict=True)
        ],
        ignore_index=True,
    )
    layers["protection_zones"] = zones.assign(
        geometry=[
            dense(g) if u == "TAMTHANH" else g
            for u, g in zip(zones["unit_code"], zones.geometry, strict=True)
        ]
    )
    pdf = tmp_path / "TAMTHANH.pdf"
    sheet = render_zoning_sheet("TAMTHANH", layers, cfg, pdf)
    pages = len(PdfReader(pdf).pages)
    assert pages == sheet.pages >= 2
    rows = _check_table(pdf, "TAMTHANH", layers)
    assert len(rows) == len(sheet.markers) > 150
    # the table continues after page 1 and its enlargements (crowded markers), if any
    continued = PdfReader(pdf).pages[1 + len(sheet.enlargements)].extract_text()
    assert "(tiếp theo / continued)" in continued
    assert f"Trang / Page {pages}/{pages}" in _text(pdf)


# ------------------------------------------------------------------ scale measured on the page


def _scale_bar(page) -> tuple[float, float]:
    """(drawn length in mm, ground length in m) of the scale bar, read off the page."""
    height = 1.8 * PT_PER_MM
    rects = sorted(
        (r for r in page.rects if abs(r["height"] - height) < 0.2), key=lambda r: r["x0"]
    )
    assert len(rects) >= 4
    for a, b in itertools.pairwise(rects):
        assert (
            abs(a["x1"] - b["x0"]) < 0.05 and abs(a["top"] - b["top"]) < 0.05
        )  # one bar of adjacent segments
    x0, x1, bottom = rects[0]["x0"], rects[-1]["x1"], rects[0]["bottom"]
    below = [
        w
        for w in page.extract_words()
        if 0 < w["top"] - bottom < 10 and x0 - 10 < w["x0"] < x1 + 15
    ]
    unit = below[-1]["text"]
    assert unit in ("m", "km")
    value = float(below[-2]["text"].replace(",", "."))
    return (x1 - x0) / PT_PER_MM, value * (1000 if unit == "km" else 1)


def _grid_spacings(page, frame_mm) -> list[tuple[float, float]]:
    """(spacing on paper in mm, difference of the labels in m) of neighbouring grid lines."""
    x0, y0, w, h = (v * PT_PER_MM for v in frame_mm)
    frame_bottom = page.height - y0
    verticals = sorted(
        ln["x0"]
        for ln in page.lines
        if abs(ln["x0"] - ln["x1"]) < 0.01
        and abs(ln["height"] - h) < 1
        and x0 + 1 < ln["x0"] < x0 + w - 1
    )
    labels = [
        wd
        for wd in page.extract_words()
        if re.fullmatch(r"\d{6}", wd["text"])
        and 0 < wd["top"] - frame_bottom < 8 * PT_PER_MM
        # a grid line on the frame's edge is drawn by the frame itself
        and x0 + 1 < (wd["x0"] + wd["x1"]) / 2 < x0 + w - 1
    ]
    assert len(labels) >= 3 and len(verticals) >= 3
    matched = []
    for wd in labels:
        centre = (wd["x0"] + wd["x1"]) / 2
        line = min(verticals, key=lambda x: abs(x - centre))
        assert abs(line - centre) < 1.5, "each easting label sits on its grid line"
        matched.append((line, int(wd["text"])))
    matched.sort()
    return [((b[0] - a[0]) / PT_PER_MM, b[1] - a[1]) for a, b in itertools.pairwise(matched)]


def test_scale_bar_and_grid_measure_the_stated_scale(map_set):
    _, _, sheets = map_set
    for s in sheets:
        # page 1, and every enlargement page (crowded markers) at its own scale
        maps = [(1, s.denominator, s.map_frame_mm)]
        maps += [(e.page, e.denominator, e.map_frame_mm) for e in s.enlargements]
        with pdfplumber.open(s.pdf) as doc:
            for number, denominator, frame_mm in maps:
                page = doc.pages[number - 1]
                text = page.extract_text()
                n = _stated_scale(unicodedata.normalize("NFC", text))
                assert n == denominator
                # the paper is what the sheet says it is
                assert round(page.width / PT_PER_MM) == s.page_width_mm
                assert round(page.height / PT_PER_MM) == s.page_height_mm
                bar_mm, bar_ground_m = _scale_bar(page)
                assert bar_mm * n / 1000 == pytest.approx(bar_ground_m, rel=0.01)
                spacings = _grid_spacings(page, frame_mm)
                for paper_mm, ground_m in spacings:
                    assert paper_mm * n / 1000 == pytest.approx(ground_m, rel=0.01)


# ------------------------------------------------------------------ previews, fonts, labels


def _ink(png: Path) -> tuple[float, float]:
    img = mpimg.imread(png)[..., :3]
    grey = img.mean(axis=2)
    return float((grey < 0.95).mean()), float(grey.std())


def test_png_previews_are_not_blank(map_set):
    cfg, _, sheets = map_set
    for s in sheets:
        img = mpimg.imread(s.png)
        h, w = img.shape[:2]
        # rendered at the configured resolution from the PDF's paper size
        assert w == pytest.approx(s.page_width_mm / 25.4 * cfg.maps.png_dpi, abs=2)
        assert h == pytest.approx(s.page_height_mm / 25.4 * cfg.maps.png_dpi, abs=2)
        ink, spread = _ink(s.png)
        assert ink > 0.05 and spread > 0.05, s.code


def test_fonts_are_the_shipped_ones_and_embedded(map_set):
    _, _, sheets = map_set
    with pdfplumber.open(sheets[0].pdf) as doc:
        fonts = {c["fontname"].split("+")[-1] for c in doc.pages[0].chars}
    assert fonts and all(f.startswith("NotoSans") for f in fonts), fonts
    reader = PdfReader(sheets[0].pdf)
    descriptors = _fonts(reader.pages[0])
    assert descriptors and all("/FontFile2" in d for d in descriptors), "TrueType fonts embedded"


def _fonts(page):
    out = []
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        for desc in font.get("/DescendantFonts", [font]):
            desc = desc.get_object()
            if "/FontDescriptor" in desc:
                out.append(desc["/FontDescriptor"].get_object())
    return out


def test_labels_inside_the_map_do_not_collide(map_set):
    _, layers, sheets = map_set
    for s in sheets:
        for number, frame_mm in _map_pages(s):
            with pdfplumber.open(s.pdf) as doc:
                page = doc.pages[number - 1]
                x0, y0, w, h = (v * PT_PER_MM for v in frame_mm)
                frame = page.crop((x0, page.height - y0 - h, x0 + w, page.height - y0))
                # in drawing order: a kerned label ("-T") stays one word
                words = frame.extract_words(keep_blank_chars=False, use_text_flow=True)
            boxes = [shapely.box(wd["x0"], wd["top"], wd["x1"], wd["bottom"]) for wd in words]
            for i, a in enumerate(boxes):
                for b in boxes[i + 1 :]:
                    overlap = a.intersection(b).area
                    assert overlap < 0.1 * min(a.area, b.area), (s.code, words[i]["text"])
        # every geosite code and marker number is on the map; only district names and the
        # base's names may give way
        districts = {n.upper() for n in layers["districts"]["district_name"]}
        codes = set(layers["geosites"]["geosite_code"]) | {m.label for m in s.markers}
        assert not set(s.labels_dropped) & codes, s.labels_dropped
        assert set(s.labels_dropped) <= districts | _base_names(), s.labels_dropped


@functools.cache
def _base_names() -> frozenset[str]:
    import geopandas as gpd

    from pipeline.config import load_config

    names: set[str] = set()
    for b in load_config(Path(__file__).parents[1] / "geopark.toml").maps.base:
        if b.label_field:
            names |= set(gpd.read_file(b.path, layer=b.layer)[b.label_field].astype(str))
    return frozenset(names)


# ------------------------------------------------------------------ hillshade


def _dem(path: Path, bounds, crs: str) -> None:
    import rasterio
    from rasterio.transform import from_bounds

    minx, miny, maxx, maxy = bounds
    cols, rows = 120, 100
    xs = np.linspace(minx, maxx, cols)
    ys = np.linspace(maxy, miny, rows)
    gx, gy = np.meshgrid(xs, ys)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    r = max(maxx - minx, maxy - miny) / 5
    z = (
        300
        + 400 * np.exp(-((gx - cx) ** 2 + (gy - cy) ** 2) / (2 * r**2))
        + 80 * np.sin(gx / r * 3)
    )
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=cols,
        height=rows,
        count=1,
        dtype="float32",
        crs=crs,
        transform=from_bounds(minx, miny, maxx, maxy, cols, rows),
        nodata=-9999,
    ) as dst:
        dst.write(z.astype("float32"), 1)


def test_a_dem_puts_a_hillshade_under_the_layers(map_set, tmp_path):
    cfg, layers, sheets = map_set
    plain = next(s for s in sheets if s.code == "LS-CG-03")
    dem = tmp_path / "dem.tif"
    xmin, ymin, xmax, ymax = plain.extent
    _dem(dem, (xmin - 500, ymin - 500, xmax + 500, ymax + 500), cfg.working_crs)
    cfg_dem = _with_maps(cfg, dem=dem)
    pdf = tmp_path / "LS-CG-03.pdf"
    shaded = render_zoning_sheet("LS-CG-03", layers, cfg_dem, pdf)
    assert shaded.hillshade
    assert "Hillshade (DEM)" in _text(pdf) and "Bóng địa hình (DEM)" in _text(pdf)
    from pipeline.maps import png_preview

    png = png_preview(pdf, tmp_path / "LS-CG-03.png", cfg.maps.png_dpi)

    # compare the map frame with and without relief: shading makes grey tones appear
    def frame_pixels(path):
        img = mpimg.imread(path)[..., :3].mean(axis=2)
        dpm = cfg.maps.png_dpi / 25.4
        x0, y0, w, h = plain.map_frame_mm
        top = img.shape[0] - (y0 + h) * dpm
        return img[
            int(top) + 5 : int(top + h * dpm) - 5, int(x0 * dpm) + 5 : int((x0 + w) * dpm) - 5
        ]

    before, after = frame_pixels(plain.png), frame_pixels(png)
    assert before.shape == after.shape
    changed = float((np.abs(after - before) > 0.05).mean())
    assert changed > 0.3, "the relief shows across the map frame"
    assert float(after.std()) > float(before.std()) * 0.5


def test_hillshade_lights_slopes_facing_the_light():
    from pipeline.maps.hillshade import hillshade

    rows, cols = np.mgrid[0:20, 0:20]
    # rows run north -> south: this plane rises to the south-east, so it faces north-west
    facing_nw = (rows + cols).astype(float) * 10
    facing_se = -facing_nw
    lit = hillshade(facing_nw, 10, 10, azimuth=315, altitude=45)
    dark = hillshade(facing_se, 10, 10, azimuth=315, altitude=45)
    assert lit.mean() > 0.9 > 0.3 > dark.mean()
    flat = hillshade(np.zeros((5, 5)), 10, 10, azimuth=315, altitude=45)
    assert np.allclose(flat, np.sin(np.radians(45)))


def test_a_dem_outside_the_sheet_draws_nothing(map_set, tmp_path):
    cfg, layers, _ = map_set
    dem = tmp_path / "far.tif"
    _dem(dem, (200000, 1000000, 210000, 1010000), cfg.working_crs)
    sheet = render_zoning_sheet("LS-CG-03", layers, _with_maps(cfg, dem=dem), tmp_path / "x.pdf")
    assert not sheet.hillshade and "Hillshade" not in _text(tmp_path / "x.pdf")


# ------------------------------------------------------------------ command line


def test_cli_writes_the_selected_sheets(sample_run, write_config, tmp_path):
    cfg, _ = sample_run
    out = tmp_path / "maps_out"

    def edit(raw):
        raw["outputs"]["directory"] = str(cfg.outputs.directory)
        raw["maps"]["directory"] = str(out)

    result = CliRunner().invoke(
        cli,
        ["maps", "--config", str(write_config(edit)), "--unit", "LS-CG-04", "--district", "187"],
    )
    assert result.exit_code == 0, result.output
    assert (out / "overview.pdf").exists() and (out / "districts" / "187.pdf").exists()
    assert (out / "zoning" / "LS-CG-04.png").exists() and (out / "atlas.pdf").exists()
    index = json.loads((out / "index.json").read_text("utf-8"))
    sheet_pages = sum(s["pages"] for s in index["sheets"])
    assert len(index["sheets"]) == 3 and index["atlas_front_pages"] == 3
    assert len(PdfReader(out / "atlas.pdf").pages) == 3 + sheet_pages
    # each sheet's scale printed both ways: 1:500.000 / 1:500,000
    for sheet in index["sheets"]:
        d = sheet["denominator"]
        assert f"1:{d:,d}".replace(",", ".") + f" / 1:{d:,d}" in result.output, result.output


def test_cli_without_geopackage_fails_well(write_config, tmp_path):
    config = write_config()
    result = CliRunner().invoke(cli, ["maps", "--config", str(config)])
    assert result.exit_code == 2
    assert "geopark zones" in result.output and "Lỗi" in result.output and "Error" in result.output
    assert "Traceback" not in result.output


def test_cli_with_a_missing_dem_fails_well(sample_run, write_config, tmp_path):
    cfg, _ = sample_run

    def edit(raw):
        raw["outputs"]["directory"] = str(cfg.outputs.directory)
        raw["maps"]["directory"] = str(tmp_path / "m")
        raw["maps"]["dem"] = "no/such/dem.tif"

    result = CliRunner().invoke(
        cli, ["maps", "--config", str(write_config(edit)), "--unit", "LS-CG-04"]
    )
    assert result.exit_code == 2, result.output
    assert "maps.dem" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "m" / "overview.pdf").exists(), "nothing half-written"


# ------------------------------------------------------------------ legibility


def test_no_text_smaller_than_6_pt(map_set):
    cfg, _, sheets = map_set
    for pdf in [s.pdf for s in sheets] + [cfg.maps.directory / "atlas.pdf"]:
        with pdfplumber.open(pdf) as doc:
            for page in doc.pages:
                # pdfminer's "size" of a glyph turned 90° (the side grid labels) is its
                # advance; its font size is then the box's width
                sizes = [
                    c["size"] if c["upright"] else c["width"]
                    for c in page.chars
                    if c["text"].strip()
                ]
                assert min(sizes) >= 6.0 - 0.05, (pdf.name, page.page_number, min(sizes))


def test_marker_numbers_never_overlap_each_other(map_set):
    _, _, sheets = map_set
    for s in sheets:
        if s.kind != "zoning":
            continue
        labels = {mk.label for mk in s.markers}
        numbered = set()
        for number, frame_mm in _map_pages(s):  # page 1, then any enlargement
            with pdfplumber.open(s.pdf) as doc:
                page = doc.pages[number - 1]
                x0, y0, w, h = (v * PT_PER_MM for v in frame_mm)
                top = page.height - (y0 + h)
                # in drawing order: two labels 3 pt apart stay two words
                boxes = [
                    w_
                    for w_ in page.extract_words(use_text_flow=True)
                    if w_["text"] in labels
                    and x0 <= w_["x0"]
                    and w_["x1"] <= x0 + w
                    and top <= w_["top"]
                    and w_["bottom"] <= top + h
                ]
            # one box per label (the white halo is drawn as outlines, not text)
            seen = {}
            for b in boxes:
                seen.setdefault(b["text"], b)
            numbered |= set(seen)
            for a, b in itertools.combinations(list(seen.values()), 2):
                overlap_x = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
                overlap_y = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
                assert overlap_x <= 0.1 or overlap_y <= 0.1, (s.code, a["text"], b["text"])
        assert numbered == labels, (s.code, sorted(labels - numbered))


def test_projection_and_convergence_notes(map_set):
    _, _, sheets = map_set
    for s in sheets:
        text = " ".join(_text(s.pdf).split())
        assert "VN-2000 / TM-3 107°15′, k = 0,9999" in text
        assert "VN-2000 / TM-3 107°15′, k = 0.9999" in text
        # the park lies west of the central meridian 107°15′: true north is east of grid north
        assert re.search(r"Bắc thực lệch \d+,\d\d° về phía đông so với bắc lưới", text)
        assert re.search(r"true north is \d+\.\d\d° east of grid north", text)


# ------------------------------------------------------------------ topographic base


def test_sample_base_is_drawn_credited_and_called_coarse(map_set):
    cfg, _, sheets = map_set
    assert {b.kind for b in cfg.maps.base} >= {"rivers", "places", "border", "boundaries"}
    tam = next(s for s in sheets if s.code == "TAMTHANH")
    text = " ".join(_text(tam.pdf).split())
    assert "Thị Trấn Cao Lộc" in text  # a GeoNames place name beside its settlement dot
    assert "GeoNames, geonames.org, CC BY 4.0" in text
    assert "GSHHG 2.3.7 (Wessel & Smith)" in text  # the Kỳ Cùng crosses this sheet
    assert "Coarse base:" in text and "Nền sơ lược" in text
    assert "Settlement" in " ".join(tam.legend) and "River, stream" in " ".join(tam.legend)
    overview = " ".join(_text(sheets[0].pdf).split())
    assert "Natural Earth" in overview and "National border" in overview


def test_a_user_base_layer_drops_in_by_configuration(map_set, tmp_path):
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    from pipeline.config import BaseLayer

    cfg, layers, sheets = map_set
    lone = next(s for s in sheets if s.code == "LS-CG-03")
    xmin, ymin, xmax, ymax = lone.extent
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    gpkg = tmp_path / "topo10k.gpkg"
    # a province-style detailed base in VN-2000 metres: a national road and a named peak
    gpd.GeoDataFrame(
        {"ten": ["QL1A"], "cap": ["Quốc lộ"]},
        geometry=[LineString([(xmin, cy - 150), (xmax, cy - 120)])],
        crs=cfg.working_crs,
    ).to_file(gpkg, layer="giao_thong")
    gpd.GeoDataFrame(
        {"ten": ["Núi Thử Nghiệm"], "do_cao": [612.0]},
        geometry=[Point(cx + 300, cy + 300)],
        crs=cfg.working_crs,
    ).to_file(gpkg, layer="dinh_nui")
    extra = [
        BaseLayer(
            path=gpkg,
            layer="giao_thong",
            kind="roads",
            class_field="cap",
            attribution="Sở TN&MT Lạng Sơn, CSDL nền 1:10.000 (thử)",
        ),
        BaseLayer(
            path=gpkg,
            layer="dinh_nui",
            kind="peaks",
            label_field="ten",
            elevation_field="do_cao",
            attribution="Sở TN&MT Lạng Sơn, CSDL nền 1:10.000 (thử)",
        ),
    ]
    custom = _with_maps(cfg, base=[*cfg.maps.base, *extra])
    result = render_zoning_sheet("LS-CG-03", layers, custom, tmp_path / "z.pdf")
    text = " ".join(_text(tmp_path / "z.pdf").split())
    assert "Núi Thử Nghiệm 612" in text
    assert "CSDL nền 1:10.000 (thử)" in text
    legend = " ".join(result.legend)
    assert "Road – national, provincial" in legend and "Peak" in legend
    # a missing field is a clear input error naming the file and the field
    bad = BaseLayer(path=gpkg, layer="dinh_nui", kind="peaks", label_field="name", attribution="x")
    from pipeline.errors import InputError

    with pytest.raises(InputError) as err:
        render_zoning_sheet("LS-CG-03", layers, _with_maps(cfg, base=[bad]), tmp_path / "b.pdf")
    assert "name" in str(err.value) and "topo10k.gpkg" in str(err.value)


# ------------------------------------------------------------------ threats


def test_threats_are_drawn_on_zoning_sheets_with_illustrative_legend(map_set, tmp_path):
    cfg, layers, _ = map_set
    assert "threat_areas" in layers
    result = render_zoning_sheet("NADUONG", layers, cfg, tmp_path / "NADUONG.pdf")
    legend = " ".join(result.legend)
    assert "Threat: mining licence (illustrative)" in legend
    assert "giấy phép khai thác khoáng sản (minh họa)" in legend
    text = " ".join(_text(tmp_path / "NADUONG.pdf").split())
    assert "Threat: mining licence (illustrative)" in text
