"""Dialect-sensitive store behaviour, once on SQLite and once on PostgreSQL (the ``db_url`` fixture).

The same inputs must give the same results on both. Expected orders are computed here in Python (code-point
order, which is SQLite's BINARY collation); the test cluster's collation sorts case-insensitively and ignores
punctuation, as a production ``en_US.UTF-8`` database does (tests/pgserver.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mediawatch.cli import main
from mediawatch.models import Classification, Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import Label, SourceState, Store, open_store
from mediawatch.store.migrate import head_revision
from mediawatch.store.queries import ItemQuery
from mediawatch.store.stories import DigestRecord

NOW = datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
# slugs whose code-point order differs from a linguistic one ("feed-b" < "feeda" by code point, not in en_US)
SOURCE_IDS = ["feeda", "feed-b", "feedc", "ab", "a-c", "a1"]


@pytest.fixture
def store(db_url: str):
    s = open_store(db_url)
    text = "".join(f"  - {{id: {sid}, kind: rss, url: 'https://{sid}.example/rss'}}\n" for sid in SOURCE_IDS)
    s.sync_sources(parse_sourcefile("version: 1\nsources:\n" + text, Path("s.yaml")).sources, NOW)
    yield s
    s.close()


def item(
    item_id: str,
    *,
    source: str = "feeda",
    title: str = "Title",
    published: datetime = NOW,
    lang: str | None = "en",
    guid: str | None = None,
    text: str = "Body",
) -> Item:
    return Item(
        id=ItemId(item_id),
        source_id=SourceId(source),
        kind=ItemKind.ARTICLE,
        url=f"https://x.example/{item_id}",
        title=title,
        summary="Summary",
        text=text,
        published=published,
        fetched=NOW,
        language=lang,
        guid=guid,
    )


def commit(store: Store, items: list[Item], source: str = "feeda") -> None:
    store.commit_source(SourceId(source), items, SourceState(SourceId(source)), NOW)


def classify(
    store: Store,
    ids: list[str],
    *,
    countries: tuple[str, ...] = ("MN",),
    topics: tuple[str, ...] = ("festivals",),
    why: dict | None = None,
    model: str = "m",
) -> None:
    store.save_classifications(
        Classification(
            item_id=ItemId(i),
            relevant=True,
            relevance=0.9,
            countries=countries,
            topics=topics,
            why=why or {},
            model=model,
            taxonomy_hash="t",
            classified_at=NOW,
        )
        for i in ids
    )


def ids_of(items: list) -> list[str]:
    return [i.id for i in items]


# ---------------------------------------------------------------------------------------------- ordering


def test_text_keys_sort_by_code_point_on_every_backend(store: Store) -> None:
    expected = sorted(SOURCE_IDS)
    assert expected != sorted(SOURCE_IDS, key=lambda s: s.replace("-", "")), (
        "the ids must tell collations apart"
    )
    assert store.source_ids() == expected
    assert store.due_sources(NOW) == expected  # all never checked: ties on next_check broken by id
    assert [h.source_id for h in store.health(NOW)] == expected
    assert [w.id for w in store.source_weeks(NOW - timedelta(days=7), NOW)] == expected
    assert [s[0] for s in store.facets().sources] == expected
    # tag values and languages in the facets, digests by week
    ids = ["i1", "i2", "i3"]
    commit(store, [item(i, lang=lang) for i, lang in zip(ids, ["zh-hans", "zh-Hant", "zh_x"], strict=True)])
    classify(store, ids, topics=("arts-crafts", "artsy", "Arts"))
    assert [t for t, _ in store.facets().topics] == sorted(["arts-crafts", "artsy", "Arts"])
    assert [lang for lang, _ in store.facets().languages] == sorted(["zh-hans", "zh-Hant", "zh_x"])
    for week in ("2025-W09", "2025-W10", "2024-W52"):
        store.record_digest(DigestRecord(week, NOW, f"{week}.md", f"{week}.html", 1))
    assert [d.week for d in store.digests()] == ["2025-W10", "2025-W09", "2024-W52"]


def test_items_published_together_are_ordered_by_id_the_same_way_everywhere(store: Store) -> None:
    """ORDER BY published, id: ties on published fall to the id, in code-point order on both backends, and the
    chunked path of find_items (more than 500 ids, sorted in Python) agrees with the single query."""
    ids = ["it-b", "ita", "itB", "it_c", "itc", "it-a"]
    commit(store, [item(i) for i in ids])
    classify(store, ids)
    newest_first = sorted(ids, reverse=True)
    assert ids_of(store.find_items(ItemQuery(), limit=None)) == newest_first
    padded = ItemQuery(item_ids=(*ids, *(f"missing{n}" for n in range(600))))
    assert ids_of(store.find_items(padded, limit=None)) == newest_first
    pages = [ids_of(store.find_items(ItemQuery(), limit=2, offset=k)) for k in (0, 2, 4)]
    assert [i for page in pages for i in page] == newest_first  # paging never repeats nor skips an item
    assert [r["id"] for r in store.export_rows()] == sorted(ids)
    assert store.items_to_classify("other", "t") == sorted(ids)[::-1]  # tagged by other heads: newest first
    assert store.items_to_classify("other", "t", everything=True) == sorted(ids)
    assert [w.id for w in store.week_items(NOW - timedelta(days=1), NOW + timedelta(days=1))] == sorted(ids)
    # labels written at the same moment come back by item id
    for i in reversed(ids):
        store.save_label(Label(ItemId(i), True, ("KZ",), ("sport",), None, None, NOW))
    assert [lb.item_id for _, lb in store.labeled_items()] == sorted(ids)
    assert [i for i, _ in store.labels_since(None)] == sorted(ids)


# ---------------------------------------------------------------------------------------------- filters


def test_text_filters_are_case_sensitive_except_where_documented(store: Store) -> None:
    commit(store, [item("a", lang="en"), item("b", lang="kk")], "feed-b")
    classify(store, ["a", "b"], countries=("MN",), topics=("festivals",))
    assert ids_of(store.find_items(ItemQuery(language="en"))) == ["a"]
    assert store.find_items(ItemQuery(language="EN")) == []
    assert ids_of(store.find_items(ItemQuery(source="feed-b"))) == ["b", "a"]
    assert (
        store.find_items(ItemQuery(source="FEED-B")) == []
        and store.find_items(ItemQuery(source="feedb")) == []
    )
    assert store.find_items(ItemQuery(topic="Festivals")) == []
    assert ids_of(store.find_items(ItemQuery(country="mn"))) == ["b", "a"]  # country codes are upper-cased
    assert store.feed_key("Festivals", None) is None and store.feed_key("festivals", "MN") is not None


SEARCH_TITLES = {
    "pct": "100% Kazakh",
    "thousand": "1000 Kazakhs",
    "under": "snake_case news",
    "nounder": "snakeXcase news",
    "slash": r"Files in C:\Dir\file",
    "nauryz-ru": "Наурыз мерекесі",
    "nauryz-en": "NAURYZ in London",
    "kazakh-up": "ҚАЗАҚ тілі",
    "quote": 'It\'s "quoted"',
    "london-ru": "Казахская диаспора Лондона",
    "istanbul": "İstanbul'da Nevruz",
}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("100%", {"pct"}),  # % is literal, not a wildcard
        ("%", {"pct"}),
        ("snake_case", {"under"}),  # _ is literal
        ("_", {"under"}),
        (r"c:\dir", {"slash"}),  # backslash literal, ASCII case folded
        ("\\", {"slash"}),
        ("nauryz", {"nauryz-en"}),
        ("наурыз", {"nauryz-ru"}),  # Cyrillic: the lower/Title/UPPER variants match on SQLite too
        ("қазақ", {"kazakh-up"}),
        # any mix of capitals in any script (SQLite's own LIKE folds ASCII only), Turkish İ as i
        ("диаспора лондона", {"london-ru"}),
        ("КАЗАХСКАЯ диаспора", {"london-ru"}),
        ("Қазақ ТІЛІ", {"kazakh-up"}),
        ("istanbul", {"istanbul"}),
        ("İSTANBUL", {"istanbul"}),
        ("it's \"q", {"quote"}),
        ("kazakh", {"pct", "thousand"}),
        ("full body text", {"body"}),  # the main text is searched too
        ("no such words", set()),
    ],
)
def test_search_escapes_like_wildcards_and_folds_case(store: Store, query: str, expected: set[str]) -> None:
    items = [item(k, title=v) for k, v in SEARCH_TITLES.items()] + [item("body", text="The FULL body text")]
    commit(store, items)
    got = {i.id for i in store.find_items(ItemQuery(search=query, relevant_only=False), limit=None)}
    assert got == expected


# ---------------------------------------------------------------------------------------------- round trips


def test_datetimes_and_json_round_trip(store: Store) -> None:
    almaty = timezone(timedelta(hours=5))
    moment = datetime(2025, 3, 21, 12, 30, 15, 654321, tzinfo=almaty)
    notes = {"ключ": "значение ✓", "quote": 'a"b\\c', "emoji": "🐎", "nul": "\\u0000 stays text"}
    state = SourceState(
        SourceId("feeda"),
        etag='W/"v1"',
        last_attempt=moment,
        last_success=moment,
        next_check=datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        notes=notes,
        last_error="HTTP 503 «Service Unavailable»",
        last_status=503,
        consecutive_failures=2,
    )
    store.save_source_state(state)
    got = store.source_state("feeda")
    assert got == state  # aware datetimes compare by instant
    assert got.last_attempt is not None and got.last_attempt.tzinfo == UTC and got.last_attempt == moment
    assert got.notes == notes
    old = datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    media = {"views": 10, "nested": {"list": [1, 2.5, None, True]}, "text": 'Қазақ "x"'}
    it = Item(
        id=ItemId("rt"),
        source_id=SourceId("feeda"),
        kind=ItemKind.VIDEO,
        url="https://x.example/rt",
        title="Ölgii — Өлгий",
        summary="",
        text="",
        published=old,
        fetched=moment,
        media=media,
        published_estimated=True,
        language="zh-hant-tw-x-private",
    )  # longer than the old VARCHAR(16)
    commit(store, [it])
    back = store.get_item("rt")
    assert back == it and back is not None and back.published.tzinfo == UTC
    why = {
        "relevance": 0.123456789,
        "places": [{"name": "Ölgii", "country": "MN"}],
        "nested": {"a": [1, "b"]},
    }
    long_model = "local/" + "x" * 200  # a model path longer than the old VARCHAR(128)
    classify(store, ["rt"], why=why, model=long_model)
    cls = store.classification("rt")
    assert cls is not None and cls.why == why and cls.model == long_model and cls.classified_at == NOW
    assert cls.classified_at.tzinfo == UTC
    # aggregates come back aware UTC too; filters take aware datetimes in any zone
    assert store.counts().newest_fetch == moment
    key = store.feed_key("festivals", None)
    assert key is not None and key.newest == old and key.newest.tzinfo == UTC
    assert ids_of(store.find_items(ItemQuery(since=old.astimezone(almaty)))) == ["rt"]
    assert store.find_items(ItemQuery(until=old.astimezone(almaty))) == []
    assert store.watching_since() == NOW
    [row] = list(store.export_rows())
    assert row["published"] == "1970-01-01T00:00:00.000001Z" and row["media"] == media and row["why"] == why


def test_upserts_and_insert_ignore(store: Store) -> None:
    sid = SourceId("feeda")
    store.save_source_state(SourceState(sid, etag='"1"', last_new_item=NOW))
    store.save_source_state(SourceState(sid, etag='"2"', consecutive_failures=1))  # upsert: every column
    got = store.source_state("feeda")
    assert got.etag == '"2"' and got.consecutive_failures == 1
    assert got.last_new_item == NOW  # a state without last_new_item keeps the stored one
    store.save_source_states([SourceState(sid, etag='"3"'), SourceState(SourceId("ab"), last_new_item=NOW)])
    assert store.source_state("feeda").etag == '"3"' and store.source_state("feeda").last_new_item == NOW
    assert store.source_state("ab").last_new_item == NOW
    # items: the second commit of the same entries stores nothing new
    first = store.commit_source(sid, [item("a", guid="g"), item("b")], SourceState(sid), NOW)
    again = store.commit_source(sid, [item("a", guid="g"), item("b")], SourceState(sid), NOW)
    assert (first.new, again.new, again.seen) == (("a", "b"), (), 2)
    # embeddings: insert-or-ignore keeps the first vector
    store.put_embeddings("m", {"h1": np.array([1, 0], np.float32)})
    store.put_embeddings("m", {"h1": np.array([0, 1], np.float32), "h2": np.array([2, 2], np.float32)})
    got_vec = store.get_embeddings("m", ["h1", "h2", "h3"])
    assert got_vec.keys() == {"h1", "h2"} and got_vec["h1"].tolist() == [1.0, 0.0]
    # classifications, labels and digests: the second write wins
    classify(store, ["a"], topics=("sport",))
    classify(store, ["a"], topics=("festivals",))
    assert store.classification("a").topics == ("festivals",)  # type: ignore[union-attr]
    store.save_label(Label(ItemId("a"), True, ("KZ",), ("sport",), "ed", None, NOW))
    store.save_label(Label(ItemId("a"), False, (), (), "ed2", "not diaspora", NOW + timedelta(hours=1)))
    [(_, label)] = store.labeled_items()
    assert (label.relevant, label.editor, label.note) == (False, "ed2", "not diaspora")
    assert store.find_items(ItemQuery()) == []  # the tag table followed the label
    store.record_digest(DigestRecord("2025-W10", NOW, "a.md", "a.html", 1))
    store.record_digest(DigestRecord("2025-W10", NOW, "b.md", "b.html", 2))
    assert store.digest_record("2025-W10") == DigestRecord("2025-W10", NOW, "b.md", "b.html", 2)


def test_service_lock(store: Store) -> None:
    stale = timedelta(minutes=5)
    assert store.acquire_lock("run", "p1", NOW, stale_after=stale)
    assert not store.acquire_lock("run", "p2", NOW + timedelta(minutes=1), stale_after=stale)
    assert store.refresh_lock("run", "p1", NOW + timedelta(minutes=2))
    assert store.lock_holder("run") == ("p1", NOW + timedelta(minutes=2))
    assert store.acquire_lock(
        "run", "p2", NOW + timedelta(minutes=8), stale_after=stale
    )  # p1 stopped beating
    assert not store.refresh_lock("run", "p1", NOW + timedelta(minutes=8))
    store.release_lock("run", "p2")
    assert store.lock_holder("run") is None


# ---------------------------------------------------------------------------------------------- size


@pytest.mark.slow
def test_large_in_lists(store: Store) -> None:
    """Every IN (...) over caller-given ids is chunked: PostgreSQL's protocol takes at most 65535 parameters."""
    n = 1200
    items = [item(f"big{k:05d}", guid=f"g{k}", published=NOW - timedelta(minutes=k)) for k in range(n)]
    assert store.commit_source(SourceId("feeda"), items, SourceState(SourceId("feeda")), NOW).new == tuple(
        i.id for i in items
    )
    again = store.commit_source(SourceId("feeda"), items, SourceState(SourceId("feeda")), NOW)
    assert again.new == () and again.seen == n
    urls = [i.url for i in items]
    assert store.known_urls([*urls, "https://x.example/unknown"]) == set(urls)
    ids = [i.id for i in items]
    classify(store, ids)
    assert store.counts().relevant == n
    assert ids_of(store.find_items(ItemQuery(item_ids=tuple(ids)), limit=None)) == ids  # newest first
    assert store.items_without_story(ids) == ids
    store.put_embeddings("m", {f"h{k}": np.array([k, 1], np.float32) for k in range(n)})
    assert len(store.get_embeddings("m", [f"h{k}" for k in range(n)])) == n
    # tag refresh over more ids than one statement may carry (the classifier passes any number)
    many = [*ids, *(f"none{k}" for k in range(70_000))]
    store._refresh_tags(many)
    assert store.counts().relevant == n


