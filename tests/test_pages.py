"""Article pages: extract_article on hand-written pages (tests/data/pages/articles) and on the third-party
evaluation sets, scored with the AEB measure implemented in bench/bench_articles.py."""

from __future__ import annotations

import codecs
import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from mediawatch.collect.pages import decode_html, extract_article, parse_datetime
from mediawatch.errors import ParseError
from mediawatch.models import ItemKind

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = Path(__file__).parent / "data" / "pages" / "articles"

# Floors set from measurements (bench/bench_articles.py, 2 cores): AEB all 181 pages F1 0.969 (P 0.965,
# R 0.974); the 30-page sample F1 0.973; trafilatura subset 21/34 pages, with 93/97, without 93/108.
AEB_SAMPLE_F1_FLOOR = 0.96
AEB_FULL_F1_FLOOR = 0.96
AEB_FULL_PRECISION_FLOOR = 0.95
AEB_FULL_RECALL_FLOOR = 0.96
SUBSET_WITH_FLOOR = 90
SUBSET_WITHOUT_FLOOR = 90
SUBSET_PAGES_FLOOR = 19


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_articles", ROOT / "bench" / "bench_articles.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def page(name: str) -> str:
    return (ARTICLES / name).read_text(encoding="utf-8")


# --- the measure itself ---


