"""Every supported format and CRS gives the same survey points; the rules for real-world data."""

from __future__ import annotations

import subprocess
import unicodedata
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import pytest
import shapely

from pipeline.config import load_config
from pipeline.coordinates import format_dms
from pipeline.errors import InputError
from pipeline.ingest import ingest

from .conftest import RAW

SURVEY = RAW / "survey_points_wgs84.csv"


def survey_table() -> pd.DataFrame:
    return pd.read_csv(SURVEY, dtype=str, keep_default_na=False)


def survey_gdf() -> gpd.GeoDataFrame:
    t = survey_table()
    return gpd.GeoDataFrame(
        t.drop(columns=["lat", "lon"]),
        geometry=shapely.points(t["lon"].astype(float), t["lat"].astype(float)),
        crs="EPSG:4326",
    )


@pytest.fixture(scope="module")
def baseline() -> pd.DataFrame:
    """The sample's survey points as the project configuration reads them."""
    from .conftest import ROOT

    result = ingest(load_config(ROOT / "geopark.toml"))
    return result.survey_points.set_index("point_id")


def _ingest_with(write_config, spec: dict, **rules: str) -> object:
    """Ingest with ``spec`` as the first survey file and ``rules`` in ``[ingest]``."""

    def edit(raw):
        spec.setdefault("schema", raw["inputs"]["survey_points"][0]["schema"])
        raw["inputs"]["survey_points"][0] = spec
        if rules:
            raw.setdefault("ingest", {}).update(rules)

    return ingest(load_config(write_config(edit)))


# --- writers: each returns the input spec for geopark.toml --------------------


def write_xlsx(tmp: Path) -> dict:
    t = survey_table()
    t["lat"], t["lon"] = t["lat"].astype(float), t["lon"].astype(float)  # numeric cells
    t["survey_date"] = pd.to_datetime(t["survey_date"])  # date cells
    path = tmp / "points.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"ghi chú": ["trang bìa / cover sheet"]}).to_excel(
            xl, sheet_name="Bìa", index=False
        )
        t.to_excel(xl, sheet_name="Khảo sát", index=False)
    return {
        "path": str(path),
        "sheet": "Khảo sát",
        "crs": "EPSG:4326",
        "lon_column": "lon",
        "lat_column": "lat",
    }


def write_gpx(tmp: Path) -> dict:
    g = survey_gdf()
    gpx = g.rename(columns={"point_id": "name", "geosite_code": "cmt", "observation": "desc"})
    # a handheld stores UTC: 09:00 local is 02:00Z the same day
    gpx["time"] = pd.to_datetime(g["survey_date"]).dt.tz_localize("Asia/Ho_Chi_Minh").dt.tz_convert(
        "UTC"
    ) + pd.Timedelta(hours=9)
    path = tmp / "points.gpx"
    pyogrio.write_dataframe(gpx[["name", "cmt", "desc", "time", "geometry"]], path, driver="GPX")
    return {
        "path": str(path),
        "columns": {
            "point_id": "name",
            "geosite_code": "cmt",
            "observation": "desc",
            "survey_date": "time",
        },
    }


def _kml(tmp: Path) -> Path:
    g = survey_gdf().rename(columns={"point_id": "Name", "observation": "Description"})
    path = tmp / "points.kml"
    pyogrio.write_dataframe(g, path, driver="KML")
    return path


def write_kml(tmp: Path) -> dict:
    return {"path": str(_kml(tmp)), "columns": {"point_id": "Name", "observation": "description"}}


def write_kmz(tmp: Path) -> dict:
    kml = _kml(tmp)
    path = tmp / "points.kmz"
    with zipfile.ZipFile(path, "w") as z:
        z.write(kml, "doc.kml")
    kml.unlink()
    return {"path": str(path), "columns": {"point_id": "Name", "observation": "description"}}


def write_shp(tmp: Path) -> dict:
    path = tmp / "points.shp"
    pyogrio.write_dataframe(survey_gdf(), path, encoding="UTF-8")
    assert path.with_suffix(".cpg").exists()
    return {
        "path": str(path),
        "columns": {
            "geosite_code": "geosite_co",
            "survey_date": "survey_dat",
            "observation": "observatio",
        },
    }


