"""Stories: items that report the same event, across outlets and languages, grouped as they arrive.

Pure functions over typed values; the store loads :class:`OpenStory` values and saves a :class:`StoryPlan`.

How an item finds its story (:func:`assign_stories`)
----------------------------------------------------
New items are taken in (published, item id) order. Each is compared with every story still *open* for it (its
publication time lies within ``window`` of the story's first..last seen span, and at most ``max_span`` after
its first item): the score is the cosine between
the item's e5 passage vector and the story's centroid (the mean of its members' vectors), plus a bonus when the
item shares an *anchor* with the story. The best story (ties: smaller id) is joined when the score reaches the
threshold, otherwise the item starts a story of its own.

Why not a single cosine threshold: e5 cosines sit in a narrow band and are dominated by the language and the
kind of event. Measured on hand-written multilingual cases and on dev.jsonl (tests/test_stories.py), one report
of an event in two languages scores 0.79-0.93, while two *different* Nauryz parties in London written in the
same language score up to 0.94. So the rule has three parts:

* ``threshold`` applies when the item's language is new to the story (a cross-language match);
* ``same_language_threshold`` (higher) applies when the story already has a member in the item's language,
  because same-language reports of similar events are close whatever the event;
* anchors: numbers of two or more digits that are not years (``400`` guests, ``120`` families, ``25`` March)
  are written the same way in every script, and reports of one event share them while reports of similar
  events rarely do. A shared anchor adds ``anchor_bonus`` to the score.

Story ids are derived from the first item's id, so the same items always give the same ids.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from mediawatch.models import Item, ItemId, SourceId, StoryId

DEFAULT_THRESHOLD = 0.86  # measured on the tagger's text (title + lead, Kazakh transliterated)
DEFAULT_SAME_LANGUAGE_THRESHOLD = 0.93
DEFAULT_ANCHOR_BONUS = 0.03
DEFAULT_WINDOW = timedelta(days=4)
# A story is one event: an item published this long after a story's first item starts a new story, however
# close it is. Without it, a recurring item (a weekly column, a templated notice) joined the same story every
# time and, at one item within every window, kept one story open for months.
DEFAULT_MAX_SPAN = timedelta(days=14)
STORY_ID_PREFIX = "st-"
SUMMARY_CHARS = 400  # of the item's summary/text that goes into the story vector with the title

_NUMBER = re.compile(r"(?<![\d.,])(?:\d{1,3}(?:[,.\u00a0\u202f]\d{3})+|\d{2,})(?![\d])")
_SEPARATORS = re.compile(r"[,.\u00a0\u202f]")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")


@dataclass(frozen=True, slots=True)
class StoryCandidate:
    """A new item to place: its unit e5 'passage' vector of :func:`story_text`, and its anchors."""

    item_id: ItemId
    vector: np.ndarray
    published: datetime
    source_id: SourceId
    language: str | None
    anchors: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StoryMember:
    """An item already in a story. ``vector`` may be missing (then ``similarity`` is kept as stored)."""

    item_id: ItemId
    published: datetime
    source_id: SourceId
    language: str | None
    similarity: float
    vector: np.ndarray | None = None
    anchors: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class OpenStory:
    """A story that new items may still join. ``centroid`` is the mean (not normalised) of member vectors."""

    id: StoryId
    centroid: np.ndarray
    size: int
    lead_item_id: ItemId
    first_seen: datetime
    last_seen: datetime
    members: tuple[StoryMember, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedStory:
    """A story to write (new or changed) with all its members' rows."""

    id: StoryId
    lead_item_id: ItemId
    first_seen: datetime
    last_seen: datetime
    size: int
    centroid: np.ndarray
    members: tuple[StoryMember, ...]
    new: bool


@dataclass(frozen=True, slots=True)
class StoryPlan:
    """What :func:`assign_stories` decided: the stories to write and which story each new item joined."""

    stories: tuple[PlannedStory, ...]
    assignments: tuple[tuple[ItemId, StoryId], ...]

    def story_of(self, item_id: str) -> StoryId | None:
        for iid, sid in self.assignments:
            if iid == item_id:
                return sid
        return None


# ---------------------------------------------------------------------------------------------- text helpers


def story_text(title: str, summary: str, text: str = "", lang: str | None = None) -> str:
    """What is embedded for story matching: the tagger's own input (title and lead, Kazakh in Latin or Arabic
    script transliterated to Cyrillic), so an item is embedded once and its vector serves both."""
    from mediawatch.classify.translit import text_for

    return text_for(title or "", text or summary or "", lang=(lang or "und").split("-")[0].lower())


def story_anchors(*texts: str) -> frozenset[str]:
    """Numbers of two or more digits that are not years, in any script's digits (full-width, Arabic-Indic).

    Thousands separators (``10,134``, ``10.134``, ``10 134`` with a no-break or thin space) are removed.
    """
    found: set[str] = set()
    for text in texts:
        for m in _NUMBER.finditer(text or ""):
            digits = "".join(str(unicodedata.decimal(ch)) for ch in m.group(0) if ch.isdecimal())
            value = digits.lstrip("0")
            if len(value) >= 2 and not _YEAR.match(value):
                found.add(value)
    return frozenset(found)