def test_measure_on_small_texts() -> None:
    assert bench.page_counts("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)
    assert bench.score([("a b c d e", "a b c d e")]).f1 == 1.0
    tp, fp, fn = bench.page_counts("one two three four five", "one two three four six")
    assert (tp, fp, fn) == (1 / 3, 1 / 3, 1 / 3)
    assert bench.score([("x y z w", "a b c d")]).f1 == 0.0
    # an empty prediction has no precision: it is left out of the precision average, and recall is 0
    result = bench.score([("", "a b c d"), ("a b c d", "a b c d")])
    assert (result.precision, result.recall) == (1.0, 0.5)
    assert bench.shingles("Алматы қаласы") == {("Алматы", "қаласы"): 1}  # shorter than 4 tokens: one shingle


@pytest.mark.parametrize(
    ("name", "f1", "precision", "recall"),
    [
        ("trafilatura", 0.958, 0.938, 0.978),
        ("readability", 0.922, 0.913, 0.931),
        ("html-text", 0.665, 0.500, 0.994),
        ("goose3", 0.896, 0.940, 0.856),
    ],
)
def test_measure_reproduces_published_scores(
    shared_dir: Path, name: str, f1: float, precision: float, recall: float
) -> None:
    result = bench.score_saved(shared_dir, name)
    assert (round(result.f1, 3), round(result.precision, 3), round(result.recall, 3)) == (
        f1,
        precision,
        recall,
    )


# --- on the evaluation sets ---


def test_aeb_sample(shared_dir: Path) -> None:
    pages = bench.aeb_sample(shared_dir, 30)
    assert len(pages) == 30
    result = bench.score(
        zip(bench.run(bench.ours, [(p.html, p.url) for p in pages]), (p.truth for p in pages))
    )
    print("\n" + result.line("AEB sample, extract_article"))
    assert result.f1 >= AEB_SAMPLE_F1_FLOOR, result


@pytest.mark.slow
def test_aeb_full(shared_dir: Path) -> None:
    pages = bench.load_aeb(shared_dir)
    assert len(pages) == 181
    result = bench.score(
        zip(bench.run(bench.ours, [(p.html, p.url) for p in pages]), (p.truth for p in pages))
    )
    print("\n" + result.line("AEB, extract_article"))
    assert result.f1 >= AEB_FULL_F1_FLOOR, result
    assert result.precision >= AEB_FULL_PRECISION_FLOOR and result.recall >= AEB_FULL_RECALL_FLOOR, result


def test_trafilatura_subset(shared_dir: Path) -> None:
    pages = bench.load_subset(shared_dir)
    result = bench.check_subset(bench.run(bench.ours, [(p.html, p.url) for p in pages]), pages)
    print("\n" + result.line("trafilatura subset, extract_article"))
    assert result.with_found >= SUBSET_WITH_FLOOR, result
    assert result.without_absent >= SUBSET_WITHOUT_FLOOR, result
    assert result.pages_passed >= SUBSET_PAGES_FLOOR, result


# --- hand-written pages ---


def test_russian_article_in_windows_1251() -> None:
    body = page("ru-kurultai.html").encode("cp1251")
    entry = extract_article(body, url="https://dalanews.kz/news/2025/11/03/kurultai", source_id="dalanews")
    assert entry.kind is ItemKind.ARTICLE and entry.source_id == "dalanews"
    assert entry.url == "https://dalanews.kz/news/2025/11/03/kurultai"
    assert entry.title == "В Алматы открылся Всемирный курултай казахов"
    assert entry.author == "Айгерим Султанова"
    assert entry.language == "ru"
    # JSON-LD datePublished (10:15 +05:00) wins over article:published_time and dateModified
    assert entry.published == datetime(2025, 11, 3, 5, 15, tzinfo=UTC)
    assert entry.text is not None
    assert entry.text.startswith("В понедельник в Алматы начал работу Всемирный курултай казахов.")
    assert entry.text.endswith("резолюция с предложениями правительству.")
    for boilerplate in ("Читайте также", "Поделиться", "Все права защищены", "Главная", "курултай диаспора"):
        assert boilerplate not in entry.text
    assert entry.summary_html == (
        "Более тысячи делегатов из сорока стран обсуждают поддержку соотечественников и возвращение на "
        "историческую родину."
    )


def test_kazakh_article_with_bom_and_excerpt_summary() -> None:
    body = codecs.BOM_UTF8 + page("kk-qandastar.html").encode("utf-8")
    entry = extract_article(body, url="https://elarna.kz/kk/news/345690", source_id="elarna")
    assert entry.title == "Моңғолиядан келген қандастар баспаналы болды"
    assert entry.language == "kk"
    assert entry.author == "Данияр Омар"
    assert entry.published == datetime(2025, 11, 3, 4, 40, tzinfo=UTC)
    assert entry.text is not None and "Баян-Өлгийден келген ұстаз" in entry.text
    assert "Ел арна" not in entry.text
    # no description on the page: the summary is the opening of the text, cut at a word and marked
    assert entry.summary_html is not None
    assert entry.summary_html.startswith("Павлодар облысында Моңғолиядан көшіп келген қырық отбасыға")
    assert entry.summary_html.endswith("…") and len(entry.summary_html) <= 301


def test_chinese_article_with_http_charset_and_local_time() -> None:
    body = page("zh-huaqiao.html").encode("gb18030")
    entry = extract_article(
        body,
        url="https://www.zhongya-news.com.cn/hq/2025/11-03/10498788.shtml",
        source_id="zhongya",
        encoding="gb2312",
    )
    assert entry.title == "阿拉木图华侨华人举办中文教育论坛"
    assert entry.language == "zh"
    assert entry.author == "王明"
    assert entry.published == datetime(2025, 11, 3, 11, 5, tzinfo=UTC)  # no offset on the page: taken as UTC
    assert entry.text is not None and "周末中文学校" in entry.text and "Copyright" not in entry.text


def test_page_without_date_and_with_markup_in_description() -> None:
    entry = extract_article(
        page("tr-kultur-festivali.html"),
        url="https://www.gundemturk.com.tr/haber/2567890/x",
        source_id="gundemturk",
    )
    assert entry.published is None
    assert entry.author is None
    assert entry.language == "tr"
    assert entry.title == "İstanbul'da Kazak kültür festivali"
    assert entry.text is not None and entry.text.startswith(
        "İstanbul Zeytinburnu'nda"
    )  # headline line dropped
    # the description is plain text: whatever markup it carried is escaped, never passed on as HTML
    assert entry.summary_html is not None
    assert "<script>" not in entry.summary_html
    assert entry.summary_html.startswith("Tom &amp; Jerry &lt;script&gt;alert('x')&lt;/script&gt; Kazak")


def test_article_meta_date_beats_a_webpage_date() -> None:
    webpage = (
        '<script type="application/ld+json">{"@type": "WebPage", "datePublished": "2020-01-01"}</script>'
    )
    html = page("kk-qandastar.html").replace("</head>", webpage + "</head>")
    entry = extract_article(html, url="https://elarna.kz/kk/news/1", source_id="elarna")
    assert entry.published == datetime(2025, 11, 3, 4, 40, tzinfo=UTC)
    without_meta = html.replace('<meta property="article:published_time" content="2025-11-03T04:40:00Z">', "")
    entry = extract_article(without_meta, url="https://elarna.kz/kk/news/1", source_id="elarna")
    assert entry.published == datetime(2020, 1, 1, tzinfo=UTC)


def test_utf8_page_with_a_stale_legacy_charset_declaration() -> None:
    html = page("ru-kurultai.html")  # says windows-1251, but these bytes are UTF-8
    entry = extract_article(html.encode("utf-8"), url="https://dalanews.kz/a", source_id="dalanews")
    assert entry.title == "В Алматы открылся Всемирный курултай казахов"


def test_xhtml_page_with_xml_declaration() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + page("kk-qandastar.html")
    entry = extract_article(html, url="https://elarna.kz/kk/news/1", source_id="elarna")
    assert entry.title == "Моңғолиядан келген қандастар баспаналы болды"


@pytest.mark.parametrize("body", [b"", b"   ", page("no-article.html").encode("utf-8"), b"\x00\x01binary"])
def test_no_article_text_is_a_parse_error_naming_source_and_url(body: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        extract_article(body, url="https://dalanews.kz/diaspora/", source_id="dalanews")
    assert caught.value.source_id == "dalanews"
    assert caught.value.url == "https://dalanews.kz/diaspora/"
    assert "dalanews" in str(caught.value) and "https://dalanews.kz/diaspora/" in str(caught.value)


# --- pieces ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-03T10:15:00+05:00", datetime(2025, 11, 3, 5, 15, tzinfo=UTC)),
        ("2025-11-03T10:15:00Z", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("2019-11-19T13:03:00+0000", datetime(2019, 11, 19, 13, 3, tzinfo=UTC)),
        ("2025-11-03 10:15:00", datetime(2025, 11, 3, 10, 15, tzinfo=UTC)),
        ("2025-11-03", datetime(2025, 11, 3, tzinfo=UTC)),
        ("Mon, 03 Nov 2025 10:15:00 +0600", datetime(2025, 11, 3, 4, 15, tzinfo=UTC)),
        ("3 ноября 2025", None),
        ("", None),
        ("1970-01-01T00:00:00Z", None),
    ],
)
def test_parse_datetime(value: str, expected: datetime | None) -> None:
    assert parse_datetime(value) == expected


def test_parse_datetime_in_the_sources_zone() -> None:
    from zoneinfo import ZoneInfo

    almaty = ZoneInfo("Asia/Almaty")
    assert parse_datetime("2025-03-21T11:05:00", almaty) == datetime(2025, 3, 21, 6, 5, tzinfo=UTC)
    assert parse_datetime("20250321T110500", almaty) == datetime(2025, 3, 21, 6, 5, tzinfo=UTC)  # compact ISO
    # RFC 2822's -0000 is UTC with the local offset unknown; a bare date is its day
    assert parse_datetime("Fri, 21 Mar 2025 11:05:00 -0000", almaty) == datetime(2025, 3, 21, 11, 5, tzinfo=UTC)
    assert parse_datetime("2025-03-21", almaty) == datetime(2025, 3, 21, tzinfo=UTC)


def test_decode_html_order_of_evidence() -> None:
    text = "<html><head><meta charset='koi8-r'></head><body>Қазақстан және Ресей</body></html>"
    assert decode_html(codecs.BOM_UTF16_LE + text.encode("utf-16-le")) == text
    russian = "<html><head><meta charset='koi8-r'></head><body>Привет, мир</body></html>"
    assert decode_html(russian.encode("koi8-r")) == russian  # meta charset
    assert decode_html(russian.encode("cp1251"), "windows-1251") == russian  # HTTP charset before meta
    assert decode_html(russian.encode("utf-8"), "iso-8859-1") == russian  # valid UTF-8 wins over stale labels
    undeclared = (
        "<html><body>Это страница без объявленной кодировки, но с длинным русским текстом.</body></html>"
    )
    assert decode_html(undeclared.encode("cp1251")) == undeclared  # detected


# --------------------------------------------------------------------------------------------- datelines

FETCHED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
_BODY = "<p>" + "Қытайдағы қазақтар наурыз мерекесін тойлады. " * 8 + "</p><p>" + "Мерекеге мыңдаған адам қатысты. " * 6


def dated_page(dateline: str, lang: str | None, *, related: bool = True) -> str:
    """A page with no structured date: its dateline sits in an element with a neutral class under the <h1>,
    and it also prints another story's date in a related list and a year range in its copyright line."""
    attr = f' lang="{lang}"' if lang else ""
    others = ('<div class="related"><a href="/news/2">Other story</a> <span>12 November 2026</span></div>'
              if related else "")
    return (f'<!doctype html><html{attr}><head><meta charset="utf-8"><title>Қазақтар | Site</title></head><body>'
            f'<header><nav><a href="/">Home</a></nav></header><main><article><h1>Қазақтар наурызды тойлады</h1>'
            f'<div class="sana">{dateline}</div>{_BODY}</p></article>{others}</main>'
            f"<footer>© 2001–2026 Example</footer></body></html>")


@pytest.mark.parametrize(
    ("dateline", "lang", "expected"),
    [
        ("27 қараша 2026, 14:05", "kk", datetime(2026, 11, 27, tzinfo=UTC)),  # the day: the page names no zone
        ("27 qarasha 2026, 14:05", "kk", datetime(2026, 11, 27, tzinfo=UTC)),  # Kazakh, Latin script
        ("27 قاراشا 2026", "kk", datetime(2026, 11, 27, tzinfo=UTC)),  # Kazakh, Arabic script (China)
        ("2026 жылы 27 қараша", "kk", datetime(2026, 11, 27, tzinfo=UTC)),  # year first
        ("2026 оны 11-р сарын 27", "mn", datetime(2026, 11, 27, tzinfo=UTC)),  # Mongolian
        ("27-ноябрь 2026", "ky", datetime(2026, 11, 27, tzinfo=UTC)),
        ("5 марта 2025 г.", "ru", datetime(2025, 3, 5, tzinfo=UTC)),
        ("Вчера, 18:40", "ru", datetime(2026, 11, 27, tzinfo=UTC)),  # relative to the fetch
        ("05.03.2025, 14:00", "ru", datetime(2025, 3, 5, tzinfo=UTC)),  # day first, as everywhere but the US
        ("05.03.2025", "kk", datetime(2025, 3, 5, tzinfo=UTC)),
        ("05.03.2025", "tr", datetime(2025, 3, 5, tzinfo=UTC)),
        ("05.03.2025", "en", datetime(2025, 3, 5, tzinfo=UTC)),  # dots are European in English too
        ("11/05/2026", "en-US", datetime(2026, 11, 5, tzinfo=UTC)),
        ("5 Mart 2025 Çarşamba", "tr", datetime(2025, 3, 5, tzinfo=UTC)),
        ("2025年3月5日 10:20", "zh", datetime(2025, 3, 5, tzinfo=UTC)),
    ],
)
def test_the_dateline_under_the_headline_beats_related_stories_and_the_copyright(
    dateline: str, lang: str, expected: datetime
) -> None:
    """(The page's text is Kazakh whatever its lang attribute says, so the source's language is what the
    dateline is read in when the two scripts differ.)"""
    entry = extract_article(dated_page(dateline, lang), url="https://ex.kz/news/1", source_id="s", language=lang,
                            now=FETCHED)
    assert entry.published == expected


def test_the_sources_language_reads_a_dateline_when_the_page_declares_none() -> None:
    html = dated_page("27 qarasha 2026", None)
    entry = extract_article(html, url="https://ex.kz/news/1", source_id="s", language="kk", now=FETCHED)
    assert entry.published == datetime(2026, 11, 27, tzinfo=UTC)


def test_the_articles_headline_not_the_logo_and_no_caption_or_read_also_date() -> None:
    """A logo in an <h1> with today's date under it in the site header; a photo caption's date under the
    article's <h1>; a "read also" list. The article's own dateline wins."""
    html = ('<!doctype html><html lang="kk"><head><meta charset="utf-8"><title>Қазақтар | Site</title></head><body>'
            '<div class="top"><h1 class="logo">Egemen</h1><div class="today">Бүгін: 28 қараша 2026</div></div>'
            '<main><article><h1>Қазақтар наурызды тойлады</h1><figure><img src="a.jpg"><figcaption>Мұрағат '
            'суреті, 21 наурыз 2019</figcaption></figure><div class="sana">20 қараша 2026</div>' + _BODY +
            '</p><div class="read-also"><span>Оқи отырыңыз: 12 қараша 2026</span></div></article></main></body></html>')
    entry = extract_article(html, url="https://ex.kz/news/1", source_id="s", now=FETCHED)
    assert entry.published == datetime(2026, 11, 20, tzinfo=UTC)


def test_a_body_whose_classes_name_a_sidebar_is_not_pruned() -> None:
    """WordPress themes put classes such as "offcanvas-sidebar-mobile" on <body>: the page is still read."""
    html = dated_page("27 қараша 2026", "kk").replace("<body>", '<body class="single offcanvas-sidebar-mobile">')
    assert extract_article(html, url="https://ex.kz/news/1", source_id="s", now=FETCHED).published == datetime(
        2026, 11, 27, tzinfo=UTC)


@pytest.mark.parametrize(
    ("dateline", "lang", "expected"),
    [
        ("27 қараша 2026, 14:05", "kk", datetime(2026, 11, 27, 9, 5, tzinfo=UTC)),  # Almaty is UTC+5
        ("27 қараша 2026", "kk", datetime(2026, 11, 27, tzinfo=UTC)),  # no time printed: the day, as before
        ("Вчера, 18:40", "ru", datetime(2026, 11, 27, 13, 40, tzinfo=UTC)),  # yesterday where the site is
    ],
)
def test_with_the_sources_timezone_a_datelines_time_is_kept(dateline: str, lang: str, expected: datetime) -> None:
    entry = extract_article(dated_page(dateline, lang), url="https://ex.kz/news/1", source_id="s", now=FETCHED,
                            timezone="Asia/Almaty")
    assert entry.published == expected


def test_a_structured_time_without_an_offset_is_in_the_sources_timezone() -> None:
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2026-11-27T10:30:00"}</script>'
    html = dated_page("", "kk").replace("</head>", ld + "</head>")
    kwargs = {"url": "https://ex.cn/1", "source_id": "s", "now": FETCHED}
    # Chinese outlets, in Xinjiang too, print Beijing time (tzdata's Asia/Urumqi is the unofficial UTC+6)
    assert extract_article(html, **kwargs, timezone="Asia/Shanghai").published == datetime(2026, 11, 27, 2, 30,
                                                                                             tzinfo=UTC)
    assert extract_article(html, **kwargs).published == datetime(2026, 11, 27, 10, 30, tzinfo=UTC)  # UTC, as before
    offset = html.replace("10:30:00", "10:30:00+08:00")
    assert extract_article(offset, **kwargs, timezone="Asia/Almaty").published == datetime(2026, 11, 27, 2, 30,
                                                                                             tzinfo=UTC)


def test_an_arabic_script_page_on_a_chinese_template_has_its_dateline_read_as_kazakh() -> None:
    html = dated_page("27 قاراشا 2026", "zh-CN").replace("Қазақтар наурызды тойлады", "قازاقتار ناۋرىزدى تويلادى")
    entry = extract_article(html, url="https://ex.cn/kk/1", source_id="s", language="kk-Arab", now=FETCHED)
    assert entry.published == datetime(2026, 11, 27, tzinfo=UTC)


@pytest.mark.parametrize("related", [True, False])
def test_a_page_that_shows_no_date_of_its_own_has_none(related: bool) -> None:
    """Not another story's date, not 2001-01-01 from "© 2001–2026", not the bare year: the collector then
    stores the fetch time and flags it as an estimate."""
    entry = extract_article(dated_page("Views: 1234", "en", related=related), url="https://ex.kz/news/1",
                            source_id="s", now=FETCHED)
    assert entry.published is None
    # the same with the copyright in a plain <div> (not pruned as a footer): htmldate's year guess is refused
    html = dated_page("Views: 1234", "en", related=related).replace("<footer>", '<div class="copy">').replace(
        "</footer>", "</div>")
    assert extract_article(html, url="https://ex.kz/news/1", source_id="s", now=FETCHED).published is None


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ('<meta name="author" content="Автор: Айгүл Сейітқызы">', "Айгүл Сейітқызы"),  # the label goes
        ('<meta name="author" content="Avtor Dana Nurlanqyzy">', "Dana Nurlanqyzy"),
        ('<meta name="author" content="By John Smith">', "John Smith"),
        ('<meta name="author" content="Bysenbay Nurlan">', "Bysenbay Nurlan"),  # a name, not "By"
        ('<meta name="author" content="Haber Medya">', None),  # the outlet: habermedya.com.tr
        ('<meta name="author" content="Kazakh Voice"><meta property="og:site_name" content="Kazakh Voice">', None),
        ('<meta name="author" content="admin">', None),  # a CMS account
    ],
)
def test_bylines_lose_their_label_and_the_outlet_is_no_author(meta: str, expected: str | None) -> None:
    html = dated_page("27 қараша 2026", "kk").replace("</head>", meta + "</head>")
    entry = extract_article(html, url="https://www.habermedya.com.tr/haber/1", source_id="s", now=FETCHED)
    assert entry.author == expected
    outlet = html.replace(meta, '<meta name="author" content="Egemen kz">')
    assert extract_article(outlet, url="https://egemen.kz/article/1", source_id="s", now=FETCHED).author is None