def write_shp_cut_names(tmp: Path) -> dict:
    """A shapefile whose field names GDAL cut to 10 characters, with no column mapping."""
    path = tmp / "cut_names.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL's own notice of the cut names, when writing
        pyogrio.write_dataframe(survey_gdf(), path, encoding="UTF-8")
    assert "survey_dat" in pyogrio.read_info(path)["fields"]
    return {"path": str(path)}


def write_unicode_text(tmp: Path) -> dict:
    """Excel's "Unicode Text" export: UTF-16 LE with BOM, tab-separated, CRLF."""
    path = tmp / "points.txt"
    text = survey_table().to_csv(index=False, sep="\t", lineterminator="\r\n")
    path.write_bytes(text.encode("utf-16"))
    assert path.read_bytes()[:2] == b"\xff\xfe"
    return {"path": str(path), "crs": "EPSG:4326", "lon_column": "lon", "lat_column": "lat"}


def write_xlsx_with_title(tmp: Path) -> dict:
    """A workbook with a title and a blank row above the column names (header on row 3)."""
    path = tmp / "titled.xlsx"
    table = survey_table()
    with pd.ExcelWriter(path) as writer:
        table.to_excel(writer, index=False, startrow=2)
        writer.sheets["Sheet1"]["A1"] = "Điểm khảo sát Công viên địa chất Lạng Sơn 2024"
    return {"path": str(path), "crs": "EPSG:4326", "lon_column": "lon", "lat_column": "lat"}


def write_gpkg(tmp: Path) -> dict:
    path = tmp / "points.gpkg"
    survey_gdf().to_crs("EPSG:9215").pipe(pyogrio.write_dataframe, path, layer="diem_khao_sat")
    return {"path": str(path), "layer": "diem_khao_sat"}


def write_geojson(tmp: Path) -> dict:
    path = tmp / "points.geojson"
    pyogrio.write_dataframe(survey_gdf(), path, driver="GeoJSON")
    return {"path": str(path)}


def write_dms_csv(tmp: Path) -> dict:
    t = survey_table()
    t["lat"] = [format_dms(float(v), "lat", decimals=4) for v in t["lat"]]
    t["lon"] = [format_dms(float(v), "lon", style="spaces", decimals=4) for v in t["lon"]]
    path = tmp / "points_dms.csv"
    t.to_csv(path, index=False, sep=";")
    return {"path": str(path), "crs": "EPSG:4326", "lon_column": "lon", "lat_column": "lat"}


def _projected_csv(tmp: Path, epsg: int, name: str, decimal_comma: bool = False) -> dict:
    t = survey_table()
    tr = pyproj.Transformer.from_crs("EPSG:4326", f"EPSG:{epsg}", always_xy=True)
    e, n = tr.transform(t["lon"].astype(float).to_numpy(), t["lat"].astype(float).to_numpy())
    t = t.drop(columns=["lat", "lon"])
    t["X"] = [f"{v:.4f}".replace(".", ",") if decimal_comma else f"{v:.4f}" for v in n]
    t["Y"] = [f"{v:.4f}".replace(".", ",") if decimal_comma else f"{v:.4f}" for v in e]
    path = tmp / name
    t.to_csv(path, index=False, sep=";" if decimal_comma else ",")
    return {"path": str(path), "crs": f"EPSG:{epsg}", "northing_column": "X", "easting_column": "Y"}


def write_utm_csv(tmp: Path) -> dict:
    return _projected_csv(tmp, 32648, "points_utm48n.csv")


def write_vn2000_other_zone_csv(tmp: Path) -> dict:
    # EPSG:9211 (VN-2000 / TM-3 106°00') from WGS 84 through the EPSG Helmert operation
    return _projected_csv(tmp, 9211, "points_vn2000_106.csv", decimal_comma=True)


