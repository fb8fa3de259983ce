"""`mediawatch probe URL` and `mediawatch sources add URL`, against the loopback server (never the network)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result
from loopserver import ForwardProxy, LoopServer

from mediawatch.cli.probing import add, probe
from mediawatch.collect import links
from mediawatch.probe import probe_url
from mediawatch.probe_report import ProbeReport
from mediawatch.settings import Settings
from mediawatch.sourcefile import load_sourcefile, parse_sourcefile
from mediawatch.suggest import add_stanza, country_guess, slugify

DATA = Path(__file__).parent / "data" / "feeds"
CHANNEL = "UCq7RZ2cW1dU3pXo9KfL4m8A"  # the channel named by tests/data/feeds/youtube-handle-page.html


pytestmark = pytest.mark.usefixtures("direct_http")


def settings(**overrides: Any) -> Settings:
    return Settings(timeout=15.0, connect_timeout=10.0, retries=1, **overrides)


def run_probe(url: str, **overrides: Any) -> ProbeReport:
    return asyncio.run(probe_url(url, settings(**overrides)))


def invoke(command: Any, args: list[str]) -> Result:
    return CliRunner().invoke(command, args, catch_exceptions=False)


# ---------------------------------------------------------------------------------------------- documents

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel>
  <title>Qazaq Times &amp; Co</title><link>{site}</link><language>kk</language>
  <item><title>Один</title><link>{site}/2025/11/03/one</link><pubDate>Mon, 03 Nov 2025 10:00:00 +0000</pubDate></item>
  <item><title>Два</title><link>{site}/2025/11/05/two</link><pubDate>Wed, 05 Nov 2025 08:30:00 +0000</pubDate></item>
  <item><title>Три</title><link>{site}/2025/11/04/three</link><pubDate>Tue, 04 Nov 2025 12:00:00 +0000</pubDate></item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="mn">
  <title>Mongol Kazakh News</title><id>urn:x</id><updated>2025-10-02T00:00:00Z</updated>
  <entry><title>A</title><id>urn:a</id><link href="{site}/a"/><updated>2025-10-01T06:00:00Z</updated></entry>
  <entry><title>B</title><id>urn:b</id><link href="{site}/b"/><updated>2025-10-02T07:15:00Z</updated></entry>
</feed>
"""

JSON_FEED = {
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Türk Kazak Haber",
    "language": "tr",
    "items": [
        {"id": "1", "url": "{site}/h/1", "title": "Bir", "date_published": "2025-09-30T09:00:00Z"},
        {"id": "2", "url": "{site}/h/2", "title": "İki", "date_published": "2025-09-29T09:00:00Z"},
        {"id": "3", "url": "{site}/h/3", "title": "Üç", "date_published": "2025-09-28T09:00:00Z"},
        {"id": "4", "url": "{site}/h/4", "title": "Dört"},
    ],
}

YOUTUBE_FEED = f"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns:media="http://search.yahoo.com/mrss/"
      xmlns="http://www.w3.org/2005/Atom">
  <id>yt:channel:{CHANNEL[2:]}</id><yt:channelId>{CHANNEL[2:]}</yt:channelId><title>Qazaq Diaspora TV</title>
  <link rel="alternate" href="https://www.youtube.com/channel/{CHANNEL}"/>
  <entry><id>yt:video:abcdefghijk</id><yt:videoId>abcdefghijk</yt:videoId><yt:channelId>{CHANNEL}</yt:channelId>
    <title>Video one</title><link rel="alternate" href="https://www.youtube.com/watch?v=abcdefghijk"/>
    <published>2025-11-01T10:00:00+00:00</published></entry>
  <entry><id>yt:video:bcdefghijkl</id><yt:videoId>bcdefghijkl</yt:videoId><yt:channelId>{CHANNEL}</yt:channelId>
    <title>Video two</title><link rel="alternate" href="https://www.youtube.com/watch?v=bcdefghijkl"/>
    <published>2025-11-02T10:00:00+00:00</published></entry>
