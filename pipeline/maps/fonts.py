"""The fonts the sheets are set in, shipped with the package.

Vietnamese needs a font with its stacked diacritics (ắ, ổ, ự, Đ...). The
project ships Noto Sans (and DejaVu Sans as a fallback for symbols) in
``pipeline/fonts`` and registers them with matplotlib, so a sheet looks the
same on every machine, whatever fonts that machine has.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from matplotlib import font_manager

FONT_DIR = Path(__file__).resolve().parents[1] / "fonts"
FAMILY = "Noto Sans"
FALLBACK = "DejaVu Sans"


@functools.cache
def register_fonts() -> tuple[str, ...]:
    """Add the shipped TTF files to matplotlib's font manager (once).

    Returns
    -------
    tuple of str
        The registered font files.
    """
    files = sorted(FONT_DIR.glob("*.ttf"))
    if not files:
        raise FileNotFoundError(f"no fonts in {FONT_DIR}: the package is incomplete")
    for path in files:
        font_manager.fontManager.addfont(str(path))
    return tuple(str(p) for p in files)


def rc_params() -> dict[str, Any]:
    """matplotlib settings for a sheet: shipped fonts, embedded as TrueType.

    Type 42 embedding keeps the text real text in the PDF (searchable, and
    extractable with its diacritics) instead of drawn glyph outlines.
    """
    register_fonts()
    return {
        "font.family": [FAMILY, FALLBACK],
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "axes.unicode_minus": False,
        "pdf.compression": 6,
        "path.simplify": False,  # keep drawn lengths exact (scale bar, grid)
        # names are text, never mathtext: "$x$" is shown with its dollars, and a
        # stray "$\\" cannot break a sheet
        "text.parse_math": False,
        "text.usetex": False,
    }