WRITERS: dict[str, tuple[Callable[[Path], dict], float]] = {
    # writer, tolerance in metres against the sample
    "xlsx": (write_xlsx, 1e-3),
    "gpx": (write_gpx, 0.01),
    "kml": (write_kml, 0.01),
    "kmz": (write_kmz, 0.01),
    "shp": (write_shp, 1e-3),
    "shp-cut-names": (write_shp_cut_names, 1e-3),
    "txt-utf16-unicode-text": (write_unicode_text, 1e-3),
    "xlsx-title-rows": (write_xlsx_with_title, 1e-3),
    "gpkg": (write_gpkg, 1e-3),
    "geojson": (write_geojson, 1e-3),
    "csv-dms": (write_dms_csv, 0.01),  # 0.0001" is 3 mm
    "csv-utm48n": (write_utm_csv, 1e-3),
    "csv-vn2000-9211": (write_vn2000_other_zone_csv, 1e-3),
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_every_format_gives_the_sample_points(kind, baseline, write_config, tmp_path) -> None:
    writer, tolerance = WRITERS[kind]
    spec = writer(tmp_path)
    result = _ingest_with(write_config, spec)
    assert result.rejections == []
    name = Path(spec["path"]).name
    got = result.survey_points[result.survey_points["source_file"].str.endswith(name)].set_index(
        "point_id"
    )
    expected = baseline.loc[survey_table()["point_id"]]
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index]
    assert np.abs(got["x_vn2000"] - expected["x_vn2000"]).max() < tolerance
    assert np.abs(got["y_vn2000"] - expected["y_vn2000"]).max() < tolerance
    assert (got["geosite_code"] == expected["geosite_code"]).all()
    if kind in ("xlsx", "gpx", "shp", "gpkg", "geojson", "csv-dms", *EXPORTS):
        assert (got["survey_date"] == expected["survey_date"]).all()
    if kind in ("xlsx", "kml", "shp", "gpkg", *EXPORTS):
        assert (got["observation"] == expected["observation"]).all()
        assert (got["team"] == expected["team"]).all()
    if kind == "shp-cut-names":
        assert any(
            "cut to 10 characters" in n and "survey_dat -> survey_date" in n for n in result.notes
        )
    if kind == "xlsx-title-rows":
        assert any("the header is row 3" in n for n in result.notes)
        rows = got["source_row"].sort_values().tolist()
        assert rows[0] == 4  # spreadsheet numbering below the header on row 3


#: Office exports that must simply be read, with nothing configured for their quirks.
EXPORTS = ("shp-cut-names", "txt-utf16-unicode-text", "xlsx-title-rows")


def test_boundaries_from_mapinfo_tab_and_kml(write_config, tmp_path) -> None:
    tab = tmp_path / "districts.tab"
    subprocess.run(
        ["ogr2ogr", "-f", "MapInfo File", str(tab), str(RAW / "lang_son_districts.geojson")],
        check=True,
        capture_output=True,
    )
    extent = tmp_path / "park.kml"
    pyogrio.write_dataframe(gpd.read_file(RAW / "park_extent.geojson"), extent, driver="KML")

    def edit(raw):
        raw["inputs"]["districts"]["path"] = str(tab)
        raw["inputs"]["park_extent"]["path"] = str(extent)

    result = ingest(load_config(write_config(edit)))
    from .conftest import ROOT

    base = ingest(load_config(ROOT / "geopark.toml"))
    assert list(result.districts["district_name"]) == list(base.districts["district_name"])
    np.testing.assert_allclose(result.districts["area_ha"], base.districts["area_ha"], rtol=1e-5)
    np.testing.assert_allclose(result.park_extent.area, base.park_extent.area, rtol=1e-6)


# --- coordinates that contradict themselves -----------------------------------


def _csv(tmp: Path, rows: pd.DataFrame, name: str = "points.csv") -> dict:
    path = tmp / name
    rows.to_csv(path, index=False)
    return {"path": str(path), "crs": "EPSG:4326", "lon_column": "lon", "lat_column": "lat"}


def test_swapped_lat_lon_rows_are_rejected_as_swapped(write_config, tmp_path) -> None:
    t = survey_table()
    t.loc[[2, 5], ["lat", "lon"]] = t.loc[[2, 5], ["lon", "lat"]].to_numpy()
    t.loc[7, "lat"] = "106°44'E"  # a longitude, by its letter, in the latitude column
    result = _ingest_with(write_config, _csv(tmp_path, t))
    swapped = {r.row for r in result.rejections if "swapped" in r.message_en}
    assert swapped == {4, 7, 9}
    assert len(result.rejections) == 3


