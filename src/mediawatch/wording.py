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
# Embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI), as the inside of a regular
# expression's character class. In outside text they reorder or re-embed the rest of a title or a line
# ("Trojan Source": a title ending "photo \u202egnp.exe" shows as "photo exe.png"), so they are removed:
# at collection (mediawatch.normalize) and again in every output, for items stored before. Our own pages set
# directions themselves (``dir="auto"``, ``<bdi>``, :func:`isolate`). The marks U+200E/U+200F (and U+061C)
# stay: they reorder no letters, they only decide the side a neutral character next to them (a full stop, a
# bracket) goes to, and right-to-left writers need them for that (a Latin word at the end of a Persian or
# Arabic-script Kazakh sentence); collection drops one only at either end of a title.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_BIDI_CONTROLS = re.compile(f"[{BIDI_CONTROLS}]")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 source``, ``2 sources``, ``0 sources`` (``plural`` for nouns that do not just take an s)."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def isolate(text: str) -> str:
    """Outside text (a title, a matched name, an editor's note) for a line of plain text in English: its own
    directional controls removed and, when it holds right-to-left letters (Kazakh in Arabic script, Persian),
    set between FSI and PDI. In a left-to-right line, a list of such names would otherwise show in reverse
    order and carry the punctuation after them along. HTML pages use ``<bdi>`` and ``dir="auto"`` instead."""
    text = without_bidi_controls(text)
    if any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text):
        return f"{FSI}{text}{PDI}"
    return text


def without_bidi_controls(text: str) -> str:
    """``text`` without directional embeddings, overrides and isolates (see :data:`BIDI_CONTROLS`)."""
    return _BIDI_CONTROLS.sub("", text)


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


__all__ = [
    "BIDI_CONTROLS",
    "ELLIPSIS",
    "FSI",
    "PDI",
    "count",
    "grapheme_boundary",
    "isolate",
    "shorten",
    "without_bidi_controls",
]
