"""Words for people reading reports, digests and pages: counts with the right plural, text cut to a length.

:func:`shorten` is the one way text is cut for display (feed summaries, digest summaries, chart labels): at the
last space when one lies in the last 30 % of the room, else at a grapheme-cluster boundary, so a cut never
leaves half a word when a word boundary is near, nor half a character: a flag's second regional indicator, the
rest of a ZWJ emoji sequence, a combining accent or a variation selector. Text without spaces (Chinese,
Japanese, one long URL) is cut at a grapheme boundary. Grapheme clusters come from the ``regex`` module's
``\\X`` (installed with dateparser and transformers); without it a small rule covering the cases above is used.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

ELLIPSIS = "…"
WORD_ROOM = 0.3  # cut at a space when one lies within the last 30 % of the allowed length
TRAILING = " \t,;:—–-"  # dropped before the ellipsis: "word, …" reads as "word…"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 source``, ``2 sources``, ``0 sources`` (``plural`` for nouns that do not just take an s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def shorten(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` when it has at most ``limit`` code points, else a prefix ending in ``ellipsis`` whose total
    length is at most ``limit``: cut at a word boundary when one is close, else at a grapheme boundary."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return ellipsis[: max(0, limit)]
    cut = grapheme_boundary(text, room)
    space = _last_space(text, cut)
    if space is not None and space >= room * (1 - WORD_ROOM):
        cut = space
    return text[:cut].rstrip(TRAILING) + ellipsis


def grapheme_boundary(text: str, at: int) -> int:
    """The largest grapheme-cluster boundary of ``text`` at or before index ``at`` (0 when there is none)."""
    if at >= len(text):
        return len(text)
    if at <= 0:
        return 0
    return _BOUNDARY(text, at)


def _last_space(text: str, end: int) -> int | None:
    for i in range(end, 0, -1):  # text[end] itself may be the space: cutting there drops nothing visible
        if i < len(text) and text[i].isspace():
            return i
    return None


def _regex_boundary(text: str, at: int) -> int:
    # the clusters of a prefix a little longer than `at` (boundaries before `at` never depend on later text)
    end = 0
    for m in _CLUSTER.finditer(text, 0, min(len(text), at + 64)):
        if m.end() > at:
            break
        end = m.end()
    return end


def rule_boundary(text: str, at: int) -> int:
    """The fallback: step back from ``at`` while ``at`` would split a cluster (a mark, a variation selector, a
    joiner, an emoji modifier or tag, a CR LF pair, the second of a regional-indicator pair)."""
    i = min(at, len(text))
    while 0 < i < len(text) and not _is_break(text, i):
        i -= 1
    return i


def _is_break(text: str, i: int) -> bool:
    before, after = text[i - 1], text[i]
    if before == "\r" and after == "\n":
        return False
    if _control(before) or _control(after):
        return True
    if after == _ZWJ or before == _ZWJ or _extends(after):
        return False
    if unicodedata.combining(before) == 9 and unicodedata.category(after) == "Lo":
        return False  # virama + consonant: an Indic conjunct
    if _is_ri(before) and _is_ri(after):
        run = 0
        j = i - 1
        while j >= 0 and _is_ri(text[j]):
            run += 1
            j -= 1
        return run % 2 == 0  # a break only after a complete pair
    return True


_ZWJ = "\u200d"


def _extends(ch: str) -> bool:
    cp = ord(ch)
    return (
        unicodedata.category(ch) in ("Mn", "Me", "Mc")
        or 0xFE00 <= cp <= 0xFE0F  # variation selectors
        or 0xE0100 <= cp <= 0xE01EF
        or 0x1F3FB <= cp <= 0x1F3FF  # emoji skin-tone modifiers
        or 0xE0020 <= cp <= 0xE007F  # emoji tag sequences (subdivision flags)
        or 0x1160 <= cp <= 0x11FF  # Hangul medial vowels and final consonants (decomposed syllables)
    )


def _control(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Zl", "Zp")


def _is_ri(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


try:
    import regex as _regex
except ImportError:  # pragma: no cover - regex comes with dateparser and transformers
    _regex = None

_CLUSTER: Any = _regex.compile(r"\X") if _regex is not None else None
_BOUNDARY: Callable[[str, int], int] = _regex_boundary if _CLUSTER is not None else rule_boundary


__all__ = ["ELLIPSIS", "count", "grapheme_boundary", "rule_boundary", "shorten"]
