"""The store: one class with domain-level methods over SQLAlchemy Core. Callers never see SQL or rows.

SQLite is the embedded default (WAL mode, foreign keys on); any SQLAlchemy URL works, PostgreSQL included.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from mediawatch.errors import ConfigError, StoreError
from mediawatch.models import Item, ItemId, ItemKind, SourceHealth, SourceId, SourceKind
from mediawatch.normalize import display_text
from mediawatch.sourcefile import SourceSpec
from mediawatch.store import schema as t
from mediawatch.store.dialect import bytewise, in_lists, insert_ignore, upsert, upsert_many
from mediawatch.store.engine import (
    MIGRATION_LOCK_KEY,
    create_store_engine,
    database_reason,
    display_url,
    is_busy,
    migration_lock,
    missing_sqlite_file,
    refuses_every_write,
)
from mediawatch.store.locks import LockStore
from mediawatch.store.migrate import current_revision, head_revision, upgrade
from mediawatch.store.queries import QueryStore
from mediawatch.store.stories import StoryStore, public_notes
from mediawatch.store.tags import Label, TagStore

__all__ = [
    "AddReport", "Label", "SourceState", "Store", "SyncReport", "database_reason", "display_url", "is_busy",
    "open_store", "refuses_every_write",
]


@dataclass(frozen=True, slots=True)
class SyncReport:
    added: tuple[str, ...]
    changed: tuple[str, ...]
    disabled: tuple[str, ...]  # left the file: disabled, never deleted (their items stay)
    unchanged: int


@dataclass(frozen=True, slots=True)
class SourceState:
    source_id: SourceId
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_new_item: datetime | None = None
    next_check: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_status: int | None = None
    notes: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class AddReport:
    new: tuple[ItemId, ...]
    seen: int


def open_store(url: str, *, migrate: bool = True, existing: bool = False) -> Store:
    """Open (and by default create/upgrade) the database at ``url``.

    ``existing``: refuse (ConfigError) a SQLite file that does not exist instead of creating an empty one, and
    a SQLite URL that names no file (in memory), for commands that only read what is stored: a mistyped ``--db`` or another working folder would otherwise
    give an empty result (and an empty digest written over a real one) without a word."""
    missing = missing_sqlite_file(url) if existing else None
    if missing == "":
        from sqlalchemy.engine import make_url

        shown = url if make_url(url).password is None else display_url(url)  # as typed: SQLite has no password
        raise ConfigError(
            f"--db/MEDIAWATCH_DB: {shown!r} names no database file (an in-memory database holds "
            f"nothing collected; is a variable in the URL unset?); give the path of the SQLite file"
        )
    if missing is not None:
        raise ConfigError(
            f"--db/MEDIAWATCH_DB: no database at {missing!r} (nothing has been collected there; check --db or "
            f"MEDIAWATCH_DB, or the folder you run in); nothing was created"
        )
    store = Store(create_store_engine(url))
    if migrate:
        store.migrate()
    return store


EXPORT_BATCH = 500  # rows fetched at a time by export_rows


class Store(TagStore, StoryStore, LockStore, QueryStore):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------------------------------ schema
    def migrate(self) -> str:
        """Bring the schema to the newest migration; returns the revision.

        Safe when several processes open a new database at once (``run`` and ``serve`` started together):
        one migrates while the others wait, then find the schema current. SQLite's DDL is not transactional
        under the Python driver, so a lock file next to the database serialises them; PostgreSQL takes a
        transaction-scoped advisory lock. The lock is taken on every open, not only when the schema looks old:
        the first connection to a new SQLite file switches it to WAL, and four processes doing that at once
        outside the lock failed with "database is locked" in the test."""
        try:
            with migration_lock(self.engine), self.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
                if current_revision(conn) != head_revision():
                    upgrade(conn)
                rev = current_revision(conn)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate database {self.engine.url!r}: {database_reason(exc)}") from exc
        return rev or ""

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------------------------------ sources
    def sync_sources(self, specs: Sequence[SourceSpec], now: datetime) -> SyncReport:
        """Make the source table match the file: add, update, disable the ones that left (never delete)."""
        added: list[str] = []
        changed: list[str] = []
        unchanged = 0
        with self.engine.begin() as conn:
            existing = {r.id: r for r in conn.execute(select(t.source))}
            for spec in specs:
                values = {
                    "kind": spec.kind.value,
                    "name": spec.name,
                    "locator": spec.public_locator,  # shown on pages and in feeds: no credentials
                    "country": spec.country,
                    "language": spec.language,
                    "every_s": int(spec.every.total_seconds()),
                    "enabled": spec.enabled,
                    "in_file": True,
                    "spec_hash": spec.spec_hash,
                    "spec_json": _spec_json(spec),
                    "updated_at": now,
                }
                old = existing.pop(spec.id, None)
                if old is None:
                    conn.execute(t.source.insert().values(id=spec.id, added_at=now, **values))
                    conn.execute(t.source_state.insert().values(source_id=spec.id, consecutive_failures=0, notes_json="{}"))
                    added.append(spec.id)
                elif old.spec_hash != spec.spec_hash or not old.in_file or old.locator != spec.public_locator:
                    conn.execute(t.source.update().where(t.source.c.id == spec.id).values(**values))
                    changed.append(spec.id)
                    state = t.source_state.update().where(t.source_state.c.source_id == spec.id)
                    if old.every_s != values["every_s"] or old.locator != spec.public_locator:
                        # a new address or rhythm: check it at the next run
                        conn.execute(state.values(next_check=None))
                    if old.spec_hash != spec.spec_hash:
                        # read with the new settings (a timezone, a language): no 304 for what was parsed before
                        conn.execute(state.values(etag=None, last_modified=None, content_hash=None))
                else:
                    unchanged += 1
            disabled = [sid for sid, row in existing.items() if row.in_file]
            if disabled:
                conn.execute(
                    t.source.update()
                    .where(t.source.c.id.in_(disabled))
                    .values(enabled=False, in_file=False, updated_at=now)
                )
        return SyncReport(tuple(added), tuple(changed), tuple(sorted(disabled)), unchanged)

    def source_ids(self, *, enabled_only: bool = False) -> list[SourceId]:
        q = select(t.source.c.id).order_by(bytewise(t.source.c.id))
        if enabled_only:
            q = q.where(t.source.c.enabled.is_(True))
        with self.engine.connect() as conn:
            return [SourceId(r[0]) for r in conn.execute(q)]

    def due_sources(self, now: datetime) -> list[SourceId]:
        """Enabled sources whose next check has come (or was never set)."""
        q = (
            select(t.source.c.id)
            .join(t.source_state, t.source_state.c.source_id == t.source.c.id)
            .where(t.source.c.enabled.is_(True))
            .where((t.source_state.c.next_check.is_(None)) | (t.source_state.c.next_check <= now))
            .order_by(
                t.source_state.c.next_check.is_not(None), t.source_state.c.next_check, bytewise(t.source.c.id)
            )
        )
        with self.engine.connect() as conn:
            return [SourceId(r[0]) for r in conn.execute(q)]

    def source_state(self, source_id: str) -> SourceState:
        return self.source_states([source_id])[source_id]

    def source_states(self, source_ids: Sequence[str]) -> dict[str, SourceState]:
        """The stored state of each source (a blank state for one never seen), in one read."""
        out = {sid: SourceState(SourceId(sid)) for sid in source_ids}
        with self.engine.connect() as conn:
            for i in range(0, len(source_ids), 500):
                q = select(t.source_state).where(t.source_state.c.source_id.in_(source_ids[i : i + 500]))
                for row in conn.execute(q):
                    data = row._asdict()
                    data["notes"] = json.loads(data.pop("notes_json") or "{}")
                    out[row.source_id] = SourceState(**data)
        return out

    def save_source_state(self, state: SourceState) -> None:
        with self.engine.begin() as conn:
            self._write_state(conn, state)

    def save_source_states(self, states: Sequence[SourceState]) -> None:
        """Many sources' states in one transaction (sources that brought no items: nothing to lose)."""
        rows = [_state_row(s) for s in states]
        with self.engine.begin() as conn:
            for keep in (True, False):  # rows with and without last_new_item have different columns
                upsert_many(conn, t.source_state, [r for r in rows if ("last_new_item" in r) is keep], ["source_id"])

    def _write_state(self, conn: Any, state: SourceState) -> None:
        upsert(conn, t.source_state, _state_row(state), ["source_id"])

    # ------------------------------------------------------------------------------------------ items
    def commit_source(self, source_id: SourceId, items: Sequence[Item], state: SourceState, now: datetime) -> AddReport:
        """Store one source's items and its new state in one transaction (a crash loses at most this source).

        Dedupe: within the source by GUID, then everywhere by canonical URL: the item id, or the URL of an item
        stored before its URL's canonical form last changed (it keeps the id it had: migration 0004). A handful
        of statements per source, whatever its number of items.
        """
        batch = list(_unique(items))
        try:
            with self.engine.begin() as conn:
                guids = [it.guid for it in batch if it.guid is not None]
                known_guids = set(_in_chunks(conn, select(t.item_source.c.guid).where(
                    t.item_source.c.source_id == source_id), t.item_source.c.guid, guids))
                fresh = [it for it in batch if it.guid is None or it.guid not in known_guids]
                existing = set(_in_chunks(conn, select(t.item.c.id), t.item.c.id, [it.id for it in fresh]))
                stored_as = self._ids_by_url(conn, [it.url for it in fresh if it.id not in existing])
                new = [it for it in fresh if it.id not in existing and it.url not in stored_as]
                if new:
                    conn.execute(insert_ignore(conn, t.item, None, ["id"]), [_item_row(it) for it in new])
                if fresh:
                    links = {(stored_as.get(it.url, it.id) if it.id not in existing else it.id): it for it in fresh}
                    conn.execute(
                        insert_ignore(conn, t.item_source, None, ["item_id", "source_id"]),
                        [{"item_id": item_id, "source_id": source_id, "guid": it.guid, "first_seen": now}
                         for item_id, it in links.items()],
                    )
                if new:
                    state = _replace(state, last_new_item=now)
                self._write_state(conn, state)
        except SQLAlchemyError as exc:
            # the driver's words only: SQLAlchemy's text carries the statement and every item's values
            raise StoreError(f"{source_id}: could not store items: {database_reason(exc)}") from exc
        return AddReport(tuple(it.id for it in new), len(batch) - len(new))

    @staticmethod
    def _ids_by_url(conn: Any, urls: Sequence[str]) -> dict[str, str]:
        """The id stored for each of ``urls`` that some item has (the oldest such item, should there be two)."""
        found: dict[str, tuple[datetime, str]] = {}
        for part in in_lists(list(dict.fromkeys(urls))):
            query = select(t.item.c.url, t.item.c.fetched, t.item.c.id).where(t.item.c.url.in_(part))
            for url, fetched, item_id in conn.execute(query):
                if url not in found or (fetched, item_id) < found[url]:
                    found[url] = (fetched, item_id)
        return {url: item_id for url, (_, item_id) in found.items()}

    def known_urls(self, urls: Iterable[str]) -> set[str]:
        urls = list(urls)
        found: set[str] = set()
        with self.engine.connect() as conn:
            for i in range(0, len(urls), 500):
                chunk = urls[i : i + 500]
                found.update(r[0] for r in conn.execute(select(t.item.c.url).where(t.item.c.url.in_(chunk))))
        return found

    def count_items(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.item)).scalar_one())

    def get_item(self, item_id: str) -> Item | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(t.item).where(t.item.c.id == item_id)).first()
        return _row_item(row) if row else None

    # ------------------------------------------------------------------------------------------ health
    def health(self, now: datetime) -> list[SourceHealth]:
        q = sources_with_counts(now - timedelta(days=7), None, "items_7d")
        out: list[SourceHealth] = []
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                m = r._mapping
                notes = public_notes(m["notes_json"])
                if not m["in_file"]:
                    notes["removed"] = "no longer in the sources file (disabled; items kept)"
                silent = _silence(m["last_new_item"], m["last_success"], m["every_s"], now)
                if silent:
                    notes["silent"] = silent
                out.append(
                    SourceHealth(
                        source_id=SourceId(m["id"]),
                        kind=SourceKind(m["kind"]),
                        name=m["name"],
                        url=m["locator"],
                        enabled=bool(m["enabled"]),
                        last_attempt=m["last_attempt"],
                        last_success=m["last_success"],
                        consecutive_failures=int(m["consecutive_failures"] or 0),
                        last_error=m["last_error"],
                        items_7d=int(m["items_7d"]),
                        next_check=m["next_check"],
                        notes=notes,
                    )
                )
        return out

    # ------------------------------------------------------------------------------------------ export
    def export_rows(
        self, *, since: datetime | None = None, until: datetime | None = None, relevant_only: bool = False
    ) -> Iterator[dict[str, Any]]:
        """Items as export records (the ``mediawatch export`` JSON Lines format), oldest first."""
        c, lb = t.classification.c, t.label.c
        q = (
            select(
                t.item,
                c.relevant.label("c_relevant"),
                c.relevance.label("c_relevance"),
                c.countries.label("c_countries"),
                c.topics.label("c_topics"),
                c.why_json.label("c_why"),
                c.classified_at.label("c_at"),
                lb.relevant.label("l_relevant"),
                lb.countries.label("l_countries"),
                lb.topics.label("l_topics"),
                lb.labeled_at.label("l_at"),
                t.story_item.c.story_id,
            )
            .join(t.classification, t.classification.c.item_id == t.item.c.id, isouter=True)
            .join(t.label, t.label.c.item_id == t.item.c.id, isouter=True)
            .join(t.story_item, t.story_item.c.item_id == t.item.c.id, isouter=True)
            .order_by(t.item.c.published, bytewise(t.item.c.id))
        )
        if since is not None:
            q = q.where(t.item.c.published >= since)
        if until is not None:
            q = q.where(t.item.c.published < until)
        # rows in batches as they are written out (a server-side cursor on PostgreSQL, whose driver otherwise
        # reads the whole result into memory first: an archive's export is hundreds of MB)
        with self.engine.connect().execution_options(yield_per=EXPORT_BATCH) as conn:
            for row in conn.execute(q):
                rec = export_record(row._mapping)
                if relevant_only and not rec["relevant"]:
                    continue
                yield rec


