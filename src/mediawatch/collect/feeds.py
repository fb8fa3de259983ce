"""RSS / Atom / RDF (through feedparser, from bytes) and JSON Feed, turned into typed ``ParsedFeed`` values.

No HTTP here: the fetch layer hands over the body and response headers. feedparser is only ever given a
byte stream, never a URL or path (``feedparser.parse(bytes)`` would open a local file whose name matches
the body). Its dicts do not leave this module.

Errors are ``ParseError`` with a reason a person can act on: ``empty response``, ``not a feed (HTML
returned)``, ``XML error at line 3: …``, ``XML entity declarations are not allowed``. Ill-formed feeds that
still yield entries are kept and flagged through ``ParsedFeed.warning``.
"""

from __future__ import annotations

import codecs
import html
import io
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urljoin
from xml.sax import SAXParseException

import charset_normalizer
import feedparser  # type: ignore[import-untyped]

from mediawatch.collect import authors, feed_bytes, feed_dates
from mediawatch.errors import ParseError
from mediawatch.models import MediaValue, RawEntry, SourceId
from mediawatch.normalize import html_to_text, is_web_url, without_surrogates

SNIFF_BYTES = 1 << 20  # how much of the body the prolog checks look at
MIN_COHERENCE = 0.5  # charset_normalizer's language coherence needed before a detected charset is trusted
FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
HTML_ROOTS = frozenset({"html", "head", "body"})
_FALLBACK_ENCODINGS = frozenset({"windows-1252", "iso-8859-2"})  # feedparser's guesses of last resort
_SY_PERIOD_MINUTES = {"hourly": 60, "daily": 1440, "weekly": 10080, "monthly": 43200, "yearly": 525600}

_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)["'][^"']*["']""")
_XML_DECL_CHARSET = re.compile(r"""\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)""")
_DECLARED_CHARSET = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One parsed feed document: feed-level facts and its entries, in document order."""

    title: str | None
    link: str | None
    language: str | None
    entries: tuple[RawEntry, ...]
    warning: str | None  # why the feed is degraded (ill-formed XML, wrong charset, …), else None
    format: str  # feedparser's version ("rss20", "atom10", "rss10", …), "json10"/"json11", or "unknown"
    ttl_minutes: int | None  # what the feed asks for between polls (RSS ttl, sy:updatePeriod)
    channel_id: str | None = None  # YouTube: the raw feed-level yt:channelId (normalised by youtube.py)
    unzoned: int = 0  # entries whose time was written without an offset


# ------------------------------------------------------------------------------------- entry point


