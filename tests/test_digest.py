"""The weekly digest on a real SQLite store: golden files, escaping, empty weeks, UTC week boundaries.

Golden files live in tests/golden/digest/. After an intended change, regenerate them with
``MEDIAWATCH_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_digest.py`` and review the diff.
"""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from mediawatch.digest import IsoWeek, last_complete_week, write_digest
from mediawatch.digest.build import change
from mediawatch.digest.render import md_escape, safe_url
from mediawatch.digest.summary import extract_summary, split_sentences
from mediawatch.models import Classification, Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import Label, SourceState, Store, open_store
from mediawatch.stories import StoryCandidate, assign_stories

GOLDEN = Path(__file__).parent / "golden" / "digest"
UPDATE = os.environ.get("MEDIAWATCH_UPDATE_GOLDEN") == "1"
WEEK = IsoWeek(2025, 12)  # Mon 17 Mar 2025 00:00 UTC .. Mon 24 Mar 2025 00:00 UTC
NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)
DIM = 16

SOURCES = """version: 1
sources:
  - {id: kazinform-en, kind: rss, name: "Kazinform (EN)", url: "https://en.kazinform.example/rss", every: 1h}
  - {id: qazaq-kk, kind: rss, name: "Qazaq Times", url: "https://qazaq.example/feed", every: 1h}
  - {id: omsk-ru, kind: rss, name: "Омские казахи", url: "https://omsk.example/rss", every: 2h}
  - {id: xj-zh, kind: rss, name: "中新社", url: "https://zh.example/rss", every: 2h}
  - {id: broken-feed, kind: rss, name: "Broken feed", url: "https://broken.example/rss", every: 1h}
  - {id: quiet-feed, kind: rss, name: "Quiet feed", url: "https://quiet.example/rss", every: 6h}
  - {id: old-feed, kind: rss, name: "Old feed", url: "https://old.example/rss", every: 6h, enabled: false}
"""


def at(day: int, hour: int = 10, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, minute, second, tzinfo=UTC)


# (n, source, lang, published, title, summary, story group or None, relevant, countries, topics)
ROWS: list[tuple] = [
    (1, "kazinform-en", "en", at(22, 9), "Kazakh students in London celebrate Nauryz",
     ("LONDON. KAZINFORM – The Kazakh Society of King's College London marked Nauryz on Saturday with a yurt and a "
     "dombra concert. About 400 guests joined. Baursak was served to everyone."), "london", True, "GB", "festivals education"),
    (2, "qazaq-kk", "kk", at(22, 14), "Лондондағы қазақ студенттері Наурызды тойлады",
     ("Лондондағы Кингс колледжінің қазақ қоғамы сенбі күні Наурыз мерекесін атап өтті. Мерекеге 400-ге жуық адам "
     "қатысты."), "london", True, "GB", "festivals"),
    (3, "omsk-ru", "ru", at(23, 8), "Казахские студенты в Лондоне отметили Наурыз",
     ("Казахское общество Королевского колледжа Лондона в субботу отпраздновало Наурыз. Праздник собрал около 400 "
     "человек."), "london", True, "GB", "festivals"),
    (4, "xj-zh", "zh", at(23, 11), "伦敦哈萨克留学生庆祝纳吾热孜节",
     "伦敦国王学院哈萨克学生会周六搭建毡房庆祝纳吾热孜节。约400名来宾参加了活动！英国朋友也来了。", "london", True, "GB",
     "festivals"),
    (5, "kazinform-en", "en", at(19, 7), "120 Kazakh families from Bayan-Ölgii resettle in Pavlodar region",
     ("A group of 120 ethnic Kazakh families from Mongolia arrived under the resettlement quota. They will receive "
     "kandas status."), "mongolia", True, "MN", "repatriation"),
    (6, "qazaq-kk", "kk", at(19, 12), "Баян-Өлгийден 120 отбасы Павлодарға көшті",
     "Моңғолиядан 120 қазақ отбасы квота бойынша Павлодар облысына келді. Олар қандас мәртебесін алады.", "mongolia",
     True, "MN", "repatriation"),
    (7, "omsk-ru", "ru", at(18, 9), "В Омске открылись курсы казахского языка",
     ("В 2025 г. в Омске при казахском культурном центре открылись бесплатные курсы казахского языка. Занятия ведут "
     "учителя из Павлодара, т.е. из соседнего региона. Записались 45 человек."), "omsk", True, "RU", "language education"),
    (8, "xj-zh", "kk", at(20, 16), "شىنجياڭداعى قازاقتار ناۋرىز مەرەكەسىن تويلادى",
     "ىله قازاق اۆتونوميالى وبلىسىندا ناۋرىز مەرەكەسى اتالىپ ءوتتى؟ مەرەكەگە مىڭداعان ادام قاتىستى.", "ili", True, "CN",
     "festivals heritage"),
    (9, "kazinform-en", "en", at(21, 10), "Kazakh wrestlers from Istanbul win the diaspora cup",
     ("Young wrestlers of the Kazakh community in Zeytinburnu won the diaspora kuresi cup. The team trains twice a "
     "week."), "istanbul", False, "", ""),
    (10, "kazinform-en", "en", at(21, 15), "Almaty celebrates Nauryz on Republic Square",
     "Thousands gathered on Republic Square for Nauryz. Concerts continued through the weekend.", "almaty", True, "GB",
     "festivals"),
    (11, "kazinform-en", "en", at(20, 11), "Tenge exchange rate steady",
     "The tenge held steady against the dollar on Thursday.", "tenge", False, "", ""),
    (12, "omsk-ru", "ru", at(23, 23, 59, 59), "Казахи Астрахани провели айтыс",
     "В Астрахани прошёл айтыс акынов. Участвовали 12 акынов из трёх областей.", None, True, "RU", "festivals heritage"),
    # next week (Monday 00:00 UTC): never in W12
    (13, "omsk-ru", "ru", at(24, 0, 0, 0), "Казахи Оренбурга отметили Наурыз",
     "В Оренбурге отметили Наурыз. Пришли сотни гостей.", None, True, "RU", "festivals"),
    # previous weeks, for the trend and the "previous week" column; item 25 opens the Mongolia story on Sunday
    (25, "qazaq-kk", "kk", at(16, 20), "Моңғолия қазақтары көшке дайындалуда",
     "Баян-Өлгийдегі 120 отбасы Қазақстанға көшуге дайындалып жатыр.", "mongolia", True, "MN", "repatriation"),
    (20, "kazinform-en", "en", at(12, 10), "Kazakh community in Berlin opens a library",
     "A Kazakh library opened in Berlin.", "berlin", True, "DE", "language heritage"),
    (21, "qazaq-kk", "kk", at(13, 10), "Берлинде қазақ кітапханасы ашылды",
     "Берлинде қазақ кітапханасы ашылды.", "berlin", True, "DE", "language heritage"),
    (22, "kazinform-en", "en", at(14, 10), "Oil prices fall", "Oil prices fell.", "oil", False, "", ""),
    (23, "kazinform-en", "en", at(4, 10), "Kazakh diaspora in the US raises funds",
     "The Kazakh diaspora in the US opened a fund.", "us", True, "US", "politics"),
    (24, "kazinform-en", "en", at(20, 10, month=2), "Kazakhs of Mongolia hold a kurultai",
     "Kazakhs of Mongolia met in Ulaanbaatar.", "kurultai", True, "MN", "politics"),
]


