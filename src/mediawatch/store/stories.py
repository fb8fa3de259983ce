"""Store methods for stories and digests: open stories in, story plans out, the rows a weekly digest reads.

Callers get typed values, never rows. Effective tags follow the export's rule: an editor's label wins over the
model's classification; an item with neither is not relevant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, and_, bindparam, case, delete, distinct, func, literal, select, update
from sqlalchemy.exc import SQLAlchemyError

from mediawatch.errors import StoreError
from mediawatch.models import Item, ItemId, SourceId, StoryId
from mediawatch.store import schema as t
from mediawatch.store.dialect import bytewise, in_lists, upsert
from mediawatch.store.evidence import Why, parse_why
from mediawatch.stories import OpenStory, StoryMember, StoryPlan, story_anchors, story_text

TEXT_PREFIX = 2000  # characters of an item's main text read for summaries and story vectors

MemberVectors = Callable[[Sequence[str]], np.ndarray]
"""Given :func:`mediawatch.stories.story_text` of each member, their unit vectors (e.g. a caching embedder)."""


@dataclass(frozen=True, slots=True)
class WeekItem:
    """An item as a digest sees it: text fields, effective tags and its story (if assigned)."""

    id: ItemId
    source_id: SourceId
    url: str
    title: str
    summary: str
    text: str  # the first TEXT_PREFIX characters
    published: datetime
    language: str | None
    author: str | None
    relevant: bool
    countries: tuple[str, ...]
    topics: tuple[str, ...]
    labeled: bool
    story_id: StoryId | None
    similarity: float | None
    relevance: float | None = None  # the model's, when it tagged the item
    why: Why | None = None  # the model's evidence


@dataclass(frozen=True, slots=True)
class StoryRecord:
    id: StoryId
    lead_item_id: ItemId
    first_seen: datetime
    last_seen: datetime
    size: int


@dataclass(frozen=True, slots=True)
class StoryView:
    """One story for a page: its record and members (with their similarity to the centroid), oldest first."""

    record: StoryRecord
    lead: Item
    members: tuple[tuple[Item, float], ...]

    @property
    def sources(self) -> tuple[SourceId, ...]:
        return tuple(sorted({m.source_id for m, _ in self.members}))

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(sorted({m.language for m, _ in self.members if m.language}))


@dataclass(frozen=True, slots=True)
class WeekNumbers:
    items: int
    relevant: int
    stories: int  # distinct stories among relevant items (an item without a story counts as one)
    sources: int  # sources with at least one item published in the span


@dataclass(frozen=True, slots=True)
class SourceWeek:
    """A source's state and how many items it brought in a span (by first_seen)."""

    id: SourceId
    name: str | None
    kind: str
    url: str
    enabled: bool
    in_file: bool
    items: int
    consecutive_failures: int
    last_error: str | None
    last_status: int | None
    last_attempt: datetime | None
    last_success: datetime | None
    last_new_item: datetime | None
    notes: dict[str, str]
    added_at: datetime | None = None  # when the source was first registered in this database


@dataclass(frozen=True, slots=True)
class DigestRecord:
    week: str
    generated_at: datetime
    path_md: str
    path_html: str
    relevant_items: int


def public_notes(notes_json: str | None) -> dict[str, str]:
    """A source's notes for people (health, digests): those whose key starts with "_" are the collector's
    own bookkeeping (the article links it gave up on)."""
    try:
        notes = json.loads(notes_json or "{}")
        return {str(k): str(v) for k, v in notes.items() if not str(k).startswith("_")}
    except (ValueError, AttributeError):
        return {}


def _effective_columns() -> list[Any]:
    c, lb = t.classification.c, t.label.c
    labeled = lb.item_id.is_not(None)
    return [
        case((labeled, lb.relevant), else_=c.relevant).label("eff_relevant"),
        case((labeled, lb.countries), else_=c.countries).label("eff_countries"),
        case((labeled, lb.topics), else_=c.topics).label("eff_topics"),
        labeled.label("labeled"),
    ]


