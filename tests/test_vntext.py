"""Vietnamese names: NFC, Đ/Ð, missing diacritics, matching to the GSO list."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.vntext import fold, match_name, to_nfc, to_nfc_column

from .conftest import RAW


@pytest.fixture(scope="module")
def official() -> dict[int, str]:
    units = pd.read_csv(RAW / "admin_units_gso.csv")
    return dict(zip(units["district_code"], units["district_name"], strict=True))


def test_lookalike_eth_becomes_vietnamese_d() -> None:
    assert to_nfc("\u00d0ình Lập") == "\u0110ình Lập"
    assert "\u00d0" not in to_nfc("Tràng \u00d0ịnh")


def test_decomposed_text_is_stored_as_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Hữu Lũng")
    assert decomposed != "Hữu Lũng"
    assert to_nfc(decomposed) == "Hữu Lũng"
    assert unicodedata.is_normalized("NFC", to_nfc(decomposed))


def test_fold_ignores_case_marks_and_prefixes() -> None:
    assert fold("TP Lạng Sơn") == fold("lang son") == fold("Thành phố Lạng Sơn")
    assert fold("Ðình Lập") == fold("Đình Lập") == "dinhlap"


@pytest.mark.parametrize(
    ("source", "code", "method"),
    [
        ("Cao Lộc", 183, "exact"),
        ("\u00d0ình Lập", 189, "normalised"),
        ("Bắc Son", 185, "folded"),
        ("Chi Lang", 187, "folded"),
        ("Vãn Lãng", 182, "folded"),  # wrong tone mark in the source
        ("Lạng Son", 178, "folded"),
        ("TP Lạng Sơn", 178, "folded"),
    ],
)
def test_source_names_match_the_official_list(official, source, code, method) -> None:
    match = match_name(source, official)
    assert (match.code, match.method) == (code, method)
    assert match.official == official[code]


def test_alternate_name_is_used_when_the_main_one_fails(official) -> None:
    match = match_name("???", official, alternates=["Langson"])
    assert match.code == 178 and match.method == "alternate"


def test_unknown_and_ambiguous_names_are_not_guessed() -> None:
    assert match_name("Hà Nội", {1: "Lạng Sơn"}).method == "unmatched"
    ambiguous = match_name("Van Lang", {1: "Văn Lãng", 2: "Vạn Lăng"})
    assert ambiguous.method == "ambiguous" and ambiguous.code is None


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(alphabet=st.sampled_from(list("aĐÐđ ồ\u0300\n\t\x00 Z9-_")), max_size=8),
            st.from_regex(r"[A-Z]{2}-[0-9]{3}", fullmatch=True),
        ),
        max_size=40,
    )
)
def test_column_normalisation_equals_the_cell_by_cell_one(values):
    """The bulk scan finds every cell a normaliser would change, and nothing else differs."""
    column = to_nfc_column(pd.Series(values, dtype=object))
    expected = [None if v is None else to_nfc(v) for v in values]
    assert [None if pd.isna(v) else v for v in column] == expected


@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("ab Đồ\u0300😀\ud800\n\r\x00")), max_size=6),
        max_size=30,
    )
)
def test_joined_lines_know_where_each_text_starts(texts):
    """Each text's start and length in the joined text, in characters (astral ones and
    lone surrogates are one character each); no lines when a text has a line break."""
    from pipeline.vntext import JoinedLines

    lines = JoinedLines.of(np.array(texts, dtype=object))
    if not texts or any("\n" in t for t in texts):
        assert lines is None
        return
    assert lines.lengths.tolist() == [len(t) for t in texts]
    assert [
        lines.text[s : s + n] for s, n in zip(lines.starts, lines.lengths, strict=True)
    ] == texts
    assert (lines.ascii is not None) == all(t.isascii() for t in texts)