def test_a_template_language_in_another_script_than_the_text_is_ignored() -> None:
    """An Arabic-script Kazakh page on a site built as lang="zh-CN": not Chinese; the source's language (or
    detection) decides. A declared language that fits the text is kept."""
    arabic = dated_page("27 قاراشا 2026", "zh-CN").replace("Қытайдағы қазақтар наурыз мерекесін тойлады. ",
                                                              "شىنجياڭداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى. ")
    arabic = arabic.replace("Мерекеге мыңдаған адам қатысты. ", "مەرەكەگە مىڭداعان ادام قاتىستى. ")
    arabic = arabic.replace("Қазақтар наурызды тойлады", "قازاقتار ناۋرىزدى تويلادى")
    assert extract_article(arabic, url="https://ex.cn/kk/1", source_id="s", now=FETCHED).language is None
    chinese = dated_page("2025年3月5日", "zh-CN").replace("Қытайдағы қазақтар наурыз мерекесін тойлады. ",
                                                          "新疆哈萨克族牧民欢庆纳吾肉孜节。")
    chinese = chinese.replace("Мерекеге мыңдаған адам қатысты. ", "数千人参加了节日活动。").replace(
        "Қазақтар наурызды тойлады", "哈萨克族欢庆纳吾肉孜节")
    assert extract_article(chinese, url="https://ex.cn/zh/1", source_id="s", now=FETCHED).language == "zh"


