"""Ingest's quick paths for plain cells give exactly what the full parsers give."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.coordinates import CoordinateError, parse_angle, parse_column, parse_metres
from pipeline.errors import InputError
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


# A table's text from the characters that make CSV hard: separators, quotes,
# line breaks of every kind, spaces and tabs, letters with and without marks.
table_text = st.text(alphabet=list('ab1Đ ,;\t"\r\n.'), min_size=1, max_size=80)


def _record_by_record(text: str, delimiter: str):
    from pipeline.readers import _table_records

    try:
        header, records, numbers, at = _table_records(text, delimiter, "t.csv", None, [])
    except InputError:
        return None
    return at, header, records, list(numbers)


@settings(max_examples=3000, deadline=None)
@given(table_text, st.sampled_from([",", ";", "\t"]))
def test_c_parser_table_is_the_record_by_record_table(text, delimiter) -> None:
    """Whenever pandas' C parser takes a table, it reads what the csv module reads."""
    from pipeline.readers import _parse_with_header_on_row_1

    fast = _parse_with_header_on_row_1(text, delimiter)
    if fast is None:
        return  # the record-by-record reader reads it, or explains what is wrong
    header, frame, numbers = fast
    slow = _record_by_record(text, delimiter)
    assert slow is not None, "the C parser read a table the csv module refuses"
    at, slow_header, slow_records, slow_numbers = slow
    assert at == 0
    assert header == slow_header
    assert frame.to_numpy(object).tolist() == slow_records
    assert numbers.tolist() == slow_numbers


def test_c_parser_reads_the_ordinary_tables() -> None:
    """The fast path is taken for the tables a GPS or a spreadsheet writes (else it proves nothing)."""
    from pipeline.readers import _parse_with_header_on_row_1

    ordinary = [
        'id,name,lat\n1,"Đồng Đăng, Cao Lộc",21.9\n\n2,Hang\n',
        "id;x;y\r\n1;2374000,5;480000,1\r\n",
        'id,note\n1,"two\nlines"\n2,  spaced\n',
    ]
    for text in ordinary:
        assert _parse_with_header_on_row_1(text, ";" if ";" in text else ",") is not None, text


ascii_cells = st.lists(st.text(alphabet=st.characters(max_codepoint=127), max_size=10), max_size=40)


@settings(max_examples=1000, deadline=None)
@given(ascii_cells)
def test_ascii_scan_finds_exactly_the_cells_a_normaliser_changes(texts) -> None:
    from pipeline.vntext import _already_normal, _suspects

    texts = [t for t in texts if "\n" not in t]
    found = _suspects(np.array(texts, dtype=object)).tolist()
    assert found == [i for i, t in enumerate(texts) if not _already_normal(t)]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.text(alphabet="-.0123456789 a", max_size=8), max_size=40))
def test_ascii_scan_finds_exactly_the_plain_decimals(texts) -> None:
    import re

    from pipeline.coordinates import _PLAIN_DECIMAL, _plain_decimals

    got = _plain_decimals(np.array(texts, dtype=object)).tolist()
    assert got == [re.fullmatch(_PLAIN_DECIMAL, t) is not None for t in texts]


@settings(max_examples=300, deadline=None)
@given(values=cells, axis=st.sampled_from(["lat", "lon", "metres"]))
def test_plain_decimals_found_once_serve_every_parse(values, axis) -> None:
    """A column's plain decimals found for its metres parse give the same degrees parse."""
    from pipeline.coordinates import plain_decimals

    found = plain_decimals(values)
    once, again = parse_column(values, axis, found), parse_column(values, axis)
    np.testing.assert_array_equal(np.array(once.values), np.array(again.values))
    assert [str(r) for r in once.reasons] == [str(r) for r in again.reasons]
    parse_column(values, "metres", found)  # the metres parse first must not change it
    np.testing.assert_array_equal(
        np.array(parse_column(values, axis, found).values), np.array(again.values)
    )


@settings(max_examples=3000, deadline=None)
@given(table_text, st.sampled_from([",", ";", "\t"]))
def test_arrow_reads_every_cell_as_pandas_c_parser_does(text, delimiter) -> None:
    """Whenever pyarrow's reader takes a text, it reads the cells pandas' C parser reads."""
    from pipeline.readers import _arrow_cells, _pandas_cells

    arrow = _arrow_cells(text, delimiter)
    if arrow is None:
        return
    cells = _pandas_cells(text, delimiter)
    assert cells is not None, "pyarrow read a text pandas refuses"
    assert arrow.to_numpy(object).tolist() == cells.to_numpy(object).tolist()


def test_arrow_reads_the_ordinary_tables() -> None:
    """The pyarrow path is taken for what a GPS writes, empty last cells and Windows line
    ends included (else it proves nothing); a table with quotes is pandas' to read."""
    from pipeline.readers import _arrow_cells, _pandas_cells, _parse_with_header_on_row_1

    ordinary = [
        "point_id,geosite_code,lat,lon,team\nP0,KS-1,21.93,106.34,\nP1,KS-2,21.59,106.54,\n",
        "id;x;y\r\n1;2374000,5;480000,1\r\n2;2374001;480002\r\n",
        "id\tname\n1\tĐồng Đăng\n2\tHang  \n",
    ]
    for text in ordinary:
        delimiter = ";" if ";" in text else "\t" if "\t" in text else ","
        arrow = _arrow_cells(text, delimiter)
        assert arrow is not None, text
        assert (
            arrow.to_numpy(object).tolist()
            == _pandas_cells(text, delimiter).to_numpy(object).tolist()
        )
        assert _parse_with_header_on_row_1(text, delimiter) is not None
    quoted = 'id,name\n1,"Đồng Đăng, Cao Lộc"\n'
    assert _arrow_cells(quoted, ",") is None
    assert _parse_with_header_on_row_1(quoted, ",") is not None
