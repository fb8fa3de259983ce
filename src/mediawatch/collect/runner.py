"""Collect one source: fetch (politely, conditionally), parse, normalise. No database writes here.

The result is a :class:`SourceOutcome` carrying the new items and the source's next state; the pipeline
commits both in one transaction. Every failure becomes a human-readable reason on the outcome, so one bad
source never stops the others. CPU-bound steps (feed parsing, article extraction) go through ``offload``,
which the pipeline points at a process pool.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, TypeGuard

from mediawatch.collect import youtube
from mediawatch.collect.work import Parsed, article_item, parse_items
from mediawatch.errors import FetchError, ParseError, SourceError
from mediawatch.fetch_reasons import clip
from mediawatch.http import Fetcher, FetchResult, NotRequested, RedirectCheck
from mediawatch.models import Item, SourceKind
from mediawatch.normalize import (
    Skipped,
    canonical_url,
    redact_credentials,
    with_credentials_of,
    without_surrogates,
)
from mediawatch.robots import RobotsCache
from mediawatch.schedule import next_check, parse_max_age
from mediawatch.sourcefile import SourceSpec
from mediawatch.store import SourceState
from mediawatch.wording import count

logger = logging.getLogger(__name__)

FEED_ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8"
)
HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.8"
MAX_ARTICLES_PER_RUN = 40  # new article pages fetched from one listing in one run
# New articles of one page source fetched at once, and never more than the Fetcher's per-host limit (2 by
# default): a source's articles mostly share its host, whose slots they wait for anyway, and a source in its
# article phase holds no more requests than one host's politeness allows, so a run stays near
# ``concurrency`` x ``per_host`` requests (the size of the client pools).
MAX_ARTICLES_AT_ONCE = 4
# An article link that failed for good (a 404, a page without article text: a gallery, a video) is not
# requested again for this long, so a listing that keeps showing it does not fail the source run after run.
GIVE_UP_DAYS = 30  # (a 401/403 is a block of us, not a broken link: never given up)
MOVED_NOTE = "moved_permanently"  # where the source's url redirects with 301/308 only: update sources.yaml
GIVEN_UP_NOTE = "_given_up"  # in the source's notes: JSON {canonical URL: day it failed} (internal: "_")
MAX_GIVEN_UP = 500
INTERNAL_ERROR_MAX = 300  # characters of an unforeseen exception's text kept in a source's reason

KnownUrls = Callable[[Sequence[str]], set[str]]
Offload = Callable[[Callable[[], Parsed]], Awaitable[Parsed]]


async def inline(job: Callable[[], Parsed]) -> Parsed:
    """Run a CPU-bound step in this process (small runs, tests), in a thread: on the event loop's own thread a
    first parse (which imports the parsers) held the loop for over a second, and the deadlines of the other
    requests in flight ran out meanwhile."""
    return await asyncio.to_thread(job)


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    source_id: str
    ok: bool
    items: tuple[Item, ...]
    state: SourceState
    reason: str | None = None  # why it failed
    warning: str | None = None  # collected, but something is off (ill-formed feed, some articles failed)
    skipped: tuple[Skipped, ...] = ()
    unchanged: bool = False  # 304, or the same content as last time


@dataclass
class _Run:
    """What one collection of one source gathers on its way."""

    notes: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    max_age: float | None = None
    result: FetchResult | None = None
    unchanged: bool = False
    # work left for the next run (new articles beyond the per-run cap, or failed for a passing reason): the
    # listing's validators and hash are then not kept, or a 304 / the same bytes would hide that work forever
    incomplete: bool = False
    retry_after: float | None = None  # an article's host answered 429/503 with Retry-After


class SourceCollector:
    """Collects sources of every kind with one fetcher, one robots cache and one clock."""

    def __init__(
        self,
        fetcher: Fetcher,
        robots: RobotsCache,
        *,
        known_urls: KnownUrls,
        clock: Callable[[], datetime],
        offload: Offload = inline,
        max_articles: int = MAX_ARTICLES_PER_RUN,
        articles_at_once: int | None = None,
        youtube_base: str = "https://www.youtube.com",
    ) -> None:
        """``articles_at_once``: a page source's new articles in flight at once; by default
        ``min(MAX_ARTICLES_AT_ONCE, fetcher.per_host)``."""
        self.fetcher = fetcher
        self.robots = robots
        self.known_urls = known_urls
        self.clock = clock
        self.offload = offload
        self.max_articles = max_articles
        self.articles_at_once = max(1, articles_at_once or min(MAX_ARTICLES_AT_ONCE, fetcher.per_host))
        self.youtube_base = youtube_base.rstrip("/")

    async def collect(self, spec: SourceSpec, state: SourceState) -> SourceOutcome:
        now = self.clock()
        run = _Run(notes=dict(state.notes or {}))
        try:
            if spec.kind is SourceKind.PAGE:
                parsed = await self._page(spec, state, run)
            else:
                parsed = await self._feed(spec, state, run)
        except SourceError as exc:
            return self._failed(
                spec,
                state,
                run,
                now,
                exc.reason,
                retry_after=getattr(exc, "retry_after", None) or run.retry_after,
                status=getattr(exc, "status", None),
            )
        except Exception as exc:  # a bug or an unforeseen input: report it on the source, keep going
            logger.exception("collector crashed", extra={"fields": {"source_id": spec.id}})
            return self._failed(spec, state, run, now, internal_error(exc))

        if parsed.warning:
            run.warnings.append(parsed.warning)
        if parsed.skipped:
            reasons = ", ".join(sorted({s.reason for s in parsed.skipped}))
            run.warnings.append(f"{count(len(parsed.skipped), 'entry', 'entries')} skipped ({reasons})")
        # The warning is what this run found; a feed that was not parsed again (304, the same bytes) keeps the
        # one it had, and so does a failed run (its notes are the stored ones).
        if run.warnings:
            run.notes["warning"] = redact_credentials("; ".join(run.warnings))
        elif not run.unchanged:
            run.notes.pop("warning", None)
        warning = run.notes.get("warning")
        result = run.result
        assert result is not None
        keep = not run.incomplete
        new_state = replace(
            state,
            etag=result.etag if keep else None,
            last_modified=result.last_modified if keep else None,
            content_hash=(state.content_hash if result.not_modified else result.content_hash)
            if keep
            else None,
            last_attempt=now,
            last_success=now,
            consecutive_failures=0,
            last_error=None,
            last_status=result.status,
            next_check=next_check(
                now, spec.every, failures=0, max_age=run.max_age, retry_after=run.retry_after
            ),
            notes=run.notes,
        )
        return SourceOutcome(
            spec.id,
            True,
            parsed.items,
            new_state,
            warning=warning,
            skipped=parsed.skipped,
            unchanged=run.unchanged,
        )

    # ------------------------------------------------------------------------------------------ kinds
    async def _get(
        self,
        url: str,
        spec: SourceSpec,
        state: SourceState,
        run: _Run,
        accept: str,
        *,
        check_redirect: RedirectCheck | None = None,
    ) -> FetchResult:
        result = await self.fetcher.fetch(
            url,
            source_id=spec.id,
            etag=state.etag,
            last_modified=state.last_modified,
            accept=accept,
            check_redirect=check_redirect,
        )
        run.result = result
        if url == spec.url:  # the operator's address (not a handle's feed): say where it has moved for good
            if result.moved_permanently and canonical_url(result.url) != canonical_url(url):
                run.notes[MOVED_NOTE] = result.url
            else:
                run.notes.pop(MOVED_NOTE, None)
        run.max_age = parse_max_age(result.headers.get("cache-control"))
        # a 304, or the same bytes as last time (servers whose validators do not work)
        run.unchanged = result.not_modified or (
            state.content_hash is not None and result.content_hash == state.content_hash
        )
        return result

    async def _feed(self, spec: SourceSpec, state: SourceState, run: _Run) -> Parsed:
        url = spec.url if spec.kind is SourceKind.RSS else await self._youtube_url(spec, run)
        assert url
        result = await self._get(url, spec, state, run, FEED_ACCEPT)
        run.notes.pop("feed_alternate", None)  # it answers as a feed again (or re-added below if it does not)
        if run.unchanged:
            return Parsed((), ())
        job = partial(
            parse_items,
            spec.kind,
            result.body,
            source_id=spec.id,
            url=result.url,
            headers=result.headers,
            fetched=self.clock(),
            language=spec.language,
            timezone=spec.timezone,
        )
        try:
            parsed = await self.offload(job)
        except ParseError:
            self._note_alternates(result, run)
            raise
        if parsed.channel_id:
            run.notes["channel_id"] = parsed.channel_id
        return parsed

    async def _youtube_url(self, spec: SourceSpec, run: _Run) -> str:
        if spec.feed_url:
            return spec.feed_url
        channel = spec.channel_id
        if channel is None and spec.playlist_id is None and spec.handle:
            channel = run.notes.get("channel_id") if run.notes.get("handle") == spec.handle else None
            if channel is None:
                channel = await self._resolve_handle(spec, run)
        url = youtube.feed_url(channel_id=channel, playlist_id=None if channel else spec.playlist_id)
        return url.replace("https://www.youtube.com", self.youtube_base, 1)

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

    async def _page(self, spec: SourceSpec, state: SourceState, run: _Run) -> Parsed:
        from mediawatch.collect import links

        assert spec.url
        await self.robots.ensure_allowed(spec.url, source_id=spec.id)
        check: RedirectCheck = partial(self.robots.check_redirect, source_id=spec.id)
        result = await self._get(spec.url, spec, state, run, HTML_ACCEPT, check_redirect=check)
        if run.unchanged:
            return Parsed((), ())
        _refuse_a_feed(spec, result)
        html = decode_html(result.body, result.headers)
        declared = links.declared_feeds(html, result.url)
        if declared:
            run.notes["feed_alternate"] = declared[0]
        else:
            run.notes.pop("feed_alternate", None)
        report = links.extract_links(html, result.url, spec.selector, source_id=spec.id)
        if not report.articles:
            how = f" with selector {spec.selector!r}" if spec.selector else ""
            raise ParseError(spec.id, f"no article links found on the listing page{how}", url=result.url)
        wanted = list(dict.fromkeys(canonical_url(u) for u in report.articles))
        known = self.known_urls(wanted)
        today = self.clock().date()
        given_up = _given_up(run.notes, today)
        unknown = [u for u in wanted if u not in known and u not in given_up]
        new = unknown[: self.max_articles]
        run.incomplete = len(unknown) > len(new)
        items: list[Item] = []
        skipped: list[Skipped] = []
        failures: list[str] = []
        not_per_article = False  # a failure that says nothing about that one link (a 5xx, a 403 block)
        slowed: list[FetchError] = []
        left = 0
        # results come back in listing order, whatever order the fetches finished in
        for url, outcome in zip(new, await self._articles(spec, new, check), strict=True):
            if outcome is None:
                left += 1
            elif isinstance(outcome, SourceError):
                failures.append(f"{url}: {outcome.reason}")
                if _passing(outcome):
                    not_per_article = run.incomplete = True
                elif _broken_link(outcome):
                    given_up[url] = f"{today.isoformat()} {_give_up_cause(outcome)}"
                else:
                    not_per_article = True
                if _slows_down(outcome):
                    slowed.append(outcome)
            else:
                items.extend(outcome.items)
                skipped.extend(outcome.skipped)
        if slowed:
            # the host asked us to slow down: no more articles were requested this run; the source waits
            waits = [e.retry_after for e in slowed if e.retry_after is not None]
            run.retry_after = max(waits) if waits else None
            if left:
                run.incomplete = True
                run.warnings.append(f"{left} articles left for the next run ({slowed[0].reason})")
        if failures:
            run.warnings.append(f"{len(failures)} of {len(new)} articles failed (first: {failures[0]})")
            # the source fails when it yields nothing and the listing may be at fault; a listing whose other
            # articles were stored before works, and its broken links are given up (warned, not failed)
            if not items and (not_per_article or not known):
                raise ParseError(spec.id, f"every new article failed; first: {failures[0]}", url=result.url)
        _keep_given_up(run.notes, given_up)  # not when failing: those links then stay in view until fixed
        return Parsed(tuple(items), tuple(skipped))

    async def _articles(
        self, spec: SourceSpec, urls: Sequence[str], check: RedirectCheck
    ) -> list[Parsed | SourceError | None]:
        """Fetch and extract ``urls``, at most ``articles_at_once`` at a time (each still waits for its host's
        slot in the Fetcher), started in listing order. One result per URL, in the order of ``urls``: the
        parsed article, why it failed, or ``None`` when it was not requested because a host had asked to
        slow down (429, or Retry-After) first; requests already sent are finished and kept."""
        results: list[Parsed | SourceError | None] = [None] * len(urls)
        crashed: dict[int, Exception] = {}
        stop = asyncio.Event()
        queue = iter(enumerate(urls))

        async def worker() -> None:
            for n, url in queue:  # one shared iterator: each URL is taken by exactly one worker
                if stop.is_set():
                    return
                try:
                    results[n] = await self._article(spec, url, check, stop)
                except NotRequested:
                    return
                except SourceError as exc:
                    results[n] = exc
                    if _slows_down(exc):
                        stop.set()
                except Exception as exc:  # noqa: BLE001 - a bug: raised below once the others are done
                    crashed[n] = exc
                    stop.set()

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self.articles_at_once, len(urls))):
                group.create_task(worker())
        if crashed:
            raise crashed[min(crashed)]
        return results

    async def _article(self, spec: SourceSpec, url: str, check: RedirectCheck, stop: asyncio.Event) -> Parsed:
        # An article (and its robots.txt) on the listing's own origin is fetched with the source url's
        # user:password, as the listing is; one elsewhere never sees them. ``url`` itself carries none.
        address = with_credentials_of(url, spec.url or "")
        await self.robots.ensure_allowed(address, source_id=spec.id)
        art = await self.fetcher.fetch(
            address, source_id=spec.id, accept=HTML_ACCEPT, check_redirect=check, stop=stop
        )
        # The item keeps the URL the listing links (what known_urls is asked about next run, and what a feed
        # of the same site would link), not where a redirect ended: else every redirected article would be
        # fetched again on each run.
        return await self.offload(
            partial(
                article_item,
                art.body,
                url=url,
                source_id=spec.id,
                encoding=declared_charset(art.headers),
                fetched=self.clock(),
                language=spec.language,
                timezone=spec.timezone,
            )
        )

    def _note_alternates(self, result: FetchResult, run: _Run) -> None:
        """An HTML page came back where a feed was expected: tell the operator which feeds it declares."""
        if b"<html" in result.body[:4096].lower():
            from mediawatch.collect import links

            declared = links.declared_feeds(decode_html(result.body, result.headers), result.url)
            if declared:
                run.notes["feed_alternate"] = declared[0]

    def failure(self, spec: SourceSpec, state: SourceState, reason: str) -> SourceOutcome:
        """A failed outcome for a source whose collected outcome could not be used (storing it failed):
        ``state`` (as stored before) with this failure counted, so the source backs off as after any other
        failure."""
        return self._failed(spec, state, _Run(notes=dict(state.notes or {})), self.clock(), reason)

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
        # an exception's text may quote what could not be stored, or an address with its password
        reason = redact_credentials(without_surrogates(reason))
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
        logger.info("source failed",
                    extra={"fields": {"source_id": spec.id, "url": spec.public_locator, "reason": reason}})
        return SourceOutcome(spec.id, False, (), new_state, reason=reason)


def internal_error(exc: BaseException) -> str:
    """The reason recorded on a source for a bug or an unforeseen input: ``internal error: Type: text``."""
    from mediawatch.store import database_reason

    # a database error in the driver's words, not the statement and parameters
    text = clip(without_surrogates(database_reason(exc)), INTERNAL_ERROR_MAX)
    kind = type(exc).__name__
    return f"internal error: {kind}: {text}" if text else f"internal error: {kind}"


def _given_up(notes: dict[str, str], today: date) -> dict[str, str]:
    """The article links given up on less than :data:`GIVE_UP_DAYS` ago (older ones get another try)."""
    try:
        stored = json.loads(notes.get(GIVEN_UP_NOTE) or "{}")
    except ValueError:
        return {}
    if not isinstance(stored, dict):
        return {}
    oldest = (today - timedelta(days=GIVE_UP_DAYS)).isoformat()
    # a value is the day it failed, then its cause ("2026-11-28 HTTP 404"; earlier versions stored the day only)
    return {str(url): str(day) for url, day in stored.items() if isinstance(day, str) and day[:10] > oldest}


def _keep_given_up(notes: dict[str, str], given_up: dict[str, str]) -> None:
    """Store the given-up links (the newest :data:`MAX_GIVEN_UP`) and say how many there are."""
    if not given_up:
        notes.pop(GIVEN_UP_NOTE, None)
        notes.pop("given_up", None)
        return
    newest = sorted(given_up.items(), key=lambda pair: pair[1], reverse=True)[:MAX_GIVEN_UP]
    notes[GIVEN_UP_NOTE] = json.dumps(dict(sorted(newest)), ensure_ascii=False, separators=(",", ":"))
    causes = Counter(value[11:] or "cause not recorded" for _, value in newest)
    why = ", ".join(f"{cause}: {n}" if len(causes) > 1 else cause for cause, n in causes.most_common())
    notes["given_up"] = (f"{count(len(newest), 'article link')} that failed for good ({why}) "
                         f"not requested again for {GIVE_UP_DAYS} days")


def _give_up_cause(exc: SourceError) -> str:
    """Why a link was given up, in a few words for the ``given_up`` note: ``HTTP 404``, ``no article text``,
    ``robots.txt``, ``private address``, ``too large``, ``redirect``."""
    if isinstance(exc, FetchError) and exc.status is not None:
        return f"HTTP {exc.status}"
    reason = exc.reason
    for words, cause in (("no article text", "no article text"), ("robots.txt", "robots.txt"),
                         ("private address", "private address"), ("larger than", "too large"),
                         ("redirect", "redirect")):
        if words in reason:
            return cause
    return " ".join(reason.split(" (")[0].split(":")[0].split()[:4]) or type(exc).__name__


def _broken_link(exc: SourceError) -> bool:
    """Whether a failure that will not pass (see :func:`_passing`) is that link's own: a 404 or 410 (any 4xx
    but those that refuse us rather than the page: 401, 403, 407, 451), a page without article text (a
    gallery, a video), or a link robots.txt, the size limit or a redirect rule refuses (no status)."""
    if not isinstance(exc, FetchError):
        return isinstance(exc, ParseError)
    return exc.status is None or exc.status not in (401, 403, 407, 451)


def _passing(exc: SourceError) -> bool:
    """Whether an article's failure may pass (network, timeout, 5xx, 429, robots.txt unreachable), so the
    article is worth another try; a 404 or a page without article text is not."""
    if not isinstance(exc, FetchError):
        return False
    if exc.status is not None:
        return exc.status >= 500 or exc.status == 429
    return exc.transient or exc.reason.startswith(("timed out", "blocked: robots.txt unreachable"))


def _slows_down(exc: SourceError) -> TypeGuard[FetchError]:
    """An article's host answered 429, or anything with Retry-After: no further article this run."""
    return isinstance(exc, FetchError) and (exc.status == 429 or exc.retry_after is not None)


