"""The operator's taxonomy and gazetteer override files are checked as the sources file is: every problem is one
``FILE:LINE:COL: path: problem`` line, and the commands exit 2 with them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.classify.gazetteer import load_gazetteer
from mediawatch.classify.taxonomy import load_taxonomy, load_topics
from mediawatch.cli import main
from mediawatch.errors import ConfigError


def problems_of(load, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value.problems


def test_a_taxonomy_override_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_bytes(b"topics:\n  language:\n    cues: [\xff\xfe]\n")
    assert problems_of(load_topics, path) == [f"{path}:3:12: not UTF-8 text (byte 0xff); save the file as UTF-8"]


def test_a_gazetteer_override_that_is_not_utf8_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.yaml"
    path.write_bytes(b"countries:\n  MN:\n    names: [Mong\xf6lia]\n")
    assert problems_of(load_gazetteer, path) == [f"{path}:3:17: not UTF-8 text (byte 0xf6); save the file as UTF-8"]


def test_a_misspelled_taxonomy_key_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text("topics:\n  language:\n    cuez: [x]\nrelevanse: more\n", encoding="utf-8")
    assert problems_of(load_topics, path) == [
        f"{path}:3:5: topics.language.cuez: unknown key 'cuez'; allowed keys: label, description, cues, examples",
        f"{path}:4:1: relevanse: unknown key 'relevanse'; allowed keys: relevance, topics",
    ]


def test_taxonomy_values_are_checked_where_they_stand(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text(
        "topics:\n"
        "  Music:\n    description: songs\n"  # no feed file can be named after it
        "  cuisine:\n    label: Cuisine\n"  # a new topic needs a description
        "  media:\n    cues: podcast\n"  # not a list
        "    examples:\n      - {lang: kz, text: Qazaq radio}\n      - {lang: en}\n",
        encoding="utf-8",
    )
    assert problems_of(load_topics, path) == [
        f"{path}:2:3: topics.Music: 'Music' is not a topic id: 1-32 of a-z 0-9 _ -, starting with a letter (it "
        f"names the topic's feed files)",
        f"{path}:5:5: topics.cuisine: 'description' is required",
        f"{path}:7:11: topics.media.cues: expected a list of cue words",
        f"{path}:9:16: topics.media.examples[0].lang: 'kz' is not an ISO 639-1 language code (kk, ru, zh, "
        f"kk-Arab, …)",
        f"{path}:10:9: topics.media.examples[1]: 'text' is required",
    ]


def test_a_gazetteer_country_code_must_be_iso_3166_alpha_2(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.yaml"
    path.write_text(
        "transit: [PK, XY]\n"
        "countries:\n  XX:\n    names: [Nowhereland]\n  nz:\n    names: [Aotearoa]\n"
        "  MN:\n    place: {Buyant: [Buyant sum]}\n"
        "ambiguous:\n  Altai: {countries: [CN, ZZ], names: [Altai]}\n"
        "terms: {kazak: [Kazakh]}\n",
        encoding="utf-8",
    )
    assert problems_of(load_gazetteer, path) == [
        f"{path}:1:15: transit[1]: 'XY' is not an ISO 3166-1 alpha-2 country code (KZ, CN, MN, …)",
        f"{path}:3:3: countries.XX: 'XX' is not an ISO 3166-1 alpha-2 country code (KZ, CN, MN, …)",
        f"{path}:5:3: countries.nz: 'nz': write the country code in upper case (NZ)",
        f"{path}:8:5: countries.MN.place: unknown key 'place'; allowed keys: name, names, acronyms, demonyms, "
        f"places, communities",
        f"{path}:10:27: ambiguous.Altai.countries[1]: 'ZZ' is not an ISO 3166-1 alpha-2 country code (KZ, CN, "
        f"MN, …)",
        f"{path}:11:9: terms.kazak: unknown key 'kazak'; allowed keys: kazakh, diaspora, other_group",
    ]


def test_a_yaml_error_is_one_file_line_col_line(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text("topics:\n  media:\n    cues: [podcast\n  - radio: ]\n", encoding="utf-8")
    (problem,) = problems_of(load_topics, path)
    assert problem.startswith(f"{path}:4:10: YAML syntax error: ") and "\n" not in problem, problem
    assert "<unicode string>" not in problem


def test_an_empty_key_adds_nothing_and_keeps_the_packaged_list(tmp_path: Path) -> None:
    """`cues:` with its lines commented out would have replaced the packaged cues with nothing."""
    path = tmp_path / "taxonomy.yaml"
    path.write_text("topics:\n  media:\n    cues:\n    #  - podcast\n", encoding="utf-8")
    assert load_taxonomy(path).topic("media").cues == load_taxonomy().topic("media").cues


def test_an_empty_place_adds_nothing_and_the_rest_of_the_file_applies(tmp_path: Path) -> None:
    """`Khovd:` with its spellings commented out was refused, and the error pointed at the next line."""
    path = tmp_path / "gazetteer.yaml"
    path.write_text("countries:\n  MN:\n    places:\n      Khovd:\n      Ulgii: [Ulgii town]\n", encoding="utf-8")
    gazetteer = load_gazetteer(path)
    assert {(h.entry.label, h.entry.countries) for h in gazetteer.find("kazakhs of ulgii town")} >= {
        ("Ulgii", ("MN",))
    }
    # the packaged Khovd stays as it was: the empty key neither replaced nor removed its spellings
    assert any(h.entry.label == "Khovd" for h in gazetteer.find("kazakhs of kobdo"))


def test_a_name_the_packaged_gazetteer_gives_another_country_is_refused_where_it_stands(tmp_path: Path) -> None:
    """`FR: places: Istanbul: [Istanbul]` was accepted, and "Kazakhs of Istanbul" was then tagged FR (the exact
    spelling beat the packaged stem Istanbul*)."""
    path = tmp_path / "gazetteer.yaml"
    path.write_text("countries:\n  FR:\n    places:\n      Istanbul: [Istanbul]\n      Lyon: [Lyon, Lion]\n"
                    "    names: [Mongolia]\n  TR:\n    places:\n      Istanbul: [Stambul]\n", encoding="utf-8")
    assert problems_of(load_gazetteer, path) == [
        f"{path}:4:18: countries.FR.places.Istanbul[0]: 'Istanbul' is already a name of Istanbul (TR) in the packaged "
        "gazetteer; a name points to one country (list one that several share under ambiguous:)",
        f"{path}:6:13: countries.FR.names[0]: 'Mongolia' is already a name of Mongolia (MN) in the packaged "
        "gazetteer; a name points to one country (list one that several share under ambiguous:)",
    ]
    # the same country may add its own spellings, another country new names
    path.write_text("countries:\n  FR:\n    places:\n      Lyon: [Lion]\n  TR:\n    places:\n"
                    "      Istanbul: [Istanbul, Stambul]\n", encoding="utf-8")
    found = {h.entry.countries for h in load_gazetteer(path).find("Kazakhs of Stambul and Lion")}
    assert found >= {("TR",), ("FR",)}
    # a longer name that a packaged stem (Amman*) covers is the operator's fix, not a taken name
    path.write_text("countries:\n  GB:\n    places:\n      Ammanford: [Ammanford]\n", encoding="utf-8")
    assert {h.entry.countries for h in load_gazetteer(path).find("Kazakh students in Ammanford")} >= {("GB",)}


def test_a_good_override_still_merges(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.yaml"
    path.write_text("topics:\n  cuisine:\n    label: Cuisine\n    description: Kazakh food abroad.\n"
                    "    examples:\n      - {lang: kk-Arab, text: قازاق اسحاناسى}\n", encoding="utf-8")
    assert load_topics(path)[-1].id == "cuisine"


@pytest.mark.parametrize(("variable", "text", "expected"), [
    ("MEDIAWATCH_TAXONOMY", b"topics:\n  language:\n    cuez: [x]\n", ":3:5: topics.language.cuez: unknown key"),
    ("MEDIAWATCH_TAXONOMY", b"topics:\n  language:\n    cues: [\xff]\n", ":3:12: not UTF-8 text"),
    ("MEDIAWATCH_GAZETTEER", b"countries:\n  XX: {names: [Nowhere]}\n", ":2:3: countries.XX: 'XX' is not an ISO"),
    ("MEDIAWATCH_GAZETTEER", b"countries: [unclosed\n", ":2:1: YAML syntax error: "),
])
def test_commands_exit_2_naming_the_override_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str,
                                                  text: bytes, expected: str) -> None:
    monkeypatch.chdir(tmp_path)
    override = tmp_path / "override.yaml"
    override.write_bytes(text)
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "a", "title": "t", "diaspora": False, "countries": [], "topics": []}) + "\n",
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(gold)], env={variable: str(override)},
                                catch_exceptions=False)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"{override}{expected}"), result.stderr
    assert len(result.stderr.splitlines()) == 1


# "festivals\n": "$" also matched before a final newline, so a feed or override key could end in one
TOPIC_IDS = ["festivals", "a", "a" * 32, "a" * 33, "Festivals", "1st", "ab c", "a-b_9", "-ab", "", "fêtes", "ab/c",
             "festivals\n"]


def test_what_a_topic_id_is_is_written_once_and_read_alike_everywhere(tmp_path: Path) -> None:
    """The override check, the feed names and the web filter each wrote the rule out: one definition now
    (mediawatch.codes.TOPIC_ID), and the three still agree on every id."""
    from mediawatch.classify.overrides import _topic_key
    from mediawatch.publish.feeds import FeedKey
    from mediawatch.web.forms import parse_filters

    src = Path(__file__).resolve().parents[1] / "src" / "mediawatch"
    rule = r"[a-z][a-z0-9_-]{0,31}\Z"
    written = [str(p.relative_to(src)) for p in src.rglob("*.py") if rule in p.read_text(encoding="utf-8")]
    assert written == ["codes.py"]
    for topic in TOPIC_IDS:
        valid = _topic_key(topic) is None
        assert (FeedKey.parse(topic, None) is not None) == valid, topic
        assert (parse_filters({"topic": topic}).topic == topic) == valid or topic == "", topic
    assert [t for t in TOPIC_IDS if _topic_key(t) is None] == ["festivals", "a", "a" * 32, "a-b_9"]
