"""Coordinate notations: decimal degrees, DMS as people type it, metres."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.coordinates import (
    CoordinateError,
    format_dms,
    parse_angle,
    parse_column,
    parse_metres,
)
from pipeline.errors import GeoparkError

# 21°50'48.1" = 21 + 50/60 + 48.1/3600
DMS_VALUE = 21 + 50 / 60 + 48.1 / 3600


@pytest.mark.parametrize(
    "text",
    [
        "21°50'48.1\"N",
        "N21°50'48.1\"",
        "21°50'48.1\"",
        "21 50 48.1",
        "21 50 48,1",
        "21:50:48.1",
        "21d50m48.1s",
        "21°50′48.1″N",
        "21° 50' 48.1'' N",
        "21º50’48.1”N",
    ],
)
def test_dms_notations_give_the_same_latitude(text: str) -> None:
    assert parse_angle(text, "lat") == pytest.approx(DMS_VALUE, abs=1e-9)


@pytest.mark.parametrize(
    ("text", "axis", "expected"),
    [
        ("21°50.802'", "lat", 21 + 50.802 / 60),
        ("21 50.802", "lat", 21 + 50.802 / 60),
        ("21.846717", "lat", 21.846717),
        ("21,846717", "lat", 21.846717),
        ("106°44'55\"E", "lon", 106 + 44 / 60 + 55 / 3600),
        ("106.748215 E", "lon", 106.748215),
        ("33°52'S", "lat", -(33 + 52 / 60)),
        ("-33.5", "lat", -33.5),
        ("W 70.25", "lon", -70.25),
        (106.75, "lon", 106.75),
    ],
)
def test_other_notations(text: object, axis: str, expected: float) -> None:
    assert parse_angle(text, axis) == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize(
    ("text", "axis", "kind"),
    [
        ("106°45'E", "lat", "swapped"),
        ("21°50'N", "lon", "swapped"),
        ("21°61'", "lat", "range"),
        ("21°50'60\"", "lat", "range"),
        ("95.5", "lat", "range"),
        ("181", "lon", "range"),
        ("abc", "lat", "format"),
        ("", "lat", "format"),
        ("21.5.3", "lat", "format"),
        ("21 50.5 30", "lat", "format"),
        ("-21.5 S", "lat", "format"),
        ("nan", "lat", "format"),
        ("inf", "lon", "format"),
        (float("nan"), "lat", "format"),
    ],
)
def test_bad_values_say_why(text: object, axis: str, kind: str) -> None:
    with pytest.raises(CoordinateError) as info:
        parse_angle(text, axis)
    assert info.value.kind == kind
    assert info.value.message_en and info.value.message_vi


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2418576.00", 2418576.0),
        ("2418576,25", 2418576.25),
        ("2 418 576,25", 2418576.25),
        ("2.418.576,25", 2418576.25),
        ("2,418,576.25", 2418576.25),
        ("473464", 473464.0),
        (473464.34, 473464.34),
    ],
)
def test_metres_in_the_ways_people_write_them(text: object, expected: float) -> None:
    assert parse_metres(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "abc", "2.418.57", "1e6", "12,34,5", "--5", "nan"])
def test_bad_metres_are_refused(text: str) -> None:
    with pytest.raises(CoordinateError):
        parse_metres(text)


def test_parse_column_collects_reasons_instead_of_raising() -> None:
    parsed = parse_column(["21.5", "x", "106E"], "lat")
    assert parsed.values[0] == 21.5 and math.isnan(parsed.values[1])
    assert [r.kind if r else None for r in parsed.reasons] == [None, "format", "swapped"]


@settings(max_examples=300, deadline=None)
@given(
    value=st.floats(min_value=-89.999999, max_value=89.999999, allow_nan=False),
    style=st.sampled_from(["symbols", "spaces", "minutes", "colons"]),
)
def test_formatted_dms_round_trips_within_a_micro_degree(value: float, style: str) -> None:
    text = format_dms(value, "lat", style=style, decimals=3)
    assert parse_angle(text, "lat") == pytest.approx(value, abs=1e-6)


@settings(max_examples=200, deadline=None)
@given(value=st.floats(min_value=-179.999999, max_value=179.999999, allow_nan=False))
def test_longitudes_round_trip(value: float) -> None:
    assert parse_angle(format_dms(value, "lon"), "lon") == pytest.approx(value, abs=1e-6)


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=30),
        st.text(alphabet="0123456789 .,:;°'\"NSEWdms-+′″’ºx", max_size=20),
        st.floats(),
        st.integers(),
        st.none(),
    ),
    axis=st.sampled_from(["lat", "lon", "metres"]),
)
def test_garbage_only_ever_raises_the_projects_error(text: object, axis: str) -> None:
    try:
        value = parse_metres(text) if axis == "metres" else parse_angle(text, axis)
    except GeoparkError:
        return
    assert math.isfinite(value)
    if axis != "metres":
        assert abs(value) <= (90 if axis == "lat" else 180)


@given(st.lists(st.text(alphabet=st.sampled_from(list("0123456789.-e, \n°'")), max_size=9)))
def test_plain_decimals_found_in_bulk_as_one_by_one(texts):
    """The one-scan test of a column agrees with a full match of every cell."""
    from pipeline.coordinates import _PLAIN_DECIMAL, _plain_decimals

    expected = [re.fullmatch(_PLAIN_DECIMAL, t) is not None for t in texts]
    assert list(_plain_decimals(np.array(texts, dtype=object))) == expected
