"""Numbers in the Vietnamese and English conventions."""

from __future__ import annotations

from pipeline.numbers import bilingual_number, en_number, vi_number


def test_vietnamese_uses_decimal_comma_and_dot_thousands():
    assert vi_number(1234567.891, 2) == "1.234.567,89"
    assert vi_number(0.9999, 4) == "0,9999"
    assert vi_number(4842.58, 2, thousands="\u202f") == "4\u202f842,58"
    assert vi_number(-0.001, 1) == "0,0"


def test_english_uses_decimal_point_and_comma_thousands():
    assert en_number(1234567.891, 2) == "1,234,567.89"
    assert en_number(25000) == "25,000"
    assert bilingual_number(345.514, 2) == ("345,51", "345.51")


def test_non_numbers_are_a_dash():
    assert vi_number(float("nan"), 2) == "–" and en_number(float("inf")) == "–"
