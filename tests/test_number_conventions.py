"""Numbers in the run's Vietnamese texts the Vietnamese way, the English texts their own way.

The QA summary printed by ``geopark check``/``zones``, the QA report, the
findings and ``geopark zone``'s table are read from a real run on the sample
data; the change report's Markdown from a report with known values.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from pipeline.changes import change_markdown
from pipeline.cli.main import cli
from pipeline.numbers import both_numbers, en_number, vi_number
from pipeline.report import summary_lines

#: an English decimal in a Vietnamese text: a point followed by 1, 2 or 4+ digits
#: (the Vietnamese point only ever separates groups of three), or "1,234.5"
ENGLISH_IN_VI = re.compile(r"\d\.(\d{1,2}|\d{4,})(?!\d)|\d,\d{3}\.\d")
#: a Vietnamese decimal in an English text: "12,35" (a comma before 1, 2 or 4+ digits)
VI_IN_ENGLISH = re.compile(r"\d,(\d{1,2}|\d{4,})(?!\d)|\d\.\d{3},\d")


def halves(line: str) -> tuple[str, str]:
    """A line written 'Vietnamese / English' cut at its last ' / '."""
    vi, sep, en = line.rpartition(" / ")
    assert sep, line
    return vi, en


def test_patterns_tell_the_conventions_apart() -> None:
    assert ENGLISH_IN_VI.search("4,842.58 km²") and not ENGLISH_IN_VI.search("4.842,58 km²")
    assert ENGLISH_IN_VI.search("12.35 ha") and not ENGLISH_IN_VI.search("1.234 ha")
    assert VI_IN_ENGLISH.search("12,35 ha") and not VI_IN_ENGLISH.search("1,234.57 ha")


def test_printed_summary_writes_each_language_its_way(sample_run) -> None:
    _cfg, result = sample_run
    report = result.report
    park = report["totals"]["park"]
    lines = summary_lines(report)
    area_line = next(line for line in lines if line.startswith("Diện tích công viên"))
    vi, en = halves(area_line)
    assert f"{vi_number(report['park_area_km2'], 2)} km² (phẳng)" in vi
    assert f"công bố {vi_number(report['declared_area_km2'], 2)} km²" in vi
    assert f"{en_number(report['park_area_km2'], 2)} km² (planar)" in en
    assert f"declared {en_number(report['declared_area_km2'], 2)} km²" in en
    zone_line = next(line for line in lines if line.startswith("Vùng I "))
    vi, en = halves(zone_line)
    assert f"Vùng I {vi_number(park['zone_i_ha'], 2)} ha" in vi
    assert f"{vi_number(park['protected_share_pct'], 3)} % công viên" in vi
    assert f"Zone I {en_number(park['zone_i_ha'], 2)} ha" in en
    for line in (area_line, zone_line):
        vi, en = halves(line)
        assert not ENGLISH_IN_VI.search(vi), vi
        assert not VI_IN_ENGLISH.search(en), en
    # the declared 4,842.58 km² of the sample: a number with thousands and decimals
    assert "4.842,58 km²" in area_line and "4,842.58 km²" in area_line


def test_every_finding_and_the_qa_report_follow_the_conventions(sample_run) -> None:
    cfg, result = sample_run
    findings = result.report["findings"]
    numbered = [f for f in findings if re.search(r"\d[.,]\d", f["message_vi"])]
    assert len(numbered) >= 3  # park areas, protected share, ...: the check has something to see
    for finding in findings:
        assert not ENGLISH_IN_VI.search(finding["message_vi"]), finding
        assert not VI_IN_ENGLISH.search(finding["message"]), finding
    share = next(f for f in findings if f["check"] == "protected_share")
    park = result.report["totals"]["park"]
    assert vi_number(park["zone_ii_ha"], 2) in share["message_vi"]
    assert en_number(park["zone_ii_ha"], 2) in share["message"]
    markdown = (cfg.outputs.directory / cfg.outputs.qa_markdown).read_text("utf-8")
    assert f"| {both_numbers(result.report['declared_area_km2'], 2)} |" in markdown
    park_wide = next(line for line in markdown.splitlines() if line.startswith("Toàn công viên"))
    vi, en = halves(park_wide)
    assert f"vùng I **{vi_number(park['zone_i_ha'], 2)} ha**" in vi and not ENGLISH_IN_VI.search(vi)
    assert f"Zone I **{en_number(park['zone_i_ha'], 2)} ha**" in en and not VI_IN_ENGLISH.search(en)
    for district in result.report["totals"]["per_district"]:
        assert f"| {both_numbers(district['zone_ii_ha'], 2)} |" in markdown


def test_zone_command_prints_areas_both_ways(sample_run) -> None:
    cfg, _result = sample_run
    printed = CliRunner().invoke(cli, ["zone", "--config", str(cfg.source)])
    assert printed.exit_code == 0, printed.output
    lines = printed.output.splitlines()
    assert any("ha (vi)" in line and "ha (en)" in line for line in lines)
    rows = [line.split() for line in lines if line.startswith("LS-")]
    assert len(rows) >= 10
    for row in rows:
        vi, en = row[2], row[3]
        value = float(en.replace(",", ""))
        assert vi == vi_number(value, 2) and en == en_number(value, 2), row
    # the sample has zones of hundreds of ha: the decimal separators are there to see
    assert any("," in row[2] and "." in row[3] for row in rows)


def test_change_report_markdown_numbers() -> None:
    report = {
        "compared": True,
        "previous": "old.gpkg",
        "thresholds": {"area_change_ha": 0.0001, "marker_moved_m": 1.5},
        "summary": {},
        "units_added": [],
        "units_removed": [],
        "area_changes": [
            {
                "unit_code": "LS-CL-03",
                "zone_class": "II",
                "before_ha": 1234.5678,
                "after_ha": 1300.25,
                "change_ha": 65.6822,
                "change_pct": 5.32,
            }
        ],
        "cluster_changes": [],
        "markers_moved": [
            {
                "unit_code": "LS-CL-03",
                "label": "II-4",
                "distance_m": 12.5,
                "x_before": 2412345.67,
                "y_before": 456789.01,
                "x_after": 2412350.0,
                "y_after": 456800.5,
            }
        ],
        "markers_added": [],
        "markers_removed": [],
        "adjustments_review": [],
        "conflicts_new": [],
        "conflicts_resolved": [],
    }
    markdown = change_markdown(report)
    assert "| 1.234,5678 / 1,234.5678 | 1.300,25 / 1,300.25 | 65,6822 / 65.6822 |" in markdown
    assert "| 5,32 / 5.32 |" in markdown
    # marker coordinates keep their centimetres, both ways
    assert "| 2.412.345,67 / 2,412,345.67 | 456.789,01 / 456,789.01 |" in markdown
    assert "Ngưỡng: diện tích > 0,0001 ha; mốc > 1,5 m / thresholds: area > 0.0001 ha" in markdown


@pytest.mark.parametrize("value", [0.5, 1234.5678, -3.25])
def test_both_numbers_puts_vietnamese_first(value: float) -> None:
    vi, en = halves(both_numbers(value, 2, "ha"))
    assert vi == f"{vi_number(value, 2)} ha" and en == f"{en_number(value, 2)} ha"