def _tagged(q: Any) -> Any:
    return q.join(t.classification, t.classification.c.item_id == t.item.c.id, isouter=True).join(
        t.label, t.label.c.item_id == t.item.c.id, isouter=True
    )


class StoryStore:
    engine: Engine

    # ------------------------------------------------------------------------------------------ stories
    def open_stories(self, since: datetime, *, member_vectors: MemberVectors | None = None,
                     started_after: datetime | None = None) -> list[OpenStory]:
        """Stories seen at or after ``since`` (last_seen), and begun at or after ``started_after`` (first_seen:
        older ones can take no more items), with their members, for :func:`assign_stories`.

        With ``member_vectors`` the members carry vectors (so the lead can be recomputed); without, they keep the
        similarity stored when they were last placed.
        """
        with self.engine.connect() as conn:
            q = select(t.story).where(t.story.c.last_seen >= since)
            if started_after is not None:
                q = q.where(t.story.c.first_seen >= started_after)
            stories = list(conn.execute(q.order_by(bytewise(t.story.c.id))))
            ids = [s.id for s in stories]
            rows: list[Any] = []
            for chunk in in_lists(ids):
                q = (
                    select(
                        t.story_item.c.story_id, t.story_item.c.similarity, t.item.c.id, t.item.c.published,
                        t.item.c.source_id, t.item.c.lang, t.item.c.title, t.item.c.summary,
                        func.substr(t.item.c.text, 1, TEXT_PREFIX).label("text"),
                    )
                    .join(t.item, t.item.c.id == t.story_item.c.item_id)
                    .where(t.story_item.c.story_id.in_(chunk))
                )
                rows.extend(conn.execute(q))
        rows.sort(key=lambda r: (r.story_id, r.published, r.id))
        texts = [story_text(r.title, r.summary, r.text, r.lang) for r in rows]
        vectors = member_vectors(texts) if member_vectors is not None and rows else None
        by_story: dict[str, list[StoryMember]] = {}
        for i, r in enumerate(rows):
            by_story.setdefault(r.story_id, []).append(
                StoryMember(
                    item_id=ItemId(r.id), published=r.published, source_id=SourceId(r.source_id), language=r.lang,
                    similarity=float(r.similarity), vector=None if vectors is None else np.asarray(vectors[i], np.float32),
                    anchors=story_anchors(texts[i]),
                )
            )
        return [
            OpenStory(
                id=StoryId(s.id), centroid=np.frombuffer(s.centroid, dtype="<f4").copy(), size=int(s.size),
                lead_item_id=ItemId(s.lead_item_id), first_seen=s.first_seen, last_seen=s.last_seen,
                members=tuple(by_story.get(s.id, ())),
            )
            for s in stories
        ]

    def save_story_plan(self, plan: StoryPlan) -> None:
        """Write the plan's stories and every member row in one transaction (re-saving a plan is harmless)."""
        stories: list[dict[str, Any]] = [
            {
                "id": s.id, "lead_item_id": s.lead_item_id, "first_seen": s.first_seen, "last_seen": s.last_seen,
                "size": s.size, "centroid": np.asarray(s.centroid, dtype="<f4").tobytes(),
            }
            for s in plan.stories
        ]
        members: list[dict[str, Any]] = [
            {"item_id": m.item_id, "story_id": s.id, "similarity": float(m.similarity)}
            for s in plan.stories
            for m in s.members
        ]
        if not stories:
            return
        try:
            with self.engine.begin() as conn:
                ids: list[str] = [r["id"] for r in stories]
                existing: set[str] = set()
                for chunk in in_lists(ids):
                    existing.update(conn.execute(select(t.story.c.id).where(t.story.c.id.in_(chunk))).scalars())
                fresh = [r for r in stories if r["id"] not in existing]
                cols = ("lead_item_id", "first_seen", "last_seen", "size", "centroid")
                known = [{"key": r["id"], **{f"new_{c}": r[c] for c in cols}} for r in stories if r["id"] in existing]
                if fresh:
                    conn.execute(t.story.insert(), fresh)
                if known:
                    conn.execute(
                        update(t.story).where(t.story.c.id == bindparam("key")).values(
                            {c: bindparam(f"new_{c}", type_=t.story.c[c].type) for c in cols}
                        ),
                        known,
                    )
                item_ids: list[str] = [m["item_id"] for m in members]
                for chunk in in_lists(item_ids):
                    conn.execute(delete(t.story_item).where(t.story_item.c.item_id.in_(chunk)))
                conn.execute(t.story_item.insert(), members)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not save stories ({len(plan.stories)} stories): {exc}") from exc

    def story(self, story_id: str) -> StoryView | None:
        from mediawatch.store import _row_item

        with self.engine.connect() as conn:
            s = conn.execute(select(t.story).where(t.story.c.id == story_id)).first()
            if s is None:
                return None
            q = (
                select(t.item, t.story_item.c.similarity)
                .join(t.story_item, t.story_item.c.item_id == t.item.c.id)
                .where(t.story_item.c.story_id == story_id)
                .order_by(t.item.c.published, bytewise(t.item.c.id))
            )
            members = tuple((_row_item(r), float(r.similarity)) for r in conn.execute(q))
        record = _record(s)
        lead = next((m for m, _ in members if m.id == record.lead_item_id), members[0][0] if members else None)
        if lead is None:
            return None
        return StoryView(record=record, lead=lead, members=members)

    def items_without_story(self, item_ids: Iterable[str]) -> list[ItemId]:
        """The given items that no story holds yet (the candidates to pass to ``assign_stories``), in order."""
        ids = list(dict.fromkeys(item_ids))
        placed: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in in_lists(ids):
                q = select(t.story_item.c.item_id).where(t.story_item.c.item_id.in_(chunk))
                placed.update(conn.execute(q).scalars())
        return [ItemId(i) for i in ids if i not in placed]

    def stories_by_id(self, story_ids: Iterable[str]) -> dict[StoryId, StoryRecord]:
        ids = sorted(set(story_ids))
        out: dict[StoryId, StoryRecord] = {}
        with self.engine.connect() as conn:
            for chunk in in_lists(ids):
                for s in conn.execute(select(t.story).where(t.story.c.id.in_(chunk))):
                    out[StoryId(s.id)] = _record(s)
        return out

    # ------------------------------------------------------------------------------------------ digest reads
    def week_items(self, start: datetime, end: datetime, *, relevant_only: bool = False) -> list[WeekItem]:
        """Items published in [start, end), oldest first, with effective tags and story."""
        q = self._item_query().where(t.item.c.published >= start, t.item.c.published < end)
        return self._week_items(q, relevant_only)

    def story_items(self, story_ids: Iterable[str], *, until: datetime) -> list[WeekItem]:
        """Members of these stories published before ``until`` (a digest never shows later items)."""
        ids = sorted(set(story_ids))
        out: list[WeekItem] = []
        for chunk in in_lists(ids):
            q = self._item_query().where(t.story_item.c.story_id.in_(chunk), t.item.c.published < until)
            out.extend(self._week_items(q, False))
        out.sort(key=lambda w: (w.published, w.id))
        return out

    def week_numbers(self, start: datetime, end: datetime) -> WeekNumbers:
        eff = _effective_columns()[0]
        relevant = and_(eff.is_not(None), eff == literal(True))
        story_key = func.coalesce(t.story_item.c.story_id, t.item.c.id)
        q = _tagged(
            select(
                func.count(),
                func.coalesce(func.sum(case((relevant, 1), else_=0)), 0),
                func.count(distinct(case((relevant, story_key), else_=None))),
                func.count(distinct(t.item.c.source_id)),
            ).select_from(t.item)
        ).join(t.story_item, t.story_item.c.item_id == t.item.c.id, isouter=True)
        q = q.where(t.item.c.published >= start, t.item.c.published < end)
        with self.engine.connect() as conn:
            n, rel, stories, sources = conn.execute(q).one()
        return WeekNumbers(int(n), int(rel), int(stories), int(sources))

    def source_weeks(self, start: datetime, end: datetime) -> list[SourceWeek]:
        """Every source with its state and the items it brought in [start, end) (by first_seen), by id."""
        from mediawatch.store import sources_with_counts

        q = sources_with_counts(start, end, "items_in_span")
        out: list[SourceWeek] = []
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                m = r._mapping
                notes = public_notes(m["notes_json"])
                out.append(SourceWeek(
                    id=SourceId(m["id"]), name=m["name"], kind=m["kind"], url=m["locator"], enabled=bool(m["enabled"]),
                    in_file=bool(m["in_file"]), items=int(m["items_in_span"]),
                    consecutive_failures=int(m["consecutive_failures"] or 0), last_error=m["last_error"],
                    last_status=m["last_status"], last_attempt=m["last_attempt"], last_success=m["last_success"],
                    last_new_item=m["last_new_item"], notes=notes, added_at=m["added_at"],
                ))
        return out

    def record_digest(self, record: DigestRecord) -> None:
        row = {
            "week": record.week, "generated_at": record.generated_at, "path_md": record.path_md,
            "path_html": record.path_html, "relevant_items": record.relevant_items,
        }
        with self.engine.begin() as conn:
            upsert(conn, t.digest, row, ["week"])

    def digest_record(self, week: str) -> DigestRecord | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(t.digest).where(t.digest.c.week == week)).first()
        if r is None:
            return None
        return DigestRecord(r.week, r.generated_at, r.path_md, r.path_html, int(r.relevant_items))

    # ------------------------------------------------------------------------------------------ helpers
    def _item_query(self) -> Any:
        i = t.item.c
        q = select(
            i.id, i.source_id, i.url, i.title, i.summary, func.substr(i.text, 1, TEXT_PREFIX).label("text"),
            i.published, i.lang, i.author, *_effective_columns(), t.story_item.c.story_id, t.story_item.c.similarity,
            t.classification.c.relevance.label("c_relevance"), t.classification.c.why_json.label("c_why"),
        ).select_from(t.item)
        q = _tagged(q).join(t.story_item, t.story_item.c.item_id == t.item.c.id, isouter=True)
        return q.order_by(i.published, bytewise(i.id))

    def _week_items(self, q: Any, relevant_only: bool) -> list[WeekItem]:
        out: list[WeekItem] = []
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                relevant = bool(r.eff_relevant) if r.eff_relevant is not None else False
                if relevant_only and not relevant:
                    continue
                out.append(WeekItem(
                    id=ItemId(r.id), source_id=SourceId(r.source_id), url=r.url, title=r.title, summary=r.summary,
                    text=r.text or "", published=r.published, language=r.lang, author=r.author, relevant=relevant,
                    countries=tuple((r.eff_countries or "").split()), topics=tuple((r.eff_topics or "").split()),
                    labeled=bool(r.labeled), story_id=StoryId(r.story_id) if r.story_id else None,
                    similarity=float(r.similarity) if r.similarity is not None else None,
                    relevance=float(r.c_relevance) if r.c_relevance is not None else None,
                    why=parse_why(r.c_why) if relevant else None,  # only relevant members' show in a digest
                ))
        return out


def _record(s: Any) -> StoryRecord:
    return StoryRecord(
        id=StoryId(s.id), lead_item_id=ItemId(s.lead_item_id), first_seen=s.first_seen, last_seen=s.last_seen,
        size=int(s.size),
    )


__all__ = [
    "DigestRecord",
    "MemberVectors",
    "SourceWeek",
    "StoryRecord",
    "StoryStore",
    "StoryView",
    "WeekItem",
    "WeekNumbers",
]