def test_a_site_laid_out_in_tables_gives_its_headline_and_its_text_without_the_menu() -> None:
    """Old association sites: <title> "Site - Headline", the headline in an <h2>, the menu, the article and
    the footer in table cells. The title was the site's name on every item, and the text and summary began
    with the menu row."""
    menu = "".join(f'<a href="{p}.php">{w}</a> | ' for p, w in [("index", "ANASAYFA"), ("hakkimizda", "HAKKIMIZDA"),
                                                                ("haberler", "HABERLER"), ("galeri", "FOTO GALERİ")])
    sentences = ["Vakfımızın her yıl düzenlediği geleneksel kış buluşması bu yıl Zeytinburnu Kültür Merkezi'nde "
                 "yüzlerce Kazak Türkü'nün katılımıyla gerçekleştirildi.",
                 "Buluşmada dombıra dinletisi yapıldı, gençler halk oyunları sergiledi ve büyükler eski göç "
                 "hikâyelerini anlattı.",
                 "Vakıf başkanı, gelecek yıl Kazakça kurslarının genişletileceğini söyledi."]
    html = (f'<html><head><meta charset="utf-8"><title>Kazak Türkleri Vakfı - Kış buluşması yapıldı</title></head>'
            f'<body><table class="ust"><tr><td><img src="logo.gif" alt="Vakıf"></td><td class="menu">{menu}</td>'
            f'<td>18:55:10</td></tr></table><table class="icerik"><tr><td><h2 class="baslik">Kış buluşması '
            f'yapıldı</h2><span class="tarih">Eklenme Tarihi: 24.11.2026</span><div class="haber_metin">'
            + "".join(f"<p>{x}</p>" for x in sentences)
            + '</div><p><a href="haber_yazdir.php?id=1">Yazdır</a> | <a href="tavsiye.php?id=1">Arkadaşına '
              'Gönder</a></p></td></tr></table><table class="alt"><tr><td>Kazak Türkleri Vakfı © 2004-2026 | '
              'Ziyaretçi sayısı: 123456</td></tr></table></body></html>')
    entry = extract_article(html, url="https://vakif.example.org.tr/haber.php?id=1", source_id="s", now=FETCHED)
    assert entry.title == "Kış buluşması yapıldı"
    assert entry.text is not None and entry.text.startswith(sentences[0])
    assert "ANASAYFA" not in entry.text and "Ziyaretçi" not in entry.text
    assert entry.summary_html is not None and entry.summary_html.startswith("Vakfımızın her yıl")
    assert entry.published == datetime(2026, 11, 24, tzinfo=UTC)


