"""Read-only queries for the web pages, the subscriber feeds and the metrics: typed values out, never rows.

Filtering uses the ``tag`` table (the effective tags: an editor's label wins over the model); the tags shown
with each item are read from the label/classification pair with the same rule. ``classification.why_json`` is
turned into a :class:`~mediawatch.store.evidence.Why` as it leaves the database: no JSON dict travels on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, func, literal, or_, select

from mediawatch.models import ItemId, SourceId, StoryId
from mediawatch.store import schema as t
from mediawatch.store.dialect import IN_LIST_SIZE, bytewise, contains_folded, in_lists
from mediawatch.store.evidence import Why, parse_why
from mediawatch.store.stories import DigestRecord

TEXT_PREFIX = 4000  # characters of the main text an item page shows
_ITEM_COLUMNS = "id source_id kind url title summary published fetched lang author".split()


@dataclass(frozen=True, slots=True)
class TaggedItem:
    """An item with its source name, effective tags (label first), the evidence and its story."""

    id: ItemId
    source_id: SourceId
    source_name: str | None
    source_url: str | None
    kind: str
    url: str
    title: str
    summary: str
    text: str  # empty in lists; the first TEXT_PREFIX characters on item queries
    published: datetime
    fetched: datetime
    language: str | None
    author: str | None
    relevant: bool | None  # None: never classified nor labeled
    relevance: float | None
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    labeled: bool
    labeled_at: datetime | None
    editor: str | None
    note: str | None
    classified: bool
    why: Why | None
    story_id: StoryId | None

    @property
    def updated(self) -> datetime:
        """When the entry last changed for a subscriber: published, or an editor's later correction."""
        if self.labeled_at is not None and self.labeled_at > self.published:
            return self.labeled_at
        return self.published


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """Filters for :meth:`QueryStore.find_items`; every field narrows, None means any."""

    topic: str | None = None
    country: str | None = None
    language: str | None = None
    source: str | None = None
    since: datetime | None = None  # published >= since
    until: datetime | None = None  # published < until
    search: str | None = None  # title, summary or text contains it (case-insensitive)
    relevant_only: bool = True
    item_ids: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class FeedKeyRow:
    """A topic, a country or a pair that has relevant items, with the newest item's publication time."""

    topic: str | None
    country: str | None
    newest: datetime
    items: int


@dataclass(frozen=True, slots=True)
class Facets:
    """Values present among relevant items, with counts, for filter menus."""

    topics: tuple[tuple[str, int], ...]
    countries: tuple[tuple[str, int], ...]
    languages: tuple[tuple[str, int], ...]
    sources: tuple[tuple[str, str | None, int], ...]  # (id, name, relevant items)


@dataclass(frozen=True, slots=True)
class StoreCounts:
    items: int
    relevant: int
    sources_enabled: int
    sources_failing: int
    stories: int
    newest_fetch: datetime | None = field(default=None)
    database_bytes: int | None = field(default=None)  # SQLite's file (WAL excluded), PostgreSQL's database


