"""The offline demo's sample website (mediawatch.demo): served on 127.0.0.1, valid sources.yaml, feeds that
parse, conditional GET, dates in the intended ISO weeks, a listing page whose article links the automatic
rule finds, and text in several scripts that survives the trip."""

from __future__ import annotations

import calendar
import dataclasses
import html
import http.client
import json
import re
import socket
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import feedparser
import pytest
from lxml import html as lxml_html

from mediawatch.collect.feeds import parse_feed
from mediawatch.collect.links import extract_links
from mediawatch.collect.youtube import parse_youtube
from mediawatch.demo import DemoItem, DemoSite, DemoSource, place, render
from mediawatch.models import SourceKind
from mediawatch.sourcefile import parse_sourcefile

NOW = datetime(2025, 3, 26, 10, 0, tzinfo=UTC)  # a Wednesday in ISO week 2025-W13
EXPECTED_COUNTS = {
    "demo-steppe-herald": 8,
    "demo-vesti-priirtyshya": 9,
    "demo-dala-habary": 9,
    "demo-ile-tolqyny": 5,
    "demo-silu-zixun": 5,
    "demo-avrasya-haber": 6,
    "demo-qazaq-diaspora-europe": 5,
}


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite(NOW) as demo:
        yield demo


def fetch(
    url: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    """One request with http.client (no proxy settings apply); only loopback URLs are allowed here."""
    parts = urlsplit(url)
    assert parts.hostname == "127.0.0.1", url
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request(method, parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers or {})
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def source(site: DemoSite, source_id: str) -> DemoSource:
    return next(s for s in site.sources if s.id == source_id)


def feed_sources(site: DemoSite) -> list[DemoSource]:
    return [s for s in site.sources if s.format != "page"]


def entry_time(entry: feedparser.FeedParserDict) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(entry.published_parsed), UTC)


def served_times(demo: DemoSite) -> dict[tuple[str, str], datetime]:
    """(source id, item key) -> the publication time the site serves for it: feed dates for feeds, the
    article page's article:published_time (checked equal to its JSON-LD datePublished) for the page source."""
    found: dict[tuple[str, str], datetime] = {}
    for src in demo.sources:
        if src.format == "page":
            for item in src.items:
                _, _, body = fetch(item.url)
                tree = lxml_html.fromstring(body)
                meta = tree.xpath('//meta[@property="article:published_time"]/@content')[0]
                ld = json.loads(tree.xpath('//script[@type="application/ld+json"]')[0].text)
                assert ld["datePublished"] == meta
                found[(src.id, item.key)] = datetime.fromisoformat(meta).astimezone(UTC)
            continue
        status, headers, body = fetch(src.url)
        assert status == 200
        parsed = feedparser.parse(body, response_headers=headers)
        by_url = {item.url: item.key for item in src.items}
        for entry in parsed.entries:
            key = entry.yt_videoid if src.format == "youtube" else by_url[entry.link]
            found[(src.id, key)] = entry_time(entry)
    return found


# ---------------------------------------------------------------------------------------------- sources.yaml


def test_sources_yaml_lists_every_source_and_validates(site: DemoSite) -> None:
    text = site.sources_yaml()
    parsed = parse_sourcefile(text, Path("demo.yaml"))
    assert [s.id for s in parsed.sources] == list(EXPECTED_COUNTS)
    kinds: dict[str, SourceKind] = {s.id: s.kind for s in parsed.sources}
    assert kinds["demo-dala-habary"] is SourceKind.PAGE
    assert kinds["demo-qazaq-diaspora-europe"] is SourceKind.YOUTUBE
    assert {k for k in kinds.values()} == {SourceKind.RSS, SourceKind.PAGE, SourceKind.YOUTUBE}
    for spec in parsed.sources:
        assert spec.every == timedelta(minutes=30)
        assert spec.country and spec.language
        assert spec.locator.startswith(site.base_url + "/"), spec.locator
        status, _, _ = fetch(spec.locator)
        assert status == 200, spec.locator
    youtube = parsed.get("demo-qazaq-diaspora-europe")
    assert youtube is not None and youtube.channel_id is not None
    assert re.fullmatch(r"UC[A-Za-z0-9_-]{22}", youtube.channel_id)
    assert youtube.feed_url == f"{site.base_url}/youtube/feeds/videos.xml?channel_id={youtube.channel_id}"
    assert {s.language for s in parsed.sources} >= {"en", "ru", "kk", "kk-Arab", "zh", "tr"}