def candidate_for(item: Item, vector: np.ndarray) -> StoryCandidate:
    """The candidate for an item whose :func:`story_text` was embedded (as an e5 passage) into ``vector``."""
    return StoryCandidate(
        item_id=item.id,
        vector=np.asarray(vector, dtype=np.float32),
        published=item.published,
        source_id=item.source_id,
        language=item.language,
        anchors=story_anchors(story_text(item.title, item.summary, item.text, item.language)),
    )


def story_id_for(first_item_id: str) -> StoryId:
    return StoryId(f"{STORY_ID_PREFIX}{first_item_id}"[:64])


# ---------------------------------------------------------------------------------------------- assignment


@dataclass
class _Working:
    """A story while the plan is being made (mutable, private)."""

    id: StoryId
    total: np.ndarray  # sum of member vectors (float64)
    size: int
    first_seen: datetime
    last_seen: datetime
    members: list[StoryMember]
    languages: set[str | None]
    anchors: set[str]
    lead_item_id: ItemId
    new: bool
    changed: bool = False
    unit: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.unit = _unit(self.total)

    def add(self, c: StoryCandidate, similarity: float) -> None:
        self.total = self.total + c.vector.astype(np.float64)
        self.unit = _unit(self.total)
        self.size += 1
        self.first_seen = min(self.first_seen, c.published)
        self.last_seen = max(self.last_seen, c.published)
        self.members.append(
            StoryMember(c.item_id, c.published, c.source_id, c.language, similarity, c.vector, c.anchors)
        )
        self.languages.add(c.language)
        self.anchors |= c.anchors
        self.changed = True


def assign_stories(
    new: Sequence[StoryCandidate],
    open_stories: Sequence[OpenStory],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    window: timedelta = DEFAULT_WINDOW,
    same_language_threshold: float = DEFAULT_SAME_LANGUAGE_THRESHOLD,
    anchor_bonus: float = DEFAULT_ANCHOR_BONUS,
    max_span: timedelta = DEFAULT_MAX_SPAN,
) -> StoryPlan:
    """Place each new item into an open story or a new one; deterministic for the same inputs.

    Items already members of one of ``open_stories`` are skipped (re-running is harmless). ``threshold`` is the
    score needed to join across languages, ``same_language_threshold`` (never below ``threshold``) when the
    story already holds the item's language; ``anchor_bonus`` is added when they share an anchor. A story
    takes no item published more than ``max_span`` after its first one.
    """
    same_lang = max(threshold, same_language_threshold)
    working = [_from_open(s) for s in sorted(open_stories, key=lambda s: s.id)]
    index = _Index(working)
    known = {m.item_id for s in open_stories for m in s.members}
    assignments: list[tuple[ItemId, StoryId]] = []
    for c in sorted(_dedupe(new), key=lambda c: (c.published, c.item_id)):
        if c.item_id in known:
            continue
        known.add(c.item_id)
        vec = np.asarray(c.vector, dtype=np.float32)
        best: _Working | None = None
        best_score, best_cos = -2.0, 0.0
        for i, cos in index.near(vec, c.published, window, max_span, floor=threshold - anchor_bonus):
            s = working[i]
            score = cos + (anchor_bonus if c.anchors & s.anchors else 0.0)
            if score < (same_lang if c.language in s.languages else threshold):
                continue
            # best score wins; an exact tie goes to the smaller story id
            if best is None or score > best_score or (score == best_score and s.id < best.id):
                best, best_score, best_cos = s, score, cos
        c = _with_vector(c, vec)
        if best is None:
            best = _start(c, vec)
            working.append(best)
            index.append(best)
        else:
            best.add(c, best_cos)
            index.update(index.pos[best.id], best)
        assignments.append((c.item_id, best.id))
    stories = tuple(_finish(s) for s in sorted(working, key=lambda s: s.id) if s.changed)
    return StoryPlan(stories=stories, assignments=tuple(assignments))


