"""Ingest's quick paths for plain cells give exactly what the full parsers give."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.coordinates import CoordinateError, parse_angle, parse_column, parse_metres
from pipeline.vntext import normalise, normalise_cells

decimal_text = st.builds(
    lambda sign, whole, frac: f"{sign}{whole}{'.' + frac if frac else ''}",
    st.sampled_from(["", "-", "+"]),
    st.integers(0, 2_500_000).map(str),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=9)),
)
cells = st.lists(
    st.one_of(
        decimal_text,
        st.text(max_size=12),
        st.sampled_from(["21°50'48.1\"N", "106 45 E", "1.234,5", "", " 21.5", "٣.٥", "21.5 "]),
        st.floats(allow_nan=True),
        st.none(),
    ),
    max_size=30,
)


def one_by_one(values, parse) -> tuple[list[float], list[str | None]]:
    out, kinds = [], []
    for v in values:
        try:
            out.append(parse(v))
            kinds.append(None)
        except CoordinateError as exc:
            out.append(math.nan)
            kinds.append(exc.kind + str(exc))
    return out, kinds


@settings(max_examples=300, deadline=None)
@given(values=cells, axis=st.sampled_from(["lat", "lon", "metres"]))
def test_parse_column_is_parse_of_each_value(values, axis) -> None:
    parse = parse_metres if axis == "metres" else (lambda v: parse_angle(v, axis))
    want, want_kinds = one_by_one(values, parse)
    got = parse_column(values, axis)
    np.testing.assert_array_equal(np.array(got.values), np.array(want))
    assert [np.signbit(v) for v in got.values] == [np.signbit(v) for v in want]
    assert [None if r is None else r.kind + str(r) for r in got.reasons] == want_kinds


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.one_of(st.text(max_size=15), st.text("ab -\t.", max_size=8))))
def test_normalise_cells_is_normalise_of_each_cell(texts) -> None:
    out, changes = normalise_cells(texts, range(len(texts)), file="f.csv", field="name")
    assert out == [normalise(t)[0] for t in texts]
    assert [(c.row, c.before) for c in changes] == [
        (i, t) for i, t in enumerate(texts) if normalise(t)[1]
    ]


def test_surroundings_quick_test_keeps_boundary_points() -> None:
    """A point on the province boundary is inside (distance 0), as before."""
    province = shapely.box(0, 0, 10, 10)
    shapely.prepare(province)
    on_edge = shapely.points([10.0, 5.0, 20.0], [5.0, 5.0, 5.0])
    assert list(shapely.intersects(province, on_edge)) == [True, True, False]