# ---------------------------------------------------------------------------------------------- feeds


@pytest.mark.parametrize("source_id", [k for k in EXPECTED_COUNTS if k != "demo-dala-habary"])
def test_feed_parses_cleanly_with_every_item(site: DemoSite, source_id: str) -> None:
    src = source(site, source_id)
    status, headers, body = fetch(src.url)
    assert status == 200
    assert "charset=" in headers["content-type"]
    parsed = feedparser.parse(body, response_headers=headers)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == EXPECTED_COUNTS[source_id]
    assert [e.title for e in parsed.entries] == [i.title for i in src.items]
    # the project's own parsers read it the same way
    if src.format == "youtube":
        ours = parse_youtube(body, source_id=src.id, url=src.url, headers=headers)
        assert ours.channel_id == src.channel_id
    else:
        ours = parse_feed(body, source_id=src.id, url=src.url, headers=headers)
    assert ours.warning is None
    assert len(ours.entries) == EXPECTED_COUNTS[source_id]
    assert all(e.published is not None for e in ours.entries)


def test_youtube_feed_has_video_metadata(site: DemoSite) -> None:
    src = source(site, "demo-qazaq-diaspora-europe")
    status, headers, body = fetch(src.url)
    assert status == 200 and headers["content-type"].startswith("text/xml")
    raw = feedparser.parse(body, response_headers=headers)
    assert src.channel_id is not None
    assert raw.feed.yt_channelid == src.channel_id.removeprefix("UC")  # the 2024+ feed-level form
    for entry in raw.entries:
        assert re.fullmatch(r"[A-Za-z0-9_-]{11}", entry.yt_videoid)
        assert entry.summary.strip()  # feedparser's name for media:description
    videos = parse_youtube(body, source_id=src.id, url=src.url, headers=headers).entries
    assert sum(bool(v.media["shorts"]) for v in videos) == 1
    for video, item in zip(videos, src.items, strict=True):
        assert video.media["video_id"] == item.key
        assert video.media["views"] == item.views and video.media["likes"] == item.likes
        thumb = str(video.media["thumbnail"])
        status, thumb_headers, png = fetch(thumb)
        assert status == 200 and thumb_headers["content-type"] == "image/png"
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    wrong = src.url.replace(src.channel_id, "UC" + "x" * 22)
    assert fetch(wrong)[0] == 404


def test_every_feed_link_is_served(site: DemoSite) -> None:
    for item in site.items:
        if item.path is None:
            assert item.url.startswith("https://www.youtube.com/")  # never fetched: videos live on YouTube
            continue
        status, headers, body = fetch(item.url)
        assert status == 200, item.url
        assert headers["content-type"] == "text/html; charset=utf-8"
        assert html.escape(item.title).encode() in body


# ---------------------------------------------------------------------------------------------- HTTP


def test_conditional_get_answers_304(site: DemoSite) -> None:
    page_item = source(site, "demo-dala-habary").items[0]
    for url in [s.url for s in site.sources] + [page_item.url, site.base_url + "/robots.txt"]:
        status, headers, body = fetch(url)
        assert status == 200 and body
        etag, last_modified = headers["etag"], headers["last-modified"]
        status, headers_304, body_304 = fetch(url, {"If-None-Match": etag})
        assert (status, body_304) == (304, b""), url
        assert headers_304["etag"] == etag
        assert fetch(url, {"If-None-Match": f'"other", W/{etag}'})[0] == 304
        assert fetch(url, {"If-Modified-Since": last_modified})[0] == 304
        # If-None-Match decides when both are sent; an older date means "changed"
        assert fetch(url, {"If-None-Match": '"stale"', "If-Modified-Since": last_modified})[0] == 200
        assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200
        status, head_headers, head_body = fetch(url, method="HEAD")
        assert (status, head_body) == (200, b"")
        assert head_headers["content-length"] == headers["content-length"]
    assert any(hit.status == 304 for hit in site.hits())


