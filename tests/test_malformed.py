"""Failing well: every malformed input ends with a clear message and a non-zero exit.

Each file in ``tests/malformed/`` is run through ``geopark zones`` in place of
one input. The message must name the file and, where there is one, the row
and field, and say how to fix it; the exit code is 2 for an unusable file and
1 for rejected rows; there is never a traceback.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.cli.main import cli
from pipeline.config import load_config
from pipeline.errors import GeoparkError
from pipeline.ingest import ingest

from .conftest import ROOT

MALFORMED = Path(__file__).parent / "malformed"


def _points(path: str):
    def edit(raw):
        spec = raw["inputs"]["survey_points"][0]
        spec["path"] = path

    return edit


def _extent(path: str):
    def edit(raw):
        raw["inputs"]["park_extent"]["path"] = path

    return edit


def _points_vector(path: str):
    def edit(raw):
        raw["inputs"]["survey_points"][0] = {
            "path": path,
            "schema": raw["inputs"]["survey_points"][0]["schema"],
        }

    return edit


# file, how it replaces an input, exit code, text the message must hold (row/field/...)
CASES = {
    "empty.csv": (_points, 2, ["empty"]),
    "header_only.csv": (_points, 2, ["no data rows", "row/dòng: 2"]),
    "wrong_delimiter.csv": (_points, 2, ["separator", "row/dòng: 1"]),
    "non_numeric_coordinate.csv": (_points, 1, ["row 3", "lon", "'abc'"]),
    "missing_column.csv": (_points, 2, ["geosite_code", "row/dòng: 1", "columns = {"]),
    "decimal_commas_unquoted.csv": (_points, 2, ["row/dòng: 2", "fields", "comma inside a number"]),
    "minutes_over_60.csv": (_points, 1, ["row 2", "minutes must be below 60"]),
    "swapped_lat_lon.csv": (_points, 1, ["row 2", "swapped"]),
    "outside_province.csv": (
        _points,
        1,
        ["row 2", "outside Lạng Sơn province", "km from the park"],
    ),
    "binary.csv": (_points, 2, ["binary"]),
    "not_a_workbook.xlsx": (_points, 2, ["Excel workbook", "save it again as .xlsx"]),
    "truncated.geojson": (_points_vector, 2, ["GDAL cannot read"]),
    "polygons_as_points.geojson": (
        _points_vector,
        2,
        ["polygons where points were expected", "row/dòng: 1", "geometry"],
    ),
    "points_as_extent.geojson": (_extent, 2, ["not a polygon", "row/dòng: 1", "geometry"]),
    "self_intersecting_extent.geojson": (
        _extent,
        2,
        ["Self-intersection", "refused", "row/dòng: 1", "geometry"],
    ),
    "no_coordinate_marks.csv": (
        _points,
        1,
        [f"row {r}, field {f}" for r, f in ((2, "lat"), (3, "lon"), (4, "lon"), (5, "lat"))]
        + ["row 6, field lon", "row 7, field lon", "no coordinate"],
    ),
    "header_not_on_first_row.csv": (
        _points,
        2,
        ["row 3 looks like the column names", "header_row = 3", "row/dòng: 3"],
    ),
    "code_in_wrong_format.csv": (_points, 1, ["row 2", "geosite_code", "like LS-TP-01"]),
    "tracks_only.gpx": (
        _points_vector,
        2,
        ["no waypoints", "tracks (1)", "routes (1)", "field/trường: layer"],
    ),
    "metres_declared_as_wgs84.geojson": (
        _points_vector,
        2,
        ["declares EPSG:4326 (WGS 84) (degrees) but its numbers are metres", 'crs = "EPSG:9215"'],
    ),
}

#: Text that must never reach the user for a case (diagnoses that would be wrong).
NEVER = {
    "no_coordinate_marks.csv": ["swapped", "hemisphere"],
    "code_in_wrong_format.csv": ["[A-Z]", "{1,6}"],
    "metres_declared_as_wgs84.geojson": ["PROJCRS", "GEOGCRS", "DATUM["],
}


def run_cli(config: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["zones", "--config", str(config)])
    return result.exit_code, result.output + (
        result.stderr if result.stderr_bytes is not None else ""
    )


def _assert_well_failed(
    code: int, output: str, expected_code: int, file: str, needles: list[str]
) -> None:
    assert code == expected_code, output
    assert "Traceback" not in output and "Internal error" not in output, output
    assert file in output, output
    for needle in needles:
        assert needle in output, (needle, output)
    if expected_code == 2:
        assert "Fix:" in output and "Cách sửa:" in output and "Error:" in output


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_file_fails_well(name, write_config) -> None:
    make_edit, expected_code, needles = CASES[name]
    code, output = run_cli(write_config(make_edit(str(MALFORMED / name))))
    _assert_well_failed(code, output, expected_code, name, needles)
    for wrong in NEVER.get(name, []):
        assert wrong not in output, (wrong, output)


def test_a_folder_instead_of_a_file(write_config, tmp_path) -> None:
    folder = tmp_path / "survey_points"
    folder.mkdir()
    code, output = run_cli(write_config(_points(str(folder))))
    _assert_well_failed(
        code, output, 2, "survey_points", ["folder, not a file", "field/trường: path"]
    )


def test_wrong_sheet_name(write_config, tmp_path) -> None:
    path = tmp_path / "points.xlsx"
    pd.read_csv(ROOT / "data" / "raw" / "survey_points_wgs84.csv", dtype=str).to_excel(
        path, sheet_name="Sheet1", index=False
    )

    def edit(raw):
        raw["inputs"]["survey_points"][0]["path"] = str(path)
        raw["inputs"]["survey_points"][0]["sheet"] = "Khảo sát"

    code, output = run_cli(write_config(edit))
    _assert_well_failed(
        code, output, 2, "points.xlsx", ["no sheet 'Khảo sát'", "Sheet1", "field/trường: sheet"]
    )


def test_column_mapping_to_a_missing_column(write_config) -> None:
    def edit(raw):
        raw["inputs"]["survey_points"][0]["columns"] = {"observation": "desc"}

    code, output = run_cli(write_config(edit))
    _assert_well_failed(
        code, output, 2, "survey_points_wgs84.csv", ["no column 'desc'", "columns.observation"]
    )


def test_column_mapping_is_validated_in_the_configuration(write_config) -> None:
    def edit(raw):
        raw["inputs"]["survey_points"][0]["columns"] = {"point_id": ""}

    code, output = run_cli(write_config(edit))
    assert code == 2 and "columns" in output and "Traceback" not in output


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "name", ["header_only.csv", "self_intersecting_extent.geojson", "binary.csv"]
)
def test_bad_input_leaves_previous_outputs_untouched(name, write_config, tmp_path) -> None:
    """A good run, then a bad one with the same output folder, in a real process."""
    good = write_config(None, name="good.toml")
    subprocess.run(
        [sys.executable, "-m", "pipeline", "zones", "--config", str(good)],
        check=True,
        capture_output=True,
    )
    out = tmp_path / "processed"
    before = _hashes(out)
    assert "geopark.gpkg" in before
    make_edit = CASES[name][0]
    bad = write_config(make_edit(str(MALFORMED / name)), name="bad.toml")
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "zones", "--config", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and name in proc.stderr
    assert _hashes(out) == before


# --- property: no generated input makes ingest raise anything but the project's error


CELL = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="0123456789.,-°'\" NSEW", max_size=14),
    st.floats(min_value=-200, max_value=200).map(str),
    st.sampled_from(["21.85", "106.75", "LS-TP-01", "2024-03-01", "", "nan", "2418576", "Đội"]),
)
ROW = st.fixed_dictionaries(
    {
        "point_id": st.one_of(st.sampled_from(["P1", "P2", "P1"]), st.text(max_size=8)),
        "geosite_code": st.sampled_from(["LS-TP-01", "LS-XX-99", "", "bad code"]),
        "lat": CELL,
        "lon": CELL,
        "observation": CELL,
        "survey_date": CELL,
        "team": CELL,
    }
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(ROW, max_size=6),
    header=st.permutations(
        ["point_id", "geosite_code", "lat", "lon", "observation", "survey_date", "team"]
    ),
    sep=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1258"]),
)
def test_generated_rows_never_make_ingest_crash(
    rows, header, sep, encoding, write_config, tmp_path
) -> None:
    frame = pd.DataFrame(rows, columns=list(header))
    path = tmp_path / "generated.csv"
    path.write_bytes(frame.to_csv(index=False, sep=sep).encode(encoding, errors="replace"))
    config = write_config(_points(str(path)), name="generated.toml")
    try:
        result = ingest(load_config(config))
    except GeoparkError as exc:
        assert exc.message_en and exc.file
        return
    mine = result.survey_points["source_file"].str.endswith("generated.csv")
    kept = set(result.survey_points.loc[mine, "source_row"])
    rejected = {r.row for r in result.rejections if r.file.endswith("generated.csv")}
    assert not (rejected & kept)  # a row is either kept or rejected, never both
    if not any("\n" in str(v) or "\r" in str(v) for row in rows for v in row.values()):
        filled = {i + 2 for i, row in enumerate(rows) if any(str(v).strip() for v in row.values())}
        assert filled <= kept | rejected  # and no filled row disappears silently


# --- files made by the test: shapefile parts, layers, CRS labels, workbooks


def _survey_points_gdf(crs: str = "EPSG:4326"):
    import geopandas as gpd
    import shapely

    table = pd.read_csv(ROOT / "data" / "raw" / "survey_points_wgs84.csv", dtype=str).head(3)
    frame = gpd.GeoDataFrame(
        table.drop(columns=["lat", "lon"]),
        geometry=shapely.points(table["lon"].astype(float), table["lat"].astype(float)),
        crs="EPSG:4326",
    )
    return frame.to_crs(crs)


@pytest.mark.parametrize(
    ("part", "how", "needles"),
    [
        (
            ".dbf",
            "missing",
            ["lacks its points.dbf file (the attribute table)", "field/trường: .dbf"],
        ),
        (
            ".shx",
            "missing",
            ["lacks its points.shx file (the geometry index)", "field/trường: .shx"],
        ),
        (".prj", "missing", ["lacks its points.prj file (its CRS)", 'crs = "EPSG:9215"']),
        (".dbf", "empty", ["points.dbf is empty (0 bytes)", "field/trường: .dbf"]),
        (".prj", "empty", ["points.prj is empty (0 bytes)", "field/trường: .prj"]),
    ],
)
def test_shapefile_with_a_missing_or_empty_part(part, how, needles, write_config, tmp_path):
    folder = tmp_path / "shp"
    folder.mkdir()
    _survey_points_gdf().to_file(folder / "points.shp", engine="pyogrio")
    target = folder / f"points{part}"
    if how == "missing":
        target.unlink()
    else:
        target.write_bytes(b"")
    code, output = run_cli(write_config(_points_vector(str(folder / "points.shp"))))
    _assert_well_failed(code, output, 2, "points.shp", needles)


def test_geopackage_with_several_layers_lists_them(write_config, tmp_path) -> None:
    path = tmp_path / "survey.gpkg"
    _survey_points_gdf().to_file(path, layer="diem_khao_sat", engine="pyogrio")
    _survey_points_gdf().to_file(path, layer="diem_cu_2019", engine="pyogrio")
    code, output = run_cli(write_config(_points_vector(str(path))))
    _assert_well_failed(
        code,
        output,
        2,
        "survey.gpkg",
        ['2 layers: "diem_khao_sat", "diem_cu_2019"', 'layer = "diem_khao_sat"', "layer"],
    )
    assert "More than one layer" not in output  # pyogrio's own warning never shows


def test_geopackage_with_qgis_styles_is_one_layer(write_config, tmp_path) -> None:
    """QGIS's layer_styles table beside the data is not a layer to choose."""
    path = tmp_path / "styled.gpkg"
    styles = pd.DataFrame({"f_table_name": ["diem_khao_sat"], "styleQML": ["<qgis/>"]})
    pyogrio.write_dataframe(styles, path, layer="layer_styles")
    _survey_points_gdf().to_file(path, layer="diem_khao_sat", engine="pyogrio")
    code, output = run_cli(write_config(_points_vector(str(path))))
    assert code == 0, output