@pytest.mark.parametrize(
    ("title", "first", "body", "expected"),
    [
        ("Headline of the day | Egemen", "Headline of the day", "<h1>Headline of the day</h1><h3>Egemen</h3>",
         "Headline of the day"),  # the title is the page's heading: kept
        ("Egemen - Headline of the day", "Headline of the day", "<h3>Egemen</h3>", "Headline of the day"),
        ("Egemen - Headline of the day", "Egemen", "<h3>Egemen</h3><h2>Headline of the day</h2>",
         "Headline of the day"),
        ("Headline of the day | Egemen", "Headline of the day", '<h1><a href="/">Egemen</a></h1><h2>Other</h2>',
         "Headline of the day"),  # a logo in an <h1> (it links home) is no headline
        ("Headline of the day | Egemen", "Headline of the day",
         '<meta property="og:site_name" content="Egemen"><h1>Egemen</h1>', "Headline of the day"),
    ],
)
def test_the_title_part_that_is_the_pages_heading(title: str, first: str, body: str, expected: str) -> None:
    from lxml import html as lxml_html

    from mediawatch.collect.pages import _Head, _headline

    tree = lxml_html.fromstring(f"<html><head><title>{title}</title></head><body>{body}</body></html>")
    assert _headline(first, tree, _Head(tree).meta.get("og:site_name")) == expected


