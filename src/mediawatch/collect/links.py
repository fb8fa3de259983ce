"""Which links on a news listing page lead to articles: one rule for collecting and for ``probe``.

Pure: HTML text and the page's URL in, a :class:`LinkReport` out. No I/O, nothing built at import.

The automatic rule looks at the shape of each URL first (dates, numeric ids, multi-word slugs versus short
section names), then at where its anchors sit on the page (menus, header and footer versus articles and
headings) and at the anchor text. Every link that is not taken is reported with the reason, so an operator
can see why (``probe``). With a CSS selector the operator's choice replaces the rule.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import soupsieve
import tldextract
from bs4 import BeautifulSoup, Tag, XMLParsedAsHTMLWarning

from mediawatch.collect import link_words as vocab
from mediawatch.errors import ParseError
from mediawatch.normalize import canonical_url


class Reason(StrEnum):
    """Why a link was not taken as an article (the second element of ``LinkReport.rejected``)."""

    NOT_A_PAGE = "not a page"  # mailto:, javascript:, in-page anchors
    FILE = "file"  # PDF, images, XML, …
    SOCIAL = "social"
    ADS = "ads"
    OTHER_SITE = "other site"
    LOGIN = "login"
    TAG = "tag"
    AUTHOR = "author"
    SECTION = "section"
    NAVIGATION = "navigation"  # menus, home and edition roots, pagination, archives, service pages
    NOT_ARTICLE_LIKE = "not article-like"
    NOT_SELECTED = "not selected"  # with a selector: links the selector did not match
    DUPLICATE = "duplicate"  # an article also linked without this query (``?from=popular``)
    ROBOTS = "robots.txt"  # article-like, but robots.txt keeps us out (``probe`` asks; ``collect`` gives it up)


@dataclass(frozen=True, slots=True)
class LinkReport:
    """Article links of one listing page, in page order, and the links left out with their reasons."""

    articles: tuple[str, ...]
    rejected: tuple[tuple[str, str], ...] = field(default=())


# --- sites and URLs ---


@lru_cache(maxsize=1)
def _suffix_extractor() -> tldextract.TLDExtract:
    """The public-suffix lookup, from tldextract's bundled snapshot only (no network, no disk cache)."""
    return tldextract.TLDExtract(cache_dir=None, suffix_list_urls=(), fallback_to_snapshot=True)


def site_of(url_or_host: str) -> str:
    """The registrable domain of a URL or host (``kaz.example.kz`` -> ``example.kz``); IPs and bare hosts
    are their own site."""
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host
    host = (host or "").lower().rstrip(".")
    parts = _suffix_extractor()(host)
    return parts.top_domain_under_public_suffix or host


def _dedupe_key(url: str) -> str:
    return url.split("://", 1)[-1]


def page_base(soup: BeautifulSoup, base_url: str) -> str:
    """The URL that relative links of the page resolve against: its <base href>, else its own URL."""
    base_tag = soup.find("base", href=True)
    if isinstance(base_tag, Tag):
        href = str(base_tag.get("href") or "").strip()
        if href:
            return urljoin(base_url, href)
    return base_url


# --- one link's evidence ---


@dataclass(slots=True)
class _Occurrence:
    text_units: float
    menu: bool  # inside a menu: <nav>, <menu>, role=navigation, class nav/menu/breadcrumbs/pagination
    main: bool  # inside <main> (or role=main): menus there are usually lists of stories
    chrome: bool  # inside the site's header or footer (outside any <article>)
    ad: bool
    social: bool
    headline: bool
    sponsored: bool


@dataclass(slots=True)
class _Candidate:
    url: str
    occurrences: list[_Occurrence] = field(default_factory=list)


def _text_units(text: str) -> float:
    """Headline length in 'words': whitespace words, with two CJK characters counted as one word."""
    cjk = len(vocab.CJK.findall(text))
    words = len(vocab.WORD.findall(vocab.CJK.sub(" ", text)))
    return words + cjk / 2


