"""The whole job on the sample data, and how it fails."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from pipeline import outputs
from pipeline.config import load_config
from pipeline.run import run_zones

from .conftest import ROOT

EXPECTED_LAYERS = [
    "park_extent",
    "districts",
    "geosites",
    "survey_points",
    "zone_i",
    "zone_ii",
    "protection_zones",
    "clusters",
    "zone_district_areas",
    "qa_findings",
    "quarantine",
]


def digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file()
    }


def test_sample_run_passes_with_every_layer(sample_run, sample_gpkg) -> None:
    _, result = sample_run
    assert result.status == "pass" and result.published
    layers = [name for name, _ in pyogrio.list_layers(sample_gpkg)]
    for name in EXPECTED_LAYERS:
        assert name in layers
        info = pyogrio.read_info(sample_gpkg, layer=name)
        assert info["crs"] == "EPSG:9215", name
    raw = gpd.read_file(ROOT / "data/raw/geosites.csv")
    assert pyogrio.read_info(sample_gpkg, layer="geosites")["features"] == len(raw)


def test_every_layer_lies_inside_the_park(sample_gpkg) -> None:
    park = shapely.union_all(gpd.read_file(sample_gpkg, layer="park_extent").geometry.values)
    tolerant = shapely.buffer(park, 0.01)
    for name in ("geosites", "survey_points", "zone_i", "zone_ii", "protection_zones", "clusters"):
        layer = gpd.read_file(sample_gpkg, layer=name)
        assert shapely.covers(tolerant, layer.geometry.values).all(), name


def test_zone_layers_carry_their_attributes(sample_gpkg) -> None:
    for name in ("zone_i", "zone_ii", "protection_zones", "clusters"):
        layer = gpd.read_file(sample_gpkg, layer=name)
        assert set(layer["zone_class"]) <= {"I", "II"}
        assert {"area_ha", "unit_code", "cluster_code"} <= set(layer.columns)
        assert (layer["area_ha"] - layer.geometry.area / 1e4).abs().max() < 1e-3
    zda = gpd.read_file(sample_gpkg, layer="zone_district_areas")
    assert {"zone_class", "district_code", "district_name", "area_ha"} <= set(zda.columns)
    pz = gpd.read_file(sample_gpkg, layer="protection_zones")
    per_unit = zda.groupby(["unit_code", "zone_class"])["area_ha"].sum()
    whole = pz.set_index(["unit_code", "zone_class"])["area_ha"]
    assert (per_unit.reindex(whole.index) - whole).abs().max() < 0.01


def test_districts_carry_official_names_and_codes(sample_gpkg) -> None:
    districts = gpd.read_file(sample_gpkg, layer="districts")
    official = gpd.read_file(ROOT / "data/raw/admin_units_gso.csv")
    assert sorted(districts["district_name"]) == sorted(official["district_name"])
    assert not districts["district_name"].str.contains("\u00d0").any()


def test_qa_report_checks_the_park_and_warns_about_ls_tp_05(sample_run) -> None:
    cfg, _ = sample_run
    report = json.loads((cfg.outputs.directory / "qa_report.json").read_text("utf-8"))
    assert report["status"] == "pass"
    assert report["declared_area_km2"] == 4842.58
    assert abs(report["park_area_km2"] - 4842.58) / 4842.58 * 100 <= cfg.park.area_tolerance_pct
    for finding in report["findings"]:
        assert {"severity", "check", "subject", "message"} <= set(finding)
    warnings = [f for f in report["findings"] if f["severity"] == "warning"]
    assert any("LS-TP-05" in f["subject"] and f["check"] == "declared_district" for f in warnings)
    findings = gpd.read_file(cfg.outputs.directory / "geopark.gpkg", layer="qa_findings")
    assert findings["subject"].str.contains("LS-TP-05").any()
    md = (cfg.outputs.directory / "qa_report.md").read_text("utf-8")
    assert "LS-TP-05" in md and "PASS" in md


def test_park_area_outside_tolerance_fails(write_config) -> None:
    def edit(raw):
        raw["park"]["declared_area_km2"] = 5200.0

    cfg = load_config(write_config(edit))
    result = run_zones(cfg)
    assert result.status == "fail" and not result.published
    report = json.loads((cfg.outputs.failed_directory / "qa_report.json").read_text("utf-8"))
    assert any(
        f["check"] == "park_area_planar" and f["severity"] == "error" for f in report["findings"]
    )


def test_web_exports_are_wgs84(sample_run) -> None:
    cfg, _ = sample_run
    zones = gpd.read_file(cfg.outputs.directory / cfg.outputs.web_zones)
    assert zones.crs.to_epsg() == 4326
    minx, miny, maxx, maxy = zones.total_bounds
    assert 106 < minx < maxx < 107.5 and 21.3 < miny < maxy < 22.3


def test_manifest_records_inputs_versions_counts_timings(sample_run) -> None:
    cfg, _ = sample_run
    manifest = json.loads((cfg.outputs.directory / "run_manifest.json").read_text("utf-8"))
    by_path = {Path(i["path"]).name: i for i in manifest["inputs"] if i["kind"] == "data"}
    raw = ROOT / "data/raw/geosites.csv"
    assert by_path["geosites.csv"]["sha256"] == hashlib.sha256(raw.read_bytes()).hexdigest()
    assert manifest["counts"]["geosites"] == 27
    assert {"ingest", "zone", "check", "write"} <= set(manifest["timings_s"])
    assert "shapely" in manifest["versions"] and "proj" in manifest["versions"]
    assert manifest["configuration"]["working_crs"] == "EPSG:9215"


def test_same_inputs_give_the_same_zones(sample_run, write_config) -> None:
    cfg, _ = sample_run
    again = load_config(write_config())
    run_zones(again)
    a = gpd.read_file(cfg.outputs.directory / "geopark.gpkg", layer="protection_zones")
    b = gpd.read_file(again.outputs.directory / "geopark.gpkg", layer="protection_zones")
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert all(
        shapely.equals_exact(x, y, 1e-6) for x, y in zip(a.geometry, b.geometry, strict=True)
    )


def _bad_register(tmp_path: Path) -> Path:
    text = (
        (ROOT / "data/raw/geosites.csv")
        .read_text("utf-8")
        .replace(",cave,national,", ",volcano,national,", 1)
    )
    path = tmp_path / "geosites_bad.csv"
    path.write_text(text, "utf-8")
    return path


def test_failed_run_leaves_previous_outputs_untouched(write_config, tmp_path) -> None:
    good = load_config(write_config())
    run_zones(good)
    before = digest(good.outputs.directory)

    bad_register = _bad_register(tmp_path)

    def edit(raw):
        raw["inputs"]["geosites"]["path"] = str(bad_register)

    bad = load_config(write_config(edit))
    result = run_zones(bad)
    assert result.status == "fail"
    assert digest(good.outputs.directory) == before
    quarantine = gpd.read_file(bad.outputs.failed_directory / "geopark.gpkg", layer="quarantine")
    assert quarantine.loc[0, "field"] == "category" and quarantine.loc[0, "value"] == "volcano"
    assert quarantine.loc[0, "row"] == 2


def test_crash_while_writing_leaves_previous_outputs_and_no_debris(
    write_config, monkeypatch
) -> None:
    cfg = load_config(write_config())
    run_zones(cfg)
    before = digest(cfg.outputs.directory)

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "write_geojson_wgs84", explode)
    with pytest.raises(KeyboardInterrupt):
        run_zones(cfg)
    assert digest(cfg.outputs.directory) == before
    assert not list(cfg.outputs.directory.glob(".staging-*"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )


def test_cli_exit_codes_and_no_tracebacks(write_config, tmp_path) -> None:
    ok = _cli("zones", "--config", str(write_config()))
    assert ok.returncode == 0, ok.stderr
    assert "QA: PASS" in ok.stdout

    bad_register = _bad_register(tmp_path)
    rejected = _cli(
        "zones",
        "--config",
        str(
            write_config(
                lambda raw: raw["inputs"]["geosites"].update(path=str(bad_register)),
                name="bad.toml",
            )
        ),
    )
    assert rejected.returncode == 1
    assert "volcano" in rejected.stdout

    unknown_key = _cli(
        "check",
        "--config",
        str(write_config(lambda raw: raw["park"].update(area=1), name="typo.toml")),
    )
    assert unknown_key.returncode == 2
    assert "park.area" in unknown_key.stderr
    for proc in (ok, rejected, unknown_key):
        assert "Traceback" not in proc.stderr
