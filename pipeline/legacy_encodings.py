"""Vietnamese text encodings: UTF-8, Windows-1258 and the legacy font encodings.

Old Vietnamese shapefiles and spreadsheets carry text in encodings that predate
Unicode: **TCVN3** (TCVN 5712:1993 "VN3", the ``.VnTime`` fonts of the ABC
keyboard; one byte per letter) and **VNI** (VNI-Windows fonts; a base letter
followed by one byte per diacritic). Read with a Western code page they show
up as ``§éng Tam Thanh`` (TCVN3) or ``Ñoäng Tam Thanh`` (VNI) for
*Động Tam Thanh*. Windows-1258 writes tone marks as combining characters, so
its text is normalised to NFC.

This module decodes bytes in any of these encodings, tells them apart by how
Vietnamese the result reads (every word a well-formed Vietnamese syllable with
at most one tone mark), and repairs text columns that were decoded with the
wrong table. Tables: TCVN3 from the xvnkb keyboard's ``tcvn.h`` (checked
against glibc's TCVN5712-1 converter for the shared byte range), VNI from
xvnkb's ``vni.h`` (order: plain, acute, grave, hook, tilde, dot below).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pipeline.vntext import text_cells

# --- TCVN3 (ABC): one byte -> one letter ------------------------------------

_TCVN3_GROUPS: dict[str, tuple[int, ...]] = {
    # letter: bytes for (plain, acute, grave, hook, tilde, dot below)
    "a": (0x61, 0xB8, 0xB5, 0xB6, 0xB7, 0xB9),
    "ă": (0xA8, 0xBE, 0xBB, 0xBC, 0xBD, 0xC6),
    "â": (0xA9, 0xCA, 0xC7, 0xC8, 0xC9, 0xCB),
    "e": (0x65, 0xD0, 0xCC, 0xCE, 0xCF, 0xD1),
    "ê": (0xAA, 0xD5, 0xD2, 0xD3, 0xD4, 0xD6),
    "i": (0x69, 0xDD, 0xD7, 0xD8, 0xDC, 0xDE),
    "o": (0x6F, 0xE3, 0xDF, 0xE1, 0xE2, 0xE4),
    "ô": (0xAB, 0xE8, 0xE5, 0xE6, 0xE7, 0xE9),
    "ơ": (0xAC, 0xED, 0xEA, 0xEB, 0xEC, 0xEE),
    "u": (0x75, 0xF3, 0xEF, 0xF1, 0xF2, 0xF4),
    "ư": (0xAD, 0xF8, 0xF5, 0xF6, 0xF7, 0xF9),
    "y": (0x79, 0xFD, 0xFA, 0xFB, 0xFC, 0xFE),
}
#: Combining tone marks in the order the tables list them.
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
#: TCVN3 has no upper-case toned letters (the ".VnTimeH" fonts drew lower-case
#: codes as capitals); only these capitals have codes of their own.
_TCVN3_CAPITALS = {
    0xA1: "Ă",
    0xA2: "Â",
    0xA3: "Ê",
    0xA4: "Ô",
    0xA5: "Ơ",
    0xA6: "Ư",
    0xA7: "Đ",
    0xAE: "đ",
}


def _tcvn3_table() -> dict[int, str]:
    table = {}
    for base, codes in _TCVN3_GROUPS.items():
        for code, tone in zip(codes, _TONES, strict=True):
            if code >= 0x80:
                table[code] = unicodedata.normalize("NFC", base + tone)
    table.update(_TCVN3_CAPITALS)
    return table


TCVN3_TO_UNICODE: dict[int, str] = _tcvn3_table()
UNICODE_TO_TCVN3: dict[str, int] = {v: k for k, v in TCVN3_TO_UNICODE.items()}

# --- VNI-Windows: base letter + diacritic bytes -----------------------------

# Suffix bytes after a vowel, as the Latin-1 character they are, lower case:
# (plain, acute, grave, hook, tilde, dot below) for each vowel shape.
_VNI_SUFFIXES = {
    "": ("", "ù", "ø", "û", "õ", "ï"),
    "\u0302": ("â", "á", "à", "å", "ã", "ä"),  # circumflex
    "\u0306": ("ê", "é", "è", "ú", "ü", "ë"),  # breve
}
#: Letters that are one byte of their own in VNI (lower case shown).
_VNI_SINGLE = {
    "ô": "ơ",
    "ö": "ư",
    "í": "í",
    "ì": "ì",
    "æ": "ỉ",
    "ó": "ĩ",
    "ò": "ị",
    "î": "ỵ",
    "ñ": "đ",
}


def _vni_table() -> dict[str, str]:
    """VNI byte sequences (as Latin-1 text) -> Unicode NFC, both cases."""
    table: dict[str, str] = {}
    shapes = {
        "a": ("", "\u0302", "\u0306"),
        "e": ("", "\u0302"),
        "o": ("", "\u0302"),
        "u": ("",),
        "y": ("",),
    }
    for vowel, marks in shapes.items():
        for mark in marks:
            for tone, suffix in zip(_TONES, _VNI_SUFFIXES[mark], strict=True):
                if not suffix:
                    continue
                letter = unicodedata.normalize("NFC", vowel + mark + tone)
                table[vowel + suffix] = letter
                table[vowel.upper() + suffix.upper()] = letter.upper()
    # horned vowels and i: their own byte, then tone suffixes on the horned ones
    for byte, letter in _VNI_SINGLE.items():
        table[byte] = letter
        table[byte.upper()] = letter.upper()
    for byte, horned in (("ô", "ơ"), ("ö", "ư")):
        for tone, suffix in zip(_TONES[1:], _VNI_SUFFIXES[""][1:], strict=True):
            letter = unicodedata.normalize("NFC", horned + tone)
            table[byte + suffix] = letter
            table[byte.upper() + suffix.upper()] = letter.upper()
    return table


VNI_TO_UNICODE: dict[str, str] = _vni_table()
UNICODE_TO_VNI: dict[str, str] = {}
for _seq, _letter in sorted(VNI_TO_UNICODE.items(), key=lambda kv: len(kv[0])):
    UNICODE_TO_VNI.setdefault(_letter, _seq)
_VNI_PATTERN = re.compile(
    "|".join(re.escape(s) for s in sorted(VNI_TO_UNICODE, key=len, reverse=True))
)

#: Names accepted for ``encoding`` in geopark.toml besides Python's codecs.
LEGACY_NAMES = {
    "tcvn3": "tcvn3",
    "abc": "tcvn3",
    "tcvn": "tcvn3",
    "vni": "vni",
    "vni-windows": "vni",
}
LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with BOM",
    "cp1258": "Windows-1258",
    "tcvn3": "TCVN3 (ABC)",
    "vni": "VNI-Windows",
}


def legacy_name(encoding: str | None) -> str | None:
    """``tcvn3`` or ``vni`` when ``encoding`` names a legacy font encoding, else ``None``."""
    return LEGACY_NAMES.get((encoding or "").lower().replace("_", "-"))


def decode_tcvn3(data: bytes) -> str:
    """Decode TCVN3 bytes (ASCII plus the table above) to NFC text."""
    return "".join(TCVN3_TO_UNICODE.get(b, chr(b)) for b in data)


def encode_tcvn3(text: str) -> bytes:
    """Encode NFC text in TCVN3 (raises ``ValueError`` on a letter it lacks)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            out.append(ord(ch))
        elif ch in UNICODE_TO_TCVN3:
            out.append(UNICODE_TO_TCVN3[ch])
        elif ch.lower() in UNICODE_TO_TCVN3:  # capitals share the lower-case code
            out.append(UNICODE_TO_TCVN3[ch.lower()])
        else:
            raise ValueError(f"{ch!r} has no TCVN3 code")
    return bytes(out)


