"""Subscriber feeds on a real SQLite store: every file parses back, filters, stable ids and bytes,
corrections, limited rebuilds, windows and caps, escaping of hostile text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from pydantic import ValidationError
from sqlalchemy import update
from starlette.testclient import TestClient
from webdata import NOW, QStore, Row, add_rows, ago, item_id, open_filled

from mediawatch.errors import StoreError
from mediawatch.models import ItemId
from mediawatch.publish import FeedKey, FeedOptions, feed_entries, known_keys, pick_entries, rebuild_feeds
from mediawatch.publish.text import plain
from mediawatch.publish.write import (
    LOCK,
    MANIFEST,
    empty_feed_updated,
    feeds_outdated,
    group_entries,
    write_if_changed,
)
from mediawatch.settings import Settings
from mediawatch.store import Label
from mediawatch.store import schema as t
from mediawatch.store.queries import ItemQuery
from mediawatch.web import create_app

ATOM_NS = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def store(tmp_path: Path):
    s = open_filled(tmp_path / "feeds.db")
    yield s
    s.close()


def tag_uri(n: int) -> str:
    return f"tag:mediawatch,2025:item/{item_id(n)}"


def feed_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def atom_ids(path: Path) -> list[str]:
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    return [e.id for e in parsed.entries]


def json_ids(path: Path) -> list[str]:
    data = json.loads(path.read_bytes())
    return [i["id"] for i in data["items"]]


def feed_index(out: Path) -> dict[str, list[str]]:
    """Feed name (path below feeds/ without extension) -> entry ids; each JSON twin must list the same ids."""
    index = {}
    for p in sorted((out / "feeds").rglob("*.atom")):
        ids = atom_ids(p)
        assert ids == json_ids(p.with_suffix(".json")), p
        index[p.relative_to(out / "feeds").with_suffix("").as_posix()] = ids
    return index


def where(index: dict[str, list[str]], n: int) -> set[str]:
    """The feeds that hold item n."""
    return {name for name, ids in index.items() if tag_uri(n) in ids}


def test_every_feed_parses_back_and_the_opml_lists_them_all(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    written = rebuild_feeds(store, out, now=NOW)
    atoms = sorted((out / "feeds").rglob("*.atom"))
    jsons = sorted((out / "feeds").rglob("*.json"))
    assert len(atoms) == len(jsons) == 17  # 5 topics + 4 countries + 8 pairs present in webdata.ROWS
    assert set(written) == set(atoms) | set(jsons) | {out / "feeds.opml"}
    for path in atoms:
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        for e in parsed.entries:
            assert e.id.startswith("tag:mediawatch,2025:item/")
            assert e.link.startswith("https://") and e.title and e.published_parsed and e.updated_parsed
            assert e.source.title and e.tags
    for path in jsons:
        data = json.loads(path.read_bytes())
        assert data["version"] == "https://jsonfeed.org/version/1.1"
        assert all(i["id"] and i["content_html"] and i["date_published"].endswith("Z") for i in data["items"])
    opml = ET.parse(out / "feeds.opml").getroot()
    assert opml.tag == "opml" and opml.get("version") == "2.0"
    outlines = [o for o in opml.iter("outline") if o.get("xmlUrl")]
    assert {o.get("xmlUrl") for o in outlines} == {p.relative_to(out).as_posix() for p in atoms}
    assert {o.get("jsonFeedUrl") for o in outlines} == {p.relative_to(out).as_posix() for p in jsons}
    assert not list(out.rglob("*.tmp"))


def test_items_land_in_exactly_their_feeds(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    idx = feed_index(out)
    assert where(idx, 1) == {"topics/festivals", "countries/MN", "topics/festivals/countries/MN"}
    assert where(idx, 3) == {
        "topics/festivals",
        "topics/education",
        "countries/GB",
        "topics/festivals/countries/GB",
        "topics/education/countries/GB",
    }
    assert where(idx, 4) == {"topics/repatriation", "countries/MN", "topics/repatriation/countries/MN"}
    for not_relevant in (6, 7):
        assert where(idx, not_relevant) == set()
    all_bytes = b"".join(feed_files(out).values())
    assert b"item006" not in all_bytes and b"item007" not in all_bytes
    assert where(idx, 8) == set()  # 40 days old: outside the 30-day window, but its feeds exist (empty)
    assert atom_ids(out / "feeds/topics/politics.atom") == []


def test_entries_are_newest_first_and_say_why(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    parsed = feedparser.parse((out / "feeds/topics/festivals.atom").read_bytes())
    assert [e.id for e in parsed.entries] == [tag_uri(1), tag_uri(2), tag_uri(3), tag_uri(9)]
    assert parsed.feed.updated == "2025-03-22T06:00:00+00:00"  # the newest entry's time, not the clock
    first = parsed.entries[0]
    assert first.source.title == "Ölgii News (olgii-mn)"
    assert {t.term for t in first.tags} == {"festivals", "MN"}
    content = BeautifulSoup(first.content[0].value, "html.parser").get_text(" ")
    assert "Model relevance 0.91 (threshold 0.50)" in content
    assert "Names matched: Bayan-Ölgii (MN)" in content and "Topics: Festivals (score 0.83, threshold 0.40)" in content
    assert "Countries: Mongolia [MN] (Bayan-Ölgii)" in content
    raw = (out / "feeds/topics/festivals.atom").read_text(encoding="utf-8")
    assert '<entry xml:lang="kk">' in raw and '<entry xml:lang="en">' in raw
    data = json.loads((out / "feeds/topics/festivals.json").read_bytes())
    assert data["items"][1]["language"] == "kk" and data["items"][1]["tags"] == ["festivals", "MN"]
    text = data["items"][1]["content_text"]
    assert "Names matched: Баян-Өлгий → Bayan-Ölgii (MN)" in text
    # the country's support in the gazetteer's spelling, not the words matched (the tagger's folded "баян-өлгий")
    assert "Countries: Mongolia [MN] (Bayan-Ölgii)" in text
    # the closest training example, as the item page shows it
    assert ("Nearest training example: Kazakhs of Xinjiang celebrate Nauryz (relevant, Festivals; "
            "similarity 0.80).") in text
    assert data["items"][0]["_mediawatch"]["source"]["name"] == "Ölgii News"


def test_rebuild_is_byte_stable_and_ids_survive_content_changes(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    before = feed_files(out)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert rebuild_feeds(store, out, now=NOW + timedelta(hours=3)) == []  # later clock, same content
    assert rebuild_feeds(store, out, now=NOW, touched_item_ids=[item_id(1), item_id(6)]) == []
    assert feed_files(out) == before
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes
    # the source retitles item 1: its feeds change, its id does not
    with store.engine.begin() as conn:
        conn.execute(
            update(t.item).where(t.item.c.id == item_id(1)).values(title="Nauryz in Bayan-Ölgii (updated)")
        )
    written = rebuild_feeds(store, out, now=NOW, touched_item_ids=[item_id(1)])
    assert {p.relative_to(out).as_posix() for p in written} == {
        f"feeds/{n}.{ext}"
        for n in ("topics/festivals", "countries/MN", "topics/festivals/countries/MN")
        for ext in ("atom", "json")
    }
    entry = feedparser.parse((out / "feeds/countries/MN.atom").read_bytes()).entries[0]
    assert (entry.id, entry.title) == (tag_uri(1), "Nauryz in Bayan-Ölgii (updated)")


def test_an_editor_label_removes_and_adds_items(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    store.save_label(Label(item_id(1), False, (), (), "aigerim", "domestic", NOW))
    store.save_label(
        Label(item_id(7), True, ("TR",), ("sport",), "aigerim", None, NOW + timedelta(minutes=1))
    )
    written = rebuild_feeds(
        store, out, now=NOW + timedelta(hours=1), touched_item_ids=[item_id(1), item_id(7)]
    )
    idx = feed_index(out)
    assert where(idx, 1) == set()
    assert where(idx, 7) == {"topics/sport", "countries/TR", "topics/sport/countries/TR"}
    assert out / "feeds/topics/sport.atom" in written and out / "feeds.opml" in written
    sport = feedparser.parse((out / "feeds/topics/sport.atom").read_bytes())
    assert sport.feed.updated == (NOW + timedelta(minutes=1)).isoformat()  # the correction is the news
    assert "Marked relevant by an editor (aigerim)." in sport.entries[0].content[0].value
    # feeds that lost their only item stay valid, without entries (subscribers keep a working URL)
    # item 1 was not the only festivals/MN item (item 2 is), so that feed keeps item 2
    assert atom_ids(out / "feeds/topics/festivals/countries/MN.atom") == [tag_uri(2)]
    # a limited rebuild gives exactly what a full rebuild into a fresh folder gives
    fresh = tmp_path / "fresh"
    rebuild_feeds(store, fresh, now=NOW + timedelta(hours=1))
    assert {k: v for k, v in feed_files(out).items() if k != f"feeds/{MANIFEST}"} == {
        k: v for k, v in feed_files(fresh).items() if k != f"feeds/{MANIFEST}"
    }


def test_labels_saved_elsewhere_are_picked_up_and_emptied_feeds_stay_valid(
    store: QStore, tmp_path: Path
) -> None:
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    assert where(feed_index(out), 9) == {"topics/festivals", "countries/TR", "topics/festivals/countries/TR"}
    # the web app saves a label; the scheduler's next rebuild names no items, yet picks the label up
    store.save_label(Label(item_id(9), False, (), (), None, None, NOW + timedelta(hours=2)))
    written = rebuild_feeds(store, out, now=NOW + timedelta(hours=2), touched_item_ids=[])
    assert out / "feeds/countries/TR.atom" in written
    assert where(feed_index(out), 9) == set()
    parsed = feedparser.parse((out / "feeds/countries/TR.atom").read_bytes())
    assert not parsed.bozo and parsed.entries == []
    opml = (out / "feeds.opml").read_text(encoding="utf-8")
    assert "countries/TR.atom" not in opml and "countries/MN.atom" in opml


def test_a_quiet_feed_is_rewritten_when_its_entries_age_out(store: QStore, tmp_path: Path) -> None:
    """Nothing new is tagged for Türkiye, yet item 9 leaves the 30-day window: its feeds' files must drop it,
    as the web app's rendering does, without a full rebuild and without any item being touched."""
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    assert where(feed_index(out), 9) == {"topics/festivals", "countries/TR", "topics/festivals/countries/TR"}
    later = NOW + timedelta(days=23, hours=1)  # item 9 was 7 days old at NOW: now 30 days and an hour
    written = rebuild_feeds(store, out, now=later, touched_item_ids=[])
    assert {p.relative_to(out).as_posix() for p in written} == {
        f"feeds/{n}.{ext}" for n in ("topics/festivals", "countries/TR", "topics/festivals/countries/TR")
        for ext in ("atom", "json")
    }
    assert where(feed_index(out), 9) == set()
    assert feedparser.parse((out / "feeds/countries/TR.atom").read_bytes()).entries == []
    # exactly what a full rebuild writes at that moment, and what the web app serves
    fresh = tmp_path / "fresh"
    rebuild_feeds(store, fresh, now=later)
    assert {k: v for k, v in feed_files(out).items() if not k.startswith("feeds/.")} == {
        k: v for k, v in feed_files(fresh).items() if not k.startswith("feeds/.")
    }
    client = TestClient(create_app(store, Settings(), digests_dir=tmp_path / "web", clock=lambda: later))
    for rel in ("feeds/countries/TR.atom", "feeds/topics/festivals.json"):
        served = client.get(f"/{rel}", headers={"host": "elsewhere.example"})  # no base URL: no links
        assert served.status_code == 200 and served.content == (out / rel).read_bytes(), rel
    # the same when other items are touched: the aged feeds come along with theirs
    even_later = NOW + timedelta(days=26, hours=1)  # items 4 (5 days old at NOW) and 5 (4 days) leave now
    written = rebuild_feeds(store, out, now=even_later, touched_item_ids=[item_id(3)])
    assert out / "feeds/countries/RU.atom" in written and out / "feeds/topics/repatriation.atom" in written
    assert where(feed_index(out), 4) == set() and where(feed_index(out), 5) == set()
    assert where(feed_index(out), 3) == {"topics/festivals", "topics/education", "countries/GB",
                                         "topics/festivals/countries/GB", "topics/education/countries/GB"}
    # nothing aged, touched or labelled since: nothing is written
    assert rebuild_feeds(store, out, now=even_later, touched_item_ids=[]) == []


