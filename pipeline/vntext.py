"""Vietnamese text as data: normalisation and name matching.

Names are stored in Unicode NFC with the right letters. Source files often
carry the Icelandic look-alikes Ð/ð (U+00D0/U+00F0) instead of Đ/đ
(U+0110/U+0111), decomposed diacritics, or no diacritics at all; matching
compares a *folded* key that ignores case, tone and vowel marks, the Đ/Ð
confusion and administrative prefixes such as "TP" or "Huyện".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Look-alikes found in real files -> the Vietnamese letter.
_LOOKALIKES = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111", "\u0189": "\u0110"})

_ADMIN_PREFIXES = (
    "thanh pho",
    "tp.",
    "tp ",
    "thi xa",
    "tx.",
    "tx ",
    "huyen",
    "city of",
)
_ADMIN_SUFFIXES = (" city", " district", " town")
_SPACES = re.compile(r"\s+")


# Control characters (Unicode category Cc: NUL, C0, DEL, C1) and the two BMP
# noncharacters: none can be shown, PostgreSQL text cannot hold NUL, XML 1.0
# (QGIS projects and styles) forbids most of them.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x85\u2028\u2029]")


def remove_control_characters(text: str) -> str:
    """``text`` without control characters (NUL, C0, DEL, C1) and U+FFFE/U+FFFF."""
    return _CONTROLS.sub("", text)


@dataclass(frozen=True)
class Normaliser:
    """One change the pipeline may make to input text, named for the QA report.

    Every change to text read from an input goes through :data:`NORMALISERS`
    (via :func:`normalise`), so that each one is listed with its file, row
    and field; a new normalisation is a new entry here, never a silent edit.
    """

    key: str
    label_vi: str
    label_en: str
    apply: Callable[[str], str]


#: The normalisations of input text, in the order they are applied.
NORMALISERS: tuple[Normaliser, ...] = (
    Normaliser(
        "lookalike",
        "Ð/ð (chữ Iceland) đổi thành Đ/đ",
        "Ð/ð (Icelandic eth, U+00D0/U+00F0) replaced by Đ/đ (U+0110/U+0111)",
        lambda t: t.translate(_LOOKALIKES),
    ),
    Normaliser(
        "nfc",
        "chuẩn hóa Unicode NFC (dấu tổ hợp ghép vào chữ)",
        "Unicode NFC (combining marks composed)",
        lambda t: unicodedata.normalize("NFC", t),
    ),
    Normaliser(
        "line_break",
        "xuống dòng trong ô đổi thành dấu cách",
        "line break in the cell replaced by a space",
        lambda t: _LINE_BREAKS.sub(" ", t),
    ),
    Normaliser(
        "whitespace",
        "gộp khoảng trắng thừa, bỏ khoảng trắng đầu/cuối",
        "repeated or leading/trailing whitespace removed",
        lambda t: _SPACES.sub(" ", t).strip(),
    ),
    Normaliser(
        "control",
        "bỏ ký tự điều khiển (NUL, ...)",
        "control characters (NUL, ...) removed",
        # NFC again: a control between a letter and its mark kept them apart
        lambda t: unicodedata.normalize(
            "NFC", _SPACES.sub(" ", remove_control_characters(t)).strip()
        ),
    ),
)


def normalise(text: str) -> tuple[str, tuple[Normaliser, ...]]:
    """Apply every normalisation; the result and the ones that changed something."""
    applied = []
    for step in NORMALISERS:
        changed = step.apply(text)
        if changed != text:
            applied.append(step)
            text = changed
    return text, tuple(applied)


@dataclass(frozen=True)
class TextChange:
    """One input cell the pipeline changed, for the QA report."""

    file: str
    row: int | None
    field: str
    before: str
    after: str
    change_vi: str
    change_en: str

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": self.row,
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "change_vi": self.change_vi,
            "change_en": self.change_en,
        }


def _already_normal(text: str) -> bool:
    """True for printable ASCII without leading, trailing or repeated spaces.

    No normaliser changes such text (it has no look-alikes, is NFC, has no
    line breaks, controls or untidy spaces): a quick test for most cells.
    """
    return text.isascii() and text.isprintable() and "  " not in text and text == text.strip()


def all_text(values: np.ndarray) -> bool:
    """Whether every value of an object array is a string (one pass in C, no Python loop)."""
    return pd.api.types.infer_dtype(values, skipna=False) == "string"


def text_cells(values: Sequence[object]) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the string cells of ``values``, and those cells as an object array."""
    cells = np.fromiter(values, dtype=object, count=len(values))
    if all_text(cells):  # a column read from a text file: every cell
        return np.arange(len(cells)), cells
    at = np.array([i for i, v in enumerate(values) if isinstance(v, str)], dtype=int)
    return at, np.array([values[i] for i in at], dtype=object)


