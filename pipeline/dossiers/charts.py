"""Charts of the heritage summary (matplotlib, Agg backend, PNG files).

Each function takes the summary data (see :func:`content.summary_data`) and a
target path and draws one figure; labels are bilingual. DejaVu Sans, which
matplotlib ships, covers Vietnamese diacritics.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pipeline.assessment import HIGH_ABOVE, LOW_BELOW, MAX_VALUE, VALUE_COLUMNS

ZONE_COLOURS = {"I": "#c0392b", "II": "#f5b041"}
VALUE_COLOURS = ["#1f618d", "#239b56", "#b9770e", "#922b21"]


def _plain_text(draw: Callable[..., Path]) -> Callable[..., Path]:
    """Draw with mathtext and TeX off: labels from the data (district names...) are
    text, so "$x$" keeps its dollars and a stray "$" or "\\" cannot break a chart."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Path:
        with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
            return draw(*args, **kwargs)

    return wrapper


def _save(fig: plt.Figure, path: Path, dpi: int) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


@_plain_text
def counts_chart(summary: dict[str, Any], path: Path, dpi: int = 150) -> Path:
    """Geosites by category and by significance, side by side."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6))
    cats = summary["by_category"]
    left.barh(
        [c["label"] for c in cats],
        [c["count"] for c in cats],
        color="#5d6d7e",
    )
    left.invert_yaxis()
    left.set_title("Theo loại hình / by category", fontsize=10)
    sig = summary["by_significance"]
    right.bar(
        [s["label"].replace(" / ", "\n") for s in sig],
        [s["count"] for s in sig],
        color="#2e86c1",
    )
    right.set_title("Theo tầm quan trọng / by significance", fontsize=10)
    for ax in (left, right):
        ax.tick_params(labelsize=8)
        ax.grid(axis="x" if ax is left else "y", alpha=0.3)
    fig.suptitle(
        f"Số điểm di sản địa chất / number of geosites (n = {summary['n_geosites']}; "
        f"không kể {summary['n_cultural_sites']} điểm di sản văn hóa / "
        f"cultural sites not included)",
        fontsize=10,
    )
    return _save(fig, path, dpi)


@_plain_text
def district_areas_chart(summary: dict[str, Any], path: Path, dpi: int = 150) -> Path:
    """Zone I and Zone II area (ha) per district, stacked; districts without zones left out."""
    rows = [r for r in summary["areas_by_district"] if r["total_ha"] > 0]
    fig, ax = plt.subplots(figsize=(9, 3.8))
    labels = [r["district_name"] for r in rows]
    zi = [r["zone_i_ha"] for r in rows]
    zii = [r["zone_ii_ha"] for r in rows]
    ax.bar(labels, zi, color=ZONE_COLOURS["I"], label="Vùng I / Zone I")
    ax.bar(labels, zii, bottom=zi, color=ZONE_COLOURS["II"], label="Vùng II / Zone II")
    ax.set_ylabel("ha")
    ax.set_title("Diện tích vùng bảo vệ theo huyện / protected area per district", fontsize=11)
    ax.legend(fontsize=8)
    ax.tick_params(axis="x", labelsize=8, rotation=20)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path, dpi)


@_plain_text
def ranking_chart(summary: dict[str, Any], path: Path, dpi: int = 150) -> Path:
    """SV, PEU, PTU and DR per geosite, in ranking order (0-400)."""
    rows = summary["ranking"]
    fig, ax = plt.subplots(figsize=(9, 4.2))
    keys = [
        (VALUE_COLUMNS["SV"], "SV – giá trị khoa học / scientific"),
        (VALUE_COLUMNS["PEU"], "PEU – giáo dục / educational"),
        (VALUE_COLUMNS["PTU"], "PTU – du lịch / touristic"),
        (VALUE_COLUMNS["DR"], "DR – nguy cơ suy thoái / degradation risk"),
    ]
    width = 0.2
    xs = range(len(rows))
    for i, (key, label) in enumerate(keys):
        ax.bar(
            [x + (i - 1.5) * width for x in xs],
            [r[key] for r in rows],
            width,
            label=label,
            color=VALUE_COLOURS[i],
        )
    ax.axhline(LOW_BELOW, color="grey", lw=0.8, ls="--")
    ax.axhline(HIGH_ABOVE, color="grey", lw=0.8, ls=":")
    ax.set_xticks(list(xs), [r["geosite_code"] for r in rows], rotation=90, fontsize=7)
    ax.set_ylim(0, MAX_VALUE)
    ax.set_ylabel("0–400 (Brilha 2016)")
    title = "Xếp hạng đánh giá định lượng / assessment ranking"
    if summary.get("assessment_illustrative"):
        title += " — MINH HỌA / ILLUSTRATIVE"
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=7, ncols=2)
    return _save(fig, path, dpi)