def hold_feeds_lock(out: Path) -> subprocess.Popen[str]:
    """Another process holding the feeds' lock until its stdin is closed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from filelock import FileLock\n"
         "with FileLock(sys.argv[1]):\n    print('held', flush=True); sys.stdin.read()",
         str(out / "feeds" / LOCK)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_two_builds_at_once_take_turns(store: QStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: nothing stopped a `label` from rebuilding while the service's tick rebuilt. Each read the
    manifest, wrote its feeds and wrote the manifest back, so the one that finished last dropped the other's
    entries from the manifest. Builds now hold a lock file in the feeds folder: another process holding it
    makes this build wait, and the build then runs in full; a holder that never lets go is named."""
    import mediawatch.publish.write as write

    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    before = feed_files(out)
    holder = hold_feeds_lock(out)
    try:
        store.save_label(Label(item_id(9), False, (), (), None, None, NOW + timedelta(hours=2)))
        done: list[list[Path]] = []
        build = threading.Thread(
            target=lambda: done.append(
                rebuild_feeds(store, out, now=NOW + timedelta(hours=2), touched_item_ids=[item_id(9)])
            )
        )
        build.start()
        build.join(1.5)
        assert build.is_alive() and not done, "the build did not wait for the other process's lock"
        assert feed_files(out) == before
    finally:
        holder.communicate("", timeout=20)
    build.join(30)
    assert done and out / "feeds/countries/TR.atom" in done[0]
    assert where(feed_index(out), 9) == set()

    holder = hold_feeds_lock(out)
    try:
        monkeypatch.setattr(write, "LOCK_WAIT", 0.5)
        with pytest.raises(StoreError, match=r"another process has held .*feeds/\.lock for 0.5 s"):
            rebuild_feeds(store, out, now=NOW + timedelta(hours=3))
    finally:
        holder.communicate("", timeout=20)