def test_unknown_paths_are_404_and_robots_keeps_out_of_private(site: DemoSite) -> None:
    assert fetch(site.base_url + "/no/such/page")[0] == 404
    status, headers, body = fetch(site.base_url + "/robots.txt")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    robots = RobotFileParser()
    robots.parse(body.decode().splitlines())
    assert not robots.can_fetch("mediawatch/0.1", site.base_url + "/private/redaktsiya/")
    for item in site.items:
        assert robots.can_fetch("mediawatch/0.1", item.url)
    for src in site.sources:
        assert robots.can_fetch("mediawatch/0.1", src.url)


def test_listing_page_article_links_are_found_and_served(site: DemoSite) -> None:
    src = source(site, "demo-dala-habary")
    status, headers, body = fetch(src.url)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    report = extract_links(body.decode("utf-8"), src.url)  # the automatic rule: no selector
    assert list(report.articles) == [item.url for item in src.items]
    reasons = defaultdict(list)
    for url, reason in report.rejected:
        reasons[reason].append(url)
    assert {"section", "tag", "login", "social", "navigation"} <= set(reasons), reasons
    for url in report.articles:
        assert fetch(url)[0] == 200


def test_article_pages_carry_metadata_the_extractor_reads(site: DemoSite) -> None:
    from mediawatch.collect.pages import extract_article

    src = source(site, "demo-dala-habary")
    for item in src.items[:3]:
        _, _, body = fetch(item.url)
        entry = extract_article(body, url=item.url, source_id=src.id)
        assert entry.title == item.title
        assert entry.published == item.published
        assert entry.language == "kk"
        assert entry.author == item.author
        assert entry.text is not None and item.paragraphs[-1] in entry.text


def test_close_stops_the_server() -> None:
    demo = DemoSite(NOW)
    port = urlsplit(demo.base_url).port
    assert urlsplit(demo.base_url).hostname == "127.0.0.1"
    assert fetch(demo.base_url + "/")[0] == 200
    demo.close()
    demo.close()  # twice is fine
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port or 0), timeout=1):
        pass


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        DemoSite(datetime(2025, 3, 26, 10, 0))


# ---------------------------------------------------------------------------------------------- dates


def iso_week(moment: datetime) -> tuple[int, int]:
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return year, week


@pytest.mark.parametrize(
    "now",
    [
        datetime(2025, 3, 24, 0, 30, tzinfo=UTC),  # Monday 00:30: the current week is half an hour old
        datetime(2025, 3, 24, 0, 0, tzinfo=UTC),  # the very start of a week
        datetime(2025, 3, 30, 21, 15, tzinfo=UTC),  # Sunday evening
        datetime(2026, 1, 1, 12, 0, tzinfo=UTC),  # ISO 2026-W01; last complete week is 2025-W52
        # Monday 03:00 in Almaty is still Sunday in UTC: weeks are UTC weeks
        datetime(2025, 6, 2, 3, 0, tzinfo=timezone(timedelta(hours=6))),
    ],
)
def test_served_dates_land_in_the_intended_weeks(now: datetime) -> None:
    weeks = {
        "current": iso_week(now),
        "last": iso_week(now - timedelta(days=7)),
        "previous": iso_week(now - timedelta(days=14)),
    }
    with DemoSite(now) as demo:
        served = served_times(demo)
        items = {(i.source_id, i.key): i for i in demo.items}
    assert served.keys() == items.keys()
    for key, moment in served.items():
        item = items[key]
        assert moment == item.published, key
        assert iso_week(moment) == weeks[item.week], (key, item.week, moment)
        assert moment <= now, (key, moment)
    in_last = sum(1 for key in served if items[key].week == "last")
    assert in_last / len(served) >= 0.7
    assert {i.week for i in items.values()} == {"previous", "last", "current"}


