"""News pages (``kind: page``): an article page becomes a :class:`RawEntry`. Pure: bytes or text in,
values out.

The main text comes from trafilatura in precision mode (measured on the Article Extraction Benchmark, see
``bench/bench_articles.py``), with a balanced-mode rescue when precision mode keeps too little. Title,
author and description come from trafilatura's metadata; the publication time from the page's structured
metadata (JSON-LD, ``article:published_time`` and the like) because it keeps the time and the offset, else
from the date the page shows (:mod:`mediawatch.collect.datelines`).

Listing pages (which links are articles) are handled in :mod:`mediawatch.collect.links`; its public names
are re-exported here so the collector imports one module for the page kind.
"""

from __future__ import annotations

import codecs
import html as html_lib
import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, time, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any
from zoneinfo import ZoneInfo

import charset_normalizer
import trafilatura
from lxml import etree
from lxml import html as lxml_html

from mediawatch.collect import authors
from mediawatch.collect.links import LinkReport, Reason, declared_feeds, extract_links
from mediawatch.errors import ParseError
from mediawatch.models import ItemKind, RawEntry, SourceId

__all__ = [
    "LinkReport",
    "Reason",
    "declared_feeds",
    "decode_html",
    "extract_article",
    "extract_links",
    "parse_datetime",
]

# trafilatura settings, chosen on the AEB and the trafilatura evaluation subset (bench/bench_articles.py):
# precision mode drops related-story lists and newsletter boxes that the default keeps; comments are not
# part of an article. Tables are left out: on sites laid out in tables (old association and PHP sites) they
# brought the menu row ("ANASAYFA | HAKKIMIZDA | …") and the footer into the text and the summary, while the
# AEB score barely moves (F1 0.969 without, 0.970 with; the trafilatura subset is unchanged).
_TEXT_OPTIONS: Mapping[str, Any] = {
    "favor_precision": True,
    "include_comments": False,
    "include_tables": False,
}
_DATE_OPTIONS: Mapping[str, Any] = {
    "original_date": True,
    "extensive_search": True,
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
}
# Precision mode occasionally throws away the whole body. When it keeps less than this many characters,
# the balanced mode runs too and wins if it found at least twice as much text.
_RESCUE_BELOW_CHARS = 1500
_RESCUE_RATIO = 2.0
_SUMMARY_CHARS = 300
# Usable text: at least this many characters outside link labels, and at least half of the text.
_MIN_OWN_TEXT_CHARS = 40
_MIN_OWN_SHARE = 0.5
_MIN_DESCRIPTION_CHARS = 30
_MAX_AUTHOR_CHARS = 200
# Elements whose content a reader never sees as the page's text: scripts (a JSON-LD one is kept as metadata),
# styles, what a browser with scripts on does not show (noscript) and inert templates. Removed before anything
# reads the page, so none of it becomes the title (an <h1> holding a <script>), the text or a dateline.
_HIDDEN = ("script", "style", "noscript", "template")

_ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "askpublicnewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "blogposting",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "liveblogposting",
        "scholarlyarticle",
        "report",
        "socialmediaposting",
        "videoobject",
        "webpage",
    }
)
_DATE_META_NAMES = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "publication_date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "sailthru.date",
    "parsely-pub-date",
    "date",
)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# Labels whose WHATWG meaning is a superset of what Python's codec of the same name decodes.
_CODEC_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso-8859-9": "cp1254",
    "latin5": "cp1254",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "tis-620": "cp874",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
}


