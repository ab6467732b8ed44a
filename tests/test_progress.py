"""Every long step shows a bar with counts that reach their total (issue: national scale)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from pipeline.config import load_config
from pipeline.run import run_zones


@dataclass
class Bar:
    vi: str
    en: str
    total: int
    unit: str
    done: int = 0
    steps: list[int] = field(default_factory=list)


class RecordingProgress:
    """A reporter like the command line's: plain lines, and bars for counted steps."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.bars: list[Bar] = []

    def __call__(self, vi: str, en: str) -> None:
        self.lines.append((vi, en))

    @contextlib.contextmanager
    def counted(self, vi: str, en: str, total: int, unit: str):
        bar = Bar(vi, en, total, unit)
        self.bars.append(bar)

        def advance(n: int = 1) -> None:
            assert n >= 0
            bar.done += n
            bar.steps.append(n)

        yield advance


def test_reading_checking_placing_markers_and_writing_have_bars_that_fill(write_config) -> None:
    cfg = load_config(write_config())
    progress = RecordingProgress()
    result = run_zones(cfg, progress=progress)
    by_en = {bar.en: bar for bar in progress.bars}
    for bar in progress.bars:
        assert bar.done == bar.total, bar  # every bar ends full, never beyond
        assert " / " not in bar.vi and bar.vi != bar.en  # Vietnamese and English apart
    survey_csvs = [s.path.name for s in cfg.inputs.survey_points if s.path.suffix == ".csv"]
    assert survey_csvs
    for name in survey_csvs:
        reading = next(b for en, b in by_en.items() if en.startswith("Reading") and name in en)
        size_kb = -(-len(decoded_text(cfg, name)) // 1024)
        assert (reading.unit, reading.total) == ("kB", size_kb)
        for prefix, unit in (
            ("Normalising the text of", "ô/cells"),
            ("Reading the coordinates of", "giá trị/values"),
            ("Checking the fields of", "ô/cells"),
        ):
            bar = next(b for en, b in by_en.items() if en.startswith(prefix) and name in en)
            assert bar.unit == unit and bar.total > 0 and len(bar.steps) >= 2, bar
    markers = by_en["Boundary markers: the legal boundaries"]
    assert markers.unit == "đơn vị/units" and markers.total > 0
    assert [bar.en for bar in progress.bars][:1] == ["Reading and validating inputs"]
    layers = by_en["Writing the layers"]
    assert layers.unit == "đối tượng/features"
    assert layers.total == sum(len(layer) for layer in result.layers.values())
    assert len(layers.steps) == len(result.layers)  # a step per layer written


def decoded_text(cfg, name: str) -> str:
    """The decoded text of a survey file (the reading bar counts its kB)."""
    from pipeline.readers import _decode

    spec = next(s for s in cfg.inputs.survey_points if s.path.name == name)
    text, _ = _decode(spec.path.read_bytes(), spec.encoding, name)
    return text


def test_the_stage_lines_write_no_decimal_mark(capsys) -> None:
    """Vietnamese reads ``11.0`` as eleven thousand: times are ``m:ss``, rates grouped by
    thin spaces, as the bars' own elapsed column shows them."""
    from pipeline.cli.common import StageProgress, elapsed_stamp, rate_text

    assert elapsed_stamp(11.04) == "  0:11"
    assert elapsed_stamp(754.9) == " 12:34"
    assert rate_text(1234567.4) == "1\u202f234\u202f567/s"
    assert rate_text(None) == rate_text(0.0) == ""
    StageProgress()("Đọc", "Reading")
    line = capsys.readouterr().err
    assert line.split("•")[0].strip() == "0:00", line
