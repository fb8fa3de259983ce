"""Extractive summaries: the first sentences of an item, in its own language.

Sentence ends: ``. ! ? …`` followed by a space (Latin, Cyrillic, Greek scripts), the CJK full stops ``。！？``
(no space needed), Arabic ``؟`` and ``۔``, Devanagari ``। ॥``. A full stop after a known abbreviation or a
single capital letter (an initial) does not end a sentence, nor one followed by a lower-case letter.
"""

from __future__ import annotations

import re
import unicodedata

from mediawatch.wording import shorten

MAX_SENTENCES = 3
TARGET_CHARS = 220  # stop adding sentences once the summary is this long
MAX_CHARS = 360  # cut a single very long sentence to this length, "…" included (wording.shorten)

_CLOSERS = "\"'”’»」』）)】〕》"
_CJK_END = re.compile(rf"[。！？｡][{re.escape(_CLOSERS)}]*")
_CJK_TAIL = re.compile(rf"[。！？｡][{re.escape(_CLOSERS)}]*$")
_OTHER_END = re.compile(rf"[.!?…؟۔।॥]+[{re.escape(_CLOSERS)}]*(?=\s|$)")
_ABBREV = frozenset({
    # English
    "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp", "gen", "col", "lt",
    "sgt", "rev", "no", "nos", "vol", "fig", "approx", "dept", "est", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "e.g", "i.e", "u.s", "u.k", "a.m", "p.m",
    # Russian and Kazakh
    "г", "гг", "им", "т.е", "т.к", "ул", "д", "стр", "см", "проф", "др", "млн", "млрд", "тыс", "руб", "каз", "обл",
    "р-н",
})
_SPACE = re.compile(r"\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (whitespace collapsed), in order; never drops text."""
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", text or "")).strip()
    if not text:
        return []
    cuts: set[int] = set()
    for m in _CJK_END.finditer(text):
        cuts.add(m.end())
    for m in _OTHER_END.finditer(text):
        if _is_boundary(text, m.start(), m.end()):
            cuts.add(m.end())
    out: list[str] = []
    start = 0
    for cut in sorted(cuts):
        piece = text[start:cut].strip()
        if piece:
            out.append(piece)
        start = cut
    rest = text[start:].strip()
    if rest:
        out.append(rest)
    return out


def _is_boundary(text: str, start: int, end: int) -> bool:
    mark = text[start]
    nxt = text[end:].lstrip()[:1]
    if nxt and nxt.islower():
        return False  # "e.g. this", "г. в Омске"
    if mark != ".":
        return True
    word = re.search(r"(\S+)$", text[:start])
    token = word.group(1).lower().strip("(\"'«“") if word else ""
    if token in _ABBREV:
        return False
    return not (len(token) == 1 and token.isalpha() and text[start - 1].isupper())  # an initial: "A. Author"


def extract_summary(title: str, *texts: str) -> str:
    """1-3 leading sentences of the first non-empty text that say more than the title."""
    title_key = _key(title)
    for text in texts:
        sentences = [s for s in split_sentences(text) if _key(s) and _key(s) != title_key]
        if not sentences:
            continue
        picked: list[str] = []
        length = 0
        for s in sentences[:MAX_SENTENCES]:
            picked.append(s)
            length += len(s)
            if length >= TARGET_CHARS:
                break
        return _cut(_join(picked))
    return ""


def _join(sentences: list[str]) -> str:
    """Sentences back into text: no space after a CJK full stop, one space otherwise."""
    out = sentences[0]
    for s in sentences[1:]:
        out += ("" if _CJK_TAIL.search(out) else " ") + s
    return out


def _key(text: str) -> str:
    return re.sub(r"\W+", "", (text or "").casefold())


def _cut(text: str) -> str:
    return shorten(text, MAX_CHARS)


__all__ = ["extract_summary", "split_sentences"]
