"""Editors' corrections on the web: the form offers and accepts the active taxonomy's topics (with the operator's
override file), and no control character an editor or reader types (NUL included) reaches the store, on SQLite
and on PostgreSQL (which refuses NUL in text)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from starlette.testclient import TestClient
from webdata import NOW, ROWS, SOURCES, QStore, add_rows, item_id, open_filled

from mediawatch.settings import Settings
from mediawatch.sourcefile import parse_sourcefile
from mediawatch.store import open_store
from mediawatch.web import create_app

TOKEN = "correct horse battery staple"
OPERATOR_TAXONOMY = Path(__file__).parent / "data" / "taxonomy" / "operator_cuisine.yaml"  # adds "cuisine"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[QStore]:
    s = open_filled(tmp_path / "web.db")
    yield s
    s.close()


def client_for(store: QStore, tmp_path: Path, taxonomy: Path | None = None) -> TestClient:
    settings = Settings(editor_token=TOKEN, taxonomy=taxonomy)
    return TestClient(create_app(store, settings, digests_dir=tmp_path / "digests", clock=lambda: NOW))


def offered(client: TestClient, n: int) -> list[str]:
    soup = BeautifulSoup(client.get(f"/items/{item_id(n)}").text, "html.parser")
    return [box["value"] for box in soup.select("form.label input[name=topics]")]  # type: ignore[misc]


def test_the_form_offers_and_accepts_the_operators_topics(store: QStore, tmp_path: Path) -> None:
    extra = OPERATOR_TAXONOMY
    packaged = client_for(store, tmp_path)
    assert "cuisine" not in offered(packaged, 1) and offered(packaged, 1)[:2] == ["language", "festivals"]
    form = {"token": TOKEN, "relevant": "yes", "countries": "MN", "topics": ["cuisine"]}
    refused = packaged.post(f"/items/{item_id(1)}/label", data=form)
    problems = [p.get_text() for p in BeautifulSoup(refused.text, "html.parser").select("#correct p.error")]
    assert refused.status_code == 400 and len(problems) == 1, problems
    assert problems[0].startswith("unknown topic 'cuisine' (the taxonomy's topics: language, festivals, trade")
    operator = client_for(store, tmp_path, extra)
    assert offered(operator, 1)[-2:] == ["heritage", "cuisine"]  # the taxonomy's order, the override's last
    r = operator.post(f"/items/{item_id(1)}/label", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    labeled = store.tagged_item(item_id(1))
    assert labeled is not None and labeled.labeled and labeled.topics == ("cuisine",)
    menu = BeautifulSoup(operator.get("/").text, "html.parser")
    assert "cuisine" in [o["value"] for o in menu.select("select[name=topic] option")]  # filter by it too


def test_every_problem_of_a_correction_is_shown_at_once_and_kazakhstan_is_refused(store: QStore,
                                                                                   tmp_path: Path) -> None:
    """`XX gb` with a bogus topic showed only the topic's problem (the code was checked after it), and KZ was
    stored: the tagger never gives the home country, and a `countries/KZ` feed appeared."""
    client = client_for(store, tmp_path)
    form = {"token": TOKEN, "relevant": "yes", "countries": "XX gb kz", "topics": ["bogus"]}
    refused = client.post(f"/items/{item_id(1)}/label", data=form)
    problems = [p.get_text() for p in BeautifulSoup(refused.text, "html.parser").select("#correct p.error")]
    assert refused.status_code == 400
    assert problems[0] == "not ISO 3166-1 alpha-2 country codes: XX"
    assert problems[1].startswith("KZ is Kazakhstan itself: countries are where a community abroad lives")
    assert problems[2].startswith("unknown topic 'bogus'") and len(problems) == 3
    labeled = store.tagged_item(item_id(1))
    assert labeled is not None and not labeled.labeled
    # "not relevant" drops the countries: the filled-in field's old KZ does not stand in the way
    form = {"token": TOKEN, "relevant": "no", "countries": "MN KZ"}
    assert client.post(f"/items/{item_id(1)}/label", data=form, follow_redirects=False).status_code == 303
    labeled = store.tagged_item(item_id(1))
    assert labeled is not None and labeled.labeled and labeled.relevant is False


def test_an_operators_topic_has_a_feed_before_its_first_item(store: QStore, tmp_path: Path) -> None:
    extra = OPERATOR_TAXONOMY
    assert client_for(store, tmp_path).get("/feeds/topics/cuisine.atom").status_code == 404  # not a topic here
    feed = client_for(store, tmp_path, extra).get("/feeds/topics/cuisine.atom")
    assert feed.status_code == 200 and "<entry" not in feed.text  # a valid, empty feed to subscribe to


def test_a_broken_taxonomy_file_leaves_the_packaged_topics(store: QStore, tmp_path: Path) -> None:
    broken = tmp_path / "taxonomy.yaml"
    broken.write_text("topics: [not, a, mapping]\n", encoding="utf-8")
    client = client_for(store, tmp_path, broken)
    assert offered(client, 1)[:2] == ["language", "festivals"] and "cuisine" not in offered(client, 1)
    form = {"token": TOKEN, "relevant": "yes", "topics": ["heritage"]}
    assert client.post(f"/items/{item_id(1)}/label", data=form, follow_redirects=False).status_code == 303


@pytest.fixture
def any_store(db_url: str) -> Iterator[QStore]:
    """The standard web data in a new database on each backend."""
    store = QStore(open_store(db_url).engine)
    store.sync_sources(parse_sourcefile(SOURCES, Path("sources.yaml")).sources, NOW - timedelta(days=60))
    add_rows(store, ROWS[:3])
    yield store
    store.close()


def test_no_control_character_reaches_the_store(any_store: QStore, tmp_path: Path) -> None:
    client = client_for(any_store, tmp_path)
    form = {
        "token": TOKEN,
        "relevant": "no",
        "editor": "ai\x00gerim\x1b",
        "note": "domestic\x00 news\x07\r\nnot diaspora\x7f",
    }
    r = client.post(f"/items/{item_id(1)}/label", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    labeled = any_store.tagged_item(item_id(1))
    assert labeled is not None and (labeled.editor, labeled.note) == ("aigerim", "domestic news not diaspora")
    page = client.get(r.headers["location"])
    assert "domestic news not diaspora" in page.text and "\x00" not in page.text
    # a note of nothing but controls is no note; a form re-shown after a problem holds no NUL either
    form = {"token": TOKEN, "relevant": "yes", "countries": "XX", "note": "\x00\x01"}
    bad = client.post(f"/items/{item_id(1)}/label", data=form)
    assert bad.status_code == 400 and "\x00" not in bad.text
    form = {"token": TOKEN, "relevant": "yes", "countries": "MN", "topics": ["festivals"], "note": "\x00\x01"}
    assert client.post(f"/items/{item_id(1)}/label", data=form, follow_redirects=False).status_code == 303
    labeled = any_store.tagged_item(item_id(1))
    assert labeled is not None and labeled.relevant and labeled.note is None


def test_a_search_with_control_characters_is_answered(any_store: QStore, tmp_path: Path) -> None:
    client = client_for(any_store, tmp_path)
    r = client.get("/", params={"q": "nau\x00ryz\x01"})
    assert r.status_code == 200
    found = [li["data-id"] for li in BeautifulSoup(r.text, "html.parser").select("ul#items li.item")]
    assert found == [item_id(1), item_id(3)]
    assert client.get("/", params={"q": "\x00"}).status_code == 200


def test_a_correction_sent_while_another_process_holds_the_database_keeps_the_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: HTTP 500 "Internal error" after the busy timeout, the correction lost and the form gone."""
    import sqlite3

    import mediawatch.store.engine as store_module

    monkeypatch.setattr(store_module, "SQLITE_BUSY_MS", 300)  # the connections opened below wait 0.3 s
    store = open_filled(tmp_path / "web.db")
    other = sqlite3.connect(tmp_path / "web.db", isolation_level=None)
    try:
        client = client_for(store, tmp_path)
        other.execute("BEGIN IMMEDIATE")  # an sqlite3 shell, a maintenance job: it holds the write lock
        form = {"token": TOKEN, "relevant": "yes", "countries": "MN", "topics": ["heritage"], "note": "Ölgii"}
        busy = client.post(f"/items/{item_id(1)}/label", data=form, follow_redirects=False)
        assert busy.status_code == 503, busy.text
        soup = BeautifulSoup(busy.text, "html.parser")
        assert [p.get_text() for p in soup.select("#correct p.error")] == [
            "The database is busy: nothing was saved. Send the form again in a moment."]
        assert soup.select_one("form.label input[name=countries]")["value"] == "MN"  # type: ignore[index]
        assert not store.tagged_item(item_id(1)).labeled  # type: ignore[union-attr]
        other.execute("ROLLBACK")
        done = client.post(f"/items/{item_id(1)}/label", data=form, follow_redirects=False)
        assert done.status_code == 303, done.text
        assert store.tagged_item(item_id(1)).labeled  # type: ignore[union-attr]
    finally:
        other.close()
        store.close()