def make_item(row: tuple) -> Item:
    n, source, lang, published, title, summary = row[:6]
    return Item(
        id=ItemId(f"item{n:03d}"), source_id=SourceId(source), kind=ItemKind.ARTICLE,
        url=f"https://{source}.example/news/{n}", title=title, summary=summary, text="", published=published,
        fetched=published + timedelta(minutes=5), language=lang, author="Editorial desk" if n % 3 == 0 else None,
    )


def group_vector(group: str) -> np.ndarray:
    """A fixed unit vector per story group (the grouping itself is tested with real vectors in test_stories)."""
    seed = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16)
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def item_vector(n: int, group: str) -> np.ndarray:
    """Item 25 is an early, off-centre report of its story: it joins, but it is not the lead."""
    v = group_vector(group) + (0.3 * group_vector(f"noise-{n}") if n == 25 else 0)
    return v / np.linalg.norm(v)


# what the tagger records as a country's support: the places found (gazetteer spelling, folded words matched)
WHY_PLACES = {
    "GB": [("London", "london")],
    "MN": [("Bayan-Ölgii", "баян-өлгий"), ("Mongolia", "mongolia")],
    "RU": [("Russia", "россия")],
    "CN": [("Ili", "ىله")],
    "DE": [("Berlin", "berlin")],
    "US": [("United States", "us")],
    "TR": [("Istanbul", "istanbul")],
}


def why_of(row: tuple) -> dict[str, object]:
    """The evidence as the tagger writes it (the parts the digest reads)."""
    n, countries, topics = row[0], row[8].split(), row[9].split()
    places = [{"name": name, "country": code, "kind": "city", "text": text}
              for code in countries for name, text in WHY_PLACES.get(code, [])]
    return {
        "relevance": 0.9 if row[7] else 0.1,
        "places": places,
        "countries": {code: [text for _, text in WHY_PLACES.get(code, [])] for code in countries},
        "topic_scores": {t: round(0.9 - 0.1 * k - 0.01 * (n % 3), 2) for k, t in enumerate(topics)},
    }


def fill_store(store: Store, rows: list[tuple], *, stories_for: set[int] | None = None) -> list[Item]:
    """Items through commit_source (first_seen = published + 1 h), classifications, stories for grouped rows."""
    items = [make_item(r) for r in rows]
    by_source: dict[str, list[Item]] = {}
    for it in items:
        by_source.setdefault(it.source_id, []).append(it)
    for source, its in sorted(by_source.items()):
        for it in its:
            store.commit_source(SourceId(source), [it], SourceState(SourceId(source), last_success=it.fetched),
                                it.published + timedelta(hours=1))
    store.save_classifications(
        Classification(
            item_id=it.id, relevant=r[7], relevance=0.9 if r[7] else 0.1, countries=tuple(r[8].split()),
            topics=tuple(r[9].split()), why=why_of(r), model="test-model", taxonomy_hash="t", classified_at=NOW,
        )
        for it, r in zip(items, rows, strict=True)
    )
    candidates = [
        StoryCandidate(it.id, item_vector(r[0], r[6]), it.published, it.source_id, it.language)
        for it, r in zip(items, rows, strict=True)
        if r[6] is not None and (stories_for is None or r[0] in stories_for)
    ]
    store.save_story_plan(assign_stories(candidates, [], threshold=0.9))
    return items


@pytest.fixture
def store(db_url: str):
    s = open_store(db_url)  # once on SQLite, once on PostgreSQL: the digest must be the same bytes
    s.sync_sources(parse_sourcefile(SOURCES, Path("sources.yaml")).sources, at(1, month=2))
    yield s
    s.close()


@pytest.fixture
def filled(store: Store) -> Store:
    fill_store(store, ROWS)
    # an editor's label wins over the model: item 9 becomes relevant, item 10 (Almaty, domestic) does not
    store.save_label(Label(ItemId("item009"), True, ("TR",), ("sport",), "aigerim", None, NOW))
    store.save_label(Label(ItemId("item010"), False, (), (), "aigerim", "domestic", NOW))
    store.save_source_state(SourceState(
        SourceId("broken-feed"), last_attempt=at(23, 22), last_success=at(2, 9), consecutive_failures=3,
        last_error="HTTP 503 Service Unavailable from https://broken.example/rss", last_status=503,
    ))
    store.save_source_state(SourceState(
        SourceId("quiet-feed"), last_attempt=at(23, 22), last_success=at(23, 22), last_new_item=at(1),
        notes={"feed_alternate": "https://quiet.example/atom"},
    ))
    return store