def _anchor_text(anchor: Tag) -> str:
    text = " ".join(anchor.get_text(" ", strip=True).split())
    if text:
        return text
    for img in anchor.find_all("img"):
        alt = str(img.get("alt") or "").strip()
        if alt:
            return alt
    return str(anchor.get("title") or anchor.get("aria-label") or "").strip()


def _class_words(element: Tag, *, whole: bool = False) -> list[list[str]]:
    """Each class (and the id) as its words; BEM elements (``block__element``) are reduced to their block
    unless ``whole``."""
    values: list[str] = []
    classes = element.get("class")
    if isinstance(classes, list):
        values.extend(classes)
    elif isinstance(classes, str):
        values.append(classes)
    ident = element.get("id")
    if isinstance(ident, str):
        values.append(ident)
    return [
        [w for w in vocab.CLASS_SPLIT.split(v.lower() if whole else v.lower().split("__")[0]) if w] for v in values
    ]


def _occurrence(anchor: Tag) -> _Occurrence:
    menu = chrome = ad = social = headline = main = False
    ancestors = [p for p in anchor.parents if isinstance(p, Tag) and p.name not in {"html", "[document]"}]
    in_article = any(p.name == "article" for p in ancestors)
    for element in [anchor, *ancestors]:
        name = element.name
        role = str(element.get("role") or "").lower()
        groups = _class_words(element)
        words = {w for g in groups for w in g}
        if name in {"nav", "menu"} or role in vocab.NAV_ROLES or words & vocab.NAV_TOKENS:
            menu = True
        if name == "main" or role == "main":
            main = True
        site_part = name in {"header", "footer"} or any(
            {"header", "footer", "topbar"} & set(g) and not vocab.CARD_WORDS & set(g) for g in groups
        )
        if site_part and not in_article:
            chrome = True
        if words & vocab.AD_TOKENS:
            ad = True
        if words & {"share", "sharing", "social", "sharebar"}:
            social = True
        if name in {"h1", "h2", "h3", "h4", "h5", "h6", "article"}:
            headline = True
    if not headline:  # a headline-styled anchor: class "…title"/"…headline" on it, a parent or a child
        headline = any(
            isinstance(element, Tag)
            and {w for g in _class_words(element, whole=True) for w in g} & vocab.HEADLINE_TOKENS
            for element in [anchor, anchor.parent, *anchor.find_all(True)]
        )
    rel = anchor.get("rel")
    rels = {r.lower() for r in rel} if isinstance(rel, list) else set(str(rel or "").lower().split())
    return _Occurrence(
        _text_units(_anchor_text(anchor)), menu, main, chrome, ad, social, headline, "sponsored" in rels
    )


def _collect(anchors: Iterable[Tag], base: str) -> tuple[list[_Candidate], list[tuple[str, str]]]:
    candidates: dict[str, _Candidate] = {}
    unusable: list[tuple[str, str]] = []
    for anchor in anchors:
        href = str(anchor.get("href") or "").strip()
        if not href or href.startswith("#"):
            unusable.append((href or "(empty)", Reason.NOT_A_PAGE))
            continue
        absolute = urljoin(base, href)
        if urlsplit(absolute).scheme.lower() not in {"http", "https"}:
            unusable.append((absolute, Reason.NOT_A_PAGE))
            continue
        url = canonical_url(absolute)
        key = _dedupe_key(url)
        candidate = candidates.get(key)
        if candidate is None:
            candidate = candidates[key] = _Candidate(url)
        candidate.occurrences.append(_occurrence(anchor))
    return list(candidates.values()), _unique(unusable)


