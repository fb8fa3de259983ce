"""Terminal reports: outside text (error messages, names, notes) is printed as text, never as markup or escapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mediawatch.models import SourceHealth, SourceId, SourceKind
from mediawatch.report import print_health

WHEN = datetime(2025, 3, 24, 6, 0, tzinfo=UTC)


def health(
    last_error: str | None, *, name: str = "Omsk Kazakhs", notes: dict[str, str] | None = None
) -> SourceHealth:
    return SourceHealth(
        source_id=SourceId("omsk-ru"),
        kind=SourceKind.RSS,
        name=name,
        url="https://omsk.example/rss",
        enabled=True,
        last_attempt=WHEN,
        last_success=None,
        consecutive_failures=2,
        last_error=last_error,
        items_7d=0,
        next_check=WHEN,
        notes=notes or {},
    )


@pytest.fixture
def wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # one line per row: the cells are not folded


def test_error_text_that_looks_like_rich_markup_is_printed_as_is(
    wide: None, capsys: pytest.CaptureFixture[str]
) -> None:
    print_health([health("XML error near [/channel] in https://omsk.example/rss")], as_json=False)
    assert "XML error near [/channel] in https://omsk.example/rss" in capsys.readouterr().out
    print_health([health("HTTP 403 [blocked by waf]")], as_json=False)
    assert "HTTP 403 [blocked by waf]" in capsys.readouterr().out
    print_health(
        [health(None, notes={"feed_alternate": "[link=https://evil.example]x[/link]"})], as_json=False
    )
    assert "feed_alternate: [link=https://evil.example]x[/link]" in capsys.readouterr().out


def test_terminal_escapes_from_outside_never_reach_the_terminal(
    wide: None, capsys: pytest.CaptureFixture[str]
) -> None:
    print_health([health("bad feed \x1b[2J\x1b]0;owned\x07 end", name="Omsk\x9b31m")], as_json=False)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "bad feed" in out and "end" in out
    # JSON Lines keep the exact text (json escapes it)
    print_health([health("bad feed \x1b[2J")], as_json=True)
    assert json.loads(capsys.readouterr().out)["last_error"] == "bad feed \x1b[2J"


def test_collect_report_lines_carry_no_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    from mediawatch.pipeline import CollectReport
    from mediawatch.report import print_collect_report

    report = CollectReport(
        sources_ok=1,
        sources_failed=1,
        failures={"omsk-ru": "HTTP 500 \x1b[31mboom\x1b[0m (https://omsk.example/rss)"},
        warnings={"qazaq-kk": "odd\x07 feed"},
    )
    print_collect_report(report)
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "  failed  omsk-ru: HTTP 500  [31mboom [0m (https://omsk.example/rss)" in out
    assert "  warning qazaq-kk: odd  feed" in out


def test_a_last_error_does_not_hide_the_notes(wide: None, capsys: pytest.CaptureFixture[str]) -> None:
    """README audit: `problem = last_error or notes` hid "silent"/"feed_alternate" whenever there was an error."""
    print_health(
        [health("HTTP 503 [busy]", notes={"silent": "no new items for 21 days", "feed_alternate": "[b]x[/b]"})],
        as_json=False,
    )
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "omsk-ru" in line or "silent" in line or "feed_alternate" in line]
    assert "HTTP 503 [busy]" in lines[0] and "omsk-ru" in lines[0]  # the error first, on the source's row
    assert any("silent: no new items for 21 days" in line for line in lines[1:])  # each note on a line of its own
    assert any("feed_alternate: [b]x[/b]" in line for line in lines[1:])  # still text, never markup


def test_sources_command_shows_error_and_notes_from_a_real_database(
    wide: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from mediawatch.cli import main
    from mediawatch.sourcefile import load_sourcefile
    from mediawatch.store import SourceState, open_store

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sources.yaml"
    path.write_text("version: 1\nsources:\n  - {id: omsk-ru, kind: rss, url: 'https://omsk.example/rss'}\n",
                    encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'mw.db'}"
    store = open_store(db)
    store.sync_sources(load_sourcefile(path).sources, WHEN)
    store.save_source_state(SourceState(
        SourceId("omsk-ru"), last_attempt=WHEN, consecutive_failures=2, last_error="HTTP 404",
        notes={"feed_alternate": "https://omsk.example/atom"},
    ))
    store.close()
    result = CliRunner().invoke(main, ["sources", "--db", db, "--sources", str(path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "HTTP 404" in result.stdout and "feed_alternate: https://omsk.example/atom" in result.stdout
    assert result.stdout.split()[:2] == ["1", "source"]  # the title: not "1 sources"


def test_piped_table_keeps_ids_and_times_whole_and_a_disabled_source_has_no_next_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mediawatch sources | cat`: rich assumed 80 columns and folded ids and times ("2026-11/-28")."""
    from dataclasses import replace

    monkeypatch.delenv("COLUMNS", raising=False)
    long_id = replace(health("could not connect (connection refused)"),
                      source_id=SourceId("demo-qazaq-diaspora-europe"))
    off = replace(health(None), source_id=SourceId("removed-one"), enabled=False, notes={"removed": "not in file"})
    print_health([long_id, off], as_json=False)  # capsys: not a terminal
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "demo-qazaq-diaspora-europe" in line)
    assert row.count("2025-03-24 06:00") == 2  # last attempt and next check, each whole on the source's row
    header = next(line for line in out.splitlines() if "last attempt" in line)
    # the times say their zone: the column headers name UTC (an operator in Almaty read them as local)
    assert "last attempt UTC" in header and "last success UTC" in header and "next check UTC" in header
    removed = next(line for line in out.splitlines() if "removed-one" in line)
    assert removed.rstrip().rstrip("│").rstrip().endswith("-")  # disabled: never checked again
    print_health([off], as_json=True)
    assert json.loads(capsys.readouterr().out)["next_check"] is None
