"""Tagging stored items with the real model: tags stored, nothing embedded twice, editors' labels win and
retrain the heads, stories formed, and `classify --input` without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.app import open_app
from mediawatch.cli import main
from mediawatch.enrich import run_classify
from mediawatch.errors import ConfigError
from mediawatch.labels import make_label
from mediawatch.models import Item, ItemId, ItemKind, SourceId
from mediawatch.normalize import item_id
from mediawatch.settings import Settings
from mediawatch.store import SourceState

NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)

TEXTS = [
    ("en", "Kazakhs of Bayan-Ölgii celebrate Nauryz with a horse race",
     "About 3,000 ethnic Kazakhs in western Mongolia's Bayan-Ölgii province gathered for Nauryz."),
    ("ru", "Казахи Баян-Өлгия отметили Наурыз скачками",
     "Около 3000 этнических казахов в монгольском аймаке Баян-Өлгий собрались на праздник Наурыз."),
    ("kk", "Баян-Өлгий қазақтары Наурызды бәйгемен тойлады",
     "Моңғолиядағы Баян-Өлгий аймағында 3000-ға жуық қазақ Наурыз мерекесіне жиналды."),
    ("en", "Kazakhstan's central bank keeps the base rate at 16.5 percent",
     "The National Bank of Kazakhstan left its policy rate unchanged, citing inflation."),
]


def make_items() -> list[Item]:
    out = []
    for n, (lang, title, text) in enumerate(TEXTS):
        url = f"https://news.example/{n}"
        out.append(Item(id=item_id(url), source_id=SourceId("feed-a"), kind=ItemKind.ARTICLE, url=url, title=title,
                        summary=text, text=text, published=NOW + timedelta(hours=n), fetched=NOW, language=lang))
    return out


@pytest.mark.model
def test_classify_stored_items_caches_and_learns_from_labels(tmp_path: Path) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://news.example/rss'}\n")
    app = open_app(Settings(db=f"sqlite:///{tmp_path / 'mw.db'}", sources=sources), clock=lambda: NOW)
    items = make_items()
    app.store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), NOW)

    first = run_classify(app)
    assert first.tagged == 4 and first.embedded >= 4
    rows = {r["title"]: r for r in app.store.export_rows()}
    nauryz = [rows[t[1]] for t in TEXTS[:3]]
    assert all(r["relevant"] and r["countries"] == ["MN"] for r in nauryz), nauryz
    assert all("festivals" in r["topics"] for r in nauryz)
    assert rows[TEXTS[3][1]]["relevant"] is False
    assert all(0.0 <= r["relevance"] <= 1.0 and r["why"] for r in rows.values())
    # the same event in three languages is one story
    assert len({r["story_id"] for r in nauryz}) == 1 and nauryz[0]["story_id"] is not None

    again = run_classify(app)
    assert again.tagged == 0 and again.embedded == 0  # nothing new: nothing re-embedded, model not even loaded

    # an editor's correction wins at once, and is a training example for the next heads
    bank = ItemId(item_id("https://news.example/3"))
    app.store.save_label(make_label(bank, True, ["MN"], ["trade"], editor="ed", note="test", now=NOW))
    corrected = next(r for r in app.store.export_rows() if r["id"] == bank)
    assert corrected["relevant"] is True and corrected["labeled"] and corrected["topics"] == ["trade"]
    retag = run_classify(app)
    assert retag.tagged == 4  # new heads (trained with the correction): every item is re-tagged
    # every vector came from the cache: the correction's training example is the item's own text, embedded
    # when the item was first tagged
    assert retag.embedded == 0 and retag.cached >= 4
    assert next(r for r in app.store.export_rows() if r["id"] == bank)["topics"] == ["trade"]  # label still wins


@pytest.mark.model
def test_classify_input_file_without_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    lines = [json.dumps({"id": f"x{n}", "title": t, "text": x, "lang": lang}, ensure_ascii=False)
             for n, (lang, t, x) in enumerate(TEXTS)]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", "--input", "in.jsonl", "--output", "out.jsonl"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ["x0", "x1", "x2", "x3"]
    assert set(out[0]) >= {"id", "relevant", "relevance", "countries", "topics", "why"}
    assert [o["relevant"] for o in out] == [True, True, True, False]
    assert not (tmp_path / "mediawatch.db").exists()
    # stdin to stdout, and a bad line named by its number
    piped = CliRunner().invoke(main, ["classify", "--input", "-"], input=lines[0] + "\n")
    assert piped.exit_code == 0 and json.loads(piped.stdout)["id"] == "x0"
    bad = CliRunner().invoke(main, ["classify", "--input", "-"], input=lines[0] + "\n{broken\n")
    assert bad.exit_code == 2 and "<stdin>:2: not JSON" in bad.stderr


def test_label_validation() -> None:
    with pytest.raises(ConfigError) as info:
        make_label("i1", False, ["MN"], ["cooking"], editor=None, note=None, now=NOW)
    text = "\n".join(info.value.problems)
    assert "unknown topics: cooking" in text and "not relevant takes no countries" in text
    with pytest.raises(ConfigError) as info:
        make_label("i1", True, ["XX"], [], editor=None, note=None, now=NOW)
    assert info.value.problems == ["label i1: not ISO 3166-1 alpha-2 country codes: XX"]
    lab = make_label("i1", True, ["mn", "MN"], ["Festivals"], editor="a", note=None, now=NOW)
    assert lab.countries == ("MN",) and lab.topics == ("festivals",)


def test_the_taxonomy_is_read_once_and_again_when_an_override_changes(tmp_path: Path) -> None:
    """A service tick asks for the taxonomy every few minutes: the same object comes back while the override
    file is unchanged, and an edit to it is picked up at once."""
    import os

    from mediawatch.enrich import load_taxonomy

    override = tmp_path / "taxonomy.yaml"
    override.write_text("topics:\n  cuisine:\n    label: Cuisine\n    description: Kazakh food abroad.\n",
                        encoding="utf-8")
    settings = Settings(taxonomy=override)
    first = load_taxonomy(settings)
    assert "cuisine" in first.topic_ids and load_taxonomy(settings) is first
    override.write_text("topics:\n  crafts:\n    label: Crafts\n    description: Felt and embroidery abroad.\n",
                        encoding="utf-8")
    stamp = override.stat().st_mtime_ns + 10**9
    os.utime(override, ns=(stamp, stamp))  # a new modification time even on a coarse file system
    again = load_taxonomy(settings)
    assert "crafts" in again.topic_ids and "cuisine" not in again.topic_ids
    override.unlink()
    with pytest.raises(ConfigError, match="taxonomy.yaml"):
        load_taxonomy(settings)  # a missing file is the usual error, not a stale copy
