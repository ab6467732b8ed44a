"""QA checks that need a modified sample: contradictions put on the map."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from pipeline.config import load_config
from pipeline.run import compute

from .conftest import RAW, ROOT


def test_far_survey_point_is_a_mapped_warning(write_config, tmp_path) -> None:
    points = pd.read_csv(RAW / "survey_points_wgs84.csv", dtype=str)
    points.loc[0, "lat"] = str(float(points.loc[0, "lat"]) + 0.05)  # ~5.5 km north
    path = tmp_path / "points.csv"
    points.to_csv(path, index=False)

    def edit(raw):
        raw["inputs"]["survey_points"][0]["path"] = str(path)
        raw["ingest"]["max_point_distance_m"] = 3000.0
        raw["ingest"]["far_point"] = "warn"

    result = compute(load_config(write_config(edit)))
    far = [f for f in result.qa.findings if f.check == "far_survey_point"]
    assert [f.subject for f in far] == [f"survey point {points.loc[0, 'point_id']}"]
    assert far[0].severity == "warning" and far[0].location is not None
    assert result.qa.status == "pass"
    layer = result.layers["qa_findings"]
    assert (layer["check"] == "far_survey_point").sum() == 1


def test_ingest_prints_values_with_markup_literally(write_config, tmp_path) -> None:
    text = (
        (RAW / "geosites.csv")
        .read_text("utf-8")
        .replace(",cave,national,", ",[bold]cave[/bold],national,", 1)
    )
    path = tmp_path / "geosites.csv"
    path.write_text(text, "utf-8")
    config = write_config(lambda raw: raw["inputs"]["geosites"].update(path=str(path)))
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", "ingest", "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert proc.returncode == 1, proc.stderr
    assert "[bold]cave[/bold]" in proc.stdout
    assert "Traceback" not in proc.stderr
