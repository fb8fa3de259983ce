"""Subscriber feeds (Atom via feedgen, and JSON Feed 1.1) for a topic, a country or a topic × country pair.

Pure functions: the entries come in as :class:`TaggedItem` values, bytes come out. The same inputs give the
same bytes (no clock is read: a feed's ``updated`` is its newest entry's), so rewriting an unchanged feed
changes nothing for readers and caches. Entry ids are tag: URIs built from the item id and never change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from mediawatch.codes import TOPIC_ID
from mediawatch.digest.names import country_name, topic_name
from mediawatch.digest.render import safe_url
from mediawatch.publish.text import entry_html, entry_text, language_tag, plain, source_label, source_name
from mediawatch.store.queries import TaggedItem

if TYPE_CHECKING:
    from mediawatch.settings import Settings

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
LINK_FORM = "links-0005"  # the migration that last rewrote stored item URLs (see FeedOptions.fingerprint)
_COUNTRY = re.compile(r"^[A-Z]{2}\Z")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True, slots=True)
class FeedOptions:
    """What goes into every feed. ``base_url``: where the web app (or the digests folder) is served."""

    max_entries: int = 100
    max_age: timedelta = timedelta(days=30)
    base_url: str | None = None
    site_title: str = "mediawatch"
    tag_authority: str = "mediawatch,2025"  # RFC 4151 taggingEntity; changing it changes every id

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedOptions:
        """The defaults, with the operator's public address (``MEDIAWATCH_BASE_URL``) when set."""
        return cls(base_url=settings.base_url)

    def fingerprint(self) -> str:
        """What the feed files were built with; another one makes the next build a full one. ``LINK_FORM``: the
        stored URLs were rewritten (migrations 0004, 0005), so files built before carry links in an older form."""
        seconds = int(self.max_age.total_seconds())
        return f"{self.max_entries}|{seconds}|{self.base_url}|{self.tag_authority}|{LINK_FORM}"