class _Index:
    """Story unit centroids and time spans as arrays, so one item is compared with every story at once."""

    def __init__(self, stories: Sequence[_Working]) -> None:
        dim = int(stories[0].unit.shape[0]) if stories else 0
        cap = max(64, 2 * len(stories))
        self.units = np.zeros((cap, dim), np.float32)
        self.lo = np.zeros(cap, np.float64)
        self.hi = np.zeros(cap, np.float64)
        self.n = 0
        self.pos: dict[str, int] = {}
        for s in stories:
            self.append(s)

    def append(self, s: _Working) -> None:
        if self.units.shape[1] != s.unit.shape[0]:
            if self.n:
                raise ValueError(f"story {s.id}: vector size {s.unit.shape[0]} != {self.units.shape[1]}")
            self.units = np.zeros((self.units.shape[0], s.unit.shape[0]), np.float32)
        if self.n == self.units.shape[0]:
            grow = self.units.shape[0]
            self.units = np.vstack([self.units, np.zeros_like(self.units)])
            self.lo = np.concatenate([self.lo, np.zeros(grow)])
            self.hi = np.concatenate([self.hi, np.zeros(grow)])
        self.pos[s.id] = self.n
        self.n += 1
        self.update(self.n - 1, s)

    def update(self, i: int, s: _Working) -> None:
        self.units[i] = s.unit
        self.lo[i] = s.first_seen.timestamp()
        self.hi[i] = s.last_seen.timestamp()

    def near(self, vec: np.ndarray, when: datetime, window: timedelta, max_span: timedelta, *,
             floor: float) -> list[tuple[int, float]]:
        """(story index, cosine) for the stories open at ``when`` whose cosine reaches ``floor``."""
        if self.n == 0:
            return []
        t, w = when.timestamp(), window.total_seconds()
        lo, hi = self.lo[: self.n], self.hi[: self.n]
        open_ = np.nonzero((lo - w <= t) & (t <= hi + w) & (t - lo <= max_span.total_seconds()))[0]
        if open_.size == 0:
            return []
        cos = self.units[open_] @ vec
        keep = cos >= floor
        return [(int(i), float(c)) for i, c in zip(open_[keep], cos[keep], strict=True)]


def _dedupe(items: Iterable[StoryCandidate]) -> list[StoryCandidate]:
    seen: dict[str, StoryCandidate] = {}
    for c in items:
        seen.setdefault(c.item_id, c)
    return list(seen.values())


def _with_vector(c: StoryCandidate, vec: np.ndarray) -> StoryCandidate:
    if c.vector is vec:
        return c
    return StoryCandidate(c.item_id, vec, c.published, c.source_id, c.language, c.anchors)


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else np.asarray(v, dtype=np.float32)


def _start(c: StoryCandidate, vec: np.ndarray) -> _Working:
    member = StoryMember(c.item_id, c.published, c.source_id, c.language, 1.0, vec, c.anchors)
    return _Working(
        id=story_id_for(c.item_id),
        total=vec.astype(np.float64),
        size=1,
        first_seen=c.published,
        last_seen=c.published,
        members=[member],
        languages={c.language},
        anchors=set(c.anchors),
        lead_item_id=c.item_id,
        new=True,
        changed=True,
    )


def _from_open(s: OpenStory) -> _Working:
    size = max(1, int(s.size))
    anchors: set[str] = set()
    for m in s.members:
        anchors |= m.anchors
    return _Working(
        id=s.id,
        total=np.asarray(s.centroid, dtype=np.float64) * size,
        size=size,
        first_seen=s.first_seen,
        last_seen=s.last_seen,
        members=list(s.members),
        languages={m.language for m in s.members},
        anchors=anchors,
        lead_item_id=s.lead_item_id,
        new=False,
    )


def _finish(s: _Working) -> PlannedStory:
    """Fresh similarities to the final centroid; the lead is the most central member."""
    members: list[StoryMember] = []
    for m in s.members:
        sim = float(np.dot(np.asarray(m.vector, dtype=np.float32), s.unit)) if m.vector is not None else m.similarity
        members.append(StoryMember(m.item_id, m.published, m.source_id, m.language, round(sim, 6), m.vector, m.anchors))
    members.sort(key=lambda m: (m.published, m.item_id))
    lead = min(members, key=lambda m: (-m.similarity, m.published, m.item_id))
    return PlannedStory(
        id=s.id,
        lead_item_id=lead.item_id,
        first_seen=s.first_seen,
        last_seen=s.last_seen,
        size=s.size,
        centroid=(s.total / s.size).astype(np.float32),
        members=tuple(members),
        new=s.new,
    )


# ---------------------------------------------------------------------------------------------- evaluation


def pairwise_scores(predicted: dict[str, str], gold: dict[str, str]) -> tuple[float, float, int, int, int]:
    """Pairwise precision and recall of a clustering (item -> cluster) against gold (item -> event).

    Returns (precision, recall, true pairs found, predicted pairs, gold pairs); an empty denominator scores 1.0.
    """
    items = sorted(set(predicted) & set(gold))
    tp = pp = gp = 0
    for i, a in enumerate(items):
        for b in items[i + 1 :]:
            same_pred = predicted[a] == predicted[b]
            same_gold = gold[a] == gold[b]
            pp += same_pred
            gp += same_gold
            tp += same_pred and same_gold
    return (tp / pp if pp else 1.0, tp / gp if gp else 1.0, tp, pp, gp)


__all__ = [
    "DEFAULT_ANCHOR_BONUS",
    "DEFAULT_SAME_LANGUAGE_THRESHOLD",
    "DEFAULT_THRESHOLD",
    "DEFAULT_WINDOW",
    "OpenStory",
    "PlannedStory",
    "StoryCandidate",
    "StoryMember",
    "StoryPlan",
    "assign_stories",
    "candidate_for",
    "pairwise_scores",
    "story_anchors",
    "story_id_for",
    "story_text",
]