def test_a_folder_that_cannot_be_locked_is_used_unlocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """On NFS, flock on a folder fails with EBADF (only files opened for writing can be locked there): `sources
    add` then goes on with a warning instead of failing. NFS cannot run here, so flock is made to fail."""
    import errno
    import fcntl

    from mediawatch.files import folder_lock

    def refuse(fd: int, op: int) -> None:
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    monkeypatch.setattr(fcntl, "flock", refuse)
    ran = []
    with folder_lock(tmp_path):
        ran.append(True)
    assert ran == [True]
    assert [r.getMessage() for r in caplog.records] == [
        f"cannot lock {tmp_path} (Bad file descriptor): going on without the lock"]


def test_window_and_cap_are_parameters(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "d"
    options = FeedOptions(max_entries=2, max_age=timedelta(days=60), base_url="https://mw.example/app/")
    rebuild_feeds(store, out, now=NOW, options=options)
    assert atom_ids(out / "feeds/topics/festivals.atom") == [tag_uri(1), tag_uri(2)]
    assert atom_ids(out / "feeds/topics/politics.atom") == [tag_uri(8)]  # 40 days old, inside 60
    parsed = feedparser.parse((out / "feeds/countries/MN.atom").read_bytes())
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links == {
        "self": "https://mw.example/app/feeds/countries/MN.atom",
        "alternate": "https://mw.example/app/?country=MN",
    }
    outlines = [
        o.get("xmlUrl") for o in ET.parse(out / "feeds.opml").getroot().iter("outline") if o.get("xmlUrl")
    ]
    assert "https://mw.example/app/feeds/topics/festivals/countries/MN.atom" in outlines
    # other options than the manifest was built with: a limited rebuild becomes a full one
    written = rebuild_feeds(store, out, now=NOW, touched_item_ids=[], options=FeedOptions())
    assert out / "feeds/topics/education.atom" in written


def test_feed_files_built_before_stored_urls_were_rewritten_are_rebuilt_whole(store: QStore, tmp_path: Path) -> None:
    """Migration 0004 rewrites stored item URLs (no user:password, escapes decoded): feed files built before
    still carried the old links, and a limited rebuild left them so; a manifest of before makes it full."""
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    manifest = out / "feeds" / MANIFEST
    data = json.loads(manifest.read_text(encoding="utf-8"))
    before = FeedOptions()
    seconds = int(before.max_age.total_seconds())
    data["fingerprint"] = f"{before.max_entries}|{seconds}|None|{before.tag_authority}"  # as written before
    manifest.write_text(json.dumps(data), encoding="utf-8")
    with store.engine.begin() as conn:  # what the migration does to a stored URL
        conn.execute(update(t.item).where(t.item.c.id == item_id(1)).values(url="https://a.example/new/1"))
    written = rebuild_feeds(store, out, now=NOW, touched_item_ids=[])
    festivals = out / "feeds/topics/festivals.atom"
    assert festivals in written and b"https://a.example/new/1" in festivals.read_bytes()
    assert rebuild_feeds(store, out, now=NOW, touched_item_ids=[]) == []  # once


XSS_TITLE = (
    "<script>alert(1)</script><img src=x onerror=alert(2)>Kazakh <b>festival</b> "
    "&lt;script&gt;alert(3)&lt;/script&gt;"
)


def test_hostile_text_is_neutralised(store: QStore, tmp_path: Path) -> None:
    rows = [
        Row(
            50,
            "kazinform-en",
            '"><script>',
            ago(1),
            XSS_TITLE,
            'Summary <a href="javascript:alert(4)">click</a> <iframe src="https://evil.example/"></iframe>'
            "\x00\x0b control",
            True,
            "KZ",
            "festivals",
            (("<svg onload=alert(5)>", "KZ", "javascript:alert(6)"),),
        )
    ]
    add_rows(store, rows)
    with store.engine.begin() as conn:
        conn.execute(
            update(t.item)
            .where(t.item.c.id == item_id(50))
            .values(url="javascript:alert(7)", author='<a href="javascript:alert(8)">x</a>')
        )
        conn.execute(
            update(t.source).where(t.source.c.id == "kazinform-en").values(name="<script>alert(9)</script>")
        )
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    for rel in ("feeds/countries/KZ.atom", "feeds/countries/KZ.json"):
        raw = (out / rel).read_bytes()
        assert b"<script" not in raw.lower() and b"\x00" not in raw, rel
        assert b"onerror" not in raw and b"onload" not in raw and b"<iframe" not in raw.lower(), rel
    # "javascript:" may stand in text, as written (the matched name in the why): never in a link or attribute
    atom = ET.fromstring((out / "feeds/countries/KZ.atom").read_bytes())
    markup = [el.text or "" for el in atom.iter(f"{ATOM_NS}content")]
    assert markup and all(not hostile_attributes(el.attrib.values()) for el in atom.iter())
    assert all(not hostile_attributes(a for tag in BeautifulSoup(m, "html.parser").find_all(True)
                                      for a in tag.attrs.values()) for m in markup)
    parsed = feedparser.parse((out / "feeds/countries/KZ.atom").read_bytes())
    assert not parsed.bozo
    entry = parsed.entries[0]
    assert entry.title == "Kazakh festival"  # markup gone, the escaped script decoded once and dropped too
    assert "link" not in entry or not entry.link.startswith("javascript")
    data = json.loads((out / "feeds/countries/KZ.json").read_bytes())
    item = data["items"][0]
    assert "url" not in item and item["title"] == "Kazakh festival" and "language" not in item
    soup = BeautifulSoup(item["content_html"], "html.parser")
    assert {tag.name for tag in soup.find_all(True)} <= {"p", "ul", "li", "strong", "a", "br", "bdi"}
    # the operator's source name is plain text: shown as written (escaped), never run as markup
    assert "Source: <script>alert(9)</script> (kazinform-en)." in soup.get_text()
    assert item["_mediawatch"]["source"]["name"] == "<script>alert(9)</script>"
    assert all(a["href"].startswith("https://") for a in soup.find_all("a"))
    assert "javascript:alert(6)" in soup.get_text() and "javascript:alert(6)" in item["content_text"]


def hostile_attributes(values: object) -> list[str]:
    """Attribute values (or lists of them) that name a script scheme."""
    flat = [" ".join(v) if isinstance(v, list) else str(v) for v in values]  # type: ignore[attr-defined]
    return [v for v in flat if "javascript:" in v.lower() or "vbscript:" in v.lower()]


def test_plain_text_and_atomic_writes(tmp_path: Path) -> None:
    assert plain("Tom &amp; Jerry <3 and a < b") == "Tom & Jerry <3 and a < b"
    assert plain("<p>Hello</p>\n\n<p>world</p>") == "Hello world"
    assert plain("x" * 50, 10) == "x" * 9 + "…"
    assert plain("a\x00b\x0cc") == "a b c"
    path = tmp_path / "sub" / "f.json"
    assert write_if_changed(path, b"one") is True
    assert write_if_changed(path, b"one") is False
    assert write_if_changed(path, b"two") is True and path.read_bytes() == b"two"
    assert sorted(os.listdir(path.parent)) == ["f.json"]


def test_feed_keys_reject_unsafe_path_parts(store: QStore, tmp_path: Path) -> None:
    assert FeedKey.parse("../etc", None) is None and FeedKey.parse(None, "mn") is None
    assert FeedKey.parse("festivals", "MN") == FeedKey("festivals", "MN")
    store.save_label(Label(ItemId("item005"), True, ("RU",), ("../../evil",), None, None, NOW))
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    assert not (tmp_path / "evil.atom").exists()
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))
    assert where(feed_index(out), 5) == {"countries/RU"}  # the bad topic is skipped, the good country kept