def declared_charset(headers: dict[str, str] | None) -> str | None:
    ctype = (headers or {}).get("content-type", "")
    if "charset=" not in ctype.lower():
        return None
    return ctype.lower().split("charset=", 1)[1].split(";")[0].strip().strip("\"'") or None


def decode_html(body: bytes, headers: dict[str, str] | None = None) -> str:
    """Bytes of an HTML page -> text (BOM, UTF-8, the HTTP charset, <meta charset>, detection)."""
    from mediawatch.collect.pages import decode_html as decode

    return decode(body, declared_charset(headers))


def process_offload(executor: Any) -> Offload:
    """An ``offload`` that runs jobs in ``executor`` (a ProcessPoolExecutor) from the running event loop."""

    async def run(job: Callable[[], Parsed]) -> Parsed:
        return await asyncio.get_running_loop().run_in_executor(executor, job)

    return run


def _refuse_a_feed(spec: SourceSpec, result: FetchResult) -> None:
    """A page source whose listing address serves a feed: say so (no link on it would be an article link)."""
    head = result.body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if "html" in result.headers.get("content-type", "").lower() or not head.startswith((b"<?xml", b"<rss", b"<feed")):
        return
    from mediawatch.collect.feeds import parse_feed

    try:
        feed = parse_feed(result.body, source_id=spec.id, url=result.url, headers=result.headers)
    except ParseError:
        return
    raise ParseError(
        spec.id,
        f"the listing page is a feed ({feed.format}, {count(len(feed.entries), 'entry', 'entries')}), not a web "
        "page: give this source kind: rss",
        url=result.url,
    )