def _unique(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for url, reason in pairs:
        if url not in seen:
            seen.add(url)
            out.append((url, reason))
    return out


# --- the rule ---


@dataclass(frozen=True, slots=True)
class _Shape:
    host: str
    site: str
    segments: tuple[str, ...]  # decoded, lower-case, page suffix (.html, .php …) removed from the last
    query: tuple[tuple[str, str], ...]
    extension: str


def _shape(url: str) -> _Shape:
    parts = urlsplit(url)
    raw_segments = [unquote(s).lower() for s in parts.path.split("/") if s]
    extension = ""
    if raw_segments:
        last = raw_segments[-1]
        if "." in last and not vocab.PAGE_SUFFIXES.search(last):
            extension = last.rsplit(".", 1)[1]
        raw_segments[-1] = vocab.PAGE_SUFFIXES.sub("", last)
    query = tuple((k.lower(), v) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    host = (parts.hostname or "").lower()
    return _Shape(host, site_of(host), tuple(s for s in raw_segments if s), query, extension)


def _words(segment: str) -> list[str]:
    return [w for w in vocab.SPLIT_SLUG.split(segment) if w]


def _has_word(segments: Iterable[str], vocabulary: frozenset[str]) -> bool:
    """A segment is a vocabulary word, or a short (one- or two-word) segment contains one: an article slug
    that merely mentions "account" or "advertising" does not count."""
    for segment in segments:
        words = _words(segment)
        if segment in vocabulary or (len(words) <= 2 and any(w in vocabulary for w in words)):
            return True
    return False


def _date_end(segments: tuple[str, ...]) -> int:
    """Index just after a date in the path, or -1: YYYY/MM[/DD] and YYYY/MM-DD anywhere, compact YYYYMM[DD]
    and YYYY-MM-DD only before another segment (a last segment of six digits is more likely an id)."""
    for i, segment in enumerate(segments):
        if vocab.YEAR.match(segment):
            j = i + 1
            while j < len(segments) and j <= i + 2 and vocab.MONTH_OR_DAY.match(segments[j]):
                j += 1
            if j > i + 1:
                return j
        elif i + 1 < len(segments) and vocab.COMPACT_DATE.match(segment):
            return i + 1
    return -1


def _has_numeric_id(segments: tuple[str, ...], query: tuple[tuple[str, str], ...]) -> bool:
    start = max(_date_end(segments), 0)
    for segment in segments[start:]:
        for run in vocab.DIGIT_RUN.findall(segment):
            if len(run) >= 5 or (len(run) == 4 and not vocab.YEAR.match(run)):
                return True
    return any(_is_id_param(k) and vocab.ID_VALUE.match(v) for k, v in query)


def _is_id_param(key: str) -> bool:
    return key in vocab.ID_PARAMS or (key.endswith("_id") and key.split("_")[0] not in vocab.NON_ITEM_ID_PREFIXES)


def _is_slug(segment: str) -> bool:
    words = _words(segment)
    return len(words) >= 3 or len(vocab.CJK.findall(segment)) >= 6


def _classify(candidate: _Candidate, page_site: str, page_url: str) -> Reason | None:
    """None for an article, else the reason it is not one."""
    shape = _shape(candidate.url)
    return _kind_of_page(shape, candidate.occurrences, page_site) or _article_or_not(
        shape, candidate, page_url
    )


def _kind_of_page(shape: _Shape, occurrences: list[_Occurrence], page_site: str) -> Reason | None:
    """Links that are something other than an article whatever their shape: files, social networks, ads,
    other sites, log-in, tag, author and section pages."""
    segments = shape.segments
    if shape.extension in vocab.FILE_EXTENSIONS or (segments and segments[-1] in vocab.FILE_SEGMENTS):
        return Reason.FILE
    if shape.site in vocab.SOCIAL_DOMAINS or (
        shape.site == page_site and vocab.SHARE_PATH.search("/" + "/".join(segments))
    ):
        return Reason.SOCIAL
    sponsored = any(o.sponsored for o in occurrences)
    if shape.site != page_site:
        if shape.site in vocab.AD_DOMAINS or vocab.AD_HOSTS.match(shape.host) or sponsored:
            return Reason.ADS
        return Reason.SOCIAL if all(o.social for o in occurrences) else Reason.OTHER_SITE
    subdomains = set(shape.host.removesuffix(shape.site).split("."))
    if (
        sponsored
        or all(o.ad for o in occurrences)
        or _has_word(segments, vocab.AD_WORDS)
        or any(w.startswith("sponsor") for s in segments if len(_words(s)) <= 2 for w in _words(s))
        or subdomains & vocab.AD_HOST_LABELS
        or (
            vocab.REDIRECT_PATH.match("/" + "/".join(segments))
            and any(k in vocab.REDIRECT_PARAMS for k, _ in shape.query)
        )
    ):
        return Reason.ADS
    if (
        _has_word(segments, vocab.LOGIN_WORDS)
        or subdomains & vocab.LOGIN_HOST_LABELS
        or _has_word((v.lower() for _, v in shape.query), vocab.LOGIN_WORDS)
    ):
        return Reason.LOGIN
    if any(s in vocab.TAG_WORDS for s in segments) or any(k in {"tag", "tags"} for k, _ in shape.query):
        return Reason.TAG
    for i, segment in enumerate(segments):
        if segment in vocab.AUTHOR_WORDS and len(segments) - i - 1 <= 1:  # /authors/name/, not /authors/name/story
            return Reason.AUTHOR
    if any(s in vocab.SECTION_WORDS for s in segments):
        return Reason.SECTION
    return None


def _article_or_not(shape: _Shape, candidate: _Candidate, page_url: str) -> Reason | None:
    """The shape of the URL (date, numeric id, multi-word slug), weighed with where the links sit."""
    segments, query, occurrences = shape.segments, shape.query, candidate.occurrences
    has_id = _has_numeric_id(segments, query)
    if any(vocab.PAGINATION_PARAMS.match(k) and v.isdigit() for k, v in query):
        return Reason.NAVIGATION
    if any(k in vocab.PRINT_PARAMS or v.lower() == "print" for k, v in query) or _has_word(segments[-1:], vocab.PRINT_WORDS):
        return Reason.NOT_ARTICLE_LIKE  # the print or e-mail view of a page
    if "page" in segments[:-1] and segments[-1].isdigit():
        return Reason.NAVIGATION
    if segments and (re.fullmatch(r"\d{1,3}", segments[-1]) or re.fullmatch(r"index_\d+", segments[-1])):
        return None if has_id else Reason.NAVIGATION  # /news/2, /gd/index_2.shtml: page numbers
    if _dedupe_key(candidate.url) == _dedupe_key(page_url):
        return Reason.NAVIGATION
    if not segments or (len(segments) == 1 and vocab.LANGUAGE_ROOT.match(segments[0]) and not query):
        return None if has_id else Reason.NAVIGATION  # home pages of the site, its editions and languages
    date_end = _date_end(segments)
    if date_end == len(segments):
        return Reason.NAVIGATION  # a date archive: /2025/11/ or /2025/11/03/
    if segments[-1] in vocab.MORE_ENDPOINTS:
        return Reason.NAVIGATION  # "load more" endpoints carry the last item's id
    all_menu = all(o.menu and not o.main for o in occurrences)
    all_nav = all(o.menu or o.chrome for o in occurrences)
    best_text = max(o.text_units for o in occurrences)
    if date_end > 0 or has_id:
        # a ticker in the site header links articles; a menu links sections, even by numeric id
        return Reason.NAVIGATION if all_menu or (all_nav and best_text < 2) else None
    last = segments[-1]
    if _is_slug(last):
        return Reason.NAVIGATION if all_nav else None
    if (
        len(segments) >= 2
        and len(_words(last)) == 2
        and best_text >= vocab.HEADLINE_UNITS
        and any(o.headline and not (o.menu or o.chrome) for o in occurrences)
    ):
        return None  # a two-word slug under a section, linked as a headline
    if (
        len(segments) >= 2
        and vocab.OPAQUE_ID.fullmatch(last)
        and best_text >= vocab.HEADLINE_UNITS
        and any(o.headline and not (o.menu or o.chrome) for o in occurrences)
    ):
        return None  # a short opaque id under a section (/n/3k7q), linked as a headline
    if all_nav:
        return Reason.NAVIGATION
    if len(segments) <= 2 and len(_words(last)) <= 2:
        return Reason.SECTION
    return Reason.NOT_ARTICLE_LIKE


def _soup(html: str) -> BeautifulSoup:
    with warnings.catch_warnings():  # XHTML, or a feed given as a page (the collector names that case)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        return BeautifulSoup(html, "lxml")


def _checked_base(base_url: str, source_id: str | None) -> str:
    parts = urlsplit(base_url)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise ParseError(source_id or base_url, "the page URL is not an absolute http(s) URL", url=base_url)
    return base_url


def extract_links(
    html: str, base_url: str, selector: str | None = None, *, source_id: str | None = None
) -> LinkReport:
    """Article links of a listing page (absolute, canonical, page order, deduplicated) and the rest with
    reasons. With ``selector``, the CSS selector's matches are taken instead of the automatic rule (links
    inside matched elements, or the link around a matched element). ``source_id`` only names the source in
    errors. Raises ParseError for an invalid selector or a page URL that is not absolute."""
    page_url = canonical_url(_checked_base(base_url, source_id))
    soup = _soup(html)
    base = page_base(soup, base_url)
    if selector is not None:
        return _by_selector(soup, base, selector, source_id or base_url, base_url)
    candidates, unusable = _collect(_anchors(soup), base)
    page_site = site_of(page_url)
    articles: list[str] = []
    rejected: list[tuple[str, str]] = list(unusable)
    for candidate in candidates:
        reason = _classify(candidate, page_site, page_url)
        if reason is None:
            articles.append(candidate.url)
        else:
            rejected.append((candidate.url, reason))
    # an article linked both plainly and with a query only the listing adds ("most read": ?from=popular) is
    # one article; a query that is the article's id (haber.php?id=12) has no plain article beside it
    plain = set(articles)
    duplicates = {u for u in articles if "?" in u and urlsplit(u)._replace(query="").geturl() in plain}
    rejected.extend((u, Reason.DUPLICATE) for u in articles if u in duplicates)
    kept = [u for u in articles if u not in duplicates]
    return LinkReport(tuple(kept), tuple((u, str(r)) for u, r in rejected))


def _anchors(soup: BeautifulSoup | Tag) -> Iterator[Tag]:
    for anchor in soup.find_all(["a", "area"], href=True):
        if isinstance(anchor, Tag):
            yield anchor


def _by_selector(soup: BeautifulSoup, base: str, selector: str, source_id: str, page: str) -> LinkReport:
    try:
        compiled = soupsieve.compile(selector)
        matches = compiled.select(soup)
    except (soupsieve.SelectorSyntaxError, ValueError, TypeError) as exc:
        raise ParseError(source_id, f"invalid CSS selector {selector!r}: {exc}", url=page) from exc
    chosen: list[Tag] = []
    chosen_ids: set[int] = set()
    for match in matches:
        if match.name in {"a", "area"} and match.get("href"):
            found = [match]
        else:
            found = list(_anchors(match))
            if not found:
                parent = match.find_parent("a", href=True)
                found = [parent] if isinstance(parent, Tag) else []
        for anchor in found:
            if id(anchor) not in chosen_ids:
                chosen_ids.add(id(anchor))
                chosen.append(anchor)
    candidates, unusable = _collect(chosen, base)
    taken = {_dedupe_key(c.url) for c in candidates}
    others, _ = _collect((a for a in _anchors(soup) if id(a) not in chosen_ids), base)
    rejected = unusable + [(c.url, Reason.NOT_SELECTED) for c in others if _dedupe_key(c.url) not in taken]
    return LinkReport(tuple(c.url for c in candidates), tuple((u, str(r)) for u, r in rejected))


_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})


def declared_feeds(html: str, base_url: str) -> tuple[str, ...]:
    """Feeds the page declares with ``<link rel="alternate" type="application/rss+xml|atom+xml|feed+json">``,
    absolute, in page order, without repeats."""
    soup = _soup(html)
    base = page_base(soup, base_url)
    feeds: list[str] = []
    for link in soup.find_all("link", href=True):
        if not isinstance(link, Tag):
            continue
        rel = link.get("rel")
        rels = {r.lower() for r in rel} if isinstance(rel, list) else set(str(rel or "").lower().split())
        media_type = str(link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or media_type not in _FEED_TYPES:
            continue
        url = urljoin(base, str(link.get("href") or "").strip())
        if urlsplit(url).scheme.lower() in {"http", "https"}:
            url = canonical_url(url)
            if url not in feeds:
                feeds.append(url)
    return tuple(feeds)
