"""Dossiers that are geosite files (issue 13): every field of the register's
contract, the dossier map true to scale at its printed size, cultural sites
kept apart from geosites, Vietnamese numbers; threats (issue 14)."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pdfplumber
import pyogrio
import pytest
import rasterio
from rasterio.transform import from_origin

from pipeline.dossiers import write_dossiers
from pipeline.dossiers.content import FILE_FIELDS, NOT_RECORDED, file_fields, photographs
from pipeline.dossiers.elevation import sample_dem
from pipeline.dossiers.figure import FIGURE_MM, MIN_TEXT_PT
from pipeline.numbers import bilingual_number, en_number, vi_number
from pipeline.vocabulary import heritage_type

PT_PER_MM = 72 / 25.4
SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "geosites.schema.json"


@pytest.fixture(scope="module")
def dossier_run(sample_run, tmp_path_factory):
    cfg, _ = sample_run
    tmp = tmp_path_factory.mktemp("dossier_files")
    mp = pytest.MonkeyPatch()
    mp.delenv("DATABASE_URL", raising=False)
    mp.delenv("PGSERVICE", raising=False)
    dossiers = cfg.dossiers.model_copy(
        update={"directory": tmp / "dossiers", "zoning_sheets": tmp / "none"}
    )
    cfg = cfg.model_copy(update={"dossiers": dossiers})
    only = ["LS-LB-01", "LS-BS-04", "LS-CG-01", "LS-CL-03"]
    run = write_dossiers(cfg, only=only)
    yield cfg, run, only
    mp.undo()


def _text(html: str) -> str:
    html = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


# ------------------------------------------------------------------ numbers


def test_vietnamese_and_english_number_conventions():
    assert vi_number(1234567.891, 2) == "1.234.567,89"
    assert en_number(1234567.891, 2) == "1,234,567.89"
    assert vi_number(0.9999, 4) == "0,9999"
    assert vi_number(1541, 0, thousands="\u202f") == "1\u202f541"
    assert vi_number(-0.001, 1) == "0,0"
    assert bilingual_number(4.49, 2) == ("4,49", "4.49")


# ------------------------------------------------------------------ contract


def test_every_new_register_field_is_optional_and_documented():
    schema = json.loads(SCHEMA.read_text("utf-8"))
    fields = {f["name"]: f for f in schema["fields"]}
    for name, _, _ in FILE_FIELDS:
        assert name in fields, name
        assert fields[name]["constraints"]["required"] is False
        assert fields[name].get("description")
    for name in ("heritage_type", "elevation_m", "photos", "photo_captions", "photo_credits"):
        assert fields[name]["constraints"]["required"] is False
    readme = (SCHEMA.parents[1] / "README.md").read_text("utf-8")
    for name in [n for n, _, _ in FILE_FIELDS] + ["heritage_type", "photos", "elevation_m"]:
        assert f"`{name}`" in readme, name


def test_ingest_carries_the_file_fields_to_the_geopackage(sample_gpkg):
    sites = pyogrio.read_dataframe(sample_gpkg, layer="geosites", read_geometry=False)
    for name, _, _ in FILE_FIELDS:
        assert name in sites.columns
    row = sites.set_index("geosite_code").loc["LS-CL-01"]
    assert float(row["elevation_m"]) == 1541
    assert row["commune"] == "xã Mẫu Sơn"
    kinds = sites.set_index("geosite_code")["heritage_type"]
    assert kinds["LS-BS-04"] == "cultural_site"  # declared
    assert kinds["LS-BS-05"] == "cultural_site"  # derived from category cultural
    assert kinds["LS-BS-03"] == "geosite"  # an archaeological cave stays a geosite


def test_heritage_type_rule():
    assert heritage_type("cultural") == "cultural_site"
    assert heritage_type("archaeological") == "geosite"
    assert heritage_type("cave", "cultural_site") == "cultural_site"


def test_every_dossier_shows_every_field_or_not_recorded(sample_gpkg, dossier_run):
    cfg, _, only = dossier_run
    sites = pyogrio.read_dataframe(sample_gpkg, layer="geosites", read_geometry=False)
    sites = sites.set_index("geosite_code")
    for code in only:
        html = (cfg.dossiers.directory / f"{code}.html").read_text("utf-8")
        for name, vi, en in FILE_FIELDS:
            match = re.search(rf'<tr data-field="{name}">(.*?)</tr>', html, flags=re.S)
            assert match, (code, name)
            cell = _text(match.group(1))
            assert vi in cell and en in cell
            raw = sites.loc[code, name]
            if name == "description_en" and (raw is None or pd.isna(raw)):
                raw = sites.loc[code, "description"]
            if raw is None or pd.isna(raw) or not str(raw).strip():
                assert NOT_RECORDED in cell, (code, name)
            else:
                first = str(raw).split(";")[0].strip()[:10]
                assert first.replace("'", "'") in cell, (code, name, cell)
                assert NOT_RECORDED not in cell
        text = _text(html)
        assert "Chưa có ảnh / no photograph" in text
        assert "Độ cao / elevation" in text


def test_dossier_numbers_are_vietnamese(dossier_run):
    cfg, _, _ = dossier_run
    text = _text((cfg.dossiers.directory / "LS-LB-01.html").read_text("utf-8"))
    # coordinates and areas: dot thousands, decimal comma
    assert re.search(r"\d{1}\.\d{3}\.\d{3},\d{2} m", text)
    assert not re.search(r"\d,\d{3}\.\d{2} m\b", text.split("/ Zone")[0])
    assert "1:" in text and re.search(r"tỷ lệ 1:\d{1,3}\.\d{3}", text)


def test_cultural_sites_are_counted_apart(sample_gpkg, dossier_run):
    cfg, _, _ = dossier_run
    summary = json.loads((cfg.dossiers.directory / "tong_hop_di_san.json").read_text("utf-8"))
    sites = pyogrio.read_dataframe(sample_gpkg, layer="geosites", read_geometry=False)
    cultural = sites.loc[sites["category"] == "cultural", "geosite_code"]
    assert summary["n_cultural_sites"] == len(cultural) == 3
    assert summary["n_geosites"] == len(sites) - 3
    assert "cultural" not in {c["key"] for c in summary["by_category"]}
    assert {c["geosite_code"] for c in summary["cultural_sites"]} == set(cultural)
    html = (cfg.dossiers.directory / "LS-BS-04.html").read_text("utf-8")
    assert "điểm di sản văn hóa / cultural_site" in _text(html)
    assert "điểm di sản địa chất / geosite" in _text(
        (cfg.dossiers.directory / "LS-LB-01.html").read_text("utf-8")
    )


def test_threats_section_and_summary_conflicts(sample_gpkg, dossier_run):
    cfg, _, _ = dossier_run
    conflicts = pyogrio.read_dataframe(sample_gpkg, layer="conflicts", read_geometry=False)
    risk = pyogrio.read_dataframe(sample_gpkg, layer="geosite_risk_computed")
    html = (cfg.dossiers.directory / "LS-LB-01.html").read_text("utf-8")
    section = _text(html.split('<section id="threats">')[1].split("</section>")[0])
    for _, c in conflicts.loc[conflicts["unit_code"] == "NADUONG"].iterrows():
        assert c["name"] in section
    assert "MINH HỌA" in section and "ILLUSTRATIVE" in section
    mine = risk.loc[risk["geosite_code"] == "LS-LB-01"]
    assert len(mine) and "Điểm tính / computed" in section
    for layer in ";".join(mine["source_layers"]).split(";"):
        assert layer in section
    if mine["disagrees"].astype(bool).any():
        assert "KHÁC NHAU / DISAGREE" in section
    summary = json.loads((cfg.dossiers.directory / "tong_hop_di_san.json").read_text("utf-8"))
    assert len(summary["conflicts"]) == len(conflicts)
    # the licence's overlap with NADUONG's Zone II, both ways of writing it
    licence = conflicts.loc[
        (conflicts["unit_code"] == "NADUONG") & (conflicts["zone_class"] == "II")
    ]
    area = float(licence["overlap_area_ha"].iloc[0])
    assert area > 0
    written = f"{vi_number(area, 2)} ha / {en_number(area, 2)} ha"
    assert written in {c["overlap"] for c in summary["conflicts"]}


# ------------------------------------------------------------------ the map


def test_dossier_map_is_true_to_scale_at_its_printed_size(dossier_run):
    cfg, _, _ = dossier_run
    folder = cfg.dossiers.directory
    html = (folder / "LS-LB-01.html").read_text("utf-8")
    denominator = int(re.search(r"tỷ lệ 1:([\d.]+)", html).group(1).replace(".", ""))
    with pdfplumber.open(folder / "maps" / "LS-LB-01.pdf") as pdf:
        page = pdf.pages[0]
        assert page.width == pytest.approx(FIGURE_MM[0] * PT_PER_MM, abs=0.5)
        assert page.height == pytest.approx(FIGURE_MM[1] * PT_PER_MM, abs=0.5)
        # the scale bar: the row of equal segments below the map frame
        rows: dict[float, list] = {}
        for r in page.rects:
            if r["height"] < 2.5 * PT_PER_MM and r["width"] > 2 * PT_PER_MM:
                rows.setdefault(round(r["top"], 1), []).append(r)
        row = sorted(max(rows.values(), key=len), key=lambda r: r["x0"])
        assert len(row) >= 4  # segments side by side, abutting
        assert all(a["x1"] == pytest.approx(b["x0"], abs=0.1) for a, b in pairwise(row))
        bar_mm = (row[-1]["x1"] - row[0]["x0"]) / PT_PER_MM
        labels = [w["text"] for w in page.extract_words() if w["top"] > row[0]["bottom"] - 1]
        km = next(float(t.replace(",", ".")) for t, n in pairwise(labels) if n == "km")
        assert bar_mm * denominator / 1e6 == pytest.approx(km, rel=0.01)
        sizes = [c["size"] for c in page.chars]
        assert sizes and min(sizes) >= 6.0
        assert min(sizes) >= MIN_TEXT_PT - 0.01
    # the dossier prints it at exactly that size
    with pdfplumber.open(folder / "LS-LB-01.pdf") as pdf:
        images = [i for p in pdf.pages for i in p.images]
        widths = [(i["x1"] - i["x0"]) / PT_PER_MM for i in images]
        assert any(w == pytest.approx(FIGURE_MM[0], abs=0.3) for w in widths), widths
        chars = [c for p in pdf.pages for c in p.chars]
        assert min(c["size"] for c in chars) >= 6.0


# ------------------------------------------------------------------ units


def test_photographs_shown_when_present_refused_outside(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path.parent / "secret.png").write_bytes(b"x")
    site = pd.Series(
        {
            "photos": "photos/a.jpg; photos/missing.jpg; ../secret.png",
            "photo_captions": "Cửa hang; ; x",
            "photo_credits": "Nguyễn Văn A",
        }
    )
    out = photographs(site, tmp_path)
    assert out[0]["source"] == (tmp_path / "photos" / "a.jpg").resolve()
    assert out[0]["caption"] == "Cửa hang" and out[0]["credit"] == "Nguyễn Văn A"
    assert out[1]["source"] is None and not out[1]["refused"] and out[1]["caption"] is None
    assert out[2]["refused"] and out[2]["source"] is None


def test_file_fields_never_invent_text():
    rows = file_fields(pd.Series({"commune": "xã Mẫu Sơn", "references": "A; B"}))
    by = {r["field"]: r for r in rows}
    assert by["commune"]["value"] == "xã Mẫu Sơn"
    assert by["references"]["lines"] == ["A", "B"]
    assert all(by[n]["value"] is None for n in ("village", "formation", "compiler"))


def test_elevation_sampled_from_the_dem(tmp_path):
    dem = tmp_path / "dem.tif"
    data = np.arange(100, dtype="float32").reshape(10, 10)
    with rasterio.open(
        dem,
        "w",
        driver="GTiff",
        width=10,
        height=10,
        count=1,
        dtype="float32",
        crs="EPSG:9215",
        transform=from_origin(470000, 2401000, 100, 100),
        nodata=-9999,
    ) as dst:
        dst.write(data, 1)
    values = sample_dem(
        dem, np.array([470050.0, 470950, 480000]), np.array([2400950.0, 2400050, 0]), "EPSG:9215"
    )
    assert values == [0.0, 99.0, None]