def parse_feed(
    body: bytes,
    *,
    source_id: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    channel_authors: bool = False,
    timezone: str | None = None,
) -> ParsedFeed:
    """Parse a fetched feed body. ``url`` is the address it came from (the base for relative links).

    An entry's author that is the feed's own title (the outlet naming itself) is dropped, unless
    ``channel_authors``: on YouTube the channel is the author of its videos. ``timezone`` (an IANA name): the
    zone of entry times written without an offset; without it they are read as UTC, and the feed's warning
    says how many were."""
    lowered = {key.lower(): value for key, value in (headers or {}).items()}
    content_type = lowered.get("content-type", "").lower()
    if not body.lstrip(b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"):
        raise ParseError(source_id, "empty response", url=url)
    if body.startswith(b"\x1f\x8b"):  # a .xml.gz file served as such: nothing asked the client to decompress it
        raise ParseError(source_id, "not a feed (gzip-compressed file, sent without Content-Encoding)", url=url)
    if (binary := _binary_kind(body, content_type)) is not None:  # not "XML error at line 2: not well-formed"
        raise ParseError(source_id, f"not a feed ({binary})", url=url)
    if body.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] in (b"{", b"["):
        return parse_json_feed(body, source_id=source_id, url=url, timezone=timezone)

    window = body[:SNIFF_BYTES].replace(b"\x00", b"").decode("latin-1").lstrip("\xef\xbb\xbf\xfe\xff")
    root, doctype = feed_bytes.root_element(window)
    if root in HTML_ROOTS:
        raise ParseError(source_id, "not a feed (HTML returned)", url=url)
    # The whole body, not just the window: a prolog padded past SNIFF_BYTES (whitespace, a long comment)
    # would otherwise hide a DOCTYPE whose entities the XML parser expands (~100x the body, expat's limit).
    whole = window if len(body) <= SNIFF_BYTES else body.replace(b"\x00", b"").decode("latin-1")
    if re.search(r"<!ENTITY", feed_bytes.outside_comments(whole), re.IGNORECASE):
        raise ParseError(source_id, "XML entity declarations are not allowed", url=url)

    base = _document_base(url, lowered)
    lowered, charset_note = _trust_utf8(body, lowered)
    result = _feedparser(body, lowered)
    warning = _join(charset_note, _warning(result))
    if _decoded_with_a_guess(result):
        redecoded = _redecode(body, lowered, result.get("bozo_exception"))
        if redecoded is not None:
            result, warning = redecoded

    raw_entries: list[Any] = list(result.get("entries") or [])
    version = str(result.get("version") or "")
    if not raw_entries:
        if "html" in content_type or ("html" in doctype.lower() and root not in FEED_ROOTS):
            raise ParseError(source_id, "not a feed (HTML returned)", url=url)
        error = result.get("bozo_exception")
        if isinstance(error, SAXParseException):
            reason = f"XML error at line {error.getLineNumber()}: {error.getMessage()}"
            raise ParseError(source_id, reason, url=url) from error
        if not version:
            reason = f"not a feed (XML root <{root}>)" if root else "not a feed (no XML root element)"
            raise ParseError(source_id, reason, url=url)
    if raw_entries and not version:
        warning = _join(warning, "unrecognised feed format; entries read anyway")

    feed: Mapping[str, Any] = dict(result.get("feed") or {})
    language = _str(feed.get("language"))
    outlet = None if channel_authors else _detail_text(feed, "title")
    read = [_entry(raw, SourceId(source_id), base, language, outlet) for raw in raw_entries]
    entries, unzoned, zone_note = feed_dates.in_zone(
        tuple(entry for entry, _ in read), [written for _, written in read], timezone
    )
    return ParsedFeed(
        title=_detail_text(feed, "title"),
        link=_link(feed.get("link"), base),
        language=language,
        entries=_dedupe_guids(entries),
        warning=_join(warning, zone_note),
        format=version or "unknown",
        ttl_minutes=_ttl_minutes(feed),
        channel_id=_str(feed.get("yt_channelid")),
        unzoned=unzoned,
    )


# ------------------------------------------------------------------------------- document checks


_MAGIC = ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"),
          (b"%PDF", "application/pdf"), (b"PK\x03\x04", "application/zip"), (b"RIFF", "image/webp"))


def _binary_kind(body: bytes, content_type: str) -> str | None:
    """What a body that is no text at all is (an image, a PDF, an archive), or None."""
    kind = content_type.split(";")[0].strip()
    for magic, name in _MAGIC:
        if body.startswith(magic):
            return kind if kind and "xml" not in kind and "json" not in kind else name
    if kind.split("/")[0] in ("image", "audio", "video") and not kind.endswith("+xml"):
        return kind
    return None


def _document_base(url: str, headers: Mapping[str, str]) -> str:
    """The base for relative links: an http(s) Content-Location (resolved against the URL), else the URL."""
    location = headers.get("content-location", "").strip()
    if location:
        try:
            joined = urljoin(url, location)
        except ValueError:
            return url
        if is_web_url(joined):
            return joined
    return url


def _feedparser(body: bytes, headers: Mapping[str, str]) -> Any:
    """feedparser over a stream. No base URL is given to it: it would also "resolve" guids such as
    ``t3_glvkc5`` into URLs; links are resolved here instead (``_link``), against ``_document_base``.

    feedparser's own HTML sanitizing and link rewriting inside content are switched off: every HTML value
    becomes plain text here (:func:`~mediawatch.normalize.html_to_text`), which drops scripts and markup,
    and the passes cost about a quarter of feedparser's time."""
    response_headers = {k: v for k, v in headers.items() if k != "content-location"}
    return feedparser.parse(
        io.BytesIO(feed_bytes.mend_references(body)),
        response_headers=response_headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )


