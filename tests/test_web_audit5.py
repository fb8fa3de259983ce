"""Web fixes from the fifth audit, each through the real app over a real store:

* out-of-range dates in the list filters (``to=9999-12-31``) are ignored with a notice, not a 500, and the
  extreme usable dates work as bounds on SQLite and PostgreSQL;
* a 500 (an unexpected failure, here a database that cannot be opened) still carries the security headers,
  over real HTTP from uvicorn;
* conditional GET: ``If-None-Match`` with weak comparison, ``*`` and lists; ``Last-Modified`` and
  ``If-Modified-Since`` on files read from the digests folder, with If-None-Match taking precedence;
* a list page past the end says so and links the last page that has items;
* right-to-left text (Kazakh in Arabic script) is isolated for the bidirectional algorithm (``dir="auto"`` or
  ``<bdi>``) while the page stays left to right, checked in the HTML and in a real headless chromium.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag
from liveserver import LiveServer
from sqlalchemy import update
from starlette.testclient import TestClient
from webdata import NOW, ROWS, SOURCES, QStore, Row, add_rows, ago, item_id, listed, open_filled

from mediawatch.settings import Settings
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import open_store
from mediawatch.store import schema as t
from mediawatch.store.queries import ItemQuery
from mediawatch.web import create_app
from mediawatch.web.files import not_modified
from mediawatch.web.forms import PAGE_SIZE, Filters, parse_filters

TOKEN = "audit-five-token"
ALL_RELEVANT = [item_id(n) for n in (1, 2, 3, 5, 4, 9, 8)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QStore]:
    s = open_filled(tmp_path / "audit5.db")
    yield s
    s.close()


@pytest.fixture
def client(store: QStore, tmp_path: Path) -> TestClient:
    app = create_app(store, Settings(editor_token=TOKEN), digests_dir=tmp_path / "digests", clock=lambda: NOW)
    return TestClient(app)


def problems(html: str) -> list[str]:
    return [p.get_text() for p in BeautifulSoup(html, "html.parser").select("p.error")]


# ------------------------------------------------------------------------------------ 1. extreme dates


@pytest.mark.parametrize(
    ("query", "expected", "complaint"),
    [
        ("to=9999-12-31", ALL_RELEVANT, "9999-12-31"),  # its end (the next midnight) is past datetime.max
        ("to=9999-12-30", ALL_RELEVANT, None),  # the latest usable "to"
        ("from=9999-12-31", [], None),  # a valid lower bound: nothing is that new
        ("from=0001-01-01", ALL_RELEVANT, None),
        ("to=0001-01-01", [], None),
        ("from=0001-01-01&to=0001-01-01", [], None),
        ("from=0001-01-01&to=9999-12-31", ALL_RELEVANT, "9999-12-31"),
        ("from=0000-01-01", ALL_RELEVANT, "0000-01-01"),  # there is no year 0
        ("to=10000-01-01", ALL_RELEVANT, "10000-01-01"),
    ],
)
def test_extreme_dates_are_bounds_or_ignored_with_a_notice(
    client: TestClient, query: str, expected: list[str], complaint: str | None
) -> None:
    r = client.get(f"/?{query}")
    assert r.status_code == 200, r.text[-500:]
    assert listed(r.text) == expected
    said = problems(r.text)
    if complaint is None:
        assert said == []
    else:
        assert len(said) == 1 and complaint in said[0] and said[0].startswith("ignored date"), said
        # the ignored date is not echoed back into the form as if it applied
        field = BeautifulSoup(r.text, "html.parser").find(id="f-to" if "to=" in query else "f-from")
        assert field["value"] != complaint


def test_the_last_day_as_a_bound_means_no_upper_bound() -> None:
    """Filters built directly (not from a request) with the last representable day do not overflow."""
    assert Filters(date_to=date.max).query().until is None
    assert Filters(date_to=date(2025, 3, 20)).query().until == datetime(2025, 3, 21, tzinfo=UTC)
    assert Filters(date_from=date.min).query().since == datetime(1, 1, 1, tzinfo=UTC)
    assert parse_filters({"to": "9999-12-31"}).date_to is None
    assert parse_filters({"to": "9999-12-30"}).date_to == date(9999, 12, 30)


def filled(url: str) -> QStore:
    store = QStore(open_store(url).engine)
    store.sync_sources(parse_sourcefile(SOURCES, Path("sources.yaml")).sources, NOW - timedelta(days=60))
    add_rows(store, ROWS, NOW)
    return store


def test_extreme_bounds_and_the_past_end_count_on_both_backends(db_url: str, tmp_path: Path) -> None:
    store = filled(db_url)
    try:
        client = TestClient(create_app(store, Settings(), digests_dir=tmp_path, clock=lambda: NOW))
        assert listed(client.get("/?from=0001-01-01&to=9999-12-30").text) == ALL_RELEVANT
        assert listed(client.get("/?to=0001-01-01").text) == []
        assert listed(client.get("/?from=9999-12-31").text) == []
        r = client.get("/?show=all&page=4")
        assert r.status_code == 200 and listed(r.text) == []
        assert "9 items match" in BeautifulSoup(r.text, "html.parser").find(id="past-end").get_text()
        many = tuple(item_id(n) for n in range(1, 1200))  # more ids than one IN list takes (chunked)
        for query in (
            parse_filters({}).query(),
            parse_filters({"show": "all"}).query(),
            parse_filters({"country": "MN", "from": "0001-01-01", "to": "9999-12-30"}).query(),
            parse_filters({"q": "наурыз", "show": "all"}).query(),
            ItemQuery(item_ids=many, relevant_only=False),
            ItemQuery(item_ids=(), relevant_only=False),
        ):
            assert store.count_items_matching(query) == len(store.find_items(query, limit=None)), query
    finally:
        store.close()


# ------------------------------------------------------------------------------------ 2. headers on a 500


def broken_store(tmp_path: Path) -> Any:
    """A store factory that fails like a database that cannot be opened (its folder is a file)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    return lambda: open_store(f"sqlite:///{blocker}/x.db", migrate=False)


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def assert_hardened(headers: dict[str, str], body: bytes) -> None:
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    style = BeautifulSoup(body, "html.parser").find("style")
    assert style is not None and style.string
    digest = base64.b64encode(hashlib.sha256(style.string.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in csp  # the error page's own stylesheet is the one allowed


def test_an_internal_error_page_carries_the_security_headers(tmp_path: Path) -> None:
    app = create_app(broken_store(tmp_path), Settings(), digests_dir=tmp_path, clock=lambda: NOW)
    with LiveServer(lambda _port: app) as server:
        for path in ("/", "/items/item001", "/sources"):
            status, headers, body = fetch(server.port, path)
            assert status == 500, (path, body[:300])
            assert headers["content-type"].startswith("text/html")
            assert b"Internal error" in body and b"Traceback" not in body and b"not-a-folder" not in body
            assert_hardened(headers, body)
        status, headers, body = fetch(server.port, "/no-such-page")  # a handled error, for comparison
        assert status == 404
        assert_hardened(headers, body)


def test_an_internal_error_through_the_test_client_too(tmp_path: Path) -> None:
    app = create_app(broken_store(tmp_path), Settings(), digests_dir=tmp_path, clock=lambda: NOW)
    r = TestClient(app, raise_server_exceptions=False).get("/stories/st-item002")
    assert r.status_code == 500
    assert_hardened({k.lower(): v for k, v in r.headers.items()}, r.content)


# ------------------------------------------------------------------------------------ 3. conditional GET

FEED = "/feeds/countries/MN.atom"


def test_if_none_match_uses_weak_comparison_star_and_lists(client: TestClient) -> None:
    first = client.get(FEED)
    etag = first.headers["etag"]
    assert first.status_code == 200 and etag.startswith('"') and etag.endswith('"')
    for value in (
        etag,
        f"W/{etag}",  # weak comparison: W/"x" matches "x"
        "*",  # any current representation
        f'"nope", {etag}',
        f'"nope",W/{etag}',
        f' , "nope" ,, {etag} ',  # empty list members are allowed
        f'"a,b", {etag}',  # a comma inside an entity-tag is not a separator
    ):
        r = client.get(FEED, headers={"if-none-match": value})
        assert r.status_code == 304 and r.content == b"", value
        assert r.headers["etag"] == etag and "content-security-policy" in r.headers, value
    for value in ('"nope"', "W/\"nope\"", etag.strip('"'), f"{etag[:-2]}\"", f'nope, {etag}', ""):
        assert client.get(FEED, headers={"if-none-match": value}).status_code == 200, value
    # two header lines are one list
    two = client.get(FEED, headers=[("if-none-match", '"nope"'), ("if-none-match", f"W/{etag}")])
    assert two.status_code == 304
    # a feed's content can change with no date moving forward (a correction, the window): no Last-Modified,
    # so If-Modified-Since alone never turns a feed into a 304
    assert "last-modified" not in first.headers
    future = format_datetime(datetime(2100, 1, 1, tzinfo=UTC), usegmt=True)
    assert client.get(FEED, headers={"if-modified-since": future}).status_code == 200
    assert client.head(FEED, headers={"if-none-match": f"W/{etag}"}).status_code == 304


@pytest.fixture
def digest_files(tmp_path: Path) -> tuple[Path, Path, datetime]:
    folder = tmp_path / "digests"
    (folder / "2025-W12").mkdir(parents=True)
    html = folder / "2025-W12.html"
    html.write_text("<!DOCTYPE html><title>Week 12</title><p>Digest</p>", encoding="utf-8")
    chart = folder / "2025-W12" / "trend.svg"
    chart.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>', encoding="utf-8")
    moment = datetime(2025, 3, 24, 7, 30, 15, tzinfo=UTC)
    for path in (html, chart):
        os.utime(path, (moment.timestamp() + 0.75, moment.timestamp() + 0.75))  # sub-second part dropped
    return html, chart, moment


def test_files_carry_last_modified_and_honour_if_modified_since(
    client: TestClient, digest_files: tuple[Path, Path, datetime]
) -> None:
    html, _chart, moment = digest_files
    stamp = "Mon, 24 Mar 2025 07:30:15 GMT"
    for url in ("/digests/2025-W12.html", "/digests/2025-W12/trend.svg"):
        r = client.get(url)
        assert r.status_code == 200 and r.headers["last-modified"] == stamp, url
        etag = r.headers["etag"]
        for since in (stamp, "Tue, 25 Mar 2025 00:00:00 GMT", "Monday, 24-Mar-25 07:30:15 GMT"):
            again = client.get(url, headers={"if-modified-since": since})
            assert again.status_code == 304 and again.content == b"", (url, since)
            assert again.headers["last-modified"] == stamp and again.headers["etag"] == etag
        for since in ("Mon, 24 Mar 2025 07:30:14 GMT", "yesterday", "Mon, 32 Mar 2025 07:30:15 GMT", ""):
            assert client.get(url, headers={"if-modified-since": since}).status_code == 200, (url, since)
        # If-None-Match takes precedence: a stale tag means 200 even though the date would say 304
        both = client.get(url, headers={"if-none-match": '"stale"', "if-modified-since": stamp})
        assert both.status_code == 200 and both.content
        assert client.get(url, headers={"if-none-match": etag, "if-modified-since": "bad"}).status_code == 304
    # the file is rewritten later: the old date no longer matches
    html.write_text("<!DOCTYPE html><title>Week 12</title><p>Digest, corrected</p>", encoding="utf-8")
    later = moment + timedelta(hours=1)
    os.utime(html, (later.timestamp(), later.timestamp()))
    fresh = client.get("/digests/2025-W12.html", headers={"if-modified-since": stamp})
    assert fresh.status_code == 200 and b"corrected" in fresh.content
    assert fresh.headers["last-modified"] == format_datetime(later, usegmt=True)


def test_not_modified_rules() -> None:
    moment = datetime(2025, 3, 24, 7, 30, 15, tzinfo=UTC)
    stamp = format_datetime(moment, usegmt=True)
    assert not_modified("GET", 'W/"x"', None, '"x"', None)
    assert not not_modified("POST", '"x"', None, '"x"', None)  # only GET and HEAD
    assert not not_modified("POST", None, stamp, '"x"', moment)
    assert not_modified("HEAD", None, stamp, '"x"', moment)
    assert not not_modified("GET", None, stamp, '"x"', None)  # no date known: If-Modified-Since is moot
    assert not_modified("GET", None, "Mon, 24 Mar 2025 07:30:15 -0000", '"x"', moment)


# ------------------------------------------------------------------------------------ 4. past the last page


def test_a_page_past_the_end_links_the_last_page(store: QStore, client: TestClient) -> None:
    rows = [
        Row(100 + k, "kazinform-en", "en", ago(10, k), f"Kazakh community news {k}", "News.", True, "DE",
            "heritage")
        for k in range(53)
    ]
    add_rows(store, rows)
    last = client.get("/?country=DE&page=2")  # the real last page: as before
    soup = BeautifulSoup(last.text, "html.parser")
    assert listed(last.text) == [item_id(n) for n in (150, 151, 152)]
    assert soup.find(id="past-end") is None and soup.find("a", rel="prev")["href"] == "/?country=DE&page=1"
    for page in ("3", "9999", "99999999999999999999"):
        r = client.get(f"/?country=DE&page={page}")
        assert r.status_code == 200 and listed(r.text) == [], page
        soup = BeautifulSoup(r.text, "html.parser")
        notice = soup.find(id="past-end").get_text(" ")
        assert "53 items match these filters, on 2 pages" in notice, notice
        assert soup.find(id="no-items") is None  # items do match: "no items match" would be wrong
        link = soup.find(id="last-page")
        assert link.get_text() == "Last page" and link["href"] == "/?country=DE&page=2", page
        assert listed(client.get(link["href"]).text) == [item_id(n) for n in (150, 151, 152)]
        assert not [a for a in soup.select(".pager a") if "page=9999" in a["href"]]
    exact = client.get("/?country=DE&q=news%2052&page=2")  # one match: its only page is the first
    soup = BeautifulSoup(exact.text, "html.parser")
    assert "1 item matches these filters, on 1 page" in soup.find(id="past-end").get_text(" ")
    assert soup.find(id="last-page")["href"] == "/?country=DE&q=news+52&page=1"
    nothing = client.get("/?q=no-such-words&page=5")  # nothing matches at all: back to the first page
    soup = BeautifulSoup(nothing.text, "html.parser")
    assert soup.find(id="no-items") is not None and soup.find(id="past-end") is None
    assert soup.find(id="last-page")["href"] == "/?q=no-such-words&page=1"
    # the first page never shows a notice or a link back
    first = BeautifulSoup(client.get("/?q=no-such-words").text, "html.parser")
    assert first.find(id="last-page") is None and first.find(id="past-end") is None
    assert len(rows) > PAGE_SIZE  # the fixture really spans two pages


# ------------------------------------------------------------------------------------ 5. right-to-left text

ARABIC_TITLE = "موڭعولياداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى!"  # Kazakh in Arabic script, ending in "!"
ARABIC_SUMMARY = "باين-ولگي ايماعىندا ناۋرىز مەرەكەسى اتالىپ ءوتتى (2025)."
ARABIC_SOURCE = "ىلە گازەتى"
ARABIC_AUTHOR = "ءبولىم رەداكتسياسى"
ARABIC_NOTE = "شىنجياڭداعى قازاقتار"
ARABIC_TITLE_2 = "قازاقتار ايتىسى ولگيدە"  # the story's other member


def arabic_rows(store: QStore) -> None:
    rows = [
        Row(70, "olgii-mn", "kk", ago(0, 2), ARABIC_TITLE, ARABIC_SUMMARY, True, "MN", "festivals",
            (("Bayan-Ölgii", "MN", "باين-ولگي"),), "arabic"),
        Row(71, "olgii-mn", "kk", ago(0, 3), ARABIC_TITLE_2, ARABIC_SUMMARY, True, "MN", "festivals",
            (), "arabic"),
    ]
    add_rows(store, rows)
    with store.engine.begin() as conn:
        conn.execute(update(t.source).where(t.source.c.id == "olgii-mn").values(name=ARABIC_SOURCE))
        conn.execute(update(t.item).where(t.item.c.id == item_id(70)).values(author=ARABIC_AUTHOR))


def isolate_of(soup: BeautifulSoup, text: str, within: Tag | None = None) -> Tag:
    """The nearest element around ``text`` that isolates it (``<bdi>`` or ``dir="auto"``); it must hold
    exactly that text, so the direction comes from the text itself and nothing else is reordered with it."""
    root = within or soup
    hits = [s for s in root.find_all(string=lambda s: s is not None and text in s)]
    assert hits, f"{text!r} not on the page"
    for hit in hits:
        node = hit.parent
        while node is not None and node.name not in ("bdi", "body") and node.get("dir") != "auto":
            node = node.parent
        assert node is not None and node.name != "body", f"{text!r} is not isolated: {hit.parent}"
        assert node.get_text() == text, (text, str(node))
    return node


def test_right_to_left_text_is_isolated_and_the_page_stays_ltr(store: QStore, client: TestClient) -> None:
    arabic_rows(store)
    page = client.get("/?source=olgii-mn")
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.html.get("dir") in (None, "ltr") and soup.body.get("dir") is None
    li = soup.find("li", attrs={"data-id": item_id(70)})
    assert isolate_of(soup, ARABIC_TITLE, li).name == "a"  # the title link is dir="auto"
    assert isolate_of(soup, ARABIC_SUMMARY, li).name == "p"
    assert isolate_of(soup, ARABIC_SOURCE, li.find(class_="meta")).name == "bdi"
    assert soup.find(id="f-q")["dir"] == "auto"  # the search box takes the typed text's direction
    option = soup.find("select", id="f-source").find("option", attrs={"value": "olgii-mn"})
    assert option["dir"] == "auto" and ARABIC_SOURCE in option.get_text()
    searched = BeautifulSoup(client.get("/", params={"q": "ناۋرىز"}).text, "html.parser")
    assert searched.find(id="f-q")["value"] == "ناۋرىز" and searched.find(id="f-q")["dir"] == "auto"

    form = {"token": TOKEN, "relevant": "yes", "countries": "MN CN", "editor": ARABIC_AUTHOR,
            "note": ARABIC_NOTE}
    assert client.post(f"/items/{item_id(70)}/label", data=form).status_code == 200
    item = BeautifulSoup(client.get(f"/items/{item_id(70)}").text, "html.parser")
    h1 = isolate_of(item, ARABIC_TITLE, item.find("h1"))
    assert h1.name == "h1" and h1.find("span")["lang"] == "kk"
    summary = item.find("h2", string="Summary").find_next_sibling("p")
    assert isolate_of(item, ARABIC_SUMMARY, summary) is summary
    text = item.find("details").find("p")  # the main text (summary and more) is one block too
    assert text["dir"] == "auto" and text.get_text().startswith(ARABIC_SUMMARY)
    isolate_of(item, ARABIC_SOURCE, item.find(class_="meta"))
    isolate_of(item, ARABIC_AUTHOR, item.find(class_="meta"))
    verdict = item.find(id="verdict")
    isolate_of(item, ARABIC_AUTHOR, verdict)  # the editor's name
    assert isolate_of(item, ARABIC_NOTE, verdict).name == "bdi"
    assert "“" + ARABIC_NOTE + "”" in verdict.get_text()  # the quotes stay outside the isolate
    places = item.find("dt", string="Places found").find_next_sibling("dd")
    assert isolate_of(item, "باين-ولگي", places).name == "bdi"  # a place as the text named it
    assert item.find(id="editor")["dir"] == "auto" and item.find(id="note")["dir"] == "auto"

    story_id = store.tagged_item(item_id(70)).story_id  # type: ignore[union-attr]
    assert story_id
    story = BeautifulSoup(client.get(f"/stories/{story_id}").text, "html.parser")
    view = store.story(story_id)
    assert view is not None and view.lead.title in (ARABIC_TITLE, ARABIC_TITLE_2)
    assert isolate_of(story, view.lead.title, story.find("h1")).name == "bdi"
    assert story.find("h1").get_text() == "Story: " + view.lead.title
    members = story.find(id="members")
    assert isolate_of(story, ARABIC_TITLE, members).name == "a"
    assert isolate_of(story, ARABIC_TITLE_2, members).name == "a"
    isolate_of(story, ARABIC_SOURCE, members)

    sources = BeautifulSoup(client.get("/sources").text, "html.parser")
    isolate_of(sources, ARABIC_SOURCE, sources.find("tr", attrs={"data-id": "olgii-mn"}))


# ------------------------------------------------------------------------------------ in a real browser

CHROMIUM = os.environ.get("MEDIAWATCH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MEDIAWATCH_CHROMEDRIVER", "/usr/bin/chromedriver")


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        pytest.skip(f"needs Debian chromium and chromedriver; missing: {', '.join(missing)}")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    except WebDriverException as exc:
        pytest.skip(f"chromium did not start through {CHROMEDRIVER}: {exc.msg}")
    try:
        yield driver
    finally:
        driver.quit()


DIRECTION = "return getComputedStyle(arguments[0]).direction"


@pytest.mark.slow
def test_a_browser_lays_arabic_script_titles_out_right_to_left(
    chromium: Any, store: QStore, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    arabic_rows(store)
    app = create_app(store, Settings(), digests_dir=tmp_path, clock=lambda: NOW)
    chromium.set_window_size(1200, 900)
    with LiveServer(lambda _port: app) as server:
        chromium.get(server.url + "/?source=olgii-mn")
        body = chromium.find_element(By.TAG_NAME, "body")
        assert chromium.execute_script(DIRECTION, body) == "ltr"
        rtl = chromium.find_element(By.CSS_SELECTOR, f'li[data-id="{item_id(70)}"] a.title')
        ltr = chromium.find_element(By.CSS_SELECTOR, f'li[data-id="{item_id(1)}"] a.title')
        assert chromium.execute_script(DIRECTION, rtl) == "rtl"
        assert chromium.execute_script(DIRECTION, ltr) == "ltr"
        summary = chromium.find_element(By.CSS_SELECTOR, f'li[data-id="{item_id(70)}"] p')
        assert chromium.execute_script(DIRECTION, summary) == "rtl"
        source = chromium.find_element(By.CSS_SELECTOR, f'li[data-id="{item_id(70)}"] .meta bdi')
        assert chromium.execute_script(DIRECTION, source) == "rtl"
        # the title's "!" ends the right-to-left line, at its left edge, not at the far right
        right_edge = chromium.execute_script(
            "const r = document.createRange(); const t = arguments[0].querySelector('span').firstChild;"
            "r.setStart(t, t.length - 1); r.setEnd(t, t.length); const a = r.getBoundingClientRect();"
            "const b = arguments[0].getBoundingClientRect(); return [a.left - b.left, b.right - a.right];",
            rtl,
        )
        assert right_edge[0] < right_edge[1], right_edge
        chromium.get(server.url + f"/items/{item_id(70)}")
        h1 = chromium.find_element(By.TAG_NAME, "h1")
        assert chromium.execute_script(DIRECTION, h1) == "rtl"
        assert chromium.execute_script(DIRECTION, chromium.find_element(By.TAG_NAME, "body")) == "ltr"
        refused = [e["message"] for e in chromium.get_log("browser")
                   if e["level"] == "SEVERE" or "Refused" in e["message"]]
        assert refused == []  # the CSP still allows the (unchanged) stylesheet
