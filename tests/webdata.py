"""A small real store for the feed, web and browser tests: sources, items, classified with evidence, a story.

Used by tests/test_publish.py, tests/test_web.py and tests/test_browser.py.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from mediawatch.models import Classification, Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import SourceState, Store, open_store
from mediawatch.store.queries import QueryStore
from mediawatch.stories import StoryCandidate, assign_stories

NOW = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)

SOURCES = """version: 1
sources:
  - {id: kazinform-en, kind: rss, name: "Kazinform (EN)", url: "https://en.kazinform.example/rss", every: 1h}
  - {id: qazaq-kk, kind: rss, name: "Qazaq Times", url: "https://qazaq.example/feed", every: 1h}
  - {id: omsk-ru, kind: rss, name: "Омские казахи", url: "https://omsk.example/rss", every: 2h}
  - {id: olgii-mn, kind: rss, name: "Ölgii News", url: "https://olgii.example/rss", every: 2h}
  - {id: broken-feed, kind: rss, name: "Broken feed", url: "https://broken.example/rss", every: 1h}
"""


class QStore(Store, QueryStore):
    """The store with the query mixin (until Store itself inherits QueryStore)."""


@dataclass(frozen=True)
class Row:
    n: int
    source: str
    lang: str
    age: timedelta  # before NOW
    title: str
    summary: str
    relevant: bool
    countries: str
    topics: str
    places: tuple[tuple[str, str, str], ...] = ()  # (name, country, surface)
    story: str | None = None


def ago(days: float = 0, hours: float = 0) -> timedelta:
    return timedelta(days=days, hours=hours)


ROWS: list[Row] = [
    Row(
        1,
        "olgii-mn",
        "en",
        ago(2),
        "Kazakhs of Bayan-Ölgii celebrate Nauryz",
        "Thousands of Kazakhs in Bayan-Ölgii, Mongolia, marked Nauryz with a horse race and an aitys.",
        True,
        "MN",
        "festivals",
        (("Bayan-Ölgii", "MN", "Bayan-Ölgii"),),
        "nauryz-mn",
    ),
    Row(
        2,
        "qazaq-kk",
        "kk",
        ago(2, 3),
        "Баян-Өлгийде Наурыз тойланды",
        "Моңғолиядағы Баян-Өлгий аймағында Наурыз мерекесі аталып өтті.",
        True,
        "MN",
        "festivals",
        (("Bayan-Ölgii", "MN", "Баян-Өлгий"),),
        "nauryz-mn",
    ),
    Row(
        3,
        "kazinform-en",
        "en",
        ago(3),
        "Kazakh students in London celebrate Nauryz",
        "The Kazakh Society of King's College London marked Nauryz with a yurt.",
        True,
        "GB",
        "festivals education",
        (("London", "GB", "London"),),
    ),
    Row(
        4,
        "olgii-mn",
        "en",
        ago(5),
        "120 Kazakh families from Mongolia resettle in Pavlodar",
        "Ethnic Kazakh families from Bayan-Ölgii arrived under the resettlement quota.",
        True,
        "MN",
        "repatriation",
        (("Mongolia", "MN", "Mongolia"),),
    ),
    Row(
        5,
        "omsk-ru",
        "ru",
        ago(4),
        "Казахи Омска открыли курсы казахского языка",
        "В Омске при казахском культурном центре открылись курсы казахского языка.",
        True,
        "RU",
        "language education",
        (("Omsk", "RU", "Омск"),),
    ),
    Row(
        6,
        "kazinform-en",
        "en",
        ago(1),
        "Tenge exchange rate steady",
        "The tenge held steady against the dollar on Thursday.",
        False,
        "",
        "",
    ),
    Row(
        7,
        "kazinform-en",
        "en",
        ago(6),
        "Kazakh wrestlers from Istanbul win the diaspora cup",
        "Young wrestlers of the Kazakh community in Zeytinburnu won the kuresi cup.",
        False,
        "",
        "",
    ),
    Row(
        8,
        "olgii-mn",
        "en",
        ago(40),
        "Kazakhs of Mongolia hold a kurultai",
        "Kazakhs of Mongolia met in Ulaanbaatar.",
        True,
        "MN",
        "festivals politics",
        (("Ulaanbaatar", "MN", "Ulaanbaatar"),),
    ),
    Row(
        9,
        "kazinform-en",
        "en",
        ago(7),
        "Kazakh diaspora in Turkey opens a festival",
        "The Kazakh diaspora in Istanbul opened a festival of Kazakh culture.",
        True,
        "TR",
        "festivals",
        (("Istanbul", "TR", "Istanbul"),),
    ),
]


def why_for(row: Row) -> dict[str, object]:
    """Evidence in the shape the tagger writes (mediawatch.classify.tagger)."""
    relevance = 0.91 if row.relevant else 0.12
    topics = row.topics.split()
    return {
        "relevance": relevance,
        "threshold": 0.5,
        "language": {
            "given": row.lang,
            "detected": row.lang,
            "confidence": 0.98,
            "script": "latin",
            "transliterated_from": None,
        },
        "places": [
            {"name": name, "country": cc, "kind": "place", "text": surface}
            for name, cc, surface in row.places
        ],
        "ambiguous_places": [],
        "home_places": [],
        "terms": {"kazakh": ["Kazakh"] if "azakh" in row.title else [], "diaspora": [], "other_group": []},
        "countries": {cc: [surface or name] for name, cc, surface in row.places},  # the words matched, folded
        "topic_cues": {tp: ["nauryz"] for tp in topics if tp == "festivals"},
        "topic_scores": {
            tp: (0.83 if tp in topics else 0.05)
            for tp in ("festivals", "education", "language", "repatriation", "politics", "sport")
        },
        "topic_thresholds": {"festivals": 0.4},
        "nearest": [
            {
                "text": "Kazakhs of Xinjiang celebrate Nauryz",
                "relevant": True,
                "topics": ["festivals"],
                "similarity": 0.8,
            }
        ],
        "model": "test-model+heads:abc",
        "taxonomy": "t",
    }


def item_id(n: int) -> ItemId:
    return ItemId(f"item{n:03d}")


def make_item(row: Row, now: datetime = NOW) -> Item:
    published = now - row.age
    return Item(
        id=item_id(row.n),
        source_id=SourceId(row.source),
        kind=ItemKind.ARTICLE,
        url=f"https://{row.source}.example/news/{row.n}",
        title=row.title,
        summary=row.summary,
        text=f"{row.summary} Full text of item {row.n}.",
        published=published,
        fetched=published + timedelta(minutes=5),
        language=row.lang,
        author="Editorial desk" if row.n % 3 == 0 else None,
    )


def add_rows(store: Store, rows: list[Row], now: datetime = NOW) -> list[Item]:
    items = [make_item(r, now) for r in rows]
    for it in items:
        store.commit_source(
            it.source_id,
            [it],
            SourceState(it.source_id, last_success=it.fetched),
            it.fetched + timedelta(minutes=1),
        )
    store.save_classifications(
        Classification(
            item_id=it.id,
            relevant=r.relevant,
            relevance=0.91 if r.relevant else 0.12,
            countries=tuple(r.countries.split()),
            topics=tuple(r.topics.split()),
            why=why_for(r),
            model="test-model",
            taxonomy_hash="t",
            classified_at=now,
        )
        for it, r in zip(items, rows, strict=True)
    )
    groups = [(it, r.story) for it, r in zip(items, rows, strict=True) if r.story]
    if groups:
        candidates = [
            StoryCandidate(it.id, _vector(g), it.published, it.source_id, it.language) for it, g in groups
        ]
        store.save_story_plan(assign_stories(candidates, [], threshold=0.9))
    return items


def _vector(group: str) -> np.ndarray:
    v = np.random.default_rng(sum(group.encode())).standard_normal(16).astype(np.float32)
    return v / np.linalg.norm(v)


_TEMPLATE: list[Path] = []


def open_filled(path: Path) -> QStore:
    """A copy of the standard store (built once per session and copied: building takes about a second)."""
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="mediawatch-webdata-"))
        atexit.register(shutil.rmtree, folder, True)
        template = build_store(folder / "template.db")
        template.close()  # the last connection closing checkpoints the WAL into the file
        _TEMPLATE.append(folder / "template.db")
    shutil.copyfile(_TEMPLATE[0], path)
    return QStore(open_store(f"sqlite:///{path}").engine)


def build_store(path: Path, now: datetime = NOW, rows: list[Row] | None = None) -> QStore:
    engine_store = open_store(f"sqlite:///{path}")
    store = QStore(engine_store.engine)
    store.sync_sources(parse_sourcefile(SOURCES, Path("sources.yaml")).sources, now - timedelta(days=60))
    add_rows(store, ROWS if rows is None else rows, now)
    store.save_source_state(
        SourceState(
            SourceId("broken-feed"),
            last_attempt=now - timedelta(hours=1),
            last_success=now - timedelta(days=9),
            consecutive_failures=3,
            last_error="HTTP 503 Service Unavailable from https://broken.example/rss",
            last_status=503,
        )
    )
    return store


def listed(html: str) -> list[str]:
    """Item ids on a list page of the web app, in order."""
    from bs4 import BeautifulSoup

    return [li["data-id"] for li in BeautifulSoup(html, "html.parser").select("ul#items li.item")]