def test_swapped_x_y_in_another_vn2000_zone_names_the_expected_ranges(
    write_config, tmp_path
) -> None:
    spec = write_vn2000_other_zone_csv(tmp_path)
    spec["northing_column"], spec["easting_column"] = "Y", "X"
    result = _ingest_with(write_config, spec)
    swapped = [r for r in result.rejections if "X and Y look swapped" in r.message_en]
    assert len(swapped) == len(survey_table())
    assert "northing" in swapped[0].expected and "million m" in swapped[0].expected


def test_point_outside_the_province_gives_its_distance_to_the_park(write_config, tmp_path) -> None:
    t = survey_table()
    t.loc[0, ["lat", "lon"]] = ["21.0285", "105.8542"]  # Hà Nội
    result = _ingest_with(write_config, _csv(tmp_path, t))
    (r,) = result.rejections
    assert r.row == 2 and r.field == "geometry"
    km = float(r.message_en.split("province, ")[1].split(" km")[0])
    park = shapely.union_all(result.park_extent.geometry.values)
    hanoi = shapely.points(
        *pyproj.Transformer.from_crs(4326, 9215, always_xy=True).transform(105.8542, 21.0285)
    )
    assert km == pytest.approx(shapely.distance(hanoi, park) / 1000, abs=0.06)
    assert 60 < km < 200


# --- duplicates and contradictions --------------------------------------------


@pytest.mark.parametrize("policy", ["reject_all", "keep_first"])
def test_duplicate_point_ids_follow_the_configured_choice(policy, write_config, tmp_path) -> None:
    t = survey_table()
    t = pd.concat([t, t.iloc[[3]]], ignore_index=True)
    result = _ingest_with(write_config, _csv(tmp_path, t), duplicates=policy)
    dup = t.iloc[3]["point_id"]
    rows = sorted(r.row for r in result.rejections if r.value == dup)
    last = len(t) + 1
    assert rows == ([5, last] if policy == "reject_all" else [last])
    assert (dup in set(result.survey_points["point_id"])) == (policy == "keep_first")


@pytest.mark.parametrize("policy", ["warn", "reject"])
def test_two_geosites_at_the_same_place(policy, write_config, tmp_path) -> None:
    sites = pd.read_csv(RAW / "geosites.csv", dtype=str, keep_default_na=False)
    twin = sites.iloc[[0]].copy()
    twin["geosite_code"] = "LS-TP-99"
    twin["lat"] = str(float(twin["lat"].iloc[0]) + 0.00001)  # about 1 m north
    path = tmp_path / "geosites.csv"
    pd.concat([sites, twin]).to_csv(path, index=False)

    def edit(raw):
        raw["inputs"]["geosites"]["path"] = str(path)
        raw.setdefault("ingest", {})["same_place"] = policy

    result = ingest(load_config(write_config(edit)))
    pair = f"{sites['geosite_code'].iloc[0]} and LS-TP-99"
    if policy == "warn":
        assert any(pair in n and "WARNING" in n for n in result.notes)
        assert "LS-TP-99" in set(result.geosites["geosite_code"])
    else:
        codes = {r.record_id for r in result.rejections if pair in r.message_en}
        assert codes == {sites["geosite_code"].iloc[0], "LS-TP-99"}
        assert "LS-TP-99" not in set(result.geosites["geosite_code"])


@pytest.mark.parametrize("policy", ["warn", "reject"])
def test_survey_point_far_from_its_geosite(policy, write_config, tmp_path) -> None:
    t = survey_table()
    t.loc[0, "lat"] = str(float(t.loc[0, "lat"]) + 0.05)  # about 5.5 km north
    result = _ingest_with(write_config, _csv(tmp_path, t), far_point=policy)
    pid = t.loc[0, "point_id"]
    if policy == "warn":
        (note,) = [n for n in result.notes if pid in n]
        assert "from its geosite" in note and "row 2" in note
        assert pid in set(result.survey_points["point_id"])
    else:
        (r,) = [r for r in result.rejections if r.record_id == pid]
        assert r.row == 2 and "from its geosite" in r.message_en
        assert pid not in set(result.survey_points["point_id"])