def check_golden(path: Path, golden: Path) -> None:
    got = path.read_text(encoding="utf-8")
    assert not (UPDATE and os.environ.get("CI") == "true"), "MEDIAWATCH_UPDATE_GOLDEN under CI compares nothing"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(got, encoding="utf-8")
    assert golden.exists(), f"missing golden file {golden}; run with MEDIAWATCH_UPDATE_GOLDEN=1"
    assert got == golden.read_text(encoding="utf-8"), f"{path.name} differs from {golden} (MEDIAWATCH_UPDATE_GOLDEN=1)"


# ---------------------------------------------------------------------------------------------- golden


def test_digest_matches_golden_files(filled: Store, tmp_path: Path) -> None:
    out = tmp_path / "digests"
    files = write_digest(filled, WEEK, out, now=NOW)
    assert files.md == out / "2025-W12.md" and files.html == out / "2025-W12.html"
    assert files.relevant_items == 10  # 12 W12 items: 9 relabelled in, 10 relabelled out, 11 never relevant
    assert sorted(p.name for p in files.charts) == ["countries.svg", "topics.svg", "trend.svg"]
    check_golden(files.md, GOLDEN / "2025-W12.md")
    check_golden(files.html, GOLDEN / "2025-W12.html")
    for chart in files.charts:
        check_golden(chart, GOLDEN / "2025-W12" / chart.name)
    record = filled.digest_record("2025-W12")
    assert record is not None and record.relevant_items == 10 and record.path_md == str(files.md)


def test_digest_content(filled: Store, tmp_path: Path) -> None:
    md = write_digest(filled, WEEK, tmp_path, now=NOW).md.read_text(encoding="utf-8")
    top = md.split("## Top stories")[1].split("## Charts")[0]
    headings = [line for line in top.splitlines() if line.startswith("### ")]
    # ranked by distinct sources (4, 2, ...), then languages, then recency
    assert headings[0].startswith("### 1. Kazakh students in London celebrate Nauryz")
    assert headings[1].startswith("### 2. 120 Kazakh families from Bayan")
    # a story that began the week before lists its earlier member too
    mongolia = top.split("### 2.")[1].split("### 3.")[0]
    assert "Моңғолия қазақтары көшке дайындалуда" in mongolia and "(kk, 16 Mar)" in mongolia
    # the London story links every member with its source and language
    london = top.split("### 2.")[0]
    for title, source, lang in [("Лондондағы", "Qazaq Times", "kk"), ("Казахские студенты", "Омские казахи", "ru"),
                                ("伦敦哈萨克留学生", "中新社", "zh"), ("Kazakh students in London", "Kazinform (EN)", "en")]:
        line = next(x for x in london.splitlines() if x.startswith("- ") and title in x)
        assert f"— {source} ({lang}, " in line
    assert "4 sources, 4 languages · Countries: United Kingdom · Topics: Festivals, Education" in london
    # each story carries its own lead's extractive summary, in the item's own language; the Russian one
    # survives "г." and "т.е."
    sections = {int(part.split(".", 1)[0]): part for part in top.split("\n### ")[1:]}
    quotes = {n: [x for x in text.splitlines() if x.startswith("> ")] for n, text in sections.items()}
    assert quotes[1] == ["> LONDON. KAZINFORM – The Kazakh Society of King's College London marked Nauryz on "
                         "Saturday with a yurt and a dombra concert. About 400 guests joined."]
    assert quotes[2] == ["> A group of 120 ethnic Kazakh families from Mongolia arrived under the resettlement "
                         "quota. They will receive kandas status."]
    assert sections[6].startswith("6. В Омске открылись курсы казахского языка")
    assert quotes[6] == ["> В 2025 г. в Омске при казахском культурном центре открылись бесплатные курсы казахского "
                         "языка. Занятия ведут учителя из Павлодара, т.е. из соседнего региона. Записались 45 человек."]
    # labels win: item 9 (label: relevant, TR) is in, item 10 (label: not relevant) is out
    assert "Kazakh wrestlers from Istanbul" in md and "### Türkiye (1 story, 1 item this week)" in md
    assert "Almaty celebrates Nauryz" not in md and "Tenge" not in md
    # the Sunday 23:59:59 item belongs to W12, the Monday 00:00 one does not
    assert "Казахи Астрахани провели айтыс" in md and "Оренбурга" not in md
    # week in numbers against the previous week (4 items, 3 relevant in 2 stories, 2 sources)
    assert "| Items collected | 12 | 4 | +8 (+200%) |" in md
    assert "| Relevant items | 10 | 3 | +7 (+233%) |" in md
    assert "| Stories | 6 | 2 | +4 (+200%) |" in md
    assert "| Sources active | 4 | 2 | +2 (+100%) |" in md
    # source health: the failing source with its error, the quiet one with its notes; disabled ones never
    health = md.split("## Source health")[1]
    assert "**Broken feed** (broken-feed): failing: 3 failed attempts in a row; last error: HTTP 503" in health
    assert "last error: HTTP 503 Service Unavailable" in health and "no items this week" in health
    assert "**Quiet feed** (quiet-feed): no items this week (last new item: 2025-03-01 10:00 UTC); feed\\_alternate:" in health
    assert "Old feed" not in health and "Kazinform" not in health
    # the trend chart holds 8 weeks, this one last
    trend = (tmp_path / "2025-W12" / "trend.svg").read_text(encoding="utf-8")
    labels = BeautifulSoup(trend, "xml").find_all("text")
    weeks = [t.get_text() for t in labels if t.get_text().startswith("W")]
    assert weeks == ["W05", "W06", "W07", "W08", "W09", "W10", "W11", "W12"]
    assert "![Relevant items per country](<2025-W12/countries.svg>)" in md


def test_rerun_rewrites_the_same_bytes_apart_from_the_generated_line(filled: Store, tmp_path: Path) -> None:
    first = write_digest(filled, WEEK, tmp_path, now=NOW)
    md1, html1 = first.md.read_text(encoding="utf-8"), first.html.read_text(encoding="utf-8")
    svg1 = [p.read_bytes() for p in first.charts]
    second = write_digest(filled, WEEK, tmp_path, now=NOW + timedelta(hours=5))
    md2, html2 = second.md.read_text(encoding="utf-8"), second.html.read_text(encoding="utf-8")
    assert [p.read_bytes() for p in second.charts] == svg1
    for a, b in ((md1, md2), (html1, html2)):
        diff = [(x, y) for x, y in zip(a.splitlines(), b.splitlines(), strict=True) if x != y]
        assert len(diff) == 1 and "Generated 2025-03-24 06:00 UTC" in diff[0][0] and "11:00 UTC" in diff[0][1]
    assert not list(tmp_path.glob(".*.tmp")), "temporary files left behind"