def test_the_three_ways_of_choosing_entries_agree(store: QStore) -> None:
    """Full rebuilds group one window in Python, limited ones and the web ask SQL per feed: same choice."""
    options = FeedOptions(max_entries=3, max_age=timedelta(days=45))
    store.save_label(Label(item_id(7), True, ("MN",), ("festivals",), None, None, NOW))
    window = store.find_items(ItemQuery(since=NOW - options.max_age), limit=None)
    keys = list(known_keys(store))
    grouped = group_entries(window, keys, now=NOW, options=options)
    assert len(keys) == 17
    for key in keys:
        by_sql = [it.id for it in feed_entries(store, key, now=NOW, options=options)]
        assert [it.id for it in pick_entries(window, key, now=NOW, options=options)] == by_sql, key
        assert [it.id for it in grouped[key]] == by_sql, key
    assert [it.id for it in grouped[FeedKey("festivals", "MN")]] == [item_id(1), item_id(2), item_id(7)]


def test_a_url_with_characters_xml_forbids_does_not_break_the_feeds(store: QStore, tmp_path: Path) -> None:
    """canonical_url keeps a hash-bang fragment as sent; U+FFFF there (from a JSON feed) is no XML character."""
    from mediawatch.normalize import canonical_url

    add_rows(
        store, [Row(61, "kazinform-en", "en", ago(1), "Kazakh festival", "Summary.", True, "KZ", "festivals")]
    )
    bad = canonical_url("https://kazinform-en.example/app#!/news/\uffff61")
    assert "\uffff" in bad
    with store.engine.begin() as conn:
        conn.execute(update(t.item).where(t.item.c.id == item_id(61)).values(url=bad))
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    assert where(feed_index(out), 61) == {"topics/festivals", "countries/KZ", "topics/festivals/countries/KZ"}
    entry = feedparser.parse((out / "feeds/countries/KZ.atom").read_bytes()).entries[0]
    assert entry.title == "Kazakh festival" and "\uffff" not in (out / "feeds/countries/KZ.atom").read_text()
    assert "url" not in json.loads((out / "feeds/countries/KZ.json").read_bytes())["items"][0]


