"""Vietnamese text encodings: UTF-8 (BOM or not), Windows-1258, TCVN3, VNI."""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import legacy_encodings as enc
from pipeline.config import load_config
from pipeline.ingest import ingest
from pipeline.readers import read_input
from pipeline.vntext import to_nfc

from .conftest import RAW

NAMES = [
    "Động Tam Thanh",
    "Đội khảo sát phía Đông",
    "Hữu Lũng",
    "Bắc Sơn",
    "Mẫu Sơn",
    "Chi Lăng",
    "Thung lũng Bắc Sơn - đá vôi",
    "Hang Gió, núi Phai Vệ",
    "Ải Chi Lăng: di tích quốc gia đặc biệt",
]
VIETNAMESE_LOWER = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
)
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
#: The only capitals TCVN3 has codes for (the .VnTimeH fonts drew the others from
#: lower-case codes), so every other non-ASCII capital comes back lower case.
TCVN3_CAPITALS = set("ĂÂÊÔƠƯĐ")


def tcvn3_spelling(text: str) -> str:
    """``text`` as it survives a TCVN3 round trip, worked out without the tables."""
    return "".join(
        c.lower() if c.isupper() and not c.isascii() and c not in TCVN3_CAPITALS else c
        for c in text
    )


def cp1258(text: str) -> bytes:
    """Windows-1258 bytes as Word writes them: base letter, then a combining tone mark."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
            out += base.encode("cp1258") + "".join(c for c in nfd if c in _TONES).encode("cp1258")
    return bytes(out)


@pytest.mark.skipif(shutil.which("iconv") is None, reason="glibc iconv not installed")
def test_tcvn3_table_agrees_with_glibc_tcvn5712() -> None:
    """Every TCVN3 code decodes as glibc's TCVN5712-1 converter does (same upper half)."""
    for code, letter in enc.TCVN3_TO_UNICODE.items():
        out = subprocess.run(
            ["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"],
            input=bytes([code]),
            capture_output=True,
            check=True,
        ).stdout.decode("utf-8")
        assert unicodedata.normalize("NFC", out) == letter, hex(code)


def test_tcvn3_and_vni_tables_cover_every_vietnamese_letter() -> None:
    letters = {c for c in VIETNAMESE_LOWER if not c.isascii()}
    assert letters <= set(enc.UNICODE_TO_TCVN3)
    assert letters | {c.upper() for c in letters} <= set(enc.UNICODE_TO_VNI)
    assert len(enc.TCVN3_TO_UNICODE) == len(
        set(enc.TCVN3_TO_UNICODE.values())
    )  # one code per letter


def test_known_legacy_spellings() -> None:
    """Spellings as they appear in old files (from public converters' examples)."""
    assert enc.decode(b"B\xb8t X\xb8t", "tcvn3") == "Bát Xát"
    assert enc.decode(b"M\xad\xeang Kh\xad\xacng", "tcvn3") == "Mường Khương"  # ư = 0xAD
    assert enc.decode("Xin chaøo caùc baïn".encode("cp1252"), "vni") == "Xin chào các bạn"
    assert enc.decode("Ñoäng Tam Thanh".encode("cp1252"), "vni") == "Động Tam Thanh"


@pytest.mark.parametrize("name", NAMES)
def test_each_encoding_is_detected_and_decoded_to_nfc(name: str) -> None:
    for data, expected_encoding in (
        (name.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + name.encode("utf-8"), "utf-8-sig"),
        (cp1258(name), "cp1258"),
        (enc.encode_vni(name), "vni"),
    ):
        text, used = enc.decode_guess(data)
        assert (text, used) == (name, expected_encoding)
        assert unicodedata.is_normalized("NFC", text)
    # TCVN3 has no capital toned letters: capitals come back lower case
    text, used = enc.decode_guess(enc.encode_tcvn3(name))
    assert (text, used) == (tcvn3_spelling(name), "tcvn3")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=VIETNAMESE_LOWER + " ,.-0123456789", max_size=40))
def test_tcvn3_round_trip(text: str) -> None:
    assert enc.decode_tcvn3(enc.encode_tcvn3(text)) == text


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=VIETNAMESE_LOWER + VIETNAMESE_LOWER.upper() + " ,.-0123456789", max_size=40)
)
def test_vni_round_trip(text: str) -> None:
    assert enc.decode_vni(enc.encode_vni(text)) == unicodedata.normalize("NFC", text)


def test_repair_leaves_unicode_and_plain_ascii_alone() -> None:
    values = ["Động Tam Thanh", "Cafe", None, "Tràng Định"]
    assert enc.repair_values(values) == (values, None)
    assert enc.repair_values(["Café crème", "Müller"]) == (["Café crème", "Müller"], None)


def test_repair_wants_more_than_one_odd_letter() -> None:
    """A lone "æ" reads as TCVN3 "ổ", but one letter is no proof of a code page;
    one word with a symbol in place of a letter (TCVN3 "§" for "Đ") is."""
    assert enc.repair_values(["{{;æ59", None, "Cafe"]) == (["{{;æ59", None, "Cafe"], None)
    assert enc.repair_values(["Søren"]) == (["Søren"], None)
    garbled = enc.encode_tcvn3("Động").decode("latin-1")
    assert enc.repair_values([garbled, "Tam Thanh"]) == (["Động", "Tam Thanh"], "tcvn3")
    two = enc.encode_tcvn3("Lộc Bình").decode("latin-1")
    assert enc.repair_values([two]) == (["Lộc Bình"], "tcvn3")


