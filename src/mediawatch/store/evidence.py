"""The tagger's evidence (``classification.why_json``) as typed values, parsed where it leaves the database.

The tagger (:mod:`mediawatch.classify.tagger`) writes relevance, threshold, places and terms found, country
support, the topic cue words found, topic scores, the detected language and the nearest training examples, and
for a text read in parts each part's relevance. Every field is optional here
and anything malformed is dropped field by field, so an old or hand-edited row never breaks a page or a feed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class PlaceHit:
    name: str
    country: str
    text: str  # the words in the item that matched


@dataclass(frozen=True, slots=True)
class Neighbour:
    text: str
    relevant: bool
    topics: tuple[str, ...]
    similarity: float


@dataclass(frozen=True, slots=True)
class Why:
    """The tagger's evidence for one item (``classification.why_json``), every field optional."""

    relevance: float | None = None
    threshold: float | None = None
    places: tuple[PlaceHit, ...] = ()
    terms: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (kind, surfaces): kazakh, diaspora, other_group
    countries: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (code, names that support it)
    topic_cues: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (topic, cue words found)
    topic_scores: tuple[tuple[str, float], ...] = ()
    topic_thresholds: tuple[tuple[str, float], ...] = ()
    language: str | None = None  # detected
    script: str | None = None
    transliterated_from: str | None = None
    nearest: tuple[Neighbour, ...] = ()
    model: str | None = None
    # a long text is read in parts: each part's relevance (``relevance`` comes from them: see the tagger's
    # item_relevance), and the part (0 = the title and lead) whose places, terms, countries and nearest
    # examples are recorded
    parts: tuple[float, ...] = ()
    evidence_from: int | None = None

    def score(self, topic: str) -> float | None:
        return dict(self.topic_scores).get(topic)

    def support(self, country: str) -> tuple[str, ...]:
        """The names behind ``country``, a place in the gazetteer's spelling ("Bayan-Ölgii", not the folded
        "bayan-olgii" the tagger matched), a community name as matched."""
        spelled = {p.text: p.name for p in self.places if p.text and p.name}
        return tuple(dict.fromkeys(spelled.get(n, n) for n in dict(self.countries).get(country, ())))


def parse_why(text: str | None) -> Why | None:
    """The evidence JSON as a :class:`Why`; anything malformed is dropped field by field, never raised."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    lang_data = data.get("language")
    lang: dict[str, Any] = lang_data if isinstance(lang_data, dict) else {}
    parts_data = data.get("parts")
    parts: dict[str, Any] = parts_data if isinstance(parts_data, dict) else {}
    places = tuple(
        PlaceHit(str(p.get("name", "")), str(p.get("country", "")), str(p.get("text", "")))
        for p in _list(data.get("places"))
        if isinstance(p, dict)
    )
    nearest = tuple(
        Neighbour(
            str(n.get("text", "")),
            bool(n.get("relevant")),
            tuple(str(x) for x in _list(n.get("topics"))),
            _float(n.get("similarity")) or 0.0,
        )
        for n in _list(data.get("nearest"))
        if isinstance(n, dict)
    )
    return Why(
        relevance=_float(data.get("relevance")),
        threshold=_float(data.get("threshold")),
        places=places,
        terms=_groups(data.get("terms")),
        countries=_groups(data.get("countries")),
        topic_cues=_groups(data.get("topic_cues")),
        topic_scores=_scores(data.get("topic_scores")),
        topic_thresholds=_scores(data.get("topic_thresholds")),
        language=_str(lang.get("detected")),
        script=_str(lang.get("script")),
        transliterated_from=_str(lang.get("transliterated_from")),
        nearest=nearest,
        model=_str(data.get("model")),
        parts=tuple(f for v in _list(parts.get("relevance")) if (f := _float(v)) is not None),
        evidence_from=_int(parts.get("evidence_from")),
    )


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: object) -> str | None:
    return str(value) if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _groups(value: object) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(
        (str(k), tuple(str(x) for x in _list(v)))
        for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        if _list(v)
    )


def _scores(value: object) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(
        (str(k), f)
        for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        if (f := _float(v)) is not None
    )


__all__ = ["Neighbour", "PlaceHit", "Why", "parse_why"]
