"""The web app through Starlette's TestClient over a real SQLite store: every page, filter, feed, the digest
archive, /healthz, /metrics, editor corrections (and their refusal), escaping and security headers."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from prometheus_client import REGISTRY
from sqlalchemy import update
from starlette.testclient import TestClient
from webdata import NOW, QStore, Row, add_rows, ago, item_id, listed, open_filled

from mediawatch.digest import IsoWeek, write_digest
from mediawatch.publish import FeedOptions, rebuild_feeds
from mediawatch.settings import Settings
from mediawatch.store import open_store
from mediawatch.store import schema as t
from mediawatch.web import Metrics, create_app

TOKEN = "correct horse battery staple"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QStore]:
    s = open_filled(tmp_path / "web.db")
    yield s
    s.close()


@pytest.fixture
def client(store: QStore, tmp_path: Path) -> TestClient:
    app = create_app(store, Settings(editor_token=TOKEN), digests_dir=tmp_path / "digests", clock=lambda: NOW)
    return TestClient(app)


def ids(*ns: int) -> list[str]:
    return [item_id(n) for n in ns]


def assert_safe_html(html: str, where: str) -> BeautifulSoup:
    soup = BeautifulSoup(html, "html.parser")
    assert not soup.find_all(["script", "iframe", "object", "embed", "base", "frame", "img"]), where
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not attr.lower().startswith("on"), f"{where}: {attr} on <{tag.name}>"
            assert "javascript:" not in text.lower(), f"{where}: {attr}={text}"
    for a in soup.find_all("a"):
        assert a["href"].startswith(("/", "?", "https://", "http://")), f"{where}: {a['href']}"
    return soup


def test_pages_load_with_security_headers(client: TestClient) -> None:
    for url in (
        "/",
        "/items/item001",
        "/stories/st-item002",
        "/sources",
        "/digests",
        "/feeds",
        "/no-such-page",
    ):
        r = client.get(url)
        assert r.status_code == (404 if url == "/no-such-page" else 200), url
        assert r.headers["content-type"].startswith("text/html")
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp and "frame-ancestors 'none'" in csp
        assert (
            r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
        )
        soup = assert_safe_html(r.text, url)
        assert soup.find("meta", attrs={"name": "viewport"}) is not None
        assert not soup.find_all("link", rel="stylesheet")  # no external resources
        style = soup.find("style").string
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"style-src 'sha256-{digest}'" in csp  # exactly our inline stylesheet may apply


def test_latest_lists_relevant_items_newest_first(client: TestClient) -> None:
    assert listed(client.get("/").text) == ids(1, 2, 3, 5, 4, 9, 8)
    assert listed(client.get("/?show=all").text) == ids(6, 1, 2, 3, 5, 4, 7, 9, 8)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("topic=festivals", (1, 2, 3, 9, 8)),
        ("country=MN", (1, 2, 4, 8)),
        ("country=mn&topic=repatriation", (4,)),
        ("lang=kk", (2,)),
        ("source=omsk-ru", (5,)),
        ("from=2025-03-19&to=2025-03-20", (5, 4)),
        ("to=2025-02-20", (8,)),
        ("q=nauryz", (1, 3)),
        ("q=NAURYZ", (1, 3)),
        ("q=наурыз", (2,)),  # Cyrillic, lower case, matches "Наурыз"
        ("q=full%20text%20of%20item%204", (4,)),  # the main text is searched too
        ("q=50%25", ()),  # LIKE wildcards are literal
        ("q=tenge", ()),
        ("q=tenge&show=all", (6,)),
    ],
)
def test_filters_and_search(client: TestClient, query: str, expected: tuple[int, ...]) -> None:
    r = client.get(f"/?{query}")
    assert r.status_code == 200
    assert listed(r.text) == ids(*expected)


def test_bad_filters_are_ignored_and_said(client: TestClient) -> None:
    r = client.get("/?topic=../x&from=yesterday&country=Mongolia")
    soup = BeautifulSoup(r.text, "html.parser")
    problems = [p.get_text() for p in soup.select("p.error")]
    assert len(problems) == 3 and any("yesterday" in p for p in problems)
    assert listed(r.text) == ids(1, 2, 3, 5, 4, 9, 8)


def test_paging(store: QStore, client: TestClient) -> None:
    add_rows(
        store,
        [
            Row(
                100 + k,
                "kazinform-en",
                "en",
                ago(10, k),
                f"Kazakh community news {k}",
                "News.",
                True,
                "DE",
                "heritage",
            )
            for k in range(53)
        ],
    )
    first = listed(client.get("/?country=DE").text)
    assert first == ids(*range(100, 150))
    page2 = client.get("/?country=DE&page=2")
    assert listed(page2.text) == ids(150, 151, 152)
    assert BeautifulSoup(page2.text, "html.parser").find("a", rel="prev")["href"] == "/?country=DE&page=1"


def test_item_page_shows_tags_evidence_and_story(client: TestClient) -> None:
    soup = BeautifulSoup(client.get("/items/item002").text, "html.parser")
    assert soup.find(id="verdict").get_text().startswith("Relevant")
    assert [a.get_text() for a in soup.select("#tags a.tag")] == ["Festivals", "MN"]
    why = soup.find(id="why").get_text(" ")
    assert "Model relevance 0.91 (threshold 0.50)" in why and "Баян-Өлгий → Bayan-Ölgii (MN)" in why
    assert "Kazakhs of Xinjiang celebrate Nauryz" in why  # nearest training example
    assert soup.find(id="topic-cues").get_text() == "Festivals: nauryz"  # the cue words the tagger found
    assert soup.find(id="original")["href"] == "https://qazaq-kk.example/news/2"
    assert soup.find("h1").span["lang"] == "kk"
    story = client.get(soup.find(id="story-link")["href"])
    table = BeautifulSoup(story.text, "html.parser").find(id="members")
    assert [a["href"] for a in table.find_all("a")] == ["/items/item002", "/items/item001"]
    page = BeautifulSoup(story.text, "html.parser")
    assert page.find(id="story-sources").get_text() == "olgii-mn, qazaq-kk"
    assert page.find(id="story-languages").get_text() == "en, kk"
    assert client.get("/items/nope").status_code == 404 and client.get("/stories/nope").status_code == 404


def test_sources_page_shows_health(client: TestClient) -> None:
    soup = BeautifulSoup(client.get("/sources").text, "html.parser")
    rows = {tr["data-id"]: tr.get_text(" ") for tr in soup.select("tr.source")}
    assert len(rows) == 5
    assert "failing (3×)" in rows["broken-feed"] and "HTTP 503" in rows["broken-feed"]
    assert " ok " in rows["olgii-mn"]


def test_correction_round_trip(store: QStore, client: TestClient) -> None:
    form = {"token": TOKEN, "relevant": "no", "countries": "", "editor": "aigerim", "note": "domestic news"}
    r = client.post("/items/item001/label", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/items/item001?saved=1"
    soup = BeautifulSoup(client.get(r.headers["location"]).text, "html.parser")
    assert soup.find(id="saved") and soup.find(id="verdict").get_text(" ").startswith("Not relevant")
    assert "aigerim" in soup.find(id="verdict").get_text() and not soup.select("#tags a.tag")
    assert item_id(1) not in listed(client.get("/?topic=festivals").text)
    feed = feedparser.parse(client.get("/feeds/topics/festivals.atom").content)
    assert "tag:mediawatch,2025:item/item001" not in [e.id for e in feed.entries]
    # and back, with other tags: the labels override the model
    form = {"token": TOKEN, "relevant": "yes", "countries": "mn, de", "topics": ["heritage", "sport"]}
    assert client.post("/items/item001/label", data=form).status_code == 200  # redirect followed
    assert listed(client.get("/?topic=sport").text) == ids(1)
    assert listed(client.get("/?country=DE").text) == ids(1)
    assert item_id(1) not in listed(client.get("/?topic=festivals").text)
    label = store.tagged_item(item_id(1))
    assert label is not None and (label.countries, label.topics, label.labeled_at) == (
        ("MN", "DE"),
        ("heritage", "sport"),
        NOW,
    )


def test_corrections_need_the_token(store: QStore, client: TestClient, tmp_path: Path) -> None:
    for token in ("wrong", "", TOKEN[:-1]):
        r = client.post("/items/item001/label", data={"token": token, "relevant": "no"})
        assert r.status_code == 403 and "Wrong editor token" in r.text
    assert client.post("/items/item001/label", data={"relevant": "no"}).status_code == 403
    labeled = store.tagged_item(item_id(1))
    assert labeled is not None and not labeled.labeled
    bad = client.post(
        "/items/item001/label",
        data={"token": TOKEN, "relevant": "no", "countries": "Mongolia", "topics": ["nonsense"]},
    )
    assert bad.status_code == 400
    problems = [p.get_text() for p in BeautifulSoup(bad.text, "html.parser").select("#correct p.error")]
    assert len(problems) == 2 and "'Mongolia' is not a two-letter country code" in problems[0]
    # the form and `mediawatch label` share one set of rules (mediawatch.labels.make_label)
    shared = client.post("/items/item001/label", data={"token": TOKEN, "relevant": "yes", "countries": "MN, XX"})
    assert shared.status_code == 400
    texts = [p.get_text() for p in BeautifulSoup(shared.text, "html.parser").select("#correct p.error")]
    assert texts == ["not ISO 3166-1 alpha-2 country codes: XX"], texts
    assert client.post("/items/nope/label", data={"token": TOKEN, "relevant": "no"}).status_code == 404
    huge = client.post("/items/item001/label", data={"token": TOKEN, "relevant": "no", "note": "x" * 70_000})
    assert huge.status_code == 413
    # no token configured: the form says so and every POST is refused
    closed = TestClient(
        create_app(store, Settings(editor_token=None), digests_dir=tmp_path, clock=lambda: NOW)
    )
    page = BeautifulSoup(closed.get("/items/item001").text, "html.parser")
    assert page.find(id="corrections-disabled") and not page.find("form", class_="label")
    assert closed.post("/items/item001/label", data={"token": "", "relevant": "no"}).status_code == 403
    labeled = store.tagged_item(item_id(1))
    assert labeled is not None and not labeled.labeled


def test_feeds_are_served_parse_and_match_the_written_files(
    store: QStore, client: TestClient, tmp_path: Path
) -> None:
    out = tmp_path / "written"
    rebuild_feeds(store, out, now=NOW, options=FeedOptions(base_url="http://testserver/"))
    files = sorted((out / "feeds").rglob("*.atom")) + sorted((out / "feeds").rglob("*.json"))
    assert len(files) == 34
    for path in files:
        url = "/" + path.relative_to(out).as_posix()
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.content == path.read_bytes(), url  # on the fly == on disk
        if path.suffix == ".atom":
            assert r.headers["content-type"] == "application/atom+xml; charset=utf-8"
            assert not feedparser.parse(r.content).bozo
        else:
            assert json.loads(r.content)["version"] == "https://jsonfeed.org/version/1.1"
        again = client.get(url, headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
    mn = feedparser.parse(client.get("/feeds/topics/festivals/countries/MN.atom").content)
    assert [e.id for e in mn.entries] == [
        "tag:mediawatch,2025:item/item001",
        "tag:mediawatch,2025:item/item002",
    ]
    empty = client.get(
        "/feeds/topics/sport/countries/KZ.json"
    )  # known names, no items yet: a valid empty feed
    assert empty.status_code == 200 and json.loads(empty.content)["items"] == []
    for bad in (
        "/feeds/topics/nonsense.atom",
        "/feeds/topics/festivals.rss",
        "/feeds/countries/mn.atom",
        "/feeds/countries/ZZ.atom",
        "/feeds/topics/festivals/countries/MNG.json",
        "/feeds/topics/..%2F.atom",
    ):
        assert client.get(bad).status_code == 404, bad
    opml = client.get("/feeds.opml")
    urls = set(re.findall(r'xmlUrl="([^"]+)"', opml.text))
    assert len(urls) == 17 and "http://testserver/feeds/topics/festivals/countries/MN.atom" in urls
    page = BeautifulSoup(client.get("/feeds").text, "html.parser")
    assert len([a for a in page.find_all("a") if a["href"].endswith(".atom")]) == 17


def test_digest_archive(store: QStore, client: TestClient, tmp_path: Path) -> None:
    digests = tmp_path / "digests"
    files = write_digest(store, IsoWeek(2025, 12), digests, now=NOW)
    soup = BeautifulSoup(client.get("/digests").text, "html.parser")
    assert [a["href"] for a in soup.select("#digests a")] == [
        "/digests/2025-W12.html",
        "/digests/2025-W12.md",
    ]
    html = client.get("/digests/2025-W12.html")
    assert html.status_code == 200 and html.content == files.html.read_bytes()
    style = BeautifulSoup(html.text, "html.parser").find("style").string
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in html.headers["content-security-policy"]
    md = client.get("/digests/2025-W12.md")
    assert md.headers["content-type"] == "text/plain; charset=utf-8" and md.content == files.md.read_bytes()
    assert files.charts
    for chart in files.charts:
        r = client.get(f"/digests/2025-W12/{chart.name}")
        assert (
            r.status_code == 200
            and r.headers["content-type"] == "image/svg+xml"
            and r.content == chart.read_bytes()
        )
    (tmp_path / "secret.html").write_text("secret")
    for bad in (
        "/digests/2025-W13.html",
        "/digests/..%2Fsecret.html",
        "/digests/secret.html",
        "/digests/2025-W12/../../secret.html",
        "/digests/2025-W12/trend.png",
        "/digests/2025-W12.txt",
    ):
        assert client.get(bad).status_code == 404, bad


def test_healthz(store: QStore, client: TestClient, tmp_path: Path) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "db": "ok", "items": 9}
    broken = tmp_path / "not-a-folder"
    broken.write_text("x")
    app = create_app(
        lambda: open_store(f"sqlite:///{broken}/x.db", migrate=False), Settings(), digests_dir=tmp_path
    )
    r = TestClient(app).get("/healthz")
    assert r.status_code == 503 and r.json()["db"] == "error"


def test_metrics(store: QStore, tmp_path: Path) -> None:
    metrics = Metrics()
    client = TestClient(
        create_app(store, Settings(), digests_dir=tmp_path, metrics=metrics, clock=lambda: NOW)
    )
    metrics.items_collected(7)
    metrics.items_collected(5)
    metrics.fetch_error("timeout")
    metrics.fetch_error("HTTP 503")
    metrics.fetch_error("timeout")
    metrics.tick_seconds(2.5)
    metrics.tagged(40, 2.0)
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    for line in (
        "mediawatch_items_collected_total 12.0",
        'mediawatch_fetch_errors_total{reason="timeout"} 2.0',
        'mediawatch_fetch_errors_total{reason="http_503"} 1.0',
        "mediawatch_tick_seconds_count 1.0",
        "mediawatch_tick_seconds_sum 2.5",
        "mediawatch_items_tagged_total 40.0",
        "mediawatch_tagging_items_per_second 20.0",
        "mediawatch_db_up 1.0",
        'mediawatch_items{state="all"} 9.0',
        'mediawatch_items{state="relevant"} 7.0',
        'mediawatch_sources{state="failing"} 1.0',
        "mediawatch_stories 1.0",
        "mediawatch_newest_item_age_seconds 86100.0",
    ):
        assert line in text.splitlines(), line
    # the database's size, as SQLite reports it (the file's pages), for an operator watching the archive grow
    with store.engine.connect() as conn:
        size = conn.exec_driver_sql("PRAGMA page_count").scalar_one() * conn.exec_driver_sql(
            "PRAGMA page_size").scalar_one()
    [reported] = [float(line.split()[1]) for line in text.splitlines() if line.startswith("mediawatch_database_bytes ")]
    assert size > 0 and reported == size
    # its own registry: nothing leaks into the process-wide default, and a second app starts from zero
    assert REGISTRY.get_sample_value("mediawatch_items_collected_total") is None
    fresh = TestClient(create_app(store, Settings(), digests_dir=tmp_path, metrics=Metrics(), clock=lambda: NOW))
    assert "mediawatch_items_collected_total 0.0" in fresh.get("/metrics").text.splitlines()
    # a web server without the service (`mediawatch serve`) never sees a tick: no tick counters posing as zeros,
    # only what the database holds
    standalone = TestClient(create_app(store, Settings(), digests_dir=tmp_path, clock=lambda: NOW)).get("/metrics")
    assert 'mediawatch_items{state="all"} 9.0' in standalone.text.splitlines()
    for family in ("mediawatch_items_collected", "mediawatch_tick_seconds", "mediawatch_fetch_errors",
                   "mediawatch_items_tagged", "mediawatch_tagging"):
        assert family not in standalone.text, family


def test_store_factory_opens_lazily_and_closes_at_shutdown(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    open_filled(path).close()
    opened: list[object] = []

    def factory() -> object:
        s = open_store(f"sqlite:///{path}")
        opened.append(s)
        return s

    app = create_app(factory, Settings(), digests_dir=tmp_path, clock=lambda: NOW)  # type: ignore[arg-type]
    assert opened == []
    with TestClient(app) as c:
        assert listed(c.get("/").text) == ids(1, 2, 3, 5, 4, 9, 8)
        assert c.get("/healthz").json()["items"] == 9
        assert len(opened) == 1
    assert app.state.site._store is None  # closed by the lifespan shutdown


PAYLOAD = '<script>alert(1)</script><img src=x onerror=alert(2)>"><svg onload=alert(3)>'


def test_every_outside_string_is_escaped(store: QStore, client: TestClient) -> None:
    add_rows(
        store,
        [
            Row(
                60,
                "kazinform-en",
                '"><script>',
                ago(0, 1),
                PAYLOAD,
                PAYLOAD,
                True,
                "KZ",
                "festivals",
                ((PAYLOAD, "KZ", PAYLOAD),),
            )
        ],
    )
    with store.engine.begin() as conn:
        conn.execute(
            update(t.item).where(t.item.c.id == item_id(60)).values(url="javascript:alert(4)", author=PAYLOAD)
        )
        conn.execute(
            update(t.source)
            .where(t.source.c.id == "kazinform-en")
            .values(name=PAYLOAD, locator="javascript:alert(5)")
        )
        conn.execute(
            update(t.source_state)
            .where(t.source_state.c.source_id == "broken-feed")
            .values(last_error=PAYLOAD, notes_json=json.dumps({"x": PAYLOAD}))
        )
    for url in ("/", "/?country=KZ", "/items/item060", "/sources", f"/?q={PAYLOAD}", "/?topic=<script>"):
        r = client.get(url)
        soup = assert_safe_html(r.text, url)
        if url != "/?topic=<script>":
            assert PAYLOAD in soup.get_text(), url  # shown as text, not dropped
    item = BeautifulSoup(client.get("/items/item060").text, "html.parser")
    assert item.find(id="original") is None and "javascript:alert(4)" in item.get_text()
    assert item.find("h1").find("span") is None  # the bad language code is not put in a lang attribute


def test_serve_runs_uvicorn_on_the_given_port(tmp_path: Path) -> None:
    """``serve`` in a child process (it blocks until interrupted), over a store opened from settings.db."""
    open_filled(tmp_path / "serve.db").close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    code = (
        "from pathlib import Path; from mediawatch.settings import Settings; "
        "from mediawatch.web import serve; "
        f"serve(Settings(db={db!r}, digests=Path({str(tmp_path)!r})), '127.0.0.1', {port})"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                    assert json.loads(r.read()) == {"status": "ok", "db": "ok", "items": 9}
                    assert r.headers["content-security-policy"].startswith("default-src 'none'")
                    break
            except (urllib.error.URLError, ConnectionError):
                assert child.poll() is None, child.stdout.read() if child.stdout else ""
                assert time.monotonic() < deadline, "serve() did not answer within 60 s"
                time.sleep(0.2)
    finally:
        child.terminate()
        child.wait(timeout=20)


@pytest.mark.parametrize("command", [["serve"], ["run", "--serve"], ["demo", "--serve"]])
def test_a_port_in_use_is_one_error_line_before_anything_starts(tmp_path: Path, command: list[str]) -> None:
    """uvicorn printed "serving on …", then its own `[Errno 98]` log line, and exited with code 3; `run --serve`
    had started the service first, and the demo would have done its minutes of work first."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_")}
        env["MEDIAWATCH_DB"] = f"sqlite:///{tmp_path / 'mw.db'}"
        (tmp_path / "sources.yaml").write_text("version: 1\nsources: []\n", encoding="utf-8")
        done = subprocess.run([sys.executable, "-m", "mediawatch", *command, "--port", str(port)], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use (another program "
                           "uses it: choose another --port)\n")
    assert done.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sources.yaml"]  # no database, no demo folder


def test_listen_binds_as_uvicorn_does_and_names_the_port_it_got() -> None:
    """getaddrinfo's first answer for localhost can be ::1 (Debian's /etc/hosts): uvicorn binds IPv4 unless the
    host has a colon, and so must the socket bound for it; --port 0 printed "serving on …:0/"."""
    from mediawatch.web.app import listen, listening_url

    for host, address in (("localhost", "127.0.0.1"), ("", "0.0.0.0"), ("127.0.0.1", "127.0.0.1")):
        sock = listen(host, 0)
        try:
            assert sock.family == socket.AF_INET and sock.getsockname()[0] == address
            port = sock.getsockname()[1]
            assert port > 0 and listening_url(sock) == f"http://{address}:{port}/"
        finally:
            sock.close()
