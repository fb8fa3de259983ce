"""Write the subscriber feeds and feeds.opml into the digests folder: all of them, or only those touched.

Layout (paths relative to ``out_dir``, the digests folder; the web app serves the same paths)::

    feeds.opml
    feeds/topics/{topic}.atom|.json
    feeds/countries/{CC}.atom|.json
    feeds/topics/{topic}/countries/{CC}.atom|.json
    feeds/.manifest           which items each feed held at the last build, and the newest label seen
    feeds/.lock               held by the process rebuilding the feeds

A file is replaced (temporary file + ``os.replace``) only when its bytes change, so an unchanged feed keeps
its bytes and its modification time. A feed whose last item goes away (an editor marks it not relevant) is
rewritten without entries rather than deleted, so subscribers keep a valid feed. The manifest lets a limited
rebuild find the feeds an item *left* (its tags are already gone from the store), the labels editors saved
on the web since the last build, and the feeds an entry has aged out of (an entry published more than
``FeedOptions.max_age`` ago: the store says which of the entries the manifest lists are now that old); without
a usable manifest every feed is rebuilt.

Links: with ``FeedOptions.base_url`` (``MEDIAWATCH_BASE_URL``) every feed carries absolute ``self`` and
``alternate`` links and feeds.opml lists absolute URLs; without it the feeds have no links (there is no
address to give) and feeds.opml lists URLs relative to itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from mediawatch.errors import StoreError
from mediawatch.files import write_atomic
from mediawatch.models import ItemId
from mediawatch.publish.feeds import (
    EntryCache,
    FeedKey,
    FeedOptions,
    feed_keys_of,
    feed_updated,
    render_atom,
    render_json,
)
from mediawatch.publish.opml import render_opml
from mediawatch.store.queries import FeedKeyRow, ItemQuery, TaggedItem

logger = logging.getLogger(__name__)

MANIFEST = ".manifest"
LOCK = ".lock"  # held while the feeds and the manifest are rebuilt
LOCK_WAIT = 120.0  # seconds to wait for another process's rebuild (a few seconds, normally)
OPML = "feeds.opml"


class FeedStore(Protocol):
    """What the feed writer reads (:class:`mediawatch.store.queries.QueryStore` provides it)."""

    def find_items(
        self, query: ItemQuery, *, limit: int | None = ..., offset: int = ..., with_why: bool = ...
    ) -> list[TaggedItem]: ...

    def feed_keys(self) -> list[FeedKeyRow]: ...

    def labels_since(self, since: datetime | None) -> list[tuple[ItemId, datetime]]: ...

    def published_before(self, item_ids: Sequence[str], until: datetime) -> set[ItemId]: ...

    def removed_from_feed(self, topic: str | None, country: str | None) -> datetime | None: ...

    def watching_since(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class _Manifest:
    fingerprint: str
    label_mark: datetime | None
    feeds: dict[str, list[str]]  # FeedKey.name -> item ids it held


def known_keys(store: FeedStore) -> dict[FeedKey, datetime]:
    """Feeds that exist (a topic/country/pair with relevant items), with their newest item's time."""
    out: dict[FeedKey, datetime] = {}
    for row in store.feed_keys():
        key = FeedKey.parse(row.topic, row.country)
        if key is None:
            logger.warning("tag value not usable in a feed path: topic=%r country=%r", row.topic, row.country)
            continue
        out[key] = row.newest
    return out


def feed_entries(store: FeedStore, key: FeedKey, *, now: datetime, options: FeedOptions) -> list[TaggedItem]:
    """One feed's entries straight from the store (the same choice :func:`pick_entries` makes)."""
    query = ItemQuery(topic=key.topic, country=key.country, since=now - options.max_age)
    return store.find_items(query, limit=options.max_entries, with_why=True)


def empty_feed_updated(
    store: FeedStore, key: FeedKey, *, now: datetime, newest: datetime | None = None
) -> datetime:
    """``updated`` of a feed without entries: when it last changed, read from the store so that every
    rebuild (and the web app) says the same.

    The later of ``newest`` (its newest item's publication, when older items still carry its tags) and the
    editor label that took its last item out; for a feed that never had an item, when the first source was
    registered (it has been empty since). Only a database without sources falls back to ``now``.
    """
    moments = [m for m in (newest, store.removed_from_feed(key.topic, key.country)) if m is not None]
    if moments:
        return max(moments)
    return store.watching_since() or now