# ---------------------------------------------------------------------------------------------- helpers


def sources_with_counts(start: datetime, end: datetime | None, label: str) -> Any:
    """Every source with its state and how many items it first brought in [start, end), as ``label``."""
    span = t.item_source.c.first_seen >= start
    if end is not None:
        span = span & (t.item_source.c.first_seen < end)
    counts = (
        select(t.item_source.c.source_id, func.count().label("n"))
        .where(span)
        .group_by(t.item_source.c.source_id)
        .subquery()
    )
    return (
        select(t.source, t.source_state, func.coalesce(counts.c.n, 0).label(label))
        .join(t.source_state, t.source_state.c.source_id == t.source.c.id, isouter=True)
        .join(counts, counts.c.source_id == t.source.c.id, isouter=True)
        .order_by(bytewise(t.source.c.id))
    )


def export_record(m: Any) -> dict[str, Any]:
    """One export object from a joined item/classification/label/story row (an editor's label wins)."""
    labeled = m["l_at"] is not None
    classified = m["c_at"] is not None
    relevant: bool | None = None
    relevance: float | None = None
    countries: list[str] = []
    topics: list[str] = []
    if labeled:
        relevant = bool(m["l_relevant"])
        relevance = 1.0 if relevant else 0.0
        countries, topics = (m["l_countries"] or "").split(), (m["l_topics"] or "").split()
    elif classified:
        relevant, relevance = bool(m["c_relevant"]), round(float(m["c_relevance"]), 4)
        countries, topics = (m["c_countries"] or "").split(), (m["c_topics"] or "").split()
    return {
        "id": m["id"],
        "source_id": m["source_id"],
        "kind": m["kind"],
        "url": m["url"],
        "title": display_text(m["title"]),  # as every output shows them (items stored by older releases too)
        "summary": display_text(m["summary"]),
        "text": m["text"],
        "published": _iso(m["published"]),
        "published_estimated": bool(m["published_estimated"]),
        "fetched": _iso(m["fetched"]),
        "lang": m["lang"],
        "author": display_text(m["author"]) or None,
        "media": json.loads(m["media_json"] or "{}"),
        "relevant": relevant,
        "relevance": relevance,
        "countries": countries,
        "topics": topics,
        "why": json.loads(m["c_why"]) if m["c_why"] else None,
        "labeled": labeled,
        "story_id": m["story_id"],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _spec_json(spec: SourceSpec) -> str:
    from mediawatch.normalize import without_credentials

    fields = {k: getattr(spec, k) for k in spec.__slots__}  # type: ignore[attr-defined]
    # a url's user:password stays in the sources file: nothing stored holds it
    fields = {k: without_credentials(v) if k in ("url", "feed_url") and isinstance(v, str) else v
              for k, v in fields.items()}
    fields["every"] = int(spec.every.total_seconds())
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)


