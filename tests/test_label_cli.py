"""`mediawatch label ITEM_ID`: every invalid correction is a clear error (exit 2) that stores nothing; topics are
checked against the active taxonomy (with the operator's override file); notes lose their control characters."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.cli import main
from mediawatch.codes import COUNTRIES
from mediawatch.labels import make_label
from mediawatch.models import Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import load_sourcefile
from mediawatch.store import SourceState, open_store

NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)


ITEM = Item(
    id=ItemId("item-1"),
    source_id=SourceId("feed-a"),
    kind=ItemKind.ARTICLE,
    url="https://n.example/1",
    title="Kazakhs of Bayan-Ölgii",
    summary="",
    text="Nauryz",
    published=NOW,
    fetched=NOW,
)


def fill(url: str, folder: Path) -> str:
    """The database at ``url`` with one source and its item ``item-1``."""
    sources = folder / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://n.example/rss'}\n")
    store = open_store(url)
    try:
        store.sync_sources(load_sourcefile(sources).sources, NOW)
        store.commit_source(SourceId("feed-a"), [ITEM], SourceState(SourceId("feed-a")), NOW)
    finally:
        store.close()
    return url


@pytest.fixture
def db(tmp_path: Path) -> str:
    return fill(f"sqlite:///{tmp_path / 'mw.db'}", tmp_path)


def label(db: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    digests = digests_of(db)  # the feed files go beside the database, not into the working folder
    result = CliRunner().invoke(main, ["label", "--db", db, *args],
                                env={"MEDIAWATCH_TAXONOMY": None, "MEDIAWATCH_DIGESTS": str(digests), **(env or {})})
    return result.exit_code, result.output


def digests_of(db: str) -> Path:
    """Beside a SQLite file; for a server's database, a folder of the temporary directory named after its URL
    (never a path made of the URL, in the working folder)."""
    if db.startswith("sqlite:///"):
        return Path(db.removeprefix("sqlite:///")).parent / "digests"
    return Path(tempfile.gettempdir()) / f"mw-label-digests-{hashlib.sha256(db.encode()).hexdigest()[:12]}"


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
        (["item-1", "--relevant", "--country", "kz"], "KZ is Kazakhstan itself: countries are where a community"),
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


def tag(db: str, relevant: bool, countries: tuple[str, ...], topics: tuple[str, ...]) -> None:
    from mediawatch.models import Classification

    store = open_store(db)
    try:
        store.save_classifications([Classification(ItemId("item-1"), relevant, 0.9 if relevant else 0.1, countries,
                                                   topics, {"relevance": 0.9}, "m", "t", NOW)])
    finally:
        store.close()


def effective(db: str) -> tuple[object, ...]:
    store = open_store(db)
    try:
        item = store.tagged_item("item-1")
        assert item is not None
        return item.relevant, item.countries, item.topics
    finally:
        store.close()


def test_relevant_alone_keeps_the_current_tags_as_the_item_page_s_form_does(db: str) -> None:
    """`label ID --relevant` stored "no countries, no topics": the item left every feed it was in."""
    tag(db, True, ("MN",), ("festivals", "heritage"))
    code, output = label(db, "item-1", "--relevant")
    assert code == 0, output
    assert output == ("item-1: relevant MN festivals heritage\n"
                      "kept the item's current countries MN and topics festivals heritage (--no-country/--no-topic "
                      "clear them)\n")
    assert effective(db) == (True, ("MN",), ("festivals", "heritage"))
    code, output = label(db, "item-1", "--relevant", "--topic", "sport")  # the current tags: the last correction's
    assert code == 0 and output.startswith("item-1: relevant MN sport\nkept the item's current countries MN (")
    assert effective(db) == (True, ("MN",), ("sport",))
    code, output = label(db, "item-1", "--relevant", "--no-country", "--no-topic")
    assert (code, output) == (0, "item-1: relevant\n")
    assert effective(db) == (True, (), ())


def test_kept_tags_leave_out_what_a_correction_may_not_hold(db: str) -> None:
    """An old KZ (stored before KZ was refused) or a topic since removed from the taxonomy made a correction the
    editor typed fail on a tag they never typed."""
    tag(db, True, ("MN", "KZ"), ("festivals", "cooking"))
    code, output = label(db, "item-1", "--relevant")
    assert code == 0, output
    assert output.startswith("item-1: relevant MN festivals\nkept the item's current countries MN and topics "
                             "festivals (")
    assert effective(db) == (True, ("MN",), ("festivals",))


def test_a_correction_can_be_withdrawn_and_the_model_s_tags_apply_again(db: str) -> None:
    """There was no way back from a mistaken correction but another correction (which the heads then learn)."""
    tag(db, True, ("MN",), ("festivals",))
    assert label(db, "item-1", "--not-relevant")[0] == 0
    assert effective(db) == (False, (), ())
    code, output = label(db, "item-1", "--withdraw")
    assert (code, output) == (0, "item-1: correction withdrawn; the model's tags apply: relevant MN festivals (the "
                                 "next classify rebuilds the heads without it)\n")
    assert effective(db) == (True, ("MN",), ("festivals",)) and stored_label(db) == []
    code, output = label(db, "item-1", "--withdraw")  # nothing left to withdraw
    assert code == 2 and "item 'item-1' has no correction to withdraw" in output, output
    code, output = label(db, "item-1", "--withdraw", "--relevant", "--note", "x")
    assert code == 2 and "--withdraw takes no other option (given: --relevant, --note)" in output, output


def test_relevant_alone_keeps_nothing_of_an_item_the_model_found_not_relevant(db: str) -> None:
    tag(db, False, (), ())
    code, output = label(db, "item-1", "--relevant")
    assert (code, output) == (0, "item-1: relevant\n")
    assert effective(db) == (True, (), ())


@pytest.mark.parametrize("args", [["--no-country", "--country", "MN"], ["--no-topic", "--topic", "sport"]])
def test_clearing_and_naming_tags_at_once_is_refused(db: str, args: list[str]) -> None:
    tag(db, True, ("MN",), ("festivals",))
    code, output = label(db, "item-1", "--relevant", *args)
    assert code == 2 and "contradict each other" in output, output
    assert stored_label(db) == []


OPERATOR_TAXONOMY = Path(__file__).parent / "data" / "taxonomy" / "operator_cuisine.yaml"  # adds "cuisine"


def test_a_topic_added_by_the_operator_can_be_used(db: str, tmp_path: Path) -> None:
    """The active taxonomy (packaged plus MEDIAWATCH_TAXONOMY) decides, not the built-in list."""
    extra = OPERATOR_TAXONOMY
    code, output = label(db, "item-1", "--relevant", "--topic", "cuisine")
    assert code == 2 and "unknown topics: cuisine" in output, output
    assert "language, festivals, trade" in output and "heritage" in output  # the valid ones are listed
    assert stored_label(db) == []
    code, output = label(db, "item-1", "--relevant", "--topic", "Cuisine", "--topic", "heritage",
                         env={"MEDIAWATCH_TAXONOMY": str(extra)})
    assert code == 0 and output == "item-1: relevant cuisine heritage\n", output
    (lab,) = stored_label(db)
    assert lab.topics == ("cuisine", "heritage")  # type: ignore[attr-defined]
    code, output = label(db, "item-1", "--relevant", "--topic", "cooking", env={"MEDIAWATCH_TAXONOMY": str(extra)})
    assert code == 2 and "unknown topics: cooking" in output and "heritage, cuisine" in output, output


def test_a_broken_taxonomy_file_is_a_clear_error(db: str, tmp_path: Path) -> None:
    extra = tmp_path / "taxonomy.yaml"
    extra.write_text("topics:\n  cuisine: {label: Cuisine}\n", encoding="utf-8")
    code, output = label(db, "item-1", "--relevant", "--topic", "cuisine", env={"MEDIAWATCH_TAXONOMY": str(extra)})
    assert code == 2 and str(extra) in output and "topics.cuisine: 'description'" in output, output
    assert stored_label(db) == []


def test_control_characters_never_reach_the_store(db_url: str, tmp_path: Path) -> None:
    """PostgreSQL refuses NUL in text: names and notes lose every C0 control but tab and newline (both backends)."""
    fill(db_url, tmp_path)
    note = "domestic\x00 news\x1b[0m\r\nsee\tabove\x7f"
    code, output = label(db_url, "item-1", "--not-relevant", "--editor", "ai\x00gerim\x08", "--note", note)
    assert code == 0, output
    (lab,) = stored_label(db_url)
    assert (lab.editor, lab.note) == ("aigerim", "domestic news[0m\nsee\tabove")  # type: ignore[attr-defined]
    code, output = label(db_url, "item-1", "--not-relevant", "--note", "\x00\x01 ")
    assert code == 0, output
    (lab,) = stored_label(db_url)
    assert lab.note is None  # type: ignore[attr-defined]


def test_country_codes_are_the_iso_3166_list() -> None:
    """The project's list is ISO 3166-1 alpha-2 as tzdata ships it (plus XK, Kosovo's common user code)."""
    table = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text(encoding="utf-8")
    iso = {row.split("\t")[0] for row in table.splitlines() if row and not row.startswith("#")}
    assert len(iso) >= 249 and COUNTRIES - iso == {"XK"} and iso <= COUNTRIES
    for code in sorted(iso - {"KZ"}):  # Kazakhstan itself is never where a community abroad lives
        lab = make_label("i", True, [code.lower()], [], editor=None, note=None, now=NOW, known_topics=())
        assert lab.countries == (code,)


def test_a_label_whose_feeds_cannot_be_written_says_it_is_saved(db: str, tmp_path: Path) -> None:
    """Before: only `error: cannot write subscriber feeds …` and exit 1, so an editor could not tell that the
    correction itself had been stored."""
    blocker = tmp_path / "digests"
    blocker.write_text("a file where the digests folder should be\n")
    code, output = label(db, "item-1", "--relevant", "--country", "MN", env={"MEDIAWATCH_DIGESTS": str(blocker)})
    assert code == 1, output
    assert "the correction is saved; the subscriber feeds were not updated" in output
    assert output.splitlines()[-1].startswith("error: "), output
    assert [(lab.relevant, lab.countries) for lab in stored_label(db)] == [(True, ("MN",))]  # type: ignore[attr-defined]
