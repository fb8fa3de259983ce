"""Hostile text from feeds and servers, end to end against the real loopback server.

* lone surrogates (a JSON ``"\\ud800"`` escape without its pair; ``&#xD800;`` in XML): no encoder accepts
  them, so one in a title used to make storing the source (and the whole collect run) fail;
* validators (ETag, Last-Modified) that cannot be sent back as ASCII header values;
* one source whose outcome the database refuses: it fails alone, the others in the run are stored;
* directional controls (U+202E, the "Trojan Source" override) in a title: removed at collection, and from
  every output (feeds, digest, web pages) for items stored before collection removed them;
* markup in a title, a summary or an author: read as markup, the same way in every output.
"""

from __future__ import annotations

import json
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import stamina
from bs4 import BeautifulSoup
from click.testing import CliRunner
from collectapp import health, make_app, write_sources
from hypothesis import given
from hypothesis import strategies as st
from loopserver import LoopServer, Response
from markdown_it import MarkdownIt
from sqlalchemy import update
from starlette.testclient import TestClient
from webdata import NOW, ROWS, QStore, item_id, open_filled

from mediawatch.app import App
from mediawatch.cli import main
from mediawatch.cli.probing import probe
from mediawatch.collect import feed_bytes
from mediawatch.collect.feeds import parse_feed
from mediawatch.digest import IsoWeek, write_digest
from mediawatch.normalize import clean_text, collapse_whitespace, html_to_text
from mediawatch.pipeline import run_collect, select_sources
from mediawatch.publish import rebuild_feeds
from mediawatch.settings import Settings
from mediawatch.store import SourceState
from mediawatch.store import schema as t
from mediawatch.web import create_app

SURROGATES = range(0xD800, 0xE000)


@pytest.fixture(autouse=True)
def _no_backoff() -> Iterator[None]:
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


def rss(source_id: str, url: str) -> str:
    return f"  - id: {source_id}\n    kind: rss\n    url: '{url}'\n"


def items_of(app: App, source_id: str) -> list[dict]:
    return [row for row in app.store.export_rows() if row["source_id"] == source_id]


def has_surrogate(text: str | None) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text or "")


def good_feed(site: str, *slugs: str) -> str:
    entries = "".join(f"<item><title>Story {s}</title><link>{site}/good/{s}</link></item>" for s in slugs)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title>{entries}</channel></rss>'


# The \ud800 escapes are written literally in the JSON text, as a hostile or broken generator sends them.
JSON_FEED = (
    '{"version":"https://jsonfeed.org/version/1.1","title":"t \\ud800","items":['
    '{"id":"s1","url":"SITE/s/1","title":"Kazakh diaspora \\ud800","content_text":"x \\udfff y",'
    '"authors":[{"name":"a\\ud800"}]},'
    '{"id":"s2","url":"SITE/s/2","title":"Second","content_html":"<p>caf\\udc00e <b>ok</b></p>",'
    '"author":{"name":"\\udbff"}},'
    '{"id":"s3","url":"SITE/s/3","title":"Paired \\ud83d\\ude00 emoji"}]}'
)


# ------------------------------------------------------------------------------------------ JSON Feed


def test_lone_surrogates_in_a_json_feed_are_removed_and_the_run_goes_on(
    tmp_path: Path, loopserver: LoopServer, db_url: str
) -> None:
    site = loopserver.base_url
    json_url = loopserver.serve(
        "/feed.json", JSON_FEED.replace("SITE", site), content_type="application/feed+json"
    )
    good_url = loopserver.serve("/good.xml", good_feed(site, "1"), content_type="application/rss+xml")
    app = make_app(tmp_path, [rss("js", json_url), rss("good", good_url)], db=db_url)

    report = run_collect(app, select_sources(app, all_sources=True))

    assert report.failures == {} and report.sources_ok == 2 and report.items_new == 4
    rows = {row["url"]: row for row in items_of(app, "js")}
    assert rows[f"{site}/s/1"]["title"] == "Kazakh diaspora"
    assert rows[f"{site}/s/1"]["author"] == "a"
    assert rows[f"{site}/s/1"]["text"] == "x y"
    assert rows[f"{site}/s/2"]["summary"] == "cafe ok"
    assert rows[f"{site}/s/2"]["author"] is None  # a name that was only a surrogate is no name
    assert rows[f"{site}/s/3"]["title"] == "Paired \U0001f600 emoji"  # a proper pair is one character: kept
    assert not any(has_surrogate(str(value)) for row in rows.values() for value in row.values())
    assert [row["title"] for row in items_of(app, "good")] == ["Story 1"]
    js = health(app)["js"]
    assert js.last_error is None and js.consecutive_failures == 0 and js.last_success is not None


