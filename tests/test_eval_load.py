"""`mediawatch evaluate FILE.jsonl`: malformed labeled files name the line, an empty file is an error, and
items without ``lang`` are scored under ``und``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.classify.evaluate import LabeledItem, load_labeled
from mediawatch.cli import main
from mediawatch.errors import ConfigError


def row(**fields: object) -> str:
    base: dict[str, object] = {
        "id": "x",
        "title": "T",
        "text": "",
        "lang": "en",
        "diaspora": False,
        "countries": [],
        "topics": [],
    }
    return json.dumps(base | fields, ensure_ascii=False)


def problems_of(path: Path, content: bytes) -> str:
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_labeled(path)
    return "\n".join(info.value.problems)


def test_malformed_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    lines = [
        row(id="a"),  # 1
        "{broken",  # 2
        row(id="b", diaspora="false"),  # 3: a string, which bool() would have made True
        row(id="c", countries="CN"),  # 4: a string, which tuple() would have made ('C', 'N')
        row(id="d", topics=[1]),  # 5
        json.dumps({"title": "no id", "diaspora": True}),  # 6
        "null",  # 7
        row(id="e", lang=7),  # 8
    ]
    text = problems_of(path, ("\n".join(lines) + "\n").encode())
    for expected in (
        "set.jsonl:2: not JSON",
        "set.jsonl:3: not a labeled item: 'diaspora' must be true or false",
        "set.jsonl:4: not a labeled item: 'countries' must be a list of strings",
        "set.jsonl:5: not a labeled item: 'topics' must be a list of strings",
        "set.jsonl:6: not a labeled item: needs an 'id'",
        "set.jsonl:7: not a labeled item: expected a JSON object, got NoneType",
        "set.jsonl:8: not a labeled item: 'lang' must be a string, not int",
    ):
        assert expected in text, expected
    assert "set.jsonl:1:" not in text
    text = problems_of(path, b'{"id": "a", "title": "\xc3"}\n')
    assert "set.jsonl:1: not UTF-8" in text


def test_a_relevant_item_without_its_gold_lists_is_named(tmp_path: Path) -> None:
    """A missing `countries` was read as [], so a predicted MN counted as a false positive."""
    path = tmp_path / "gold.jsonl"
    lines = [
        json.dumps({"id": "a", "title": "Kazakhs in Mongolia", "diaspora": True}),  # 1
        json.dumps({"id": "b", "title": "Kazakhs in Mongolia", "diaspora": True, "topics": ["heritage"]}),  # 2
        json.dumps({"id": "c", "title": "Kazakhs in Mongolia", "diaspora": True, "countries": None,
                    "topics": []}),  # 3
        json.dumps({"id": "d", "title": "Astana news", "diaspora": False}),  # 4: irrelevant, nothing to list
        row(id="e", diaspora=True, countries=[], topics=[]),  # 5: empty lists say "none", and are fine
    ]
    text = problems_of(path, ("\n".join(lines) + "\n").encode())
    assert text.splitlines() == [
        f"{path}:1: not a labeled item: a relevant item needs 'countries' and 'topics' (a list; [] when it names "
        f"none)",
        f"{path}:2: not a labeled item: a relevant item needs 'countries' (a list; [] when it names none)",
        f"{path}:3: not a labeled item: a relevant item needs 'countries' (a list; [] when it names none)",
    ]
    result = CliRunner().invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 2 and result.stderr.startswith(f"{path}:1: not a labeled item: a relevant item"), \
        result.output


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"\n \n")
    with pytest.raises(ConfigError, match=r"empty\.jsonl: no labeled items"):
        load_labeled(path)
    result = CliRunner().invoke(main, ["evaluate", str(path)])
    assert result.exit_code == 2 and "no labeled items" in result.stderr


def test_bom_crlf_and_missing_lang(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    record = json.loads(row(id=5, diaspora=True, countries=["MN"], topics=["festivals"]))
    del record["lang"]
    path.write_bytes(("\ufeff" + json.dumps(record) + "\r\n" + row(id="b", lang="kk-Latn") + "\r\n").encode())
    first, second = load_labeled(path)
    assert first == LabeledItem("5", "T", "", "und", True, ("MN",), ("festivals",))
    assert second.lang == "kk-Latn" and second.as_input().lang == "kk"  # read as classify --input reads it


@pytest.mark.model
def test_evaluate_scores_items_without_lang(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    rows = [
        {
            "id": "a",
            "title": "Kazakhs of Bayan-Ölgii celebrate Nauryz with a horse race",
            "text": "",
            "diaspora": True,
            "countries": ["MN"],
            "topics": ["festivals"],
        },
        {
            "id": "b",
            "title": "Kazakhstan's central bank keeps its base rate",
            "text": "Inflation slowed.",
            "lang": "en",
            "diaspora": False,
        },
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(main, ["evaluate", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 2 and set(report["per_language"]) == {"und", "en"}
    assert report["per_language"]["und"]["n"] == 1


def test_gold_labels_the_tagger_cannot_give_are_named(tmp_path: Path) -> None:
    """An unknown topic, a code that is no country, a duplicate id (scored twice, and leaking across --cv
    folds) and a line without title or text were scored silently; lower-case codes and topics are read."""
    path = tmp_path / "set.jsonl"
    lines = [
        row(id="a", diaspora=True, countries=["cn", "MN"], topics=["Festivals"]),  # 1: fine, normalised
        row(id="b", diaspora=True, topics=["festivalz"]),  # 2
        row(id="c", diaspora=True, countries=["XX"]),  # 3
        row(id="a"),  # 4
        row(id="d", title="", text=" "),  # 5
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_labeled(path, topics=("festivals", "heritage"))
    assert info.value.problems == [
        f"{path}:2: topic 'festivalz' is not one of festivals, heritage",
        f"{path}:3: country 'XX' is not an ISO 3166-1 alpha-2 code",
        f"{path}:4: duplicate id 'a' (first on line 1)",
        f"{path}:5: 'title' and 'text' are both empty",
    ]
    path.write_text(lines[0] + "\n", encoding="utf-8")
    assert load_labeled(path, topics=("festivals",))[0].countries == ("CN", "MN")
    assert load_labeled(path, topics=("festivals",))[0].topics == ("festivals",)


def test_unpaired_surrogate_escapes_are_removed_from_input_lines(tmp_path: Path) -> None:
    """A \\ud800 escape without its pair crashed the tokenizer (classify --input) and evaluate."""
    from mediawatch.classify.jsonl import read_json_lines

    data = b'{"id": "s\\ud800", "title": "Kazakhs in Germany \\ud83d\\ude00", "text": "x\\ud800y Berlin"}\n'
    [(line_no, rec)], problems = read_json_lines(data)
    assert problems == [] and rec == {"id": "s", "title": "Kazakhs in Germany \U0001f600", "text": "xy Berlin"}
    path = tmp_path / "set.jsonl"
    path.write_bytes(data.replace(b'"}', b'", "diaspora": true, "countries": ["DE"], "topics": []}'))
    assert load_labeled(path)[0].text == "xy Berlin"
