"""Editors' corrections as training examples: "relevant" without topics says nothing about topics.

Such a correction still trains relevance, but no topic head learns from it (it used to be every topic's
negative). The heads are trained on a small taxonomy and a word-hashing embedder (no model: fast and exact).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from mediawatch.classify.gazetteer import load_gazetteer
from mediawatch.classify.heads import Heads
from mediawatch.classify.taxonomy import Taxonomy, parse_taxonomy
from mediawatch.classify.train import EMBED_KIND, Example, heads_key, topic_rows, train_heads
from mediawatch.enrich import editor_examples
from mediawatch.labels import make_label
from mediawatch.models import Item, ItemId, ItemKind, SourceId
from mediawatch.sourcefile import load_sourcefile
from mediawatch.store import SourceState, Store, open_store

NOW = datetime(2025, 11, 3, 12, tzinfo=UTC)
TOPICS = ("festivals", "sport")

FESTIVAL_TEXTS = [
    "Kazakhs of Omsk celebrate Nauryz with a concert and a yurt",
    "Nauryz festival with dombra concert in Olgii",
    "Kazakh community in Berlin holds a Nauryz concert",
    "Aitys of poets and a festival of Kazakh culture in Istanbul",
    "Yurt festival and concert for the Kazakh diaspora in London",
    "Kazakh culture days open with a festival concert in Tashkent",
    "Spring festival of the Kazakhs of Astrakhan with songs and a yurt",
]
SPORT_TEXTS = [
    "Kazakh wrestlers from Mongolia win the kures tournament",
    "Kokpar tournament for Kazakh riders in Xinjiang",
    "Young Kazakh boxers from Omsk win a tournament medal",
    "Kazakh horse race baiga held by the community in Turkey",
    "Kazakh wrestling club in Berlin wins the cup",
    "Kazakh riders of Bayan-Olgii win the kokpar cup",
]
OTHER_TEXTS = [
    "Tenge exchange rate steady against the dollar",
    "Astana parliament passes the budget",
    "Oil output rises at the Kashagan field",
    "Almaty metro extends its line to the south",
    "Wheat harvest in the north of Kazakhstan",
    "Central bank keeps the base rate unchanged",
    "New airport terminal opens in Shymkent",
    "Weather: snow expected in Astana this week",
]
# Items an editor marks relevant but gives no topics: festival news, worded like the festival examples.
EDITOR_TEXTS = [
    "Kazakhs of Omsk celebrate Nauryz with a concert",
    "Nauryz festival concert in Olgii with dombra",
    "Kazakh community in Berlin Nauryz concert and yurt",
    "Festival of Kazakh culture and aitys in Istanbul",
]


class WordHashEmbedder:
    """Signed hashing of lower-cased words into 64 dimensions, L2-normalised (deterministic, no model)."""

    name = "test-word-hash"

    def embed(self, texts: Sequence[str], *, kind: str = EMBED_KIND, batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), 64), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, digest[0] % 64] += 1.0 if digest[1] & 1 else -1.0
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-6)
        return out


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    data = {"topics": {t: {"label": t.capitalize(), "description": f"{t} of Kazakhs abroad"} for t in TOPICS}}
    return parse_taxonomy(data, load_gazetteer(), "test taxonomy")


def base_examples() -> list[Example]:
    return (
        [Example("", text, "en", True, (), ("festivals",), f"f{n}") for n, text in enumerate(FESTIVAL_TEXTS)]
        + [Example("", text, "en", True, (), ("sport",), f"s{n}") for n, text in enumerate(SPORT_TEXTS)]
        + [Example("", text, "en", False, (), (), f"o{n}") for n, text in enumerate(OTHER_TEXTS)]
    )


def corrected_store(tmp_path: Path, topics: Sequence[str]) -> Store:
    """A real SQLite store holding the editor items, each labeled relevant (MN) with ``topics``."""
    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://n.example/rss'}\n")
    store = open_store(f"sqlite:///{tmp_path / 'mw.db'}")
    store.sync_sources(load_sourcefile(sources).sources, NOW)
    items = [
        Item(ItemId(f"ed-{n}"), SourceId("feed-a"), ItemKind.ARTICLE, f"https://n.example/{n}", text, "", "",
             NOW, NOW, language="en")
        for n, text in enumerate(EDITOR_TEXTS)
    ]
    store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), NOW)
    for item in items:
        store.save_label(make_label(item.id, True, ["mn"], topics, editor="ed", note=None, now=NOW,
                                    known_topics=TOPICS))
    return store


def train(examples: Sequence[Example], taxonomy: Taxonomy) -> Heads:
    return train_heads(WordHashEmbedder(), examples, taxonomy)


def test_relevant_without_topics_is_no_topic_negative(tmp_path: Path, taxonomy: Taxonomy) -> None:
    store = corrected_store(tmp_path, [])
    try:
        extra = editor_examples(store)
    finally:
        store.close()
    assert [(e.relevant, e.countries, e.topics) for e in extra] == [(True, ("MN",), ())] * len(EDITOR_TEXTS)
    base = base_examples()
    without, with_ = train(base, taxonomy), train(base + extra, taxonomy)
    # topics: exactly the heads trained without the corrections (same rows, same folds, same fit)
    assert with_.cv["topic_examples"] == without.cv["topic_examples"] == len(FESTIVAL_TEXTS) + len(SPORT_TEXTS)
    for name in ("topic_coef", "topic_cue_coef", "topic_intercept", "topic_thresholds"):
        assert np.array_equal(getattr(with_, name), getattr(without, name)), name
    # relevance: the corrections are relevant examples like any other
    assert with_.cv["relevant_examples"] == without.cv["relevant_examples"] + len(EDITOR_TEXTS)
    assert not np.array_equal(with_.rel_coef, without.rel_coef)
    # and the festival head still finds festivals in the corrected items' texts
    vectors = WordHashEmbedder().embed(EDITOR_TEXTS)
    scores = with_.topic_scores(vectors, np.zeros((len(EDITOR_TEXTS), len(TOPICS)), np.float32))
    festivals = TOPICS.index("festivals")
    assert (scores[:, festivals] >= with_.topic_thresholds[festivals]).all(), scores[:, festivals]


def test_relevant_with_topics_still_trains_topics(tmp_path: Path, taxonomy: Taxonomy) -> None:
    """A correction naming topics is a positive for them and a negative for the others, as before."""
    store = corrected_store(tmp_path, ["sport"])
    try:
        extra = editor_examples(store)
    finally:
        store.close()
    base = base_examples()
    heads = train(base + extra, taxonomy)
    assert heads.cv["topic_examples"] == len(FESTIVAL_TEXTS) + len(SPORT_TEXTS) + len(EDITOR_TEXTS)
    assert not np.array_equal(heads.topic_coef, train(base, taxonomy).topic_coef)


def test_topic_rows_and_the_cache_key(taxonomy: Taxonomy) -> None:
    base = base_examples()
    untopical = Example("", "Kazakhs of Omsk", "en", True, ("RU",), (), "editor:x")
    rows = topic_rows([*base, untopical])
    assert rows == [n for n, e in enumerate(base) if e.relevant] and len(base) not in rows
    # heads cached by code that made such examples topic negatives are not reused: their key differs
    assert heads_key("m", taxonomy, [*base, untopical]) != heads_key("m", taxonomy, base)


def test_a_correction_is_learned_in_the_language_the_tagger_reads_its_item_in(tmp_path: Path) -> None:
    """An English item of a source whose `language` is kk is read as written (tests/test_tagger.py), so its
    correction is too: the training example's text is the text the item was embedded as."""
    from mediawatch.classify.translit import text_for

    sources = tmp_path / "sources.yaml"
    sources.write_text("version: 1\nsources:\n  - {id: feed-a, kind: rss, url: 'https://n.example/rss'}\n")
    store = open_store(f"sqlite:///{tmp_path / 'mw.db'}")
    try:
        store.sync_sources(load_sourcefile(sources).sources, NOW)
        english = ("Kazakh community in Berlin celebrates Nauryz", "Families gathered for a concert.")
        kazakh = ("Qazaq tili kurstary Stambulda ashyldy", "Balalar senbi sayin oqidy.")
        items = [Item(ItemId(f"kk-{n}"), SourceId("feed-a"), ItemKind.ARTICLE, f"https://n.example/kk{n}", title,
                      "", text, NOW, NOW, language="kk") for n, (title, text) in enumerate((english, kazakh))]
        store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), NOW)
        for item in items:
            store.save_label(make_label(item.id, True, ["de"], [], editor="ed", note=None, now=NOW))
        examples = {e.title: e for e in editor_examples(store)}
    finally:
        store.close()
    read = {title: text_for(e.title, e.text, lang=e.lang) for title, e in examples.items()}
    assert read[english[0]] == "Kazakh community in Berlin celebrates Nauryz. Families gathered for a concert."
    assert read[kazakh[0]] == "Қазақ тілі курстары Стамбулда ашылды. Балалар сенбі сайин оқиды."


def test_a_topic_with_too_few_examples_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    """An operator's new topic with a description and no examples got threshold 1 silently: never given."""
    import logging

    topics = (*TOPICS, "cuisine", "crafts")
    data = {"topics": {t: {"label": t.capitalize(), "description": f"{t} of Kazakhs abroad"} for t in topics}}
    taxonomy = parse_taxonomy(data, load_gazetteer(), "test taxonomy")
    crafts = [Example("", f"Felt and yurt makers {n}", "en", True, (), ("crafts",), f"c{n}") for n in range(2)]
    with caplog.at_level(logging.WARNING, logger="mediawatch.classify.train"):
        heads = train(base_examples() + crafts, taxonomy)
    warned = {r.fields["topic"]: r.fields["examples"] for r in caplog.records  # type: ignore[attr-defined]
              if r.getMessage() == "topic never given: too few examples to learn it"}
    assert warned == {"cuisine": 0, "crafts": 2}
    assert [heads.topic_thresholds[topics.index(t)] for t in ("cuisine", "crafts")] == [1.0, 1.0]
    assert heads.topic_thresholds[topics.index("festivals")] < 1.0