@dataclass(frozen=True, slots=True)
class FeedKey:
    """A feed: one topic, one country, or a topic in a country."""

    topic: str | None = None
    country: str | None = None

    @classmethod
    def parse(cls, topic: str | None, country: str | None) -> FeedKey | None:
        """The key when both parts are well-formed (safe as path segments), else None."""
        if topic is None and country is None:
            return None
        if topic is not None and not TOPIC_ID.match(topic):
            return None
        if country is not None and not _COUNTRY.match(country):
            return None
        return cls(topic, country)

    @property
    def name(self) -> str:
        """The path below ``feeds/`` without extension: topics/x, countries/XX, topics/x/countries/XX."""
        if self.topic and self.country:
            return f"topics/{self.topic}/countries/{self.country}"
        return f"topics/{self.topic}" if self.topic else f"countries/{self.country}"

    def path(self, ext: str) -> str:
        """Relative path (and URL path) from the digests folder: feeds/<name>.<ext>."""
        return f"feeds/{self.name}.{ext}"

    @property
    def title(self) -> str:
        if self.topic and self.country:
            return f"{topic_name(self.topic)} — {country_name(self.country)}"
        return topic_name(self.topic) if self.topic else country_name(self.country or "")

    def sort_key(self) -> tuple[str, str]:
        return (self.topic or "", self.country or "")

    def matches(self, item: TaggedItem) -> bool:
        return (
            bool(item.relevant)
            and (self.topic is None or self.topic in item.topics)
            and (self.country is None or self.country in item.countries)
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """One item's feed entry, made once per rebuild and shared by every feed (and both formats) it is in."""

    item: TaggedItem
    id: str
    title: str
    link: str | None
    summary: str
    html: str
    text: str
    author: str | None
    language: str | None
    source_title: str
    source_link: str | None
    categories: tuple[tuple[str, str, str], ...]  # (term, scheme, label)
    atom: FeedEntry  # feedgen renders it anew into each feed it is added to


EntryCache = dict[str, Entry]
"""Prepared entries by item id for the feeds of one rebuild (items from one reading of the store)."""


def prepare_entry(item: TaggedItem, options: FeedOptions) -> Entry:
    author = plain(item.author, 200) if item.author else ""
    fields: dict[str, Any] = dict(
        item=item,
        id=item_tag_uri(item.id, options),
        title=plain(item.title) or "(untitled)",
        link=safe_url(item.url),
        summary=plain(item.summary, 300),
        html=entry_html(item),
        text=entry_text(item),
        author=author or None,
        language=language_tag(item.language),
        source_title=source_label(item),
        source_link=_source_link(item),
        categories=tuple(_categories(item, options)),
    )
    return Entry(**fields, atom=_atom_entry(fields))


def _entries(items: Sequence[TaggedItem], options: FeedOptions, cache: EntryCache | None) -> list[Entry]:
    if cache is None:
        return [prepare_entry(it, options) for it in items]
    out = []
    for it in items:
        entry = cache.get(it.id)
        if entry is None:
            entry = cache[it.id] = prepare_entry(it, options)
        out.append(entry)
    return out


def feed_keys_of(item: TaggedItem) -> set[FeedKey]:
    """Every feed a relevant item belongs to (none for an item that is not relevant)."""
    if not item.relevant:
        return set()
    keys = {FeedKey.parse(tp, None) for tp in item.topics} | {FeedKey.parse(None, c) for c in item.countries}
    keys |= {FeedKey.parse(tp, c) for tp in item.topics for c in item.countries}
    return {k for k in keys if k is not None}


def pick_entries(
    items: Iterable[TaggedItem], key: FeedKey, *, now: datetime, options: FeedOptions
) -> list[TaggedItem]:
    """The key's entries: relevant, published within ``max_age`` of ``now``, newest first, capped."""
    since = now - options.max_age
    chosen = [it for it in items if key.matches(it) and it.published >= since]
    chosen.sort(key=lambda it: (it.published, it.id), reverse=True)
    return chosen[: options.max_entries]


def feed_updated(entries: Sequence[TaggedItem], fallback: datetime | None = None) -> datetime:
    """The newest entry's update time (a feed without entries: ``fallback``, else the epoch; callers pass
    :func:`mediawatch.publish.write.empty_feed_updated`)."""
    if entries:
        return max(it.updated for it in entries)
    return fallback or EPOCH


def item_tag_uri(item_id: str, options: FeedOptions) -> str:
    return f"tag:{options.tag_authority}:item/{quote(item_id, safe='')}"


def feed_tag_uri(key: FeedKey, options: FeedOptions) -> str:
    return f"tag:{options.tag_authority}:feed/{key.name}"


def render_atom(
    key: FeedKey,
    items: Sequence[TaggedItem],
    *,
    updated: datetime,
    options: FeedOptions,
    cache: EntryCache | None = None,
) -> bytes:
    """The Atom document (feedgen). ``cache`` shares prepared entries between feeds of one rebuild."""
    fg = FeedGenerator()
    fg.id(feed_tag_uri(key, options))
    fg.title(f"{options.site_title}: {key.title}")
    fg.subtitle(_subtitle(key, options))
    fg.updated(updated)
    fg.author(name=options.site_title)
    fg.generator(options.site_title)
    for rel, href in _feed_links(key, options, "atom"):
        fg.link(href=href, rel=rel, type="application/atom+xml" if rel == "self" else "text/html")
    for entry in _entries(items, options, cache):
        fg.add_entry(entry.atom, order="append")
    return bytes(fg.atom_str(pretty=True))


def render_json(
    key: FeedKey,
    items: Sequence[TaggedItem],
    *,
    updated: datetime,
    options: FeedOptions,
    cache: EntryCache | None = None,
) -> bytes:
    """The JSON Feed 1.1 document (compact UTF-8 JSON, keys in a fixed order)."""
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": f"{options.site_title}: {key.title}",
        "description": _subtitle(key, options),
    }
    for rel, href in _feed_links(key, options, "json"):
        feed["feed_url" if rel == "self" else "home_page_url"] = href
    feed["authors"] = [{"name": options.site_title}]
    feed["_mediawatch"] = {
        "id": feed_tag_uri(key, options),
        "updated": _rfc3339(updated),
        "topic": key.topic,
        "country": key.country,
    }
    feed["items"] = [_json_item(entry) for entry in _entries(items, options, cache)]
    return (_json_text(feed) + "\n").encode("utf-8")


# ---------------------------------------------------------------------------------------------- helpers


class _EntryLanguage(BaseEntryExtension):  # type: ignore[misc]
    """feedgen has no per-entry language: put the item's language on the entry as xml:lang."""

    def __init__(self) -> None:
        self.lang: str | None = None

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        if self.lang:
            entry.attrib[_XML_LANG] = self.lang
        return entry