def _trust_utf8(body: bytes, headers: dict[str, str]) -> tuple[dict[str, str], str | None]:
    """Headers to parse with. A legacy charset (HTTP header or XML declaration) is overridden when the body
    is valid UTF-8 with non-ASCII text: legacy-charset text is practically never valid UTF-8 by accident."""
    content_type = headers.get("content-type", "")
    declared = _DECLARED_CHARSET.search(content_type) or _XML_DECL_CHARSET.match(body[:512].decode("latin-1"))
    if declared is None or body.isascii():
        return headers, None
    try:
        if codecs.lookup(declared.group(1)).name.startswith("utf"):
            return headers, None
        body.decode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return headers, None
    mime = content_type.split(";")[0].strip() or "application/xml"
    note = f"charset: declared as {declared.group(1)}, but the bytes are UTF-8; read as UTF-8"
    return {**headers, "content-type": f"{mime}; charset=utf-8"}, note


def _decoded_with_a_guess(result: Any) -> bool:
    """True when the declared charsets all failed and feedparser fell back to a Western guess."""
    error = result.get("bozo_exception")
    encoding = str(result.get("encoding") or "").lower()
    return isinstance(error, feedparser.CharacterEncodingOverride) and encoding in _FALLBACK_ENCODINGS


def _redecode(body: bytes, headers: Mapping[str, str], error: object) -> tuple[Any, str | None] | None:
    """Detect the real charset of a body whose declared one is wrong and parse it again as UTF-8."""
    best = charset_normalizer.from_bytes(body).best()
    if (
        best is None
        or best.coherence < MIN_COHERENCE
        or codecs.lookup(best.encoding).name in {"cp1252", "iso8859-2"}
    ):
        return None  # no language recognisable in any charset (line noise): keep feedparser's reading
    text = _XML_DECL_ENCODING.sub(r'\1"utf-8"', str(best), count=1)
    retyped = {**headers, "content-type": "application/xml; charset=utf-8"}
    result = _feedparser(text.encode("utf-8"), retyped)
    if not result.get("entries"):
        return None
    note = f"charset: {error}, which garbles the text; detected {best.encoding} and read as that"
    return result, _join(note, _warning(result))


def _warning(result: Any) -> str | None:
    """A person-readable note for a degraded-but-usable parse, or None when feedparser was content."""
    error = result.get("bozo_exception")
    if not result.get("bozo") or isinstance(error, feedparser.NonXMLContentType):
        return _served_as(result)
    if isinstance(error, SAXParseException):
        return f"ill-formed XML at line {error.getLineNumber()}: {error.getMessage()}; read leniently"
    if isinstance(error, feedparser.CharacterEncodingOverride):
        return f"charset: {error}"
    return f"{type(error).__name__}: {error}" if error else "ill-formed feed"


def _served_as(result: Any) -> str | None:
    """A note when the server labelled the feed as something other than XML (harmless; worth knowing)."""
    content_type = str((result.get("headers") or {}).get("content-type", "")).split(";")[0].strip()
    if not content_type or "xml" in content_type or "rss" in content_type or "atom" in content_type:
        return None
    return f"served as {content_type}, not an XML type"


def _join(*notes: str | None) -> str | None:
    kept = [note for note in notes if note]
    return "; ".join(kept) if kept else None


# --------------------------------------------------------------------------------- feedparser dicts


def _str(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _detail_text(node: Mapping[str, Any], key: str) -> str | None:
    """Plain text of a feedparser text construct (``title``), stripping markup when it is HTML."""
    value = _str(node.get(key))
    if value is None:
        return None
    detail = node.get(f"{key}_detail") or {}
    if "html" in str(detail.get("type", "")):
        return html_to_text(value) or None
    return value


def _as_html(value: str, content_type: str) -> str:
    return value if "html" in content_type else html.escape(value, quote=False)


def _link(value: object, base: str) -> str | None:
    link = _str(value)
    if link is None:
        return None
    try:
        return urljoin(base, link)
    except ValueError:
        return link


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip().replace(",", ""))
    except ValueError:
        return None


