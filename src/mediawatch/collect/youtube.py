"""YouTube channel and playlist feeds (``https://www.youtube.com/feeds/videos.xml?…``) as video entries.

The feed is Atom with the ``yt:`` and Media RSS namespaces, so it goes through ``parse_feed`` (same
charset, error and entity handling) and is then reshaped here: one ``ItemKind.VIDEO`` entry per video with
a canonical ``watch?v=`` URL (Shorts link to ``/shorts/<id>``) and the view/like counts in ``media``.

Since 2024 the feed-level ``yt:channelId`` lacks the ``UC`` prefix (``sXVk37bltHxD1rDPwtNM8Q``); the
entry-level one and the channel links still carry it. ``normalize_channel_id`` accepts both.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import replace
from urllib.parse import parse_qs, urlencode, urlsplit

from mediawatch.collect.feeds import ParsedFeed, parse_feed
from mediawatch.errors import ParseError
from mediawatch.models import ItemKind, MediaValue, RawEntry

FEED_ENDPOINT = "https://www.youtube.com/feeds/videos.xml"
WATCH_URL = "https://www.youtube.com/watch?v={video_id}"
GUID_PREFIX = "yt:video:"

_CHANNEL_ID = re.compile(r"UC[0-9A-Za-z_-]{22}")
_CHANNEL_SUFFIX = re.compile(r"[0-9A-Za-z_-]{22}")
YOUTUBE_HOSTS = frozenset({"youtube.com", "www.youtube.com", "m.youtube.com"})
_VIDEO_ID = re.compile(r"[0-9A-Za-z_-]{11}")
_PLAYLIST_ID = re.compile(r"[0-9A-Za-z_-]{2,64}")
_CHANNEL_PATH = re.compile(r"/channel/(UC[0-9A-Za-z_-]{22})(?![0-9A-Za-z_-])")
_TAG = re.compile(r"<(meta|link)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+)""")
_JSON_ID = re.compile(r'"(externalId|channelId)"\s*:\s*"(UC[0-9A-Za-z_-]{22})"')


def feed_url(channel_id: str | None = None, playlist_id: str | None = None) -> str:
    """The feed URL of a channel (``UC…``; the 22-character form without ``UC`` is accepted) or a playlist."""
    if (channel_id is None) == (playlist_id is None):
        raise ValueError("give exactly one of channel_id or playlist_id")
    if playlist_id is not None:
        if not _PLAYLIST_ID.fullmatch(playlist_id.strip()):
            raise ValueError(f"not a YouTube playlist id: {playlist_id!r}")
        return f"{FEED_ENDPOINT}?{urlencode({'playlist_id': playlist_id.strip()})}"
    canonical = normalize_channel_id(channel_id)
    if canonical is None:
        raise ValueError(f"not a YouTube channel id: {channel_id!r} (expected UC + 22 characters)")
    return f"{FEED_ENDPOINT}?{urlencode({'channel_id': canonical})}"


def normalize_channel_id(raw: str | None) -> str | None:
    """``UC`` + 22 characters, from either that form or the bare 22 characters; None for anything else."""
    if raw is None:
        return None
    value = raw.strip().removeprefix("yt:channel:")
    if _CHANNEL_ID.fullmatch(value):
        return value
    if _CHANNEL_SUFFIX.fullmatch(value):
        return "UC" + value
    return None


def channel_id_from_url(url: str | None) -> str | None:
    """The channel id in a ``/channel/UC…`` link or a feed URL's ``channel_id=`` parameter."""
    if not url:
        return None
    if match := _CHANNEL_PATH.search(url):
        return match.group(1)
    values = parse_qs(urlsplit(url).query).get("channel_id", [])
    return normalize_channel_id(values[0]) if values else None