def normalise_cells(
    values: Iterable[object], rows: Iterable[object], *, file: str, field: str
) -> tuple[list[object], list[TextChange]]:
    """Normalise a column's text cells; the new values and a record of each change.

    Missing values (None, NaN, pandas NA) stay as they are.
    """
    out = list(values)
    rows = list(rows)
    texts, strings = text_cells(out)
    changes: list[TextChange] = []
    for k in _suspects(strings):
        i = int(texts[k])
        value = out[i]
        after, steps = normalise(value)
        out[i] = after
        if steps:
            changes.append(
                TextChange(
                    file,
                    None if rows[i] is None else int(rows[i]),  # type: ignore[call-overload]
                    field,
                    value,
                    after,
                    "; ".join(s.label_vi for s in steps),
                    "; ".join(s.label_en for s in steps),
                )
            )
    return out, changes


def to_nfc(text: str | None) -> str | None:
    """Return ``text`` in NFC, with Đ/đ for their look-alikes, tidy spaces and
    no control characters (every step of :data:`NORMALISERS`)."""
    if text is None:
        return None
    text = str(text)
    return text if _already_normal(text) else normalise(text)[0]


#: Anything :func:`_already_normal` would refuse, found in many values joined by line breaks.
_NOT_NORMAL = re.compile(r"[^\x20-\x7e\n]|^ | $|  ", re.MULTILINE)


@dataclass(frozen=True)
class JoinedLines:
    """Strings joined by line breaks, to be scanned at once: where each starts, its length.

    ``ascii`` holds the joined text's bytes when it is plain ASCII (a GPS log),
    so that character tests run as array operations.
    """

    text: str
    starts: np.ndarray
    lengths: np.ndarray
    ascii: np.ndarray | None

    @classmethod
    def of(cls, texts: np.ndarray) -> JoinedLines | None:
        """``None`` when a text has a line break of its own (the lines would not be the texts)."""
        text = "\n".join(texts)
        if not text.isascii():
            if text.count("\n") != len(texts) - 1:
                return None
            lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
            return cls(text, starts, lengths, None)
        ascii = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
        # one byte per character: the line breaks' positions are the texts' bounds
        breaks = np.flatnonzero(ascii == 0x0A)
        if len(breaks) != len(texts) - 1:
            return None
        starts = np.concatenate([[0], breaks + 1])
        lengths = np.concatenate([breaks, [len(ascii)]]) - starts
        return cls(text, starts, lengths, ascii)

    def line_of(self, positions: np.ndarray) -> np.ndarray:
        """The text each character position belongs to (a separator: the text before it)."""
        return np.searchsorted(self.starts, positions, side="right") - 1


def _suspects(texts: np.ndarray) -> np.ndarray:
    """Positions of ``texts`` (strings) that a normaliser may change, found in one scan.

    The texts are joined by line breaks and searched once for anything
    :func:`_already_normal` would refuse; a text with a line break of its own
    makes every text a suspect.
    """
    if not len(texts):
        return np.empty(0, dtype=int)
    lines = JoinedLines.of(texts)
    if lines is None:
        return np.arange(len(texts))
    if lines.ascii is None:
        found = np.array([m.start() for m in _NOT_NORMAL.finditer(lines.text)], dtype=np.int64)
        return np.unique(lines.line_of(found))
    # the same tests as _NOT_NORMAL, as array operations on the bytes
    b = lines.ascii
    space = b == 0x20
    odd = ((b < 0x20) & (b != 0x0A)) | (b == 0x7F)
    odd[:-1] |= space[:-1] & space[1:]
    filled = lines.lengths > 0
    first = np.minimum(lines.starts, max(len(b) - 1, 0))
    last = np.maximum(lines.starts + lines.lengths - 1, 0)
    edges = filled & (space[first] | space[last]) if len(b) else filled
    return np.unique(np.concatenate([lines.line_of(np.flatnonzero(odd)), np.flatnonzero(edges)]))