def _atom_entry(e: dict[str, Any]) -> FeedEntry:
    item: TaggedItem = e["item"]
    fe = FeedEntry()
    fe.register_extension("mw_lang", _EntryLanguage, atom=True, rss=False)
    fe.mw_lang.lang = e["language"]
    fe.id(e["id"])
    fe.title(e["title"])
    fe.updated(item.updated)
    fe.published(item.published)
    if e["link"]:
        fe.link(href=e["link"], rel="alternate", type="text/html")
    if e["author"]:
        fe.author(name=e["author"])
    if e["summary"]:
        fe.summary(e["summary"])
    fe.content(e["html"], type="html")
    for term, scheme, label in e["categories"]:
        fe.category(term=term, scheme=scheme, label=label)
    if e["source_link"]:
        fe.source(url=e["source_link"], title=e["source_title"])
    return fe


def _json_item(entry: Entry) -> dict[str, Any]:
    item = entry.item
    out: dict[str, Any] = {"id": entry.id}
    if entry.link:
        out["url"] = entry.link
    out["title"] = entry.title
    out["content_html"] = entry.html
    out["content_text"] = entry.text
    if entry.summary:
        out["summary"] = entry.summary
    out["date_published"] = _rfc3339(item.published)
    out["date_modified"] = _rfc3339(item.updated)
    if entry.author:
        out["authors"] = [{"name": entry.author}]
    if entry.language:
        out["language"] = entry.language
    out["tags"] = [*item.topics, *item.countries]
    out["_mediawatch"] = {
        "item_id": item.id,
        "source": {"id": item.source_id, "name": source_name(item) or None, "url": entry.source_link},
        "topics": list(item.topics),
        "countries": list(item.countries),
        # as `export` gives it: an editor's label wins (1.0 or 0.0); the model's own score stays beside it
        "relevance": (1.0 if item.relevant else 0.0) if item.labeled else _rounded(item.relevance),
        "model_relevance": _rounded(item.relevance),
        "labeled_by_editor": item.labeled,
        "story_id": item.story_id,
    }
    return out


def _rounded(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _categories(item: TaggedItem, options: FeedOptions) -> list[tuple[str, str, str]]:
    base = f"tag:{options.tag_authority}"
    return [(tp, f"{base}:topic", topic_name(tp)) for tp in item.topics] + [
        (c, f"{base}:country", country_name(c)) for c in item.countries
    ]


def _source_link(item: TaggedItem) -> str | None:
    """The source's http(s) address (feed or page), else the origin of the item's own URL."""
    located = safe_url(item.source_url)
    if located:
        return located
    link = safe_url(item.url)
    if link:
        scheme, _, rest = link.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}/"
    return None


def _feed_links(key: FeedKey, options: FeedOptions, ext: str) -> list[tuple[str, str]]:
    if not options.base_url:
        return []
    base = options.base_url.rstrip("/") + "/"
    query = "&".join(f"{k}={quote(v)}" for k, v in (("topic", key.topic), ("country", key.country)) if v)
    return [("self", base + key.path(ext)), ("alternate", f"{base}?{query}")]


def _subtitle(key: FeedKey, options: FeedOptions) -> str:
    days = int(options.max_age.total_seconds() // 86400)
    return (
        f"Items about Kazakh diaspora communities tagged {key.title}: newest first, "
        f"at most {options.max_entries} from the last {days} days. Each entry says why it was included."
    )


def _json_text(data: object) -> str:
    """Compact UTF-8 JSON with ``<``, ``>`` and ``&`` as \\u escapes: the same values for every JSON reader,
    and no markup-looking bytes for anything that sniffs the file as HTML (a source name such as
    ``Edge & <Test> Outlet`` is text, kept verbatim). Outside strings JSON has none of these characters."""
    out = json.dumps(data, ensure_ascii=False)
    return out.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


__all__ = [
    "EPOCH",
    "Entry",
    "EntryCache",
    "FeedKey",
    "FeedOptions",
    "prepare_entry",
    "feed_keys_of",
    "feed_tag_uri",
    "feed_updated",
    "item_tag_uri",
    "pick_entries",
    "render_atom",
    "render_json",
]