def test_the_base_url_setting_gives_the_files_and_opml_absolute_links(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "d"
    options = FeedOptions.from_settings(Settings(base_url="https://mw.example.org/attaches"))
    assert feeds_outdated(out, options)  # never built
    rebuild_feeds(store, out, now=NOW, options=options)
    assert not feeds_outdated(out, options)
    assert feeds_outdated(out, FeedOptions())  # built for another address: rebuild them all
    atoms = sorted((out / "feeds").rglob("*.atom"))
    assert len(atoms) == 17
    for path in atoms:
        rel = path.relative_to(out).as_posix()
        links = {link.rel: link.href for link in feedparser.parse(path.read_bytes()).feed.links}
        assert links["self"] == f"https://mw.example.org/attaches/{rel}", rel
        assert links["alternate"].startswith("https://mw.example.org/attaches/?"), rel
        data = json.loads(path.with_suffix(".json").read_bytes())
        assert data["feed_url"] == f"https://mw.example.org/attaches/{rel[:-5]}.json"
        assert data["home_page_url"] == links["alternate"]
    outlines = [o for o in ET.parse(out / "feeds.opml").getroot().iter("outline") if o.get("xmlUrl")]
    assert {o.get("xmlUrl") for o in outlines} == {
        f"https://mw.example.org/attaches/{p.relative_to(out).as_posix()}" for p in atoms
    }
    assert all(o.get("jsonFeedUrl", "").startswith("https://mw.example.org/attaches/feeds/") for o in outlines)
    # unset: as before, no self links and OPML URLs relative to the OPML file
    plain_out = tmp_path / "plain"
    rebuild_feeds(store, plain_out, now=NOW, options=FeedOptions.from_settings(Settings()))
    parsed = feedparser.parse((plain_out / "feeds/countries/MN.atom").read_bytes())
    assert not parsed.bozo and [link for link in parsed.feed.get("links", []) if link.rel == "self"] == []
    relative = {o.get("xmlUrl") for o in ET.parse(plain_out / "feeds.opml").getroot().iter("outline")}
    assert "feeds/countries/MN.atom" in relative


@pytest.mark.parametrize(
    "bad",
    ["mw.example.org", "ftp://mw.example.org/", "https://", "https://mw.example.org/?a=1",
     "https://user:pw@mw.example.org/", "https://mw.example.org/a b", "javascript:alert(1)"],
)
def test_a_base_url_that_is_not_an_absolute_http_url_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError, match="base_url") as info:
        Settings(base_url=bad)
    assert repr(bad) in str(info.value)  # the message quotes the value