def video_id_from_url(url: str | None) -> str | None:
    """The video id of a ``watch?v=``, ``/shorts/``, ``/live/``, ``/embed/``, ``/v/`` or ``youtu.be`` link."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    candidate: str | None = None
    if host == "youtu.be":
        candidate = parts.path.strip("/").split("/")[0]
    elif host.endswith(("youtube.com", "youtube-nocookie.com")):
        segments = [s for s in parts.path.split("/") if s]
        if segments[:1] == ["watch"]:
            candidate = (parse_qs(parts.query).get("v") or [""])[0]
        elif len(segments) >= 2 and segments[0] in {"shorts", "live", "embed", "v"}:
            candidate = segments[1]
    return candidate if candidate and _VIDEO_ID.fullmatch(candidate) else None


def _attributes(tag_text: str) -> dict[str, str]:
    return {name.lower(): html.unescape(value.strip("\"'")) for name, value in _ATTRIBUTE.findall(tag_text)}


def _head_tags(page: str) -> Iterator[tuple[str, dict[str, str]]]:
    for match in _TAG.finditer(page):
        yield match.group(1).lower(), _attributes(match.group(2))


def channel_id_from_html(html_text: str) -> str | None:
    """The channel id of a channel or handle page (``https://www.youtube.com/@name``), or None.

    Tries, most specific first: ``<meta itemprop="channelId|identifier">``, ``<link rel="canonical">``,
    ``og:url``, then the page's JSON (``"externalId"``, then ``"channelId"``).
    """
    tags = list(_head_tags(html_text))
    for kind, attrs in tags:
        itemprop = attrs.get("itemprop", "").lower()
        if (
            kind == "meta"
            and itemprop in {"channelid", "identifier"}
            and (found := normalize_channel_id(attrs.get("content")))
        ):
            return found
    for kind, attrs in tags:
        canonical = kind == "link" and "canonical" in attrs.get("rel", "").lower().split()
        og_url = attrs.get("property", "").lower() == "og:url"
        if (canonical or og_url) and (
            found := channel_id_from_url(attrs.get("href") or attrs.get("content"))
        ):
            return found
    for key in ("externalId", "channelId"):
        for match in _JSON_ID.finditer(html_text):
            if match.group(1) == key:
                return match.group(2)
    return None


def _video(entry: RawEntry, feed_channel: str | None) -> RawEntry | None:
    """The entry as a video (canonical watch URL, typed media), or None when it names no video."""
    from_guid = entry.guid.removeprefix(GUID_PREFIX) if entry.guid else None
    candidates = (entry.media.get("video_id"), from_guid, video_id_from_url(entry.url))
    video_id = next((c for c in candidates if isinstance(c, str) and _VIDEO_ID.fullmatch(c)), None)
    if video_id is None:
        return None
    media: dict[str, MediaValue] = {"video_id": video_id, "shorts": "/shorts/" in urlsplit(entry.url).path}
    for key in ("thumbnail", "views", "likes"):
        if key in entry.media:
            media[key] = entry.media[key]
    channel = normalize_channel_id(str(entry.media.get("channel_id", ""))) or feed_channel
    if channel:
        media["channel_id"] = channel
    return replace(
        entry,
        url=WATCH_URL.format(video_id=video_id),
        kind=ItemKind.VIDEO,
        guid=entry.guid or GUID_PREFIX + video_id,
        media=media,
    )


def _feed_channel(feed: ParsedFeed) -> str | None:
    """The channel the feed belongs to: feed-level id, then channel link, then what its entries agree on."""
    found = normalize_channel_id(feed.channel_id) or channel_id_from_url(feed.link)
    if found:
        return found
    votes: Mapping[str, int] = Counter(
        channel
        for entry in feed.entries
        if (channel := normalize_channel_id(str(entry.media.get("channel_id", ""))))
    )
    return max(votes, key=lambda c: votes[c]) if votes else None


def parse_youtube(
    body: bytes, *, source_id: str, url: str, headers: Mapping[str, str] | None = None
) -> ParsedFeed:
    """A channel or playlist feed as video entries; ``channel_id`` is the canonical ``UC…`` id (or None)."""
    feed = parse_feed(body, source_id=source_id, url=url, headers=headers, channel_authors=True)
    channel = _feed_channel(feed) or channel_id_from_url(url)
    videos = [video for entry in feed.entries if (video := _video(entry, channel)) is not None]
    if feed.entries and not videos:
        raise ParseError(source_id, "not a YouTube feed (entries name no video id)", url=url)
    warning = feed.warning
    if dropped := len(feed.entries) - len(videos):
        note = f"{dropped} entries without a video id left out"
        warning = f"{warning}; {note}" if warning else note
    return replace(feed, entries=tuple(videos), channel_id=channel, warning=warning)