class QueryStore:
    engine: Engine

    def find_items(
        self, query: ItemQuery, *, limit: int | None = 50, offset: int = 0, with_why: bool = False
    ) -> list[TaggedItem]:
        """Items matching ``query``, newest first (published, then id, both descending)."""
        q = _base(with_why=with_why, with_text=False)
        q = q.where(*_conditions(query)).order_by(t.item.c.published.desc(), bytewise(t.item.c.id).desc())
        if limit is not None:
            q = q.limit(limit)
        if offset:
            q = q.offset(offset)
        with self.engine.connect() as conn:
            if query.item_ids is not None and len(query.item_ids) > IN_LIST_SIZE:
                rows: list[Any] = []
                for ids in in_lists(sorted(set(query.item_ids))):
                    chunk = ItemQuery(**{**_fields(query), "item_ids": tuple(ids)})
                    sub = _base(with_why=with_why, with_text=False).where(*_conditions(chunk))
                    rows.extend(conn.execute(sub))
                rows.sort(key=lambda r: (r.published, r.id), reverse=True)
                rows = rows[offset:][: limit if limit is not None else None]
            else:
                rows = list(conn.execute(q))
        return [_tagged_item(r, with_why=with_why) for r in rows]

    def count_items_matching(self, query: ItemQuery) -> int:
        """How many items :meth:`find_items` returns for ``query`` without a limit (the list's last page)."""
        ids = sorted(set(query.item_ids)) if query.item_ids is not None else None
        parts = [query] if ids is None else [
            ItemQuery(**{**_fields(query), "item_ids": tuple(part)}) for part in in_lists(ids)
        ]
        with self.engine.connect() as conn:
            counted = (select(func.count()).select_from(t.item).where(*_conditions(part)) for part in parts)
            return sum(int(conn.execute(q).scalar_one()) for q in counted)

    def tagged_item(self, item_id: str) -> TaggedItem | None:
        """One item, relevant or not, with its main text (prefix) and evidence."""
        q = _base(with_why=True, with_text=True).where(t.item.c.id == item_id)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return _tagged_item(row, with_why=True) if row is not None else None

    def feed_keys(self) -> list[FeedKeyRow]:
        """Every topic, country and topic × country pair with relevant items (all time), sorted."""
        tg, it = t.tag, t.item
        out: list[FeedKeyRow] = []
        with self.engine.connect() as conn:
            for axis in ("topic", "country"):
                q = (
                    select(tg.c.value, func.max(it.c.published), func.count())
                    .join(it, it.c.id == tg.c.item_id)
                    .where(tg.c.axis == axis)
                    .group_by(tg.c.value)
                )
                for value, newest, n in conn.execute(q):
                    topic, country = (value, None) if axis == "topic" else (None, value)
                    out.append(FeedKeyRow(topic, country, _aware(newest), int(n)))
            t2 = tg.alias("t2")
            q = (
                select(tg.c.value, t2.c.value, func.max(it.c.published), func.count())
                .join(t2, and_(t2.c.item_id == tg.c.item_id, t2.c.axis == "country"))
                .join(it, it.c.id == tg.c.item_id)
                .where(tg.c.axis == "topic")
                .group_by(tg.c.value, t2.c.value)
            )
            for topic, country, newest, n in conn.execute(q):
                out.append(FeedKeyRow(topic, country, _aware(newest), int(n)))
        out.sort(key=lambda k: (k.topic is None, k.topic or "", k.country or ""))
        return out

    def feed_key(self, topic: str | None, country: str | None) -> FeedKeyRow | None:
        """One topic/country/pair: relevant item count and newest publication time (None without items)."""
        q = select(func.max(t.item.c.published), func.count()).select_from(t.item)
        if topic is not None:
            q = q.where(_has_tag("topic", topic))
        if country is not None:
            q = q.where(_has_tag("country", country))
        with self.engine.connect() as conn:
            newest, n = conn.execute(q).one()
        return FeedKeyRow(topic, country, _aware(newest), int(n)) if n else None

    def published_before(self, item_ids: Sequence[str], until: datetime) -> set[ItemId]:
        """Those of ``item_ids`` published before ``until`` (the feeds' check for entries that left their
        window: primary-key look-ups, no joins)."""
        out: set[ItemId] = set()
        with self.engine.connect() as conn:
            for ids in in_lists(sorted(set(item_ids))):
                q = select(t.item.c.id).where(t.item.c.id.in_(list(ids)), t.item.c.published < until)
                out.update(ItemId(i) for i in conn.execute(q).scalars())
        return out

    def labels_since(self, since: datetime | None) -> list[tuple[ItemId, datetime]]:
        """Editor labels written at or after ``since`` (all when None), oldest first."""
        lb = t.label.c
        q = select(lb.item_id, lb.labeled_at).order_by(lb.labeled_at, bytewise(lb.item_id))
        if since is not None:
            q = q.where(t.label.c.labeled_at >= since)
        with self.engine.connect() as conn:
            return [(ItemId(i), at) for i, at in conn.execute(q)]

    def removed_from_feed(self, topic: str | None, country: str | None) -> datetime | None:
        """When an editor's label last took an item out of this topic/country/pair: the newest ``labeled_at``
        of a labeled item that the model had put there (relevant, with the tags) and the label does not."""
        lb, c = t.label.c, t.classification.c
        q = select(
            lb.labeled_at, lb.relevant, lb.topics, lb.countries, c.relevant, c.topics, c.countries
        ).join(t.classification, c.item_id == lb.item_id)

        def inside(relevant: bool, topics: str | None, countries: str | None) -> bool:
            return (
                bool(relevant)
                and (topic is None or topic in (topics or "").split())
                and (country is None or country in (countries or "").split())
            )

        newest: datetime | None = None
        with self.engine.connect() as conn:
            for at, l_rel, l_top, l_cc, c_rel, c_top, c_cc in conn.execute(q):
                if inside(c_rel, c_top, c_cc) and not inside(l_rel, l_top, l_cc):
                    moment = _aware(at)
                    newest = moment if newest is None or moment > newest else newest
        return newest

    def watching_since(self) -> datetime | None:
        """When the first source was registered (None in an empty database)."""
        with self.engine.connect() as conn:
            first = conn.execute(select(func.min(t.source.c.added_at))).scalar_one()
        return _aware(first) if first is not None else None

    def facets(self) -> Facets:
        tg, it = t.tag, t.item
        relevant_items = tg.join(it, it.c.id == tg.c.item_id)
        with self.engine.connect() as conn:
            by_axis: dict[str, list[tuple[str, int]]] = {"topic": [], "country": []}
            q = select(tg.c.axis, tg.c.value, func.count()).where(tg.c.axis.in_(list(by_axis)))
            for axis, value, n in conn.execute(
                q.group_by(tg.c.axis, tg.c.value).order_by(bytewise(tg.c.axis), bytewise(tg.c.value))
            ):
                by_axis[axis].append((value, int(n)))
            langs = conn.execute(
                select(it.c.lang, func.count())
                .select_from(relevant_items)
                .where(tg.c.axis == "relevant", it.c.lang.is_not(None))
                .group_by(it.c.lang)
                .order_by(bytewise(it.c.lang))
            ).all()
            counts = (
                select(it.c.source_id, func.count().label("n"))
                .select_from(relevant_items)
                .where(tg.c.axis == "relevant")
                .group_by(it.c.source_id)
                .subquery()
            )
            sources = conn.execute(
                select(t.source.c.id, t.source.c.name, func.coalesce(counts.c.n, 0))
                .join(counts, counts.c.source_id == t.source.c.id, isouter=True)
                .order_by(bytewise(t.source.c.id))
            ).all()
        return Facets(
            topics=tuple(by_axis["topic"]),
            countries=tuple(by_axis["country"]),
            languages=tuple((str(lang), int(n)) for lang, n in langs),
            sources=tuple((str(i), name, int(n)) for i, name, n in sources),
        )

    def digests(self) -> list[DigestRecord]:
        """Written digests, newest week first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.digest).order_by(bytewise(t.digest.c.week).desc())).all()
        return [
            DigestRecord(r.week, r.generated_at, r.path_md, r.path_html, int(r.relevant_items)) for r in rows
        ]

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        with self.engine.connect() as conn:
            return conn.execute(select(literal(1))).scalar_one() == 1

    def counts(self) -> StoreCounts:
        """Totals for metrics gauges (one round trip per number; all indexed or small tables)."""
        with self.engine.connect() as conn:

            def one(q: Any) -> Any:
                return conn.execute(q).scalar_one()

            return StoreCounts(
                items=int(one(select(func.count()).select_from(t.item))),
                relevant=int(one(select(func.count()).select_from(t.tag).where(t.tag.c.axis == "relevant"))),
                sources_enabled=int(
                    one(select(func.count()).select_from(t.source).where(t.source.c.enabled.is_(True)))
                ),
                sources_failing=int(
                    one(
                        select(func.count())
                        .select_from(t.source)
                        .join(t.source_state, t.source_state.c.source_id == t.source.c.id)
                        .where(t.source.c.enabled.is_(True), t.source_state.c.consecutive_failures > 0)
                    )
                ),
                stories=int(one(select(func.count()).select_from(t.story))),
                newest_fetch=_aware(one(select(func.max(t.item.c.fetched)))),
                database_bytes=_database_bytes(conn),
            )


# ---------------------------------------------------------------------------------------------- helpers


def _database_bytes(conn: Any) -> int | None:
    """The database's size on disk: an operator's archive grows by about 8 MB per 1,000 tagged items."""
    if conn.dialect.name == "sqlite":
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
        return int(pages) * int(conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    if conn.dialect.name == "postgresql":
        return int(conn.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())
    return None


def _base(*, with_why: bool, with_text: bool) -> Any:
    i, c, lb = t.item.c, t.classification.c, t.label.c
    cols: list[Any] = [getattr(i, n) for n in _ITEM_COLUMNS]
    cols += [t.source.c.name.label("source_name"), t.source.c.locator.label("source_url")]
    cols.append(t.story_item.c.story_id)
    cols += [getattr(c, n).label(f"c_{n}") for n in ("relevant", "relevance", "countries", "topics")]
    cols += [getattr(lb, n).label(f"l_{n}") for n in ("relevant", "countries", "topics", "editor", "note")]
    cols += [c.classified_at.label("c_at"), lb.labeled_at.label("l_at")]
    if with_why:
        cols.append(c.why_json.label("c_why"))
    if with_text:
        cols.append(func.substr(i.text, 1, TEXT_PREFIX).label("text"))
    return (
        select(*cols)
        .select_from(t.item)
        .join(t.source, t.source.c.id == i.source_id, isouter=True)
        .join(t.classification, c.item_id == i.id, isouter=True)
        .join(t.label, lb.item_id == i.id, isouter=True)
        .join(t.story_item, t.story_item.c.item_id == i.id, isouter=True)
    )


def _has_tag(axis: str, value: str) -> Any:
    """``item.id IN (tag rows)``: SQLite drives such a query from the tag index (fast for rare tags)."""
    return t.item.c.id.in_(select(t.tag.c.item_id).where(t.tag.c.axis == axis, t.tag.c.value == value))


def _is_relevant() -> Any:
    """A correlated EXISTS: cheap per row, and it lets "newest relevant items" walk the published index."""
    return exists().where(t.tag.c.item_id == t.item.c.id, t.tag.c.axis == "relevant", t.tag.c.value == "yes")


def _conditions(query: ItemQuery) -> list[Any]:
    i = t.item.c
    out: list[Any] = []
    if query.relevant_only:
        out.append(_is_relevant())
    if query.topic:
        out.append(_has_tag("topic", query.topic))
    if query.country:
        out.append(_has_tag("country", query.country.upper()))
    if query.language:
        out.append(i.lang == query.language)
    if query.source:
        out.append(exists().where(t.item_source.c.item_id == i.id, t.item_source.c.source_id == query.source))
    if query.since is not None:
        out.append(i.published >= query.since)
    if query.until is not None:
        out.append(i.published < query.until)
    if query.item_ids is not None:
        out.append(i.id.in_(list(query.item_ids)))
    if query.search and query.search.strip():
        out.append(_search(query.search.strip()))
    return out


def _search(text: str) -> Any:
    """Case-insensitive substring match on title, summary and text, in every script and on both backends
    (see :class:`mediawatch.store.dialect.contains_folded`)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    cols = (t.item.c.title, t.item.c.summary, t.item.c.text)
    return or_(*(contains_folded(col, f"%{escaped}%") for col in cols))