def _media_url(base: str, url: str) -> str | None:
    """An absolute http(s) URL for a thumbnail or enclosure, or None (``javascript:``, ``data:``, garbage)."""
    try:
        absolute = urljoin(base, url.strip())
    except ValueError:
        return None
    return absolute if is_web_url(absolute) else None


def _media(entry: Mapping[str, Any], base: str) -> dict[str, MediaValue]:
    """Media RSS, enclosure and YouTube (``yt:``) facts an entry carries."""
    media: dict[str, MediaValue] = {}
    thumbnails = entry.get("media_thumbnail") or []
    enclosures = [link for link in entry.get("links") or [] if link.get("rel") == "enclosure"]
    image = next((e for e in enclosures if str(e.get("type", "")).startswith("image/")), None)
    thumbnail = _str(thumbnails[0].get("url")) if thumbnails else _str((image or {}).get("href"))
    if thumbnail and (url := _media_url(base, thumbnail)):
        media["thumbnail"] = url
    if enclosures and (href := _str(enclosures[0].get("href"))) and (url := _media_url(base, href)):
        media["enclosure"] = url
        if kind := _str(enclosures[0].get("type")):
            media["enclosure_type"] = kind
    for key, node, field in (("views", "media_statistics", "views"), ("likes", "media_starrating", "count")):
        number = _int((entry.get(node) or {}).get(field))
        if number is not None:
            media[key] = number
    for key, field in (("video_id", "yt_videoid"), ("channel_id", "yt_channelid")):
        if text := _str(entry.get(field)):
            media[key] = text
    return media


def _entry(
    node: Mapping[str, Any], source_id: SourceId, base: str, feed_language: str | None, outlet: str | None
) -> tuple[RawEntry, str | None]:
    """The entry, and its date as written in the field its time came from (for :func:`feed_dates.in_zone`)."""
    # A plain dict: FeedParserDict answers "updated_parsed" with "published_parsed" (and a warning).
    entry = dict(node)
    published, written = feed_dates.entry_time(entry)
    contents = [c for c in entry.get("content") or [] if _str(c.get("value"))]
    longest = max(contents, key=lambda c: len(c["value"]), default=None)
    longest_html = _as_html(longest["value"], str(longest.get("type", ""))) if longest else None
    if longest_html is None:  # Russian outlets' Yandex feeds carry the article in their own elements (with markup)
        longest_html = _str(entry.get("yandex_full-text")) or _str(entry.get("turbo_content"))
    summary = _str(entry.get("summary"))
    summary_type = str((entry.get("summary_detail") or {}).get("type", "text/html"))
    details = [entry.get(key) or {} for key in ("title_detail", "summary_detail")]
    language = next((_str(d.get("language")) for d in details if _str(d.get("language"))), feed_language)
    author_detail = entry.get("author_detail") or {}
    media = _media(entry, base)
    # an episode without a link (a podcast) is reached through its audio or video
    url = _link(entry.get("link"), base) or str(media.get("enclosure") or "")
    raw = RawEntry(
        source_id=source_id,
        url=url,
        title=_detail_text(entry, "title") or "",
        guid=_str(entry.get("id")),
        summary_html=_as_html(summary, summary_type) if summary is not None else longest_html,
        text=(html_to_text(longest_html) or None) if longest_html else None,
        published=published,
        author=authors.person(
            _str(author_detail.get("name")) or _str(entry.get("author")), url=url or base, outlet_names=(outlet,)
        ),
        language=language,
        media=media,
    )
    return raw, written


def _dedupe_guids(entries: tuple[RawEntry, ...]) -> tuple[RawEntry, ...]:
    """Feeds that give every item the same guid: drop the guid from those entries so the link decides."""
    counts = Counter(entry.guid for entry in entries if entry.guid)
    if all(count == 1 for count in counts.values()):
        return entries
    return tuple(replace(e, guid=None) if e.guid and counts[e.guid] > 1 else e for e in entries)