def rebuild_feeds(
    store: FeedStore,
    out_dir: Path,
    *,
    now: datetime,
    touched_item_ids: Iterable[str] | None = None,
    options: FeedOptions | None = None,
) -> list[Path]:
    """Rewrite the feeds (all, or those the touched items are in or were in, and those an entry has aged out
    of) and feeds.opml.

    With ``touched_item_ids`` (even empty) only what changed is rebuilt: the feeds of those items and of the
    labels editors saved since the last build, and the feeds whose files hold an entry published before the
    window (:func:`aged_feeds`); when there is none of these, nothing is read further and nothing is written.
    Returns the files whose content changed (and were therefore written), sorted.
    """
    options = options or FeedOptions()
    out_dir = Path(out_dir)
    feeds_dir = out_dir / "feeds"
    from filelock import FileLock, Timeout

    try:
        feeds_dir.mkdir(parents=True, exist_ok=True)
        # One build at a time: each reads the manifest, rewrites its feeds and writes the manifest back, so two
        # at once (a label while the service ticks) would leave the manifest of the one that finished last,
        # and the other's feeds would hold items the manifest does not know about. A lock file (not a lock on
        # the folder: NFS locks only files opened for writing), waited for a bounded time.
        with FileLock(str(feeds_dir / LOCK), timeout=LOCK_WAIT):
            return _rebuild(store, out_dir, now=now, touched_item_ids=touched_item_ids, options=options)
    except Timeout as exc:
        raise StoreError(f"cannot write subscriber feeds into {out_dir}: another process has held "
                         f"{feeds_dir / LOCK} for {LOCK_WAIT:g} s") from exc
    except OSError as exc:
        raise StoreError(f"cannot write subscriber feeds into {out_dir}: {exc}") from exc


def _rebuild(
    store: FeedStore,
    out_dir: Path,
    *,
    now: datetime,
    touched_item_ids: Iterable[str] | None,
    options: FeedOptions,
) -> list[Path]:
    feeds_dir = out_dir / "feeds"
    manifest = _read_manifest(feeds_dir / MANIFEST, options)
    labels = store.labels_since(manifest.label_mark if manifest else None)
    old_feeds = manifest.feeds if manifest else {}
    full = touched_item_ids is None or manifest is None
    tagged = set(touched_item_ids or ())
    touched: set[str] = set()
    aged: set[str] = set()
    if manifest is not None and not full:
        touched = tagged | {item_id for item_id, _ in labels}
        aged = aged_feeds(store, old_feeds, since=now - options.max_age)
        # labels_since() is inclusive: a label at the mark itself was seen by the last build
        new_label = any(manifest.label_mark is None or at > manifest.label_mark for _, at in labels)
        if not aged and not new_label and not tagged:
            logger.info("feeds: nothing changed since the last build")
            return []

    known = known_keys(store)
    by_name = {k.name: k for k in known}
    for name in old_feeds:
        if name not in by_name and (key := _key_from_name(name)) is not None:
            by_name[name] = key

    if full:
        targets = set(by_name.values())
        window = store.find_items(ItemQuery(since=now - options.max_age), limit=None, with_why=True)
        entries = group_entries(window, targets, now=now, options=options)
    else:
        targets = {by_name[n] for n in aged if n in by_name}
        if touched:
            current = store.find_items(
                ItemQuery(item_ids=tuple(sorted(touched)), relevant_only=False), limit=None
            )
            targets |= set().union(*(feed_keys_of(it) for it in current)) if current else set()
            targets |= {
                by_name[n] for n, ids in old_feeds.items() if n in by_name and touched.intersection(ids)
            }
        entries = {k: feed_entries(store, k, now=now, options=options) for k in targets}

    written: list[Path] = []
    cache: EntryCache = {}
    feeds: dict[str, list[str]] = {} if full else dict(old_feeds)
    for key in sorted(targets, key=FeedKey.sort_key):
        chosen = entries[key]
        updated = feed_updated(chosen) if chosen else empty_feed_updated(store, key, now=now, newest=known.get(key))
        atom = render_atom(key, chosen, updated=updated, options=options, cache=cache)
        js = render_json(key, chosen, updated=updated, options=options, cache=cache)
        for rel, data in ((key.path("atom"), atom), (key.path("json"), js)):
            if write_if_changed(out_dir / rel, data):
                written.append(out_dir / rel)
        if chosen or key in known:
            feeds[key.name] = [it.id for it in chosen]
        else:
            feeds.pop(key.name, None)  # gone for good: its empty feed stays on disk, no need to track it
    if write_if_changed(out_dir / OPML, render_opml(known, options=options)):
        written.append(out_dir / OPML)
    marks = [at for _, at in labels] + ([manifest.label_mark] if manifest and manifest.label_mark else [])
    new_manifest = _Manifest(options.fingerprint(), max(marks) if marks else None, feeds)
    write_if_changed(feeds_dir / MANIFEST, _manifest_bytes(new_manifest))
    logger.info(
        "feeds: %d rebuilt (%s), %d files changed", len(targets), "all" if full else "touched", len(written)
    )
    return sorted(written)