def decode_vni(data: bytes) -> str:
    """Decode VNI-Windows bytes to NFC text."""
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes cp1252 leaves undefined
        text = data.decode("latin-1")
    return _VNI_PATTERN.sub(lambda m: VNI_TO_UNICODE[m.group(0)], text)


def encode_vni(text: str) -> bytes:
    """Encode NFC text in VNI-Windows (raises ``ValueError`` on a letter it lacks)."""
    parts = []
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            parts.append(ch)
        elif ch in UNICODE_TO_VNI:
            parts.append(UNICODE_TO_VNI[ch])
        else:  # punctuation such as – or “ keeps its Windows-1252 code
            try:
                parts.append(ch.encode("cp1252").decode("latin-1"))
            except UnicodeEncodeError:
                raise ValueError(f"{ch!r} has no VNI code") from None
    return "".join(parts).encode("latin-1")


def decode(data: bytes, encoding: str) -> str:
    """Decode ``data`` with a Python codec or a legacy name (legacy text comes out NFC).

    Raises
    ------
    UnicodeDecodeError, LookupError
        When the bytes are not in that encoding or the name is unknown.
    """
    name = legacy_name(encoding) or encoding
    if name == "tcvn3":
        text = decode_tcvn3(data)
    elif name == "vni":
        text = decode_vni(data)
    else:
        text = data.decode(name)
        if name.lower().replace("_", "-").startswith("utf"):
            # Unicode stays as written: the NFC of each cell is listed when ingest
            # normalises it (pipeline.vntext.NORMALISERS)
            return text
    return unicodedata.normalize("NFC", text)