def _fields(query: ItemQuery) -> dict[str, Any]:
    return {name: getattr(query, name) for name in ItemQuery.__slots__}


def _aware(value: datetime | None) -> datetime:
    """Aggregates (max) bypass the UTC column type on SQLite: make them aware UTC again."""
    from datetime import UTC

    if value is None:
        return datetime(1970, 1, 1, tzinfo=UTC)
    if isinstance(value, str):  # SQLite returns max() of a DATETIME column as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _tagged_item(r: Any, *, with_why: bool) -> TaggedItem:
    m = r._mapping
    labeled = m["l_at"] is not None
    classified = m["c_at"] is not None
    relevant: bool | None = None
    relevance: float | None = None
    countries: Sequence[str] = ()
    topics: Sequence[str] = ()
    if labeled:
        relevant = bool(m["l_relevant"])
        countries, topics = (m["l_countries"] or "").split(), (m["l_topics"] or "").split()
    elif classified:
        relevant = bool(m["c_relevant"])
        countries, topics = (m["c_countries"] or "").split(), (m["c_topics"] or "").split()
    if classified:
        relevance = float(m["c_relevance"])
    return TaggedItem(
        id=ItemId(m["id"]),
        source_id=SourceId(m["source_id"]),
        source_name=m["source_name"],
        source_url=m["source_url"],
        kind=m["kind"],
        url=m["url"],
        title=m["title"] or "",
        summary=m["summary"] or "",
        text=(m["text"] or "") if "text" in m else "",
        published=m["published"],
        fetched=m["fetched"],
        language=m["lang"],
        author=m["author"],
        relevant=relevant,
        relevance=relevance,
        countries=tuple(countries),
        topics=tuple(topics),
        labeled=labeled,
        labeled_at=m["l_at"],
        editor=m["l_editor"],
        note=m["l_note"],
        classified=classified,
        why=parse_why(m["c_why"]) if with_why and m["c_why"] else None,
        story_id=StoryId(m["story_id"]) if m["story_id"] else None,
    )


__all__ = [
    "Facets",
    "FeedKeyRow",
    "ItemQuery",
    "QueryStore",
    "StoreCounts",
    "TaggedItem",
    "Why",
]
