"""The demo site's documents as bytes: RSS 2.0, Atom and YouTube-style feeds, a news listing page, article
pages with Open Graph / ``article:`` / JSON-LD metadata, an index page, robots.txt and video thumbnails.

Pure functions over :mod:`mediawatch.demo.catalog` values. Every piece of text goes through
``xml.sax.saxutils`` (XML) or ``html.escape`` (HTML) and JSON-LD is serialised by ``json``, so the content
can hold any character, ``<``, ``&`` and quotes included.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape as _html_escape
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import quoteattr

from mediawatch.demo.catalog import DemoItem, DemoSource, Link
from mediawatch.wording import count

YT_NS = "http://www.youtube.com/xml/schemas/2015"
MEDIA_NS = "http://search.yahoo.com/mrss/"
ATOM_NS = "http://www.w3.org/2005/Atom"
ROBOTS_TXT = "User-agent: *\nDisallow: /private/\nAllow: /\n"
THUMB_SIZE = (480, 360)


def _x(text: str) -> str:
    return _xml_escape(text)


def _h(text: str) -> str:
    return _html_escape(text, quote=True)


def _local(moment: datetime, offset: timedelta) -> datetime:
    return moment.astimezone(timezone(offset))


def _rfc822(moment: datetime, offset: timedelta) -> str:
    return format_datetime(_local(moment, offset))


def _iso(moment: datetime, offset: timedelta) -> str:
    return _local(moment, offset).isoformat(timespec="seconds")


def _paragraphs_html(item: DemoItem) -> str:
    return "".join(f"<p>{_h(p)}</p>" for p in item.paragraphs)


def _newest(items: Iterable[DemoItem], default: datetime) -> datetime:
    return max((i.published for i in items), default=default)


def _encode(text: str, charset: str) -> bytes:
    """XML text in ``charset``; characters it lacks become numeric character references."""
    return text.encode(charset, errors="xmlcharrefreplace")


# ------------------------------------------------------------------------------------------------ feeds


def rss_feed(source: DemoSource, base: str, now: datetime) -> bytes:
    """RSS 2.0 with dc:creator, categories and content:encoded; the lead alone goes in <description> when
    the item has more than one paragraph (as many sites do)."""
    off = source.utc_offset
    built = _newest(source.items, now)
    home = base + (source.home_path or "/")
    lines = [
        f'<?xml version="1.0" encoding="{source.charset}"?>',
        (
            '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"'
            ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
            ' xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        ),
        "<channel>",
        f"<title>{_x(source.name)}</title>",
        f"<link>{_x(home)}</link>",
        f"<description>{_x(source.description)}</description>",
        f"<language>{_x(source.language.lower())}</language>",
        f"<lastBuildDate>{_rfc822(built, off)}</lastBuildDate>",
        f'<atom:link href={quoteattr(source.url)} rel="self" type="application/rss+xml"/>',
        "<ttl>30</ttl>",
    ]
    for item in source.items:
        lines += [
            "<item>",
            f"<title>{_x(item.title)}</title>",
            f"<link>{_x(item.url)}</link>",
            f'<guid isPermaLink="true">{_x(item.url)}</guid>',
            f"<pubDate>{_rfc822(item.published, off)}</pubDate>",
        ]
        if item.author:
            lines.append(f"<dc:creator>{_x(item.author)}</dc:creator>")
        lines += [f"<category>{_x(tag)}</category>" for tag in item.tags]
        lead = f"<p>{_h(item.paragraphs[0])}</p>"
        lines.append(f"<description>{_x(lead)}</description>")
        if len(item.paragraphs) > 1:
            lines.append(f"<content:encoded>{_x(_paragraphs_html(item))}</content:encoded>")
        lines.append("</item>")
    lines += ["</channel>", "</rss>", ""]
    return _encode("\n".join(lines), source.charset)


def atom_feed(source: DemoSource, base: str, now: datetime) -> bytes:
    """Atom 1.0 with xml:lang, text summaries and HTML content."""
    off = source.utc_offset
    home = base + (source.home_path or "/")
    lines = [
        f'<?xml version="1.0" encoding="{source.charset}"?>',
        f'<feed xmlns="{ATOM_NS}" xml:lang={quoteattr(source.language)}>',
        f"<title>{_x(source.name)}</title>",
        f"<subtitle>{_x(source.description)}</subtitle>",
        f"<id>{_x(home)}</id>",
        f"<updated>{_iso(_newest(source.items, now), off)}</updated>",
        f'<link rel="self" type="application/atom+xml" href={quoteattr(source.url)}/>',
        f'<link rel="alternate" type="text/html" href={quoteattr(home)}/>',
        f"<author><name>{_x(source.name)}</name></author>",
    ]
    for item in source.items:
        lines += [
            "<entry>",
            f"<title>{_x(item.title)}</title>",
            f'<link rel="alternate" type="text/html" href={quoteattr(item.url)}/>',
            f"<id>{_x(item.url)}</id>",
            f"<published>{_iso(item.published, off)}</published>",
            f"<updated>{_iso(item.published, off)}</updated>",
        ]
        if item.author:
            lines.append(f"<author><name>{_x(item.author)}</name></author>")
        lines += [f"<category term={quoteattr(tag)}/>" for tag in item.tags]
        lines += [
            f'<summary type="text">{_x(item.paragraphs[0])}</summary>',
            f'<content type="html">{_x(_paragraphs_html(item))}</content>',
            "</entry>",
        ]
    lines += ["</feed>", ""]
    return _encode("\n".join(lines), source.charset)


def youtube_feed(source: DemoSource, base: str, now: datetime) -> bytes:
    """A channel feed shaped like ``youtube.com/feeds/videos.xml``: the feed-level ``yt:channelId`` without
    its ``UC`` prefix (as YouTube has sent it since 2024), entries with ``yt:videoId``, ``yt:channelId`` and
    a ``media:group`` (title, content, thumbnail, description, star rating, view count)."""
    assert source.channel_id is not None
    off = source.utc_offset
    channel = source.channel_id
    channel_url = f"https://www.youtube.com/channel/{channel}"
    oldest = min((i.published for i in source.items), default=now)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<feed xmlns:yt="{YT_NS}" xmlns:media="{MEDIA_NS}" xmlns="{ATOM_NS}">',
        f'<link rel="self" href={quoteattr(source.url)}/>',
        f"<id>yt:channel:{_x(channel.removeprefix('UC'))}</id>",
        f"<yt:channelId>{_x(channel.removeprefix('UC'))}</yt:channelId>",
        f"<title>{_x(source.name)}</title>",
        f'<link rel="alternate" href={quoteattr(channel_url)}/>',
        f"<author><name>{_x(source.name)}</name><uri>{_x(channel_url)}</uri></author>",
        f"<published>{_iso(oldest, off)}</published>",
    ]
    for item in source.items:
        video = item.key
        thumb = f"{base}/youtube/vi/{video}/hqdefault.png"
        description = "\n".join(item.paragraphs)
        lines += [
            "<entry>",
            f"<id>yt:video:{_x(video)}</id>",
            f"<yt:videoId>{_x(video)}</yt:videoId>",
            f"<yt:channelId>{_x(channel)}</yt:channelId>",
            f"<title>{_x(item.title)}</title>",
            f'<link rel="alternate" href={quoteattr(item.url)}/>',
            f"<author><name>{_x(source.name)}</name><uri>{_x(channel_url)}</uri></author>",
            f"<published>{_iso(item.published, off)}</published>",
            f"<updated>{_iso(min(item.published + timedelta(hours=2), now), off)}</updated>",
            "<media:group>",
            f"<media:title>{_x(item.title)}</media:title>",
            (
                f'<media:content url="https://www.youtube.com/v/{_x(video)}?version=3"'
                ' type="application/x-shockwave-flash" width="640" height="390"/>'
            ),
            f'<media:thumbnail url={quoteattr(thumb)} width="{THUMB_SIZE[0]}" height="{THUMB_SIZE[1]}"/>',
            f"<media:description>{_x(description)}</media:description>",
            "<media:community>",
            f'<media:starRating count="{item.likes or 0}" average="5.00" min="1" max="5"/>',
            f'<media:statistics views="{item.views or 0}"/>',
            "</media:community>",
            "</media:group>",
            "</entry>",
        ]
    lines += ["</feed>", ""]
    return "\n".join(lines).encode("utf-8")


# ------------------------------------------------------------------------------------------------ pages


def _script_direction(language: str) -> str:
    return (
        "rtl" if language.lower().endswith("-arab") or language.lower() in {"ar", "fa", "ug", "ur"} else "ltr"
    )


def _locale(source: DemoSource) -> str:
    return f"{source.language.split('-')[0].lower()}_{source.country.upper()}"


def _menu(links: Iterable[Link], css: str) -> str:
    """Site links as the site writes them: root-relative paths, absolute URLs for other sites."""
    entries = "".join(f'<li><a href="{_h(link.href)}">{_h(link.label)}</a></li>' for link in links)
    return f'<ul class="{css}">{entries}</ul>'


def _page(source: DemoSource, title: str, head: str, body: str) -> bytes:
    home = source.home_path or "/"
    nav = source.navigation or (Link(source.home_path or "/", source.name),)
    footer = source.footer
    text = (
        "<!DOCTYPE html>\n"
        f'<html lang="{_h(source.language)}" dir="{_script_direction(source.language)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_h(title)}</title>\n"
        f"{head}"
        "</head>\n<body>\n"
        '<header class="site-header">\n'
        f'<a class="logo" href="{_h(home)}">{_h(source.name)}</a>\n'
        f'<nav class="main-menu">{_menu(nav, "menu")}</nav>\n'
        "</header>\n"
        f"{body}"
        '<footer class="site-footer">\n'
        f"{_menu(footer, 'footer-links') if footer else ''}\n"
        f"<p>© {_h(source.name)}</p>\n"
        "</footer>\n"
        "</body>\n</html>\n"
    )
    return text.encode("utf-8")


def _human_time(item: DemoItem, source: DemoSource) -> str:
    return _local(item.published, source.utc_offset).strftime("%d.%m.%Y %H:%M")


def article_page(source: DemoSource, item: DemoItem) -> bytes:
    """One article: Open Graph and ``article:`` meta tags, a NewsArticle JSON-LD block, and the text."""
    assert item.path is not None
    off = source.utc_offset
    published = _iso(item.published, off)
    lead = item.paragraphs[0]
    meta = [
        ("name", "description", lead),
        ("property", "og:type", "article"),
        ("property", "og:title", item.title),
        ("property", "og:description", lead),
        ("property", "og:url", item.url),
        ("property", "og:site_name", source.name),
        ("property", "og:locale", _locale(source)),
        ("property", "article:published_time", published),
        ("property", "article:modified_time", published),
    ]
    if item.section:
        meta.append(("property", "article:section", item.section))
    meta += [("property", "article:tag", tag) for tag in item.tags]
    if item.author:
        meta.append(("name", "author", item.author))
    jsonld: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": item.title,
        "description": lead,
        "datePublished": published,
        "dateModified": published,
        "inLanguage": source.language,
        "mainEntityOfPage": {"@type": "WebPage", "@id": item.url},
        "publisher": {"@type": "Organization", "name": source.name},
    }
    if item.author:
        jsonld["author"] = {"@type": "Person", "name": item.author}
    if item.tags:
        jsonld["keywords"] = list(item.tags)
    head = "".join(f'<meta {attr}="{_h(key)}" content="{_h(value)}">\n' for attr, key, value in meta)
    head += f'<link rel="canonical" href="{_h(item.url)}">\n'
    head += f'<script type="application/ld+json">{_jsonld(jsonld)}</script>\n'
    byline = f'<span class="author">{_h(item.author)}</span> · ' if item.author else ""
    tags = "".join(f'<li class="tag">{_h(tag)}</li>' for tag in item.tags)
    body = (
        "<main>\n<article>\n"
        f"<h1>{_h(item.title)}</h1>\n"
        f'<p class="byline">{byline}<time datetime="{_h(published)}">{_human_time(item, source)}</time></p>\n'
        + "".join(f"<p>{_h(p)}</p>\n" for p in item.paragraphs)
        + (f'<ul class="tags">{tags}</ul>\n' if tags else "")
        + "</article>\n</main>\n"
    )
    return _page(source, f"{item.title} — {source.name}", head, body)


def _jsonld(data: dict[str, object]) -> str:
    """JSON that cannot end the <script> element early."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def listing_page(source: DemoSource) -> bytes:
    """The front page of a news site: story cards (each with a section link) and a "most read" list among the
    site's menus, tag, login, pagination and social links."""
    cards = []
    for item in source.items:
        if item.path is None:
            continue
        section = next((link for link in source.navigation if link.label == item.section), None)
        section_link = (
            f'<a class="news-card__section" href="{_h(section.href)}">{_h(section.label)}</a>\n'
            if section
            else ""
        )
        cards.append(
            '<article class="news-card">\n'
            f"{section_link}"
            f'<h2 class="news-card__title"><a href="{_h(item.path)}">{_h(item.title)}</a></h2>\n'
            f'<time datetime="{_h(_iso(item.published, source.utc_offset))}">{_human_time(item, source)}</time>\n'
            f"<p>{_h(item.paragraphs[0])}</p>\n"
            "</article>\n"
        )
    popular = "".join(
        f'<li><a href="{_h(item.path)}">{_h(item.title)}</a></li>' for item in source.items[:4] if item.path
    )
    head = (
        f'<meta name="description" content="{_h(source.description)}">\n'
        f'<meta property="og:type" content="website">\n'
        f'<meta property="og:site_name" content="{_h(source.name)}">\n'
    )
    body = (
        "<main>\n"
        f'<section class="news-list">\n<h1>{_h(source.name)}</h1>\n{"".join(cards)}</section>\n'
        f'<aside class="most-read"><h2>{_h(source.most_read)}</h2><ol>{popular}</ol></aside>\n'
        "</main>\n"
    )
    return _page(source, source.name, head, body)


def index_page(sources: Iterable[DemoSource]) -> bytes:
    """The site's root: what is served where, for a person opening the demo in a browser."""
    rows = []
    for source in sources:
        rows.append(
            f'<li><a href="{_h(source.url)}">{_h(source.name)}</a> — {_h(source.format)}, '
            f"{_h(source.language)}, {count(len(source.items), 'item')}</li>"
        )
    text = (
        '<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>mediawatch demo sources</title>'
        "</head>\n<body>\n<h1>mediawatch demo sources</h1>\n"
        "<p>Sample outlets written for the offline demo; outlets, people, events and numbers are invented.</p>\n"
        f"<ul>{''.join(rows)}</ul>\n</body>\n</html>\n"
    )
    return text.encode("utf-8")


# ------------------------------------------------------------------------------------------------ files


def thumbnail_png(video_id: str) -> bytes:
    """A plain-colour PNG (colour derived from the video id) standing in for a video thumbnail."""
    width, height = THUMB_SIZE
    rgb = hashlib.sha256(video_id.encode()).digest()[:3]
    row = b"\x00" + bytes(rgb) * width
    raw = row * height

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)
