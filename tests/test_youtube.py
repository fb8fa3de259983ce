"""collect/youtube.py: feed URLs, channel ids, handle pages, and the real channel feeds in shared/eval."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mediawatch.collect.youtube import (
    channel_id_from_html,
    channel_id_from_url,
    feed_url,
    normalize_channel_id,
    parse_youtube,
    video_id_from_url,
)
from mediawatch.errors import ParseError
from mediawatch.models import ItemKind
from mediawatch.normalize import Item, normalize

DATA = Path(__file__).parent / "data" / "feeds"
YT = "eval/feeds/youtube"
NS = {
    "a": "http://www.w3.org/2005/Atom",
    "yt": "http://www.youtube.com/xml/schemas/2015",
    "media": "http://search.yahoo.com/mrss/",
}
FETCHED = datetime(2026, 1, 27, tzinfo=UTC)
KURZGESAGT = "UCsXVk37bltHxD1rDPwtNM8Q"


# ------------------------------------------------------------------------------------------ feed_url


def test_feed_url_for_channel_and_playlist() -> None:
    assert feed_url(KURZGESAGT) == f"https://www.youtube.com/feeds/videos.xml?channel_id={KURZGESAGT}"
    assert feed_url(channel_id="sXVk37bltHxD1rDPwtNM8Q") == feed_url(KURZGESAGT)  # the prefix-less form
    assert feed_url(playlist_id="PLFs4vir_WsTyXrrpFstD64Qj95vpy-yo1") == (
        "https://www.youtube.com/feeds/videos.xml?playlist_id=PLFs4vir_WsTyXrrpFstD64Qj95vpy-yo1"
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"channel_id": KURZGESAGT, "playlist_id": "PL1"},
        {"channel_id": "@kurzgesagt"},
        {"channel_id": "UCshort"},
        {"playlist_id": "PL&x=1"},
    ],
)
def test_feed_url_rejects_bad_arguments(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        feed_url(**kwargs)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (KURZGESAGT, KURZGESAGT),
        ("sXVk37bltHxD1rDPwtNM8Q", KURZGESAGT),  # 2024+ feed-level form
        ("yt:channel:sXVk37bltHxD1rDPwtNM8Q", KURZGESAGT),
        (" UC7_gcs09iThXybpVgjHZ_7g ", "UC7_gcs09iThXybpVgjHZ_7g"),
        ("UCsXVk37bltHxD1rDPwtNM8", None),
        ("@kurzgesagt", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_channel_id(raw: str | None, expected: str | None) -> None:
    assert normalize_channel_id(raw) == expected


@pytest.mark.parametrize(
    ("url", "video_id"),
    [
        ("https://www.youtube.com/watch?v=zg40FHOAqC0&t=10", "zg40FHOAqC0"),
        ("https://www.youtube.com/shorts/zg40FHOAqC0", "zg40FHOAqC0"),
        ("https://youtu.be/W_S7iKZZdHw?si=abc", "W_S7iKZZdHw"),
        ("https://m.youtube.com/live/W_S7iKZZdHw", "W_S7iKZZdHw"),
        ("https://www.youtube.com/v/0A1ouV7iD8o?version=3", "0A1ouV7iD8o"),
        ("https://www.youtube.com/watch?v=tooshort", None),
        ("https://vimeo.com/1013595996", None),
        ("", None),
    ],
)
def test_video_id_from_url(url: str, video_id: str | None) -> None:
    assert video_id_from_url(url) == video_id


def test_channel_id_from_url() -> None:
    assert channel_id_from_url(f"https://www.youtube.com/channel/{KURZGESAGT}") == KURZGESAGT
    assert (
        channel_id_from_url(f"http://www.youtube.com/feeds/videos.xml?channel_id={KURZGESAGT}") == KURZGESAGT
    )
    assert channel_id_from_url("http://www.youtube.com/feeds/videos.xml?user=Kurzgesagt") is None


# ------------------------------------------------------------------------------------- handle pages

PAGE_CHANNEL = "UCq7RZ2cW1dU3pXo9KfL4m8A"
FEATURED_CHANNEL = "UCf3kQmZb8rV5tY1nW2xP0sA"  # another channel named in the page's JSON before externalId


def test_channel_id_from_handle_page() -> None:
    page = (DATA / "youtube-handle-page.html").read_text(encoding="utf-8")
    assert channel_id_from_html(page) == PAGE_CHANNEL


def test_channel_id_from_html_fallbacks() -> None:
    page = (DATA / "youtube-handle-page.html").read_text(encoding="utf-8")
    head, _, body = page.partition("</head>")
    no_meta = head.replace('itemprop="channelId"', 'itemprop="x"')
    assert channel_id_from_html(no_meta) == PAGE_CHANNEL  # link rel=canonical / og:url
    only_og = f'<meta content="https://www.youtube.com/channel/{PAGE_CHANNEL}" property="og:url">'
    assert channel_id_from_html(only_og) == PAGE_CHANNEL  # attributes in any order
    assert channel_id_from_html(body) == PAGE_CHANNEL  # JSON: externalId wins over an earlier channelId
    assert channel_id_from_html(f'{{"channelId":"{FEATURED_CHANNEL}"}}') == FEATURED_CHANNEL
    assert channel_id_from_html("<html><head><title>404 Not Found</title></head></html>") is None
    assert channel_id_from_html('<meta itemprop="channelId" content="UCnot-an-id">') is None


# -------------------------------------------------------------------------------------- real feeds


def _expected(shared: Path) -> dict[str, Any]:
    return json.loads((shared / YT / "expected.json").read_text())


def _headers(shared: Path, name: str) -> dict[str, str]:
    meta = shared / YT / name.replace(".xml", ".response.json")
    if not meta.exists():
        return {"Content-Type": "text/xml; charset=UTF-8"}
    return {k: ", ".join(v) for k, v in json.loads(meta.read_text())["response_headers"].items()}


def _facts_from_xml(path: Path) -> list[dict[str, Any]]:
    """Per-entry facts read independently with ElementTree."""
    facts = []
    for entry in ET.parse(path).getroot().findall("a:entry", NS):
        stats = entry.find("media:group/media:community/media:statistics", NS)
        facts.append(
            {
                "video_id": entry.findtext("yt:videoId", namespaces=NS),
                "alternate": entry.find("a:link[@rel='alternate']", NS).get("href"),  # type: ignore[union-attr]
                "published": datetime.fromisoformat(entry.findtext("a:published", namespaces=NS) or ""),
                "views": int(stats.get("views", "0")) if stats is not None else None,
            }
        )
    return facts


YOUTUBE_FEEDS = [
    "newpipe_kurzgesagt_2026-01-26.xml",
    "newpipe_kurzgesagt_2021-04-08.xml",
    "prof18-rssparser_kotlin-by-jetbrains.xml",
    "capyreader_digital-foundry.xml",
    "feed-rs_pbs-space-time.xml",
]


@pytest.mark.parametrize("name", YOUTUBE_FEEDS)
def test_real_youtube_feed(shared_dir: Path, name: str) -> None:
    expected = _expected(shared_dir)[name]
    first_expected = expected["first_entry"]
    url = "https://www.youtube.com/feeds/videos.xml?user=someone"  # carries no channel id of its own
    feed = parse_youtube(
        (shared_dir / YT / name).read_bytes(), source_id="yt", url=url, headers=_headers(shared_dir, name)
    )

    assert feed.channel_id == first_expected["channelId"]  # always UC…, whatever the feed-level form
    assert feed.title == expected["feed_title"] and feed.warning is None
    assert len(feed.entries) == expected["entry_count"]
    assert [e.media["video_id"] for e in feed.entries] == expected["all_videoIds"]

    first = feed.entries[0]
    assert first.kind is ItemKind.VIDEO
    assert first.url == f"https://www.youtube.com/watch?v={first_expected['videoId']}"
    assert first.guid == f"yt:video:{first_expected['videoId']}"
    assert first.title == first_expected["title"]
    assert first.published == datetime.fromisoformat(first_expected["published"])
    assert first.media["thumbnail"] == first_expected["thumbnail"]
    assert (first.media["views"], first.media["likes"]) == (
        first_expected["views"],
        first_expected["starRating_count"],
    )
    assert first.media["channel_id"] == first_expected["channelId"]

    for ours, theirs in zip(feed.entries, _facts_from_xml(shared_dir / YT / name), strict=True):
        assert ours.media["video_id"] == theirs["video_id"]
        assert ours.media["shorts"] == ("/shorts/" in theirs["alternate"])
        assert ours.published == theirs["published"]
        assert ours.media["views"] == theirs["views"]
        assert ours.url == f"https://www.youtube.com/watch?v={theirs['video_id']}"

    item = normalize(first, fetched=FETCHED)
    assert isinstance(item, Item) and item.kind is ItemKind.VIDEO and item.url == first.url
    assert item.summary and "<" not in item.summary and not item.published_estimated


def test_kurzgesagt_2026_shorts_and_format_drift(shared_dir: Path) -> None:
    new = parse_youtube(
        (shared_dir / YT / "newpipe_kurzgesagt_2026-01-26.xml").read_bytes(),
        source_id="k",
        url="https://www.youtube.com/feeds/videos.xml?user=Kurzgesagt",
    )
    old = parse_youtube(
        (shared_dir / YT / "newpipe_kurzgesagt_2021-04-08.xml").read_bytes(),
        source_id="k",
        url="https://www.youtube.com/feeds/videos.xml?user=Kurzgesagt",
    )
    expected = _expected(shared_dir)
    assert expected["newpipe_kurzgesagt_2026-01-26.xml"]["feed_yt_channelId_raw"] == "sXVk37bltHxD1rDPwtNM8Q"
    assert expected["newpipe_kurzgesagt_2021-04-08.xml"]["feed_yt_channelId_raw"] == KURZGESAGT
    assert new.channel_id == old.channel_id == KURZGESAGT
    assert sum(bool(e.media["shorts"]) for e in new.entries) == 8  # the README's count
    assert not any(e.media["shorts"] for e in old.entries)
    assert all("/shorts/" not in e.url for e in new.entries)


def test_digital_foundry_matches_capyreader_expectations(shared_dir: Path) -> None:
    """The upstream test's facts (XmlParserAtomYouTube.kt), as quoted in the README."""
    feed = parse_youtube(
        (shared_dir / YT / "capyreader_digital-foundry.xml").read_bytes(),
        source_id="df",
        url="https://www.youtube.com/feeds/videos.xml?channel_id=UC9PBzalIcEQCsiIkq36PyUA",
    )
    first = feed.entries[0]
    assert first.title == "Digital Foundry Games of 2024: The Oliver Mackenzie Collection!"
    assert first.published == datetime(2025, 1, 1, 16, 7, 24, tzinfo=UTC)
    assert first.url == "https://www.youtube.com/watch?v=W_S7iKZZdHw"
    assert first.author == "Digital Foundry" and first.guid == "yt:video:W_S7iKZZdHw"
    assert first.media["thumbnail"] == "https://i4.ytimg.com/vi/W_S7iKZZdHw/hqdefault.jpg"


