"""Logs are quiet by default (README): a retried fetch prints nothing at the default level; from -v on the
retries show, and the lines our code writes carry their fields (source, URL), including plain ``extra=`` keys.
Real commands against the loopback server; stamina's test mode removes the backoff sleeps, not the attempts."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import stamina
from click.testing import CliRunner, Result
from conftest import PROXY_VARS
from loopserver import LoopServer

from mediawatch.cli import main
from mediawatch.logs import configure_logging


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No backoff, no proxy or MEDIAWATCH_LOG_* from the shell; the logging set-up restored afterwards."""
    for name in (*PROXY_VARS, "MEDIAWATCH_LOG_LEVEL", "MEDIAWATCH_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("stamina").level)
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield
    root.handlers[:], root.level = saved[0], saved[1]
    logging.getLogger("stamina").setLevel(saved[2])


def collect_503(loopserver: LoopServer, tmp_path: Path, *flags: str) -> tuple[Result, str]:
    url = loopserver.status("/rss.xml", 503)
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"version: 1\nsources:\n  - {{id: omsk-ru, kind: rss, url: '{url}'}}\n", encoding="utf-8")
    runner = CliRunner(env={"MEDIAWATCH_RETRIES": "3"})
    result = runner.invoke(main, ["collect", "--all", "--db", f"sqlite:///{tmp_path / 'mw.db'}",
                                  "--sources", str(sources), *flags], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(loopserver.requests_for("/rss.xml")) == 3  # the retries really happened
    return result, url


def test_retries_are_silent_at_the_default_level(loopserver: LoopServer, tmp_path: Path) -> None:
    result, _ = collect_503(loopserver, tmp_path)
    assert "stamina" not in result.stderr and "retry" not in result.stderr, result.stderr
    assert result.stderr.strip() == ""
    assert "failed  omsk-ru: HTTP 503" in result.stdout  # the failure itself is still reported


def test_retries_show_with_v_and_name_the_url(loopserver: LoopServer, tmp_path: Path) -> None:
    result, url = collect_503(loopserver, tmp_path, "-v")
    retries = [line for line in result.stderr.splitlines() if "stamina.retry_scheduled" in line]
    assert len(retries) == 2 and all(url in line for line in retries), result.stderr
    assert re.search(r'msg="source failed" source_id=omsk-ru .*reason="HTTP 503"', result.stderr)


def test_debug_lines_carry_plain_extra_fields(loopserver: LoopServer, tmp_path: Path) -> None:
    """mediawatch.http logs with extra={"url": …}: those fields used to be dropped by the formatter."""
    result, url = collect_503(loopserver, tmp_path, "-vv")
    failed = [line for line in result.stderr.splitlines() if 'msg="fetch failed"' in line]
    assert failed and f"url={url}" in failed[0] and "source_id=omsk-ru" in failed[0] and "status=503" in failed[0]
    assert "logger=filelock" not in result.stderr  # third-party debug chatter stays out


def test_probe_of_a_failing_url_prints_one_error_line_and_no_retry_chatter(loopserver: LoopServer) -> None:
    url = loopserver.status("/feed", 503)
    result = CliRunner(env={"MEDIAWATCH_RETRIES": "2"}).invoke(main, ["probe", url], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [f"error: HTTP 503 ({url})"]


def test_json_lines_carry_the_fields_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", "json")
    logging.getLogger("mediawatch.test").debug(
        "fetched", extra={"url": "https://omsk.example/rss", "status": 200, "empty": None, "fields": {"n": 3}}
    )
    logging.getLogger("stamina").warning("stamina.retry_scheduled", extra={"stamina.retry_num": 1})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["url"] == "https://omsk.example/rss" and lines[0]["status"] == 200 and lines[0]["n"] == 3
    assert "empty" not in lines[0] and "fields" not in lines[0]
    assert lines[1]["stamina.retry_num"] == 1  # DEBUG: retries show


def test_default_level_holds_stamina_back_but_not_our_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("WARNING", "text")
    logging.getLogger("stamina").warning("stamina.retry_scheduled")
    logging.getLogger("mediawatch.service").warning("sources file invalid", extra={"fields": {"path": "s.yaml"}})
    err = capsys.readouterr().err
    assert "stamina" not in err
    assert "level=warning logger=mediawatch.service" in err and "path=s.yaml" in err


@pytest.mark.parametrize("how", [["-v"], ["-vv"]])
def test_alembic_does_not_announce_its_plugins(tmp_path: Path, how: list[str]) -> None:
    """MEDIAWATCH_LOG_LEVEL=INFO (or -v) showed seven 'setup plugin alembic.…' lines on every command that
    opened the database. A fresh process: alembic sets its plugins up once per process."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAWATCH_")}
    done = subprocess.run([sys.executable, "-m", "mediawatch", "db", "upgrade", *how], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "schema at revision" in done.stdout
    assert "alembic" not in done.stderr, done.stderr
    done = subprocess.run([sys.executable, "-m", "mediawatch", "db", "upgrade"], cwd=tmp_path,
                          env={**env, "MEDIAWATCH_LOG_LEVEL": "INFO"}, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "alembic" not in done.stderr, done.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_line_shows_a_password(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """Whatever part of a record quotes an address (its message, a field, a list in a field, an exception's text
    and its cause's), the line names the address without its user:password@."""
    configure_logging("DEBUG", fmt)
    secret = "https://user:s3cret@omsk.example/rss"
    try:
        try:
            raise KeyError(secret)
        except KeyError as exc:
            raise RuntimeError(f"broke on {secret}") from exc
    except RuntimeError as exc:
        logging.getLogger("mediawatch.test").exception(
            "failed on %s", secret, extra={"url": secret, "stamina.args": (repr(secret),), "error": exc,
                                           "fields": {"tried": [secret], "n": 3}})
    err = capsys.readouterr().err
    assert "s3cret" not in err and "user:" not in err, err
    assert err.count("https://omsk.example/rss") >= 6, err  # named all the same
    if fmt == "json":
        line = json.loads(err)
        assert line["tried"] == ["https://omsk.example/rss"] and line["n"] == 3


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_database_password_is_left_out_too(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """Before: only http(s) and ftp addresses lost their user:password@, so a PostgreSQL URL quoted by a
    connection error's traceback showed the database password."""
    configure_logging("DEBUG", fmt)
    dsn = "postgresql+psycopg://mediawatch:db-s3cret@db.internal:5432/mw"
    try:
        raise ConnectionError(f"could not connect to {dsn}")
    except ConnectionError:
        logging.getLogger("mediawatch.test").exception("store unavailable", extra={"db": dsn})
    err = capsys.readouterr().err
    assert "db-s3cret" not in err and "mediawatch:" not in err, err
    assert err.count("postgresql+psycopg://db.internal:5432/mw") == 2, err


def test_a_database_url_sqlalchemy_cannot_read_is_shown_without_its_password() -> None:
    """Before: a URL make_url refused (a port that is no number) was shown as written, password and all
    ("cannot open database 'postgresql://mw:hunter2@db:5x/mw'")."""
    from mediawatch.store.engine import display_url

    assert display_url("postgresql://mw:hunter2@db:5x/mw") == "postgresql://db:5x/mw"
    assert display_url("postgresql://mw:hunter2@db:5432/mw") == "postgresql://mw:***@db:5432/mw"