#: The .prj ArcGIS writes for "TM-3 107°15′" built on its WGS 84 geographic CRS.
ARCGIS_TM3_ON_WGS84 = (
    'PROJCS["WGS_1984_TM3_107_15",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",107.25],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


def test_vn2000_parameters_on_the_wgs84_datum_are_refused(write_config, tmp_path) -> None:
    """ArcGIS's 'WGS 84 / TM-3 107°15′' label on VN-2000 numbers: never a silent 200 m shift."""
    path = tmp_path / "arcgis.shp"
    _survey_points_gdf("EPSG:9215").to_file(path, engine="pyogrio")
    path.with_suffix(".prj").write_text(ARCGIS_TM3_ON_WGS84)  # as ArcGIS writes it
    code, output = run_cli(write_config(_points_vector(str(path))))
    _assert_well_failed(
        code,
        output,
        2,
        "arcgis.shp",
        ["107°15′ k=0.9999 on the WGS 84 datum", "VN-2000 TM-3", 'crs = "EPSG:9215"', "200 m"],
    )
    assert "PROJCRS" not in output and "PROJCS" not in output

    def declared(raw):  # the fix the message gives is accepted
        _points_vector(str(path))(raw)
        raw["inputs"]["survey_points"][0]["crs"] = "EPSG:9215"

    code, output = run_cli(write_config(declared, name="fixed.toml"))
    assert code == 0, output


def test_workbook_warnings_of_openpyxl_never_reach_the_user(write_config, tmp_path) -> None:
    """A workbook from another program (no cell styles): openpyxl warns, the user sees nothing."""
    source = tmp_path / "plain.xlsx"
    pd.read_csv(ROOT / "data" / "raw" / "survey_points_wgs84.csv", dtype=str).to_excel(
        source, index=False
    )
    path = tmp_path / "other_program.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/styles.xml":
                data = re.sub(rb"<cellStyles.*?</cellStyles>", b"", data, flags=re.S)
            dst.writestr(item, data)
    with warnings.catch_warnings(record=True) as caught:  # the file really makes openpyxl warn
        warnings.simplefilter("always")
        import openpyxl

        openpyxl.load_workbook(path, read_only=True).close()
    assert any("style" in str(w.message) for w in caught)

    def edit(raw):
        raw["inputs"]["survey_points"][0]["path"] = str(path)

    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "zones", "--config", str(write_config(edit))],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "openpyxl" not in proc.stderr, proc.stderr


