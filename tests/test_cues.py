"""Topic cue words: multilingual matching, operator overrides, validation, and their part in topic scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mediawatch.classify.gazetteer import fold
from mediawatch.classify.taxonomy import load_taxonomy
from mediawatch.classify.train import cue_features, item_evidence
from mediawatch.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "topic", "word"),
    [
        ("Kazakh families in Berlin open a mosque", "religion", "mosque"),
        ("Казахи Омска добиваются возвращения казахского языка в школы", "language", "языка"),
        ("Түркиядағы қазақтар мешітке жиналды", "religion", "мешитке"),
        ("伊犁哈萨克族牧民举办阿肯弹唱会", "festivals", "阿肯弹唱"),
        ("Zeytinburnu'daki Kazak Türkleri Nevruz bayramını kutladı", "festivals", "nevruz"),
        ("Kurultai der Kasachen Europas mit Ringkampf und Konzert", "sport", "ringkampf"),
        ("Ethnic Kazakhs returned to Kazakhstan and received kandas status", "repatriation", "kandas"),
        ("新疆哈萨克人被关押在再教育营", "politics", "再教育"),
    ],
)
def test_packaged_cues_match_across_languages(text: str, topic: str, word: str) -> None:
    found = load_taxonomy().cues.find([fold(text)])
    assert word in found.get(topic, []), found


def test_mongolian_common_words_are_not_a_horse_race() -> None:
    cues = load_taxonomy().cues
    # Russian байга (horse race) as its own forms: Mongolian байгаа "is", байгуулав "founded" are everywhere
    found = cues.find([fold("Баян-Өлгий аймагт байгаа казах сургуулийг байгуулав, байгууллага")])
    assert "sport" not in found, found
    assert cues.find([fold("В Астрахани прошла байга")]).get("sport") == ["баига"]


def test_cue_words_need_whole_words_or_stems() -> None:
    cues = load_taxonomy().cues
    # "investigation" is not trade, "Saltanat" (a name) is not heritage, Russian "той" is not a feast
    found = cues.find([fold("An investigation by Saltanat Zhakupova; той же ночью")])
    assert "trade" not in found and "heritage" not in found and "festivals" not in found, found
    # a longer Chinese cue claims its characters: 再教育 (camps) is politics, not education
    found = cues.find([fold("再教育营")])
    assert "education" not in found and found["politics"] == ["再教育"]


def test_german_fest_the_particle_is_not_a_festival() -> None:
    """Before: the cue "Fest" matched the particle of "halten an … fest" and "stellten fest" (found), common in
    German reports of anything."""
    cues = load_taxonomy().cues
    found = cues.find([fold("Die Behörden halten an dem Plan fest und stellten fest, dass die Schule schließt")])
    assert "festivals" not in found, found
    assert cues.find([fold("Beim Frühlingsfest der Kasachen in Köln")]).get("festivals") == ["fruhlingsfest"]


def test_item_evidence_reads_transliterated_kazakh() -> None:
    taxonomy = load_taxonomy()
    ev = item_evidence(taxonomy, "Qytaıdaǵy qazaqtar meshitke baryp namaz oqydy", "", "kk")
    presence = cue_features(taxonomy, [ev])[0]
    assert presence[taxonomy.topic_ids.index("religion")] == 1.0
    assert presence.sum() >= 1.0 and set(np.unique(presence)) <= {0.0, 1.0}


def test_override_adds_cues(tmp_path: Path) -> None:
    override = tmp_path / "taxonomy.yaml"
    override.write_text("topics:\n  sport:\n    cues: [bowling*]\n", encoding="utf-8")
    packaged = load_taxonomy()
    merged = load_taxonomy(override)
    text = [fold("Kazakh bowling league in Chicago")]
    assert "sport" not in packaged.cues.find(text)
    assert merged.cues.find(text)["sport"] == ["bowling"]
    assert len(merged.topic("sport").cues) == len(packaged.topic("sport").cues) + 1
    assert merged.digest != packaged.digest  # cached heads are retrained


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("topics:\n  sport:\n    cues: kokpar\n", "topics.sport.cues"),
        ("topics:\n  sport:\n    cues: ['  ']\n", "topics.sport.cues"),
        ("topics:\n  sport:\n    cues: ['ko*par']\n", "may only end a word"),
    ],
)
def test_bad_cues_are_named(tmp_path: Path, snippet: str, message: str) -> None:
    override = tmp_path / "bad.yaml"
    override.write_text(snippet, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_taxonomy(override)