def test_cli_collect_of_a_json_feed_with_a_lone_surrogate_exits_0(
    tmp_path: Path, loopserver: LoopServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = loopserver.base_url
    json_url = loopserver.serve(
        "/feed.json", JSON_FEED.replace("SITE", site), content_type="application/feed+json"
    )
    write_sources(tmp_path, [rss("js", json_url)])
    monkeypatch.chdir(tmp_path)
    for var in ("MEDIAWATCH_DB", "MEDIAWATCH_SOURCES"):
        monkeypatch.delenv(var, raising=False)
    result = CliRunner().invoke(main, ["collect", "--all"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("sources: 1 ok (0 unchanged), 0 failed; items: 3 new")


def test_text_cleaning_removes_lone_surrogates() -> None:
    assert collapse_whitespace(" a\ud800 b\udfff ") == "a b"
    assert clean_text("one\udc00\n\ud800\ntwo") == "one\ntwo"
    assert html_to_text("<p>caf\udc00e</p><p>\ud800</p>") == "cafe"
    assert html_to_text("no markup \udbff here") == "no markup here"
    # a reference to a surrogate is what a browser shows for it, and never a surrogate
    assert html_to_text("<p>a &#xD800; b</p>") == "a \ufffd b"


# ------------------------------------------------------------------------------ character references

RSS_WITH_REFERENCES = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Refs &#xD800;</title><link>SITE/</link>
<item><title>Hex &#xD800; one</title><link>SITE/r/1</link>
  <description>d &#xdfff; &amp; &#233;</description></item>
<item><title>Decimal &#55296; two &#x00000000DBFF;</title><link>SITE/r/2</link>
  <media:thumbnail url="SITE/img/&#xD800;.jpg"/></item>
<item><title>Beyond &#x110000; &#1114112; &#99999999999999999999999; three</title><link>SITE/r/3</link></item>
<item><title>Fine &#x10FFFF;&#1114111;&#xD7FF;&#57344;&#55203; four</title><link>SITE/r/4</link></item>
</channel></rss>
"""

ATOM_WITH_REFERENCES = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom &#56320;</title><id>urn:a</id>
<updated>2025-10-02T00:00:00Z</updated>
<entry><title type="html">A &amp;lt;b&amp;gt; &#xD800;</title><id>urn:a:1</id><link href="SITE/a/1"/>
  <updated>2025-10-01T06:00:00Z</updated>
  <content type="html">&lt;p&gt;x &#xDC00; y&lt;/p&gt;</content></entry>
<entry><title>B</title><id>urn:a:2</id><link href="SITE/a/2"/><updated>2025-10-02T06:00:00Z</updated></entry>
</feed>
"""


def test_references_to_surrogates_and_beyond_unicode_keep_every_entry(
    tmp_path: Path, loopserver: LoopServer
) -> None:
    site = loopserver.base_url
    rss_body = RSS_WITH_REFERENCES.replace("SITE", site)
    urls = {
        "refs": loopserver.serve("/refs.xml", rss_body, content_type="application/rss+xml"),
        "atom": loopserver.serve(
            "/atom.xml", ATOM_WITH_REFERENCES.replace("SITE", site), content_type="application/atom+xml"
        ),
        # the same feed in UTF-16 (with its byte-order mark), where "&#" is not two ASCII bytes
        "wide": loopserver.serve(
            "/wide.xml",
            rss_body.replace('encoding="utf-8"', 'encoding="utf-16"').replace("/r/", "/w/").encode("utf-16"),
            content_type="application/rss+xml",
        ),
        "good": loopserver.serve("/good.xml", good_feed(site, "1"), content_type="application/rss+xml"),
    }
    app = make_app(tmp_path, [rss(sid, url) for sid, url in urls.items()])

    report = run_collect(app, select_sources(app, all_sources=True))

    assert report.failures == {}, report.failures
    titles = {row["url"]: row["title"] for row in app.store.export_rows()}
    for path in ("r", "w"):
        assert titles[f"{site}/{path}/1"] == "Hex \ufffd one"
        assert titles[f"{site}/{path}/2"] == "Decimal \ufffd two \ufffd"
        assert titles[f"{site}/{path}/3"] == "Beyond \ufffd \ufffd \ufffd three"
        assert titles[f"{site}/{path}/4"] == "Fine \U0010ffff\U0010ffff\ud7ff\ue000\ud7a3 four"
    # a title is stored as every output shows it: the "<b>" the HTML title showed as text is read as markup
    assert titles[f"{site}/a/1"] == "A \ufffd"
    assert titles[f"{site}/a/2"] == "B"
    rows = {row["url"]: row for row in app.store.export_rows()}
    assert rows[f"{site}/r/1"]["summary"] == "d \ufffd & é"
    assert rows[f"{site}/a/1"]["summary"] == "x \ufffd y"
    assert rows[f"{site}/r/2"]["media"]["thumbnail"].startswith(f"{site}/img/")
    assert all(h.last_error is None for h in health(app).values())


@pytest.mark.usefixtures("direct_http")
def test_probe_reads_a_feed_with_a_reference_to_a_surrogate(loopserver: LoopServer) -> None:
    url = loopserver.serve(
        "/refs.xml",
        RSS_WITH_REFERENCES.replace("SITE", loopserver.base_url),
        content_type="application/rss+xml",
    )
    result = CliRunner().invoke(probe, [url, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["title"] == "Refs \ufffd" and data["feed"]["entries"] == 4


# Code points around the edges that matter, and anywhere in and past the surrogate block.
CODE_POINTS = st.one_of(
    st.sampled_from(
        [0xD7FF, 0xD800, 0xDBFF, 0xDC00, 0xDFFF, 0xE000, 0x10FFFF, 0x110000, 55_000, 57_999, 10**7]
    ),
    st.integers(0xD000, 0xE0FF),
    st.integers(0x100000, 0x120000),
    st.integers(0x120000, 10**30),
)


@given(code=CODE_POINTS, zeros=st.integers(0, 3), hexadecimal=st.booleans(), upper=st.booleans())
def test_a_reference_is_mended_exactly_when_it_names_no_encodable_character(
    code: int, zeros: int, hexadecimal: bool, upper: bool
) -> None:
    digits = format(code, "X" if upper else "x") if hexadecimal else str(code)
    reference = f"&#{'x' if hexadecimal else ''}{'0' * zeros}{digits};"
    item = f"<item><title>[{reference}]</title><link>http://a.test/1</link></item>"
    body = f'<rss version="2.0"><channel>{item}</channel></rss>'
    feed = parse_feed(body.encode("ascii"), source_id="s", url="http://a.test/")
    encodable = code <= 0x10FFFF and code not in SURROGATES
    assert [e.title for e in feed.entries] == [f"[{chr(code)}]" if encodable else "[\ufffd]"]


def test_mending_references_stays_linear_on_hostile_digit_runs() -> None:
    for body in (
        b"&#x" + b"0" * 2_000_000 + b"1",  # leading zeros without an end
        b"&#" + b"9" * 2_000_000 + b";",  # a number too long for int()
        b"&#x" + b"f" * 2_000_000,
        (b"&#xD800" + b"0" * 50) * 20_000,
    ):
        started = time.perf_counter()
        mended = feed_bytes.mend_references(body)
        assert time.perf_counter() - started < 1.0
        assert len(mended) <= len(body)
    assert feed_bytes.mend_references(b"&#" + b"9" * 5000 + b";") == b"&#xFFFD;"
    plain = b"<rss>" + b"&#8217;&#1082;&#x41;" * 1000 + b"</rss>"
    assert feed_bytes.mend_references(plain) == plain  # nothing to mend


# ------------------------------------------------------------------------------------------- validators

BAD_ETAG = '"\xff\xfe-abc"'  # goes out as latin-1 bytes
BAD_LAST_MODIFIED = "Mon, 03 Nov 2025 10:00:00 GM\xe9"


def test_validators_that_cannot_be_sent_back_are_not_stored(
    tmp_path: Path, loopserver: LoopServer, db_url: str
) -> None:
    site = loopserver.base_url
    body = good_feed(site, "1", "2").encode()
    url = loopserver.serve(
        "/v.xml", body, content_type="application/rss+xml", etag=BAD_ETAG, last_modified=BAD_LAST_MODIFIED
    )
    app = make_app(tmp_path, [rss("latin", url)], db=db_url)

    first = run_collect(app, select_sources(app, all_sources=True))
    assert first.failures == {} and first.items_new == 2
    state = app.store.source_states(["latin"])["latin"]
    assert state.etag is None and state.last_modified is None and state.content_hash is not None

    second = run_collect(app, select_sources(app, all_sources=True))
    assert second.failures == {}, second.failures
    assert second.sources_unchanged == 1 and second.items_new == 0  # the content hash caught it
    sent = loopserver.requests_for("/v.xml")[-1].headers
    assert "if-none-match" not in sent and "if-modified-since" not in sent

    # the server mends its headers: the good validators are kept, and sent next time
    loopserver.serve("/v.xml", body, content_type="application/rss+xml", etag='"v2"',
                     last_modified="Mon, 03 Nov 2025 10:00:00 GMT")
    assert run_collect(app, select_sources(app, all_sources=True)).failures == {}
    assert app.store.source_states(["latin"])["latin"].etag == '"v2"'
    fourth = run_collect(app, select_sources(app, all_sources=True))
    assert fourth.failures == {} and fourth.sources_unchanged == 1
    sent = loopserver.requests_for("/v.xml")[-1].headers
    assert sent["if-none-match"] == '"v2"' and sent["if-modified-since"] == "Mon, 03 Nov 2025 10:00:00 GMT"


def test_a_stored_unsendable_validator_is_ignored_and_replaced(
    tmp_path: Path, loopserver: LoopServer, db_url: str
) -> None:
    site = loopserver.base_url
    url = loopserver.sequence(
        "/s.xml",
        Response(body=good_feed(site, "1").encode(), content_type="application/rss+xml", etag='"good"'),
    )
    app = make_app(tmp_path, [rss("stored", url)], db=db_url)
    # what an earlier version stored from a server that sent a latin-1 ETag
    app.store.save_source_state(SourceState("stored", etag=BAD_ETAG, last_modified=BAD_LAST_MODIFIED))

    report = run_collect(app, select_sources(app, all_sources=True))

    assert report.failures == {} and report.items_new == 1
    sent = loopserver.requests_for("/s.xml")[-1].headers
    assert "if-none-match" not in sent and "if-modified-since" not in sent
    state = app.store.source_states(["stored"])["stored"]
    assert state.etag == '"good"' and state.last_modified is None and state.consecutive_failures == 0
    again = run_collect(app, select_sources(app, all_sources=True))
    assert again.sources_unchanged == 1
    assert loopserver.requests_for("/s.xml")[-1].headers["if-none-match"] == '"good"'


# ------------------------------------------------------------------------------- per-source isolation


def test_a_source_the_database_refuses_fails_alone(tmp_path: Path, loopserver: LoopServer) -> None:
    site = loopserver.base_url

    def feed(*slugs: str) -> str:
        return good_feed(site, *slugs).replace("/good/", "/refused/")

    refused = loopserver.serve("/refused.xml", feed("1"), content_type="application/rss+xml")
    good = loopserver.serve("/good.xml", good_feed(site, "1"), content_type="application/rss+xml")
    empty = '<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title></channel></rss>'
    quiet = loopserver.serve("/quiet.xml", empty, content_type="application/rss+xml")
    stubborn = loopserver.serve("/stubborn.xml", empty, content_type="application/rss+xml")
    app = make_app(
        tmp_path, [rss("refused", refused), rss("good", good), rss("quiet", quiet), rss("stubborn", stubborn)]
    )
    first = run_collect(app, select_sources(app, all_sources=True))
    assert first.failures == {} and first.items_new == 2
    before = health(app)

    # A real refusal by the database: items of "refused", and a successful state of "stubborn" (which, with no
    # items, is written in a batch with other sources' states) are rejected.
    with sqlite3.connect(tmp_path / "mw.db") as db:
        db.executescript(
            """
            CREATE TRIGGER refuse_items BEFORE INSERT ON item WHEN NEW.source_id = 'refused'
            BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END;
            CREATE TRIGGER refuse_state BEFORE UPDATE ON source_state
            WHEN NEW.source_id = 'stubborn' AND NEW.last_error IS NULL
            BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END;
            """
        )
    loopserver.serve("/refused.xml", feed("1", "2"), content_type="application/rss+xml")
    loopserver.serve("/good.xml", good_feed(site, "1", "2"), content_type="application/rss+xml")
    loopserver.serve("/quiet.xml", empty.replace("Empty", "Still empty"), content_type="application/rss+xml")

    second = run_collect(app, select_sources(app, all_sources=True))

    assert set(second.failures) == {"refused", "stubborn"}
    assert all(reason.startswith("internal error: ") for reason in second.failures.values())
    assert "refused by a test trigger" in second.failures["refused"]
    assert second.sources_ok == 2 and second.sources_failed == 2 and second.items_new == 1
    after = health(app)
    for sid in ("refused", "stubborn"):
        assert after[sid].consecutive_failures == 1 and after[sid].last_error == second.failures[sid]
        assert after[sid].next_check > after[sid].last_attempt + timedelta(minutes=1)  # it backs off
    assert [row["url"] for row in items_of(app, "refused")] == [f"{site}/refused/1"]  # nothing lost
    assert sorted(row["url"] for row in items_of(app, "good")) == [f"{site}/good/1", f"{site}/good/2"]
    assert after["quiet"].last_error is None and after["quiet"].last_success > before["quiet"].last_success


# ------------------------------------------------------------------------------- directional controls

OVERRIDE_TITLE = "Kazakhs of Russia in Omsk celebrate \u202egnp.exe heritage day"
OVERRIDE_SHOWN = "Kazakhs of Russia in Omsk celebrate gnp.exe heritage day"
# embeddings, overrides and the isolates LRI and RLI; FSI and PDI are left out of the check because the
# Markdown digest and the feeds' "why" lines use them themselves around right-to-left names
REORDERING = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067")
ATOM = "{http://www.w3.org/2005/Atom}"
DIGEST_WEEK = IsoWeek(2025, 12)  # webdata's items 1-5 were published in it


def built_feeds(store: QStore, tmp_path: Path, n: int) -> tuple[Path, Path]:
    """The subscriber feeds rebuilt into ``tmp_path/digests``: that folder, and the JSON feed holding item ``n``
    (its Atom twin beside it), both checked for reordering controls."""
    out = tmp_path / "digests"
    rebuild_feeds(store, out, now=NOW)
    json_file = next(p for p in sorted((out / "feeds").rglob("*.json")) if item_id(n) in p.read_text("utf-8"))
    for path in (json_file, json_file.with_suffix(".atom")):
        assert not REORDERING & set(path.read_text("utf-8")), path
    return out, json_file


def titles_everywhere(store: QStore, tmp_path: Path, n: int) -> dict[str, set[str]]:
    """How every output shows item ``n``'s title: the Atom and JSON feeds, the HTML and Markdown digest, the
    web app's list, item and story pages, and export. Each output's whole text is checked for reordering
    controls too."""
    out, json_file = built_feeds(store, tmp_path, n)
    tag, url = f"tag:mediawatch,2025:item/{item_id(n)}", f"https://olgii-mn.example/news/{n}"
    shown: dict[str, set[str]] = {}
    feed = json.loads(json_file.read_bytes())
    shown["json feed"] = {i["title"] for i in feed["items"] if i["id"] == tag}
    atom = ET.parse(json_file.with_suffix(".atom")).getroot()
    entries = [e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == tag]
    shown["atom feed"] = {e.findtext(f"{ATOM}title") for e in entries}

    files = write_digest(store, DIGEST_WEEK, out, now=NOW)
    html = files.html.read_text("utf-8")
    md = files.md.read_text("utf-8")
    assert not REORDERING & set(html) and not REORDERING & set(md)
    for name, markup in (("html digest", html), ("markdown digest", MarkdownIt("commonmark").render(md))):
        shown[name] = {a.get_text() for a in BeautifulSoup(markup, "html.parser").find_all("a", href=url)}

    client = TestClient(create_app(store, Settings(), digests_dir=out, clock=lambda: NOW))
    pages = {}
    for name, path in (("web list", "/"), ("web item", f"/items/{item_id(n)}")):
        page = client.get(path)
        assert page.status_code == 200 and not REORDERING & set(page.text), path
        pages[name] = BeautifulSoup(page.text, "html.parser")
    shown["web list"] = {a.get_text() for a in pages["web list"].find_all("a", href=f"/items/{item_id(n)}")}
    item_page = pages["web item"]
    shown["web item"] = {item_page.h1.get_text(), item_page.title.get_text().removesuffix(" · mediawatch")}
    story = client.get(item_page.find(id="story-link")["href"])
    assert story.status_code == 200 and not REORDERING & set(story.text)
    story_page = BeautifulSoup(story.text, "html.parser")
    shown["web story"] = {a.get_text() for a in story_page.find_all("a", href=f"/items/{item_id(n)}")}
    shown["export"] = {r["title"] for r in store.export_rows() if r["id"] == item_id(n)}
    return shown


def test_directional_controls_in_a_collected_title_are_removed(tmp_path: Path, loopserver: LoopServer) -> None:
    site = loopserver.base_url
    feed = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Omsk</title>'
        f"<item><title>{OVERRIDE_TITLE}</title><link>{site}/omsk/1</link>"
        "<description>Омские казахи \u202bотметили\u202c праздник &amp;#x202E;наследия.</description>"
        "<author>\u2067Асель\u2069</author></item></channel></rss>"
    )
    url = loopserver.serve("/omsk.xml", feed, content_type="application/rss+xml")
    app = make_app(tmp_path, [rss("omsk", url)])
    report = run_collect(app, select_sources(app, all_sources=True))
    assert report.failures == {} and report.items_new == 1
    [row] = items_of(app, "omsk")
    assert row["title"] == OVERRIDE_SHOWN
    assert row["summary"] == "Омские казахи отметили праздник наследия."
    assert row["author"] == "Асель"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("Kazakh community in Kayseri open language school <img src=x onerror=alert('t2')>",
         "Kazakh community in Kayseri open language school"),
        ("Learn JavaScript: Kazakh <b>coders</b> of Istanbul &amp; their school",
         "Learn JavaScript: Kazakh coders of Istanbul & their school"),
        ("Tom &amp Jerry <3 in Ölgii, where 3 < 5", "Tom &amp Jerry <3 in Ölgii, where 3 < 5"),
        # stored before collection removed directional controls: every output still leaves out its U+202E
        (OVERRIDE_TITLE, OVERRIDE_SHOWN),
    ],
)
def test_a_title_looks_the_same_in_every_output(tmp_path: Path, stored: str, shown: str) -> None:
    """One rendering of a title for the feeds, both digests and the web pages (mediawatch.normalize.display_text):
    what a browser would take for markup is read as markup (the feeds always dropped it, the digests and pages
    showed it as text); the rest is kept as written: a literal "javascript:" (the feeds put a space into it),
    a "&amp" that is no whole reference (the feeds decoded it). Collection stores titles that way (test_normalize);
    this is an item stored before it did."""
    store = open_filled(tmp_path / "old.db")
    try:
        with store.engine.begin() as conn:
            conn.execute(update(t.item).where(t.item.c.id == item_id(1)).values(title=stored))
        titles = titles_everywhere(store, tmp_path, 1)
    finally:
        store.close()
    assert titles == dict.fromkeys(titles, {shown}) and len(titles) == 8


def summaries_and_authors_everywhere(store: QStore, tmp_path: Path, n: int) -> dict[str, set[str]]:
    """How every output shows item ``n``'s summary and author: the JSON feed (summary, content text and HTML,
    author) and the Atom feed (summary, content, author), the HTML and Markdown digest (the story's summary,
    the link's author), the web app's list (summary) and item page (summary, author), and export. Each output's
    whole text is checked for reordering controls too."""
    out, json_file = built_feeds(store, tmp_path, n)
    tag, url = f"tag:mediawatch,2025:item/{item_id(n)}", f"https://{ROWS[n - 1].source}.example/news/{n}"
    shown: dict[str, set[str]] = {}
    [entry] = [i for i in json.loads(json_file.read_bytes())["items"] if i["id"] == tag]
    html = BeautifulSoup(entry["content_html"], "html.parser")
    shown["json feed summary"] = {entry["summary"], entry["content_text"].splitlines()[0], html.p.get_text()}
    shown["json feed author"] = {a["name"] for a in entry["authors"]}
    atom = ET.parse(json_file.with_suffix(".atom")).getroot()
    [element] = [e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id") == tag]
    content = BeautifulSoup(element.findtext(f"{ATOM}content") or "", "html.parser")
    shown["atom feed summary"] = {element.findtext(f"{ATOM}summary"), content.p.get_text()}
    shown["atom feed author"] = {a.findtext(f"{ATOM}name") for a in element.iter(f"{ATOM}author")}

    files = write_digest(store, DIGEST_WEEK, out, now=NOW)
    digest_html, md = files.html.read_text("utf-8"), files.md.read_text("utf-8")
    assert not REORDERING & set(digest_html) and not REORDERING & set(md)
    for name, markup in (("html digest", digest_html), ("markdown digest", MarkdownIt("commonmark").render(md))):
        page = BeautifulSoup(markup, "html.parser")
        link = next(a.find_parent("li") for a in page.find_all("a", href=url) if a.find_parent("li"))  # top story
        summary = link.find_parent("ul").find_previous(class_="summary") or link.find_previous("blockquote")
        shown[f"{name} summary"] = {summary.get_text().strip()}
        shown[f"{name} author"] = {link.get_text().rsplit(", ", 1)[1].removesuffix(")")}

    client = TestClient(create_app(store, Settings(), digests_dir=out, clock=lambda: NOW))
    listing = BeautifulSoup(client.get("/").text, "html.parser")
    row = listing.find("a", href=f"/items/{item_id(n)}").find_parent("li")
    shown["web list summary"] = {p.get_text() for p in row.find_all("p", dir="auto")}
    page = client.get(f"/items/{item_id(n)}")
    assert page.status_code == 200 and not REORDERING & set(page.text)
    item_page = BeautifulSoup(page.text, "html.parser")
    shown["web item summary"] = {item_page.find("h2", string="Summary").find_next("p").get_text()}
    shown["web item author"] = {item_page.find("p", class_="meta").find_all("bdi")[-1].get_text()}

    [record] = [r for r in store.export_rows() if r["id"] == item_id(n)]
    shown["export summary"], shown["export author"] = {record["summary"]}, {record["author"]}
    return shown


@pytest.mark.parametrize(
    ("summary", "author", "summary_shown", "author_shown"),
    [
        ("Kazakh coders x<y &amp; <b>bold</b> in \u202egnp.exe Istanbul.", "<b>Aigerim</b> &amp; \u202eTeam",
         "Kazakh coders x<y & bold in gnp.exe Istanbul.", "Aigerim & Team"),
        ("&lt;script&gt;alert(1)&lt;/script&gt;The Kazakh school in Kayseri opened <img src=x onerror=alert(2)>.",
         "Tom &amp Jerry <3", "The Kazakh school in Kayseri opened .", "Tom &amp Jerry <3"),
        ("AT&T says 3 < 5 &laquo;Қазақ үні&raquo; Learn JavaScript: yes.", "\u2067Асель\u2069 Нұрова",
         "AT&T says 3 < 5 «Қазақ үні» Learn JavaScript: yes.", "Асель Нұрова"),
        # stored as text (a feed's "&lt;aigerim@…&gt;" decoded once): a name HTML has no element for is no tag
        ("Register with Aigerim <aigerim@kazakh-verein.de> by Friday. The newspaper <<Egemen Qazaqstan>> reported.",
         "<aigerim@x.kz>",
         "Register with Aigerim <aigerim@kazakh-verein.de> by Friday. The newspaper <<Egemen Qazaqstan>> reported.",
         "<aigerim@x.kz>"),
    ],
)
def test_a_summary_and_an_author_look_the_same_in_every_output(
    tmp_path: Path, summary: str, author: str, summary_shown: str, author_shown: str
) -> None:
    """Summaries and authors are shown as titles are (mediawatch.normalize.display_text), in every output:
    before, the feeds read markup as markup while the digests, the web pages and export showed it as text
    (``<b>``, ``&amp;``), and the Markdown digest and export kept a right-to-left override. An item stored
    with such text (as by an older release, or from a feed that escaped its HTML)."""
    store = open_filled(tmp_path / "old.db")
    try:
        with store.engine.begin() as conn:
            conn.execute(update(t.item).where(t.item.c.id == item_id(3)).values(summary=summary, author=author))
        shown = summaries_and_authors_everywhere(store, tmp_path, 3)
    finally:
        store.close()
    summaries = {name: texts for name, texts in shown.items() if name.endswith("summary")}
    authors = {name: texts for name, texts in shown.items() if name.endswith("author")}
    assert summaries == dict.fromkeys(summaries, {summary_shown}) and len(summaries) == 7
    assert authors == dict.fromkeys(authors, {author_shown}) and len(authors) == 6