# ---------------------------------------------------------------------------------------------- command line


def test_cli_db_upgrade_export_and_sources(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MEDIAWATCH_DB", raising=False)
    (tmp_path / "sources.yaml").write_text(
        "version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://a.example/rss'}\n", encoding="utf-8"
    )
    runner = CliRunner()
    result = runner.invoke(main, ["db", "upgrade", "--db", db_url], catch_exceptions=False)
    assert result.exit_code == 0 and f"schema at revision {head_revision()}" in result.stdout
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    password = make_url(db_url).password
    if password:  # PostgreSQL: a password with characters that are %-encoded in the URL
        assert password not in result.stdout and quote(password, safe="") not in result.stdout, result.stdout
        assert result.stdout.startswith(make_url(db_url).render_as_string(hide_password=True))
    monkeypatch.setenv("MEDIAWATCH_DB", db_url)
    result = runner.invoke(main, ["sources", "--json"], catch_exceptions=False)
    assert result.exit_code == 0 and '"id": "feed-a"' in result.stdout
    store = open_store(db_url)
    commit(store, [item("x1", source="feed-a", title="Қазақ")], "feed-a")
    store.close()
    result = runner.invoke(main, ["export"], catch_exceptions=False)
    assert result.exit_code == 0 and '"title": "Қазақ"' in result.stdout


@pytest.mark.slow
def test_export_streams_rows_from_postgresql(pg_url: str) -> None:
    """Before: psycopg read the whole export result into memory before the first line was written (199 MB
    for a 61,000-item archive in an audit). Rows now come through a server-side cursor, a batch at a time."""
    from sqlalchemy import create_engine, text

    from mediawatch.store import EXPORT_BATCH, open_store

    store = open_store(pg_url)
    store.sync_sources(parse_sourcefile("version: 1\nsources:\n  - {id: feeda, kind: rss, url: 'https://a.example/rss'}\n",
                                        Path("s.yaml")).sources, NOW)
    ids = [f"it{n:04d}" for n in range(EXPORT_BATCH * 2 + 10)]
    commit(store, [item(i) for i in ids])
    rows = store.export_rows()
    first = next(rows)
    watcher = create_engine(pg_url)
    try:
        with watcher.connect() as conn:
            queries = conn.execute(text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )).scalars().all()
    finally:
        watcher.dispose()
    assert any(q.lstrip().upper().startswith(("DECLARE", "FETCH")) for q in queries), queries
    assert [first["id"], *(r["id"] for r in rows)] == ids
    store.close()


def test_the_database_reports_its_size(store: Store) -> None:
    """For /metrics: an archive grows by about 8 MB per 1,000 tagged items, and operators watch it."""
    empty = store.counts().database_bytes
    commit(store, [item(f"it{n:03d}", title="x" * 2000) for n in range(200)])
    grown = store.counts().database_bytes
    assert empty is not None and grown is not None and grown > empty > 0