def test_a_feed_that_loses_its_last_item_is_dated_by_the_correction(store: QStore, tmp_path: Path) -> None:
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    assert atom_ids(out / "feeds/countries/TR.atom") == [tag_uri(9)]  # item 9 is Turkey's only item
    relabeled = NOW + timedelta(hours=2)
    store.save_label(Label(item_id(9), False, (), (), "aigerim", "not diaspora", relabeled))
    rebuild_feeds(store, out, now=NOW + timedelta(hours=3), touched_item_ids=[])
    for name in ("countries/TR", "topics/festivals/countries/TR"):
        atom = feedparser.parse((out / f"feeds/{name}.atom").read_bytes())
        assert not atom.bozo and atom.entries == [], name
        assert atom.feed.updated == relabeled.isoformat(), name  # was 1970-01-01T00:00:00+00:00
        data = json.loads((out / f"feeds/{name}.json").read_bytes())
        assert data["items"] == [] and data["_mediawatch"]["updated"] == "2025-03-24T08:00:00Z"
    before = feed_files(out)
    # stable: later rebuilds (another correction elsewhere, a full rebuild) leave the emptied feeds' bytes alone
    store.save_label(Label(item_id(1), True, ("MN",), ("festivals",), "aigerim", None, NOW + timedelta(hours=5)))
    rebuild_feeds(store, out, now=NOW + timedelta(hours=6), touched_item_ids=[])
    rebuild_feeds(store, out, now=NOW + timedelta(hours=7))
    after = feed_files(out)
    assert after["feeds/countries/TR.atom"] == before["feeds/countries/TR.atom"]
    assert after["feeds/countries/TR.json"] == before["feeds/countries/TR.json"]
    # the same date whatever asks: the function the web app uses agrees with the file
    assert empty_feed_updated(store, FeedKey(None, "TR"), now=NOW + timedelta(days=9)) == relabeled
    # a feed that never had an item: empty since the first source was registered (not the epoch, not "now")
    assert empty_feed_updated(store, FeedKey("sport", "KZ"), now=NOW) == NOW - timedelta(days=60)