def test_sample_has_no_ingest_warnings() -> None:
    from .conftest import ROOT

    result = ingest(load_config(ROOT / "geopark.toml"))
    assert not [n for n in result.notes if "WARNING" in n]


# --- boundary repair ---------------------------------------------------------


def _extent_with(tmp: Path, geom: shapely.Geometry) -> Path:
    path = tmp / "extent.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[geom], crs="EPSG:9215").to_file(path)
    return path


def test_invalid_extent_is_repaired_when_the_area_barely_changes(write_config, tmp_path) -> None:
    park = gpd.read_file(RAW / "park_extent.geojson").to_crs(9215)
    shell = shapely.get_exterior_ring(
        park.geometry.iloc[0].geoms[0]
        if park.geometry.iloc[0].geom_type == "MultiPolygon"
        else park.geometry.iloc[0]
    )
    coords = list(shell.coords)
    x, y = coords[0]
    # a 2 m self-crossing loop at the first vertex (a digitising slip)
    loop = [(x + 2, y + 2), (x + 2, y), (x, y + 2)]
    bad = shapely.Polygon([coords[0], *loop, *coords[1:]])
    assert not bad.is_valid
    path = _extent_with(tmp_path, bad)

    def edit(raw):
        raw["inputs"]["park_extent"]["path"] = str(path)

    result = ingest(load_config(write_config(edit)))
    assert result.park_extent.geometry.iloc[0].is_valid
    assert result.park_extent.area.iloc[0] == pytest.approx(shapely.Polygon(coords).area, rel=1e-6)
    assert any("invalid polygon repaired" in n and "Self-intersection" in n for n in result.notes)


def test_invalid_extent_whose_repair_changes_the_area_is_refused(write_config, tmp_path) -> None:
    bowtie = shapely.Polygon(
        [(400000, 2400000), (420000, 2420000), (420000, 2400000), (400000, 2420000)]
    )
    path = _extent_with(tmp_path, bowtie)

    def edit(raw):
        raw["inputs"]["park_extent"]["path"] = str(path)

    with pytest.raises(InputError) as info:
        ingest(load_config(write_config(edit)))
    assert info.value.row == 1 and info.value.field == "geometry"
    assert "refused" in info.value.message_en and "extent.geojson" in info.value.file


def test_trailing_empty_fields_on_any_row_are_read(tmp_path) -> None:
    """Spreadsheet exports pad rows with ',,'; padding is not a shifted value."""
    from pipeline.readers import read_text_table

    lines = (RAW / "survey_points_wgs84.csv").read_text("utf-8").splitlines()
    padded = [lines[0], lines[1], lines[2] + ",,", lines[3] + ",", *lines[4:]]
    path = tmp_path / "padded.csv"
    path.write_text("\n".join(padded) + "\n", "utf-8")
    frame, _ = read_text_table(path)
    original, _ = read_text_table(RAW / "survey_points_wgs84.csv")
    assert frame.drop(columns="_row").equals(original.drop(columns="_row"))
    assert frame["_row"].tolist() == original["_row"].tolist()


def test_header_row_setting_reads_a_table_below_notes(write_config) -> None:
    """The ambiguous case of tests/malformed: the setting the message names makes it readable."""
    from .conftest import ROOT

    path = ROOT / "tests" / "malformed" / "header_not_on_first_row.csv"
    spec = {"path": str(path), "crs": "EPSG:4326", "lon_column": "lon", "lat_column": "lat"}
    spec["header_row"] = 3
    result = _ingest_with(write_config, spec)
    mine = result.survey_points[result.survey_points["source_file"].str.endswith(path.name)]
    assert mine["point_id"].tolist() == ["LS-TP-01-P01"]
    assert mine["source_row"].tolist() == [4]