</feed>
"""


def listing(declared: str = "", lang: str = "kk-KZ", site_name: str = "Qazaq Ünі") -> str:
    """A news listing: site menu, footer, and three stories (date, numeric id and long-slug URLs)."""
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">
<title>Жаңалықтар — {site_name}</title><meta property="og:site_name" content="{site_name}">{declared}</head>
<body><header><nav><a href="/">Басты бет</a> <a href="/politics/">Саясат</a> <a href="/sport/">Спорт</a>
<a href="/category/world/">Әлем</a></nav></header>
<main>
 <article><h2><a href="/2025/11/05/diaspora-congress-opens-in-astana">Diaspora congress opens in Astana</a></h2></article>
 <article><h2><a href="/news/184467">Kazakh families return from Mongolia this autumn</a></h2></article>
 <article class="story"><h3><a href="/society/kazakh-language-school-opens-in-istanbul-district">
   A Kazakh language school opens in an Istanbul district</a></h3></article>
 <div class="pager"><a href="/news/?page=2">2</a></div>
</main>
<footer><a href="/about/">About</a> <a href="mailto:desk@example.kz">Write to us</a></footer>
</body></html>"""


def serve_rss(server: LoopServer, path: str) -> str:
    return server.serve(path, RSS.format(site=server.base_url), content_type="application/rss+xml; charset=utf-8")


# ---------------------------------------------------------------------------------------------- feeds


def test_rss_feed_detected_with_title_count_language_newest(loopserver: LoopServer) -> None:
    url = serve_rss(loopserver, "/feeds/main.xml")
    report = run_probe(url)
    assert report.kind == "rss"
    assert report.feed is not None and report.feed.format == "rss20"
    assert report.title == "Qazaq Times & Co"
    assert report.feed.entries == 3
    assert report.feed.newest == datetime(2025, 11, 5, 8, 30, tzinfo=UTC)  # the newest, not the first
    assert report.language == "kk"
    assert report.feeds == (url,)
    assert report.suggested == {
        "id": "127-0-0-1",
        "name": "Qazaq Times & Co",
        "kind": "rss",
        "url": url,
        "language": "kk",
        "country": "KZ",  # no country TLD on 127.0.0.1: the language decides
        "every": "1h",
    }


def test_atom_feed_detected(loopserver: LoopServer) -> None:
    url = loopserver.serve("/atom", ATOM.format(site=loopserver.base_url), content_type="application/atom+xml")
    report = run_probe(url)
    assert (report.kind, report.title) == ("rss", "Mongol Kazakh News")
    assert report.feed is not None and report.feed.format == "atom10" and report.feed.entries == 2
    assert report.feed.newest == datetime(2025, 10, 2, 7, 15, tzinfo=UTC)
    assert report.suggested["kind"] == "rss" and report.suggested["every"] == "1h"


