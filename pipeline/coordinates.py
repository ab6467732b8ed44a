"""Coordinates as people type them: decimal degrees, DMS, metres.

Field teams write latitudes and longitudes in many ways::

    21.846717      21,846717      21°50'48.1"N      N21°50'48.1"
    21 50 48.1     21°50.802'     21:50:48.1        21d50m48.1s      -106.5

and VN-2000 metres as ``2418576.00``, ``2418576,00``, ``2 418 576,00`` or
``2.418.576,00``. :func:`parse_angle` and :func:`parse_metres` read one value
or raise :class:`CoordinateError` (a :class:`~pipeline.errors.GeoparkError`)
saying what is wrong; :func:`parse_column` does a whole column and returns the
reasons instead of raising. Hemisphere letters are upper case (``N S E W``);
``d``/``m``/``s`` are the lower-case unit letters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from pipeline.errors import GeoparkError
from pipeline.vntext import JoinedLines, text_cells

Axis = Literal["lat", "lon"]
LIMITS = {"lat": 90.0, "lon": 180.0}
HEMISPHERES = {"lat": {"N": 1, "S": -1}, "lon": {"E": 1, "W": -1}}


@dataclass
class CoordinateError(GeoparkError):
    """A coordinate value that cannot be read; ``kind`` says why.

    ``kind`` is ``format`` (not a coordinate), ``range`` (outside the valid
    range), or ``swapped`` (a hemisphere letter of the other axis).
    """

    kind: str = "format"
    exit_code: int = 1


_NUMBER = r"(\d+(?:\.\d+)?)"
_DEG = r"(?:\s*[°º˚d]\s*|\s*:\s*|\s+)"
_MIN = r"(?:\s*['m]\s*|\s*:\s*|\s+)"
_PLAIN_DECIMAL = r"-?[0-9]+(?:\.[0-9]+)?"
_PATTERNS = (  # degrees; degrees and minutes; degrees, minutes and seconds
    re.compile(rf"{_NUMBER}\s*[°º˚d]?"),
    re.compile(rf"{_NUMBER}{_DEG}{_NUMBER}\s*['m]?"),
    re.compile(rf"{_NUMBER}{_DEG}{_NUMBER}{_MIN}{_NUMBER}\s*(?:\"|s)?"),
)
# Typographic look-alikes -> the plain marks the patterns use.
_MARKS = str.maketrans(
    {
        "′": "'",
        "’": "'",
        "‘": "'",
        "´": "'",
        "`": "'",
        "″": '"',
        "”": '"',
        "“": '"',
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
    }
)


def _error(text: object, en: str, vi: str, kind: str = "format") -> CoordinateError:
    return CoordinateError(vi, f"{en}: {text!r}", field=None, kind=kind)


def _clean(text: object) -> str:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        raise _error(text, "empty coordinate", "tọa độ trống")
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if not math.isfinite(float(text)):
            raise _error(text, "not a finite number", "không phải số hữu hạn")
        return repr(float(text))
    s = str(text).translate(_MARKS).strip()
    if not s:
        raise _error(text, "empty coordinate", "tọa độ trống")
    s = s.replace("''", '"')
    return re.sub(r"(\d),(\d)", r"\1.\2", s)  # decimal comma


def parse_angle(text: object, axis: Axis) -> float:
    """Read one latitude or longitude in decimal degrees.

    Parameters
    ----------
    text
        The value as typed (or a number).
    axis
        ``"lat"`` or ``"lon"``: sets the valid range and hemisphere letters.

    Returns
    -------
    float
        Decimal degrees, negative for S/W.

    Raises
    ------
    CoordinateError
        ``kind="swapped"`` for a hemisphere letter of the other axis (E/W in
        a latitude column), ``"range"`` beyond ±90/±180 or minutes/seconds
        of 60 or more, ``"format"`` otherwise.
    """
    s = _clean(text)
    sign = 1.0
    letter = None
    m = re.fullmatch(r"([NSEW])\s*(.+)", s) or re.fullmatch(r"(.+?)\s*([NSEW])", s)
    if m:
        first, second = m.groups()
        letter, s = (first, second) if first in "NSEW" and len(first) == 1 else (second, first)
        s = s.strip()
    if s[:1] in "+-":
        if letter is not None:
            raise _error(
                text, "both a sign and a hemisphere letter", "vừa có dấu vừa có chữ bán cầu"
            )
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:].strip()
    if letter is not None:
        other = "lon" if axis == "lat" else "lat"
        if letter in HEMISPHERES[other]:
            raise _error(
                text,
                f"hemisphere letter {letter} belongs to a "
                f"{'longitude' if other == 'lon' else 'latitude'}",
                f"chữ {letter} là của {'kinh độ' if other == 'lon' else 'vĩ độ'}",
                kind="swapped",
            )
        sign = float(HEMISPHERES[axis][letter])
    for pattern in _PATTERNS:
        match = pattern.fullmatch(s)
        if match:
            parts = match.groups()
            break
    else:
        raise _error(
            text,
            "not a coordinate (use decimal degrees such as 21.8467 or DMS such as 21°50'48.1\"N)",
            "không phải tọa độ (dùng độ thập phân như 21.8467 hoặc độ-phút-giây như 21°50'48.1\"N)",
        )
    if any("." in p for p in parts[:-1]):
        raise _error(text, "only the last part may have decimals", "chỉ phần cuối được có số lẻ")
    values = [float(p) for p in parts]
    for value, unit in zip(values[1:], ("minutes", "seconds"), strict=False):
        if value >= 60:
            raise _error(
                text, f"{unit} must be below 60", "phút/giây phải nhỏ hơn 60", kind="range"
            )
    degrees = values[0] + sum(v / 60**i for i, v in enumerate(values[1:], start=1))
    if degrees > LIMITS[axis]:
        raise _error(
            text,
            f"outside ±{LIMITS[axis]:g}° for a {'latitude' if axis == 'lat' else 'longitude'}",
            f"ngoài khoảng ±{LIMITS[axis]:g}°",
            kind="range",
        )
    return sign * degrees


def parse_metres(text: object) -> float:
    """Read a projected coordinate in metres (decimal point or comma, spaced thousands).

    Raises
    ------
    CoordinateError
        When the value is not a finite number.
    """
    s = _clean(text) if not isinstance(text, str) else str(text).translate(_MARKS).strip()
    if not s:
        raise _error(text, "empty coordinate", "tọa độ trống")
    s = re.sub(r"\s+", "", s)
    sign = ""
    if s[:1] in "+-":
        sign, s = s[0], s[1:]
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        if not re.fullmatch(rf"\d{{1,3}}(?:\{thousands}\d{{3}})*(?:\{decimal}\d+)?", s):
            raise _error(text, "not a number in metres", "không phải số (mét)")
        s = s.replace(thousands, "").replace(decimal, ".")
    elif s.count(",") == 1:
        s = s.replace(",", ".")
    elif s.count(",") > 1 or s.count(".") > 1:
        sep = "," if "," in s else "."
        if not re.fullmatch(rf"\d{{1,3}}(?:\{sep}\d{{3}})+", s):
            raise _error(text, "not a number in metres", "không phải số (mét)")
        s = s.replace(sep, "")
    if not re.fullmatch(r"\d+(?:\.\d+)?", s):
        raise _error(text, "not a number in metres", "không phải số (mét)")
    return float(sign + s)


def format_dms(value: float, axis: Axis, *, style: str = "symbols", decimals: int = 3) -> str:
    """Write decimal degrees as DMS, in the notations :func:`parse_angle` reads.

    ``style``: ``symbols`` (21°50'48.100"N), ``spaces`` (21 50 48.100),
    ``minutes`` (21°50.80167'N), ``colons`` (21:50:48.100).
    """
    letter = ("N" if value >= 0 else "S") if axis == "lat" else ("E" if value >= 0 else "W")
    a = abs(value)
    if style == "minutes":
        d = int(a)
        minutes = round((a - d) * 60, decimals + 2)
        if minutes >= 60:
            d, minutes = d + 1, 0.0
        return f"{d}°{minutes:.{decimals + 2}f}'{letter}"
    total = round(a * 3600, decimals)
    d, rest = divmod(total, 3600)
    m, sec = divmod(rest, 60)
    d, m = int(d), int(m)
    sec_text = f"{sec:.{decimals}f}"
    if style == "spaces":
        return f"{'-' if value < 0 else ''}{d} {m} {sec_text}"
    if style == "colons":
        return f"{'-' if value < 0 else ''}{d}:{m:02d}:{sec_text}"
    return f"{d}°{m}'{sec_text}\"{letter}"


@dataclass(frozen=True)
class Parsed:
    """A parsed column: values (NaN where unreadable) and why each failed."""

    values: list[float]
    reasons: list[CoordinateError | None]
    #: positions of the values that could not be read, in order
    failed: np.ndarray


_NOT_PLAIN_LINE = re.compile(rf"^(?!{_PLAIN_DECIMAL}$)", re.MULTILINE)


def _plain_decimals(texts: np.ndarray) -> np.ndarray:
    """Which of ``texts`` are plain decimals, found in one scan of the joined column."""
    lines = JoinedLines.of(texts)
    if lines is None:  # a cell with a line break of its own
        return np.array([re.fullmatch(_PLAIN_DECIMAL, t) is not None for t in texts], dtype=bool)
    if lines.ascii is not None:
        return _plain_decimal_lines(lines)
    plain = np.ones(len(texts), dtype=bool)
    bad = [m.start() for m in _NOT_PLAIN_LINE.finditer(lines.text)]
    plain[np.searchsorted(lines.starts, bad)] = False
    return plain


def _plain_decimal_lines(lines: JoinedLines) -> np.ndarray:
    """:data:`_PLAIN_DECIMAL` (``-?[0-9]+(?:\\.[0-9]+)?``) tested on every line at once.

    Only the few characters that can make a line fail are looked at one by one:
    anything but digits, a minus and a point; a minus; a point.
    """
    b = lines.ascii
    assert b is not None
    starts, lengths = lines.starts, lines.lengths
    plain = lengths > 0
    digit = (b >= 0x30) & (b <= 0x39)
    other = ~(digit | (b == 0x2D) | (b == 0x2E) | (b == 0x0A))
    plain[lines.line_of(np.flatnonzero(other))] = False
    minus = np.flatnonzero(b == 0x2D)
    line = lines.line_of(minus)
    plain[line[minus != starts[line]]] = False  # a minus anywhere but first
    signed = np.zeros(len(starts), dtype=np.int64)
    signed[line[minus == starts[line]]] = 1
    points = np.flatnonzero(b == 0x2E)
    line = lines.line_of(points)
    n_points = np.bincount(line, minlength=len(starts))
    # one point at most, with digits on both sides
    plain[line[n_points[line] > 1]] = False
    first_digit, last = starts + signed, starts + lengths - 1
    plain[line[(points == first_digit[line]) | (points == last[line])]] = False
    plain &= lengths - signed - n_points > 0  # a digit at least
    return plain


@dataclass(frozen=True)
class PlainDecimals:
    """A column's cells, which of them are plain decimals, and those numbers (NaN elsewhere).

    Plain decimals ("21.846058", "-473464.34") are nearly every cell of a GPS
    log; they read the same through float() as through the full parsers.
    Found once, they serve every parse of the column (as metres, then as degrees).
    """

    cells: pd.Series
    mask: np.ndarray
    numbers: np.ndarray


def plain_decimals(values: Iterable[object]) -> PlainDecimals:
    cells = pd.Series(list(values), dtype=object)
    plain = np.zeros(len(cells), dtype=bool)
    plain[text_cells(cells.to_numpy())[0]] = True
    plain[plain] = _plain_decimals(cells[plain].to_numpy())
    numbers = np.full(len(cells), math.nan)
    numbers[plain] = cells[plain].to_numpy().astype(float)
    return PlainDecimals(cells, plain, numbers)


def parse_column(
    values: Iterable[object],
    axis: Axis | Literal["metres"],
    plain: PlainDecimals | None = None,
) -> Parsed:
    """Parse every value of a column; never raises for a bad value.

    ``plain``: :func:`plain_decimals` of the same ``values``, when already found.
    """
    found = plain_decimals(values) if plain is None else plain
    cells, numbers = found.cells, found.numbers
    quick = found.mask.copy()
    if axis != "metres":
        quick &= np.abs(numbers) <= LIMITS[axis]
    out: list[float] = numbers.tolist()
    reasons: list[CoordinateError | None] = [None] * len(cells)
    failed = []
    for i in np.flatnonzero(~quick).tolist():
        try:
            v = cells.iat[i]
            out[i] = parse_metres(v) if axis == "metres" else parse_angle(v, axis)
        except CoordinateError as exc:
            out[i] = math.nan
            reasons[i] = exc
            failed.append(i)
    return Parsed(out, reasons, np.array(failed, dtype=int))