# --- telling encodings apart ------------------------------------------------

_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
#: Vowel nuclei of Vietnamese syllables (tone marks removed), longest first.
_NUCLEI = (
    "iêu oai oay oao oeo uây uôi uya uyê uyu ươi ươu yêu "
    "ai ao au ay âu ây eo êu ia iu iê oa oă oe oi ôi ơi oo ua uâ uê ui uô uơ ưa ưi ưu ươ uy yê ue "
    "a ă â e ê i o ô ơ u ư y"
).split()
_SYLLABLE = re.compile(
    r"(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?"
    rf"({'|'.join(_NUCLEI)})"
    r"(ch|ng|nh|[cmnpt])?"
)
_WORD = re.compile(r"[^\W\d_]+")


def is_vietnamese_syllable(word: str) -> bool:
    """True when ``word`` is a well-formed Vietnamese syllable (one tone at most)."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(ch in _TONE_MARKS for ch in decomposed)
    if tones > 1:
        return False
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONE_MARKS))
    return _SYLLABLE.fullmatch(bare) is not None


@dataclass(frozen=True)
class Score:
    """How Vietnamese a text reads: well-formed accented words vs oddities."""

    good: int
    bad: int
    #: Non-ASCII symbols where letters should be (``§ ¸ «``): a code page's fingerprint.
    symbols: int = 0

    @property
    def value(self) -> int:
        return self.good - 3 * self.bad


def score(text: str) -> Score:
    """Count accented Vietnamese syllables (good) and odd characters or words (bad)."""
    good = bad = symbols = 0
    for ch in text:
        category = unicodedata.category(ch)
        if ord(ch) >= 0x80 and not category.startswith(("L", "M")):
            bad += 1  # symbols such as § ¸ « where letters should be
            symbols += not category.startswith("Z")
        elif unicodedata.category(ch) == "Cc" and ch not in "\t\r\n":
            bad += 1
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        if word.isascii():
            continue
        if is_vietnamese_syllable(word):
            good += 1
        else:
            bad += 1
    return Score(good, bad, symbols)


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters: not a text table."""
    sample = data[:65536]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 0x20 and b not in (0x09, 0x0A, 0x0D))
    return bool(sample) and controls / len(sample) > 0.01


