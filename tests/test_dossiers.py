"""Dossiers and the heritage summary, from the sample run's GeoPackage."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.dossiers import write_dossiers
from pipeline.numbers import vi_number
from pipeline.vocabulary import CATEGORY_VI, SIGNIFICANCE_VI

SECTIONS = ["identification", "description", "location", "zoning", "assessment", "inspections"]


@pytest.fixture(scope="module")
def dossier_cfg(sample_run, tmp_path_factory):
    """The sample run's config with dossiers and map sheets in a temporary folder.

    One zoning sheet (the Tam Thanh cluster's) exists; the others are missing.
    """
    cfg, _ = sample_run
    tmp = tmp_path_factory.mktemp("dossiers")
    sheets = tmp / "maps" / "zoning"
    sheets.mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.fill([0, 1, 1, 0], [0, 0, 1, 1], color="#c0392b")
    ax.set_title("TAMTHANH test sheet")
    fig.savefig(sheets / "TAMTHANH.png", dpi=60)
    plt.close(fig)
    dossiers = cfg.dossiers.model_copy(
        update={"directory": tmp / "dossiers", "zoning_sheets": sheets}
    )
    return cfg.model_copy(update={"dossiers": dossiers})


@pytest.fixture(scope="module")
def written(dossier_cfg, monkeypatch_module):
    monkeypatch_module.delenv("DATABASE_URL", raising=False)
    monkeypatch_module.delenv("PGSERVICE", raising=False)
    return write_dossiers(dossier_cfg)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def _sites(cfg):
    return pyogrio.read_dataframe(
        cfg.output_path("geopackage"), layer="geosites", read_geometry=False
    )


def test_one_dossier_per_geosite_in_html_and_pdf(dossier_cfg, written):
    codes = sorted(_sites(dossier_cfg)["geosite_code"])
    folder = dossier_cfg.dossiers.directory
    assert sorted(p.stem for p in folder.glob("*.html") if p.stem != "tong_hop_di_san") == codes
    assert sorted(p.stem for p in folder.glob("*.pdf") if p.stem != "tong_hop_di_san") == codes
    assert written.inspections is None


def test_every_section_is_present_and_bilingual(dossier_cfg, written):
    gpkg = dossier_cfg.output_path("geopackage")
    sites = _sites(dossier_cfg)
    points = pyogrio.read_dataframe(gpkg, layer="survey_points", read_geometry=False)
    for _, site in sites.iterrows():
        html = (dossier_cfg.dossiers.directory / f"{site['geosite_code']}.html").read_text("utf-8")
        for section in SECTIONS:
            assert f'<section id="{section}">' in html, (site["geosite_code"], section)
        assert site["name_vi"] in html and site["name_en"] in html
        assert f"({int(site['declared_district_code'])})" in html  # official GSO code
        # Vietnamese numbers: dot thousands, decimal comma
        assert vi_number(site["x_vn2000"], 2) in html and vi_number(site["lat"], 6) in html
        # the observations table has one row per survey point
        description = html.split('<section id="description">')[1].split("</section>")[0]
        n_points = int((points["geosite_code"] == site["geosite_code"]).sum())
        assert description.count("<tr><td>") == n_points
        assert "Dữ liệu mẫu" in html and "Sample data" in html
        assert "MINH HỌA" in html and "ILLUSTRATIVE" in html  # the sample's scores
        assert "No database configured" in html
        assert "Hồ sơ điểm di sản" in html and "Geosite dossier" in html


def test_zoning_sheet_included_or_missing_said_clearly(dossier_cfg, written):
    sites = _sites(dossier_cfg)
    folder = dossier_cfg.dossiers.directory
    for _, site in sites.iterrows():
        html = (folder / f"{site['geosite_code']}.html").read_text("utf-8")
        if site["unit_code"] == "TAMTHANH":
            # the A3 sheet is named and linked beside the dossier's own page-sized map
            assert "sheets/TAMTHANH.png" in html or "TAMTHANH.pdf</a>" in html
            assert "sheet-missing" not in html
            assert (folder / "sheets" / "TAMTHANH.png").exists()
        else:
            assert "sheet-missing" in html and "geopark maps" in html
    assert "TAMTHANH" not in written.missing_sheets
    assert set(written.missing_sheets) == set(sites["unit_code"]) - {"TAMTHANH"}


def test_zoning_areas_match_the_geopackage(dossier_cfg, written):
    gpkg = dossier_cfg.output_path("geopackage")
    zone_i = pyogrio.read_dataframe(gpkg, layer="zone_i", read_geometry=False)
    legal = pyogrio.read_dataframe(gpkg, layer="protection_zones", read_geometry=False)
    legal_i = legal[legal["zone_class"] == "I"].set_index("unit_code")["area_ha"]
    for _, z in zone_i.iterrows():
        html = (dossier_cfg.dossiers.directory / f"{z['geosite_code']}.html").read_text("utf-8")
        zoning = html.split('<section id="zoning">')[1]
        if z["unit_code"] == z["geosite_code"]:
            # a lone geosite states its legal zone: the boundary-marker polygon's area
            assert vi_number(legal_i[z["unit_code"]], 2) in zoning
        else:
            # within a cluster: its own detailed zone, and the cluster's legal areas
            assert vi_number(z["area_ha"], 2) in zoning
            assert vi_number(legal_i[z["unit_code"]], 2) in zoning
            assert "legal boundary (boundary markers)" in zoning


def test_summary_totals_equal_sums_over_the_geopackage(dossier_cfg, written):
    gpkg = dossier_cfg.output_path("geopackage")
    summary = json.loads(
        (dossier_cfg.dossiers.directory / "tong_hop_di_san.json").read_text("utf-8")
    )
    sites = pyogrio.read_dataframe(gpkg, layer="geosites", read_geometry=False)
    zones = pyogrio.read_dataframe(gpkg, layer="protection_zones", read_geometry=False)
    zda = pyogrio.read_dataframe(gpkg, layer="zone_district_areas", read_geometry=False)

    geo = sites.loc[sites["heritage_type"] == "geosite"]
    assert summary["n_geosites"] == len(geo)
    assert summary["n_geosites"] + summary["n_cultural_sites"] == len(sites)
    assert {c["key"]: c["count"] for c in summary["by_category"]} == geo[
        "category"
    ].value_counts().to_dict()
    assert {c["key"]: c["count"] for c in summary["by_significance"]} == geo[
        "significance"
    ].value_counts().to_dict()
    assert sum(d["count"] for d in summary["by_district"]) == len(sites)
    # Every counted category and significance is named in Vietnamese, then English.
    html = (dossier_cfg.dossiers.directory / "tong_hop_di_san.html").read_text("utf-8")
    for key, vi in {**CATEGORY_VI, **SIGNIFICANCE_VI}.items():
        if key in set(sites["category"]) | set(sites["significance"]):
            assert f"<td>{vi} / {key}</td>" in html

    zone_i = zones.loc[zones["zone_class"] == "I", "area_ha"].sum()
    zone_ii = zones.loc[zones["zone_class"] == "II", "area_ha"].sum()
    assert summary["park"]["zone_i_ha"] == pytest.approx(zone_i, abs=1e-6)
    assert summary["park"]["zone_ii_ha"] == pytest.approx(zone_ii, abs=1e-6)
    for row in summary["areas_by_district"]:
        part = zda[zda["district_code"] == row["district_code"]]
        assert row["zone_i_ha"] == pytest.approx(
            part.loc[part["zone_class"] == "I", "area_ha"].sum(), abs=1e-6
        )
        assert row["zone_ii_ha"] == pytest.approx(
            part.loc[part["zone_class"] == "II", "area_ha"].sum(), abs=1e-6
        )
    # district pieces add up to the park-wide totals
    assert sum(r["zone_i_ha"] for r in summary["areas_by_district"]) == pytest.approx(
        zone_i, rel=1e-6
    )

    html = (dossier_cfg.dossiers.directory / "tong_hop_di_san.html").read_text("utf-8")
    assert f'id="park-zone-i">{vi_number(zone_i, 2)}<' in html
    assert f'id="park-total">{vi_number(zone_i + zone_ii, 2)}<' in html
    # the category table counts geosites; other heritage sites have their own table
    assert f'id="total-by-category">{len(geo)}<' in html
    assessment = pyogrio.read_dataframe(gpkg, layer="geosite_assessment", read_geometry=False)
    ranked = [r["geosite_code"] for r in summary["ranking"]]
    assert (
        ranked[0]
        == assessment.sort_values(["scientific_value", "educational_value"], ascending=False).iloc[
            0
        ]["geosite_code"]
    )
    assert sorted(ranked) == sorted(assessment["geosite_code"])
    assert "MINH HỌA" in html
    for chart in ("geosites.png", "protected_areas.png", "assessment_ranking.png"):
        assert (dossier_cfg.dossiers.directory / "charts" / chart).stat().st_size > 5_000


def _render_page(pdf: Path, tmp_path: Path, page: int = 1) -> np.ndarray:
    prefix = tmp_path / pdf.stem
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-png",
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(pdf),
            str(prefix),
        ],
        check=True,
    )
    return plt.imread(str(prefix) + ".png")


@pytest.mark.parametrize("name", ["LS-TP-01", "LS-LB-01", "tong_hop_di_san"])
def test_pdfs_render_and_are_not_blank(dossier_cfg, written, tmp_path, name):
    pdf = dossier_cfg.dossiers.directory / f"{name}.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2
    image = _render_page(pdf, tmp_path)
    ink = (image[..., :3].mean(axis=2) < 0.85).mean()
    assert ink > 0.02, f"page 1 of {pdf.name} looks blank ({ink:.3%} ink)"
    fonts = subprocess.run(
        ["pdffonts", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    rows = fonts.strip().splitlines()[2:]
    assert rows and all(" yes " in r for r in rows)  # every font embedded
    assert any(
        name in fonts for name in ("Geopark-Sans", "Noto", "DejaVu")
    )  # Vietnamese-capable fonts


def test_vietnamese_text_survives_in_the_pdf(dossier_cfg, written):
    from pypdf import PdfReader

    text = PdfReader(dossier_cfg.dossiers.directory / "LS-TP-01.pdf").pages[0].extract_text()
    assert "Động Tam Thanh" in text
    assert "Nhận dạng" in text


def test_cli_writes_one_dossier_and_fails_well(dossier_cfg, tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PGSERVICE", raising=False)
    from pipeline.config import dump_config

    raw = dict(dossier_cfg.raw)
    raw = json.loads(json.dumps(raw))
    for spec in [
        *(v for v in raw["inputs"].values() if isinstance(v, dict)),
        *raw["inputs"]["survey_points"],
    ]:
        for key in ("path", "schema"):
            if key in spec:
                spec[key] = str((dossier_cfg.source.parent / spec[key]).resolve())
    raw["outputs"]["directory"] = str(dossier_cfg.outputs.directory)
    raw["dossiers"] = {
        "directory": str(tmp_path / "out"),
        "zoning_sheets": str(tmp_path / "none"),
        "pdf": False,
    }
    path = tmp_path / "cfg.toml"
    path.write_text(dump_config(raw), "utf-8")
    assert load_config(path).dossiers.directory == tmp_path / "out"
    runner = CliRunner()
    ok = runner.invoke(cli, ["dossiers", "--config", str(path), "--geosite", "LS-TP-01"])
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "out" / "LS-TP-01.html").exists()
    assert not (tmp_path / "out" / "LS-TP-01.pdf").exists()
    assert "geopark maps" in ok.output  # the missing sheet is said
    bad = runner.invoke(cli, ["dossiers", "--config", str(path), "--geosite", "LS-NO-99"])
    assert bad.exit_code == 2
    assert "LS-NO-99" in bad.output and "Traceback" not in bad.output
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    down = runner.invoke(cli, ["dossiers", "--config", str(path)])
    assert down.exit_code == 2
    assert "records.inspections" in down.output and "Traceback" not in down.output
    # the failed run left the previous dossier in place
    assert (tmp_path / "out" / "LS-TP-01.html").exists()
