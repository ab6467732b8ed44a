"""Failing well: every malformed input ends with a clear message and a non-zero exit.

Each file in ``tests/malformed/`` is run through ``geopark zones`` in place of
one input. The message must name the file and, where there is one, the row
and field, and say how to fix it; the exit code is 2 for an unusable file and
1 for rejected rows; there is never a traceback.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
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