def decode_guess(data: bytes) -> tuple[str, str]:
    """Decode bytes whose encoding nobody declared.

    UTF-8 (with or without BOM) when the bytes are valid UTF-8; otherwise the
    single-byte candidate (Windows-1258, TCVN3, VNI) whose text reads most
    like Vietnamese.

    Returns
    -------
    (text, encoding)
        The text (UTF-8 as written, legacy encodings converted to NFC) and the codec name used (``utf-8-sig``, ``utf-8``, ``cp1258``,
        ``tcvn3`` or ``vni``).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig", errors="strict"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best: tuple[int, str, str] | None = None
    for name in ("cp1258", "tcvn3", "vni"):
        try:
            text = decode(data, name)
        except (UnicodeDecodeError, ValueError):
            continue
        value = score(text).value
        if best is None or value > best[0]:
            best = (value, name, text)
    if best is None:  # latin-1 never fails: keep the bytes visible
        return data.decode("latin-1"), "latin-1"
    return best[2], best[1]


@dataclass(frozen=True)
class Conversion:
    """One text column converted from a legacy encoding."""

    column: str
    encoding: str
    count: int
    example_before: str
    example_after: str

    def describe(self, file: str) -> str:
        label = LABELS.get(self.encoding, self.encoding)
        return (
            f"{file}: cột/column '{self.column}': {self.count} "
            "giá trị chuyển từ / values converted "
            f"from {label} sang / to Unicode NFC (vd./e.g. '{self.example_before}' -> "
            f"'{self.example_after}')"
        )


def _raw_bytes(text: str) -> bytes | None:
    """The bytes a single-byte code page decoded into ``text``, if it was one."""
    for codec in ("latin-1", "cp1252"):
        try:
            return text.encode(codec)
        except UnicodeEncodeError:
            continue
    return None


#: Accented words a column must gain before a conversion without symbols is believed.
MIN_REPAIRED_WORDS = 2


def repair_values(values: Sequence[str | None]) -> tuple[list[str | None], str | None]:
    """Re-decode a column of text that was read through the wrong code page.

    A column is converted only when, taken as a whole, it reads as broken
    Vietnamese (odd symbols or malformed syllables) and its bytes decoded as
    TCVN3 or VNI read as clean Vietnamese, with enough evidence: at least
    :data:`MIN_REPAIRED_WORDS` accented words, or one where the text held
    symbols such as ``§`` in place of letters. Text already in Unicode
    Vietnamese (letters outside Latin-1) is left alone.

    Returns
    -------
    (values, encoding)
        The converted values and the legacy encoding found, or the input
        and ``None`` when nothing was converted.
    """
    out = list(values)
    _, texts = text_cells(out)
    if "".join(texts).isascii():
        return out, None  # nothing a code page could have garbled (a GPS log, codes)
    present = {i: v for i, v in enumerate(values) if isinstance(v, str) and v and not v.isascii()}
    raw = [_raw_bytes(v) for v in present.values()]
    if not present or None in raw:
        return out, None
    before = score(" ".join(present.values()))
    if before.bad == 0:
        return out, None
    best: tuple[int, str, list[str]] | None = None
    for name in ("tcvn3", "vni", "cp1258"):
        try:
            texts = [decode(r, name) for r in raw if r is not None]
        except (UnicodeDecodeError, ValueError):
            continue
        after = score(" ".join(texts))
        # one odd letter is no proof: "æ" alone is Danish as often as it is TCVN3 "ổ"
        enough = after.good >= MIN_REPAIRED_WORDS or (before.symbols > 0 and after.good > 0)
        if after.bad == 0 and enough and (best is None or after.value > best[0]):
            best = (after.value, name, texts)
    if best is None:
        return out, None
    for i, text in zip(present, best[2], strict=True):
        out[i] = text
    return out, best[1]


def repair_columns(
    columns: Iterable[tuple[str, Sequence[str | None]]],
) -> tuple[dict[str, list[str | None]], list[Conversion]]:
    """:func:`repair_values` over several named columns, with a record of each conversion."""
    fixed: dict[str, list[str | None]] = {}
    conversions = []
    for name, values in columns:
        new, enc = repair_values(values)
        if enc is None:
            continue
        changed = [(a, b) for a, b in zip(values, new, strict=True) if a != b]
        if not changed:
            continue
        fixed[name] = new
        conversions.append(
            Conversion(name, enc, len(changed), str(changed[0][0]), str(changed[0][1]))
        )
    return fixed, conversions
