"""Numbers written the Vietnamese way and the English way, side by side.

Vietnamese text uses a decimal comma and a dot between thousands
(``1.234,56``); English text uses a decimal point and a comma between
thousands (``1,234.56``). Every user-facing text (sheets, dossiers, web
popups, summary) formats its numbers through these functions so the two
conventions never mix.
"""

from __future__ import annotations

import math

__all__ = ["bilingual_number", "both_numbers", "en_number", "vi_number"]


def _grouped(
    x: float, digits: int | None, thousands: str, decimal: str, signed: bool = False
) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if digits is None:  # as many digits as it takes (up to 6), no trailing zeros
        text = f"{x:,.6f}".rstrip("0").rstrip(".")
    else:
        text = f"{x:,.{max(digits, 0)}f}"
    if text.startswith("-") and not text.strip("-0.,"):
        text = text[1:]  # no "-0,0" from a tiny negative rounding to zero
    if signed and not text.startswith("-"):
        text = "+" + text
    return text.replace(",", "\0").replace(".", decimal).replace("\0", thousands)


def vi_number(
    x: float, digits: int | None = 0, *, thousands: str = ".", signed: bool = False
) -> str:
    """``x`` in the Vietnamese convention: decimal comma, dot between thousands.

    Parameters
    ----------
    x
        The number.
    digits
        Digits after the decimal comma; ``None``: as many as the number needs
        (up to 6), without trailing zeros (``0,5``).
    thousands
        The thousands separator: ``"."`` (default) or a narrow no-break
        space ``"\\u202f"``.
    signed
        Write a ``+`` before a positive number (a change).

    Examples
    --------
    >>> vi_number(1234.567, 2)
    '1.234,57'
    >>> vi_number(0.9999, 4)
    '0,9999'
    """
    return _grouped(x, digits, thousands, ",", signed)


def en_number(x: float, digits: int | None = 0, *, signed: bool = False) -> str:
    """``x`` in the English convention: decimal point, comma between thousands.

    >>> en_number(1234.567, 2)
    '1,234.57'
    """
    return _grouped(x, digits, ",", ".", signed)


def bilingual_number(x: float, digits: int = 0) -> tuple[str, str]:
    """``(vi_number(x, digits), en_number(x, digits))``."""
    return vi_number(x, digits), en_number(x, digits)


def both_numbers(x: float, digits: int | None = 0, unit: str = "", *, signed: bool = False) -> str:
    """``x`` the Vietnamese way, then the English way: ``'1.541,0 m / 1,541.0 m'``.

    For a text that is Vietnamese and English at once (a table cell under a
    bilingual header, a terminal line). When both conventions write the same
    (``'25'``), it is written once.

    >>> both_numbers(1234.5, 1, "ha")
    '1.234,5 ha / 1,234.5 ha'
    >>> both_numbers(7, 0, "m")
    '7 m'
    """
    tail = f" {unit}" if unit else ""
    vi, en = vi_number(x, digits, signed=signed), en_number(x, digits, signed=signed)
    return f"{vi}{tail}" if vi == en else f"{vi}{tail} / {en}{tail}"
