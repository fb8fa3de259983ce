"""Terminal reports: outside text (error messages, names, notes) is printed as text, never as markup or escapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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