def test_rejected_register_row_lists_its_dependents_as_consequences(write_config, tmp_path):
    register = pd.read_csv(ROOT / "data" / "raw" / "geosites.csv", dtype=str)
    register.loc[register["geosite_code"] == "LS-TP-01", "category"] = "grotto"
    path = tmp_path / "geosites.csv"
    register.to_csv(path, index=False)

    def edit(raw):
        raw["inputs"]["geosites"]["path"] = str(path)

    code, output = run_cli(write_config(edit))
    assert code == 1, output
    cause = [ln for ln in output.splitlines() if "geosites.csv row 2, field category" in ln]
    assert len(cause) == 1, output
    assert "held as a consequence: " in cause[0]
    assert "survey_points_wgs84.csv row 2 (LS-TP-01-P01)" in cause[0]
    assert "assessment_sample.csv row" in cause[0]
    # the dependents are no separate faults
    assert not [ln for ln in output.splitlines() if "survey_points_wgs84.csv row 2," in ln]
    report = (tmp_path / "processed" / "failed_run" / "qa_report.md").read_text("utf-8")
    assert re.search(r"\| ↳ \S*survey_points_wgs84.csv \| 2 \| geosite_code \|", report)
    assert "consequence: the register row of geosite LS-TP-01 was rejected" in report


def test_invalid_district_polygon_is_named_by_its_district(write_config, tmp_path) -> None:
    import geopandas as gpd
    import shapely

    districts = gpd.read_file(ROOT / "data" / "raw" / "lang_son_districts.geojson")
    i = int(np.flatnonzero(districts["NAME_3"] == "Hữu Lung")[0])
    x0, y0, x1, y1 = districts.geometry.iloc[i].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    districts.loc[districts.index[i], "geometry"] = bowtie
    path = tmp_path / "districts.geojson"
    districts.to_file(path, engine="pyogrio")

    def edit(raw):
        raw["inputs"]["districts"]["path"] = str(path)

    code, output = run_cli(write_config(edit))
    _assert_well_failed(
        code, output, 2, "districts.geojson", [f"'Hữu Lung' (feature {i + 1})", "Self-intersection"]
    )
