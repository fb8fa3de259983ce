"""What is behind a URL, as the collector would see it, and the sources.yaml stanza to collect it.

``probe`` fetches through the collector's own :class:`~mediawatch.http.Fetcher` (User-Agent, timeouts, size
limits, proxy environment variables) and :class:`~mediawatch.robots.RobotsCache`, parses with the
collector's own parsers (``parse_feed``, ``parse_youtube``, ``links.extract_links``), and reports:

* a feed (RSS, Atom, RDF, JSON Feed): title, entry count, language, newest entry date;
* a YouTube channel, handle or playlist address: channel id and feed URL (a handle page is fetched);
* an HTML page: the feeds it declares, common feed paths that answer, and the article links the automatic
  rule (or ``selector``) takes, with the rejected links and their reasons.

Failures of the URL itself are raised as the collector's errors (``FetchError``/``ParseError``: "HTTP 404",
"blocked by robots.txt", "timed out after 10 s"); failures of the extra feed checks are reported, not raised.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from mediawatch import suggest, wording
from mediawatch.collect import links, youtube
from mediawatch.collect.feeds import ParsedFeed, parse_feed
from mediawatch.collect.runner import FEED_ACCEPT, HTML_ACCEPT, decode_html
from mediawatch.errors import FetchError, ParseError, SourceError
from mediawatch.http import Fetcher, build_client
from mediawatch.normalize import canonical_url, html_to_text, with_credentials_of, without_credentials
from mediawatch.probe_report import FeedCheck, ProbeReport, YouTubeTarget
from mediawatch.robots import RobotsCache
from mediawatch.settings import Settings

PROBE_ID = "probe"  # the source id in error messages
ANY_ACCEPT = (
    "text/html, application/xhtml+xml, application/atom+xml, application/rss+xml, application/feed+json, "
    "application/xml;q=0.9, */*;q=0.8"
)
COMMON_FEED_PATHS = ("/feed", "/rss", "/rss.xml", "/feed.xml", "/atom.xml", "/index.xml")
MAX_DECLARED_CHECKS = 3  # declared feeds fetched to confirm them
MAX_COMMON_HITS = 2  # stop trying common paths after this many answer with a feed


# ---------------------------------------------------------------------------------------------- entry points


async def probe_url(
    url: str,
    settings: Settings,
    *,
    selector: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProbeReport:
    """Probe ``url`` with a client of its own (built like collect's: proxies from the environment apply)."""
    from mediawatch import __version__
    from mediawatch.addresses import PrivateAccess

    try:
        urlsplit(url.strip()).port  # noqa: B018 - a bad bracketed host or a port out of range raises ValueError
    except ValueError as exc:
        raise FetchError(PROBE_ID, f"invalid URL ({exc})", url=url.strip()) from None
    async with build_client(settings, transport=transport) as client:
        # the address given is named by the operator; a page or feed cannot send the probe anywhere else private
        fetcher = Fetcher(client, settings, private=PrivateAccess.from_urls([url, settings.youtube_base]))
        robots = RobotsCache(fetcher, settings.user_agent_string(__version__))
        return await probe(url, fetcher, robots, settings, selector=selector)


async def probe(
    url: str, fetcher: Fetcher, robots: RobotsCache, settings: Settings, *, selector: str | None = None
) -> ProbeReport:
    """Probe ``url``; raise FetchError/ParseError with the collector's reason when it cannot be read."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FetchError(PROBE_ID, "invalid URL (not an absolute http(s) URL)", url=url)
    if _is_youtube(url, settings.youtube_base):
        address = _youtube_address(url)
        if address is None:  # a video, a search, the home page: collect has no source kind for these
            raise ParseError(
                PROBE_ID,
                "a YouTube address that is not a channel, handle or playlist; probe the channel's address "
                "(https://www.youtube.com/@name or /channel/UC…) or a playlist (/playlist?list=…)",
                url=url,
            )
        return _selector_unused(await _probe_youtube(url, address, fetcher, settings), selector)
    if (parts.hostname or "").lower() == "youtu.be":
        video = "a YouTube video link; probe the channel's address (https://www.youtube.com/@name)"
        raise ParseError(PROBE_ID, video, url=url)
    # collect honours robots.txt for page sources only (a feed is read as a feed reader reads it), and what the
    # address is shows only once it is fetched: a refused address is fetched once, and if it is a page, its
    # content is not used and the refusal is the answer (as collect would give for the page source)
    refusal = await robots.refusal(url)
    unreachable = _network_failure(refusal)
    if unreachable is not None:  # the host did not answer robots.txt's request: it would not answer the URL's
        raise FetchError(PROBE_ID, unreachable, url=without_credentials(url))
    result = await fetcher.fetch(url, source_id=PROBE_ID, accept=ANY_ACCEPT)
    # the address reached, with the user:password given for its origin: what the stanza needs to collect it
    # (FetchResult.url never carries one; reports show addresses without it)
    final = with_credentials_of(result.url, url)
    try:
        feed = parse_feed(result.body, source_id=PROBE_ID, url=result.url, headers=result.headers)
    except ParseError:
        if not _looks_html(result.body, result.headers):
            if not _looks_like_markup(result.body):  # an image, a PDF, an archive, plain text
                kind = result.headers.get("content-type", "").split(";")[0].strip() or "no content type"
                raise ParseError(PROBE_ID, f"not a feed or a web page ({kind})", url=result.url) from None
            raise  # XML or JSON that is not a feed: the parser's reason ("XML error at line 3: …")
        if refusal is not None:
            raise FetchError(PROBE_ID, refusal, url=without_credentials(url)) from None
        html = decode_html(result.body, result.headers)
        return await _probe_page(url, final, html, fetcher, robots, selector)
    check = _feed_check(result.url, "given", feed)
    language = suggest.language_code(check.language)
    host = urlsplit(result.url).hostname or ""
    country = suggest.country_guess(host, check.language)
    stanza = suggest.build_stanza(
        "rss",
        source_id=_id_or_default(suggest.host_slug(host)),
        name=check.title,
        url=final,
        language=language,
        country=country,
        timezone=_timezone(check, country),
    )
    notes = (f"feed warning: {feed.warning}",) if feed.warning else ()
    if refusal is not None:
        notes += (f"{refusal} for this address: collect reads it anyway, as a feed (robots.txt applies to "
                  "page sources only)",)
    report = ProbeReport(url, final, "rss", check.title, language, stanza, feed=check, notes=notes)
    return _selector_unused(report, selector)


_UNREACHABLE = "blocked: robots.txt unreachable ("


def _network_failure(refusal: str | None) -> str | None:
    """The network's reason ("could not connect (…)", "timed out after 10 s") when robots.txt could not be
    fetched at all; None when it answered (a 5xx is the server's answer, and the URL may still be a feed)."""
    if refusal is None or not refusal.startswith(_UNREACHABLE) or refusal.startswith(_UNREACHABLE + "HTTP "):
        return None
    return refusal[len(_UNREACHABLE) : -1]


def _selector_unused(report: ProbeReport, selector: str | None) -> ProbeReport:
    """A feed or YouTube report for a probe given a selector, with a note that it was not used: a selector
    picks article links on a listing page, and the stanza is not a page's."""
    if selector is None or report.kind == "page":
        return report
    what = "a YouTube feed" if report.kind == "youtube" else "a feed"
    note = (f"--selector {selector!r} not used: the address is {what}, and a selector picks article links on "
            f"a listing page (probe the listing page's address for a page source)")
    return replace(report, notes=(*report.notes, note))


# ---------------------------------------------------------------------------------------------- feeds


def _feed_check(url: str, origin: str, feed: ParsedFeed) -> FeedCheck:
    dates = [e.published for e in feed.entries if e.published is not None]
    language = feed.language or _majority(e.language for e in feed.entries)
    title = suggest.clean_name(html_to_text(feed.title)) if feed.title else None
    return FeedCheck(
        url=url,
        origin=origin,
        ok=True,
        format=feed.format,
        title=title,
        entries=len(feed.entries),
        language=language,
        newest=max(dates) if dates else None,
        unzoned=feed.unzoned,
    )


def _timezone(check: FeedCheck, country: str | None) -> str | None:
    """For a feed whose entries are dated without an offset: the clock of the outlet's country, if it has one."""
    return suggest.timezone_guess(country) if check.unzoned else None


def _majority(values: Any) -> str | None:
    counts = Counter(v for v in values if v)
    return counts.most_common(1)[0][0] if counts else None


async def _check_feed(url: str, origin: str, fetcher: Fetcher, robots: RobotsCache, given: str) -> FeedCheck:
    """Fetch and parse a candidate feed (with the credentials ``given`` has, on its origin); its failure is a
    finding, not an error."""
    address = with_credentials_of(url, given)
    try:
        await robots.ensure_allowed(address, source_id=PROBE_ID)
        result = await fetcher.fetch(address, source_id=PROBE_ID, accept=FEED_ACCEPT)
        feed = parse_feed(result.body, source_id=PROBE_ID, url=result.url, headers=result.headers)
    except SourceError as exc:
        return FeedCheck(url=url, origin=origin, ok=False, reason=exc.reason)
    if not feed.entries:
        return FeedCheck(
            url=result.url,
            origin=origin,
            ok=False,
            reason="a feed without entries",
            format=feed.format,
            title=suggest.clean_name(feed.title),
        )
    return _feed_check(result.url, origin, feed)


def _looks_like_markup(body: bytes) -> bool:
    """Could ``body`` be XML or JSON (what a feed is)? False for binary data and plain text."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16: let the parser judge
        return True
    head = body.removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    return head in (b"<", b"{", b"[")


def _looks_html(body: bytes, headers: dict[str, str]) -> bool:
    if "html" in headers.get("content-type", "").lower():
        return True
    head = body[:4096].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


# ---------------------------------------------------------------------------------------------- pages


async def _probe_page(
    given: str, final: str, html: str, fetcher: Fetcher, robots: RobotsCache, selector: str | None
) -> ProbeReport:
    meta = _page_meta(html)
    title, site_name, lang_tag = meta.title, meta.site_name, meta.lang
    declared = links.declared_feeds(html, final)
    report = await _robots_checked(links.extract_links(html, final, selector, source_id=PROBE_ID), robots, given)
    checks = [await _check_feed(u, "declared", fetcher, robots, given) for u in declared[:MAX_DECLARED_CHECKS]]
    if not any(c.ok for c in checks):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(final))
        hits = 0
        for path in COMMON_FEED_PATHS:
            candidate = canonical_url(origin + path)
            if candidate in declared:
                continue
            check = await _check_feed(candidate, "common", fetcher, robots, given)
            checks.append(check)
            hits += check.ok
            if hits >= MAX_COMMON_HITS:
                break
    language = suggest.language_code(lang_tag)
    host = urlsplit(final).hostname or ""
    source_id = _id_or_default(suggest.host_slug(host))
    working = [c for c in checks if c.ok]
    notes: list[str] = []
    if len(declared) > MAX_DECLARED_CHECKS:
        notes.append(f"{len(declared) - MAX_DECLARED_CHECKS} more declared feeds not checked")
    refused = sum(reason == links.Reason.ROBOTS for _, reason in report.rejected)
    if refused:
        notes.append(f"{wording.count(refused, 'article link')} disallowed by robots.txt: collect will not fetch them")
    if not report.articles:
        how = f" with selector {selector!r}" if selector else " by the automatic rule"
        notes.append(f"no article links found{how}")
    if working and selector is None:
        best = working[0]
        language = suggest.language_code(best.language) or language
        country = suggest.country_guess(host, lang_tag or best.language)
        stanza = suggest.build_stanza(
            "rss",
            source_id=source_id,
            name=site_name or best.title or title,
            url=with_credentials_of(best.url, given),
            language=language,
            country=country,
            timezone=_timezone(best, country),
        )
    else:
        stanza = suggest.build_stanza(
            "page",
            source_id=source_id,
            name=site_name or title,
            url=final,
            selector=selector,
            language=language,
            country=suggest.country_guess(host, lang_tag),
        )
    return ProbeReport(
        given,
        final,
        "page",
        suggest.clean_name(site_name or title),
        language,
        stanza,
        feed_checks=tuple(checks),
        declared_feeds=declared,
        articles=report.articles,
        rejected=report.rejected,
        selector=selector,
        notes=tuple(notes),
    )


async def _robots_checked(report: links.LinkReport, robots: RobotsCache, given: str) -> links.LinkReport:
    """The report with article links that robots.txt refuses moved to the rejected ones, as collect skips them
    (asked with ``given``'s credentials on its origin, as collect asks with the source's)."""
    taken: list[str] = []
    refused: list[tuple[str, str]] = []
    for url in report.articles:
        if await robots.refusal(with_credentials_of(url, given)) is None:
            taken.append(url)
        else:
            refused.append((url, str(links.Reason.ROBOTS)))
    return links.LinkReport(tuple(taken), report.rejected + tuple(refused)) if refused else report


@dataclass(frozen=True, slots=True)
class _PageMeta:
    title: str | None  # <title>
    site_name: str | None  # og:site_name
    og_title: str | None
    lang: str | None  # <html lang>, else content-language, else og:locale


def _page_meta(html: str) -> _PageMeta:
    """The page's own names and language, as plain one-line text."""
    from bs4 import BeautifulSoup, Tag

    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    title = suggest.clean_name(title_tag.get_text(" ", strip=True)) if isinstance(title_tag, Tag) else None
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        if isinstance(tag, Tag):
            key = str(tag.get("property") or tag.get("name") or tag.get("http-equiv") or "").strip().lower()
            content = str(tag.get("content") or "").strip()
            if key and content:
                meta.setdefault(key, content)
    root = soup.find("html")
    lang = str(root.get("lang") or root.get("xml:lang") or "").strip() if isinstance(root, Tag) else ""
    lang = lang or meta.get("content-language", "") or meta.get("og:locale", "")
    return _PageMeta(
        title,
        suggest.clean_name(meta.get("og:site_name")),
        suggest.clean_name(meta.get("og:title")),
        lang or None,
    )


def _id_or_default(slug: str, default: str = "source") -> str:
    return slug if len(slug) >= 2 else default


# ---------------------------------------------------------------------------------------------- YouTube


@dataclass(frozen=True, slots=True)
class _Address:
    kind: str  # "channel", "playlist", "feed", "page" (a handle or any other channel page)
    value: str | None  # channel or playlist id (channel/playlist/feed), handle (page)
    path: str  # path and query, to fetch from settings.youtube_base


def _is_youtube(url: str, youtube_base: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return host in youtube.YOUTUBE_HOSTS or parts.netloc.lower() == urlsplit(youtube_base).netloc.lower()


def _youtube_address(url: str) -> _Address | None:
    """What a YouTube URL names; None for addresses that are not a channel, handle or playlist."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    if not segments:
        return None
    if segments[0] == "channel" and len(segments) >= 2:
        return _Address("channel", segments[1], path)
    if segments[0] == "playlist" and query.get("list"):
        return _Address("playlist", query["list"][0], path)
    if segments[:2] == ["feeds", "videos.xml"]:
        if query.get("channel_id"):
            return _Address("channel", query["channel_id"][0], path)
        if query.get("playlist_id"):
            return _Address("playlist", query["playlist_id"][0], path)
        return None
    if segments[0].startswith("@"):
        return _Address("page", segments[0], "/" + segments[0])
    if segments[0] in ("c", "user") and len(segments) >= 2:
        return _Address("page", None, "/" + "/".join(segments[:2]))
    return None


async def _probe_youtube(url: str, address: _Address, fetcher: Fetcher, settings: Settings) -> ProbeReport:
    base = settings.youtube_base.rstrip("/")
    channel_id: str | None = None
    playlist_id: str | None = None
    handle = address.value if address.kind == "page" else None
    page_title: str | None = None
    final = url
    if address.kind == "channel":
        channel_id = youtube.normalize_channel_id(address.value)
        if channel_id is None:
            raise ParseError(PROBE_ID, f"not a YouTube channel id: {address.value!r}", url=url)
    elif address.kind == "playlist":
        playlist_id = address.value
    else:
        page_url = base + address.path
        result = await fetcher.fetch(page_url, source_id=PROBE_ID, accept=HTML_ACCEPT)
        final = result.url
        html = decode_html(result.body, result.headers)
        channel_id = youtube.channel_id_from_html(html)
        if channel_id is None:
            raise ParseError(PROBE_ID, "could not find the channel id on the channel page", url=page_url)
        meta = _page_meta(html)
        page_title = meta.og_title or meta.title
    try:
        feed_url = youtube.feed_url(channel_id=channel_id, playlist_id=None if channel_id else playlist_id)
    except ValueError as exc:
        raise ParseError(PROBE_ID, str(exc), url=url) from exc
    target = YouTubeTarget(channel_id, playlist_id, handle, feed_url)
    check, notes = await _check_youtube_feed(
        feed_url.replace(youtube.FEED_ENDPOINT, base + "/feeds/videos.xml", 1), fetcher
    )
    title = (check.title if check.ok else None) or page_title
    slug = (
        suggest.slugify((handle or "").lstrip("@"))
        or suggest.slugify(title or "")
        or suggest.slugify(channel_id or playlist_id or "")
    )
    stanza = suggest.build_stanza(
        "youtube",
        source_id=_id_or_default(f"yt-{slug}"[: suggest.MAX_ID].rstrip("-")),
        name=title,
        channel_id=channel_id,
        playlist_id=None if channel_id else playlist_id,
        language=suggest.language_code(check.language),
    )
    return ProbeReport(
        url,
        final,
        "youtube",
        title,
        suggest.language_code(check.language),
        stanza,
        feed=check,
        youtube=target,
        notes=notes,
    )


async def _check_youtube_feed(url: str, fetcher: Fetcher) -> tuple[FeedCheck, tuple[str, ...]]:
    try:
        result = await fetcher.fetch(url, source_id=PROBE_ID, accept=FEED_ACCEPT)
        feed = youtube.parse_youtube(result.body, source_id=PROBE_ID, url=result.url, headers=result.headers)
    except SourceError as exc:
        return FeedCheck(url=url, origin="youtube", ok=False, reason=exc.reason), (
            f"the channel feed could not be read: {exc.reason}",
        )
    return _feed_check(result.url, "youtube", feed), ()