def test_right_to_left_names_are_isolated_in_the_why_and_bidi_controls_dropped(store: QStore) -> None:
    """Kazakh in Arabic script (China's Kazakhs): in an English line, two such names in a row would show in
    reverse order and take the punctuation after them along; an override (U+202E) in outside text would
    reverse the rest of the line. Each right-to-left name sits between FSI and PDI; controls are removed."""
    from mediawatch.publish.text import why_lines
    from mediawatch.wording import FSI, PDI, isolate

    add_rows(store, [Row(62, "olgii-mn", "kk", ago(1), "Kazakhs of Ili", "Summary.", True, "CN", "festivals",
                         places=(("Ili", "CN", "ىله"), ("Kazakhs", "CN", "قازاقتار\u202e")))])
    store.save_label(Label(item_id(62), True, ("CN",), ("festivals",), "ايگەرىم", "قايتا\u202bتەكسەرىلدى", NOW))
    lines = why_lines(store.find_items(ItemQuery(item_ids=(item_id(62),)), with_why=True)[0])
    assert lines[0] == f"Marked relevant by an editor ({FSI}ايگەرىم{PDI}): {FSI}قايتاتەكسەرىلدى{PDI}."
    names = next(line for line in lines if line.startswith("Names matched: "))
    assert names.startswith(f"Names matched: {FSI}ىله{PDI} → Ili (CN), {FSI}قازاقتار{PDI} → Kazakhs (CN), ")
    assert "\u202e" not in "".join(lines) and "\u202b" not in "".join(lines)
    assert isolate("Bayan-Ölgii") == "Bayan-Ölgii" and isolate("a\u202eb\u2066c") == "abc"
    from mediawatch.digest.render import md_escape  # the Markdown digest's outside text, the same way

    assert md_escape("Kazakh*s\u202e [of] ىله") == f"{FSI}Kazakh\\*s \\[of\\] ىله{PDI}"