def test_repair_converts_tcvn3_and_vni_read_as_western_text() -> None:
    tcvn = [enc.encode_tcvn3(n).decode("latin-1") for n in NAMES[:3]]
    fixed, found = enc.repair_values([*tcvn, "LS-TP-01"])
    assert found == "tcvn3"
    assert fixed == [*map(tcvn3_spelling, NAMES[:3]), "LS-TP-01"]
    vni = [enc.encode_vni(n).decode("cp1252") for n in NAMES]
    fixed, found = enc.repair_values(vni)
    assert (fixed, found) == (NAMES, "vni")


def _survey_frame() -> pd.DataFrame:
    return pd.read_csv(RAW / "survey_points_wgs84.csv", dtype=str, keep_default_na=False)


@pytest.mark.parametrize("encoding", ["cp1258", "utf-8-sig", "vni"])
def test_csv_in_any_encoding_gives_the_same_survey_points(encoding, write_config, tmp_path) -> None:
    frame = _survey_frame()
    text = frame.to_csv(index=False)
    data = {
        "cp1258": cp1258(text),
        "utf-8-sig": b"\xef\xbb\xbf" + text.encode("utf-8"),
        "vni": enc.encode_vni(text),
    }[encoding]
    path = tmp_path / "points.csv"
    path.write_bytes(data)

    def edit(raw):
        raw["inputs"]["survey_points"][0]["path"] = str(path)

    result = ingest(load_config(write_config(edit)))
    assert not result.rejections
    teams = result.survey_points.set_index("point_id")["team"]
    for pid, team in zip(frame["point_id"], frame["team"], strict=True):
        assert teams[pid] == team
    if encoding != "utf-8-sig":
        assert any(enc.LABELS[encoding] in n and "points.csv" in n for n in result.notes)


def _write_dbf_bytes_shapefile(frame: gpd.GeoDataFrame, path: Path, encode) -> None:
    """A shapefile whose .dbf holds legacy bytes and no .cpg says so."""
    legacy = frame.copy()
    for col in legacy.columns:
        if col != "geometry" and pd.api.types.is_string_dtype(legacy[col]):
            legacy[col] = [
                encode(v).decode("latin-1") if isinstance(v, str) else v for v in legacy[col]
            ]
    pyogrio.write_dataframe(legacy, path, encoding="ISO-8859-1")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert not path.with_suffix(".cpg").exists()


@pytest.mark.parametrize("legacy", ["tcvn3", "vni"])
def test_shapefile_without_cpg_in_a_legacy_font_encoding(legacy, write_config, tmp_path) -> None:
    frame = _survey_frame()
    gdf = gpd.GeoDataFrame(
        frame.drop(columns=["lat", "lon"]),
        geometry=shapely.points(frame["lon"].astype(float), frame["lat"].astype(float)),
        crs="EPSG:4326",
    )
    gdf["observation"] = "Động Tam Thanh, hang đá vôi"
    encode = enc.encode_tcvn3 if legacy == "tcvn3" else enc.encode_vni
    shp = tmp_path / "points.shp"
    _write_dbf_bytes_shapefile(gdf, shp, encode)

    def edit(raw):
        raw["inputs"]["survey_points"][0] = {
            "path": str(shp),
            "schema": raw["inputs"]["survey_points"][0]["schema"],
            # .dbf field names stop at 10 characters
            "columns": {
                "geosite_code": "geosite_co",
                "survey_date": "survey_dat",
                "observation": "observatio",
            },
        }

    result = ingest(load_config(write_config(edit)))
    assert not result.rejections
    got = result.survey_points.set_index("point_id")
    got = got[got["source_file"].str.endswith("points.shp")]
    assert len(got) == len(frame)
    spelling = tcvn3_spelling if legacy == "tcvn3" else str
    for pid, team in zip(frame["point_id"], frame["team"], strict=True):
        assert got.at[pid, "team"] == spelling(team)
    if legacy == "vni":  # VNI keeps capitals; TCVN3 cannot
        assert set(got["observation"]) == {"Động Tam Thanh, hang đá vôi"}
    assert any("no .cpg" in n and enc.LABELS[legacy] in n for n in result.notes)


def test_tcvn3_district_names_still_match_the_official_list(write_config, tmp_path) -> None:
    districts = gpd.read_file(RAW / "lang_son_districts.geojson")
    districts = districts[["NAME_3", "geometry"]]
    districts["NAME_3"] = [
        enc.encode_tcvn3(to_nfc(n)).decode("latin-1") for n in districts["NAME_3"]
    ]
    path = tmp_path / "districts.shp"
    pyogrio.write_dataframe(districts, path, encoding="ISO-8859-1")
    path.with_suffix(".cpg").unlink(missing_ok=True)

    def edit(raw):
        raw["inputs"]["districts"]["path"] = str(path)
        raw["inputs"]["districts"].pop("alt_name_field", None)

    result = ingest(load_config(write_config(edit)))
    assert len(result.districts) == len(districts)
    assert any("TCVN3" in n for n in result.notes)


def test_excel_cells_typed_in_vni_are_converted(tmp_path) -> None:
    frame = _survey_frame().head(5)
    frame["team"] = [enc.encode_vni(t).decode("cp1252") for t in frame["team"]]
    path = tmp_path / "points.xlsx"
    frame.to_excel(path, sheet_name="Điểm", index=False)
    read = read_input(path, sheet="Điểm")
    assert list(read.frame["team"]) == list(_survey_frame().head(5)["team"])
    assert any("VNI" in n and "'team'" in n for n in read.notes)
    # and each converted cell is listed with its spreadsheet row
    assert [(c.row, c.field, c.after) for c in read.changes] == [
        (row, "team", team)
        for row, team in zip(range(2, 7), _survey_frame().head(5)["team"], strict=True)
    ]
    assert all(c.change_en == "converted from VNI-Windows to Unicode" for c in read.changes)