def test_json_feed_detected_via_cli_json(loopserver: LoopServer) -> None:
    body = json.dumps(JSON_FEED).replace("{site}", loopserver.base_url)
    url = loopserver.serve("/feed.json", body, content_type="application/feed+json")
    result = invoke(probe, [url, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["url"] == url and data["kind"] == "rss" and data["title"] == "Türk Kazak Haber"
    assert data["feeds"] == [url]
    assert data["feed"]["format"] == "json11" and data["feed"]["entries"] == 4
    assert data["feed"]["newest"] == "2025-09-30T09:00:00+00:00"  # the undated entry does not count
    assert data["articles"] == []
    assert data["suggested"]["language"] == "tr" and data["suggested"]["country"] == "TR"


# ---------------------------------------------------------------------------------------------- YouTube


def test_youtube_handle_page_resolved_through_youtube_base(loopserver: LoopServer) -> None:
    loopserver.serve_file("/@qazaqdiasporatv", DATA / "youtube-handle-page.html", content_type="text/html")
    loopserver.serve("/feeds/videos.xml", YOUTUBE_FEED, content_type="application/atom+xml")
    report = run_probe("https://www.youtube.com/@qazaqdiasporatv", youtube_base=loopserver.base_url)
    assert report.kind == "youtube"
    assert report.youtube is not None
    assert report.youtube.channel_id == CHANNEL and report.youtube.handle == "@qazaqdiasporatv"
    assert report.youtube.feed_url == f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"
    assert report.feeds == (report.youtube.feed_url,)
    assert report.feed is not None and report.feed.ok and report.feed.entries == 2
    assert report.feed.newest == datetime(2025, 11, 2, 10, tzinfo=UTC)
    assert report.title == "Qazaq Diaspora TV"
    assert report.suggested == {
        "id": "yt-qazaqdiasporatv",
        "name": "Qazaq Diaspora TV",
        "kind": "youtube",
        "channel_id": CHANNEL,
        "every": "3h",
    }
    # the handle page and the feed were fetched from the mirror, never from youtube.com
    assert len(loopserver.requests_for("/@qazaqdiasporatv")) == 1
    (feed_request,) = loopserver.requests_for("/feeds/videos.xml")
    assert feed_request.path == f"/feeds/videos.xml?channel_id={CHANNEL}"


def test_youtube_channel_url_gives_feed_url_without_fetching_a_page(loopserver: LoopServer) -> None:
    runner = CliRunner(env={"MEDIAWATCH_YOUTUBE_BASE": loopserver.base_url})
    result = runner.invoke(probe, [f"https://www.youtube.com/channel/{CHANNEL}", "--json"], catch_exceptions=False)
    # the channel's feed answers 404: what was found is printed, and the exit code says it cannot be collected
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: the channel feed could not be read: HTTP 404")
    data = json.loads(result.stdout)
    assert data["kind"] == "youtube" and data["youtube"]["channel_id"] == CHANNEL
    assert data["feeds"] == [f"https://www.youtube.com/feeds/videos.xml?channel_id={CHANNEL}"]
    assert data["suggested"]["channel_id"] == CHANNEL and data["suggested"]["every"] == "3h"
    # no feed is served: the channel is still identified, and the failed feed check is reported
    assert data["feed"]["ok"] is False and data["feed"]["reason"] == "HTTP 404"
    assert any("HTTP 404" in note for note in data["notes"])
    assert [urlsplit(r.path).path for r in loopserver.requests] == ["/feeds/videos.xml"]


# ---------------------------------------------------------------------------------------------- pages


def test_page_with_declared_feed(loopserver: LoopServer) -> None:
    declared = '<link rel="alternate" type="application/rss+xml" title="RSS" href="/news/rss">'
    html = listing(declared)
    url = loopserver.serve("/news/", html, content_type="text/html; charset=utf-8")
    feed = serve_rss(loopserver, "/news/rss")
    report = run_probe(url)
    assert report.kind == "page"
    assert report.declared_feeds == (feed,) and report.feeds == (feed,)
    assert report.title == "Qazaq Ünі"
    # the articles are exactly what the collector's rule takes, in page order
    assert report.articles == links.extract_links(html, url).articles
    assert report.articles == (
        loopserver.url("/2025/11/05/diaspora-congress-opens-in-astana"),
        loopserver.url("/news/184467"),
        loopserver.url("/society/kazakh-language-school-opens-in-istanbul-district"),
    )
    reasons = dict(report.rejected)
    assert reasons[loopserver.url("/sport/")] == "navigation"
    assert reasons[loopserver.url("/category/world/")] == "section"
    assert reasons["mailto:desk@example.kz"] == "not a page"
    # a working declared feed is preferred over the page; no common paths were tried
    assert report.suggested["kind"] == "rss" and report.suggested["url"] == feed
    assert report.suggested["name"] == "Qazaq Ünі" and report.suggested["country"] == "KZ"
    assert loopserver.requests_for("/rss.xml") == [] and loopserver.requests_for("/feed") == []


def test_page_without_declared_feed_finds_common_path(loopserver: LoopServer) -> None:
    hostile = "Qazaq\x1b[2J\x1b]0;pwned\x07 Ünі"  # terminal escape sequences in the site's name
    url = loopserver.serve("/", listing(site_name=hostile), content_type="text/html; charset=utf-8")
    feed = serve_rss(loopserver, "/rss.xml")
    result = invoke(probe, [url])
    assert result.exit_code == 0, result.output
    text = result.output
    assert "\x1b" not in text and "\x07" not in text
    assert "title:     Qazaq [2J ]0;pwned Ünі" in text  # control characters became spaces
    assert "feeds declared by the page: 0" in text
    assert f"ok  {feed}  [common]  (rss20, 3 entries, newest 2025-11-05T08:30:00+00:00" in text
    assert f"--  {loopserver.url('/feed')}  [common]  HTTP 404" in text
    assert "article links taken by the automatic rule: 3" in text
    assert "navigation" in text and "section" in text
    # the report ends with the stanza, ready to paste under `sources:`
    stanza_text = text.split("suggested sources.yaml stanza (under `sources:`):\n", 1)[1]
    pasted = parse_sourcefile("version: 1\nsources:\n" + stanza_text, Path("pasted.yaml"))
    (spec,) = pasted.sources
    assert (spec.kind, spec.url, spec.every.total_seconds()) == ("rss", feed, 3600)
    assert len(loopserver.requests_for("/robots.txt")) == 1  # asked once, for all the candidates


def test_page_without_any_feed_suggests_page_and_selector_overrides(loopserver: LoopServer) -> None:
    html = listing(lang="mn")
    url = loopserver.serve("/medee", html, content_type="text/html; charset=utf-8")
    report = run_probe(url)
    assert report.feeds == () and report.suggested["kind"] == "page"
    assert report.suggested["url"] == url and report.suggested["every"] == "6h"
    assert report.suggested["language"] == "mn" and report.suggested["country"] == "MN"
    tried = [urlsplit(c.url).path for c in report.feed_checks]
    assert tried == ["/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml"]

    result = invoke(probe, [url, "--selector", "article.story a", "--json"])
    data = json.loads(result.stdout)
    assert data["articles"] == [loopserver.url("/society/kazakh-language-school-opens-in-istanbul-district")]
    assert data["suggested"]["selector"] == "article.story a" and data["suggested"]["kind"] == "page"
    assert {r["reason"] for r in data["rejected"]} >= {"not selected"}
    assert data["counts"]["articles"] == 1
    assert data["counts"]["rejected_by_reason"]["not selected"] == sum(
        1 for r in data["rejected"] if r["reason"] == "not selected"
    )


# ---------------------------------------------------------------------------------------------- errors


def test_robots_txt_forbidding_the_path_is_reported(loopserver: LoopServer) -> None:
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /private/\n")
    url = loopserver.serve("/private/news", listing(), content_type="text/html")
    result = invoke(probe, [url])
    assert result.exit_code == 1
    assert f"error: blocked by robots.txt ({url})" in result.stderr
    # fetched once, to learn it is a page and not a feed (collect reads feeds whatever robots.txt says)
    assert len(loopserver.requests_for("/private/news")) == 1
    assert "article links taken" not in result.output  # nothing of the page is used


@pytest.mark.parametrize("robots", ["refusing", "unreachable"])
def test_a_feed_robots_txt_refuses_is_probed_and_added_as_collect_reads_it(
    loopserver: LoopServer, tmp_path: Path, robots: str
) -> None:
    """collect honours robots.txt for page sources only; probe and sources add refused such a feed."""
    if robots == "refusing":
        loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /\n")
    else:
        loopserver.serve("/robots.txt", "down", status=500)
    feed = serve_rss(loopserver, "/private/rss.xml")
    result = invoke(probe, [feed])
    assert result.exit_code == 0, result.output
    reason = "blocked by robots.txt" if robots == "refusing" else "blocked: robots.txt unreachable (HTTP 500)"
    assert f"note: {reason} for this address: collect reads it anyway, as a feed" in result.output
    assert "kind: rss" in result.output
    added = invoke(add, [feed, "--sources", str(tmp_path / "sources.yaml"), "--create"])
    assert added.exit_code == 0, added.output
    (spec,) = load_sourcefile(tmp_path / "sources.yaml").sources
    assert (spec.kind, spec.url) == ("rss", feed)


def test_an_address_that_cannot_be_reached_is_reported_as_such_not_as_robots_txt(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = invoke(probe, [f"http://127.0.0.1:{port}/feed.xml"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: could not connect") and "robots" not in result.stderr


def test_article_links_robots_txt_refuses_are_not_taken(loopserver: LoopServer) -> None:
    loopserver.serve("/robots.txt", "User-agent: *\nDisallow: /news/\n")
    url = loopserver.serve("/medee", listing(), content_type="text/html; charset=utf-8")
    report = run_probe(url)
    refused = loopserver.url("/news/184467")
    assert refused not in report.articles and len(report.articles) == 2
    assert (refused, "robots.txt") in report.rejected
    assert "1 article link disallowed by robots.txt: collect will not fetch them" in report.notes
    result = invoke(probe, [url])
    assert "article links taken by the automatic rule: 2" in result.output
    assert "note: 1 article link disallowed by robots.txt" in result.output
    assert loopserver.requests_for("/news/184467") == []  # asked about, never fetched


def test_http_404_is_reported(loopserver: LoopServer) -> None:
    url = loopserver.url("/gone")
    result = invoke(probe, [url])
    assert result.exit_code == 1 and result.stdout == ""
    assert f"error: HTTP 404 ({url})" in result.stderr


def test_every_failure_with_json_prints_one_object_with_its_error(loopserver: LoopServer) -> None:
    """--json prints one object, a failure included: a script reading stdout got nothing to parse."""
    gone = loopserver.url("/gone")
    image = loopserver.serve("/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, content_type="image/png")
    with socket.socket() as sock:  # a port nothing listens on: bound, never listening
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}/news/"
        cases = [(gone, "HTTP 404"), (image, "not a feed or a web page (image/png)"), (dead, "could not connect")]
        for url, reason in cases:
            result = invoke(probe, [url, "--json"])
            assert result.exit_code == 1, result.output
            data = json.loads(result.stdout)  # one object, nothing else on stdout
            assert data["url"] == url and data["kind"] is None and data["failed_url"] == url
            assert reason in data["error"], data
            assert result.stderr == f"error: {data['error']} ({url})\n"
    # a usage error keeps exit 2 and its message, and gives the object too
    result = CliRunner().invoke(probe, [gone, "--selector", "a[[", "--json"])
    assert result.exit_code == 2 and "not a valid CSS selector" in result.stderr
    data = json.loads(result.stdout)
    assert data["url"] == gone and data["error"].startswith("--selector: 'a[[' is not a valid CSS selector")


def test_timeout_is_reported(loopserver: LoopServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAWATCH_TIMEOUT", "0.3")
    url = loopserver.serve("/slow", "late", delay=2.0)
    result = invoke(probe, [url])
    assert result.exit_code == 1
    assert "error: timed out after 0.3 s" in result.stderr


def test_invalid_selector_is_a_usage_error(loopserver: LoopServer) -> None:
    result = CliRunner().invoke(probe, [loopserver.url("/"), "--selector", "a[["])
    assert result.exit_code == 2 and "not a valid CSS selector" in result.output
    assert loopserver.requests == []


# ---------------------------------------------------------------------------------------------- proxies


def test_probe_goes_through_the_operators_proxy(loopserver: LoopServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator behind a proxy: the site is only reachable by a name the proxy resolves."""
    loopserver.serve("/", listing(), content_type="text/html; charset=utf-8")
    with ForwardProxy({"news.example.kz": ("127.0.0.1", loopserver.port)}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        for name in ("NO_PROXY", "no_proxy"):  # the fixture's 127.0.0.1 only: the site's name is not excluded
            assert "example.kz" not in os.environ.get(name, "")
        result = invoke(probe, ["http://news.example.kz/", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "page" and len(data["articles"]) == 3
    assert data["articles"][0] == "http://news.example.kz/2025/11/05/diaspora-congress-opens-in-astana"
    assert data["suggested"]["id"] == "news-example-kz"
    assert data["suggested"]["country"] == "KZ"  # from the .kz domain
    assert "http://news.example.kz/robots.txt" in proxy.seen and "http://news.example.kz/" in proxy.seen
    (page_request,) = loopserver.requests_for("/")
    assert page_request.headers["host"] == "news.example.kz"
    assert page_request.headers["user-agent"].startswith("mediawatch/")


# ---------------------------------------------------------------------------------------------- suggestions


@pytest.mark.parametrize(
    ("host", "lang", "country"),
    [
        ("news.example.kz", None, "KZ"),
        ("www.example.com.tr", None, "TR"),
        ("example.mn", "kk", "MN"),
        ("example.cn", None, "CN"),
        ("example.ru", None, "RU"),
        ("example.uz", None, "UZ"),
        ("example.kg", None, "KG"),
        ("example.co.uk", None, "GB"),
        ("example.io", None, None),  # sold as a generic name
        ("example.com", "kk-KZ", "KZ"),
        ("example.com", "mn", "MN"),
        ("example.com", "en", None),
        ("127.0.0.1", None, None),
    ],
)
def test_country_guess(host: str, lang: str | None, country: str | None) -> None:
    assert country_guess(host, lang) == country


def test_slugify() -> None:
    assert slugify("Қазақ Үні — News!") == "qazaq-uni-news"
    assert slugify("Türk Kazak Haber") == "turk-kazak-haber"
    assert slugify("哈萨克") == ""


# ---------------------------------------------------------------------------------------------- sources add

SOURCES = """\
# mediawatch sources — edited by hand, keep the comments
version: 1

sources:
    # Kazakh outlets
    -   id: kazinform   # state agency
        name: "Kazinform"
        kind: rss
        url: https://www.inform.kz/rss/kaz.xml
        language: kk

    # - id: old-one
    #   kind: page
    #   url: https://old.example.kz/

# Defaults come last in this file
defaults:
  every: 2h    # most outlets
  tags: [diaspora]
"""


def removed_once(new: str, inserted: str) -> str:
    assert new.count(inserted) == 1
    return new.replace(inserted, "", 1)


def test_sources_add_appends_and_keeps_every_byte(loopserver: LoopServer, tmp_path: Path) -> None:
    feed = serve_rss(loopserver, "/rss.xml")
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    result = invoke(add, [feed, "--sources", str(path)])
    assert result.exit_code == 0, result.output
    new = path.read_text(encoding="utf-8")
    # the item goes at the end of the list: after its commented-out stanza, before the next top-level
    # key's comment; everything else is byte-for-byte the same
    head, sep, tail = SOURCES.partition("\n# Defaults")
    assert new.startswith(head) and new.endswith(sep + tail)
    inserted = new[len(head) : len(new) - len(sep + tail)]
    assert inserted.startswith("    - id: 127-0-0-1\n      name: Qazaq Times & Co\n      kind: rss\n")
    assert inserted in result.output
    sf = load_sourcefile(path)
    added = sf.get("127-0-0-1")
    assert added is not None and added.kind == "rss" and added.url == feed
    assert added.every.total_seconds() == 3600 and added.tags == ("diaspora",)
    assert added.name == "Qazaq Times & Co" and added.language == "kk"
    assert "id: 127-0-0-1" in result.output and "added source '127-0-0-1'" in result.output
    assert [s.id for s in sf.sources] == ["kazinform", "127-0-0-1"]

    # another feed of the same host: the id gets a numeric suffix
    again = invoke(add, [serve_rss(loopserver, "/other.xml"), "--sources", str(path)])
    assert again.exit_code == 0, again.output
    assert [s.id for s in load_sourcefile(path).sources] == ["kazinform", "127-0-0-1", "127-0-0-1-2"]
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_sources_add_at_end_of_file_with_dash_at_column_zero(loopserver: LoopServer, tmp_path: Path) -> None:
    original = "version: 1\n# outlets\nsources:\n- id: first\n  kind: rss\n  url: https://a.example.kz/rss\n# end\n"
    url = loopserver.serve("/", listing(), content_type="text/html; charset=utf-8")
    path = tmp_path / "s.yaml"
    path.write_text(original, encoding="utf-8")
    result = invoke(add, [url, "--sources", str(path), "--id", "loop-page"])
    assert result.exit_code == 0, result.output
    new = path.read_text(encoding="utf-8")
    assert new.startswith(original)  # appended after the trailing comment, nothing rewritten
    assert new[len(original) :].startswith("- id: loop-page\n")
    (_, spec) = load_sourcefile(path).sources
    assert (spec.id, spec.kind, spec.url, spec.country) == ("loop-page", "page", url, "KZ")


def test_sources_add_refuses_explicit_duplicate_id(loopserver: LoopServer, tmp_path: Path) -> None:
    feed = serve_rss(loopserver, "/rss.xml")
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    before = path.read_bytes()
    result = invoke(add, [feed, "--sources", str(path), "--id", "kazinform"])
    assert result.exit_code == 2
    assert f"{path}:" in result.stderr and "duplicate id 'kazinform'" in result.stderr
    line_col = result.stderr.split(f"{path}:", 1)[1].split(":")[:2]
    assert all(part.isdigit() for part in line_col)  # FILE:LINE:COL
    assert "nothing written" in result.stderr
    assert path.read_bytes() == before


def test_sources_add_refuses_an_invalid_stanza(loopserver: LoopServer, tmp_path: Path) -> None:
    """A playlist id the schema does not accept (not PL…/UU…): the stanza would not validate."""
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    before = path.read_bytes()
    loopserver.serve("/feeds/videos.xml", YOUTUBE_FEED, content_type="application/atom+xml")
    runner = CliRunner(env={"MEDIAWATCH_YOUTUBE_BASE": loopserver.base_url})
    result = runner.invoke(add, ["https://www.youtube.com/playlist?list=XY0123456789ab", "--sources", str(path)],
                           catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert "playlist_id" in result.stderr and "not a YouTube playlist id" in result.stderr
    assert path.read_bytes() == before


def test_sources_add_refuses_a_file_that_is_already_broken(loopserver: LoopServer, tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("version: 1\nsources:\n  - id: x\n    kind: nope\n", encoding="utf-8")
    result = invoke(add, [serve_rss(loopserver, "/rss.xml"), "--sources", str(path)])
    assert result.exit_code == 2 and f"{path}:4:" in result.stderr
    assert loopserver.requests == []  # nothing fetched for a file that cannot be edited


def test_sources_add_creates_a_missing_file_only_when_asked(loopserver: LoopServer, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """`--sources typo.yaml` used to start a new file beside the real one without a word."""
    url = serve_rss(loopserver, "/rss.xml")
    path = tmp_path / "new.yaml"
    result = invoke(add, [url, "--sources", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"{path}: file not found; nothing written (give --create to start a new sources file "
                             f"there)\n")
    assert not path.exists() and loopserver.requests == []  # refused before anything is fetched
    monkeypatch.chdir(tmp_path)  # the default file (sources.yaml) is refused the same way
    monkeypatch.delenv("MEDIAWATCH_SOURCES", raising=False)
    result = invoke(add, [url])
    assert result.exit_code == 2 and result.stderr.startswith("sources.yaml: file not found;"), result.output
    result = invoke(add, [url, "--sources", str(path), "--create"])
    assert result.exit_code == 0, result.output
    assert [s.id for s in load_sourcefile(path).sources] == ["127-0-0-1"]
    missing = tmp_path / "nofolder" / "sources.yaml"
    result = invoke(add, [url, "--sources", str(missing)])
    assert result.exit_code == 2 and f"(nor does its folder {missing.parent})" in result.stderr


def test_sources_add_refuses_a_selector_for_a_feed(loopserver: LoopServer, tmp_path: Path) -> None:
    """The selector was dropped from the stanza without a word; probe says it was not used."""
    path = tmp_path / "sources.yaml"
    path.write_text("version: 1\nsources:\n", encoding="utf-8")
    url = serve_rss(loopserver, "/rss.xml")
    result = invoke(add, [url, "--selector", "nav a", "--sources", str(path)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"--selector: {url} is a feed (rss); a selector picks article links on a "
                                    f"listing page"), result.stderr
    assert result.stderr.rstrip().endswith(f"nothing written to {path}")
    assert path.read_text(encoding="utf-8") == "version: 1\nsources:\n"
    shown = invoke(probe, [url, "--selector", "nav a", "--json"])
    assert shown.exit_code == 0 and "selector" not in json.loads(shown.stdout)["suggested"]
    assert any(n.startswith("--selector 'nav a' not used: the address is a feed")
               for n in json.loads(shown.stdout)["notes"])


@pytest.mark.parametrize(
    "original",
    [
        "version: 1\nsources:\n",
        "version: 1\nsources:\n  # - id: commented\n  #   kind: rss\n",
        "version: 1\nsources: []\n",
        "version: 1\n",
        "version: 1\r\nsources:\r\n  - id: aa\r\n    kind: rss\r\n    url: https://a.example/\r\n",
    ],
)
def test_add_stanza_layouts(original: str) -> None:
    stanza = {"id": "new-one", "kind": "rss", "url": "https://n.example.kz/rss", "every": "1h"}
    addition = add_stanza(original, stanza, Path("s.yaml"))
    parsed = parse_sourcefile(addition.text, Path("s.yaml"))
    assert parsed.sources[-1].id == "new-one" and parsed.sources[-1].url == stanza["url"]
    if "sources:" not in original:
        assert addition.text == original + "sources:\n" + addition.item_yaml
    elif "[]" not in original:  # a flow list is re-emitted as a block list; any other layout is kept
        assert removed_once(addition.text.replace("\r\n", "\n"), addition.item_yaml) == original.replace("\r\n", "\n")
        assert addition.text.count("\r\n") == (addition.text.count("\n") if "\r\n" in original else 0)


# ---------------------------------------------------------------------------------------------- odd inputs


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "image/png"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf"),
        (b"PK\x03\x04" + bytes(range(256)) * 4, "application/octet-stream"),
        (b"just some text\nand more", "text/plain"),
    ],
    ids=["png", "pdf", "zip", "text"],
)
def test_binary_or_plain_text_is_neither_feed_nor_page(loopserver: LoopServer, body: bytes, content_type: str) -> None:
    url = loopserver.serve("/file", body, content_type=content_type)
    result = invoke(probe, [url])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"error: not a feed or a web page ({content_type}) ({url})\n"


def test_broken_xml_keeps_the_parsers_reason(loopserver: LoopServer) -> None:
    url = loopserver.serve("/broken.xml", "<?xml version='1.0'?>\n<rss><channel><title>x</channel>", content_type="application/xml")
    result = invoke(probe, [url])
    assert result.exit_code == 1 and "XML error at line 2" in result.stderr


@pytest.mark.parametrize("path", ["/watch?v=abcdefghijk", "/results?search_query=kazakh", "/"])
def test_youtube_address_that_is_not_a_channel_is_refused_without_fetching(loopserver: LoopServer, path: str) -> None:
    runner = CliRunner(env={"MEDIAWATCH_YOUTUBE_BASE": loopserver.base_url})
    result = runner.invoke(probe, [loopserver.base_url + path], catch_exceptions=False)
    assert result.exit_code == 1
    assert "error: a YouTube address that is not a channel, handle or playlist" in result.stderr
    assert loopserver.requests == []  # not treated as a news page of youtube.com
    # a dead loopback proxy: should anything try to fetch, it fails here, never on the network
    offline = CliRunner(env={"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"})
    video = offline.invoke(probe, ["https://youtu.be/abcdefghijk"], catch_exceptions=False)
    assert video.exit_code == 1 and "error: a YouTube video link" in video.stderr


def test_sources_add_writes_through_a_symlink(loopserver: LoopServer, tmp_path: Path) -> None:
    """Operators keep sources.yaml in a config repository and link it: the link stays, the target changes."""
    (tmp_path / "repo").mkdir()
    target = tmp_path / "repo" / "sources.yaml"
    target.write_text(SOURCES, encoding="utf-8")
    link = tmp_path / "sources.yaml"
    link.symlink_to(target)
    result = invoke(add, [serve_rss(loopserver, "/rss.xml"), "--sources", str(link)])
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and link.resolve() == target
    assert [s.id for s in load_sourcefile(target).sources] == ["kazinform", "127-0-0-1"]
    assert sorted(p.name for p in (tmp_path / "repo").iterdir()) == ["sources.yaml"]


def test_sources_add_reports_a_file_that_is_not_utf8_with_its_line(loopserver: LoopServer, tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_bytes("version: 1\n# Caf\xe9\nsources: []\n".encode("latin-1"))
    result = invoke(add, [serve_rss(loopserver, "/rss.xml"), "--sources", str(path)])
    assert result.exit_code == 2
    assert f"{path}:2:6: not UTF-8 text (byte 0xe9)" in result.stderr
    assert loopserver.requests == []


def test_a_feed_dated_without_offsets_gets_its_countrys_clock_in_the_stanza(loopserver: LoopServer) -> None:
    naive = RSS.replace(" +0000", "").replace("<language>kk</language>", "<language>kk-KZ</language>")
    url = loopserver.serve("/naive.xml", naive.format(site=loopserver.base_url), content_type="application/rss+xml")
    report = run_probe(url)
    assert report.suggested["country"] == "KZ" and report.suggested["timezone"] == "Asia/Almaty"
    assert report.feed is not None and report.feed.unzoned == 3
    assert "feed warning: 3 entries dated without a time zone, read as UTC (set the source's timezone)" in (
        report.notes)
    zoned = serve_rss(loopserver, "/zoned.xml")  # offsets given: nothing to set
    assert "timezone" not in run_probe(zoned).suggested
    pasted = parse_sourcefile("version: 1\nsources:\n" + invoke(probe, [url]).output.split(
        "suggested sources.yaml stanza (under `sources:`):\n", 1)[1], Path("pasted.yaml"))
    assert pasted.sources[0].timezone == "Asia/Almaty"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1", "invalid URL (Invalid IPv6 URL)"),
        ("http://[zz]/x", "invalid URL ('zz' does not appear to be an IPv4 or IPv6 address)"),
        ("http://127.0.0.1:99999/", "invalid URL (Port out of range 0-65535)"),  # was: "a private address"
    ],
)
def test_a_malformed_url_is_one_error_line_not_a_traceback(url: str, reason: str, tmp_path: Path) -> None:
    result = invoke(probe, [url])
    assert (result.exit_code, result.stderr) == (1, f"error: {reason} ({url})\n")
    data = json.loads(invoke(probe, [url, "--json"]).stdout)
    assert (data["kind"], data["error"]) == (None, reason)
    target = tmp_path / "sources.yaml"
    added = invoke(add, [url, "--sources", str(target), "--create"])
    assert added.exit_code == 1 and added.stderr == f"error: {reason} ({url})\n" and not target.exists()


@pytest.mark.parametrize("selector", [["--selector", "div.none a"], []])
def test_sources_add_writes_no_page_source_without_article_links(
    loopserver: LoopServer, tmp_path: Path, selector: list[str]
) -> None:
    """A selector that matches nothing was written with exit 0, and the first collect then failed."""
    url = loopserver.serve("/empty", "<html><body><a href='/'>Home</a></body></html>" if not selector else listing(),
                           content_type="text/html; charset=utf-8")
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES, encoding="utf-8")
    result = invoke(add, [url, *selector, "--sources", str(path)])
    how = "with selector 'div.none a'" if selector else "by the automatic rule"
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: no article links found {how} on {url}: a page source needs")
    assert result.stderr.endswith(f"nothing written to {path}\n")
    assert path.read_text(encoding="utf-8") == SOURCES
