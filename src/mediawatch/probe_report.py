"""What ``probe`` found at an address: the feeds it checked, the YouTube channel or playlist, the article links
and the suggested sources.yaml stanza, as values with their JSON form (``probe --json``). Built by
:mod:`mediawatch.probe`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """One feed fetched and parsed: ``ok`` with its facts, or the reason it is not a working feed."""

    url: str
    # "given" (the URL itself), "declared" (<link rel=alternate>), "common" (a usual path), "youtube"
    origin: str
    ok: bool
    reason: str | None = None
    format: str | None = None
    title: str | None = None
    entries: int = 0
    language: str | None = None
    newest: datetime | None = None
    unzoned: int = 0  # entries dated without an offset (their outlet's time zone is worth setting)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "origin": self.origin,
            "ok": self.ok,
            "reason": self.reason,
            "format": self.format,
            "title": self.title,
            "entries": self.entries,
            "language": self.language,
            "newest": self.newest.isoformat() if self.newest else None,
            "unzoned": self.unzoned,
        }


@dataclass(frozen=True, slots=True)
class YouTubeTarget:
    channel_id: str | None
    playlist_id: str | None
    handle: str | None
    feed_url: str  # the canonical https://www.youtube.com/feeds/videos.xml?… address


@dataclass(frozen=True, slots=True)
class ProbeReport:
    url: str  # as given
    final_url: str  # after redirects
    kind: str  # "rss", "youtube" or "page"
    title: str | None
    language: str | None  # ISO 639-1
    suggested: dict[str, str]
    feed: FeedCheck | None = None  # rss / youtube: the feed itself
    youtube: YouTubeTarget | None = None
    feed_checks: tuple[FeedCheck, ...] = ()  # page: declared feeds and common paths tried, in that order
    declared_feeds: tuple[str, ...] = ()
    articles: tuple[str, ...] = ()
    rejected: tuple[tuple[str, str], ...] = ()
    selector: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def feeds(self) -> tuple[str, ...]:
        """Working feed URLs: the URL itself, the channel's feed, or what the page declares and answers."""
        if self.kind == "rss" and self.feed:
            return (self.feed.url,)
        if self.kind == "youtube" and self.youtube:
            return (self.youtube.feed_url,)
        return tuple(dict.fromkeys(c.url for c in self.feed_checks if c.ok))

    @property
    def error(self) -> str | None:
        """Why collection could not read this source although the probe got this far, else None: a YouTube
        channel or playlist whose feed does not answer (the address itself raised no error)."""
        if self.kind == "youtube" and self.feed is not None and not self.feed.ok:
            where = "playlist" if self.youtube and self.youtube.playlist_id and not self.youtube.channel_id else "channel"
            return f"the {where} feed could not be read: {self.feed.reason or 'not a feed'} ({self.feed.url})"
        return None

    def rejected_counts(self) -> dict[str, int]:
        return dict(Counter(reason for _, reason in self.rejected).most_common())

    def to_json(self) -> dict[str, Any]:
        """The report as JSON; addresses without a ``user:password@``, except in the suggested stanza, which
        needs it to collect (it is what ``sources add`` writes into the sources file)."""
        from mediawatch.normalize import without_credentials

        return {
            "url": without_credentials(self.url),
            "final_url": without_credentials(self.final_url),
            "kind": self.kind,
            "title": self.title,
            "language": self.language,
            "feeds": list(self.feeds),
            "feed": self.feed.to_json() if self.feed else None,
            "youtube": (
                {
                    "channel_id": self.youtube.channel_id,
                    "playlist_id": self.youtube.playlist_id,
                    "handle": self.youtube.handle,
                    "feed_url": self.youtube.feed_url,
                }
                if self.youtube
                else None
            ),
            "declared_feeds": list(self.declared_feeds),
            "feed_checks": [c.to_json() for c in self.feed_checks],
            "selector": self.selector,
            "articles": list(self.articles),
            "rejected": [{"url": u, "reason": r} for u, r in self.rejected],
            "counts": {
                "articles": len(self.articles),
                "rejected": len(self.rejected),
                "rejected_by_reason": self.rejected_counts(),
            },
            "suggested": dict(self.suggested),
            "notes": list(self.notes),
            "error": self.error,
        }