def test_html_is_self_contained_responsive_and_printable(filled: Store, tmp_path: Path) -> None:
    html = write_digest(filled, WEEK, tmp_path, now=NOW).html.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("meta", attrs={"name": "viewport"}) is not None
    style = soup.find("style").string
    assert "@media print" in style and "@media (max-width" in style
    csp = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})["content"]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert "default-src 'none'" in csp and f"'sha256-{digest}'" in csp
    assert len(soup.find_all("svg")) == 3  # charts inline
    for tag in soup.find_all(True):
        for attr in ("src", "srcset", "data", "poster"):
            assert not tag.has_attr(attr), f"external resource in <{tag.name} {attr}>"
    assert not soup.find_all("link") and not soup.find_all("img")
    # lang attributes on foreign-language titles and links
    langs = {el.get("lang") for el in soup.find_all(attrs={"lang": True})}
    assert {"en", "kk", "ru", "zh"} <= langs


# ---------------------------------------------------------------------------------------------- escaping

PAYLOADS = {
    "title": '<script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:alert(3)) *bold* #tag',
    "summary": '"><svg onload=alert(4)>. <a href="javascript:alert(5)">click</a>. ![i](data:text/html,evil)',
    "author": '<iframe src="javascript:alert(6)"></iframe>',
}
SHOWN_TITLE = "[x](javascript:alert(3)) *bold* #tag"
BAD_URLS = [
    "javascript:alert(7)",
    "JaVaScRiPt:alert(8)",
    " javascript:alert(9)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxMCk8L3NjcmlwdD4=",
    "vbscript:msgbox(11)",
    "https://ok.example/a\"onmouseover=\"alert(12)",
    "https://ok.example/b'><script>alert(13)</script>",
]


def assert_no_active_content(
    soup: BeautifulSoup, where: str, *, images: frozenset[str] = frozenset(), styles: int = 0
) -> None:
    assert not soup.find_all(["script", "iframe", "object", "embed", "form", "base", "frame"]), where
    assert len(soup.find_all("style")) == styles, f"{where}: <style> elements"
    assert {img.get("src") for img in soup.find_all("img")} <= images, f"{where}: unexpected images"
    for tag in soup.find_all(True):
        for attr, value in tag.attrs.items():
            assert not attr.lower().startswith("on"), f"{where}: event handler {attr} on <{tag.name}>"
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert "javascript:" not in text.lower() and "vbscript:" not in text.lower(), f"{where}: {attr}={text}"
            if attr in ("href", "xlink:href"):
                assert text.startswith(("https://", "http://")), f"{where}: {attr}={text}"
    for a in soup.find_all("a"):
        assert a["href"].startswith(("https://", "http://")), f"{where}: link {a['href']!r}"


def test_payloads_never_reach_html_or_markdown_unescaped(store: Store, tmp_path: Path) -> None:
    rows = []
    for k in range(len(BAD_URLS)):
        rows.append((100 + k, "kazinform-en", '"><script>alert(14)</script>', at(20, 8 + k), PAYLOADS["title"],
                     PAYLOADS["summary"], f"xss{k}", True, "GB", "festivals"))
    items = fill_store(store, rows)
    # URLs and authors are not constrained by Item: put the payloads in through the store directly
    from sqlalchemy import update

    from mediawatch.store import schema as t

    with store.engine.begin() as conn:
        for it, url in zip(items, BAD_URLS, strict=True):
            conn.execute(update(t.item).where(t.item.c.id == it.id).values(url=url, author=PAYLOADS["author"]))
        conn.execute(update(t.source).where(t.source.c.id == "broken-feed").values(name='<b onclick="alert(15)">B</b>'))
    store.save_source_state(SourceState(SourceId("broken-feed"), consecutive_failures=1,
                                        last_error="<script>alert(16)</script>", notes={"x": "<img src=x onerror=alert(17)>"}))
    files = write_digest(store, WEEK, tmp_path, now=NOW, source_names={"kazinform-en": "<svg/onload=alert(18)>"})
    html = files.html.read_text(encoding="utf-8")
    soup = BeautifulSoup(html, "html.parser")
    assert_no_active_content(soup, "html", styles=1)  # the page's own stylesheet, in <head>
    assert soup.find("style").parent.name == "head"
    text = soup.get_text()
    # the title, summary and author as every output shows them: what looks like markup is read as markup, the
    # rest is text (the operator's source name is text as written)
    assert SHOWN_TITLE in text and "alert(1)" not in text and "alert(2)" not in text
    assert "<iframe" not in text and "alert(6)" not in text and "<svg/onload=alert(18)>" in text
    assert '<b onclick="alert(15)">B</b>' in text and "<script>alert(16)</script>" in text
    # only the two http(s) URLs became links, each intact inside its attribute value (quotes and all)
    assert {a["href"] for a in soup.select("ul.links a")} == {BAD_URLS[5], BAD_URLS[6]}
    assert not [el for el in soup.find_all(attrs={"lang": True}) if el["lang"] not in ("en",)]  # bad lang dropped
    for svg in files.charts:
        assert_no_active_content(BeautifulSoup(svg.read_text(encoding="utf-8"), "xml"), svg.name)
    # Markdown: rendered by a CommonMark renderer that lets raw HTML through, still nothing active
    md = files.md.read_text(encoding="utf-8")
    rendered = MarkdownIt("commonmark", {"html": True}).render(md)
    rsoup = BeautifulSoup(rendered, "html.parser")
    charts = frozenset(f"2025-W12/{name}.svg" for name in ("countries", "topics", "trend"))
    assert_no_active_content(rsoup, "markdown", images=charts)
    assert SHOWN_TITLE in rsoup.get_text() and "alert(1)" not in rsoup.get_text()
    assert "*bold*" in rsoup.get_text() and not rsoup.find_all("em")
    hrefs = {a["href"] for a in rsoup.find_all("a")}
    assert hrefs == {"https://ok.example/a%22onmouseover=%22alert%2812%29",
                     "https://ok.example/b'%3E%3Cscript%3Ealert%2813%29%3C/script%3E"}