HIDDEN_IN_THE_HEADLINE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Kazakh diaspora in Hungary hold kurultai - Hungarian Kazakh News</title>
<style>h1 {{ color: navy }}</style><script>var tracker = "hidden words in the head";</script>
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
 "datePublished": "2025-03-22T10:00:00+01:00", "author": {{"@type": "Person", "name": "Aigerim Bekova"}}}}</script>
</head><body><nav><a href="/">Home</a> <a href="/news/">News</a></nav>
<article><h1>{h1}</h1>
<p>Members of the Kazakh community in Hungary gathered in Budapest on Saturday for their annual kurultai, electing
a new board and planning a summer festival for families from across the country.</p>
<noscript><p>Please enable JavaScript to see the photo gallery of the kurultai.</p></noscript>
<p>About two hundred people attended, including guests from Kazakhstan and neighbouring countries.
<template><p>Template words a browser never shows.</p></template><style>p {{ margin: 0 }}</style></p>
<p>The organisers said the next meeting would be held in Debrecen in the autumn.</p></article></body></html>"""


@pytest.mark.parametrize(
    "h1",
    [
        "Kazakh diaspora in Hungary hold kurultai <script>alert('h1')</script>",
        "Kazakh diaspora <style>h1 { color: red }</style>in Hungary hold kurultai",
        "<noscript>Enable scripts: </noscript>Kazakh diaspora in Hungary hold kurultai<template>!</template>",
    ],
)
def test_script_style_noscript_and_template_never_become_title_or_text(h1: str) -> None:
    """trafilatura's metadata took the <h1> text with the <script> inside it ("… kurultai alert('h1')"); that
    title then no longer matched the text's first line, so the summary repeated the headline."""
    entry = extract_article(HIDDEN_IN_THE_HEADLINE.format(h1=h1), url="https://hu.example/news/2025/03/kurultai",
                            source_id="s", now=FETCHED)
    assert entry.title == "Kazakh diaspora in Hungary hold kurultai"
    assert entry.text is not None and entry.text.startswith("Members of the Kazakh community in Hungary")
    assert entry.summary_html is not None and entry.summary_html.startswith("Members of the Kazakh community")
    for hidden in ("alert", "color", "margin", "tracker", "enable", "template words"):
        assert hidden not in entry.text.lower() and hidden not in entry.title.lower(), hidden
    # the JSON-LD script is metadata, still read
    assert entry.author == "Aigerim Bekova"
    assert entry.published == datetime(2025, 3, 22, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting"])
def test_every_article_type_s_structured_date_beats_the_date_in_the_url(kind: str) -> None:
    """schema.org's ReportageNewsArticle (the BBC's type) was listed as "reportagenews", so its page took the
    date in its URL instead of its own datePublished."""
    html = HIDDEN_IN_THE_HEADLINE.format(h1="Kazakh diaspora in Hungary hold kurultai").replace(
        '"@type": "NewsArticle"', f'"@type": "{kind}"'
    )
    entry = extract_article(html, url="https://hu.example/news/2024-01-05-kurultai.html", source_id="s",
                            now=FETCHED)
    assert entry.published == datetime(2025, 3, 22, 9, 0, tzinfo=UTC)
    assert entry.author == "Aigerim Bekova"
