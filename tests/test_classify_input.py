"""`mediawatch classify --input`: what a line may hold, how bad lines are named, and what reaches stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.classify.tagger import TagInput
from mediawatch.cli import main
from mediawatch.enrich import read_tag_inputs
from mediawatch.errors import ConfigError

OUTPUT_KEYS = ["id", "relevant", "relevance", "countries", "topics", "why"]


def line(**fields: object) -> str:
    return json.dumps(fields, ensure_ascii=False)


def problems(data: bytes) -> list[str]:
    with pytest.raises(ConfigError) as info:
        read_tag_inputs(data, "in.jsonl")
    return info.value.problems


def test_bom_crlf_and_blank_lines_are_accepted() -> None:
    data = (
        "\ufeff"
        + line(id="a", title="T", text="x")
        + "\r\n\r\n"
        + line(id=7, text="y", lang="kk-Arab")
        + "\r\n"
    ).encode()
    assert read_tag_inputs(data, "in.jsonl") == [
        TagInput("a", "T", "x", None, None),
        TagInput("7", "", "y", "kk", None),
    ]


def test_line_separators_inside_strings_do_not_split_lines() -> None:
    text = "first\u2028second\u2029third\x85fourth\x0cfifth"
    data = (line(id="a", title="T", text=text) + "\n").encode()
    assert read_tag_inputs(data, "in.jsonl")[0].text == text


def test_bad_lines_are_named_by_their_line_in_the_file() -> None:
    rows = [
        "",  # 1: blank lines count as lines
        line(id="ok", title="T", text="x"),  # 2
        "{broken",  # 3
        "[1, 2]",  # 4
        line(title="no id"),  # 5
        line(id="", title="empty id"),  # 6
        line(id=True, title="boolean id"),  # 7
        line(id="b", title=["not", "a", "string"], text="x"),  # 8
        line(id="c", title="  ", text=""),  # 9
        line(id="d", title="T", lang=5),  # 10
        line(id="e", title="T", url={"href": "x"}),  # 11
        line(id="ok", title="again"),  # 12
    ]
    data = "\n".join(rows).encode() + b"\n" + b'{"id": "f", "title": "\xff"}\n'  # 13
    found = problems(data)
    assert [p.split(":")[1] for p in found] == [str(n) for n in range(3, 14)]
    text = "\n".join(found)
    for expected in (
        "in.jsonl:3: not JSON",
        "in.jsonl:4: expected a JSON object, got list",
        "in.jsonl:5: needs an 'id'",
        "in.jsonl:8: 'title' must be a string, not list",
        "in.jsonl:9: 'title' and 'text' are both empty",
        "in.jsonl:10: 'lang' must be a string, not int",
        "in.jsonl:11: 'url' must be a string, not dict",
        "in.jsonl:12: duplicate id 'ok' (first on line 2)",
        "in.jsonl:13: not UTF-8 (byte 0xff",
    ):
        assert expected in text, expected


def test_many_bad_lines_are_counted_not_all_listed() -> None:
    found = problems(b"{\n" * 50)
    assert len(found) == 21 and found[-1] == "in.jsonl: ... and 30 more bad line(s)"


def run(args: list[str], stdin: bytes | None = None) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, args, input=stdin)
    return result.exit_code, result.stdout_bytes, result.stderr


def test_bad_input_stops_before_the_model_loads(tmp_path: Path) -> None:
    code, out, err = run(
        ["classify", "--input", "-", "--output", str(tmp_path / "out.jsonl")],
        b'{"id": "a", "title": "T"}\n{"id": "a", "title": "T"}\n',
    )
    assert code == 2 and out == b""
    assert "<stdin>:2: duplicate id 'a' (first on line 1)" in err
    assert not (tmp_path / "out.jsonl").exists()


def test_conflicting_options_are_usage_errors() -> None:
    code, _, err = run(["classify", "--all", "--input", "-"], b"")
    assert code == 2 and "--all" in err and "--input" in err
    code, _, err = run(["classify", "--output", "out.jsonl"])
    assert code == 2 and "--output needs --input" in err


def test_empty_input_gives_empty_output(tmp_path: Path) -> None:
    code, out, err = run(["classify", "--input", "-"], b"\n  \n")
    assert (code, out) == (0, b""), err


@pytest.mark.model
def test_unreadable_input_and_unwritable_output_are_clear_errors(tmp_path: Path) -> None:
    code, _, err = run(["classify", "--input", str(tmp_path / "missing.jsonl")])
    assert code == 2 and "missing.jsonl: cannot read" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    src = tmp_path / "in.jsonl"
    src.write_text(line(id="a", title="Kazakhs of Bayan-Ölgii celebrate Nauryz") + "\n", encoding="utf-8")
    # checked before the model loads (not after minutes of tagging), and nothing is created on the way
    for output, reason in ((blocker / "out.jsonl", f"the folder {blocker} does not exist"),
                           (tmp_path / "no" / "such" / "out.jsonl", f"the folder {tmp_path / 'no' / 'such'} does not exist"),
                           (tmp_path, "is a folder; give a file name")):
        code, out, err = run(["classify", "--input", str(src), "--output", str(output)])
        assert code == 2 and not out, err
        assert err.strip() == f"--output {output}: {reason}", err
    assert not (tmp_path / "no").exists()


@pytest.mark.model
def test_stdout_carries_only_the_result_lines(tmp_path: Path) -> None:
    """A real process, with debug logging on: every stdout line is a result with exactly the six keys."""
    rows = [
        line(id="a", title="Kazakhs of Bayan-Ölgii celebrate Nauryz with a horse race", text="", lang="en"),
        line(id=2, title="Kazakhstan's central bank keeps its base rate", text="Inflation. " * 200_000),
        line(id="c", title="Moñğoliyadağı qazaqtar Nauryz merekesin toyladı", text="Bayan-Ölgiy aymağında."),
    ]
    data = ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_")}
    proc = subprocess.run(
        [sys.executable, "-m", "mediawatch", "classify", "--input", "-", "-vv"],
        input=data,
        check=False,
        capture_output=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    assert b'msg="lines tagged" lines=3 ' in proc.stderr, proc.stderr[-500:]  # the log went to stderr
    out = [json.loads(x) for x in proc.stdout.decode("utf-8").split("\n") if x]
    assert [list(o) for o in out] == [OUTPUT_KEYS] * 3
    assert [o["id"] for o in out] == ["a", "2", "c"]
    assert out[0]["relevant"] and out[0]["countries"] == ["MN"] and not out[1]["relevant"]
    assert out[2]["why"]["language"]["transliterated_from"] == "Latn"
    assert not list(tmp_path.iterdir())  # no database, no files here (vectors are kept in the cache folder)
    # the same lines again: nothing is embedded (8 parts: the long text is read in 6), the same results
    again = subprocess.run([sys.executable, "-m", "mediawatch", "classify", "--input", "-", "-vv"], input=data,
                           check=False, capture_output=True, env=env, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert b'msg="lines tagged" lines=3 ' in again.stderr and b" embedded=0 cached=8" in again.stderr, again.stderr[-500:]
    assert [json.loads(x) for x in again.stdout.decode("utf-8").split("\n") if x] == out
