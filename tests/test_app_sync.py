"""Which commands sync the sources file into the database, and what a running service does when another
process synced a different file: commands that only read or annotate what is stored never switch sources
off."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mediawatch.app import open_app
from mediawatch.cli import main
from mediawatch.settings import Settings
from mediawatch.store import open_store

TWO = """\
version: 1
sources:
  - {id: feed-a, kind: rss, url: 'https://a.example/rss'}
  - {id: feed-b, kind: rss, url: 'https://b.example/rss'}
"""
OTHER = """\
version: 1
sources:
  - {id: elsewhere, kind: rss, url: 'https://c.example/rss'}
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("MEDIAWATCH_DB", "MEDIAWATCH_SOURCES"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "sources.yaml").write_text(TWO, encoding="utf-8")
    (tmp_path / "other.yaml").write_text(OTHER, encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def enabled(db: Path) -> list[str]:
    store = open_store(f"sqlite:///{db}")
    try:
        return sorted(store.source_ids(enabled_only=True))
    finally:
        store.close()


def test_reading_commands_with_another_sources_file_switch_nothing_off(workdir: Path) -> None:
    assert run("sources", "--json")[0] == 0  # the operator's view syncs sources.yaml
    assert enabled(workdir / "mediawatch.db") == ["feed-a", "feed-b"]
    assert run("export", "--sources", "other.yaml")[0] == 0
    assert run("digest", "--week", "2025-W12", "--out", "out", "--sources", "other.yaml")[0] == 0
    assert enabled(workdir / "mediawatch.db") == ["feed-a", "feed-b"]


def test_reading_commands_need_no_sources_file(workdir: Path) -> None:
    assert run("sources", "--json")[0] == 0
    (workdir / "sources.yaml").unlink()
    code, out, err = run("export")
    assert (code, out, err) == (0, "", "")
    code, out, _ = run("digest", "--week", "2025-W12", "--out", "out")
    assert code == 0 and out.splitlines()[0].endswith("2025-W12.md")
    code, out, _ = run("sources", "--json")  # without a file: what the database holds
    assert code == 0 and [line.split('"id": ')[1][:8] for line in out.splitlines()] == ['"feed-a"', '"feed-b"']
    assert enabled(workdir / "mediawatch.db") == ["feed-a", "feed-b"]
    code, _, err = run("sources", "--sources", "missing.yaml")  # a file named but absent is still an error
    assert code == 2 and "missing.yaml" in err


def test_a_tick_restores_its_sources_after_another_process_synced_a_different_file(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = f"sqlite:///{workdir / 'mw.db'}"
    clock = lambda: datetime(2025, 3, 20, tzinfo=UTC)
    service = open_app(Settings(db=db, sources=workdir / "sources.yaml"), clock=clock)
    intruder = open_app(Settings(db=db, sources=workdir / "other.yaml"), clock=clock)
    intruder.close()
    assert enabled(workdir / "mw.db") == ["elsewhere"]
    with caplog.at_level(logging.WARNING, logger="mediawatch.app"):
        assert service.reload_sources() is False  # the file did not change; the database did
    assert enabled(workdir / "mw.db") == ["feed-a", "feed-b"]
    assert any("differed from" in r.getMessage() for r in caplog.records)
    caplog.clear()
    assert service.reload_sources() is False
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]  # in step: nothing to say
    service.close()


def test_an_edit_that_switches_sources_off_is_a_warning_naming_them(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Before: a sources file cut short (saved half-way) switched most sources off without a word in the log."""
    import os

    db = f"sqlite:///{workdir / 'mw.db'}"
    service = open_app(Settings(db=db, sources=workdir / "sources.yaml"), clock=lambda: datetime(2025, 3, 20, tzinfo=UTC))
    path = workdir / "sources.yaml"
    path.write_text(TWO.split("  - {id: feed-b")[0].replace("a.example/rss", "a.example:8"), encoding="utf-8")
    os.utime(path, ns=(1, 1))  # a different modification time, whatever the file system's resolution
    with caplog.at_level(logging.WARNING, logger="mediawatch.app"):
        assert service.reload_sources() is True
    assert enabled(workdir / "mw.db") == ["feed-a"]
    [record] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.getMessage() == "sources file re-read: 1 source(s) switched off, 1 changed"
    assert record.__dict__["fields"]["switched_off"] == "feed-b" and record.__dict__["fields"]["changed"] == "feed-a"
    caplog.clear()
    path.write_text(TWO, encoding="utf-8")
    os.utime(path, ns=(2, 2))
    with caplog.at_level(logging.WARNING, logger="mediawatch.app"):
        assert service.reload_sources() is True  # sources added back, feed-a's URL restored: changed again
    assert enabled(workdir / "mw.db") == ["feed-a", "feed-b"]
    service.close()