def test_the_why_says_when_a_long_text_was_read_in_parts(store: QStore) -> None:
    """A long article is read in parts and its relevance is their mean: the why says so, and which part the
    names come from; a text read whole gets the plain line. Malformed parts data is dropped, not raised."""
    from dataclasses import replace

    from mediawatch.publish.text import why_lines
    from mediawatch.store.evidence import parse_why

    add_rows(store, [Row(63, "olgii-mn", "en", ago(1), "Winter in the aimag", "Summary.", True, "MN", "festivals")])
    item = store.find_items(ItemQuery(item_ids=(item_id(63),)), with_why=True)[0]
    why = parse_why(json.dumps({"relevance": 0.67, "threshold": 0.5,
                                "parts": {"relevance": [0.0036, 1.0, 1.0], "evidence_from": 1}}))
    assert why is not None and why.parts == (0.0036, 1.0, 1.0) and why.evidence_from == 1
    lines = why_lines(replace(item, relevance=0.67, why=why))
    assert ("Model relevance 0.67 (threshold 0.50), from the 3 parts the text was read in (0.00, 1.00, "
            "1.00); the names and countries below are from part 2.") in lines
    lead = parse_why(json.dumps({"threshold": 0.5, "parts": {"relevance": [0.9, 0.7], "evidence_from": 0}}))
    assert "Model relevance 0.80 (threshold 0.50), from the 2 parts the text was read in (0.90, 0.70)." in (
        why_lines(replace(item, relevance=0.8, why=lead)))
    assert "Model relevance 0.67 (threshold 0.50)." in why_lines(replace(item, relevance=0.67, why=parse_why(
        json.dumps({"threshold": 0.5, "parts": {"relevance": "x", "evidence_from": True}}))))


def test_the_json_feed_gives_a_corrected_item_s_relevance_as_export_does(store: QStore, tmp_path: Path) -> None:
    """`export` said relevance 1.0 for an item an editor marked relevant, the JSON feed the model's 0.12."""
    from mediawatch.labels import make_label

    store.save_label(make_label(item_id(6), True, ["MN"], ["festivals"], editor="ed", note=None, now=NOW))
    out = tmp_path / "d"
    rebuild_feeds(store, out, now=NOW)
    items = json.loads((out / "feeds/topics/festivals.json").read_bytes())["items"]
    corrected = next(i["_mediawatch"] for i in items if i["_mediawatch"]["item_id"] == item_id(6))
    assert (corrected["relevance"], corrected["model_relevance"], corrected["labeled_by_editor"]) == (1.0, 0.12, True)
    exported = next(r for r in store.export_rows() if r["id"] == item_id(6))
    assert exported["relevance"] == corrected["relevance"]
    model = next(i["_mediawatch"] for i in items if i["_mediawatch"]["item_id"] == item_id(1))
    assert (model["relevance"], model["model_relevance"], model["labeled_by_editor"]) == (0.91, 0.91, False)
