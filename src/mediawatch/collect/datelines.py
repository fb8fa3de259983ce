"""The publication date of an article page that has no structured date: the dateline printed by the headline.

A page without JSON-LD or an ``article:published_time`` tag still shows its date, usually just under the
``<h1>`` ("27 қараша 2026, 14:05", "5 марта 2025", "2025年3月5日", "Вчера, 18:40"). htmldate alone, given the
whole page, too often returns another date: one from the "related stories" list, ``YYYY-01-01`` from the
copyright line (``© 2001–2026``), or the bare year. So :func:`find_published` reads, in this order:

1. the short texts right after (then just before) the article's ``<h1>`` on the page without its asides,
   navigation, footers, related lists, comments and widgets (:func:`article_part`)
   (not in captions), read by dateparser in the page's language, day before month unless the page is in
   American English, relative dates ("yesterday") against the fetch time; Kazakh in Latin or Arabic script
   is read through its Cyrillic spelling, and year-first forms ("2026 жылы 27 қараша", "2026 оны 11 сарын
   27") are turned around first. A dateline's time of day is the site's local time, which the page does not
   name, so only its day is kept (a ``<time datetime>`` with an offset keeps its time);
2. htmldate's markup rules (``<time>``, date-classed elements, the URL) on that same part of the page;
3. htmldate's extensive search on that same part of the page, unless it can only guess the first of a month
   or year that the page never prints.

When none finds a date, the caller stores the fetch time and flags it as an estimate.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from lxml import html as lxml_html

__all__ = ["article_part", "dateline", "find_published"]

# elements and class/id words of what is not the article: a date inside them belongs to something else
_ASIDE_TAGS = frozenset({"aside", "nav", "footer"})
_ASIDE_WORDS = frozenset({
    "related", "relnews", "similar", "popular", "mostread", "recommended", "recommendations", "recommend",
    "comments", "comment", "sidebar", "widget", "teaser", "readnext", "ticker", "topnews", "footer", "banner",
    "also", "readalso", "chitayte", "share",
})
_FRAME = frozenset({"html", "body", "main", "article"})
_WORD_SPLIT = re.compile(r"[\s_\-]+|(?<=[a-z])(?=[A-Z])")
_INLINE = frozenset({"br", "b", "i", "strong", "em", "small", "sup", "sub", "abbr", "span", "time"})
_SKIP = frozenset({"script", "style", "a", "h1", "ul", "ol", "table", "form", "figcaption", "figure"})
AFTER_HEADLINE = 12  # short texts read after the <h1> (byline, dateline, share bar)
BEFORE_HEADLINE = 4  # and before it (a kicker with the date above the headline)
MAX_DATELINE_CHARS = 90
MAX_AGE = timedelta(days=366 * 30)
_DIGIT = re.compile(r"\d")
# "2026 жылы 27 қараша" (kk, ky), "2026 yılı 27 Kasım": year first -> "27 қараша 2026"
_YEAR_FIRST = re.compile(
    r"(?i)\b((?:19|20)\d\d)\s*-?\s*(?:жылы|жылғы|жылдың|жылдын|жыл|yılı|yili|jyly|jılı)\s+(\d{1,2})\s*-?\s*([^\W\d_]+)"
)
# "2026 оны 11-р сарын 27" (mn)
_MONGOLIAN = re.compile(r"(?i)\b((?:19|20)\d\d)\s*оны\s*(\d{1,2})\s*(?:-?\s*р)?\s*сарын\s*(\d{1,2})")
_TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}")
_DOTTED = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{4}\b")
_DAY_HYPHEN = re.compile(r"\b(\d{1,2})-(?=[^\W\d_])")  # "27-ноябрь" (ky) -> "27 ноябрь"


def find_published(tree: lxml_html.HtmlElement, *, url: str, language: str | None, now: datetime,
                   options: dict[str, Any], zone: tzinfo | None = None) -> datetime | None:
    """The page's publication time (aware UTC) from its visible text and markup, or None; see the module
    docstring. ``options`` are htmldate's (``extensive_search`` is set here); ``now`` is the fetch time."""
    from htmldate import find_date

    from mediawatch.collect.pages import parse_datetime

    article = article_part(tree)
    if found := dateline(article, language=language, now=now, zone=zone):
        return found
    markup = find_date(article, url=url, **{**options, "extensive_search": False})
    if markup and (parsed := parse_datetime(markup)):
        return parsed
    guess = find_date(article, url=url, **{**options, "extensive_search": True})
    if guess and _printed(guess, article) and (parsed := parse_datetime(guess)):
        return parsed
    return None


