"""Collect one source: fetch (politely, conditionally), parse, normalise. No database writes here.

The result is a :class:`SourceOutcome` carrying the new items and the source's next state; the pipeline
commits both in one transaction. Every failure becomes a human-readable reason on the outcome, so one bad
source never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from mediawatch.collect import feeds, youtube
from mediawatch.errors import FetchError, ParseError, SourceError
from mediawatch.http import Fetcher, FetchResult
from mediawatch.models import Item, RawEntry, SourceKind
from mediawatch.normalize import Skipped, canonical_url, normalize
from mediawatch.robots import RobotsCache
from mediawatch.schedule import next_check, parse_max_age
from mediawatch.sourcefile import SourceSpec
from mediawatch.store import SourceState

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8"
)
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.8"
MAX_ARTICLES_PER_RUN = 40  # new article pages fetched from one listing in one run


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    source_id: str
    ok: bool
    items: tuple[Item, ...]
    state: SourceState
    reason: str | None = None  # why it failed
    warning: str | None = None  # collected, but something is off (ill-formed feed, some articles failed)
    skipped: tuple[Skipped, ...] = ()
    unchanged: bool = False  # 304 or same content as last time


@dataclass
class _Run:
    """Mutable bits gathered while collecting one source."""

    notes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    max_age: float | None = None


KnownUrls = Callable[[Sequence[str]], set[str]]
Detect = Callable[[str], str | None]


class SourceCollector:
    """Collects sources of every kind with one fetcher, one robots cache and one clock."""

    def __init__(
        self,
        fetcher: Fetcher,
        robots: RobotsCache,
        *,
        known_urls: KnownUrls,
        clock: Callable[[], datetime],
        detect_language: Detect | None = None,
        max_articles: int = MAX_ARTICLES_PER_RUN,
        youtube_base: str = "https://www.youtube.com",
    ) -> None:
        self.youtube_base = youtube_base.rstrip("/")
        self.fetcher = fetcher
        self.robots = robots
        self.known_urls = known_urls
        self.clock = clock
        self.detect_language = detect_language
        self.max_articles = max_articles

    async def collect(self, spec: SourceSpec, state: SourceState) -> SourceOutcome:
        now = self.clock()
        run = _Run(notes=dict(state.notes or {}))
        run.notes.pop("warning", None)
        try:
            if spec.kind is SourceKind.RSS:
                entries, result = await self._rss(spec, state, run)
            elif spec.kind is SourceKind.YOUTUBE:
                entries, result = await self._youtube(spec, state, run)
            else:
                entries, result = await self._page(spec, state, run)
        except SourceError as exc:
            return self._failed(
                spec,
                state,
                run,
                now,
                exc.reason,
                retry_after=getattr(exc, "retry_after", None),
                status=getattr(exc, "status", None),
            )
        except Exception as exc:  # a bug or an unforeseen input: report it on the source, keep going
            logger.exception("collector crashed", extra={"fields": {"source_id": spec.id}})
            return self._failed(spec, state, run, now, f"internal error: {type(exc).__name__}: {exc}")

        fetched = self.clock()
        items: list[Item] = []
        skipped: list[Skipped] = []
        for raw in entries:
            out = normalize(_with_defaults(raw, spec), fetched=fetched)
            if isinstance(out, Skipped):
                skipped.append(out)
            else:
                items.append(self._with_language(out))
        if skipped:
            run.warnings.append(
                f"{len(skipped)} entries skipped ({', '.join(sorted({s.reason for s in skipped}))})"
            )
        warning = "; ".join(run.warnings) or None
        if warning:
            run.notes["warning"] = warning
        new_state = replace(
            state,
            etag=result.etag if result else state.etag,
            last_modified=result.last_modified if result else state.last_modified,
            content_hash=result.content_hash if result and not result.not_modified else state.content_hash,
            last_attempt=now,
            last_success=now,
            consecutive_failures=0,
            last_error=None,
            last_status=result.status if result else state.last_status,
            next_check=next_check(now, spec.every, failures=0, max_age=run.max_age),
            notes=run.notes,
        )
        unchanged = (
            result is None
            or result.not_modified
            or (not entries and result.content_hash == state.content_hash)
        )
        return SourceOutcome(
            spec.id,
            True,
            tuple(items),
            new_state,
            warning=warning,
            skipped=tuple(skipped),
            unchanged=unchanged,
        )

    # ------------------------------------------------------------------------------------------ kinds
    async def _get(
        self, url: str, spec: SourceSpec, state: SourceState, run: _Run, accept: str
    ) -> FetchResult:
        result = await self.fetcher.fetch(
            url, source_id=spec.id, etag=state.etag, last_modified=state.last_modified, accept=accept
        )
        run.max_age = parse_max_age(result.headers.get("cache-control"))
        return result

    def _unchanged(self, result: FetchResult, state: SourceState) -> bool:
        """A 304, or the same bytes as last time (servers whose validators do not work)."""
        return result.not_modified or (
            state.content_hash is not None and result.content_hash == state.content_hash
        )

    async def _rss(
        self, spec: SourceSpec, state: SourceState, run: _Run
    ) -> tuple[list[RawEntry], FetchResult]:
        assert spec.url
        result = await self._get(spec.url, spec, state, run, FEED_ACCEPT)
        if self._unchanged(result, state):
            return [], result
        try:
            parsed = feeds.parse_feed(result.body, source_id=spec.id, url=result.url, headers=result.headers)
        except ParseError:
            self._note_alternates(result, run)
            raise
        if parsed.warning:
            run.warnings.append(parsed.warning)
        return list(parsed.entries), result

    async def _youtube(
        self, spec: SourceSpec, state: SourceState, run: _Run
    ) -> tuple[list[RawEntry], FetchResult]:
        url = spec.feed_url
        if url is None:
            channel = spec.channel_id
            if channel is None and spec.playlist_id is None and spec.handle:
                channel = run.notes.get("channel_id") if run.notes.get("handle") == spec.handle else None
                if channel is None:
                    channel = await self._resolve_handle(spec, run)
            url = youtube.feed_url(channel_id=channel, playlist_id=None if channel else spec.playlist_id)
            url = url.replace("https://www.youtube.com", self.youtube_base, 1)
        result = await self._get(url, spec, state, run, FEED_ACCEPT)
        if self._unchanged(result, state):
            return [], result
        parsed = youtube.parse_youtube(result.body, source_id=spec.id, url=result.url, headers=result.headers)
        if parsed.channel_id:
            run.notes["channel_id"] = parsed.channel_id
        if parsed.warning:
            run.warnings.append(parsed.warning)
        return list(parsed.entries), result

    async def _resolve_handle(self, spec: SourceSpec, run: _Run) -> str:
        assert spec.handle
        page = f"{self.youtube_base}/{spec.handle}"
        result = await self.fetcher.fetch(page, source_id=spec.id, accept=HTML_ACCEPT)
        channel = youtube.channel_id_from_html(decode_html(result.body, result.headers))
        if not channel:
            raise ParseError(
                spec.id, f"could not find the channel id of {spec.handle} on its channel page", url=page
            )
        run.notes["handle"] = spec.handle
        run.notes["channel_id"] = channel
        return channel

    async def _page(
        self, spec: SourceSpec, state: SourceState, run: _Run
    ) -> tuple[list[RawEntry], FetchResult]:
        from mediawatch.collect import links, pages

        assert spec.url
        await self.robots.ensure_allowed(spec.url, source_id=spec.id)
        result = await self._get(spec.url, spec, state, run, HTML_ACCEPT)
        if self._unchanged(result, state):
            return [], result
        html = decode_html(result.body, result.headers)
        declared = links.declared_feeds(html, result.url)
        if declared:
            run.notes["feed_alternate"] = declared[0]
        report = links.extract_links(html, result.url, spec.selector)
        if not report.articles:
            raise ParseError(
                spec.id,
                "no article links found on the listing page"
                + (f" with selector {spec.selector!r}" if spec.selector else ""),
                url=result.url,
            )
        wanted = [canonical_url(u) for u in report.articles]
        known = self.known_urls(wanted)
        new = [u for u in dict.fromkeys(wanted) if u not in known][: self.max_articles]
        entries: list[RawEntry] = []
        failures: list[str] = []
        for url in new:
            try:
                await self.robots.ensure_allowed(url, source_id=spec.id)
                art = await self.fetcher.fetch(url, source_id=spec.id, accept=HTML_ACCEPT)
                entries.append(pages.extract_article(art.body, url=art.url, source_id=spec.id,
                                                    encoding=declared_charset(art.headers)))
            except SourceError as exc:
                failures.append(f"{url}: {exc.reason}")
        if failures:
            run.warnings.append(f"{len(failures)} of {len(new)} articles failed (first: {failures[0]})")
            if not entries:
                raise ParseError(spec.id, f"every new article failed; first: {failures[0]}", url=result.url)
        return entries, result

    def _note_alternates(self, result: FetchResult, run: _Run) -> None:
        """An HTML page came back where a feed was expected: tell the operator which feeds it declares."""
        if b"<html" in result.body[:4096].lower():
            from mediawatch.collect import links

            declared = links.declared_feeds(decode_html(result.body, result.headers), result.url)
            if declared:
                run.notes["feed_alternate"] = declared[0]

    # ------------------------------------------------------------------------------------------ helpers
    def _failed(
        self,
        spec: SourceSpec,
        state: SourceState,
        run: _Run,
        now: datetime,
        reason: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
    ) -> SourceOutcome:
        failures = state.consecutive_failures + 1
        new_state = replace(
            state,
            last_attempt=now,
            consecutive_failures=failures,
            last_error=reason,
            last_status=status,
            next_check=next_check(now, spec.every, failures=failures, retry_after=retry_after),
            notes=run.notes,
        )
        logger.info("source failed", extra={"fields": {"source_id": spec.id, "reason": reason}})
        return SourceOutcome(spec.id, False, (), new_state, reason=reason)

    def _with_language(self, item: Item) -> Item:
        if item.language or self.detect_language is None:
            return item
        return replace(
            item, language=self.detect_language(f"{item.title}. {item.summary or item.text[:500]}")
        )


def _with_defaults(raw: RawEntry, spec: SourceSpec) -> RawEntry:
    """The source's language stands in when the entry and its feed name none."""
    if raw.language or not spec.language:
        return raw
    return replace(raw, language=spec.language)


def declared_charset(headers: dict[str, str] | None) -> str | None:
    ctype = (headers or {}).get("content-type", "")
    if "charset=" not in ctype.lower():
        return None
    return ctype.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'") or None


def decode_html(body: bytes, headers: dict[str, str] | None = None) -> str:
    """Bytes of an HTML page -> text (BOM, UTF-8, the HTTP charset, <meta charset>, detection)."""
    from mediawatch.collect.pages import decode_html as decode

    return decode(body, declared_charset(headers))
