"""Words for people reading reports, digests and pages: counts with the right plural, text cut to a length,
outside text isolated from the line around it.

:func:`shorten` is the one way text is cut for display (feed summaries, digest summaries, chart labels): at the
last space when one lies in the last 30 % of the room, else at a grapheme-cluster boundary, so a cut never
leaves half a word when a word boundary is near, nor half a character: a flag's second regional indicator, the
rest of a ZWJ emoji sequence, a combining accent or a variation selector. Text without spaces (Chinese,
Japanese, one long URL) is cut at a grapheme boundary. Grapheme clusters come from the ``regex`` module's
``\\X``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import cache
from typing import Any

ELLIPSIS = "…"
WORD_ROOM = 0.3  # cut at a space when one lies within the last 30 % of the allowed length
TRAILING = " \t,;:—–-"  # dropped before the ellipsis: "word, …" reads as "word…"
FSI, PDI = "\u2068", "\u2069"  # first strong isolate, pop directional isolate
# embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): in outside text they could
# reverse the rest of our line ("Trojan Source"); isolate() sets the text's direction itself
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 source``, ``2 sources``, ``0 sources`` (``plural`` for nouns that do not just take an s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def isolate(text: str) -> str:
    """Outside text (a title, a matched name, an editor's note) for a line of plain text in English: its own
    directional controls removed and, when it holds right-to-left letters (Kazakh in Arabic script, Persian),
    set between FSI and PDI. In a left-to-right line, a list of such names would otherwise show in reverse
    order and carry the punctuation after them along. HTML pages use ``<bdi>`` and ``dir="auto"`` instead."""
    text = _BIDI_CONTROLS.sub("", text)
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return f"{FSI}{text}{PDI}"
    return text


def shorten(text: str, limit: int, *, ellipsis: str = ELLIPSIS) -> str:
    """``text`` when it has at most ``limit`` code points, else a prefix ending in ``ellipsis`` whose total
    length is at most ``limit``: cut at a word boundary when one is close, else at a grapheme boundary."""
    if len(text) <= limit:
        return text
    room = limit - len(ellipsis)
    if room <= 0:
        return ellipsis[: max(0, limit)]
    cut = grapheme_boundary(text, room)
    space = _last_space(text, math.ceil(room * (1 - WORD_ROOM)), cut)
    if space is not None:
        cut = space
    return text[:cut].rstrip(TRAILING) + ellipsis


def grapheme_boundary(text: str, at: int) -> int:
    """The largest grapheme-cluster boundary of ``text`` at or before index ``at`` (0 when there is none)."""
    if at >= len(text):
        return len(text)
    if at <= 0:
        return 0
    # Clusters are read from a space a little before ``at`` (a cluster never starts inside one, and what comes
    # before a space cannot change where the clusters after it break), else from the start; never past at + 64.
    start = max(0, text.rfind(" ", 0, max(0, at - 16)))
    end = start
    for m in _clusters().finditer(text, start, min(len(text), at + 64)):
        if m.end() > at:
            break
        end = m.end()
    return end


_LAST_SPACE = re.compile(r".*(\s)", re.DOTALL)  # greedy: the last whitespace of the string, in one pass


def _last_space(text: str, start: int, end: int) -> int | None:
    """The index of the last whitespace in ``text[start:end + 1]`` (``text[end]`` itself may be the space:
    cutting there drops nothing visible), or None."""
    m = _LAST_SPACE.match(text, start, min(len(text), end + 1))
    return m.start(1) if m else None


@cache
def _clusters() -> Any:
    """One extended grapheme cluster (UAX #29); imported on first use, so ``mediawatch --help`` stays light."""
    import regex

    return regex.compile(r"\X")


__all__ = ["ELLIPSIS", "FSI", "PDI", "count", "grapheme_boundary", "isolate", "shorten"]
