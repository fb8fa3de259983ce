"""The item page and the subscriber feeds tell a topic that passed its threshold from the "at least one topic"
fallback.

The tagger gives a relevant item the topic closest to its threshold when no topic passes; ``why`` records the
scores and thresholds, and the page must not show that topic's score as if it had passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient
from webdata import NOW, ROWS, QStore, item_id, open_filled, why_for

from mediawatch.models import Classification, ItemId
from mediawatch.publish import rebuild_feeds
from mediawatch.publish.topics import TopicVerdict, passed, topic_scores
from mediawatch.settings import Settings
from mediawatch.store.tags import Label
from mediawatch.web import create_app

PAYLOAD = '<script>alert("x")</script>'


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QStore]:
    s = open_filled(tmp_path / "web.db")
    yield s
    s.close()


@pytest.fixture
def client(store: QStore, tmp_path: Path) -> TestClient:
    app = create_app(store, Settings(editor_token="t"), digests_dir=tmp_path / "digests", clock=lambda: NOW)
    return TestClient(app)


def reclassify(store: QStore, n: int, topics: tuple[str, ...], scores: dict[str, float],
               thresholds: dict[str, float]) -> None:
    """Item ``n`` tagged relevant with ``topics`` and this topic evidence (the rest as webdata writes it)."""
    row = next(r for r in ROWS if r.n == n)
    why = {**why_for(row), "topic_scores": scores, "topic_thresholds": thresholds, "topic_cues": {}}
    store.save_classifications([
        Classification(item_id=item_id(n), relevant=True, relevance=0.91, countries=("MN",), topics=topics,
                       why=why, model="test-model", taxonomy_hash="t", classified_at=NOW)
    ])


def page(client: TestClient, n: int) -> BeautifulSoup:
    r = client.get(f"/items/{item_id(n)}")
    assert r.status_code == 200
    return BeautifulSoup(r.text, "html.parser")


def table(soup: BeautifulSoup) -> dict[str, tuple[str, str, str, str]]:
    """topic id -> (verdict, score, threshold, result) from the page's table of topic scores."""
    rows = soup.select("#topic-scores tr[data-topic]")
    return {
        tr["data-topic"]: (tr["data-verdict"], *(td.get_text() for td in tr.find_all("td")[1:]))  # type: ignore[misc]
        for tr in rows
    }


def test_the_closest_topic_below_its_threshold_is_marked(store: QStore, client: TestClient) -> None:
    reclassify(store, 4, ("repatriation",), {"repatriation": 0.312, "politics": 0.05, "festivals": 0.2},
               {"repatriation": 0.45, "politics": 0.5, "festivals": 0.4})
    soup = page(client, 4)
    why = soup.find(id="why").get_text(" ")
    assert "Repatriation (0.31)" not in why  # the old rendering, as if it had passed
    assert ("Topics: Repatriation (score 0.31, below its threshold 0.45: no topic passed its threshold, so the "
            "closest one was given).") in why
    assert table(soup) == {
        "repatriation": ("closest", "0.31", "0.45", "tagged as the closest topic, below its threshold"),
        "festivals": ("below", "0.20", "0.40", "below its threshold"),
        "politics": ("below", "0.05", "0.50", "below its threshold"),
    }
    note = soup.find(id="closest-topic")
    assert note is not None and "Repatriation: no topic reached its threshold" in note.get_text()
    assert [a.get_text() for a in soup.select("#tags a.tag")] == ["Repatriation", "MN"]  # still tagged


def test_the_feeds_tell_the_closest_topic_too(store: QStore, tmp_path: Path) -> None:
    reclassify(store, 4, ("repatriation",), {"repatriation": 0.312, "politics": 0.05},
               {"repatriation": 0.45, "politics": 0.5})
    rebuild_feeds(store, tmp_path / "d", now=NOW)
    entry = next(e for e in feedparser.parse((tmp_path / "d/feeds/topics/repatriation.atom").read_bytes()).entries
                 if e.title == "120 Kazakh families from Mongolia resettle in Pavlodar")
    content = BeautifulSoup(entry.content[0].value, "html.parser").get_text(" ")
    assert "Repatriation (0.31)" not in content
    assert ("Topics: Repatriation (score 0.31, below its threshold 0.45: no topic passed its threshold, so the "
            "closest one was given).") in content


