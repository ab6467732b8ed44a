"""Small units stay legible: crowded boundary markers get a larger-scale enlargement page.

A deliberately dense unit (a Zone I of 20 m radius and a footprint of 45 m,
32 markers each) is far too small for its sheet's 1:10.000; the sheet is
measured the way a reader would with pdfplumber: marker numbers never
overlap each other or the marker symbols, no text is under 6 pt, and the
enlargement is there and states its own scale.
"""

from __future__ import annotations

import itertools
import re

import pandas as pd
import pdfplumber
import pytest
import shapely

from pipeline.maps import load_layers, render_zoning_sheet
from pipeline.maps.scale import format_scale, format_scale_en
from pipeline.markers import zone_markers

PT_PER_MM = 72 / 25.4
UNIT = "LS-CG-03"  # a lone geosite of the sample, made tiny here
LABEL = re.compile(r"^I{1,2}-\d+$")
#: the marker symbol's radius on paper (scatter s=10 pt², edge 0.7 pt)
SYMBOL_RADIUS_PT = (10**0.5) / 2 + 0.35


@pytest.fixture(scope="module")
def dense_sheet(sample_run, tmp_path_factory):
    cfg, _ = sample_run
    layers = load_layers(cfg.outputs.directory / cfg.outputs.geopackage)
    site = layers["geosites"].set_index("geosite_code").geometry[UNIT]
    core = shapely.set_precision(shapely.buffer(site, 20, quad_segs=8), 0.01)
    footprint = shapely.set_precision(shapely.buffer(site, 45, quad_segs=8), 0.01)
    zones = layers["protection_zones"]
    mine = zones["unit_code"] == UNIT
    assert set(zones.loc[mine, "zone_class"]) == {"I", "II"}
    geoms = {"I": core, "II": shapely.difference(footprint, core)}
    layers["protection_zones"] = zones.assign(
        geometry=[
            geoms[z] if u == UNIT else g
            for u, z, g in zip(zones["unit_code"], zones["zone_class"], zones.geometry, strict=True)
        ],
        area_ha=[
            geoms[z].area / 1e4 if u == UNIT else a
            for u, z, a in zip(
                zones["unit_code"], zones["zone_class"], zones["area_ha"], strict=True
            )
        ],
    )
    markers = layers["boundary_markers"]
    tiny = pd.concat(
        [zone_markers(UNIT, "I", core, None, 0.5), zone_markers(UNIT, "II", footprint, None, 0.5)],
        ignore_index=True,
    )
    layers["boundary_markers"] = pd.concat(
        [markers[markers["unit_code"] != UNIT], tiny], ignore_index=True
    )
    pdf = tmp_path_factory.mktemp("dense") / f"{UNIT}.pdf"
    sheet = render_zoning_sheet(UNIT, layers, cfg, pdf)
    return sheet, pdf


def _frame_words(page, frame_mm):
    """Marker-number words inside a map frame given in mm from the page's lower left."""
    x0, y0, w, h = (v * PT_PER_MM for v in frame_mm)
    top = page.height - (y0 + h)
    words = [
        wd
        for wd in page.extract_words()
        if LABEL.match(wd["text"])
        and x0 <= wd["x0"]
        and wd["x1"] <= x0 + w
        and top <= wd["top"]
        and wd["bottom"] <= top + h
    ]
    return words, (x0, top, w, h)


def _on_page(frame, extent, easting, northing):
    """A ground position on the page (pdfplumber's top-down points)."""
    x0, top, w, h = frame
    xmin, ymin, xmax, ymax = extent
    return (
        x0 + (easting - xmin) / (xmax - xmin) * w,
        top + (ymax - northing) / (ymax - ymin) * h,
    )


def _assert_legible(words, symbols):
    boxes = [shapely.box(w["x0"], w["top"], w["x1"], w["bottom"]) for w in words]
    for (a, wa), (b, wb) in itertools.combinations(zip(boxes, words, strict=True), 2):
        assert a.intersection(b).area < 0.05, (wa["text"], wb["text"])
    for box, word in zip(boxes, words, strict=True):
        for label, (x, y) in symbols.items():
            assert box.distance(shapely.Point(x, y)) >= SYMBOL_RADIUS_PT - 0.3, (
                word["text"],
                label,
            )


def test_crowded_markers_are_numbered_on_an_enlargement(dense_sheet):
    sheet, pdf = dense_sheet
    labels = {mk.label for mk in sheet.markers}
    assert len(labels) == 64
    # at the sheet's own scale the unit is a few millimetres across: an enlargement is needed
    assert sheet.denominator >= 10_000
    assert sheet.enlargements, "no enlargement for a unit too small for its sheet"
    numbered_on_map = set()
    with pdfplumber.open(pdf) as doc:
        assert len(doc.pages) == sheet.pages
        main_words, _ = _frame_words(doc.pages[0], sheet.map_frame_mm)
        numbered_on_map |= {w["text"] for w in main_words}
        for e in sheet.enlargements:
            assert e.denominator < sheet.denominator
            page = doc.pages[e.page - 1]
            text = page.extract_text()
            # the enlargement states its own scale, both ways, and the sheet's
            assert f"TỶ LỆ {format_scale(e.denominator)}" in text
            assert f"Scale {format_scale_en(e.denominator)}" in text
            assert format_scale(sheet.denominator) in text
            assert "PHÓNG TO" in text and "ENLARGEMENT" in text
            words, frame = _frame_words(page, e.map_frame_mm)
            assert {w["text"] for w in words} == set(e.numbered)
            numbered_on_map |= set(e.numbered)
            # no marker number over another, nor over a marker symbol
            symbols = {
                mk.label: _on_page(frame, e.extent, mk.y_easting, mk.x_northing)
                for mk in sheet.markers
            }
            x0, top, w, h = frame
            symbols = {
                k: v for k, v in symbols.items() if x0 <= v[0] <= x0 + w and top <= v[1] <= top + h
            }
            assert len(words) == len({w["text"] for w in words})  # each number once
            _assert_legible(words, symbols)
        # the main page says where the enlargement is and outlines it
        main_text = doc.pages[0].extract_text()
        assert "Mốc dày: phóng to 1" in main_text and "enlargement 1" in main_text
    # every marker is numbered on a map, none left for the table alone
    assert numbered_on_map == labels
    # and the numbers the main map does show do not collide either
    _assert_legible(main_words, {})


def test_no_text_under_6_pt_on_any_page(dense_sheet):
    _sheet, pdf = dense_sheet
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            sizes = [
                c["size"] if c["upright"] else c["width"] for c in page.chars if c["text"].strip()
            ]
            assert min(sizes) >= 6.0 - 0.05, (page.page_number, min(sizes))


def test_enlargements_go_into_the_sheet_index(dense_sheet):
    sheet, _pdf = dense_sheet
    entry = sheet.as_dict()
    assert entry["pages"] == sheet.pages >= 2
    first = entry["enlargements"][0]
    assert first["page"] == 2 and first["scale"] == f"1:{first['denominator']}"
    assert set(first["numbered"]) <= {mk.label for mk in sheet.markers}