def aged_feeds(store: FeedStore, feeds: Mapping[str, Sequence[str]], *, since: datetime) -> set[str]:
    """The feeds (names, as in the manifest) that hold an entry published before ``since``: it has left the
    window, so the feed's file changes although no item did (a quiet country's feed, where nothing new is
    tagged, would otherwise keep it for good). One primary-key look-up of the entries the files hold."""
    held = [item_id for ids in feeds.values() for item_id in ids]
    if not held:
        return set()
    gone = store.published_before(held, since)
    return {name for name, ids in feeds.items() if gone.intersection(ids)} if gone else set()


def feeds_outdated(out_dir: Path, options: FeedOptions) -> bool:
    """True when the feeds in ``out_dir`` were never built, or built with other options (e.g. another base
    URL): the caller should rebuild them all even if no item changed."""
    return _read_manifest(Path(out_dir) / "feeds" / MANIFEST, options) is None


def group_entries(
    items: Iterable[TaggedItem], keys: Iterable[FeedKey], *, now: datetime, options: FeedOptions
) -> dict[FeedKey, list[TaggedItem]]:
    """:func:`pick_entries` for many feeds in one pass over the items."""
    out: dict[FeedKey, list[TaggedItem]] = {k: [] for k in keys}
    since = now - options.max_age
    for item in items:
        if item.published >= since:
            for key in feed_keys_of(item):
                if key in out:
                    out[key].append(item)
    for chosen in out.values():
        chosen.sort(key=lambda it: (it.published, it.id), reverse=True)
        del chosen[options.max_entries :]
    return out


def write_if_changed(path: Path, data: bytes) -> bool:
    """Replace ``path`` atomically with ``data`` unless it already holds exactly these bytes."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomic(path, data)
    return True


def _key_from_name(name: str) -> FeedKey | None:
    parts = name.split("/")
    if len(parts) == 2 and parts[0] == "topics":
        return FeedKey.parse(parts[1], None)
    if len(parts) == 2 and parts[0] == "countries":
        return FeedKey.parse(None, parts[1])
    if len(parts) == 4 and parts[0] == "topics" and parts[2] == "countries":
        return FeedKey.parse(parts[1], parts[3])
    return None


def _read_manifest(path: Path, options: FeedOptions) -> _Manifest | None:
    """The last build's manifest, or None when missing, unreadable or built with other options."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("fingerprint") != options.fingerprint():
            return None
        mark = datetime.fromisoformat(data["label_mark"]) if data.get("label_mark") else None
        feeds = {str(k): [str(i) for i in v] for k, v in data["feeds"].items() if isinstance(v, list)}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return _Manifest(str(data["fingerprint"]), mark, feeds)


def _manifest_bytes(m: _Manifest) -> bytes:
    data = {
        "fingerprint": m.fingerprint,
        "label_mark": m.label_mark.isoformat() if m.label_mark else None,
        "feeds": {k: v for k, v in sorted(m.feeds.items())},
    }
    return (json.dumps(data, indent=1, sort_keys=True) + "\n").encode("utf-8")


__all__ = [
    "FeedStore",
    "aged_feeds",
    "empty_feed_updated",
    "feed_entries",
    "feeds_outdated",
    "group_entries",
    "known_keys",
    "rebuild_feeds",
    "write_if_changed",
]