def test_safe_url_and_md_escape() -> None:
    assert safe_url("https://a.example/x?y=1") == "https://a.example/x?y=1"
    assert safe_url("HTTP://A.example") == "HTTP://A.example"
    for bad in ["javascript:alert(1)", "data:text/html,x", "//a.example/x", "/relative", "https://", "ftp://a.example",
                "https://a.example/\nx", "mailto:a@b.example", None, 42]:
        assert safe_url(bad) is None, bad
    assert md_escape("a [b](c) *d* <e> `f` | g\nh") == r"a \[b\](c) \*d\* \<e\> \`f\` \| g h"


# ---------------------------------------------------------------------------------------------- empty week


def test_source_health_says_each_thing_once(store: Store, tmp_path: Path) -> None:
    """Was: "**f404** (f404): failing: 1 failed attempt in a row (HTTP 404); last error: HTTP 404"."""
    from sqlalchemy import update

    from mediawatch.store import schema as t

    with store.engine.begin() as conn:  # a source the file gives no name
        conn.execute(update(t.source).where(t.source.c.id == "broken-feed").values(name=None))
    store.save_source_state(SourceState(SourceId("broken-feed"), last_attempt=at(23, 22), consecutive_failures=1,
                                        last_error="HTTP 404", last_status=404))
    store.save_source_state(SourceState(SourceId("quiet-feed"), last_attempt=at(23, 22), consecutive_failures=2,
                                        last_error="every new article failed; first: timed out", last_status=200))
    files = write_digest(store, WEEK, tmp_path, now=NOW)
    health = files.md.read_text(encoding="utf-8").split("## Source health")[1]
    assert "- **broken-feed**: failing: 1 failed attempt in a row; last error: HTTP 404; last success: never" in health
    assert "(broken-feed)" not in health and "(HTTP 404)" not in health
    # a status the error does not name is still given
    assert "- **Quiet feed** (quiet-feed): failing: 2 failed attempts in a row (HTTP 200); last error: every" in health
    html = BeautifulSoup(files.html.read_text(encoding="utf-8"), "html.parser")
    items = {li.strong.get_text(): li for li in html.find_all("li") if li.strong}
    broken = items["broken-feed"].get_text()
    assert broken.startswith("broken-feed (https://broken.example/rss): failing: 1 failed attempt in a row; "), broken
    assert items["Quiet feed"].get_text().startswith("Quiet feed (quiet-feed, https://quiet.example/rss): failing")


def test_empty_week_says_so_and_drops_old_charts(filled: Store, tmp_path: Path) -> None:
    week = IsoWeek(2025, 14)
    (tmp_path / str(week)).mkdir()
    (tmp_path / str(week) / "trend.svg").write_text("stale", encoding="utf-8")
    files = write_digest(filled, week, tmp_path, now=NOW + timedelta(days=14))
    assert files.relevant_items == 0 and files.charts == ()
    md = files.md.read_text(encoding="utf-8")
    assert "No relevant items were published this week (0 items collected, none tagged relevant)." in md
    assert "## Top stories" not in md and "## Charts" not in md
    assert "| Relevant items | 0 | 1 | −1 (−100%) |" in md  # W13 had the Monday 00:00 item
    assert not (tmp_path / str(week)).exists()
    soup = BeautifulSoup(files.html.read_text(encoding="utf-8"), "html.parser")
    assert soup.find("p", class_="empty") is not None and not soup.find_all("svg")
    check_golden(files.md, GOLDEN / "2025-W14.md")


def test_week_with_items_but_none_relevant(store: Store, tmp_path: Path) -> None:
    fill_store(store, [r for r in ROWS if r[0] == 11])
    files = write_digest(store, WEEK, tmp_path, now=NOW)
    md = files.md.read_text(encoding="utf-8")
    assert "(1 item collected, none tagged relevant)" in md and files.relevant_items == 0


def test_relevant_items_without_a_story_are_their_own_story(store: Store, tmp_path: Path) -> None:
    fill_store(store, [r for r in ROWS if r[0] in (1, 2, 5)], stories_for=set())
    md = write_digest(store, WEEK, tmp_path, now=NOW).md.read_text(encoding="utf-8")
    assert "| Stories | 3 | 0 | +3 (new) |" in md


# ---------------------------------------------------------------------------------------------- weeks


def test_iso_weeks_are_utc_monday_to_monday() -> None:
    w = IsoWeek.parse("2025-W12")
    assert (w.start, w.end) == (datetime(2025, 3, 17, tzinfo=UTC), datetime(2025, 3, 24, tzinfo=UTC))
    assert w.contains(datetime(2025, 3, 23, 23, 59, 59, 999999, tzinfo=UTC))
    assert not w.contains(datetime(2025, 3, 24, 0, 0, tzinfo=UTC))
    # 23:30 on Sunday in New York is Monday in UTC: next week
    from zoneinfo import ZoneInfo

    assert IsoWeek.of(datetime(2025, 3, 23, 23, 30, tzinfo=ZoneInfo("America/New_York"))) == IsoWeek(2025, 13)
    assert str(IsoWeek.parse("2020W53")) == "2020-W53"
    assert IsoWeek.of(datetime(2024, 12, 30, tzinfo=UTC)) == IsoWeek(2025, 1)
    assert IsoWeek(2025, 1).previous() == IsoWeek(2024, 52) and IsoWeek(2021, 1).previous() == IsoWeek(2020, 53)
    for bad in ["2025-W00", "2025-W53", "2025-12", "W12", "2025-W1", ""]:
        with pytest.raises(ValueError, match="ISO week|has no ISO week"):
            IsoWeek.parse(bad)
    with pytest.raises(ValueError, match="naive"):
        IsoWeek.of(datetime(2025, 3, 17))


