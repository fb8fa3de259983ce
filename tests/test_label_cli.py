"""`mediawatch label ITEM_ID`: every invalid correction is a clear error (exit 2) that stores nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.cli import main
from mediawatch.codes import COUNTRIES
from mediawatch.labels import make_label
from mediawatch.models import Item, ItemKind, SourceId
from mediawatch.sourcefile import load_sourcefile
from mediawatch.store import SourceState, open_store

NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mw.db'}"
    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://n.example/rss'}\n")
    store = open_store(url)
    store.sync_sources(load_sourcefile(sources).sources, NOW)
    item = Item(
        id="item-1",
        source_id=SourceId("feed-a"),
        kind=ItemKind.ARTICLE,
        url="https://n.example/1",
        title="Kazakhs of Bayan-Ölgii",
        summary="",
        text="Nauryz",
        published=NOW,
        fetched=NOW,
    )
    store.commit_source(SourceId("feed-a"), [item], SourceState(SourceId("feed-a")), NOW)
    store.close()
    return url


def label(db: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["label", "--db", db, *args])
    return result.exit_code, result.output


def stored_label(db: str) -> list[object]:
    store = open_store(db)
    try:
        return [lab for _, lab in store.labeled_items()]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["item-1", "--relevant", "--not-relevant"], "--relevant and --not-relevant contradict"),
        (["item-1", "--not-relevant", "--relevant", "--country", "MN"], "contradict"),
        (["item-1"], "say whether the item is relevant"),
        (["item-1", "--relevant", "--country", "XX"], "not ISO 3166-1 alpha-2 country codes: XX"),
        (["item-1", "--relevant", "--country", "MNG"], "not ISO 3166-1 alpha-2 country codes: MNG"),
        (["item-1", "--relevant", "--topic", "cooking"], "unknown topics: cooking"),
        (["item-1", "--not-relevant", "--topic", "sport"], "not relevant takes no countries or topics"),
        (["no-such-item", "--relevant"], "no stored item with id 'no-such-item'"),
    ],
)
def test_invalid_corrections_exit_2_and_store_nothing(db: str, args: list[str], message: str) -> None:
    code, output = label(db, *args)
    assert code == 2 and message in output, output
    assert stored_label(db) == []


def test_a_valid_correction_is_stored(db: str) -> None:
    code, output = label(db, "item-1", "--relevant", "--country", "mn", "--topic", "Festivals")
    assert code == 0 and output == "item-1: relevant MN festivals\n"
    (lab,) = stored_label(db)
    assert (lab.relevant, lab.countries, lab.topics) == (True, ("MN",), ("festivals",))  # type: ignore[attr-defined]


def test_country_codes_are_the_iso_3166_list() -> None:
    """The project's list is ISO 3166-1 alpha-2 as tzdata ships it (plus XK, Kosovo's common user code)."""
    table = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    iso = {row.split("\t")[0] for row in table.splitlines() if row and not row.startswith("#")}
    assert len(iso) >= 249 and COUNTRIES - iso == {"XK"} and iso <= COUNTRIES
    for code in sorted(iso):
        assert make_label("i", True, [code.lower()], [], editor=None, note=None, now=NOW).countries == (code,)
