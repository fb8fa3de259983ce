"""`mediawatch classify [--all]` on stored items, through the command line: only untagged items, nothing
embedded twice (not even with --all), an editor's label is never overwritten by the model, and the subscriber
feed files follow both."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.cli import main
from mediawatch.models import Item, ItemKind, SourceId
from mediawatch.sourcefile import load_sourcefile
from mediawatch.store import SourceState, open_store

NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)
RECENT = datetime.now(UTC).replace(microsecond=0)
TITLES = [
    "Kazakhs of Bayan-Ölgii celebrate Nauryz with a horse race",
    "Kazakhstan's central bank keeps the base rate at 16.5 percent",
]


def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def counts(summary: str) -> tuple[int, int]:
    m = re.search(r"tagged (\d+) items .*; (\d+) texts embedded", summary)
    assert m, summary
    return int(m.group(1)), int(m.group(2))


@pytest.mark.model
@pytest.mark.slow  # trains heads once per cache (the label is a new example), then ~10 s
def test_classify_all_reembeds_nothing_and_keeps_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("MEDIAWATCH_DB", "MEDIAWATCH_SOURCES", "MEDIAWATCH_MODEL", "MEDIAWATCH_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    Path("sources.yaml").write_text(
        "version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://n.example/rss'}\n"
    )
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(load_sourcefile(Path("sources.yaml")).sources, NOW)
    items = [
        Item(
            id=f"i{n}",
            source_id=SourceId("feed-a"),
            kind=ItemKind.ARTICLE,
            url=f"https://n.example/{n}",
            title=t,
            summary="",
            text="",
            published=RECENT,  # inside the feeds' 30-day window
            fetched=RECENT,
            language="en",
        )
        for n, t in enumerate(TITLES)
    ]
    store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), NOW)
    store.close()

    out = cli("classify")
    assert counts(out)[0] == 2
    feeds = tmp_path / "digests" / "feeds"  # the attachés' feed files follow the tags
    assert "subscriber feeds:" in out and (feeds / "countries" / "MN.atom").is_file()
    assert TITLES[0] in (feeds / "countries" / "MN.atom").read_text(encoding="utf-8")
    assert not (feeds / "topics" / "trade.atom").exists()
    assert counts(cli("classify")) == (0, 0)  # nothing lacks current tags
    cli("label", "i1", "--relevant", "--country", "MN", "--topic", "trade")
    assert TITLES[1] in (feeds / "topics" / "trade.atom").read_text(encoding="utf-8")  # the correction, at once
    tagged, embedded = counts(cli("classify"))
    assert tagged == 2 and embedded == 0  # new heads (they learned the label); the label's text is the item's own
    assert counts(cli("classify", "--all")) == (2, 0)  # --all re-tags every item, from cached vectors
    rows = {r["id"]: r for r in map(json.loads, cli("export").splitlines())}
    assert rows["i1"]["relevant"] is True and rows["i1"]["topics"] == ["trade"] and rows["i1"]["labeled"]
    assert rows["i0"]["relevant"] is True
    # withdrawn, the correction is no training example: the next classify re-tags with the heads of before
    # (cached: nothing trained, nothing embedded), and i1 leaves the trade feed the correction had put it in
    assert "correction withdrawn" in cli("label", "i1", "--withdraw")
    assert counts(cli("classify")) == (2, 0)
    assert TITLES[1] not in (feeds / "topics" / "trade.atom").read_text(encoding="utf-8")
    rows = {r["id"]: r for r in map(json.loads, cli("export").splitlines())}
    assert not rows["i1"]["labeled"] and rows["i1"]["topics"] != ["trade"]


@pytest.mark.model
@pytest.mark.slow  # the model tags two items once (heads from the cache when another test trained them)
def test_classify_with_nothing_to_tag_still_drops_entries_that_aged_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The QA repro: an item's ``published`` set 40 days back in the database, then ``mediawatch classify``
    (nothing to tag). The Mongolia feed file kept the item; the web app's rendering of the feed did not."""
    from sqlalchemy import update
    from starlette.testclient import TestClient

    from mediawatch.settings import Settings
    from mediawatch.store import schema as t
    from mediawatch.web import create_app

    monkeypatch.chdir(tmp_path)
    for var in ("MEDIAWATCH_DB", "MEDIAWATCH_SOURCES", "MEDIAWATCH_MODEL", "MEDIAWATCH_CACHE_DIR",
                "MEDIAWATCH_BASE_URL", "MEDIAWATCH_DIGESTS"):
        monkeypatch.delenv(var, raising=False)
    Path("sources.yaml").write_text(
        "version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://n.example/rss'}\n"
    )
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(load_sourcefile(Path("sources.yaml")).sources, NOW)
    item = Item(id="i0", source_id=SourceId("feed-a"), kind=ItemKind.ARTICLE, url="https://n.example/0",
                title=TITLES[0], summary="", text="", published=RECENT, fetched=RECENT, language="en")
    store.commit_source(SourceId("feed-a"), [item], SourceState(SourceId("feed-a")), NOW)
    store.close()

    cli("classify")
    mn = tmp_path / "digests" / "feeds" / "countries" / "MN.atom"
    assert "tag:mediawatch,2025:item/i0" in mn.read_text(encoding="utf-8")
    store = open_store("sqlite:///mediawatch.db")
    with store.engine.begin() as conn:
        conn.execute(update(t.item).where(t.item.c.id == "i0").values(published=RECENT - timedelta(days=40)))

    out = cli("classify")
    assert counts(out) == (0, 0) and "subscriber feeds: " in out  # MN's, its topics' and their pairs' files
    assert "tag:mediawatch,2025:item/i0" not in mn.read_text(encoding="utf-8")
    app = create_app(store, Settings(db="sqlite:///mediawatch.db"), digests_dir=tmp_path / "digests")
    client = TestClient(app)
    served = client.get("/feeds/countries/MN.atom", headers={"host": "elsewhere.example"})
    assert served.status_code == 200 and served.content == mn.read_bytes()
    store.close()
