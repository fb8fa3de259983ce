"""The article-link rule of listing pages, measured on hand-written portal pages (tests/data/pages/listings).

Ground truth is the ``data-gt="article"`` marking written into each page by hand; it is read here with plain
bs4 and a URL normaliser of this file's own, and stripped from the HTML before the rule sees the page.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from bs4 import BeautifulSoup

from mediawatch.collect.links import Reason, declared_feeds, extract_links, site_of
from mediawatch.errors import ParseError

LISTINGS = Path(__file__).parent / "data" / "pages" / "listings"
INDEX: dict[str, dict[str, object]] = {
    k: v
    for k, v in json.loads((LISTINGS / "index.json").read_text(encoding="utf-8")).items()
    if not k.startswith("_")
}
PRECISION_FLOOR = 0.9  # the probe issue asks for >= 0.9 on both
RECALL_FLOOR = 0.9
PAGE_FLOOR = 0.8


def norm(url: str) -> str:
    """This test's own URL normalisation (not the module's): no scheme, no fragment, no utm_*, lower-case host,
    percent-encoded path."""
    parts = urlsplit(url)
    query = urlencode(
        [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    )
    path = quote(unquote(parts.path or "/"), safe="/-._~!$&'()*+,;=:@")
    return urlunsplit(("", (parts.hostname or "").lower(), path, query, ""))


@dataclass(frozen=True)
class Listing:
    name: str
    base_url: str
    html: str  # without the truth marks
    truth: frozenset[str]
    anchors: int


def load_listing(name: str) -> Listing:
    meta = INDEX[name]
    raw = (LISTINGS / name).read_text(encoding="utf-8")
    soup = BeautifulSoup(raw, "lxml")
    base = str(meta["base_url"])
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        base = urljoin(base, str(base_tag["href"]))
    truth = set()
    for anchor in soup.select("[data-gt]"):
        assert anchor["data-gt"] == "article", f"{name}: unknown mark {anchor['data-gt']!r}"
        truth.add(norm(urljoin(base, str(anchor["href"]))))
        del anchor["data-gt"]
    assert soup.select_one("[data-gt]") is None
    html = str(soup)
    return Listing(name, str(meta["base_url"]), html, frozenset(truth), len(soup.find_all("a")))


LISTING_NAMES = sorted(INDEX)


@pytest.fixture(scope="module")
def listings() -> dict[str, Listing]:
    return {name: load_listing(name) for name in LISTING_NAMES}


def measure(listing: Listing) -> tuple[int, int, int]:
    report = extract_links(listing.html, listing.base_url)
    predicted = {norm(u) for u in report.articles}
    return len(predicted & listing.truth), len(predicted - listing.truth), len(listing.truth - predicted)


def test_pages_are_realistic(listings: dict[str, Listing]) -> None:
    """Dozens of article links among many more other links; all the required kinds of portal are present."""
    assert len(listings) >= 6
    for listing in listings.values():
        assert len(listing.truth) >= 10, listing.name
        assert listing.anchors >= 40, listing.name
    total_truth = sum(len(x.truth) for x in listings.values())
    total_anchors = sum(x.anchors for x in listings.values())
    assert total_anchors >= 4 * total_truth
    roots = [BeautifulSoup(x.html, "lxml").find("html") for x in listings.values()]
    langs = {str(root.get("lang") or "")[:2] for root in roots if root is not None}
    assert {"ru", "kk", "zh", "tr"} <= langs


def test_rule_precision_and_recall(listings: dict[str, Listing]) -> None:
    rows = []
    tp_all = fp_all = fn_all = 0
    for listing in listings.values():
        tp, fp, fn = measure(listing)
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
        rows.append((listing.name, precision, recall))
    precision, recall = tp_all / (tp_all + fp_all), tp_all / (tp_all + fn_all)
    table = "\n".join(f"  {n:<26} P {p:.3f}  R {r:.3f}" for n, p, r in rows)
    print(f"\nlink rule on {len(rows)} listing pages:\n{table}\n  overall P {precision:.3f}  R {recall:.3f}")
    assert precision >= PRECISION_FLOOR and recall >= RECALL_FLOOR, table
    for name, p, r in rows:
        assert p >= PAGE_FLOOR and r >= PAGE_FLOOR, f"{name}: P {p:.3f} R {r:.3f}"


def test_articles_are_absolute_canonical_deduplicated_in_page_order(listings: dict[str, Listing]) -> None:
    report = extract_links(listings["kz-ru-portal.html"].html, "https://dalanews.kz/")
    assert len(report.articles) == len(set(report.articles))
    assert all(u.startswith("https://dalanews.kz/") and "#" not in u for u in report.articles)
    # the ticker in the header comes first; its #comments twin is the same article
    assert (
        report.articles[0]
        == "https://dalanews.kz/news/2025/11/03/v-almaty-otkrylsya-vsemirnyj-kurultaj-kazahov"
    )
    feed_order = [u for u in report.articles if "/2025/11/03/" in u]
    assert feed_order.index(
        "https://dalanews.kz/news/2025/11/03/v-stambule-proshel-festival-kazahskoj-kultury"
    ) < (feed_order.index("https://dalanews.kz/news/2025/11/03/kurs-tenge-na-3-noyabrya"))
    rejected_urls = [u for u, _ in report.rejected]
    assert len(rejected_urls) == len(set(rejected_urls))
    assert not set(rejected_urls) & set(report.articles)


@pytest.mark.parametrize(
    ("page", "url", "reason"),
    [
        ("kz-ru-portal.html", "https://dalanews.kz/tag/kurultaj/", Reason.TAG),
        ("kz-ru-portal.html", "https://dalanews.kz/auth/login/?next=/", Reason.LOGIN),
        ("kz-ru-portal.html", "https://t.me/dalanews_kz", Reason.SOCIAL),
        (
            "kz-ru-portal.html",
            "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fdalanews.kz%2F",
            Reason.SOCIAL,
        ),
        ("kz-ru-portal.html", "https://ads.adfox.ru/263821/goLink?p1=ctxlq&p2=hbri", Reason.ADS),
        ("kz-ru-portal.html", "https://dalanews.kz/reklama/", Reason.ADS),
        (
            "kz-ru-portal.html",
            "https://www.ktk-news.example.com/2025/11/03/v-shymkente-otkryli-novyj-park/",
            Reason.OTHER_SITE,
        ),
        ("kz-ru-portal.html", "https://dalanews.kz/author/aigerim-sultanova/", Reason.AUTHOR),
        ("kz-ru-portal.html", "https://dalanews.kz/news/page/2/", Reason.NAVIGATION),
        ("kz-ru-portal.html", "https://dalanews.kz/special/30-let-nezavisimosti/", Reason.SECTION),
        ("kz-ru-portal.html", "javascript:void(0)", Reason.NOT_A_PAGE),
        ("kz-editions.html", "https://passport.qazsoz.kz/signup", Reason.LOGIN),
        (
            "kz-editions.html",
            "https://qazsoz-kz.example.com/news/87231-kurultaj-kazahov-otkrylsya-v-almaty",
            Reason.OTHER_SITE,
        ),
        ("kz-editions.html", "https://kaz.qazsoz.kz/", Reason.NAVIGATION),
        ("tr-portal.html", "https://www.gundemturk.com.tr/etiket/kazakistan", Reason.TAG),
        (
            "tr-portal.html",
            "https://www.gundemturk.com.tr/sponsorlu-icerik/yeni-kredi-kampanyasi-ile-ev-sahibi-olun-2567777",
            Reason.ADS,
        ),
        (
            "tr-portal.html",
            "https://www.gundemturk.com.tr/kisisel-verilerin-korunmasi-kanunu-aydinlatma-metni",
            Reason.NAVIGATION,
        ),
        ("ru-diaspora-wp.html", "https://kazahi-sibiri.ru/2025/11/03/", Reason.NAVIGATION),
        (
            "ru-diaspora-wp.html",
            "https://kazahi-sibiri.ru/wp-content/uploads/2025/10/raspisanie-2025.pdf",
            Reason.FILE,
        ),
        ("kz-ru-numeric.html", "https://zhanaorda.kz/rubric/13/", Reason.SECTION),
        ("cn-portal.html", "https://www.zhongya-news.com.cn/gd/index_2.shtml", Reason.NAVIGATION),
    ],
)
def test_rejection_reasons(listings: dict[str, Listing], page: str, url: str, reason: Reason) -> None:
    listing = listings[page]
    rejected = dict(extract_links(listing.html, listing.base_url).rejected)
    assert rejected.get(url) == reason, f"{url}: {rejected.get(url)!r}"


def test_subdomain_editions_are_the_same_site_but_lookalikes_are_not(listings: dict[str, Listing]) -> None:
    listing = listings["kz-editions.html"]
    report = extract_links(listing.html, listing.base_url)
    hosts = {urlsplit(u).hostname for u in report.articles}
    assert {"kaz.qazsoz.kz", "rus.qazsoz.kz", "en.qazsoz.kz", "m.qazsoz.kz"} <= hosts
    assert (
        "http://kaz.qazsoz.kz/news/2025/11/02/qazan-madeni-ortalyq" in report.articles
    )  # http kept as written
    assert "https://kaz.qazsoz.kz/news/2025/11/01/oqulyqtar-bekitildi" in report.articles  # utm_* dropped
    assert all(site_of(u) == "qazsoz.kz" for u in report.articles)
    assert site_of("https://qazsoz.kz.news-mirror.example.com/x") == "example.com"
    assert site_of("https://news.sina.com.cn/x") == "sina.com.cn"
    assert site_of("http://127.0.0.1:8080/news/") == "127.0.0.1"


def test_same_site_on_loopback_without_a_public_suffix() -> None:
    page = """<html><body><main><article><h2><a href="/news/2025/11/03/kurultai-opens-in-almaty">Kurultai opens
    in Almaty today</a></h2></article><a href="http://127.0.0.2/news/2025/11/03/elsewhere-story-here">x</a></main></body></html>"""
    report = extract_links(page, "http://127.0.0.1:8765/")
    assert report.articles == ("http://127.0.0.1:8765/news/2025/11/03/kurultai-opens-in-almaty",)
    assert dict(report.rejected)["http://127.0.0.2/news/2025/11/03/elsewhere-story-here"] == Reason.OTHER_SITE


def test_short_opaque_ids_joomla_ids_and_print_views() -> None:
    """Shapes a page audit found: ikon.mn-style /n/3k7q and Joomla's id=87:slug are articles when linked with a
    headline; a print view named in the path (haber_yazdir.php) is not."""
    page = """<html><body><nav><a href="/n/menu1">Menu</a></nav><main>
    <article><h2><a href="/n/3k7q">Баян-Өлгийн казахууд Наурызын баярыг тэмдэглэлээ</a></h2></article>
    <article><h2><a href="/index.php?option=com_content&amp;view=article&amp;id=87:kurultai&amp;Itemid=12">Kazakh
    community holds its kurultai in Ölgii</a></h2></article>
    <article><h2><a href="/haber.php?id=1234">Zeytinburnu'nda Nevruz kutlaması yapıldı</a></h2>
    <a href="/haber_yazdir.php?id=1234">Yazdır</a></article></main></body></html>"""
    report = extract_links(page, "https://news.example.mn/")
    assert report.articles == (
        "https://news.example.mn/n/3k7q",
        "https://news.example.mn/index.php?option=com_content&view=article&id=87:kurultai&Itemid=12",
        "https://news.example.mn/haber.php?id=1234",
    )
    rejected = dict(report.rejected)
    assert rejected["https://news.example.mn/haber_yazdir.php?id=1234"] == Reason.NOT_ARTICLE_LIKE
    assert rejected["https://news.example.mn/n/menu1"] == Reason.NAVIGATION
    # a section with digits in its name, linked in running text rather than as a headline, is no article;
    # a print edition's article (the word "print" not last) is one
    sections = """<html><body><main><p><a href="/sport/euro2024">All our coverage of the European championship
    here</a></p><article><h2><a href="/print/20251103-kazakh-festival-in-olgii-opens">Kazakh festival in Ölgii
    opens</a></h2></article></main></body></html>"""
    report = extract_links(sections, "https://news.example.mn/")
    assert report.articles == ("https://news.example.mn/print/20251103-kazakh-festival-in-olgii-opens",)
    assert dict(report.rejected)["https://news.example.mn/sport/euro2024"] == Reason.SECTION


def test_an_article_also_linked_with_a_listing_query_is_one_article() -> None:
    """The "most read" box links /news/48220-slug?from=popular beside the plain link: one article, not two
    items. A query that is the article's own id keeps its link."""
    page = """<html><body><main>
    <article><h2><a href="/news/48220-kazakhi-omska-otmetili-nauryz">Казахи Омска отметили Наурыз</a></h2></article>
    <article><h2><a href="/haber.php?id=1234">Zeytinburnu'nda Nevruz kutlaması yapıldı</a></h2></article>
    <div class="popular"><h3><a href="/news/48220-kazakhi-omska-otmetili-nauryz?from=popular">Казахи Омска
    отметили Наурыз</a></h3></div></main></body></html>"""
    report = extract_links(page, "https://omsk.example.ru/news/")
    assert report.articles == ("https://omsk.example.ru/news/48220-kazakhi-omska-otmetili-nauryz",
                               "https://omsk.example.ru/haber.php?id=1234")
    assert dict(report.rejected)["https://omsk.example.ru/news/48220-kazakhi-omska-otmetili-nauryz?from=popular"] \
        == Reason.DUPLICATE


