"""departures.py's list walk: the places listed right after a marked one ("fled China and Mongolia") are found
as the walk this release replaced found them (kept below as the reference), reading a few words per pair of
places instead of the whole text between them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mediawatch.classify import departures
from mediawatch.classify.departures import (
    LIST_GAP,
    LIST_WORDS,
    POSSESSIVE,
    Span,
    _listed_after,
    departure_spans,
    destination_spans,
    origins_listed,
)
from mediawatch.classify.gazetteer import evidence, load_gazetteer


def old_listed_after(found: set[int], spans: Sequence[Span], texts: Sequence[str],
                     also: frozenset[str] = frozenset()) -> set[int]:
    """The walk before: rescan every place after each one added, slicing the whole gap each time (cubic)."""
    found = set(found)
    changed = True
    while changed:
        changed = False
        for n, (part, start, _) in enumerate(spans):
            if n in found or start < 0:
                continue
            for m in list(found):
                other_part, _, other_end = spans[m]
                if other_part != part or other_end > start:
                    continue
                gap = texts[part][other_end:start].split()
                if len(gap) <= LIST_GAP and all(w in LIST_WORDS or w in also or w.isdigit() for w in gap):
                    found.add(n)
                    changed = True
                    break
    return found


# words of folded texts: list words, a possessive "s", figures, places and others, with odd whitespace
_word = st.sampled_from(["and", "or", "и", "ve", "percent", "s", "12", "٣", "china", "mongolia", "turkey",
                         "fled", "from", "the", "kazakhs", "x"])
_texts = st.lists(st.lists(_word, max_size=30).flatmap(
    lambda words: st.lists(st.sampled_from([" ", "  ", "\n", "\u00a0", " \u3000"]), min_size=len(words),
                           max_size=len(words)).map(lambda seps: "".join(w + s for w, s in zip(words, seps)))
), min_size=1, max_size=2)


@st.composite
def _case(draw: st.DrawFn) -> tuple[set[int], list[Span], list[str], frozenset[str]]:
    texts = draw(_texts)
    spans: list[Span] = []
    for _ in range(draw(st.integers(0, 12))):
        part = draw(st.integers(0, len(texts) - 1))
        size = len(texts[part])
        if draw(st.integers(0, 9)) == 0:
            spans.append((part, -1, -1))  # an acronym: position unknown
            continue
        # a place's bounds anywhere, even inside a word ("turkistan" in "turkistan dan")
        start = draw(st.integers(0, size))
        spans.append((part, start, draw(st.integers(start, size))))
    marked = draw(st.sets(st.integers(0, max(0, len(spans) - 1))))
    found = {n for n in marked if n < len(spans) and spans[n][1] >= 0}
    return found, spans, texts, draw(st.sampled_from([frozenset(), POSSESSIVE]))


@settings(max_examples=500, deadline=None)
@given(_case())
@example(({0}, [(0, 5, 10), (0, 15, 23), (0, 28, 34)], ["fled china and mongolia s turkey"], POSSESSIVE))
@example(({0}, [(0, 0, 3), (0, 4, 7), (0, 8, 11)], ["aaa 1 bbb 22 ccc"], frozenset()))  # ends inside words
def test_the_list_walk_finds_what_the_old_walk_found(
    case: tuple[set[int], list[Span], list[str], frozenset[str]],
) -> None:
    found, spans, texts, also = case
    assert _listed_after(found, spans, texts, also) == old_listed_after(found, spans, texts, also)


def _words_and_spans(text: str, places: set[str]) -> tuple[list[str], list[Span]]:
    spans: list[Span] = []
    at = 0
    for word in text.split(" "):
        if word in places:
            spans.append((0, at, at + len(word)))
        at += len(word) + 1
    return [text], spans


def test_the_list_walk_on_lists_with_known_answers() -> None:
    places = {"china", "mongolia", "turkey", "iran", "germany"}
    text = "fled china and mongolia s turkey then went to iran 1 2 3 4 5 germany"
    texts, spans = _words_and_spans(text, places)
    assert _listed_after({0}, spans, texts) == {0, 1}  # the "s" of a possessive only when allowed
    assert _listed_after({0}, spans, texts, also=POSSESSIVE) == {0, 1, 2}
    assert _listed_after({3}, spans, texts) == {3}  # five figures are more than a list's gap
    texts, spans = _words_and_spans("china mongolia turkey", places)
    assert _listed_after({1}, spans, texts) == {1, 2}  # only after, never before
    assert _listed_after({2}, spans[::-1], texts) == {2, 1, 0}  # in any order of the spans


def test_the_walks_of_real_texts_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    gaz = load_gazetteer()
    for text in (
        "Kazakh families who fled China, Mongolia and Russia settled in Turkey, Germany and France",
        "Kazakhs moved to Sweden, Norway or Denmark from Turkey and Iran via Pakistan",
        "Қандастар Қытайдан, Моңғолиядан және Өзбекстаннан көшіп келді",
        "Returnees came from Uzbekistan (48 percent), China (21 percent) and Turkmenistan (10 percent)",
    ):
        ev = evidence(gaz, [text])
        _, spans = ev._place_spans()
        assert len(spans) >= 3, text
        for also in (frozenset(), POSSESSIVE):
            for n in range(len(spans)):  # the list walked from each place
                assert _listed_after({n}, spans, ev.texts, also) == old_listed_after({n}, spans, ev.texts, also)
        marked = [walk(spans, ev.texts) for walk in (departure_spans, destination_spans, origins_listed)]
        with monkeypatch.context() as patch:  # and from what the text marks, as before
            patch.setattr(departures, "_listed_after", old_listed_after)
            assert marked == [walk(spans, ev.texts) for walk in (departure_spans, destination_spans, origins_listed)]
        assert any(marked), text


class _Counting(str):
    """A text that counts the characters read out of it by slicing."""

    read = 0

    def __getitem__(self, key: object) -> str:  # type: ignore[override]
        piece = str.__getitem__(self, key)  # type: ignore[index]
        _Counting.read += len(piece)
        return piece


def test_the_list_walk_reads_a_few_words_per_pair_of_places() -> None:
    """Before: every pair of places read the whole text between them, again after each place added (0.5 s for
    200 names, and minutes with the spans in reverse order). Counted, not timed: characters read by slicing."""
    names = [f"place{k:03d}" for k in range(200)]
    text = "kazakhs who fled " + " ".join(f"{name} and" if k % 7 == 3 else name
                                         for k, name in enumerate(names))
    texts, spans = _words_and_spans(text, set(names))
    for order in (spans, spans[::-1]):
        _Counting.read = 0
        found = _listed_after({order.index(spans[0])}, order, [_Counting(text)], POSSESSIVE)
        assert len(found) == 200
        assert _Counting.read <= 20 * len(text), _Counting.read  # a few words per place, not whole gaps
