"""Numbers written the Vietnamese way and the English way, side by side.

Vietnamese text uses a decimal comma and a dot between thousands
(``1.234,56``); English text uses a decimal point and a comma between
thousands (``1,234.56``). Every user-facing text (sheets, dossiers, web
popups, summary) formats its numbers through these functions so the two
conventions never mix.
"""

from __future__ import annotations

import math

__all__ = ["bilingual_number", "en_number", "vi_number"]


def _grouped(x: float, digits: int, thousands: str, decimal: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    text = f"{x:,.{max(digits, 0)}f}"
    if text in {"-0", "-0." + "0" * digits}:
        text = text[1:]  # no "-0,0" from a tiny negative rounding to zero
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def vi_number(x: float, digits: int = 0, *, thousands: str = ".") -> str:
    """``x`` in the Vietnamese convention: decimal comma, dot between thousands.

    Parameters
    ----------
    x
        The number.
    digits
        Digits after the decimal comma.
    thousands
        The thousands separator: ``"."`` (default) or a narrow no-break
        space ``"\\u202f"``.

    Examples
    --------
    >>> vi_number(1234.567, 2)
    '1.234,57'
    >>> vi_number(0.9999, 4)
    '0,9999'
    """
    return _grouped(x, digits, thousands, ",")


def en_number(x: float, digits: int = 0) -> str:
    """``x`` in the English convention: decimal point, comma between thousands.

    >>> en_number(1234.567, 2)
    '1,234.57'
    """
    return _grouped(x, digits, ",", ".")


def bilingual_number(x: float, digits: int = 0) -> tuple[str, str]:
    """``(vi_number(x, digits), en_number(x, digits))``."""
    return vi_number(x, digits), en_number(x, digits)