def test_pbs_matches_feed_rs(shared_dir: Path) -> None:
    theirs = json.loads((shared_dir / YT / "feed-rs_pbs-space-time.expected.feed-rs.json").read_text())[
        "entries"
    ][0]
    feed = parse_youtube(
        (shared_dir / YT / "feed-rs_pbs-space-time.xml").read_bytes(),
        source_id="pbs",
        url="https://www.youtube.com/feeds/videos.xml?channel_id=UC7_gcs09iThXybpVgjHZ_7g",
    )
    ours = feed.entries[0]
    media = theirs["media"][0]
    assert ours.title == theirs["title"]["content"]
    assert ours.published == datetime.fromisoformat(theirs["published"])
    assert ours.media["thumbnail"] == media["thumbnails"][0]["image"]["uri"]
    assert ours.media["views"] == media["community"]["stats_views"]
    assert ours.media["likes"] == media["community"]["stars_count"]
    assert ours.author == theirs["authors"][0]["name"]
    item = normalize(ours, fetched=FETCHED)
    assert isinstance(item, Item) and item.summary == " ".join(media["description"]["content"].split())


def test_unavailable_channel_404_page(shared_dir: Path) -> None:
    body = (shared_dir / YT / "newpipe_notavailable_404_2026-01-26.html").read_bytes()
    headers = _headers(shared_dir, "newpipe_notavailable_404_2026-01-26.xml")
    with pytest.raises(ParseError) as caught:
        parse_youtube(body, source_id="gone", url=feed_url("UCTGjY2I-ZUGnwVoWAGRd7XQ"), headers=headers)
    assert caught.value.reason == "not a feed (HTML returned)"


