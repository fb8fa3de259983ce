"""Domain values shared by every stage: frozen, typed, free of I/O.

Everything that enters from outside (feed dicts, HTML trees, YAML mappings) is turned into one of these
types at the module boundary where it enters. Times are timezone-aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

SourceId = NewType("SourceId", str)
ItemId = NewType("ItemId", str)
StoryId = NewType("StoryId", str)

MediaValue = str | int | bool


class SourceKind(StrEnum):
    RSS = "rss"
    YOUTUBE = "youtube"
    PAGE = "page"


class ItemKind(StrEnum):
    ARTICLE = "article"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class RawEntry:
    """What a collector saw, before normalisation (no URL canonicalisation, HTML not yet stripped)."""

    source_id: SourceId
    url: str
    title: str
    kind: ItemKind = ItemKind.ARTICLE
    guid: str | None = None
    summary_html: str | None = None  # untrusted HTML as the source sent it: only ever turned into plain text
    text: str | None = None  # main text (plain) when a page extractor produced it
    published: datetime | None = None
    author: str | None = None
    language: str | None = None
    media: Mapping[str, MediaValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Item:
    """A normalised item: the unit of storage and deduplication."""

    id: ItemId
    source_id: SourceId
    kind: ItemKind
    url: str  # canonical: tracking parameters and fragment dropped, relative links resolved
    title: str
    summary: str  # plain text
    text: str  # plain text (may be empty)
    published: datetime
    fetched: datetime
    published_estimated: bool = False
    language: str | None = None
    author: str | None = None
    guid: str | None = None
    media: Mapping[str, MediaValue] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Classification:
    """The tagger's verdict on one item."""

    item_id: ItemId
    relevant: bool
    relevance: float  # calibrated probability in 0..1
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    why: Mapping[str, object]
    model: str  # embedder name + head version
    taxonomy_hash: str
    classified_at: datetime
    source: str = "model"  # "model" or "editor" (a correction)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """A source's state as the operator sees it (``mediawatch sources``)."""

    source_id: SourceId
    kind: SourceKind
    name: str | None
    url: str | None
    enabled: bool
    last_attempt: datetime | None
    last_success: datetime | None
    consecutive_failures: int
    last_error: str | None
    items_7d: int
    next_check: datetime | None
    notes: Mapping[str, str] = field(default_factory=dict)  # e.g. {"feed_alternate": url, "silent": "…"}