@pytest.mark.parametrize("tz", ["UTC", "Asia/Almaty", "America/New_York"])
def test_a_week_too_early_to_compare_is_a_value_error_not_an_overflow(tz: str) -> None:
    """0001-W01 has no previous week (nor a trend): OverflowError from previous() used to reach the CLI."""
    for early in ("0001-W01", "0001-W07"):
        with pytest.raises(ValueError, match=f"{early} is too early: a digest compares the week with the 7 weeks"):
            IsoWeek.parse(early, tz).require_history(7)
    IsoWeek.parse("0001-W09", tz).require_history(7)
    with pytest.raises(ValueError, match="0000 has no ISO weeks"):
        IsoWeek.parse("0000-W01", tz)


@pytest.mark.parametrize("week", ["0001-W01", "0000-W01"])
def test_digest_command_refuses_a_week_too_early(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, week: str) -> None:
    from click.testing import CliRunner

    from mediawatch.cli import main

    monkeypatch.chdir(tmp_path)
    open_store("sqlite:///mediawatch.db").close()
    for tz in ("UTC", "Asia/Almaty"):
        result = CliRunner().invoke(main, ["digest", "--week", week, "--out", "out"],
                                    env={"MEDIAWATCH_DIGEST_TIMEZONE": tz, "MEDIAWATCH_DB": None})
        assert result.exit_code == 2, (result.output, result.exception)
        assert "Invalid value for --week: " in result.stderr and "Traceback" not in result.output
        assert not (tmp_path / "out").exists()


def test_last_complete_week() -> None:
    assert last_complete_week(datetime(2025, 3, 24, 0, 0, tzinfo=UTC)) == IsoWeek(2025, 12)
    assert last_complete_week(datetime(2025, 3, 23, 23, 59, tzinfo=UTC)) == IsoWeek(2025, 11)
    assert last_complete_week(datetime(2025, 1, 1, 12, tzinfo=UTC)) == IsoWeek(2024, 52)


def test_change_wording() -> None:
    assert [change(5, 4), change(3, 4), change(4, 4), change(2, 0)] == ["+1 (+25%)", "−1 (−25%)", "no change", "+2 (new)"]