def nfc_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a column in NFC, and each row's index into them.

    Returns ``(codes, uniques)``: ``uniques`` holds each distinct value once
    (strings, in NFC, in order of first appearance); ``codes[i]`` is row
    ``i``'s position in it, -1 when the value is missing. Two spellings that
    are the same text once normalised share one code.

    A GPS log has a million cells, nearly all plain ASCII already normal: only
    the distinct values :func:`_suspects` finds are normalised one by one.
    """
    codes, uniques = pd.factorize(values.astype("string"))
    uniques = np.asarray(uniques, dtype=object)  # iterating a StringArray is slow
    suspects = _suspects(uniques)
    if not len(suspects):
        return codes, uniques
    fixed = uniques.copy()
    fixed[suspects] = [to_nfc(v) for v in uniques[suspects]]
    merged, distinct = pd.factorize(fixed)
    codes = np.where(codes >= 0, merged[np.maximum(codes, 0)], -1)
    return codes, np.asarray(distinct, dtype=object)


def to_nfc_column(values: pd.Series) -> pd.Series:
    """:func:`to_nfc` of every value of a column (missing values stay missing), as strings."""
    codes, uniques = nfc_codes(values)
    if not len(uniques):
        return values.astype("string")
    out = np.where(codes >= 0, uniques[np.maximum(codes, 0)], None)
    return pd.Series(out, index=values.index, dtype="string")


def strip_marks(text: str) -> str:
    """Remove every diacritic, mapping Đ/đ to D/d."""
    text = to_nfc(text) or ""
    text = text.replace("Đ", "D").replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def fold(text: str | None, *, drop_admin_prefix: bool = True) -> str:
    """A comparison key: no case, no marks, no administrative prefix, no spaces."""
    if text is None:
        return ""
    key = strip_marks(text).casefold().strip()
    if drop_admin_prefix:
        for prefix in _ADMIN_PREFIXES:
            if key.startswith(prefix) and len(key) > len(prefix) + 1:
                key = key[len(prefix) :].strip()
                break
        for suffix in _ADMIN_SUFFIXES:
            if key.endswith(suffix):
                key = key[: -len(suffix)].strip()
    return re.sub(r"[^0-9a-z]", "", key)


def same_name(a: str | None, b: str | None) -> bool:
    """True when two names are the same place name under :func:`fold`."""
    return bool(a) and bool(b) and fold(a) == fold(b)


@dataclass(frozen=True)
class NameMatch:
    """How a source name was matched to an official unit."""

    source: str
    code: object | None
    official: str | None
    method: str  # exact | normalised | folded | alternate | ambiguous | unmatched
    candidates: tuple[str, ...] = ()


def match_name(
    name: str | None,
    official: Mapping[object, str],
    *,
    alternates: Iterable[str | None] = (),
) -> NameMatch:
    """Match one source name against ``{code: official name}``.

    Tries, in order: the exact string, its NFC normal form (with Đ for Ð),
    the folded key, then each alternate name's folded key. A folded key that
    fits several official names is ``ambiguous`` rather than a guess.
    """
    source = "" if name is None else str(name)
    for code, off in official.items():
        if source == off:
            return NameMatch(source, code, off, "exact")
    normal = to_nfc(source)
    for code, off in official.items():
        if normal == to_nfc(off):
            return NameMatch(source, code, off, "normalised")
    for method, candidate in [("folded", source), *(("alternate", a) for a in alternates)]:
        key = fold(candidate)
        if not key:
            continue
        hits = [(code, off) for code, off in official.items() if fold(off) == key]
        if len(hits) == 1:
            return NameMatch(source, hits[0][0], hits[0][1], method)
        if len(hits) > 1:
            return NameMatch(source, None, None, "ambiguous", tuple(h[1] for h in hits))
    return NameMatch(source, None, None, "unmatched")