def decode_html(data: bytes, declared: str | None = None) -> str:
    """Bytes of an HTML page to text: a byte-order mark wins; then strict UTF-8 (a page that decodes as
    UTF-8 is UTF-8, whatever a stale header or meta tag claims); then ``declared`` (the HTTP charset);
    then ``<meta charset>``; then detection; then windows-1252."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    meta = _META_CHARSET.search(data[:4096])
    for label in (declared, meta.group(1).decode("ascii", "replace") if meta else None):
        chosen = _codec(label)
        if chosen is not None:
            return data.decode(chosen, errors="replace")
    best = charset_normalizer.from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode("cp1252", errors="replace")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    name = _CODEC_ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    # A page cannot really be UTF-16/32 if its meta tag was readable as ASCII: WHATWG reads it as UTF-8.
    return "utf-8" if codec.startswith(("utf-16", "utf-32")) else codec


def parse_datetime(value: str, zone: tzinfo | None = None) -> datetime | None:
    """An ISO 8601 or RFC 2822 timestamp as an aware UTC datetime. A time without an offset is in ``zone``
    (the source's), else taken as UTC; a bare date is midnight UTC. Years outside 1990..2100 are refused as
    noise."""
    text = value.strip()
    if not text:
        return None
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text.replace(" UTC", "+00:00").replace(" GMT", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed is None or not 1990 <= parsed.year <= 2100:
        return None
    # a time without an offset is in the source's zone; RFC 2822's "-0000" is UTC, its local offset unknown
    if parsed.tzinfo is None:
        timed = zone is not None and parsed.time() != time() and not text.endswith("-0000")
        return parsed.replace(tzinfo=zone).astimezone(UTC) if timed else parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- the page's own metadata ---


class _Head:
    """Metadata read from the page itself: <html lang>, <meta> values by name/property, JSON-LD objects."""

    def __init__(self, tree: lxml_html.HtmlElement | None) -> None:
        self.lang: str | None = None
        self.meta: dict[str, str] = {}
        self.jsonld: list[dict[str, Any]] = []
        if tree is None:
            return
        root = tree.getroottree().getroot()
        self.lang = (root.get("lang") or root.get("xml:lang") or "").strip() or None
        for meta in tree.iter("meta"):
            key = (
                meta.get("property")
                or meta.get("name")
                or meta.get("itemprop")
                or meta.get("http-equiv")
                or ""
            )
            content = meta.get("content")
            key = key.strip().lower()
            if key and content and key not in self.meta:
                self.meta[key] = content.strip()
        for element in tree.iter():
            if element.tag == "time" and element.get("itemprop", "").lower() == "datepublished":
                self.meta.setdefault(
                    "datepublished", (element.get("datetime") or element.text_content()).strip()
                )
        for script in tree.xpath('//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]'):
            try:
                data = json.loads(script.text_content() or "null")
            except ValueError:
                continue
            self.jsonld.extend(_json_objects(data))

    def articles(self, *, webpages: bool = True) -> Iterator[dict[str, Any]]:
        """JSON-LD objects of article-like types, most specific first (WebPage last, if at all)."""
        typed = [(o, _types(o)) for o in self.jsonld]
        yield from (o for o, t in typed if t & _ARTICLE_TYPES and "webpage" not in t)
        if webpages:
            yield from (o for o, t in typed if "webpage" in t)


def _json_objects(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for entry in data:
            yield from _json_objects(entry)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _json_objects(graph)


def _types(obj: Mapping[str, Any]) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    return {str(v).lower() for v in values if v}


def _parse_tree(text: str) -> lxml_html.HtmlElement | None:
    try:
        tree = lxml_html.fromstring(text)
    except (etree.ParserError, ValueError):
        return None
    return _without_hidden(tree)


def _without_hidden(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """``tree`` without the elements a reader never sees as text (:data:`_HIDDEN`), their tails kept; a JSON-LD
    script stays (it is metadata, read by :class:`_Head`, never text)."""
    for element in list(tree.iter(*_HIDDEN)):
        if element.tag == "script" and "ld+json" in (element.get("type") or "").lower():
            continue
        if element.getparent() is not None:
            element.drop_tree()
    return tree


def _published(head: _Head, tree: lxml_html.HtmlElement | None, *, url: str, language: str | None,
               now: datetime | None, zone: tzinfo | None) -> datetime | None:
    """Article JSON-LD, then article meta tags, then a WebPage's JSON-LD date, then the date the page shows
    (:func:`mediawatch.collect.datelines.find_published`)."""
    for obj in head.articles(webpages=False):
        if parsed := _jsonld_date(obj, zone):
            return parsed
    for name in _DATE_META_NAMES:
        value = head.meta.get(name)
        if value and (parsed := parse_datetime(value, zone)):
            return parsed
    for obj in head.articles():
        if parsed := _jsonld_date(obj, zone):
            return parsed
    if tree is None:
        return None
    from mediawatch.collect.datelines import find_published

    return find_published(tree, url=url, language=language, now=now or datetime.now(UTC),
                          options=dict(_DATE_OPTIONS), zone=zone)


def _jsonld_date(obj: Mapping[str, Any], zone: tzinfo | None) -> datetime | None:
    for key in ("datePublished", "dateCreated", "uploadDate"):
        value = obj.get(key)
        if isinstance(value, str) and (parsed := parse_datetime(value, zone)):
            return parsed
    return None


def _language(head: _Head, text: str) -> str | None:
    """The page's declared language (primary subtag), unless its script is not the text's: then None, and
    the source's language or detection decides."""
    from mediawatch.classify.lang import contradicts_script

    declared = _declared_language(head)
    return None if contradicts_script(declared, text) else declared


def _declared_language(head: _Head) -> str | None:
    candidates = [
        head.lang,
        head.meta.get("content-language"),
        head.meta.get("og:locale"),
        head.meta.get("language"),
    ]
    candidates.extend(
        str(o.get("inLanguage")) for o in head.articles() if isinstance(o.get("inLanguage"), str)
    )
    for value in candidates:
        if value and (
            match := re.match(r"^\s*([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]+)*\s*$", value.split(",")[0])
        ):
            return match.group(1).lower()
    return None


def _jsonld_author(head: _Head) -> str | None:
    for obj in head.articles():
        authors = obj.get("author")
        entries = authors if isinstance(authors, list) else [authors]
        names = [a.get("name") if isinstance(a, dict) else a for a in entries]
        clean = [n.strip() for n in names if isinstance(n, str) and n.strip()]
        if clean:
            return "; ".join(clean)
    return None


def _author(value: str | None, head: _Head, url: str) -> str | None:
    """A byline's name, or None for a profile URL, a CMS account or the outlet's own name (a site that puts
    itself in ``<meta name="author">``); see :mod:`mediawatch.collect.authors`."""
    return authors.person(
        _clean(value, _MAX_AUTHOR_CHARS), url=url,
        outlet_names=(head.meta.get("og:site_name"), head.meta.get("application-name")),
    )


def _headline(title: str | None, tree: lxml_html.HtmlElement | None, site: str | None = None) -> str | None:
    """``title``, unless it is the site's part of ``<title>`` ("Kazak Türkleri Vakfı - Headline"): no heading
    of the page, while another part is an ``<h1>`` or ``<h2>``; then that part."""
    full = tree.findtext(".//title") if tree is not None else None
    if not title or not full or tree is None:
        return title
    parts = [" ".join(part.split()) for part in authors.TITLE_PARTS.split(full.strip())]
    if len(parts) < 2 or title not in parts:
        return title
    # an <h3> is as often a box's title as a headline, and a heading holding a link is a logo or a teaser
    headings = {" ".join(h.text_content().split()) for h in tree.iter("h1", "h2") if next(h.iter("a"), None) is None}
    if title in headings:
        return title
    return next((part for part in parts if part in headings and part != " ".join((site or "").split())), title)


def _clean(value: str | None, limit: int | None = None) -> str | None:
    if not value:
        return None
    text = " ".join(value.split())
    if limit is not None and len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    return text or None


def _without_title_line(text: str, title: str) -> str:
    """The text without a first line that only repeats the title (the headline is ``title`` already)."""
    first, _, rest = text.partition("\n")
    if rest.strip() and " ".join(first.split()).casefold() == title.casefold():
        return rest.strip()
    return text


def _excerpt(text: str, limit: int = _SUMMARY_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0].rstrip(",;:-–—")
    return cut + "…"


# --- main text ---


def _usable(text: str, tree: lxml_html.HtmlElement | None) -> bool:
    """Text that is more than the page's link labels (a section front yields only menu and headline text)."""
    if not text:
        return False
    if tree is None:
        return True
    labels = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    own = sum(len(line) for line in lines if line not in labels)
    return own >= _MIN_OWN_TEXT_CHARS and own >= _MIN_OWN_SHARE * sum(len(line) for line in lines)


def _main_text(page: str, url: str) -> tuple[str, Any]:
    """(main text, trafilatura Document with metadata or None).

    trafilatura reads the page as it would (its own parser), without the elements a reader never sees
    (:data:`_HIDDEN`): its metadata takes the title from the ``<h1>`` text including a ``<script>`` inside it,
    and its text keeps what a ``<template>`` holds."""
    from trafilatura.utils import load_html

    loaded = load_html(page)
    source: Any = _without_hidden(loaded) if loaded is not None else page  # (it copies a tree it is given)
    document = trafilatura.bare_extraction(
        # its date is not used (see _published): the quick search is enough
        source, url=url, with_metadata=True, date_extraction_params={**_DATE_OPTIONS, "extensive_search": False},
        **_TEXT_OPTIONS,
    )
    text = (getattr(document, "text", None) or "").strip()
    if len(text) < _RESCUE_BELOW_CHARS:
        balanced = (trafilatura.extract(source, url=url, include_comments=False) or "").strip()
        if len(balanced) >= _RESCUE_RATIO * max(len(text), 1):
            text = balanced
    return text, document


def extract_article(html: bytes | str, *, url: str, source_id: str, encoding: str | None = None,
                    language: str | None = None, now: datetime | None = None,
                    timezone: str | None = None) -> RawEntry:
    """One article page as a RawEntry (kind ARTICLE): main text, title, author, publication time (aware UTC
    or None), language (primary subtag, lower case) and ``summary_html`` (the page's description or the
    text's opening, as escaped plain text). ``encoding`` is the HTTP charset, if the response had one;
    ``language`` the source's (for reading a dateline when the page declares none), ``now`` the fetch
    time (for "yesterday") and ``timezone`` the source's IANA zone: a time the page gives without an offset is
    read in it (without one, only a dateline's day is kept, and a structured time is taken as UTC).

    Raises ParseError(source_id, "no article text found", url=url) when the page has no usable main text."""
    page = decode_html(html, encoding) if isinstance(html, bytes) else html
    page = _XML_DECLARATION.sub("", page, count=1)
    if not page.strip():
        raise ParseError(source_id, "no article text found", url=url)
    try:
        text, document = _main_text(page, url)
    except (ValueError, TypeError, etree.LxmlError) as exc:
        raise ParseError(source_id, f"article HTML could not be parsed: {exc}", url=url) from exc
    tree = _parse_tree(page)
    if not _usable(text, tree):
        raise ParseError(source_id, "no article text found", url=url)
    head = _Head(tree)

    title = _headline(_clean(getattr(document, "title", None)), tree, head.meta.get("og:site_name")) or _clean(
        head.meta.get("og:title"))
    if not title:
        title = _clean(text.splitlines()[0], 200) or url
    author = _author(getattr(document, "author", None), head, url) or _author(
        _jsonld_author(head) or head.meta.get("author") or head.meta.get("article:author"), head, url
    )
    description = _clean(getattr(document, "description", None)) or _clean(
        head.meta.get("og:description") or head.meta.get("description")
    )
    if description and (len(description) < _MIN_DESCRIPTION_CHARS or description == title):
        description = None
    text = _without_title_line(text, title)
    # the page's declared language when its script fits the text (a dateline is read in it, else the source's)
    page_language = _language(head, f"{title}\n{text}")
    summary = _excerpt(description) if description else _excerpt(text)

    return RawEntry(
        source_id=SourceId(source_id),
        url=url,
        title=title,
        kind=ItemKind.ARTICLE,
        summary_html=html_lib.escape(summary, quote=False),
        text=text,
        published=_published(head, tree, url=url, language=page_language or language, now=now,
                             zone=ZoneInfo(timezone) if timezone else None),
        author=author,
        language=page_language,
    )