def _unique(items: Sequence[Item]) -> Iterator[Item]:
    seen: set[str] = set()
    for it in items:
        if it.id not in seen:
            seen.add(it.id)
            yield it


def _item_row(it: Item) -> dict[str, Any]:
    return {
        "id": it.id,
        "source_id": it.source_id,
        "kind": it.kind.value,
        "url": it.url,
        "guid": it.guid,
        "title": it.title,
        "summary": it.summary,
        "text": it.text,
        "published": it.published,
        "published_estimated": it.published_estimated,
        "fetched": it.fetched,
        "lang": it.language,
        "author": it.author,
        "media_json": json.dumps(dict(it.media), ensure_ascii=False, sort_keys=True),
    }


def _row_item(row: Any) -> Item:
    m = row._mapping
    return Item(
        id=ItemId(m["id"]),
        source_id=SourceId(m["source_id"]),
        kind=ItemKind(m["kind"]),
        url=m["url"],
        title=m["title"],
        summary=m["summary"],
        text=m["text"],
        published=m["published"],
        fetched=m["fetched"],
        published_estimated=bool(m["published_estimated"]),
        language=m["lang"],
        author=m["author"],
        guid=m["guid"],
        media=json.loads(m["media_json"] or "{}"),
    )


def _in_chunks(conn: Any, query: Any, column: Any, values: Sequence[Any]) -> Iterator[Any]:
    """First column of ``query`` restricted to ``column IN values``, one ``IN`` list at a time."""
    for part in in_lists(values):
        yield from conn.execute(query.where(column.in_(part))).scalars()


def _state_row(state: SourceState) -> dict[str, Any]:
    values: dict[str, Any] = {
        k: getattr(state, k)
        for k in SourceState.__slots__  # type: ignore[attr-defined]
        if k != "notes"
    }
    values["notes_json"] = json.dumps(state.notes or {}, ensure_ascii=False, sort_keys=True)
    if values["last_new_item"] is None:
        del values["last_new_item"]  # a run that brought nothing new does not forget when something last came
    return values


def _replace(state: SourceState, **changes: Any) -> SourceState:
    from dataclasses import replace

    return replace(state, **changes)


def _silence(last_new: datetime | None, last_ok: datetime | None, every_s: int, now: datetime) -> str | None:
    """A source that answers but has brought nothing new for much longer than usual."""
    if last_ok is None or now - last_ok > timedelta(days=2):
        return None  # failing or never collected: that is reported elsewhere
    quiet_limit = max(timedelta(days=7), timedelta(seconds=every_s * 50))
    if last_new is None:
        return None
    if now - last_new > quiet_limit:
        days = (now - last_new).days
        return f"up but silent: nothing new for {days} days"
    return None
