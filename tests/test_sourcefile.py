"""sources.yaml validation: every error class with its line and column."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from mediawatch.errors import ConfigError
from mediawatch.source_values import format_every, parse_every
from mediawatch.sourcefile import load_sourcefile, parse_sourcefile

ROOT = Path(__file__).resolve().parents[1]


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sources.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_sourcefile(path)
    for line in info.value.problems:
        assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: ", line), line
    return [line.removeprefix(f"{path}:") for line in info.value.problems]


def test_shipped_file_is_valid_and_large_enough() -> None:
    sf = load_sourcefile(ROOT / "sources.yaml")
    assert len(sf.sources) >= 15
    assert {s.kind.value for s in sf.sources} == {"rss", "youtube", "page"}
    assert len({s.id for s in sf.sources}) == len(sf.sources)
    text = (ROOT / "sources.yaml").read_text(encoding="utf-8")
    assert "not verified" in text.lower()


def test_defaults_apply_and_sources_override(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "version: 1\ndefaults: {every: 2h, language: kk, tags: [diaspora]}\n"
        "sources:\n"
        "  - {id: a1, kind: rss, url: 'https://a.example/rss', tags: [x]}\n"
        "  - {id: b1, kind: page, url: 'https://b.example/', every: 30m, language: ru, enabled: false,"
        " selector: 'h2 > a'}\n"
        "  - {id: c1, kind: youtube, handle: '@kazakhdiaspora', country: MN}\n",
        encoding="utf-8",
    )
    sf = load_sourcefile(path)
    a, b, c = sf.sources
    assert (a.every, a.language, a.enabled, a.tags) == (timedelta(hours=2), "kk", True, ("diaspora", "x"))
    assert (b.every, b.language, b.enabled, b.selector) == (timedelta(minutes=30), "ru", False, "h2 > a")
    assert (c.locator, c.country, c.line) == ("@kazakhdiaspora", "MN", 6)


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    out = problems(tmp_path, "version: 1\nsources:\n  - id: a\n    kind: rss\n   url: x\n")
    assert len(out) == 1
    assert out[0].startswith("5:") and "YAML syntax error" in out[0]


def test_unknown_key_is_reported_at_the_key(tmp_path: Path) -> None:
    out = problems(tmp_path, "version: 1\nsources:\n  - id: aa\n    kind: rss\n    url: https://a.example/\n    evry: 30m\n")
    assert out == [
        "6:5: sources[0].evry: unknown key 'evry'; allowed keys: id, name, country, language, timezone, every, enabled, tags, kind, url"
    ]


def test_top_level_typo(tmp_path: Path) -> None:
    out = problems(tmp_path, "version: 1\nsource:\n  - id: aa\n")
    assert out[0] == "1:1: sources: required key is missing"  # the typo does not leave a file that switches all off
    assert out[1].startswith("2:1: source: unknown key 'source'")


def test_a_file_without_sources_is_refused_but_an_empty_list_is_meant(tmp_path: Path) -> None:
    assert problems(tmp_path, "version: 1\n") == ["1:1: sources: required key is missing"]
    (tmp_path / "empty.yaml").write_text("version: 1\nsources:\n  # - id: aa\n", encoding="utf-8")
    assert load_sourcefile(tmp_path / "empty.yaml").sources == ()


def test_type_problems_speak_yaml_not_python(tmp_path: Path) -> None:
    out = problems(tmp_path, "version: 1\ndefaults: []\nsources:\n"
                             "  - {id: aa, kind: rss, url: 'https://a.example/f', tags: diaspora}\n")
    assert out == ["2:11: defaults: must be a mapping ('key: value' lines) (got [])",
                   "4:59: sources[0].tags: must be a list ([a, b] or '- ' lines) (got 'diaspora')"]


def test_wrong_types_bad_urls_codes_and_interval(tmp_path: Path) -> None:
    out = problems(
        tmp_path,
        "version: 1\n"
        "sources:\n"
        "  - id: aa\n"
        "    kind: rss\n"
        "    url: ftp://a.example/feed\n"
        "    every: 1m\n"
        "    country: Kazakhstan\n"
        "    language: kaz\n"
        "    enabled: sometimes\n"
        "    tags: 5\n",
    )
    joined = "\n".join(out)
    assert "5:10: sources[0].url: 'ftp://a.example/feed' is not an absolute http(s) URL" in joined
    assert "6:12: sources[0].every: '1m' is too often; the minimum interval is 5m" in joined
    assert "7:14: sources[0].country: 'Kazakhstan' is not an ISO 3166-1 alpha-2 country code" in joined
    assert "8:15: sources[0].language: 'kaz' is not an ISO 639-1 language code" in joined
    assert "9:14: sources[0].enabled: Input should be a valid boolean" in joined
    assert "10:11: sources[0].tags: " in joined
    assert len(out) == 6


def test_timezone_is_an_iana_name_from_the_source_or_the_defaults(tmp_path: Path) -> None:
    out = problems(tmp_path, "version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/', timezone: UTC+5}\n")
    assert out == ["3:62: sources[0].timezone: 'UTC+5' is not a time zone; use an IANA name such as Asia/Almaty, "
                   "Asia/Shanghai, Europe/Istanbul or UTC"]
    for folder in ("Asia", "x" * 300):  # a folder of the zone files, a name too long for a file: no traceback
        (line,) = problems(tmp_path, f"version: 1\nsources:\n  - {{id: aa, kind: rss, url: 'https://a.example/', timezone: {folder}}}\n")
        assert f"sources[0].timezone: '{folder}' is not a time zone" in line
    text = ("version: 1\ndefaults: {timezone: Asia/Almaty}\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/'}\n"
            "  - {id: bb, kind: page, url: 'https://b.example/', timezone: Asia/Shanghai}\n"
            "  - {id: cc, kind: rss, url: 'https://c.example/', timezone: ' UTC '}\n")
    specs = parse_sourcefile(text, tmp_path / "s.yaml").sources
    assert [s.timezone for s in specs] == ["Asia/Almaty", "Asia/Shanghai", "UTC"]
    plain = parse_sourcefile(text.replace("defaults: {timezone: Asia/Almaty}\n", ""), tmp_path / "s.yaml").sources
    assert plain[0].timezone is None


def test_interval_syntax(tmp_path: Path) -> None:
    out = problems(tmp_path, "version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/', every: 'often'}\n")
    assert "sources[0].every: 'often' is not an interval; write a number and a unit: 30m, 6h, 1d" in out[0]
    assert parse_every("90m") == timedelta(minutes=90)
    assert format_every(timedelta(hours=6)) == "6h"
    with pytest.raises(ValueError, match="maximum"):
        parse_every("60d")


def test_duplicate_ids_and_missing_youtube_locator(tmp_path: Path) -> None:
    out = problems(
        tmp_path,
        "version: 1\n"
        "sources:\n"
        "  - id: same\n    kind: rss\n    url: https://a.example/\n"
        "  - id: same\n    kind: page\n    url: https://b.example/\n"
        "  - id: tube\n    kind: youtube\n    name: No locator\n",
    )
    assert out == [
        "6:9: sources[1].id: duplicate id 'same' (first used by sources[0]); ids must be unique",
        "9:5: sources[2]: a youtube source needs one of channel_id, handle or playlist_id (or feed_url)",
    ]


def test_bad_kind_channel_and_selector(tmp_path: Path) -> None:
    out = problems(
        tmp_path,
        "version: 1\n"
        "sources:\n"
        "  - {id: aa, kind: atom, url: 'https://a.example/'}\n"
        "  - {id: bb, kind: youtube, channel_id: 'UC123'}\n"
        "  - {id: cc, kind: page, url: 'https://c.example/', selector: 'a[[['}\n"
        "  - {id: Bad_Id, kind: rss, url: 'https://d.example/'}\n",
    )
    assert out[0] == "3:20: sources[0].kind: 'kind' must be one of rss, youtube, page (got 'atom')"
    assert out[1].startswith("4:41: sources[1].channel_id: 'UC123' is not a YouTube channel id")
    assert out[2].startswith("5:63: sources[2].selector: 'a[[[' is not a valid CSS selector")
    assert out[3].startswith("6:10: sources[3].id: 'Bad_Id' is not a valid id")


def test_a_missing_kind_and_a_numeric_id_are_named_as_such(tmp_path: Path) -> None:
    out = problems(
        tmp_path,
        "version: 1\n"
        "sources:\n"
        "  - {id: aa, url: 'https://a.example/'}\n"
        "  - {id: 12, kind: rss, url: 'https://b.example/'}\n",
    )
    assert out == [
        "3:5: sources[0]: required key 'kind' is missing; it must be one of rss, youtube, page",
        "4:10: sources[1].id: must be text; quote it: '12' (got 12)",
    ]


def test_version_is_required_and_checked(tmp_path: Path) -> None:
    assert problems(tmp_path, "sources: []\n") == ["1:1: version: required key is missing"]
    assert "this mediawatch reads version 1" in problems(tmp_path, "version: 7\nsources: []\n")[0]


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml: file not found"):
        load_sourcefile(tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------------------------- operator mistakes


def test_an_absurd_interval_is_too_rare_not_a_crash(tmp_path: Path) -> None:
    out = problems(tmp_path, "version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/', every: 99999999999999999999d}\n")
    assert out == ["3:59: sources[0].every: '99999999999999999999d' is too rare; the maximum interval is 30d"]
    assert "is not an interval" in problems(tmp_path, "version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/', every: '３０m'}\n")[0]


def test_a_youtube_source_takes_one_locator(tmp_path: Path) -> None:
    out = problems(
        tmp_path,
        "version: 1\nsources:\n"
        "  - {id: aa, kind: youtube, handle: '@abcdef', channel_id: 'UCabcdefghijklmnopqrstuv'}\n"
        "  - {id: bb, kind: youtube, channel_id: 'UCabcdefghijklmnopqrstuv', playlist_id: 'PLabcdefghijkl'}\n",
    )
    assert out == [
        "3:5: sources[0]: a youtube source takes one of channel_id, handle or playlist_id, not channel_id and handle",
        "4:5: sources[1]: a youtube source takes one of channel_id, handle or playlist_id, not channel_id and playlist_id",
    ]
    path = tmp_path / "ok.yaml"  # a mirror's feed_url beside one locator is fine
    path.write_text("version: 1\nsources:\n  - {id: cc, kind: youtube, handle: '@abcdef', feed_url: 'https://m.example/f.xml'}\n")
    assert load_sourcefile(path).sources[0].handle == "@abcdef"


def test_urls_with_controls_or_an_impossible_port_are_refused(tmp_path: Path) -> None:
    out = problems(
        tmp_path,
        "version: 1\nsources:\n"
        '  - {id: aa, kind: rss, url: "https://a.example/\\tx"}\n'
        '  - {id: bb, kind: rss, url: "https://b.example/\\nx"}\n'
        "  - {id: cc, kind: rss, url: 'https://c.example:99999/'}\n",
    )
    assert out[0].startswith("3:30: sources[0].url: 'https://a.example/\\tx' is not an absolute http(s) URL (it contains")
    assert out[1].startswith("4:30: sources[1].url: 'https://b.example/\\nx' is not an absolute http(s) URL (it contains")
    assert out[2].startswith("5:30: sources[2].url: 'https://c.example:99999/' is not a usable URL (Port out of range")


def test_version_must_be_the_integer_1(tmp_path: Path) -> None:
    for value in ("true", "1.0", "'1'"):
        out = problems(tmp_path, f"version: {value}\nsources: []\n")
        assert len(out) == 1 and out[0].startswith("1:10: version: unsupported schema version"), out


def test_the_norway_problem_does_not_exist_here(tmp_path: Path) -> None:
    """YAML 1.2: no/on/yes are strings, so Norwegian and a source called 'no' stay what they were."""
    path = tmp_path / "s.yaml"
    path.write_text("version: 1\nsources:\n  - {id: no, kind: rss, url: 'https://a.example/', language: no, country: NO}\n"
                    "  - {id: on, kind: rss, url: 'https://b.example/'}\n", encoding="utf-8")
    a, b = load_sourcefile(path).sources
    assert (a.id, a.language, a.country, b.id) == ("no", "no", "NO", "on")


def test_encoding_problems_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_bytes("version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/', name: 'Caf\xe9'}\n"
                     .encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_sourcefile(path)
    assert info.value.problems == [f"{path}:3:62: not UTF-8 text (byte 0xe9); save the file as UTF-8"]
    path.write_bytes("version: 1\nsources: []\n".encode("utf-16"))
    with pytest.raises(ConfigError) as info:
        load_sourcefile(path)
    assert info.value.problems == [f"{path}:1:1: the file is UTF-16; save it as UTF-8"]
    path.write_bytes(b"\xef\xbb\xbfversion: 1\nsources: []\n")  # a BOM is fine
    assert load_sourcefile(path).sources == ()
    assert problems(tmp_path, "version: 1\nsources: []\nname: 'a\x00'\n") == [
        "3:9: YAML error: character U+0000 is not allowed in YAML"
    ]


def test_deeply_nested_yaml_is_a_problem_with_its_place_not_a_crash(tmp_path: Path) -> None:
    flow = "version: 1\nsources: " + "[" * 1000 + "]" * 1000 + "\n"
    assert problems(tmp_path, flow) == [
        "2:74: YAML error: nested more than 64 levels deep; a sources file needs a few"
    ]
    mapping = "version: 1\nsources: []\nx: " + "{a: " * 500 + "1" + "}" * 500 + "\n"
    assert problems(tmp_path, mapping)[0].startswith("3:")
    block = "version: 1\nsources:\n" + "- " * 5000 + "a\n"  # block nesting: Python's recursion limit
    assert problems(tmp_path, block) == ["1:1: YAML error: nested too deeply to read; a sources file needs a few levels"]
    ordinary = "version: 1\nsources:\n  - {id: aa, kind: rss, url: 'https://a.example/feed', tags: [x, y]}\n"
    (tmp_path / "ok.yaml").write_text(ordinary, encoding="utf-8")
    assert [s.tags for s in load_sourcefile(tmp_path / "ok.yaml").sources] == [("x", "y")]


def test_alias_bomb_and_huge_file_are_refused_quickly(tmp_path: Path) -> None:
    import time

    bomb = "version: 1\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 6)
    )
    started = time.monotonic()
    assert problems(tmp_path, bomb + "sources: []\n") == [
        "1:1: the file holds more than 100000 values once its aliases (*name) are expanded"
    ]
    stanza = "  - {{id: s{i}, kind: rss, url: 'https://s{i}.example/feed', name: 'Source number {i}'}}\n"
    huge = "version: 1\nsources:\n" + "".join(stanza.format(i=i) for i in range(20_000))
    assert problems(tmp_path, huge) == ["1:1: the file is larger than 1 MB; is it the sources file?"]
    assert time.monotonic() - started < 10