def test_line_breaks_in_quoted_cells_are_read_converted_and_listed(write_config, tmp_path):
    """A quoted cell spanning lines stays one row (Excel's numbering); the change is listed."""
    table = survey_table().head(4)
    table.loc[1, "observation"] = "passage\nwith speleothems"
    table.loc[2, "team"] = "  Ðội   khảo sát "
    table.loc[0, "observation"] = unicodedata.normalize("NFD", "Động Tam Thanh")
    path = tmp_path / "multiline.csv"
    table.to_csv(path, index=False)
    assert len(path.read_text("utf-8").splitlines()) == 6  # 5 rows + one line inside a cell
    spec = {"path": str(path), "crs": "EPSG:4326", "lon_column": "lon", "lat_column": "lat"}
    result = _ingest_with(write_config, spec)
    mine = result.survey_points[result.survey_points["source_file"].str.endswith(path.name)]
    by_id = mine.set_index("point_id")
    assert by_id.loc[table.loc[1, "point_id"], "observation"] == "passage with speleothems"
    assert by_id.loc[table.loc[3, "point_id"], "source_row"] == 5  # not 6: one row per record
    changes = [c for c in result.text_changes if c.file.endswith("multiline.csv")]
    assert [(c.row, c.field) for c in changes] == [
        (2, "observation"),
        (3, "observation"),
        (4, "team"),
    ]
    assert changes[0].change_en == "Unicode NFC (combining marks composed)"
    assert changes[0].after == unicodedata.normalize("NFC", "Động Tam Thanh")
    assert "line break" in changes[1].change_en and changes[1].before == "passage\nwith speleothems"
    assert "Ð" in changes[2].change_en and "whitespace" in changes[2].change_en
    assert changes[2].after == "Đội khảo sát"


def test_text_changes_are_in_the_qa_report(write_config, tmp_path) -> None:
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    table = survey_table().head(2)
    table.loc[0, "observation"] = "Ðá vôi\tPhai Vệ"
    path = tmp_path / "changed.csv"
    table.to_csv(path, index=False)

    def edit(raw):
        raw["inputs"]["survey_points"][0]["path"] = str(path)

    result = CliRunner().invoke(cli, ["zones", "--config", str(write_config(edit))])
    assert result.exit_code == 0, result.output
    md = (tmp_path / "processed" / "qa_report.md").read_text("utf-8")
    section = md.split("## Văn bản đầu vào đã thay đổi / Input text changed")[1]
    assert "| changed.csv | 2 | observation | 'Ðá vôi\\tPhai Vệ' | 'Đá vôi Phai Vệ' |" in section
    import json

    report = json.loads((tmp_path / "processed" / "qa_report.json").read_text("utf-8"))
    listed = [c for c in report["text_changes"] if c["file"] == "changed.csv"]
    assert listed == [
        {
            "file": "changed.csv",
            "row": 2,
            "field": "observation",
            "before": "Ðá vôi\tPhai Vệ",
            "after": "Đá vôi Phai Vệ",
            "change_vi": listed[0]["change_vi"],
            "change_en": "Ð/ð (Icelandic eth, U+00D0/U+00F0) replaced by Đ/đ (U+0110/U+0111); "
            "repeated or leading/trailing whitespace removed",
        }
    ]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_table_without_bom_is_detected(codec, tmp_path) -> None:
    from pipeline.readers import read_input

    path = tmp_path / "points.csv"
    path.write_bytes(survey_table().to_csv(index=False).encode(codec))
    result = read_input(path)
    assert result.encoding == codec
    frame = result.frame.drop(columns="_row").reset_index(drop=True)
    assert frame.equals(survey_table().astype(object))


def test_library_warnings_become_notes_or_are_dropped_with_a_reason() -> None:
    from pipeline.library_warnings import KNOWN, translate

    assert (
        translate("Workbook contains no default style, apply openpyxl's default", "a.xlsx") is None
    )
    note = translate(
        "Measured (M) geometry types are not supported. Original type 'PointM'", "p.shp"
    )
    assert note is not None and note.startswith("p.shp: ") and "measured (M) values" in note
    unknown = translate("Something\n  GDAL   said", "x.gpkg")
    assert unknown is not None and "the reading library reported: Something GDAL said" in unknown
    assert all(k.reason for k in KNOWN if k.message_en is None)  # every drop has its reason