def test_generic_feed_is_not_a_youtube_feed() -> None:
    body = (DATA / "rss-diaspora.xml").read_bytes()
    with pytest.raises(ParseError) as caught:
        parse_youtube(body, source_id="yt", url=feed_url(KURZGESAGT))
    assert caught.value.reason == "not a YouTube feed (entries name no video id)"


def test_entries_without_video_ids_are_left_out_with_a_note() -> None:
    body = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" xmlns="http://www.w3.org/2005/Atom">
 <title>Mixed</title><yt:channelId>sXVk37bltHxD1rDPwtNM8Q</yt:channelId>
 <entry><id>yt:video:zg40FHOAqC0</id><title>Video</title><link rel="alternate" href="https://www.youtube.com/shorts/zg40FHOAqC0"/>
  <published>2026-01-22T15:01:42+00:00</published></entry>
 <entry><id>urn:x</id><title>Not a video</title><link rel="alternate" href="https://example.org/post"/></entry>
</feed>"""
    feed = parse_youtube(body, source_id="yt", url=feed_url(KURZGESAGT))
    assert feed.channel_id == KURZGESAGT and feed.warning == "1 entries without a video id left out"
    (video,) = feed.entries
    assert video.media == {"video_id": "zg40FHOAqC0", "shorts": True, "channel_id": KURZGESAGT}
    assert video.url == "https://www.youtube.com/watch?v=zg40FHOAqC0"