def test_selector_replaces_the_rule(listings: dict[str, Listing]) -> None:
    listing = listings["kz-ru-portal.html"]
    report = extract_links(listing.html, listing.base_url, "aside .widget--popular a")
    assert report.articles == (
        "https://dalanews.kz/news/2025/11/02/v-kazahstane-izmenyatsya-pravila-polucheniya-statusa-kandasa",
        "https://dalanews.kz/society/2025/11/01/skolko-kazahov-zhivet-za-rubezhom-novye-dannye",
        "https://dalanews.kz/news/2025/10/31/pensii-povysyat-s-1-yanvarya",
        "https://dalanews.kz/world/2025/10/31/turtsiya-uprostila-vizovyj-rezhim",
        "https://dalanews.kz/incidents/2025/10/30/pozhar-na-baraholke",
    )
    reasons = dict(report.rejected)
    assert reasons["https://dalanews.kz/tag/kurultaj/"] == Reason.NOT_SELECTED
    # a selector may name the headline element (links inside it) or something inside a link
    inside = extract_links(listing.html, listing.base_url, "section.video-block .video-card__title")
    assert len(inside.articles) == 3 and all("/video/2025/" in u for u in inside.articles)
    around = extract_links(listing.html, listing.base_url, ".rubric-block h3")
    assert len(around.articles) == 6


