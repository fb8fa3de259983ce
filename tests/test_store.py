"""The store on a real SQLite file and a real PostgreSQL database: migrations, round trips, source sync,
dedupe, export format. Tests taking ``db_url`` (or ``store``) run once per backend; the dialect-sensitive
cases (upserts, collation, LIKE escaping, large IN lists) are in tests/test_store_backends.py."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from mediawatch.models import Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import SourceState, open_store
from mediawatch.store.migrate import current_revision, head_revision

NOW = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)


def specs(text: str) -> tuple:
    return parse_sourcefile("version: 1\nsources:\n" + text, Path("mem.yaml")).sources


TWO = specs(
    "  - {id: feed-a, kind: rss, url: 'https://a.example/rss', every: 30m}\n"
    "  - {id: tube-b, kind: youtube, channel_id: UCabcdefghijklmnopqrstuv, every: 6h}\n"
)


def make_item(n: int, source: str = "feed-a", *, guid: str | None = None, url: str | None = None) -> Item:
    return Item(
        id=ItemId(f"id{n:04d}" if url is None else f"u-{url}"),
        source_id=SourceId(source),
        kind=ItemKind.ARTICLE,
        url=url or f"https://a.example/news/{n}",
        title=f"Қазақ диаспорасы {n}",
        summary="Summary",
        text="Body text",
        published=NOW - timedelta(hours=n),
        fetched=NOW,
        language="kk",
        author="A. Author",
        guid=guid,
        media={"views": 10, "shorts": False},
    )


@pytest.fixture
def store(db_url: str):
    s = open_store(db_url)
    s.sync_sources(TWO, NOW)
    yield s
    s.close()


def test_migrations_from_empty_create_the_schema_of_schema_py(db_url: str) -> None:
    store = open_store(db_url)
    with store.engine.connect() as conn:
        assert current_revision(conn) == head_revision()
        from alembic.autogenerate import compare_metadata
        from alembic.migration import MigrationContext

        from mediawatch.store.schema import metadata

        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == [], f"schema.py and the migrations disagree on {conn.dialect.name}: {diff}"
        tables = set(inspect(conn).get_table_names())
    assert {"source", "source_state", "item", "item_source", "classification", "story", "digest",
            "alembic_version"} <= tables
    store.close()
    # opening again is a no-op upgrade
    again = open_store(db_url)
    assert again.migrate() == head_revision()
    again.close()


def test_sqlite_database_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    open_store(f"sqlite:///{path}").close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()


def test_a_sqlite_file_deleted_or_replaced_under_a_running_process_is_followed(tmp_path: Path) -> None:
    """Before: a pooled connection went on using a database file deleted or replaced under a running process,
    so `/healthz` said ok and what `run` collected went into a file no longer there; and before that, the next
    new connection created an empty file in its place, which `digest` summarised as a week with nothing."""
    import shutil

    from sqlalchemy.exc import OperationalError

    db = tmp_path / "live%.db"  # a path that needs quoting as an SQLite URI
    store = open_store(f"sqlite:///{db}")
    store.sync_sources(specs("  - {id: feed-a, kind: rss, url: 'https://a.example/feed', every: 30m}\n"), NOW)
    assert store.ping() and [s.source_id for s in store.health(NOW)] == ["feed-a"]
    # an operator restores another database by renaming it into place: the pool opens the new file
    other = tmp_path / "restored.db"
    restored = open_store(f"sqlite:///{other}")
    restored.sync_sources(specs("  - {id: feed-b, kind: rss, url: 'https://b.example/feed', every: 30m}\n"), NOW)
    restored.close()
    shutil.move(other, db)
    for path in tmp_path.glob("live%.db-*"):
        path.unlink()
    assert [s.source_id for s in store.health(NOW)] == ["feed-b"]
    # the file is deleted: no query is answered from the old file, and no empty file is made in its place
    for path in tmp_path.glob("live%.db*"):
        path.unlink()
    with pytest.raises(OperationalError, match="unable to open database file"):
        store.ping()
    assert not db.exists()
    store.close()


def test_an_upgraded_database_finds_stored_links_and_open_stories_by_index(tmp_path: Path) -> None:
    """Before: which article links are stored already, and which stories are still open, were answered by
    scanning the whole item and story tables (43-69 ms per 500 links at 61,000 items in an audit)."""
    from mediawatch.store.migrate import upgrade

    db = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        upgrade(conn, "0002")  # a database made before the indexes
    engine.dispose()
    store = open_store(f"sqlite:///{db}")
    raw = sqlite3.connect(db)
    try:
        links = raw.execute("EXPLAIN QUERY PLAN SELECT url FROM item WHERE url IN ('https://a.example/1', "
                            "'https://a.example/2')").fetchall()
        assert any("ix_item_url" in row[-1] for row in links), links
        stories = raw.execute("EXPLAIN QUERY PLAN SELECT id FROM story WHERE last_seen >= '2025-11-01'").fetchall()
        assert any("ix_story_last_seen" in row[-1] for row in stories), stories
    finally:
        raw.close()
        store.close()


def stored_by_release(db_url: str, revision: str, urls: list[str]) -> list[Item]:
    """Items 1, 2, … stored under ``urls`` (as written) by the release whose schema is ``revision``, in source
    feed-a; the database is left at that revision, for the next open to migrate."""
    from mediawatch.store.migrate import upgrade

    engine = create_engine(db_url)
    with engine.begin() as conn:
        upgrade(conn, revision)
    engine.dispose()
    old = open_store(db_url, migrate=False)
    old.sync_sources(TWO, NOW)
    stored = [make_item(n, url=url) for n, url in enumerate(urls, 1)]
    old.commit_source(SourceId("feed-a"), stored, SourceState(SourceId("feed-a")), NOW)
    old.close()
    return stored


def test_items_stored_before_the_canonical_form_changed_keep_their_ids_and_are_found_by_url(db_url: str) -> None:
    """Items stored under an older canonical form (``/d/%31``, ``%7E``: escapes now decoded) get their URL
    rewritten by migration 0004 and keep their ids; the next collect finds them by URL, by id or by neither
    GUID, and stores nothing again (before: every such article became a second item)."""
    from mediawatch.normalize import canonical_url, item_id

    stored = stored_by_release(db_url, "0003", ["https://a.example/d/%31?id=5", "https://a.example/%7Eed/news"])

    store = open_store(db_url)
    try:
        now_urls = ["https://a.example/d/1?id=5", "https://a.example/~ed/news"]
        assert [store.get_item(it.id).url for it in stored] == now_urls  # type: ignore[union-attr]
        assert [canonical_url(it.url) for it in stored] == now_urls
        assert store.known_urls(now_urls) == set(now_urls)  # what a page source asks before fetching
        again = [replace(make_item(n), id=item_id(url), url=url) for n, url in enumerate(now_urls, 1)]
        for source in ("feed-a", "tube-b"):  # the same source without GUIDs, and another source
            report = store.commit_source(SourceId(source), again, SourceState(SourceId(source)), NOW)
            assert report.new == () and report.seen == 2
        assert store.count_items() == 2
        assert {h.source_id: h.items_7d for h in store.health(NOW)} == {"feed-a": 2, "tube-b": 2}
    finally:
        store.close()


def test_items_stored_before_a_stray_percent_was_escaped_keep_their_ids_and_are_found_by_url(db_url: str) -> None:
    """A "%" that starts no escape is now escaped itself (``/x%zz`` is ``/x%25zz``), and ``%%41`` no longer
    decodes to ``%A``: migration 0005 rewrites the stored URLs, the items keep their ids, and the next collect
    stores nothing again."""
    from mediawatch.normalize import canonical_url, item_id

    stored = stored_by_release(db_url, "0004", [
        "https://a.example/x%zz?q=%4", "https://a.example/%A/b", "https://a.example/plain/%C3%A9",
        # ";jsess%69onid=" was decoded before the session id was looked for; now it is dropped
        "https://a.example/a/12;jsessionid=ABC",
    ])

    store = open_store(db_url)
    try:
        now_urls = ["https://a.example/x%25zz?q=%254", "https://a.example/%25A/b", "https://a.example/plain/%C3%A9",
                    "https://a.example/a/12"]
        assert [store.get_item(it.id).url for it in stored] == now_urls  # type: ignore[union-attr]
        assert [canonical_url(url) for url in ("https://a.example/x%zz?q=%4", "https://a.example/%%41/b")] == now_urls[:2]
        assert canonical_url("https://a.example/a/12;jsess%69onid=ABC") == now_urls[3]
        assert store.known_urls(now_urls) == set(now_urls)
        again = [replace(make_item(n), id=item_id(url), url=url) for n, url in enumerate(now_urls, 1)]
        report = store.commit_source(SourceId("tube-b"), again, SourceState(SourceId("tube-b")), NOW)
        assert report.new == () and report.seen == 4 and store.count_items() == 4
    finally:
        store.close()


def test_a_source_password_stored_by_an_older_release_is_removed_and_its_items_are_not_stored_again(
    db_url: str,
) -> None:
    """Before: relative links inherited a source url's user:password, so stored item URLs (and the pages,
    feeds and digests showing them), thumbnails, errors and notes carried it; migration 0004 takes it out, the
    items keep their ids, and the next collect (whatever the password now) finds them."""
    import json

    from mediawatch.normalize import item_id
    from mediawatch.store.migrate import upgrade

    engine = create_engine(db_url)
    with engine.begin() as conn:
        upgrade(conn, "0003")
    engine.dispose()
    old = open_store(db_url, migrate=False)
    # a source whose url holds a password, as the sources file does (older releases stored it in its spec)
    old.sync_sources((*TWO, *specs("  - {id: feed-c, kind: rss, url: 'http://user:s3cret@c.example/rss'}\n")),
                     NOW)
    with old.engine.begin() as conn:  # as an older release wrote it
        conn.exec_driver_sql("UPDATE source SET spec_json = '{\"url\": \"http://user:s3cret@c.example/rss\"}' "
                             "WHERE id = 'feed-c'")
    secret = "http://user:s3cret@a.example"
    stored = replace(make_item(1, url=f"{secret}/rel/1"), id=item_id(f"{secret}/rel/1"),
                     media={"thumbnail": f"{secret}/img/1.jpg"})  # its id: the hash of that URL, as it was
    notes = {"warning": f"1 of 2 articles failed (first: {secret}/rel/2: HTTP 404)",
             "moved_permanently": f"{secret}/feed2.xml", "_given_up": json.dumps({f"{secret}/rel/2": "2025-11-03"})}
    state = SourceState(SourceId("feed-a"), last_error=f"every new article failed; first: {secret}/rel/2: HTTP 404",
                        notes=notes)
    old.commit_source(SourceId("feed-a"), [stored], state, NOW)
    old.close()

    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            for table in ("item", "source_state", "source"):
                rows = conn.exec_driver_sql(f"SELECT * FROM {table}").all()
                assert rows and "s3cret" not in repr(rows), rows
        got = store.get_item(stored.id)
        assert got is not None and got.url == "http://a.example/rel/1"
        assert got.media == {"thumbnail": "http://a.example/img/1.jpg"}
        saved = store.source_state("feed-a")
        assert saved.last_error == "every new article failed; first: http://a.example/rel/2: HTTP 404"
        assert json.loads(saved.notes["_given_up"]) == {"http://a.example/rel/2": "2025-11-03"}  # type: ignore[index]
        again = replace(make_item(1), id=item_id("http://a.example/rel/1"), url="http://a.example/rel/1")
        report = store.commit_source(SourceId("feed-a"), [again], SourceState(SourceId("feed-a")), NOW)
        assert report.new == () and store.count_items() == 1
    finally:
        store.close()


def test_upgrade_from_an_empty_database_made_elsewhere(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE unrelated (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO unrelated VALUES (42)")
    engine.dispose()
    open_store(db_url).close()
    engine = create_engine(db_url)
    with engine.connect() as conn:  # nothing of the operator's was touched
        assert conn.exec_driver_sql("SELECT x FROM unrelated").all() == [(42,)]
    engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def test_processes_opening_a_new_database_at_once_all_succeed(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """`run` and `serve` started together on a fresh database: one migrates, the others wait for it (a lock
    file next to a SQLite database; pg_advisory_xact_lock on PostgreSQL, where concurrent CREATE TABLEs fail)."""
    import subprocess
    import sys

    pg = request.getfixturevalue("pgserver") if backend == "postgresql" else None
    script = (
        "import sys, time, pathlib\n"
        "import alembic.command, sqlalchemy\n"
        "from mediawatch.store import open_store\n"
        "sqlalchemy.create_engine(sys.argv[1]).dialect.dbapi  # the driver is imported too\n"
        "go, ready = pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])\n"
        "ready.touch()\n"
        "while not go.exists(): time.sleep(0.002)\n"
        "print(open_store(sys.argv[1]).migrate())\n"
    )
    for round_ in range(3 if pg is None else 2):  # without the lock PostgreSQL fails in the first round
        url = pg.database() if pg is not None else f"sqlite:///{tmp_path / f'new{round_}.db'}"
        go, ready = tmp_path / f"go{round_}", [tmp_path / f"ready{round_}-{n}" for n in range(4)]
        procs = [
            subprocess.Popen([sys.executable, "-c", script, url, str(go), str(r)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
            for r in ready
        ]
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready) and time.monotonic() < deadline:
            time.sleep(0.01)  # until all four have imported everything and wait for the signal
        go.touch()
        outcomes = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0, 0, 0], [err[-500:] for _, err in outcomes]
        assert {out.strip() for out, _ in outcomes} == {head_revision()}


def test_sync_adds_changes_and_disables_but_never_deletes(store) -> None:
    store.commit_source(SourceId("tube-b"), [make_item(1, "tube-b")], SourceState(SourceId("tube-b")), NOW)
    changed = specs(
        "  - {id: feed-a, kind: rss, url: 'https://a.example/rss2', every: 30m}\n"
        "  - {id: new-c, kind: page, url: 'https://c.example/'}\n"
    )
    report = store.sync_sources(changed, NOW + timedelta(minutes=1))
    assert report.added == ("new-c",)
    assert report.changed == ("feed-a",)
    assert report.disabled == ("tube-b",)
    health = {h.source_id: h for h in store.health(NOW)}
    assert set(health) == {"feed-a", "tube-b", "new-c"}
    assert health["tube-b"].enabled is False and "removed" in health["tube-b"].notes
    assert health["feed-a"].url == "https://a.example/rss2"
    assert store.get_item("id0001") is not None  # the removed source's item stays
    assert store.due_sources(NOW) == ["feed-a", "new-c"]
    # unchanged file: nothing to do; the source coming back re-enables it
    again = store.sync_sources(TWO, NOW)
    assert again.changed == ("feed-a", "tube-b") and again.disabled == ("new-c",)
    assert {h.source_id: h.enabled for h in store.health(NOW)} == {"feed-a": True, "tube-b": True, "new-c": False}


def test_item_round_trip_and_dedupe(store) -> None:
    state = SourceState(SourceId("feed-a"), etag='"v1"', next_check=NOW + timedelta(minutes=30))
    first = store.commit_source(SourceId("feed-a"), [make_item(1, guid="g1"), make_item(2, guid="g2")], state, NOW)
    assert first.new == ("id0001", "id0002") and first.seen == 0
    got = store.get_item("id0001")
    assert got == make_item(1, guid="g1")
    assert got.published.tzinfo is not None
    # same guid, different url (a tracking parameter the feed added): already seen within the source
    again = store.commit_source(SourceId("feed-a"), [replace(make_item(9, guid="g1"))], state, NOW)
    assert again.new == () and again.seen == 1
    # another source carrying the same canonical URL: one item, counted for both sources
    other = store.commit_source(SourceId("tube-b"), [make_item(2, "tube-b")], SourceState(SourceId("tube-b")), NOW)
    assert other.new == () and other.seen == 1
    assert store.count_items() == 2
    assert {h.source_id: h.items_7d for h in store.health(NOW)} == {"feed-a": 2, "tube-b": 1}
    saved = store.source_state("feed-a")
    assert saved.etag == '"v1"' and saved.next_check == NOW + timedelta(minutes=30)
    assert saved.last_new_item == NOW
    assert store.due_sources(NOW) == ["tube-b"]


def test_export_format(store) -> None:
    store.commit_source(SourceId("feed-a"), [make_item(1), make_item(30)], SourceState(SourceId("feed-a")), NOW)
    rows = list(store.export_rows())
    assert [r["id"] for r in rows] == ["id0030", "id0001"]  # oldest first
    rec = rows[1]
    required = {"id", "source_id", "kind", "url", "title", "summary", "text", "published", "fetched", "lang",
                "author", "media", "relevant", "relevance", "countries", "topics", "story_id"}
    assert required <= rec.keys()
    assert rec["published"] == "2025-11-03T11:00:00Z" and rec["fetched"] == "2025-11-03T12:00:00Z"
    assert rec["kind"] == "article" and rec["media"] == {"shorts": False, "views": 10}
    assert rec["relevant"] is None and rec["story_id"] is None and rec["countries"] == []
    assert [r["id"] for r in store.export_rows(since=NOW - timedelta(hours=2))] == ["id0001"]
    assert [r["id"] for r in store.export_rows(until=NOW - timedelta(hours=2))] == ["id0030"]
    assert list(store.export_rows(relevant_only=True)) == []


def test_naive_datetimes_are_refused(store) -> None:
    bad = replace(make_item(1), published=datetime(2025, 1, 1))  # noqa: DTZ001 - on purpose
    with pytest.raises(Exception, match="naive datetime"):
        store.commit_source(SourceId("feed-a"), [bad], SourceState(SourceId("feed-a")), NOW)
    assert store.count_items() == 0  # the failed transaction left nothing behind


def test_silent_source_is_flagged(store) -> None:
    """Up (recent successes) but nothing new for much longer than usual: the operator sees a note."""
    quiet = SourceState(SourceId("feed-a"), last_success=NOW, last_attempt=NOW)
    store.commit_source(SourceId("feed-a"), [make_item(1)], quiet, NOW - timedelta(days=20))
    store.save_source_state(SourceState(SourceId("feed-a"), last_success=NOW, last_attempt=NOW))
    health = {h.source_id: h for h in store.health(NOW)}
    assert "nothing new for 20 days" in health["feed-a"].notes["silent"]
    assert "silent" not in health["tube-b"].notes  # never collected: not "silent"


def test_a_failed_commit_says_why_in_one_line_without_the_items(store) -> None:
    """Before: the error carried SQLAlchemy's whole text, the INSERT statement with every item's values, onto
    the source's health and the command's `error:` line."""
    from mediawatch.errors import StoreError

    with store.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE item_source")
    with pytest.raises(StoreError) as info:
        store.commit_source(SourceId("feed-a"), [make_item(1)], SourceState(SourceId("feed-a")), NOW)
    message = str(info.value)
    assert message.startswith("feed-a: could not store items: ") and "item_source" in message, message
    assert "\n" not in message and "[SQL" not in message and "https://a.example/news/1" not in message and len(message) < 300


def test_only_operational_errors_can_say_the_whole_database_refuses_writes() -> None:
    import sqlite3

    from sqlalchemy.exc import IntegrityError, OperationalError

    from mediawatch.errors import StoreError
    from mediawatch.store import refuses_every_write

    full = OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
    wrapped = StoreError("feed-a: could not store items")
    wrapped.__cause__ = full
    assert refuses_every_write(full) and refuses_every_write(wrapped)
    assert refuses_every_write(OperationalError("x", {}, sqlite3.OperationalError("attempt to write a readonly database")))
    # a constraint's message can quote an item's values: never read as the database's state
    duplicate = IntegrityError("x", {}, sqlite3.IntegrityError("Key (url)=(https://a.example/read-only-disk-is-full) exists"))
    assert not refuses_every_write(duplicate)
    assert not refuses_every_write(OperationalError("x", {}, sqlite3.OperationalError("no such table: item")))


def test_a_source_password_is_not_stored_in_its_spec(db_url: str) -> None:
    """Before: the source table's spec quoted the url with its user:password, rewritten at every sync."""
    store = open_store(db_url)
    try:
        store.sync_sources(specs("  - {id: feed-c, kind: rss, url: 'http://user:s3cret@c.example/rss'}\n"), NOW)
        with store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT spec_json FROM source").all()
        assert rows and "s3cret" not in repr(rows) and "c.example/rss" in repr(rows)
    finally:
        store.close()