def _ttl_minutes(feed: Mapping[str, Any]) -> int | None:
    ttl = _int(feed.get("ttl"))
    if ttl is not None and ttl > 0:
        return ttl
    period = _SY_PERIOD_MINUTES.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    frequency = _int(feed.get("sy_updatefrequency")) or 1
    return max(1, period // frequency) if period and frequency > 0 else None


# -------------------------------------------------------------------------------------- JSON Feed


def _json_str(node: Mapping[str, object], key: str) -> str | None:
    """A string member, stripped; None when absent or blank. Lone surrogates (a ``"\\ud800"`` escape without
    its pair) are removed: no encoder accepts them, so one would stop the whole source from being stored."""
    value = node.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and not value.isascii():
        value = without_surrogates(value)
    return _str(value)


def _json_author(node: Mapping[str, object]) -> str | None:
    listed = node.get("authors")
    candidates = listed if isinstance(listed, list) else [node.get("author")]
    names = [_json_str(a, "name") for a in candidates if isinstance(a, dict)]
    return ", ".join(name for name in names if name) or None


def _json_entry(
    item: Mapping[str, object], source_id: SourceId, base: str, feed: Mapping[str, object]
) -> RawEntry:
    content_html, content_text = _json_str(item, "content_html"), _json_str(item, "content_text")
    summary = _json_str(item, "summary")
    summary_html = content_html or html.escape(summary or content_text or "", quote=False) or None
    media: dict[str, MediaValue] = {}
    thumbnail = _json_str(item, "image") or _json_str(item, "banner_image")
    if thumbnail and (image := _media_url(base, thumbnail)):
        media["thumbnail"] = image
    url = _link(_json_str(item, "url") or _json_str(item, "external_url"), base) or ""
    return RawEntry(
        source_id=source_id,
        url=url,
        title=_json_str(item, "title") or "",
        guid=_json_str(item, "id"),
        summary_html=summary_html,
        text=content_text or (html_to_text(content_html) if content_html else None),
        published=feed_dates.iso_time(_json_str(item, "date_published") or _json_str(item, "date_modified")),
        author=authors.person(
            _json_author(item) or _json_author(feed), url=url or base, outlet_names=(_json_str(feed, "title"),)
        ),
        language=_json_str(item, "language") or _json_str(feed, "language"),
        media=media,
    )


def _json_format(version: str) -> str:
    number = version.rstrip("/").rpartition("/")[2]  # "1", "1.1"
    major, _, minor = number.partition(".")
    return f"json{major}{minor or '0'}"


def parse_json_feed(body: bytes, *, source_id: str, url: str, timezone: str | None = None) -> ParsedFeed:
    """JSON Feed 1.0 / 1.1 (https://jsonfeed.org), which feedparser 6 does not read."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as error:
        raise ParseError(source_id, f"JSON error at line {error.lineno}: {error.msg}", url=url) from error
    except (ValueError, RecursionError) as error:
        raise ParseError(source_id, f"unreadable JSON ({type(error).__name__})", url=url) from error
    version = _json_str(document, "version") if isinstance(document, dict) else None
    if not isinstance(document, dict) or not version or "jsonfeed.org/version/" not in version:
        raise ParseError(source_id, "not a feed (JSON without a JSON Feed version)", url=url)
    items = document.get("items")
    if not isinstance(items, list):
        raise ParseError(source_id, "JSON Feed without an items list", url=url)
    language = _json_str(document, "language")
    objects = [item for item in items if isinstance(item, dict)]
    entries = tuple(_json_entry(item, SourceId(source_id), url, document) for item in objects)
    written = [_json_str(item, "date_published") or _json_str(item, "date_modified") for item in objects]
    entries, unzoned, zone_note = feed_dates.in_zone(entries, written, timezone)
    skipped = len(items) - len(entries)
    return ParsedFeed(
        title=_json_str(document, "title"),
        link=_link(_json_str(document, "home_page_url"), url),
        language=language,
        entries=_dedupe_guids(entries),
        warning=_join(f"items that are not JSON objects ignored: {skipped}" if skipped else None, zone_note),
        format=_json_format(version),
        ttl_minutes=None,
        unzoned=unzoned,
    )