def test_topics_that_passed_are_shown_as_passed(store: QStore, client: TestClient) -> None:
    reclassify(store, 4, ("repatriation", "politics"), {"repatriation": 0.612, "politics": 0.5, "sport": 0.7},
               {"repatriation": 0.45, "politics": 0.5, "sport": 1.0})
    soup = page(client, 4)
    lines = [li.get_text() for li in soup.select("#why > ul > li")]
    assert "Topics: Repatriation (score 0.61, threshold 0.45), Politics (score 0.50, threshold 0.50)." in lines
    assert soup.find(id="closest-topic") is None and not any("below" in line for line in lines)
    assert table(soup)["politics"][0] == "passed"  # at the threshold is a pass (the tagger's >=)
    assert table(soup)["sport"] == ("no_head", "0.70", "1.00", "never chosen (too few training examples)")


def test_a_score_just_below_shows_enough_digits(store: QStore, client: TestClient) -> None:
    reclassify(store, 4, ("repatriation",), {"repatriation": 0.449}, {"repatriation": 0.45})
    soup = page(client, 4)
    assert table(soup)["repatriation"][:3] == ("closest", "0.449", "0.45")  # not "0.45" against "0.45"
    assert "score 0.449, below its threshold 0.45" in soup.find(id="why").get_text(" ")


def test_an_editors_topic_below_the_threshold_is_the_editors_choice(store: QStore, client: TestClient) -> None:
    reclassify(store, 4, ("repatriation",), {"repatriation": 0.612, "sport": 0.1},
               {"repatriation": 0.45, "sport": 0.5})
    store.save_label(Label(ItemId(item_id(4)), True, ("MN",), ("sport",), "aigerim", None, NOW))
    soup = page(client, 4)
    why = soup.find(id="why").get_text(" ")
    assert "Topics: Sport (chosen by an editor; model score 0.10, below its threshold 0.50)." in why
    assert table(soup)["sport"][0] == "editor_below" and table(soup)["repatriation"][0] == "not_tagged"
    assert soup.find(id="closest-topic") is None  # not the tagger's fallback


def test_old_evidence_without_thresholds_is_shown_as_recorded(store: QStore, client: TestClient) -> None:
    reclassify(store, 4, ("repatriation",), {"repatriation": 0.312}, {})
    soup = page(client, 4)
    assert "Topics: Repatriation (0.31)." in soup.find(id="why").get_text(" ")
    assert table(soup)["repatriation"] == ("tagged", "0.31", "—", "tagged")


def test_topic_ids_from_the_evidence_are_escaped(store: QStore, client: TestClient) -> None:
    reclassify(store, 4, ("repatriation",), {"repatriation": 0.3, PAYLOAD: 0.2}, {PAYLOAD: 0.4})
    r = client.get(f"/items/{item_id(4)}")
    soup = BeautifulSoup(r.text, "html.parser")
    assert not soup.find_all("script") and PAYLOAD not in r.text
    assert table(soup)[PAYLOAD][0] == "below"  # shown, as text


def test_passed_uses_the_recorded_precision(store: QStore) -> None:
    assert passed(0.45, 0.44999998807907104)  # a float32 threshold of 0.45
    assert not passed(0.449, 0.45)
    item = store.tagged_item(item_id(1))  # festivals, 0.83 against 0.40; the other topics have no threshold
    assert item is not None
    rows = {r.topic: r.verdict for r in topic_scores(item)}
    assert rows == {"festivals": TopicVerdict.PASSED, "education": TopicVerdict.NOT_TAGGED,
                    "language": TopicVerdict.NOT_TAGGED, "politics": TopicVerdict.NOT_TAGGED,
                    "repatriation": TopicVerdict.NOT_TAGGED, "sport": TopicVerdict.NOT_TAGGED}
    assert next(r.topic for r in topic_scores(item)) == "festivals"  # the item's topics first
    assert topic_scores(replace(item, why=None)) == []