def test_invalid_selector_names_it() -> None:
    with pytest.raises(ParseError) as caught:
        extract_links(
            "<html><body><a href='/a'>a</a></body></html>", "https://x.kz/", "main >> a[", source_id="x-kz"
        )
    assert "main >> a[" in str(caught.value) and caught.value.source_id == "x-kz"


def test_page_url_must_be_absolute() -> None:
    with pytest.raises(ParseError):
        extract_links("<html></html>", "/news/")


def test_empty_and_linkless_pages() -> None:
    assert extract_links("", "https://x.kz/") == extract_links(
        "<html><body>no links</body></html>", "https://x.kz/"
    )
    assert extract_links("", "https://x.kz/").articles == ()


@pytest.mark.parametrize("name", LISTING_NAMES)
def test_declared_feeds(name: str) -> None:
    meta = INDEX[name]
    html = (LISTINGS / name).read_text(encoding="utf-8")
    assert declared_feeds(html, str(meta["base_url"])) == tuple(meta["feeds"])  # type: ignore[arg-type]


def test_declared_feeds_kinds_and_relative_urls() -> None:
    html = """<html><head>
      <link rel="alternate" type="application/rss+xml" href="rss.xml">
      <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="//cdn.x.kz/atom">
      <link rel="alternate" type="application/feed+json" href="/feed.json">
      <link rel="alternate" hreflang="ru" href="/ru/">
      <link rel="alternate" type="application/json" href="/wp-json/">
      <link rel="stylesheet" type="application/rss+xml" href="/not-a-feed">
      <link rel="alternate" type="application/rss+xml" href="javascript:void(0)">
    </head></html>"""
    assert declared_feeds(html, "https://x.kz/news/") == (
        "https://x.kz/news/rss.xml",
        "https://cdn.x.kz/atom",
        "https://x.kz/feed.json",
    )


def test_suffix_list_is_built_lazily_and_never_fetched() -> None:
    """Importing the module builds nothing; the first lookup uses the bundled snapshot with sockets disabled."""
    code = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network used")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
import mediawatch.collect.links as links
assert links._suffix_extractor.cache_info().currsize == 0
assert links.site_of("https://rus.qazsoz.kz/news/1") == "qazsoz.kz"
assert links.site_of("https://www.gundemturk.com.tr/") == "gundemturk.com.tr"
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