def test_place_spreads_current_week_items_over_the_elapsed_part() -> None:
    now = datetime(2025, 3, 24, 0, 30, tzinfo=UTC)
    early, late = place(now, "current", 0, "00:00"), place(now, "current", 6, "23:59")
    assert datetime(2025, 3, 24, tzinfo=UTC) == early <= late <= now
    assert place(now, "last", 6, "23:59") == datetime(2025, 3, 23, 23, 59, tzinfo=UTC)
    assert place(now, "previous", 0, "00:00") == datetime(2025, 3, 10, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------- content


def test_text_in_several_scripts_survives(site: DemoSite) -> None:
    # Kazakh in the Arabic script (Atom)
    ile = source(site, "demo-ile-tolqyny")
    _, headers, body = fetch(ile.url)
    atom = feedparser.parse(body, response_headers=headers)
    assert [e.title for e in atom.entries] == [i.title for i in ile.items]
    arabic = "".join(e.title + e.summary for e in atom.entries)
    assert {"\u0674", "\u06ad", "\u06c7", "\u06cb", "\u0649"} <= set(arabic)  # ٴ ڭ ۇ ۋ ى
    # Chinese
    silu = source(site, "demo-silu-zixun")
    _, headers, body = fetch(silu.url)
    chinese = feedparser.parse(body, response_headers=headers)
    assert any("伊犁哈萨克自治州" in e.title for e in chinese.entries)
    # Russian served as windows-1251; Kazakh letters it lacks travel as character references
    ru = source(site, "demo-vesti-priirtyshya")
    _, headers, body = fetch(ru.url)
    assert headers["content-type"].endswith("charset=windows-1251")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    russian = feedparser.parse(body, response_headers=headers)
    assert not russian.bozo
    assert any("«Туған жер»" in e.summary for e in russian.entries)
    # Kazakh Cyrillic on the news site: every Kazakh-specific letter comes back from the pages
    dala = source(site, "demo-dala-habary")
    page_text = ""
    for item in dala.items:
        _, _, page = fetch(item.url)
        page_text += lxml_html.fromstring(page).text_content()
    assert set("әғқңөұүһі") <= set(page_text)
    # Kazakh Latin on the video channel
    yt = source(site, "demo-qazaq-diaspora-europe")
    _, headers, body = fetch(yt.url)
    latin = "".join(e.title + e.summary for e in feedparser.parse(body, response_headers=headers).entries)
    assert set("ñğūıä") <= set(latin)


def test_rendering_escapes_hostile_text(site: DemoSite) -> None:
    hostile = "Fish & chips <script>alert(\"x\")</script> ]]> “q” 'a'"
    herald = source(site, "demo-steppe-herald")
    item = dataclasses.replace(
        herald.items[0], title=hostile, paragraphs=("a < b & c", "</script><b>x</b>"), author="A & <B>"
    )
    one = dataclasses.replace(herald, items=(item,))
    for render_feed in (render.rss_feed, render.atom_feed):
        parsed = feedparser.parse(render_feed(one, site.base_url, NOW))
        assert not parsed.bozo
        assert parsed.entries[0].title == hostile
        assert parsed.entries[0].author == "A & <B>"
    page = render.article_page(one, item)
    tree = lxml_html.fromstring(page)
    assert tree.xpath("//h1")[0].text_content() == hostile
    scripts = tree.xpath("//script")
    assert [s.get("type") for s in scripts] == ["application/ld+json"]
    assert json.loads(scripts[0].text)["headline"] == hostile
    assert b"<b>x</b>" not in page and b"<script>alert" not in page
    listing = lxml_html.fromstring(render.listing_page(one))
    assert not listing.xpath("//script") and not listing.xpath("//b")


def test_content_mix_has_multi_source_stories(site: DemoSite) -> None:
    items: list[DemoItem] = list(site.items)
    assert {s.id: len(s.items) for s in site.sources} == EXPECTED_COUNTS
    share = sum(i.relevant for i in items) / len(items)
    assert 0.55 <= share <= 0.7, share
    languages = {s.id: s.language for s in site.sources}
    events: dict[str, list[DemoItem]] = defaultdict(list)
    for item in items:
        if item.event:
            events[item.event].append(item)
    multi = {
        name: group
        for name, group in events.items()
        if len({i.source_id for i in group}) >= 2 and len({languages[i.source_id] for i in group}) >= 2
    }
    assert len(multi) >= 6, sorted(multi)
    assert len({i.source_id for i in events["qandas-quota"]}) >= 4
    assert {languages[i.source_id] for i in events["nauryz-london"]} >= {"en", "kk", "ru"}
    for name, group in events.items():
        assert len({i.relevant for i in group}) == 1, name  # one event, one label
        assert {i.week for i in group} == {"last"}, name
        span = max(i.published for i in group) - min(i.published for i in group)
        assert span <= timedelta(hours=48), name
    assert {s.format for s in site.sources} == {"rss", "atom", "youtube", "page"}
