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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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


def to_nfc(text: str | None) -> str | None:
    """Return ``text`` in NFC, with Đ/đ for their look-alikes and tidy spaces."""
    if text is None:
        return None
    text = unicodedata.normalize("NFC", str(text).translate(_LOOKALIKES))
    return _SPACES.sub(" ", text).strip()


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