# ---------------------------------------------------------------------------------------------- summaries


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("First one. Second one! Third? Fourth.", ["First one.", "Second one!", "Third?", "Fourth."]),
        ("Dr. Aliyev met A. Bek in the U.S. today. Then left.", ["Dr. Aliyev met A. Bek in the U.S. today.", "Then left."]),
        ("В 2023 г. в Омске прошёл праздник. Пришли 200 чел.", ["В 2023 г. в Омске прошёл праздник.", "Пришли 200 чел."]),
        ("牧民聚会。举办阿肯弹唱会！你来吗？好的", ["牧民聚会。", "举办阿肯弹唱会！", "你来吗？", "好的"]),
        ("「你好。」他说。", ["「你好。」", "他说。"]),
        ("ناۋرىز مەرەكەسى ءوتتى؟ مەرەكەگە كوپ ادام كەلدى.", ["ناۋرىز مەرەكەسى ءوتتى؟", "مەرەكەگە كوپ ادام كەلدى."]),
        ("یہ پہلا جملہ ہے۔ یہ دوسرا ہے۔", ["یہ پہلا جملہ ہے۔", "یہ دوسرا ہے۔"]),
        ("Price rose 3.5 percent. Good.", ["Price rose 3.5 percent.", "Good."]),
        ("  ", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_extract_summary_takes_one_to_three_sentences_after_the_title() -> None:
    assert extract_summary("Title here", "Title here. One. Two. Three. Four.") == "One. Two. Three."
    long = "Word " * 60 + "end. Second sentence."
    assert extract_summary("x", long).count(".") <= 1  # one long sentence is enough
    assert extract_summary("x", "", "From the text. Yes.") == "From the text. Yes."
    assert extract_summary("x", "") == ""
    cut = extract_summary("x", "a" * 1000)
    assert len(cut) <= 361 and cut.endswith("…")
    assert extract_summary("题", "第一句。第二句。第三句。第四句。") == "第一句。第二句。第三句。"


def test_relabel_after_story_changes_digest(filled: Store, tmp_path: Path) -> None:
    """An editor's label is read at digest time: marking the London lead irrelevant drops it from the story
    (editors only see relevant members) and another member leads."""
    filled.save_label(Label(ItemId("item001"), False, (), (), "aigerim", None, NOW))
    md = write_digest(filled, WEEK, tmp_path, now=NOW).md.read_text(encoding="utf-8")
    assert "| Relevant items | 9 |" in md
    top = md.split("## Top stories")[1]
    assert "Kazakh students in London celebrate Nauryz" not in top
    assert "3 sources, 3 languages" in top.split("### 2.")[0]


def test_week_items_carry_effective_tags_and_story(store: Store) -> None:
    """The store read the digest is built from: effective tags (label first) and story ids."""
    fill_store(store, [r for r in ROWS if r[0] in (1, 2, 9)])
    store.save_label(Label(ItemId("item009"), True, ("TR",), ("sport",), None, None, NOW))
    items = {w.id: w for w in store.week_items(WEEK.start, WEEK.end)}
    assert items[ItemId("item001")].story_id == items[ItemId("item002")].story_id is not None
    assert items[ItemId("item009")].relevant and items[ItemId("item009")].countries == ("TR",)
    assert items[ItemId("item009")].labeled and not items[ItemId("item001")].labeled


def test_a_source_whose_week_items_were_collected_late_is_not_called_silent(
    store: Store, tmp_path: Path
) -> None:
    """Items published in the week but first seen after it (the first run, a digest written later) count."""
    fill_store(store, [r for r in ROWS if r[0] in (1, 7)])
    late = Item(
        id=ItemId("item090"),
        source_id=SourceId("quiet-feed"),
        kind=ItemKind.ARTICLE,
        url="https://quiet.example/news/90",
        title="Kazakhs of Omsk hold an aitys",
        summary="An aitys in Omsk.",
        text="",
        published=at(20, 12),
        fetched=NOW + timedelta(days=2),
        language="en",
    )
    store.commit_source(
        SourceId("quiet-feed"),
        [late],
        SourceState(SourceId("quiet-feed"), last_success=late.fetched),
        NOW + timedelta(days=2),
    )
    store.save_source_state(
        SourceState(
            SourceId("xj-zh"),
            last_success=at(23),
            last_new_item=at(2),
            notes={"handle": "@xj", "channel_id": "UC0123456789abcdefghijkl"},
        )
    )
    md = write_digest(store, WEEK, tmp_path, now=NOW + timedelta(days=2)).md.read_text(encoding="utf-8")
    assert "| Sources active | 3 | 0 | +3 (new) |" in md
    health = md.split("## Source health")[1]
    assert "Quiet feed" not in health  # its item of the week is in the numbers above
    assert "Kazinform" not in health and "Омские казахи" not in health
    xj = next(line for line in health.splitlines() if "(xj-zh)" in line)
    assert "no items this week (last new item: 2025-03-02 10:00 UTC)" in xj
    assert "channel" not in xj and "handle" not in xj  # a YouTube source's resolved ids are no reason to act


# ------------------------------------------------------------------------------------------ weeks in a zone


def test_utc_weeks_are_exactly_what_they_were() -> None:
    """The default zone keeps Monday 00:00 UTC + 7 days for every week (the golden files pin the text)."""
    from datetime import date, time

    week = IsoWeek(2019, 1)
    while week < IsoWeek(2027, 1):
        start = datetime.combine(date.fromisocalendar(week.year, week.week, 1), time(0), tzinfo=UTC)
        assert (week.start, week.end, week.tz) == (start, start + timedelta(days=7), "UTC"), week
        assert IsoWeek.of(start) == week == IsoWeek.parse(str(week))
        assert IsoWeek.of(start - timedelta(microseconds=1)) == week.previous()
        week = week.shift(1)


def test_weeks_in_the_editors_time_zone() -> None:
    # Asia/Almaty (UTC+5 since March 2024): Monday 00:00 there is Sunday 19:00 UTC
    w = IsoWeek.parse("2024-W10", "Asia/Almaty")
    assert (w.start, w.end) == (datetime(2024, 3, 3, 19, tzinfo=UTC), datetime(2024, 3, 10, 19, tzinfo=UTC))
    assert str(w) == "2024-W10" and w.previous() == IsoWeek(2024, 9, "Asia/Almaty")
    # a digest at Monday 03:00 in Almaty (Sunday 22:00 UTC) covers the week that just ended there
    monday_3am = datetime(2024, 3, 10, 22, tzinfo=UTC)
    assert last_complete_week(monday_3am, "Asia/Almaty") == IsoWeek(2024, 10, "Asia/Almaty")
    assert last_complete_week(monday_3am) == IsoWeek(2024, 9)  # UTC weeks: the week before last
    assert IsoWeek.of(datetime(2024, 3, 10, 18, 59, tzinfo=UTC), "Asia/Almaty") == w
    assert IsoWeek.of(datetime(2024, 3, 10, 19, tzinfo=UTC), "Asia/Almaty") == w.shift(1)
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        IsoWeek.parse("2024-W10", "Mars/Base")


@pytest.mark.parametrize(
    ("tz", "week", "hours"),
    [
        ("Europe/Berlin", IsoWeek(2024, 13), 167),  # clocks forward on Sunday 31 March
        ("Europe/Berlin", IsoWeek(2024, 43), 169),  # clocks back on Sunday 27 October
        ("America/New_York", IsoWeek(2024, 10), 167),  # forward on Sunday 10 March
        ("America/New_York", IsoWeek(2024, 44), 169),  # back on Sunday 3 November
        ("Asia/Almaty", IsoWeek(2024, 9), 169),  # moved from UTC+6 to UTC+5 at midnight on 1 March
        ("America/Sao_Paulo", IsoWeek(1997, 41), 167),  # Monday 00:00 itself was skipped (00:00 -> 01:00)
        ("Africa/Casablanca", IsoWeek(2008, 35), 169),  # Monday 00:00 came back as Sunday 23:00
    ],
)
def test_weeks_across_daylight_saving_changes(tz: str, week: IsoWeek, hours: int) -> None:
    from zoneinfo import ZoneInfo

    w = IsoWeek(week.year, week.week, tz)
    assert w.end - w.start == timedelta(hours=hours)
    assert w.end == w.shift(1).start and w.start == w.previous().end  # weeks tile time without gaps or overlaps
    assert w.local_start.weekday() == w.local_end.weekday() == 0
    # every instant around both bounds belongs to exactly the week whose bounds hold it
    for bound in (w.start, w.end):
        moment = bound - timedelta(hours=2)
        while moment < bound + timedelta(hours=2):
            found = IsoWeek.of(moment, tz)
            assert found.contains(moment) and found in (w.previous(), w, w.shift(1)), moment
            moment += timedelta(minutes=15)
    # the start is the first instant whose local date is that Monday
    local = w.start.astimezone(ZoneInfo(tz))
    assert local.date() == w.monday
    assert (w.start - timedelta(seconds=1)).astimezone(ZoneInfo(tz)).date() < w.monday


ALMATY_ROWS: list[tuple] = [
    # Sunday 3 March 20:00 UTC is Monday 4 March 01:00 in Almaty: in the Almaty week 10, not the UTC one
    (41, "kazinform-en", "en", datetime(2024, 3, 3, 20, tzinfo=UTC), "Kazakhs of Almaty abroad meet on Monday",
     "A meeting in London.", None, True, "GB", "culture"),
    # Sunday 10 March 18:30 UTC is 23:30 in Almaty: the last half hour of week 10 there
    (42, "kazinform-en", "en", datetime(2024, 3, 10, 18, 30, tzinfo=UTC), "Late Sunday dombra concert in Berlin",
     "A concert in Berlin.", None, True, "DE", "culture"),
    # Sunday 10 March 19:30 UTC is Monday 11 March 00:30 in Almaty: week 11 there
    (43, "kazinform-en", "en", datetime(2024, 3, 10, 19, 30, tzinfo=UTC), "Monday news from Ankara",
     "News from Ankara.", None, True, "TR", "culture"),
]


def test_a_digest_in_the_editors_time_zone(store: Store, tmp_path: Path) -> None:
    fill_store(store, ALMATY_ROWS)
    week = IsoWeek.parse("2024-W10", "Asia/Almaty")
    files = write_digest(store, week, tmp_path, now=datetime(2024, 3, 10, 22, tzinfo=UTC))
    assert files.md == tmp_path / "2024-W10.md" and files.relevant_items == 2
    md = files.md.read_text(encoding="utf-8")
    assert md.startswith("# Weekly digest 2024-W10\n")
    period = ("Mon 04 Mar 2024 00:00 – Mon 11 Mar 2024 00:00 Asia/Almaty "
              "(Sun 03 Mar 2024 19:00 – Sun 10 Mar 2024 19:00 UTC)")
    assert period in md
    assert "Kazakhs of Almaty abroad meet on Monday" in md and "Late Sunday dombra concert in Berlin" in md
    assert "Monday news from Ankara" not in md
    # dates in the digest are the editors' dates too: item 41 was published on Monday 4 March there
    line = next(ln for ln in md.splitlines() if "Kazakhs of Almaty abroad" in ln and ln.startswith("- "))
    assert "04 Mar" in line, line
    html = BeautifulSoup(files.html.read_text(encoding="utf-8"), "html.parser")
    assert html.find("p", class_="period").get_text() == period
    # the same week in UTC holds items 42 and 43 instead
    utc = write_digest(store, IsoWeek(2024, 10), tmp_path / "utc", now=datetime(2024, 3, 11, 6, tzinfo=UTC))
    assert utc.relevant_items == 2
    text = utc.md.read_text(encoding="utf-8")
    assert "Mon 04 Mar 2024 00:00 – Mon 11 Mar 2024 00:00 UTC\n" in text and "Monday news from Ankara" in text


def test_a_week_with_a_daylight_saving_change_says_so_in_its_header(store: Store, tmp_path: Path) -> None:
    week = IsoWeek(2024, 13, "Europe/Berlin")
    files = write_digest(store, week, tmp_path, now=datetime(2024, 4, 1, 6, tzinfo=UTC))
    assert ("Mon 25 Mar 2024 00:00 – Mon 01 Apr 2024 00:00 Europe/Berlin "
            "(Sun 24 Mar 2024 23:00 – Sun 31 Mar 2024 22:00 UTC)") in files.md.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------------------------- wording


def sqlite_store(tmp_path: Path, sources: str | None) -> Store:
    s = open_store(f"sqlite:///{tmp_path / 'wording.db'}")
    if sources is not None:
        s.sync_sources(parse_sourcefile(sources, Path("sources.yaml")).sources, at(1, month=2))
    return s


def both(files) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    md = files.md.read_text(encoding="utf-8")
    html = " ".join(BeautifulSoup(files.html.read_text(encoding="utf-8"), "html.parser").get_text().split())
    return md, html


def test_no_enabled_sources_is_not_called_all_zero_delivered(tmp_path: Path) -> None:
    """README audit: an empty digest said "All 0 enabled sources delivered items this week without errors"."""
    disabled = ("version: 1\nsources:\n  - {id: off-feed, kind: rss, url: 'https://off.example/rss', "
                "every: 1h, enabled: false}\n")
    for sources in (None, disabled):
        store = sqlite_store(tmp_path, sources)
        md, html = both(write_digest(store, WEEK, tmp_path / "out", now=NOW))
        store.close()
        (tmp_path / "wording.db").unlink()
        for text in (md, html):
            assert "All 0" not in text and "delivered items" not in text
            assert "No sources are enabled, so there was nothing to collect this week." in text


def test_one_enabled_source_in_good_health_reads_as_singular(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path, "version: 1\nsources:\n  - {id: qazaq-kk, kind: rss, url: 'https://q.example/f', "
                                   "every: 1h}\n")
    fill_store(store, [r for r in ROWS if r[0] in (2, 6)])
    md, html = both(write_digest(store, WEEK, tmp_path, now=NOW))
    store.close()
    for text in (md, html):
        assert "The one enabled source delivered items this week without errors." in text
        assert "All 1 " not in text


def eleven_stories() -> list[tuple]:
    """Eleven relevant items of one source in WEEK, each its own story: the top ten, and one more."""
    return [(100 + n, "kazinform-en", "en", at(17 + n % 7, 8 + n), f"Kazakh community event number {n}",
             f"Report number {n}.", None, True, "GB", "festivals") for n in range(11)]


def test_one_problem_reads_as_singular(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path, SOURCES.replace(
        '  - {id: broken-feed, kind: rss, name: "Broken feed", url: "https://broken.example/rss", every: 1h}\n', ""))
    fill_store(store, eleven_stories() + [r for r in ROWS if r[0] in (2, 3, 4)], stories_for=set())
    md, html = both(write_digest(store, WEEK, tmp_path, now=NOW))
    store.close()
    for text in (md, html):
        assert "1 of 5 enabled sources needs attention:" in text  # quiet-feed brought nothing
        assert "…and 4 more stories in the sections below." in text  # 14 stories, 10 on top


def test_one_more_story_reads_as_singular(tmp_path: Path) -> None:
    store = sqlite_store(tmp_path, SOURCES)
    fill_store(store, eleven_stories(), stories_for=set())
    md, html = both(write_digest(store, WEEK, tmp_path, now=NOW))
    store.close()
    for text in (md, html):
        assert "…and 1 more story in the sections below." in text
        assert "5 of 6 enabled sources need attention:" in text  # only kazinform-en brought items


@pytest.mark.parametrize(("n", "text"), [(0, "0 items"), (1, "1 item"), (2, "2 items")])
def test_count(n: int, text: str) -> None:
    from mediawatch.wording import count

    assert count(n, "item") == text
    assert count(n, "story", "stories").endswith("story" if n == 1 else "stories")