def article_part(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """A copy of the page without asides, navigation, footers and elements whose class or id says they are
    related stories, comments, widgets or the like (never ``<body>``, ``<main>``, ``<article>`` or an element
    holding an ``<h1>``)."""
    doc = copy.deepcopy(tree)
    # never the page's frame or what holds a headline: WordPress puts "offcanvas-sidebar-mobile" on <body>
    keep = {a for h in doc.iter("h1") for a in h.iterancestors()}
    for element in list(doc.iter()):
        parent = element.getparent()
        if not isinstance(element.tag, str) or parent is None or element in keep or element.tag in _FRAME:
            continue
        if element.tag in _ASIDE_TAGS or _class_words(element) & _ASIDE_WORDS:
            parent.remove(element)
    return doc


def dateline(tree: lxml_html.HtmlElement, *, language: str | None, now: datetime,
             zone: tzinfo | None = None) -> datetime | None:
    """The day of the first date in the short texts after the article's ``<h1>`` (then just before it), or
    None. A date needs a day, a month and a year, unless it is relative ("Сегодня, 09:15"); one after the
    fetch day or more than 30 years old is no publication date."""
    headline = _headline(tree)
    if headline is None:
        return None
    order = {element: n for n, element in enumerate(tree.iter())}
    leaves = [e for e in order if isinstance(e.tag, str) and e.tag not in _SKIP and _is_leaf(e)]
    at = order[headline]
    after = [e for e in leaves if order[e] > at][:AFTER_HEADLINE]
    before = [e for e in leaves if order[e] < at][-BEFORE_HEADLINE:]
    for element in (*after, *reversed(before)):
        text = " ".join((element.get("datetime") or element.text_content() or "").split())
        if not text or len(text) > MAX_DATELINE_CHARS or not _DIGIT.search(text):
            continue
        found = _read_date(text, language, now, zone)
        # a site east of UTC may already print tomorrow's date
        if found is not None and (now - MAX_AGE).date() <= found.date() <= (now + timedelta(days=1)).date():
            return found
    return None


def _headline(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    """The article's ``<h1>``: one inside ``<article>`` or ``<main>``, else the page's first (a site whose
    logo is an ``<h1>`` in its header has the article's headline further down)."""
    headlines = list(tree.iter("h1"))
    inside = [h for h in headlines if any(a.tag in ("article", "main") for a in h.iterancestors())]
    return (inside or headlines or [None])[0]


def _read_date(text: str, language: str | None, now: datetime, zone: tzinfo | None = None) -> datetime | None:
    from dateparser.search import search_dates

    lang = (language or "").replace("_", "-").split("-")[0].lower() or None
    text = _normalised(text, lang)
    if (m := _MONGOLIAN.search(text)) is not None:
        try:
            return datetime(int(m[1]), int(m[2]), int(m[3]), tzinfo=UTC)
        except ValueError:
            return None
    languages = [lang, "en"] if lang and lang != "en" else ["en"]
    region = (language or "").replace("_", "-").split("-")[-1].upper() if "-" in (language or "") else None
    settings: dict[str, Any] = {
        "RELATIVE_BASE": now.astimezone(zone or UTC).replace(tzinfo=None),  # "today" where the site is
        "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["day", "month", "year"],
        # 05.03.2025 is 5 March everywhere but in American English (dateparser's own default is month first);
        # dots between the numbers are European in any language
        "DATE_ORDER": "MDY" if lang == "en" and region in (None, "US") and not _DOTTED.search(text) else "DMY",
    }
    try:
        hits = search_dates(text, languages=languages, settings=settings)
    except Exception:  # dateparser fails on odd input in many ways: this text then shows no date
        return None
    if not hits:
        return None
    written, found = hits[0]
    if found.tzinfo is None:  # a time without a zone is the site's local time: the source's zone, or the day
        if zone is not None and _TIME_OF_DAY.search(written):
            return found.replace(tzinfo=zone).astimezone(UTC)
        return datetime(found.year, found.month, found.day, tzinfo=UTC)
    return found.astimezone(UTC)


def _normalised(text: str, lang: str | None) -> str:
    """Kazakh in Latin or Arabic script in Cyrillic (dateparser knows Kazakh month names in Cyrillic only),
    year-first dates turned around and "27-ноябрь" spaced."""
    if lang in (None, "kk"):
        from mediawatch.classify.lang import Script, dominant_script, kazakh_script
        from mediawatch.classify.translit import to_cyrillic

        # a Kazakh page's Latin dateline ("27 qarasha 2026") has too few letters for the script heuristic
        script = dominant_script(text) if lang == "kk" else kazakh_script(text)
        if script in (Script.LATIN, Script.ARABIC):
            text = to_cyrillic(text, script)[0]
    text = _YEAR_FIRST.sub(r"\2 \3 \1", text)
    return _DAY_HYPHEN.sub(r"\1 ", text)


def _printed(value: str, article: lxml_html.HtmlElement) -> bool:
    """Whether htmldate's finding is a real date: anything but the first of a month, or a first of the month
    that the page prints as a day (htmldate answers YYYY-01-01 for a bare year, YYYY-MM-01 for a month)."""
    if value[8:10] != "01":
        return True
    year, month = value[:4], value[5:7]
    text = article.text_content()
    return any(form in text for form in (
        f"{year}-{month}-01", f"01.{month}.{year}", f"1.{int(month)}.{year}", f"{year}/{month}/01",
        f"{year}.{month}.01", f"{year}年{int(month)}月1日", f"01/{month}/{year}",
    ))


def _class_words(element: lxml_html.HtmlElement) -> set[str]:
    raw = f"{element.get('class') or ''} {element.get('id') or ''}"
    return {word.lower() for word in _WORD_SPLIT.split(raw) if word}


def _is_leaf(element: lxml_html.HtmlElement) -> bool:
    """An element holding text only (inline markup aside): a dateline, a byline, a counter."""
    return element.tag == "time" or not any(isinstance(c.tag, str) and c.tag not in _INLINE for c in element)
